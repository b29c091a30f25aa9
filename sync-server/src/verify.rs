//! The public check of a paper document (`GET /v/<record>?t=<type>&h=<hash>`), the address a
//! document's QR code holds: anyone with a phone, without login, learns whether the server
//! holds that document locked with the same content ("与存档一致"), does not hold it yet
//! ("尚未上传"), or holds different content ("不一致"). The page names the agency, the document
//! and its number, the enterprise and the issue date, and nothing else: no findings, no persons.
//! Answers are rate limited per source address, as the address is public.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use anjian_core::agency::DocType;
use anjian_core::document::model::chinese_date;
use anjian_core::time::china_date;

use crate::auth::ClientAddress;
use crate::documents::{document_of, server_agency};
use crate::error::AppResult;
use crate::state::AppState;

/// Checks a source address may make in [`WINDOW`]: a person scanning a handful of papers
/// never meets it; a script enumerating record ids does at once.
const CHECKS_PER_WINDOW: usize = 30;
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond it, those whose window has passed are forgotten.
const ADDRESSES_KEPT: usize = 10_000;

/// Recent checks per source address.
#[derive(Debug, Default)]
pub struct CheckLimiter {
    recent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl CheckLimiter {
    /// Counts a check from `address`; false when the address is over its limit.
    pub fn allow(&self, address: &str, now: Instant) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        if recent.len() >= ADDRESSES_KEPT {
            recent.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|at| now.duration_since(*at) < WINDOW)
            });
        }
        let times = recent.entry(address.to_string()).or_default();
        while times
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= CHECKS_PER_WINDOW {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[derive(Debug, Deserialize)]
pub struct CheckQuery {
    t: Option<String>,
    h: Option<String>,
}

/// The verification route, with its own limiter (one per server).
pub fn routes() -> Router<AppState> {
    let limiter = Arc::new(CheckLimiter::default());
    Router::new().route(
        "/v/{id}",
        get(
            move |state: State<AppState>,
                  id: Path<String>,
                  query: Query<CheckQuery>,
                  address: ClientAddress| {
                check(limiter.clone(), state, id, query, address)
            },
        ),
    )
}

/// What the server found for a scanned code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Locked on the server with this content hash.
    Matches(Facts),
    /// Locked on the server, but with other content than the paper's.
    Differs(Facts),
    /// Not on the server, not locked there yet, or never issued.
    NotUploaded,
}

/// The few facts the page shows of a document the server holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub title: &'static str,
    pub number: String,
    pub enterprise: String,
    pub issued_on: String,
}

async fn check(
    limiter: Arc<CheckLimiter>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CheckQuery>,
    ClientAddress(address): ClientAddress,
) -> Response {
    // The phone's address as login limiting counts it: the peer, or behind a trusted proxy
    // the address it forwards (else every phone would share the proxy's allowance).
    if !limiter.allow(&address, Instant::now()) {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            "核验过于频繁",
            html! { p class="status" { "查询过于频繁，请 " (WINDOW.as_secs()) " 秒后再试。" } },
        );
    }
    let (Some(doc_type), Some(hash)) = (
        query.t.as_deref().and_then(DocType::parse),
        query
            .h
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
    ) else {
        return page(
            StatusCode::BAD_REQUEST,
            "无法核验",
            html! { p class="status" { "二维码内容不完整，无法核验。请扫描文书上的核验二维码。" } },
        );
    };
    let hash = hash.to_ascii_lowercase();
    let looked_up = state
        .run(move |state| find(state, &id, doc_type, &hash).map(|f| (f, server_agency(state))))
        .await;
    match looked_up {
        Ok((finding, agency)) => {
            let agency = agency.map(|a| a.name).unwrap_or_default();
            page(
                StatusCode::OK,
                "文书核验",
                body(&agency, doc_type, &finding),
            )
        }
        Err(error) => {
            tracing::error!(error = ?error, "document check failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "无法核验",
                html! { p class="status" { "服务器暂时无法核验，请稍后再试。" } },
            )
        }
    }
}

