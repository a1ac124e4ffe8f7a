//! Model predictions as a strategy sees them: a model's probability for a
//! runner, the latest one published at or before the strategy's `now`, so
//! that no mode can look ahead. The same book serves a backtest (loaded
//! from the database before the run) and a running host (loaded at start,
//! then added to as predictions are published to it).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub use clever_market::Published;
use clever_sdk::{MarketId, SelectionId, Timestamp};

/// Where a desk reads predictions.
pub trait Predictions: Send + Sync {
    /// `model`'s probability for `selection` in `market`, the latest
    /// published at or before `now`; none if there is none yet.
    fn latest(
        &self,
        now: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64>;
}

/// No predictions at all.
pub struct NoPredictions;

impl Predictions for NoPredictions {
    fn latest(&self, _: Timestamp, _: &str, _: &MarketId, _: SelectionId) -> Option<f64> {
        None
    }
}

type Key = (String, MarketId, SelectionId);

/// Predictions in memory, each runner's in time order. A model is asked
/// for as `name@version` (that version only) or `name` (its latest
/// prediction whatever the version).
#[derive(Debug, Default)]
pub struct PredictionBook {
    series: HashMap<Key, Vec<(Timestamp, f64)>>,
    count: usize,
}

impl PredictionBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add `p`. A second prediction of the same model, runner and time
    /// replaces the first.
    pub fn insert(&mut self, p: &Published) {
        let versioned = format!("{}@{}", p.model, p.version);
        for model in [versioned, p.model.clone()] {
            let series = (self.series)
                .entry((model, p.market.clone(), p.selection))
                .or_default();
            let at = series.partition_point(|(t, _)| *t <= p.at);
            match series.get_mut(at.wrapping_sub(1)) {
                Some(last) if last.0 == p.at => last.1 = p.probability,
                _ => series.insert(at, (p.at, p.probability)),
            }
        }
        self.count += 1;
    }

    /// Predictions added.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none were added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl Predictions for PredictionBook {
    fn latest(
        &self,
        now: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        let series = self
            .series
            .get(&(model.to_owned(), market.clone(), selection))?;
        let seen = series.partition_point(|(t, _)| *t <= now);
        series.get(seen.checked_sub(1)?).map(|(_, p)| *p)
    }
}

/// A book a running host adds to while its strategies read it.
#[derive(Debug, Default, Clone)]
pub struct SharedPredictions(Arc<RwLock<PredictionBook>>);

impl SharedPredictions {
    /// Add `published` to the book.
    pub fn extend(&self, published: impl IntoIterator<Item = Published>) {
        let mut book = self.0.write().unwrap_or_else(|p| p.into_inner());
        for p in published {
            book.insert(&p);
        }
    }

    /// Predictions held.
    pub fn len(&self) -> usize {
        self.0.read().map_or(0, |b| b.len())
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Predictions for SharedPredictions {
    fn latest(
        &self,
        now: Timestamp,
        model: &str,
        market: &MarketId,
        selection: SelectionId,
    ) -> Option<f64> {
        let book = self.0.read().unwrap_or_else(|p| p.into_inner());
        book.latest(now, model, market, selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(version: &str, at: i64, probability: f64) -> Published {
        Published {
            model: "m".into(),
            version: version.into(),
            market: MarketId::from("1.1"),
            selection: SelectionId(7),
            at: Timestamp(at),
            probability,
        }
    }

    #[test]
    fn the_latest_prediction_at_or_before_now_and_never_one_after() {
        let mut book = PredictionBook::new();
        for p in [published("1", 2_000, 0.4), published("1", 1_000, 0.3)] {
            book.insert(&p);
        }
        let at = |now: i64, model: &str| {
            book.latest(
                Timestamp(now),
                model,
                &MarketId::from("1.1"),
                SelectionId(7),
            )
        };
        assert_eq!(at(999, "m"), None);
        assert_eq!(at(1_000, "m"), Some(0.3));
        assert_eq!(at(1_999, "m"), Some(0.3));
        assert_eq!(at(2_000, "m@1"), Some(0.4));
        assert_eq!(at(5_000, "m@2"), None);
        let other = book.latest(
            Timestamp(5_000),
            "m",
            &MarketId::from("1.1"),
            SelectionId(8),
        );
        assert_eq!(other, None);
    }

    #[test]
    fn a_bare_name_reads_the_latest_of_any_version_and_a_repeat_replaces() {
        let shared = SharedPredictions::default();
        shared.extend([published("1", 1_000, 0.3), published("2", 1_500, 0.6)]);
        shared.extend([published("1", 1_000, 0.35)]);
        let at = |now: i64, model: &str| {
            shared.latest(
                Timestamp(now),
                model,
                &MarketId::from("1.1"),
                SelectionId(7),
            )
        };
        assert_eq!(at(1_200, "m"), Some(0.35));
        assert_eq!(at(1_600, "m"), Some(0.6));
        assert_eq!(at(1_600, "m@1"), Some(0.35));
        assert_eq!(shared.len(), 3);
    }
}
