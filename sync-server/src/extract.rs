//! The extractors every face shares: JSON bodies and query strings read with serde, their
//! rejections answered in the API's error format and in Chinese, and a list's paging.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Query, Request};
use axum::http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// `Json`, with rejections answered in the API's error format.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> AppResult<Self> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    let status = rejection.status();
    let (code, message) = match &rejection {
        JsonRejection::MissingJsonContentType(_) => (
            "unsupported_media_type",
            "请求体应为 JSON（Content-Type: application/json）".to_string(),
        ),
        JsonRejection::JsonSyntaxError(_) => (
            "invalid_json",
            format!("JSON 格式错误{}", json_problem(&rejection.body_text())),
        ),
        JsonRejection::JsonDataError(_) => (
            "invalid_json",
            format!(
                "JSON 内容不符合接口{}",
                json_problem(&rejection.body_text())
            ),
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            format!("请求体超过 {} MiB 上限", MAX_BODY_BYTES / 1024 / 1024),
        ),
        _ => ("invalid_body", rejection.body_text()),
    };
    AppError::new(status, code, message)
}

/// What serde_json said was wrong, in Chinese: the field's path, the fault, the position.
/// Type names and allowed values stay as the interface spells them.
fn json_problem(detail: &str) -> String {
    // "Failed to deserialize the JSON body into the target type: records[0].id: missing
    // field `x` at line 1 column 20"
    let detail = detail.split_once("target type: ").map_or_else(
        || {
            detail
                .split_once("as JSON: ")
                .map_or(detail, |(_, rest)| rest)
        },
        |(_, rest)| rest,
    );
    let (detail, position) = match detail.rsplit_once(" at line ") {
        Some((text, at)) => {
            let mut numbers = at.split(" column ");
            let line = numbers.next().unwrap_or_default();
            let column = numbers.next().unwrap_or_default();
            (text, format!("（第 {line} 行第 {column} 列）"))
        }
        None => (detail, String::new()),
    };
    let (path, fault) = match detail.split_once(": ") {
        Some((path, fault)) if !path.contains(' ') => (Some(path), fault),
        _ => (None, detail),
    };
    let quoted = |text: &str| text.split('`').nth(1).unwrap_or_default().to_string();
    let fault = if fault.starts_with("missing field") {
        format!("缺少字段 {}", quoted(fault))
    } else if fault.starts_with("unknown field") {
        format!("不支持字段 {}", quoted(fault))
    } else if fault.starts_with("unknown variant") {
        let allowed = fault
            .split_once("expected ")
            .map_or("", |(_, rest)| rest)
            .replace("one of ", "")
            .replace('`', "");
        format!("取值 {} 无效，应为 {allowed}", quoted(fault))
    } else if let Some(rest) = fault.strip_prefix("invalid type: ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        format!("类型不符，应为 {expected}")
    } else if fault.starts_with("invalid value") {
        let expected = fault.split_once(", expected ").map_or("", |(_, e)| e);
        format!("取值无效，应为 {expected}")
    } else if fault.starts_with("invalid length") {
        "数组长度不符".to_string()
    } else if fault.starts_with("EOF while parsing") {
        "内容不完整".to_string()
    } else if fault.starts_with("trailing") {
        "JSON 之后还有多余内容".to_string()
    } else {
        "无法解析".to_string()
    };
    match path {
        Some(path) if path != "." => format!("：字段 {path} {fault}{position}"),
        _ => format!("：{fault}{position}"),
    }
}

/// `Query`, with rejections answered in the API's error format, in Chinese.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> AppResult<Self> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(&rejection.body_text())),
        }
    }
}

/// serde's English for a query it could not read, said in Chinese: which parameter is not
/// known, or that one is malformed.
fn query_rejection(detail: &str) -> AppError {
    let quoted = |marker: &str| {
        detail
            .split_once(marker)
            .and_then(|(_, rest)| rest.split('`').nth(1))
            .map(str::to_string)
    };
    let message = match quoted("unknown field") {
        Some(key) => format!("不支持查询参数 {key}"),
        None => match quoted("missing field") {
            Some(key) => format!("缺少查询参数 {key}"),
            None => "查询参数的格式无效".to_string(),
        },
    };
    AppError::bad_request("invalid_query", message)
}

/// `limit` and `offset` of a list. Read as text, so that a number too large for any list,
/// or an empty value, gets the same clear answer as a negative one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    limit: Option<String>,
    offset: Option<String>,
}

impl Paging {
    pub const MAX_LIMIT: i64 = 500;

    /// (limit, offset): 50 and 0 when absent.
    pub fn bounds(&self) -> AppResult<(i64, i64)> {
        let count = |key: &str, value: Option<&str>, min: i64, max: i64, absent: i64| match value {
            None => Ok(absent),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    AppError::bad_request(
                        "invalid_query",
                        format!("{key} 应为 {min} 到 {max} 之间的整数，收到 {text:?}"),
                    )
                }),
        };
        Ok((
            count("limit", self.limit.as_deref(), 1, Paging::MAX_LIMIT, 50)?,
            count("offset", self.offset.as_deref(), 0, i64::MAX, 0)?,
        ))
    }
}

/// An API client leaves out what it does not ask for, so an empty value (`until=`) is
/// refused, where a page's form sends its empty fields meaning "not given".
pub fn refuse_empty_values(raw: Option<&str>) -> AppResult<()> {
    // Read as pairs, a key given without `=` reads with an empty value too.
    let pairs: Vec<(String, String)> = serde_html_form::from_str(raw.unwrap_or(""))
        .map_err(|_| AppError::bad_request("invalid_query", "查询参数的格式无效"))?;
    match pairs.into_iter().find(|(_, value)| value.is_empty()) {
        Some((key, _)) => Err(AppError::bad_request(
            "invalid_query",
            format!("查询参数 {key} 没有值：不需要时请省略该参数"),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_query_value_is_refused_by_its_name() {
        assert!(refuse_empty_values(None).is_ok());
        assert!(refuse_empty_values(Some("from=2026-01-01&kind=self&kind=expert&&")).is_ok());
        let refused = refuse_empty_values(Some("from=2026-01-01&until=")).expect_err("empty");
        assert_eq!(
            refused.message,
            "查询参数 until 没有值：不需要时请省略该参数"
        );
        assert!(refuse_empty_values(Some("offset")).is_err());
    }
}
