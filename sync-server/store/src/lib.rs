//! anjian-store: the sync server's storage, one [`Store`] over two backends — SQLite
//! ([`sqlite`], the embedded default) and PostgreSQL ([`postgres`], for several server
//! instances) — run through one conformance suite (`sync-server/tests/integration/store.rs`).
//! A crate of its own so that storage cannot import the server's HTTP or rules: the server
//! `pub use`s it as `anjian_server::store`.
//!
//! The store is synchronous: handlers call it from blocking tasks, where the Automerge work of
//! an upload runs too. A record is written with optimistic concurrency: the caller reads it,
//! applies and validates the upload on a copy, and commits naming the version it read; a
//! commit that lost a race is answered [`CommitOutcome::VersionConflict`] and redone.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use anjian_core::agency::DocType;
use anjian_core::sync::protocol::Role;
use anjian_core::sync::receipt::Receipt;

mod accounts;
mod audit;
mod commit;
mod conditions;
mod db;
mod enterprises;
mod exec;
pub mod iot;
mod listing;
mod methods;
pub mod migrations;
mod numbers;
pub mod postgres;
mod records;
pub mod reference;
pub mod rollups;
pub mod sqlite;
pub mod standings;
mod templates;

pub use db::{Db, Store};
pub use reference::{
    Attendance, AttendanceSource, DatedPage, DutyLeader, EmergencyPlan, EnterpriseArchive,
    HandlingStatus, HazardLevel, HazardSource, HealthDeclaration, HotWorkLevel, HotlineCategory,
    HotlineReport, ImportKind, ImportSummary, MailboxKind, MailboxMessage, Permit, PermitType,
    ReferenceBatch, Shift, StaffCertificate, StaffRole, WorkPermit, WorkType,
};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("database: {0}")]
    Database(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

impl From<::postgres::Error> for StoreError {
    fn from(e: ::postgres::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// An administrative division: city → district → town.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub scope: String,
    pub cert: Option<String>,
    pub cert_valid_until: Option<NaiveDate>,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// The API's bearer token: 15 minutes.
    Access,
    Refresh,
    /// The review pages' session cookie: a working day, and never accepted by the API.
    Review,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Review => "review",
        }
    }

    pub fn parse(text: &str) -> Option<TokenKind> {
        match text {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            "review" => Some(TokenKind::Review),
            _ => None,
        }
    }
}

/// A token as stored: only its SHA-256, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub hash: String,
    pub kind: TokenKind,
    pub login: String,
    pub device_id: String,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// A record as stored, with its lock when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: String,
    pub doc: Vec<u8>,
    pub heads: Vec<String>,
    /// Bumped by every commit; the optimistic-concurrency check.
    pub version: i64,
    pub region_code: String,
    pub enterprise_code: String,
    pub inspection_kind: String,
    pub kind: String,
    pub status: String,
    /// What the record list shows: the enterprise's name and the hazard count (projection
    /// columns, which `verify-log` holds against a locked document).
    pub enterprise_name: String,
    pub hazard_count: i64,
    pub created_by_device: String,
    pub amends: Option<String>,
    pub inspector_certs: Vec<String>,
    pub lock: Option<Receipt>,
}

/// The rows the analyses read, derived from the record at commit.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordProjection {
    pub kind: String,
    pub inspection_kind: String,
    pub template_id: String,
    pub template_version: u32,
    pub enterprise_code: String,
    pub enterprise_name: String,
    pub region_code: String,
    pub industry: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub created_by_device: String,
    pub answered_count: i64,
    pub amends: Option<String>,
    pub inspector_certs: Vec<String>,
    pub hazards: Vec<HazardRow>,
    pub documents: Vec<IssuedNumber>,
    /// A submitted re-inspection: the hazards of the record it follows up that it found
    /// rectified.
    pub rectifies: Option<Rectification>,
}

