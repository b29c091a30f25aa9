//! The supervisors' review pages: server-rendered HTML in Chinese, no script and nothing
//! fetched from elsewhere (they run on an intranet). A page reads exactly what the API lets
//! the same account read: the session is an access token of the account, kept in an
//! HttpOnly cookie, and every read goes through the same `Scope`.

mod alerts;
pub(crate) mod analyses;
pub mod csrf;
mod enterprise;
mod page;
pub(crate) mod qualifications;
pub(crate) mod towns;
pub(crate) mod tracking;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, RawQuery};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use anjian_core::RecordDoc;
use anjian_core::agency::DocType;
use anjian_core::record::Record;
use anjian_core::sync::receipt::Receipt;
use anjian_core::template::InspectionKind;
use anjian_core::time::china;

use crate::auth::{
    Caller, ClientAddress, Scope, authenticate, check_credentials, check_login_length, descendants,
    new_token, token_hash,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{RecordFilter, RecordRow, RecordState, Region, TokenKind, TokenRow};
pub(crate) use page::document;
use page::{Page, datetime, kind_label};

const SESSION_COOKIE: &str = "anjian_session";
/// A working day: a supervisor logs in once in the morning.
const SESSION_TTL: chrono::Duration = chrono::Duration::hours(10);
const PAGE_SIZE: i64 = 50;
const STYLESHEET: &str = include_str!("review.css");
/// A shield with a tick, drawn here; served at the path browsers ask for by themselves.
const FAVICON: &str = include_str!("favicon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(|| async { Redirect::to("/review/records") }))
        .route(
            "/review/",
            get(|| async { Redirect::to("/review/records") }),
        )
        .route("/review/static/review.css", get(stylesheet))
        .route("/favicon.ico", get(favicon))
        .route("/review/login", get(login_page).post(login))
        .route("/review/logout", post(logout))
        .route("/review/records", get(records))
        .route("/review/enterprises", get(enterprise::list))
        .route("/review/analyses/hazards", get(analyses::hazards))
        .route(
            "/review/analyses/self-inspections",
            get(analyses::self_inspections),
        )
        .route("/review/analyses/public", get(analyses::public))
        .route("/review/analyses/attendance", get(analyses::attendance))
        .route("/review/analyses/coverage", get(towns::coverage))
        .route("/review/analyses/grading", get(towns::grading))
        .route(
            "/review/analyses/certificates",
            get(qualifications::certificates),
        )
        .route("/review/analyses/permits", get(qualifications::permits))
        .route("/review/hazards", get(tracking::hazards))
        .route("/review/alerts", get(alerts::list))
        .route(
            "/review/iot-hazards/{hazard_id}/rectify",
            post(tracking::rectify_iot_hazard),
        )
        .route(
            "/review/alerts/{alert_id}/acknowledge",
            post(alerts::acknowledge),
        )
        .route("/review/enterprises/{code}", get(enterprise::archive))
        .route("/review/records/{id}", get(record_page))
        .route(
            "/review/records/{id}/documents/{doc_type}",
            get(document_html),
        )
        .route(
            "/review/records/{id}/documents/{doc_type}/pdf",
            get(document_pdf),
        )
        .layer(axum::middleware::from_fn(csrf::guard))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLESHEET,
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON,
    )
}

/// An error shown as a page: the same status and message the API would give.
#[derive(Debug)]
pub struct PageError(AppError);

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::UNAUTHORIZED => "需要登录",
            StatusCode::TOO_MANY_REQUESTS => "请稍后再试",
            status if status.is_server_error() => "服务器出错",
            _ => "无法完成",
        };
        let body = html! {
            p class="message error" { (self.0.message) }
            p { a href="/review/records" { "返回检查记录" } }
        };
        let mut response = (self.0.status, Page::new(title).body(body).html(None)).into_response();
        response
            .extensions_mut()
            .insert(crate::error::ErrorCode(self.0.code));
        response
    }
}

type PageResult<T> = Result<T, PageError>;

/// A long list (hazards to act on, late and missing self-inspections) shows this many rows
/// on its page, and the API as many unless asked for fewer (`limit`, up to
/// [`API_LIMIT_MAX`], and `offset`); the exports carry them all.
const LIST_LIMIT: i64 = 500;
const API_LIMIT_MAX: i64 = 5000;

