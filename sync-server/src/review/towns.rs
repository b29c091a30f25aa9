//! Towns and districts compared: inspection coverage of their enterprises by kind with a
//! ranking, and the A/B/C/D grading of towns from the configured indicators, each town's
//! breakdown shown.
//!
//! Every indicator is a rate over the period, counted from the same rows:
//! - coverage of a kind: enterprises with at least one submitted inspection of that kind
//!   started in the period, over the enterprises registered in the area;
//! - pass rate of a kind: those inspections that found no hazard, over all of them (each
//!   counted in the region it was recorded in);
//! - self-inspection upload rate: of the calendar months the period touches, those reported on
//!   time over those due (the monthly rule, each month judged whole);
//! - resident weekly report rate: over the enterprises that had a resident inspector in the
//!   period (at least one weekly report), the weeks with a report over the weeks of the period;
//! - duty-leader attendance: shifts attended over shifts due;
//! - health declaration: enterprises that declared for a year of the period, over all;
//! - permit management: among enterprises with a permit on file, those whose newest permit of
//!   every type is still valid on the period's last day.
//!
//! A rate with nothing to count (no enterprise, no inspection of the kind) is "no data" and
//! leaves the grade; see `analysis::grading`.

use std::collections::{BTreeMap, HashMap};

use axum::extract::RawQuery;
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use maud::{Markup, html};

use anjian_core::template::InspectionKind;
use anjian_core::time::china_date;

use super::analyses::{
    AnalysisFields, chart, dated_filters, export, export_format, export_links, table_html,
};
use super::page::{Page, scrolling};
use super::{ListQuery, PageResult, Session, china_midnight};
use crate::analysis::grading::{DEFAULT_CONFIG, GradingConfig, TownGrade};
use crate::analysis::monthly::{DEFAULT_DEADLINE_DAY, Month, MonthStatus, deadlines, status_by};
use crate::auth::Scope;
use crate::error::AppError;
use crate::report::{Cell, Column, Table, svg};
use crate::state::AppState;
use crate::store::{AreaCount, AreaGrouping, EnterpriseActivity, RecordFilter, Region};

const KINDS: [InspectionKind; 4] = [
    InspectionKind::SelfInspection,
    InspectionKind::Resident,
    InspectionKind::Expert,
    InspectionKind::Enforcement,
];

/// What one area's enterprises did in the period.
#[derive(Debug, Default, Clone)]
struct AreaStats {
    enterprises: usize,
    /// Per kind: enterprises covered, inspections, inspections without hazards.
    covered: [usize; 4],
    inspections: [usize; 4],
    passed: [usize; 4],
    self_on_time: i64,
    self_due: i64,
    resident_weeks: i64,
    resident_due_weeks: i64,
    shifts: i64,
    attended: i64,
    declared: usize,
    with_permits: usize,
    permits_valid: usize,
}

fn rate(part: impl Into<f64>, whole: impl Into<f64>) -> Option<f64> {
    let whole = whole.into();
    (whole > 0.0).then(|| part.into() / whole)
}

impl AreaStats {
    fn rates(&self) -> BTreeMap<String, f64> {
        let index = |kind: InspectionKind| KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        let (e, x, s) = (
            index(InspectionKind::Enforcement),
            index(InspectionKind::Expert),
            index(InspectionKind::SelfInspection),
        );
        let enterprises = self.enterprises as f64;
        [
            (
                "self_upload_rate",
                rate(self.self_on_time as f64, self.self_due as f64),
            ),
            (
                "self_pass_rate",
                rate(self.passed[s] as f64, self.inspections[s] as f64),
            ),
            (
                "enforcement_coverage",
                rate(self.covered[e] as f64, enterprises),
            ),
            (
                "enforcement_pass_rate",
                rate(self.passed[e] as f64, self.inspections[e] as f64),
            ),
            ("expert_coverage", rate(self.covered[x] as f64, enterprises)),
            (
                "expert_pass_rate",
                rate(self.passed[x] as f64, self.inspections[x] as f64),
            ),
            (
                "resident_weekly_rate",
                rate(self.resident_weeks as f64, self.resident_due_weeks as f64),
            ),
            (
                "duty_attendance_rate",
                rate(self.attended as f64, self.shifts as f64),
            ),
            (
                "health_declaration_rate",
                rate(self.declared as f64, enterprises),
            ),
            (
                "permit_valid_rate",
                rate(self.permits_valid as f64, self.with_permits as f64),
            ),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| (key.to_string(), v)))
        .collect()
    }
}