/// Looks a scanned document up: locked on the server, and with which content. Runs on a
/// blocking thread.
pub fn find(state: &AppState, id: &str, doc_type: DocType, hash: &str) -> AppResult<Finding> {
    let Some(stored) = state.store.record(id)? else {
        return Ok(Finding::NotUploaded);
    };
    // Only what the server archived counts: an unlocked draft may still change.
    if stored.lock.is_none() {
        return Ok(Finding::NotUploaded);
    }
    let Some(document) = document_of(state, &stored, doc_type)? else {
        return Ok(Finding::NotUploaded);
    };
    let enterprise = anjian_core::RecordDoc::load(id, &stored.doc, &[], "server")
        .and_then(|mut doc| doc.read())
        .map(|record| record.enterprise.name)
        .unwrap_or_default();
    let facts = Facts {
        title: document.title,
        number: document.number.clone(),
        enterprise,
        issued_on: chinese_date(china_date(document.issued_at)),
    };
    Ok(if document.content_hash() == hash {
        Finding::Matches(facts)
    } else {
        Finding::Differs(facts)
    })
}

fn body(agency: &str, doc_type: DocType, finding: &Finding) -> Markup {
    let row = |label: &str, value: &str| html! { tr { th { (label) } td { (value) } } };
    let mut rows = vec![row("执法机关", agency)];
    let (class, verdict, explanation) = match finding {
        Finding::Matches(facts) | Finding::Differs(facts) => {
            rows.push(row("文书", facts.title));
            rows.push(row("文书编号", &facts.number));
            rows.push(row("被检查单位", &facts.enterprise));
            rows.push(row("签发日期", &facts.issued_on));
            if matches!(finding, Finding::Matches(_)) {
                ("ok", "与存档一致", "此文书与执法机关存档内容一致。")
            } else {
                (
                    "bad",
                    "不一致",
                    "此文书内容与执法机关存档不一致，请向执法机关核实。",
                )
            }
        }
        Finding::NotUploaded => {
            rows.push(row("文书", doc_type.title()));
            (
                "wait",
                "尚未上传",
                "执法机关服务器尚未存档此文书（检查人员联网同步后即可核验）。",
            )
        }
    };
    html! {
        table { @for row in rows { (row) } }
        p class={ "status " (class) } { "核验结果：" (verdict) }
        p { (explanation) }
    }
}

/// The page's own few rules: the page is served alone, without the review stylesheet.
const STYLE: &str = "
body { font-family: sans-serif; margin: 1em; line-height: 1.6; font-size: 17px; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; white-space: nowrap; padding: 0.3em 0.8em 0.3em 0; color: #555; font-weight: normal; }
td { padding: 0.3em 0; word-break: break-all; }
.status { font-size: 1.3em; font-weight: bold; margin-top: 1em; }
.ok { color: #1a7f37; } .bad { color: #c62828; } .wait { color: #8a6d00; }
";

/// A small page for a phone screen: no scripts, no external assets, not cached.
fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let html = crate::review::document(
        title,
        html! { style { (PreEscaped(STYLE)) } },
        html! {
            h1 { "安全生产执法文书核验" }
            (body)
        },
    );
    let mut response = (status, html.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_allowance_waits_for_its_window() {
        let limiter = CheckLimiter::default();
        let start = Instant::now();
        let phone = "10.0.0.1";
        for _ in 0..CHECKS_PER_WINDOW {
            assert!(limiter.allow(phone, start));
        }
        assert!(!limiter.allow(phone, start + Duration::from_secs(1)));
        // Another address has its own allowance; the first is free again after the window.
        assert!(limiter.allow("10.0.0.2", start));
        assert!(limiter.allow(phone, start + WINDOW));
    }

    #[test]
    fn the_page_shows_the_verdict_and_only_the_documents_facts() {
        let facts = Facts {
            title: "责令限期整改指令书",
            number: "（淄）应急责改〔2026〕12号".into(),
            enterprise: "淄博<齐林>电力".into(),
            issued_on: "2026年11月20日".into(),
        };
        let matches = body(
            "淄博市应急管理局",
            DocType::Order,
            &Finding::Matches(facts.clone()),
        )
        .into_string();
        for expected in [
            "淄博市应急管理局",
            "责令限期整改指令书",
            "（淄）应急责改〔2026〕12号",
            "淄博&lt;齐林&gt;电力",
            "2026年11月20日",
            "与存档一致",
        ] {
            assert!(matches.contains(expected), "{expected}: {matches}");
        }
        assert_eq!(matches.matches("<tr>").count(), 5);
        let differs =
            body("淄博市应急管理局", DocType::Order, &Finding::Differs(facts)).into_string();
        assert!(differs.contains("不一致") && !differs.contains("与存档一致"));
        let missing = body("淄博市应急管理局", DocType::Order, &Finding::NotUploaded).into_string();
        assert!(missing.contains("尚未上传") && !missing.contains("文书编号"));
    }
}
