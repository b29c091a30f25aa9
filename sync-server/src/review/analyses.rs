//! The analyses pages. Each analysis is one table built from the store's counts, drawn as a
//! chart beside it and exported as CSV and Excel from the same table, so the three cannot
//! disagree.

use std::collections::{BTreeMap, HashMap};

use axum::extract::RawQuery;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use anjian_core::template::InspectionKind;
use anjian_core::time::china_date;
use chrono::{Datelike, NaiveDate, Utc};
use maud::{Markup, PreEscaped, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::page::{Page, scrolling};
use super::{
    API_LIMIT_MAX, LIST_LIMIT, ListQuery, PageResult, Session, date_input, kind_checkboxes,
    parse_count, query_fields,
};
use crate::analysis::monthly::{
    DEFAULT_DEADLINE_DAY, FirstSubmissions, Month, MonthStatus, deadlines, status_by,
};
use crate::auth::{Scope, descendants};
use crate::error::AppError;
use crate::report::{self, Cell, Column, Table, svg};
use crate::state::AppState;
use crate::store::{
    AreaGrouping, AttendanceCount, DatedPage, EnterpriseName, HazardCount, HotlineReport,
    MailboxKind, MailboxMessage, Region, User,
};

/// How a hazard analysis groups its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HazardsBy {
    Month,
    District,
    Town,
    Industry,
    Kind,
}

impl HazardsBy {
    const ALL: [HazardsBy; 5] = [
        HazardsBy::Month,
        HazardsBy::District,
        HazardsBy::Town,
        HazardsBy::Industry,
        HazardsBy::Kind,
    ];

    fn key(self) -> &'static str {
        match self {
            HazardsBy::Month => "month",
            HazardsBy::District => "district",
            HazardsBy::Town => "town",
            HazardsBy::Industry => "industry",
            HazardsBy::Kind => "kind",
        }
    }

    fn label(self) -> &'static str {
        match self {
            HazardsBy::Month => "月份",
            HazardsBy::District => "区县",
            HazardsBy::Town => "乡镇（街道）",
            HazardsBy::Industry => "行业",
            HazardsBy::Kind => "检查类型",
        }
    }
}

/// The analyses' own query parameters, beside the record filter's ([`ListQuery`]). Each is
/// read as every value it was given: a key may repeat, and an empty value (`format=`) is
/// refused where a page refuses it rather than taken for "not given".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AnalysisFields {
    pub(super) format: Vec<String>,
    pub(super) by: Vec<String>,
    pub(super) level: Vec<String>,
    pub(super) on: Vec<String>,
    pub(super) from: Vec<String>,
    pub(super) until: Vec<String>,
    pub(super) deadline: Vec<String>,
    pub(super) region: Vec<String>,
    pub(super) state: Vec<String>,
    pub(super) limit: Vec<String>,
    pub(super) offset: Vec<String>,
    pub(super) summary_limit: Vec<String>,
    pub(super) summary_offset: Vec<String>,
}

impl AnalysisFields {
    pub(super) fn read(raw: Option<&str>) -> Result<AnalysisFields, AppError> {
        query_fields(raw)
    }
}

/// The grouping a query asks for among `choices`, the last given winning; `default` without one.
fn grouping<T: Copy>(
    values: &[String],
    choices: &[T],
    key: impl Fn(T) -> &'static str,
    default: T,
) -> Result<T, AppError> {
    let mut chosen = default;
    for value in values {
        chosen = choices
            .iter()
            .copied()
            .find(|c| key(*c) == value)
            .ok_or_else(|| {
                AppError::bad_request("invalid_query", format!("分组方式 {value} 无效"))
            })?;
    }
    Ok(chosen)
}

/// The analysis's own parameters: what to group by, and the export format.
fn parameters(raw: Option<&str>) -> Result<(HazardsBy, Option<&'static str>), AppError> {
    let fields = AnalysisFields::read(raw)?;
    let by = grouping(
        &fields.by,
        &HazardsBy::ALL,
        HazardsBy::key,
        HazardsBy::Month,
    )?;
    Ok((by, format_of(fields.format.first().map(String::as_str))?))
}

/// The district a region belongs to: itself or the ancestor directly under a top-level
/// region (the city); a top-level region is its own district.
fn district_of<'a>(code: &'a str, parents: &'a HashMap<String, Option<String>>) -> &'a str {
    let mut current = code;
    loop {
        match parents.get(current) {
            Some(Some(parent)) if parents.get(parent.as_str()).is_some_and(Option::is_some) => {
                current = parent
            }
            _ => return current,
        }
    }
}

/// The hazard table: one row per group, newest month last, others largest first.
fn hazard_table(counts: &[HazardCount], by: HazardsBy, regions: &[Region], period: &str) -> Table {
    let names: HashMap<String, String> = regions
        .iter()
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    let parents: HashMap<String, Option<String>> = regions
        .iter()
        .map(|r| (r.code.clone(), r.parent.clone()))
        .collect();
    let mut groups: BTreeMap<String, i64> = BTreeMap::new();
    for count in counts {
        let key = match by {
            HazardsBy::Month => count.month.clone(),
            HazardsBy::District => district_of(&count.region_code, &parents).to_string(),
            HazardsBy::Town => count.region_code.clone(),
            HazardsBy::Industry => count.industry.clone(),
            HazardsBy::Kind => count.inspection_kind.clone(),
        };
        *groups.entry(key).or_default() += count.count;
    }
    let total: i64 = groups.values().sum();
    let mut rows: Vec<(String, String, i64)> = groups
        .into_iter()
        .map(|(key, n)| {
            let label = match by {
                HazardsBy::District | HazardsBy::Town => {
                    names.get(&key).cloned().unwrap_or_else(|| key.clone())
                }
                HazardsBy::Kind => {
                    InspectionKind::parse(&key).map_or(key.clone(), |k| k.label().to_string())
                }
                HazardsBy::Month | HazardsBy::Industry => key.clone(),
            };
            (key, label, n)
        })
        .collect();
    if by != HazardsBy::Month {
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    }
    let mut table = Table::new(
        format!("隐患统计（按{}，{period}）", by.label()),
        vec![
            Column::new("key", "代码"),
            Column::new("name", by.label()),
            Column::new("hazards", "隐患数"),
            Column::new("share", "占比"),
        ],
    );
    for (key, label, n) in rows {
        let share = if total > 0 {
            n as f64 / total as f64
        } else {
            0.0
        };
        table.rows.push(vec![
            Cell::Text(key),
            Cell::Text(label),
            Cell::Int(n),
            Cell::Percent(share),
        ]);
    }
    table
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Real(x) => format!("{x:.2}"),
        Cell::Percent(x) => format!("{:.1}%", x * 100.0),
        Cell::Date(d) => d.to_string(),
        Cell::Empty => String::new(),
    }
}