/// The period's first and last China day: the query's dates, by default the last twelve
/// closed months.
fn period(query: &ListQuery, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let last_closed_end = today
        .with_day(1)
        .and_then(|d| d.pred_opt())
        .unwrap_or(today);
    let default_from = Month {
        year: last_closed_end.year() - 1,
        month: last_closed_end.month(),
    }
    .next()
    .first_day()
    .unwrap_or(last_closed_end);
    (
        query.from.unwrap_or(default_from),
        query.until.unwrap_or(last_closed_end),
    )
}

/// Everything the page needs, read in one blocking call.
struct Inputs {
    regions: Vec<Region>,
    /// Credit code and region of each enterprise in scope, and whether it declared for a
    /// year of the period (grading only).
    enterprises: Vec<(String, String, bool)>,
    /// What each enterprise's inspections show over the period, per region inspected in.
    activities: Vec<EnterpriseActivity>,
    /// Inspections and those that found no hazard, per month, region and kind.
    counts: Vec<AreaCount>,
    /// Per town: shifts due and attended.
    attendance: HashMap<String, (i64, i64)>,
    permit_ends: Vec<(String, String, NaiveDate)>,
}

/// Per area (town, or district when `districts`): the statistics of its enterprises.
fn area_stats(
    inputs: &Inputs,
    from: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
    districts: bool,
) -> BTreeMap<String, AreaStats> {
    let parents: HashMap<&str, Option<&str>> = inputs
        .regions
        .iter()
        .map(|r| (r.code.as_str(), r.parent.as_deref()))
        .collect();
    let district_of = |code: &'_ str| -> String {
        let mut current = code;
        while let Some(Some(parent)) = parents.get(current) {
            if parents.get(parent).is_some_and(Option::is_some) {
                current = parent;
            } else {
                break;
            }
        }
        current.to_string()
    };
    let mut areas = Areas::default();
    for region in &inputs.regions {
        let area = if districts {
            district_of(&region.code)
        } else {
            region.code.clone()
        };
        let slot = areas.slot(area);
        areas.slot_of_region.insert(&region.code, slot);
    }
    let months = Month::range(Month::of(from), Month::of(until));
    let deadlines = deadlines(&months, DEFAULT_DEADLINE_DAY);
    let weeks = ((until - from).num_days() + 7).div_euclid(7).max(1);
    let mut ends_by_enterprise: HashMap<&str, Vec<NaiveDate>> = HashMap::new();
    for (code, _, end) in &inputs.permit_ends {
        ends_by_enterprise
            .entry(code.as_str())
            .or_default()
            .push(*end);
    }
    // Both lists are in credit code order (see `read_inputs`): each enterprise's activities
    // (one per region it was inspected in) follow the cursor.
    let activities = &inputs.activities;
    let mut cursor = 0;
    let mut resident_weeks: Vec<i64> = Vec::new();
    for (code, region, declared) in &inputs.enterprises {
        while activities
            .get(cursor)
            .is_some_and(|a| a.enterprise_code < *code)
        {
            cursor += 1;
        }
        let first = cursor;
        while activities
            .get(cursor)
            .is_some_and(|a| a.enterprise_code == *code)
        {
            cursor += 1;
        }
        let done = &activities[first..cursor];
        let stats = areas.of_region(region);
        stats.enterprises += 1;
        for (k, kind) in KINDS.iter().enumerate() {
            if done.iter().any(|activity| activity.started(*kind)) {
                stats.covered[k] += 1;
            }
        }
        for (index, deadline) in deadlines.iter().enumerate() {
            let first = done
                .iter()
                .filter_map(|activity| activity.self_first_submitted.get(index).copied().flatten())
                .min();
            match status_by(*deadline, first, today) {
                Some(MonthStatus::OnTime) => {
                    stats.self_on_time += 1;
                    stats.self_due += 1;
                }
                Some(_) => stats.self_due += 1,
                None => {}
            }
        }
        resident_weeks.clear();
        resident_weeks.extend(
            done.iter()
                .flat_map(|activity| &activity.resident_days)
                .map(|day| (*day - from).num_days().div_euclid(7)),
        );
        if !resident_weeks.is_empty() {
            resident_weeks.sort_unstable();
            resident_weeks.dedup();
            stats.resident_weeks += resident_weeks.len() as i64;
            stats.resident_due_weeks += weeks;
        }
        if *declared {
            stats.declared += 1;
        }
        if let Some(ends) = ends_by_enterprise.get(code.as_str()) {
            stats.with_permits += 1;
            if ends.iter().all(|end| *end >= until) {
                stats.permits_valid += 1;
            }
        }
    }
    for count in &inputs.counts {
        let Some(k) = KINDS
            .iter()
            .position(|k| k.as_str() == count.inspection_kind)
        else {
            continue;
        };
        let stats = areas.of_region(&count.region_code);
        stats.inspections[k] += count.inspections as usize;
        stats.passed[k] += count.passed as usize;
    }
    for (region, (shifts, attended)) in &inputs.attendance {
        let stats = areas.of_region(region);
        stats.shifts += shifts;
        stats.attended += attended;
    }
    areas.into_stats()
}

