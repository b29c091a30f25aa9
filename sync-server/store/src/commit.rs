//! A record's commit, for both backends: one straight sequence inside the caller's write
//! transaction (`$n` placeholders, as in [`super::accounts`]).
//!
//! In order: the sequence number (first: on PostgreSQL it takes the `counters` row lock, so
//! everything read below stays as read until this commit ends), the version check, the
//! record row and its projection (rollups, inspectors, hazards, rectifications, hazard
//! tracking), its document numbers, and for a lock the audit-log entry signed by `signer`.
//! Only [`CommitOutcome::Committed`] may be committed by the caller; any other outcome has
//! written rows that must be rolled back.

use chrono::Utc;

use anjian_core::sync::receipt::GENESIS_HASH;

use super::exec::{Cell, Exec, next_seq};
use super::{
    CommitOutcome, ReceiptSigner, RecordCommit, StoreError, StoreResult, chained_receipt, millis,
    rollups, standings,
};

pub(super) fn commit_record(
    db: &mut impl Exec,
    commit: &RecordCommit,
    signer: &dyn ReceiptSigner,
) -> StoreResult<CommitOutcome> {
    let seq = next_seq(db)?;
    let id = || Cell::Text(commit.id.clone());
    let current = db
        .rows(
            "SELECT r.version, a.idx IS NOT NULL FROM records r
             LEFT JOIN audit_log a ON a.record_id = r.id WHERE r.id = $1",
            &[id()],
            |row| Ok((row.int(0)?, row.boolean(1)?)),
        )?
        .pop();
    let expected = match (current, commit.expected_version) {
        (None, None) => None,
        (Some((version, false)), Some(expected)) if version == expected => Some(version),
        _ => return Ok(CommitOutcome::VersionConflict),
    };
    let p = &commit.projection;
    let counted_before = rollups::counted_record(db, &commit.id)?;
    let heads = commit.heads.join(",");
    let hazard_count = i64::try_from(p.hazards.len()).unwrap_or(i64::MAX);
    db.execute(
        "INSERT INTO records (id, doc, heads, version, seq, kind, inspection_kind,
             template_id, template_version, enterprise_code, enterprise_name, region_code,
             industry, status, started_at, submitted_at, created_by_device, answered_count,
             hazard_count, amends, uploaded_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             $18, $19, $20, $21, $22)
         ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, heads = excluded.heads,
             version = excluded.version, seq = excluded.seq, status = excluded.status,
             submitted_at = excluded.submitted_at, answered_count = excluded.answered_count,
             hazard_count = excluded.hazard_count, uploaded_by = excluded.uploaded_by,
             updated_at = excluded.updated_at",
        &[
            id(),
            Cell::Bytes(commit.doc.clone()),
            Cell::Text(heads.clone()),
            Cell::Int(expected.map_or(1, |v| v + 1)),
            Cell::Int(seq),
            Cell::Text(p.kind.clone()),
            Cell::Text(p.inspection_kind.clone()),
            Cell::Text(p.template_id.clone()),
            Cell::Int(i64::from(p.template_version)),
            Cell::Text(p.enterprise_code.clone()),
            Cell::Text(p.enterprise_name.clone()),
            Cell::Text(p.region_code.clone()),
            Cell::Text(p.industry.clone()),
            Cell::Text(p.status.clone()),
            Cell::Int(millis(p.started_at)),
            Cell::OptInt(p.submitted_at.map(millis)),
            Cell::Text(p.created_by_device.clone()),
            Cell::Int(p.answered_count),
            Cell::Int(hazard_count),
            Cell::OptText(p.amends.clone()),
            Cell::Text(commit.uploader.clone()),
            Cell::Int(millis(Utc::now())),
        ],
    )?;
    let counted_after = rollups::counted_record(db, &commit.id)?;
    rollups::record_changed(db, counted_before.as_ref(), counted_after.as_ref())?;
    db.execute(
        "DELETE FROM record_inspectors WHERE record_id = $1",
        &[id()],
    )?;
    for cert in &p.inspector_certs {
        db.execute(
            "INSERT INTO record_inspectors (record_id, cert) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[id(), Cell::Text(cert.clone())],
        )?;
    }
    db.execute("DELETE FROM hazards WHERE record_id = $1", &[id()])?;
    for h in &p.hazards {
        db.execute(
            "INSERT INTO hazards (record_id, item, class, description, legal_basis, deadline)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                id(),
                Cell::Text(h.item.clone()),
                Cell::Text(h.class.clone()),
                Cell::Text(h.description.clone()),
                Cell::Text(h.legal_basis.clone()),
                Cell::OptText(h.deadline.map(|d| d.to_string())),
            ],
        )?;
    }
    if let Some(rectification) = &p.rectifies {
        for item in &rectification.items {
            // The earliest re-inspection that found it rectified is the one that counts,
            // whichever arrives first (devices sync late).
            db.execute(
                "INSERT INTO hazard_rectifications (record_id, item, rectified_at, rectified_by)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (record_id, item) DO UPDATE
                 SET rectified_at = excluded.rectified_at, rectified_by = excluded.rectified_by
                 WHERE excluded.rectified_at < hazard_rectifications.rectified_at",
                &[
                    Cell::Text(rectification.record_id.clone()),
                    Cell::Text(item.clone()),
                    Cell::Int(millis(rectification.at)),
                    id(),
                ],
            )?;
        }
    }
    standings::record_committed(
        db,
        &commit.id,
        counted_before.as_ref().map(|c| c.enterprise_code()),
        counted_after.as_ref().map(|c| c.enterprise_code()),
        p.rectifies
            .as_ref()
            .map(|r| (r.record_id.as_str(), r.items.as_slice())),
    )?;
    for n in &p.documents {
        let number_key = || {
            [
                Cell::Text(n.agency.clone()),
                Cell::Text(n.doc_type.as_str().to_string()),
                Cell::Int32(n.year),
                Cell::Int(i64::from(n.serial)),
            ]
        };
        let mut values = number_key().to_vec();
        values.extend([
            Cell::Text(n.number.clone()),
            id(),
            Cell::Text(p.created_by_device.clone()),
            Cell::Int(millis(n.issued_at)),
        ]);
        db.execute(
            "INSERT INTO numbers (agency, doc_type, year, serial, number, state, record_id,
                 device_id, at)
             VALUES ($1, $2, $3, $4, $5, 'issued', $6, $7, $8)
             ON CONFLICT DO NOTHING",
            &values,
        )?;
        let (state, holder) = db
            .rows(
                "SELECT state, record_id FROM numbers
                 WHERE agency = $1 AND doc_type = $2 AND year = $3 AND serial = $4",
                &number_key(),
                |row| Ok((row.text(0)?, row.opt_text(1)?)),
            )?
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("number {} not registered", n.number)))?;
        if state != "issued" || holder.as_deref() != Some(commit.id.as_str()) {
            return Ok(CommitOutcome::NumberTaken {
                number: n.number.clone(),
                record_id: holder.unwrap_or_default(),
            });
        }
    }
    let Some(lock) = &commit.lock else {
        return Ok(CommitOutcome::Committed { receipt: None });
    };
    // The write lock (SQLite's one writer, PostgreSQL's counters row) orders the appends; the
    // primary key on idx would refuse a second entry at one index all the same.
    let last = db
        .rows(
            "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
            &[],
            |row| Ok((row.int(0)?, row.text(1)?)),
        )?
        .pop();
    let (index, previous_hash) = match last {
        Some((idx, hash)) => (idx + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let receipt = chained_receipt(commit, lock, index, previous_hash, signer);
    db.execute(
        "INSERT INTO audit_log (idx, record_id, heads, content_hash, locked_at,
             previous_hash, entry_hash, signature, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            Cell::Int(receipt.log_index),
            Cell::Text(receipt.record_id.clone()),
            Cell::Text(heads),
            Cell::Text(receipt.content_hash.clone()),
            Cell::Int(millis(receipt.locked_at)),
            Cell::Text(receipt.previous_hash.clone()),
            Cell::Text(receipt.entry_hash.clone()),
            Cell::Text(receipt.signature.clone()),
            Cell::OptText(receipt.key_id.clone()),
        ],
    )?;
    Ok(CommitOutcome::Committed {
        receipt: Some(receipt),
    })
}
