//! The latest odds of each runner of a market, from the snapshots
//! ingestion stores (`clever odds latest`, `GET /markets/{id}/odds`).

use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::ms;

/// One runner's latest odds.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LatestOdds {
    /// The runner.
    pub selection_id: i64,
    /// When these were published (epoch ms).
    pub published_at: i64,
    /// Best price to back, and what is there.
    pub back_price: Option<f64>,
    /// Its size.
    pub back_size: Option<f64>,
    /// Best price to lay.
    pub lay_price: Option<f64>,
    /// Its size.
    pub lay_size: Option<f64>,
    /// Last traded price.
    pub last_traded: Option<f64>,
    /// Traded on the runner so far.
    pub traded_volume: f64,
}

impl Store {
    /// Each runner's latest stored odds in `venue`'s market `market_id`,
    /// by selection; empty if none are stored.
    pub async fn latest_odds(
        &self,
        venue: &str,
        market_id: &str,
    ) -> Result<Vec<LatestOdds>, StoreError> {
        let sql = format!(
            "SELECT s.selection_id, {} AS published_at, s.back_price, s.back_size, s.lay_price, \
             s.lay_size, s.last_traded, s.traded_volume \
             FROM odds_snapshots s JOIN markets m ON m.id = s.market \
             WHERE m.venue = $1 AND m.market_id = $2 AND s.published_at = \
             (SELECT max(t.published_at) FROM odds_snapshots t \
              WHERE t.market = s.market AND t.selection_id = s.selection_id) \
             ORDER BY s.selection_id",
            ms(self.dialect(), "s.published_at")
        );
        let what = format!("reading the odds of {market_id}");
        with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(venue).bind(market_id);
            timed(&what, q.fetch_all(pool)).await
        })
    }
}
