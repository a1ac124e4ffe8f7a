//! Models and their predictions: a model (name, version, metrics) is
//! registered once; its predictions are a probability per runner, each
//! with the time it was published and, optionally, the features it was
//! scored from. Rows arrive validated (`clever predictions import`,
//! `POST /predictions`); writing one twice changes nothing.

use std::collections::HashMap;

use chrono::Utc;
use clever_market::Published;
use clever_sdk::{MarketId, SelectionId, Timestamp};
use serde::Serialize;

use super::connect::{Store, StoreError, timed, with_pool};
use super::journal::ms;

/// One registered model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelRow {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// When it was registered (epoch ms).
    pub registered_at: i64,
    /// What it was registered with (JSON: its metrics, say).
    pub metadata: String,
    /// Predictions stored.
    pub predictions: i64,
}

/// One prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictionRow {
    /// The model's name.
    pub model: String,
    /// Its version.
    pub version: String,
    /// The venue's market id.
    pub market_id: String,
    /// The runner.
    pub selection_id: u64,
    /// The probability, 0 to 1.
    pub probability: f64,
    /// When it was published (epoch ms).
    pub published_at: i64,
    /// The features it was scored from (JSON), if given.
    pub features: Option<String>,
}

impl PredictionRow {
    /// The prediction as strategies read it.
    pub fn published(&self) -> Published {
        Published {
            model: self.model.clone(),
            version: self.version.clone(),
            market: MarketId(self.market_id.clone()),
            selection: SelectionId(self.selection_id),
            at: Timestamp(self.published_at),
            probability: self.probability,
        }
    }
}

impl Store {
    /// Register `name` at `version` with `metadata` (JSON); registering
    /// it again replaces its metadata. True if it is new.
    pub async fn register_model(
        &self,
        name: &str,
        version: &str,
        metadata: &str,
    ) -> Result<bool, StoreError> {
        const FIND: &str = "SELECT id FROM models WHERE name = $1 AND version = $2";
        const NEW: &str = "INSERT INTO models (name, version, created_at, metadata) \
            VALUES ($1, $2, $3, $4)";
        const UPDATE: &str = "UPDATE models SET metadata = $3 WHERE name = $1 AND version = $2";
        let what = format!("registering model {name}@{version}");
        let now = Utc::now().timestamp_millis();
        with_pool!(self, |pool, time| {
            let q = sqlx::query_scalar(FIND).bind(name).bind(version);
            let known: Option<i64> = timed(&what, q.fetch_optional(pool)).await?;
            if known.is_some() {
                let q = sqlx::query(UPDATE).bind(name).bind(version).bind(metadata);
                timed(&what, q.execute(pool)).await?;
                return Ok(false);
            }
            let q = (sqlx::query(NEW).bind(name).bind(version))
                .bind(time(now))
                .bind(metadata);
            timed(&what, q.execute(pool)).await?;
            Ok(true)
        })
    }

    /// Every registered model, by name and version.
    pub async fn models(&self) -> Result<Vec<ModelRow>, StoreError> {
        let sql = format!(
            "SELECT m.name, m.version, {} AS registered_at, m.metadata, \
             (SELECT count(*) FROM predictions p WHERE p.model = m.id) \
             FROM models m ORDER BY m.name, m.version",
            ms(self.dialect(), "m.created_at")
        );
        type Row = (String, String, i64, String, i64);
        let rows: Vec<Row> = with_pool!(self, |pool| {
            timed("listing models", sqlx::query_as(&sql).fetch_all(pool)).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(name, version, registered_at, metadata, predictions)| ModelRow {
                    name,
                    version,
                    registered_at,
                    metadata,
                    predictions,
                },
            )
            .collect())
    }

    /// The row id of each registered model by (name, version).
    pub async fn model_ids(&self) -> Result<HashMap<(String, String), i64>, StoreError> {
        const SQL: &str = "SELECT name, version, id FROM models";
        let rows: Vec<(String, String, i64)> = with_pool!(self, |pool| {
            timed("listing models", sqlx::query_as(SQL).fetch_all(pool)).await?
        });
        Ok(rows.into_iter().map(|(n, v, id)| ((n, v), id)).collect())
    }

    /// Store `rows` (of registered models; see [`Store::model_ids`]) in
    /// one transaction, markets named as `venue`'s; how many were new.
    pub async fn save_predictions(
        &self,
        venue: &str,
        rows: &[PredictionRow],
    ) -> Result<u64, StoreError> {
        const SQL: &str = "INSERT INTO predictions (model, market, selection_id, published_at, \
            probability, features) VALUES ($1, $2, $3, $4, $5, $6) \
            ON CONFLICT (model, market, selection_id, published_at) DO NOTHING";
        let models = self.model_ids().await?;
        let mut markets = HashMap::new();
        for r in rows {
            if !markets.contains_key(&r.market_id) {
                let id = self.market_row(venue, &r.market_id).await?;
                markets.insert(r.market_id.clone(), id);
            }
        }
        let what = format!("saving {} predictions", rows.len());
        with_pool!(self, |pool, time| {
            let mut tx = timed(&what, pool.begin()).await?;
            let mut new = 0;
            for r in rows {
                let key = (r.model.clone(), r.version.clone());
                let model = models.get(&key).ok_or_else(|| {
                    let model = format!("{}@{}", r.model, r.version);
                    StoreError::Invalid(format!("{what}: model {model} is not registered"))
                })?;
                let q = sqlx::query(SQL)
                    .bind(model)
                    .bind(markets[&r.market_id])
                    .bind(r.selection_id as i64)
                    .bind(time(r.published_at))
                    .bind(r.probability)
                    .bind(r.features.as_deref());
                new += timed(&what, q.execute(&mut *tx)).await?.rows_affected();
            }
            timed(&what, tx.commit()).await?;
            Ok(new)
        })
    }

    /// The predictions for `venue`'s markets (these only, if given), in
    /// the order they were published.
    pub async fn predictions(
        &self,
        venue: &str,
        markets: Option<&[String]>,
    ) -> Result<Vec<PredictionRow>, StoreError> {
        let sql = format!(
            "SELECT m.name, m.version, k.market_id, p.selection_id, p.probability, \
             {} AS published_at, p.features FROM predictions p \
             JOIN models m ON m.id = p.model JOIN markets k ON k.id = p.market \
             WHERE k.venue = $1 ORDER BY p.published_at",
            ms(self.dialect(), "p.published_at")
        );
        type Row = (String, String, String, i64, f64, i64, Option<String>);
        let rows: Vec<Row> = with_pool!(self, |pool| {
            let q = sqlx::query_as(&sql).bind(venue);
            timed("reading predictions", q.fetch_all(pool)).await?
        });
        let wanted = markets.map(|m| m.iter().collect::<std::collections::HashSet<_>>());
        Ok(rows
            .into_iter()
            .filter(|r| wanted.as_ref().is_none_or(|w| w.contains(&r.2)))
            .map(
                |(model, version, market_id, selection, probability, published_at, features)| {
                    PredictionRow {
                        model,
                        version,
                        market_id,
                        selection_id: selection.max(0) as u64,
                        probability,
                        published_at,
                        features,
                    }
                },
            )
            .collect())
    }
}
