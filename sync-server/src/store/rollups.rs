//! What the analyses read instead of every submitted inspection and every duty-leader shift:
//! rollups kept in the writing transaction, and the router that answers a range of China
//! days from them.
//!
//! - `inspection_days` and `inspection_months`: per China day (month) and region, industry
//!   and inspection kind, the inspections started, those that found no hazard, the hazards
//!   they found. A range reads whole months from the second and its partial edge months,
//!   day by day, from the first.
//! - `inspection_years`: per enterprise, kind, China year and region, the days on which an
//!   inspection started (a bitmap) and, per month, the first submission of an inspection
//!   started in it: coverage, the resident inspector's weeks and the monthly self-inspection
//!   deadline are all read from these.
//! - `attendance_months`: per enterprise and month, the duty-leader shifts due and attended,
//!   recounted for the months an attendance import wrote.
//!
//! Reading every record was the cost: each sits beside its Automerge document, so a
//! city-wide three-year analysis read 145,000–280,000 pages (0.5–1.7 s in the seeded city).
//!
//! A submitted inspection is locked on upload and its projection never changes after that,
//! so in practice a record only ever joins the rollups; leaving them is handled too (the
//! area tables by a negative delta, the year rows by recounting them from their records).
//! [`rebuild`] recomputes them all from the records; a test keeps both ways equal.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};

use super::reference::{Cell, Cells, Exec, Query, fetch, text};
use super::{
    AreaCount, AreaGrouping, InspectionYear, RecordFilter, RecordScope, StoreError, StoreResult,
};

const MILLIS_PER_DAY: i64 = 86_400_000;
/// China time is UTC+8 all year.
const CHINA_OFFSET_MILLIS: i64 = 8 * 3_600_000;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;
/// Bytes of a year's day bitmap: bit `n` of byte `n / 8` is the year's day `n` (from 0).
const DAY_BITMAP_BYTES: usize = 46;

/// The China day (days since 1970-01-01) of an instant in milliseconds.
pub(super) fn china_day(millis: i64) -> i64 {
    (millis + CHINA_OFFSET_MILLIS).div_euclid(MILLIS_PER_DAY)
}

/// The first China day starting at or after an instant: a China midnight is its own day.
fn china_day_from(millis: i64) -> i64 {
    (millis + CHINA_OFFSET_MILLIS + MILLIS_PER_DAY - 1).div_euclid(MILLIS_PER_DAY)
}

fn day_of(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

fn date_of(day: i64) -> StoreResult<NaiveDate> {
    i32::try_from(day + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| StoreError::Corrupt(format!("day {day} is out of range")))
}

/// The instant (milliseconds) a China day begins.
fn day_start_millis(day: i64) -> i64 {
    day * MILLIS_PER_DAY - CHINA_OFFSET_MILLIS
}

/// `YYYYMM`, the key of `inspection_months`.
fn month_key(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 100 + i64::from(date.month())
}

fn month_label(key: i64) -> String {
    format!("{:04}-{:02}", key / 100, key % 100)
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn next_month_start(date: NaiveDate) -> StoreResult<NaiveDate> {
    let (year, month) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| StoreError::Corrupt(format!("no month after {date}")))
}

/// A submitted inspection, as the rollups count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counted {
    enterprise_code: String,
    inspection_kind: String,
    region_code: String,
    industry: String,
    started_at: i64,
    submitted_at: Option<i64>,
    hazard_count: i64,
}

const COUNTED_COLUMNS: &str = "r.enterprise_code, r.inspection_kind, r.region_code, r.industry,
    r.started_at, r.submitted_at, r.hazard_count";

/// The records the rollups count: submitted inspections (not re-inspections or amendments,
/// which restate what an inspection reported).
const COUNTED: &str = "r.kind = 'inspection' AND r.status = 'submitted'";

impl Counted {
    pub(super) fn enterprise_code(&self) -> &str {
        &self.enterprise_code
    }
}

fn counted_from(row: &dyn Cells) -> StoreResult<Counted> {
    Ok(Counted {
        enterprise_code: row.text(0)?,
        inspection_kind: row.text(1)?,
        region_code: row.text(2)?,
        industry: row.text(3)?,
        started_at: row.int(4)?,
        submitted_at: row.opt_int(5)?,
        hazard_count: row.int(6)?,
    })
}

/// The record's part in the rollups as stored now: none unless it is a submitted inspection.
pub(super) fn counted_record(db: &mut impl Exec, id: &str) -> StoreResult<Option<Counted>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(id));
    query.push(&format!(
        "SELECT {COUNTED_COLUMNS} FROM records r WHERE r.id = {id} AND {COUNTED}"
    ));
    Ok(fetch(db, &query, counted_from)?.pop())
}

