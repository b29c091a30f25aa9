//! One [`Store`] over either database: the backend owns connections and transactions, and
//! hands every operation the same executor, a [`Db`], so that each statement is written once
//! in the per-entity modules and no operation is written per backend.

use std::path::Path;

use super::StoreResult;
use super::exec::{Cell, Cells, Exec};
use super::postgres::{PgExec, PostgresStore};
use super::sqlite::{SqliteExec, SqliteStore};

/// The server's storage. Cheap to share behind an `Arc`; every call is synchronous and runs
/// on a blocking thread.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// One open transaction of either backend, running the shared SQL: what [`Store::read`] and
/// [`Store::write`] hand their work.
pub struct Db<'a, 'b>(Conn<'a, 'b>);

enum Conn<'a, 'b> {
    Sqlite(SqliteExec<'a>),
    Postgres(PgExec<'a, 'b>),
}

impl std::fmt::Debug for Db<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Db").field(&self.backend_name()).finish()
    }
}

impl Db<'_, '_> {
    fn backend_name(&self) -> &'static str {
        match self.0 {
            Conn::Sqlite(_) => "sqlite",
            Conn::Postgres(_) => "postgresql",
        }
    }
}

impl Exec for Db<'_, '_> {
    fn postgres(&self) -> bool {
        matches!(self.0, Conn::Postgres(_))
    }

    fn rows<T>(
        &mut self,
        sql: &str,
        cells: &[Cell],
        decode: impl Fn(&dyn Cells) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        match &mut self.0 {
            Conn::Sqlite(exec) => exec.rows(sql, cells, decode),
            Conn::Postgres(exec) => exec.rows(sql, cells, decode),
        }
    }

    fn execute(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<u64> {
        match &mut self.0 {
            Conn::Sqlite(exec) => exec.execute(sql, cells),
            Conn::Postgres(exec) => exec.execute(sql, cells),
        }
    }

    fn execute_referencing(&mut self, sql: &str, cells: &[Cell]) -> StoreResult<Option<u64>> {
        match &mut self.0 {
            Conn::Sqlite(exec) => exec.execute_referencing(sql, cells),
            Conn::Postgres(exec) => exec.execute_referencing(sql, cells),
        }
    }
}

impl Store {
    /// Opens (creating or upgrading when needed) the SQLite database at `path`.
    pub fn open_sqlite(path: &Path) -> StoreResult<Store> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(path)?),
        })
    }

    /// Connects to the PostgreSQL database at `url` (a `postgresql://` URL or `key=value`
    /// settings), creating or upgrading its schema. Like every other call, not on an async
    /// worker.
    pub fn connect_postgres(url: &str) -> StoreResult<Store> {
        Ok(Store {
            backend: Backend::Postgres(PostgresStore::connect(url)?),
        })
    }

    /// `sqlite` or `postgresql`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgresql",
        }
    }

    /// Runs `work` in one read transaction: every query it makes sees the same snapshot.
    pub fn read<T>(&self, work: impl FnOnce(&mut Db<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        match &self.backend {
            Backend::Sqlite(store) => store.read(|exec| work(&mut Db(Conn::Sqlite(exec)))),
            Backend::Postgres(store) => store.read(|exec| work(&mut Db(Conn::Postgres(exec)))),
        }
    }

    /// Runs `work` in one write transaction, committed when it answers `Ok`.
    pub fn write<T>(&self, work: impl FnOnce(&mut Db<'_, '_>) -> StoreResult<T>) -> StoreResult<T> {
        self.write_if(|_| true, work)
    }

    /// Runs `work` in one write transaction, committed only when `keep` accepts its answer;
    /// otherwise, and on an error, rolled back.
    pub fn write_if<T>(
        &self,
        keep: impl FnOnce(&T) -> bool,
        work: impl FnOnce(&mut Db<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match &self.backend {
            Backend::Sqlite(store) => {
                store.write_if(keep, |exec| work(&mut Db(Conn::Sqlite(exec))))
            }
            Backend::Postgres(store) => {
                store.write_if(keep, |exec| work(&mut Db(Conn::Postgres(exec))))
            }
        }
    }
}
