//! What the analyses read instead of every submitted inspection and every duty-leader shift:
//! rollups kept in the writing transaction, and the router that answers a range of China
//! days from them.
//!
//! - `inspection_totals`: per series (region, industry and inspection kind) and China day on
//!   which one of its inspections started, that day's inspections, those that found no
//!   hazard and the hazards found, and the running totals of the three up to and including
//!   the day. A long range is the difference of two rows per series (`inspection_series`
//!   lists them), however long it is; a short one, or a month's partial edge, is the sum of
//!   its days.
//! - `inspection_months`: per month and series, the same counts, for analyses by month.
//! - `inspection_histories`: per enterprise and region, every kind's and China year's days on
//!   which an inspection started (a bitmap) and, per month, the first submission of an
//!   inspection started in it: coverage, the resident inspector's weeks and the monthly
//!   self-inspection deadline are read from these. One row per enterprise, because a row
//!   per enterprise, kind and year made a city's three years 27,000 rows to read (40 ms).
//! - `attendance_months` and `attendance_totals`: per enterprise and month the duty-leader
//!   shifts due and attended, and per enterprise and day the running totals of both;
//!   recounted from the first day an attendance import wrote.
//!
//! Reading every record was the cost: each sits beside its Automerge document, so a
//! city-wide three-year analysis read 145,000–280,000 pages (0.5–1.7 s in the seeded city).
//!
//! A submitted inspection is locked on upload and its projection never changes after that,
//! so in practice a record only ever joins the rollups, on the day it started: the running
//! totals of that day and the (few, if any) days after it move. Leaving them is handled too
//! (a negative delta; a history by recounting its year from the records). [`rebuild`]
//! recomputes them all from the records; a test keeps both ways equal.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::Arc;

use anjian_core::template::InspectionKind;

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

pub(super) fn day_of(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

pub(super) fn date_of(day: i64) -> StoreResult<NaiveDate> {
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
    if let (None, Some(after)) = (before, after) {
        // The upload path: the new inspection joins its year, whatever the year holds.
        let key = YearKey::of(after);
        let mut history = read_history(db, &key.enterprise_code, &key.region_code)?;
        history
            .entry((key.inspection_kind.clone(), key.year))
            .or_insert_with(YearBits::new)
            .add(after)?;
        return write_history(db, &key.enterprise_code, &key.region_code, &history);
    }
    let mut years: BTreeSet<YearKey> = BTreeSet::new();
    years.extend(before.map(YearKey::of));
    years.extend(after.map(YearKey::of));
    for key in years {
        recount_year(db, &key)?;
    }
    Ok(())
}

fn add_to_areas(db: &mut impl Exec, counted: &Counted, sign: i64) -> StoreResult<()> {
    add_to_month(db, counted, sign)?;
    add_to_totals(db, counted, sign)
}

fn add_to_month(db: &mut impl Exec, counted: &Counted, sign: i64) -> StoreResult<()> {
    let month = month_key(date_of(china_day(counted.started_at))?);
    let sums = Sums::of(counted).times(sign);
    let mut query = Query::new(db.postgres());
    let values = [
        query.bind(Cell::Int(month)),
        query.bind(text(&counted.region_code)),
        query.bind(text(&counted.industry)),
        query.bind(text(&counted.inspection_kind)),
        query.bind(Cell::Int(sums.inspections)),
        query.bind(Cell::Int(sums.passed)),
        query.bind(Cell::Int(sums.hazards)),
    ];
    query.push(&format!(
        "INSERT INTO inspection_months (month, region_code, industry, inspection_kind,
             inspections, passed, hazards)
         VALUES ({})
         ON CONFLICT (month, inspection_kind, region_code, industry) DO UPDATE SET
             inspections = inspection_months.inspections + excluded.inspections,
             passed = inspection_months.passed + excluded.passed,
             hazards = inspection_months.hazards + excluded.hazards",
        values.join(", ")
    ));
    fetch(db, &query, |_| Ok(()))?;
    if sign < 0 {
        let mut query = Query::new(db.postgres());
        let month = query.bind(Cell::Int(month));
        let series = series_key(&mut query, "inspection_months", counted);
        query.push(&format!(
            "DELETE FROM inspection_months WHERE month = {month} AND {series}
             AND inspections = 0"
        ));
        fetch(db, &query, |_| Ok(()))?;
    }
    Ok(())
}

/// `alias`'s region, industry and kind are the record's.
fn series_key(query: &mut Query, alias: &str, counted: &Counted) -> String {
    let region = query.bind(text(&counted.region_code));
    let industry = query.bind(text(&counted.industry));
    let kind = query.bind(text(&counted.inspection_kind));
    format!(
        "{alias}.region_code = {region} AND {alias}.industry = {industry}
         AND {alias}.inspection_kind = {kind}"
    )
}

