//! [`ScannedAhead`]: a plain stream file read and scanned on a thread of
//! its own, for a backtest with a core to spare. The scanner writes each
//! line straight into a flat record (`flat`), and the records are handed
//! over a batch of lines at a time, to be read back into a [`Message`] on
//! the engine's thread (for a [`StreamSource`](crate::StreamSource), all
//! but the runner changes, which its cache applies from the batch). An
//! earlier attempt handed over the parsed messages themselves, whose
//! every list lies in a buffer of its own, and
//! the engine's thread lost more waiting on those scattered cache lines
//! than the second core saved (docs/BENCHMARKS.md, seventh sitting); a
//! flat batch is read front to back, as the hardware prefetches it.
//!
//! Each line is read there as [`Message::parse`] reads it (the scanner,
//! or serde for what the scanner leaves, such as a market definition,
//! which is handed over as it is); a bad line, or a failed read, is
//! handed over as the [`ReadError`] it is. So what the engine reads, line
//! by line and error by error, is what [`StreamFile::read_into`] would
//! have given it (with runner changes left in the batch, what
//! `StreamFile::read_leaving_runners` would: the same changes, applied
//! from where they lie).
//!
//! The file is handed out a chunk of whole lines at a time (about 64
//! KiB, numbered, its lines numbered as they are cut off), and each chunk
//! is scanned into a batch by whichever thread took it. The scanning
//! thread takes one after another; the engine's thread reads the batches
//! in the chunks' order, and when the next one is not scanned yet, it
//! takes and scans the next chunk nobody has taken instead of waiting.
//! The engine's thread caught the scanner up many times a race (the real
//! one: 8 to 60 times, 1 to 2 ms in all), while the scanner had the rest
//! of the file to scan alone (docs/BENCHMARKS.md, twenty-fourth sitting).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::apart::Apart;
use crate::file::{ReadError, StreamFile, is_blank, parse, trim_line_end};
use crate::flat::{Flat, Slots};
use crate::scan;
use crate::source::{LeftRunners, Records};
use crate::stream::Message;

/// The file is read a chunk of about this many bytes at a time (whole
/// lines: the real race's hold a median of 327), each scanned into a batch by one
/// thread. At most `IN_FLIGHT` scanned batches wait to be read: the
/// scanning thread starts while the plugins load, so it may get well
/// ahead (some 2.7 MiB of records at most).
const CHUNK: usize = 1 << 16;
const IN_FLIGHT: usize = 32;

/// Room in a fresh batch for the lines of a chunk: 64 KiB of lines of
/// 128 bytes or more (the real race's chunks hold a median of 327 lines,
/// at most 444), so a batch is not grown, and copied, as it fills.
const LINES: usize = 512;

/// How long a reader with a core of its own waits for a batch on it
/// before it sleeps, when every chunk is taken. The engine's thread often
/// catches the scanner up (the real race: 8 to 60 times, 1 to 2 ms in
/// all), and a sleeping thread on an idle core of a virtual machine
/// wakes late (docs/BENCHMARKS.md, twenty-fourth sitting).
const SPIN: Duration = Duration::from_micros(250);

/// A plain stream file scanned on a thread of its own (see the module).
pub struct ScannedAhead {
    shared: Arc<Shared>,
    /// The batch being read, and the number of the chunk it holds.
    batch: Batch,
    want: u64,
    /// For a chunk this thread scans itself, waiting for the scanner.
    chunk: Chunk,
    message: Message,
    /// Joined when the reader is dropped, so no thread outlives it.
    thread: Option<JoinHandle<()>>,
    /// Where the reading thread runs while the scanner runs (see `apart`).
    reader: Reader,
}

/// What the scanning thread and the reader share.
struct Shared {
    path: PathBuf,
    /// Bytes a chunk (`CHUNK`, but for tests).
    size: usize,
    feed: Mutex<Feed>,
    ready: Mutex<Ready>,
    /// A batch was put in `ready`, or the file has ended.
    published: Condvar,
    /// A batch was taken from `ready`, or the reader has hung up.
    room: Condvar,
}

