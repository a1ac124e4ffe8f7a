//! [`StreamSource`]: the engine's [`MarketSource`] over Betfair Stream API
//! messages, applied to the market cache, whether they come from a file
//! ([`BetfairFileSource`]) or from the lines a database stored
//! ([`StoredRecords`]); [`StreamFormat`] opens either for the parts of the
//! host that know no format.

use foldhash::{HashSet, HashSetExt as _};
use std::path::{Path, PathBuf};

use clever_sdk::{MarketStatus, Timestamp};

use clever_engine::{Arrivals, Format, MarketSource, SourceError};
use clever_market::MarketBook;

use crate::ahead::ScannedAhead;
use crate::flat::Flat;
use crate::{Message, ReadError, StreamCache, StreamFile};

/// Where a [`StreamSource`] reads messages: a file, or stored lines.
pub trait Records {
    /// Read the next message into `message`, keeping its buffers; its line
    /// (or sequence) number, `None` at the end. An error is one bad line;
    /// reading goes on after it.
    fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>>;

    /// [`Records::read_into`], but the records may keep the message's
    /// runner changes where they read them (see [`Records::runners_of`]):
    /// a [`StreamSource`] only applies them to its cache, once, so copying
    /// each ladder into the message's lists first is work it need not do.
    /// For [`StreamSource`] alone: a message read so has empty runner
    /// lists, and [`StreamCache::apply`] refuses it.
    #[doc(hidden)]
    fn read_leaving_runners(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        self.read_into(message)
    }

    /// The record [`Records::read_leaving_runners`] may have left the
    /// runner changes of `message`, the message it read last, in; `None`
    /// if it never leaves them.
    #[doc(hidden)]
    fn runners_of<'a>(&'a self, _message: &'a Message) -> Option<LeftRunners<'a>> {
        None
    }
}

/// The record a message's runner changes were left in (see
/// [`Records::runners_of`]).
pub struct LeftRunners<'a>(pub(crate) &'a Flat);

impl Records for StreamFile {
    fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        StreamFile::read_into(self, message)
    }

    fn read_leaving_runners(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        StreamFile::read_leaving_runners(self, message)
    }

    fn runners_of<'a>(&'a self, message: &'a Message) -> Option<LeftRunners<'a>> {
        Some(LeftRunners(&message.flat))
    }
}

/// Stream messages applied to a market cache, optionally for one market
/// only. A closed market is forgotten (memory stays bounded however many
/// markets the input holds) and later changes to it are ignored. One
/// message is read at a time, into buffers kept from line to line.
pub struct StreamSource<R> {
    records: R,
    only: Option<String>,
    message: Message,
    next_change: usize,
    /// A bad line met while looking ahead, for `next_update` to report.
    failed: Option<ReadError>,
    cache: StreamCache,
    closed: HashSet<String>,
    forget: Option<String>,
}

/// A Betfair stream file (plain, gzip or bzip2, decompressed on another
/// thread, or a bzip2 one on several if opened by
/// [`StreamFile::open_spread`]).
pub type BetfairFileSource = StreamSource<StreamFile>;

impl BetfairFileSource {
    /// Open a file.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        Ok(StreamSource::new(StreamFile::open(path)?, None))
    }
}

impl<R> StreamSource<R> {
    /// The records being read (to ask them why they stopped, say).
    pub fn records_mut(&mut self) -> &mut R {
        &mut self.records
    }

    /// Apply `records` in order; with `only`, the changes of that market alone.
    pub fn new(records: R, only: Option<String>) -> Self {
        StreamSource {
            records,
            only,
            message: Message::default(),
            next_change: 0,
            failed: None,
            cache: StreamCache::new(),
            closed: HashSet::new(),
            forget: None,
        }
    }
}

