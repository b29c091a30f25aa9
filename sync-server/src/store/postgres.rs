//! The PostgreSQL backend, for several server instances sharing one database: the same tables
//! and semantics as [`super::sqlite`], over a small pool of synchronous `postgres` clients.
//!
//! The synchronous client runs its own small tokio runtime, so it is called only from blocking
//! threads (as the server does through `spawn_blocking`), never from an async worker.
//!
//! SQLite serializes writers; here, every write whose checks must see all earlier writes (and
//! every write that takes a sequence number) first locks the one row of `counters`. Taking the
//! next sequence number locks it too, until commit, so changes commit in sequence order: a
//! reader that sees seq `n` has seen every change numbered below it, which the sync cursor
//! relies on. Text columns compare byte by byte (`COLLATE "C"`), so lists come in the order the
//! SQLite backend gives them.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};

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

pub const SCHEMA_VERSION: i32 = migrations::latest(migrations::POSTGRES) as i32;

/// The advisory lock held while the schema is created or upgraded, so two instances starting
/// at once migrate one after the other.
const MIGRATION_LOCK: i64 = 0x616e_6a69_616e_0001;

const SCHEMA_VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS schema_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
";

/// Connections open at most; callers beyond wait for one to be given back.
const MAX_CONNECTIONS: usize = 8;

/// Statements a connection keeps prepared at most; past that it forgets them all (a few
/// dozen distinct statements serve every read).
const STATEMENTS_KEPT: usize = 256;

/// A connection and the read statements prepared on it. Kept across transactions, a
/// statement is parsed once per connection, not once per call: each call saves a round
/// trip per statement (a city's three-year coverage, about ten statements: 66 → 50 ms,
/// median of 11).
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Connection>,
    /// Idle and lent out.
    open: usize,
}

struct Pool {
    url: String,
    state: Mutex<PoolState>,
    given_back: Condvar,
}

/// A connection lent by the pool, given back on drop (or forgotten when it broke).
struct Pooled<'a> {
    pool: &'a Pool,
    connection: Option<Connection>,
}

impl Pool {
    fn lock(&self) -> StoreResult<MutexGuard<'_, PoolState>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Database("connection pool poisoned".into()))
    }

    fn get(&self) -> StoreResult<Pooled<'_>> {
        let mut state = self.lock()?;
        loop {
            if let Some(connection) = state.idle.pop() {
                if connection.client.is_closed() {
                    // The server closed it while it was idle (a restart, an idle timeout).
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    connection: Some(connection),
                });
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                // Kept statements are planned for their values each time, as before they were
                // kept: a plan for any value (PostgreSQL's choice after five runs) took a
                // city's three-year coverage from 67 to 98 ms.
                return match Client::connect(&self.url, NoTls).and_then(|mut client| {
                    client.batch_execute("SET plan_cache_mode = force_custom_plan")?;
                    Ok(client)
                }) {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        connection: Some(Connection {
                            client,
                            statements: HashMap::new(),
                        }),
                    }),
                    Err(e) => {
                        self.forget();
                        Err(e.into())
                    }
                };
            }
            state = self
                .given_back
                .wait(state)
                .map_err(|_| StoreError::Database("connection pool poisoned".into()))?;
        }
    }

    /// A connection closed (or never opened): another may be opened in its place.
    fn forget(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open -= 1;
        }
        self.given_back.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing a client blocks on the client's own runtime, which panics on an async worker
        // (where the server may drop its state at shutdown): there, the clients are closed on
        // a thread of their own.
        if tokio::runtime::Handle::try_current().is_ok() {
            let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
            let idle = std::mem::take(&mut state.idle);
            std::thread::spawn(move || drop(idle));
        }
    }
}

impl Pooled<'_> {
    fn connection(&mut self) -> StoreResult<&mut Connection> {
        self.connection
            .as_mut()
            .ok_or_else(|| StoreError::Database("connection already given back".into()))
    }

    fn client(&mut self) -> StoreResult<&mut Client> {
        Ok(&mut self.connection()?.client)
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        if connection.client.is_closed() {
            self.pool.forget();
            return;
        }
        if let Ok(mut state) = self.pool.state.lock() {
            state.idle.push(connection);
        }
        self.pool.given_back.notify_one();
    }
}

pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (idle, open) = self
            .pool
            .state
            .lock()
            .map(|s| (s.idle.len(), s.open))
            .unwrap_or_default();
        // The URL may hold a password: not shown.
        f.debug_struct("PostgresStore")
            .field("idle", &idle)
            .field("open", &open)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgresql://` URL or `key=value` settings),
    /// creating or upgrading its schema. Like every other call, not on an async worker.
    pub fn connect(url: &str) -> StoreResult<PostgresStore> {
        let store = PostgresStore {
            pool: Pool {
                url: url.to_string(),
                state: Mutex::new(PoolState::default()),
                given_back: Condvar::new(),
            },
        };
        let mut conn = store.pool.get()?;
        migrate(conn.client()?)?;
        drop(conn);
        Ok(store)
    }

    fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.client()?.transaction()?;
        // On an error the transaction is dropped, which rolls it back.
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// A read in one snapshot (every query of a call sees the same data), through the
    /// connection's kept statements.
    fn query<T>(&self, f: impl FnOnce(&mut PgExec<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.pool.get()?;
        let Connection { client, statements } = conn.connection()?;
        if statements.len() > STATEMENTS_KEPT {
            statements.clear();
        }
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut PgExec {
            tx: &mut tx,
            prepared: Prepared::Kept(statements),
        })?;
        tx.commit()?;
        Ok(out)
    }
}

fn migrate(client: &mut Client) -> StoreResult<()> {
    let mut tx = client.transaction()?;
    // Released at commit or rollback; a second instance starting now waits here and then finds
    // the schema in place.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(SCHEMA_VERSION_TABLE)?;
    migrations::upgrade(&mut PgExec::new(&mut tx), migrations::POSTGRES)?;
    tx.commit()?;
    Ok(())
}

impl Schema for PgExec<'_, '_> {
    fn version(&mut self) -> StoreResult<u32> {
        match self
            .tx
            .query_opt("SELECT version FROM schema_version WHERE id = 1", &[])?
        {
            Some(row) => {
                let version: i32 = row.try_get(0)?;
                u32::try_from(version).map_err(|_| {
                    StoreError::Corrupt(format!("schema version {version} out of range"))
                })
            }
            None => Ok(0),
        }
    }

    fn set_version(&mut self, version: u32) -> StoreResult<()> {
        let version = i32::try_from(version)
            .map_err(|_| StoreError::Database(format!("schema version {version} out of range")))?;
        self.tx.execute(
            "INSERT INTO schema_version (id, version) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&version],
        )?;
        Ok(())
    }

    fn script(&mut self, sql: &str) -> StoreResult<()> {
        Ok(self.tx.batch_execute(sql)?)
    }
}

/// The shared SQL ([`super::reference`]) run on a PostgreSQL transaction, each statement
/// prepared once per transaction (an import runs one statement per row), or once per
/// connection for reads ([`PostgresStore::query`]).
struct PgExec<'a, 'b> {
    tx: &'a mut Transaction<'b>,
    prepared: Prepared<'a>,
}

/// Where a [`PgExec`] keeps the statements it prepared.
enum Prepared<'a> {
    /// For this transaction only.
    Own(HashMap<String, Statement>),
    /// The connection's, kept after the transaction.
    Kept(&'a mut HashMap<String, Statement>),
}

impl<'a, 'b> PgExec<'a, 'b> {
    fn new(tx: &'a mut Transaction<'b>) -> Self {
        PgExec {
            tx,
            prepared: Prepared::Own(HashMap::new()),
        }
    }

    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        let prepared = match &mut self.prepared {
            Prepared::Own(statements) => statements,
            Prepared::Kept(statements) => &mut **statements,
        };
        if let Some(statement) = prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn pg_value(cell: &Cell) -> Box<dyn ToSql + Sync> {
    match cell {
        Cell::Text(text) => Box::new(text.clone()),
        Cell::OptText(text) => Box::new(text.clone()),
        Cell::Int(n) => Box::new(*n),
        Cell::Int32(n) => Box::new(*n),
        Cell::OptInt(n) => Box::new(*n),
        Cell::Bool(b) => Box::new(*b),
        Cell::TextList(list) => Box::new(list.clone()),
        Cell::Limit(n) => Box::new((*n >= 0).then_some(*n)),
        Cell::Bytes(bytes) => Box::new(bytes.clone()),
    }
}

/// A foreign key (enterprise or region) that is missing: a conflict, not a database fault.
fn reference_error(e: postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        StoreError::Conflict(reference::MISSING_REFERENCE.into())
    } else {
        e.into()
    }
}

