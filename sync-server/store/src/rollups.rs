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

use anjian_core::template::InspectionKind;

use chrono::{Datelike, NaiveDate};

use super::conditions::{enterprise_region_scope, record_conditions};
use super::exec::{Cell, Cells, Exec, Query, fetch, text};
use super::{
    AreaCount, AreaGrouping, EnterpriseActivity, RecordFilter, RecordScope, StoreError, StoreResult,
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
    let mut query = Query::new(db.postgres());
    let values = [
        query.bind(Cell::Int(month)),
        query.bind(text(&counted.inspection_kind)),
        query.bind(text(&counted.region_code)),
        query.bind(Cell::Int(sums.inspections)),
        query.bind(Cell::Int(sums.passed)),
        query.bind(Cell::Int(sums.hazards)),
    ];
    query.push(&format!(
        "INSERT INTO inspection_region_months (month, inspection_kind, region_code,
             inspections, passed, hazards)
         VALUES ({})
         ON CONFLICT (month, inspection_kind, region_code) DO UPDATE SET
             inspections = inspection_region_months.inspections + excluded.inspections,
             passed = inspection_region_months.passed + excluded.passed,
             hazards = inspection_region_months.hazards + excluded.hazards",
        values.join(", ")
    ));
    fetch(db, &query, |_| Ok(()))?;
    if sign < 0 {
        let mut query = Query::new(db.postgres());
        let month_p = query.bind(Cell::Int(month));
        let series = series_key(&mut query, "inspection_months", counted);
        query.push(&format!(
            "DELETE FROM inspection_months WHERE month = {month_p} AND {series}
             AND inspections = 0"
        ));
        fetch(db, &query, |_| Ok(()))?;
        let mut query = Query::new(db.postgres());
        let month_p = query.bind(Cell::Int(month));
        let kind = query.bind(text(&counted.inspection_kind));
        let region = query.bind(text(&counted.region_code));
        query.push(&format!(
            "DELETE FROM inspection_region_months WHERE month = {month_p}
             AND inspection_kind = {kind} AND region_code = {region} AND inspections = 0"
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

/// A kind's code in a stored history: its place in [`EnterpriseActivity::KINDS`], or
/// [`OTHER_KIND`] followed by the name's length (1 byte) and the name.
const OTHER_KIND: u8 = 0xFF;
/// The start days as a list of ordinals when there are at most this many (2 bytes each,
/// fewer than the bitmap's 46): a kind's inspections fall on a few days a year.
const DAY_LIST_MAX: usize = 22;
/// The tag of start days kept as the whole bitmap.
const DAY_BITMAP_TAG: u8 = 0xFF;

/// A history as stored (schema version 9), per kind and year in key order:
/// - the kind's code (see [`OTHER_KIND`]);
/// - the year (2 bytes);
/// - the start days: a count `n` up to [`DAY_LIST_MAX`] and `n` day ordinals (from 0,
///   ascending, 2 bytes each), or [`DAY_BITMAP_TAG`] and the 46-byte bitmap;
/// - a 12-bit mask (2 bytes) of the months with a submission, and for each such month in
///   order its first submission as days from the year's first day (a zigzag LEB128 number).
///
/// Integers are little-endian. A self-inspection year is about 55 bytes (it was 106 in
/// version 8, which kept every bitmap and twelve 4-byte days), an enforcement year 20: a
/// city's histories went from 2.9 MB to about a quarter of that.
fn encode_history(history: &History) -> StoreResult<Vec<u8>> {
    let mut bytes = Vec::with_capacity(history.len() * 40);
    for ((kind, year), bits) in history {
        match EnterpriseActivity::KINDS
            .iter()
            .position(|k| k.as_str() == kind)
        {
            Some(code) => bytes.push(code as u8),
            None => {
                let length = u8::try_from(kind.len()).map_err(|_| {
                    StoreError::Corrupt(format!("inspection kind {kind} is too long"))
                })?;
                bytes.extend_from_slice(&[OTHER_KIND, length]);
                bytes.extend_from_slice(kind.as_bytes());
            }
        }
        let stored_year = i16::try_from(*year)
            .map_err(|_| StoreError::Corrupt(format!("year {year} out of range")))?;
        bytes.extend_from_slice(&stored_year.to_le_bytes());
        let days: Vec<usize> = set_days(&bits.days, 0, DAY_BITMAP_BYTES * 8 - 1).collect();
        if days.len() <= DAY_LIST_MAX {
            bytes.push(days.len() as u8);
            for day in days {
                bytes.extend_from_slice(&(day as u16).to_le_bytes());
            }
        } else {
            bytes.push(DAY_BITMAP_TAG);
            bytes.extend_from_slice(&bits.days);
        }
        let mask = (0..12)
            .filter(|month0| bits.first_submitted[*month0] != 0)
            .fold(0u16, |mask, month0| mask | 1 << month0);
        bytes.extend_from_slice(&mask.to_le_bytes());
        let january = year_start_day(*year)?;
        for day in bits.first_submitted.iter().filter(|day| **day != 0) {
            write_zigzag(&mut bytes, i64::from(*day) - january);
        }
    }
    Ok(bytes)
}

/// The China day of a year's first day.
fn year_start_day(year: i32) -> StoreResult<i64> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .map(day_of)
        .ok_or_else(|| StoreError::Corrupt(format!("year {year} out of range")))
}

fn write_zigzag(bytes: &mut Vec<u8>, value: i64) {
    let mut rest = ((value << 1) ^ (value >> 63)) as u64;
    while rest >= 0x80 {
        bytes.push((rest as u8) | 0x80);
        rest >>= 7;
    }
    bytes.push(rest as u8);
}

/// A stored history being read, cut short or malformed is corrupt.
struct HistoryReader<'a> {
    bytes: &'a [u8],
}

impl<'a> HistoryReader<'a> {
    fn corrupt() -> StoreError {
        StoreError::Corrupt("an inspection history is cut short or malformed".into())
    }

    fn take(&mut self, n: usize) -> StoreResult<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(HistoryReader::corrupt());
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    fn byte(&mut self) -> StoreResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> StoreResult<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn zigzag(&mut self) -> StoreResult<i64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok((value >> 1) as i64 ^ -((value & 1) as i64));
            }
        }
        Err(HistoryReader::corrupt())
    }
}

