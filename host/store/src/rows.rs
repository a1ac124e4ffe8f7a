//! Rows as the store writes them: plain data, one struct per table, times
//! in epoch milliseconds (converted per database when bound).

/// A market.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketRow {
    /// Venue, e.g. `betfair`.
    pub venue: String,
    /// The venue's market id.
    pub market_id: String,
    /// Event type id.
    pub event_type: String,
    /// Country code.
    pub country: Option<String>,
    /// Track (venue of the race).
    pub track: Option<String>,
    /// WIN, PLACE, ...
    pub market_type: String,
    /// Winners (places) paid.
    pub number_of_winners: i64,
    /// Scheduled off, ms.
    pub scheduled_start: Option<i64>,
    /// First in-play update, ms.
    pub actual_start: Option<i64>,
    /// INACTIVE, OPEN, SUSPENDED, CLOSED.
    pub status: String,
    /// Commission rate, percent.
    pub base_rate: Option<f64>,
    /// The file it came from.
    pub source: String,
}

/// A runner of a market.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerRow {
    /// Selection id.
    pub selection_id: i64,
    /// Handicap (0 when none).
    pub handicap: f64,
    /// Name, if the file has it.
    pub name: Option<String>,
    /// Sort priority.
    pub sort_priority: Option<i64>,
    /// ACTIVE, WINNER, LOSER, PLACED, REMOVED, HIDDEN.
    pub status: String,
    /// Reduction factor, percent.
    pub adjustment_factor: Option<f64>,
    /// When removed, ms.
    pub removal_time: Option<i64>,
    /// The result, once settled.
    pub result: Option<String>,
    /// Betfair Starting Price.
    pub bsp: Option<f64>,
}

/// One published line of a market's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// The market's row id.
    pub market: i64,
    /// Its position in the file (line number).
    pub seq: i64,
    /// Publish time, ms.
    pub published_at: i64,
    /// The line (a Stream API `mcm` message), less any refused records.
    pub change: String,
}

/// One runner's odds after an update.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    /// Publish time, ms.
    pub published_at: i64,
    /// The market's row id.
    pub market: i64,
    /// Selection id.
    pub selection_id: i64,
    /// Best back price and size.
    pub back: Option<(f64, f64)>,
    /// Best lay price and size.
    pub lay: Option<(f64, f64)>,
    /// Last traded price.
    pub last_traded: Option<f64>,
    /// Traded volume.
    pub traded_volume: f64,
    /// Ten levels a side, see [`super::ladder`].
    pub ladder: Vec<u8>,
}

/// A record that failed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The file.
    pub source: String,
    /// Where in it (line, market, runner).
    pub position: String,
    /// Why it was refused.
    pub reason: String,
    /// The record as read.
    pub raw: String,
}

/// Rows waiting to be written together.
#[derive(Debug, Default)]
pub struct Batch {
    /// Stream lines.
    pub changes: Vec<ChangeRow>,
    /// Odds snapshots.
    pub snapshots: Vec<SnapshotRow>,
    /// Dead letters.
    pub dead_letters: Vec<DeadLetter>,
}

impl Batch {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.changes.len() + self.snapshots.len() + self.dead_letters.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
