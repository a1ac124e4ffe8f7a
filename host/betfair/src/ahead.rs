//! [`ScannedAhead`]: a plain stream file read and scanned on a thread of
//! its own, for a backtest with a core to spare. The scanner's messages
//! are handed over *flat*, batches of lines at a time: each line as a run
//! of words (counts, ids, flags), of floats (a ladder's points copied
//! whole) and of bytes (ids, `op`), each stream written and read in
//! order. An earlier attempt handed over the parsed messages
//! themselves, whose every list lies in a buffer of its own, and the
//! engine's thread lost more waiting on those scattered cache lines than
//! the second core saved (docs/BENCHMARKS.md, seventh sitting); a flat
//! batch is read front to back, as the hardware prefetches it.
//!
//! Each line is read there as [`Message::parse`] reads it (the scanner,
//! or serde for what the scanner leaves, such as a market definition,
//! which is handed over as it is); a bad line, or a failed read, is
//! handed over as the [`ReadError`] it is. So what the engine reads, line
//! by line and error by error, is what [`StreamFile::read_into`] would
//! have given it.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use clever_market::short_eq;

use crate::file::{ReadError, StreamFile, parse};
use crate::parse::park;
use crate::source::Records;
use crate::stream::{ChangeType, MarketChange, MarketDefinition, Message, Points, RunnerChange};

/// Lines per batch, and batches the scanning thread may be ahead by: it
/// starts while the plugins load, so it may get well ahead (a batch of
/// ordinary lines holds about 84 KiB, so some 2.7 MiB at most wait).
const LINES: usize = 256;
const IN_FLIGHT: usize = 32;

/// A plain stream file scanned on a thread of its own (see the module).
pub struct ScannedAhead {
    full: Receiver<Batch>,
    spent: SyncSender<Batch>,
    batch: Batch,
    lists: RunnerLists,
    /// Joined when the reader is dropped, so no thread outlives it.
    thread: Option<JoinHandle<()>>,
}

impl ScannedAhead {
    /// Start reading `file` on a thread of its own.
    pub fn spawn(file: StreamFile) -> Result<ScannedAhead, ReadError> {
        Self::spawn_with(file, LINES)
    }

    fn spawn_with(mut file: StreamFile, lines: usize) -> Result<ScannedAhead, ReadError> {
        let path = file.path().to_owned();
        let (full_tx, full) = sync_channel(IN_FLIGHT);
        let (spent, spent_rx) = sync_channel(IN_FLIGHT + 1);
        let thread = std::thread::Builder::new()
            .name("scan-ahead".into())
            .spawn(move || scan_file(&mut file, lines, &full_tx, &spent_rx))
            .map_err(|source| ReadError::Io { path, source })?;
        Ok(ScannedAhead {
            full,
            spent,
            batch: Batch::default(),
            lists: RunnerLists::default(),
            thread: Some(thread),
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
    }
}

impl Records for ScannedAhead {
    fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        loop {
            if let Some(read) = self.batch.next_into(message, &mut self.lists) {
                return Some(read);
            }
            // The end of the file, once the scanning thread hangs up.
            let next = self.full.recv().ok()?;
            let mut spent = std::mem::replace(&mut self.batch, next);
            spent.clear();
            // The scanning thread may have finished: nobody to reuse it.
            let _ = self.spent.try_send(spent);
        }
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
        let read = file.next_line(|path, line, bytes| {
            parse(path, line, bytes, &mut message)?;
            batch.scanned(line, &mut message);
            Ok(())
        });
        match read {
            Some(Ok(())) => {}
            Some(Err(e)) => batch.error(e),
            None => break,
        }
        if batch.lines >= lines {
            let next = spent.try_recv().unwrap_or_default();
            if full.send(std::mem::replace(&mut batch, next)).is_err() {
                return;
            }
        }
    }
    if batch.lines > 0 {
        let _ = full.send(batch);
    }
}

/// Runner-change lists kept by their length, for the engine's thread. A
/// line whose market change has another count of runners than the line
/// before swaps in a list of its length whole, where taking slots from a
/// spare list and parking them back moved each slot (312 bytes). Each
/// slot keeps its buffers; at most [`RunnerLists::KEPT`] slots are kept
/// in all, so lines of ever other lengths cannot grow memory without
/// bound (a list beyond that is dropped, and one is made afresh).
#[derive(Default)]
struct RunnerLists {
    by_len: Vec<Vec<Vec<RunnerChange>>>,
    kept: usize,
}

impl RunnerLists {
    const KEPT: usize = 1024;