/// A report's table as the page shows it: each cell names its column, numbers align right.
pub(super) fn table_html(table: &Table, id: &str) -> Markup {
    scrolling(html! {
        table id=(id) {
            thead { tr { @for column in &table.columns { th { (column.label) } } } }
            tbody {
                @for row in &table.rows {
                    tr {
                        @for (column, cell) in table.columns.iter().zip(row) {
                            @let class = match cell {
                                Cell::Int(_) | Cell::Real(_) | Cell::Percent(_) => Some("num"),
                                Cell::Date(_) => Some("nowrap"),
                                _ => None,
                            };
                            td data-column=(column.key) class=[class] { (cell_text(cell)) }
                        }
                    }
                }
            }
        }
    })
}

/// A chart drawn by [`svg`], in a box the keyboard can reach.
pub(super) fn chart(svg: String) -> Markup {
    // The SVG writers escape every text and attribute they write.
    html! { div class="chart" tabindex="0" { (PreEscaped(svg)) } }
}

/// The links to an analysis's CSV and Excel files: `base` is the page's address with the
/// query string so far, ready for one more parameter.
pub(super) fn export_links(base: &str, csv: &str, xlsx: &str) -> Markup {
    html! {
        "导出："
        a id="export-csv" href={ (base) "format=csv" } { (csv) }
        " · "
        a id="export-xlsx" href={ (base) "format=xlsx" } { (xlsx) }
    }
}

/// A filter form's group of radio buttons, one per choice, the chosen one ticked.
pub(super) fn radio_choices<T: Copy + PartialEq>(
    name: &str,
    choices: &[T],
    chosen: T,
    key: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Markup {
    html! {
        @for &choice in choices {
            label {
                input type="radio" name=(name) value=(key(choice)) checked[choice == chosen];
                " " (label(choice))
            }
            " "
        }
    }
}

/// The start and end date fields and the button of an analysis's filter form; `extra` goes
/// between them.
pub(super) fn dated_filters(
    action: &str,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    extra: Markup,
) -> Markup {
    html! {
        form class="filters" id="filters" method="get" action=(action) {
            label { "起始日期 " (date_input("from", from)) }
            label { "截止日期 " (date_input("until", until)) }
            (extra)
            button type="submit" { "统计" }
        }
    }
}

/// The export an analysis's query string asks for: `format=csv|xlsx|json`, or none (the page).
pub(super) fn export_format(raw: Option<&str>) -> Result<Option<&'static str>, AppError> {
    format_of(
        AnalysisFields::read(raw)?
            .format
            .first()
            .map(String::as_str),
    )
}

fn format_of(value: Option<&str>) -> Result<Option<&'static str>, AppError> {
    match value {
        None => Ok(None),
        Some("csv") => Ok(Some("csv")),
        Some("xlsx") => Ok(Some("xlsx")),
        Some("json") => Ok(Some("json")),
        Some(other) => Err(AppError::bad_request(
            "invalid_query",
            format!("导出格式 {other} 无效：应为 csv、xlsx 或 json"),
        )),
    }
}

/// An analysis's tables exported: the first as CSV, all as sheets of one workbook, or all as
/// JSON. `name` is the file's name people see (Chinese); `ascii` the fallback for clients that
/// cannot read it, such as `town-grading` (see [`download`]).
pub(super) fn export(
    tables: &[&Table],
    format: &str,
    name: &str,
    ascii: &str,
) -> Result<Response, AppError> {
    match (format, tables.first()) {
        ("json", _) => Ok(json_tables(tables)),
        ("csv", Some(first)) => Ok(download(
            report::table::to_csv(first),
            "text/csv; charset=utf-8",
            name,
            ascii,
            "csv",
        )),
        _ => Ok(download(
            report::xlsx::workbook(tables).map_err(|e| AppError::internal("xlsx", e))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            name,
            ascii,
            "xlsx",
        )),
    }
}

/// The tables of an analysis as JSON: what the API answers (`format=json`).
pub(crate) fn json_tables(tables: &[&Table]) -> Response {
    #[derive(serde::Serialize)]
    struct Tables<'a> {
        tables: &'a [&'a Table],
    }
    axum::Json(Tables { tables }).into_response()
}

