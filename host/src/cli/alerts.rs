//! `clever alerts list`: the alerts running hosts raised, newest first,
//! with where each was delivered.

use crate::store::{AlertRow, Store, database_url};

/// Alerts raised by running hosts.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    out: super::output::DbAndFormat,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The newest alerts, with each webhook's delivery.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let Command::List { limit } = self.command;
        let url = database_url(self.out.db.as_deref());
        let alerts = super::block_on(async {
            let store = Store::open(&url).await?;
            let alerts = store.alerts(None, limit).await;
            store.close().await;
            anyhow::Ok(alerts?)
        })?;
        if self.out.json {
            return super::output::print_json(&alerts);
        }
        if alerts.is_empty() {
            println!("no alerts");
        }
        alerts.iter().for_each(print);
        Ok(())
    }
}

fn print(a: &AlertRow) {
    let when = chrono::DateTime::from_timestamp_millis(a.raised_at.unwrap_or(a.created_at))
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let threshold = a
        .threshold
        .map_or(String::new(), |t| format!(" (threshold {t})"));
    println!(
        "#{} {when} {} [{}] {}: value {}{threshold}: {}",
        a.id,
        a.name,
        a.severity,
        a.source,
        a.value,
        a.message.as_deref().unwrap_or_default()
    );
    for d in &a.deliveries {
        let state = match (d.sent_at, d.failed_at) {
            (Some(at), _) => format!("sent at {at} ms"),
            (None, Some(_)) => format!("given up: {}", d.last_error.as_deref().unwrap_or("")),
            (None, None) if d.attempts == 0 => "waiting".into(),
            (None, None) => format!("retrying: {}", d.last_error.as_deref().unwrap_or("")),
        };
        println!(
            "    to {}: {state} after {} attempts",
            d.webhook, d.attempts
        );
    }
}