/// Moves the record's series' running totals from the day it started on.
fn add_to_totals(db: &mut impl Exec, counted: &Counted, sign: i64) -> StoreResult<()> {
    let day = china_day(counted.started_at);
    let delta = Sums::of(counted).times(sign);
    let mut query = Query::new(db.postgres());
    let series = [
        query.bind(text(&counted.region_code)),
        query.bind(text(&counted.industry)),
        query.bind(text(&counted.inspection_kind)),
    ];
    query.push(&format!(
        "INSERT INTO inspection_series (region_code, industry, inspection_kind) VALUES ({})
         ON CONFLICT (region_code, industry, inspection_kind) DO NOTHING",
        series.join(", ")
    ));
    fetch(db, &query, |_| Ok(()))?;

    // The totals before the day, which a new row for the day starts from.
    let mut query = Query::new(db.postgres());
    let key = series_key(&mut query, "t", counted);
    let p = query.bind(Cell::Int(day));
    query.push(&format!(
        "SELECT t.inspections_to_date, t.passed_to_date, t.hazards_to_date
         FROM inspection_totals t WHERE {key} AND t.day < {p} ORDER BY t.day DESC LIMIT 1"
    ));
    let before = fetch(db, &query, sums_row)?.pop().unwrap_or_default();
    let mut query = Query::new(db.postgres());
    let values = [
        query.bind(text(&counted.region_code)),
        query.bind(text(&counted.industry)),
        query.bind(text(&counted.inspection_kind)),
        query.bind(Cell::Int(day)),
        query.bind(Cell::Int(before.inspections)),
        query.bind(Cell::Int(before.passed)),
        query.bind(Cell::Int(before.hazards)),
    ];
    query.push(&format!(
        "INSERT INTO inspection_totals (region_code, industry, inspection_kind, day,
             inspections, passed, hazards, inspections_to_date, passed_to_date, hazards_to_date)
         VALUES ({}, 0, 0, 0, {}, {}, {})
         ON CONFLICT (region_code, industry, inspection_kind, day) DO NOTHING",
        values[..4].join(", "),
        values[4],
        values[5],
        values[6]
    ));
    fetch(db, &query, |_| Ok(()))?;

    // The day's own counts, and the running totals of the day and every later one.
    let mut query = Query::new(db.postgres());
    let inspections = query.bind(Cell::Int(delta.inspections));
    let passed = query.bind(Cell::Int(delta.passed));
    let hazards = query.bind(Cell::Int(delta.hazards));
    let key = series_key(&mut query, "inspection_totals", counted);
    let p = query.bind(Cell::Int(day));
    query.push(&format!(
        "UPDATE inspection_totals SET
             inspections_to_date = inspections_to_date + {inspections},
             passed_to_date = passed_to_date + {passed},
             hazards_to_date = hazards_to_date + {hazards},
             inspections = inspections + CASE WHEN day = {p} THEN {inspections} ELSE 0 END,
             passed = passed + CASE WHEN day = {p} THEN {passed} ELSE 0 END,
             hazards = hazards + CASE WHEN day = {p} THEN {hazards} ELSE 0 END
         WHERE {key} AND day >= {p}"
    ));
    fetch(db, &query, |_| Ok(()))?;

    if sign < 0 {
        // A day left with no inspection of the series keeps no row.
        let mut query = Query::new(db.postgres());
        let key = series_key(&mut query, "inspection_totals", counted);
        let p = query.bind(Cell::Int(day));
        query.push(&format!(
            "DELETE FROM inspection_totals WHERE {key} AND day = {p} AND inspections = 0"
        ));
        fetch(db, &query, |_| Ok(()))?;
    }
    Ok(())
}

fn sums_row(row: &dyn Cells) -> StoreResult<Sums> {
    sums_row_at(row, 0)
}

/// Inspections, passed and hazards from three columns starting at `first`.
fn sums_row_at(row: &dyn Cells, first: usize) -> StoreResult<Sums> {
    Ok(Sums {
        inspections: row.int(first)?,
        passed: row.int(first + 1)?,
        hazards: row.int(first + 2)?,
    })
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

/// One kind's year in an enterprise's history.
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
}

/// An enterprise's history in one region: per inspection kind and China year, its days.
type History = BTreeMap<(String, i32), YearBits>;

/// Bytes of one year after its kind: the year (4), the day bitmap, 12 first submissions (4).
const HISTORY_YEAR_BYTES: usize = 4 + DAY_BITMAP_BYTES + 48;

/// A history as stored: per kind and year, the kind's length (1 byte) and name, then
/// [`HISTORY_YEAR_BYTES`] (integers little-endian).
fn encode_history(history: &History) -> StoreResult<Vec<u8>> {
    let mut bytes = Vec::with_capacity(history.len() * (HISTORY_YEAR_BYTES + 12));
    for ((kind, year), bits) in history {
        let length = u8::try_from(kind.len())
            .map_err(|_| StoreError::Corrupt(format!("inspection kind {kind} is too long")))?;
        bytes.push(length);
        bytes.extend_from_slice(kind.as_bytes());
        bytes.extend_from_slice(&year.to_le_bytes());
        bytes.extend_from_slice(&bits.days);
        for day in bits.first_submitted {
            bytes.extend_from_slice(&day.to_le_bytes());
        }
    }
    Ok(bytes)
}

/// One kind's year of a stored history, not yet decoded.
struct HistoryYear<'a> {
    kind: &'a str,
    year: i32,
    rest: &'a [u8],
}

impl HistoryYear<'_> {
    fn bits(&self) -> YearBits {
        let mut days = [0u8; DAY_BITMAP_BYTES];
        days.copy_from_slice(&self.rest[..DAY_BITMAP_BYTES]);
        let mut first_submitted = [0i32; 12];
        for (slot, chunk) in first_submitted
            .iter_mut()
            .zip(self.rest[DAY_BITMAP_BYTES..].chunks_exact(4))
        {
            *slot = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        YearBits {
            days,
            first_submitted,
        }
    }
}

