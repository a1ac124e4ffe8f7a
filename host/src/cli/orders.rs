//! `clever orders`: the order journal of running hosts (live and paper),
//! kept across restarts: each order as the venue last reported it, and
//! each strategy version's orders, matched stake and settled profit; and
//! the order-book orders (perpetuals) hosts placed, as last reported.

use crate::store::{
    BookOrderRow, JournalOrder, JournalStatus, OrderQuery, Store, VersionResult, database_url,
};

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
    /// In this market (or order-book instrument, e.g. BTC) only.
    #[arg(long)]
    market: Option<String>,
    /// The newest this many orders.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// JSON (`{"orders": [...], "versions": [...], "book_orders": [...]}`)
    /// instead of tables.
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
        let (orders, versions, book) = super::block_on(async {
            let store = Store::open(&url).await?;
            let orders = store.journal_orders(&query).await?;
            let versions = store.journal_results().await?;
            let book = store.book_orders(&query).await?;
            store.close().await;
            anyhow::Ok((orders, versions, book))
        })?;
        if self.json {
            let all =
                serde_json::json!({"orders": orders, "versions": versions, "book_orders": book});
            return super::output::print_json(&all);
        }
        if versions.is_empty() && book.is_empty() {
            println!("no orders yet (a host running `clever live` journals every order it places)");
            return Ok(());
        }
        print_versions(&versions);
        print_orders(&orders);
        print_book_orders(&book);
        Ok(())
    }
}

fn print_versions(versions: &[VersionResult]) {
    if versions.is_empty() {
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

/// Order-book orders, newest first: the strategy, the session and the
/// host's id of each, what was asked and where it stands.
fn print_book_orders(orders: &[BookOrderRow]) {
    if orders.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<28} {:<5} {:<26} {:>6} {:<10} {:<4} {:>12} {:>12} {:<18} {:>12}",
        "strategy version",
        "mode",
        "session",
        "order",
        "instrument",
        "side",
        "price",
        "size",
        "status",
        "filled"
    );
    for o in orders {
        println!(
            "{:<28} {:<5} {:<26} {:>6} {:<10} {:<4} {:>12} {:>12} {:<18} {:>12}",
            format!("{}@{}", o.strategy, o.version),
            o.mode,
            o.session,
            o.order_id,
            o.instrument,
            o.side,
            o.price,
            o.size,
            o.status,
            o.filled
        );
    }
}