/// A `limit` or `offset` of a list's API: a whole number from 0 to `max`.
pub(super) fn parse_count(key: &str, value: &str, max: i64) -> Result<i64, AppError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=max).contains(n))
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_query",
                format!("{key} 应为 0 到 {max} 之间的整数，收到 {value:?}"),
            )
        })
}

/// The logged-in account of a page request; without a valid session the browser is sent to
/// the login page and brought back afterwards.
#[derive(Debug)]
pub struct Session(Caller);

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/review/records", |p| p.as_str());
            Redirect::to(&format!("/review/login?next={}", url_encode(next))).into_response()
        };
        let Some(token) = session_token(&parts.headers) else {
            return Err(to_login());
        };
        match authenticate(state, &token, TokenKind::Review).await {
            Ok(caller) => Ok(Session(caller)),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(to_login()),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value, when the request carries it and it is not empty.
fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// What a query value or a `next=` path may carry unencoded: RFC 3986's unreserved
/// characters and `/`, which keeps a page path readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// Only a page of this site is a place to go back to after logging in.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/review/") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/review/records")
        .to_string()
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

fn login_form(next: &str, login: &str, problem: Option<&str>, headers: &HeaderMap) -> Response {
    let (token, new_cookie) = csrf::login_token(headers);
    let mut response = Page::new("登录")
        .body(html! {
            form class="login" method="post" action="/review/login" {
                h1 { "安监检查记录审阅" }
                @if let Some(problem) = problem { p class="message error" { (problem) } }
                (csrf::hidden_input(&token))
                input type="hidden" name="next" value=(next);
                label for="login" { "账号" }
                input id="login" name="login" autocomplete="username" required value=(login);
                label for="password" { "密码" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "登录" }
            }
        })
        .html(None);
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

async fn login_page(headers: HeaderMap, query: QueryResult<LoginQuery>) -> impl IntoResponse {
    let next = safe_next(query.as_ref().ok().and_then(|q| q.next.as_deref()));
    login_form(&next, "", None, &headers)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    form: axum::Form<LoginForm>,
) -> Response {
    let axum::Form(form) = form;
    let next = safe_next(form.next.as_deref());
    let login = form.login.trim().to_string();
    if let Err(e) = check_login_length(&login, &form.password) {
        return (e.status, login_form(&next, "", Some(&e.message), &headers)).into_response();
    }
    let password = form.password;
    let attempt = login.clone();
    let secure = if state.access.https(&headers) {
        "; Secure"
    } else {
        ""
    };
    let result = state
        .run(move |state| {
            let user = check_credentials(state, &attempt, &password, &address)?;
            let token = new_token().map_err(|e| AppError::internal("token", e))?;
            let device = new_token().map_err(|e| AppError::internal("token", e))?;
            state.store.insert_token(&TokenRow {
                hash: token_hash(&token),
                kind: TokenKind::Review,
                login: user.login.clone(),
                device_id: format!("web-{}", &device[..16]),
                expires_at: Utc::now() + SESSION_TTL,
                revoked: false,
            })?;
            Ok(token)
        })
        .await;
    match result {
        Ok(token) => {
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path=/review; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                SESSION_TTL.num_seconds()
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => (
            e.status,
            login_form(&next, &login, Some(&e.message), &headers),
        )
            .into_response(),
    }
}

async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> PageResult<Response> {
    if let Some(token) = session_token(&headers) {
        let hash = token_hash(&token);
        state
            .blocking(move |store| store.revoke_token(&hash))
            .await?;
    }
    let mut response = Redirect::to("/review/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "anjian_session=; Path=/review; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

/// The record list's query string: the filter form's fields and the page. Kinds may repeat
/// (`kind=self&kind=expert`), which serde's query extractor cannot express, so the string is
/// read here.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ListQuery {
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    region: Option<String>,
    industry: Option<String>,
    kinds: Vec<String>,
    state: Option<RecordState>,
    enterprise: Option<String>,
    with_hazards: bool,
    page: i64,
}

/// The record list's query string as the filter form sends it. Every field is read as all the
/// values it was given: kinds repeat (`kind=self&kind=expert`), and of another repeated field
/// the last given counts. An empty value means "not given"; other keys (an analysis's own) are
/// left to their readers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListFields {
    from: Vec<String>,
    until: Vec<String>,
    region: Vec<String>,
    industry: Vec<String>,
    kind: Vec<String>,
    state: Vec<String>,
    enterprise: Vec<String>,
    hazards: Vec<String>,
    page: Vec<String>,
}

/// A query string's fields read with serde.
pub(crate) fn query_fields<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> AppResult<T> {
    serde_html_form::from_str(raw.unwrap_or(""))
        .map_err(|e| AppError::bad_request("invalid_query", format!("查询参数无法读取：{e}")))
}

/// The values of a field as the pages take them: trimmed, the empty ones left out, each read
/// by `read`. A value whose percent-encoding is not UTF-8 reads back with U+FFFD in it, and is
/// refused rather than searched for.
fn given<T>(
    key: &str,
    values: &[String],
    read: impl Fn(&str) -> AppResult<T>,
) -> AppResult<Vec<T>> {
    values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(|value| {
            if value.contains('\u{FFFD}') {
                return Err(AppError::bad_request(
                    "invalid_query",
                    format!("查询参数 {key} 的编码无效"),
                ));
            }
            read(value)
        })
        .collect()
}

/// The last of a field's given values, each of them read (and so checked) by `read`.
fn last_given<T>(
    key: &str,
    values: &[String],
    read: impl Fn(&str) -> AppResult<T>,
) -> AppResult<Option<T>> {
    Ok(given(key, values, read)?.pop())
}

fn text(value: &str) -> AppResult<String> {
    Ok(value.to_string())
}

impl ListQuery {
    pub(crate) fn parse(raw: Option<&str>) -> AppResult<ListQuery> {
        let bad = |message: String| AppError::bad_request("invalid_query", message);
        let fields: ListFields = query_fields(raw)?;
        let date = |field: &'static str| {
            move |value: &str| {
                NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                    AppError::bad_request(
                        "invalid_query",
                        format!("{field} {value:?} 应为 YYYY-MM-DD 格式的日期"),
                    )
                })
            }
        };
        let mut kinds: Vec<String> = Vec::new();
        for kind in given("kind", &fields.kind, |kind| {
            InspectionKind::parse(kind).ok_or_else(|| bad(format!("检查类型 {kind} 无效")))?;
            Ok(kind.to_string())
        })? {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        let query = ListQuery {
            from: last_given("from", &fields.from, date("起始日期"))?,
            until: last_given("until", &fields.until, date("截止日期"))?,
            region: last_given("region", &fields.region, text)?,
            industry: last_given("industry", &fields.industry, text)?,
            kinds,
            state: last_given("state", &fields.state, |state| {
                RecordState::parse(state).ok_or_else(|| bad(format!("状态 {state} 无效")))
            })?,
            enterprise: last_given("enterprise", &fields.enterprise, text)?,
            with_hazards: last_given("hazards", &fields.hazards, |v| Ok(v == "1"))?
                .unwrap_or(false),
            page: last_given("page", &fields.page, |page| {
                page.parse()
                    .ok()
                    .filter(|p| *p >= 1)
                    .ok_or_else(|| bad("页码应为从 1 开始的整数".into()))
            })?
            .unwrap_or(1),
        };
        if let (Some(from), Some(until)) = (query.from, query.until)
            && from > until
        {
            return Err(bad(format!("起始日期 {from} 晚于截止日期 {until}")));
        }
        Ok(query)
    }

    /// The query string of the same filter on another page.
    fn with_page(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(from) = self.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(until) = self.until {
            pairs.push(("until", until.to_string()));
        }
        if let Some(region) = &self.region {
            pairs.push(("region", region.clone()));
        }
        if let Some(industry) = &self.industry {
            pairs.push(("industry", industry.clone()));
        }
        for kind in &self.kinds {
            pairs.push(("kind", kind.clone()));
        }
        if let Some(state) = self.state {
            pairs.push(("state", state_key(state).into()));
        }
        if let Some(enterprise) = &self.enterprise {
            pairs.push(("enterprise", enterprise.clone()));
        }
        if self.with_hazards {
            pairs.push(("hazards", "1".into()));
        }
        pairs.push(("page", page.to_string()));
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The store's filter: dates are China days, a region stands for its whole subtree.
    fn filter(&self, regions: &[Region]) -> RecordFilter {
        RecordFilter {
            started_from: self.from.and_then(china_midnight),
            started_before: self
                .until
                .and_then(|d| d.succ_opt())
                .and_then(china_midnight),
            regions: self.region.as_ref().map(|root| {
                let mut codes: Vec<String> = descendants(root, regions).into_iter().collect();
                codes.sort();
                codes
            }),
            industry: self.industry.clone(),
            inspection_kinds: self.kinds.clone(),
            state: self.state,
            enterprise: self.enterprise.clone(),
            with_hazards: self.with_hazards,
        }
    }
}

fn state_key(state: RecordState) -> &'static str {
    match state {
        RecordState::Draft => "draft",
        RecordState::Submitted => "submitted",
        RecordState::Locked => "locked",
    }
}

struct Listing {
    rows: Vec<RecordRow>,
    more: bool,
    region_names: HashMap<String, String>,
    /// The regions the account may filter by: its own and those under it.
    region_choices: Vec<Region>,
    scope_name: String,
}

/// The instant a China day begins.
fn china_midnight(date: NaiveDate) -> Option<chrono::DateTime<Utc>> {
    date.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(china()).single())
        .map(|t| t.with_timezone(&Utc))
}