    /// Make `list` one of `len` slots (their contents stale).
    fn resize(&mut self, list: &mut Vec<RunnerChange>, len: usize) {
        if list.len() == len {
            return;
        }
        let mut next = match self.by_len.get_mut(len).and_then(Vec::pop) {
            Some(next) => {
                self.kept -= len;
                next
            }
            None => Vec::new(),
        };
        next.resize_with(len, RunnerChange::default);
        let old = std::mem::replace(list, next);
        if self.kept + old.len() <= Self::KEPT {
            if self.by_len.len() <= old.len() {
                self.by_len.resize_with(old.len() + 1, Vec::new);
            }
            self.kept += old.len();
            self.by_len[old.len()].push(old);
        }
    }
}

/// What a line became, the first word of its record.
const SCANNED: u64 = 1;
const ERROR: u64 = 2;

/// Lines as records in three streams, each written and read in order:
/// words (a header with the line's kind and number, then counts, ids and
/// flags), floats (prices, sizes and the other numbers, copied a ladder
/// at a time), bytes (strings); and, as they are, errors and the rare
/// market definitions.
struct Batch {
    words: Vec<u64>,
    floats: Vec<f64>,
    bytes: Vec<u8>,
    errors: VecDeque<ReadError>,
    definitions: VecDeque<MarketDefinition>,
    lines: usize,
    /// Where reading is, in `words`, `floats` and `bytes`.
    word: usize,
    float: usize,
    byte: usize,
}

impl Default for Batch {
    /// Room for a batch of ordinary lines (the real race's take 16 words,
    /// 8 floats and 14 bytes a line on average): growing each fresh batch
    /// from nothing was 1% of a backtest's instructions.
    fn default() -> Self {
        Batch {
            words: Vec::with_capacity(LINES * 24),
            floats: Vec::with_capacity(LINES * 16),
            bytes: Vec::with_capacity(LINES * 16),
            errors: VecDeque::new(),
            definitions: VecDeque::new(),
            lines: 0,
            word: 0,
            float: 0,
            byte: 0,
        }
    }
}

/// What a market change holds beside its runners, one bit each.
const IMG: u64 = 1;
const MARKET_TV: u64 = 1 << 1;
const DEFINITION: u64 = 1 << 2;

/// Which of a runner change's optional numbers and ladders it holds, one
/// bit each, in the order they are written.
const HC: u64 = 1;
const LTP: u64 = 1 << 1;
const TV: u64 = 1 << 2;
const SPN: u64 = 1 << 3;
const SPF: u64 = 1 << 4;
const ATB: u64 = 1 << 5;
const ATL: u64 = 1 << 6;
const TRD: u64 = 1 << 7;
const BATB: u64 = 1 << 8;
const BATL: u64 = 1 << 9;
const BDATB: u64 = 1 << 10;
const BDATL: u64 = 1 << 11;

impl Batch {
    fn clear(&mut self) {
        self.words.clear();
        self.floats.clear();
        self.bytes.clear();
        self.errors.clear();
        self.definitions.clear();
        (self.lines, self.word, self.float, self.byte) = (0, 0, 0, 0);
    }

    fn header(&mut self, kind: u64, line: u64) {
        self.lines += 1;
        self.words.push(kind | line << 2);
    }

