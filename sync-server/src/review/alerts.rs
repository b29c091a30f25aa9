//! 物联网警报: the alerts the IoT rules raised for the enterprises in the caller's scope,
//! newest first, each with what it rests on (for rain, the event's readings).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::page::{Page, datetime};
use super::{PAGE_SIZE, PageResult, Session};
use crate::auth::Scope;
use crate::error::AppError;
use crate::report::escape;
use crate::state::AppState;
use crate::store::iot::Alert;

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
    let mut body = format!(
        "<h1>物联网警报</h1><p class=\"note\">本辖区企业的设备触发的警报，最新的在前；共 <span id=\"alert-total\">{total}</span> 条。\
         停产撤人警报须经现场核查、按规定程序确认后方可恢复生产。</p>"
    );
    if alerts.is_empty() {
        body.push_str("<p class=\"empty\">没有警报。</p>");
    } else {
        body.push_str(
            "<table class=\"list\" id=\"alerts\"><thead><tr><th>发出时间</th><th>企业</th><th>类别</th>\
             <th>警报</th><th>设备</th><th>发生时间</th><th>确认</th></tr></thead><tbody>",
        );
        let may_acknowledge = crate::intake::may_acknowledge(caller.user.role);
        for alert in &alerts {
            body.push_str(&row(alert, may_acknowledge, page));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<div class=\"pager\">");
    if page > 1 {
        body.push_str(&format!(
            "<a rel=\"prev\" href=\"/review/alerts?page={}\">上一页</a>",
            page - 1
        ));
    }
    body.push_str(&format!("<span>第 {page} 页</span>"));
    if page * PAGE_SIZE < total {
        body.push_str(&format!(
            "<a rel=\"next\" href=\"/review/alerts?page={}\">下一页</a>",
            page + 1
        ));
    }
    body.push_str("</div>");
    Ok(Page::new("物联网警报")
        .body(body)
        .html(Some(&caller))
        .into_response())
}

/// Acknowledges an alert from the page, then shows the page it was on.
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    Session(caller): Session,
    Path(alert_id): Path<String>,
    Query(query): Query<AlertsQuery>,
) -> PageResult<Response> {
    crate::intake::acknowledge(&state, &caller, alert_id).await?;
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    Ok(Redirect::to(&format!("/review/alerts?page={page}")).into_response())
}

fn acknowledgement(alert: &Alert, may_acknowledge: bool, page: i64) -> String {
    match (&alert.acknowledged_at, &alert.acknowledged_by) {
        (Some(at), by) => format!(
            "<span class=\"badge locked\">已确认</span> {} {}",
            escape(by.as_deref().unwrap_or("")),
            datetime(*at)
        ),
        (None, _) if may_acknowledge => format!(
            "<form method=\"post\" action=\"/review/alerts/{}/acknowledge?page={page}\">\
             <button type=\"submit\">确认已核查</button></form>",
            escape(&urlencode(&alert.alert_id))
        ),
        (None, _) => "<span class=\"badge draft\">未确认</span>".into(),
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

fn row(alert: &Alert, may_acknowledge: bool, page: i64) -> String {
    let readings = alert.detail["readings"].as_array().map(|readings| {
        let rows: String = readings
            .iter()
            .map(|r| {
                let at = r["t"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| datetime(t.with_timezone(&chrono::Utc)))
                    .unwrap_or_default();
                format!(
                    "<tr><td>{at}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    r["interval_s"].as_i64().unwrap_or(0),
                    escape(r["rain_mm"].as_str().unwrap_or(""))
                )
            })
            .collect();
        format!(
            "<details><summary>降雨过程的 {} 次读数（累计 {} 毫米）</summary>\
             <table class=\"readings\"><thead><tr><th>时间</th><th>时长（秒）</th><th>雨量（毫米）</th></tr></thead>\
             <tbody>{rows}</tbody></table></details>",
            readings.len(),
            escape(alert.detail["total_mm"].as_str().unwrap_or(""))
        )
    });
    format!(
        "<tr data-alert=\"{id}\"><td>{raised}</td>\
         <td><a href=\"/review/enterprises/{code}\">{name}</a></td><td>{rule}</td>\
         <td>{title}{readings}</td><td>{device}</td><td>{occurred}</td><td>{acknowledged}</td></tr>",
        id = escape(&alert.alert_id),
        raised = datetime(alert.raised_at),
        code = escape(&alert.credit_code),
        name = escape(&alert.enterprise_name),
        rule = alert.rule.label(),
        title = escape(&alert.title),
        readings = readings.unwrap_or_default(),
        device = escape(alert.device_id.as_deref().unwrap_or("")),
        occurred = datetime(alert.occurred_at),
        acknowledged = acknowledgement(alert, may_acknowledge, page),
    )
}
