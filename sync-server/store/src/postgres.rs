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

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};

use super::exec::{self, Cell, Cells, Exec};
use super::migrations::{self, Schema};
use super::{StoreError, StoreResult};

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

pub(super) struct PostgresStore {
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
    pub(super) fn connect(url: &str) -> StoreResult<PostgresStore> {
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

    /// A write transaction, committed when `keep` accepts what `f` answered; otherwise, and on
    /// an error, it is dropped, which rolls it back.
    pub(super) fn write_if<T>(
        &self,
        keep: impl FnOnce(&T) -> bool,
        f: impl FnOnce(PgExec<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.client()?.transaction()?;
        let out = f(PgExec::new(&mut tx))?;
        if keep(&out) {
            tx.commit()?;
        }
        Ok(out)
    }

    /// A read in one snapshot (every query of a call sees the same data), through the
    /// connection's kept statements.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(PgExec<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
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
        let out = f(PgExec {
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

/// The shared SQL ([`super::exec`]) run on a PostgreSQL transaction, each statement
/// prepared once per transaction (an import runs one statement per row), or once per
/// connection for reads ([`PostgresStore::read`]).
pub(super) struct PgExec<'a, 'b> {
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
        StoreError::Conflict(exec::MISSING_REFERENCE.into())
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