/// A checkbox per inspection kind, the chosen ones ticked.
fn kind_checkboxes(chosen: &[String]) -> Markup {
    html! {
        @for kind in [
            InspectionKind::SelfInspection,
            InspectionKind::Resident,
            InspectionKind::Expert,
            InspectionKind::Enforcement,
        ] {
            label {
                input type="checkbox" name="kind" value=(kind.as_str())
                    checked[chosen.iter().any(|k| k == kind.as_str())];
                " " (kind.label())
            }
            " "
        }
    }
}

/// A date field of a filter form, empty when the filter has none.
fn date_input(name: &str, value: Option<NaiveDate>) -> Markup {
    html! { input type="date" name=(name) value=(value.map_or(String::new(), |d| d.to_string())); }
}

fn filter_form(query: &ListQuery, listing: &Listing) -> Markup {
    html! {
        form class="filters" id="filters" method="get" action="/review/records" {
            label { "起始日期 " (date_input("from", query.from)) }
            label { "截止日期 " (date_input("until", query.until)) }
            label {
                "区划 "
                select name="region" {
                    option value="" { "全部" }
                    @for region in &listing.region_choices {
                        option value=(region.code)
                            selected[query.region.as_deref() == Some(region.code.as_str())] {
                            (region.name)
                        }
                    }
                }
            }
            label {
                "行业 "
                select name="industry" {
                    option value="" { "全部" }
                    @for industry in anjian_core::enterprise::INDUSTRIES {
                        option selected[query.industry.as_deref() == Some(industry)] { (industry) }
                    }
                }
            }
            label {
                "状态 "
                select name="state" {
                    option value="" { "全部" }
                    @for (state, label) in [
                        (RecordState::Draft, "草稿"),
                        (RecordState::Submitted, "已提交未锁定"),
                        (RecordState::Locked, "已锁定"),
                    ] {
                        option value=(state_key(state)) selected[query.state == Some(state)] { (label) }
                    }
                }
            }
            label {
                "企业 "
                input name="enterprise" placeholder="名称或统一社会信用代码"
                    value=(query.enterprise.as_deref().unwrap_or(""));
            }
            fieldset { legend { "检查类型" } (kind_checkboxes(&query.kinds)) }
            label {
                input type="checkbox" name="hazards" value="1" checked[query.with_hazards];
                " 仅看有隐患的"
            }
            button type="submit" { "筛选" } " " a href="/review/records" { "清除" }
        }
    }
}

