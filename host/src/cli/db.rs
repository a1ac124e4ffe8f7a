//! `clever db migrate | status`: apply and show the schema's migrations on
//! the database `--db` (else `DATABASE_URL`, else `sqlite://clever.db`).

use crate::store::{Store, database_url};

/// Database maintenance.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Apply every pending migration.
    Migrate(Db),
    /// Show every migration and whether it is applied.
    Status(Db),
    /// Forget odds snapshots older than some days (whole day partitions on
    /// PostgreSQL; TimescaleDB does this by its retention policy).
    Retain {
        /// Keep this many days back from now.
        #[arg(long)]
        days: u32,
        #[command(flatten)]
        db: Db,
    },
}

/// Which database.
#[derive(Debug, clap::Args)]
pub struct Db {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB
    /// [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long)]
    db: Option<String>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        super::block_on(async {
            match self.command {
                Command::Migrate(db) => {
                    let store = Store::connect(&database_url(db.db.as_deref())).await?;
                    let applied = store.migrate().await?;
                    println!("{}: {applied} migration(s) applied", store.url());
                    store.close().await;
                }
                Command::Retain { days, db } => {
                    let store = Store::open(&database_url(db.db.as_deref())).await?;
                    let cutoff =
                        chrono::Utc::now().timestamp_millis() - i64::from(days) * 86_400_000;
                    let dropped = store.drop_odds_before(cutoff).await?;
                    println!(
                        "{}: {dropped} partition(s) or row(s) of odds dropped",
                        store.url()
                    );
                    store.close().await;
                }
                Command::Status(db) => {
                    let store = Store::connect(&database_url(db.db.as_deref())).await?;
                    println!("{}", store.url());
                    for m in store.migration_status().await? {
                        let state = if m.applied { "applied" } else { "pending" };
                        println!("{:>6}  {:<8} {}", m.version, state, m.description);
                    }
                    store.close().await;
                }
            }
            Ok(())
        })
    }
}