/// Each area's statistics, found by the code of a region in it.
#[derive(Default)]
struct Areas<'a> {
    slot_of_region: HashMap<&'a str, usize>,
    slot_of_area: HashMap<String, usize>,
    stats: Vec<AreaStats>,
}

impl Areas<'_> {
    fn slot(&mut self, area: String) -> usize {
        let stats = &mut self.stats;
        *self.slot_of_area.entry(area).or_insert_with(|| {
            stats.push(AreaStats::default());
            stats.len() - 1
        })
    }

    /// A region not in the list (none should be) is an area of its own.
    fn of_region(&mut self, region: &str) -> &mut AreaStats {
        let slot = match self.slot_of_region.get(region) {
            Some(slot) => *slot,
            None => self.slot(region.to_string()),
        };
        &mut self.stats[slot]
    }

    /// Areas that have enterprises, inspections or shifts (when grading towns, a district
    /// has none of its own), by code.
    fn into_stats(mut self) -> BTreeMap<String, AreaStats> {
        self.slot_of_area
            .into_iter()
            .map(|(area, slot)| (area, std::mem::take(&mut self.stats[slot])))
            .filter(|(_, s)| {
                s.enterprises > 0 || s.inspections.iter().any(|n| *n > 0) || s.shifts > 0
            })
            .collect()
    }
}

/// What an analysis of towns reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// The enterprises and their inspection histories only.
    Coverage,
    /// Everything grading's indicators count.
    Grading,
}

/// Reads the inputs, for grading in two halves at once on two of the store's connections:
/// the enterprises (with their declarations, for grading) and their activity, then the area
/// counts, duty-leader shifts and permits. (Each read is its own snapshot either way.)
/// Coverage reads the first half only.
async fn read_inputs(
    state: &AppState,
    user: &crate::store::User,
    from: NaiveDate,
    until: NaiveDate,
    reading: Reading,
) -> Result<Inputs, AppError> {
    let (first_user, second_user) = (user.clone(), user.clone());
    let per_enterprise = state.blocking(move |store| {
        let regions = store.regions()?;
        let scope = Scope::of(&first_user, &regions);
        let records = scope.records();
        let declared_in = (reading == Reading::Grading).then_some(from.year()..=until.year());
        let mut enterprises = store.enterprise_regions(&records, declared_in)?;
        let mut activities = store.enterprise_activity(&records, from, until)?;
        // `area_stats` walks both in code order.
        enterprises.sort_unstable();
        activities.sort_unstable_by(|a, b| a.enterprise_code.cmp(&b.enterprise_code));
        Ok((regions, enterprises, activities))
    });
    let per_area = async move {
        if reading == Reading::Coverage {
            return Ok((Vec::new(), HashMap::new(), Vec::new()));
        }
        state
            .blocking(move |store| {
                let records = Scope::of(&second_user, &store.regions()?).records();
                let filter = RecordFilter {
                    started_from: china_midnight(from),
                    started_before: until.succ_opt().and_then(china_midnight),
                    ..RecordFilter::default()
                };
                let by_region = AreaGrouping {
                    month: false,
                    region: true,
                    industry: false,
                };
                let counts = store.area_counts(&records, &filter, by_region)?;
                let mut attendance: HashMap<String, (i64, i64)> = HashMap::new();
                for count in store.attendance_counts(&records, Some(from), Some(until), false)? {
                    let entry = attendance.entry(count.region_code).or_default();
                    entry.0 += count.shifts;
                    entry.1 += count.present;
                }
                Ok((counts, attendance, store.permit_ends(&records)?))
            })
            .await
    };
    let (per_enterprise, per_area) = tokio::try_join!(per_enterprise, per_area)?;
    let (regions, enterprises, activities) = per_enterprise;
    let (counts, attendance, permit_ends) = per_area;
    Ok(Inputs {
        regions,
        enterprises,
        activities,
        counts,
        attendance,
        permit_ends,
    })
}