/// RFC 5987's `attr-char`: what `filename*` may carry unencoded. Everything else, every byte
/// of a Chinese name included, is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// A download as an attachment (RFC 6266): `filename*` carries the UTF-8 name, `filename` an
/// ASCII fallback with the same extension for the clients that ignore `filename*`. The
/// fallback keeps only letters, digits, `-`, `_` and `.`, so it needs no escaping inside its
/// quotes.
pub(super) fn download(
    bytes: Vec<u8>,
    content_type: &'static str,
    name: &str,
    ascii: &str,
    extension: &str,
) -> Response {
    let fallback: String = ascii
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let fallback = if fallback.is_empty() {
        "export"
    } else {
        &fallback
    };
    let disposition = format!(
        "attachment; filename=\"{fallback}.{extension}\"; filename*=UTF-8''{}",
        utf8_percent_encode(&format!("{name}.{extension}"), ATTR_CHAR)
    );
    let mut response = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The hazard table a query string asks for, read within the user's scope: the page, its
/// exports and the JSON API (`GET /api/v1/analyses/hazards`) all come from here.
pub(crate) struct HazardAnalysis {
    pub(crate) table: Table,
    query: ListQuery,
    by: HazardsBy,
    format: Option<&'static str>,
    total: i64,
    period: String,
}

pub(crate) async fn hazard_analysis(
    state: &AppState,
    user: &User,
    raw: Option<&str>,
) -> Result<HazardAnalysis, AppError> {
    let query = ListQuery::parse(raw)?;
    let (by, format) = parameters(raw)?;
    let user = user.clone();
    let for_store = query.clone();
    let (counts, regions) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions);
            let counts = store
                .area_counts(
                    &scope.records(),
                    &for_store.filter(&regions),
                    AreaGrouping {
                        month: by == HazardsBy::Month,
                        region: matches!(by, HazardsBy::Town | HazardsBy::District),
                        industry: by == HazardsBy::Industry,
                    },
                )?
                .into_iter()
                .filter(|c| c.hazards > 0)
                .map(|c| HazardCount {
                    month: c.month,
                    region_code: c.region_code,
                    industry: c.industry,
                    inspection_kind: c.inspection_kind,
                    count: c.hazards,
                })
                .collect::<Vec<_>>();
            Ok((counts, regions))
        })
        .await?;
    let period = match (query.from, query.until) {
        (None, None) => "全部时间".to_string(),
        (from, until) => format!(
            "{} 至 {}",
            from.map_or("最早".into(), |d| d.to_string()),
            until.map_or("今天".into(), |d| d.to_string())
        ),
    };
    Ok(HazardAnalysis {
        table: hazard_table(&counts, by, &regions, &period),
        total: counts.iter().map(|c| c.count).sum(),
        query,
        by,
        format,
        period,
    })
}

pub(super) async fn hazards(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let HazardAnalysis {
        table,
        query,
        by,
        format,
        total,
        period,
    } = hazard_analysis(&state, &caller.user, raw.as_deref()).await?;
    if let Some(format) = format {
        let ascii = format!("hazards-by-{}", by.key());
        return Ok(export(&[&table], format, &table.title, &ascii)?);
    }

    let series: Vec<(String, f64)> = table
        .rows
        .iter()
        .filter_map(|row| match (&row[1], &row[2]) {
            (Cell::Text(label), Cell::Int(n)) => Some((label.clone(), *n as f64)),
            _ => None,
        })
        .collect();
    let options = svg::Options::new(table.title.clone());
    let drawing = match by {
        HazardsBy::Month => svg::line(&series, &options),
        _ => svg::bar(&series, &options),
    };
    let export_query = raw
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("format="))
        .collect::<Vec<_>>()
        .join("&");
    let filters = html! {
        fieldset { legend { "检查类型" } (kind_checkboxes(&query.kinds)) }
        fieldset {
            legend { "分组" }
            (radio_choices("by", &HazardsBy::ALL, by, HazardsBy::key, HazardsBy::label))
        }
    };
    let body = html! {
        h1 { "隐患统计" }
        (dated_filters("/review/analyses/hazards", query.from, query.until, filters))
        p {
            "已提交的检查记录中发现的隐患，共 " strong id="total" { (total) } " 条（" (period) "）。"
            (export_links(&format!("/review/analyses/hazards?{export_query}&"), "CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(&table, "analysis"))
    };
    Ok(Page::new("隐患统计").body(body).html(Some(&caller)))
}

/// The monthly self-inspection analysis's parameters: a range of months, the deadline day.
pub(crate) struct SelfQuery {
    from: Month,
    until: Month,
    deadline_day: u32,
    region: Option<String>,
    format: Option<&'static str>,
    /// The page of the late and missing list the API answers.
    limit: i64,
    offset: i64,
}

fn parse_month(field: &str, text: &str) -> Result<Month, AppError> {
    let bad = || {
        AppError::bad_request(
            "invalid_query",
            format!("{field} {text:?} 应为 YYYY-MM 格式的月份"),
        )
    };
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    let month = Month {
        year: year.parse().map_err(|_| bad())?,
        month: month.parse().map_err(|_| bad())?,
    };
    month.first_day().ok_or_else(bad)?;
    Ok(month)
}

/// The longest range one page lists: five years of months.
const MAX_MONTHS: usize = 60;

impl SelfQuery {
    /// The page's query: `format` asks for an export (or the JSON a page of the list).
    fn parse(raw: Option<&str>, today: NaiveDate) -> Result<SelfQuery, AppError> {
        SelfQuery::read(raw, today, false)
    }

    /// The API's query: JSON whatever `format` says, so `format` is not read at all.
    pub(crate) fn parse_for_api(
        raw: Option<&str>,
        today: NaiveDate,
    ) -> Result<SelfQuery, AppError> {
        SelfQuery::read(raw, today, true)
    }

    fn read(raw: Option<&str>, today: NaiveDate, api: bool) -> Result<SelfQuery, AppError> {
        let last_closed = Month::of(
            today
                .with_day(1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(today),
        );
        let mut query = SelfQuery {
            // The twelve months up to the last one closed.
            from: Month {
                year: last_closed.year - 1,
                month: last_closed.month,
            }
            .next(),
            until: last_closed,
            deadline_day: DEFAULT_DEADLINE_DAY,
            region: None,
            format: None,
            limit: LIST_LIMIT,
            offset: 0,
        };
        let fields = AnalysisFields::read(raw)?;
        // An empty field is "not given" here; when a key repeats, the last value counts.
        let last = |values: &[String]| values.iter().rfind(|v| !v.is_empty()).cloned();
        for value in fields.from.iter().filter(|v| !v.is_empty()) {
            query.from = parse_month("起始月份", value)?;
        }
        for value in fields.until.iter().filter(|v| !v.is_empty()) {
            query.until = parse_month("截止月份", value)?;
        }
        for value in fields.deadline.iter().filter(|v| !v.is_empty()) {
            query.deadline_day = value
                .parse()
                .ok()
                .filter(|d| (1..=28).contains(d))
                .ok_or_else(|| {
                    AppError::bad_request("invalid_query", "上报期限应为次月 1 到 28 日中的一天")
                })?;
        }
        if let Some(region) = last(&fields.region) {
            query.region = Some(region);
        }
        if api {
            query.format = Some("json");
        } else {
            for value in fields.format.iter().filter(|v| !v.is_empty()) {
                query.format = format_of(Some(value))?;
            }
        }
        for value in fields.limit.iter().filter(|v| !v.is_empty()) {
            query.limit = parse_count("limit", value, API_LIMIT_MAX)?;
        }
        for value in fields.offset.iter().filter(|v| !v.is_empty()) {
            query.offset = parse_count("offset", value, i64::MAX)?;
        }
        let months = Month::range(query.from, query.until).len();
        if months == 0 || months > MAX_MONTHS {
            return Err(AppError::bad_request(
                "invalid_query",
                format!("月份范围应从起始月到截止月，最多 {MAX_MONTHS} 个月"),
            ));
        }
        Ok(query)
    }
}

/// A late or missing month of one enterprise, by index into [`SelfAnalysis`]'s lists.
struct Overdue {
    enterprise: usize,
    month: usize,
    status: MonthStatus,
    submitted: Option<NaiveDate>,
}

struct SelfAnalysis<'a> {
    months: Vec<Month>,
    /// Per month: on time, late, missing, still open.
    summary: Vec<[i64; 4]>,
    /// Late and missing months, by month, then region name, then credit code.
    overdue: Vec<Overdue>,
    enterprises: &'a [EnterpriseName],
    /// Each enterprise's region, named.
    region_names: Vec<&'a str>,
}

fn classify<'a>(
    enterprises: &'a [EnterpriseName],
    first_submitted: &FirstSubmissions<'_>,
    months: &[Month],
    deadline_day: u32,
    today: NaiveDate,
    region_names: &'a HashMap<String, String>,
) -> SelfAnalysis<'a> {
    let names: Vec<&str> = enterprises
        .iter()
        .map(|e| {
            region_names
                .get(&e.region_code)
                .map_or(e.region_code.as_str(), String::as_str)
        })
        .collect();
    // The list's order, so that it is made in order: a city's three years have 30,000 late
    // or missing months.
    let mut order: Vec<usize> = (0..enterprises.len()).collect();
    order.sort_by(|&a, &b| {
        (names[a], &enterprises[a].credit_code).cmp(&(names[b], &enterprises[b].credit_code))
    });
    let submissions: Vec<&[Option<NaiveDate>]> = enterprises
        .iter()
        .map(|e| first_submitted.enterprise(&e.credit_code))
        .collect();
    let mut summary = vec![[0i64; 4]; months.len()];
    let mut overdue = Vec::new();
    for (month, deadline) in deadlines(months, deadline_day).into_iter().enumerate() {
        for &enterprise in &order {
            let submitted = submissions[enterprise].get(month).copied().flatten();
            let status = status_by(deadline, submitted, today);
            let slot = match status {
                Some(MonthStatus::OnTime) => 0,
                Some(MonthStatus::Late) => 1,
                Some(MonthStatus::Missing) => 2,
                None => 3,
            };
            summary[month][slot] += 1;
            if let Some(status @ (MonthStatus::Late | MonthStatus::Missing)) = status {
                overdue.push(Overdue {
                    enterprise,
                    month,
                    status,
                    submitted,
                });
            }
        }
    }
    SelfAnalysis {
        months: months.to_vec(),
        summary,
        overdue,
        enterprises,
        region_names: names,
    }
}

