//! The device store's schema. `VERSION` is kept in `PRAGMA user_version`; a fresh store gets
//! `CREATE` in one go, an older one climbs the upgrade ladder one step at a time, each step in
//! the same transaction as the version bump.

use rusqlite::{Connection, Transaction};

use crate::error::{Error, Result};

pub const VERSION: u32 = 6;

/// The schema of a fresh store up to version 2; a fresh store then adds the later steps'
/// tables, which no version has changed since.
const CREATE: &str = "
CREATE TABLE profile (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE enterprises (
    credit_code          TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    address              TEXT NOT NULL,
    industry             TEXT NOT NULL,
    region_code          TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    phone                TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX enterprises_by_region ON enterprises (region_code);
CREATE TABLE inspectors (
    cert             TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    cert_valid_until TEXT
);
CREATE TABLE templates (
    id       TEXT NOT NULL,
    version  INTEGER NOT NULL,
    title    TEXT NOT NULL,
    industry TEXT NOT NULL,
    kind     TEXT NOT NULL,
    source   TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE records (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    inspection_kind  TEXT NOT NULL,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    enterprise_code  TEXT NOT NULL,
    enterprise_name  TEXT NOT NULL,
    place            TEXT NOT NULL,
    status           TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    answered_count   INTEGER NOT NULL,
    hazard_count     INTEGER NOT NULL,
    conflict_count   INTEGER NOT NULL,
    heads            TEXT NOT NULL,
    doc              BLOB NOT NULL
);
CREATE INDEX records_by_start ON records (started_at);
CREATE INDEX records_by_enterprise ON records (enterprise_code);
CREATE TABLE record_changes (
    record_id TEXT NOT NULL REFERENCES records (id),
    seq       INTEGER NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (record_id, seq)
);
CREATE TABLE photos (
    sha256   TEXT PRIMARY KEY,
    bytes    INTEGER NOT NULL,
    added_at TEXT NOT NULL
);
";

/// Version 3: the document-number register. Blocks of serials the device holds, and every
/// serial issued or voided; the primary key makes a duplicate number impossible.
const NUMBERING: &str = "
CREATE TABLE number_blocks (
    agency   TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    year     INTEGER NOT NULL,
    first    INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (agency, doc_type, year, first)
);
CREATE TABLE numbers (
    agency    TEXT NOT NULL,
    doc_type  TEXT NOT NULL,
    year      INTEGER NOT NULL,
    serial    INTEGER NOT NULL,
    number    TEXT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('issued', 'voided')),
    record_id TEXT,
    reason    TEXT,
    at        TEXT NOT NULL,
    PRIMARY KEY (agency, doc_type, year, serial)
);
";

/// Version 4: sync with the server. Per record, the heads the server acknowledged, the signed
/// receipt of its lock, and the local heads whose late changes it refused (not sent again);
/// which locked record an amendment corrects, for finding a record's amendments.
const SYNC: &str = "
CREATE TABLE sync_state (
    record_id      TEXT PRIMARY KEY REFERENCES records (id),
    acked_heads    TEXT NOT NULL DEFAULT '',
    receipt        TEXT,
    rejected_heads TEXT,
    last_code      TEXT,
    last_message   TEXT,
    updated_at     TEXT NOT NULL
);
ALTER TABLE records ADD COLUMN amends TEXT;
CREATE INDEX records_by_amends ON records (amends) WHERE amends IS NOT NULL;
";

/// Version 5: the IoT alerts of the enterprises in scope, as the server sends them (an
/// acknowledgement sends an alert again).
const ALERTS: &str = "
CREATE TABLE alerts (
    alert_id        TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    rule_label      TEXT NOT NULL,
    credit_code     TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    device_id       TEXT,
    occurred_at     TEXT NOT NULL,
    raised_at       TEXT NOT NULL,
    title           TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT
);
CREATE INDEX alerts_by_time ON alerts (raised_at);
";

/// Version 6: an enterprise's 细分行业 and special operations from the register (NULL: the
/// register does not say), which pick the 10号令 items an inspection of it asks.
/// `special_operations` holds the register's cell: names joined by 、, or 无 for none.
const TRADE_SCOPE: &str = "
ALTER TABLE enterprises ADD COLUMN sector TEXT;
ALTER TABLE enterprises ADD COLUMN special_operations TEXT;
";

/// Version 1 saved each record's whole document on every change; version 2 appends
/// incremental saves to `record_changes` (compacted now and then) so that answering an item
/// writes a few hundred bytes instead of the whole record, and registers stored photos.
fn upgrade_1_to_2(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE record_changes (
             record_id TEXT NOT NULL REFERENCES records (id),
             seq       INTEGER NOT NULL,
             bytes     BLOB NOT NULL,
             PRIMARY KEY (record_id, seq)
         );
         CREATE TABLE photos (
             sha256   TEXT PRIMARY KEY,
             bytes    INTEGER NOT NULL,
             added_at TEXT NOT NULL
         );",
    )
}

/// Brings the database to `VERSION`: creates it when empty, upgrades it when older, and
/// refuses a database written by a newer program rather than guessing at its layout.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > VERSION {
        return Err(Error::StoreTooNew {
            found,
            supported: VERSION,
        });
    }
    if found == VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    if found == 0 {
        tx.execute_batch(CREATE)?;
        tx.execute_batch(NUMBERING)?;
        tx.execute_batch(SYNC)?;
        tx.execute_batch(ALERTS)?;
        tx.execute_batch(TRADE_SCOPE)?;
    } else {
        let mut version = found;
        while version < VERSION {
            match version {
                1 => upgrade_1_to_2(&tx)?,
                2 => tx.execute_batch(NUMBERING)?,
                3 => tx.execute_batch(SYNC)?,
                4 => tx.execute_batch(ALERTS)?,
                5 => tx.execute_batch(TRADE_SCOPE)?,
                _ => unreachable!("every version below VERSION has an upgrade step"),
            }
            version += 1;
        }
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}