fn history_years(mut bytes: &[u8]) -> StoreResult<Vec<HistoryYear<'_>>> {
    let corrupt = || StoreError::Corrupt("an inspection history is cut short".into());
    let mut years = Vec::new();
    while let Some((&length, rest)) = bytes.split_first() {
        let length = usize::from(length);
        if rest.len() < length + HISTORY_YEAR_BYTES {
            return Err(corrupt());
        }
        let kind = std::str::from_utf8(&rest[..length])
            .map_err(|_| StoreError::Corrupt("an inspection kind is not UTF-8".into()))?;
        let year_bytes = &rest[length..length + 4];
        years.push(HistoryYear {
            kind,
            year: i32::from_le_bytes([year_bytes[0], year_bytes[1], year_bytes[2], year_bytes[3]]),
            rest: &rest[length + 4..length + HISTORY_YEAR_BYTES],
        });
        bytes = &rest[length + HISTORY_YEAR_BYTES..];
    }
    Ok(years)
}

fn decode_history(bytes: &[u8]) -> StoreResult<History> {
    Ok(history_years(bytes)?
        .into_iter()
        .map(|y| ((y.kind.to_string(), y.year), y.bits()))
        .collect())
}

fn read_history(db: &mut impl Exec, enterprise: &str, region: &str) -> StoreResult<History> {
    let mut query = Query::new(db.postgres());
    let enterprise = query.bind(text(enterprise));
    let region = query.bind(text(region));
    query.push(&format!(
        "SELECT history FROM inspection_histories
         WHERE enterprise_code = {enterprise} AND region_code = {region}"
    ));
    match fetch(db, &query, |row: &dyn Cells| row.bytes(0))?.pop() {
        Some(bytes) => decode_history(&bytes),
        None => Ok(History::new()),
    }
}

fn write_history(
    db: &mut impl Exec,
    enterprise: &str,
    region: &str,
    history: &History,
) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let enterprise = query.bind(text(enterprise));
    let region = query.bind(text(region));
    if history.is_empty() {
        query.push(&format!(
            "DELETE FROM inspection_histories
             WHERE enterprise_code = {enterprise} AND region_code = {region}"
        ));
    } else {
        let bytes = query.bind(Cell::Bytes(encode_history(history)?));
        query.push(&format!(
            "INSERT INTO inspection_histories (enterprise_code, region_code, history)
             VALUES ({enterprise}, {region}, {bytes})
             ON CONFLICT (enterprise_code, region_code) DO UPDATE SET history = excluded.history"
        ));
    }
    fetch(db, &query, |_| Ok(())).map(drop)
}

/// Recounts one kind's year of an enterprise's history from its records: when a counted
/// record changes or leaves (rare: a submitted record is locked on upload).
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
    let mut history = read_history(db, &key.enterprise_code, &key.region_code)?;
    let slot = (key.inspection_kind.clone(), key.year);
    if rows.is_empty() {
        history.remove(&slot);
    } else {
        let mut bits = YearBits::new();
        for row in &rows {
            bits.add(row)?;
        }
        history.insert(slot, bits);
    }
    write_history(db, &key.enterprise_code, &key.region_code, &history)
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

    fn times(self, sign: i64) -> Sums {
        Sums {
            inspections: self.inspections * sign,
            passed: self.passed * sign,
            hazards: self.hazards * sign,
        }
    }

    fn minus(self, other: Sums) -> Sums {
        self.add_to(other.times(-1))
    }

    fn add_to(mut self, other: Sums) -> Sums {
        self.add(other);
        self
    }
}

type AreaKey = (i64, String, String, String);
/// An enterprise's duty-leader shifts on one day (credit code, `YYYY-MM-DD`): due, attended.
type AttendanceDays = BTreeMap<(String, String), (i64, i64)>;

/// Everything the rollups hold, counted from the records in memory; the running totals as
/// what each day adds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RollupContents {
    days: BTreeMap<AreaKey, Sums>,
    /// Per series and day with an inspection: the running totals up to it.
    running: BTreeMap<AreaKey, Sums>,
    months: BTreeMap<AreaKey, Sums>,
    years: BTreeMap<YearKey, YearBits>,
    attendance: AttendanceTotals,
    attendance_days: AttendanceDays,
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
    // The map is in day order: each series' running total grows day by day.
    let mut so_far: BTreeMap<(&str, &str, &str), Sums> = BTreeMap::new();
    let mut running = BTreeMap::new();
    for (key, sums) in &contents.days {
        let (_, region, industry, kind) = key;
        let total = so_far
            .entry((region.as_str(), industry.as_str(), kind.as_str()))
            .or_default();
        total.add(*sums);
        running.insert(key.clone(), *total);
    }
    contents.running = running;
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
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "SELECT credit_code, date, {DAY_SHIFTS} FROM attendance GROUP BY credit_code, date"
    ));
    contents.attendance_days = fetch(db, &query, attendance_day_row)?.into_iter().collect();
    Ok(contents)
}

/// An attendance day's shifts due and attended, over `attendance` grouped by day.
const DAY_SHIFTS: &str = "COUNT(*), SUM(CASE WHEN present THEN 1 ELSE 0 END)";

fn attendance_day_row(row: &dyn Cells) -> StoreResult<((String, String), (i64, i64))> {
    Ok(((row.text(0)?, row.text(1)?), (row.int(2)?, row.int(3)?)))
}

