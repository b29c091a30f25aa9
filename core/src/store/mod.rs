//! The device store: one SQLite file (WAL) under the device's home folder, plus a
//! content-addressed photo folder beside it.
//!
//! Records are kept as a compacted Automerge document plus the incremental saves appended since
//! (`record_changes`), compacted into the document every [`COMPACT_AFTER`] changes. Projection
//! columns on `records` serve listing and search without opening any document.
//!
//! Every mutation of a record runs inside one `BEGIN IMMEDIATE` transaction that loads the
//! document, changes it and writes it back, so two processes on one device never interleave
//! their changes and a failed check leaves the store exactly as it was.

mod schema;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;

use crate::agency::Agency;
use crate::enterprise::{
    CreditCode, ENTERPRISE_SCOPE_ON_UPSERT, Enterprise, parse_special_operations,
};
use crate::error::{Error, Result};
use crate::photos::PhotoStore;
use crate::record::{Inspector, Record, RecordDoc};
use crate::template::Template;
use crate::time::format_china;

pub use schema::VERSION as SCHEMA_VERSION;

/// Record documents kept open in memory, so that answering item after item on one record
/// neither reloads nor rereads it.
const OPEN_RECORDS: usize = 16;

/// Incremental saves kept before a record is compacted into one saved document.
pub const COMPACT_AFTER: i64 = 32;

const DATABASE_FILE: &str = "anjian.sqlite3";
const PHOTOS_DIR: &str = "photos";

/// The device's identity and its inspector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub device_id: String,
    pub inspector: Option<Inspector>,
    pub agency: Option<Agency>,
}

/// One line of the record list, read from projection columns only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordSummary {
    pub id: String,
    pub kind: String,
    pub inspection_kind: String,
    pub template: String,
    pub template_version: u32,
    pub enterprise: String,
    pub enterprise_name: String,
    pub place: String,
    pub status: String,
    pub started_at: String,
    pub updated_at: String,
    pub answered_count: u32,
    pub hazard_count: u32,
    pub conflict_count: u32,
}

/// What importing an exchange file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub id: String,
    /// The record was new on this device.
    pub created: bool,
    /// The import added changes this device did not have.
    pub changed: bool,
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    home: PathBuf,
    photos: PhotoStore,
    device_id: String,
    /// Open documents, each valid while its heads equal the `heads` column: another process
    /// writing the record changes the column, and the document is then loaded afresh.
    open_records: RefCell<HashMap<String, RecordDoc>>,
    /// Parsed templates; a stored (id, version) never changes.
    templates: RefCell<HashMap<(String, u32), Arc<Template>>>,
}