fn area_name(regions: &[Region], code: &str) -> String {
    regions
        .iter()
        .find(|r| r.code == code)
        .map_or(code.to_string(), |r| r.name.clone())
}

/// What a coverage table's areas are: districts or towns.
fn level_name(districts: bool) -> &'static str {
    if districts {
        "区县"
    } else {
        "乡镇（街道）"
    }
}

fn percent(value: Option<f64>) -> Cell {
    value.map_or(Cell::Empty, Cell::Percent)
}

/// Inspection coverage per town or district within the user's scope, ranked by enforcement
/// coverage: the page, its exports and the JSON API (`GET /api/v1/analyses/coverage`) all
/// come from here. `raw` carries the analysis's own `level`.
pub(crate) struct CoverageAnalysis {
    pub(crate) table: Table,
    from: NaiveDate,
    until: NaiveDate,
    districts: bool,
    /// Each area's name and enforcement coverage, in rank order.
    bars: Vec<(String, f64)>,
}

pub(crate) async fn coverage_analysis(
    state: &AppState,
    user: &crate::store::User,
    query: &ListQuery,
    raw: Option<&str>,
) -> Result<CoverageAnalysis, AppError> {
    let mut districts = false;
    for level in &AnalysisFields::read(raw)?.level {
        districts = match level.as_str() {
            "district" => true,
            "town" | "" => false,
            other => {
                return Err(AppError::bad_request(
                    "invalid_query",
                    format!(
                        "汇总层级 {other:?} 无效：应为 town（乡镇（街道））或 district（区县）"
                    ),
                ));
            }
        };
    }
    let today = china_date(Utc::now());
    let (from, until) = period(query, today);
    let inputs = read_inputs(state, user, from, until, Reading::Coverage).await?;
    let areas = area_stats(&inputs, from, until, today, districts);
    let level = level_name(districts);
    let mut columns = vec![
        Column::new("rank", "执法覆盖排名"),
        Column::new("code", "代码"),
        Column::new("name", level),
        Column::new("enterprises", "企业数"),
    ];
    for kind in KINDS {
        columns.push(Column::new(
            format!("{}_covered", kind.as_str()),
            format!("{}覆盖企业", kind.label()),
        ));
        columns.push(Column::new(
            format!("{}_coverage", kind.as_str()),
            format!("{}覆盖率", kind.label()),
        ));
    }
    let mut table = Table::new(
        format!("检查覆盖率（按{level}，{from} 至 {until}）"),
        columns,
    );
    let enforcement = KINDS
        .iter()
        .position(|k| *k == InspectionKind::Enforcement)
        .unwrap_or(3);
    let mut ranked: Vec<(&String, &AreaStats)> = areas.iter().collect();
    let coverage_of = |s: &AreaStats| rate(s.covered[enforcement] as f64, s.enterprises as f64);
    ranked.sort_by(|a, b| {
        coverage_of(b.1)
            .unwrap_or(-1.0)
            .total_cmp(&coverage_of(a.1).unwrap_or(-1.0))
            .then(a.0.cmp(b.0))
    });
    for (index, (code, stats)) in ranked.iter().enumerate() {
        let mut row = vec![
            Cell::Int(index as i64 + 1),
            Cell::Text((*code).clone()),
            Cell::Text(area_name(&inputs.regions, code)),
            Cell::Int(stats.enterprises as i64),
        ];
        for k in 0..KINDS.len() {
            row.push(Cell::Int(stats.covered[k] as i64));
            row.push(percent(rate(
                stats.covered[k] as f64,
                stats.enterprises as f64,
            )));
        }
        table.rows.push(row);
    }
    let bars: Vec<(String, f64)> = ranked
        .iter()
        .map(|(code, stats)| {
            (
                area_name(&inputs.regions, code),
                coverage_of(stats).unwrap_or(0.0),
            )
        })
        .collect();
    Ok(CoverageAnalysis {
        table,
        from,
        until,
        districts,
        bars,
    })
}