/// Moves a record's part in the rollups from what it counted before a commit to what it
/// counts after; the caller's transaction holds both the record and its rollups.
pub(super) fn record_changed(
    db: &mut impl Exec,
    before: Option<&Counted>,
    after: Option<&Counted>,
) -> StoreResult<()> {
    if before == after {
        return Ok(());
    }
    if let Some(before) = before {
        add_to_areas(db, before, -1)?;
    }
    if let Some(after) = after {
        add_to_areas(db, after, 1)?;
    }
    let mut years: BTreeSet<YearKey> = BTreeSet::new();
    years.extend(before.map(YearKey::of));
    years.extend(after.map(YearKey::of));
    for key in years {
        recount_year(db, &key)?;
    }
    Ok(())
}

/// The area tables: the table, its time column and that column's value for a record.
const AREA_TABLES: [(&str, &str); 2] = [("inspection_days", "day"), ("inspection_months", "month")];

fn area_time(column: &str, counted: &Counted) -> StoreResult<i64> {
    let day = china_day(counted.started_at);
    Ok(if column == "day" {
        day
    } else {
        month_key(date_of(day)?)
    })
}

fn add_to_areas(db: &mut impl Exec, counted: &Counted, sign: i64) -> StoreResult<()> {
    for (table, column) in AREA_TABLES {
        let mut query = Query::new(db.postgres());
        let time = query.bind(Cell::Int(area_time(column, counted)?));
        let region = query.bind(text(&counted.region_code));
        let industry = query.bind(text(&counted.industry));
        let kind = query.bind(text(&counted.inspection_kind));
        let inspections = query.bind(Cell::Int(sign));
        let passed = query.bind(Cell::Int(if counted.hazard_count == 0 { sign } else { 0 }));
        let hazards = query.bind(Cell::Int(sign * counted.hazard_count));
        query.push(&format!(
            "INSERT INTO {table} ({column}, region_code, industry, inspection_kind, inspections,
                 passed, hazards)
             VALUES ({time}, {region}, {industry}, {kind}, {inspections}, {passed}, {hazards})
             ON CONFLICT ({column}, region_code, industry, inspection_kind) DO UPDATE SET
                 inspections = {table}.inspections + excluded.inspections,
                 passed = {table}.passed + excluded.passed,
                 hazards = {table}.hazards + excluded.hazards"
        ));
        fetch(db, &query, |_| Ok(()))?;
        if sign < 0 {
            let mut query = Query::new(db.postgres());
            let time = query.bind(Cell::Int(area_time(column, counted)?));
            let region = query.bind(text(&counted.region_code));
            let industry = query.bind(text(&counted.industry));
            let kind = query.bind(text(&counted.inspection_kind));
            query.push(&format!(
                "DELETE FROM {table} WHERE {column} = {time} AND region_code = {region}
                 AND industry = {industry} AND inspection_kind = {kind} AND inspections = 0"
            ));
            fetch(db, &query, |_| Ok(()))?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct YearKey {
    enterprise_code: String,
    inspection_kind: String,
    year: i32,
    region_code: String,
}

impl YearKey {
    fn of(counted: &Counted) -> YearKey {
        let year = date_of(china_day(counted.started_at)).map_or(1970, |d| d.year());
        YearKey {
            enterprise_code: counted.enterprise_code.clone(),
            inspection_kind: counted.inspection_kind.clone(),
            year,
            region_code: counted.region_code.clone(),
        }
    }
}

/// One `inspection_years` row being counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct YearBits {
    days: [u8; DAY_BITMAP_BYTES],
    /// Per month: the China day of the first submission, 0 for none.
    first_submitted: [i32; 12],
}

impl YearBits {
    fn new() -> YearBits {
        YearBits {
            days: [0; DAY_BITMAP_BYTES],
            first_submitted: [0; 12],
        }
    }

    fn add(&mut self, counted: &Counted) -> StoreResult<()> {
        let started = date_of(china_day(counted.started_at))?;
        let ordinal = started.ordinal0() as usize;
        self.days[ordinal / 8] |= 1 << (ordinal % 8);
        let Some(submitted_at) = counted.submitted_at else {
            return Ok(());
        };
        let submitted = i32::try_from(china_day(submitted_at))
            .map_err(|_| StoreError::Corrupt("submission day out of range".into()))?;
        let first = &mut self.first_submitted[started.month0() as usize];
        if *first == 0 || submitted < *first {
            *first = submitted;
        }
        Ok(())
    }

    fn first_submitted_bytes(&self) -> Vec<u8> {
        self.first_submitted
            .iter()
            .flat_map(|day| day.to_le_bytes())
            .collect()
    }
}

/// Recounts one `inspection_years` row from its records (an enterprise's inspections of one
/// kind in one year: a few dozen at most).
fn recount_year(db: &mut impl Exec, key: &YearKey) -> StoreResult<()> {
    let first = NaiveDate::from_ymd_opt(key.year, 1, 1)
        .ok_or_else(|| StoreError::Corrupt(format!("year {}", key.year)))?;
    let next = NaiveDate::from_ymd_opt(key.year + 1, 1, 1)
        .ok_or_else(|| StoreError::Corrupt(format!("year {}", key.year + 1)))?;
    let mut query = Query::new(db.postgres());
    let enterprise = query.bind(text(&key.enterprise_code));
    let from = query.bind(Cell::Int(day_start_millis(day_of(first))));
    let before = query.bind(Cell::Int(day_start_millis(day_of(next))));
    let kind = query.bind(text(&key.inspection_kind));
    let region = query.bind(text(&key.region_code));
    query.push(&format!(
        "SELECT {COUNTED_COLUMNS} FROM records r
         WHERE r.enterprise_code = {enterprise} AND r.started_at >= {from}
           AND r.started_at < {before} AND r.inspection_kind = {kind}
           AND r.region_code = {region} AND {COUNTED}"
    ));
    let rows = fetch(db, &query, counted_from)?;
    if rows.is_empty() {
        let mut query = Query::new(db.postgres());
        let enterprise = query.bind(text(&key.enterprise_code));
        let kind = query.bind(text(&key.inspection_kind));
        let year = query.bind(Cell::Int(i64::from(key.year)));
        let region = query.bind(text(&key.region_code));
        query.push(&format!(
            "DELETE FROM inspection_years WHERE enterprise_code = {enterprise}
             AND inspection_kind = {kind} AND year = {year} AND region_code = {region}"
        ));
        return fetch(db, &query, |_| Ok(())).map(drop);
    }
    let mut bits = YearBits::new();
    for row in &rows {
        bits.add(row)?;
    }
    write_year(db, key, &bits)
}

fn write_year(db: &mut impl Exec, key: &YearKey, bits: &YearBits) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let enterprise = query.bind(text(&key.enterprise_code));
    let kind = query.bind(text(&key.inspection_kind));
    let year = query.bind(Cell::Int(i64::from(key.year)));
    let region = query.bind(text(&key.region_code));
    let days = query.bind(Cell::Bytes(bits.days.to_vec()));
    let first = query.bind(Cell::Bytes(bits.first_submitted_bytes()));
    query.push(&format!(
        "INSERT INTO inspection_years (enterprise_code, inspection_kind, year, region_code,
             days, first_submitted)
         VALUES ({enterprise}, {kind}, {year}, {region}, {days}, {first})
         ON CONFLICT (enterprise_code, inspection_kind, year, region_code) DO UPDATE SET
             days = excluded.days, first_submitted = excluded.first_submitted"
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    inspections: i64,
    passed: i64,
    hazards: i64,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        self.inspections += other.inspections;
        self.passed += other.passed;
        self.hazards += other.hazards;
    }

    fn of(counted: &Counted) -> Sums {
        Sums {
            inspections: 1,
            passed: i64::from(counted.hazard_count == 0),
            hazards: counted.hazard_count,
        }
    }
}