impl Exec for PgExec<'_, '_> {
    fn postgres(&self) -> bool {
        true
    }

    fn rows<T>(
        &mut self,
        sql: &str,
        cells: &[Cell],
        decode: impl Fn(&dyn Cells) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let statement = self.statement(sql)?;
        let values: Vec<_> = cells.iter().map(pg_value).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        self.tx
            .query(&statement, &params)
            .map_err(reference_error)?
            .iter()
            .map(|row| decode(row))
            .collect()
    }

    fn execute(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        let values: Vec<_> = cells.iter().map(pg_value).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        Ok(self.tx.execute(&statement, &params)?)
    }

    fn execute_referencing(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<Option<u64>> {
        let statement = self.statement(sql)?;
        let values: Vec<_> = cells.iter().map(pg_value).collect();
        let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        match self.tx.execute(&statement, &params) {
            Ok(changed) => Ok(Some(changed)),
            Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl Cells for Row {
    fn text(&self, i: usize) -> StoreResult<String> {
        Ok(self.try_get(i)?)
    }

    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        Ok(self.try_get(i)?)
    }

    fn int(&self, i: usize) -> StoreResult<i64> {
        Ok(self.try_get(i)?)
    }

    fn int32(&self, i: usize) -> StoreResult<i32> {
        Ok(self.try_get(i)?)
    }

    fn text_list(&self, i: usize) -> StoreResult<Vec<String>> {
        Ok(self.try_get(i)?)
    }

    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        Ok(self.try_get(i)?)
    }

    fn boolean(&self, i: usize) -> StoreResult<bool> {
        Ok(self.try_get(i)?)
    }

    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(i)?)
    }

    fn blob(&self, i: usize) -> StoreResult<&[u8]> {
        Ok(self.try_get(i)?)
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn add_region(&self, region: &Region) -> StoreResult<()> {
        self.write(|tx| accounts::add_region(&mut PgExec::new(tx), region))
    }

    fn regions(&self) -> StoreResult<Vec<Region>> {
        self.query(|db| accounts::regions(db))
    }

    fn add_user(&self, user: &User) -> StoreResult<()> {
        self.write(|tx| accounts::add_user(&mut PgExec::new(tx), user))
    }

    fn user(&self, login: &str) -> StoreResult<Option<User>> {
        self.query(|db| accounts::user(db, login))
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|tx| accounts::set_user_disabled(&mut PgExec::new(tx), login, disabled))
    }

    fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
        self.query(|db| accounts::certified_users_since(db, seq))
    }

    fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
        self.write(|tx| accounts::insert_token(&mut PgExec::new(tx), token))
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        self.query(|db| accounts::token(db, hash))
    }

    fn revoke_token(&self, hash: &str) -> StoreResult<()> {
        self.write(|tx| accounts::revoke_token(&mut PgExec::new(tx), hash))
    }

    fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
        self.write(|tx| accounts::revoke_tokens(&mut PgExec::new(tx), login, device_id))
    }

    fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
        self.write(|tx| enterprises::upsert_enterprises(&mut PgExec::new(tx), enterprises))
    }

    fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
        self.query(|db| enterprises::enterprise(db, credit_code))
    }

    fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
        self.query(|db| enterprises::enterprises_since(db, seq))
    }

    fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
        self.write(|tx| templates::publish_template(&mut PgExec::new(tx), template))
    }

    fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
        self.query(|db| templates::template(db, id, version))
    }

    fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
        self.query(|db| templates::templates_since(db, seq))
    }

    fn set_agency(&self, toml: &str) -> StoreResult<()> {
        self.write(|tx| templates::set_agency(&mut PgExec::new(tx), toml))
    }

    fn agency(&self) -> StoreResult<Option<(String, i64)>> {
        self.query(|db| templates::agency(db))
    }

    fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.query(|db| records::record(db, id))
    }

    fn commit_record(
        &self,
        commit: &RecordCommit,
        signer: &dyn ReceiptSigner,
    ) -> StoreResult<CommitOutcome> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.client()?.transaction()?;
        let outcome = commit::commit_record(&mut PgExec::new(&mut tx), commit, signer)?;
        // A refused commit is dropped, which rolls it back: it leaves nothing behind, not
        // even a used sequence number.
        if matches!(outcome, CommitOutcome::Committed { .. }) {
            tx.commit()?;
        }
        Ok(outcome)
    }

    fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool> {
        self.write(|tx| records::quarantine(&mut PgExec::new(tx), entry))
    }

    fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
        self.query(|db| records::quarantined(db, record_id))
    }

    fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>> {
        self.query(|db| records::records_for_device_since(db, seq, device_id, cert))
    }

    fn list_records(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecordRow>> {
        self.query(|db| listing::records(db, scope, filter, limit, offset))
    }

    fn area_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        grouping: AreaGrouping,
    ) -> StoreResult<Vec<AreaCount>> {
        self.query(|db| rollups::area_counts(db, scope, filter, grouping))
    }

    fn enterprise_activity(
        &self,
        scope: &RecordScope,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<EnterpriseActivity>> {
        self.query(|db| rollups::enterprise_activity(db, scope, from, until))
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
        self.query(|db| standings::tallies(db, scope, level, today, soon, limit, offset))
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
        self.query(|db| standings::open_hazards(db, scope, standing, today, soon, limit, offset))
    }

    fn rectified_hazards(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>> {
        self.query(|db| standings::rectified_hazards(db, scope, limit, offset))
    }

    fn rebuild_rollups(&self) -> StoreResult<rollups::RollupSummary> {
        self.write(|tx| rollups::rebuild(&mut PgExec::new(tx)))
    }

    fn rollups_agree(&self) -> StoreResult<bool> {
        self.query(|db| {
            Ok(rollups::stored(db)? == rollups::recount(db)?
                && standings::stored(db)? == standings::recount(db)?)
        })
    }

    fn hazard_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<HazardCount>> {
        self.query(|db| listing::hazard_counts(db, scope, filter))
    }

    fn submitted_inspections(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<SubmittedInspection>> {
        self.query(|db| listing::submitted_inspections(db, scope, filter))
    }

    fn attendance_counts(
        &self,
        scope: &RecordScope,
        from: Option<chrono::NaiveDate>,
        until: Option<chrono::NaiveDate>,
        monthly: bool,
    ) -> StoreResult<Vec<AttendanceCount>> {
        self.query(|db| rollups::attendance_counts(db, scope, from, until, monthly))
    }

    fn enterprise_regions(
        &self,
        scope: &RecordScope,
        declared_in: Option<std::ops::RangeInclusive<i32>>,
    ) -> StoreResult<Vec<(String, String, bool)>> {
        self.query(|db| listing::enterprise_regions(db, scope, declared_in))
    }

    fn enterprise_names(&self, scope: &RecordScope) -> StoreResult<Vec<EnterpriseName>> {
        self.query(|db| listing::enterprise_names(db, scope))
    }

    fn permit_ends(
        &self,
        scope: &RecordScope,
    ) -> StoreResult<Vec<(String, String, chrono::NaiveDate)>> {
        self.query(|db| listing::permit_ends(db, scope))
    }

    fn certificate_counts(
        &self,
        scope: &RecordScope,
        on: chrono::NaiveDate,
        expiring_through: chrono::NaiveDate,
    ) -> StoreResult<Vec<CertificateCount>> {
        self.query(|db| listing::certificate_counts(db, scope, on, expiring_through))
    }

    fn permits(&self, scope: &RecordScope) -> StoreResult<Vec<PermitRow>> {
        self.query(|db| listing::permits(db, scope))
    }

    fn hazard_statuses(&self, scope: &RecordScope) -> StoreResult<Vec<HazardStatusRow>> {
        self.query(|db| listing::hazard_statuses(db, scope))
    }

    fn enterprise_hazards(&self, credit_code: &str) -> StoreResult<Vec<EnterpriseHazard>> {
        self.query(|db| listing::enterprise_hazards(db, credit_code))
    }

    fn amendments_of(&self, id: &str) -> StoreResult<Vec<String>> {
        self.query(|db| records::amendments_of(db, id))
    }

    fn current_seq(&self) -> StoreResult<i64> {
        self.query(|db| records::current_seq(db))
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
                &mut PgExec::new(tx),
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
        self.query(|db| numbers::leases_of_device(db, device_id, login))
    }

    fn lease_holder(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        serial: u32,
    ) -> StoreResult<Option<(String, String)>> {
        self.query(|db| numbers::lease_holder(db, agency, doc_type, year, serial))
    }

    fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
        self.write(|tx| numbers::void_number(&mut PgExec::new(tx), entry))
    }

    fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
        self.query(|db| numbers::number_register(db))
    }

    fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
        self.query(|db| audit::audit_log(db))
    }
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.query(|db| audit::audit_head(db))
    }

    fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
        self.query(|db| audit::audit_entry_hash(db, index))
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.query(|db| audit::signing_keys(db))
    }

    fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        self.write(|tx| audit::add_signing_key(&mut PgExec::new(tx), key))
    }

    fn import_reference(&self, batch: &ReferenceBatch) -> StoreResult<ImportSummary> {
        self.write(|tx| reference::import(&mut PgExec::new(tx), batch))
    }

    fn enterprise_archive(&self, credit_code: &str) -> StoreResult<EnterpriseArchive> {
        self.query(|db| reference::enterprise_archive(db, credit_code))
    }

    fn attendance_of(&self, credit_code: &str, page: &DatedPage) -> StoreResult<Vec<Attendance>> {
        self.query(|db| reference::attendance_of(db, credit_code, page))
    }

    fn hotline_reports(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<HotlineReport>> {
        self.query(|db| reference::hotline_reports(db, scope, page))
    }

    fn mailbox_messages(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<MailboxMessage>> {
        self.query(|db| reference::mailbox_messages(db, scope, page))
    }

    fn register_device(&self, device: &iot::NewDevice) -> StoreResult<crate::iot::Device> {
        self.write(|tx| iot::register_device(&mut PgExec::new(tx), device))
    }

    fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<crate::iot::Device>> {
        self.query(|db| iot::device_by_key(db, key_hash))
    }

    fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|tx| iot::revoke_device(&mut PgExec::new(tx), device_id, at))
    }

    fn devices(&self, scope: &RecordScope) -> StoreResult<Vec<crate::iot::Device>> {
        self.query(|db| iot::devices(db, scope))
    }

    fn ingest_iot(
        &self,
        intake: &crate::iot::Intake,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<crate::iot::IngestOutcome> {
        self.write(|tx| iot::ingest(&mut PgExec::new(tx), intake, config))
    }

    fn alerts(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<iot::Alert>, i64)> {
        self.query(|db| iot::alerts(db, scope, limit, offset))
    }

    fn acknowledge_alert(
        &self,
        scope: &RecordScope,
        alert_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<iot::Alert>> {
        self.write(|tx| iot::acknowledge_alert(&mut PgExec::new(tx), scope, alert_id, login, at))
    }

    fn rectify_iot_hazard(
        &self,
        scope: &RecordScope,
        hazard_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.write(|tx| iot::rectify_iot_hazard(&mut PgExec::new(tx), scope, hazard_id, login, at))
    }

    fn alerts_since(&self, scope: &RecordScope, seq: i64) -> StoreResult<Vec<iot::Alert>> {
        self.query(|db| iot::alerts_since(db, scope, seq))
    }

    fn iot_tick(
        &self,
        now: DateTime<Utc>,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<iot::TickOutcome> {
        self.write(|tx| iot::tick(&mut PgExec::new(tx), now, config))
    }

    fn iot_events_of(&self, device_id: &str, limit: i64) -> StoreResult<Vec<iot::StoredEvent>> {
        self.query(|db| iot::events_of(db, device_id, limit))
    }

    fn latest_iot_event(
        &self,
        device_id: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>> {
        self.query(|db| iot::latest_event(db, device_id))
    }

    fn iot_conflicts_of(&self, device_id: &str) -> StoreResult<i64> {
        self.query(|db| iot::conflicts_of(db, device_id))
    }
}
