//! [`VersionBook`]: which version of a strategy placed each order, and what
//! each version did (events handled, orders, matched stake, profit), so a
//! strategy swapped to a new version mid-run can be judged per version.

use std::collections::HashMap;

use clever_sdk::OrderId;
use serde::Serialize;

use clever_market::{Figures, MarketResult};

/// What one version of a strategy did while it was active.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VersionFigures {
    /// Semver version.
    pub version: String,
    /// Market updates delivered to it.
    pub events: u64,
    /// Its orders (those risk and the venue accepted) and, in settled
    /// markets, what they came to.
    #[serde(flatten)]
    pub figures: Figures,
}

/// Per-version figures of one strategy, in the order versions became active.
#[derive(Debug, Default)]
pub struct VersionBook {
    versions: Vec<VersionFigures>,
    current: usize,
    placed_by: HashMap<OrderId, usize>,
}

impl VersionBook {
    /// A book whose first version is `version`.
    pub fn new(version: &str) -> Self {
        let mut book = VersionBook::default();
        book.switch_to(version);
        book
    }

    /// From now on, events and orders belong to `version`.
    pub fn switch_to(&mut self, version: &str) {
        self.current = match self.versions.iter().position(|v| v.version == version) {
            Some(i) => i,
            None => {
                self.versions.push(VersionFigures {
                    version: version.to_owned(),
                    ..VersionFigures::default()
                });
                self.versions.len() - 1
            }
        };
    }

    /// The version active now.
    pub fn current(&self) -> &str {
        self.versions
            .get(self.current)
            .map_or("", |v| v.version.as_str())
    }

    /// The active version was handed an event.
    pub fn count_event(&mut self) {
        if let Some(v) = self.versions.get_mut(self.current) {
            v.events += 1;
        }
    }

    /// The active version placed `id`.
    pub fn placed(&mut self, id: OrderId) {
        if let Some(v) = self.versions.get_mut(self.current) {
            v.figures.orders += 1;
        }
        self.placed_by.insert(id, self.current);
    }

    /// A market settled: book each order's outcome to the version that
    /// placed it.
    pub fn settled(&mut self, result: &MarketResult) {
        for s in &result.settled {
            let Some(i) = self.placed_by.remove(&s.order.id) else {
                continue;
            };
            if let Some(v) = self.versions.get_mut(i) {
                // The same ledger the totals add up: each settled
                // order's matched stake (voids excluded), profit and its
                // share of the commission.
                let f = &mut v.figures;
                f.matched += s.matched;
                f.gross_profit += s.profit;
                f.commission += s.commission;
                f.profit += s.profit - s.commission;
            }
        }
    }

    /// Every version's figures, oldest first.
    pub fn figures(&self) -> &[VersionFigures] {
        &self.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_orders_go_to_the_version_active_at_the_time() {
        let mut book = VersionBook::new("1.0.0");
        book.count_event();
        book.placed(OrderId(1));
        book.switch_to("1.1.0");
        book.count_event();
        book.count_event();
        book.placed(OrderId(2));
        assert_eq!(book.current(), "1.1.0");
        let f = book.figures();
        assert_eq!((f[0].events, f[0].figures.orders), (1, 1));
        assert_eq!((f[1].events, f[1].figures.orders), (2, 1));
        // Back to an earlier version: its figures carry on.
        book.switch_to("1.0.0");
        book.count_event();
        assert_eq!(book.figures().len(), 2);
        assert_eq!(book.figures()[0].events, 2);
    }
}
