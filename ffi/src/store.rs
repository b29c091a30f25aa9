//! The device store as one object: every call takes the store's lock, calls core, and turns the
//! answer into views. Nothing here decides anything core does not.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anjian_core::agency::Agency;
use anjian_core::document::{escpos, html, pdf};
use anjian_core::enterprise::{CreditCode, parse_enterprise_csv};
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection, checklist};
use anjian_core::record::{Gps, Inspector};
use anjian_core::sync::client::{self, RetryPolicy};
use anjian_core::time::china_date;
use anjian_core::{Store, Template};
use chrono::Utc;
use tokio::sync::Mutex;

use crate::error::{AnjianError, invalid};
use crate::printing::{self, PrintPacing, PrintReport, PrinterSink};
use crate::views::*;

type Result<T> = std::result::Result<T, AnjianError>;

/// The device's store: a folder holding the SQLite database and the photos.
#[derive(Debug, uniffi::Object)]
pub struct DeviceStore {
    // tokio's lock, because sync holds the store across network awaits; the synchronous calls
    // come from the app's IO threads, never from inside the runtime, so they may block on it.
    store: Mutex<Store>,
}

fn date(field: &str, text: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    text.filter(|t| !t.trim().is_empty())
        .map(|t| anjian_core::time::parse_date(field, t).map_err(invalid))
        .transpose()
}

fn parse_colleagues(texts: &[String]) -> Result<Vec<CoInspector>> {
    Ok(texts
        .iter()
        .map(|t| CoInspector::parse(t))
        .collect::<anjian_core::Result<_>>()?)
}

fn paper(width_mm: u32) -> Result<escpos::PaperWidth> {
    escpos::PaperWidth::from_mm(width_mm).ok_or_else(|| {
        invalid(format!(
            "纸宽 {width_mm} mm 不受支持：应为 58、80 或 104–112"
        ))
    })
}

/// How a thermal print job is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ThermalLayout {
    /// Paper width in mm: 58, 80, or 104–112.
    pub width_mm: u32,
    /// Copies, each labelled and cut (一式两联: 2).
    #[uniffi(default = 2)]
    pub copies: u8,
    /// Print only this copy (from 1): the reprint of copy 2 for the enterprise.
    #[uniffi(default)]
    pub only_copy: Option<u8>,
    /// Every line as a raster image, for printers without a Chinese font.
    #[uniffi(default = false)]
    pub raster: bool,
}

impl ThermalLayout {
    fn options(self) -> Result<escpos::EscPosOptions> {
        Ok(escpos::EscPosOptions {
            width: paper(self.width_mm)?,
            copies: self.copies,
            only_copy: self.only_copy,
            raster: self.raster,
        })
    }
}

impl DeviceStore {
    fn lock(&self) -> tokio::sync::MutexGuard<'_, Store> {
        self.store.blocking_lock()
    }

    fn thermal_job(
        &self,
        record_id: &str,
        doc_type: DocumentType,
        layout: ThermalLayout,
    ) -> Result<Vec<u8>> {
        let options = layout.options()?;
        let document = self
            .lock()
            .document(record_id, doc_type.into(), Utc::now())?;
        Ok(escpos::render(&document, options)?)
    }
}

#[uniffi::export]
impl DeviceStore {
    /// Opens the store in `home` (creating it on first use and upgrading an older one).
    #[uniffi::constructor]
    pub fn open(home: String) -> Result<Arc<DeviceStore>> {
        let store = Store::open(Path::new(&home))?;
        Ok(Arc::new(DeviceStore {
            store: Mutex::new(store),
        }))
    }

    pub fn device_id(&self) -> String {
        self.lock().device_id().to_string()
    }

    // ---- profile ----

    pub fn profile(&self) -> Result<ProfileView> {
        let store = self.lock();
        let profile = store.profile()?;
        let session = store.server_session()?;
        Ok(ProfileView {
            device_id: profile.device_id,
            inspector: profile.inspector.as_ref().map(Into::into),
            agency_name: profile.agency.map(|a| a.name),
            server: session.as_ref().map(|s| s.server.clone()),
            login: session.as_ref().map(|s| s.login.clone()),
            role_label: session.map(|s| s.role.label().to_string()),
        })
    }