/// The file, handed out a chunk of whole lines at a time.
struct Feed {
    file: StreamFile,
    /// The next chunk's number, and the lines before it.
    next: u64,
    lines: u64,
    /// What was read after the last chunk's last line end.
    carry: Vec<u8>,
    ended: bool,
}

/// Batches scanned and not yet read, by their chunk's number.
#[derive(Default)]
struct Ready {
    batches: BTreeMap<u64, Batch>,
    spare: Vec<Batch>,
    /// How many chunks the file had, once it has ended.
    chunks: Option<u64>,
    hung_up: bool,
    /// The scanning thread has ended (with every chunk it took put here,
    /// unless it panicked).
    scanner_gone: bool,
    reader_waits: bool,
    scanner_waits: bool,
}

/// Whole lines of the file as read (the first `len` bytes of `bytes`),
/// the first numbered `first`, and the error that ended the file, if
/// one did.
#[derive(Default)]
struct Chunk {
    number: u64,
    first: u64,
    bytes: Vec<u8>,
    len: usize,
    error: Option<ReadError>,
}

/// Where the thread reading a [`ScannedAhead`] (its opener) runs.
#[derive(Clone, Copy)]
enum Reader {
    /// Anywhere: not kept apart, or the scanner has ended.
    Free,
    /// Anywhere until it takes its first batch; then on its own core.
    Ready(Apart),
    /// On its own core, off the scanner's, until the scanner ends.
    Kept(Apart),
}

impl Reader {
    fn before_a_batch(&mut self) {
        if let Reader::Ready(apart) = *self {
            *self = if apart.keep_to_the_openers_core() {
                Reader::Kept(apart)
            } else {
                Reader::Free
            };
        }
    }

    fn scanner_ended(&mut self) {
        if let Reader::Kept(apart) = *self {
            apart.rejoin();
        }
        *self = Reader::Free;
    }
}

impl ScannedAhead {
    /// Start reading `file` on a thread of its own. `apart`: the calling
    /// thread will read it, and the scanning thread keeps off its core
    /// (see `apart`).
    pub fn spawn(file: StreamFile, apart: bool) -> Result<ScannedAhead, ReadError> {
        Self::spawn_with(file, CHUNK, apart, true)
    }

    /// `chunk`: bytes a chunk; `scanner`: whether to start the scanning
    /// thread (without it, the reader scans every chunk itself).
    fn spawn_with(
        file: StreamFile,
        chunk: usize,
        apart: bool,
        scanner: bool,
    ) -> Result<ScannedAhead, ReadError> {
        let path = file.path().to_owned();
        let shared = Arc::new(Shared {
            path: path.clone(),
            size: chunk,
            feed: Mutex::new(Feed {
                file,
                next: 0,
                lines: 0,
                carry: Vec::new(),
                ended: false,
            }),
            ready: Mutex::new(Ready::default()),
            published: Condvar::new(),
            room: Condvar::new(),
        });
        let apart = apart.then(Apart::from_here).flatten();
        let thread = scanner
            .then(|| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("scan-ahead".into())
                    .spawn(move || {
                        if let Some(apart) = apart {
                            apart.keep_off_the_openers_core();
                        }
                        scan_ahead(&shared)
                    })
                    .map_err(|source| ReadError::Io { path, source })
            })
            .transpose()?;
        Ok(ScannedAhead {
            shared,
            batch: Batch::default(),
            want: 0,
            chunk: Chunk::default(),
            message: Message::default(),
            thread,
            reader: apart.map_or(Reader::Free, Reader::Ready),
        })
    }
}

impl Drop for ScannedAhead {
    fn drop(&mut self) {
        // Hang up first: a scanner waiting for room then ends.
        self.shared.ready().hung_up = true;
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.reader.scanner_ended();
    }
}

impl Records for ScannedAhead {
    fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        self.read(message, true)
    }

    fn read_leaving_runners(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        self.read(message, false)
    }

    fn runners_of<'a>(&'a self, _message: &'a Message) -> Option<LeftRunners<'a>> {
        Some(LeftRunners(&self.batch.flat))
    }
}

