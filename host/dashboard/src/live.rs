//! The live stream: `GET /ui/events?page=...` sends each of the page's
//! fragments as a server-sent event named after it, once at connection
//! and then whenever it changes (looked at every [`EVERY`]). The browser
//! reconnects by itself; `retry` asks it to within a second, and the
//! first events after a reconnection bring the whole page up to date.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::Dashboard;
use crate::layout::Fragments;
use crate::pages;
use crate::session::Reader;

/// How often a connection looks for changes.
const EVERY: Duration = Duration::from_millis(500);

/// Which page, and what it is filtered by (the page's own query).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct View {
    /// `strategies`, `orders`, `markets` or `alerts`.
    #[serde(default)]
    pub page: String,
    /// Orders of one strategy.
    pub strategy: Option<String>,
    /// Orders in, or the ladder of, one market.
    pub market: Option<String>,
    /// Orders in one journal status.
    pub status: Option<String>,
}

impl View {
    /// `value` unless it is empty (a form's blank field).
    pub fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    /// The stream URL of this view.
    pub fn url(&self, page: &str) -> String {
        let mut url = format!("/ui/events?page={page}");
        for (key, value) in [
            ("strategy", &self.strategy),
            ("market", &self.market),
            ("status", &self.status),
        ] {
            if let Some(v) = View::given(value) {
                url.push_str(&format!("&{key}={}", encode(v)));
            }
        }
        url
    }
}

/// What a query value keeps as it is; everything else is percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'@');

/// Percent-encode a query value.
pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The fragments of `view`'s page as they stand.
pub async fn fragments(d: &Dashboard, view: &View, signed_in: bool) -> Fragments {
    // One status command to the loop serves every fragment that needs it.
    let status = d.host().status().await;
    let status = status.as_ref();
    let mut out = pages::health(d, status, signed_in);
    out.extend(match view.page.as_str() {
        "strategies" => pages::strategies::live(d, status),
        "orders" => pages::orders::live(d, view).await,
        "markets" => pages::markets::live(d, view).await,
        "alerts" => pages::alerts::live(d, status).await,
        _ => Vec::new(),
    });
    out
}

/// `GET /ui/events`.
pub async fn events(
    State(d): State<Arc<Dashboard>>,
    Extension(reader): Extension<Reader>,
    Query(view): Query<View>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let signed_in = reader.signed_in;
    let (send, receive) = mpsc::channel(16);
    tokio::spawn(push(d, view, signed_in, send));
    let stream = futures_util::stream::unfold(receive, |mut receive| async move {
        let event = receive.recv().await?;
        Some((Ok(event), receive))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Send what changed until the page goes away.
async fn push(d: Arc<Dashboard>, view: View, signed_in: bool, send: mpsc::Sender<Event>) {
    let retry = Event::default().retry(Duration::from_secs(1));
    if send.send(retry).await.is_err() {
        return;
    }
    let mut sent: HashMap<&'static str, String> = HashMap::new();
    let mut tick = tokio::time::interval(EVERY);
    let mut closing = d.closing.clone();
    loop {
        // A page that went away ends this at once, even with nothing to
        // send; so does a host that is stopping.
        tokio::select! {
            _ = tick.tick() => {}
            _ = send.closed() => return,
            _ = closing.wait_for(|closing| *closing) => return,
        }
        for (name, markup) in fragments(&d, &view, signed_in).await {
            let html = markup.into_string();
            if sent.get(name) == Some(&html) {
                continue;
            }
            // SSE data may not hold a carriage return; HTML needs none.
            let event = Event::default().event(name).data(html.replace('\r', ""));
            tokio::select! {
                sent_ok = send.send(event) => if sent_ok.is_err() { return },
                _ = closing.wait_for(|closing| *closing) => return,
            }
            sent.insert(name, html);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_its_filters_in_its_stream_url() {
        let view = View {
            strategy: Some("lay low".into()),
            market: Some("1.23".into()),
            status: Some(" ".into()),
            ..View::default()
        };
        assert_eq!(
            view.url("orders"),
            "/ui/events?page=orders&strategy=lay%20low&market=1.23"
        );
    }
}