/// A kind's inspections, as the history names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HistoryKind<'a> {
    Known(InspectionKind),
    Other(&'a str),
}

impl HistoryKind<'_> {
    fn name(&self) -> &str {
        match self {
            HistoryKind::Known(kind) => kind.as_str(),
            HistoryKind::Other(name) => name,
        }
    }
}

/// A year's start days as stored.
#[derive(Debug, Clone, Copy)]
enum StartDays<'a> {
    /// Ordinals from 0, 2 bytes each, ascending.
    List(&'a [u8]),
    Bitmap(&'a [u8]),
}

impl StartDays<'_> {
    /// The days from `first` to `last` (ordinals from 0, inclusive) an inspection started.
    fn between(self, first: usize, last: usize) -> impl Iterator<Item = usize> {
        let (list, bitmap) = match self {
            StartDays::List(list) => (list, &[][..]),
            StartDays::Bitmap(bitmap) => (&[][..], bitmap),
        };
        list.chunks_exact(2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .filter(move |day| (first..=last).contains(day))
            .chain(set_days(bitmap, first, last))
    }
}

/// One kind's year of a stored history. Its first submissions are decoded when asked for:
/// a period reads a few of an enterprise's years.
struct HistoryYear<'a> {
    kind: HistoryKind<'a>,
    year: i32,
    days: StartDays<'a>,
    /// The months with a submission (bit `month0`) and their zigzag numbers.
    submission_months: u16,
    submissions: &'a [u8],
}