impl ScannedAhead {
    /// The next line into `message`, its runner changes read into its
    /// lists if `runners`, else left in the batch.
    fn read(&mut self, message: &mut Message, runners: bool) -> Option<Result<u64, ReadError>> {
        loop {
            let slots = if runners { Slots::Spare } else { Slots::Leave };
            if let Some(read) = self.batch.next_into(message, slots) {
                return Some(read);
            }
            self.reader.before_a_batch();
            if !self.next_batch() {
                self.reader.scanner_ended();
                return None;
            }
        }
    }

    /// The next chunk's batch in place of the spent one; false at the end
    /// of the file. While the scanner has not scanned it, this thread
    /// scans the next chunk nobody has taken, if there is one; with none
    /// left, it waits, on its own core for up to `SPIN` if it has one.
    fn next_batch(&mut self) -> bool {
        self.batch.clear();
        let start = Instant::now();
        loop {
            let mut ready = self.shared.ready();
            if let Some(next) = ready.batches.remove(&self.want) {
                let spent = std::mem::replace(&mut self.batch, next);
                ready.spare.push(spent);
                self.want += 1;
                if std::mem::take(&mut ready.scanner_waits) {
                    self.shared.room.notify_one();
                }
                return true;
            }
            if ready.chunks.is_some_and(|n| self.want >= n) {
                return false;
            }
            if ready.scanner_gone {
                // Alone now: the chunk wanted is the next one nobody has
                // taken, unless a scanner that panicked took it.
                drop(ready);
                match self.scan_one() {
                    Some(number) if number == self.want => continue,
                    _ => return false,
                }
            }
            let helps = ready.batches.len() < IN_FLIGHT;
            drop(ready);
            if helps && self.scan_one().is_some() {
                continue;
            }
            if matches!(self.reader, Reader::Kept(_)) && start.elapsed() < SPIN {
                for _ in 0..64 {
                    std::hint::spin_loop();
                }
                continue;
            }
            let mut ready = self.shared.ready();
            while !ready.batches.contains_key(&self.want)
                && ready.chunks.is_none_or(|n| self.want < n)
                && !ready.scanner_gone
            {
                ready.reader_waits = true;
                ready = (self.shared.published.wait(ready)).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// [`Shared::scan_next`] on this thread, into a spare batch.
    fn scan_one(&mut self) -> Option<u64> {
        let shared = &self.shared;
        let spare = || shared.ready().spare.pop().unwrap_or_default();
        shared.scan_next(&mut self.chunk, &mut self.message, spare)
    }
}

impl Shared {
    fn ready(&self) -> MutexGuard<'_, Ready> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next chunk into `chunk`, and its number; `None` once the file
    /// has ended (the first time, `ready` learns how many chunks it had).
    fn take(&self, chunk: &mut Chunk) -> Option<u64> {
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        if feed.take(&self.path, chunk, self.size) {
            return Some(chunk.number);
        }
        let chunks = feed.next;
        drop(feed);
        let mut ready = self.ready();
        if ready.chunks.is_none() {
            ready.chunks = Some(chunks);
            self.wake_the_reader(&mut ready);
        }
        None
    }

    /// Take the next chunk nobody has taken, scan it into `batch()` and
    /// put that with the others; the chunk's number, `None` if none is
    /// left.
    fn scan_next(
        &self,
        chunk: &mut Chunk,
        message: &mut Message,
        batch: impl FnOnce() -> Batch,
    ) -> Option<u64> {
        let number = self.take(chunk)?;
        let mut batch = batch();
        batch.chunk(&self.path, chunk, message);
        let mut ready = self.ready();
        ready.batches.insert(number, batch);
        self.wake_the_reader(&mut ready);
        Some(number)
    }

    /// Wake the reader if it sleeps waiting for `ready` to change.
    fn wake_the_reader(&self, ready: &mut Ready) {
        if std::mem::take(&mut ready.reader_waits) {
            self.published.notify_one();
        }
    }
}

impl Feed {
    /// The next chunk of whole lines, about `size` bytes, into `chunk`
    /// (a line longer than that whole); false once the file has ended.
    fn take(&mut self, path: &Path, chunk: &mut Chunk, size: usize) -> bool {
        if self.ended {
            return false;
        }
        chunk.len = 0;
        chunk.put(&self.carry);
        self.carry.clear();
        chunk.error = None;
        loop {
            let before = chunk.len;
            let at_end = self.read(path, chunk, size);
            match memchr::memrchr(b'\n', &chunk.bytes[before..chunk.len]) {
                // The rest, but at the end of the file, starts the next.
                Some(end) if !at_end || chunk.error.is_some() => {
                    let keep = before + end + 1;
                    self.carry.extend_from_slice(&chunk.bytes[keep..chunk.len]);
                    chunk.len = keep;
                }
                // A line longer than a chunk: read on.
                None if !at_end => continue,
                // No line end and a failed read: nothing read is a line.
                None if chunk.error.is_some() => chunk.len = 0,
                _ => {}
            }
            self.ended = at_end;
            break;
        }
        if chunk.len == 0 && chunk.error.is_none() {
            return false;
        }
        chunk.number = self.next;
        chunk.first = self.lines + 1;
        self.next += 1;
        self.lines += lines_in(chunk.text());
        true
    }

    /// Up to `size` more bytes into `chunk`, straight from the file (a
    /// read that size passes the file's buffer by); whether the file has
    /// ended (or failed: the error is kept in `chunk`).
    fn read(&mut self, path: &Path, chunk: &mut Chunk, size: usize) -> bool {
        let end = chunk.len + size;
        if chunk.bytes.len() < end {
            chunk.bytes.resize(end, 0);
        }
        while chunk.len < end {
            match self.file.raw().read(&mut chunk.bytes[chunk.len..end]) {
                Ok(0) => return true,
                Ok(n) => chunk.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    // A broken stream cannot be resynchronised: report once, stop.
                    let path = path.to_owned();
                    chunk.error = Some(ReadError::Io { path, source });
                    return true;
                }
            }
        }
        false
    }
}

impl Chunk {
    /// The lines read.
    fn text(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// `bytes` at the chunk's end.
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }
}

/// Tells the reader when the scanning thread has ended, however it ended.
struct Gone<'a>(&'a Shared);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        let mut ready = self.0.ready();
        ready.scanner_gone = true;
        self.0.wake_the_reader(&mut ready);
    }
}