/// The summary by month, and the late and missing list's rows `listed` (a page of it, or
/// all of it for a file).
fn self_tables(
    analysis: &SelfAnalysis<'_>,
    deadline_day: u32,
    listed: std::ops::Range<usize>,
) -> (Table, Table) {
    let mut summary = Table::new(
        format!("企业月度自查上报情况（次月 {deadline_day} 日前上报为按时）"),
        vec![
            Column::new("month", "月份"),
            Column::new("on_time", "按时"),
            Column::new("late", "逾期"),
            Column::new("missing", "未报"),
            Column::new("open", "未到期"),
            Column::new("on_time_rate", "按时率"),
        ],
    );
    for (month, [on_time, late, missing, open]) in analysis.months.iter().zip(&analysis.summary) {
        let due = on_time + late + missing;
        summary.rows.push(vec![
            Cell::Text(month.label()),
            Cell::Int(*on_time),
            Cell::Int(*late),
            Cell::Int(*missing),
            Cell::Int(*open),
            if due > 0 {
                Cell::Percent(*on_time as f64 / due as f64)
            } else {
                Cell::Empty
            },
        ]);
    }
    let mut overdue = Table::new(
        "逾期和未报名单",
        vec![
            Column::new("month", "月份"),
            Column::new("enterprise", "单位名称"),
            Column::new("credit_code", "统一社会信用代码"),
            Column::new("region", "区划"),
            Column::new("status", "情况"),
            Column::new("submitted", "上报日期"),
        ],
    );
    let end = listed.end.min(analysis.overdue.len());
    for entry in analysis.overdue.get(listed.start..end).unwrap_or_default() {
        let enterprise = &analysis.enterprises[entry.enterprise];
        overdue.rows.push(vec![
            Cell::Text(analysis.months[entry.month].label()),
            Cell::Text(enterprise.name.clone()),
            Cell::Text(enterprise.credit_code.clone()),
            Cell::Text(analysis.region_names[entry.enterprise].to_string()),
            Cell::Text(entry.status.label().to_string()),
            entry.submitted.map_or(Cell::Empty, Cell::Date),
        ]);
    }
    (summary, overdue)
}

/// Enterprises' monthly self-inspections within the user's scope: per month on time, late,
/// missing and still open, and the late and missing list (the API a page of it, the files all
/// of it, the page its first rows). The page, its exports and the JSON API
/// (`GET /api/v1/analyses/self-inspections`) all come from here.
pub(crate) struct SelfReport {
    query: SelfQuery,
    summary: Table,
    overdue: Table,
    overdue_total: usize,
    enterprises: usize,
    months: Vec<Month>,
    /// Per month: on time, late, missing, still open.
    counts: Vec<[i64; 4]>,
}

