//! The values that cross to Kotlin: plain records mirroring core's types, built from them.

use anjian_core::agency::DocType;
use anjian_core::enterprise::Enterprise;
use anjian_core::numbering::{BlockStatus, NumberEntry};
use anjian_core::record::{Answer, Conflict, HazardEntry, Inspector, IssuedDocument, Record};
use anjian_core::store::{ImportOutcome, RecordSummary};
use anjian_core::sync::device::{ReceiptCheck, RecordOutcome, RecordSyncState, SyncReport};
use anjian_core::sync::protocol::UploadResult;
use anjian_core::sync::receipt::Receipt;
use anjian_core::template::{AnswerKind, Item, Template};
use anjian_core::time::format_china;
use chrono::NaiveDate;

/// The three enforcement documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DocumentType {
    /// 现场检查记录
    Record,
    /// 责令限期整改指令书
    Order,
    /// 整改复查意见书
    Reinspection,
}

impl From<DocumentType> for DocType {
    fn from(value: DocumentType) -> Self {
        match value {
            DocumentType::Record => DocType::Record,
            DocumentType::Order => DocType::Order,
            DocumentType::Reinspection => DocType::Reinspection,
        }
    }
}

impl From<DocType> for DocumentType {
    fn from(value: DocType) -> Self {
        match value {
            DocType::Record => DocumentType::Record,
            DocType::Order => DocumentType::Order,
            DocType::Reinspection => DocumentType::Reinspection,
        }
    }
}

/// The title of a document type, as printed (现场检查记录 …).
#[uniffi::export]
pub fn document_title(doc_type: DocumentType) -> String {
    DocType::from(doc_type).title().to_string()
}

fn date_text(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.to_string())
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InspectorView {
    pub name: String,
    pub cert: String,
    /// `YYYY-MM-DD`
    pub cert_valid_until: Option<String>,
}

impl From<&Inspector> for InspectorView {
    fn from(inspector: &Inspector) -> Self {
        InspectorView {
            name: inspector.name.clone(),
            cert: inspector.cert.clone(),
            cert_valid_until: date_text(inspector.cert_valid_until),
        }
    }
}

/// The device: its inspector, its agency, and its login when it has one.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileView {
    pub device_id: String,
    pub inspector: Option<InspectorView>,
    pub agency_name: Option<String>,
    pub server: Option<String>,
    pub login: Option<String>,
    /// The account's role, in Chinese (执法人员 …).
    pub role_label: Option<String>,
}

/// Where an inspection took place (WGS-84, from the tablet's location service).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GpsPoint {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnterpriseView {
    pub credit_code: String,
    pub name: String,
    pub address: String,
    pub industry: String,
    pub region_code: String,
    pub legal_representative: String,
    pub phone: String,
}