pub(super) async fn coverage(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = ListQuery::parse(raw.as_deref())?;
    let format = export_format(raw.as_deref())?;
    let CoverageAnalysis {
        table,
        from,
        until,
        districts,
        bars,
    } = coverage_analysis(&state, &caller.user, &query, raw.as_deref()).await?;
    if let Some(format) = format {
        return Ok(export(
            &[&table],
            format,
            "检查覆盖率",
            "inspection-coverage",
        )?);
    }
    let level = level_name(districts);
    let drawing = svg::bar(
        &bars,
        &svg::Options::new(format!("执法检查覆盖率（按{level}）")).percent(),
    );
    let level_choice = html! {
        label { input type="radio" name="level" value="town" checked[!districts]; " 乡镇（街道）" }
        label { input type="radio" name="level" value="district" checked[districts]; " 区县" }
    };
    let export = format!(
        "/review/analyses/coverage?from={from}&until={until}{}&",
        if districts { "&level=district" } else { "" }
    );
    let body = html! {
        h1 { "检查覆盖率与排名" }
        (dated_filters("/review/analyses/coverage", Some(from), Some(until), level_choice))
        p {
            "某类检查的覆盖率 = 期间内至少有一次该类已提交检查的企业 ÷ 辖区登记企业。按执法检查覆盖率排名。"
            (export_links(&export, "CSV", "Excel"))
        }
        (chart(drawing))
        (table_html(&table, "coverage"))
    };
    Ok(Page::new("检查覆盖率与排名").body(body).html(Some(&caller)))
}

/// The towns graded within the user's scope, with each score's breakdown: the page, its
/// exports and the JSON API (`GET /api/v1/analyses/grading`) all come from here.
pub(crate) struct GradingAnalysis {
    pub(crate) table: Table,
    pub(crate) breakdown: Table,
    from: NaiveDate,
    until: NaiveDate,
    config: GradingConfig,
    regions: Vec<Region>,
    /// Each town's code and grade, best first.
    graded: Vec<(String, TownGrade)>,
}