/// What the rollups hold.
pub(super) fn stored(db: &mut impl Exec) -> StoreResult<RollupContents> {
    let mut contents = RollupContents::default();
    let mut query = Query::new(db.postgres());
    query.push(
        "SELECT month, region_code, industry, inspection_kind, inspections, passed, hazards
         FROM inspection_months",
    );
    contents.months.extend(fetch(db, &query, area_row)?);

    let mut query = Query::new(db.postgres());
    query.push(
        "SELECT day, region_code, industry, inspection_kind, inspections, passed, hazards,
                inspections_to_date, passed_to_date, hazards_to_date
         FROM inspection_totals",
    );
    for (key, sums) in fetch(db, &query, |row: &dyn Cells| {
        let (key, day_sums) = area_row(row)?;
        Ok((key, (day_sums, sums_row_at(row, 7)?)))
    })? {
        contents.days.insert(key.clone(), sums.0);
        contents.running.insert(key, sums.1);
    }

    let mut query = Query::new(db.postgres());
    query.push("SELECT enterprise_code, region_code, history FROM inspection_histories");
    for (enterprise, region, bytes) in fetch(db, &query, |row: &dyn Cells| {
        Ok((row.text(0)?, row.text(1)?, row.bytes(2)?))
    })? {
        for ((kind, year), bits) in decode_history(&bytes)? {
            let key = YearKey {
                enterprise_code: enterprise.clone(),
                inspection_kind: kind,
                year,
                region_code: region.clone(),
            };
            contents.years.insert(key, bits);
        }
    }

    contents.attendance = attendance_stored(db)?;
    let mut query = Query::new(db.postgres());
    query.push(
        "SELECT credit_code, date, shifts, present FROM attendance_totals
         ORDER BY credit_code, date",
    );
    let mut previous: Option<(String, (i64, i64))> = None;
    for ((code, date), total) in fetch(db, &query, attendance_day_row)? {
        let before = match &previous {
            Some((last, sums)) if *last == code => *sums,
            _ => (0, 0),
        };
        contents.attendance_days.insert(
            (code.clone(), date),
            (total.0 - before.0, total.1 - before.1),
        );
        previous = Some((code, total));
    }
    Ok(contents)
}

/// Inserts `rows` (each `columns.len()` values) into `table`, many to a statement.
fn insert_all(
    db: &mut impl Exec,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> StoreResult<()> {
    const ROWS_PER_STATEMENT: usize = 500;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut query = Query::new(db.postgres());
        let tuples: Vec<String> = rows
            .by_ref()
            .take(ROWS_PER_STATEMENT)
            .map(|row| {
                let values: Vec<String> = row.into_iter().map(|cell| query.bind(cell)).collect();
                format!("({})", values.join(", "))
            })
            .collect();
        query.push(&format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            tuples.join(", ")
        ));
        fetch(db, &query, |_| Ok(()))?;
    }
    Ok(())
}

/// Replaces the rollups, and hazard tracking's tables, with a count of the records: for an
/// administrator who suspects them (`anjian-server rebuild-rollups`).
pub(super) fn rebuild(db: &mut impl Exec) -> StoreResult<RollupSummary> {
    let contents = recount(db)?;
    for table in [
        "inspection_months",
        "inspection_totals",
        "inspection_series",
        "inspection_histories",
    ] {
        let mut query = Query::new(db.postgres());
        query.push(&format!("DELETE FROM {table}"));
        fetch(db, &query, |_| Ok(()))?;
    }
    let sums_cells = |sums: &Sums| {
        [
            Cell::Int(sums.inspections),
            Cell::Int(sums.passed),
            Cell::Int(sums.hazards),
        ]
    };
    // An area row: its time, region, industry and kind, then the counts.
    let area_cells = |(time, region, industry, kind): &AreaKey, sums: &Sums| {
        let mut row = vec![Cell::Int(*time), text(region), text(industry), text(kind)];
        row.extend(sums_cells(sums));
        row
    };
    let area_columns = |time| {
        vec![
            time,
            "region_code",
            "industry",
            "inspection_kind",
            "inspections",
            "passed",
            "hazards",
        ]
    };
    insert_all(
        db,
        "inspection_months",
        &area_columns("month"),
        contents
            .months
            .iter()
            .map(|(key, sums)| area_cells(key, sums)),
    )?;

    let series: BTreeSet<(&str, &str, &str)> = contents
        .days
        .keys()
        .map(|(_, region, industry, kind)| (region.as_str(), industry.as_str(), kind.as_str()))
        .collect();
    insert_all(
        db,
        "inspection_series",
        &["region_code", "industry", "inspection_kind"],
        series
            .iter()
            .map(|(region, industry, kind)| vec![text(region), text(industry), text(kind)]),
    )?;
    let mut totals_columns = area_columns("day");
    totals_columns.extend(["inspections_to_date", "passed_to_date", "hazards_to_date"]);
    insert_all(
        db,
        "inspection_totals",
        &totals_columns,
        contents.days.iter().map(|(key, sums)| {
            let mut row = area_cells(key, sums);
            row.extend(sums_cells(
                &contents.running.get(key).copied().unwrap_or_default(),
            ));
            row
        }),
    )?;

    let mut histories: BTreeMap<(&str, &str), History> = BTreeMap::new();
    for (key, bits) in &contents.years {
        histories
            .entry((key.enterprise_code.as_str(), key.region_code.as_str()))
            .or_default()
            .insert((key.inspection_kind.clone(), key.year), bits.clone());
    }
    let mut history_rows = Vec::with_capacity(histories.len());
    for ((enterprise, region), history) in &histories {
        history_rows.push(vec![
            text(enterprise),
            text(region),
            Cell::Bytes(encode_history(history)?),
        ]);
    }
    insert_all(
        db,
        "inspection_histories",
        &["enterprise_code", "region_code", "history"],
        history_rows,
    )?;
    rebuild_attendance(db)?;
    Ok(RollupSummary {
        inspections: contents.days.values().map(|s| s.inspections).sum(),
        total_rows: contents.days.len(),
        month_rows: contents.months.len(),
        history_rows: histories.len(),
        tracked_enterprises: super::standings::rebuild(db)?,
    })
}