pub(crate) async fn self_inspection_analysis(
    state: &AppState,
    user: &User,
    query: SelfQuery,
    today: NaiveDate,
) -> Result<SelfReport, AppError> {
    let months = Month::range(query.from, query.until);
    let user = user.clone();
    let (Some(first_day), Some(last_day)) = (query.from.first_day(), query.until.last_day()) else {
        return Err(AppError::bad_request("invalid_query", "月份超出范围"));
    };
    let region = query.region.clone();
    let (enterprises, rows, region_names) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions);
            let within: Option<std::collections::HashSet<String>> =
                region.as_deref().map(|root| descendants(root, &regions));
            let enterprises: Vec<EnterpriseName> = store
                .enterprise_names(&scope.records())?
                .into_iter()
                .filter(|e| within.as_ref().is_none_or(|w| w.contains(&e.region_code)))
                .collect();
            let rows = store.enterprise_activity(&scope.records(), first_day, last_day)?;
            let names: HashMap<String, String> =
                regions.into_iter().map(|r| (r.code, r.name)).collect();
            Ok((enterprises, rows, names))
        })
        .await?;
    let analysis = classify(
        &enterprises,
        &FirstSubmissions::of(&rows, &months),
        &months,
        query.deadline_day,
        today,
        &region_names,
    );
    let overdue_total = analysis.overdue.len();
    // The API a page of the list, the files all of it, the page its first rows.
    let listed = match query.format {
        Some("json") => {
            let skip = usize::try_from(query.offset).unwrap_or(usize::MAX);
            skip..skip.saturating_add(usize::try_from(query.limit).unwrap_or(usize::MAX))
        }
        Some(_) => 0..usize::MAX,
        None => 0..LIST_LIMIT as usize,
    };
    let (summary, overdue) = self_tables(&analysis, query.deadline_day, listed);
    Ok(SelfReport {
        summary,
        overdue,
        overdue_total,
        enterprises: analysis.enterprises.len(),
        months: analysis.months,
        counts: analysis.summary,
        query,
    })
}

/// The self-inspection analysis as JSON: the page of the late and missing list asked for,
/// the summary, and where the page sits in the whole list.
pub(crate) fn self_inspection_json(report: &SelfReport) -> Response {
    axum::Json(serde_json::json!({
        "tables": [&report.overdue, &report.summary],
        "page": {
            "offset": report.query.offset,
            "limit": report.query.limit,
            "total": report.overdue_total,
        },
    }))
    .into_response()
}

pub(super) async fn self_inspections(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let today = china_date(Utc::now());
    let query = SelfQuery::parse(raw.as_deref(), today)?;
    let report = self_inspection_analysis(&state, &caller.user, query, today).await?;
    let SelfReport {
        query,
        summary,
        overdue,
        overdue_total,
        enterprises,
        months,
        counts,
    } = &report;
    if query.format == Some("json") {
        return Ok(self_inspection_json(&report));
    }
    if let Some(format) = query.format {
        return Ok(export(
            &[overdue, summary],
            format,
            "企业月度自查上报情况",
            "monthly-self-checks",
        )?);
    }
    let categories: Vec<String> = months.iter().map(|m| m.label()).collect();
    let series: Vec<svg::Series> = ["按时", "逾期", "未报"]
        .iter()
        .enumerate()
        .map(|(slot, name)| {
            svg::Series::new(*name, counts.iter().map(|s| s[slot] as f64).collect())
        })
        .collect();
    let drawing = svg::stacked_bar(
        &categories,
        &series,
        &svg::Options::new(summary.title.clone()).colours(&[
            svg::STATE_DONE,
            svg::STATE_LATE,
            svg::STATE_MISSING,
        ]),
    );
    let export = format!(
        "/review/analyses/self-inspections?from={}&until={}&deadline={}{}&",
        query.from.label(),
        query.until.label(),
        query.deadline_day,
        query
            .region
            .as_deref()
            .map_or(String::new(), |r| format!("&region={r}"))
    );
    let body = html! {
        h1 { "企业月度自查" }
        form class="filters" id="filters" method="get" action="/review/analyses/self-inspections" {
            label { "起始月份 " input type="month" name="from" value=(query.from.label()); }
            label { "截止月份 " input type="month" name="until" value=(query.until.label()); }
            label {
                "次月上报期限 "
                input type="number" name="deadline" min="1" max="28" value=(query.deadline_day);
                " 日"
            }
            button type="submit" { "统计" }
        }
        p {
            "范围内企业 " strong id="enterprises" { (enterprises) } " 家；"
            "某月的自查于次月 " (query.deadline_day) " 日（含）前提交为按时。"
            (export_links(&export, "逾期和未报名单 CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(summary, "summary"))
        h2 { "逾期和未报名单（" (overdue_total) "）" }
        @if *overdue_total > LIST_LIMIT as usize {
            p { "仅显示前 " (LIST_LIMIT) " 条，共 " (overdue_total) " 条；完整名单请导出。" }
        }
        (table_html(overdue, "overdue"))
    };
    Ok(Page::new("企业月度自查").body(body).html(Some(&caller)))
}

/// The 12350 hotline grouped by category, industry or district, and the director's mailbox
/// by month and kind, within the account's scope and a date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HotlineBy {
    Category,
    Industry,
    District,
}

impl HotlineBy {
    const ALL: [HotlineBy; 3] = [
        HotlineBy::Category,
        HotlineBy::Industry,
        HotlineBy::District,
    ];

    fn key(self) -> &'static str {
        match self {
            HotlineBy::Category => "category",
            HotlineBy::Industry => "industry",
            HotlineBy::District => "district",
        }
    }

    fn label(self) -> &'static str {
        match self {
            HotlineBy::Category => "类别",
            HotlineBy::Industry => "行业",
            HotlineBy::District => "区县",
        }
    }
}