/// How many lines `bytes` holds: its line ends, and a last line without one.
fn lines_in(bytes: &[u8]) -> u64 {
    let ends = memchr::memchr_iter(b'\n', bytes).count() as u64;
    ends + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// The scanning thread: chunks into batches until the file ends or the
/// reader hangs up.
fn scan_ahead(shared: &Shared) {
    let _gone = Gone(shared);
    let mut chunk = Chunk::default();
    let mut message = Message::default();
    loop {
        let batch = {
            let mut ready = shared.ready();
            while !ready.hung_up && ready.batches.len() >= IN_FLIGHT {
                ready.scanner_waits = true;
                ready = (shared.room.wait(ready)).unwrap_or_else(PoisonError::into_inner);
            }
            if ready.hung_up {
                return;
            }
            ready.spare.pop().unwrap_or_default()
        };
        if shared
            .scan_next(&mut chunk, &mut message, || batch)
            .is_none()
        {
            return;
        }
    }
}

/// What a line became, in its header.
const RECORD: u64 = 1;
const ERROR: u64 = 2;

/// A batch of lines: a header for each (its kind and number), the
/// records of the lines read (`flat`) and, as they are, the errors.
struct Batch {
    heads: Vec<u64>,
    flat: Flat,
    errors: VecDeque<ReadError>,
    /// The next header to read.
    head: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            heads: Vec::with_capacity(LINES),
            flat: Flat::with_room(LINES),
            errors: VecDeque::new(),
            head: 0,
        }
    }
}

impl Batch {
    fn clear(&mut self) {
        self.heads.clear();
        self.flat.clear();
        self.errors.clear();
        self.head = 0;
    }

    /// The line `bytes`, number `line`: scanned straight into a record,
    /// or else read by serde into `message` and written from there.
    fn line(
        &mut self,
        path: &Path,
        line: u64,
        bytes: &[u8],
        message: &mut Message,
    ) -> Result<(), ReadError> {
        if !scan::read(&mut self.flat, bytes) {
            parse(path, line, bytes, message)?;
            self.flat.message(message);
        }
        self.heads.push(RECORD | line << 2);
        Ok(())
    }

