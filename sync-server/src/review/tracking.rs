//! Hazard tracking: every hazard of the submitted inspections in scope, as it stands today —
//! rectified (a re-inspection found it so), overdue (its deadline has passed), due soon
//! (within a week), or open — by enterprise or by town, with the list to act on.

use std::collections::HashMap;

use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, Utc};
use maud::{Markup, html};

use anjian_core::time::china_date;

use super::analyses::{AnalysisFields, chart, export, export_links, table_html};
use super::page::{Page, datetime, kind_label, scrolling};
use super::{API_LIMIT_MAX, LIST_LIMIT, PageResult, Session, parse_count};
use crate::auth::Scope;
use crate::error::AppError;
use crate::report::{Cell, Column, Table, svg};
use crate::state::AppState;
use crate::store::standings::{OpenStanding, TallyLevel};
use crate::store::{HazardStatusRow, HazardTally, User};

/// A deadline this close counts as due soon.
const DUE_SOON_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Standing {
    Overdue,
    DueSoon,
    Open,
    Rectified,
}

impl Standing {
    const ALL: [Standing; 4] = [
        Standing::Overdue,
        Standing::DueSoon,
        Standing::Open,
        Standing::Rectified,
    ];

    fn of(hazard: &HazardStatusRow, today: NaiveDate) -> Standing {
        match (hazard.rectified_at, hazard.deadline) {
            (Some(_), _) => Standing::Rectified,
            (None, Some(deadline)) if deadline < today => Standing::Overdue,
            (None, Some(deadline)) if (deadline - today).num_days() <= DUE_SOON_DAYS => {
                Standing::DueSoon
            }
            _ => Standing::Open,
        }
    }

    fn key(self) -> &'static str {
        match self {
            Standing::Overdue => "overdue",
            Standing::DueSoon => "due",
            Standing::Open => "open",
            Standing::Rectified => "rectified",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Standing::Overdue => "已逾期",
            Standing::DueSoon => "7 日内到期",
            Standing::Open => "整改中",
            Standing::Rectified => "已整改",
        }
    }
}

/// The summary's rows, most overdue first; a town is named from the region list.
fn summary_table(tallies: &[HazardTally], by_town: bool, names: &HashMap<String, String>) -> Table {
    let mut columns = vec![
        Column::new(
            "code",
            if by_town {
                "区划代码"
            } else {
                "统一社会信用代码"
            },
        ),
        Column::new(
            "name",
            if by_town {
                "乡镇（街道）"
            } else {
                "单位名称"
            },
        ),
    ];
    for standing in Standing::ALL {
        columns.push(Column::new(standing.key(), standing.label()));
    }
    columns.push(Column::new("total", "隐患合计"));
    columns.push(Column::new("rectification_rate", "整改率"));
    let mut table = Table::new(
        format!(
            "隐患整改跟踪（按{}）",
            if by_town { "乡镇" } else { "企业" }
        ),
        columns,
    );
    for tally in tallies {
        let counts = standing_counts(tally);
        let name = match names.get(&tally.code) {
            Some(name) if by_town => name.clone(),
            _ => tally.name.clone(),
        };
        let mut row = vec![Cell::Text(tally.code.clone()), Cell::Text(name)];
        row.extend(counts.iter().map(|n| Cell::Int(*n)));
        row.push(Cell::Int(tally.found));
        row.push(Cell::Percent(tally.rectified as f64 / tally.found as f64));
        table.rows.push(row);
    }
    table
}

/// A tally's hazards in the order of [`Standing::ALL`].
fn standing_counts(tally: &HazardTally) -> [i64; 4] {
    let open = tally.found - tally.rectified - tally.overdue - tally.due_soon;
    [tally.overdue, tally.due_soon, open, tally.rectified]
}

fn list_table(hazards: &[(HazardStatusRow, Standing)]) -> Table {
    let mut table = Table::new(
        "隐患清单",
        vec![
            Column::new("standing", "状态"),
            Column::new("deadline", "整改期限"),
            Column::new("enterprise", "单位名称"),
            Column::new("credit_code", "统一社会信用代码"),
            Column::new("item", "检查项"),
            Column::new("description", "隐患"),
            Column::new("class", "等级"),
            Column::new("kind", "检查类型"),
            Column::new("record", "检查记录"),
            Column::new("rectified", "复查确认整改日期"),
        ],
    );
    for (hazard, standing) in hazards {
        table.rows.push(vec![
            Cell::Text(standing.label().into()),
            hazard.deadline.map_or(Cell::Empty, Cell::Date),
            Cell::Text(hazard.enterprise_name.clone()),
            Cell::Text(hazard.enterprise_code.clone()),
            Cell::Text(hazard.item.clone()),
            Cell::Text(hazard.description.clone()),
            Cell::Text(hazard.class.clone()),
            Cell::Text(kind_label(&hazard.inspection_kind).into()),
            Cell::Text(hazard.record_id.clone()),
            hazard
                .rectified_at
                .map_or(Cell::Empty, |at| Cell::Date(china_date(at))),
        ]);
    }
    table
}