type AreaKey = (i64, String, String, String);

/// Everything the rollups hold, counted from the records in memory.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RollupContents {
    days: BTreeMap<AreaKey, Sums>,
    months: BTreeMap<AreaKey, Sums>,
    years: BTreeMap<YearKey, YearBits>,
    attendance: AttendanceTotals,
}

fn count_all(rows: &[Counted]) -> StoreResult<RollupContents> {
    let mut contents = RollupContents::default();
    for row in rows {
        let day = china_day(row.started_at);
        let key = |time: i64| {
            (
                time,
                row.region_code.clone(),
                row.industry.clone(),
                row.inspection_kind.clone(),
            )
        };
        contents
            .days
            .entry(key(day))
            .or_default()
            .add(Sums::of(row));
        contents
            .months
            .entry(key(month_key(date_of(day)?)))
            .or_default()
            .add(Sums::of(row));
        contents
            .years
            .entry(YearKey::of(row))
            .or_insert_with(YearBits::new)
            .add(row)?;
    }
    Ok(contents)
}

fn all_counted(db: &mut impl Exec) -> StoreResult<Vec<Counted>> {
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "SELECT {COUNTED_COLUMNS} FROM records r WHERE {COUNTED}"
    ));
    fetch(db, &query, counted_from)
}

/// What the rollups would hold if they were rebuilt now.
pub(super) fn recount(db: &mut impl Exec) -> StoreResult<RollupContents> {
    let mut contents = count_all(&all_counted(db)?)?;
    contents.attendance = attendance_recount(db)?;
    Ok(contents)
}