/// What a rebuild wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupSummary {
    pub inspections: i64,
    /// Running totals: one per series and day with an inspection.
    pub total_rows: usize,
    pub month_rows: usize,
    /// Histories: one per enterprise and region with an inspection.
    pub history_rows: usize,
    /// Enterprises with a hazard, as hazard tracking counted them.
    pub tracked_enterprises: usize,
}

impl std::fmt::Display for RollupSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "已提交的检查 {} 次：逐日累计 {} 行、按月 {} 行、企业检查记录 {} 行；隐患跟踪企业 {} 家",
            self.inspections,
            self.total_rows,
            self.month_rows,
            self.history_rows,
            self.tracked_enterprises
        )
    }
}

// ---- reading ----------------------------------------------------------------------------------

/// Conditions on the `region_code`, `industry` and `inspection_kind` of a rollup aliased
/// `alias`: the scope (not an enterprise: the area tables do not know one), then the
/// filter's regions, industry and kinds. With `scan`, a list of regions is checked row by
/// row ([`Query::any_of_paged`]) rather than looked up in the region index: a city's or
/// district's share of the month table is most of it.
fn area_conditions(
    query: &mut Query,
    alias: &str,
    scope: &RecordScope,
    filter: &RecordFilter,
    scan: bool,
) -> Vec<String> {
    let mut conditions = Vec::new();
    let column = format!("{alias}.region_code");
    let regions = |query: &mut Query, codes: &[String]| {
        if scan {
            query.any_of_paged(&column, codes)
        } else {
            query.any_of(&column, codes)
        }
    };
    if let RecordScope::Regions(codes) = scope {
        conditions.push(regions(query, codes));
    }
    if let Some(codes) = &filter.regions {
        conditions.push(regions(query, codes));
    }
    if let Some(industry) = &filter.industry {
        let p = query.bind(text(industry));
        conditions.push(format!("{alias}.industry = {p}"));
    }
    if !filter.inspection_kinds.is_empty() {
        conditions.push(query.any_of(
            &format!("{alias}.inspection_kind"),
            &filter.inspection_kinds,
        ));
    }
    conditions.push("1 = 1".into());
    conditions
}

