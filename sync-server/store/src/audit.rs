//! The audit log's reads and the server's signing keys: the SQL both backends run, once, over
//! [`Exec`] (`$n` placeholders, as in [`super::accounts`]). The log's entries are appended by
//! a record's commit.

use anjian_core::sync::protocol::heads_from_text;
use anjian_core::sync::receipt::Receipt;

use super::exec::{Cell, Cells, Exec};
use super::{SigningKeyRow, StoreError, StoreResult, from_millis, millis};

pub(super) fn receipt_from_row(row: &dyn Cells) -> StoreResult<Receipt> {
    Ok(Receipt {
        log_index: row.int(0)?,
        record_id: row.text(1)?,
        heads: heads_from_text(&row.text(2)?),
        content_hash: row.text(3)?,
        locked_at: from_millis(row.int(4)?)?,
        previous_hash: row.text(5)?,
        entry_hash: row.text(6)?,
        signature: row.text(7)?,
        key_id: row.opt_text(8)?,
    })
}

pub(super) fn audit_log(db: &mut impl Exec) -> StoreResult<Vec<Receipt>> {
    db.rows(
        "SELECT idx, record_id, heads, content_hash, locked_at, previous_hash, entry_hash,
                signature, key_id
         FROM audit_log ORDER BY idx",
        &[],
        receipt_from_row,
    )
}

pub(super) fn audit_head(db: &mut impl Exec) -> StoreResult<Option<(i64, String)>> {
    Ok(db
        .rows(
            "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
            &[],
            |row| Ok((row.int(0)?, row.text(1)?)),
        )?
        .pop())
}

pub(super) fn audit_entry_hash(db: &mut impl Exec, index: i64) -> StoreResult<Option<String>> {
    Ok(db
        .rows(
            "SELECT entry_hash FROM audit_log WHERE idx = $1",
            &[Cell::Int(index)],
            |row| row.text(0),
        )?
        .pop())
}

pub(super) fn signing_keys(db: &mut impl Exec) -> StoreResult<Vec<SigningKeyRow>> {
    db.rows(
        "SELECT key_id, public_key, added_at, current FROM signing_keys
         ORDER BY current DESC, added_at DESC",
        &[],
        |row| {
            Ok(SigningKeyRow {
                key_id: row.text(0)?,
                public_key: row.text(1)?,
                added_at: from_millis(row.int(2)?)?,
                current: row.boolean(3)?,
            })
        },
    )
}

/// Makes `key` the current signing key, remembering it; a key id already naming another
/// public key is a conflict.
pub(super) fn add_signing_key(db: &mut impl Exec, key: &SigningKeyRow) -> StoreResult<()> {
    if db.postgres() {
        // Instances starting at once on an empty database add their keys one after the other
        // (SQLite's writer is alone already).
        db.execute("LOCK TABLE signing_keys IN EXCLUSIVE MODE", &[])?;
    }
    let known = db.rows(
        "SELECT public_key FROM signing_keys WHERE key_id = $1",
        &[Cell::Text(key.key_id.clone())],
        |row| row.text(0),
    )?;
    if let Some(public_key) = known.first()
        && *public_key != key.public_key
    {
        return Err(StoreError::Conflict(format!(
            "密钥编号 {} 已属于另一把公钥",
            key.key_id
        )));
    }
    db.execute("UPDATE signing_keys SET current = FALSE", &[])?;
    db.execute(
        "INSERT INTO signing_keys (key_id, public_key, added_at, current)
         VALUES ($1, $2, $3, TRUE)
         ON CONFLICT (key_id) DO UPDATE SET current = TRUE",
        &[
            Cell::Text(key.key_id.clone()),
            Cell::Text(key.public_key.clone()),
            Cell::Int(millis(key.added_at)),
        ],
    )?;
    Ok(())
}