/// Hazards of a record found rectified by a submitted re-inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rectification {
    /// The re-inspected record.
    pub record_id: String,
    /// Its items answered rectified.
    pub items: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A hazard of a submitted inspection with where it stands: the hazard tracking rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HazardStatusRow {
    pub record_id: String,
    pub item: String,
    pub description: String,
    pub class: String,
    pub deadline: Option<NaiveDate>,
    pub enterprise_code: String,
    pub enterprise_name: String,
    pub region_code: String,
    pub inspection_kind: String,
    pub found_at: DateTime<Utc>,
    pub rectified_at: Option<DateTime<Utc>>,
}

/// Hazard tracking's count for one enterprise or region: hazards found, rectified, and of
/// those still open, overdue and due soon as of the day asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HazardTally {
    /// The enterprise's credit code or the region's code.
    pub code: String,
    /// The enterprise's latest name; for a region, its code.
    pub name: String,
    pub found: i64,
    pub rectified: i64,
    pub overdue: i64,
    pub due_soon: i64,
}

/// An enterprise of the register as a list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseName {
    pub credit_code: String,
    pub name: String,
    pub region_code: String,
}

/// A page of hazard tracking's summary, with what the whole of it adds up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HazardTallies {
    /// The page asked for, most overdue first, then by code.
    pub page: Vec<HazardTally>,
    /// How many enterprises or regions in scope have a tally.
    pub groups: usize,
    /// Every tally in scope added up (its code and name are empty).
    pub sum: HazardTally,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HazardRow {
    pub item: String,
    pub class: String,
    pub description: String,
    pub legal_basis: String,
    pub deadline: Option<NaiveDate>,
}

/// A document number a record carries, for the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedNumber {
    pub number: String,
    pub agency: String,
    pub doc_type: DocType,
    pub year: i32,
    pub serial: u32,
    pub issued_at: DateTime<Utc>,
}

/// Lock the record at its new heads, appending to the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockRequest {
    pub content_hash: String,
    pub locked_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RecordCommit {
    pub id: String,
    pub doc: Vec<u8>,
    pub heads: Vec<String>,
    /// The version read before the upload was applied; `None` for a new record.
    pub expected_version: Option<i64>,
    pub projection: RecordProjection,
    pub uploader: String,
    pub device_id: String,
    pub lock: Option<LockRequest>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    Committed {
        receipt: Option<Receipt>,
    },
    /// Someone committed the record since it was read.
    VersionConflict,
    /// A number the record carries is registered to another record.
    NumberTaken {
        number: String,
        record_id: String,
    },
}

/// Late changes to a locked record, kept with who sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    pub record_id: String,
    /// SHA-256 of `changes`: the same late changes are kept once.
    pub changes_hash: String,
    #[serde(skip)]
    pub changes: Vec<u8>,
    pub uploader: String,
    pub device_id: String,
    pub received_at: DateTime<Utc>,
}

/// One line of a record list, from projection columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    pub id: String,
    pub kind: String,
    pub inspection_kind: String,
    pub enterprise_code: String,
    pub enterprise_name: String,
    pub region_code: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub locked: bool,
    pub hazard_count: i64,
}

/// A hazard in an enterprise's history, with the inspection that found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseHazard {
    pub record_id: String,
    pub item: String,
    pub class: String,
    pub description: String,
    pub legal_basis: String,
    pub deadline: Option<NaiveDate>,
    pub inspection_kind: String,
    pub found_at: DateTime<Utc>,
}

/// Hazards found in one China month (`YYYY-MM`) in one region, industry and inspection kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HazardCount {
    pub month: String,
    pub region_code: String,
    pub industry: String,
    pub inspection_kind: String,
    pub count: i64,
}

/// A submitted inspection: whose, which kind, which period it covers (when it started), when
/// it was submitted and how many hazards it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmittedInspection {
    pub enterprise_code: String,
    pub inspection_kind: String,
    pub started_at: DateTime<Utc>,
    pub submitted_at: DateTime<Utc>,
    pub hazard_count: i64,
}

/// Submitted inspections started in one China month (`YYYY-MM`) in one region, industry and
/// inspection kind: how many, how many found no hazard, how many hazards they found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaCount {
    pub month: String,
    pub region_code: String,
    pub industry: String,
    pub inspection_kind: String,
    pub inspections: i64,
    pub passed: i64,
    pub hazards: i64,
}

