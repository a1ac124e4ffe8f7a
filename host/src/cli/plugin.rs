//! `clever plugin publish | list | show | activate | rollback`: the plugin
//! registry in the database.

use std::path::PathBuf;

use crate::runtime::{Runtime, RuntimeConfig};
use crate::store::{Published, Store, VersionRow, database_url};

/// The plugin registry.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
    #[arg(long, global = true)]
    db: Option<String>,
    /// JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Store a component under the name and version it declares.
    Publish {
        /// The component (.wasm).
        path: PathBuf,
    },
    /// Every published version.
    List,
    /// One strategy's versions, or one version: NAME or NAME@VERSION.
    Show {
        /// NAME or NAME@VERSION.
        spec: String,
    },
    /// Make a version the active one: NAME@VERSION.
    Activate {
        /// NAME@VERSION.
        spec: String,
    },
    /// Go back to the version active before the current one.
    Rollback {
        /// The strategy's name.
        name: String,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.db.as_deref());
        let json = self.json;
        match self.command {
            Command::Publish { path } => {
                // Loading checks it is a component of the strategy world at
                // a WIT major version this host speaks, and reads its name.
                let runtime = Runtime::new(RuntimeConfig::default())?;
                let plugin = runtime
                    .load_file(&path)
                    .map_err(|e| anyhow::anyhow!("{}: refused: {e}", path.display()))?;
                let bytes =
                    std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let d = plugin.descriptor();
                let fresh = super::block_on(async {
                    let store = Store::open(&url).await?;
                    let row = VersionRow {
                        name: &d.name,
                        version: &d.version,
                        wit_version: plugin.wit_version(),
                        component: &bytes,
                        sha256: plugin.sha256(),
                        parameters: "{}",
                    };
                    let fresh = store.publish(&row).await;
                    store.close().await;
                    Ok(fresh?)
                })?;
                let what = if fresh {
                    "published"
                } else {
                    "already published"
                };
                println!(
                    "{}@{} {what} (sha256 {})",
                    d.name,
                    d.version,
                    plugin.sha256()
                );
                Ok(())
            }
            Command::List => show(&url, "", None, json),
            Command::Show { spec } => {
                let (name, version) = match spec.split_once('@') {
                    Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                    None => (spec.clone(), None),
                };
                show(&url, &name, version.as_deref(), json)
            }
            Command::Activate { spec } => {
                let (name, version) = spec
                    .split_once('@')
                    .ok_or_else(|| anyhow::anyhow!("{spec}: expected NAME@VERSION"))?;
                super::block_on(async {
                    let store = Store::open(&url).await?;
                    let result = store.activate(name, version).await;
                    store.close().await;
                    Ok(result?)
                })?;
                println!("{name}@{version} is active");
                Ok(())
            }
            Command::Rollback { name } => {
                let version = super::block_on(async {
                    let store = Store::open(&url).await?;
                    let result = store.rollback(&name).await;
                    store.close().await;
                    Ok(result?)
                })?;
                println!("{name}@{version} is active again");
                Ok(())
            }
        }
    }
}

fn show(url: &str, name: &str, version: Option<&str>, json: bool) -> anyhow::Result<()> {
    let rows: Vec<Published> = super::block_on(async {
        let store = Store::open(url).await?;
        let rows = store.published(name, version).await?;
        store.close().await;
        anyhow::Ok(rows)
    })?;
    if !name.is_empty() && rows.is_empty() {
        let spec = version.map_or(name.to_owned(), |v| format!("{name}@{v}"));
        anyhow::bail!("{spec} is not published (see `clever plugin list`)");
    }
    if json {
        return super::output::print_json(&rows);
    }
    for r in &rows {
        println!(
            "{:<28} wit {:<6} {:>9} bytes  {}  {}",
            format!("{}@{}", r.name, r.version),
            r.wit_version,
            r.bytes,
            &r.sha256[..r.sha256.len().min(16)],
            if r.active { "active" } else { "" }
        );
    }
    Ok(())
}