impl HistoryYear<'_> {
    /// Per month: the China day of the first submission, 0 for none.
    fn first_submitted(&self) -> StoreResult<[i32; 12]> {
        let mut first_submitted = [0i32; 12];
        if self.submission_months == 0 {
            return Ok(first_submitted);
        }
        let january = year_start_day(self.year)?;
        let mut reader = HistoryReader {
            bytes: self.submissions,
        };
        for (month0, slot) in first_submitted.iter_mut().enumerate() {
            if self.submission_months & (1 << month0) != 0 {
                *slot = i32::try_from(january + reader.zigzag()?)
                    .map_err(|_| HistoryReader::corrupt())?;
            }
        }
        Ok(first_submitted)
    }

    fn bits(&self) -> StoreResult<YearBits> {
        let mut days = [0u8; DAY_BITMAP_BYTES];
        // `between` keeps to the bitmap's days, even in a list stored out of order.
        for day in self.days.between(0, DAY_BITMAP_BYTES * 8 - 1) {
            days[day / 8] |= 1 << (day % 8);
        }
        Ok(YearBits {
            days,
            first_submitted: self.first_submitted()?,
        })
    }
}

/// The years of a stored history, in the order stored.
struct HistoryYears<'a> {
    reader: HistoryReader<'a>,
}

fn history_years(bytes: &[u8]) -> HistoryYears<'_> {
    HistoryYears {
        reader: HistoryReader { bytes },
    }
}

impl<'a> HistoryYears<'a> {
    fn year(&mut self) -> StoreResult<HistoryYear<'a>> {
        let reader = &mut self.reader;
        let code = reader.byte()?;
        let kind = match EnterpriseActivity::KINDS.get(usize::from(code)) {
            Some(kind) => HistoryKind::Known(*kind),
            None if code == OTHER_KIND => {
                let length = usize::from(reader.byte()?);
                let name = std::str::from_utf8(reader.take(length)?)
                    .map_err(|_| StoreError::Corrupt("an inspection kind is not UTF-8".into()))?;
                HistoryKind::Other(name)
            }
            None => return Err(HistoryReader::corrupt()),
        };
        let year = i32::from(reader.u16()? as i16);
        let tag = reader.byte()?;
        let days = if tag == DAY_BITMAP_TAG {
            StartDays::Bitmap(reader.take(DAY_BITMAP_BYTES)?)
        } else if usize::from(tag) <= DAY_LIST_MAX {
            let list = reader.take(usize::from(tag) * 2)?;
            // Ascending: the last is the latest, and must be a day of a year.
            if let [.., high, low] = list
                && usize::from(u16::from_le_bytes([*high, *low])) >= DAY_BITMAP_BYTES * 8
            {
                return Err(HistoryReader::corrupt());
            }
            StartDays::List(list)
        } else {
            return Err(HistoryReader::corrupt());
        };
        let submission_months = reader.u16()?;
        // Each number ends with a byte below 0x80.
        let mut length = 0;
        for _ in 0..submission_months.count_ones() {
            let end = reader.bytes[length..]
                .iter()
                .position(|b| b & 0x80 == 0)
                .ok_or_else(HistoryReader::corrupt)?;
            length += end + 1;
        }
        let submissions = reader.take(length)?;
        Ok(HistoryYear {
            kind,
            year,
            days,
            submission_months,
            submissions,
        })
    }
}

impl<'a> Iterator for HistoryYears<'a> {
    type Item = StoreResult<HistoryYear<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.reader.bytes.is_empty() {
            return None;
        }
        let year = self.year();
        if year.is_err() {
            // Nothing after a malformed year can be read.
            self.reader.bytes = &[];
        }
        Some(year)
    }
}

fn decode_history(bytes: &[u8]) -> StoreResult<History> {
    history_years(bytes)
        .map(|year| {
            let year = year?;
            Ok(((year.kind.name().to_string(), year.year), year.bits()?))
        })
        .collect()
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
    /// The months summed over industries (industry "").
    region_months: BTreeMap<AreaKey, Sums>,
    years: BTreeMap<YearKey, YearBits>,
    attendance: AttendanceTotals,
    attendance_days: AttendanceDays,
    attendance_spans: AttendanceSpans,
}