/// Which of month, region and industry an [`AreaCount`] keeps apart (the inspection kind
/// always is); the others are summed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaGrouping {
    pub month: bool,
    pub region: bool,
    pub industry: bool,
}

impl AreaGrouping {
    pub const ALL: AreaGrouping = AreaGrouping {
        month: true,
        region: true,
        industry: true,
    };
}

/// What one enterprise's submitted inspections (those recorded in one region) show over a
/// period of whole China days, read from its inspection history: which kinds had an
/// inspection start in it, the days a resident inspector's weekly report started, and per
/// calendar month the period touches, the first submission of a self-inspection started in
/// that month. See [`Store::enterprise_activity`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseActivity {
    pub enterprise_code: String,
    pub region_code: String,
    /// Per kind, in [`EnterpriseActivity::KINDS`] order: an inspection of it started within
    /// the period.
    started: [bool; 4],
    /// Days within the period on which a resident inspector's weekly report started, in order.
    pub resident_days: Vec<NaiveDate>,
    /// Per month of the period, first to last: the first submission of a self-inspection
    /// started in it. Empty when no self-inspection started in the period was submitted.
    pub self_first_submitted: Vec<Option<NaiveDate>>,
}

impl EnterpriseActivity {
    /// The kinds a history keeps, in the order of [`EnterpriseActivity::started`]. A kind's
    /// place here is its code in every stored history (`rollups::encode_history`): add new
    /// kinds at the end, never reorder.
    pub const KINDS: [anjian_core::template::InspectionKind; 4] = [
        anjian_core::template::InspectionKind::Enforcement,
        anjian_core::template::InspectionKind::Expert,
        anjian_core::template::InspectionKind::Resident,
        anjian_core::template::InspectionKind::SelfInspection,
    ];

    /// Nothing started in the period.
    pub fn new(enterprise_code: &str, region_code: &str) -> EnterpriseActivity {
        EnterpriseActivity {
            enterprise_code: enterprise_code.to_string(),
            region_code: region_code.to_string(),
            started: [false; 4],
            resident_days: Vec::new(),
            self_first_submitted: Vec::new(),
        }
    }

    fn kind_index(kind: anjian_core::template::InspectionKind) -> usize {
        EnterpriseActivity::KINDS
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0)
    }

    /// Whether an inspection of `kind` started within the period.
    pub fn started(&self, kind: anjian_core::template::InspectionKind) -> bool {
        self.started[EnterpriseActivity::kind_index(kind)]
    }

    pub(crate) fn mark_started(&mut self, kind: anjian_core::template::InspectionKind) {
        self.started[EnterpriseActivity::kind_index(kind)] = true;
    }

    /// Records the first submission of a self-inspection started in the period's month
    /// `index` of `months` (an earlier one already there stays).
    pub fn submitted_self(&mut self, index: usize, months: usize, day: NaiveDate) {
        if self.self_first_submitted.is_empty() {
            self.self_first_submitted = vec![None; months];
        }
        if let Some(slot) = self.self_first_submitted.get_mut(index) {
            *slot = Some(slot.map_or(day, |earliest| earliest.min(day)));
        }
    }
}

/// Duty-leader shifts due in one month in one industry and region, and those the leader
/// attended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttendanceCount {
    pub month: String,
    pub industry: String,
    pub region_code: String,
    pub shifts: i64,
    pub present: i64,
}

/// Staff certificates of one role on a day: still valid beyond the expiring window, valid
/// but expiring within it, expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateCount {
    /// The role's label (主要负责人, 安全管理人员, 特种作业人员).
    pub role: String,
    pub valid: i64,
    pub expiring: i64,
    pub expired: i64,
}

/// A permit with its enterprise's industry and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermitRow {
    pub credit_code: String,
    pub permit_type: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub industry: String,
    pub region_code: String,
}

/// Where a record stands, for filtering a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    Draft,
    /// Submitted and not (yet) locked.
    Submitted,
    Locked,
}