    fn text(&mut self, text: &str) {
        self.words.push(text.len() as u64);
        self.bytes.extend_from_slice(text.as_bytes());
    }

    fn error(&mut self, e: ReadError) {
        self.header(ERROR, 0);
        self.errors.push_back(e);
    }

    /// A line read into `m` (its market definitions moved out).
    fn scanned(&mut self, line: u64, m: &mut Message) {
        self.header(SCANNED, line);
        self.text(&m.op);
        let ct = ChangeType::ALL.iter().position(|c| *c == m.ct).unwrap_or(0);
        self.words
            .extend([m.pt as u64, ct as u64, m.mc.len() as u64]);
        for change in &mut m.mc {
            self.text(&change.id);
            let tv = self.number(MARKET_TV, change.tv);
            let definition = change.market_definition.take().map_or(0, |d| {
                self.definitions.push_back(d);
                DEFINITION
            });
            let img = if change.img { IMG } else { 0 };
            let flags = img | tv | definition;
            self.words.extend([flags, change.rc.len() as u64]);
            for r in &change.rc {
                self.runner(r);
            }
        }
    }

    /// `bit` if `n` is held (then written), 0 if not.
    fn number(&mut self, bit: u64, n: Option<f64>) -> u64 {
        n.map_or(0, |n| {
            self.floats.push(n);
            bit
        })
    }

    /// `bit` if `p` is present (then written: its length, then its points
    /// in one copy), 0 if not.
    fn ladder<const N: usize>(&mut self, bit: u64, p: &Points<N>) -> u64 {
        if !p.present {
            return 0;
        }
        self.words.push(p.points.len() as u64);
        self.floats.extend_from_slice(p.points.as_flattened());
        bit
    }

    fn runner(&mut self, r: &RunnerChange) {
        self.words.push(r.id);
        // The flags word comes before the ladders' lengths: filled last.
        let flags = self.words.len();
        self.words.push(0);
        let held = self.number(HC, r.hc)
            | self.number(LTP, r.ltp)
            | self.number(TV, r.tv)
            | self.number(SPN, r.spn)
            | self.number(SPF, r.spf)
            | self.ladder(ATB, &r.atb)
            | self.ladder(ATL, &r.atl)
            | self.ladder(TRD, &r.trd)
            | self.ladder(BATB, &r.batb)
            | self.ladder(BATL, &r.batl)
            | self.ladder(BDATB, &r.bdatb)
            | self.ladder(BDATL, &r.bdatl);
        self.words[flags] = held;
    }

    // Reading, on the engine's thread.

    fn take(&mut self) -> u64 {
        let word = self.words[self.word];
        self.word += 1;
        word
    }

    fn take_number(&mut self, held: u64, bit: u64) -> Option<f64> {
        (held & bit != 0).then(|| {
            self.float += 1;
            self.floats[self.float - 1]
        })
    }

    fn take_text(&mut self) -> &str {
        let len = self.take() as usize;
        let start = self.byte;
        self.byte += len;
        // Written from a `&str` whole, so a char boundary on both sides.
        std::str::from_utf8(&self.bytes[start..self.byte]).unwrap_or_default()
    }

    /// The next string into `into`, left alone if it holds it already: a
    /// market's id and `op` repeat from line to line, and comparing is
    /// cheaper than checking the text again.
    fn take_text_into(&mut self, into: &mut String) {
        let len = self.words[self.word] as usize;
        if short_eq(&self.bytes[self.byte..self.byte + len], into.as_bytes()) {
            self.word += 1;
            self.byte += len;
            return;
        }
        into.clear();
        into.push_str(self.take_text());
    }

    /// The next line into `message`, as `StreamFile::read_into` reads it;
    /// `None` once the batch is spent.
    fn next_into(
        &mut self,
        message: &mut Message,
        lists: &mut RunnerLists,
    ) -> Option<Result<u64, ReadError>> {
        let header = *self.words.get(self.word)?;
        self.word += 1;
        Some(match header & 3 {
            SCANNED => {
                self.scanned_into(message, lists);
                Ok(header >> 2)
            }
            _ => Err(self.errors.pop_front()?),
        })
    }

