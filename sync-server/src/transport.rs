//! What every answer of the server carries, whichever handler (or none) produced it:
//!
//! - `X-Content-Type-Options: nosniff`, so that a browser never runs a CSV, a JSON body or an
//!   uploaded text as a page or a script;
//! - an HTML answer without its own `Content-Security-Policy` gets the documents' policy
//!   (nothing loaded, no script, no frames, no forms), so a new HTML route is never without one;
//! - an error that did not come from a handler (a body over the limit, a wrong content type, a
//!   form axum could not read, a URI too long) is answered in the API's JSON error form under
//!   `/api/`, and as an error page under `/review`, instead of axum's plain text.
//!
//! hyper itself answers a request line over 64 KiB (414) or headers over its buffer (431) with
//! an empty body before any of this runs; below that, URIs over [`MAX_URI_BYTES`] are answered
//! here.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::documents::DOCUMENT_CSP;
use crate::error::AppError;

/// Longest URI (path and query) answered by a handler. The longest the pages build (a record
/// list filtered by every kind and field) is under 1 KiB.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The middleware around the whole app.
pub async fn guard(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    let mut response = if uri_len > MAX_URI_BYTES {
        error_for(
            &path,
            AppError::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!("请求地址过长（超过 {} KiB）", MAX_URI_BYTES / 1024),
            ),
        )
    } else {
        let response = next.run(request).await;
        if is_bare_error(&response) {
            let status = response.status();
            let detail = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
                .unwrap_or_default();
            error_for(&path, transport_error(status, &detail))
        } else {
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCUMENT_CSP),
        );
    }
    response
}

/// An error answer that is neither the API's JSON nor a page: axum's plain-text rejections.
fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !(content_type.starts_with("application/json") || content_type.starts_with("text/html"))
}

fn error_for(path: &str, error: AppError) -> Response {
    if path.starts_with("/review") {
        crate::review::PageError::from(error).into_response()
    } else {
        error.into_response()
    }
}

/// The error a bare status stands for, in the API's words; axum's own text (English, naming
/// the field it could not read) follows in brackets.
fn transport_error(status: StatusCode, detail: &str) -> AppError {
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "请求体过大"),
        StatusCode::URI_TOO_LONG => ("uri_too_long", "请求地址过长"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "请求体的类型（Content-Type）不受支持",
        ),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            ("invalid_body", "请求内容无法解析")
        }
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "此地址不接受这种请求方法"),
        StatusCode::NOT_FOUND => ("not_found", "没有这个地址"),
        StatusCode::LENGTH_REQUIRED => ("length_required", "请求缺少长度（Content-Length）"),
        status if status.is_server_error() => ("internal", "服务器内部错误，请稍后重试"),
        _ => ("bad_request", "请求无法处理"),
    };
    let message = if detail.is_empty() {
        message.to_string()
    } else {
        format!("{message}（{detail}）")
    };
    AppError::new(status, code, message)
}
