//! Predictions as models publish them: CSV with a header, or JSON lines,
//! one prediction per row. Each row is validated; a bad one becomes a
//! dead letter naming the field and the line, and the rest are kept.
//!
//! Fields: `model`, `version`, `market`, `selection`, `probability`
//! (0 to 1), `published_at` (epoch milliseconds, or an RFC 3339 time),
//! and optionally `features` (a JSON object).

use serde::Deserialize;

use super::connect::{Store, StoreError};
use super::predictions::PredictionRow;
use super::rows::{Batch, DeadLetter};

/// A prediction as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    model: String,
    version: String,
    #[serde(alias = "market_id")]
    market: String,
    #[serde(alias = "selection_id")]
    selection: serde_json::Value,
    probability: serde_json::Value,
    published_at: serde_json::Value,
    #[serde(default)]
    features: Option<serde_json::Value>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PredictionImport {
    /// Rows read.
    pub read: u64,
    /// Rows stored for the first time.
    pub stored: u64,
    /// Valid rows the store already had.
    pub already_stored: u64,
    /// Rows refused (see `dead_letters`).
    pub refused: u64,
    /// Why, for the first few refused.
    pub reasons: Vec<String>,
}

/// How many refusals an import describes in full.
const REASONS: usize = 5;

impl Given {
    /// The prediction, checked: the field that is wrong if it is not.
    pub fn check(self) -> Result<PredictionRow, String> {
        let text = |name: &str, v: String| match v.trim() {
            "" => Err(format!("{name} is empty")),
            t => Ok(t.to_owned()),
        };
        let selection = number(&self.selection)
            .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 2f64.powi(53))
            .ok_or_else(|| format!("selection {} is not a runner id", self.selection))?;
        let probability = number(&self.probability)
            .filter(|p| (0.0..=1.0).contains(p))
            .ok_or_else(|| format!("probability {} is not between 0 and 1", self.probability))?;
        let features = match self.features {
            None | Some(serde_json::Value::Null) => None,
            Some(f @ serde_json::Value::Object(_)) => Some(f.to_string()),
            Some(other) => return Err(format!("features {other} is not a JSON object")),
        };
        Ok(PredictionRow {
            model: text("model", self.model)?,
            version: text("version", self.version)?,
            market_id: text("market", self.market)?,
            selection_id: selection as u64,
            probability,
            published_at: epoch_ms(&self.published_at)?,
            features,
        })
    }
}

/// A JSON number, or a string holding one (as CSV gives every field).
fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// Epoch milliseconds, or an RFC 3339 time.
fn epoch_ms(v: &serde_json::Value) -> Result<i64, String> {
    let bad = || format!("published_at {v} is not epoch milliseconds or an RFC 3339 time");
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    let text = v.as_str().ok_or_else(bad)?.trim();
    if let Ok(n) = text.parse::<i64>() {
        return Ok(n);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| bad())
}

/// The rows of `text`: JSON lines if its first character is `{`, else
/// CSV with a header. Each is the row, or why it is refused, with where
/// it is (`line N`) and the raw record.
pub fn parse(text: &str) -> Vec<(String, String, Result<PredictionRow, String>)> {
    if text.trim_start().starts_with('{') {
        return (text.lines().enumerate())
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                let row = serde_json::from_str::<Given>(line)
                    .map_err(|e| format!("not a prediction: {e}"))
                    .and_then(Given::check);
                (format!("line {}", i + 1), line.to_owned(), row)
            })
            .collect();
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return vec![(
                "line 1".into(),
                String::new(),
                Err(format!("no header: {e}")),
            )];
        }
    };
    (reader.records())
        .enumerate()
        .map(|(i, record)| {
            let line = format!("line {}", i + 2);
            let Ok(record) = record else {
                return (line, String::new(), Err("not a CSV record".into()));
            };
            let raw = record.iter().collect::<Vec<_>>().join(",");
            (line, raw, from_csv(&header, &record))
        })
        .collect()
}