/// What the rollups hold.
pub(super) fn stored(db: &mut impl Exec) -> StoreResult<RollupContents> {
    let mut contents = RollupContents::default();
    for (table, column) in AREA_TABLES {
        let mut query = Query::new(db.postgres());
        query.push(&format!(
            "SELECT {column}, region_code, industry, inspection_kind, inspections, passed,
                    hazards FROM {table}"
        ));
        let rows = fetch(db, &query, area_row)?;
        let target = if column == "day" {
            &mut contents.days
        } else {
            &mut contents.months
        };
        target.extend(rows);
    }
    let mut query = Query::new(db.postgres());
    query.push(&format!("SELECT {YEAR_COLUMNS} FROM inspection_years"));
    contents.years.extend(fetch(db, &query, year_row)?);
    contents.attendance = attendance_stored(db)?;
    Ok(contents)
}

const YEAR_COLUMNS: &str =
    "enterprise_code, inspection_kind, year, region_code, days, first_submitted";

/// A row of [`YEAR_COLUMNS`].
fn year_row(row: &dyn Cells) -> StoreResult<(YearKey, YearBits)> {
    Ok((
        YearKey {
            enterprise_code: row.text(0)?,
            inspection_kind: row.text(1)?,
            year: year_of(row.int(2)?)?,
            region_code: row.text(3)?,
        },
        decode_bits(&row.bytes(4)?, &row.bytes(5)?)?,
    ))
}

fn year_of(value: i64) -> StoreResult<i32> {
    i32::try_from(value).map_err(|_| StoreError::Corrupt(format!("year {value}")))
}

fn decode_bits(days: &[u8], first_submitted: &[u8]) -> StoreResult<YearBits> {
    let days: [u8; DAY_BITMAP_BYTES] = days
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("a day bitmap of {} bytes", days.len())))?;
    if first_submitted.len() != 48 {
        return Err(StoreError::Corrupt(format!(
            "{} bytes of first submissions",
            first_submitted.len()
        )));
    }
    let mut first = [0i32; 12];
    for (slot, chunk) in first.iter_mut().zip(first_submitted.chunks_exact(4)) {
        *slot = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    Ok(YearBits {
        days,
        first_submitted: first,
    })
}

/// Replaces the rollups, and hazard tracking's tables, with a count of the records: for an
/// administrator who suspects them (`anjian-server rebuild-rollups`).
pub(super) fn rebuild(db: &mut impl Exec) -> StoreResult<RollupSummary> {
    let contents = recount(db)?;
    for table in ["inspection_days", "inspection_months", "inspection_years"] {
        let mut query = Query::new(db.postgres());
        query.push(&format!("DELETE FROM {table}"));
        fetch(db, &query, |_| Ok(()))?;
    }
    for ((table, column), rows) in AREA_TABLES
        .into_iter()
        .zip([&contents.days, &contents.months])
    {
        for ((time, region, industry, kind), sums) in rows {
            let mut query = Query::new(db.postgres());
            let values = [
                query.bind(Cell::Int(*time)),
                query.bind(text(region)),
                query.bind(text(industry)),
                query.bind(text(kind)),
                query.bind(Cell::Int(sums.inspections)),
                query.bind(Cell::Int(sums.passed)),
                query.bind(Cell::Int(sums.hazards)),
            ];
            query.push(&format!(
                "INSERT INTO {table} ({column}, region_code, industry, inspection_kind,
                     inspections, passed, hazards) VALUES ({})",
                values.join(", ")
            ));
            fetch(db, &query, |_| Ok(()))?;
        }
    }
    for (key, bits) in &contents.years {
        write_year(db, key, bits)?;
    }
    rebuild_attendance(db)?;
    Ok(RollupSummary {
        inspections: contents.days.values().map(|s| s.inspections).sum(),
        day_rows: contents.days.len(),
        month_rows: contents.months.len(),
        year_rows: contents.years.len(),
        tracked_enterprises: super::standings::rebuild(db)?,
    })
}

/// What a rebuild wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupSummary {
    pub inspections: i64,
    pub day_rows: usize,
    pub month_rows: usize,
    pub year_rows: usize,
    /// Enterprises with a hazard, as hazard tracking counted them.
    pub tracked_enterprises: usize,
}

impl std::fmt::Display for RollupSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "已提交的检查 {} 次：按日汇总 {} 行、按月 {} 行、按企业年度 {} 行；隐患跟踪企业 {} 家",
            self.inspections,
            self.day_rows,
            self.month_rows,
            self.year_rows,
            self.tracked_enterprises
        )
    }
}

// ---- reading ----------------------------------------------------------------------------------

/// Conditions on a rollup's `region_code`, `industry` and `inspection_kind`: the scope (not
/// an enterprise: the area tables do not know one), then the filter's regions, industry and
/// kinds.
fn area_conditions(query: &mut Query, scope: &RecordScope, filter: &RecordFilter) -> Vec<String> {
    let mut conditions = Vec::new();
    if let RecordScope::Regions(codes) = scope {
        conditions.push(query.any_of("region_code", codes));
    }
    if let Some(regions) = &filter.regions {
        conditions.push(query.any_of("region_code", regions));
    }
    if let Some(industry) = &filter.industry {
        let p = query.bind(text(industry));
        conditions.push(format!("industry = {p}"));
    }
    if !filter.inspection_kinds.is_empty() {
        conditions.push(query.any_of("inspection_kind", &filter.inspection_kinds));
    }
    conditions
}

