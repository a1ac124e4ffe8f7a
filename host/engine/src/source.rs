//! [`MarketSource`]: where market updates come from, in publish-time order:
//! a venue adapter's file reader, its stored lines, a live stream. The
//! engine sees only [`MarketBook`]s; a [`Format`] opens sources for the
//! parts of the host that are handed a file or stored lines to replay.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::Path;
use std::rc::Rc;

use clever_market::MarketBook;
use clever_sdk::Timestamp;

/// One bad input (a line, a record): where it was and what was wrong. The
/// source goes on after it.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A source of market updates, in publish-time order.
pub trait MarketSource {
    /// The next update, as the market stands after it; `None` at the end.
    /// An error is one bad input (a line); the source goes on after it.
    fn next_update(&mut self) -> Option<Result<&MarketBook, SourceError>>;
    /// When the next update will be published and the book it will change,
    /// as that book stands now (`None` for a market not seen before, at
    /// the end, or from a source that cannot look ahead). The engine shows
    /// it to the venues first: an order arriving before the update meets
    /// the book as it stood before it.
    fn upcoming(&mut self) -> Option<(Timestamp, &MarketBook)> {
        None
    }
    /// Markets still not closed (at the end of a file, say).
    fn unfinished(&self) -> Vec<&MarketBook>;
}

/// A venue's data format: opens its files, and replays the lines of one
/// market as a database stored them.
pub trait Format: Send + Sync {
    /// A market file of this format (`Send`, so it may be opened on one
    /// thread, to start decompressing early, and run on another).
    fn open_file(&self, path: &Path) -> Result<Box<dyn MarketSource + Send>, SourceError>;
    /// Stored lines `(sequence, text)` of the market `market`, in order;
    /// `origin` names them in errors.
    fn replay<'a>(
        &self,
        lines: Box<dyn Iterator<Item = (u64, String)> + 'a>,
        origin: &str,
        market: &str,
    ) -> Box<dyn MarketSource + 'a>;
    /// A live feed's lines, every market, as they arrive: its
    /// `next_update` gives `None` once the lines pushed into `arrivals` so
    /// far are applied, and goes on when more are pushed.
    fn follow(&self, arrivals: Arrivals) -> Box<dyn MarketSource>;
}

/// Lines of a live feed handed to a [`Format::follow`] source on the
/// engine's thread: push them as they come, then drain the source.
#[derive(Debug, Clone, Default)]
pub struct Arrivals {
    lines: Rc<RefCell<VecDeque<(u64, String)>>>,
    count: u64,
}

impl Arrivals {
    /// Hand on one line.
    pub fn push(&mut self, line: String) {
        self.count += 1;
        self.lines.borrow_mut().push_back((self.count, line));
    }
}

/// What has arrived and not been read yet; `None` when dry for now.
impl Iterator for Arrivals {
    type Item = (u64, String);
    fn next(&mut self) -> Option<(u64, String)> {
        self.lines.borrow_mut().pop_front()
    }
}
