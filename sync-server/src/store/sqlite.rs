//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, one writer
//! connection and a few reader connections.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

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

/// `execute` through the statement cache: the server runs the same few statements for every
/// upload, and compiling them each time cost more than running them.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the statement cache.
fn row<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

fn next_seq(tx: &Connection) -> StoreResult<i64> {
    Ok(row(
        tx,
        "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value",
        [],
        |row| row.get(0),
    )?)
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
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(sqlite_values(cells)?))
            .map_err(reference_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(reference_error)? {
            out.push(decode(row)?);
        }
        Ok(out)
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

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String, Option<String>)> {
    let role: String = row.get(2)?;
    Ok((
        User {
            login: row.get(0)?,
            name: row.get(1)?,
            role: Role::Admin,
            scope: row.get(3)?,
            cert: row.get(4)?,
            cert_valid_until: None,
            password_hash: row.get(6)?,
            disabled: row.get(7)?,
        },
        role,
        row.get(5)?,
    ))
}

fn finish_user((mut user, role, until): (User, String, Option<String>)) -> StoreResult<User> {
    user.role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?;
    user.cert_valid_until = parse_date(until)?;
    Ok(user)
}

const ENTERPRISE_COLUMNS: &str = "credit_code, name, address, industry, region_code,
    legal_representative, phone, sector, special_operations";

type EnterpriseRow = ([String; 7], Option<String>, Option<String>);

fn enterprise_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EnterpriseRow> {
    Ok((
        [
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
        ],
        row.get(7)?,
        row.get(8)?,
    ))
}

fn finish_enterprise(row: EnterpriseRow) -> StoreResult<Enterprise> {
    let (
        [
            code,
            name,
            address,
            industry,
            region_code,
            legal_representative,
            phone,
        ],
        sector,
        special,
    ) = row;
    Ok(Enterprise {
        credit_code: CreditCode::parse(&code)
            .map_err(|e| StoreError::Corrupt(format!("credit code {code:?}: {e}")))?,
        name,
        address,
        industry,
        region_code,
        legal_representative,
        phone,
        sector,
        special_operations: super::special_operations_from_column(special.as_deref())?,
    })
}

const RECORD_COLUMNS: &str = "r.id, r.doc, r.heads, r.version, r.region_code, r.enterprise_code,
    r.inspection_kind, r.kind, r.status, r.created_by_device, r.amends,
    a.idx, a.heads, a.content_hash, a.locked_at, a.previous_hash, a.entry_hash, a.signature,
    a.key_id, r.enterprise_name, r.hazard_count";