/// Which China days a range covers and how they split into whole months and the partial
/// months at its edges. `None` bounds are open.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DaySplit {
    /// Days read day by day: `[from, before)` each.
    edges: Vec<(i64, i64)>,
    /// Whole months (`YYYYMM`, inclusive), read from the month table; either end open.
    months: Option<(Option<i64>, Option<i64>)>,
}

fn split_days(from: Option<i64>, before: Option<i64>) -> StoreResult<DaySplit> {
    // The first day of the first whole month, and the first day after the last one.
    let whole_from = match from {
        None => None,
        Some(day) => {
            let date = date_of(day)?;
            Some(if date.day() == 1 {
                day
            } else {
                day_of(next_month_start(date)?)
            })
        }
    };
    let whole_before = match before {
        None => None,
        Some(day) => Some(day_of(first_of_month(date_of(day)?))),
    };
    if let (Some(start), Some(end)) = (whole_from, whole_before)
        && start >= end
    {
        // No whole month: every day is read.
        let (from, before) = (from.unwrap_or(start), before.unwrap_or(end));
        return Ok(DaySplit {
            edges: if from < before {
                vec![(from, before)]
            } else {
                Vec::new()
            },
            months: None,
        });
    }
    let mut edges = Vec::new();
    if let (Some(from), Some(start)) = (from, whole_from)
        && from < start
    {
        edges.push((from, start));
    }
    if let (Some(end), Some(before)) = (whole_before, before)
        && end < before
    {
        edges.push((end, before));
    }
    let first_month = whole_from.map(date_of).transpose()?.map(month_key);
    let last_month = whole_before
        .map(|end| date_of(end - 1))
        .transpose()?
        .map(month_key);
    Ok(DaySplit {
        edges,
        months: Some((first_month, last_month)),
    })
}

/// Submitted inspections in scope matching the filter's dates (whole China days), regions,
/// industry and kinds: counted per inspection kind and whichever of month, region and
/// industry `grouping` keeps (an empty text, or month "", for those it drops), with those
/// that found no hazard and the hazards found. An enterprise's scope reads its records;
/// every other scope reads the rollups, grouped by the database.
pub(super) fn area_counts(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
    grouping: AreaGrouping,
) -> StoreResult<Vec<AreaCount>> {
    // Month 0 stands for "every month" until the labels are made.
    let mut totals: BTreeMap<AreaKey, Sums> = BTreeMap::new();
    let keep = |keep: bool, text: String| if keep { text } else { String::new() };
    if let RecordScope::Enterprise { .. } = scope {
        for row in enterprise_counted(db, scope, filter)? {
            let month = month_key(date_of(china_day(row.started_at))?);
            totals
                .entry((
                    if grouping.month { month } else { 0 },
                    keep(grouping.region, row.region_code),
                    keep(grouping.industry, row.industry),
                    row.inspection_kind,
                ))
                .or_default()
                .add(Sums {
                    inspections: 1,
                    passed: i64::from(row.hazard_count == 0),
                    hazards: row.hazard_count,
                });
        }
    } else {
        let split = split_days(
            filter
                .started_from
                .map(|t| china_day_from(t.timestamp_millis())),
            filter
                .started_before
                .map(|t| china_day_from(t.timestamp_millis())),
        )?;
        // The month selected (a column, or a constant for an edge) and whether it is grouped.
        let columns = |month: &str, grouped: bool| {
            let month = if grouping.month {
                format!("CAST({month} AS BIGINT)")
            } else {
                "CAST(0 AS BIGINT)".to_string()
            };
            let mut select = vec![month.as_str()];
            let mut group = Vec::new();
            if grouping.month && grouped {
                group.push("month");
            }
            for (kept, column) in [
                (grouping.region, "region_code"),
                (grouping.industry, "industry"),
            ] {
                select.push(if kept { column } else { "''" });
                if kept {
                    group.push(column);
                }
            }
            select.push("inspection_kind");
            group.push("inspection_kind");
            (select.join(", "), group.join(", "))
        };
        const SUMS: &str = "CAST(SUM(inspections) AS BIGINT), CAST(SUM(passed) AS BIGINT),
            CAST(SUM(hazards) AS BIGINT)";
        for (from, before) in &split.edges {
            // An edge lies within one month: its month is a constant.
            let mut query = Query::new(db.postgres());
            // Bound only when selected: PostgreSQL cannot type an unused parameter.
            let month = if grouping.month {
                query.bind(Cell::Int(month_key(date_of(*from)?)))
            } else {
                String::new()
            };
            let (select, group) = columns(&month, false);
            let mut conditions = area_conditions(&mut query, scope, filter);
            let p = query.bind(Cell::Int(*from));
            conditions.push(format!("day >= {p}"));
            let p = query.bind(Cell::Int(*before));
            conditions.push(format!("day < {p}"));
            query.push(&format!(
                "SELECT {select}, {SUMS} FROM inspection_days WHERE {} GROUP BY {group}",
                conditions.join(" AND ")
            ));
            for (key, sums) in fetch(db, &query, area_row)? {
                totals.entry(key).or_default().add(sums);
            }
        }
        if let Some((first, last)) = split.months {
            let mut query = Query::new(db.postgres());
            let (select, group) = columns("month", true);
            let mut conditions = area_conditions(&mut query, scope, filter);
            if let Some(first) = first {
                let p = query.bind(Cell::Int(first));
                conditions.push(format!("month >= {p}"));
            }
            if let Some(last) = last {
                let p = query.bind(Cell::Int(last));
                conditions.push(format!("month <= {p}"));
            }
            conditions.push("1 = 1".into());
            query.push(&format!(
                "SELECT {select}, {SUMS} FROM inspection_months WHERE {} GROUP BY {group}",
                conditions.join(" AND ")
            ));
            for (key, sums) in fetch(db, &query, area_row)? {
                totals.entry(key).or_default().add(sums);
            }
        }
    }
    Ok(totals
        .into_iter()
        .map(
            |((month, region_code, industry, inspection_kind), sums)| AreaCount {
                month: if month == 0 {
                    String::new()
                } else {
                    month_label(month)
                },
                region_code,
                industry,
                inspection_kind,
                inspections: sums.inspections,
                passed: sums.passed,
                hazards: sums.hazards,
            },
        )
        .collect())
}

