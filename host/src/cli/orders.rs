//! `clever orders`: the order journal of running hosts (live and paper),
//! kept across restarts: each order as the venue last reported it, and
//! each strategy version's orders, matched stake and settled profit.

use crate::store::{JournalOrder, JournalStatus, OrderQuery, Store, VersionResult, database_url};

/// The orders running hosts placed, and their results per strategy version.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long)]
    db: Option<String>,
    /// Of this strategy only.
    #[arg(long)]
    strategy: Option<String>,
    /// Of this version only.
    #[arg(long)]
    version: Option<String>,
    /// With this status only: PENDING, EXECUTABLE, EXECUTION_COMPLETE,
    /// REJECTED or FAILED.
    #[arg(long)]
    status: Option<String>,
    /// In this market only.
    #[arg(long)]
    market: Option<String>,
    /// The newest this many orders.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// JSON (`{"orders": [...], "versions": [...]}`) instead of tables.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let statuses = JournalStatus::ALL.map(JournalStatus::text);
        if let Some(status) = &self.status
            && !statuses.contains(&status.as_str())
        {
            anyhow::bail!("--status {status}: expected one of {}", statuses.join(", "));
        }
        let query = OrderQuery {
            strategy: self.strategy.clone(),
            version: self.version.clone(),
            status: self.status.clone(),
            market_id: self.market.clone(),
            limit: Some(self.limit),
        };
        let url = database_url(self.db.as_deref());
        let (orders, versions) = super::block_on(async {
            let store = Store::open(&url).await?;
            let orders = store.journal_orders(&query).await?;
            let versions = store.journal_results().await?;
            store.close().await;
            anyhow::Ok((orders, versions))
        })?;
        if self.json {
            let all = serde_json::json!({"orders": orders, "versions": versions});
            return super::output::print_json(&all);
        }
        print_versions(&versions);
        print_orders(&orders);
        Ok(())
    }
}

fn print_versions(versions: &[VersionResult]) {
    if versions.is_empty() {
        println!("no orders yet (a host running `clever live` journals every order it places)");
        return;
    }
    println!(
        "{:<32} {:<6} {:>7} {:>10} {:>12} {:>12}",
        "strategy version", "mode", "orders", "unsettled", "matched", "profit"
    );
    for v in versions {
        let name = match (&v.strategy, &v.version) {
            (Some(s), Some(v)) => format!("{s}@{v}"),
            _ => "(adopted)".to_owned(),
        };
        println!(
            "{:<32} {:<6} {:>7} {:>10} {:>12} {:>12}",
            name,
            v.mode.as_deref().unwrap_or(""),
            v.orders,
            v.unsettled,
            v.matched,
            v.profit
        );
    }
}

fn print_orders(orders: &[JournalOrder]) {
    if orders.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<22} {:<12} {:<14} {:>10} {:<4} {:>7} {:>8} {:<18} {:>8} {:>9}",
        "reference",
        "bet",
        "market",
        "selection",
        "side",
        "price",
        "size",
        "status",
        "matched",
        "profit"
    );
    for o in orders {
        let side = if o.side == "LAY" { "L" } else { "B" };
        let profit = o.profit.map_or_else(String::new, |p| p.to_string());
        println!(
            "{:<22} {:<12} {:<14} {:>10} {:<4} {:>7} {:>8} {:<18} {:>8} {:>9}",
            o.customer_ref,
            o.bet_id.as_deref().unwrap_or("-"),
            o.market_id,
            o.selection_id,
            side,
            o.price,
            o.size,
            o.status.text(),
            o.matched,
            profit
        );
    }
}
