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