/// The submitted inspections of an enterprise's scope matching the filter.
fn enterprise_counted(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
) -> StoreResult<Vec<Counted>> {
    let mut query = Query::new(db.postgres());
    let mut conditions = super::listing::record_conditions(&mut query, scope, filter);
    conditions.push(COUNTED.to_string());
    query.push(&format!(
        "SELECT {COUNTED_COLUMNS} FROM records r WHERE {}",
        conditions.join(" AND ")
    ));
    fetch(db, &query, counted_from)
}

fn area_row(row: &dyn Cells) -> StoreResult<(AreaKey, Sums)> {
    Ok((
        (row.int(0)?, row.text(1)?, row.text(2)?, row.text(3)?),
        Sums {
            inspections: row.int(4)?,
            passed: row.int(5)?,
            hazards: row.int(6)?,
        },
    ))
}

/// The `inspection_years` rows in scope for the China years given, of the kinds given
/// (every kind when none).
pub(super) fn inspection_years(
    db: &mut impl Exec,
    scope: &RecordScope,
    years: RangeInclusive<i32>,
    kinds: &[String],
) -> StoreResult<Vec<InspectionYear>> {
    let mut query = Query::new(db.postgres());
    let first = query.bind(Cell::Int(i64::from(*years.start())));
    let last = query.bind(Cell::Int(i64::from(*years.end())));
    let mut conditions = vec![format!("year >= {first} AND year <= {last}")];
    match scope {
        RecordScope::All => {}
        RecordScope::Regions(codes) => conditions.push(query.any_of("region_code", codes)),
        RecordScope::Enterprise {
            credit_code,
            inspection_kinds,
        } => {
            let code = query.bind(text(credit_code));
            conditions.push(format!("enterprise_code = {code}"));
            conditions.push(query.any_of("inspection_kind", inspection_kinds));
        }
    }
    if !kinds.is_empty() {
        conditions.push(query.any_of("inspection_kind", kinds));
    }
    query.push(&format!(
        "SELECT {YEAR_COLUMNS} FROM inspection_years WHERE {}",
        conditions.join(" AND ")
    ));
    fetch(db, &query, |row: &dyn Cells| {
        let (key, bits) = year_row(row)?;
        let mut first_submitted = [None; 12];
        for (slot, day) in first_submitted.iter_mut().zip(bits.first_submitted) {
            if day != 0 {
                *slot = Some(date_of(i64::from(day))?);
            }
        }
        Ok(InspectionYear {
            enterprise_code: key.enterprise_code,
            inspection_kind: key.inspection_kind,
            year: key.year,
            region_code: key.region_code,
            started_days: bits.days,
            first_submitted,
        })
    })
}

// ---- duty-leader attendance ---------------------------------------------------------------

