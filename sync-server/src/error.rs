//! One error type for every handler: client errors keep their status, code and Chinese
//! message; internal errors are logged and answered with a generic 500. The body is always
//! [`ApiErrorBody`] JSON.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use anjian_core::sync::protocol::ApiErrorBody;

use crate::store::StoreError;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The record of a sync request that the request was refused for.
    pub record_id: Option<String>,
}

pub type AppResult<T> = Result<T, AppError>;

/// The code of an error answer, kept on the response for the request log and the metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
            record_id: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        AppError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(context, %error, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务器内部错误，请稍后重试；问题已记入服务器日志",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(message) => {
                AppError::new(StatusCode::CONFLICT, "conflict", message)
            }
            StoreError::NotFound(message) => AppError::not_found(message),
            other => AppError::internal("store", other),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            code: self.code.to_string(),
            message: self.message,
            record_id: self.record_id,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}