/// A list's pager: the links to the pages before and after, when there are such pages.
fn pager(page: i64, more: bool, href: impl Fn(i64) -> String) -> Markup {
    html! {
        div class="pager" {
            @if page > 1 { a rel="prev" href=(href(page - 1)) { "上一页" } }
            span { "第 " (page) " 页" }
            @if more { a rel="next" href=(href(page + 1)) { "下一页" } }
        }
    }
}

async fn records(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = ListQuery::parse(raw.as_deref())?;
    let page = query.page;
    let user = caller.user.clone();
    let for_store = query.clone();
    let listing = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions);
            let filter = for_store.filter(&regions);
            // One more row than shown tells whether there is a next page.
            let mut rows = store.list_records(
                &scope.records(),
                &filter,
                PAGE_SIZE + 1,
                (page - 1) * PAGE_SIZE,
            )?;
            let more = rows.len() as i64 > PAGE_SIZE;
            rows.truncate(PAGE_SIZE as usize);
            let region_choices = match &scope {
                Scope::All => regions.clone(),
                Scope::Regions(codes) => regions
                    .iter()
                    .filter(|r| codes.contains(&r.code))
                    .cloned()
                    .collect(),
                Scope::Enterprise(_) => Vec::new(),
            };
            let region_names: HashMap<String, String> =
                regions.into_iter().map(|r| (r.code, r.name)).collect();
            let scope_name = region_names
                .get(&user.scope)
                .cloned()
                .unwrap_or_else(|| user.scope.clone());
            Ok(Listing {
                rows,
                more,
                region_names,
                region_choices,
                scope_name,
            })
        })
        .await?;

    let body = html! {
        h1 { "检查记录" }
        p { "范围：" (listing.scope_name) "。每页 " (PAGE_SIZE) " 条，按检查时间从新到旧。" }
        (filter_form(&query, &listing))
        @if listing.rows.is_empty() {
            p class="message" id="no-records" { "没有符合条件的检查记录。" }
        } @else {
            (page::scrolling(html! {
                table id="records" {
                    thead {
                        tr {
                            th { "检查时间" } th { "被检查单位" } th { "区划" }
                            th { "检查类型" } th { "状态" } th { "隐患" }
                        }
                    }
                    tbody { @for row in &listing.rows { (record_row(row, &listing.region_names)) } }
                }
            }))
        }
        (pager(page, listing.more, |page| format!("/review/records?{}", query.with_page(page))))
    };
    Ok(Page::new("检查记录")
        .body(body)
        .html(Some(&caller))
        .into_response())
}