impl<R: Records> StreamSource<R> {
    /// Read until a change to apply is next (true), a line is bad (kept
    /// in `failed`), or the records end (false).
    fn fill(&mut self) -> bool {
        if let Some(id) = self.forget.take() {
            self.cache.remove(&id);
        }
        loop {
            if self.failed.is_some() {
                return false;
            }
            if let Some(change) = self.message.mc.get(self.next_change) {
                let other = self.only.as_ref().is_some_and(|only| *only != change.id);
                if other || self.closed.contains(&change.id) {
                    self.next_change += 1;
                    continue;
                }
                return true;
            }
            self.next_change = 0;
            match self.records.read_leaving_runners(&mut self.message) {
                None => {
                    self.message.forget_changes();
                    return false;
                }
                Some(Err(e)) => {
                    self.message.forget_changes();
                    self.failed = Some(e);
                }
                Some(Ok(_)) if self.message.op != "mcm" => self.message.forget_changes(),
                Some(Ok(_)) => {}
            }
        }
    }
}

impl<R: Records> MarketSource for StreamSource<R> {
    fn next_update(&mut self) -> Option<Result<&MarketBook, SourceError>> {
        if !self.fill() {
            return self.failed.take().map(|e| Err(e.into()));
        }
        let change = &self.message.mc[self.next_change];
        self.next_change += 1;
        let left = self.records.runners_of(&self.message).map(|r| r.0);
        let book = &self.cache.apply_from(self.message.pt, change, left).book;
        if book.view.status == MarketStatus::Closed {
            self.closed.insert(change.id.clone());
            self.forget = Some(change.id.clone());
        }
        Some(Ok(book))
    }

    fn upcoming(&mut self) -> Option<(Timestamp, &MarketBook)> {
        if !self.fill() {
            return None;
        }
        let change = &self.message.mc[self.next_change];
        let book = &self.cache.get(&change.id)?.book;
        Some((Timestamp(self.message.pt), book))
    }

    fn unfinished(&self) -> Vec<&MarketBook> {
        self.cache.markets().map(|m| &m.book).collect()
    }
}

/// Lines a database stored `(sequence, text)`, read as stream records;
/// `origin` names them in errors.
pub struct StoredRecords<I> {
    lines: I,
    origin: PathBuf,
}

impl<I: Iterator<Item = (u64, String)>> StoredRecords<I> {
    /// Read `lines`.
    pub fn new(lines: I, origin: impl Into<PathBuf>) -> Self {
        StoredRecords {
            lines,
            origin: origin.into(),
        }
    }
}

impl<I: Iterator<Item = (u64, String)>> Records for StoredRecords<I> {
    fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
        let (line, text) = self.lines.next()?;
        Some(match message.parse(&text) {
            Ok(()) => Ok(line),
            Err(e) => Err(ReadError::json(&self.origin, line, &e, &text)),
        })
    }
}

/// Betfair's stream format, for the parts of the host handed a file or
/// stored lines to replay.
#[derive(Debug, Clone, Copy)]
pub struct StreamFormat {
    /// Threads for each file: inflating a bzip2 one, or one more scanning
    /// a plain one ahead.
    cores: usize,
    /// Every file runs on the thread that opens it (see
    /// [`StreamFormat::one_runner`]).
    one_runner: bool,
}

impl StreamFormat {
    /// Every file parsed on the thread that reads it, a compressed one
    /// inflated on one more.
    pub const ONE_CORE: StreamFormat = StreamFormat {
        cores: 1,
        one_runner: false,
    };

    /// As [`StreamFormat::ONE_CORE`], but with `cores` threads for each
    /// file (its share of a backtest's cores): a bzip2 one inflated on
    /// `cores` threads ([`crate::bz2_blocks`]), a plain one, given two or
    /// more, scanned on a thread of its own ([`crate::ahead`]).
    pub const fn spare_cores(cores: usize) -> StreamFormat {
        StreamFormat {
            cores,
            one_runner: false,
        }
    }

