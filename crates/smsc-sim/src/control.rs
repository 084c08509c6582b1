//! The HTTP control API: `POST /mo`, `GET /stats`, `GET /submits`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

use crate::{session, MoRequest, ReceivedSubmit, Shared, SimError, SimStats};

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/mo", post(mo))
        .route("/stats", get(stats))
        .route("/submits", get(submits))
        .with_state(shared)
}

/// Serves the control API on `listener` until the simulator shuts down.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    let app = router(shared);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "control API stopped");
    }
}

async fn mo(State(shared): State<Arc<Shared>>, Json(req): Json<MoRequest>) -> Response {
    match session::inject_mo(&shared, req).await {
        Ok(status) => Json(json!({ "command_status": status })).into_response(),
        Err(e) => {
            let code = match e {
                SimError::NoReceiver => StatusCode::SERVICE_UNAVAILABLE,
                SimError::InvalidMo(_) => StatusCode::BAD_REQUEST,
                SimError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                _ => StatusCode::BAD_GATEWAY,
            };
            (code, Json(json!({ "error": e.to_string() }))).into_response()
        }
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<SimStats> {
    Json(shared.stats())
}

async fn submits(State(shared): State<Arc<Shared>>) -> Json<Vec<ReceivedSubmit>> {
    Json(shared.submits())
}