/// `YYYY-MM`, the key of `attendance_months`.
fn attendance_month(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// Recounts `attendance_months` for each enterprise and month an import wrote: shifts due
/// and shifts the leader attended, read from `attendance`.
pub(super) fn attendance_changed(
    db: &mut impl Exec,
    rows: &[super::Attendance],
) -> StoreResult<()> {
    let touched: BTreeSet<(&str, NaiveDate)> = rows
        .iter()
        .map(|a| (a.credit_code.as_str(), first_of_month(a.date)))
        .collect();
    for (code, first) in touched {
        recount_attendance(db, code, first)?;
    }
    Ok(())
}

fn recount_attendance(db: &mut impl Exec, code: &str, first: NaiveDate) -> StoreResult<()> {
    let month = attendance_month(first);
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    let month_p = query.bind(text(&month));
    query.push(&format!(
        "DELETE FROM attendance_months WHERE credit_code = {code_p} AND month = {month_p}"
    ));
    fetch(db, &query, |_| Ok(()))?;
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    let month_p = query.bind(text(&month));
    let from = query.bind(text(&first.to_string()));
    let before = query.bind(text(&next_month_start(first)?.to_string()));
    query.push(&format!(
        "INSERT INTO attendance_months (credit_code, month, shifts, present)
         SELECT credit_code, {month_p}, COUNT(*), SUM(CASE WHEN present THEN 1 ELSE 0 END)
         FROM attendance WHERE credit_code = {code_p} AND date >= {from} AND date < {before}
         GROUP BY credit_code"
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

type AttendanceTotals = BTreeMap<(String, String), (i64, i64)>;

fn attendance_recount(db: &mut impl Exec) -> StoreResult<AttendanceTotals> {
    let mut query = Query::new(db.postgres());
    query.push(
        "SELECT credit_code, substr(date, 1, 7), COUNT(*),
                SUM(CASE WHEN present THEN 1 ELSE 0 END)
         FROM attendance GROUP BY credit_code, substr(date, 1, 7)",
    );
    attendance_totals(db, &query)
}

fn attendance_stored(db: &mut impl Exec) -> StoreResult<AttendanceTotals> {
    let mut query = Query::new(db.postgres());
    query.push("SELECT credit_code, month, shifts, present FROM attendance_months");
    attendance_totals(db, &query)
}

fn attendance_totals(db: &mut impl Exec, query: &Query) -> StoreResult<AttendanceTotals> {
    Ok(fetch(db, query, |row: &dyn Cells| {
        Ok(((row.text(0)?, row.text(1)?), (row.int(2)?, row.int(3)?)))
    })?
    .into_iter()
    .collect())
}

fn rebuild_attendance(db: &mut impl Exec) -> StoreResult<()> {
    let totals = attendance_recount(db)?;
    let mut query = Query::new(db.postgres());
    query.push("DELETE FROM attendance_months");
    fetch(db, &query, |_| Ok(()))?;
    for ((code, month), (shifts, present)) in totals {
        let mut query = Query::new(db.postgres());
        let values = [
            query.bind(text(&code)),
            query.bind(text(&month)),
            query.bind(Cell::Int(shifts)),
            query.bind(Cell::Int(present)),
        ];
        query.push(&format!(
            "INSERT INTO attendance_months (credit_code, month, shifts, present) VALUES ({})",
            values.join(", ")
        ));
        fetch(db, &query, |_| Ok(()))?;
    }
    Ok(())
}

/// Duty-leader shifts due in scope between two China dates (inclusive), per month and the
/// enterprise's industry and region: whole months from `attendance_months`, the days of
/// partial months from `attendance`.
pub(super) fn attendance_counts(
    db: &mut impl Exec,
    scope: &RecordScope,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> StoreResult<Vec<super::AttendanceCount>> {
    let split = split_days(from.map(day_of), until.map(|d| day_of(d) + 1))?;
    let mut totals: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    let mut add = |rows: Vec<super::AttendanceCount>| {
        for row in rows {
            let entry = totals
                .entry((row.month, row.industry, row.region_code))
                .or_default();
            entry.0 += row.shifts;
            entry.1 += row.present;
        }
    };
    for (from, before) in &split.edges {
        add(super::listing::attendance_counts(
            db,
            scope,
            Some(date_of(*from)?),
            Some(date_of(*before - 1)?),
        )?);
    }
    if let Some((first, last)) = split.months {
        let mut query = Query::new(db.postgres());
        let mut conditions = vec![super::listing::enterprise_region_scope(
            &mut query, scope, "m",
        )];
        if let Some(first) = first {
            let p = query.bind(text(&month_label(first)));
            conditions.push(format!("m.month >= {p}"));
        }
        if let Some(last) = last {
            let p = query.bind(text(&month_label(last)));
            conditions.push(format!("m.month <= {p}"));
        }
        query.push(&format!(
            "SELECT m.month, e.industry, e.region_code, CAST(SUM(m.shifts) AS BIGINT),
                    CAST(SUM(m.present) AS BIGINT)
             FROM attendance_months m JOIN enterprises e ON e.credit_code = m.credit_code
             WHERE {} GROUP BY m.month, e.industry, e.region_code",
            conditions.join(" AND ")
        ));
        add(fetch(db, &query, |row: &dyn Cells| {
            Ok(super::AttendanceCount {
                month: row.text(0)?,
                industry: row.text(1)?,
                region_code: row.text(2)?,
                shifts: row.int(3)?,
                present: row.int(4)?,
            })
        })?);
    }
    Ok(totals
        .into_iter()
        .map(
            |((month, industry, region_code), (shifts, present))| super::AttendanceCount {
                month,
                industry,
                region_code,
                shifts,
                present,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        day_of(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn china_days_begin_at_china_midnight() {
        // 2026-03-01T00:00 in China is 2026-02-28T16:00Z.
        let midnight = day_start_millis(day(2026, 3, 1));
        assert_eq!(china_day(midnight), day(2026, 3, 1));
        assert_eq!(china_day(midnight - 1), day(2026, 2, 28));
        assert_eq!(china_day_from(midnight), day(2026, 3, 1));
        assert_eq!(china_day_from(midnight - 1), day(2026, 3, 1));
        assert_eq!(china_day_from(midnight + 1), day(2026, 3, 2));
    }

    #[test]
    fn a_range_is_whole_months_and_its_edge_days() {
        let split = split_days(Some(day(2025, 3, 10)), Some(day(2026, 2, 20))).unwrap();
        assert_eq!(
            split.edges,
            vec![
                (day(2025, 3, 10), day(2025, 4, 1)),
                (day(2026, 2, 1), day(2026, 2, 20))
            ]
        );
        assert_eq!(split.months, Some((Some(202504), Some(202601))));

        // Month-aligned ends need no days.
        let split = split_days(Some(day(2025, 1, 1)), Some(day(2026, 1, 1))).unwrap();
        assert!(split.edges.is_empty());
        assert_eq!(split.months, Some((Some(202501), Some(202512))));

        // Open ends read every month on that side.
        let split = split_days(None, Some(day(2026, 1, 15))).unwrap();
        assert_eq!(split.edges, vec![(day(2026, 1, 1), day(2026, 1, 15))]);
        assert_eq!(split.months, Some((None, Some(202512))));
        let split = split_days(None, None).unwrap();
        assert_eq!(split.months, Some((None, None)));
    }

    #[test]
    fn a_range_within_one_month_is_read_by_day() {
        let split = split_days(Some(day(2026, 5, 3)), Some(day(2026, 5, 9))).unwrap();
        assert_eq!(split.edges, vec![(day(2026, 5, 3), day(2026, 5, 9))]);
        assert_eq!(split.months, None);
        // Across a month end without a whole month between.
        let split = split_days(Some(day(2026, 5, 20)), Some(day(2026, 6, 9))).unwrap();
        assert_eq!(split.edges, vec![(day(2026, 5, 20), day(2026, 6, 9))]);
        assert_eq!(split.months, None);
        // An empty range reads nothing.
        let split = split_days(Some(day(2026, 5, 9)), Some(day(2026, 5, 9))).unwrap();
        assert!(split.edges.is_empty() && split.months.is_none());
    }

    fn counted(started: i64, submitted: i64, hazards: i64) -> Counted {
        Counted {
            enterprise_code: "E".into(),
            inspection_kind: "self".into(),
            region_code: "R".into(),
            industry: "I".into(),
            started_at: day_start_millis(started) + 3_600_000,
            submitted_at: Some(day_start_millis(submitted) + 3_600_000),
            hazard_count: hazards,
        }
    }

    #[test]
    fn a_year_row_keeps_start_days_and_each_months_first_submission() {
        let mut bits = YearBits::new();
        bits.add(&counted(day(2026, 1, 1), day(2026, 2, 9), 0))
            .unwrap();
        bits.add(&counted(day(2026, 1, 20), day(2026, 1, 21), 2))
            .unwrap();
        bits.add(&counted(day(2026, 12, 31), day(2027, 1, 3), 0))
            .unwrap();
        assert_eq!(bits.days[0], 1);
        assert_eq!(bits.days[19 / 8], 1 << (19 % 8));
        assert_eq!(bits.days[364 / 8], 1 << (364 % 8));
        assert_eq!(i64::from(bits.first_submitted[0]), day(2026, 1, 21));
        assert_eq!(i64::from(bits.first_submitted[11]), day(2027, 1, 3));
        assert_eq!(bits.first_submitted[5], 0);
        let decoded = decode_bits(&bits.days, &bits.first_submitted_bytes()).unwrap();
        assert_eq!(decoded, bits);
        assert!(decode_bits(&[0; 3], &bits.first_submitted_bytes()).is_err());
    }
}
