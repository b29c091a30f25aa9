//! Cross-site request forgery on the review forms. SameSite=Strict cookies do not stop a page
//! served from another port of the same host (the same "site"), so every form post must pass two
//! checks before its handler runs:
//!
//! - its `Origin` (or, without one, its `Referer`) names this server, as the `Host` header does.
//!   Browsers send `Origin` with every form post, so a forged post from elsewhere always fails
//!   here; a post without either (a script, not a browser) goes on to the token.
//! - its `csrf` field carries the token of the session: derived from the session's token hash,
//!   so only a page the session was shown carries it. Before login there is no session, so the
//!   login page sets a random cookie and the form repeats it (a foreign page can neither read
//!   the cookie nor, on another port, pass the `Origin` check).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{PageError, cookie, session_token};
use crate::auth::{new_token, token_hash};
use crate::error::AppError;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The cookie the login form's token is kept in until the login.
pub const LOGIN_COOKIE: &str = "anjian_login";
/// Review forms are a few short fields; anything longer is not one of ours.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The token a session's forms carry.
pub fn form_token(session_token_hash: &str) -> String {
    let digest = Sha256::digest(format!("anjian review form\0{session_token_hash}"));
    hex::encode(&digest[..16])
}

/// The hidden input that carries `token`.
pub fn hidden_input(token: &str) -> Markup {
    html! { input type="hidden" name=(FIELD) value=(token); }
}

/// The token of the login form for this browser, and the cookie to set when it is new.
pub fn login_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(token) = cookie(headers, LOGIN_COOKIE).filter(|t| well_formed(t)) {
        return (token, None);
    }
    // Without randomness the form carries no token and the guard refuses it.
    let Some(token) = new_token().ok().map(|t| t[..32].to_string()) else {
        return (String::new(), None);
    };
    let cookie = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path=/review/login; HttpOnly; SameSite=Strict; Max-Age=86400"
    ))
    .ok();
    (token, cookie)
}

fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `Origin` (or `Referer`) names the server the request was sent to. `None`: the
/// request carries neither.
fn same_origin(headers: &HeaderMap) -> Option<bool> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))?;
    let Some(host) = host else {
        return Some(false);
    };
    // "http://host:port" or "https://host:port/path…"; "null" (a sandboxed or file page) has
    // no authority and never matches.
    let authority = source
        .to_str()
        .ok()
        .and_then(|s| s.split_once("://"))
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""));
    Some(authority.is_some_and(|a| a.eq_ignore_ascii_case(host)))
}

/// The token field of a form body: every value it was given, so that a body repeating it is
/// read as before (the first counts) rather than refused.
#[derive(Debug, Default, Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf: Vec<String>,
}

/// The token a form body carries, if any.
fn submitted_token(body: &[u8]) -> Option<String> {
    serde_html_form::from_bytes::<TokenField>(body)
        .ok()?
        .csrf
        .into_iter()
        .next()
}

fn refused(message: &str) -> Response {
    PageError(AppError::new(StatusCode::FORBIDDEN, "forbidden", message)).into_response()
}

/// The middleware in front of every review route.
pub async fn guard(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    if same_origin(&parts.headers) == Some(false) {
        tracing::warn!(
            method = %parts.method,
            path = parts.uri.path(),
            origin = ?parts.headers.get(header::ORIGIN),
            "refused a cross-origin form"
        );
        return refused("此表单来自其他网站，已拒绝：请在本系统的页面上操作");
    }
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return PageError(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("表单内容超过 {} KiB 上限", MAX_FORM_BYTES / 1024),
            ))
            .into_response();
        }
    };
    let expected = if parts.uri.path() == "/review/login" {
        cookie(&parts.headers, LOGIN_COOKIE).filter(|t| well_formed(t))
    } else {
        session_token(&parts.headers).map(|token| form_token(&token_hash(&token)))
    };
    // Without a session there is nothing to act for: the handler sends the browser to log in.
    let needs_token = expected.is_some() || parts.uri.path() == "/review/login";
    if needs_token && (expected.is_none() || submitted_token(&bytes) != expected) {
        return refused("页面已过期或表单不是从本系统的页面提交的：请刷新页面后重试");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_this_server_is_the_same_origin() {
        let host = (header::HOST, "127.0.0.1:8080");
        for (source, expected) in [
            ((header::ORIGIN, "http://127.0.0.1:8080"), Some(true)),
            ((header::ORIGIN, "https://127.0.0.1:8080"), Some(true)),
            ((header::ORIGIN, "http://127.0.0.1:9090"), Some(false)),
            ((header::ORIGIN, "http://evil.example"), Some(false)),
            ((header::ORIGIN, "null"), Some(false)),
            (
                (
                    header::REFERER,
                    "http://127.0.0.1:8080/review/alerts?page=1",
                ),
                Some(true),
            ),
            (
                (header::REFERER, "http://127.0.0.1:8080.evil.example/"),
                Some(false),
            ),
        ] {
            assert_eq!(
                same_origin(&headers(&[host.clone(), source.clone()])),
                expected,
                "{source:?}"
            );
        }
        assert_eq!(same_origin(&headers(&[host])), None);
        assert_eq!(
            same_origin(&headers(&[(header::ORIGIN, "http://127.0.0.1:8080")])),
            Some(false),
            "no Host, no match"
        );
    }

    #[test]
    fn the_token_is_the_sessions_own() {
        let a = form_token(&token_hash("session a"));
        assert_eq!(a.len(), 32);
        assert_ne!(a, form_token(&token_hash("session b")));
        assert_eq!(
            submitted_token(format!("x=1&csrf={a}").as_bytes()),
            Some(a.clone())
        );
        assert_eq!(submitted_token(b"csrfx=1"), None);
    }
}