/// Which China days a range covers and how they split into whole months and the partial
/// months at its edges. `None` bounds are open.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DaySplit {
    /// Partial months, each within one month: `[from, before)` each.
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
        // No whole month: every day is read, in at most two edges (each within a month).
        let (from, before) = (from.unwrap_or(start), before.unwrap_or(end));
        let mut edges = Vec::new();
        if from < before {
            if from < end && end < before {
                edges.extend([(from, end), (end, before)]);
            } else {
                edges.push((from, before));
            }
        }
        return Ok(DaySplit {
            edges,
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
        let from = filter
            .started_from
            .map(|t| china_day_from(t.timestamp_millis()));
        let before = filter
            .started_before
            .map(|t| china_day_from(t.timestamp_millis()));
        let add = |totals: &mut BTreeMap<AreaKey, Sums>, month: i64, series: Vec<SeriesSums>| {
            for (region, industry, kind, sums) in series {
                totals
                    .entry((
                        month,
                        keep(grouping.region, region),
                        keep(grouping.industry, industry),
                        kind,
                    ))
                    .or_default()
                    .add(sums);
            }
        };
        let short = matches!((from, before), (Some(from), Some(before)) if before - from <= SHORT_RANGE_DAYS);
        if !grouping.month && short {
            add(
                &mut totals,
                0,
                days_between(db, scope, filter, from, before)?,
            );
        } else if !grouping.month && !db.postgres() {
            // SQLite looks a series' running total up in a few microseconds but sorts a
            // city's months slowly; PostgreSQL the other way round (15 us a lookup, months
            // hashed): it reads whole months and edge days below.
            add(
                &mut totals,
                0,
                series_between(db, scope, filter, from, before)?,
            );
        } else {
            let split = split_days(from, before)?;
            // An edge lies within one month.
            for (from, before) in &split.edges {
                let month = if grouping.month {
                    month_key(date_of(*from)?)
                } else {
                    0
                };
                add(
                    &mut totals,
                    month,
                    days_between(db, scope, filter, Some(*from), Some(*before))?,
                );
            }
            if let Some((first, last)) = split.months {
                let mut query = Query::new(db.postgres());
                let mut conditions = area_conditions(&mut query, "m", scope, filter, true);
                conditions.extend(within(
                    &mut query,
                    "m.month",
                    first,
                    last.map(|l| ("<=", l)),
                ));
                // Grouped in the table's key order: month, kind, region, industry.
                let (month, month_group) = if grouping.month {
                    ("m.month", "m.month, ")
                } else {
                    ("CAST(0 AS BIGINT)", "")
                };
                let (select, group) = match (grouping.region, grouping.industry) {
                    (true, true) => ("m.region_code, m.industry", ", m.region_code, m.industry"),
                    (true, false) => ("m.region_code, ''", ", m.region_code"),
                    (false, true) => ("'', m.industry", ", m.industry"),
                    (false, false) => ("'', ''", ""),
                };
                query.push(&format!(
                    "SELECT {month}, {select}, m.inspection_kind, CAST(SUM(m.inspections) AS BIGINT),
                            CAST(SUM(m.passed) AS BIGINT), CAST(SUM(m.hazards) AS BIGINT)
                     FROM inspection_months m WHERE {}
                     GROUP BY {month_group}m.inspection_kind{group}",
                    conditions.join(" AND ")
                ));
                for (key, sums) in fetch(db, &query, area_row)? {
                    totals.entry(key).or_default().add(sums);
                }
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

/// `column >= first` and `column <op> end`, for the ends given.
fn within(
    query: &mut Query,
    column: &str,
    first: Option<i64>,
    end: Option<(&str, i64)>,
) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(first) = first {
        let p = query.bind(Cell::Int(first));
        conditions.push(format!("{column} >= {p}"));
    }
    if let Some((op, end)) = end {
        let p = query.bind(Cell::Int(end));
        conditions.push(format!("{column} {op} {p}"));
    }
    conditions
}

/// Ranges up to this many days are summed day by day (a short range has fewer days with
/// inspections than there are series); longer ones from the running totals at their ends.
const SHORT_RANGE_DAYS: i64 = 62;

/// Per series in scope matching the filter: the sum of its days from China day `from` up to
/// `before` (either end open).
fn days_between(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
    from: Option<i64>,
    before: Option<i64>,
) -> StoreResult<Vec<SeriesSums>> {
    let mut query = Query::new(db.postgres());
    let mut conditions = area_conditions(&mut query, "d", scope, filter, true);
    conditions.extend(within(&mut query, "d.day", from, before.map(|b| ("<", b))));
    query.push(&format!(
        "SELECT d.region_code, d.industry, d.inspection_kind, CAST(SUM(d.inspections) AS BIGINT),
                CAST(SUM(d.passed) AS BIGINT), CAST(SUM(d.hazards) AS BIGINT)
         FROM inspection_totals d WHERE {}
         GROUP BY d.region_code, d.industry, d.inspection_kind",
        conditions.join(" AND ")
    ));
    fetch(db, &query, |row: &dyn Cells| {
        Ok((
            row.text(0)?,
            row.text(1)?,
            row.text(2)?,
            sums_row_at(row, 3)?,
        ))
    })
}

/// A series (region, industry, inspection kind) and what it counted over a range.
type SeriesSums = (String, String, String, Sums);

/// Per series in scope matching the filter: what it counted from China day `from` up to
/// `before` (either end open), as the difference of its running totals at the two ends.
fn series_between(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
    from: Option<i64>,
    before: Option<i64>,
) -> StoreResult<Vec<SeriesSums>> {
    let postgres = db.postgres();
    let mut query = Query::new(postgres);
    let conditions = area_conditions(&mut query, "s", scope, filter, false);
    // The series' last running total before a day (or its last of all).
    let mut total_before = |alias: &str, day: Option<i64>| -> String {
        let bound = day.map(|day| {
            let p = query.bind(Cell::Int(day));
            format!("AND t.day < {p}")
        });
        let bound = bound.unwrap_or_default();
        let series = "t.region_code = s.region_code AND t.industry = s.industry
            AND t.inspection_kind = s.inspection_kind";
        if postgres {
            // A lateral subquery walks the index backwards from the bound: one row.
            format!(
                "LEFT JOIN LATERAL (SELECT t.inspections_to_date, t.passed_to_date,
                         t.hazards_to_date
                     FROM inspection_totals t WHERE {series} {bound}
                     ORDER BY t.day DESC LIMIT 1) {alias} ON TRUE"
            )
        } else {
            format!(
                "LEFT JOIN inspection_totals {alias} ON {alias}.region_code = s.region_code
                     AND {alias}.industry = s.industry
                     AND {alias}.inspection_kind = s.inspection_kind
                     AND {alias}.day = (SELECT MAX(t.day) FROM inspection_totals t
                                        WHERE {series} {bound})"
            )
        }
    };
    let end = total_before("b", before);
    let (start, start_sums) = match from {
        Some(from) => (
            total_before("a", Some(from)),
            "COALESCE(a.inspections_to_date, 0), COALESCE(a.passed_to_date, 0),
             COALESCE(a.hazards_to_date, 0)",
        ),
        None => (
            String::new(),
            "CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT)",
        ),
    };
    query.push(&format!(
        "SELECT s.region_code, s.industry, s.inspection_kind,
                COALESCE(b.inspections_to_date, 0), COALESCE(b.passed_to_date, 0),
                COALESCE(b.hazards_to_date, 0),
                {start_sums}
         FROM inspection_series s {end} {start}
         WHERE {}",
        conditions.join(" AND ")
    ));
    let rows = fetch(db, &query, |row: &dyn Cells| {
        let between = sums_row_at(row, 3)?.minus(sums_row_at(row, 6)?);
        Ok((row.text(0)?, row.text(1)?, row.text(2)?, between))
    })?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, _, sums)| sums.inspections != 0)
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
        sums_row_at(row, 4)?,
    ))
}

