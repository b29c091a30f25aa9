//! Document numbers issued offline. Numbers run per agency, document type and year, without
//! gaps or duplicates. The device holds blocks of serials (registered locally for now; the sync
//! server will lease them) and issues the lowest unused serial of its blocks inside the same
//! transaction as the record change that uses it. A serial that will not be used is voided
//! explicitly, with a reason, so every gap in the register is explained.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::agency::{Agency, DocType};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::time::format_china;

/// The largest serial a block may name.
pub const MAX_SERIAL: u32 = 99_999_999;

/// A block of serials this device holds, with how much of it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockStatus {
    pub doc_type: DocType,
    pub year: i32,
    pub first: u32,
    pub last: u32,
    pub issued: u32,
    pub voided: u32,
    pub remaining: u32,
    /// The number the next document of this type and year would get from this block.
    pub next: Option<String>,
}

/// One line of the register: a number issued to a record, or voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberEntry {
    pub number: String,
    pub doc_type: DocType,
    pub year: i32,
    pub serial: u32,
    /// `issued` or `voided`.
    pub state: String,
    pub record_id: Option<String>,
    pub reason: Option<String>,
    pub at: String,
}

fn used_serials(conn: &Connection, agency: &str, doc_type: DocType, year: i32) -> Result<Vec<u32>> {
    let mut stmt = conn.prepare_cached(
        "SELECT serial FROM numbers WHERE agency = ?1 AND doc_type = ?2 AND year = ?3
         ORDER BY serial",
    )?;
    let rows = stmt.query_map(params![agency, doc_type.as_str(), year], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn blocks(conn: &Connection, agency: &str) -> Result<Vec<(DocType, i32, u32, u32)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc_type, year, first, last FROM number_blocks WHERE agency = ?1
         ORDER BY doc_type, year, first",
    )?;
    let rows = stmt.query_map([agency], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (doc_type, year, first, last) = row?;
        let doc_type = DocType::parse(&doc_type)
            .ok_or_else(|| Error::InvalidInput(format!("未知文书类型 {doc_type}")))?;
        out.push((doc_type, year, first, last));
    }
    Ok(out)
}

/// The lowest serial of the held blocks that is neither issued nor voided.
fn next_free(conn: &Connection, agency: &str, doc_type: DocType, year: i32) -> Result<Option<u32>> {
    let used = used_serials(conn, agency, doc_type, year)?;
    for (block_type, block_year, first, last) in blocks(conn, agency)? {
        if block_type != doc_type || block_year != year {
            continue;
        }
        if let Some(serial) = (first..=last).find(|s| used.binary_search(s).is_err()) {
            return Ok(Some(serial));
        }
    }
    Ok(None)
}

/// Takes the next serial for a record. Runs inside the caller's transaction, so the number and
/// the record change that uses it are stored together or not at all.
pub(crate) fn issue_number(
    conn: &Connection,
    agency: &Agency,
    doc_type: DocType,
    year: i32,
    record_id: &str,
    at: DateTime<Utc>,
) -> Result<String> {
    let serial = next_free(conn, &agency.name, doc_type, year)?.ok_or(Error::NoSerialLeft {
        title: doc_type.title(),
        year,
    })?;
    let number = agency.format_number(doc_type, year, serial);
    conn.execute(
        "INSERT INTO numbers (agency, doc_type, year, serial, number, state, record_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'issued', ?6, ?7)",
        params![
            agency.name,
            doc_type.as_str(),
            year,
            serial,
            number,
            record_id,
            format_china(at)
        ],
    )?;
    Ok(number)
}

impl Store {
    fn agency(&self) -> Result<Agency> {
        self.profile()?.agency.ok_or(Error::NoAgency)
    }