pub(crate) async fn grading_analysis(
    state: &AppState,
    user: &crate::store::User,
    query: &ListQuery,
) -> Result<GradingAnalysis, AppError> {
    let config = GradingConfig::parse("grading.toml", DEFAULT_CONFIG)
        .map_err(|e| AppError::internal("grading", e))?;
    let today = china_date(Utc::now());
    let (from, until) = period(query, today);
    let inputs = read_inputs(state, user, from, until, Reading::Grading).await?;
    let areas = area_stats(&inputs, from, until, today, false);
    let mut graded: Vec<(String, TownGrade)> = areas
        .iter()
        .map(|(code, stats)| (code.clone(), config.grade(&stats.rates())))
        .collect();
    graded.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));

    let mut columns = vec![
        Column::new("rank", "排名"),
        Column::new("code", "代码"),
        Column::new("name", "乡镇（街道）"),
        Column::new("grade", "等级"),
        Column::new("score", "得分"),
    ];
    for indicator in &config.indicators {
        columns.push(Column::new(indicator.key.clone(), indicator.label.clone()));
    }
    let mut table = Table::new(format!("乡镇（街道）分级（{from} 至 {until}）"), columns);
    for (index, (code, grade)) in graded.iter().enumerate() {
        let mut row = vec![
            Cell::Int(index as i64 + 1),
            Cell::Text(code.clone()),
            Cell::Text(area_name(&inputs.regions, code)),
            Cell::Text(grade.grade.as_str().to_string()),
            Cell::Real(grade.score),
        ];
        row.extend(grade.parts.iter().map(|part| percent(part.rate)));
        table.rows.push(row);
    }
    let mut breakdown = Table::new(
        "各乡镇（街道）得分明细",
        vec![
            Column::new("code", "代码"),
            Column::new("name", "乡镇（街道）"),
            Column::new("indicator", "指标"),
            Column::new("weight", "权重"),
            Column::new("effective_weight", "计分权重"),
            Column::new("rate", "达成率"),
            Column::new("points", "得分"),
        ],
    );
    for (code, grade) in &graded {
        for part in &grade.parts {
            breakdown.rows.push(vec![
                Cell::Text(code.clone()),
                Cell::Text(area_name(&inputs.regions, code)),
                Cell::Text(part.label.clone()),
                Cell::Real(part.weight),
                Cell::Real(part.effective_weight),
                percent(part.rate),
                Cell::Real(part.points),
            ]);
        }
    }
    Ok(GradingAnalysis {
        table,
        breakdown,
        from,
        until,
        config,
        regions: inputs.regions,
        graded,
    })
}

pub(super) async fn grading(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let query = ListQuery::parse(raw.as_deref())?;
    let format = export_format(raw.as_deref())?;
    let GradingAnalysis {
        table,
        breakdown,
        from,
        until,
        config,
        regions,
        graded,
    } = grading_analysis(&state, &caller.user, &query).await?;
    if let Some(format) = format {
        return Ok(export(
            &[&table, &breakdown],
            format,
            "乡镇分级",
            "town-grading",
        )?);
    }
    let bars: Vec<(String, f64)> = graded
        .iter()
        .map(|(code, grade)| (area_name(&regions, code), grade.score))
        .collect();
    let drawing = svg::bar(&bars, &svg::Options::new("乡镇（街道）得分"));
    let t = config.thresholds;
    let body = html! {
        h1 { "乡镇（街道）分级" }
        (dated_filters("/review/analyses/grading", Some(from), Some(until), html! {}))
        p {
            "只用可量化指标；得分 ≥ " (t.a) " 为 A 级，≥ " (t.b) " 为 B 级，≥ " (t.c)
            " 为 C 级，其余为 D 级（各项权重见下方明细）。"
            "某项没有数据的乡镇不计该项，其余权重按比例放大。"
            (export_links(&format!("/review/analyses/grading?from={from}&until={until}&"), "CSV", "Excel（含明细）"))
        }
        (chart(drawing))
        (table_html(&table, "grading"))
        @for (code, grade) in &graded { (grade_details(code, &area_name(&regions, code), grade)) }
    };
    Ok(Page::new("乡镇（街道）分级").body(body).html(Some(&caller)))
}

/// How one area's score was made: each indicator's weight, rate and points.
fn grade_details(code: &str, name: &str, grade: &TownGrade) -> Markup {
    html! {
        h2 id={ "town-" (code) } {
            (name) "：" span class="grade" { (grade.grade.as_str()) } " 级，"
            (format!("{:.2}", grade.score)) " 分"
        }
        (scrolling(html! {
            table class="breakdown" {
                thead { tr { th { "指标" } th { "权重" } th { "计分权重" } th { "达成率" } th { "得分" } } }
                tbody {
                    @for part in &grade.parts {
                        tr {
                            td { (part.label) }
                            td class="num" { (part.weight.to_string()) }
                            td class="num" { (format!("{:.2}", part.effective_weight)) }
                            td class="num" {
                                (part.rate.map_or("无数据".to_string(), |r| format!("{:.1}%", r * 100.0)))
                            }
                            td class="num" { (format!("{:.2}", part.points)) }
                        }
                    }
                }
            }
        }))
    }
}
