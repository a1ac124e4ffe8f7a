//! Stored markets chosen by a [`MarketQuery`] (`--market`, `--from`,
//! `--to`, ...), or an error that says which part chose none: a named
//! market that is not stored, dates the wrong way round, or filters that
//! match nothing, with how many markets the database holds.

use crate::store::{MarketQuery, Store, StoredMarket};

/// The markets `query` selects from `store`; never empty.
pub(super) async fn selected(
    store: &Store,
    query: &MarketQuery,
) -> anyhow::Result<Vec<StoredMarket>> {
    if let (Some(from), Some(to)) = (query.from, query.to) {
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
    }
    let found = store.find_markets(query).await?;
    if let Some(wanted) =
        (query.market_ids.iter()).find(|w| !found.iter().any(|m| &m.market_id == *w))
    {
        let named = MarketQuery {
            market_ids: vec![wanted.clone()],
            ..MarketQuery::default()
        };
        anyhow::ensure!(
            !store.find_markets(&named).await?.is_empty(),
            "--market {wanted}: not in {} (ingest it first with `clever ingest`)",
            store.url()
        );
        anyhow::bail!(
            "--market {wanted}: stored, but {} leaves it out",
            filters(query)
        );
    }
    if !found.is_empty() {
        return Ok(found);
    }
    let held = store.find_markets(&MarketQuery::default()).await?.len();
    anyhow::ensure!(
        held > 0,
        "{}: holds no market yet (store some with `clever ingest`)",
        store.url()
    );
    anyhow::bail!(
        "{}: no stored market matches {} (it holds {held} in all)",
        store.url(),
        filters(query)
    )
}

/// The filters of `query` as they were typed.
fn filters(query: &MarketQuery) -> String {
    let flag = |name: &str, value: Option<String>| value.map(|v| format!("{name} {v}"));
    [
        flag("--from", query.from.map(|d| d.to_string())),
        flag("--to", query.to.map(|d| d.to_string())),
        flag("--track", query.track.clone()),
        flag("--event-type", query.event_type.clone()),
        flag("--market-type", query.market_type.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}
