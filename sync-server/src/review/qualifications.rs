//! Certificates and permits: the certified principal persons, safety managers and
//! special-operation workers (valid, expiring, expired), and the permit overdue rate per year
//! with each industry's maximum, minimum and average over the districts.
//!
//! A permit that ended in a year (before today) is overdue when no permit of the same type for
//! the same enterprise took over by the next day; the rate is overdue permits over permits
//! that ended. An industry's maximum, minimum and average are over the districts that had
//! permits of that industry end in the year.

use std::collections::{BTreeMap, HashMap};

use axum::extract::RawQuery;
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use maud::html;

use anjian_core::time::china_date;

use super::analyses::{AnalysisFields, chart, export, export_format, export_links, table_html};
use super::page::Page;
use super::{PageResult, Session};
use crate::auth::Scope;
use crate::error::AppError;
use crate::report::{Cell, Column, Table, svg};
use crate::state::AppState;
use crate::store::{CertificateCount, PermitRow, Region, StaffRole, User};

/// A certificate this close to its last day counts as expiring.
const EXPIRING_DAYS: i64 = 90;

/// The district of a region: itself or its ancestor directly under a top-level region.
fn district_of(code: &str, regions: &[Region]) -> String {
    let parent = |c: &str| {
        regions
            .iter()
            .find(|r| r.code == c)
            .and_then(|r| r.parent.clone())
    };
    let mut current = code.to_string();
    while let Some(up) = parent(&current) {
        if parent(&up).is_none() {
            break;
        }
        current = up;
    }
    current
}

fn name_of(code: &str, regions: &[Region]) -> String {
    regions
        .iter()
        .find(|r| r.code == code)
        .map_or(code.to_string(), |r| r.name.clone())
}

/// Per role: valid, expiring, expired on `on`, in the roles' order.
fn certificate_table(counted: &[CertificateCount], on: NaiveDate) -> Table {
    let mut counts: BTreeMap<usize, [i64; 3]> = BTreeMap::new();
    for count in counted {
        let rank = StaffRole::ALL
            .iter()
            .position(|r| r.label() == count.role)
            .unwrap_or(StaffRole::ALL.len());
        let slots = counts.entry(rank).or_default();
        slots[0] += count.valid;
        slots[1] += count.expiring;
        slots[2] += count.expired;
    }
    let mut table = Table::new(
        format!("持证情况（截至 {on}）"),
        vec![
            Column::new("role", "人员类别"),
            Column::new("certified", "持证人数"),
            Column::new("valid", "有效"),
            Column::new("expiring", "即将到期（90 日内）"),
            Column::new("expired", "已过期"),
            Column::new("valid_rate", "有效率"),
        ],
    );
    for (rank, [valid, expiring, expired]) in counts {
        let total = valid + expiring + expired;
        table.rows.push(vec![
            Cell::Text(
                StaffRole::ALL
                    .get(rank)
                    .map_or("其他".to_string(), |r| r.label().to_string()),
            ),
            Cell::Int(total),
            Cell::Int(valid),
            Cell::Int(expiring),
            Cell::Int(expired),
            Cell::Percent((valid + expiring) as f64 / total as f64),
        ]);
    }
    table
}

/// The certificates held within the user's scope on the day `on` asks for (today without
/// it): the page, its exports and the JSON API (`GET /api/v1/analyses/certificates`) all
/// come from here. Also answers the day counted.
pub(crate) async fn certificate_analysis(
    state: &AppState,
    user: &User,
    raw: Option<&str>,
) -> Result<(Table, NaiveDate), AppError> {
    let on = match AnalysisFields::read(raw)?
        .on
        .first()
        .filter(|v| !v.is_empty())
    {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            AppError::bad_request("invalid_query", format!("日期 {text:?} 应为 YYYY-MM-DD"))
        })?,
        None => china_date(Utc::now()),
    };
    let user = user.clone();
    let rows = state
        .blocking(move |store| {
            let regions = store.regions()?;
            store.certificate_counts(
                &Scope::of(&user, &regions).records(),
                on,
                on + chrono::Duration::days(EXPIRING_DAYS),
            )
        })
        .await?;
    Ok((certificate_table(&rows, on), on))
}

