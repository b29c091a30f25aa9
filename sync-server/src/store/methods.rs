//! The [`Store`](super::Store) trait's methods, written once for both backends: each runs
//! its shared module's function in one of the backend's transactions. A backend provides
//! `read` (one snapshot), `write` and `write_if` (committed only when `keep` accepts the
//! outcome), each handing the function its executor; `store_methods!()` inside its
//! `impl Store` block does the rest.

macro_rules! store_methods {
    () => {
        fn add_region(&self, region: &Region) -> StoreResult<()> {
            self.write(|db| accounts::add_region(db, region))
        }

        fn regions(&self) -> StoreResult<Vec<Region>> {
            self.read(|db| accounts::regions(db))
        }

        fn add_user(&self, user: &User) -> StoreResult<()> {
            self.write(|db| accounts::add_user(db, user))
        }

        fn user(&self, login: &str) -> StoreResult<Option<User>> {
            self.read(|db| accounts::user(db, login))
        }

        fn set_user_disabled(&self, login: &str, disabled: bool) -> StoreResult<bool> {
            self.write(|db| accounts::set_user_disabled(db, login, disabled))
        }

        fn certified_users_since(&self, seq: i64) -> StoreResult<Vec<Inspector>> {
            self.read(|db| accounts::certified_users_since(db, seq))
        }

        fn insert_token(&self, token: &TokenRow) -> StoreResult<()> {
            self.write(|db| accounts::insert_token(db, token))
        }

        fn token(&self, hash: &str) -> StoreResult<Option<TokenRow>> {
            self.read(|db| accounts::token(db, hash))
        }

        fn revoke_token(&self, hash: &str) -> StoreResult<()> {
            self.write(|db| accounts::revoke_token(db, hash))
        }

        fn revoke_tokens(&self, login: &str, device_id: Option<&str>) -> StoreResult<usize> {
            self.write(|db| accounts::revoke_tokens(db, login, device_id))
        }

        fn upsert_enterprises(&self, enterprises: &[Enterprise]) -> StoreResult<usize> {
            self.write(|db| enterprises::upsert_enterprises(db, enterprises))
        }

        fn enterprise(&self, credit_code: &str) -> StoreResult<Option<Enterprise>> {
            self.read(|db| enterprises::enterprise(db, credit_code))
        }

        fn enterprises_since(&self, seq: i64) -> StoreResult<Vec<Enterprise>> {
            self.read(|db| enterprises::enterprises_since(db, seq))
        }

        fn publish_template(&self, template: &TemplateSource) -> StoreResult<bool> {
            self.write(|db| templates::publish_template(db, template))
        }

        fn template(&self, id: &str, version: u32) -> StoreResult<Option<String>> {
            self.read(|db| templates::template(db, id, version))
        }

        fn templates_since(&self, seq: i64) -> StoreResult<Vec<TemplateSource>> {
            self.read(|db| templates::templates_since(db, seq))
        }

        fn set_agency(&self, toml: &str) -> StoreResult<()> {
            self.write(|db| templates::set_agency(db, toml))
        }

        fn agency(&self) -> StoreResult<Option<(String, i64)>> {
            self.read(|db| templates::agency(db))
        }

        fn record(&self, id: &str) -> StoreResult<Option<StoredRecord>> {
            self.read(|db| records::record(db, id))
        }

        fn commit_record(
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

        fn quarantine(&self, entry: &QuarantineEntry) -> StoreResult<bool> {
            self.write(|db| records::quarantine(db, entry))
        }

        fn quarantined(&self, record_id: &str) -> StoreResult<Vec<QuarantineEntry>> {
            self.read(|db| records::quarantined(db, record_id))
        }

        fn records_for_device_since(
            &self,
            seq: i64,
            device_id: &str,
            cert: Option<&str>,
        ) -> StoreResult<Vec<StoredRecord>> {
            self.read(|db| records::records_for_device_since(db, seq, device_id, cert))
        }

        fn list_records(
            &self,
            scope: &RecordScope,
            filter: &RecordFilter,
            limit: i64,
            offset: i64,
        ) -> StoreResult<Vec<RecordRow>> {
            self.read(|db| listing::records(db, scope, filter, limit, offset))
        }

        fn area_counts(
            &self,
            scope: &RecordScope,
            filter: &RecordFilter,
            grouping: AreaGrouping,
        ) -> StoreResult<Vec<AreaCount>> {
            self.read(|db| rollups::area_counts(db, scope, filter, grouping))
        }

        fn enterprise_activity(
            &self,
            scope: &RecordScope,
            from: NaiveDate,
            until: NaiveDate,
        ) -> StoreResult<Vec<EnterpriseActivity>> {
            self.read(|db| rollups::enterprise_activity(db, scope, from, until))
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
            self.read(|db| standings::tallies(db, scope, level, today, soon, limit, offset))
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
            self.read(|db| standings::open_hazards(db, scope, standing, today, soon, limit, offset))
        }

        fn rectified_hazards(
            &self,
            scope: &RecordScope,
            limit: i64,
            offset: i64,
        ) -> StoreResult<Vec<HazardStatusRow>> {
            self.read(|db| standings::rectified_hazards(db, scope, limit, offset))
        }

        fn rebuild_rollups(&self) -> StoreResult<rollups::RollupSummary> {
            self.write(|db| rollups::rebuild(db))
        }

        fn rollups_agree(&self) -> StoreResult<bool> {
            self.read(|db| {
                Ok(rollups::stored(db)? == rollups::recount(db)?
                    && standings::stored(db)? == standings::recount(db)?)
            })
        }

        fn hazard_counts(
            &self,
            scope: &RecordScope,
            filter: &RecordFilter,
        ) -> StoreResult<Vec<HazardCount>> {
            self.read(|db| listing::hazard_counts(db, scope, filter))
        }

        fn submitted_inspections(
            &self,
            scope: &RecordScope,
            filter: &RecordFilter,
        ) -> StoreResult<Vec<SubmittedInspection>> {
            self.read(|db| listing::submitted_inspections(db, scope, filter))
        }

        fn attendance_counts(
            &self,
            scope: &RecordScope,
            from: Option<chrono::NaiveDate>,
            until: Option<chrono::NaiveDate>,
            monthly: bool,
        ) -> StoreResult<Vec<AttendanceCount>> {
            self.read(|db| rollups::attendance_counts(db, scope, from, until, monthly))
        }

        fn enterprise_regions(
            &self,
            scope: &RecordScope,
            declared_in: Option<std::ops::RangeInclusive<i32>>,
        ) -> StoreResult<Vec<(String, String, bool)>> {
            self.read(|db| listing::enterprise_regions(db, scope, declared_in))
        }

        fn enterprise_names(&self, scope: &RecordScope) -> StoreResult<Vec<EnterpriseName>> {
            self.read(|db| listing::enterprise_names(db, scope))
        }

        fn permit_ends(
            &self,
            scope: &RecordScope,
        ) -> StoreResult<Vec<(String, String, chrono::NaiveDate)>> {
            self.read(|db| listing::permit_ends(db, scope))
        }

        fn certificate_counts(
            &self,
            scope: &RecordScope,
            on: chrono::NaiveDate,
            expiring_through: chrono::NaiveDate,
        ) -> StoreResult<Vec<CertificateCount>> {
            self.read(|db| listing::certificate_counts(db, scope, on, expiring_through))
        }

        fn permits(&self, scope: &RecordScope) -> StoreResult<Vec<PermitRow>> {
            self.read(|db| listing::permits(db, scope))
        }

        fn hazard_statuses(&self, scope: &RecordScope) -> StoreResult<Vec<HazardStatusRow>> {
            self.read(|db| listing::hazard_statuses(db, scope))
        }

        fn enterprise_hazards(&self, credit_code: &str) -> StoreResult<Vec<EnterpriseHazard>> {
            self.read(|db| listing::enterprise_hazards(db, credit_code))
        }

        fn amendments_of(&self, id: &str) -> StoreResult<Vec<String>> {
            self.read(|db| records::amendments_of(db, id))
        }

        fn current_seq(&self) -> StoreResult<i64> {
            self.read(|db| records::current_seq(db))
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
            self.write(|db| {
                numbers::lease_block(db, agency, doc_type, year, device_id, login, size, at)
            })
        }

        fn leases_of_device(&self, device_id: &str, login: &str) -> StoreResult<Vec<NumberBlock>> {
            self.read(|db| numbers::leases_of_device(db, device_id, login))
        }

        fn lease_holder(
            &self,
            agency: &str,
            doc_type: DocType,
            year: i32,
            serial: u32,
        ) -> StoreResult<Option<(String, String)>> {
            self.read(|db| numbers::lease_holder(db, agency, doc_type, year, serial))
        }

        fn void_number(&self, entry: &NumberRegisterEntry) -> StoreResult<()> {
            self.write(|db| numbers::void_number(db, entry))
        }

        fn number_register(&self) -> StoreResult<Vec<NumberRegisterEntry>> {
            self.read(|db| numbers::number_register(db))
        }

        fn audit_log(&self) -> StoreResult<Vec<Receipt>> {
            self.read(|db| audit::audit_log(db))
        }
        fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
            self.read(|db| audit::audit_head(db))
        }

        fn audit_entry_hash(&self, index: i64) -> StoreResult<Option<String>> {
            self.read(|db| audit::audit_entry_hash(db, index))
        }

        fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>> {
            self.read(|db| audit::signing_keys(db))
        }

        fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
            self.write(|db| audit::add_signing_key(db, key))
        }

        fn import_reference(&self, batch: &ReferenceBatch) -> StoreResult<ImportSummary> {
            self.write(|db| reference::import(db, batch))
        }

        fn enterprise_archive(&self, credit_code: &str) -> StoreResult<EnterpriseArchive> {
            self.read(|db| reference::enterprise_archive(db, credit_code))
        }

        fn attendance_of(
            &self,
            credit_code: &str,
            page: &DatedPage,
        ) -> StoreResult<Vec<Attendance>> {
            self.read(|db| reference::attendance_of(db, credit_code, page))
        }

        fn hotline_reports(
            &self,
            scope: &RecordScope,
            page: &DatedPage,
        ) -> StoreResult<Vec<HotlineReport>> {
            self.read(|db| reference::hotline_reports(db, scope, page))
        }

        fn mailbox_messages(
            &self,
            scope: &RecordScope,
            page: &DatedPage,
        ) -> StoreResult<Vec<MailboxMessage>> {
            self.read(|db| reference::mailbox_messages(db, scope, page))
        }

        fn register_device(&self, device: &iot::NewDevice) -> StoreResult<crate::iot::Device> {
            self.write(|db| iot::register_device(db, device))
        }

        fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<crate::iot::Device>> {
            self.read(|db| iot::device_by_key(db, key_hash))
        }

        fn revoke_device(&self, device_id: &str, at: DateTime<Utc>) -> StoreResult<bool> {
            self.write(|db| iot::revoke_device(db, device_id, at))
        }

        fn devices(&self, scope: &RecordScope) -> StoreResult<Vec<crate::iot::Device>> {
            self.read(|db| iot::devices(db, scope))
        }

        fn ingest_iot(
            &self,
            intake: &crate::iot::Intake,
            config: &crate::iot::IotConfig,
        ) -> StoreResult<crate::iot::IngestOutcome> {
            self.write(|db| iot::ingest(db, intake, config))
        }

        fn alerts(
            &self,
            scope: &RecordScope,
            limit: i64,
            offset: i64,
        ) -> StoreResult<(Vec<iot::Alert>, i64)> {
            self.read(|db| iot::alerts(db, scope, limit, offset))
        }

        fn acknowledge_alert(
            &self,
            scope: &RecordScope,
            alert_id: &str,
            login: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<Option<iot::Alert>> {
            self.write(|db| iot::acknowledge_alert(db, scope, alert_id, login, at))
        }

        fn rectify_iot_hazard(
            &self,
            scope: &RecordScope,
            hazard_id: &str,
            login: &str,
            at: DateTime<Utc>,
        ) -> StoreResult<Option<DateTime<Utc>>> {
            self.write(|db| iot::rectify_iot_hazard(db, scope, hazard_id, login, at))
        }

        fn alerts_since(&self, scope: &RecordScope, seq: i64) -> StoreResult<Vec<iot::Alert>> {
            self.read(|db| iot::alerts_since(db, scope, seq))
        }

        fn iot_tick(
            &self,
            now: DateTime<Utc>,
            config: &crate::iot::IotConfig,
        ) -> StoreResult<iot::TickOutcome> {
            self.write(|db| iot::tick(db, now, config))
        }

        fn iot_events_of(&self, device_id: &str, limit: i64) -> StoreResult<Vec<iot::StoredEvent>> {
            self.read(|db| iot::events_of(db, device_id, limit))
        }

        fn latest_iot_event(
            &self,
            device_id: &str,
        ) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>> {
            self.read(|db| iot::latest_event(db, device_id))
        }

        fn iot_conflicts_of(&self, device_id: &str) -> StoreResult<i64> {
            self.read(|db| iot::conflicts_of(db, device_id))
        }
    };
}