fn record_row(row: &RecordRow, region_names: &HashMap<String, String>) -> Markup {
    let region = region_names
        .get(&row.region_code)
        .map_or(row.region_code.as_str(), String::as_str);
    html! {
        tr data-record=(row.id) {
            td class="nowrap" { (datetime(row.started_at)) }
            td { a href={ "/review/records/" (row.id) } { (row.enterprise_name) } }
            td { (region) }
            td { (kind_label(&row.inspection_kind)) }
            td {
                @if row.locked {
                    span class="badge locked" { "已锁定" }
                } @else if row.status == "submitted" {
                    span class="badge" { "已提交" }
                } @else {
                    span class="badge draft" { "草稿" }
                }
            }
            td class="num" { (row.hazard_count) }
        }
    }
}

struct RecordDetail {
    record: Record,
    lock: Option<Receipt>,
    receipt_problem: Option<String>,
    amends: Option<String>,
    amendments: Vec<String>,
    late_changes: usize,
    item_texts: HashMap<String, String>,
    /// The checklist's title at the record's version, when the server has that version.
    template_title: Option<String>,
    region_name: String,
}

async fn record_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let user = caller.user.clone();
    let detail = state
        .run(move |state| {
            let store = state.store.as_ref();
            let hidden = || AppError::not_found(format!("未找到记录 {id}，或您无权查看"));
            let stored = store.record(&id)?.ok_or_else(hidden)?;
            let regions = store.regions()?;
            if !Scope::of(&user, &regions).may_read(&stored) {
                return Err(hidden());
            }
            let record = RecordDoc::load(&id, &stored.doc, &[], "server")
                .and_then(|mut doc| doc.read())
                .map_err(|e| AppError::internal("stored record", e))?;
            let template = state.template(&record.template_id, record.template_version)?;
            let item_texts = template
                .as_ref()
                .map(|t| {
                    t.items
                        .iter()
                        .map(|i| (i.code.clone(), i.text.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let template_title = template.map(|t| t.title.clone());
            let receipt_problem = stored.lock.as_ref().and_then(|receipt| {
                receipt
                    .verify_for(state.known_keys(), &record.heads)
                    .err()
                    .map(|problem| problem.to_string())
            });
            let region_name = regions
                .iter()
                .find(|r| r.code == stored.region_code)
                .map_or(stored.region_code.clone(), |r| r.name.clone());
            Ok(RecordDetail {
                late_changes: store.quarantined(&id)?.len(),
                amendments: store.amendments_of(&id)?,
                amends: stored.amends.clone(),
                lock: stored.lock.clone(),
                receipt_problem,
                item_texts,
                template_title,
                region_name,
                record,
            })
        })
        .await?;
    let body = page::record_body(&detail);
    let title = format!(
        "{} {}",
        detail.record.enterprise.name,
        kind_label(detail.record.inspection_kind.as_str())
    );
    Ok(Page::new(&title)
        .body(body)
        .html(Some(&caller))
        .into_response())
}

fn parse_doc_type(text: &str) -> AppResult<DocType> {
    DocType::parse(text).ok_or_else(|| {
        AppError::not_found(format!(
            "文书类型 {text} 无效：应为 record、order 或 reinspection"
        ))
    })
}

async fn document_html(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    Path((id, doc_type)): Path<(String, String)>,
) -> PageResult<Response> {
    let doc_type = parse_doc_type(&doc_type)?;
    let html = state
        .run(move |state| {
            let document = crate::documents::readable_document(state, &caller.user, &id, doc_type)?;
            Ok(anjian_core::document::html::render(&document))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The document page carries its own print styles.
            (
                header::CONTENT_SECURITY_POLICY,
                crate::documents::DOCUMENT_CSP,
            ),
        ],
        html,
    )
        .into_response())
}

async fn document_pdf(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    Path((id, doc_type)): Path<(String, String)>,
) -> PageResult<Response> {
    let doc_type = parse_doc_type(&doc_type)?;
    let (number, pdf) = state
        .run(move |state| {
            let document = crate::documents::readable_document(state, &caller.user, &id, doc_type)?;
            let pdf = anjian_core::document::pdf::render(&document, None)
                .map_err(|e| AppError::internal("pdf", e))?;
            Ok((document.number.clone(), pdf))
        })
        .await?;
    Ok(analyses::download(
        pdf,
        "application/pdf",
        &format!("{}{}", doc_type.title(), number),
        doc_type.as_str(),
        "pdf",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_this_site_are_places_to_return_to() {
        assert_eq!(safe_next(Some("/review/records/1")), "/review/records/1");
        for bad in [
            "https://evil.example/",
            "//evil.example/review/",
            "/api/v1/records",
            "/review/\\evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/review/records", "{bad}");
        }
        assert_eq!(safe_next(None), "/review/records");
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; anjian_session=abc123; lang=zh"),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("abc123"));
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("anjian_session="));
        assert_eq!(session_token(&empty), None);
    }

    #[test]
    fn the_list_query_reads_repeated_kinds_and_refuses_what_it_cannot_use() {
        let query = ListQuery::parse(Some(
            "from=2026-01-01&until=2026-03-31&region=370302&kind=self&kind=expert&kind=self\
             &state=locked&enterprise=%E9%BD%90%E6%9E%97+%E7%94%B5%E5%8A%9B&hazards=1&page=3&x=y",
        ))
        .expect("a valid query");
        assert_eq!(query.kinds, ["self", "expert"]);
        assert_eq!(query.enterprise.as_deref(), Some("齐林 电力"));
        assert_eq!(query.state, Some(RecordState::Locked));
        assert!(query.with_hazards);
        assert_eq!(query.page, 3);
        // The pager keeps the filter.
        let again = ListQuery::parse(Some(&query.with_page(4))).expect("round trip");
        assert_eq!(again, ListQuery { page: 4, ..query });
        // Empty fields are no filter.
        assert_eq!(
            ListQuery::parse(Some("from=&kind=&page=")).expect("empty"),
            ListQuery {
                page: 1,
                ..ListQuery::default()
            }
        );
        for bad in [
            "from=2026-02-30",
            "from=2026-03-01&until=2026-02-01",
            "kind=audit",
            "state=gone",
            "page=0",
            "page=x",
            "enterprise=%E9%BD",
        ] {
            let problem = ListQuery::parse(Some(bad)).expect_err(bad);
            assert_eq!(problem.status, StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn a_repeated_field_counts_with_its_last_given_value() {
        let query = ListQuery::parse(Some(
            "page=2&page=3&region=370302&region=&state=draft&state=locked",
        ))
        .expect("valid");
        assert_eq!(query.page, 3);
        assert_eq!(query.region.as_deref(), Some("370302"));
        assert_eq!(query.state, Some(RecordState::Locked));
    }

    #[test]
    fn a_day_filter_covers_the_whole_china_day() {
        let query = ListQuery::parse(Some("from=2026-03-01&until=2026-03-01")).expect("valid");
        let filter = query.filter(&[]);
        let from = filter.started_from.expect("from");
        let before = filter.started_before.expect("until");
        assert_eq!(from.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        assert_eq!(before - from, chrono::Duration::days(1));
    }

    #[test]
    fn file_names_are_percent_encoded_as_utf8() {
        assert_eq!(url_encode("a b/阿"), "a%20b/%E9%98%BF");
    }
}