pub(super) async fn certificates(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let format = export_format(raw.as_deref())?;
    let (table, on) = certificate_analysis(&state, &caller.user, raw.as_deref()).await?;
    if let Some(format) = format {
        return Ok(export(&[&table], format, "持证情况", "certificates")?);
    }
    let roles: Vec<String> = table
        .rows
        .iter()
        .filter_map(|r| match &r[0] {
            Cell::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let series: Vec<svg::Series> = [("有效", 2), ("即将到期", 3), ("已过期", 4)]
        .into_iter()
        .map(|(name, column)| {
            svg::Series::new(
                name,
                table
                    .rows
                    .iter()
                    .map(|r| match r[column] {
                        Cell::Int(n) => n as f64,
                        _ => 0.0,
                    })
                    .collect(),
            )
        })
        .collect();
    let drawing = svg::stacked_bar(
        &roles,
        &series,
        &svg::Options::new(table.title.clone()).colours(&[
            svg::STATE_DONE,
            svg::STATE_SOON,
            svg::STATE_LATE,
        ]),
    );
    let body = html! {
        h1 { "持证情况" }
        form class="filters" id="filters" method="get" action="/review/analyses/certificates" {
            label { "截至日期 " input type="date" name="on" value=(on.to_string()); }
            button type="submit" { "统计" }
        }
        p {
            "主要负责人、安全管理人员和特种作业人员的证书，按截至日期分为有效、90 日内到期和已过期。"
            (export_links(&format!("/review/analyses/certificates?on={on}&"), "CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(&table, "certificates"))
    };
    Ok(Page::new("持证情况").body(body).html(Some(&caller)))
}

/// Whether a permit that ended was taken over by another of the same enterprise and type
/// starting no later than the day after it ended.
fn renewed_in_time(permit: &PermitRow, all: &[PermitRow]) -> bool {
    let next_day = permit.valid_until.succ_opt().unwrap_or(permit.valid_until);
    all.iter().any(|other| {
        other.credit_code == permit.credit_code
            && other.permit_type == permit.permit_type
            && other.valid_until > permit.valid_until
            && other.valid_from <= next_day
    })
}

fn permit_table(rows: &[PermitRow], regions: &[Region], today: NaiveDate) -> Table {
    // (year, industry) → district → (ended, overdue)
    let mut groups: BTreeMap<(i32, String), HashMap<String, (i64, i64)>> = BTreeMap::new();
    for permit in rows.iter().filter(|p| p.valid_until < today) {
        let entry = groups
            .entry((permit.valid_until.year(), permit.industry.clone()))
            .or_default()
            .entry(district_of(&permit.region_code, regions))
            .or_default();
        entry.0 += 1;
        if !renewed_in_time(permit, rows) {
            entry.1 += 1;
        }
    }
    let mut table = Table::new(
        "许可证逾期率（按年度、行业）",
        vec![
            Column::new("year", "年度"),
            Column::new("industry", "行业"),
            Column::new("ended", "到期许可证"),
            Column::new("overdue", "逾期未续"),
            Column::new("rate", "逾期率"),
            Column::new("district_max", "区县最高"),
            Column::new("district_max_name", "最高区县"),
            Column::new("district_min", "区县最低"),
            Column::new("district_average", "区县平均"),
        ],
    );
    for ((year, industry), districts) in groups {
        let (ended, overdue) = districts
            .values()
            .fold((0, 0), |(e, o), (de, dov)| (e + de, o + dov));
        let mut rates: Vec<(String, f64)> = districts
            .iter()
            .map(|(code, (e, o))| (code.clone(), *o as f64 / *e as f64))
            .collect();
        rates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let average = rates.iter().map(|r| r.1).sum::<f64>() / rates.len() as f64;
        table.rows.push(vec![
            Cell::Int(i64::from(year)),
            Cell::Text(industry),
            Cell::Int(ended),
            Cell::Int(overdue),
            Cell::Percent(overdue as f64 / ended as f64),
            Cell::Percent(rates.first().map_or(0.0, |r| r.1)),
            Cell::Text(
                rates
                    .first()
                    .map_or(String::new(), |r| name_of(&r.0, regions)),
            ),
            Cell::Percent(rates.last().map_or(0.0, |r| r.1)),
            Cell::Percent(average),
        ]);
    }
    table
}

/// The permits' overdue rates within the user's scope: the page, its exports and the JSON
/// API (`GET /api/v1/analyses/permits`) all come from here.
pub(crate) async fn permit_analysis(state: &AppState, user: &User) -> Result<Table, AppError> {
    let user = user.clone();
    let (rows, regions) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let rows = store.permits(&Scope::of(&user, &regions).records())?;
            Ok((rows, regions))
        })
        .await?;
    Ok(permit_table(&rows, &regions, china_date(Utc::now())))
}

pub(super) async fn permits(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let format = export_format(raw.as_deref())?;
    let table = permit_analysis(&state, &caller.user).await?;
    if let Some(format) = format {
        return Ok(export(
            &[&table],
            format,
            "许可证逾期率",
            "permit-overdue-rates",
        )?);
    }
    let bars: Vec<(String, f64)> = table
        .rows
        .iter()
        .filter_map(|r| match (&r[0], &r[1], &r[4]) {
            (Cell::Int(year), Cell::Text(industry), Cell::Percent(rate)) => {
                Some((format!("{year} {industry}"), *rate))
            }
            _ => None,
        })
        .collect();
    let drawing = svg::bar(&bars, &svg::Options::new(table.title.clone()).percent());
    let body = html! {
        h1 { "许可证逾期率" }
        p {
            "某年到期的许可证，若次日前没有同一企业同类新证接续，即为逾期未续；逾期率 = 逾期未续 ÷ 到期许可证。"
            "区县最高、最低、平均为该行业各区县逾期率的极值和平均。"
            (export_links("/review/analyses/permits?", "CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(&table, "permits"))
    };
    Ok(Page::new("许可证逾期率").body(body).html(Some(&caller)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permit(code: &str, region: &str, from: &str, until: &str) -> PermitRow {
        PermitRow {
            credit_code: code.into(),
            permit_type: "安全生产许可证".into(),
            valid_from: NaiveDate::parse_from_str(from, "%Y-%m-%d").expect("date"),
            valid_until: NaiveDate::parse_from_str(until, "%Y-%m-%d").expect("date"),
            industry: "危险化学品".into(),
            region_code: region.into(),
        }
    }

    fn region(code: &str, name: &str, parent: Option<&str>) -> Region {
        Region {
            code: code.into(),
            name: name.into(),
            parent: parent.map(str::to_string),
        }
    }

    #[test]
    fn a_permit_is_overdue_unless_the_next_one_starts_by_the_day_after() {
        let regions = [
            region("370300", "淄博市", None),
            region("370305", "临淄区", Some("370300")),
            region("370305003", "辛店街道", Some("370305")),
            region("370302", "淄川区", Some("370300")),
        ];
        let rows = [
            // Renewed the next day: in time.
            permit("A", "370305003", "2021-06-01", "2024-05-31"),
            permit("A", "370305003", "2024-06-01", "2027-05-31"),
            // Renewed two days late: overdue.
            permit("B", "370305003", "2021-01-01", "2024-03-01"),
            permit("B", "370305003", "2024-03-03", "2027-03-02"),
            // Never renewed: overdue.
            permit("C", "370302", "2021-01-01", "2024-08-01"),
            // Still running: not counted.
            permit("D", "370302", "2024-01-01", "2027-01-01"),
        ];
        let today = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
        let table = permit_table(&rows, &regions, today);
        assert_eq!(table.rows.len(), 1);
        let row = &table.rows[0];
        assert_eq!(row[0], Cell::Int(2024));
        assert_eq!((&row[2], &row[3]), (&Cell::Int(3), &Cell::Int(2)));
        assert_eq!(row[4], Cell::Percent(2.0 / 3.0));
        // 淄川区 1 of 1, 临淄区 1 of 2.
        assert_eq!(row[5], Cell::Percent(1.0));
        assert_eq!(row[6], Cell::Text("淄川区".into()));
        assert_eq!(row[7], Cell::Percent(0.5));
        assert_eq!(row[8], Cell::Percent(0.75));
    }

    #[test]
    fn certificates_are_tabled_per_role_in_the_roles_order() {
        let on = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let count = |role: &str, valid, expiring, expired| CertificateCount {
            role: role.into(),
            valid,
            expiring,
            expired,
        };
        let table = certificate_table(
            &[count("特种作业人员", 1, 2, 1), count("主要负责人", 1, 0, 0)],
            on,
        );
        // Roles in list order: 主要负责人 first.
        assert_eq!(table.rows[0][0], Cell::Text("主要负责人".into()));
        assert_eq!(
            table.rows[1][1..5],
            [Cell::Int(4), Cell::Int(1), Cell::Int(2), Cell::Int(1)]
        );
        assert_eq!(table.rows[1][5], Cell::Percent(0.75));
    }
}