fn hotline_table(
    reports: &[HotlineReport],
    by: HotlineBy,
    names: &HashMap<String, String>,
) -> Table {
    let mut groups: BTreeMap<String, i64> = BTreeMap::new();
    for report in reports {
        let key = match by {
            HotlineBy::Category => report.category.label().to_string(),
            HotlineBy::Industry => report.industry.clone(),
            HotlineBy::District => report.district_code.clone(),
        };
        *groups.entry(key).or_default() += 1;
    }
    let total = reports.len() as i64;
    let mut rows: Vec<(String, i64)> = groups.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut table = Table::new(
        format!("12350 热线（按{}）", by.label()),
        vec![
            Column::new("key", "代码"),
            Column::new("name", by.label()),
            Column::new("reports", "件数"),
            Column::new("share", "占比"),
        ],
    );
    for (key, n) in rows {
        let name = match by {
            HotlineBy::District => names.get(&key).cloned().unwrap_or_else(|| key.clone()),
            _ => key.clone(),
        };
        table.rows.push(vec![
            Cell::Text(key),
            Cell::Text(name),
            Cell::Int(n),
            Cell::Percent(if total > 0 {
                n as f64 / total as f64
            } else {
                0.0
            }),
        ]);
    }
    table
}

fn mailbox_table(messages: &[MailboxMessage]) -> Table {
    let mut months: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for message in messages {
        let month = Month::of(message.received_on).label();
        let slot = MailboxKind::ALL
            .iter()
            .position(|k| *k == message.kind)
            .unwrap_or(0);
        months.entry(month).or_default()[slot] += 1;
    }
    let mut columns = vec![Column::new("month", "月份")];
    columns.extend(MailboxKind::ALL.iter().map(|kind| {
        let key = match kind {
            MailboxKind::Suggestion => "suggestions",
            MailboxKind::Complaint => "complaints",
            MailboxKind::Enquiry => "enquiries",
        };
        Column::new(key, kind.label())
    }));
    columns.push(Column::new("total", "合计"));
    let mut table = Table::new("局长信箱（按月）", columns);
    for (month, counts) in months {
        let mut row = vec![Cell::Text(month)];
        row.extend(counts.iter().map(|n| Cell::Int(*n)));
        row.push(Cell::Int(counts.iter().sum()));
        table.rows.push(row);
    }
    table
}

/// How the hotline table a query string asks for is grouped (`by`, by category without it).
pub(crate) fn hotline_grouping(raw: Option<&str>) -> Result<HotlineBy, AppError> {
    grouping(
        &AnalysisFields::read(raw)?.by,
        &HotlineBy::ALL,
        HotlineBy::key,
        HotlineBy::Category,
    )
}

/// The 12350 hotline reports and the mailbox's messages within the user's scope: the page,
/// its exports and the JSON API (`GET /api/v1/analyses/public`) all come from here.
pub(crate) struct PublicAnalysis {
    pub(crate) hotline: Table,
    pub(crate) mailbox: Table,
    hotline_total: usize,
    mailbox_total: usize,
}

pub(crate) async fn public_analysis(
    state: &AppState,
    user: &User,
    query: &ListQuery,
    by: HotlineBy,
) -> Result<PublicAnalysis, AppError> {
    let user = user.clone();
    let page = DatedPage {
        from: query.from,
        until: query.until,
        limit: -1,
        offset: 0,
    };
    let (reports, messages, names) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions).records();
            let names: HashMap<String, String> =
                regions.into_iter().map(|r| (r.code, r.name)).collect();
            Ok((
                store.hotline_reports(&scope, &page)?,
                store.mailbox_messages(&scope, &page)?,
                names,
            ))
        })
        .await?;
    Ok(PublicAnalysis {
        hotline: hotline_table(&reports, by, &names),
        mailbox: mailbox_table(&messages),
        hotline_total: reports.len(),
        mailbox_total: messages.len(),
    })
}

pub(super) async fn public(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = ListQuery::parse(raw.as_deref())?;
    let by = hotline_grouping(raw.as_deref())?;
    let mut format = None;
    for value in &AnalysisFields::read(raw.as_deref())?.format {
        format = format_of(Some(value))?;
    }
    let PublicAnalysis {
        hotline,
        mailbox,
        hotline_total,
        mailbox_total,
    } = public_analysis(&state, &caller.user, &query, by).await?;
    if let Some(format) = format {
        return Ok(export(
            &[&hotline, &mailbox],
            format,
            "12350热线与局长信箱",
            "hotline-and-mailbox",
        )?);
    }
    let slices: Vec<(String, f64)> = hotline
        .rows
        .iter()
        .filter_map(|row| match (&row[1], &row[2]) {
            (Cell::Text(name), Cell::Int(n)) => Some((name.clone(), *n as f64)),
            _ => None,
        })
        .collect();
    let hotline_chart = match by {
        HotlineBy::Category => svg::pie(&slices, &svg::Options::donut(hotline.title.clone())),
        _ => svg::bar(&slices, &svg::Options::new(hotline.title.clone())),
    };
    let months: Vec<String> = mailbox
        .rows
        .iter()
        .filter_map(|row| match &row[0] {
            Cell::Text(month) => Some(month.clone()),
            _ => None,
        })
        .collect();
    let series: Vec<svg::Series> = MailboxKind::ALL
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            svg::Series::new(
                kind.label(),
                mailbox
                    .rows
                    .iter()
                    .map(|row| match row[i + 1] {
                        Cell::Int(n) => n as f64,
                        _ => 0.0,
                    })
                    .collect(),
            )
        })
        .collect();
    let mailbox_chart =
        svg::stacked_bar(&months, &series, &svg::Options::new(mailbox.title.clone()));
    let export = format!(
        "/review/analyses/public?by={}{}{}&",
        by.key(),
        query.from.map_or(String::new(), |d| format!("&from={d}")),
        query.until.map_or(String::new(), |d| format!("&until={d}")),
    );
    let grouping = html! {
        fieldset {
            legend { "热线分组" }
            (radio_choices("by", &HotlineBy::ALL, by, HotlineBy::key, HotlineBy::label))
        }
    };
    let body = html! {
        h1 { "12350 热线与局长信箱" }
        (dated_filters("/review/analyses/public", query.from, query.until, grouping))
        p { (export_links(&export, "热线 CSV", "Excel")) }
        h2 { "12350 热线（" span id="hotline-total" { (hotline_total) } " 件）" }
        (chart(hotline_chart))
        (table_html(&hotline, "hotline"))
        h2 { "局长信箱（" span id="mailbox-total" { (mailbox_total) } " 件）" }
        (chart(mailbox_chart))
        (table_html(&mailbox, "mailbox"))
    };
    Ok(Page::new("12350 热线与局长信箱")
        .body(body)
        .html(Some(&caller)))
}