    fn error(&mut self, e: ReadError) {
        self.heads.push(ERROR);
        self.errors.push_back(e);
    }

    /// Each line of `chunk` that is not blank, and then its error, if
    /// any, as `StreamFile::next_line` hands them out.
    fn chunk(&mut self, path: &Path, chunk: &mut Chunk, message: &mut Message) {
        let bytes = chunk.text();
        let mut line = chunk.first;
        let mut start = 0;
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |n| start + n);
            let text = trim_line_end(&bytes[start..end]);
            if !is_blank(text)
                && let Err(e) = self.line(path, line, text, message)
            {
                self.error(e);
            }
            line += 1;
            start = end + 1;
        }
        if let Some(e) = chunk.error.take() {
            self.error(e);
        }
    }

    /// The next line into `message`, as `StreamFile::read_into` reads it
    /// (runner changes taken as `slots` says); `None` once the batch is
    /// spent.
    fn next_into(&mut self, message: &mut Message, slots: Slots) -> Option<Result<u64, ReadError>> {
        let header = *self.heads.get(self.head)?;
        self.head += 1;
        Some(match header & 3 {
            RECORD => {
                self.flat.read_into(message, slots);
                Ok(header >> 2)
            }
            _ => Err(self.errors.pop_front()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// Each line read both ways: its number, or its error, and the
    /// message's fields (not its spare slots, which differ in history).
    fn read_all(mut records: impl Records) -> Vec<String> {
        let mut message = Message::default();
        let mut out = Vec::new();
        while let Some(read) = records.read_into(&mut message) {
            out.push(match read {
                Ok(line) => format!(
                    "{line} {} {} {:?} {:?}",
                    message.op, message.pt, message.ct, message.mc
                ),
                Err(e) => format!("error {e}"),
            });
        }
        out
    }

    /// Read ahead in chunks of `chunk` bytes, with the scanning thread
    /// and without it (the reader scanning every chunk), as in place.
    fn both_ways(path: &std::path::Path, chunk: usize) {
        let direct = read_all(StreamFile::open(path).unwrap());
        assert!(!direct.is_empty());
        for scanner in [true, false] {
            let open = StreamFile::open(path).unwrap();
            let ahead = read_all(ScannedAhead::spawn_with(open, chunk, true, scanner).unwrap());
            let at = format!("{} in chunks of {chunk}, scanner {scanner}", path.display());
            assert_eq!(direct.len(), ahead.len(), "{at}");
            for (d, a) in direct.iter().zip(&ahead) {
                assert_eq!(d, a, "{at}");
            }
        }
    }

    #[test]
    fn every_real_file_reads_ahead_as_it_reads_in_place() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/betfair");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() && path.extension().is_none_or(|e| e != "md") {
                both_ways(&path, CHUNK);
                both_ways(&path, 1000);
                files += 1;
            }
        }
        assert!(files >= 4, "{files} files in {}", dir.display());
    }

    #[test]
    fn odd_lines_errors_and_batch_edges_read_ahead_as_in_place() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let lines: [&[u8]; 12] = [
            br#"{"op":"mcm","pt":1,"ct":"SUB_IMAGE","mc":[{"id":"1.1","img":true,"tv":3.5,"rc":[{"id":5,"hc":0.5,"atb":[[2.0,10]],"batl":[[0,1.5,2]],"spn":"NaN","spf":4.2,"ltp":2.1,"tv":9}]}]}"#,
            b"",
            br#"{"op":"status","id":3}"#,
            b"not json",
            b"{\"op\":\"mcm\",\"pt\":2,\"mc\":[{\"id\":\"1.1\",\"rc\":[{\"id\":5,\"trd\":[[2.0,\xff]]}]}]}",
            br#"{"op":"mcm","pt":3,"mc":[{"id":"1.1","marketDefinition":{"status":"OPEN","runners":[{"id":5,"status":"ACTIVE"}]},"rc":[]}]}"#,
            br#"{"op":"mcm","pt":4,"ct":"HEARTBEAT","mc":[]}"#,
            br#"{"op":"mcm","pt":5,"mc":[{"id":"1.1","rc":[{"id":5,"atl":[[3,1]],"bdatb":[[0,2,3],[1,2.5,1]]},{"id":6,"atb":[]}]},{"id":"1.2","rc":[{"id":7,"batb":[[0,1.01,5]],"bdatl":null}]}]}"#,
            br#"{ "op" : "mcm", "pt" : 6, "mc" : [ { "id" : "1.1" } ] }"#,
            br#"{"op":"mcm","pt":7,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[2.0,1e400]]}]}]}"#,
            br#"{"op":"mcm","pt":8}"#,
            br#"{"op":"mcm","pt":9,"mc":[{"id":"1.3","rc":[{"id":8,"atb":[[1.5,2]]}]}]}"#,
        ];
        for line in lines {
            file.write_all(line).unwrap();
            file.write_all(b"\r\n").unwrap();
        }
        file.write_all(br#"{"op":"mcm","pt":10}"#).unwrap();
        file.flush().unwrap();
        for chunk in [1, 2, 3, 5, 64, 100, 333, CHUNK] {
            both_ways(file.path(), chunk);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_reader_keeps_to_its_core_until_the_scanner_ends() {
        use rustix::thread::sched_getaffinity;
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for pt in 1..=64 {
            writeln!(
                file,
                r#"{{"op":"mcm","pt":{pt},"mc":[{{"id":"1.1","rc":[{{"id":5,"atb":[[2.0,{pt}]]}}]}}]}}"#
            )
            .unwrap();
        }
        file.flush().unwrap();
        let open =
            || ScannedAhead::spawn_with(StreamFile::open(file.path()).unwrap(), 4, true, true);
        // A thread of its own, whose cores the test may change.
        std::thread::scope(|s| {
            s.spawn(|| {
                let allowed = sched_getaffinity(None).unwrap();
                if allowed.count() < 2 {
                    return;
                }
                let cores = || sched_getaffinity(None).unwrap();
                let mut message = Message::default();
                let mut ahead = open().unwrap();
                assert!(cores() == allowed, "kept to a core before the first batch");
                ahead.read_into(&mut message).unwrap().unwrap();
                assert_eq!(cores().count(), 1, "not kept to its core");
                let mut lines = 1;
                while let Some(read) = ahead.read_into(&mut message) {
                    read.unwrap();
                    lines += 1;
                    assert_eq!(cores().count(), 1, "line {lines}");
                }
                assert_eq!(lines, 64);
                assert!(cores() == allowed, "not freed when the scanner ended");

                let mut early = open().unwrap();
                early.read_into(&mut message).unwrap().unwrap();
                assert_eq!(cores().count(), 1, "not kept to its core");
                drop(early);
                assert!(cores() == allowed, "not freed when dropped");
            });
        });
    }

    #[test]
    fn a_chunk_lost_with_the_scanner_ends_the_reading_instead_of_hanging_it() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for pt in 1..=100 {
            writeln!(file, r#"{{"op":"mcm","pt":{pt}}}"#).unwrap();
        }
        file.flush().unwrap();
        let path = file.path().to_owned();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // No scanning thread: this one scans, and then stands in for a
            // scanner that took chunk 2 and panicked.
            let open = StreamFile::open(&path).unwrap();
            let mut ahead = ScannedAhead::spawn_with(open, 4, false, false).unwrap();
            let mut message = Message::default();
            let mut lines = Vec::new();
            for _ in 0..2 {
                lines.push(ahead.read_into(&mut message).unwrap().unwrap());
            }
            assert_eq!(ahead.shared.take(&mut Chunk::default()), Some(2));
            ahead.shared.ready().scanner_gone = true;
            while let Some(read) = ahead.read_into(&mut message) {
                lines.push(read.unwrap());
            }
            let _ = done.send(lines);
        });
        let lines = finished
            .recv_timeout(Duration::from_secs(30))
            .expect("the reading hung");
        assert_eq!(lines, [1, 2]);
    }
}
