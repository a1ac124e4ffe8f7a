//! A client of a running host's HTTP API, for the CLI's `--host URL`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

/// A running host's API.
pub struct Remote {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Remote {
    /// The host at `base` (`http://127.0.0.1:8780`), with the token from
    /// `token_file` or `$CLEVER_API_TOKEN` if there is one.
    pub fn new(base: &str, token_file: Option<&Path>) -> anyhow::Result<Self> {
        let token = match token_file {
            Some(path) => Some(super::settings::read(path)?.trim().to_owned()),
            None => std::env::var("CLEVER_API_TOKEN").ok(),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(Remote {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
        })
    }

    /// `GET path`, the answer's JSON.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self.agent.get(&url).call();
        answer(&url, response)
    }

    /// `POST path` with `body` of `content_type`, the answer's JSON.
    pub fn post(&self, path: &str, body: &[u8], content_type: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.post(&url).content_type(content_type);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        answer(&url, request.send(body))
    }
}

fn answer(
    url: &str,
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<Value> {
    let mut response = response.with_context(|| format!("calling {url}"))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading the answer of {url}"))?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .map_or_else(|| value.to_string(), str::to_owned);
        anyhow::bail!("{url}: {status}: {message}");
    }
    Ok(value)
}