impl Store {
    /// Opens (creating when needed) the store in `home`, upgrades its schema, and makes sure
    /// every template shipped in this build is present.
    pub fn open(home: &Path) -> Result<Store> {
        std::fs::create_dir_all(home).map_err(|e| Error::io(home, e))?;
        let path = home.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)?;
        // WAL with synchronous=FULL: a committed answer survives a power cut, and readers
        // never block the writer.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&mut conn)?;
        let photos = PhotoStore::new(home.join(PHOTOS_DIR));
        let mut store = Store {
            conn,
            home: home.to_path_buf(),
            photos,
            device_id: String::new(),
            open_records: RefCell::default(),
            templates: RefCell::default(),
        };
        store.device_id = store.ensure_device_id()?;
        // Older versions first, so records started on them open whatever this store holds.
        for template in Template::superseded()?
            .into_iter()
            .chain(Template::builtin()?)
        {
            store.add_template(&template)?;
        }
        Ok(store)
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    fn ensure_device_id(&mut self) -> Result<String> {
        if let Some(id) = self.profile_value("device_id")? {
            return Ok(id);
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.conn.execute(
            "INSERT INTO profile (key, value) VALUES ('device_id', ?1)",
            [&id],
        )?;
        Ok(id)
    }

    fn profile_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM profile WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    // ---- profile -------------------------------------------------------------------------

    pub fn profile(&self) -> Result<Profile> {
        let inspector = match self.profile_value("inspector_cert")? {
            Some(cert) => self.inspector(&cert)?,
            None => None,
        };
        let agency = match self.profile_value("agency_toml")? {
            Some(text) => Some(Agency::parse("agency", &text)?),
            None => None,
        };
        Ok(Profile {
            device_id: self.device_id.clone(),
            inspector,
            agency,
        })
    }

    /// The inspector this device acts for, or `NotInitialized`.
    pub fn current_inspector(&self) -> Result<Inspector> {
        let cert = self
            .profile_value("inspector_cert")?
            .ok_or(Error::NotInitialized)?;
        self.inspector(&cert)?.ok_or(Error::NotInitialized)
    }

    /// Sets the device's inspector (and agency, when given). The device id never changes.
    pub fn init_profile(&mut self, inspector: &Inspector, agency: Option<&Agency>) -> Result<()> {
        check_inspector(inspector)?;
        let tx = self.conn.transaction()?;
        upsert_inspector(&tx, inspector)?;
        tx.execute(
            "INSERT INTO profile (key, value) VALUES ('inspector_cert', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&inspector.cert],
        )?;
        if let Some(agency) = agency {
            tx.execute(
                "INSERT INTO profile (key, value) VALUES ('agency_toml', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [&agency.source_text],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Keeps the agency's seal image (checked to be a usable PNG) for PDF copies; `None`
    /// removes it.
    pub fn set_agency_seal(&mut self, png: Option<&Path>) -> Result<()> {
        let Some(path) = png else {
            self.conn
                .execute("DELETE FROM profile WHERE key = 'agency_seal'", [])?;
            return Ok(());
        };
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        crate::document::seal::decode(&bytes)?;
        let hash = self.add_photo(path)?;
        self.conn.execute(
            "INSERT INTO profile (key, value) VALUES ('agency_seal', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&hash],
        )?;
        Ok(())
    }

    /// The agency's seal image, when one is configured.
    pub fn agency_seal(&self) -> Result<Option<crate::document::seal::SealImage>> {
        let Some(hash) = self.profile_value("agency_seal")? else {
            return Ok(None);
        };
        let path = self
            .photo_path(&hash)
            .ok_or_else(|| Error::InvalidInput(format!("印章图片 {hash} 已不在本机照片目录中")))?;
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        crate::document::seal::decode(&bytes).map(Some)
    }

    // ---- inspectors ----------------------------------------------------------------------

    /// Registers a colleague's certificate so that it can be named on inspections.
    pub fn add_inspector(&mut self, inspector: &Inspector) -> Result<()> {
        check_inspector(inspector)?;
        upsert_inspector(&self.conn, inspector)
    }

    pub fn inspector(&self, cert: &str) -> Result<Option<Inspector>> {
        Ok(self
            .conn
            .prepare_cached("SELECT name, cert, cert_valid_until FROM inspectors WHERE cert = ?1")?
            .query_row([cert], inspector_from_row)
            .optional()?)
    }

    pub fn inspectors(&self) -> Result<Vec<Inspector>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, cert, cert_valid_until FROM inspectors ORDER BY name, cert")?;
        let rows = stmt.query_map([], inspector_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- enterprises ---------------------------------------------------------------------

    /// Adds or updates enterprises, all or none. A register that does not say an enterprise's
    /// 细分行业 or special operations (an older register without those columns) keeps what an
    /// earlier one said; an enterprise no longer 工贸 has neither.
    pub fn import_enterprises(&mut self, enterprises: &[Enterprise]) -> Result<usize> {
        let now = format_china(Utc::now());
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(&format!(
                "INSERT INTO enterprises (credit_code, name, address, industry, region_code,
                         legal_representative, phone, updated_at, sector, special_operations)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name,
                         address = excluded.address, industry = excluded.industry,
                         region_code = excluded.region_code,
                         legal_representative = excluded.legal_representative,
                         phone = excluded.phone, updated_at = excluded.updated_at,
                         {ENTERPRISE_SCOPE_ON_UPSERT}",
            ))?;
            for e in enterprises {
                let special_operations = e.special_operations_column();
                stmt.execute(params![
                    e.credit_code.as_str(),
                    e.name,
                    e.address,
                    e.industry,
                    e.region_code,
                    e.legal_representative,
                    e.phone,
                    now,
                    e.sector,
                    special_operations
                ])?;
            }
        }
        tx.commit()?;
        Ok(enterprises.len())
    }

    pub fn enterprise(&self, code: &CreditCode) -> Result<Enterprise> {
        self.conn
            .query_row(
                &format!("{ENTERPRISE_SELECT} WHERE credit_code = ?1"),
                [code.as_str()],
                enterprise_from_row,
            )
            .optional()?
            .ok_or_else(|| Error::UnknownEnterprise(code.to_string()))
    }

    /// Enterprises whose name, address or code contains `search` (all when `None`).
    pub fn enterprises(&self, search: Option<&str>) -> Result<Vec<Enterprise>> {
        let pattern = format!(
            "%{}%",
            search
                .unwrap_or("")
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let mut stmt = self.conn.prepare(&format!(
            "{ENTERPRISE_SELECT} WHERE name LIKE ?1 ESCAPE '\\' OR address LIKE ?1 ESCAPE '\\'
                 OR credit_code LIKE ?1 ESCAPE '\\'
             ORDER BY region_code, name"
        ))?;
        let rows = stmt.query_map([pattern], enterprise_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- templates -----------------------------------------------------------------------

    /// Stores a template version. Adding the same version again is a no-op; a different text
    /// under an existing version is refused, since records point at (id, version).
    pub fn add_template(&mut self, template: &Template) -> Result<bool> {
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT source FROM templates WHERE id = ?1 AND version = ?2",
                params![template.id, template.version],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(source) if source == template.source_text => Ok(false),
            Some(_) => Err(Error::TemplateVersionReused {
                id: template.id.clone(),
                version: template.version,
            }),
            None => {
                self.conn.execute(
                    "INSERT INTO templates (id, version, title, industry, kind, source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        template.id,
                        template.version,
                        template.title,
                        template.industry,
                        template.kind.as_str(),
                        template.source_text
                    ],
                )?;
                Ok(true)
            }
        }
    }

    /// A template at a given version, or its newest version.
    pub fn template(&self, id: &str, version: Option<u32>) -> Result<Arc<Template>> {
        let unknown = || {
            Error::UnknownTemplate(match version {
                Some(v) => format!("{id} 第 {v} 版"),
                None => id.to_string(),
            })
        };
        let version = match version {
            Some(version) => version,
            None => self
                .conn
                .query_row(
                    "SELECT MAX(version) FROM templates WHERE id = ?1",
                    [id],
                    |row| row.get::<_, Option<u32>>(0),
                )?
                .ok_or_else(unknown)?,
        };
        let key = (id.to_string(), version);
        if let Some(template) = self.templates.borrow().get(&key) {
            return Ok(Arc::clone(template));
        }
        let source: String = self
            .conn
            .query_row(
                "SELECT source FROM templates WHERE id = ?1 AND version = ?2",
                params![id, version],
                |row| row.get(0),
            )
            .optional()?
            .ok_or_else(unknown)?;
        let template = Arc::new(Template::parse(&format!("{id} 第 {version} 版"), &source)?);
        self.templates
            .borrow_mut()
            .insert(key, Arc::clone(&template));
        Ok(template)
    }

    /// The newest version of every template.
    pub fn latest_templates(&self) -> Result<Vec<Arc<Template>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, MAX(version) FROM templates GROUP BY id ORDER BY MIN(kind), id")?;
        let latest = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        latest
            .into_iter()
            .map(|(id, version)| self.template(&id, Some(version)))
            .collect()
    }

    // ---- photos --------------------------------------------------------------------------

    /// Copies a photo into the content-addressed folder and returns its SHA-256.
    pub fn add_photo(&mut self, path: &Path) -> Result<String> {
        let (hash, bytes) = self.photos.put_file(path)?;
        self.conn.execute(
            "INSERT INTO photos (sha256, bytes, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (sha256) DO NOTHING",
            params![hash, bytes as i64, format_china(Utc::now())],
        )?;
        Ok(hash)
    }

    pub fn photo_path(&self, sha256: &str) -> Option<PathBuf> {
        self.photos.path_of(sha256)
    }

    // ---- records -------------------------------------------------------------------------

    /// Stores a newly created record document.
    pub fn insert_record(&mut self, doc: &mut RecordDoc) -> Result<Record> {
        let record = doc.read()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO records (id, kind, inspection_kind, template_id, template_version,
                 enterprise_code, enterprise_name, place, status, started_at, updated_at,
                 answered_count, hazard_count, conflict_count, heads, doc, amends)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                record.id,
                record.kind.as_str(),
                record.inspection_kind.as_str(),
                record.template_id,
                record.template_version,
                record.enterprise.credit_code.as_str(),
                record.enterprise.name,
                record.place,
                record.status.as_str(),
                format_china(record.started_at),
                format_china(Utc::now()),
                record.answers.len() as i64,
                record.hazards.len() as i64,
                record.conflicts.len() as i64,
                record.heads.join(","),
                doc.save(),
                record.amends.as_ref().map(|a| a.record_id.as_str()),
            ],
        )?;
        tx.commit()?;
        Ok(record)
    }

    pub fn record_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM records WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Loads a record's document.
    pub fn load_record(&self, id: &str) -> Result<RecordDoc> {
        load_doc(&self.conn, id, &self.device_id)
    }

    /// Reads a record.
    pub fn record(&self, id: &str) -> Result<Record> {
        let mut doc = self.open_record(&self.conn, id)?;
        let record = doc.read()?;
        self.keep_open(doc);
        Ok(record)
    }

    /// The record's document: the one kept open when it is still current, else loaded.
    fn open_record(&self, conn: &Connection, id: &str) -> Result<RecordDoc> {
        let heads: String = conn
            .prepare_cached("SELECT heads FROM records WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?
            .ok_or_else(|| Error::UnknownRecord(id.to_string()))?;
        if let Some(mut doc) = self.open_records.borrow_mut().remove(id)
            && doc.read()?.heads.join(",") == heads
        {
            return Ok(doc);
        }
        load_doc(conn, id, &self.device_id)
    }

    fn keep_open(&self, doc: RecordDoc) {
        let mut open = self.open_records.borrow_mut();
        if open.len() >= OPEN_RECORDS {
            open.clear();
        }
        open.insert(doc.id().to_string(), doc);
    }

    /// Changes a record in one transaction: `change` gets the document and the record as read
    /// before the change; when it returns `Ok` the new changes are appended and the projection
    /// updated, when it returns `Err` nothing is written.
    pub fn update_record<T>(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut RecordDoc, &Record) -> Result<T>,
    ) -> Result<T> {
        self.update_record_with(id, |doc, before, _| change(doc, before))
    }

    /// [`Store::update_record`], with the transaction's connection for the closure to write
    /// other rows (such as an issued number) that must commit with the record change.
    pub(crate) fn update_record_with<T>(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut RecordDoc, &Record, &Connection) -> Result<T>,
    ) -> Result<T> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        // On any error below the document is dropped, not kept open: it may hold the change
        // that the rolled-back transaction did not store.
        let mut doc = self.open_record(&tx, id)?;
        let before = doc.read()?;
        let heads_before = doc.heads();
        let result = change(&mut doc, &before, &tx)?;
        if doc.heads() != heads_before {
            let after = doc.read()?;
            write_changes(&tx, &mut doc, &heads_before, &after)?;
        }
        tx.commit()?;
        self.keep_open(doc);
        Ok(result)
    }

    /// Every record, newest first, from the projection columns.
    pub fn list_records(&self) -> Result<Vec<RecordSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, inspection_kind, template_id, template_version, enterprise_code,
                    enterprise_name, place, status, started_at, updated_at, answered_count,
                    hazard_count, conflict_count
             FROM records ORDER BY started_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(RecordSummary {
                id: row.get(0)?,
                kind: row.get(1)?,
                inspection_kind: row.get(2)?,
                template: row.get(3)?,
                template_version: row.get(4)?,
                enterprise: row.get(5)?,
                enterprise_name: row.get(6)?,
                place: row.get(7)?,
                status: row.get(8)?,
                started_at: row.get(9)?,
                updated_at: row.get(10)?,
                answered_count: row.get(11)?,
                hazard_count: row.get(12)?,
                conflict_count: row.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The exchange file of a record: its whole document, for another device to merge.
    pub fn export_record(&self, id: &str) -> Result<Vec<u8>> {
        let mut doc = self.load_record(id)?;
        Ok(crate::exchange::encode(id, &doc.save()))
    }

    /// Merges an exchange file into this device's copy of the record (or stores it as a new
    /// record). The file is checked whole before anything is written; importing a file whose
    /// changes are all known already changes nothing.
    pub fn import_record(&mut self, file_label: &str, bytes: &[u8]) -> Result<ImportOutcome> {
        let (id, payload) = crate::exchange::decode(file_label, bytes)?;
        let corrupt = |problem: String| Error::CorruptExport {
            file: file_label.to_string(),
            problem,
        };
        let mut incoming = RecordDoc::load_foreign(&payload, &self.device_id)
            .map_err(|e| corrupt(e.to_string()))?;
        if incoming.id() != id {
            return Err(corrupt(format!(
                "文件头记录编号 {id} 与文档中的 {} 不符",
                incoming.id()
            )));
        }
        let record = incoming.read()?;
        self.template(&record.template_id, Some(record.template_version))?;
        if let Some(problem) = crate::text::record_text_problems(&record).first() {
            return Err(Error::InvalidInput(format!(
                "交换文件 {file_label} 中的记录：{problem}"
            )));
        }

        if !self.record_exists(&id)? {
            self.insert_record(&mut incoming)?;
            return Ok(ImportOutcome {
                id,
                created: true,
                changed: true,
            });
        }
        let changed = self.update_record(&id, |doc, before| {
            let heads_before = doc.heads();
            doc.merge(&mut incoming)?;
            let changed = doc.heads() != heads_before;
            if changed && before.status == crate::record::Status::Submitted {
                return Err(Error::RecordSubmitted(id.clone()));
            }
            Ok(changed)
        })?;
        Ok(ImportOutcome {
            id,
            created: false,
            changed,
        })
    }
}

const ENTERPRISE_SELECT: &str = "SELECT credit_code, name, address, industry, region_code,
    legal_representative, phone, sector, special_operations FROM enterprises";

fn enterprise_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Enterprise> {
    let code: String = row.get(0)?;
    let credit_code = CreditCode::parse(&code).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Enterprise {
        credit_code,
        name: row.get(1)?,
        address: row.get(2)?,
        industry: row.get(3)?,
        region_code: row.get(4)?,
        legal_representative: row.get(5)?,
        phone: row.get(6)?,
        sector: row.get(7)?,
        special_operations: match row.get::<_, Option<String>>(8)? {
            Some(cell) => parse_special_operations(&cell).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, e.into())
            })?,
            None => None,
        },
    })
}

