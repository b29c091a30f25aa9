//! The analyses pages. Each analysis is one table built from the store's counts, drawn as a
//! chart beside it and exported as CSV and Excel from the same table, so the three cannot
//! disagree.

use std::collections::{BTreeMap, HashMap};

use axum::extract::RawQuery;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use anjian_core::template::InspectionKind;

use super::page::Page;
use super::{ListQuery, PageResult, Session, checked, record_scope, url_encode};
use crate::auth::Scope;
use crate::error::AppError;
use crate::report::{self, Cell, Column, Table, escape, svg};
use crate::state::AppState;
use crate::store::{HazardCount, Region, User};

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

/// The analysis's own parameters: what to group by, and the export format.
fn parameters(raw: Option<&str>) -> Result<(HazardsBy, Option<&'static str>), AppError> {
    let mut by = HazardsBy::Month;
    let mut format = None;
    for pair in raw.unwrap_or("").split('&') {
        match pair.split_once('=') {
            Some(("by", value)) => {
                by = HazardsBy::ALL
                    .into_iter()
                    .find(|b| b.key() == value)
                    .ok_or_else(|| {
                        AppError::bad_request("invalid_query", format!("分组方式 {value} 无效"))
                    })?
            }
            Some(("format", "csv")) => format = Some("csv"),
            Some(("format", "xlsx")) => format = Some("xlsx"),
            Some(("format", other)) => {
                return Err(AppError::bad_request(
                    "invalid_query",
                    format!("导出格式 {other} 无效：应为 csv 或 xlsx"),
                ));
            }
            _ => {}
        }
    }
    Ok((by, format))
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

fn cell_html(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => escape(text),
        Cell::Int(n) => n.to_string(),
        Cell::Real(x) => format!("{x:.2}"),
        Cell::Percent(x) => format!("{:.1}%", x * 100.0),
        Cell::Date(d) => d.to_string(),
        Cell::Empty => String::new(),
    }
}

fn table_html(table: &Table, id: &str) -> String {
    let mut html = format!("<table id=\"{id}\"><thead><tr>");
    for column in &table.columns {
        html.push_str(&format!("<th>{}</th>", escape(&column.label)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        html.push_str("<tr>");
        for (column, cell) in table.columns.iter().zip(row) {
            let class = if matches!(cell, Cell::Int(_) | Cell::Real(_) | Cell::Percent(_)) {
                " class=\"num\""
            } else {
                ""
            };
            html.push_str(&format!(
                "<td data-column=\"{}\"{class}>{}</td>",
                escape(&column.key),
                cell_html(cell)
            ));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"hazards\"; filename*=UTF-8''{}",
        url_encode(file_name)
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
            let counts = store.hazard_counts(&record_scope(&scope), &for_store.filter(&regions))?;
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
    match format {
        Some("csv") => {
            return Ok(download(
                report::table::to_csv(&table),
                "text/csv; charset=utf-8",
                &format!("{}.csv", table.title),
            ));
        }
        Some(_) => {
            let bytes =
                report::xlsx::workbook(&[&table]).map_err(|e| AppError::internal("xlsx", e))?;
            return Ok(download(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{}.xlsx", table.title),
            ));
        }
        None => {}
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
    let chart = match by {
        HazardsBy::Month => svg::line(&series, &options),
        _ => svg::bar(&series, &options),
    };
    let mut by_links = String::new();
    for choice in HazardsBy::ALL {
        by_links.push_str(&format!(
            "<label><input type=\"radio\" name=\"by\" value=\"{}\"{}> {}</label> ",
            choice.key(),
            checked(choice == by),
            choice.label()
        ));
    }
    let mut kinds = String::new();
    for kind in [
        InspectionKind::SelfInspection,
        InspectionKind::Resident,
        InspectionKind::Expert,
        InspectionKind::Enforcement,
    ] {
        kinds.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"kind\" value=\"{}\"{}> {}</label> ",
            kind.as_str(),
            checked(query.kinds.iter().any(|k| k == kind.as_str())),
            kind.label()
        ));
    }
    let export_query = raw
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("format="))
        .collect::<Vec<_>>()
        .join("&");
    let body = format!(
        "<h1>隐患统计</h1>\
         <form class=\"filters\" id=\"filters\" method=\"get\" action=\"/review/analyses/hazards\">\
         <label>起始日期 <input type=\"date\" name=\"from\" value=\"{from}\"></label>\
         <label>截止日期 <input type=\"date\" name=\"until\" value=\"{until}\"></label>\
         <fieldset><legend>检查类型</legend>{kinds}</fieldset>\
         <fieldset><legend>分组</legend>{by_links}</fieldset>\
         <button type=\"submit\">统计</button></form>\
         <p>已提交的检查记录中发现的隐患，共 <strong id=\"total\">{total}</strong> 条（{period}）。\
         导出：<a id=\"export-csv\" href=\"/review/analyses/hazards?{q}&amp;format=csv\">CSV</a> · \
         <a id=\"export-xlsx\" href=\"/review/analyses/hazards?{q}&amp;format=xlsx\">Excel</a></p>\
         <div class=\"chart\">{chart}</div>{table}",
        from = query.from.map_or(String::new(), |d| d.to_string()),
        until = query.until.map_or(String::new(), |d| d.to_string()),
        q = escape(&export_query),
        period = escape(&period),
        table = table_html(&table, "analysis"),
    );
    Ok(Page::new("隐患统计").body(body).html(Some(&caller)))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn unknown_grouping_or_format_is_refused() {
        assert!(parameters(Some("by=weekday")).is_err());
        assert!(parameters(Some("format=pdf")).is_err());
        assert_eq!(
            parameters(Some("by=industry&format=xlsx")).expect("valid"),
            (HazardsBy::Industry, Some("xlsx"))
        );
    }
}