/// Per enterprise in scope, kind and China year of `years`, of the kinds given (every kind
/// when none): the days inspections started and each month's first submission, from the
/// enterprises' histories.
pub(super) fn inspection_years(
    db: &mut impl Exec,
    scope: &RecordScope,
    years: RangeInclusive<i32>,
    kinds: &[String],
) -> StoreResult<Vec<InspectionYear>> {
    let mut query = Query::new(db.postgres());
    let (condition, scope_kinds) = match scope {
        RecordScope::All => ("1 = 1".to_string(), None),
        RecordScope::Regions(codes) => (query.any_of("region_code", codes), None),
        RecordScope::Enterprise {
            credit_code,
            inspection_kinds,
        } => {
            let code = query.bind(text(credit_code));
            (format!("enterprise_code = {code}"), Some(inspection_kinds))
        }
    };
    query.push(&format!(
        "SELECT enterprise_code, region_code, history FROM inspection_histories WHERE {condition}"
    ));
    let wanted = |kind: &str| {
        (kinds.is_empty() || kinds.iter().any(|k| k == kind))
            && scope_kinds.is_none_or(|allowed| allowed.iter().any(|k| k == kind))
    };
    let per_history = fetch(db, &query, |row: &dyn Cells| {
        let enterprise_code: Arc<str> = row.text(0)?.into();
        let region_code: Arc<str> = row.text(1)?.into();
        let bytes = row.bytes(2)?;
        let mut found = Vec::new();
        for entry in history_years(&bytes)? {
            if !years.contains(&entry.year) || !wanted(entry.kind) {
                continue;
            }
            let inspection_kind = InspectionKind::parse(entry.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown inspection kind {}", entry.kind))
            })?;
            let bits = entry.bits();
            found.push(InspectionYear {
                enterprise_code: enterprise_code.clone(),
                inspection_kind,
                year: entry.year,
                region_code: region_code.clone(),
                started_days: bits.days,
                first_submitted_days: bits.first_submitted,
            });
        }
        Ok(found)
    })?;
    Ok(per_history.into_iter().flatten().collect())
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
    for (code, first) in &touched {
        recount_attendance(db, code, *first)?;
    }
    let mut earliest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for row in rows {
        let day = earliest.entry(row.credit_code.as_str()).or_insert(row.date);
        *day = (*day).min(row.date);
    }
    for (code, from) in earliest {
        recount_attendance_totals(db, code, from)?;
    }
    Ok(())
}

