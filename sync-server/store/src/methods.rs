//! What the server asks of its storage: each operation runs its per-entity module's function
//! in one transaction of the [`Store`] ([`Store::read`]: one snapshot; [`Store::write`]; or
//! [`Store::write_if`]: committed only when the outcome is kept), on either backend alike.

use chrono::{DateTime, NaiveDate, Utc};

use anjian_core::agency::DocType;
use anjian_core::enterprise::Enterprise;
use anjian_core::record::Inspector;
use anjian_core::sync::protocol::{NumberBlock, TemplateSource};
use anjian_core::sync::receipt::Receipt;

use super::{
    AreaCount, AreaGrouping, Attendance, AttendanceCount, CertificateCount, CommitOutcome,
    DatedPage, EnterpriseActivity, EnterpriseArchive, EnterpriseHazard, EnterpriseName,
    HazardCount, HazardStatusRow, HazardTallies, HotlineReport, ImportSummary, MailboxMessage,
    NumberRegisterEntry, PermitRow, QuarantineEntry, ReceiptSigner, RecordCommit, RecordFilter,
    RecordRow, RecordScope, ReferenceBatch, Region, SigningKeyRow, Store, StoreResult,
    StoredRecord, SubmittedInspection, TokenRow, User,
};
use super::{
    accounts, audit, commit, enterprises, iot, listing, numbers, records, reference, rollups,
    standings, templates,
};

impl Store {
    pub fn add_region(&self, region: &Region) -> StoreResult<()> {
        self.write(|db| accounts::add_region(db, region))
    }

    pub fn regions(&self) -> StoreResult<Vec<Region>> {
        self.read(|db| accounts::regions(db))
    }

    /// Adds a user; a login already taken is a `Conflict`.
    pub fn add_user(&self, user: &User) -> StoreResult<()> {
        self.write(|db| accounts::add_user(db, user))
    }

    pub fn user(&self, login: &str) -> StoreResult<Option<User>> {
        self.read(|db| accounts::user(db, login))
    }

