//! The analyses as JSON for a bearer token, `{"tables": […]}`, built by the same functions
//! as the review pages' tables and exports, so the API, the pages and the files agree. Any
//! `format` asked for is ignored: the API answers JSON only.

use axum::extract::RawQuery;
use axum::response::Response;

use crate::auth::Caller;
use crate::error::AppResult;
use crate::extract::refuse_empty_values;
use crate::review::ListQuery;
use crate::review::analyses::{attendance_analysis, json_tables};

use super::State;

/// `GET /api/v1/analyses/attendance`
pub(super) async fn attendance(
    state: State,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    refuse_empty_values(raw.as_deref())?;
    let query = ListQuery::parse(raw.as_deref())?;
    let analysis = attendance_analysis(&state, &caller.user, &query).await?;
    Ok(json_tables(&[&analysis.table]))
}
