//! `clever runs compare` with a session on one side: a live or paper
//! session's orders paired with a backtest's (of the session's recording)
//! or another session's, strategy by strategy, with the orders that
//! filled on one side and not the other.

use std::str::FromStr;

use serde::Serialize;

use crate::analytics::compare::{Comparison, Placed, side_name};
use crate::store::{JournalOrder, Store};
use clever_sdk::{SelectionId, Side};

/// One side of a comparison: a saved run (`12`) or a session
/// (`session:3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A saved backtest run.
    Run(i64),
    /// A live, paper or replay session (`clever runs sessions`).
    Session(i64),
}

impl FromStr for Source {
    type Err = String;

    fn from_str(text: &str) -> Result<Source, String> {
        let bad = || {
            format!(
                "{text:?}: expected a run's id (12) or a session's (session:3; \
                 see `clever runs list` and `clever runs sessions`)"
            )
        };
        match text.strip_prefix("session:") {
            Some(id) => id.parse().map(Source::Session).map_err(|_| bad()),
            None => text.parse().map(Source::Run).map_err(|_| bad()),
        }
    }
}

/// A side as loaded: what it is, and its orders.
#[derive(Debug, Serialize)]
pub struct Loaded {
    /// `session 3` or `run 12`.
    pub name: String,
    /// A line saying what it was.
    pub about: String,
    /// Orders with no strategy (bets adopted from the account), left out.
    pub adopted: usize,
    #[serde(skip)]
    orders: Vec<Placed>,
}

/// The comparison as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The first side.
    pub a: Loaded,
    /// The second.
    pub b: Loaded,
    /// The pairing.
    pub comparison: Comparison,
}

/// Load `a` and `b` from `store` and pair their orders `within_ms`.
pub async fn load(store: &Store, [a, b]: [Source; 2], within_ms: i64) -> anyhow::Result<Report> {
    let (mut a, mut b) = (side(store, a).await?, side(store, b).await?);
    let (oa, ob) = (std::mem::take(&mut a.orders), std::mem::take(&mut b.orders));
    let comparison = crate::analytics::compare::compare(oa, ob, within_ms);
    Ok(Report { a, b, comparison })
}

async fn side(store: &Store, source: Source) -> anyhow::Result<Loaded> {
    let (name, about, orders) = match source {
        Source::Run(id) => {
            let Some(run) = store.run(id).await? else {
                anyhow::bail!("{}: no run {id} (see `clever runs list`)", store.url());
            };
            let about = format!(
                "backtest started {}, {} markets, {} orders",
                when(run.started_at),
                run.markets,
                run.orders
            );
            (format!("run {id}"), about, store.run_orders(id).await?)
        }
        Source::Session(id) => {
            let Some(s) = store.sessions(Some(id)).await?.pop() else {
                anyhow::bail!(
                    "{}: no session {id} (see `clever runs sessions`)",
                    store.url()
                );
            };
            let about = format!(
                "{} session on {} started {}, {} orders",
                s.mode,
                s.venue,
                when(s.started_at),
                s.orders
            );
            let orders = store.session_orders(&s.tag).await?;
            (format!("session {id}"), about, orders)
        }
    };
    let total = orders.len();
    let orders: Vec<Placed> = orders.into_iter().filter_map(placed).collect();
    Ok(Loaded {
        name,
        about,
        adopted: total - orders.len(),
        orders,
    })
}

/// An order as the comparison takes it; none for an adopted bet, which
/// no strategy placed.
fn placed(o: JournalOrder) -> Option<Placed> {
    let reference = match (&o.bet_id, o.customer_ref.is_empty()) {
        (Some(bet), true) => format!("order {bet}"),
        _ => o.customer_ref.clone(),
    };
    Some(Placed {
        strategy: o.strategy?,
        version: o.version,
        market_id: o.market_id,
        selection_id: SelectionId(u64::try_from(o.selection_id).ok()?),
        side: if o.side == "LAY" {
            Side::Lay
        } else {
            Side::Back
        },
        placed_at: o.placed_at,
        price: o.price,
        size: o.size,
        matched: o.matched,
        average_price: o.average_price,
        profit: o.profit,
        reference,
    })
}

/// `ms` as a UTC time to the second.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The differing orders a table shows; `--json` has them all.
const SHOWN: usize = 40;

/// The report as tables.
pub fn print(r: &Report) {
    for s in [&r.a, &r.b] {
        let adopted = match s.adopted {
            0 => String::new(),
            n => format!(" ({n} adopted bets left out)"),
        };
        println!("{}: {}{adopted}", s.name, s.about);
    }
    let c = &r.comparison;
    println!(
        "orders pair by strategy, market, runner and side, placed within {} ms",
        c.within_ms
    );
    for s in &c.strategies {
        println!();
        print_strategy(s, [&r.a.name, &r.b.name]);
    }
    println!();
    print_differences(c, [&r.a.name, &r.b.name]);
}

fn print_strategy(s: &crate::analytics::compare::StrategyComparison, names: [&str; 2]) {
    println!("{:<24} {:>18} {:>18}", s.strategy, names[0], names[1]);
    let row = |label: &str, f: &dyn Fn(usize) -> String| {
        println!("  {label:<22} {:>18} {:>18}", f(0), f(1));
    };
    let t = &s.totals;
    row("versions", &|i| s.versions[i].join(", "));
    row("orders", &|i| t[i].orders.to_string());
    row("filled", &|i| match t[i].fill_rate {
        Some(rate) => format!("{} ({:.1}%)", t[i].filled, rate * 100.0),
        None => "-".into(),
    });
    row("stake asked", &|i| format!("{:.2}", t[i].asked));
    row("matched", &|i| format!("{:.2}", t[i].matched));
    row("average price", &|i| match t[i].average_price {
        Some(p) => format!("{p:.3}"),
        None => "-".into(),
    });
    row("profit", &|i| format!("{:.2}", t[i].profit));
    row("unsettled", &|i| t[i].unsettled.to_string());
    row("without a twin", &|i| s.unpaired[i].to_string());
    row("filled here only", &|i| s.filled_on_one_side[i].to_string());
    println!("  {:<22} {:>18}", "paired", s.paired);
}

fn print_differences(c: &Comparison, names: [&str; 2]) {
    if c.differences.is_empty() {
        println!("every order has its twin, and each pair filled alike");
        return;
    }
    println!(
        "{} orders filled on one side and not the other, or placed on one side only:",
        c.differences.len()
    );
    for pair in c.differences.iter().take(SHOWN) {
        let first = pair.a.as_ref().or(pair.b.as_ref());
        let Some(o) = first else { continue };
        println!(
            "  {} {} {} {} {}",
            when_ms(o.placed_at),
            o.strategy,
            o.market_id,
            o.selection_id.0,
            side_name(o.side)
        );
        for (name, order) in names.iter().zip([&pair.a, &pair.b]) {
            println!("    {name:<14} {}", describe(order.as_ref()));
        }
    }
    if c.differences.len() > SHOWN {
        println!(
            "  ... and {} more (--json lists all)",
            c.differences.len() - SHOWN
        );
    }
}

fn describe(o: Option<&Placed>) -> String {
    let Some(o) = o else {
        return "not placed".into();
    };
    let matched = match o.average_price {
        Some(p) if o.matched.is_positive() => format!("matched {:.2} at {p:.3}", o.matched),
        _ => "not matched".into(),
    };
    format!(
        "{:.2} at {} placed {}: {matched} ({})",
        o.size,
        o.price,
        when_ms(o.placed_at),
        o.reference
    )
}

/// `ms` as a UTC time of day to the millisecond.
fn when_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}