/// Duty-leader (带班) attendance: per month and industry, the shifts due and the share with
/// the leader on site.
fn attendance_table(counts: &[AttendanceCount]) -> Table {
    let mut table = Table::new(
        "带班到岗率（按行业、月份）",
        vec![
            Column::new("month", "月份"),
            Column::new("industry", "行业"),
            Column::new("shifts", "应带班班次"),
            Column::new("present", "到岗班次"),
            Column::new("rate", "到岗率"),
        ],
    );
    for count in counts {
        table.rows.push(vec![
            Cell::Text(count.month.clone()),
            Cell::Text(count.industry.clone()),
            Cell::Int(count.shifts),
            Cell::Int(count.present),
            if count.shifts > 0 {
                Cell::Percent(count.present as f64 / count.shifts as f64)
            } else {
                Cell::Empty
            },
        ]);
    }
    table
}

/// Duty-leader attendance within the user's scope, summed per month and industry whatever
/// the region: the page, its exports and the JSON API
/// (`GET /api/v1/analyses/attendance`) all come from here.
pub(crate) struct AttendanceAnalysis {
    pub(crate) table: Table,
    counts: Vec<AttendanceCount>,
}

pub(crate) async fn attendance_analysis(
    state: &AppState,
    user: &User,
    query: &ListQuery,
) -> Result<AttendanceAnalysis, AppError> {
    let user = user.clone();
    let (from, until) = (query.from, query.until);
    let by_region = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions).records();
            store.attendance_counts(&scope, from, until, true)
        })
        .await?;
    let mut grouped: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for count in by_region {
        let entry = grouped.entry((count.month, count.industry)).or_default();
        entry.0 += count.shifts;
        entry.1 += count.present;
    }
    let counts: Vec<AttendanceCount> = grouped
        .into_iter()
        .map(|((month, industry), (shifts, present))| AttendanceCount {
            month,
            industry,
            // Summed over the regions.
            region_code: String::new(),
            shifts,
            present,
        })
        .collect();
    Ok(AttendanceAnalysis {
        table: attendance_table(&counts),
        counts,
    })
}

