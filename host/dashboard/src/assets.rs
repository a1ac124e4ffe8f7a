//! The page's scripts and style, embedded at build time: `clever serve`
//! needs no files beside it. htmx and its SSE extension are the npm
//! registry's builds (`htmx.org` 2.0.11, `htmx-ext-sse` 2.2.4; 0BSD,
//! `assets/LICENSE-htmx`), kept as published.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    (
        "htmx.min.js",
        "text/javascript",
        include_str!("../assets/htmx-2.0.11.min.js"),
    ),
    (
        "sse.min.js",
        "text/javascript",
        include_str!("../assets/htmx-ext-sse-2.2.4.min.js"),
    ),
    (
        "dashboard.js",
        "text/javascript",
        include_str!("../assets/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css",
        include_str!("../assets/dashboard.css"),
    ),
];

/// `GET /ui/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => {
            // Short: a restarted host may carry a newer dashboard.
            let headers = [(CONTENT_TYPE, *kind), (CACHE_CONTROL, "max-age=300")];
            (headers, *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no asset {file:?}")).into_response(),
    }
}