impl Standing {
    fn open(self) -> Option<OpenStanding> {
        match self {
            Standing::Overdue => Some(OpenStanding::Overdue),
            Standing::DueSoon => Some(OpenStanding::DueSoon),
            Standing::Open => Some(OpenStanding::Open),
            Standing::Rectified => None,
        }
    }
}

/// What a hazard tracking query asks for: the summary by town or by enterprise, the list's
/// standing, and the pages of both (`limit`, `offset`; `summary_limit`, `summary_offset`).
pub(crate) struct TrackingQuery {
    by_town: bool,
    wanted: Option<Standing>,
    format: Option<&'static str>,
    limit: i64,
    offset: i64,
    summary_limit: i64,
    summary_offset: i64,
}

impl TrackingQuery {
    /// The page's query: `format` asks for an export (or the JSON pages of the lists).
    fn parse(raw: Option<&str>) -> Result<TrackingQuery, AppError> {
        TrackingQuery::read(raw, false)
    }

    /// The API's query: JSON whatever `format` says, so `format` is not read at all.
    pub(crate) fn parse_for_api(raw: Option<&str>) -> Result<TrackingQuery, AppError> {
        TrackingQuery::read(raw, true)
    }

    fn read(raw: Option<&str>, api: bool) -> Result<TrackingQuery, AppError> {
        let mut query = TrackingQuery {
            by_town: false,
            wanted: None,
            format: api.then_some("json"),
            limit: LIST_LIMIT,
            offset: 0,
            summary_limit: LIST_LIMIT,
            summary_offset: 0,
        };
        let fields = AnalysisFields::read(raw)?;
        let unknown =
            |other: &str| AppError::bad_request("invalid_query", format!("参数值 {other} 无效"));
        for value in &fields.by {
            query.by_town = match value.as_str() {
                "town" => true,
                "enterprise" => query.by_town,
                other => return Err(unknown(other)),
            };
        }
        for value in fields.state.iter().filter(|v| !v.is_empty()) {
            query.wanted = Some(
                Standing::ALL
                    .into_iter()
                    .find(|s| s.key() == value)
                    .ok_or_else(|| {
                        AppError::bad_request("invalid_query", format!("状态 {value} 无效"))
                    })?,
            );
        }
        for value in &fields.limit {
            query.limit = parse_count("limit", value, API_LIMIT_MAX)?;
        }
        for value in &fields.offset {
            query.offset = parse_count("offset", value, i64::MAX)?;
        }
        for value in &fields.summary_limit {
            query.summary_limit = parse_count("summary_limit", value, API_LIMIT_MAX)?;
        }
        for value in &fields.summary_offset {
            query.summary_offset = parse_count("summary_offset", value, i64::MAX)?;
        }
        if !api {
            for value in &fields.format {
                query.format = Some(match value.as_str() {
                    "csv" => "csv",
                    "xlsx" => "xlsx",
                    "json" => "json",
                    other => return Err(unknown(other)),
                });
            }
        }
        // The page shows the first rows, the API a page of them, the files every one.
        match query.format {
            Some("json") => {}
            Some(_) => {
                (query.limit, query.offset) = (-1, 0);
                (query.summary_limit, query.summary_offset) = (-1, 0);
            }
            None => {
                (query.limit, query.offset) = (LIST_LIMIT, 0);
                (query.summary_limit, query.summary_offset) = (LIST_LIMIT, 0);
            }
        }
        Ok(query)
    }
}

/// The hazards in the user's scope as they stand today: the summary and the list to act on,
/// each the page the query asks for. The page, its exports and the JSON API
/// (`GET /api/v1/hazards`) all come from here.
pub(crate) struct Tracking {
    query: TrackingQuery,
    today: NaiveDate,
    summary: Table,
    list: Table,
    listed: Vec<(HazardStatusRow, Standing)>,
    /// In the order of `Standing::ALL`, over the whole scope.
    totals: [i64; 4],
    listed_total: i64,
    /// How many enterprises or towns the whole summary has.
    groups: usize,
}