fn inspector_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Inspector> {
    let until: Option<String> = row.get(2)?;
    let cert_valid_until = match until {
        Some(text) => Some(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?),
        None => None,
    };
    Ok(Inspector {
        name: row.get(0)?,
        cert: row.get(1)?,
        cert_valid_until,
    })
}

fn check_inspector(inspector: &Inspector) -> Result<()> {
    if inspector.name.trim().is_empty() {
        return Err(Error::InvalidInput("执法人员姓名为空".into()));
    }
    crate::text::check_text("执法人员姓名", &inspector.name, crate::text::Lines::One)?;
    let cert = &inspector.cert;
    if cert.trim().is_empty() || cert.len() > 40 || cert.chars().any(char::is_whitespace) {
        return Err(Error::InvalidInput(format!("执法证号 {cert:?} 无效")));
    }
    Ok(())
}

fn upsert_inspector(conn: &Connection, inspector: &Inspector) -> Result<()> {
    conn.execute(
        "INSERT INTO inspectors (cert, name, cert_valid_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (cert) DO UPDATE SET name = excluded.name,
             cert_valid_until = excluded.cert_valid_until",
        params![
            inspector.cert,
            inspector.name,
            inspector.cert_valid_until.map(|d| d.to_string())
        ],
    )?;
    Ok(())
}

