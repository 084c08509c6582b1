//! The web dashboard (`docs/dashboard.md`): HTML, CSS and vanilla JavaScript embedded in the
//! binary (`crates/gateway/assets/dashboard/`), served by the admin router on the admin port
//! (8087) at `/` and `/ui/{file}`. No framework, no CDN, no build step.
//!
//! The assets are served without credentials (they hold no data); every data call the page
//! makes goes to the admin API with the operator's credential in the `Authorization` header
//! (the page keeps it in `sessionStorage`), live updates included: the page reads
//! `GET /api/v1/stream` with `fetch()` and a stream reader, since `EventSource` cannot send
//! headers.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file: its name under `/ui/`, its `Content-Type` and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The name under `/ui/` (`index.html` is also served at `/`).
    pub name: &'static str,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// The file's content, embedded at build time.
    pub body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ct:literal) => {
        Asset {
            name: $name,
            content_type: $ct,
            body: include_bytes!(concat!("../assets/dashboard/", $name)),
        }
    };
}

/// Every file of the dashboard.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The asset named `name`, if embedded.
pub fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The dashboard's routes (no credentials needed), to be merged into the admin router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { serve("index.html") }))
        .route("/ui", get(|| async { serve("index.html") }))
        .route("/ui/", get(|| async { serve("index.html") }))
        .route("/favicon.ico", get(|| async { serve("favicon.svg") }))
        .route(
            "/ui/{file}",
            get(|Path(file): Path<String>| async move { serve(&file) }),
        )
}

fn serve(name: &str) -> Response {
    let Some(a) = asset(name) else {
        return crate::admin::error(
            StatusCode::NOT_FOUND,
            format!("no dashboard file {name:?}"),
            None,
        );
    };
    let mut r = (StatusCode::OK, a.body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    // The binary is the version: a browser asks again after an upgrade.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Everything comes from this origin; nothing inline runs.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
    );
    r
}