impl RecordState {
    pub fn parse(text: &str) -> Option<RecordState> {
        match text {
            "draft" => Some(RecordState::Draft),
            "submitted" => Some(RecordState::Submitted),
            "locked" => Some(RecordState::Locked),
            _ => None,
        }
    }
}

/// Which of the records in scope a list shows; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Started at or after this instant.
    pub started_from: Option<DateTime<Utc>>,
    /// Started before this instant.
    pub started_before: Option<DateTime<Utc>>,
    /// The record's region is one of these (a region and its descendants, resolved by the
    /// caller from the region tree).
    pub regions: Option<Vec<String>>,
    pub industry: Option<String>,
    /// Any of these inspection kinds; empty for every kind.
    pub inspection_kinds: Vec<String>,
    pub state: Option<RecordState>,
    /// A credit code, or part of the enterprise's name.
    pub enterprise: Option<String>,
    pub with_hazards: bool,
}

/// Which records a list may show: the regions of the caller's scope, or one enterprise's
/// records of some inspection kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordScope {
    All,
    Regions(Vec<String>),
    Enterprise {
        credit_code: String,
        inspection_kinds: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberRegisterEntry {
    pub number: String,
    pub agency: String,
    pub doc_type: DocType,
    pub year: i32,
    pub serial: u32,
    /// `issued` or `voided`.
    pub state: String,
    pub record_id: Option<String>,
    pub reason: Option<String>,
    pub device_id: String,
    pub at: DateTime<Utc>,
}

// Column conversions both backends share: instants as milliseconds, heads as comma-joined
// text, dates as YYYY-MM-DD.

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
}

fn parse_date(text: Option<String>) -> StoreResult<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("date {t:?}")))
    })
    .transpose()
}

/// An enterprise's special operations as both stores keep them: the register's cell, NULL
/// when the register does not say.
fn special_operations_from_column(cell: Option<&str>) -> StoreResult<Option<Vec<String>>> {
    match cell {
        None => Ok(None),
        Some(cell) => anjian_core::enterprise::parse_special_operations(cell)
            .map_err(|e| StoreError::Corrupt(format!("special operations {cell:?}: {e}"))),
    }
}

fn doc_type(text: &str) -> StoreResult<DocType> {
    DocType::parse(text).ok_or_else(|| StoreError::Corrupt(format!("document type {text:?}")))
}

/// Signs receipts. The store writes the key's id into the receipt (and its audit entry) before
/// the receipt is signed. A plain function signs without naming a key, as before key ids.
pub trait ReceiptSigner {
    fn key_id(&self) -> Option<&str>;
    /// Hex Ed25519 signature of `bytes`.
    fn sign(&self, bytes: &[u8]) -> String;
}

impl<F: Fn(&[u8]) -> String> ReceiptSigner for F {
    fn key_id(&self) -> Option<&str> {
        None
    }

    fn sign(&self, bytes: &[u8]) -> String {
        self(bytes)
    }
}

/// One of the server's signing keys as the database remembers it: the public half only (the
/// secret stays in the key file). The current key signs; the others verify older receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningKeyRow {
    pub key_id: String,
    pub public_key: String,
    pub added_at: DateTime<Utc>,
    pub current: bool,
}

/// The receipt of a lock that takes position `index` in the audit chain after the entry whose
/// hash is `previous_hash`, signed.
fn chained_receipt(
    commit: &RecordCommit,
    lock: &LockRequest,
    index: i64,
    previous_hash: String,
    signer: &dyn ReceiptSigner,
) -> Receipt {
    let mut receipt = Receipt {
        record_id: commit.id.clone(),
        heads: commit.heads.clone(),
        content_hash: lock.content_hash.clone(),
        locked_at: lock.locked_at,
        log_index: index,
        entry_hash: anjian_core::sync::receipt::entry_hash(
            &previous_hash,
            &commit.id,
            &commit.heads,
            &lock.content_hash,
            lock.locked_at,
        ),
        previous_hash,
        key_id: signer.key_id().map(str::to_string),
        signature: String::new(),
    };
    receipt.signature = signer.sign(&receipt.signed_bytes());
    receipt
}
