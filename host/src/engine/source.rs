//! [`MarketSource`]: where market updates come from. [`StreamSource`]
//! applies Betfair Stream API messages to the market cache, whether they
//! come from a file ([`BetfairFileSource`]) or from the lines a database
//! stored (`store::StoredLines`); a live stream will be another source.

use std::collections::HashSet;
use std::path::Path;

use clever_sdk::MarketStatus;

use crate::market::betfair::{MarketBook, Message, ReadError, Record, StreamCache, StreamFile};

/// A source of market updates, in publish-time order.
pub trait MarketSource {
    /// The next update, as the market stands after it; `None` at the end.
    /// An error is one bad input (a line); the source goes on after it.
    fn next_update(&mut self) -> Option<Result<&MarketBook, ReadError>>;
    /// Markets still not closed (at the end of a file, say).
    fn unfinished(&self) -> Vec<&MarketBook>;
}

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
    fn next_update(&mut self) -> Option<Result<&MarketBook, ReadError>> {
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
                let book = self.cache.apply(message.pt, change);
                if book.view.status == MarketStatus::Closed {
                    self.closed.insert(change.id.clone());
                    self.forget = Some(change.id.clone());
                }
                return Some(Ok(book));
            }
            match self.records.next()? {
                Err(e) => return Some(Err(e)),
                Ok(record) if record.message.op == "mcm" => {
                    self.message = Some(record.message);
                    self.next_change = 0;
                }
                Ok(_) => {}
            }
        }
    }

    fn unfinished(&self) -> Vec<&MarketBook> {
        self.cache.markets().collect()
    }
}
