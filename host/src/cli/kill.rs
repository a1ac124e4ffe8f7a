//! `clever kill [--release]`: pull or release the kill switch kept in the
//! database. Every running host on that database follows it within a
//! second (serving and live hosts, Betfair and Hyperliquid alike): pulled,
//! each stops placing orders and cancels its open ones; released, each
//! trades again. A host started while it is on starts killed.

use crate::store::{Store, database_url};

/// Pull (or release) the database's kill switch.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Release it instead: running hosts trade again.
    #[arg(long)]
    release: bool,
    /// The database [default: $DATABASE_URL, else sqlite://clever.db].
    #[arg(long)]
    db: Option<String>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.db.as_deref());
        // Opening a SQLite URL creates the file: a mistyped one would pull
        // a switch no host reads, and say it had.
        if let Some(file) = sqlite_file(&url) {
            anyhow::ensure!(
                std::path::Path::new(file).exists(),
                "{url}: no such database, so no host on it to stop (give the --db the hosts were \
                 given, or set DATABASE_URL); nothing was changed"
            );
        }
        let (was, now, shown) = super::block_on(async {
            let store = Store::open(&url).await?;
            let was = store.kill_switch().await?;
            match self.release {
                true => store.release_kill_switch().await.map(|_| ())?,
                false => (store.engage_kill_switch(chrono::Utc::now().timestamp_millis())).await?,
            }
            let now = store.kill_switch().await?;
            let shown = store.url().to_owned();
            store.close().await;
            anyhow::Ok((was, now, shown))
        })?;
        let since = |at: i64| {
            chrono::DateTime::from_timestamp_millis(at)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_else(|| format!("{at} ms"))
        };
        match (was, now) {
            (Some(at), Some(_)) => println!(
                "the kill switch was already on (pulled {}): hosts on {} trade nothing",
                since(at),
                shown
            ),
            (None, Some(_)) => println!(
                "the kill switch is on: hosts on {} stop trading and cancel their open orders \
                 within a second, and start killed until `clever kill --release`",
                shown
            ),
            (Some(at), None) => println!(
                "the kill switch is released (it was pulled {}): hosts on {} trade again",
                since(at),
                shown
            ),
            (None, None) => println!("the kill switch was not on: nothing changed"),
        }
        Ok(())
    }
}

/// The file of a SQLite URL (`sqlite://FILE?options`), if it names one.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = (url.strip_prefix("sqlite://")).or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or(rest);
    (!file.is_empty() && file != ":memory:").then_some(file)
}

/// Read the database's kill switch each second (`clever kill`, or a
/// serving host's `POST /kill`, may pull it at any time) into `switch`
/// (true while pulled), until nobody follows it. A failed read changes
/// nothing, and is warned of once until a read succeeds again.
pub(super) async fn watch_kill_switch(store: Store, switch: tokio::sync::watch::Sender<bool>) {
    let mut each = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut failing = false;
    while !switch.is_closed() {
        each.tick().await;
        match store.kill_switch().await {
            Ok(at) => {
                failing = false;
                let pulled = at.is_some();
                switch.send_if_modified(|on| std::mem::replace(on, pulled) != pulled);
            }
            Err(e) if !std::mem::replace(&mut failing, true) => {
                tracing::warn!("reading the kill switch (the host stays as it is): {e}");
            }
            Err(_) => {}
        }
    }
}
