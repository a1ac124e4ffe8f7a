//! Betfair Stream API market messages (`op = "mcm"`) as they appear in
//! historical files and on the wire. Field names are Betfair's; conversion
//! to our types happens in the cache. Every field is optional because a
//! delta carries only what changed.

use serde::Deserialize;

use crate::flat::{Flat, Waiting};

/// One line of a stream file. Read one with `serde_json`, or many into
/// one `Message` with [`Message::parse`], which keeps every buffer from
/// line to line: a delta allocates nothing once the buffers have grown
/// (a market definition, sent only when the market's state changes, is
/// still read into fresh strings).
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// `mcm` for market changes (others are skipped).
    pub op: String,
    /// Publish time, epoch milliseconds.
    pub pt: i64,
    /// Change type.
    pub ct: ChangeType,
    /// Market changes.
    pub mc: Vec<MarketChange>,
    /// Runner changes of earlier lines, kept for their buffers.
    pub(crate) spare: Vec<RunnerChange>,
    /// Market changes of earlier lines, kept for their buffers.
    pub(crate) spare_mc: Vec<MarketChange>,
    /// The quick scanner's record of the line being read.
    pub(crate) flat: Flat,
}

/// A message's change type (`ct`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    /// No `ct`: an ordinary delta.
    #[default]
    #[serde(skip)]
    Delta,
    /// The first image after subscribing.
    SubImage,
    /// An image after re-subscribing.
    ResubDelta,
    /// Nothing changed; the stream is alive.
    Heartbeat,
    /// A change type this reader does not know.
    #[serde(other)]
    Other,
}

impl ChangeType {
    /// Every change type, each at a place of its own (for flat records).
    pub(crate) const ALL: [ChangeType; 5] = [
        ChangeType::Delta,
        ChangeType::SubImage,
        ChangeType::ResubDelta,
        ChangeType::Heartbeat,
        ChangeType::Other,
    ];
}

/// A change to one market.
#[derive(Debug, Clone, Default)]
pub struct MarketChange {
    /// Market id.
    pub id: String,
    /// True: replace the cached market.
    pub img: bool,
    /// Market total matched.
    pub tv: Option<f64>,
    /// The full definition, when it changed.
    pub market_definition: Option<MarketDefinition>,
    /// Runner changes.
    pub rc: Vec<RunnerChange>,
    /// Where the runner changes lie instead, if they were left in the
    /// record they were read into (`flat::Slots::Leave`; `rc` is empty).
    pub(crate) waiting: Option<Waiting>,
}

/// A price-keyed ladder entry: `[price, size]`.
pub type PricePoint = [f64; 2];
/// A level-keyed ladder entry: `[level, price, size]`.
pub type LevelPoint = [f64; 3];

/// A ladder key of a runner change: absent, or the points it carries (an
/// empty list is present: for `trd` it clears the ladder).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Points<const N: usize> {
    pub(crate) present: bool,
    pub(crate) points: Vec<[f64; N]>,
}

impl<const N: usize> Points<N> {
    /// These points made `points` (absent if `None`), keeping the buffer.
    pub(crate) fn set(&mut self, points: Option<&[[f64; N]]>) {
        self.points.clear();
        self.present = points.is_some();
        if let Some(points) = points {
            self.points.extend_from_slice(points);
        }
    }

    /// The points, if the change carries this key.
    pub fn get(&self) -> Option<&[[f64; N]]> {
        self.present.then_some(self.points.as_slice())
    }

    /// Whether the change carries this key.
    pub fn is_some(&self) -> bool {
        self.present
    }

    pub(crate) fn clear(&mut self) {
        self.present = false;
        self.points.clear();
    }
}

impl<const N: usize> From<Vec<[f64; N]>> for Points<N> {
    fn from(points: Vec<[f64; N]>) -> Self {
        Points {
            present: true,
            points,
        }
    }
}

/// A change to one runner; every key only when its value changed.
#[derive(Debug, Clone, Default)]
pub struct RunnerChange {
    /// Selection id.
    pub id: u64,
    /// Handicap (runner key is (id, hc)).
    pub hc: Option<f64>,
    /// Available to back, all depths, by price.
    pub atb: Points<2>,
    /// Available to lay, all depths, by price.
    pub atl: Points<2>,
    /// Best available to back, by level.
    pub batb: Points<3>,
    /// Best available to lay, by level.
    pub batl: Points<3>,
    /// Best display available to back (virtual included), by level.
    pub bdatb: Points<3>,
    /// Best display available to lay (virtual included), by level.
    pub bdatl: Points<3>,
    /// Traded volume by price.
    pub trd: Points<2>,
    /// Last traded price.
    pub ltp: Option<f64>,
    /// Runner total matched.
    pub tv: Option<f64>,
    /// Projected SP, near (NaN when Betfair sends NaN or Infinity).
    pub spn: Option<f64>,
    /// Projected SP, far (NaN when Betfair sends NaN or Infinity).
    pub spf: Option<f64>,
}

impl Message {
    /// Forget what a line set besides its market changes (which are
    /// reused slot by slot): what reading a line does first.
    pub(crate) fn clear_but_changes(&mut self) {
        self.op.clear();
        (self.pt, self.ct) = (0, ChangeType::Delta);
    }
}

