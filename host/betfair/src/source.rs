//! [`StreamSource`]: the engine's [`MarketSource`] over Betfair Stream API
//! messages, applied to the market cache, whether they come from a file
//! ([`BetfairFileSource`]) or from the lines a database stored
//! ([`StoredRecords`]); [`StreamFormat`] opens either for the parts of the
//! host that know no format.

use std::collections::HashSet;
use std::path::Path;

use clever_sdk::MarketStatus;

use clever_engine::{Format, MarketSource, SourceError};
use clever_market::MarketBook;

use crate::{Message, ReadError, Record, StreamCache, StreamFile};

/// Stream messages applied to a market cache, optionally for one market
/// only. A closed market is forgotten (memory stays bounded however many
/// markets the input holds) and later changes to it are ignored.
pub struct StreamSource<I> {
    records: I,
    only: Option<String>,
    message: Option<Message>,
    next_change: usize,
    cache: StreamCache,
    closed: HashSet<String>,
    forget: Option<String>,
}

/// A Betfair stream file (plain, gzip or bzip2; decompressed on its own
/// thread).
pub type BetfairFileSource = StreamSource<StreamFile>;

impl BetfairFileSource {
    /// Open a file.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        Ok(StreamSource::new(StreamFile::open(path)?, None))
    }
}

impl<I> StreamSource<I> {
    /// The records being read (to ask them why they stopped, say).
    pub fn records_mut(&mut self) -> &mut I {
        &mut self.records
    }

    /// Apply `records` in order; with `only`, the changes of that market alone.
    pub fn new(records: I, only: Option<String>) -> Self {
        StreamSource {
            records,
            only,
            message: None,
            next_change: 0,
            cache: StreamCache::new(),
            closed: HashSet::new(),
            forget: None,
        }
    }
}

impl<I: Iterator<Item = Result<Record, ReadError>>> MarketSource for StreamSource<I> {
    fn next_update(&mut self) -> Option<Result<&MarketBook, SourceError>> {
        if let Some(id) = self.forget.take() {
            self.cache.remove(&id);
        }
        loop {
            let pending = self
                .message
                .as_ref()
                .is_some_and(|m| self.next_change < m.mc.len());
            if pending {
                let message = self.message.as_ref()?;
                let change = &message.mc[self.next_change];
                self.next_change += 1;
                let other = self.only.as_ref().is_some_and(|only| *only != change.id);
                if other || self.closed.contains(&change.id) {
                    continue;
                }
                let book = &self.cache.apply(message.pt, change).book;
                if book.view.status == MarketStatus::Closed {
                    self.closed.insert(change.id.clone());
                    self.forget = Some(change.id.clone());
                }
                return Some(Ok(book));
            }
            match self.records.next()? {
                Err(e) => return Some(Err(e.into())),
                Ok(record) if record.message.op == "mcm" => {
                    self.message = Some(record.message);
                    self.next_change = 0;
                }
                Ok(_) => {}
            }
        }
    }

    fn unfinished(&self) -> Vec<&MarketBook> {
        self.cache.markets().map(|m| &m.book).collect()
    }
}

/// Lines a database stored `(sequence, text)`, read as stream records;
/// `origin` names them in errors.
pub struct StoredRecords<I> {
    lines: I,
    origin: String,
}

impl<I: Iterator<Item = (u64, String)>> StoredRecords<I> {
    /// Read `lines`.
    pub fn new(lines: I, origin: impl Into<String>) -> Self {
        StoredRecords {
            lines,
            origin: origin.into(),
        }
    }
}

impl<I: Iterator<Item = (u64, String)>> Iterator for StoredRecords<I> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, text) = self.lines.next()?;
        Some(match serde_json::from_str::<Message>(&text) {
            Ok(message) => Ok(Record {
                line,
                message,
                raw: None,
            }),
            Err(e) => Err(ReadError::Json {
                path: self.origin.clone().into(),
                line,
                message: e.to_string(),
                raw: text.chars().take(4096).collect(),
            }),
        })
    }
}

/// Betfair's stream format, for the parts of the host handed a file or
/// stored lines to replay.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamFormat;

impl Format for StreamFormat {
    fn open_file(&self, path: &Path) -> Result<Box<dyn MarketSource>, SourceError> {
        Ok(Box::new(BetfairFileSource::open(path)?))
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
}