fn load_doc(conn: &Connection, id: &str, device_id: &str) -> Result<RecordDoc> {
    let saved: Vec<u8> = conn
        .query_row("SELECT doc FROM records WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?
        .ok_or_else(|| Error::UnknownRecord(id.to_string()))?;
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM record_changes WHERE record_id = ?1 ORDER BY seq")?;
    let increments = stmt
        .query_map([id], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<Vec<u8>>>>()?;
    RecordDoc::load(id, &saved, &increments, device_id)
}

/// Appends the changes since `heads_before` and refreshes the projection; compacts the record
/// when its change log has grown past [`COMPACT_AFTER`].
fn write_changes(
    conn: &Connection,
    doc: &mut RecordDoc,
    heads_before: &[automerge::ChangeHash],
    after: &Record,
) -> Result<()> {
    let id = doc.id().to_string();
    let pending: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM record_changes WHERE record_id = ?1")?
        .query_row([&id], |row| row.get(0))?;
    if pending + 1 >= COMPACT_AFTER {
        conn.execute(
            "UPDATE records SET doc = ?2 WHERE id = ?1",
            params![id, doc.save()],
        )?;
        conn.execute("DELETE FROM record_changes WHERE record_id = ?1", [&id])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO record_changes (record_id, seq, bytes)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM record_changes WHERE record_id = ?1), ?2)",
        )?
        .execute(params![id, doc.save_after(heads_before)])?;
    }
    conn.prepare_cached(
        "UPDATE records SET status = ?2, place = ?3, updated_at = ?4, answered_count = ?5,
             hazard_count = ?6, conflict_count = ?7, heads = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        after.status.as_str(),
        after.place,
        format_china(Utc::now()),
        after.answers.len() as i64,
        after.hazards.len() as i64,
        after.conflicts.len() as i64,
        after.heads.join(",")
    ])?;
    Ok(())
}
