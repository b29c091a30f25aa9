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
use anjian_core::enterprise::{CreditCode, ENTERPRISE_SCOPE_ON_UPSERT, Enterprise};
use anjian_core::record::Inspector;
use anjian_core::sync::protocol::{NumberBlock, Role, TemplateSource, heads_from_text};
use anjian_core::sync::receipt::{GENESIS_HASH, Receipt};

use super::migrations::{self, Schema};
use super::reference::{self, Cell, Cells, Exec};
use super::{
    AreaCount, AreaGrouping, Attendance, AttendanceCount, CertificateCount, CommitOutcome,
    DatedPage, EnterpriseActivity, EnterpriseArchive, EnterpriseHazard, EnterpriseName,
    HazardCount, HazardStatusRow, HazardTallies, HotlineReport, ImportSummary, MailboxMessage,
    NumberRegisterEntry, PermitRow, QuarantineEntry, ReceiptSigner, RecordCommit, RecordFilter,
    RecordRow, RecordScope, ReferenceBatch, Region, SigningKeyRow, Store, StoreError, StoreResult,
    StoredRecord, SubmittedInspection, TokenKind, TokenRow, User, chained_receipt, doc_type,
    from_millis, millis, parse_date,
};
use super::{iot, listing, rollups, standings};

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

/// A serial or version stored as BIGINT, back to `u32`.
fn to_u32(value: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} out of range")))
}

/// Takes the next sequence number; holds the counters row lock until the transaction ends.
fn next_seq(tx: &mut Transaction<'_>) -> StoreResult<i64> {
    Ok(tx
        .query_one(
            "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
            &[],
        )?
        .try_get(0)?)
}