    /// Returns false when there is no such user.
    pub fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
        self.write(|db| accounts::set_user_disabled(db, login, disabled))
    }

    /// Names and certificates of users holding one, changed after `seq`.
    pub fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
        self.read(|db| accounts::certified_users_since(db, seq))
    }

    pub fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
        self.write(|db| accounts::insert_token(db, token))
    }

    pub fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
        self.read(|db| accounts::token(db, hash))
    }

    pub fn revoke_token(&self, hash: &str) -> StoreResult<()> {
        self.write(|db| accounts::revoke_token(db, hash))
    }

    /// Revokes a user's tokens, those of one device only when given; returns how many.
    pub fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
        self.write(|db| accounts::revoke_tokens(db, login, device_id))
    }

    /// Adds or updates enterprises, all or none.
    pub fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
        self.write(|db| enterprises::upsert_enterprises(db, enterprises))
    }

    pub fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
        self.read(|db| enterprises::enterprise(db, credit_code))
    }

    pub fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
        self.read(|db| enterprises::enterprises_since(db, seq))
    }

    /// Publishes a template version; false when the same text is already published, a
    /// `Conflict` when the version exists with other text.
    pub fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
        self.write(|db| templates::publish_template(db, template))
    }

    pub fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
        self.read(|db| templates::template(db, id, version))
    }

    pub fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
        self.read(|db| templates::templates_since(db, seq))
    }

    pub fn set_agency(&self, toml: &str) -> StoreResult<()> {
        self.write(|db| templates::set_agency(db, toml))
    }

    /// The agency configuration and the sequence number of its last change.
    pub fn agency(&self) -> StoreResult<Option<(String, i64)>> {
        self.read(|db| templates::agency(db))
    }

    pub fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
        self.read(|db| records::record(db, id))
    }

    /// Writes a record with its projection rows, its numbers and, when asked, its lock and
    /// audit entry, all in one transaction. `signer` names its key in and signs the receipt.
    pub fn commit_record(
        &self,
        commit: &RecordCommit,
        signer: &dyn ReceiptSigner,
    ) -> StoreResult<CommitOutcome> {
        // A refused commit is rolled back: it leaves nothing behind, not even a used
        // sequence number.
        self.write_if(
            |outcome| matches!(outcome, CommitOutcome::Committed { .. }),
            |db| commit::commit_record(db, commit, signer),
        )
    }

    /// Keeps late changes; false when the same changes are kept already.
    pub fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool> {
        self.write(|db| records::quarantine(db, entry))
    }

    pub fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
        self.read(|db| records::quarantined(db, record_id))
    }

    /// Records changed after `seq` that a device follows: those it created and those naming
    /// the certificate among their inspectors.
    pub fn records_for_device_since(
        &self,
        seq: i64,
        device_id: &str,
        cert: Option<&str>,
    ) -> StoreResult<Vec<StoredRecord>> {
        self.read(|db| records::records_for_device_since(db, seq, device_id, cert))
    }

    /// Records in scope matching the filter, newest first; a negative limit means all.
    pub fn list_records(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecordRow>> {
        self.read(|db| listing::records(db, scope, filter, limit, offset))
    }

    /// Submitted inspections in scope started within the filter's dates (whole China days),
    /// of its regions, industry and kinds, counted per kind and what `grouping` keeps.
    /// Read from the rollups ([`rollups`]), not the records.
    pub fn area_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
        grouping: AreaGrouping,
    ) -> StoreResult<Vec<AreaCount>> {
        self.read(|db| rollups::area_counts(db, scope, filter, grouping))
    }

    /// Per enterprise in scope and region it was inspected in: what its submitted
    /// inspections show over the China days `from..=until`, from the inspection histories (an
    /// enterprise's scope sees only its kinds).
    pub fn enterprise_activity(
        &self,
        scope: &RecordScope,
        from: NaiveDate,
        until: NaiveDate,
    ) -> StoreResult<Vec<EnterpriseActivity>> {
        self.read(|db| rollups::enterprise_activity(db, scope, from, until))
    }

    /// A page of hazard tracking's counts per enterprise or region in scope, most overdue
    /// first: open hazards overdue on `today` or due by `soon`. A `limit` below 0 pages all.
    pub fn hazard_tallies(
        &self,
        scope: &RecordScope,
        level: standings::TallyLevel,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<HazardTallies> {
        self.read(|db| standings::tallies(db, scope, level, today, soon, limit, offset))
    }

    /// A page of the hazards in scope not yet rectified (of one standing, or all), by
    /// deadline: overdue first, undated last.
    pub fn open_hazards(
        &self,
        scope: &RecordScope,
        standing: Option<standings::OpenStanding>,
        today: NaiveDate,
        soon: NaiveDate,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|db| standings::open_hazards(db, scope, standing, today, soon, limit, offset))
    }

    /// A page of the rectified hazards in scope, the latest rectification first.
    pub fn rectified_hazards(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|db| standings::rectified_hazards(db, scope, limit, offset))
    }

    /// Recounts the rollups and hazard tracking's tables from the records.
    pub fn rebuild_rollups(&self) -> StoreResult<rollups::RollupSummary> {
        self.write(|db| rollups::rebuild(db))
    }

    /// Whether the rollups and hazard tracking's tables hold what a rebuild would write now.
    pub fn rollups_agree(&self) -> StoreResult<bool> {
        self.read(|db| {
            Ok(rollups::stored(db)? == rollups::recount(db)?
                && standings::stored(db)? == standings::recount(db)?)
        })
    }

    /// Hazards of submitted records in scope matching the filter (its dates, regions,
    /// industry and kinds), counted per month, region, industry and kind.
    pub fn hazard_counts(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<HazardCount>> {
        self.read(|db| listing::hazard_counts(db, scope, filter))
    }

    /// Submitted inspections in scope started within the filter's dates, of its kinds and
    /// regions, by enterprise and start.
    pub fn submitted_inspections(
        &self,
        scope: &RecordScope,
        filter: &RecordFilter,
    ) -> StoreResult<Vec<SubmittedInspection>> {
        self.read(|db| listing::submitted_inspections(db, scope, filter))
    }

    /// Duty-leader attendance in scope, per industry and region and, when `monthly`, per
    /// month (else month ""), between two dates (inclusive).
    pub fn attendance_counts(
        &self,
        scope: &RecordScope,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
        monthly: bool,
    ) -> StoreResult<Vec<AttendanceCount>> {
        self.read(|db| rollups::attendance_counts(db, scope, from, until, monthly))
    }

    /// The credit code and region of every registered enterprise in scope, in code order,
    /// and whether it declared occupational-health hazards for a year of `declared_in`
    /// (never when none given).
    pub fn enterprise_regions(
        &self,
        scope: &RecordScope,
        declared_in: Option<std::ops::RangeInclusive<i32>>,
    ) -> StoreResult<Vec<(String, String, bool)>> {
        self.read(|db| listing::enterprise_regions(db, scope, declared_in))
    }

    /// The credit code, name and region of every registered enterprise in scope, in code
    /// order.
    pub fn enterprise_names(&self, scope: &RecordScope) -> StoreResult<Vec<EnterpriseName>> {
        self.read(|db| listing::enterprise_names(db, scope))
    }

    /// For each enterprise in scope and permit type it holds: the newest permit's last day.
    pub fn permit_ends(
        &self,
        scope: &RecordScope,
    ) -> StoreResult<Vec<(String, String, NaiveDate)>> {
        self.read(|db| listing::permit_ends(db, scope))
    }

    /// Every staff certificate of the enterprises in scope.
    /// The staff certificates of the enterprises in scope per role, on `on`: valid beyond
    /// `expiring_through`, valid through it, expired (valid until before `on`).
    pub fn certificate_counts(
        &self,
        scope: &RecordScope,
        on: NaiveDate,
        expiring_through: NaiveDate,
    ) -> StoreResult<Vec<CertificateCount>> {
        self.read(|db| listing::certificate_counts(db, scope, on, expiring_through))
    }

    /// Every permit of the enterprises in scope, oldest first per enterprise and type.
    pub fn permits(&self, scope: &RecordScope) -> StoreResult<Vec<PermitRow>> {
        self.read(|db| listing::permits(db, scope))
    }

    /// Every hazard of the submitted inspections in scope, with its rectification if any.
    pub fn hazard_statuses(&self, scope: &RecordScope) -> StoreResult<Vec<HazardStatusRow>> {
        self.read(|db| listing::hazard_statuses(db, scope))
    }

    /// Every hazard found at an enterprise, newest inspection first.
    pub fn enterprise_hazards(&self, credit_code: &str) -> StoreResult<Vec<EnterpriseHazard>> {
        self.read(|db| listing::enterprise_hazards(db, credit_code))
    }

    pub fn amendments_of(&self, id: &str) -> StoreResult<Vec<String>> {
        self.read(|db| records::amendments_of(db, id))
    }

    /// The sequence number of the last change to records or reference data.
    pub fn current_seq(&self) -> StoreResult<i64> {
        self.read(|db| records::current_seq(db))
    }

    /// Leases the next `size` serials of a type and year to a device.
    #[allow(clippy::too_many_arguments)]
    pub fn lease_block(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        device_id: &str,
        login: &str,
        size: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<NumberBlock> {
        self.write(|db| {
            numbers::lease_block(db, agency, doc_type, year, device_id, login, size, at)
        })
    }

    /// The blocks leased to a device while logged in as `login`: another account logged in
    /// with the same device id sees none of them.
    pub fn leases_of_device(&self, device_id: &str, login: &str) -> StoreResult<Vec<NumberBlock>> {
        self.read(|db| numbers::leases_of_device(db, device_id, login))
    }

    /// The device a serial was leased to, and the account it was logged in as.
    pub fn lease_holder(
        &self,
        agency: &str,
        doc_type: DocType,
        year: i32,
        serial: u32,
    ) -> StoreResult<Option<(String, String)>> {
        self.read(|db| numbers::lease_holder(db, agency, doc_type, year, serial))
    }

    /// Registers a voided number; a `Conflict` when it is issued to a record.
    pub fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
        self.write(|db| numbers::void_number(db, entry))
    }

    pub fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
        self.read(|db| numbers::number_register(db))
    }

    /// Every lock, in log order.
    pub fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
        self.read(|db| audit::audit_log(db))
    }
    /// The last entry's position and hash; `None` while the log is empty.
    pub fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|db| audit::audit_head(db))
    }

    /// The hash of the entry at `index`, if there is one.
    pub fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
        self.read(|db| audit::audit_entry_hash(db, index))
    }

    /// Every signing key the server has used, current first.
    pub fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
        self.read(|db| audit::signing_keys(db))
    }

    /// Records a public key as the current signing key (the others stay, not current). Adding
    /// the current key again changes nothing.
    pub fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        self.write(|db| audit::add_signing_key(db, key))
    }

    /// Adds or updates the rows of one import file, all or none, keyed by the kind's natural
    /// key (see [`ImportKind`]); a row equal to the stored one is left as it is. A row naming
    /// an enterprise or region that is not registered is a `Conflict` and nothing is stored.
    pub fn import_reference(&self, batch: &ReferenceBatch) -> StoreResult<ImportSummary> {
        self.write(|db| {
            let summary = reference::import(db, batch)?;
            if let ReferenceBatch::Attendance(rows) = batch {
                rollups::attendance_changed(db, rows)?;
            }
            Ok(summary)
        })
    }

    /// An enterprise's permits, major hazard sources, certified staff, emergency plans and
    /// occupational-health declarations (empty lists for an unknown enterprise).
    pub fn enterprise_archive(&self, credit_code: &str) -> StoreResult<EnterpriseArchive> {
        self.read(|db| reference::enterprise_archive(db, credit_code))
    }

    /// An enterprise's duty-leader shifts dated within the page's range, newest first.
    pub fn attendance_of(
        &self,
        credit_code: &str,
        page: &DatedPage,
    ) -> StoreResult<Vec<Attendance>> {
        self.read(|db| reference::attendance_of(db, credit_code, page))
    }

    /// 12350 reports received within the page's range that the scope covers, newest first:
    /// those filed under a district of a region scope or naming an enterprise of it; none for
    /// an enterprise scope.
    pub fn hotline_reports(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<HotlineReport>> {
        self.read(|db| reference::hotline_reports(db, scope, page))
    }

    /// Director's mailbox letters received within the page's range that the scope covers,
    /// newest first: those of a district of a region scope, and those without a district when
    /// the scope covers a top-level region (the city); none for an enterprise scope.
    pub fn mailbox_messages(
        &self,
        scope: &RecordScope,
        page: &DatedPage,
    ) -> StoreResult<Vec<MailboxMessage>> {
        self.read(|db| reference::mailbox_messages(db, scope, page))
    }

    /// Registers a device; `Conflict` when its id is taken, `NotFound` for an unregistered
    /// enterprise.
    pub fn register_device(&self, device: &iot::NewDevice) -> StoreResult<iot::Device> {
        self.write(|db| iot::register_device(db, device))
    }

    /// The device holding the key with this SHA-256, revoked or not.
    pub fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<iot::Device>> {
        self.read(|db| iot::device_by_key(db, key_hash))
    }

    /// False when no such device is registered.
    pub fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        self.write(|db| iot::revoke_device(db, device_id, at))
    }

    pub fn devices(&self, scope: &RecordScope) -> StoreResult<Vec<iot::Device>> {
        self.read(|db| iot::devices(db, scope))
    }

    /// A page of the alerts in scope, newest first, and how many there are in all.
    pub fn alerts(
        &self,
        scope: &RecordScope,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<iot::Alert>, i64)> {
        self.read(|db| iot::alerts(db, scope, limit, offset))
    }

    /// Acknowledges an alert in scope (the first acknowledgement stays); None when no such
    /// alert is in scope.
    pub fn acknowledge_alert(
        &self,
        scope: &RecordScope,
        alert_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<iot::Alert>> {
        self.write(|db| iot::acknowledge_alert(db, scope, alert_id, login, at))
    }

    /// Confirms an IoT hazard in scope rectified (the first confirmation stays): when it was;
    /// None when no such hazard is in scope.
    pub fn rectify_iot_hazard(
        &self,
        scope: &RecordScope,
        hazard_id: &str,
        login: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.write(|db| iot::rectify_iot_hazard(db, scope, hazard_id, login, at))
    }

    /// The alerts in scope raised or acknowledged after sequence number `seq`.
    pub fn alerts_since(&self, scope: &RecordScope, seq: i64) -> StoreResult<Vec<iot::Alert>> {
        self.read(|db| iot::alerts_since(db, scope, seq))
    }

    /// A device's events, newest first.
    pub fn iot_events_of(&self, device_id: &str, limit: i64) -> StoreResult<Vec<iot::StoredEvent>> {
        self.read(|db| iot::events_of(db, device_id, limit))
    }

    /// A device's latest event by time, with its JSON.
    pub fn latest_iot_event(
        &self,
        device_id: &str,
    ) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>> {
        self.read(|db| iot::latest_event(db, device_id))
    }

    /// How many changed resends of a device's events were put aside.
    pub fn iot_conflicts_of(&self, device_id: &str) -> StoreResult<i64> {
        self.read(|db| iot::conflicts_of(db, device_id))
    }
}