impl From<&Enterprise> for EnterpriseView {
    fn from(e: &Enterprise) -> Self {
        EnterpriseView {
            credit_code: e.credit_code.as_str().to_string(),
            name: e.name.clone(),
            address: e.address.clone(),
            industry: e.industry.clone(),
            region_code: e.region_code.clone(),
            legal_representative: e.legal_representative.clone(),
            phone: e.phone.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TemplateView {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub industry: String,
    /// enforcement, expert, resident or self
    pub kind: String,
    pub kind_label: String,
    pub item_count: u32,
    pub sources: Vec<String>,
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        TemplateView {
            id: t.id.clone(),
            version: t.version,
            title: t.title.clone(),
            industry: t.industry.clone(),
            kind: t.kind.as_str().to_string(),
            kind_label: t.kind.label().to_string(),
            item_count: t.items.len() as u32,
            sources: t.sources.clone(),
        }
    }
}

/// One item of a record's checklist, with everything the inspector needs at hand, and the
/// answer given so far.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChecklistItemView {
    pub code: String,
    pub section: String,
    pub text: String,
    /// check, measure or text
    pub answer_kind: String,
    /// For a measured item: the requirement in words, e.g. `≥ 30 m`.
    pub requirement: Option<String>,
    pub unit: Option<String>,
    /// A measured item's inclusive bounds.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub required: bool,
    pub guidance: String,
    pub legal_basis: String,
    /// The finding written into the documents when the item fails.
    pub hazard: String,
    pub class: String,
    pub default_measure: Option<String>,
    pub answer: Option<AnswerView>,
}

impl ChecklistItemView {
    /// `inspection_date` picks the legal basis in force for the record.
    pub(crate) fn new(item: &Item, answer: Option<&Answer>, inspection_date: NaiveDate) -> Self {
        ChecklistItemView {
            code: item.code.clone(),
            section: item.section.clone(),
            text: item.text.clone(),
            answer_kind: item.answer.name().to_string(),
            requirement: item.requirement(),
            unit: match &item.answer {
                AnswerKind::Measure { unit, .. } => Some(unit.clone()),
                _ => None,
            },
            min: match &item.answer {
                AnswerKind::Measure { min, .. } => *min,
                _ => None,
            },
            max: match &item.answer {
                AnswerKind::Measure { max, .. } => *max,
                _ => None,
            },
            required: item.required,
            guidance: item.guidance.clone(),
            legal_basis: item.legal_basis_on(inspection_date).text.clone(),
            hazard: item.hazard.clone(),
            class: item.class.clone(),
            default_measure: item.measure.clone(),
            answer: answer.map(|a| AnswerView::new(&item.code, a)),
        }
    }
}

/// What comes with an answer besides its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AnswerInput {
    #[uniffi(default)]
    pub note: Option<String>,
    /// Photo files to copy into the store (taken by the camera app).
    #[uniffi(default)]
    pub photo_paths: Vec<String>,
    /// The rectification deadline of a failed item, `YYYY-MM-DD`.
    #[uniffi(default)]
    pub deadline: Option<String>,
    /// The rectification measure, when not the item's default.
    #[uniffi(default)]
    pub measure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HazardView {
    pub item: String,
    pub description: String,
    pub class: String,
    pub legal_basis: String,
    pub measure: Option<String>,
    pub deadline: Option<String>,
    pub note: Option<String>,
}

impl From<&HazardEntry> for HazardView {
    fn from(h: &HazardEntry) -> Self {
        HazardView {
            item: h.item.clone(),
            description: h.hazard.description.clone(),
            class: h.hazard.class.clone(),
            legal_basis: h.hazard.legal_basis.clone(),
            measure: h.hazard.measure.clone(),
            deadline: date_text(h.hazard.deadline),
            note: h.note.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AnswerView {
    pub item: String,
    /// pass, fail, na or recorded
    pub status: String,
    pub status_label: String,
    pub value: Option<String>,
    pub note: Option<String>,
    /// SHA-256 of each photo in the store (see `DeviceStore.photoPath`).
    pub photos: Vec<String>,
    pub by_name: String,
    pub by_cert: String,
    pub device: String,
    pub at: String,
    pub hazard: Option<HazardView>,
    /// Who chose this answer to resolve a conflict.
    pub resolved_by: Option<String>,
}

impl AnswerView {
    pub(crate) fn new(item: &str, a: &Answer) -> Self {
        AnswerView {
            item: item.to_string(),
            status: a.status.as_str().to_string(),
            status_label: a.status.label().to_string(),
            value: a.value.as_ref().map(ToString::to_string),
            note: a.note.clone(),
            photos: a.photos.clone(),
            by_name: a.by.name.clone(),
            by_cert: a.by.cert.clone(),
            device: a.device.clone(),
            at: format_china(a.at),
            hazard: a.hazard.as_ref().map(|h| HazardView {
                item: item.to_string(),
                description: h.description.clone(),
                class: h.class.clone(),
                legal_basis: h.legal_basis.clone(),
                measure: h.measure.clone(),
                deadline: date_text(h.deadline),
                note: a.note.clone(),
            }),
            resolved_by: a.resolved_by.as_ref().map(|p| p.name.clone()),
        }
    }
}

/// Two devices answered one item differently; `values` holds every answer, the shown one first.
/// Resolve it by choosing one (numbered from 1).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ConflictView {
    pub item: String,
    pub values: Vec<AnswerView>,
}

impl From<&Conflict> for ConflictView {
    fn from(c: &Conflict) -> Self {
        ConflictView {
            item: c.item.clone(),
            values: c
                .values
                .iter()
                .map(|a| AnswerView::new(&c.item, a))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IssuedDocumentView {
    pub doc_type: DocumentType,
    pub title: String,
    pub number: String,
    pub issued_at: String,
    pub issued_by: String,
}

impl From<&IssuedDocument> for IssuedDocumentView {
    fn from(d: &IssuedDocument) -> Self {
        IssuedDocumentView {
            doc_type: d.doc_type.into(),
            title: d.doc_type.title().to_string(),
            number: d.number.clone(),
            issued_at: format_china(d.issued_at),
            issued_by: d.issued_by.name.clone(),
        }
    }
}

/// A record as the device holds it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RecordView {
    pub id: String,
    /// inspection, reinspection or amendment
    pub kind: String,
    pub inspection_kind: String,
    pub inspection_kind_label: String,
    pub template_id: String,
    pub template_version: u32,
    pub enterprise: EnterpriseView,
    pub inspectors: Vec<InspectorView>,
    pub place: String,
    /// The post (职务) of the enterprise's person on site, as the 现场检查记录 states it.
    pub on_site_post: Option<String>,
    pub started_at: String,
    pub created_by_device: String,
    /// draft or submitted
    pub status: String,
    pub status_label: String,
    pub submitted_at: Option<String>,
    pub submitted_by: Option<String>,
    pub documents: Vec<IssuedDocumentView>,
    /// For a re-inspection: the inspection record it follows up, and the number of the order
    /// it follows up (enforcement only; `None` for the other kinds).
    pub reinspects_record_id: Option<String>,
    pub reinspects_order_number: Option<String>,
    /// For an amendment: the locked record it corrects.
    pub amends_record_id: Option<String>,
    /// Answers by item code, in item-code order.
    pub answers: Vec<AnswerView>,
    pub hazards: Vec<HazardView>,
    pub conflicts: Vec<ConflictView>,
    pub heads: Vec<String>,
}

impl From<&Record> for RecordView {
    fn from(r: &Record) -> Self {
        RecordView {
            id: r.id.clone(),
            kind: r.kind.as_str().to_string(),
            inspection_kind: r.inspection_kind.as_str().to_string(),
            inspection_kind_label: r.inspection_kind.label().to_string(),
            template_id: r.template_id.clone(),
            template_version: r.template_version,
            enterprise: (&r.enterprise).into(),
            inspectors: r.inspectors.iter().map(Into::into).collect(),
            place: r.place.clone(),
            on_site_post: r.on_site_post.clone(),
            started_at: format_china(r.started_at),
            created_by_device: r.created_by_device.clone(),
            status: r.status.as_str().to_string(),
            status_label: r.status.label().to_string(),
            submitted_at: r.submitted_at.map(format_china),
            submitted_by: r.submitted_by.as_ref().map(|p| p.name.clone()),
            documents: r.documents.iter().map(Into::into).collect(),
            reinspects_record_id: r.reinspects.as_ref().map(|x| x.record_id.clone()),
            reinspects_order_number: r.reinspects.as_ref().and_then(|x| x.order_number.clone()),
            amends_record_id: r.amends.as_ref().map(|a| a.record_id.clone()),
            answers: r
                .answers
                .iter()
                .map(|(item, a)| AnswerView::new(item, a))
                .collect(),
            hazards: r.hazards.iter().map(Into::into).collect(),
            conflicts: r.conflicts.iter().map(Into::into).collect(),
            heads: r.heads.clone(),
        }
    }
}

/// One line of the record list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordSummaryView {
    pub id: String,
    pub kind: String,
    pub inspection_kind: String,
    pub template: String,
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

impl From<RecordSummary> for RecordSummaryView {
    fn from(s: RecordSummary) -> Self {
        RecordSummaryView {
            id: s.id,
            kind: s.kind,
            inspection_kind: s.inspection_kind,
            template: s.template,
            enterprise: s.enterprise,
            enterprise_name: s.enterprise_name,
            place: s.place,
            status: s.status,
            started_at: s.started_at,
            updated_at: s.updated_at,
            answered_count: s.answered_count,
            hazard_count: s.hazard_count,
            conflict_count: s.conflict_count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportOutcomeView {
    pub id: String,
    /// The record was new on this device.
    pub created: bool,
    /// The file brought changes this device did not have.
    pub changed: bool,
}

impl From<ImportOutcome> for ImportOutcomeView {
    fn from(o: ImportOutcome) -> Self {
        ImportOutcomeView {
            id: o.id,
            created: o.created,
            changed: o.changed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NumberBlockView {
    pub doc_type: DocumentType,
    pub year: i32,
    pub first: u32,
    pub last: u32,
    pub issued: u32,
    pub voided: u32,
    pub remaining: u32,
    pub next: Option<String>,
}

impl From<BlockStatus> for NumberBlockView {
    fn from(b: BlockStatus) -> Self {
        NumberBlockView {
            doc_type: b.doc_type.into(),
            year: b.year,
            first: b.first,
            last: b.last,
            issued: b.issued,
            voided: b.voided,
            remaining: b.remaining,
            next: b.next,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NumberEntryView {
    pub number: String,
    pub doc_type: DocumentType,
    /// issued or voided
    pub state: String,
    pub record_id: Option<String>,
    pub reason: Option<String>,
    pub at: String,
}

impl From<NumberEntry> for NumberEntryView {
    fn from(n: NumberEntry) -> Self {
        NumberEntryView {
            number: n.number,
            doc_type: n.doc_type.into(),
            state: n.state,
            record_id: n.record_id,
            reason: n.reason,
            at: n.at,
        }
    }
}

/// The server's signed proof that it locked a record at `heads`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptView {
    pub record_id: String,
    pub heads: Vec<String>,
    pub content_hash: String,
    pub locked_at: String,
    pub log_index: i64,
    pub previous_hash: String,
    pub entry_hash: String,
    pub signature: String,
}

impl From<&Receipt> for ReceiptView {
    fn from(r: &Receipt) -> Self {
        ReceiptView {
            record_id: r.record_id.clone(),
            heads: r.heads.clone(),
            content_hash: r.content_hash.clone(),
            locked_at: format_china(r.locked_at),
            log_index: r.log_index,
            previous_hash: r.previous_hash.clone(),
            entry_hash: r.entry_hash.clone(),
            signature: r.signature.clone(),
        }
    }
}

/// A stored receipt checked again on the device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptCheckView {
    pub receipt: ReceiptView,
    pub valid: bool,
    /// Why it does not verify, in Chinese.
    pub problem: Option<String>,
}

impl From<ReceiptCheck> for ReceiptCheckView {
    fn from(c: ReceiptCheck) -> Self {
        ReceiptCheckView {
            receipt: (&c.receipt).into(),
            valid: c.problem.is_none(),
            problem: c.problem,
        }
    }
}

/// A record's standing with the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStateView {
    pub locked: bool,
    pub receipt: Option<ReceiptView>,
    /// The code of the last rejection, such as `record_locked`.
    pub last_code: Option<String>,
    pub last_message: Option<String>,
}

impl From<RecordSyncState> for SyncStateView {
    fn from(s: RecordSyncState) -> Self {
        SyncStateView {
            locked: s.locked,
            receipt: s.receipt.as_ref().map(Into::into),
            last_code: s.last_code,
            last_message: s.last_message,
        }
    }
}

/// What the server did with one uploaded record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordOutcomeView {
    pub id: String,
    /// accepted, locked or rejected
    pub result: String,
    pub code: Option<String>,
    pub message: Option<String>,
    pub receipt: Option<ReceiptView>,
    /// The amendment draft made from changes the server refused as late.
    pub amendment: Option<String>,
}

impl From<&RecordOutcome> for RecordOutcomeView {
    fn from(o: &RecordOutcome) -> Self {
        RecordOutcomeView {
            id: o.id.clone(),
            result: match o.result {
                UploadResult::Accepted => "accepted",
                UploadResult::Locked => "locked",
                UploadResult::Rejected => "rejected",
            }
            .to_string(),
            code: o.code.clone(),
            message: o.message.clone(),
            receipt: o.receipt.as_ref().map(Into::into),
            amendment: o.amendment.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReportView {
    pub records: Vec<RecordOutcomeView>,
    /// Records received or changed by co-inspectors.
    pub downloaded: Vec<String>,
    pub enterprises: u32,
    pub inspectors: u32,
    pub templates: u32,
    pub agency_updated: bool,
    pub number_blocks: u32,
    /// IoT alerts new to the device or newly acknowledged.
    pub alerts: u32,
    pub problems: Vec<String>,
}

impl From<&SyncReport> for SyncReportView {
    fn from(r: &SyncReport) -> Self {
        SyncReportView {
            records: r.records.iter().map(Into::into).collect(),
            downloaded: r.downloaded.clone(),
            enterprises: r.enterprises as u32,
            inspectors: r.inspectors as u32,
            templates: r.templates as u32,
            agency_updated: r.agency_updated,
            number_blocks: r.number_blocks as u32,
            alerts: r.alerts as u32,
            problems: r.problems.clone(),
        }
    }
}

/// The account a login opened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LoginView {
    pub server: String,
    pub login: String,
    pub name: String,
    pub role: String,
    pub role_label: String,
    pub scope: String,
}

/// An IoT alert of an enterprise in the device's scope (rain 停产撤人, 带班缺岗, …), times in
/// China time as the screens show them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AlertView {
    pub alert_id: String,
    pub rule: String,
    pub rule_label: String,
    pub credit_code: String,
    pub enterprise_name: String,
    pub title: String,
    pub occurred_at: String,
    pub raised_at: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
}

impl From<&anjian_core::sync::protocol::AlertUpdate> for AlertView {
    fn from(a: &anjian_core::sync::protocol::AlertUpdate) -> Self {
        AlertView {
            alert_id: a.alert_id.clone(),
            rule: a.rule.clone(),
            rule_label: a.rule_label.clone(),
            credit_code: a.credit_code.clone(),
            enterprise_name: a.enterprise_name.clone(),
            title: a.title.clone(),
            occurred_at: format_china(a.occurred_at),
            raised_at: format_china(a.raised_at),
            acknowledged_by: a.acknowledged_by.clone(),
            acknowledged_at: a.acknowledged_at.map(format_china),
        }
    }
}
