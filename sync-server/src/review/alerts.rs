//! 物联网警报: the alerts the IoT rules raised for the enterprises in the caller's scope,
//! newest first, each with what it rests on (for rain, the event's readings).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::csrf::{form_token, hidden_input};
use super::page::{Page, datetime, scrolling};
use super::{PAGE_SIZE, PageResult, Session, pager};
use crate::auth::Scope;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::iot::{Alert, AlertRule};

#[derive(Debug, Deserialize)]
pub(super) struct AlertsQuery {
    page: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Session(caller): Session,
    Query(query): Query<AlertsQuery>,
) -> PageResult<Response> {
    let page = match query.page.as_deref() {
        None | Some("") => 1,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| AppError::bad_request("invalid_query", format!("页码 {text} 无效")))?,
    };
    let user = caller.user.clone();
    let (alerts, total) = state
        .blocking(move |store| {
            let scope = Scope::of(&user, &store.regions()?).records();
            store.alerts(&scope, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        })
        .await?;
    // Only those who may acknowledge get the form, and its token.
    let token =
        crate::follow_up::may_acknowledge(caller.user.role).then(|| form_token(&caller.token_hash));
    let body = html! {
        h1 { "物联网警报" }
        p class="note" {
            "本辖区企业的设备触发的警报，最新的在前；共 " span id="alert-total" { (total) } " 条。"
            "停产撤人警报须经现场核查、按规定程序确认后方可恢复生产。"
        }
        @if alerts.is_empty() {
            p class="empty" { "没有警报。" }
        } @else {
            (scrolling(html! {
                table class="list" id="alerts" {
                    thead {
                        tr {
                            th { "发出时间" } th { "企业" } th { "类别" } th { "警报" }
                            th { "设备" } th { "发生时间" } th { "确认" }
                        }
                    }
                    tbody { @for alert in &alerts { (row(alert, token.as_deref(), page)) } }
                }
            }))
        }
        (pager(page, page * PAGE_SIZE < total, |page| format!("/review/alerts?page={page}")))
    };
    Ok(Page::new("物联网警报")
        .body(body)
        .html(Some(&caller))
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct AcknowledgeForm {
    /// The ticked box that says the alert was checked on site.
    confirm: Option<String>,
}

/// Acknowledges an alert from the page, then shows the page it was on. Acknowledging silences
/// an alert (a 停产撤人 alert stops re-alarming), so the form's box saying it was checked must
/// be ticked: a stray click on the button alone does nothing.
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(alert_id): Path<String>,
    Query(query): Query<AlertsQuery>,
    form: Result<Form<AcknowledgeForm>, FormRejection>,
) -> PageResult<Response> {
    let confirmed = form.is_ok_and(|Form(form)| form.confirm.as_deref() == Some(CONFIRMED));
    if !confirmed {
        return Err(AppError::bad_request(
            "not_confirmed",
            "确认警报前须勾选“已现场核查”：警报确认后不再重复报警",
        )
        .into());
    }
    crate::follow_up::acknowledge(&state, &caller, alert_id).await?;
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    Ok(Redirect::to(&format!("/review/alerts?page={page}")).into_response())
}

/// The value of the ticked confirmation box.
const CONFIRMED: &str = "checked-on-site";

fn acknowledgement(alert: &Alert, token: Option<&str>, page: i64) -> Markup {
    match (&alert.acknowledged_at, token) {
        (Some(at), _) => html! {
            span class="badge locked" { "已确认" }
            " " (alert.acknowledged_by.as_deref().unwrap_or("")) " " (datetime(*at))
        },
        (None, Some(token)) => {
            let check = match alert.rule {
                AlertRule::RainStop | AlertRule::StillUnderground => {
                    "已现场核查：井下人员已全部撤出，停产撤人已落实"
                }
                _ => "已现场核查此警报",
            };
            let action = format!(
                "/review/alerts/{}/acknowledge?page={page}",
                urlencode(&alert.alert_id)
            );
            html! {
                form class="acknowledge" method="post" action=(action) {
                    (hidden_input(token))
                    label {
                        input type="checkbox" name="confirm" value=(CONFIRMED) required;
                        " " (check)
                    }
                    button type="submit" { "确认已核查" }
                }
            }
        }
        (None, None) => html! { span class="badge draft" { "未确认" } },
    }
}

/// A path segment as a URL carries it.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn row(alert: &Alert, token: Option<&str>, page: i64) -> Markup {
    html! {
        tr data-alert=(alert.alert_id) {
            td class="nowrap" { (datetime(alert.raised_at)) }
            td { a href={ "/review/enterprises/" (alert.credit_code) } { (alert.enterprise_name) } }
            td { (alert.rule.label()) }
            td {
                (alert.title)
                @if let Some(readings) = alert.detail["readings"].as_array() {
                    (rain_readings(readings, alert.detail["total_mm"].as_str().unwrap_or("")))
                }
            }
            td class="mono" { (alert.device_id.as_deref().unwrap_or("")) }
            td class="nowrap" { (datetime(alert.occurred_at)) }
            td { (acknowledgement(alert, token, page)) }
        }
    }
}

/// The readings a rain alert rests on, folded away under their count and total.
fn rain_readings(readings: &[serde_json::Value], total_mm: &str) -> Markup {
    html! {
        details {
            summary { "降雨过程的 " (readings.len()) " 次读数（累计 " (total_mm) " 毫米）" }
            (scrolling(html! {
                table class="readings" {
                    thead { tr { th { "时间" } th { "时长（秒）" } th { "雨量（毫米）" } } }
                    tbody {
                        @for reading in readings {
                            @let at = reading["t"]
                                .as_str()
                                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                                .map(|t| datetime(t.with_timezone(&chrono::Utc)))
                                .unwrap_or_default();
                            tr {
                                td class="nowrap" { (at) }
                                td class="num" { (reading["interval_s"].as_i64().unwrap_or(0)) }
                                td class="num" { (reading["rain_mm"].as_str().unwrap_or("")) }
                            }
                        }
                    }
                }
            }))
        }
    }
}