    /// For a caller that runs every file, one at a time, on the thread
    /// that opens it: a plain file's scanning thread then keeps off that
    /// thread's core, and that thread to it while it reads (`apart`),
    /// which a kernel does not always arrange by itself.
    pub const fn one_runner(self) -> StreamFormat {
        StreamFormat {
            one_runner: true,
            ..self
        }
    }
}

impl Format for StreamFormat {
    fn open_file(&self, path: &Path) -> Result<Box<dyn MarketSource + Send>, SourceError> {
        let records = StreamFile::open_spread(path, self.cores)?;
        if self.cores > 1 && !records.is_compressed() {
            // The spare core scans a plain file ahead (see `ahead`).
            let records = ScannedAhead::spawn(records, self.one_runner)?;
            return Ok(Box::new(StreamSource::new(records, None)));
        }
        Ok(Box::new(StreamSource::new(records, None)))
    }

    fn replay<'a>(
        &self,
        lines: Box<dyn Iterator<Item = (u64, String)> + 'a>,
        origin: &str,
        market: &str,
    ) -> Box<dyn MarketSource + 'a> {
        let records = StoredRecords::new(lines, origin);
        Box::new(StreamSource::new(records, Some(market.to_owned())))
    }

    fn follow(&self, arrivals: Arrivals) -> Box<dyn MarketSource> {
        Box::new(StreamSource::new(
            StoredRecords::new(arrivals, "live stream"),
            None,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::read_text;
    use std::io::Write as _;

    fn lines(text: &[&str]) -> StreamSource<StoredRecords<std::vec::IntoIter<(u64, String)>>> {
        let lines: Vec<(u64, String)> = (1..).zip(text.iter().map(|t| t.to_string())).collect();
        StreamSource::new(StoredRecords::new(lines.into_iter(), "test"), None)
    }

    #[test]
    fn upcoming_shows_the_book_before_the_next_change_and_loses_no_error() {
        let mut source = lines(&[
            r#"{"op":"mcm","pt":10,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[2.0,10]]}]}]}"#,
            r#"{"op":"status"}"#,
            "not json",
            r#"{"op":"mcm","pt":30,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[2.0,0]]}]}]}"#,
        ]);
        // A market not seen yet has no book to show.
        assert!(source.upcoming().is_none());
        let first = source.next_update().unwrap().unwrap();
        assert_eq!(first.depth[0].back.levels(), &[(2.0, 10.0)]);
        // The bad line comes first, from next_update, and is not lost.
        assert!(source.upcoming().is_none());
        let bad = source.next_update().unwrap().unwrap_err().to_string();
        assert!(bad.starts_with("test:3:"), "{bad}");
        let (at, before) = source.upcoming().unwrap();
        assert_eq!(at, Timestamp(30));
        assert_eq!(before.depth[0].back.levels(), &[(2.0, 10.0)]);
        let after = source.next_update().unwrap().unwrap();
        assert!(after.depth[0].back.is_empty());
        assert!(source.upcoming().is_none());
        assert!(source.next_update().is_none());
    }

    /// A file read by serde alone, every runner change into the message,
    /// applied from there: the reference.
    struct BySerde(StreamFile);

    impl Records for BySerde {
        fn read_into(&mut self, message: &mut Message) -> Option<Result<u64, ReadError>> {
            self.0.next_line(|path, line, bytes| {
                read_text(path, line, bytes, |text| message.parse_with_serde(text)).map(|_| line)
            })
        }
    }

    /// Each update of `a` and `b` (boxed sources read in lockstep) alike;
    /// how many.
    fn same_updates(
        path: &Path,
        mut a: Box<dyn MarketSource + '_>,
        mut b: Box<dyn MarketSource>,
    ) -> usize {
        let mut updates = 0;
        loop {
            let (x, y) = (a.next_update(), b.next_update());
            let (x, y) = match (x, y) {
                (None, None) => break,
                (Some(Ok(x)), Some(Ok(y))) => (x, y),
                (Some(Err(x)), Some(Err(y))) => {
                    assert_eq!(x.to_string(), y.to_string(), "{}", path.display());
                    continue;
                }
                (x, y) => panic!(
                    "{}: {:?} against {:?}",
                    path.display(),
                    x.is_some(),
                    y.is_some()
                ),
            };
            updates += 1;
            let alike = x.view == y.view
                && x.depth == y.depth
                && x.changed == y.changed
                && x.definition_changed == y.definition_changed
                && x.version == y.version
                && x.commission_rate == y.commission_rate;
            assert!(alike, "{} update {updates}:\n{x:?}\n{y:?}", path.display());
        }
        updates
    }

    /// Runner changes applied from where the scanner left them (on this
    /// thread, and read ahead on another) as when serde read them.
    /// How many updates.
    fn applied_alike(path: &Path) -> usize {
        let by_serde = || {
            Box::new(StreamSource::new(
                BySerde(StreamFile::open(path).unwrap()),
                None,
            ))
        };
        let in_place = StreamSource::new(StreamFile::open(path).unwrap(), None);
        let updates = same_updates(path, by_serde(), Box::new(in_place));
        let ahead = ScannedAhead::spawn(StreamFile::open(path).unwrap(), false).unwrap();
        let ahead = Box::new(StreamSource::new(ahead, None));
        assert_eq!(same_updates(path, by_serde(), ahead), updates);
        updates
    }

    #[test]
    fn runner_changes_apply_from_the_record_as_from_the_message() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/betfair");
        let (mut files, mut updates) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let data = path.extension().is_none_or(|e| e != "md" && e != "json");
            if path.is_file() && data {
                updates += applied_alike(&path);
                files += 1;
            }
        }
        assert!(files >= 4, "{files} files in {}", dir.display());
        assert!(updates > 10_000, "{updates} updates");
        // Keys sent twice (the later wins, as serde reads it), lists
        // `null` and empty, a market without `rc` between two with one,
        // a definition, a bad line and a line serde reads.
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let lines = [
            r#"{"op":"mcm","pt":1,"mc":[{"id":"1.1","img":true,"rc":[{"atb":[[2.0,10],[2.2,4]],"atl":[[2.4,3]],"id":5},{"id":6,"batb":[[0,3.0,2]]}]}]}"#,
            r#"{"op":"mcm","pt":2,"mc":[{"id":"1.1","rc":[{"atb":[[2.0,1]],"id":6,"atb":[[2.2,0]],"id":5,"ltp":2.2,"ltp":2.4}]}]}"#,
            r#"{"op":"mcm","pt":3,"mc":[{"id":"1.1","rc":[{"id":5,"trd":[[2.2,5]]}],"rc":[{"id":6,"trd":[[3.0,1]],"trd":[]},{"id":5,"batb":null,"bdatl":[[0,2.5,1]]}]}]}"#,
            r#"{"op":"mcm","pt":4,"mc":[{"id":"1.1","rc":null},{"id":"1.2","rc":[{"id":7,"hc":0.5,"atb":[[1.5,2]],"hc":null}]},{"id":"1.1","rc":[]},{"id":"1.1"}]}"#,
            r#"{"op":"mcm","pt":5,"mc":[{"id":"1.1","marketDefinition":{"status":"OPEN","runners":[{"id":5,"status":"ACTIVE"},{"id":8,"status":"ACTIVE"}]},"rc":[{"id":8,"atl":[[4.0,2]]}]}]}"#,
            "not json",
            r#"{"op":"mcm","pt":6,"mc":[{"id":"1.1","rc":[{"id":5,"atb":[[2.0,"1"]]}]}]}"#,
            r#"{"op":"mcm","pt":7,"mc":[{"id":"1.1","rc":[{"id":5,"spn":"NaN","spf":"Infinity","tv":3,"tv":4}]},{"id":"1.2","tv":9,"rc":[{"id":7,"hc":0.5,"atl":[[1.6,3]]}]}]}"#,
        ];
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
        file.flush().unwrap();
        assert_eq!(applied_alike(file.path()), 10);
    }
}