/// Per enterprise: its first and last day with a shift, and its totals due and attended.
type AttendanceSpans = BTreeMap<String, (String, String, i64, i64)>;

fn spans_of_days(days: &AttendanceDays) -> AttendanceSpans {
    let mut spans = AttendanceSpans::new();
    // In credit code and day order.
    for ((code, date), (due, attended)) in days {
        let span = spans
            .entry(code.clone())
            .or_insert_with(|| (date.clone(), date.clone(), 0, 0));
        span.1 = date.clone();
        span.2 += due;
        span.3 += attended;
    }
    spans
}

fn span_row(row: &dyn Cells) -> StoreResult<(String, (String, String, i64, i64))> {
    Ok((
        row.text(0)?,
        (row.text(1)?, row.text(2)?, row.int(3)?, row.int(4)?),
    ))
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
    contents.region_months = region_months_of(&contents.months);
    Ok(contents)
}

fn region_months_of(months: &BTreeMap<AreaKey, Sums>) -> BTreeMap<AreaKey, Sums> {
    let mut summed: BTreeMap<AreaKey, Sums> = BTreeMap::new();
    for ((month, region, _, kind), sums) in months {
        summed
            .entry((*month, region.clone(), String::new(), kind.clone()))
            .or_default()
            .add(*sums);
    }
    summed
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
    contents.attendance_spans = spans_of_days(&contents.attendance_days);
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
        "SELECT month, region_code, '', inspection_kind, inspections, passed, hazards
         FROM inspection_region_months",
    );
    contents.region_months.extend(fetch(db, &query, area_row)?);

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
    let mut query = Query::new(db.postgres());
    query.push("SELECT credit_code, first_date, last_date, shifts, present FROM attendance_spans");
    contents.attendance_spans = fetch(db, &query, span_row)?.into_iter().collect();
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
        "inspection_region_months",
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
    insert_all(
        db,
        "inspection_region_months",
        &[
            "month",
            "region_code",
            "inspection_kind",
            "inspections",
            "passed",
            "hazards",
        ],
        contents
            .region_months
            .iter()
            .map(|((month, region, _, kind), sums)| {
                let mut row = vec![Cell::Int(*month), text(region), text(kind)];
                row.extend(sums_cells(sums));
                row
            }),
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
                days_between(db, scope, filter, from, before, grouping)?,
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
                    days_between(db, scope, filter, Some(*from), Some(*before), grouping)?,
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
                // Without industries, the months summed over them: half the rows.
                let table = if grouping.industry || filter.industry.is_some() {
                    "inspection_months"
                } else {
                    "inspection_region_months"
                };
                query.push(&format!(
                    "SELECT {month}, {select}, m.inspection_kind, CAST(SUM(m.inspections) AS BIGINT),
                            CAST(SUM(m.passed) AS BIGINT), CAST(SUM(m.hazards) AS BIGINT)
                     FROM {table} m WHERE {}
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
/// `before` (either end open). The series' region and industry are summed over (and given
/// as "") when `grouping` drops them.
fn days_between(
    db: &mut impl Exec,
    scope: &RecordScope,
    filter: &RecordFilter,
    from: Option<i64>,
    before: Option<i64>,
    grouping: AreaGrouping,
) -> StoreResult<Vec<SeriesSums>> {
    let mut query = Query::new(db.postgres());
    let mut conditions = area_conditions(&mut query, "d", scope, filter, true);
    conditions.extend(within(&mut query, "d.day", from, before.map(|b| ("<", b))));
    let (region, region_group) = if grouping.region {
        ("d.region_code", ", d.region_code")
    } else {
        ("''", "")
    };
    let (industry, industry_group) = if grouping.industry {
        ("d.industry", ", d.industry")
    } else {
        ("''", "")
    };
    query.push(&format!(
        "SELECT {region}, {industry}, d.inspection_kind, CAST(SUM(d.inspections) AS BIGINT),
                CAST(SUM(d.passed) AS BIGINT), CAST(SUM(d.hazards) AS BIGINT)
         FROM inspection_totals d WHERE {}
         GROUP BY d.inspection_kind{region_group}{industry_group}",
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
    let mut conditions = record_conditions(&mut query, scope, filter);
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

/// The set bits of a year's day bitmap from day `first` to day `last` (inclusive, from 0),
/// in order. Most bytes are zero: a kind's inspections fall on a few days a year.
fn set_days(days: &[u8], first: usize, last: usize) -> impl Iterator<Item = usize> + '_ {
    days.iter()
        .enumerate()
        .take(last / 8 + 1)
        .skip(first / 8)
        .filter(|(_, byte)| **byte != 0)
        .flat_map(|(index, byte)| {
            (0..8)
                .filter(move |bit| byte & (1 << bit) != 0)
                .map(move |bit| index * 8 + bit)
        })
        .filter(move |day| (first..=last).contains(day))
}

/// Per enterprise in scope and history: what its inspections show over `from..=until`,
/// worked out from the stored bytes as they are read (a city is 2,600 histories of a dozen
/// kind-years each; only the period's summary is kept).
pub(super) fn enterprise_activity(
    db: &mut impl Exec,
    scope: &RecordScope,
    from: NaiveDate,
    until: NaiveDate,
) -> StoreResult<Vec<EnterpriseActivity>> {
    if until < from {
        return Ok(Vec::new());
    }
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
    let allowed = |kind: &str| scope_kinds.is_none_or(|allowed| allowed.iter().any(|k| k == kind));
    // Month `month0` of `year` is the period's month `year_offset * 12 + month0 - first_month0`.
    let months =
        (until.year() - from.year()) * 12 + until.month0() as i32 - from.month0() as i32 + 1;
    let months_len = usize::try_from(months).unwrap_or(0);
    fetch(db, &query, |row: &dyn Cells| {
        let mut activity = EnterpriseActivity::new(&row.text(0)?, &row.text(1)?);
        for entry in history_years(row.blob(2)?) {
            let entry = entry?;
            // Kinds the analyses do not know are not theirs to count.
            let HistoryKind::Known(kind) = entry.kind else {
                continue;
            };
            if entry.year < from.year() || entry.year > until.year() || !allowed(kind.as_str()) {
                continue;
            }
            let first = if entry.year == from.year() {
                from.ordinal0() as usize
            } else {
                0
            };
            let last = if entry.year == until.year() {
                until.ordinal0() as usize
            } else {
                DAY_BITMAP_BYTES * 8 - 1
            };
            let mut started = entry.days.between(first, last).peekable();
            if started.peek().is_some() {
                activity.mark_started(kind);
            }
            if kind == InspectionKind::Resident {
                for ordinal0 in started {
                    let day = u32::try_from(ordinal0 + 1)
                        .ok()
                        .and_then(|ordinal| NaiveDate::from_yo_opt(entry.year, ordinal))
                        .ok_or_else(|| StoreError::Corrupt("a day past the year's end".into()))?;
                    activity.resident_days.push(day);
                }
            }
            if kind == InspectionKind::SelfInspection {
                let january = (entry.year - from.year()) * 12 - from.month0() as i32;
                for (month0, day) in entry.first_submitted()?.iter().enumerate() {
                    let index = january + month0 as i32;
                    if *day == 0 || !(0..months).contains(&index) {
                        continue;
                    }
                    activity.submitted_self(index as usize, months_len, date_of(i64::from(*day))?);
                }
            }
        }
        activity.resident_days.sort_unstable();
        Ok(activity)
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
    fetch(db, &query, |_| Ok(()))?;
    refresh_attendance_span(db, code)
}

/// Rewrites an enterprise's span of shifts from its running totals (none left: no span).
fn refresh_attendance_span(db: &mut impl Exec, code: &str) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    query.push(&format!(
        "DELETE FROM attendance_spans WHERE credit_code = {code_p}"
    ));
    fetch(db, &query, |_| Ok(()))?;
    let mut query = Query::new(db.postgres());
    let code_p = query.bind(text(code));
    query.push(&format!(
        "INSERT INTO attendance_spans (credit_code, first_date, last_date, shifts, present)
         SELECT t.credit_code,
                (SELECT MIN(f.date) FROM attendance_totals f WHERE f.credit_code = {code_p}),
                t.date, t.shifts, t.present
         FROM attendance_totals t WHERE t.credit_code = {code_p}
         ORDER BY t.date DESC LIMIT 1"
    ));
    fetch(db, &query, |_| Ok(())).map(drop)
}

/// Each enterprise's span: its first and last day with a shift, and its running totals on
/// the last.
const SPAN_OF_TOTALS: &str = "
    SELECT t.credit_code, f.first_date, t.date, t.shifts, t.present
    FROM attendance_totals t
    JOIN (SELECT credit_code, MIN(date) AS first_date, MAX(date) AS last_date
          FROM attendance_totals GROUP BY credit_code) f
      ON f.credit_code = t.credit_code AND t.date = f.last_date";

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
    let mut query = Query::new(db.postgres());
    query.push("DELETE FROM attendance_spans");
    fetch(db, &query, |_| Ok(()))?;
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "INSERT INTO attendance_spans (credit_code, first_date, last_date, shifts, present)
         {SPAN_OF_TOTALS}"
    ));
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
            let mut conditions = vec![enterprise_region_scope(&mut query, scope, "m")];
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
/// totals at the two ends. Only enterprises whose span of shifts meets the range are read (a
/// tenth of a city's), and a running total is looked up only where the span cannot tell it:
/// before the first shift it is nothing, after the last the span's totals.
fn attendance_between(
    db: &mut impl Exec,
    scope: &RecordScope,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> StoreResult<Vec<(String, String, i64, i64)>> {
    let postgres = db.postgres();
    let mut query = Query::new(postgres);
    let mut conditions = vec![enterprise_region_scope(&mut query, scope, "e")];
    // The enterprise's running total on its last day with a shift `op` the bound, read
    // only when `needed` holds.
    let total = |alias: &str, op: &str, bound: &str, needed: &str| -> String {
        if postgres {
            format!(
                "LEFT JOIN LATERAL (SELECT t.shifts, t.present FROM attendance_totals t
                     WHERE {needed} AND t.credit_code = w.credit_code AND t.date {op} {bound}
                     ORDER BY t.date DESC LIMIT 1) {alias} ON TRUE"
            )
        } else {
            format!(
                "LEFT JOIN attendance_totals {alias} ON {needed}
                     AND {alias}.credit_code = w.credit_code
                     AND {alias}.date = (SELECT MAX(t.date) FROM attendance_totals t
                                         WHERE t.credit_code = w.credit_code
                                           AND t.date {op} {bound})"
            )
        }
    };
    let (end, end_shifts, end_present) = match until {
        Some(until) => {
            let p = query.bind(text(&until.to_string()));
            conditions.push(format!("w.first_date <= {p}"));
            (
                total("b", "<=", &p, &format!("w.last_date > {p}")),
                format!("CASE WHEN w.last_date <= {p} THEN w.shifts ELSE b.shifts END"),
                format!("CASE WHEN w.last_date <= {p} THEN w.present ELSE b.present END"),
            )
        }
        None => (String::new(), "w.shifts".into(), "w.present".into()),
    };
    let (start, start_shifts, start_present) = match from {
        Some(from) => {
            let p = query.bind(text(&from.to_string()));
            conditions.push(format!("w.last_date >= {p}"));
            (
                total("a", "<", &p, &format!("w.first_date < {p}")),
                "COALESCE(a.shifts, 0)",
                "COALESCE(a.present, 0)",
            )
        }
        None => (String::new(), "0", "0"),
    };
    query.push(&format!(
        "SELECT e.industry, e.region_code,
                CAST(SUM({end_shifts} - {start_shifts}) AS BIGINT),
                CAST(SUM({end_present} - {start_present}) AS BIGINT)
         FROM attendance_spans w JOIN enterprises e ON e.credit_code = w.credit_code {end} {start}
         WHERE {} GROUP BY e.industry, e.region_code",
        conditions.join(" AND ")
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

    #[test]
    fn a_history_keeps_days_as_a_list_or_a_bitmap_and_names_an_unknown_kind() {
        let weekly = |count: i64| {
            let mut bits = YearBits::new();
            for week in 0..count {
                let started = day(2024, 1, 1) + week * 7;
                bits.add(&counted(started, started + 3, 0)).unwrap();
            }
            bits
        };
        let mut late = YearBits::new();
        // Submitted in the next year, and (a device clock set back) before the year began.
        late.add(&counted(day(2024, 12, 31), day(2025, 2, 1), 0))
            .unwrap();
        late.add(&counted(day(2024, 1, 1), day(2023, 12, 30), 0))
            .unwrap();
        let history = History::from([
            (("resident".into(), 2024), weekly(53)),
            (("resident".into(), 2025), weekly(DAY_LIST_MAX as i64)),
            (("self".into(), 2024), late),
            (("patrol".into(), 2024), weekly(1)),
        ]);
        let bytes = encode_history(&history).unwrap();
        assert_eq!(decode_history(&bytes).unwrap(), history);
        let years: Vec<HistoryYear<'_>> =
            history_years(&bytes).collect::<StoreResult<_>>().unwrap();
        let kinds: Vec<&str> = years.iter().map(|y| y.kind.name()).collect();
        assert_eq!(kinds, ["patrol", "resident", "resident", "self"]);
        assert!(matches!(years[0].kind, HistoryKind::Other("patrol")));
        assert!(matches!(years[1].days, StartDays::Bitmap(_)), "53 days");
        assert!(matches!(years[2].days, StartDays::List(_)), "22 days");
        let ordinal = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap().ordinal0() as usize;
        let in_february: Vec<usize> = years[1]
            .days
            .between(ordinal(2024, 2, 1), ordinal(2024, 2, 29))
            .collect();
        assert_eq!(in_february, [35, 42, 49, 56]);
        assert_eq!(years[2].days.between(0, 6).collect::<Vec<_>>(), [0]);
        // A cut history is refused, or (cut between years) read as its first years: never
        // as other days.
        for cut in 1..bytes.len() {
            let read: StoreResult<Vec<HistoryYear<'_>>> = history_years(&bytes[..cut]).collect();
            if let Ok(prefix) = read {
                assert!(prefix.len() < years.len(), "cut at {cut}");
                for (read, whole) in prefix.iter().zip(&years) {
                    assert_eq!((read.kind, read.year), (whole.kind, whole.year));
                    assert_eq!(read.bits().unwrap(), whole.bits().unwrap(), "cut at {cut}");
                }
            }
        }
        let read = |bytes: &[u8]| {
            history_years(bytes)
                .collect::<StoreResult<Vec<_>>>()
                .is_ok()
        };
        assert!(read(&[0, 0xE8, 0x07, 0, 0, 0]), "2024, no days");
        assert!(!read(&[7, 0xE8, 0x07, 0, 0, 0]), "kind code 7");
        assert!(!read(&[0, 0xE8, 0x07, 23, 0, 0]), "a list of 23");
        assert!(!read(&[0, 0xE8, 0x07, 1, 0x70, 0x01, 0, 0]), "day 368");
        assert!(!read(&[0, 0xE8, 0x07, 0, 1, 0, 0x80]), "a number cut short");
    }
}
