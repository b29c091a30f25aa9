//! Reading records, the quarantine of late changes, amendments and the current sequence
//! number: the SQL both backends run, once, over [`Exec`] (`$n` placeholders, as in
//! [`super::accounts`]). Committing a record is still each backend's (`commit_record`).

use anjian_core::sync::protocol::heads_from_text;
use anjian_core::sync::receipt::Receipt;

use super::exec::{Cell, Cells, Exec};
use super::{QuarantineEntry, StoreError, StoreResult, StoredRecord, from_millis, millis};

const RECORD_COLUMNS: &str = "r.id, r.doc, r.heads, r.version, r.region_code, r.enterprise_code,
    r.inspection_kind, r.kind, r.status, r.created_by_device, r.amends,
    a.idx, a.heads, a.content_hash, a.locked_at, a.previous_hash, a.entry_hash, a.signature,
    a.key_id, r.enterprise_name, r.hazard_count";

/// PostgreSQL reads a record's inspectors in the same statement (one round trip); SQLite asks
/// for them after each record, a call into the library.
const INSPECTORS_COLUMN: &str =
    ", ARRAY(SELECT i.cert FROM record_inspectors i WHERE i.record_id = r.id ORDER BY i.cert)";

fn stored_record(row: &dyn Cells, with_inspectors: bool) -> StoreResult<StoredRecord> {
    let id = row.text(0)?;
    let lock = match row.opt_int(11)? {
        Some(idx) => Some(Receipt {
            record_id: id.clone(),
            heads: heads_from_text(&row.text(12)?),
            content_hash: row.text(13)?,
            locked_at: from_millis(row.int(14)?)?,
            log_index: idx,
            previous_hash: row.text(15)?,
            entry_hash: row.text(16)?,
            key_id: row.opt_text(18)?,
            signature: row.text(17)?,
        }),
        None => None,
    };
    Ok(StoredRecord {
        heads: heads_from_text(&row.text(2)?),
        doc: row.bytes(1)?,
        version: row.int(3)?,
        region_code: row.text(4)?,
        enterprise_code: row.text(5)?,
        inspection_kind: row.text(6)?,
        kind: row.text(7)?,
        status: row.text(8)?,
        enterprise_name: row.text(19)?,
        hazard_count: row.int(20)?,
        created_by_device: row.text(9)?,
        amends: row.opt_text(10)?,
        inspector_certs: if with_inspectors {
            row.text_list(21)?
        } else {
            Vec::new()
        },
        lock,
        id,
    })
}

/// The records (with their lock's receipt and inspectors) that `rest` (WHERE, ORDER BY)
/// selects.
fn query_records(db: &mut impl Exec, rest: &str, cells: &[Cell]) -> StoreResult<Vec<StoredRecord>> {
    let postgres = db.postgres();
    let inspectors = if postgres { INSPECTORS_COLUMN } else { "" };
    let sql = format!(
        "SELECT {RECORD_COLUMNS}{inspectors} FROM records r
         LEFT JOIN audit_log a ON a.record_id = r.id {rest}"
    );
    let mut records = db.rows(&sql, cells, |row| stored_record(row, postgres))?;
    if !postgres {
        for record in &mut records {
            record.inspector_certs = db.rows(
                "SELECT cert FROM record_inspectors WHERE record_id = $1 ORDER BY cert",
                &[Cell::Text(record.id.clone())],
                |row| row.text(0),
            )?;
        }
    }
    Ok(records)
}

pub(super) fn record(db: &mut impl Exec, id: &str) -> StoreResult<Option<StoredRecord>> {
    Ok(query_records(db, "WHERE r.id = $1", &[Cell::Text(id.to_string())])?.pop())
}

/// The records a device follows that changed after `seq`: those it created and those that
/// name its inspector's certificate.
pub(super) fn records_for_device_since(
    db: &mut impl Exec,
    seq: i64,
    device_id: &str,
    cert: Option<&str>,
) -> StoreResult<Vec<StoredRecord>> {
    // EXISTS, not `id IN (SELECT …)`: SQLite built that list from every record of the
    // certificate on each sync (5 ms per sync for an inspector with 2,300 records in the
    // seeded city), where the probe reads only the records after the cursor (0.05 ms).
    query_records(
        db,
        "WHERE r.seq > $1 AND (r.created_by_device = $2 OR EXISTS
             (SELECT 1 FROM record_inspectors i
              WHERE i.record_id = r.id AND i.cert = $3))
         ORDER BY r.seq",
        &[
            Cell::Int(seq),
            Cell::Text(device_id.to_string()),
            Cell::OptText(cert.map(str::to_string)),
        ],
    )
}

/// Keeps late changes to a locked record; the same changes again are kept once (`false`).
pub(super) fn quarantine(db: &mut impl Exec, entry: &QuarantineEntry) -> StoreResult<bool> {
    let inserted = db.execute(
        "INSERT INTO quarantine (record_id, changes_hash, changes, uploader, device_id,
             received_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        &[
            Cell::Text(entry.record_id.clone()),
            Cell::Text(entry.changes_hash.clone()),
            Cell::Bytes(entry.changes.clone()),
            Cell::Text(entry.uploader.clone()),
            Cell::Text(entry.device_id.clone()),
            Cell::Int(millis(entry.received_at)),
        ],
    )?;
    Ok(inserted == 1)
}

pub(super) fn quarantined(
    db: &mut impl Exec,
    record_id: &str,
) -> StoreResult<Vec<QuarantineEntry>> {
    db.rows(
        "SELECT record_id, changes_hash, changes, uploader, device_id, received_at
         FROM quarantine WHERE record_id = $1 ORDER BY received_at, changes_hash",
        &[Cell::Text(record_id.to_string())],
        |row| {
            Ok(QuarantineEntry {
                record_id: row.text(0)?,
                changes_hash: row.text(1)?,
                changes: row.bytes(2)?,
                uploader: row.text(3)?,
                device_id: row.text(4)?,
                received_at: from_millis(row.int(5)?)?,
            })
        },
    )
}

pub(super) fn amendments_of(db: &mut impl Exec, id: &str) -> StoreResult<Vec<String>> {
    db.rows(
        "SELECT id FROM records WHERE amends = $1 ORDER BY id",
        &[Cell::Text(id.to_string())],
        |row| row.text(0),
    )
}

pub(super) fn current_seq(db: &mut impl Exec) -> StoreResult<i64> {
    db.rows(
        "SELECT value FROM counters WHERE name = 'seq'",
        &[],
        |row| row.int(0),
    )?
    .pop()
    .ok_or_else(|| StoreError::Corrupt("the seq counter is missing".into()))
}