    fn scanned_into(&mut self, m: &mut Message, lists: &mut RunnerLists) {
        self.take_text_into(&mut m.op);
        m.pt = self.take() as i64;
        m.ct = ChangeType::ALL[self.take() as usize];
        let changes = self.take() as usize;
        for n in 0..changes {
            if n == m.mc.len() {
                m.mc.push(m.spare_mc.pop().unwrap_or_default());
            }
            self.market_into(&mut m.mc[n], lists);
        }
        park(&mut m.mc, changes, &mut m.spare_mc);
    }

    fn market_into(&mut self, change: &mut MarketChange, lists: &mut RunnerLists) {
        // Every field but the id is written below.
        self.take_text_into(&mut change.id);
        let (flags, runners) = (self.take(), self.take() as usize);
        change.img = flags & IMG != 0;
        change.tv = self.take_number(flags, MARKET_TV);
        change.market_definition = if flags & DEFINITION != 0 {
            self.definitions.pop_front()
        } else {
            None
        };
        lists.resize(&mut change.rc, runners);
        for r in &mut change.rc {
            self.runner_into(r);
        }
    }

    fn runner_into(&mut self, r: &mut RunnerChange) {
        // Every field is written below: no clearing first.
        r.id = self.take();
        let held = self.take();
        r.hc = self.take_number(held, HC);
        r.ltp = self.take_number(held, LTP);
        r.tv = self.take_number(held, TV);
        r.spn = self.take_number(held, SPN);
        r.spf = self.take_number(held, SPF);
        self.ladder_into(held, ATB, &mut r.atb);
        self.ladder_into(held, ATL, &mut r.atl);
        self.ladder_into(held, TRD, &mut r.trd);
        self.ladder_into(held, BATB, &mut r.batb);
        self.ladder_into(held, BATL, &mut r.batl);
        self.ladder_into(held, BDATB, &mut r.bdatb);
        self.ladder_into(held, BDATL, &mut r.bdatl);
    }

    /// A ladder in one copy if `held` has `bit`; cleared if not.
    fn ladder_into<const N: usize>(&mut self, held: u64, bit: u64, p: &mut Points<N>) {
        p.points.clear();
        p.present = held & bit != 0;
        if p.present {
            let len = self.take() as usize * N;
            let (points, _) = self.floats[self.float..self.float + len].as_chunks::<N>();
            p.points.extend_from_slice(points);
            self.float += len;
        }
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
        let ahead = ScannedAhead::spawn_with(StreamFile::open(path).unwrap(), lines).unwrap();
        let ahead = read_all(ahead);
        assert!(!direct.is_empty());
        assert_eq!(direct.len(), ahead.len(), "{}", path.display());
        for (d, a) in direct.iter().zip(&ahead) {
            assert_eq!(d, a, "{}", path.display());
        }
    }

    #[test]
    fn runner_lists_come_back_whole_and_keep_memory_bounded() {
        let mut lists = RunnerLists::default();
        let mut list = Vec::new();
        lists.resize(&mut list, 3);
        list[0].atb.points.reserve(100);
        let buffer = list[0].atb.points.as_ptr();
        lists.resize(&mut list, 1);
        assert_eq!(list.len(), 1);
        lists.resize(&mut list, 3);
        // The list of three came back, its slots' buffers with it.
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].atb.points.as_ptr(), buffer);
        for len in (1..300).chain((1..300).rev()) {
            lists.resize(&mut list, len);
            assert_eq!(list.len(), len);
            assert!(lists.kept <= RunnerLists::KEPT, "{} kept", lists.kept);
        }
        let held: usize = lists.by_len.iter().flatten().map(Vec::len).sum();
        assert_eq!(held, lists.kept);
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
}