    /// Sets this device's inspector and, from its TOML configuration, the agency. A login
    /// does this from the account; this is for a device used without a server.
    pub fn init_profile(
        &self,
        inspector: InspectorView,
        agency_toml: Option<String>,
    ) -> Result<()> {
        let inspector = Inspector {
            name: inspector.name,
            cert: inspector.cert,
            cert_valid_until: date("执法证有效期", inspector.cert_valid_until.as_deref())?,
        };
        let agency = agency_toml
            .map(|text| Agency::parse("机关配置", &text))
            .transpose()?;
        Ok(self.lock().init_profile(&inspector, agency.as_ref())?)
    }

    // ---- enterprises and templates ----

    /// Imports an enterprise register (the field CSV). All or nothing: a bad row is named
    /// and no enterprise is imported.
    pub fn import_enterprises(&self, file_label: String, csv: Vec<u8>) -> Result<u32> {
        let enterprises = parse_enterprise_csv(&file_label, &csv)?;
        Ok(self.lock().import_enterprises(&enterprises)? as u32)
    }

    /// Enterprises whose name, code or address contains `search` (all when `None`).
    pub fn enterprises(&self, search: Option<String>) -> Result<Vec<EnterpriseView>> {
        let found = self.lock().enterprises(search.as_deref())?;
        Ok(found.iter().map(Into::into).collect())
    }

    pub fn enterprise(&self, credit_code: String) -> Result<EnterpriseView> {
        let code = CreditCode::parse(&credit_code)?;
        Ok((&self.lock().enterprise(&code)?).into())
    }

    /// The newest version of every checklist on the device.
    pub fn templates(&self) -> Result<Vec<TemplateView>> {
        let templates = self.lock().latest_templates()?;
        Ok(templates.iter().map(|t| t.as_ref().into()).collect())
    }

    /// Adds a checklist from its TOML; `false` when that version is already here.
    pub fn add_template(&self, file_label: String, toml: String) -> Result<bool> {
        let template = Template::parse(&file_label, &toml)?;
        Ok(self.lock().add_template(&template)?)
    }

    // ---- inspections ----

    /// Starts an inspection. Colleagues are written `姓名:执法证号` or
    /// `姓名:执法证号:有效期至`.
    pub fn start_inspection(
        &self,
        enterprise: String,
        template: String,
        co_inspectors: Vec<String>,
        place: Option<String>,
        gps: Option<GpsPoint>,
    ) -> Result<RecordView> {
        let gps = gps.map(|p| Gps {
            lat: p.lat,
            lon: p.lon,
        });
        let start = StartInspection {
            enterprise,
            template,
            co_inspectors: parse_colleagues(&co_inspectors)?,
            place,
            gps,
        };
        Ok((&self.lock().start_inspection(&start, Utc::now())?).into())
    }

    /// Starts the re-inspection (整改复查) of a submitted inspection that found hazards: of an
    /// enforcement inspection only once its order was issued; of a self, resident or expert
    /// inspection without an order (`reinspects_order_number` is then `None`). Refused as
    /// `InvalidInput` otherwise.
    pub fn start_reinspection(
        &self,
        order_record_id: String,
        co_inspectors: Vec<String>,
        place: Option<String>,
    ) -> Result<RecordView> {
        let colleagues = parse_colleagues(&co_inspectors)?;
        let record = self.lock().start_reinspection(
            &order_record_id,
            &colleagues,
            place.as_deref(),
            Utc::now(),
        )?;
        Ok((&record).into())
    }

    /// Sets the post (职务) of the enterprise's person on site, asked at the start of an
    /// inspection; possible until the record's 现场检查记录 is issued (empty clears it).
    pub fn set_on_site_post(&self, record_id: String, post: String) -> Result<RecordView> {
        Ok((&self.lock().set_on_site_post(&record_id, &post)?).into())
    }

    /// Adds this device's inspector to a record received from a colleague.
    pub fn join_inspection(&self, record_id: String) -> Result<RecordView> {
        Ok((&self.lock().join_inspection(&record_id)?).into())
    }