fn stored_record(tx: &Connection, row: &rusqlite::Row<'_>) -> StoreResult<StoredRecord> {
    let id: String = row.get(0)?;
    let lock = match row.get::<_, Option<i64>>(11)? {
        Some(idx) => Some(Receipt {
            record_id: id.clone(),
            heads: heads_from_text(&row.get::<_, String>(12)?),
            content_hash: row.get(13)?,
            locked_at: from_millis(row.get(14)?)?,
            log_index: idx,
            previous_hash: row.get(15)?,
            entry_hash: row.get(16)?,
            key_id: row.get(18)?,
            signature: row.get(17)?,
        }),
        None => None,
    };
    let inspector_certs = tx
        .prepare_cached("SELECT cert FROM record_inspectors WHERE record_id = ?1 ORDER BY cert")?
        .query_map([&id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(StoredRecord {
        heads: heads_from_text(&row.get::<_, String>(2)?),
        doc: row.get(1)?,
        version: row.get(3)?,
        region_code: row.get(4)?,
        enterprise_code: row.get(5)?,
        inspection_kind: row.get(6)?,
        kind: row.get(7)?,
        status: row.get(8)?,
        enterprise_name: row.get(19)?,
        hazard_count: row.get(20)?,
        created_by_device: row.get(9)?,
        amends: row.get(10)?,
        inspector_certs,
        lock,
        id,
    })
}

fn receipt_from_row(row: &rusqlite::Row<'_>) -> StoreResult<Receipt> {
    Ok(Receipt {
        log_index: row.get(0)?,
        record_id: row.get(1)?,
        heads: heads_from_text(&row.get::<_, String>(2)?),
        content_hash: row.get(3)?,
        locked_at: from_millis(row.get(4)?)?,
        previous_hash: row.get(5)?,
        entry_hash: row.get(6)?,
        signature: row.get(7)?,
        key_id: row.get(8)?,
    })
}

fn query_records(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<StoredRecord>> {
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(stored_record(tx, row)?);
    }
    Ok(out)
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn add_region(&self, region: &Region) -> StoreResult<()> {
        self.write(|tx| {
            let inserted = exec(
                tx,
                "INSERT INTO regions (code, name, parent) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code) DO NOTHING",
                params![region.code, region.name, region.parent],
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
            let mut stmt =
                tx.prepare_cached("SELECT code, name, parent FROM regions ORDER BY code")?;
            let rows = stmt.query_map([], |row| {
                Ok(Region {
                    code: row.get(0)?,
                    name: row.get(1)?,
                    parent: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn add_user(&self, user: &User) -> StoreResult<()> {
        self.write(|tx| {
            let taken: bool = row(
                tx,
                "SELECT EXISTS (SELECT 1 FROM users WHERE login = ?1)",
                [&user.login],
                |row| row.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict(format!("账号 {} 已存在", user.login)));
            }
            if let Some(cert) = &user.cert {
                let holder: Option<String> = tx
                    .query_row("SELECT login FROM users WHERE cert = ?1", [cert], |row| {
                        row.get(0)
                    })
                    .optional()?;
                if let Some(holder) = holder {
                    return Err(StoreError::Conflict(format!(
                        "执法证号 {cert} 已属于账号 {holder}"
                    )));
                }
            }
            let seq = next_seq(tx)?;
            exec(
                tx,
                "INSERT INTO users (login, name, role, scope, cert, cert_valid_until,
                     password_hash, disabled, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    user.login,
                    user.name,
                    user.role.as_str(),
                    user.scope,
                    user.cert,
                    user.cert_valid_until.map(|d| d.to_string()),
                    user.password_hash,
                    user.disabled,
                    seq
                ],
            )?;
            Ok(())
        })
    }

    fn user(&self, login: &str) -> StoreResult<Option<User>> {
        self.read(|tx| {
            tx.prepare_cached(
                "SELECT login, name, role, scope, cert, cert_valid_until, password_hash, disabled
                 FROM users WHERE login = ?1",
            )?
            .query_row([login], user_from_row)
            .optional()?
            .map(finish_user)
            .transpose()
        })
    }

    fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            let changed = exec(
                tx,
                "UPDATE users SET disabled = ?2, seq = ?3 WHERE login = ?1",
                params![login, disabled, seq],
            )?;
            Ok(changed == 1)
        })
    }

    fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT name, cert, cert_valid_until FROM users
                 WHERE cert IS NOT NULL AND disabled = 0 AND seq > ?1 ORDER BY cert",
            )?;
            let rows = stmt.query_map([seq], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (name, cert, until) = row?;
                out.push(Inspector {
                    name,
                    cert,
                    cert_valid_until: parse_date(until)?,
                });
            }
            Ok(out)
        })
    }

    fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
        self.write(|tx| {
            exec(
                tx,
                "INSERT INTO tokens (hash, kind, login, device_id, expires_at, revoked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token.hash,
                    token.kind.as_str(),
                    token.login,
                    token.device_id,
                    millis(token.expires_at),
                    token.revoked
                ],
            )?;
            Ok(())
        })
    }

    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        self.read(|tx| {
            let row = tx
                .prepare_cached(
                    "SELECT hash, kind, login, device_id, expires_at, revoked FROM tokens
                     WHERE hash = ?1",
                )?
                .query_row([hash], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, bool>(5)?,
                    ))
                })
                .optional()?;
            let Some((hash, kind, login, device_id, expires, revoked)) = row else {
                return Ok(None);
            };
            Ok(Some(TokenRow {
                hash,
                kind: TokenKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
                login,
                device_id,
                expires_at: from_millis(expires)?,
                revoked,
            }))
        })
    }

    fn revoke_token(&self, hash: &str) -> StoreResult<()> {
        self.write(|tx| {
            exec(tx, "UPDATE tokens SET revoked = 1 WHERE hash = ?1", [hash])?;
            Ok(())
        })
    }

    fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
        self.write(|tx| {
            Ok(exec(
                tx,
                "UPDATE tokens SET revoked = 1
                 WHERE login = ?1 AND (?2 IS NULL OR device_id = ?2) AND revoked = 0",
                params![login, device_id],
            )?)
        })
    }

    fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT INTO enterprises (credit_code, name, address, industry, region_code,
                         legal_representative, phone, seq, sector, special_operations)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name,
                         address = excluded.address, industry = excluded.industry,
                         region_code = excluded.region_code,
                         legal_representative = excluded.legal_representative,
                         phone = excluded.phone, seq = excluded.seq,
                         {ENTERPRISE_SCOPE_ON_UPSERT}",
            ))?;
            for e in enterprises {
                stmt.execute(params![
                    e.credit_code.as_str(),
                    e.name,
                    e.address,
                    e.industry,
                    e.region_code,
                    e.legal_representative,
                    e.phone,
                    seq,
                    e.sector,
                    e.special_operations_column()
                ])
                .map_err(|err| match err {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        StoreError::Conflict(format!(
                            "企业 {}（{}）的区划代码 {} 未登记：请先用 region add 添加",
                            e.name,
                            e.credit_code.as_str(),
                            e.region_code
                        ))
                    }
                    other => other.into(),
                })?;
            }
            Ok(enterprises.len())
        })
    }

    fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
        self.read(|tx| {
            tx.prepare_cached(&format!(
                "SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE credit_code = ?1"
            ))?
            .query_row([credit_code], enterprise_from_row)
            .optional()?
            .map(finish_enterprise)
            .transpose()
        })
    }

    fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE seq > ?1 ORDER BY credit_code"
            ))?;
            let rows = stmt.query_map([seq], enterprise_from_row)?;
            rows.map(|row| finish_enterprise(row?)).collect()
        })
    }

    fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
        self.write(|tx| {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT source FROM templates WHERE id = ?1 AND version = ?2",
                    params![template.id, template.version],
                    |row| row.get(0),
                )
                .optional()?;
            match existing {
                Some(source) if source == template.source => Ok(false),
                Some(_) => Err(StoreError::Conflict(format!(
                    "模板 {} 第 {} 版已发布且内容不同：修改检查表后必须提高 version",
                    template.id, template.version
                ))),
                None => {
                    let seq = next_seq(tx)?;
                    exec(
                        tx,
                        "INSERT INTO templates (id, version, source, seq) VALUES (?1, ?2, ?3, ?4)",
                        params![template.id, template.version, template.source, seq],
                    )?;
                    Ok(true)
                }
            }
        })
    }

    fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached("SELECT source FROM templates WHERE id = ?1 AND version = ?2")?
                .query_row(params![id, version], |row| row.get(0))
                .optional()?)
        })
    }

    fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT id, version, source FROM templates WHERE seq > ?1 ORDER BY id, version",
            )?;
            let rows = stmt.query_map([seq], |row| {
                Ok(TemplateSource {
                    id: row.get(0)?,
                    version: row.get(1)?,
                    source: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn set_agency(&self, toml: &str) -> StoreResult<()> {
        self.write(|tx| {
            let seq = next_seq(tx)?;
            exec(
                tx,
                "INSERT INTO agency (id, toml, seq) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, seq = excluded.seq",
                params![toml, seq],
            )?;
            Ok(())
        })
    }

    fn agency(&self) -> StoreResult<Option<(String, i64)>> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached("SELECT toml, seq FROM agency WHERE id = 1")?
                .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?)
        })
    }

    fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.read(|tx| {
            let mut found = query_records(
                tx,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records r
                     LEFT JOIN audit_log a ON a.record_id = r.id WHERE r.id = ?1"
                ),
                [id],
            )?;
            Ok(found.pop())
        })
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
        let current: Option<(i64, bool)> = row(
            &tx,
            "SELECT r.version, a.idx IS NOT NULL FROM records r
             LEFT JOIN audit_log a ON a.record_id = r.id WHERE r.id = ?1",
            [&commit.id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
        let expected = match (current, commit.expected_version) {
            (None, None) => None,
            (Some((version, false)), Some(expected)) if version == expected => Some(version),
            _ => return Ok(CommitOutcome::VersionConflict),
        };
        let p = &commit.projection;
        let counted_before = rollups::counted_record(&mut SqliteExec(&tx), &commit.id)?;
        let seq = next_seq(&tx)?;
        let now = millis(Utc::now());
        let heads = commit.heads.join(",");
        let values = params![
            commit.id,
            commit.doc,
            heads,
            expected.map_or(1, |v| v + 1),
            seq,
            p.kind,
            p.inspection_kind,
            p.template_id,
            p.template_version,
            p.enterprise_code,
            p.enterprise_name,
            p.region_code,
            p.industry,
            p.status,
            millis(p.started_at),
            p.submitted_at.map(millis),
            p.created_by_device,
            p.answered_count,
            p.hazards.len() as i64,
            p.amends,
            commit.uploader,
            now
        ];
        exec(
            &tx,
            "INSERT INTO records (id, doc, heads, version, seq, kind, inspection_kind,
                 template_id, template_version, enterprise_code, enterprise_name, region_code,
                 industry, status, started_at, submitted_at, created_by_device, answered_count,
                 hazard_count, amends, uploaded_by, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22)
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, heads = excluded.heads,
                 version = excluded.version, seq = excluded.seq, status = excluded.status,
                 submitted_at = excluded.submitted_at, answered_count = excluded.answered_count,
                 hazard_count = excluded.hazard_count, uploaded_by = excluded.uploaded_by,
                 updated_at = excluded.updated_at",
            values,
        )?;
        let counted_after = rollups::counted_record(&mut SqliteExec(&tx), &commit.id)?;
        rollups::record_changed(
            &mut SqliteExec(&tx),
            counted_before.as_ref(),
            counted_after.as_ref(),
        )?;
        exec(
            &tx,
            "DELETE FROM record_inspectors WHERE record_id = ?1",
            [&commit.id],
        )?;
        for cert in &p.inspector_certs {
            exec(
                &tx,
                "INSERT OR IGNORE INTO record_inspectors (record_id, cert) VALUES (?1, ?2)",
                params![commit.id, cert],
            )?;
        }
        exec(
            &tx,
            "DELETE FROM hazards WHERE record_id = ?1",
            [&commit.id],
        )?;
        for h in &p.hazards {
            exec(
                &tx,
                "INSERT INTO hazards (record_id, item, class, description, legal_basis, deadline)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    commit.id,
                    h.item,
                    h.class,
                    h.description,
                    h.legal_basis,
                    h.deadline.map(|d| d.to_string())
                ],
            )?;
        }
        if let Some(rectification) = &p.rectifies {
            for item in &rectification.items {
                // The earliest re-inspection that found it rectified is the one that counts,
                // whichever arrives first (devices sync late).
                exec(
                    &tx,
                    "INSERT INTO hazard_rectifications (record_id, item, rectified_at, rectified_by)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (record_id, item) DO UPDATE
                     SET rectified_at = excluded.rectified_at, rectified_by = excluded.rectified_by
                     WHERE excluded.rectified_at < hazard_rectifications.rectified_at",
                    params![
                        rectification.record_id,
                        item,
                        millis(rectification.at),
                        commit.id
                    ],
                )?;
            }
        }
        standings::record_committed(
            &mut SqliteExec(&tx),
            &commit.id,
            counted_before.as_ref(),
            counted_after.as_ref(),
            p.rectifies
                .as_ref()
                .map(|r| (r.record_id.as_str(), r.items.as_slice())),
        )?;
        for n in &p.documents {
            exec(
                &tx,
                "INSERT INTO numbers (agency, doc_type, year, serial, number, state, record_id,
                     device_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'issued', ?6, ?7, ?8)
                 ON CONFLICT DO NOTHING",
                params![
                    n.agency,
                    n.doc_type.as_str(),
                    n.year,
                    n.serial,
                    n.number,
                    commit.id,
                    p.created_by_device,
                    millis(n.issued_at)
                ],
            )?;
            let (state, holder): (String, Option<String>) = row(
                &tx,
                "SELECT state, record_id FROM numbers
                 WHERE agency = ?1 AND doc_type = ?2 AND year = ?3 AND serial = ?4",
                params![n.agency, n.doc_type.as_str(), n.year, n.serial],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if state != "issued" || holder.as_deref() != Some(commit.id.as_str()) {
                return Ok(CommitOutcome::NumberTaken {
                    number: n.number.clone(),
                    record_id: holder.unwrap_or_default(),
                });
            }
        }
        let receipt = match &commit.lock {
            Some(lock) => {
                let last: Option<(i64, String)> = tx
                    .query_row(
                        "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
                        [],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()?;
                let (index, previous_hash) = match last {
                    Some((idx, hash)) => (idx + 1, hash),
                    None => (1, GENESIS_HASH.to_string()),
                };
                let receipt = chained_receipt(commit, lock, index, previous_hash, signer);
                exec(
                    &tx,
                    "INSERT INTO audit_log (idx, record_id, heads, content_hash, locked_at,
                         previous_hash, entry_hash, signature, key_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        receipt.log_index,
                        receipt.record_id,
                        heads,
                        receipt.content_hash,
                        millis(receipt.locked_at),
                        receipt.previous_hash,
                        receipt.entry_hash,
                        receipt.signature,
                        receipt.key_id
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
            let inserted = exec(
                tx,
                "INSERT INTO quarantine (record_id, changes_hash, changes, uploader, device_id,
                     received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                params![
                    entry.record_id,
                    entry.changes_hash,
                    entry.changes,
                    entry.uploader,
                    entry.device_id,
                    millis(entry.received_at)
                ],
            )?;
            Ok(inserted == 1)
        })
    }

    fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT record_id, changes_hash, changes, uploader, device_id, received_at
                 FROM quarantine WHERE record_id = ?1 ORDER BY received_at, changes_hash",
            )?;
            let rows = stmt.query_map([record_id], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (record_id, changes_hash, changes, uploader, device_id, at) = row?;
                out.push(QuarantineEntry {
                    record_id,
                    changes_hash,
                    changes,
                    uploader,
                    device_id,
                    received_at: from_millis(at)?,
                });
            }
            Ok(out)
        })
    }

    fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>> {
        // EXISTS, not `id IN (SELECT …)`: SQLite built that list from every record of the
        // certificate on each sync (5 ms per sync for an inspector with 2,300 records in the
        // seeded city), where the probe reads only the records after the cursor (0.05 ms).
        self.read(|tx| {
            query_records(
                tx,
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records r
                     LEFT JOIN audit_log a ON a.record_id = r.id
                     WHERE r.seq > ?1 AND (r.created_by_device = ?2 OR EXISTS
                         (SELECT 1 FROM record_inspectors i
                          WHERE i.record_id = r.id AND i.cert = ?3))
                     ORDER BY r.seq"
                ),
                params![seq, device_id, cert],
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
        self.read(|tx| {
            let mut stmt =
                tx.prepare_cached("SELECT id FROM records WHERE amends = ?1 ORDER BY id")?;
            let rows = stmt.query_map([id], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn current_seq(&self) -> StoreResult<i64> {
        self.read(|tx| {
            Ok(row(
                tx,
                "SELECT value FROM counters WHERE name = 'seq'",
                [],
                |row| row.get(0),
            )?)
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
            let last: u32 = row(
                tx,
                "SELECT COALESCE(MAX(last), 0) FROM number_leases
                 WHERE agency = ?1 AND doc_type = ?2 AND year = ?3",
                params![agency, doc_type.as_str(), year],
                |row| row.get(0),
            )?;
            let first = last + 1;
            let last = last
                .checked_add(size)
                .filter(|l| *l <= anjian_core::numbering::MAX_SERIAL)
                .ok_or_else(|| {
                    StoreError::Conflict(format!("{}（{year} 年）的编号已用尽", doc_type.title()))
                })?;
            exec(
                tx,
                "INSERT INTO number_leases (agency, doc_type, year, first, last, device_id, login,
                     leased_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    agency,
                    doc_type.as_str(),
                    year,
                    first,
                    last,
                    device_id,
                    login,
                    millis(at)
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
            let mut stmt = tx.prepare_cached(
                "SELECT agency, doc_type, year, first, last FROM number_leases
                 WHERE device_id = ?1 AND login = ?2 ORDER BY agency, doc_type, year, first",
            )?;
            let rows = stmt.query_map([device_id, login], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (agency, kind, year, first, last) = row?;
                out.push(NumberBlock {
                    agency,
                    doc_type: doc_type(&kind)?,
                    year,
                    first,
                    last,
                });
            }
            Ok(out)
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
            Ok(tx
                .prepare_cached(
                    "SELECT device_id, login FROM number_leases
                     WHERE agency = ?1 AND doc_type = ?2 AND year = ?3 AND first <= ?4 AND ?4 <= last",
                )?
                .query_row(params![agency, doc_type.as_str(), year, serial], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?)
        })
    }

    fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
        self.write(|tx| {
            let existing: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT state, record_id FROM numbers
                     WHERE agency = ?1 AND doc_type = ?2 AND year = ?3 AND serial = ?4",
                    params![
                        entry.agency,
                        entry.doc_type.as_str(),
                        entry.year,
                        entry.serial
                    ],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            match existing {
                Some((state, _)) if state == "voided" => Ok(()),
                Some((_, record)) => Err(StoreError::Conflict(format!(
                    "编号 {} 已用于记录 {}，不能作废",
                    entry.number,
                    record.unwrap_or_default()
                ))),
                None => {
                    exec(
                        tx,
                        "INSERT INTO numbers (agency, doc_type, year, serial, number, state,
                             record_id, reason, device_id, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'voided', NULL, ?6, ?7, ?8)",
                        params![
                            entry.agency,
                            entry.doc_type.as_str(),
                            entry.year,
                            entry.serial,
                            entry.number,
                            entry.reason,
                            entry.device_id,
                            millis(entry.at)
                        ],
                    )?;
                    Ok(())
                }
            }
        })
    }

    fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT number, agency, doc_type, year, serial, state, record_id, reason,
                        device_id, at
                 FROM numbers ORDER BY agency, doc_type, year, serial",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, Option<String>>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, String>(8)?,
                    row.get::<_, i64>(9)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (number, agency, kind, year, serial, state, record_id, reason, device_id, at) =
                    row?;
                out.push(NumberRegisterEntry {
                    number,
                    agency,
                    doc_type: doc_type(&kind)?,
                    year,
                    serial,
                    state,
                    record_id,
                    reason,
                    device_id,
                    at: from_millis(at)?,
                });
            }
            Ok(out)
        })
    }

    fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT idx, record_id, heads, content_hash, locked_at, previous_hash, entry_hash,
                        signature, key_id
                 FROM audit_log ORDER BY idx",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(receipt_from_row(row)?);
            }
            Ok(out)
        })
    }
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT idx, entry_hash FROM audit_log ORDER BY idx DESC LIMIT 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?)
        })
    }

    fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
        self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT entry_hash FROM audit_log WHERE idx = ?1",
                    [index],
                    |row| row.get(0),
                )
                .optional()?)
        })
    }

    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT key_id, public_key, added_at, current FROM signing_keys
                 ORDER BY current DESC, added_at DESC",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(SigningKeyRow {
                    key_id: row.get(0)?,
                    public_key: row.get(1)?,
                    added_at: from_millis(row.get(2)?)?,
                    current: row.get::<_, i64>(3)? != 0,
                });
            }
            Ok(out)
        })
    }

    fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        self.write(|tx| {
            let known: Option<String> = tx
                .query_row(
                    "SELECT public_key FROM signing_keys WHERE key_id = ?1",
                    [&key.key_id],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(public_key) = known
                && public_key != key.public_key
            {
                return Err(StoreError::Conflict(format!(
                    "密钥编号 {} 已属于另一把公钥",
                    key.key_id
                )));
            }
            exec(tx, "UPDATE signing_keys SET current = 0", [])?;
            exec(
                tx,
                "INSERT INTO signing_keys (key_id, public_key, added_at, current)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (key_id) DO UPDATE SET current = 1",
                params![key.key_id, key.public_key, millis(key.added_at)],
            )?;
            Ok(())
        })
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
