//! The markets a running host follows, kept for the dashboard: the latest
//! view of every open market (copied in place, no allocation once a
//! market is known), and a short list of those that closed.
//!
//! Owns: what a market looks like to someone watching the host. Does not
//! know: where updates come from, or who asks.

use std::collections::{HashMap, VecDeque};

use clever_sdk::{Market, MarketStatus, Order, Side};
use serde::Serialize;

/// Closed markets remembered, newest first.
const CLOSED_KEPT: usize = 200;

/// Every market seen, by id.
#[derive(Default)]
pub struct Followed {
    open: HashMap<String, Market>,
    closed: VecDeque<MarketSummary>,
}

impl Followed {
    /// A market's latest state (the view strategies see).
    pub fn saw(&mut self, view: &Market) {
        if view.status == MarketStatus::Closed {
            if self.open.remove(view.id.as_str()).is_some() || !self.was_closed(view) {
                self.closed.push_front(MarketSummary::of(view));
                self.closed.truncate(CLOSED_KEPT);
            }
            return;
        }
        match self.open.get_mut(view.id.as_str()) {
            Some(kept) => kept.clone_from(view),
            None => {
                self.open.insert(view.id.as_str().to_owned(), view.clone());
            }
        }
    }

    fn was_closed(&self, view: &Market) -> bool {
        self.closed.iter().any(|m| m.id == view.id.as_str())
    }

    /// Open markets by start time, then the closed ones, newest first.
    pub fn summaries(&self) -> Vec<MarketSummary> {
        let mut open: Vec<MarketSummary> = self.open.values().map(MarketSummary::of).collect();
        open.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
        open.extend(self.closed.iter().cloned());
        open
    }

    /// One open market's ladder, or `None` if it is not open here.
    pub fn ladder(&self, id: &str) -> Option<MarketLadder> {
        self.open.get(id).map(MarketLadder::of)
    }
}

/// One market at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct MarketSummary {
    /// The venue's id.
    pub id: String,
    /// The venue.
    pub venue: String,
    /// `WIN`, `PLACE`, ...
    pub market_type: String,
    /// Country code, if the venue says.
    pub country: Option<String>,
    /// Scheduled start, ms since the epoch.
    pub start_time: i64,
    /// `Open`, `Suspended`, `Closed`, ...
    pub status: String,
    /// The event is running.
    pub in_play: bool,
    /// Runners, removed ones included.
    pub runners: usize,
    /// Matched on the whole market.
    pub total_matched: f64,
    /// When the venue published the latest state, ms since the epoch.
    pub publish_time: i64,
}

impl MarketSummary {
    fn of(m: &Market) -> Self {
        MarketSummary {
            id: m.id.as_str().to_owned(),
            venue: m.venue.clone(),
            market_type: m.market_type.clone(),
            country: m.country.clone(),
            start_time: m.start_time.0,
            status: format!("{:?}", m.status),
            in_play: m.in_play,
            runners: m.runners.len(),
            total_matched: m.total_matched,
            publish_time: m.publish_time.0,
        }
    }
}

/// One market's ladder, as far as strategies see it.
#[derive(Debug, Clone, Serialize)]
pub struct MarketLadder {
    /// The market.
    pub market: MarketSummary,
    /// Every runner in the venue's order.
    pub runners: Vec<RunnerLadder>,
}

/// One runner's prices.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerLadder {
    /// The venue's id.
    pub selection_id: u64,
    /// `Active`, `Removed`, `Winner`, ...
    pub status: String,
    /// Last traded price.
    pub last_traded: Option<f64>,
    /// Available to back, best first: (price, size).
    pub back: Vec<(f64, f64)>,
    /// Available to lay, best first: (price, size).
    pub lay: Vec<(f64, f64)>,
}

impl MarketLadder {
    fn of(m: &Market) -> Self {
        let levels = |l: &clever_sdk::Levels| {
            l.as_slice()
                .iter()
                .map(|ps| (ps.price.0, ps.size))
                .collect::<Vec<_>>()
        };
        MarketLadder {
            market: MarketSummary::of(m),
            runners: m
                .runners
                .iter()
                .map(|r| RunnerLadder {
                    selection_id: r.selection_id.0,
                    status: format!("{:?}", r.status),
                    last_traded: r.last_traded.map(|p| p.0),
                    back: levels(&r.back),
                    lay: levels(&r.lay),
                })
                .collect(),
        }
    }
}

/// An order open on the venue now, with the strategy that placed it.
#[derive(Debug, Clone, Serialize)]
pub struct OpenOrder {
    /// The strategy's label.
    pub strategy: String,
    /// Host-assigned id.
    pub id: u64,
    /// The market.
    pub market_id: String,
    /// The runner.
    pub selection_id: u64,
    /// `BACK` or `LAY`.
    pub side: &'static str,
    /// Asked price.
    pub price: f64,
    /// Asked stake.
    pub size: f64,
    /// Stake matched so far.
    pub size_matched: f64,
    /// `Pending` or `Executable`.
    pub status: String,
    /// When the host accepted it, ms since the epoch.
    pub placed_at: i64,
}

impl OpenOrder {
    /// `order` as placed by `strategy`.
    pub fn of(strategy: &str, order: &Order) -> Self {
        let r = &order.request;
        OpenOrder {
            strategy: strategy.to_owned(),
            id: order.id.0,
            market_id: r.market_id.as_str().to_owned(),
            selection_id: r.selection_id.0,
            side: match r.side {
                Side::Back => "BACK",
                Side::Lay => "LAY",
            },
            price: r.price.0,
            size: r.size,
            size_matched: order.size_matched,
            status: format!("{:?}", order.status),
            placed_at: order.placed_at.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(id: &str, status: MarketStatus, start: i64) -> Market {
        let mut m = Market::new(id);
        m.status = status;
        m.start_time = clever_sdk::Timestamp(start);
        m
    }

    #[test]
    fn open_markets_come_by_start_then_closed_newest_first() {
        let mut f = Followed::default();
        f.saw(&market("1.2", MarketStatus::Open, 20));
        f.saw(&market("1.1", MarketStatus::Open, 10));
        f.saw(&market("1.3", MarketStatus::Open, 30));
        f.saw(&market("1.3", MarketStatus::Closed, 30));
        f.saw(&market("1.3", MarketStatus::Closed, 30));
        let ids: Vec<_> = f.summaries().into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["1.1", "1.2", "1.3"]);
        assert!(f.ladder("1.3").is_none(), "a closed market has no ladder");
        assert!(f.ladder("1.1").is_some());
        assert_eq!(f.summaries()[2].status, "Closed");
    }
}
