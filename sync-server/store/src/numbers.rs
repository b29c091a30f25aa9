//! Document numbers: blocks leased to devices and the register of issued and voided numbers.
//! The SQL both backends run, once, over [`Exec`] (`$n` placeholders, as in
//! [`super::accounts`]). A number is issued by a record's commit, in its transaction.

use chrono::{DateTime, Utc};

use anjian_core::agency::DocType;
use anjian_core::sync::protocol::NumberBlock;

use super::exec::{Cell, Exec, serialize_writes};
use super::{NumberRegisterEntry, StoreError, StoreResult, doc_type, from_millis, millis};

fn serial(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("serial {value} out of range")))
}

/// Leases the next `size` serials of an agency's document type and year to a device.
#[allow(clippy::too_many_arguments)] // the trait method's arguments, passed through
pub(super) fn lease_block(
    db: &mut impl Exec,
    agency: &str,
    doc_type: DocType,
    year: i32,
    device_id: &str,
    login: &str,
    size: u32,
    at: DateTime<Utc>,
) -> StoreResult<NumberBlock> {
    serialize_writes(db)?;
    let leased = db.rows(
        "SELECT COALESCE(MAX(last), 0) FROM number_leases
         WHERE agency = $1 AND doc_type = $2 AND year = $3",
        &[
            Cell::Text(agency.to_string()),
            Cell::Text(doc_type.as_str().to_string()),
            Cell::Int32(year),
        ],
        |row| row.int(0),
    )?;
    let last = serial(leased.first().copied().unwrap_or(0))?;
    let first = last + 1;
    let last = last
        .checked_add(size)
        .filter(|l| *l <= anjian_core::numbering::MAX_SERIAL)
        .ok_or_else(|| {
            StoreError::Conflict(format!("{}（{year} 年）的编号已用尽", doc_type.title()))
        })?;
    db.execute(
        "INSERT INTO number_leases (agency, doc_type, year, first, last, device_id, login,
             leased_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Cell::Text(agency.to_string()),
            Cell::Text(doc_type.as_str().to_string()),
            Cell::Int32(year),
            Cell::Int(i64::from(first)),
            Cell::Int(i64::from(last)),
            Cell::Text(device_id.to_string()),
            Cell::Text(login.to_string()),
            Cell::Int(millis(at)),
        ],
    )?;
    Ok(NumberBlock {
        agency: agency.to_string(),
        doc_type,
        year,
        first,
        last,
    })
}

pub(super) fn leases_of_device(
    db: &mut impl Exec,
    device_id: &str,
    login: &str,
) -> StoreResult<Vec<NumberBlock>> {
    db.rows(
        "SELECT agency, doc_type, year, first, last FROM number_leases
         WHERE device_id = $1 AND login = $2 ORDER BY agency, doc_type, year, first",
        &[
            Cell::Text(device_id.to_string()),
            Cell::Text(login.to_string()),
        ],
        |row| {
            Ok(NumberBlock {
                agency: row.text(0)?,
                doc_type: doc_type(&row.text(1)?)?,
                year: row.int32(2)?,
                first: serial(row.int(3)?)?,
                last: serial(row.int(4)?)?,
            })
        },
    )
}

/// The device and account holding the lease that covers a serial.
pub(super) fn lease_holder(
    db: &mut impl Exec,
    agency: &str,
    doc_type: DocType,
    year: i32,
    serial: u32,
) -> StoreResult<Option<(String, String)>> {
    Ok(db
        .rows(
            "SELECT device_id, login FROM number_leases
             WHERE agency = $1 AND doc_type = $2 AND year = $3 AND first <= $4 AND $4 <= last",
            &[
                Cell::Text(agency.to_string()),
                Cell::Text(doc_type.as_str().to_string()),
                Cell::Int32(year),
                Cell::Int(i64::from(serial)),
            ],
            |row| Ok((row.text(0)?, row.text(1)?)),
        )?
        .pop())
}

/// Voids a number not issued; voiding it again changes nothing, an issued one is refused.
pub(super) fn void_number(db: &mut impl Exec, entry: &NumberRegisterEntry) -> StoreResult<()> {
    serialize_writes(db)?;
    let existing = db.rows(
        "SELECT state, record_id FROM numbers
         WHERE agency = $1 AND doc_type = $2 AND year = $3 AND serial = $4",
        &[
            Cell::Text(entry.agency.clone()),
            Cell::Text(entry.doc_type.as_str().to_string()),
            Cell::Int32(entry.year),
            Cell::Int(i64::from(entry.serial)),
        ],
        |row| Ok((row.text(0)?, row.opt_text(1)?)),
    )?;
    match existing.into_iter().next() {
        Some((state, _)) if state == "voided" => Ok(()),
        Some((_, record)) => Err(StoreError::Conflict(format!(
            "编号 {} 已用于记录 {}，不能作废",
            entry.number,
            record.unwrap_or_default()
        ))),
        None => {
            db.execute(
                "INSERT INTO numbers (agency, doc_type, year, serial, number, state,
                     record_id, reason, device_id, at)
                 VALUES ($1, $2, $3, $4, $5, 'voided', NULL, $6, $7, $8)",
                &[
                    Cell::Text(entry.agency.clone()),
                    Cell::Text(entry.doc_type.as_str().to_string()),
                    Cell::Int32(entry.year),
                    Cell::Int(i64::from(entry.serial)),
                    Cell::Text(entry.number.clone()),
                    Cell::OptText(entry.reason.clone()),
                    Cell::Text(entry.device_id.clone()),
                    Cell::Int(millis(entry.at)),
                ],
            )?;
            Ok(())
        }
    }
}

pub(super) fn number_register(db: &mut impl Exec) -> StoreResult<Vec<NumberRegisterEntry>> {
    db.rows(
        "SELECT number, agency, doc_type, year, serial, state, record_id, reason,
                device_id, at
         FROM numbers ORDER BY agency, doc_type, year, serial",
        &[],
        |row| {
            Ok(NumberRegisterEntry {
                number: row.text(0)?,
                agency: row.text(1)?,
                doc_type: doc_type(&row.text(2)?)?,
                year: row.int32(3)?,
                serial: serial(row.int(4)?)?,
                state: row.text(5)?,
                record_id: row.opt_text(6)?,
                reason: row.opt_text(7)?,
                device_id: row.text(8)?,
                at: from_millis(row.int(9)?)?,
            })
        },
    )
}