    pub fn record(&self, record_id: String) -> Result<RecordView> {
        Ok((&self.lock().record(&record_id)?).into())
    }

    /// Every record on the device, newest first.
    pub fn records(&self) -> Result<Vec<RecordSummaryView>> {
        let list = self.lock().list_records()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// The record's items in order, each with its guidance, legal basis and current answer.
    pub fn checklist(&self, record_id: String) -> Result<Vec<ChecklistItemView>> {
        let store = self.lock();
        let record = store.record(&record_id)?;
        let template = store.template(&record.template_id, Some(record.template_version))?;
        Ok(checklist(&record, &template)
            .iter()
            .map(|item| {
                ChecklistItemView::new(
                    item,
                    record.answers.get(&item.code),
                    china_date(record.started_at),
                )
            })
            .collect())
    }

    /// Answers an item: `pass`, `fail`, `na` (or 合格, 不合格, 不适用), a number for a measured
    /// item, text for a text item. A failed item needs a deadline or a measure.
    pub fn answer(
        &self,
        record_id: String,
        item: String,
        input: String,
        details: AnswerInput,
    ) -> Result<AnswerView> {
        let details = AnswerDetails {
            note: details.note.filter(|n| !n.trim().is_empty()),
            photos: details.photo_paths.iter().map(PathBuf::from).collect(),
            deadline: date("整改期限", details.deadline.as_deref())?,
            measure: details.measure.filter(|m| !m.trim().is_empty()),
        };
        let answer = self
            .lock()
            .answer_item(&record_id, &item, &input, &details, Utc::now())?;
        Ok(AnswerView::new(&item, &answer))
    }

    /// Resolves a conflict by keeping answer `choice` (from 1, in `ConflictView.values` order).
    pub fn resolve_conflict(
        &self,
        record_id: String,
        item: String,
        choice: u32,
    ) -> Result<AnswerView> {
        let answer =
            self.lock()
                .resolve_conflict(&record_id, &item, choice as usize, Utc::now())?;
        Ok(AnswerView::new(&item, &answer))
    }

    /// Submits a record; it cannot be edited afterwards.
    pub fn submit(&self, record_id: String) -> Result<RecordView> {
        Ok((&self.lock().submit_inspection(&record_id, Utc::now())?).into())
    }

    /// The amendments made on this device to a locked record.
    pub fn amendments_of(&self, record_id: String) -> Result<Vec<String>> {
        Ok(self.lock().amendments_of(&record_id)?)
    }

    /// Copies a photo file into the store; returns its SHA-256.
    pub fn add_photo(&self, path: String) -> Result<String> {
        Ok(self.lock().add_photo(Path::new(&path))?)
    }

    /// Where the store keeps a photo, by its SHA-256.
    pub fn photo_path(&self, sha256: String) -> Option<String> {
        self.lock()
            .photo_path(&sha256)
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// The exchange file of a record, for a colleague's device without a server.
    pub fn export_record(&self, record_id: String) -> Result<Vec<u8>> {
        Ok(self.lock().export_record(&record_id)?)
    }

    /// Merges a colleague's exchange file; answers given differently become conflicts.
    pub fn import_record(&self, file_label: String, bytes: Vec<u8>) -> Result<ImportOutcomeView> {
        Ok(self.lock().import_record(&file_label, &bytes)?.into())
    }

    // ---- documents and numbers ----

    /// Issues a document (taking its number) or returns the one already issued.
    pub fn issue_document(
        &self,
        record_id: String,
        doc_type: DocumentType,
    ) -> Result<IssuedDocumentView> {
        let issued = self
            .lock()
            .issue_document(&record_id, doc_type.into(), Utc::now())?;
        Ok((&issued).into())
    }

    /// The A4 PDF of a document, issuing it first when needed.
    pub fn render_pdf(&self, record_id: String, doc_type: DocumentType) -> Result<Vec<u8>> {
        let mut store = self.lock();
        let document = store.document(&record_id, doc_type.into(), Utc::now())?;
        Ok(pdf::render(&document, store.agency_seal()?.as_ref())?)
    }

    /// The document as a self-contained HTML page (the preview).
    pub fn render_html(&self, record_id: String, doc_type: DocumentType) -> Result<String> {
        let document = self
            .lock()
            .document(&record_id, doc_type.into(), Utc::now())?;
        Ok(html::render(&document))
    }

    /// The ESC/POS job of a document for a thermal printer.
    pub fn render_escpos(
        &self,
        record_id: String,
        doc_type: DocumentType,
        layout: ThermalLayout,
    ) -> Result<Vec<u8>> {
        self.thermal_job(&record_id, doc_type, layout)
    }

    /// Renders a document for the thermal printer and sends it through `sink` in paced
    /// chunks. A failure says how many bytes reached the printer; print again to retry.
    pub fn print_document(
        &self,
        record_id: String,
        doc_type: DocumentType,
        layout: ThermalLayout,
        sink: Arc<dyn PrinterSink>,
        pacing: PrintPacing,
    ) -> Result<PrintReport> {
        let job = self.thermal_job(&record_id, doc_type, layout)?;
        printing::send(sink, &job, pacing)
    }

    pub fn number_blocks(&self) -> Result<Vec<NumberBlockView>> {
        let blocks = self.lock().number_blocks()?;
        Ok(blocks.into_iter().map(Into::into).collect())
    }

    /// The IoT alerts of the enterprises in scope the last syncs brought, newest first.
    pub fn alerts(&self) -> Result<Vec<AlertView>> {
        let alerts = self.lock().alerts()?;
        Ok(alerts.iter().map(Into::into).collect())
    }

    /// Every number issued or voided on this device.
    pub fn number_register(&self) -> Result<Vec<NumberEntryView>> {
        let entries = self.lock().number_register()?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// Registers a block of serials handed out on paper (a device without a server).
    pub fn add_number_block(
        &self,
        doc_type: DocumentType,
        year: i32,
        first: u32,
        last: u32,
    ) -> Result<NumberBlockView> {
        let block = self
            .lock()
            .add_number_block(doc_type.into(), year, first, last, Utc::now())?;
        Ok(block.into())
    }

    /// Voids an unused number, with the reason the register keeps.
    pub fn void_number(&self, number: String, reason: String) -> Result<NumberEntryView> {
        let entry = self.lock().void_number(&number, &reason, Utc::now())?;
        Ok(entry.into())
    }

    // ---- sync state ----

    /// The record's standing with the server; `None` for a record never uploaded.
    pub fn sync_state(&self, record_id: String) -> Result<Option<SyncStateView>> {
        Ok(self.lock().sync_state(&record_id)?.map(Into::into))
    }

    /// Checks a locked record's receipt again; `None` when the record is not locked.
    pub fn check_receipt(&self, record_id: String) -> Result<Option<ReceiptCheckView>> {
        Ok(self.lock().check_receipt(&record_id)?.map(Into::into))
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl DeviceStore {
    /// Logs in; the account becomes this device's inspector. The password is not kept.
    pub async fn login(
        &self,
        server: String,
        login: String,
        password: String,
    ) -> Result<LoginView> {
        let mut store = self.store.lock().await;
        let response = client::login(
            &mut store,
            &server,
            &login,
            &password,
            RetryPolicy::default(),
        )
        .await?;
        let session = store
            .server_session()?
            .ok_or(anjian_core::Error::NotLoggedIn)?;
        Ok(LoginView {
            server: session.server,
            login: response.user.login,
            name: response.user.name,
            role: response.user.role.as_str().to_string(),
            role_label: response.user.role.label().to_string(),
            scope: response.user.scope,
        })
    }

    /// One sync: uploads what changed, takes the receipts and rejections, and downloads
    /// colleagues' changes, reference data and document numbers. Safe to interrupt and repeat.
    pub async fn sync(&self) -> Result<SyncReportView> {
        let mut store = self.store.lock().await;
        let report = client::sync(&mut store, RetryPolicy::default()).await?;
        Ok((&report).into())
    }

    /// Revokes this device's tokens at the server (when reachable) and forgets them.
    pub async fn logout(&self) -> Result<()> {
        let mut store = self.store.lock().await;
        Ok(client::logout(&mut store, RetryPolicy::default()).await?)
    }
}