pub(crate) async fn hazard_tracking(
    state: &AppState,
    user: &User,
    query: TrackingQuery,
) -> Result<Tracking, AppError> {
    let TrackingQuery {
        by_town,
        wanted,
        limit,
        offset,
        summary_limit,
        summary_offset,
        ..
    } = query;
    let today = china_date(Utc::now());
    let soon = today + Duration::days(DUE_SOON_DAYS);
    let user = user.clone();
    let level = if by_town {
        TallyLevel::Region
    } else {
        TallyLevel::Enterprise
    };
    let (tallies, rows, names) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions).records();
            let tallies =
                store.hazard_tallies(&scope, level, today, soon, summary_limit, summary_offset)?;
            let rows = match wanted {
                Some(Standing::Rectified) => store.rectified_hazards(&scope, limit, offset)?,
                other => store.open_hazards(
                    &scope,
                    other.and_then(Standing::open),
                    today,
                    soon,
                    limit,
                    offset,
                )?,
            };
            let names: HashMap<String, String> =
                regions.into_iter().map(|r| (r.code, r.name)).collect();
            Ok((tallies, rows, names))
        })
        .await?;
    let listed: Vec<(HazardStatusRow, Standing)> = rows
        .into_iter()
        .map(|h| {
            let standing = Standing::of(&h, today);
            (h, standing)
        })
        .collect();
    let totals = standing_counts(&tallies.sum);
    let summary = summary_table(&tallies.page, by_town, &names);
    let list = list_table(&listed);
    let listed_total: i64 = match wanted {
        Some(standing) => {
            totals[Standing::ALL
                .iter()
                .position(|s| *s == standing)
                .unwrap_or(0)]
        }
        None => totals[..3].iter().sum(),
    };
    Ok(Tracking {
        query,
        today,
        summary,
        list,
        listed,
        totals,
        listed_total,
        groups: tallies.groups,
    })
}

/// Hazard tracking as JSON: the page of the list and of the summary asked for, and where each
/// page sits in the whole.
pub(crate) fn tracking_json(tracking: &Tracking) -> Response {
    let query = &tracking.query;
    axum::Json(serde_json::json!({
        "tables": [&tracking.list, &tracking.summary],
        "page": { "offset": query.offset, "limit": query.limit, "total": tracking.listed_total },
        "summary_page": {
            "offset": query.summary_offset,
            "limit": query.summary_limit,
            "total": tracking.groups,
        },
    }))
    .into_response()
}

pub(super) async fn hazards(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = TrackingQuery::parse(raw.as_deref())?;
    let tracking = hazard_tracking(&state, &caller.user, query).await?;
    let Tracking {
        query,
        today,
        summary,
        list,
        listed,
        totals,
        listed_total,
        groups,
    } = &tracking;
    let (by_town, wanted, today, listed_total) =
        (query.by_town, query.wanted, *today, *listed_total);
    if query.format == Some("json") {
        return Ok(tracking_json(&tracking));
    }
    if let Some(format) = query.format {
        return Ok(export(
            &[list, summary],
            format,
            "隐患整改跟踪",
            "hazard-tracking",
        )?);
    }
    let totals: Vec<(String, f64)> = Standing::ALL
        .iter()
        .zip(*totals)
        .map(|(s, n)| (s.label().to_string(), n as f64))
        .collect();
    // In the order of `Standing::ALL`.
    let colours = [
        svg::STATE_LATE,
        svg::STATE_SOON,
        svg::STATE_OPEN,
        svg::STATE_DONE,
    ];
    let drawing = svg::pie(
        &totals,
        &svg::Options::donut("隐患整改状态").colours(&colours),
    );
    let confirm_token = crate::follow_up::may_acknowledge(caller.user.role)
        .then(|| super::csrf::form_token(&caller.token_hash));
    let export = format!(
        "/review/hazards?by={}{}&",
        if by_town { "town" } else { "enterprise" },
        wanted.map_or(String::new(), |w| format!("&state={}", w.key()))
    );
    let body = html! {
        h1 { "隐患整改跟踪" }
        form class="filters" id="filters" method="get" action="/review/hazards" {
            fieldset {
                legend { "汇总" }
                label { input type="radio" name="by" value="enterprise" checked[!by_town]; " 按企业" }
                label { input type="radio" name="by" value="town" checked[by_town]; " 按乡镇" }
            }
            label {
                "清单 "
                select name="state" {
                    option value="" { "未整改的全部" }
                    @for standing in Standing::ALL {
                        option value=(standing.key()) selected[wanted == Some(standing)] { (standing.label()) }
                    }
                }
            }
            button type="submit" { "查看" }
        }
        p {
            "截至 " (today.to_string()) "："
            @for (standing, (_, n)) in Standing::ALL.iter().zip(&totals) {
                span class={ "badge state-" (standing.key()) } id={ "count-" (standing.key()) } {
                    (standing.label()) "：" (n.to_string())
                }
                " "
            }
            "。整改以复查记录为准；7 日内到期的单列。"
            (export_links(&export, "清单 CSV", "Excel"))
        }
        (chart(drawing))
        @if *groups as i64 > LIST_LIMIT {
            p { "汇总仅显示逾期最多的前 " (LIST_LIMIT) " 个，共 " (groups) " 个；完整汇总请导出。" }
        }
        (table_html(summary, "hazard-summary"))
        h2 { "清单（" (listed_total) "）" }
        @if listed_total > LIST_LIMIT {
            p { "仅显示前 " (LIST_LIMIT) " 条，共 " (listed_total) " 条；完整清单请导出。" }
        }
        (scrolling(html! {
            table id="hazard-list" {
                thead {
                    tr { th { "状态" } th { "整改期限" } th { "单位名称" } th { "隐患" } th { "等级" } th { "发现" } }
                }
                tbody {
                    @for (hazard, standing) in listed {
                        (list_row(hazard, *standing, confirm_token.as_deref()))
                    }
                }
            }
        }))
    };
    Ok(Page::new("隐患整改跟踪").body(body).html(Some(&caller)))
}