/// Recounts an enterprise's running attendance totals from a day on, from `attendance`.
fn recount_attendance_totals(db: &mut impl Exec, code: &str, from: NaiveDate) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    let from_p = query.bind(text(&from.to_string()));
    query.push(&format!(
        "DELETE FROM attendance_totals WHERE credit_code = {code_p} AND date >= {from_p}"
    ));
    fetch(db, &query, |_| Ok(()))?;
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    let from_p = query.bind(text(&from.to_string()));
    query.push(&format!(
        "SELECT shifts, present FROM attendance_totals
         WHERE credit_code = {code_p} AND date < {from_p} ORDER BY date DESC LIMIT 1"
    ));
    let (shifts, present) = fetch(db, &query, |row: &dyn Cells| Ok((row.int(0)?, row.int(1)?)))?
        .pop()
        .unwrap_or_default();
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    let from_p = query.bind(text(&from.to_string()));
    let shifts = query.bind(Cell::Int(shifts));
    let present = query.bind(Cell::Int(present));
    query.push(&format!(
        "INSERT INTO attendance_totals (credit_code, date, shifts, present)
         SELECT credit_code, date,
                {shifts} + CAST(SUM(due) OVER (ORDER BY date) AS BIGINT),
                {present} + CAST(SUM(attended) OVER (ORDER BY date) AS BIGINT)
         FROM (SELECT credit_code, date, COUNT(*) AS due,
                      SUM(CASE WHEN present THEN 1 ELSE 0 END) AS attended
               FROM attendance WHERE credit_code = {code_p} AND date >= {from_p}
               GROUP BY credit_code, date) d"
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
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
    let mut query = Query::new(db.postgres());
    query.push("DELETE FROM attendance_totals");
    fetch(db, &query, |_| Ok(()))?;
    let mut query = Query::new(db.postgres());
    query.push(
        "INSERT INTO attendance_totals (credit_code, date, shifts, present)
         SELECT credit_code, date,
                CAST(SUM(due) OVER (PARTITION BY credit_code ORDER BY date) AS BIGINT),
                CAST(SUM(attended) OVER (PARTITION BY credit_code ORDER BY date) AS BIGINT)
         FROM (SELECT credit_code, date, COUNT(*) AS due,
                      SUM(CASE WHEN present THEN 1 ELSE 0 END) AS attended
               FROM attendance GROUP BY credit_code, date) d",
    );
    fetch(db, &query, |_| Ok(()))?;

    let totals = attendance_recount(db)?;
    let mut query = Query::new(db.postgres());
    query.push("DELETE FROM attendance_months");
    fetch(db, &query, |_| Ok(()))?;
    insert_all(
        db,
        "attendance_months",
        &["credit_code", "month", "shifts", "present"],
        totals.iter().map(|((code, month), (shifts, present))| {
            vec![
                text(code),
                text(month),
                Cell::Int(*shifts),
                Cell::Int(*present),
            ]
        }),
    )
}

/// Duty-leader shifts due in scope between two China dates (inclusive), per the
/// enterprise's industry and region and, when `monthly`, per month (else month ""): whole
/// months from `attendance_months`, anything else from the running totals.
pub(super) fn attendance_counts(
    db: &mut impl Exec,
    scope: &RecordScope,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    monthly: bool,
) -> StoreResult<Vec<super::AttendanceCount>> {
    let mut totals: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    let mut add = |month: &str, rows: Vec<(String, String, i64, i64)>| {
        for (industry, region_code, shifts, present) in rows {
            let entry = totals
                .entry((month.to_string(), industry, region_code))
                .or_default();
            entry.0 += shifts;
            entry.1 += present;
        }
    };
    if !monthly {
        add("", attendance_between(db, scope, from, until)?);
    } else {
        let split = split_days(from.map(day_of), until.map(|d| day_of(d) + 1))?;
        for (from, before) in &split.edges {
            let (first, last) = (date_of(*from)?, date_of(*before - 1)?);
            add(
                &attendance_month(first),
                attendance_between(db, scope, Some(first), Some(last))?,
            );
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
            let rows = fetch(db, &query, |row: &dyn Cells| {
                Ok((
                    row.text(0)?,
                    (row.text(1)?, row.text(2)?, row.int(3)?, row.int(4)?),
                ))
            })?;
            for (month, row) in rows {
                add(&month, vec![row]);
            }
        }
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

/// Per industry and region of the enterprises in scope: the shifts due and attended between
/// two dates (inclusive; either end open), as the difference of each enterprise's running
/// totals at the two ends. Only enterprises with duty-leader shifts on file are looked up (a
/// tenth of a city's).
fn attendance_between(
    db: &mut impl Exec,
    scope: &RecordScope,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> StoreResult<Vec<(String, String, i64, i64)>> {
    let postgres = db.postgres();
    let mut query = Query::new(postgres);
    let condition = super::listing::enterprise_region_scope(&mut query, scope, "e");
    // The enterprise's last running total up to a bound.
    let mut total_until = |alias: &str, bound: Option<(&str, NaiveDate)>| -> String {
        let bound = bound
            .map(|(op, date)| {
                let p = query.bind(text(&date.to_string()));
                format!("AND t.date {op} {p}")
            })
            .unwrap_or_default();
        if postgres {
            format!(
                "LEFT JOIN LATERAL (SELECT t.shifts, t.present FROM attendance_totals t
                     WHERE t.credit_code = e.credit_code {bound}
                     ORDER BY t.date DESC LIMIT 1) {alias} ON TRUE"
            )
        } else {
            format!(
                "LEFT JOIN attendance_totals {alias} ON {alias}.credit_code = e.credit_code
                     AND {alias}.date = (SELECT MAX(t.date) FROM attendance_totals t
                                         WHERE t.credit_code = e.credit_code {bound})"
            )
        }
    };
    let end = total_until("b", until.map(|d| ("<=", d)));
    let (start, start_shifts, start_present) = match from {
        Some(from) => (
            total_until("a", Some(("<", from))),
            "COALESCE(a.shifts, 0)",
            "COALESCE(a.present, 0)",
        ),
        None => (String::new(), "0", "0"),
    };
    query.push(&format!(
        "SELECT e.industry, e.region_code,
                CAST(SUM(COALESCE(b.shifts, 0) - {start_shifts}) AS BIGINT),
                CAST(SUM(COALESCE(b.present, 0) - {start_present}) AS BIGINT)
         FROM (SELECT credit_code FROM attendance_months GROUP BY credit_code) w
              JOIN enterprises e ON e.credit_code = w.credit_code {end} {start}
         WHERE {condition} GROUP BY e.industry, e.region_code"
    ));
    let rows = fetch(db, &query, |row: &dyn Cells| {
        Ok((row.text(0)?, row.text(1)?, row.int(2)?, row.int(3)?))
    })?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, shifts, _)| *shifts != 0)
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
        // Across a month end without a whole month between: each edge within its month.
        let split = split_days(Some(day(2026, 5, 20)), Some(day(2026, 6, 9))).unwrap();
        assert_eq!(
            split.edges,
            vec![
                (day(2026, 5, 20), day(2026, 6, 1)),
                (day(2026, 6, 1), day(2026, 6, 9))
            ]
        );
        let split = split_days(Some(day(2026, 5, 20)), Some(day(2026, 6, 1))).unwrap();
        assert_eq!(split.edges, vec![(day(2026, 5, 20), day(2026, 6, 1))]);
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
    }

    #[test]
    fn a_history_keeps_every_kind_and_year_and_refuses_a_cut_one() {
        let mut history = History::new();
        let mut bits = YearBits::new();
        bits.add(&counted(day(2026, 3, 2), day(2026, 3, 3), 1))
            .unwrap();
        history.insert(("self".into(), 2026), bits.clone());
        bits.add(&counted(day(2025, 7, 9), day(2025, 8, 1), 0))
            .unwrap();
        history.insert(("enforcement".into(), 2025), bits);
        let bytes = encode_history(&history).unwrap();
        assert_eq!(decode_history(&bytes).unwrap(), history);
        assert!(decode_history(&[]).unwrap().is_empty());
        assert!(decode_history(&bytes[..bytes.len() - 1]).is_err());
        assert!(
            encode_history(&History::from([(("k".repeat(300), 2026), YearBits::new())])).is_err()
        );
    }
}
