//! The analyses as JSON for a bearer token, `{"tables": […]}`, built by the same functions
//! as the review pages' tables and exports, so the API, the pages and the files agree. Any
//! `format` asked for is ignored: the API answers JSON only.

use axum::Json;
use axum::extract::RawQuery;
use axum::response::Response;
use chrono::Utc;

use anjian_core::time::china_date;

use crate::auth::Caller;
use crate::error::AppResult;
use crate::extract::refuse_empty_values;
use crate::report::Table;
use crate::review::ListQuery;
use crate::review::analyses::{
    SelfQuery, attendance_analysis, hazard_analysis, hotline_grouping, json_tables,
    public_analysis, self_inspection_analysis, self_inspection_json,
};
use crate::review::qualifications::{certificate_analysis, permit_analysis};
use crate::review::towns::{coverage_analysis, grading_analysis};
use crate::review::tracking::{TrackingQuery, hazard_tracking, tracking_json};

use super::State;

/// `GET /api/v1/analyses/attendance`
pub(super) async fn attendance(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let query = record_filter(raw.as_deref())?;
    let analysis = attendance_analysis(&state, &caller.user, &query).await?;
    Ok(json_tables(&[&analysis.table]))
}

/// `GET /api/v1/analyses/hazards`: the one table itself, the page's own `format` read as the
/// page reads it.
pub(super) async fn hazards(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Table>> {
    refuse_empty_values(raw.as_deref())?;
    let analysis = hazard_analysis(&state, &caller.user, raw.as_deref()).await?;
    Ok(Json(analysis.table))
}

/// `GET /api/v1/analyses/self-inspections`: a page of the late and missing list (`limit`,
/// `offset`), then the per-month summary.
pub(super) async fn self_inspections(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    refuse_empty_values(raw.as_deref())?;
    let today = china_date(Utc::now());
    let query = SelfQuery::parse_for_api(raw.as_deref(), today)?;
    let report = self_inspection_analysis(&state, &caller.user, query, today).await?;
    Ok(self_inspection_json(&report))
}

/// `GET /api/v1/analyses/public`: the hotline, then the mailbox.
pub(super) async fn public(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let query = record_filter(raw.as_deref())?;
    let by = hotline_grouping(raw.as_deref())?;
    let analysis = public_analysis(&state, &caller.user, &query, by).await?;
    Ok(json_tables(&[&analysis.hotline, &analysis.mailbox]))
}

/// `GET /api/v1/analyses/coverage`
pub(super) async fn coverage(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let query = record_filter(raw.as_deref())?;
    let analysis = coverage_analysis(&state, &caller.user, &query, raw.as_deref()).await?;
    Ok(json_tables(&[&analysis.table]))
}

/// `GET /api/v1/analyses/grading`: the grades, then each score's breakdown.
pub(super) async fn grading(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let query = record_filter(raw.as_deref())?;
    let analysis = grading_analysis(&state, &caller.user, &query).await?;
    Ok(json_tables(&[&analysis.table, &analysis.breakdown]))
}

/// `GET /api/v1/analyses/certificates`
pub(super) async fn certificates(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    refuse_empty_values(raw.as_deref())?;
    let (table, _) = certificate_analysis(&state, &caller.user, raw.as_deref()).await?;
    Ok(json_tables(&[&table]))
}

/// `GET /api/v1/analyses/permits`
pub(super) async fn permits(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    refuse_empty_values(raw.as_deref())?;
    let table = permit_analysis(&state, &caller.user).await?;
    Ok(json_tables(&[&table]))
}

/// `GET /api/v1/hazards`: a page of the hazards to act on (`limit`, `offset`), then a page
/// of the summary (`summary_limit`, `summary_offset`).
pub(super) async fn hazard_list(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    refuse_empty_values(raw.as_deref())?;
    let query = TrackingQuery::parse_for_api(raw.as_deref())?;
    let tracking = hazard_tracking(&state, &caller.user, query).await?;
    Ok(tracking_json(&tracking))
}

/// The record filter an analysis's query string carries. An empty value is refused, as
/// everywhere in the API, rather than read as "not given".
fn record_filter(raw: Option<&str>) -> AppResult<ListQuery> {
    refuse_empty_values(raw)?;
    ListQuery::parse(raw)
}
