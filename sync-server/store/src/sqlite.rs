//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, one writer
//! connection and a few reader connections.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior};

use super::exec::{self, Cell, Cells, Exec};
use super::migrations::{self, Schema};
use super::{StoreError, StoreResult};

pub const SCHEMA_VERSION: u32 = migrations::latest(migrations::SQLITE);

/// Reader connections: at most this many, opened when first needed and kept; a reader that
/// finds all busy waits for one. (Opening a connection per read under load cost more than the
/// reads: a fresh connection starts with an empty page cache and statement cache.)
const READERS: usize = 8;

#[derive(Debug)]
pub(super) struct SqliteStore {
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
    pub(super) fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut writer = open_connection(path)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::default(),
            reader_returned: Condvar::new(),
        })
    }

    /// A write transaction on the one writer connection, committed when `keep` accepts what
    /// `f` answered; otherwise, and on an error, it is dropped, which rolls it back.
    pub(super) fn write_if<T>(
        &self,
        keep: impl FnOnce(&T) -> bool,
        f: impl FnOnce(SqliteExec<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Database("writer connection poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(SqliteExec(&tx))?;
        if keep(&out) {
            tx.commit()?;
        }
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

    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(SqliteExec<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.take_reader()?;
        // One read transaction: every query of a call sees the same snapshot.
        let out = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(SqliteExec(&tx));
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

/// The shared SQL ([`super::exec`]) run on a SQLite transaction.
pub(super) struct SqliteExec<'a>(&'a Connection);

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
            StoreError::Conflict(exec::MISSING_REFERENCE.into())
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
