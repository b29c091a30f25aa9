//! Records' side tables and the sequence: the quarantine of late changes, amendments, the
//! current sequence number. The SQL both backends run, once, over [`Exec`] (`$n`
//! placeholders, as in [`super::accounts`]). Reading and committing a record itself is still
//! each backend's (`commit_record`).

use super::reference::{Cell, Exec};
use super::{QuarantineEntry, StoreError, StoreResult, from_millis, millis};

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
