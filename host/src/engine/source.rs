//! [`MarketSource`]: where market updates come from. [`BetfairFileSource`]
//! reads a Betfair stream file through the market cache; a live stream will
//! be another implementation.

use std::collections::HashSet;
use std::path::Path;

use clever_sdk::MarketStatus;

use crate::market::betfair::{MarketBook, Message, ReadError, StreamCache, StreamFile};

/// A source of market updates, in publish-time order.
pub trait MarketSource {
    /// The next update, as the market stands after it; `None` at the end.
    /// An error is one bad input (a line); the source goes on after it.
    fn next_update(&mut self) -> Option<Result<&MarketBook, ReadError>>;
    /// Markets still not closed (at the end of a file, say).
    fn unfinished(&self) -> Vec<&MarketBook>;
}

/// A Betfair stream file (plain, gzip or bzip2) applied to a market cache;
/// decompression runs on its own thread.
/// A closed market is forgotten (memory stays bounded however many markets
/// the file holds) and later changes to it are ignored.
pub struct BetfairFileSource {
    file: StreamFile,
    message: Option<Message>,
    next_change: usize,
    cache: StreamCache,
    closed: HashSet<String>,
    forget: Option<String>,
}

impl BetfairFileSource {
    /// Open a file.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        Ok(BetfairFileSource {
            file: StreamFile::open(path)?,
            message: None,
            next_change: 0,
            cache: StreamCache::new(),
            closed: HashSet::new(),
            forget: None,
        })
    }
}

impl MarketSource for BetfairFileSource {
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
                if self.closed.contains(&change.id) {
                    continue;
                }
                let book = self.cache.apply(message.pt, change);
                if book.view.status == MarketStatus::Closed {
                    self.closed.insert(change.id.clone());
                    self.forget = Some(change.id.clone());
                }
                return Some(Ok(book));
            }
            match self.file.next()? {
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
