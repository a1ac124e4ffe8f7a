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

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::path::Path;

use crate::apart::Apart;
use crate::file::{ReadError, StreamFile, parse};
use crate::flat::{Flat, Slots};
use crate::scan;
use crate::source::{LeftRunners, Records};
use crate::stream::Message;

/// Lines per batch, and batches the scanning thread may be ahead by: it
/// starts while the plugins load, so it may get well ahead (a batch of
/// ordinary lines holds about 84 KiB, so some 2.7 MiB at most wait).
const LINES: usize = 256;
const IN_FLIGHT: usize = 32;

/// How long a reader with a core of its own waits for a batch on it
/// before it sleeps. The engine's thread often catches the scanner up
/// (the real race: 8 to 26 times, 1 to 2 ms in all), and a sleeping
/// thread on an idle core of a virtual machine wakes late
/// (docs/BENCHMARKS.md, twenty-fourth sitting).
const SPIN: Duration = Duration::from_micros(250);

/// A plain stream file scanned on a thread of its own (see the module).
pub struct ScannedAhead {
    full: Receiver<Batch>,
    spent: SyncSender<Batch>,
    batch: Batch,
    /// Joined when the reader is dropped, so no thread outlives it.
    thread: Option<JoinHandle<()>>,
    /// Where the reading thread runs while the scanner runs (see `apart`).
    reader: Reader,
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
        Self::spawn_with(file, LINES, apart)
    }

    fn spawn_with(
        mut file: StreamFile,
        lines: usize,
        apart: bool,
    ) -> Result<ScannedAhead, ReadError> {
        let path = file.path().to_owned();
        let (full_tx, full) = sync_channel(IN_FLIGHT);
        let (spent, spent_rx) = sync_channel(IN_FLIGHT + 1);
        let apart = apart.then(Apart::from_here).flatten();
        let thread = std::thread::Builder::new()
            .name("scan-ahead".into())
            .spawn(move || {
                if let Some(apart) = apart {
                    apart.keep_off_the_openers_core();
                }
                scan_file(&mut file, lines, &full_tx, &spent_rx)
            })
            .map_err(|source| ReadError::Io { path, source })?;
        Ok(ScannedAhead {
            full,
            spent,
            batch: Batch::default(),
            thread: Some(thread),
            reader: apart.map_or(Reader::Free, Reader::Ready),
        })
    }
}

impl Drop for ScannedAhead {
    fn drop(&mut self) {
        // Hang up first: a thread waiting to hand a batch over then ends.
        let (_, hung_up) = sync_channel(0);
        drop(std::mem::replace(&mut self.full, hung_up));
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
            // The end of the file, once the scanning thread hangs up.
            let Some(next) = self.next_batch() else {
                self.reader.scanner_ended();
                return None;
            };
            let mut spent = std::mem::replace(&mut self.batch, next);
            spent.clear();
            // The scanning thread may have finished: nobody to reuse it.
            let _ = self.spent.try_send(spent);
        }
    }
}

impl ScannedAhead {
    /// The scanner's next batch, `None` once it has hung up. A reader with
    /// a core of its own waits for it on that core, for up to `SPIN`,
    /// before it sleeps (see `SPIN`).
    fn next_batch(&mut self) -> Option<Batch> {
        if matches!(self.reader, Reader::Kept(_)) {
            let start = Instant::now();
            loop {
                match self.full.try_recv() {
                    Ok(batch) => return Some(batch),
                    Err(TryRecvError::Disconnected) => return None,
                    Err(TryRecvError::Empty) if start.elapsed() < SPIN => {
                        for _ in 0..64 {
                            std::hint::spin_loop();
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        self.full.recv().ok()
    }
}

/// The scanning thread: batches of lines until the file ends or the
/// reader hangs up.
fn scan_file(
    file: &mut StreamFile,
    lines: usize,
    full: &SyncSender<Batch>,
    spent: &Receiver<Batch>,
) {
    let mut message = Message::default();
    let mut batch = Batch::default();
    loop {
        let read = file.next_line(|path, line, bytes| batch.line(path, line, bytes, &mut message));
        match read {
            Some(Ok(())) => {}
            Some(Err(e)) => batch.error(e),
            None => break,
        }
        if batch.lines() >= lines {
            let next = spent.try_recv().unwrap_or_default();
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                return;
            }
        }
    }
    if batch.lines() > 0 {
        let _ = full.send(batch);
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
    fn lines(&self) -> usize {
        self.heads.len()
    }

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

    fn both_ways(path: &std::path::Path, lines: usize) {
        let direct = read_all(StreamFile::open(path).unwrap());
        let ahead = ScannedAhead::spawn_with(StreamFile::open(path).unwrap(), lines, true);
        let ahead = ahead.unwrap();
        let ahead = read_all(ahead);
        assert!(!direct.is_empty());
        assert_eq!(direct.len(), ahead.len(), "{}", path.display());
        for (d, a) in direct.iter().zip(&ahead) {
            assert_eq!(d, a, "{}", path.display());
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
                both_ways(&path, LINES);
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
        for batch in [1, 2, 3, 5, LINES] {
            both_ways(file.path(), batch);
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
        let open = || ScannedAhead::spawn_with(StreamFile::open(file.path()).unwrap(), 4, true);
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
}