/// The rows of a JSON body: one prediction object or an array of them,
/// each where it is (`item N`) and the raw record.
pub fn from_json(body: serde_json::Value) -> Vec<(String, String, Result<PredictionRow, String>)> {
    let items = match body {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    (items.into_iter().enumerate())
        .map(|(i, item)| {
            let raw = item.to_string();
            let row = serde_json::from_value::<Given>(item)
                .map_err(|e| format!("not a prediction: {e}"))
                .and_then(Given::check);
            (format!("item {}", i + 1), raw, row)
        })
        .collect()
}

fn from_csv(
    header: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<PredictionRow, String> {
    let mut fields = serde_json::Map::new();
    for (name, value) in header.iter().zip(record.iter()) {
        let value = match name {
            "features" if value.is_empty() => serde_json::Value::Null,
            "features" => {
                serde_json::from_str(value).map_err(|e| format!("features is not JSON: {e}"))?
            }
            _ => serde_json::Value::String(value.to_owned()),
        };
        fields.insert(name.to_owned(), value);
    }
    serde_json::from_value::<Given>(serde_json::Value::Object(fields))
        .map_err(|e| format!("not a prediction: {e}"))
        .and_then(Given::check)
}

impl Store {
    /// Validate and store the predictions in `text` (read from `source`),
    /// markets named as `venue`'s. Bad rows, and rows of a model not
    /// registered, become dead letters; the rest are stored in one
    /// transaction.
    pub async fn import_predictions(
        &self,
        source: &str,
        venue: &str,
        text: &str,
    ) -> Result<PredictionImport, StoreError> {
        let (summary, _) = self.import_checked(source, venue, parse(text)).await?;
        Ok(summary)
    }

    /// [`Store::import_predictions`] of rows already parsed (see
    /// [`parse`], [`from_json`]); also the rows that were valid.
    pub async fn import_checked(
        &self,
        source: &str,
        venue: &str,
        rows: Vec<(String, String, Result<PredictionRow, String>)>,
    ) -> Result<(PredictionImport, Vec<PredictionRow>), StoreError> {
        let models = self.model_ids().await?;
        let mut summary = PredictionImport::default();
        let (mut good, mut batch) = (Vec::new(), Batch::default());
        for (position, raw, row) in rows {
            summary.read += 1;
            let row = row.and_then(|r| {
                let key = (r.model.clone(), r.version.clone());
                match models.contains_key(&key) {
                    true => Ok(r),
                    false => Err(format!(
                        "model {}@{} is not registered (clever models register)",
                        r.model, r.version
                    )),
                }
            });
            match row {
                Ok(row) => good.push(row),
                Err(reason) => {
                    summary.refused += 1;
                    if summary.reasons.len() < REASONS {
                        summary
                            .reasons
                            .push(format!("{source}: {position}: {reason}"));
                    }
                    let (source, position) = (source.to_owned(), position);
                    let letter = DeadLetter {
                        source,
                        position,
                        reason,
                        raw,
                    };
                    batch.dead_letters.push(letter);
                }
            }
        }
        summary.stored = self.save_predictions(venue, &good).await?;
        summary.already_stored = good.len() as u64 - summary.stored;
        self.write_batch(&mut batch).await?;
        Ok((summary, good))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(text: &str) -> Vec<Result<(String, u64, f64, i64), String>> {
        (parse(text).into_iter())
            .map(|(_, _, r)| {
                r.map(|r| (r.market_id, r.selection_id, r.probability, r.published_at))
            })
            .collect()
    }

    #[test]
    fn csv_and_json_lines_give_the_same_rows_and_refuse_what_is_wrong() {
        let csv = "model,version,market,selection,probability,published_at,features\n\
            m,1,1.5,7,0.25,1000,\n\
            m,1,1.5,8,1.5,1000,\n\
            m,1,1.5,9,0.5,2022-11-01T12:00:00Z,\"{\"\"speed\"\": 61}\"\n";
        let json = r#"{"model":"m","version":"1","market":"1.5","selection":7,"probability":0.25,"published_at":1000}
{"model":"m","version":"1","market":"1.5","selection":8,"probability":1.5,"published_at":1000}
{"model":"m","version":"1","market":"1.5","selection":9,"probability":0.5,"published_at":"2022-11-01T12:00:00Z","features":{"speed":61}}"#;
        for text in [csv, json] {
            let rows = reasons(text);
            assert_eq!(rows[0], Ok(("1.5".into(), 7, 0.25, 1000)));
            let refused = rows[1].as_ref().unwrap_err();
            assert!(
                refused.contains("probability 1.5") || refused.contains("\"1.5\""),
                "{refused}"
            );
            assert_eq!(rows[2], Ok(("1.5".into(), 9, 0.5, 1_667_304_000_000)));
        }
        let features = parse(csv).pop().unwrap().2.unwrap().features;
        assert_eq!(features.as_deref(), Some(r#"{"speed":61}"#));
    }

    #[test]
    fn each_bad_field_is_named() {
        let row = |fields: &str| {
            let line = format!(r#"{{"model":"m","version":"1","market":"1.5",{fields}}}"#);
            parse(&line).pop().unwrap().2.unwrap_err()
        };
        let ok = r#""selection":7,"probability":0.5,"published_at":1"#;
        assert!(row(&ok.replace("7", "-7")).contains("selection -7"));
        assert!(row(&ok.replace("0.5", "\"x\"")).contains("probability"));
        assert!(row(&ok.replace(":1", ":\"yesterday\"")).contains("published_at"));
        assert!(row(&format!("{ok},\"features\":[1]")).contains("features"));
        assert!(row(&format!("{ok},\"colour\":1")).contains("colour"));
        assert!(row(r#""probability":0.5,"published_at":1"#).contains("selection"));
    }
}
