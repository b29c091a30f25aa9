//! What the server tells its operators: one log line per request, in a span that carries the
//! request id, the account, the route, the status and the latency (text or JSON lines on
//! stderr), and the metrics of `crate::metrics` at `/metrics`. The span's `account` field is
//! filled in by `auth` once a caller is known.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The header a request id arrives in (from a proxy that assigns them) and is answered in.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How log lines are written (`serve --log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event, with the request span's fields, for a log collector.
    Json,
}

/// Installs the process's log subscriber. `filter` is a `tracing` target list such as `info`
/// or `info,anjian_server::sync=debug` (`ANJIAN_LOG`).
pub fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let targets: tracing_subscriber::filter::Targets = filter.parse().map_err(|e| {
        format!("日志级别 {filter:?} 无效：{e}（例如 info 或 warn,anjian_server=debug）")
    })?;
    let registry = tracing_subscriber::registry().with(targets);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let installed = match format {
        LogFormat::Text => registry.with(layer.with_ansi(false)).try_init(),
        LogFormat::Json => registry
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    installed.map_err(|e| format!("无法启用日志：{e}"))
}

/// A request id from the client or proxy is kept when it is short and plain; otherwise one is
/// made here.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            // Without the OS's randomness the id is still unique enough from the clock.
            if getrandom::fill(&mut bytes).is_err() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                bytes = nanos.to_be_bytes();
            }
            hex::encode(bytes)
        })
}

/// The middleware around every route: the request's span, its log line, its metrics, and
/// its id on the answer.
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(none)", |path| path.as_str())
        .to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        account = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request");
        }
    });
    let error_code = response
        .extensions()
        .get::<ErrorCode>()
        .map(|ErrorCode(code)| *code);
    state
        .metrics
        .request_answered(&method, &route, status, error_code, elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// `GET /metrics`: for the monitoring on the server's own machine (a loopback client, after
/// a trusted proxy has named the real one), or anyone presenting `--metrics-token`. The
/// counts name no person, but they tell how busy each office is, which is not for the public.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let allowed = match (&state.access.metrics_token, presented) {
        (Some(expected), Some(presented)) => {
            crate::auth::token_hash(presented) == crate::auth::token_hash(expected)
        }
        _ => state
            .access
            .client_ip(headers, peer)
            .is_some_and(|ip| ip.is_loopback() || ip.to_canonical().is_loopback()),
    };
    if !allowed {
        return AppError::forbidden(
            "监控指标只对本机或持有监控令牌（--metrics-token）的采集器开放",
        )
        .into_response();
    }
    match state.metrics.encode() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => AppError::internal("metrics", e).into_response(),
    }
}