    /// Registers a block of serials for a document type and year. Blocks may not overlap.
    pub fn add_number_block(
        &mut self,
        doc_type: DocType,
        year: i32,
        first: u32,
        last: u32,
        now: DateTime<Utc>,
    ) -> Result<BlockStatus> {
        let agency = self.agency()?;
        if !(2000..=2100).contains(&year) {
            return Err(Error::InvalidInput(format!("年份 {year} 无效")));
        }
        if first == 0 || first > last || last > MAX_SERIAL {
            return Err(Error::InvalidInput(format!(
                "号段 {first}–{last} 无效：应为 1 到 {MAX_SERIAL} 之间、起号不大于止号"
            )));
        }
        let overlap = blocks(self.connection(), &agency.name)?
            .into_iter()
            .find(|(t, y, f, l)| *t == doc_type && *y == year && *f <= last && first <= *l);
        if let Some((_, _, f, l)) = overlap {
            return Err(Error::InvalidInput(format!(
                "号段 {first}–{last} 与已有号段 {f}–{l} 重叠"
            )));
        }
        self.connection().execute(
            "INSERT INTO number_blocks (agency, doc_type, year, first, last, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                agency.name,
                doc_type.as_str(),
                year,
                first,
                last,
                format_china(now)
            ],
        )?;
        self.number_blocks()?
            .into_iter()
            .find(|b| b.doc_type == doc_type && b.year == year && b.first == first)
            .ok_or_else(|| Error::InvalidInput("号段未能登记".into()))
    }

    /// Every block held, with its use.
    pub fn number_blocks(&self) -> Result<Vec<BlockStatus>> {
        let agency = self.agency()?;
        let conn = self.connection();
        let mut out = Vec::new();
        for (doc_type, year, first, last) in blocks(conn, &agency.name)? {
            let (issued, voided): (u32, u32) = conn.query_row(
                "SELECT COALESCE(SUM(state = 'issued'), 0), COALESCE(SUM(state = 'voided'), 0)
                 FROM numbers WHERE agency = ?1 AND doc_type = ?2 AND year = ?3
                     AND serial BETWEEN ?4 AND ?5",
                params![agency.name, doc_type.as_str(), year, first, last],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            let used = used_serials(conn, &agency.name, doc_type, year)?;
            let next = (first..=last)
                .find(|s| used.binary_search(s).is_err())
                .map(|s| agency.format_number(doc_type, year, s));
            out.push(BlockStatus {
                doc_type,
                year,
                first,
                last,
                issued,
                voided,
                remaining: last - first + 1 - issued - voided,
                next,
            });
        }
        Ok(out)
    }

    /// The register of issued and voided numbers, in order.
    pub fn number_register(&self) -> Result<Vec<NumberEntry>> {
        let agency = self.agency()?;
        let mut stmt = self.connection().prepare(
            "SELECT number, doc_type, year, serial, state, record_id, reason, at FROM numbers
             WHERE agency = ?1 ORDER BY doc_type, year, serial",
        )?;
        let rows = stmt.query_map([&agency.name], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (number, doc_type, year, serial, state, record_id, reason, at) = row?;
            out.push(NumberEntry {
                number,
                doc_type: DocType::parse(&doc_type)
                    .ok_or_else(|| Error::InvalidInput(format!("未知文书类型 {doc_type}")))?,
                year,
                serial,
                state,
                record_id,
                reason,
                at,
            });
        }
        Ok(out)
    }

    /// Voids a serial of a held block that has not been issued, recording why.
    pub fn void_number(
        &mut self,
        number: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<NumberEntry> {
        let agency = self.agency()?;
        let refuse = |why: String| Error::NumberNotVoidable {
            number: number.to_string(),
            reason: why,
        };
        if reason.trim().is_empty() {
            return Err(refuse("必须写明作废原因".into()));
        }
        let (doc_type, year, serial) = agency.parse_number(number).ok_or_else(|| {
            refuse(format!(
                "不是本机关的编号格式（如 {}）",
                agency.format_number(DocType::Order, year_of(now), 1)
            ))
        })?;
        let held = blocks(self.connection(), &agency.name)?
            .into_iter()
            .any(|(t, y, f, l)| t == doc_type && y == year && (f..=l).contains(&serial));
        if !held {
            return Err(refuse("不在本机持有的号段内".into()));
        }
        let existing: Option<(String, Option<String>)> = self
            .connection()
            .query_row(
                "SELECT state, record_id FROM numbers
                 WHERE agency = ?1 AND doc_type = ?2 AND year = ?3 AND serial = ?4",
                params![agency.name, doc_type.as_str(), year, serial],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match existing {
            Some((state, _)) if state == "voided" => return Err(refuse("已作废".into())),
            Some((_, record)) => {
                return Err(refuse(format!(
                    "已签发给记录 {}",
                    record.unwrap_or_default()
                )));
            }
            None => {}
        }
        let formatted = agency.format_number(doc_type, year, serial);
        self.connection().execute(
            "INSERT INTO numbers (agency, doc_type, year, serial, number, state, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'voided', ?6, ?7)",
            params![
                agency.name,
                doc_type.as_str(),
                year,
                serial,
                formatted,
                reason.trim(),
                format_china(now)
            ],
        )?;
        Ok(NumberEntry {
            number: formatted,
            doc_type,
            year,
            serial,
            state: "voided".into(),
            record_id: None,
            reason: Some(reason.trim().to_string()),
            at: format_china(now),
        })
    }
}

/// The year in China of an instant: documents are numbered by it.
pub fn year_of(at: DateTime<Utc>) -> i32 {
    use chrono::Datelike;
    crate::time::china_date(at).year()
}