pub(super) async fn attendance(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = ListQuery::parse(raw.as_deref())?;
    let format = export_format(raw.as_deref())?;
    let AttendanceAnalysis { table, counts } =
        attendance_analysis(&state, &caller.user, &query).await?;
    if let Some(format) = format {
        return Ok(export(&[&table], format, &table.title, "duty-attendance")?);
    }
    let months: Vec<String> = counts
        .iter()
        .map(|c| c.month.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let industries: Vec<String> = counts
        .iter()
        .map(|c| c.industry.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let series: Vec<svg::Series> = industries
        .iter()
        .map(|industry| {
            svg::Series::new(
                industry.clone(),
                months
                    .iter()
                    .map(|month| {
                        counts
                            .iter()
                            .find(|c| &c.month == month && &c.industry == industry)
                            .filter(|c| c.shifts > 0)
                            .map_or(f64::NAN, |c| c.present as f64 / c.shifts as f64)
                    })
                    .collect(),
            )
        })
        .collect();
    let drawing = svg::lines(
        &months,
        &series,
        &svg::Options::new(table.title.clone()).percent(),
    );
    let (shifts, present): (i64, i64) = counts
        .iter()
        .fold((0, 0), |(s, p), c| (s + c.shifts, p + c.present));
    let overall = if shifts > 0 {
        format!("{:.1}%", present as f64 * 100.0 / shifts as f64)
    } else {
        "无数据".to_string()
    };
    let export = format!(
        "/review/analyses/attendance?{}{}",
        query.from.map_or(String::new(), |d| format!("from={d}&")),
        query.until.map_or(String::new(), |d| format!("until={d}&")),
    );
    let body = html! {
        h1 { "带班到岗率" }
        (dated_filters("/review/analyses/attendance", query.from, query.until, html! {}))
        p {
            "应带班 " strong id="shifts" { (shifts) } " 班次，到岗 " strong id="present" { (present) } " 班次，"
            "到岗率 " strong id="rate" { (overall) } "。"
            (export_links(&export, "CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(&table, "attendance"))
    };
    Ok(Page::new("带班到岗率").body(body).html(Some(&caller)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_names_its_file_in_utf8_with_an_ascii_fallback_of_the_same_kind() {
        let disposition = |name: &str, ascii: &str, extension: &str| {
            download(
                Vec::new(),
                "text/csv; charset=utf-8",
                name,
                ascii,
                extension,
            )
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .expect("a disposition")
            .to_str()
            .expect("ASCII")
            .to_string()
        };
        assert_eq!(
            disposition("乡镇分级", "town-grading", "xlsx"),
            "attachment; filename=\"town-grading.xlsx\"; \
             filename*=UTF-8''%E4%B9%A1%E9%95%87%E5%88%86%E7%BA%A7.xlsx"
        );
        // Quotes, spaces, slashes and the like never reach the quoted fallback, and the
        // UTF-8 name encodes everything outside RFC 5987's attr-char.
        assert_eq!(
            disposition("a/b \"c\";d", "by \"x\"/..\\y", "csv"),
            "attachment; filename=\"byx..y.csv\"; filename*=UTF-8''a%2Fb%20%22c%22%3Bd.csv"
        );
        assert!(disposition("表", "隐患", "csv").contains("filename=\"export.csv\""));
    }

    fn region(code: &str, name: &str, parent: Option<&str>) -> Region {
        Region {
            code: code.into(),
            name: name.into(),
            parent: parent.map(str::to_string),
        }
    }

    fn count(month: &str, region: &str, industry: &str, kind: &str, n: i64) -> HazardCount {
        HazardCount {
            month: month.into(),
            region_code: region.into(),
            industry: industry.into(),
            inspection_kind: kind.into(),
            count: n,
        }
    }

    #[test]
    fn towns_roll_up_into_their_district_and_shares_add_up() {
        let regions = [
            region("370300", "淄博市", None),
            region("370302", "淄川区", Some("370300")),
            region("370302103", "洪山镇", Some("370302")),
            region("370303", "张店区", Some("370300")),
            region("370303007", "科苑街道", Some("370303")),
        ];
        let counts = [
            count("2026-01", "370302103", "工贸", "enforcement", 2),
            count("2026-02", "370303007", "工贸", "self", 5),
            count("2026-02", "370303", "危险化学品", "enforcement", 1),
            count("2026-02", "370300", "工贸", "expert", 2),
        ];
        let table = hazard_table(&counts, HazardsBy::District, &regions, "全部时间");
        let rows: Vec<(String, i64)> = table
            .rows
            .iter()
            .map(|r| match (&r[1], &r[2]) {
                (Cell::Text(name), Cell::Int(n)) => (name.clone(), *n),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            rows,
            // Ties in code order.
            [
                ("张店区".to_string(), 6),
                ("淄博市".to_string(), 2),
                ("淄川区".to_string(), 2)
            ]
        );
        let shares: f64 = table
            .rows
            .iter()
            .map(|r| match r[3] {
                Cell::Percent(x) => x,
                _ => 0.0,
            })
            .sum();
        assert!((shares - 1.0).abs() < 1e-12);

        let months = hazard_table(&counts, HazardsBy::Month, &regions, "全部时间");
        assert_eq!(months.rows.len(), 2);
        assert_eq!(months.rows[0][0], Cell::Text("2026-01".into()));
        let kinds = hazard_table(&counts, HazardsBy::Kind, &regions, "全部时间");
        assert_eq!(kinds.rows[0][1], Cell::Text("企业自查".into()));
    }

    fn enterprise(code: &str, name: &str) -> EnterpriseName {
        EnterpriseName {
            credit_code: code.into(),
            name: name.into(),
            region_code: "370303007".into(),
        }
    }

    #[test]
    fn each_enterprise_month_is_on_time_late_missing_or_open() {
        let a = enterprise("913703030226339277", "甲公司");
        let b = enterprise("913703020590819387", "乙公司");
        let month = |month| Month { year: 2026, month };
        let months = Month::range(
            Month {
                year: 2026,
                month: 1,
            },
            Month {
                year: 2026,
                month: 4,
            },
        );
        let first = FirstSubmissions::from_submissions(
            [
                (month(1), NaiveDate::from_ymd_opt(2026, 2, 5)),
                (month(2), NaiveDate::from_ymd_opt(2026, 3, 9)),
                (month(2), NaiveDate::from_ymd_opt(2026, 3, 6)),
                // Outside the period.
                (month(5), NaiveDate::from_ymd_opt(2026, 5, 6)),
            ]
            .into_iter()
            .map(|(m, d)| (a.credit_code.as_str(), m, d.expect("date"))),
            &months,
        );
        let today = NaiveDate::from_ymd_opt(2026, 4, 10).expect("date");
        let (enterprises, no_names) = ([a.clone(), b], HashMap::new());
        let analysis = classify(&enterprises, &first, &months, 5, today, &no_names);
        // January: A on time, B missing; February: A late, B missing; March: both missing;
        // April: not due until 5 May.
        assert_eq!(
            analysis.summary,
            [[1, 0, 1, 0], [0, 1, 1, 0], [0, 0, 2, 0], [0, 0, 0, 2]]
        );
        // By month, then region, then credit code (B's sorts first).
        let listed: Vec<(String, &str, &str, Option<NaiveDate>)> = analysis
            .overdue
            .iter()
            .map(|o| {
                (
                    analysis.months[o.month].label(),
                    analysis.enterprises[o.enterprise].name.as_str(),
                    o.status.label(),
                    o.submitted,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                ("2026-01".into(), "乙公司", "未报", None),
                ("2026-02".into(), "乙公司", "未报", None),
                (
                    "2026-02".into(),
                    "甲公司",
                    "逾期",
                    NaiveDate::from_ymd_opt(2026, 3, 6)
                ),
                ("2026-03".into(), "乙公司", "未报", None),
                ("2026-03".into(), "甲公司", "未报", None),
            ]
        );
        // A page of the list holds those rows only; past the end, none.
        let (_, page) = self_tables(&analysis, 5, 1..3);
        assert_eq!(
            page.rows
                .iter()
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect::<Vec<_>>(),
            [
                (Cell::Text("2026-02".into()), Cell::Text("乙公司".into())),
                (Cell::Text("2026-02".into()), Cell::Text("甲公司".into())),
            ]
        );
        assert!(self_tables(&analysis, 5, 7..9).1.rows.is_empty());
        let (summary, overdue) = self_tables(&analysis, 5, 0..usize::MAX);
        assert_eq!(summary.rows[0][5], Cell::Percent(0.5));
        assert_eq!(
            summary.rows[3][5],
            Cell::Empty,
            "no rate before anything is due"
        );
        assert_eq!(overdue.rows.len(), 5);
    }

    #[test]
    fn month_ranges_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 10).expect("date");
        let default = SelfQuery::parse(None, today).expect("default");
        assert_eq!(
            (default.from.label(), default.until.label()),
            ("2025-04".to_string(), "2026-03".to_string())
        );
        for bad in [
            "from=2026-13",
            "from=2026-03&until=2026-01",
            "from=2019-01&until=2026-01",
            "deadline=31",
            "format=pdf",
        ] {
            assert!(SelfQuery::parse(Some(bad), today).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_grouping_or_format_is_refused() {
        assert!(parameters(Some("by=weekday")).is_err());
        assert!(parameters(Some("format=pdf")).is_err());
        assert_eq!(
            parameters(Some("by=industry&format=xlsx")).expect("valid"),
            (HazardsBy::Industry, Some("xlsx"))
        );
    }

    #[test]
    fn an_empty_grouping_or_format_is_refused_and_the_first_format_counts() {
        assert!(parameters(Some("by=")).is_err());
        assert!(parameters(Some("format=")).is_err());
        assert_eq!(
            parameters(Some("by=kind&by=town&format=csv&format=xlsx")).expect("valid"),
            (HazardsBy::Town, Some("csv"))
        );
        assert_eq!(parameters(None).expect("valid"), (HazardsBy::Month, None));
    }
}