/// A hazard of the list to act on. A hazard an IoT rule found has no record: those who may
/// are offered to confirm it rectified here (`token` is their form token).
fn list_row(hazard: &HazardStatusRow, standing: Standing, token: Option<&str>) -> Markup {
    let key = standing.key();
    html! {
        tr data-state=(key) {
            td { span class={ "badge state-" (key) } { (standing.label()) } }
            td class="nowrap" { (hazard.deadline.map_or("未定".to_string(), |d| d.to_string())) }
            td { a href={ "/review/enterprises/" (hazard.enterprise_code) } { (hazard.enterprise_name) } }
            td { (hazard.description) }
            td { (hazard.class) }
            td class="nowrap" {
                @if hazard.inspection_kind == crate::store::standings::IOT_KIND {
                    (datetime(hazard.found_at)) "（物联网）"
                    @if let (Some(token), false) = (token, standing == Standing::Rectified) {
                        form method="post" action={ "/review/iot-hazards/" (hazard.record_id) "/rectify" } {
                            (super::csrf::hidden_input(token))
                            button type="submit" { "确认已整改" }
                        }
                    }
                } @else {
                    a href={ "/review/records/" (hazard.record_id) } { (datetime(hazard.found_at)) }
                }
            }
        }
    }
}

/// Confirms an IoT hazard rectified from the tracking page, then shows the page again.
pub(super) async fn rectify_iot_hazard(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    axum::extract::Path(hazard_id): axum::extract::Path<String>,
) -> PageResult<Response> {
    crate::follow_up::rectify_iot_hazard(&state, &caller, hazard_id).await?;
    Ok(axum::response::Redirect::to("/review/hazards").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hazard(deadline: Option<&str>, rectified: bool) -> HazardStatusRow {
        HazardStatusRow {
            record_id: "r".into(),
            item: "1".into(),
            description: "d".into(),
            class: "一般".into(),
            deadline: deadline.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date")),
            enterprise_code: "c".into(),
            enterprise_name: "n".into(),
            region_code: "370303007".into(),
            inspection_kind: "enforcement".into(),
            found_at: Utc::now(),
            rectified_at: rectified.then(Utc::now),
        }
    }

    #[test]
    fn a_hazard_stands_rectified_overdue_due_soon_or_open() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
        for (deadline, rectified, expected) in [
            (Some("2026-03-01"), true, Standing::Rectified),
            (Some("2026-03-09"), false, Standing::Overdue),
            (Some("2026-03-10"), false, Standing::DueSoon),
            (Some("2026-03-17"), false, Standing::DueSoon),
            (Some("2026-03-18"), false, Standing::Open),
            (None, false, Standing::Open),
        ] {
            assert_eq!(
                Standing::of(&hazard(deadline, rectified), today),
                expected,
                "{deadline:?}"
            );
        }
    }
}
