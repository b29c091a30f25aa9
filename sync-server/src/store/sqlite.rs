//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, one writer
//! connection and a few reader connections.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use anjian_core::agency::DocType;
use anjian_core::enterprise::Enterprise;
use anjian_core::record::Inspector;
use anjian_core::sync::protocol::{NumberBlock, TemplateSource};
use anjian_core::sync::receipt::Receipt;

use super::migrations::{self, Schema};
use super::reference::{self, Cell, Cells, Exec};
use super::{
    AreaCount, AreaGrouping, Attendance, AttendanceCount, CertificateCount, CommitOutcome,
    DatedPage, EnterpriseActivity, EnterpriseArchive, EnterpriseHazard, EnterpriseName,
    HazardCount, HazardStatusRow, HazardTallies, HotlineReport, ImportSummary, MailboxMessage,
    NumberRegisterEntry, PermitRow, QuarantineEntry, ReceiptSigner, RecordCommit, RecordFilter,
    RecordRow, RecordScope, ReferenceBatch, Region, SigningKeyRow, Store, StoreError, StoreResult,
    StoredRecord, SubmittedInspection, TokenRow, User,
};
use super::{
    accounts, audit, commit, enterprises, iot, listing, numbers, records, rollups, standings,
    templates,
};

pub const SCHEMA_VERSION: u32 = migrations::latest(migrations::SQLITE);

/// Reader connections: at most this many, opened when first needed and kept; a reader that
/// finds all busy waits for one. (Opening a connection per read under load cost more than the
/// reads: a fresh connection starts with an empty page cache and statement cache.)
const READERS: usize = 8;

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<ReaderPool>,
    reader_returned: Condvar,
}

#[derive(Debug, Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    opened: usize,
}

/// How much of the database file a connection maps; SQLite caps it at its compile-time
/// maximum (2 GiB in the bundled build).
const MMAP_BYTES: i64 = 1 << 31;

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Every acknowledged upload survives a power cut.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Reads map the file instead of copying each page out of the OS cache into SQLite's own:
    // grouping a city's hazard tallies took 1.7 ms instead of 3.6.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::default(),
            reader_returned: Condvar::new(),
        })
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Database("writer connection poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    fn take_reader(&self) -> StoreResult<Connection> {
        let poisoned = |_| StoreError::Database("reader pool poisoned".into());
        let mut pool = self.readers.lock().map_err(poisoned)?;
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.opened < READERS {
                pool.opened += 1;
                drop(pool);
                return open_connection(&self.path).inspect_err(|_| {
                    if let Ok(mut pool) = self.readers.lock() {
                        pool.opened -= 1;
                    }
                });
            }
            pool = self.reader_returned.wait(pool).map_err(poisoned)?;
        }
    }

    fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.take_reader()?;
        // One read transaction: every query of a call sees the same snapshot.
        let out = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx);
            tx.finish()?;
            out
        })();
        if let Ok(mut pool) = self.readers.lock() {
            pool.idle.push(conn);
        }
        self.reader_returned.notify_one();
        out
    }
}

fn schema_version(conn: &Connection) -> StoreResult<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    if migrations::up_to_date(schema_version(conn)?, migrations::SQLITE)? {
        return Ok(());
    }
    // The version is read again under the write lock: two processes opening an old database
    // at once (the server starting, an administrator's import) upgrade it once, one after the
    // other.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    migrations::upgrade(&mut SqliteExec(&tx), migrations::SQLITE)?;
    tx.commit()?;
    Ok(())
}

impl Schema for SqliteExec<'_> {
    fn version(&mut self) -> StoreResult<u32> {
        schema_version(self.0)
    }

    fn set_version(&mut self, version: u32) -> StoreResult<()> {
        Ok(self.0.pragma_update(None, "user_version", version)?)
    }

    fn script(&mut self, sql: &str) -> StoreResult<()> {
        Ok(self.0.execute_batch(sql)?)
    }
}

/// The reference-data SQL ([`super::reference`]) run on a SQLite transaction.
struct SqliteExec<'a>(&'a Connection);

