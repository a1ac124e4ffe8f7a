//! `clever plugin publish | list | show | activate | rollback`: the plugin
//! registry in the database, or, with `--host URL`, through a running
//! host's API (where activating hot-swaps the running strategy).

use std::path::PathBuf;

use super::remote::Remote;
use crate::runtime::{CompileSource, Runtime, RuntimeConfig};
use crate::serve::handle::version_row;
use crate::store::{Published, Store, database_url};

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
    /// A running host's API (`http://127.0.0.1:8780`) instead of the database.
    #[arg(long, global = true, conflicts_with = "db")]
    host: Option<String>,
    /// File holding the host's API token [default: $CLEVER_API_TOKEN].
    #[arg(long, global = true, requires = "host")]
    token_file: Option<PathBuf>,
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
        /// With --host: run it beside the active version, for comparison.
        #[arg(long, requires = "host")]
        alongside: bool,
    },
    /// Go back to the version active before the current one.
    Rollback {
        /// The strategy's name.
        name: String,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        if let Some(host) = &self.host {
            let remote = Remote::new(host, self.token_file.as_deref())?;
            return remote_command(&remote, self.command, self.json);
        }
        let url = database_url(self.db.as_deref());
        let json = self.json;
        match self.command {
            Command::Publish { path } => {
                // Loading checks it is a component of the strategy world at
                // a WIT major version this host speaks, and reads its name.
                let bytes = std::fs::read(&path).map_err(|e| super::named(&path, e))?;
                let runtime = Runtime::new(RuntimeConfig::default())?;
                let started = std::time::Instant::now();
                let plugin = runtime
                    .load_bytes(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: refused: {e}", path.display()))?;
                // Compiled now for backtests and serving hosts alike, so a
                // hot swap to it does not wait for Cranelift.
                let sources = runtime.precompile(&bytes)?;
                if sources.contains(&CompileSource::Compiled) {
                    eprintln!(
                        "compiled into the cache for backtests and serving hosts in {:.1} s",
                        started.elapsed().as_secs_f64()
                    );
                }
                let d = plugin.descriptor();
                let fresh = super::block_on(async {
                    let store = Store::open(&url).await?;
                    let fresh = store.publish(&version_row(&plugin, &bytes, "{}")).await;
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
                let (name, version) = split_spec(&spec);
                show(&url, name, version, json)
            }
            Command::Activate { spec, .. } => {
                let (name, version) = name_at_version(&spec)?;
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

fn split_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    }
}

fn name_at_version(spec: &str) -> anyhow::Result<(&str, &str)> {
    spec.split_once('@')
        .ok_or_else(|| anyhow::anyhow!("{spec}: expected NAME@VERSION"))
}

/// The same commands through a running host's API.
fn remote_command(remote: &Remote, command: Command, json: bool) -> anyhow::Result<()> {
    let answer = match command {
        Command::Publish { path } => {
            let bytes = std::fs::read(&path).map_err(|e| super::named(&path, e))?;
            remote.post("/plugins", &bytes, "application/wasm")?
        }
        Command::List => remote.get("/plugins")?,
        Command::Show { spec } => {
            let (name, version) = split_spec(&spec);
            let rows: Vec<Published> = serde_json::from_value(remote.get("/plugins")?)?;
            let rows: Vec<Published> = rows
                .into_iter()
                .filter(|r| r.name == name && version.is_none_or(|v| r.version == v))
                .collect();
            if rows.is_empty() {
                anyhow::bail!("{spec} is not published (see `clever plugin list`)");
            }
            if !json {
                print_rows(&rows);
                return Ok(());
            }
            serde_json::to_value(rows)?
        }
        Command::Activate { spec, alongside } => {
            let (name, version) = name_at_version(&spec)?;
            let body = serde_json::json!({ "version": version, "alongside": alongside });
            let path = format!("/plugins/{name}/activate");
            remote.post(&path, body.to_string().as_bytes(), "application/json")?
        }
        Command::Rollback { name } => remote.post(
            &format!("/plugins/{name}/rollback"),
            b"",
            "application/json",
        )?,
    };
    if json {
        return super::output::print_json(&answer);
    }
    if let Ok(rows) = serde_json::from_value::<Vec<Published>>(answer.clone()) {
        print_rows(&rows);
    } else {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    }
    Ok(())
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
    print_rows(&rows);
    Ok(())
}

fn print_rows(rows: &[Published]) {
    for r in rows {
        println!(
            "{:<28} wit {:<6} {:>9} bytes  {}  {}",
            format!("{}@{}", r.name, r.version),
            r.wit_version,
            r.bytes,
            &r.sha256[..r.sha256.len().min(16)],
            if r.active { "active" } else { "" }
        );
    }
}