impl MarketChange {
    /// Forget what a change set besides its runner changes (reused as a
    /// message's market changes are).
    pub(crate) fn clear_but_runners(&mut self) {
        self.id.clear();
        (self.img, self.tv, self.market_definition) = (false, None, None);
        self.waiting = None;
    }
}

/// One runner's change as the market cache applies it, borrowed from where
/// it was read: a [`RunnerChange`], or a flat record (with no copy).
/// `None` where the line did not say.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunnerUpdate<'a> {
    pub(crate) id: u64,
    pub(crate) hc: Option<f64>,
    pub(crate) atb: Option<&'a [PricePoint]>,
    pub(crate) atl: Option<&'a [PricePoint]>,
    pub(crate) trd: Option<&'a [PricePoint]>,
    pub(crate) batb: Option<&'a [LevelPoint]>,
    pub(crate) batl: Option<&'a [LevelPoint]>,
    pub(crate) bdatb: Option<&'a [LevelPoint]>,
    pub(crate) bdatl: Option<&'a [LevelPoint]>,
    pub(crate) ltp: Option<f64>,
    pub(crate) tv: Option<f64>,
    pub(crate) spn: Option<f64>,
    pub(crate) spf: Option<f64>,
}

impl<'a> From<&'a RunnerChange> for RunnerUpdate<'a> {
    fn from(r: &'a RunnerChange) -> Self {
        RunnerUpdate {
            id: r.id,
            hc: r.hc,
            atb: r.atb.get(),
            atl: r.atl.get(),
            trd: r.trd.get(),
            batb: r.batb.get(),
            batl: r.batl.get(),
            bdatb: r.bdatb.get(),
            bdatl: r.bdatl.get(),
            ltp: r.ltp,
            tv: r.tv,
            spn: r.spn,
            spf: r.spf,
        }
    }
}

impl RunnerChange {
    /// This change made `u`, keeping its buffers.
    pub(crate) fn set(&mut self, u: &RunnerUpdate<'_>) {
        (self.id, self.hc, self.ltp, self.tv) = (u.id, u.hc, u.ltp, u.tv);
        (self.spn, self.spf) = (u.spn, u.spf);
        self.atb.set(u.atb);
        self.atl.set(u.atl);
        self.trd.set(u.trd);
        self.batb.set(u.batb);
        self.batl.set(u.batl);
        self.bdatb.set(u.bdatb);
        self.bdatl.set(u.bdatl);
    }

    pub(crate) fn clear(&mut self) {
        let points = [&mut self.atb, &mut self.atl, &mut self.trd];
        points.into_iter().for_each(Points::clear);
        let levels = [
            &mut self.batb,
            &mut self.batl,
            &mut self.bdatb,
            &mut self.bdatl,
        ];
        levels.into_iter().for_each(Points::clear);
        (self.id, self.hc, self.ltp, self.tv) = (0, None, None, None);
        (self.spn, self.spf) = (None, None);
    }
}

/// The market definition, sent in full whenever it changes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketDefinition {
    /// `INACTIVE`, `OPEN`, `SUSPENDED`, `CLOSED`.
    #[serde(default)]
    pub status: String,
    /// In play.
    #[serde(default)]
    pub in_play: bool,
    /// Seconds of in-play delay.
    #[serde(default)]
    pub bet_delay: u32,
    /// The definition's version: it moves on with every change to it.
    #[serde(default)]
    pub version: Option<u64>,
    /// Event type id.
    #[serde(default)]
    pub event_type_id: String,
    /// `WIN`, `PLACE`, ...
    #[serde(default)]
    pub market_type: String,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Track.
    #[serde(default)]
    pub venue: Option<String>,
    /// Scheduled start, ISO-8601.
    #[serde(default)]
    pub market_time: Option<String>,
    /// Winners (places for PLACE markets).
    #[serde(default)]
    pub number_of_winners: u32,
    /// Active runners.
    #[serde(default)]
    pub number_of_active_runners: Option<u32>,
    /// Commission rate, percent.
    #[serde(default)]
    pub market_base_rate: Option<f64>,
    /// BSP reconciled.
    #[serde(default)]
    pub bsp_reconciled: bool,
    /// Runners.
    #[serde(default)]
    pub runners: Vec<RunnerDefinition>,
}

/// A runner in the market definition.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunnerDefinition {
    /// Selection id.
    pub id: u64,
    /// Handicap.
    #[serde(default)]
    pub hc: Option<f64>,
    /// `ACTIVE`, `WINNER`, `LOSER`, `PLACED`, `REMOVED`, `REMOVED_VACANT`, `HIDDEN`.
    #[serde(default)]
    pub status: String,
    /// Reduction factor, percent.
    #[serde(default)]
    pub adjustment_factor: Option<f64>,
    /// When it was removed, ISO-8601.
    #[serde(default)]
    pub removal_date: Option<String>,
    /// Betfair Starting Price.
    #[serde(default)]
    pub bsp: Option<f64>,
    /// Sort order.
    #[serde(default)]
    pub sort_priority: Option<u32>,
    /// Name (present in historical files).
    #[serde(default)]
    pub name: Option<String>,
}