/// Waits for the writes holding the counters row, then keeps them out until the transaction
/// ends: the checks that follow see every earlier write, as under SQLite's single writer.
fn serialize_writes(tx: &mut Transaction<'_>) -> StoreResult<()> {
    tx.execute("SELECT 1 FROM counters WHERE name = 'seq' FOR UPDATE", &[])?;
    Ok(())
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

    /// [`PostgresStore::read`] through the connection's kept statements.
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

    fn read<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.pool.get()?;
        // One snapshot: every query of a call sees the same data.
        let mut tx = conn
            .client()?
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let out = f(&mut tx)?;
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
                to_u32(version.into(), "schema version")
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

fn user_from_row(row: &Row) -> StoreResult<User> {
    let role: String = row.try_get(2)?;
    Ok(User {
        login: row.try_get(0)?,
        name: row.try_get(1)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        scope: row.try_get(3)?,
        cert: row.try_get(4)?,
        cert_valid_until: parse_date(row.try_get(5)?)?,
        password_hash: row.try_get(6)?,
        disabled: row.try_get(7)?,
    })
}

const ENTERPRISE_COLUMNS: &str = "credit_code, name, address, industry, region_code,
    legal_representative, phone, sector, special_operations";

fn enterprise_from_row(row: &Row) -> StoreResult<Enterprise> {
    let code: String = row.try_get(0)?;
    Ok(Enterprise {
        credit_code: CreditCode::parse(&code)
            .map_err(|e| StoreError::Corrupt(format!("credit code {code:?}: {e}")))?,
        name: row.try_get(1)?,
        address: row.try_get(2)?,
        industry: row.try_get(3)?,
        region_code: row.try_get(4)?,
        legal_representative: row.try_get(5)?,
        phone: row.try_get(6)?,
        sector: row.try_get(7)?,
        special_operations: super::special_operations_from_column(
            row.try_get::<_, Option<String>>(8)?.as_deref(),
        )?,
    })
}

const RECORD_COLUMNS: &str = "r.id, r.doc, r.heads, r.version, r.region_code, r.enterprise_code,
    r.inspection_kind, r.kind, r.status, r.created_by_device, r.amends,
    a.idx, a.heads, a.content_hash, a.locked_at, a.previous_hash, a.entry_hash, a.signature,
    ARRAY(SELECT i.cert FROM record_inspectors i WHERE i.record_id = r.id ORDER BY i.cert),
    a.key_id, r.enterprise_name, r.hazard_count";

fn stored_record(row: &Row) -> StoreResult<StoredRecord> {
    let id: String = row.try_get(0)?;
    let lock = match row.try_get::<_, Option<i64>>(11)? {
        Some(idx) => Some(Receipt {
            record_id: id.clone(),
            heads: heads_from_text(row.try_get(12)?),
            content_hash: row.try_get(13)?,
            locked_at: from_millis(row.try_get(14)?)?,
            log_index: idx,
            previous_hash: row.try_get(15)?,
            entry_hash: row.try_get(16)?,
            key_id: row.try_get(19)?,
            signature: row.try_get(17)?,
        }),
        None => None,
    };
    Ok(StoredRecord {
        heads: heads_from_text(row.try_get(2)?),
        doc: row.try_get(1)?,
        version: row.try_get(3)?,
        region_code: row.try_get(4)?,
        enterprise_code: row.try_get(5)?,
        inspection_kind: row.try_get(6)?,
        kind: row.try_get(7)?,
        status: row.try_get(8)?,
        enterprise_name: row.try_get(20)?,
        hazard_count: row.try_get(21)?,
        created_by_device: row.try_get(9)?,
        amends: row.try_get(10)?,
        inspector_certs: row.try_get(18)?,
        lock,
        id,
    })
}

fn receipt_from_row(row: &Row) -> StoreResult<Receipt> {
    Ok(Receipt {
        log_index: row.try_get(0)?,
        record_id: row.try_get(1)?,
        heads: heads_from_text(row.try_get(2)?),
        content_hash: row.try_get(3)?,
        locked_at: from_millis(row.try_get(4)?)?,
        previous_hash: row.try_get(5)?,
        entry_hash: row.try_get(6)?,
        signature: row.try_get(7)?,
        key_id: row.try_get(8)?,
    })
}

fn query_records(
    tx: &mut Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<StoredRecord>> {
    tx.query(sql, params)?.iter().map(stored_record).collect()
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgresql"
    }

    fn add_region(&self, region: &Region) -> StoreResult<()> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO regions (code, name, parent) VALUES ($1, $2, $3)
                 ON CONFLICT (code) DO NOTHING",
                &[&region.code, &region.name, &region.parent],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "区划代码 {} 已存在",
                    region.code
                )));
            }
            Ok(())
        })
    }

    fn regions(&self) -> StoreResult<Vec<Region>> {
        self.read(|tx| {
            tx.query("SELECT code, name, parent FROM regions ORDER BY code", &[])?
                .iter()
                .map(|row| {
                    Ok(Region {
                        code: row.try_get(0)?,
                        name: row.try_get(1)?,
                        parent: row.try_get(2)?,
                    })
                })
                .collect()
        })
    }

    fn add_user(&self, user: &User) -> StoreResult<()> {
        self.write(|tx| {
            serialize_writes(tx)?;
            let taken: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE login = $1)",
                    &[&user.login],
                )?
                .try_get(0)?;
            if taken {
                return Err(StoreError::Conflict(format!("账号 {} 已存在", user.login)));
            }
            if let Some(cert) = &user.cert {
                let holder = tx.query_opt("SELECT login FROM users WHERE cert = $1", &[cert])?;
                if let Some(holder) = holder {
                    let holder: String = holder.try_get(0)?;
                    return Err(StoreError::Conflict(format!(
                        "执法证号 {cert} 已属于账号 {holder}"
                    )));
                }
            }
            let seq = next_seq(tx)?;
            tx.execute(
                "INSERT INTO users (login, name, role, scope, cert, cert_valid_until,
                     password_hash, disabled, seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &user.login,
                    &user.name,
                    &user.role.as_str(),
                    &user.scope,
                    &user.cert,
                    &user.cert_valid_until.map(|d| d.to_string()),
                    &user.password_hash,
                    &user.disabled,
                    &seq,
                ],
            )?;
            Ok(())
        })
    }

    fn user(&self, login: &str) -> StoreResult<Option<User>> {
        self.read(|tx| {
            tx.query_opt(
                "SELECT login, name, role, scope, cert, cert_valid_until, password_hash, disabled
                 FROM users WHERE login = $1",
                &[&login],
            )?
            .as_ref()
            .map(user_from_row)
            .transpose()
        })
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            let changed = tx.execute(
                "UPDATE users SET disabled = $2, seq = $3 WHERE login = $1",
                &[&login, &disabled, &seq],
            )?;
            Ok(changed == 1)
        })
    }

    fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
        self.read(|tx| {
            tx.query(
                "SELECT name, cert, cert_valid_until FROM users
                 WHERE cert IS NOT NULL AND NOT disabled AND seq > $1 ORDER BY cert",
                &[&seq],
            )?
            .iter()
            .map(|row| {
                Ok(Inspector {
                    name: row.try_get(0)?,
                    cert: row.try_get(1)?,
                    cert_valid_until: parse_date(row.try_get(2)?)?,
                })
            })
            .collect()
        })
    }

    fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO tokens (hash, kind, login, device_id, expires_at, revoked)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &token.hash,
                    &token.kind.as_str(),
                    &token.login,
                    &token.device_id,
                    &millis(token.expires_at),
                    &token.revoked,
                ],
            )?;
            Ok(())
        })
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        self.read(|tx| {
            let Some(row) = tx.query_opt(
                "SELECT hash, kind, login, device_id, expires_at, revoked FROM tokens
                 WHERE hash = $1",
                &[&hash],
            )?
            else {
                return Ok(None);
            };
            let kind: String = row.try_get(1)?;
            Ok(Some(TokenRow {
                hash: row.try_get(0)?,
                kind: TokenKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
                login: row.try_get(2)?,
                device_id: row.try_get(3)?,
                expires_at: from_millis(row.try_get(4)?)?,
                revoked: row.try_get(5)?,
            }))
        })
    }

    fn revoke_token(&self, hash: &str) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute("UPDATE tokens SET revoked = TRUE WHERE hash = $1", &[&hash])?;
            Ok(())
        })
    }

    fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
        self.write(|tx| {
            let revoked = tx.execute(
                "UPDATE tokens SET revoked = TRUE
                 WHERE login = $1 AND ($2::TEXT IS NULL OR device_id = $2) AND NOT revoked",
                &[&login, &device_id],
            )?;
            usize::try_from(revoked).map_err(|_| StoreError::Database("row count".into()))
        })
    }

    fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            let stmt = tx.prepare(&format!(
                "INSERT INTO enterprises (credit_code, name, address, industry, region_code,
                         legal_representative, phone, seq, sector, special_operations)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name,
                         address = excluded.address, industry = excluded.industry,
                         region_code = excluded.region_code,
                         legal_representative = excluded.legal_representative,
                         phone = excluded.phone, seq = excluded.seq,
                         {ENTERPRISE_SCOPE_ON_UPSERT}",
            ))?;
            for e in enterprises {
                let special_operations = e.special_operations_column();
                tx.execute(
                    &stmt,
                    &[
                        &e.credit_code.as_str(),
                        &e.name,
                        &e.address,
                        &e.industry,
                        &e.region_code,
                        &e.legal_representative,
                        &e.phone,
                        &seq,
                        &e.sector,
                        &special_operations,
                    ],
                )
                .map_err(|err| {
                    if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
                        StoreError::Conflict(format!(
                            "企业 {}（{}）的区划代码 {} 未登记：请先用 region add 添加",
                            e.name,
                            e.credit_code.as_str(),
                            e.region_code
                        ))
                    } else {
                        err.into()
                    }
                })?;
            }
            Ok(enterprises.len())
        })
    }

    fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
        self.read(|tx| {
            tx.query_opt(
                &format!("SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE credit_code = $1"),
                &[&credit_code],
            )?
            .as_ref()
            .map(enterprise_from_row)
            .transpose()
        })
    }

    fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
        self.read(|tx| {
            tx.query(
                &format!(
                    "SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE seq > $1
                     ORDER BY credit_code"
                ),
                &[&seq],
            )?
            .iter()
            .map(enterprise_from_row)
            .collect()
        })
    }

    fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
        let version = i64::from(template.version);
        self.write(|tx| {
            serialize_writes(tx)?;
            let existing = tx.query_opt(
                "SELECT source FROM templates WHERE id = $1 AND version = $2",
                &[&template.id, &version],
            )?;
            match existing {
                Some(row) if row.try_get::<_, &str>(0)? == template.source => Ok(false),
                Some(_) => Err(StoreError::Conflict(format!(
                    "模板 {} 第 {} 版已发布且内容不同：修改检查表后必须提高 version",
                    template.id, template.version
                ))),
                None => {
                    let seq = next_seq(tx)?;
                    tx.execute(
                        "INSERT INTO templates (id, version, source, seq) VALUES ($1, $2, $3, $4)",
                        &[&template.id, &version, &template.source, &seq],
                    )?;
                    Ok(true)
                }
            }
        })
    }

    fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
        self.read(|tx| {
            tx.query_opt(
                "SELECT source FROM templates WHERE id = $1 AND version = $2",
                &[&id, &i64::from(version)],
            )?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(Into::into)
        })
    }

    fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
        self.read(|tx| {
            tx.query(
                "SELECT id, version, source FROM templates WHERE seq > $1 ORDER BY id, version",
                &[&seq],
            )?
            .iter()
            .map(|row| {
                Ok(TemplateSource {
                    id: row.try_get(0)?,
                    version: to_u32(row.try_get(1)?, "template version")?,
                    source: row.try_get(2)?,
                })
            })
            .collect()
        })
    }

    fn set_agency(&self, toml: &str) -> StoreResult<()> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            tx.execute(
                "INSERT INTO agency (id, toml, seq) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, seq = excluded.seq",
                &[&toml, &seq],
            )?;
            Ok(())
        })
    }

    fn agency(&self) -> StoreResult<Option<(String, i64)>> {
        self.read(|tx| {
            tx.query_opt("SELECT toml, seq FROM agency WHERE id = 1", &[])?
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .transpose()
        })
    }

    fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.read(|tx| {
            let mut found = query_records(
                tx,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records r
                     LEFT JOIN audit_log a ON a.record_id = r.id WHERE r.id = $1"
                ),
                &[&id],
            )?;
            Ok(found.pop())
        })
    }

    fn commit_record(
        &self,
        commit: &RecordCommit,
        signer: &dyn ReceiptSigner,
    ) -> StoreResult<CommitOutcome> {
        let mut conn = self.pool.get()?;
        // Every early return drops the transaction, which rolls it back: a refused commit
        // leaves nothing behind, not even a used sequence number.
        let mut tx = conn.client()?.transaction()?;
        // First, so the version check, the number register and the end of the audit log
        // below are read after every earlier commit and stay as read until this one commits.
        let seq = next_seq(&mut tx)?;
        let current: Option<(i64, bool)> = match tx.query_opt(
            "SELECT r.version, a.idx IS NOT NULL FROM records r
             LEFT JOIN audit_log a ON a.record_id = r.id WHERE r.id = $1",
            &[&commit.id],
        )? {
            Some(row) => Some((row.try_get(0)?, row.try_get(1)?)),
            None => None,
        };
        let expected = match (current, commit.expected_version) {
            (None, None) => None,
            (Some((version, false)), Some(expected)) if version == expected => Some(version),
            _ => return Ok(CommitOutcome::VersionConflict),
        };
        let p = &commit.projection;
        let counted_before = rollups::counted_record(&mut PgExec::new(&mut tx), &commit.id)?;
        let now = millis(Utc::now());
        let heads = commit.heads.join(",");
        tx.execute(
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
                &commit.id,
                &commit.doc,
                &heads,
                &expected.map_or(1, |v| v + 1),
                &seq,
                &p.kind,
                &p.inspection_kind,
                &p.template_id,
                &i64::from(p.template_version),
                &p.enterprise_code,
                &p.enterprise_name,
                &p.region_code,
                &p.industry,
                &p.status,
                &millis(p.started_at),
                &p.submitted_at.map(millis),
                &p.created_by_device,
                &p.answered_count,
                &(p.hazards.len() as i64),
                &p.amends,
                &commit.uploader,
                &now,
            ],
        )?;
        let counted_after = rollups::counted_record(&mut PgExec::new(&mut tx), &commit.id)?;
        rollups::record_changed(
            &mut PgExec::new(&mut tx),
            counted_before.as_ref(),
            counted_after.as_ref(),
        )?;
        tx.execute(
            "DELETE FROM record_inspectors WHERE record_id = $1",
            &[&commit.id],
        )?;
        for cert in &p.inspector_certs {
            tx.execute(
                "INSERT INTO record_inspectors (record_id, cert) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&commit.id, cert],
            )?;
        }
        tx.execute("DELETE FROM hazards WHERE record_id = $1", &[&commit.id])?;
        for h in &p.hazards {
            tx.execute(
                "INSERT INTO hazards (record_id, item, class, description, legal_basis, deadline)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &commit.id,
                    &h.item,
                    &h.class,
                    &h.description,
                    &h.legal_basis,
                    &h.deadline.map(|d| d.to_string()),
                ],
            )?;
        }
        if let Some(rectification) = &p.rectifies {
            for item in &rectification.items {
                // The earliest re-inspection that found it rectified is the one that counts,
                // whichever arrives first (devices sync late).
                tx.execute(
                    "INSERT INTO hazard_rectifications (record_id, item, rectified_at, rectified_by)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (record_id, item) DO UPDATE
                     SET rectified_at = excluded.rectified_at, rectified_by = excluded.rectified_by
                     WHERE excluded.rectified_at < hazard_rectifications.rectified_at",
                    &[
                        &rectification.record_id,
                        item,
                        &millis(rectification.at),
                        &commit.id,
                    ],
                )?;
            }
        }
        standings::record_committed(
            &mut PgExec::new(&mut tx),
            &commit.id,
            counted_before.as_ref(),
            counted_after.as_ref(),
            p.rectifies
                .as_ref()
                .map(|r| (r.record_id.as_str(), r.items.as_slice())),
        )?;
        for n in &p.documents {
            let serial = i64::from(n.serial);
            tx.execute(
                "INSERT INTO numbers (agency, doc_type, year, serial, number, state, record_id,
                     device_id, at)
                 VALUES ($1, $2, $3, $4, $5, 'issued', $6, $7, $8)
                 ON CONFLICT DO NOTHING",
                &[
                    &n.agency,
                    &n.doc_type.as_str(),
                    &n.year,
                    &serial,
                    &n.number,
                    &commit.id,
                    &p.created_by_device,
                    &millis(n.issued_at),
                ],
            )?;
            let row = tx.query_one(
                "SELECT state, record_id FROM numbers
                 WHERE agency = $1 AND doc_type = $2 AND year = $3 AND serial = $4",
                &[&n.agency, &n.doc_type.as_str(), &n.year, &serial],
            )?;
            let state: &str = row.try_get(0)?;
            let holder: Option<String> = row.try_get(1)?;
            if state != "issued" || holder.as_deref() != Some(commit.id.as_str()) {
                return Ok(CommitOutcome::NumberTaken {
                    number: n.number.clone(),
                    record_id: holder.unwrap_or_default(),
                });
            }
        }
        let receipt = match &commit.lock {
            Some(lock) => {
                // The counters row lock taken above orders the appends; the primary key on idx
                // would refuse a second entry at one index all the same.
                let last = tx.query_opt(
                    "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
                    &[],
                )?;
                let (index, previous_hash) = match last {
                    Some(row) => (row.try_get::<_, i64>(0)? + 1, row.try_get(1)?),
                    None => (1, GENESIS_HASH.to_string()),
                };
                let receipt = chained_receipt(commit, lock, index, previous_hash, signer);
                tx.execute(
                    "INSERT INTO audit_log (idx, record_id, heads, content_hash, locked_at,
                         previous_hash, entry_hash, signature, key_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        &receipt.log_index,
                        &receipt.record_id,
                        &heads,
                        &receipt.content_hash,
                        &millis(receipt.locked_at),
                        &receipt.previous_hash,
                        &receipt.entry_hash,
                        &receipt.signature,
                        &receipt.key_id,
                    ],
                )?;
                Some(receipt)
            }
            None => None,
        };
        tx.commit()?;
        Ok(CommitOutcome::Committed { receipt })
    }

    fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool> {
        self.write(|tx| {
            let inserted = tx.execute(
                "INSERT INTO quarantine (record_id, changes_hash, changes, uploader, device_id,
                     received_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &entry.record_id,
                    &entry.changes_hash,
                    &entry.changes,
                    &entry.uploader,
                    &entry.device_id,
                    &millis(entry.received_at),
                ],
            )?;
            Ok(inserted == 1)
        })
    }

    fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
        self.read(|tx| {
            tx.query(
                "SELECT record_id, changes_hash, changes, uploader, device_id, received_at
                 FROM quarantine WHERE record_id = $1 ORDER BY received_at, changes_hash",
                &[&record_id],
            )?
            .iter()
            .map(|row| {
                Ok(QuarantineEntry {
                    record_id: row.try_get(0)?,
                    changes_hash: row.try_get(1)?,
                    changes: row.try_get(2)?,
                    uploader: row.try_get(3)?,
                    device_id: row.try_get(4)?,
                    received_at: from_millis(row.try_get(5)?)?,
                })
            })
            .collect()
        })
    }

    fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>> {
        self.read(|tx| {
            query_records(
                tx,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records r
                     LEFT JOIN audit_log a ON a.record_id = r.id
                     WHERE r.seq > $1 AND (r.created_by_device = $2 OR EXISTS
                         (SELECT 1 FROM record_inspectors i
                          WHERE i.record_id = r.id AND i.cert = $3))
                     ORDER BY r.seq"
                ),
                &[&seq, &device_id, &cert],
            )
        })
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
        self.read(|tx| {
            let mut db = PgExec::new(tx);
            Ok(rollups::stored(&mut db)? == rollups::recount(&mut db)?
                && standings::stored(&mut db)? == standings::recount(&mut db)?)
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
        self.read(|tx| {
            tx.query(
                "SELECT id FROM records WHERE amends = $1 ORDER BY id",
                &[&id],
            )?
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect()
        })
    }

    fn current_seq(&self) -> StoreResult<i64> {
        self.read(|tx| {
            Ok(tx
                .query_one("SELECT value FROM counters WHERE name = 'seq'", &[])?
                .try_get(0)?)
        })
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
            serialize_writes(tx)?;
            let last: i64 = tx
                .query_one(
                    "SELECT COALESCE(MAX(last), 0) FROM number_leases
                     WHERE agency = $1 AND doc_type = $2 AND year = $3",
                    &[&agency, &doc_type.as_str(), &year],
                )?
                .try_get(0)?;
            let last = to_u32(last, "serial")?;
            let first = last + 1;
            let last = last
                .checked_add(size)
                .filter(|l| *l <= anjian_core::numbering::MAX_SERIAL)
                .ok_or_else(|| {
                    StoreError::Conflict(format!("{}（{year} 年）的编号已用尽", doc_type.title()))
                })?;
            tx.execute(
                "INSERT INTO number_leases (agency, doc_type, year, first, last, device_id, login,
                     leased_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &agency,
                    &doc_type.as_str(),
                    &year,
                    &i64::from(first),
                    &i64::from(last),
                    &device_id,
                    &login,
                    &millis(at),
                ],
            )?;
            Ok(NumberBlock {
                agency: agency.to_string(),
                doc_type,
                year,
                first,
                last,
            })
        })
    }

    fn leases_of_device(&self, device_id: &str, login: &str) -> StoreResult<Vec<NumberBlock>> {
        self.read(|tx| {
            tx.query(
                "SELECT agency, doc_type, year, first, last FROM number_leases
                 WHERE device_id = $1 AND login = $2 ORDER BY agency, doc_type, year, first",
                &[&device_id, &login],
            )?
            .iter()
            .map(|row| {
                Ok(NumberBlock {
                    agency: row.try_get(0)?,
                    doc_type: doc_type(row.try_get(1)?)?,
                    year: row.try_get(2)?,
                    first: to_u32(row.try_get(3)?, "serial")?,
                    last: to_u32(row.try_get(4)?, "serial")?,
                })
            })
            .collect()
        })
    }

    fn lease_holder(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        serial: u32,
    ) -> StoreResult<Option<(String, String)>> {
        self.read(|tx| {
            tx.query_opt(
                "SELECT device_id, login FROM number_leases
                 WHERE agency = $1 AND doc_type = $2 AND year = $3 AND first <= $4 AND $4 <= last",
                &[&agency, &doc_type.as_str(), &year, &i64::from(serial)],
            )?
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
        })
    }

    fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
        let serial = i64::from(entry.serial);
        self.write(|tx| {
            serialize_writes(tx)?;
            let existing = tx.query_opt(
                "SELECT state, record_id FROM numbers
                 WHERE agency = $1 AND doc_type = $2 AND year = $3 AND serial = $4",
                &[
                    &entry.agency,
                    &entry.doc_type.as_str(),
                    &entry.year,
                    &serial,
                ],
            )?;
            match existing {
                Some(row) if row.try_get::<_, &str>(0)? == "voided" => Ok(()),
                Some(row) => Err(StoreError::Conflict(format!(
                    "编号 {} 已用于记录 {}，不能作废",
                    entry.number,
                    row.try_get::<_, Option<String>>(1)?.unwrap_or_default()
                ))),
                None => {
                    tx.execute(
                        "INSERT INTO numbers (agency, doc_type, year, serial, number, state,
                             record_id, reason, device_id, at)
                         VALUES ($1, $2, $3, $4, $5, 'voided', NULL, $6, $7, $8)",
                        &[
                            &entry.agency,
                            &entry.doc_type.as_str(),
                            &entry.year,
                            &serial,
                            &entry.number,
                            &entry.reason,
                            &entry.device_id,
                            &millis(entry.at),
                        ],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
        self.read(|tx| {
            tx.query(
                "SELECT number, agency, doc_type, year, serial, state, record_id, reason,
                        device_id, at
                 FROM numbers ORDER BY agency, doc_type, year, serial",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(NumberRegisterEntry {
                    number: row.try_get(0)?,
                    agency: row.try_get(1)?,
                    doc_type: doc_type(row.try_get(2)?)?,
                    year: row.try_get(3)?,
                    serial: to_u32(row.try_get(4)?, "serial")?,
                    state: row.try_get(5)?,
                    record_id: row.try_get(6)?,
                    reason: row.try_get(7)?,
                    device_id: row.try_get(8)?,
                    at: from_millis(row.try_get(9)?)?,
                })
            })
            .collect()
        })
    }

    fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
        self.read(|tx| {
            tx.query(
                "SELECT idx, record_id, heads, content_hash, locked_at, previous_hash, entry_hash,
                        signature, key_id
                 FROM audit_log ORDER BY idx",
                &[],
            )?
            .iter()
            .map(receipt_from_row)
            .collect()
        })
    }
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|tx| {
            tx.query_opt(
                "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
                &[],
            )?
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .transpose()
        })
    }

    fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
        self.read(|tx| {
            tx.query_opt("SELECT entry_hash FROM audit_log WHERE idx = $1", &[&index])?
                .map(|row| Ok(row.try_get(0)?))
                .transpose()
        })
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.read(|tx| {
            tx.query(
                "SELECT key_id, public_key, added_at, current FROM signing_keys
                 ORDER BY current DESC, added_at DESC",
                &[],
            )?
            .iter()
            .map(|row| {
                Ok(SigningKeyRow {
                    key_id: row.try_get(0)?,
                    public_key: row.try_get(1)?,
                    added_at: from_millis(row.try_get(2)?)?,
                    current: row.try_get(3)?,
                })
            })
            .collect()
        })
    }

    fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        self.write(|tx| {
            // Instances starting at once on an empty database add their keys one after the
            // other.
            tx.execute("LOCK TABLE signing_keys IN EXCLUSIVE MODE", &[])?;
            let known = tx.query_opt(
                "SELECT public_key FROM signing_keys WHERE key_id = $1",
                &[&key.key_id],
            )?;
            if let Some(row) = known {
                let public_key: String = row.try_get(0)?;
                if public_key != key.public_key {
                    return Err(StoreError::Conflict(format!(
                        "密钥编号 {} 已属于另一把公钥",
                        key.key_id
                    )));
                }
            }
            tx.execute("UPDATE signing_keys SET current = FALSE", &[])?;
            tx.execute(
                "INSERT INTO signing_keys (key_id, public_key, added_at, current)
                 VALUES ($1, $2, $3, TRUE)
                 ON CONFLICT (key_id) DO UPDATE SET current = TRUE",
                &[&key.key_id, &key.public_key, &millis(key.added_at)],
            )?;
            Ok(())
        })
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