fn sqlite_value(cell: &Cell) -> StoreResult<Value> {
    Ok(match cell {
        Cell::Text(text) => Value::Text(text.clone()),
        Cell::OptText(text) => text.clone().map_or(Value::Null, Value::Text),
        Cell::Int(n) | Cell::Limit(n) => Value::Integer(*n),
        Cell::Int32(n) => Value::Integer(i64::from(*n)),
        Cell::OptInt(n) => n.map_or(Value::Null, Value::Integer),
        Cell::Bool(b) => Value::Integer(i64::from(*b)),
        Cell::Bytes(bytes) => Value::Blob(bytes.clone()),
        Cell::TextList(_) => {
            return Err(StoreError::Database(
                "a list parameter in a SQLite statement".into(),
            ));
        }
    })
}

fn sqlite_values(cells: &[Cell]) -> StoreResult<Vec<Value>> {
    cells.iter().map(sqlite_value).collect()
}

/// A foreign key (enterprise or region) that is missing: a conflict, not a database fault.
fn reference_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::Conflict(reference::MISSING_REFERENCE.into())
        }
        other => other.into(),
    }
}

impl Exec for SqliteExec<'_> {
    fn postgres(&self) -> bool {
        false
    }

    fn rows<T>(
        &mut self,
        sql: &str,
        cells: &[Cell],
        decode: impl Fn(&dyn Cells) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.0.prepare_cached(&sqlite_placeholders(sql))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(sqlite_values(cells)?))
            .map_err(reference_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(reference_error)? {
            out.push(decode(row)?);
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<u64> {
        let changed = self
            .0
            .prepare_cached(&sqlite_placeholders(sql))?
            .execute(rusqlite::params_from_iter(sqlite_values(cells)?))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    fn execute_referencing(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<Option<u64>> {
        let executed = self
            .0
            .prepare_cached(&sqlite_placeholders(sql))?
            .execute(rusqlite::params_from_iter(sqlite_values(cells)?));
        match executed {
            Ok(changed) => Ok(Some(u64::try_from(changed).unwrap_or(u64::MAX))),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// The shared entity modules write PostgreSQL's `$n`; SQLite's `?n` numbers the same way.
fn sqlite_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    if sql.contains('$') {
        std::borrow::Cow::Owned(sql.replace('$', "?"))
    } else {
        std::borrow::Cow::Borrowed(sql)
    }
}

impl Cells for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.get(i)?)
    }

    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.get(i)?)
    }

    fn int(&self, i: usize) -> StoreResult<i64> {
        Ok(self.get(i)?)
    }

    fn int32(&self, i: usize) -> StoreResult<i32> {
        Ok(self.get(i)?)
    }

    fn text_list(&self, i: usize) -> StoreResult<Vec<String>> {
        Err(StoreError::Database(format!(
            "column {i}: SQLite has no arrays"
        )))
    }

    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.get(i)?)
    }

    fn boolean(&self, i: usize) -> StoreResult<bool> {
        Ok(self.get(i)?)
    }

    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        Ok(self.get(i)?)
    }

    fn blob(&self, i: usize) -> StoreResult<&[u8]> {
        self.get_ref(i)?
            .as_blob()
            .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn add_region(&self, region: &Region) -> StoreResult<()> {
        self.write(|tx| accounts::add_region(&mut SqliteExec(tx), region))
    }

    fn regions(&self) -> StoreResult<Vec<Region>> {
        self.read(|tx| accounts::regions(&mut SqliteExec(tx)))
    }

    fn add_user(&self, user: &User) -> StoreResult<()> {
        self.write(|tx| accounts::add_user(&mut SqliteExec(tx), user))
    }

    fn user(&self, login: &str) -> StoreResult<Option<User>> {
        self.read(|tx| accounts::user(&mut SqliteExec(tx), login))
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|tx| accounts::set_user_disabled(&mut SqliteExec(tx), login, disabled))
    }

    fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
        self.read(|tx| accounts::certified_users_since(&mut SqliteExec(tx), seq))
    }

    fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
        self.write(|tx| accounts::insert_token(&mut SqliteExec(tx), token))
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        self.read(|tx| accounts::token(&mut SqliteExec(tx), hash))
    }

    fn revoke_token(&self, hash: &str) -> StoreResult<()> {
        self.write(|tx| accounts::revoke_token(&mut SqliteExec(tx), hash))
    }

    fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
        self.write(|tx| accounts::revoke_tokens(&mut SqliteExec(tx), login, device_id))
    }

    fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
        self.write(|tx| enterprises::upsert_enterprises(&mut SqliteExec(tx), enterprises))
    }

    fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
        self.read(|tx| enterprises::enterprise(&mut SqliteExec(tx), credit_code))
    }

    fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
        self.read(|tx| enterprises::enterprises_since(&mut SqliteExec(tx), seq))
    }

    fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
        self.write(|tx| templates::publish_template(&mut SqliteExec(tx), template))
    }

    fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
        self.read(|tx| templates::template(&mut SqliteExec(tx), id, version))
    }

    fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
        self.read(|tx| templates::templates_since(&mut SqliteExec(tx), seq))
    }

    fn set_agency(&self, toml: &str) -> StoreResult<()> {
        self.write(|tx| templates::set_agency(&mut SqliteExec(tx), toml))
    }

    fn agency(&self) -> StoreResult<Option<(String, i64)>> {
        self.read(|tx| templates::agency(&mut SqliteExec(tx)))
    }

    fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.read(|tx| records::record(&mut SqliteExec(tx), id))
    }

    fn commit_record(
        &self,
        commit: &RecordCommit,
        signer: &dyn ReceiptSigner,
    ) -> StoreResult<CommitOutcome> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Database("writer connection poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = commit::commit_record(&mut SqliteExec(&tx), commit, signer)?;
        // A refused commit is dropped, which rolls it back: it leaves nothing behind.
        if matches!(outcome, CommitOutcome::Committed { .. }) {
            tx.commit()?;
        }
        Ok(outcome)
    }

    fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool> {
        self.write(|tx| records::quarantine(&mut SqliteExec(tx), entry))
    }

    fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
        self.read(|tx| records::quarantined(&mut SqliteExec(tx), record_id))
    }

    fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>> {
        self.read(|tx| records::records_for_device_since(&mut SqliteExec(tx), seq, device_id, cert))
    }

    fn list_records(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecordRow>> {
        self.read(|tx| listing::records(&mut SqliteExec(tx), scope, filter, limit, offset))
    }

    fn area_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        grouping: AreaGrouping,
    ) -> StoreResult<Vec<AreaCount>> {
        self.read(|tx| rollups::area_counts(&mut SqliteExec(tx), scope, filter, grouping))
    }

    fn enterprise_activity(
        &self,
        scope: &RecordScope,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<EnterpriseActivity>> {
        self.read(|tx| rollups::enterprise_activity(&mut SqliteExec(tx), scope, from, until))
    }

    fn hazard_tallies(
        &self,
        scope: &RecordScope,
        level: standings::TallyLevel,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<HazardTallies> {
        self.read(|tx| {
            standings::tallies(
                &mut SqliteExec(tx),
                scope,
                level,
                today,
                soon,
                limit,
                offset,
            )
        })
    }

    fn open_hazards(
        &self,
        scope: &RecordScope,
        standing: Option<standings::OpenStanding>,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|tx| {
            standings::open_hazards(
                &mut SqliteExec(tx),
                scope,
                standing,
                today,
                soon,
                limit,
                offset,
            )
        })
    }

    fn rectified_hazards(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|tx| standings::rectified_hazards(&mut SqliteExec(tx), scope, limit, offset))
    }

    fn rebuild_rollups(&self) -> StoreResult<rollups::RollupSummary> {
        self.write(|tx| rollups::rebuild(&mut SqliteExec(tx)))
    }

    fn rollups_agree(&self) -> StoreResult<bool> {
        self.read(|tx| {
            let mut db = SqliteExec(tx);
            Ok(rollups::stored(&mut db)? == rollups::recount(&mut db)?
                && standings::stored(&mut db)? == standings::recount(&mut db)?)
        })
    }

    fn hazard_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<HazardCount>> {
        self.read(|tx| listing::hazard_counts(&mut SqliteExec(tx), scope, filter))
    }

    fn submitted_inspections(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<SubmittedInspection>> {
        self.read(|tx| listing::submitted_inspections(&mut SqliteExec(tx), scope, filter))
    }

    fn attendance_counts(
        &self,
        scope: &RecordScope,
        from: Option<chrono::NaiveDate>,
        until: Option<chrono::NaiveDate>,
        monthly: bool,
    ) -> StoreResult<Vec<AttendanceCount>> {
        self.read(|tx| rollups::attendance_counts(&mut SqliteExec(tx), scope, from, until, monthly))
    }

    fn enterprise_regions(
        &self,
        scope: &RecordScope,
        declared_in: Option<std::ops::RangeInclusive<i32>>,
    ) -> StoreResult<Vec<(String, String, bool)>> {
        self.read(|tx| listing::enterprise_regions(&mut SqliteExec(tx), scope, declared_in))
    }

    fn enterprise_names(&self, scope: &RecordScope) -> StoreResult<Vec<EnterpriseName>> {
        self.read(|tx| listing::enterprise_names(&mut SqliteExec(tx), scope))
    }

    fn permit_ends(
        &self,
        scope: &RecordScope,
    ) -> StoreResult<Vec<(String, String, chrono::NaiveDate)>> {
        self.read(|tx| listing::permit_ends(&mut SqliteExec(tx), scope))
    }

    fn certificate_counts(
        &self,
        scope: &RecordScope,
        on: chrono::NaiveDate,
        expiring_through: chrono::NaiveDate,
    ) -> StoreResult<Vec<CertificateCount>> {
        self.read(|tx| {
            listing::certificate_counts(&mut SqliteExec(tx), scope, on, expiring_through)
        })
    }

    fn permits(&self, scope: &RecordScope) -> StoreResult<Vec<PermitRow>> {
        self.read(|tx| listing::permits(&mut SqliteExec(tx), scope))
    }

    fn hazard_statuses(&self, scope: &RecordScope) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|tx| listing::hazard_statuses(&mut SqliteExec(tx), scope))
    }

    fn enterprise_hazards(&self, credit_code: &str) -> StoreResult<Vec<EnterpriseHazard>> {
        self.read(|tx| listing::enterprise_hazards(&mut SqliteExec(tx), credit_code))
    }

    fn amendments_of(&self, id: &str) -> StoreResult<Vec<String>> {
        self.read(|tx| records::amendments_of(&mut SqliteExec(tx), id))
    }

    fn current_seq(&self) -> StoreResult<i64> {
        self.read(|tx| records::current_seq(&mut SqliteExec(tx)))
    }

    fn lease_block(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        device_id: &str,
        login: &str,
        size: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<NumberBlock> {
        self.write(|tx| {
            numbers::lease_block(
                &mut SqliteExec(tx),
                agency,
                doc_type,
                year,
                device_id,
                login,
                size,
                at,
            )
        })
    }

    fn leases_of_device(&self, device_id: &str, login: &str) -> StoreResult<Vec<NumberBlock>> {
        self.read(|tx| numbers::leases_of_device(&mut SqliteExec(tx), device_id, login))
    }

    fn lease_holder(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        serial: u32,
    ) -> StoreResult<Option<(String, String)>> {
        self.read(|tx| numbers::lease_holder(&mut SqliteExec(tx), agency, doc_type, year, serial))
    }

    fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
        self.write(|tx| numbers::void_number(&mut SqliteExec(tx), entry))
    }

    fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
        self.read(|tx| numbers::number_register(&mut SqliteExec(tx)))
    }

    fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
        self.read(|tx| audit::audit_log(&mut SqliteExec(tx)))
    }
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|tx| audit::audit_head(&mut SqliteExec(tx)))
    }

    fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
        self.read(|tx| audit::audit_entry_hash(&mut SqliteExec(tx), index))
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.read(|tx| audit::signing_keys(&mut SqliteExec(tx)))
    }

    fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        self.write(|tx| audit::add_signing_key(&mut SqliteExec(tx), key))
    }

    fn import_reference(&self, batch: &ReferenceBatch) -> StoreResult<ImportSummary> {
        self.write(|tx| reference::import(&mut SqliteExec(tx), batch))
    }

    fn enterprise_archive(&self, credit_code: &str) -> StoreResult<EnterpriseArchive> {
        self.read(|tx| reference::enterprise_archive(&mut SqliteExec(tx), credit_code))
    }

    fn attendance_of(&self, credit_code: &str, page: &DatedPage) -> StoreResult<Vec<Attendance>> {
        self.read(|tx| reference::attendance_of(&mut SqliteExec(tx), credit_code, page))
    }

    fn hotline_reports(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<HotlineReport>> {
        self.read(|tx| reference::hotline_reports(&mut SqliteExec(tx), scope, page))
    }

    fn mailbox_messages(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<MailboxMessage>> {
        self.read(|tx| reference::mailbox_messages(&mut SqliteExec(tx), scope, page))
    }

    fn register_device(&self, device: &iot::NewDevice) -> StoreResult<crate::iot::Device> {
        self.write(|tx| iot::register_device(&mut SqliteExec(tx), device))
    }

    fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<crate::iot::Device>> {
        self.read(|tx| {
            let db = &mut SqliteExec(tx);
            iot::device_by_key(db, key_hash)
        })
    }

    fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| iot::revoke_device(&mut SqliteExec(tx), device_id, at))
    }

    fn devices(&self, scope: &RecordScope) -> StoreResult<Vec<crate::iot::Device>> {
        self.read(|tx| {
            let db = &mut SqliteExec(tx);
            iot::devices(db, scope)
        })
    }

    fn ingest_iot(
        &self,
        intake: &crate::iot::Intake,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<crate::iot::IngestOutcome> {
        self.write(|tx| iot::ingest(&mut SqliteExec(tx), intake, config))
    }

    fn alerts(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<iot::Alert>, i64)> {
        self.read(|tx| {
            let db = &mut SqliteExec(tx);
            iot::alerts(db, scope, limit, offset)
        })
    }

    fn acknowledge_alert(
        &self,
        scope: &RecordScope,
        alert_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<iot::Alert>> {
        self.write(|tx| iot::acknowledge_alert(&mut SqliteExec(tx), scope, alert_id, login, at))
    }

    fn rectify_iot_hazard(
        &self,
        scope: &RecordScope,
        hazard_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.write(|tx| iot::rectify_iot_hazard(&mut SqliteExec(tx), scope, hazard_id, login, at))
    }

    fn alerts_since(&self, scope: &RecordScope, seq: i64) -> StoreResult<Vec<iot::Alert>> {
        self.read(|tx| iot::alerts_since(&mut SqliteExec(tx), scope, seq))
    }

    fn iot_tick(
        &self,
        now: DateTime<Utc>,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<iot::TickOutcome> {
        self.write(|tx| iot::tick(&mut SqliteExec(tx), now, config))
    }

    fn iot_events_of(&self, device_id: &str, limit: i64) -> StoreResult<Vec<iot::StoredEvent>> {
        self.read(|tx| {
            let db = &mut SqliteExec(tx);
            iot::events_of(db, device_id, limit)
        })
    }

    fn latest_iot_event(
        &self,
        device_id: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>> {
        self.read(|tx| iot::latest_event(&mut SqliteExec(tx), device_id))
    }

    fn iot_conflicts_of(&self, device_id: &str) -> StoreResult<i64> {
        self.read(|tx| {
            let db = &mut SqliteExec(tx);
            iot::conflicts_of(db, device_id)
        })
    }
}
