//! `clever models register|list` and `clever predictions import`: the
//! models users bring and the probabilities they publish, which
//! strategies read with `prediction(model, market, selection)`, never
//! one published after the strategy's `now`. Also the book a backtest
//! reads them from.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::engine::{NoPredictions, PredictionBook, Predictions};
use crate::store::{Store, database_url};

/// The venue whose markets predictions name.
const VENUE: &str = "betfair";

/// Models: register one, or list them.
#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    command: ModelsCommand,
    #[command(flatten)]
    out: super::output::DbAndFormat,
}

#[derive(Debug, clap::Subcommand)]
enum ModelsCommand {
    /// Register a model version (again: replace its metrics).
    Register {
        /// The model's name, as strategies ask for it.
        name: String,
        /// Its version.
        version: String,
        /// Its metrics or any description, as a JSON object.
        #[arg(long, default_value = "{}")]
        metrics: String,
    },
    /// Every registered model, with its predictions stored.
    List,
}

impl ModelsArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let url = database_url(self.out.db.as_deref());
        match self.command {
            ModelsCommand::Register {
                name,
                version,
                metrics,
            } => {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&metrics)
                    .context("--metrics must be a JSON object")?;
                anyhow::ensure!(!name.trim().is_empty(), "a model needs a name");
                anyhow::ensure!(!version.trim().is_empty(), "a model needs a version");
                let new = super::block_on(async {
                    let store = Store::open(&url).await?;
                    let new = store.register_model(&name, &version, &metrics).await;
                    store.close().await;
                    anyhow::Ok(new?)
                })?;
                let what = if new {
                    "registered"
                } else {
                    "already registered; metrics replaced"
                };
                println!("model {name}@{version} {what}");
                Ok(())
            }
            ModelsCommand::List => {
                let models = super::block_on(async {
                    let store = Store::open(&url).await?;
                    let models = store.models().await;
                    store.close().await;
                    anyhow::Ok(models?)
                })?;
                if self.out.json {
                    return super::output::print_json(&models);
                }
                if models.is_empty() {
                    println!("no models (register one with `clever models register NAME VERSION`)");
                }
                for m in &models {
                    println!(
                        "{}@{}: {} predictions, metrics {}",
                        m.name, m.version, m.predictions, m.metadata
                    );
                }
                Ok(())
            }
        }
    }
}

/// Predictions: import a file of them.
#[derive(Debug, clap::Args)]
pub struct PredictionsArgs {
    #[command(subcommand)]
    command: PredictionsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PredictionsCommand {
    /// Read predictions from CSV (with a header) or JSON lines: model,
    /// version, market, selection, probability, published_at (epoch ms
    /// or RFC 3339), optional features (a JSON object). Bad rows are kept
    /// as dead letters; the rest are stored.
    Import {
        /// The file.
        file: PathBuf,
        /// Database URL [default: $DATABASE_URL, else sqlite://clever.db]
        #[arg(long)]
        db: Option<String>,
        /// JSON instead of a line of text.
        #[arg(long)]
        json: bool,
    },
}

impl PredictionsArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let PredictionsCommand::Import { file, db, json } = self.command;
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let url = database_url(db.as_deref());
        let source = file.display().to_string();
        let summary = super::block_on(async {
            let store = Store::open(&url).await?;
            let summary = store.import_predictions(&source, VENUE, &text).await;
            store.close().await;
            anyhow::Ok(summary?)
        })?;
        if json {
            return super::output::print_json(&summary);
        }
        println!(
            "{}: {} rows, {} stored, {} already stored, {} refused (dead letters)",
            source, summary.read, summary.stored, summary.already_stored, summary.refused
        );
        for reason in &summary.reasons {
            eprintln!("  {reason}");
        }
        Ok(())
    }
}

/// The predictions of `markets` (all, if none are named) in the database
/// at `url`, as a book strategies read; none without a database.
pub fn book(url: Option<&str>, markets: Option<&[String]>) -> anyhow::Result<Arc<dyn Predictions>> {
    let Some(url) = url else {
        return Ok(Arc::new(NoPredictions));
    };
    super::block_on(async {
        let store = Store::open(url).await?;
        let book = book_from(&store, markets).await;
        store.close().await;
        book
    })
}

/// [`book`] from a database already open. Its URL is shown as the store
/// shows it, without a password.
pub async fn book_from(
    store: &Store,
    markets: Option<&[String]>,
) -> anyhow::Result<Arc<dyn Predictions>> {
    let rows = store.predictions(VENUE, markets).await?;
    let mut book = PredictionBook::new();
    for row in &rows {
        book.insert(&row.published());
    }
    if !book.is_empty() {
        eprintln!("{} model predictions from {}", book.len(), store.url());
    }
    Ok(Arc::new(book))
}
