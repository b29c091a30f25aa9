//! The server's storage: one trait, two backends — SQLite ([`sqlite`], the embedded default)
//! and PostgreSQL ([`postgres`], for several server instances) — run through one conformance
//! suite (`tests/integration/store.rs`).
//!
//! The trait is synchronous: handlers call it from blocking tasks, where the Automerge work of
//! an upload runs too. A record is written with optimistic concurrency: the caller reads it,
//! applies and validates the upload on a copy, and commits naming the version it read; a
//! commit that lost a race is answered [`CommitOutcome::VersionConflict`] and redone.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use anjian_core::agency::DocType;
use anjian_core::enterprise::Enterprise;
use anjian_core::record::Inspector;
use anjian_core::sync::protocol::{NumberBlock, Role, TemplateSource};
use anjian_core::sync::receipt::Receipt;

#[macro_use]
mod methods;

mod accounts;
mod audit;
mod commit;
mod enterprises;
pub mod iot;
mod listing;
pub mod migrations;
mod numbers;
pub mod postgres;
mod records;
pub mod reference;
pub mod rollups;
pub mod sqlite;
pub mod standings;
mod templates;

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
    pub(crate) fn submitted_self(&mut self, index: usize, months: usize, day: NaiveDate) {
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

pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgresql`.
    fn backend(&self) -> &'static str;

    // ---- regions, users, tokens -------------------------------------------------------------
    fn add_region(&self, region: &Region) -> StoreResult<()>;
    fn regions(&self) -> StoreResult<Vec<Region>>;
    /// Adds a user; a login already taken is a `Conflict`.
    fn add_user(&self, user: &User) -> StoreResult<()>;
    fn user(&self, login: &str) -> StoreResult<Option<User>>;
    /// Returns false when there is no such user.
    fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool>;
    /// Names and certificates of users holding one, changed after `seq`.
    fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>>;
    fn insert_token(&self, token: &TokenRow) -> StoreResult<()>;
    fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>>;
    fn revoke_token(&self, hash: &str) -> StoreResult<()>;
    /// Revokes a user's tokens, those of one device only when given; returns how many.
    fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize>;

    // ---- reference data ---------------------------------------------------------------------
    /// Adds or updates enterprises, all or none.
    fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize>;
    fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>>;
    fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>>;
    /// Publishes a template version; false when the same text is already published, a
    /// `Conflict` when the version exists with other text.
    fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool>;
    fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>>;
    fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>>;
    fn set_agency(&self, toml: &str) -> StoreResult<()>;
    /// The agency configuration and the sequence number of its last change.
    fn agency(&self) -> StoreResult<Option<(String, i64)>>;

    // ---- records ----------------------------------------------------------------------------
    fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>>;
    /// Writes a record with its projection rows, its numbers and, when asked, its lock and
    /// audit entry, all in one transaction. `signer` names its key in and signs the receipt.
    fn commit_record(
        &self,
        commit: &RecordCommit,
        signer: &dyn ReceiptSigner,
    ) -> StoreResult<CommitOutcome>;
    /// Keeps late changes; false when the same changes are kept already.
    fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool>;
    fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>>;
    /// Records changed after `seq` that a device follows: those it created and those naming
    /// the certificate among their inspectors.
    fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>>;
    /// Records in scope matching the filter, newest first; a negative limit means all.
    fn list_records(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecordRow>>;
    fn amendments_of(&self, id: &str) -> StoreResult<Vec<String>>;
    /// Hazards of submitted records in scope matching the filter (its dates, regions,
    /// industry and kinds), counted per month, region, industry and kind.
    fn hazard_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<HazardCount>>;
    /// Submitted inspections in scope started within the filter's dates (whole China days),
    /// of its regions, industry and kinds, counted per kind and what `grouping` keeps.
    /// Read from the rollups ([`rollups`]), not the records.
    fn area_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        grouping: AreaGrouping,
    ) -> StoreResult<Vec<AreaCount>>;
    /// Per enterprise in scope and region it was inspected in: what its submitted
    /// inspections show over the China days `from..=until`, from the inspection histories (an
    /// enterprise's scope sees only its kinds).
    fn enterprise_activity(
        &self,
        scope: &RecordScope,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<EnterpriseActivity>>;
    /// A page of hazard tracking's counts per enterprise or region in scope, most overdue
    /// first: open hazards overdue on `today` or due by `soon`. A `limit` below 0 pages all.
    fn hazard_tallies(
        &self,
        scope: &RecordScope,
        level: standings::TallyLevel,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<HazardTallies>;
    /// A page of the hazards in scope not yet rectified (of one standing, or all), by
    /// deadline: overdue first, undated last.
    fn open_hazards(
        &self,
        scope: &RecordScope,
        standing: Option<standings::OpenStanding>,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>>;
    /// A page of the rectified hazards in scope, the latest rectification first.
    fn rectified_hazards(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>>;
    /// Recounts the rollups and hazard tracking's tables from the records.
    fn rebuild_rollups(&self) -> StoreResult<rollups::RollupSummary>;
    /// Whether the rollups and hazard tracking's tables hold what a rebuild would write now.
    fn rollups_agree(&self) -> StoreResult<bool>;
    /// Submitted inspections in scope started within the filter's dates, of its kinds and
    /// regions, by enterprise and start.
    fn submitted_inspections(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<SubmittedInspection>>;
    /// Duty-leader attendance in scope, per industry and region and, when `monthly`, per
    /// month (else month ""), between two dates (inclusive).
    fn attendance_counts(
        &self,
        scope: &RecordScope,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
        monthly: bool,
    ) -> StoreResult<Vec<AttendanceCount>>;
    /// The credit code and region of every registered enterprise in scope, in code order,
    /// and whether it declared occupational-health hazards for a year of `declared_in`
    /// (never when none given).
    fn enterprise_regions(
        &self,
        scope: &RecordScope,
        declared_in: Option<std::ops::RangeInclusive<i32>>,
    ) -> StoreResult<Vec<(String, String, bool)>>;
    /// The credit code, name and region of every registered enterprise in scope, in code
    /// order.
    fn enterprise_names(&self, scope: &RecordScope) -> StoreResult<Vec<EnterpriseName>>;
    /// For each enterprise in scope and permit type it holds: the newest permit's last day.
    fn permit_ends(&self, scope: &RecordScope) -> StoreResult<Vec<(String, String, NaiveDate)>>;
    /// Every staff certificate of the enterprises in scope.
    /// The staff certificates of the enterprises in scope per role, on `on`: valid beyond
    /// `expiring_through`, valid through it, expired (valid until before `on`).
    fn certificate_counts(
        &self,
        scope: &RecordScope,
        on: NaiveDate,
        expiring_through: NaiveDate,
    ) -> StoreResult<Vec<CertificateCount>>;
    /// Every permit of the enterprises in scope, oldest first per enterprise and type.
    fn permits(&self, scope: &RecordScope) -> StoreResult<Vec<PermitRow>>;
    /// Every hazard of the submitted inspections in scope, with its rectification if any.
    fn hazard_statuses(&self, scope: &RecordScope) -> StoreResult<Vec<HazardStatusRow>>;
    /// Every hazard found at an enterprise, newest inspection first.
    fn enterprise_hazards(&self, credit_code: &str) -> StoreResult<Vec<EnterpriseHazard>>;
    /// The sequence number of the last change to records or reference data.
    fn current_seq(&self) -> StoreResult<i64>;

    // ---- numbers ----------------------------------------------------------------------------
    /// Leases the next `size` serials of a type and year to a device.
    #[allow(clippy::too_many_arguments)]
    fn lease_block(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        device_id: &str,
        login: &str,
        size: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<NumberBlock>;
    /// The blocks leased to a device while logged in as `login`: another account logged in
    /// with the same device id sees none of them.
    fn leases_of_device(&self, device_id: &str, login: &str) -> StoreResult<Vec<NumberBlock>>;
    /// The device a serial was leased to, and the account it was logged in as.
    fn lease_holder(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        serial: u32,
    ) -> StoreResult<Option<(String, String)>>;
    /// Registers a voided number; a `Conflict` when it is issued to a record.
    fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()>;
    fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>>;

    // ---- audit ------------------------------------------------------------------------------
    /// Every lock, in log order.
    fn audit_log(&self) -> StoreResult<Vec<Receipt>>;
    /// The last entry's position and hash; `None` while the log is empty.
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>>;
    /// The hash of the entry at `index`, if there is one.
    fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>>;
    /// Every signing key the server has used, current first.
    fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>>;
    /// Records a public key as the current signing key (the others stay, not current). Adding
    /// the current key again changes nothing.
    fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()>;

    // ---- supervisors' reference data ([`reference`]) ----------------------------------------
    /// Adds or updates the rows of one import file, all or none, keyed by the kind's natural
    /// key (see [`ImportKind`]); a row equal to the stored one is left as it is. A row naming
    /// an enterprise or region that is not registered is a `Conflict` and nothing is stored.
    fn import_reference(&self, batch: &ReferenceBatch) -> StoreResult<ImportSummary>;
    /// An enterprise's permits, major hazard sources, certified staff, emergency plans and
    /// occupational-health declarations (empty lists for an unknown enterprise).
    fn enterprise_archive(&self, credit_code: &str) -> StoreResult<EnterpriseArchive>;
    /// An enterprise's duty-leader shifts dated within the page's range, newest first.
    fn attendance_of(&self, credit_code: &str, page: &DatedPage) -> StoreResult<Vec<Attendance>>;
    /// 12350 reports received within the page's range that the scope covers, newest first:
    /// those filed under a district of a region scope or naming an enterprise of it; none for
    /// an enterprise scope.
    fn hotline_reports(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<HotlineReport>>;
    /// Director's mailbox letters received within the page's range that the scope covers,
    /// newest first: those of a district of a region scope, and those without a district when
    /// the scope covers a top-level region (the city); none for an enterprise scope.
    fn mailbox_messages(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<MailboxMessage>>;

    // IoT (schema version 8): the device registry, idempotent intake and the alerts the
    // rules raise (`store/iot.rs`).
    /// Registers a device; `Conflict` when its id is taken, `NotFound` for an unregistered
    /// enterprise.
    fn register_device(&self, device: &iot::NewDevice) -> StoreResult<crate::iot::Device>;
    /// The device holding the key with this SHA-256, revoked or not.
    fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<crate::iot::Device>>;
    /// False when no such device is registered.
    fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<bool>;
    fn devices(&self, scope: &RecordScope) -> StoreResult<Vec<crate::iot::Device>>;
    /// Stores a checked batch and runs its rules in one transaction.
    fn ingest_iot(
        &self,
        intake: &crate::iot::Intake,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<crate::iot::IngestOutcome>;
    /// A page of the alerts in scope, newest first, and how many there are in all.
    fn alerts(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<iot::Alert>, i64)>;
    /// Acknowledges an alert in scope (the first acknowledgement stays); None when no such
    /// alert is in scope.
    fn acknowledge_alert(
        &self,
        scope: &RecordScope,
        alert_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<iot::Alert>>;
    /// Confirms an IoT hazard in scope rectified (the first confirmation stays): when it was;
    /// None when no such hazard is in scope.
    fn rectify_iot_hazard(
        &self,
        scope: &RecordScope,
        hazard_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// The alerts in scope raised or acknowledged after sequence number `seq`.
    fn alerts_since(&self, scope: &RecordScope, seq: i64) -> StoreResult<Vec<iot::Alert>>;
    /// Runs the absence rules (shifts without a positioning upload, 带班) as of `now`.
    fn iot_tick(
        &self,
        now: DateTime<Utc>,
        config: &crate::iot::IotConfig,
    ) -> StoreResult<iot::TickOutcome>;
    /// A device's events, newest first.
    fn iot_events_of(&self, device_id: &str, limit: i64) -> StoreResult<Vec<iot::StoredEvent>>;
    /// A device's latest event by time, with its JSON.
    fn latest_iot_event(
        &self,
        device_id: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>>;
    /// How many changed resends of a device's events were put aside.
    fn iot_conflicts_of(&self, device_id: &str) -> StoreResult<i64>;
}
