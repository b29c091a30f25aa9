//! An enforcement record is one Automerge document. This module is the only place that knows
//! the document's layout; everything else works with the plain [`Record`] read from it.
//!
//! Layout (root map):
//!
//! ```text
//! schema: 1                     id, kind, inspection_kind, agency?, place, created_by_device
//! on_site_post?                 职务 of the enterprise's person on site (set until the record's
//!                               现场检查记录 is issued)
//! template: {id, version}       enterprise: {credit_code, name, address, industry, region_code,
//! started_at, ended_at?                     legal_representative, phone, sector?,
//!                                           special_operations?}  (snapshot at start)
//! gps?: {lat, lon}              inspectors: {CERT: {name, cert, cert_valid_until?, position}}
//! status: draft|submitted       submitted_at?, submitted_by?: {name, cert}
//! documents?: {record|order|reinspection: {number, issued_at, issued_by_name, issued_by_cert}}
//! amends?: {record_id, locked_heads: "h1,h2", late_heads}     (amendment records only)
//! reinspects?: {record_id, inspected_at?,                         (reinspection records only:
//!               order_number?, order_issued_at?,                    the original inspection, its
//!               hazards: {ITEM: {description, class, legal_basis,   hazards, which are the items
//!                                deadline?, measure?, note?}}}       answered, and the order's
//!                                                                   number and date for, and only
//!                                                                   for, enforcement)
//! answers: {ITEM: {status, value?, note?, photos: [sha256], by_name, by_cert, device, at,
//!                  hazard?: {description, class, legal_basis, measure?, deadline?},
//!                  resolved_by_name?, resolved_by_cert?}}
//! ```
//!
//! Answers and inspectors are maps keyed by item code and certificate number, so two devices
//! working on different items merge without conflict. An answer is always written as a whole
//! new map: two devices answering the same item concurrently leave two values under one key,
//! which [`RecordDoc::read`] reports as a [`Conflict`] until a later answer supersedes both.
//! Documents are issued only on the device that created the record, so `documents` has one
//! writer and its entries never conflict.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::Transactable,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::agency::DocType;
use crate::enterprise::{CreditCode, Enterprise, parse_special_operations};
use crate::error::{Error, Result};
use crate::template::InspectionKind;
use crate::time::{format_china, from_millis, to_millis};

const SCHEMA: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Inspection,
    Reinspection,
    Amendment,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Inspection => "inspection",
            RecordKind::Reinspection => "reinspection",
            RecordKind::Amendment => "amendment",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            RecordKind::Inspection,
            RecordKind::Reinspection,
            RecordKind::Amendment,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Submitted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "已提交",
        }
    }
}

/// Who did something: the inspector's name and enforcement certificate number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub name: String,
    pub cert: String,
}

/// An inspector taking part in an inspection, with the certificate validity known at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspector {
    pub name: String,
    pub cert: String,
    pub cert_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerStatus {
    Pass,
    Fail,
    Na,
    /// A text item's answer was written down.
    Recorded,
}

impl AnswerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerStatus::Pass => "pass",
            AnswerStatus::Fail => "fail",
            AnswerStatus::Na => "na",
            AnswerStatus::Recorded => "recorded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AnswerStatus::Pass => "合格",
            AnswerStatus::Fail => "不合格",
            AnswerStatus::Na => "不适用",
            AnswerStatus::Recorded => "已记录",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            AnswerStatus::Pass,
            AnswerStatus::Fail,
            AnswerStatus::Na,
            AnswerStatus::Recorded,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for AnswerValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerValue::Number(n) => write!(f, "{n}"),
            AnswerValue::Text(t) => f.write_str(t),
        }
    }
}

/// A hazard (隐患) found at a failed item. It copies the item's class and legal basis so that
/// the record stays self-contained whatever later template versions say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hazard {
    pub description: String,
    pub class: String,
    pub legal_basis: String,
    pub measure: Option<String>,
    pub deadline: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub status: AnswerStatus,
    pub value: Option<AnswerValue>,
    pub note: Option<String>,
    pub photos: Vec<String>,
    pub by: Person,
    pub device: String,
    #[serde(serialize_with = "serialize_china_time")]
    pub at: DateTime<Utc>,
    pub hazard: Option<Hazard>,
    /// Set when this answer was chosen to resolve a conflict.
    pub resolved_by: Option<Person>,
}

impl Answer {
    /// Whether two answers say the same thing, whoever gave them and whenever.
    pub fn same_content(&self, other: &Answer) -> bool {
        self.status == other.status
            && self.value == other.value
            && self.note == other.note
            && self.photos == other.photos
            && self.hazard == other.hazard
    }
}

/// A hazard as listed on the record: the item it was found at and its details.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardEntry {
    pub item: String,
    #[serde(flatten)]
    pub hazard: Hazard,
    pub note: Option<String>,
}

/// Two or more devices answered the same item differently. `values` holds every answer, the
/// one currently shown first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub item: String,
    pub values: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
}

/// An enforcement document issued for a record. Its number never changes, however often the
/// document is rendered or printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedDocument {
    pub doc_type: DocType,
    pub number: String,
    #[serde(serialize_with = "serialize_china_time")]
    pub issued_at: DateTime<Utc>,
    pub issued_by: Person,
}

/// What a re-inspection record re-inspects: the submitted inspection (its record and when it
/// started) and the hazards it found, copied when the re-inspection starts. An enforcement
/// re-inspection follows up the order issued for them and names it (number and issue time); a
/// self, resident or expert inspection has no order, and both are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reinspects {
    pub record_id: String,
    /// When the re-inspected inspection started; `None` in re-inspections written before it
    /// was kept (all of them of an order).
    #[serde(serialize_with = "serialize_opt_china_time")]
    pub inspected_at: Option<DateTime<Utc>>,
    pub order_number: Option<String>,
    #[serde(serialize_with = "serialize_opt_china_time")]
    pub order_issued_at: Option<DateTime<Utc>>,
    pub hazards: Vec<HazardEntry>,
}

/// What an amendment corrects: a record the server locked, at the heads it locked, and the
/// device's heads whose late changes the amendment carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amends {
    pub record_id: String,
    pub locked_heads: Vec<String>,
    pub late_heads: Vec<String>,
}

/// Everything needed to create a record document.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub kind: RecordKind,
    pub inspection_kind: InspectionKind,
    pub agency: Option<String>,
    pub template_id: String,
    pub template_version: u32,
    pub enterprise: Enterprise,
    pub inspectors: Vec<Inspector>,
    pub place: String,
    pub gps: Option<Gps>,
    pub started_at: DateTime<Utc>,
    pub device_id: String,
    pub reinspects: Option<Reinspects>,
    pub amends: Option<Amends>,
}

/// A record as read from its document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: String,
    pub kind: RecordKind,
    pub inspection_kind: InspectionKind,
    pub agency: Option<String>,
    pub template_id: String,
    pub template_version: u32,
    pub enterprise: Enterprise,
    pub inspectors: Vec<Inspector>,
    pub place: String,
    /// The post (职务) of the enterprise's person on site, as the inspection record states it.
    pub on_site_post: Option<String>,
    pub gps: Option<Gps>,
    #[serde(serialize_with = "serialize_china_time")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "serialize_opt_china_time")]
    pub ended_at: Option<DateTime<Utc>>,
    pub created_by_device: String,
    pub status: Status,
    #[serde(serialize_with = "serialize_opt_china_time")]
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<Person>,
    /// The enforcement documents issued for this record, with their numbers.
    pub documents: Vec<IssuedDocument>,
    /// For a re-inspection: the inspection (and, for enforcement, the order) it follows up.
    pub reinspects: Option<Reinspects>,
    /// For an amendment: the locked record it corrects.
    pub amends: Option<Amends>,
    pub answers: BTreeMap<String, Answer>,
    pub hazards: Vec<HazardEntry>,
    pub conflicts: Vec<Conflict>,
    /// Hex hashes of the document's current heads.
    pub heads: Vec<String>,
}

fn serialize_china_time<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_china(*at))
}

fn serialize_opt_china_time<S: serde::Serializer>(
    at: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&format_china(*at)),
        None => s.serialize_none(),
    }
}

/// A record's Automerge document, with the [`Record`] last read from it. Answering an item
/// updates that read model in place (a local answer supersedes every earlier value of the
/// item, so it also ends any conflict there); every other change drops it, to be read afresh.
#[derive(Debug)]
pub struct RecordDoc {
    id: String,
    doc: AutoCommit,
    read_model: Option<Record>,
}

/// The device's actor id: the 16 bytes of its UUID, so every change names the device it came from.
pub fn actor_for_device(device_id: &str) -> ActorId {
    match uuid::Uuid::parse_str(device_id) {
        Ok(uuid) => ActorId::from(uuid.as_bytes().as_slice()),
        Err(_) => ActorId::from(device_id.as_bytes()),
    }
}

impl RecordDoc {
    /// Creates the document of a new record with a fresh UUIDv7 id.
    pub fn create(new: &NewRecord) -> Result<RecordDoc> {
        let id = uuid::Uuid::now_v7().to_string();
        let mut doc = AutoCommit::new().with_actor(actor_for_device(&new.device_id));
        doc.put(ROOT, "schema", SCHEMA)?;
        doc.put(ROOT, "id", id.as_str())?;
        doc.put(ROOT, "kind", new.kind.as_str())?;
        doc.put(ROOT, "inspection_kind", new.inspection_kind.as_str())?;
        if let Some(agency) = &new.agency {
            doc.put(ROOT, "agency", agency.as_str())?;
        }
        let template = doc.put_object(ROOT, "template", ObjType::Map)?;
        doc.put(&template, "id", new.template_id.as_str())?;
        doc.put(&template, "version", i64::from(new.template_version))?;
        let enterprise = doc.put_object(ROOT, "enterprise", ObjType::Map)?;
        let e = &new.enterprise;
        for (key, value) in [
            ("credit_code", e.credit_code.as_str()),
            ("name", &e.name),
            ("address", &e.address),
            ("industry", &e.industry),
            ("region_code", &e.region_code),
            ("legal_representative", &e.legal_representative),
            ("phone", &e.phone),
        ] {
            doc.put(&enterprise, key, value)?;
        }
        // Written only when the register says, so records of enterprises without them keep
        // the layout they always had; they pick which 10号令 items the record asks.
        if let Some(sector) = &e.sector {
            doc.put(&enterprise, "sector", sector.as_str())?;
        }
        if e.special_operations.is_some() {
            doc.put(
                &enterprise,
                "special_operations",
                e.special_operations_cell(),
            )?;
        }
        doc.put(ROOT, "place", new.place.as_str())?;
        if let Some(gps) = &new.gps {
            let obj = doc.put_object(ROOT, "gps", ObjType::Map)?;
            doc.put(&obj, "lat", gps.lat)?;
            doc.put(&obj, "lon", gps.lon)?;
        }
        doc.put(
            ROOT,
            "started_at",
            ScalarValue::Timestamp(new.started_at.timestamp_millis()),
        )?;
        doc.put(ROOT, "created_by_device", new.device_id.as_str())?;
        doc.put(ROOT, "status", Status::Draft.as_str())?;
        doc.put_object(ROOT, "inspectors", ObjType::Map)?;
        doc.put_object(ROOT, "answers", ObjType::Map)?;
        if let Some(reinspects) = &new.reinspects {
            let obj = doc.put_object(ROOT, "reinspects", ObjType::Map)?;
            doc.put(&obj, "record_id", reinspects.record_id.as_str())?;
            if let Some(at) = reinspects.inspected_at {
                doc.put(
                    &obj,
                    "inspected_at",
                    ScalarValue::Timestamp(at.timestamp_millis()),
                )?;
            }
            if let Some(number) = &reinspects.order_number {
                doc.put(&obj, "order_number", number.as_str())?;
            }
            if let Some(issued_at) = reinspects.order_issued_at {
                doc.put(
                    &obj,
                    "order_issued_at",
                    ScalarValue::Timestamp(issued_at.timestamp_millis()),
                )?;
            }
            let hazards = doc.put_object(&obj, "hazards", ObjType::Map)?;
            for entry in &reinspects.hazards {
                let h = doc.put_object(&hazards, entry.item.as_str(), ObjType::Map)?;
                put_hazard_fields(&mut doc, &h, &entry.hazard)?;
                if let Some(note) = &entry.note {
                    doc.put(&h, "note", note.as_str())?;
                }
            }
        }
        if let Some(amends) = &new.amends {
            let obj = doc.put_object(ROOT, "amends", ObjType::Map)?;
            doc.put(&obj, "record_id", amends.record_id.as_str())?;
            doc.put(&obj, "locked_heads", amends.locked_heads.join(","))?;
            doc.put(&obj, "late_heads", amends.late_heads.join(","))?;
        }
        let mut record = RecordDoc {
            id,
            doc,
            read_model: None,
        };
        for inspector in &new.inspectors {
            record.put_inspector(inspector)?;
        }
        record.doc.commit();
        Ok(record)
    }

    /// Loads a saved document followed by its appended incremental saves.
    pub fn load(
        id: &str,
        saved: &[u8],
        increments: &[Vec<u8>],
        device_id: &str,
    ) -> Result<RecordDoc> {
        let corrupt = |problem: String| Error::CorruptRecord {
            id: id.to_string(),
            problem,
        };
        let mut doc = AutoCommit::load(saved)
            .map_err(|e| corrupt(e.to_string()))?
            .with_actor(actor_for_device(device_id));
        for increment in increments {
            doc.load_incremental(increment)
                .map_err(|e| corrupt(e.to_string()))?;
        }
        Ok(RecordDoc {
            id: id.to_string(),
            doc,
            read_model: None,
        })
    }

    /// Loads a document received from elsewhere, whose id is read from the document itself.
    pub fn load_foreign(bytes: &[u8], device_id: &str) -> Result<RecordDoc> {
        let doc = AutoCommit::load(bytes)
            .map_err(|e| Error::CorruptRecord {
                id: "?".into(),
                problem: e.to_string(),
            })?
            .with_actor(actor_for_device(device_id));
        let id = match doc.get(ROOT, "id")? {
            Some((Value::Scalar(s), _)) => s.as_str().map(str::to_string),
            _ => None,
        }
        .ok_or_else(|| Error::CorruptRecord {
            id: "?".into(),
            problem: "文档中没有记录编号".into(),
        })?;
        let mut record = RecordDoc {
            id,
            doc,
            read_model: None,
        };
        record.read()?;
        Ok(record)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since `heads`, as an incremental save.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Applies changes received from elsewhere (an incremental save or a whole document).
    /// Changes whose dependencies this document lacks are refused, not left pending.
    pub fn apply_changes(&mut self, bytes: &[u8]) -> Result<()> {
        self.read_model = None;
        self.doc
            .load_incremental(bytes)
            .map_err(|e| self.corrupt(format!("变更数据无法解析：{e}")))?;
        if !self.doc.get_missing_deps(&[]).is_empty() {
            return Err(Error::MissingChanges(self.id.clone()));
        }
        Ok(())
    }

    /// Whether this document holds every change named (hex hashes).
    pub fn contains_heads(&mut self, heads: &[String]) -> bool {
        heads.iter().all(|hash| {
            hash.parse::<ChangeHash>()
                .ok()
                .and_then(|hash| self.doc.get_change_by_hash(&hash))
                .is_some()
        })
    }

    /// The changes made since `heads` (hex hashes), as an incremental save; the whole
    /// document when `heads` is empty.
    pub fn changes_since(&mut self, heads: &[String]) -> Result<Vec<u8>> {
        if heads.is_empty() {
            return Ok(self.doc.save());
        }
        let heads = parse_heads(heads).map_err(|problem| self.corrupt(problem))?;
        Ok(self.doc.save_after(&heads))
    }

    /// A copy of this record as it was at `heads` (hex hashes).
    pub fn fork_at(&mut self, heads: &[String]) -> Result<RecordDoc> {
        let parsed = parse_heads(heads).map_err(|problem| self.corrupt(problem))?;
        let doc = self.doc.fork_at(&parsed)?;
        Ok(RecordDoc {
            id: self.id.clone(),
            doc,
            read_model: None,
        })
    }

    /// Merges another copy of this record into this one.
    pub fn merge(&mut self, other: &mut RecordDoc) -> Result<()> {
        if other.id != self.id {
            return Err(Error::InvalidInput(format!(
                "不能把记录 {} 合并进记录 {}",
                other.id, self.id
            )));
        }
        self.read_model = None;
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    pub fn put_inspector(&mut self, inspector: &Inspector) -> Result<()> {
        self.read_model = None;
        let inspectors = self.map_at_root("inspectors")?;
        // The lead inspector comes first in the documents, then the others in the order they
        // joined; an inspector already listed keeps the place.
        let position = match self.doc.get(&inspectors, inspector.cert.as_str())? {
            Some((Value::Object(ObjType::Map), existing)) => {
                match self.doc.get(&existing, "position")? {
                    Some((Value::Scalar(s), _)) => s.as_i64(),
                    _ => None,
                }
            }
            _ => None,
        }
        .unwrap_or(self.doc.length(&inspectors) as i64);
        let obj = self
            .doc
            .put_object(&inspectors, inspector.cert.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "name", inspector.name.as_str())?;
        self.doc.put(&obj, "cert", inspector.cert.as_str())?;
        if let Some(until) = inspector.cert_valid_until {
            self.doc.put(&obj, "cert_valid_until", until.to_string())?;
        }
        self.doc.put(&obj, "position", position)?;
        self.doc.commit();
        Ok(())
    }

    /// Writes an answer as a new map under the item's key.
    pub fn put_answer(&mut self, item: &str, answer: &Answer) -> Result<()> {
        let answers = self.map_at_root("answers")?;
        let obj = self.doc.put_object(&answers, item, ObjType::Map)?;
        let d = &mut self.doc;
        d.put(&obj, "status", answer.status.as_str())?;
        match &answer.value {
            Some(AnswerValue::Number(n)) => d.put(&obj, "value", *n)?,
            Some(AnswerValue::Text(t)) => d.put(&obj, "value", t.as_str())?,
            None => {}
        }
        if let Some(note) = &answer.note {
            d.put(&obj, "note", note.as_str())?;
        }
        let photos = d.put_object(&obj, "photos", ObjType::List)?;
        for (index, photo) in answer.photos.iter().enumerate() {
            d.insert(&photos, index, photo.as_str())?;
        }
        d.put(&obj, "by_name", answer.by.name.as_str())?;
        d.put(&obj, "by_cert", answer.by.cert.as_str())?;
        d.put(&obj, "device", answer.device.as_str())?;
        d.put(
            &obj,
            "at",
            ScalarValue::Timestamp(answer.at.timestamp_millis()),
        )?;
        if let Some(hazard) = &answer.hazard {
            let h = d.put_object(&obj, "hazard", ObjType::Map)?;
            put_hazard_fields(d, &h, hazard)?;
        }
        if let Some(resolver) = &answer.resolved_by {
            d.put(&obj, "resolved_by_name", resolver.name.as_str())?;
            d.put(&obj, "resolved_by_cert", resolver.cert.as_str())?;
        }
        d.commit();
        let heads = sorted_heads(&mut self.doc);
        if let Some(record) = &mut self.read_model {
            let mut stored = answer.clone();
            stored.at = to_millis(answer.at);
            record.answers.insert(item.to_string(), stored);
            record.conflicts.retain(|conflict| conflict.item != item);
            record.hazards = hazards_of(&record.answers);
            record.heads = heads;
        }
        Ok(())
    }

    /// Sets (or, with an empty text, clears) the on-site person's post. One key written whole,
    /// so two devices setting it concurrently keep one value, as Automerge resolves a key.
    pub fn put_on_site_post(&mut self, post: &str) -> Result<()> {
        self.read_model = None;
        let post = post.trim();
        if post.is_empty() {
            if self.doc.get(ROOT, "on_site_post")?.is_some() {
                self.doc.delete(ROOT, "on_site_post")?;
            }
        } else {
            self.doc.put(ROOT, "on_site_post", post)?;
        }
        self.doc.commit();
        Ok(())
    }

    pub fn put_document(&mut self, document: &IssuedDocument) -> Result<()> {
        self.read_model = None;
        let documents = match self.doc.get(ROOT, "documents")? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            Some(_) => return Err(self.corrupt("documents 应为对象".into())),
            None => self.doc.put_object(ROOT, "documents", ObjType::Map)?,
        };
        let d = &mut self.doc;
        let obj = d.put_object(&documents, document.doc_type.as_str(), ObjType::Map)?;
        d.put(&obj, "number", document.number.as_str())?;
        d.put(
            &obj,
            "issued_at",
            ScalarValue::Timestamp(document.issued_at.timestamp_millis()),
        )?;
        d.put(&obj, "issued_by_name", document.issued_by.name.as_str())?;
        d.put(&obj, "issued_by_cert", document.issued_by.cert.as_str())?;
        d.commit();
        Ok(())
    }

    pub fn mark_submitted(&mut self, at: DateTime<Utc>, by: &Person) -> Result<()> {
        self.read_model = None;
        let d = &mut self.doc;
        let millis = ScalarValue::Timestamp(at.timestamp_millis());
        if d.get(ROOT, "ended_at")?.is_none() {
            d.put(ROOT, "ended_at", millis.clone())?;
        }
        d.put(ROOT, "submitted_at", millis)?;
        let who = d.put_object(ROOT, "submitted_by", ObjType::Map)?;
        d.put(&who, "name", by.name.as_str())?;
        d.put(&who, "cert", by.cert.as_str())?;
        d.put(ROOT, "status", Status::Submitted.as_str())?;
        d.commit();
        Ok(())
    }

    fn map_at_root(&self, key: &str) -> Result<ObjId> {
        match self.doc.get(ROOT, key)? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(self.corrupt(format!("缺少 {key}"))),
        }
    }

    fn corrupt(&self, problem: String) -> Error {
        Error::CorruptRecord {
            id: self.id.clone(),
            problem,
        }
    }

    /// The record in this document. A document that does not have the layout above is
    /// reported as corrupt, naming what is missing.
    pub fn read(&mut self) -> Result<Record> {
        if let Some(record) = self.read_model.clone() {
            // Tests run with debug assertions: every in-place update is checked against a full read.
            debug_assert_eq!(Some(&record), self.read_document().ok().as_ref());
            return Ok(record);
        }
        let record = self.read_document()?;
        self.read_model = Some(record.clone());
        Ok(record)
    }

    fn read_document(&mut self) -> Result<Record> {
        let heads = sorted_heads(&mut self.doc);
        let r = Reader::new(&self.doc, &self.id);
        let schema = r.int(&ROOT, "schema")?;
        if schema != SCHEMA {
            return Err(r.corrupt(format!("未知的记录格式版本 {schema}")));
        }
        let id = r.str(&ROOT, "id")?;
        if id != self.id {
            return Err(r.corrupt(format!("文档中的编号 {id} 与记录编号不符")));
        }
        let kind = r.str(&ROOT, "kind")?;
        let kind =
            RecordKind::parse(&kind).ok_or_else(|| r.corrupt(format!("未知的记录类型 {kind}")))?;
        let inspection_kind = r.str(&ROOT, "inspection_kind")?;
        let inspection_kind = InspectionKind::parse(&inspection_kind)
            .ok_or_else(|| r.corrupt(format!("未知的检查类型 {inspection_kind}")))?;

        let template = r.map(&ROOT, "template")?;
        let template_version = u32::try_from(r.int(&template, "version")?)
            .map_err(|_| r.corrupt("模板版本无效".into()))?;

        let e = r.map(&ROOT, "enterprise")?;
        let credit_code = CreditCode::parse(&r.str(&e, "credit_code")?)
            .map_err(|err| r.corrupt(err.to_string()))?;
        let enterprise = Enterprise {
            credit_code,
            name: r.str(&e, "name")?,
            address: r.str(&e, "address")?,
            industry: r.str(&e, "industry")?,
            region_code: r.str(&e, "region_code")?,
            legal_representative: r.str(&e, "legal_representative")?,
            phone: r.str(&e, "phone")?,
            sector: r.opt_str(&e, "sector")?,
            special_operations: match r.opt_str(&e, "special_operations")? {
                Some(cell) => parse_special_operations(&cell).map_err(|err| r.corrupt(err))?,
                None => None,
            },
        };

        let gps = match r.opt_map(&ROOT, "gps")? {
            Some(obj) => Some(Gps {
                lat: r.f64(&obj, "lat")?,
                lon: r.f64(&obj, "lon")?,
            }),
            None => None,
        };

        let inspectors_obj = r.map(&ROOT, "inspectors")?;
        let mut inspectors = Vec::new();
        let mut positions = Vec::new();
        let certs: Vec<String> = r
            .fields(&inspectors_obj)
            .iter()
            .map(|f| f.0.clone())
            .collect();
        for cert in certs {
            let obj = r.map(&inspectors_obj, &cert)?;
            let cert_valid_until = match r.opt_str(&obj, "cert_valid_until")? {
                Some(text) => Some(
                    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                        .map_err(|_| r.corrupt(format!("执法证 {cert} 有效期无效")))?,
                ),
                None => None,
            };
            // Records written before positions were kept sort by certificate.
            let position = match r.scalar(&obj, "position")? {
                Some(ScalarValue::Int(n)) => n,
                _ => i64::MAX,
            };
            positions.push(position);
            inspectors.push(Inspector {
                name: r.str(&obj, "name")?,
                cert: r.str(&obj, "cert")?,
                cert_valid_until,
            });
        }
        let mut order: Vec<usize> = (0..inspectors.len()).collect();
        // Keys come in certificate order, so a stable sort breaks ties by certificate.
        order.sort_by_key(|&i| positions[i]);
        let inspectors: Vec<Inspector> = order.into_iter().map(|i| inspectors[i].clone()).collect();

        let answers_obj = r.map(&ROOT, "answers")?;
        let mut answers = BTreeMap::new();
        let mut conflicts = Vec::new();
        for (item, _, _, conflict) in r.fields(&answers_obj).iter() {
            let item = item.clone();
            let winner_obj = r.map(&answers_obj, &item)?;
            let winner = r.answer(&winner_obj)?;
            let mut values = vec![winner.clone()];
            let others = if *conflict {
                self.doc.get_all(&answers_obj, item.as_str())?
            } else {
                Vec::new()
            };
            for (value, obj) in others {
                if obj == winner_obj {
                    continue;
                }
                if value != Value::Object(ObjType::Map) {
                    return Err(r.corrupt(format!("答案 {item} 不是对象")));
                }
                let other = r.answer(&obj)?;
                if !values.iter().any(|seen| seen.same_content(&other)) {
                    values.push(other);
                }
            }
            if values.len() > 1 {
                conflicts.push(Conflict {
                    item: item.clone(),
                    values,
                });
            }
            answers.insert(item, winner);
        }
        let hazards = hazards_of(&answers);

        let status = match r.str(&ROOT, "status")?.as_str() {
            "draft" => Status::Draft,
            "submitted" => Status::Submitted,
            other => return Err(r.corrupt(format!("未知的状态 {other}"))),
        };
        let submitted_by = match r.opt_map(&ROOT, "submitted_by")? {
            Some(obj) => Some(Person {
                name: r.str(&obj, "name")?,
                cert: r.str(&obj, "cert")?,
            }),
            None => None,
        };

        let mut documents = Vec::new();
        if let Some(obj) = r.opt_map(&ROOT, "documents")? {
            let keys: Vec<String> = r.fields(&obj).iter().map(|f| f.0.clone()).collect();
            for key in keys {
                let doc_type = DocType::parse(&key)
                    .ok_or_else(|| r.corrupt(format!("未知的文书类型 {key}")))?;
                let entry = r.map(&obj, &key)?;
                documents.push(IssuedDocument {
                    doc_type,
                    number: r.str(&entry, "number")?,
                    issued_at: r.timestamp(&entry, "issued_at")?,
                    issued_by: r
                        .opt_person(&entry, "issued_by")?
                        .ok_or_else(|| r.corrupt(format!("文书 {key} 缺少签发人")))?,
                });
            }
        }
        documents.sort_by_key(|d| d.doc_type);

        let reinspects = match r.opt_map(&ROOT, "reinspects")? {
            Some(obj) => {
                let hazards_obj = r.map(&obj, "hazards")?;
                let mut hazards = Vec::new();
                let items: Vec<String> =
                    r.fields(&hazards_obj).iter().map(|f| f.0.clone()).collect();
                for item in items {
                    let h = r.map(&hazards_obj, &item)?;
                    hazards.push(HazardEntry {
                        hazard: r.hazard(&h)?,
                        note: r.opt_str(&h, "note")?,
                        item,
                    });
                }
                let order_number = r.opt_str(&obj, "order_number")?;
                let order_issued_at = r.opt_timestamp(&obj, "order_issued_at")?;
                if order_number.is_some() != order_issued_at.is_some() {
                    return Err(r.corrupt("复查记录的原指令书编号与签发时间应同时记载".into()));
                }
                // The order is what an enforcement re-inspection follows up; the other kinds
                // issue none.
                if order_number.is_some() != (inspection_kind == InspectionKind::Enforcement) {
                    return Err(r.corrupt(match order_number {
                        None => "执法检查的复查记录缺少原责令限期整改指令书编号".into(),
                        Some(_) => format!(
                            "{}的复查记录不应引用责令限期整改指令书",
                            inspection_kind.label()
                        ),
                    }));
                }
                Some(Reinspects {
                    record_id: r.str(&obj, "record_id")?,
                    inspected_at: r.opt_timestamp(&obj, "inspected_at")?,
                    order_number,
                    order_issued_at,
                    hazards,
                })
            }
            None => None,
        };
        if (kind == RecordKind::Reinspection) != reinspects.is_some() {
            return Err(r.corrupt("复查记录必须且只有复查记录才引用原检查记录".into()));
        }
        let split = |text: String| crate::sync::protocol::heads_from_text(&text);
        let amends = match r.opt_map(&ROOT, "amends")? {
            Some(obj) => Some(Amends {
                record_id: r.str(&obj, "record_id")?,
                locked_heads: split(r.str(&obj, "locked_heads")?),
                late_heads: split(r.str(&obj, "late_heads")?),
            }),
            None => None,
        };
        if (kind == RecordKind::Amendment) != amends.is_some() {
            return Err(r.corrupt("补正记录必须且只有补正记录才引用被补正的记录".into()));
        }

        Ok(Record {
            id,
            kind,
            inspection_kind,
            agency: r.opt_str(&ROOT, "agency")?,
            template_id: r.str(&template, "id")?,
            template_version,
            enterprise,
            inspectors,
            place: r.str(&ROOT, "place")?,
            on_site_post: r.opt_str(&ROOT, "on_site_post")?,
            gps,
            started_at: r.timestamp(&ROOT, "started_at")?,
            ended_at: r.opt_timestamp(&ROOT, "ended_at")?,
            created_by_device: r.str(&ROOT, "created_by_device")?,
            status,
            submitted_at: r.opt_timestamp(&ROOT, "submitted_at")?,
            submitted_by,
            documents,
            reinspects,
            amends,
            answers,
            hazards,
            conflicts,
            heads,
        })
    }
}

fn put_hazard_fields(doc: &mut AutoCommit, obj: &ObjId, hazard: &Hazard) -> Result<()> {
    doc.put(obj, "description", hazard.description.as_str())?;
    doc.put(obj, "class", hazard.class.as_str())?;
    doc.put(obj, "legal_basis", hazard.legal_basis.as_str())?;
    if let Some(measure) = &hazard.measure {
        doc.put(obj, "measure", measure.as_str())?;
    }
    if let Some(deadline) = hazard.deadline {
        doc.put(obj, "deadline", deadline.to_string())?;
    }
    Ok(())
}

fn parse_heads(heads: &[String]) -> std::result::Result<Vec<ChangeHash>, String> {
    heads
        .iter()
        .map(|hash| {
            hash.parse::<ChangeHash>()
                .map_err(|_| format!("版本哈希 {hash:?} 无效"))
        })
        .collect()
}

fn sorted_heads(doc: &mut AutoCommit) -> Vec<String> {
    let mut heads: Vec<String> = doc.get_heads().iter().map(ChangeHash::to_string).collect();
    heads.sort();
    heads
}

fn hazards_of(answers: &BTreeMap<String, Answer>) -> Vec<HazardEntry> {
    answers
        .iter()
        .filter_map(|(item, answer)| {
            answer.hazard.as_ref().map(|hazard| HazardEntry {
                item: item.clone(),
                hazard: hazard.clone(),
                note: answer.note.clone(),
            })
        })
        .collect()
}

/// Typed reads with errors that say which field of which record is wrong. Each map is read
/// in one pass the first time one of its fields is asked for: a lookup per field costs the
/// columnar document a seek each, which made reading a 40-answer record take milliseconds.
struct Reader<'a> {
    doc: &'a AutoCommit,
    id: &'a str,
    maps: RefCell<HashMap<ObjId, Rc<MapFields>>>,
}

/// A map's keys with their winning values, and whether another device's value conflicts.
type MapFields = Vec<(String, Value<'static>, ObjId, bool)>;

impl<'a> Reader<'a> {
    fn corrupt(&self, problem: String) -> Error {
        Error::CorruptRecord {
            id: self.id.to_string(),
            problem,
        }
    }

    fn new(doc: &'a AutoCommit, id: &'a str) -> Reader<'a> {
        Reader {
            doc,
            id,
            maps: RefCell::default(),
        }
    }

    fn fields(&self, obj: &ObjId) -> Rc<MapFields> {
        if let Some(fields) = self.maps.borrow().get(obj) {
            return fields.clone();
        }
        let fields: Rc<MapFields> = Rc::new(
            self.doc
                .map_range(obj, ..)
                .map(|item| {
                    let id = item.id();
                    (
                        item.key.into_owned(),
                        item.value.into_value(),
                        id,
                        item.conflict,
                    )
                })
                .collect(),
        );
        self.maps.borrow_mut().insert(obj.clone(), fields.clone());
        fields
    }

    fn get(&self, obj: &ObjId, key: &str) -> Option<(Value<'static>, ObjId)> {
        self.fields(obj)
            .iter()
            .find(|(k, ..)| k == key)
            .map(|(_, value, id, _)| (value.clone(), id.clone()))
    }

    fn scalar(&self, obj: &ObjId, key: &str) -> Result<Option<ScalarValue>> {
        match self.get(obj, key) {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => Ok(Some(s.into_owned())),
            Some((Value::Object(_), _)) => Err(self.corrupt(format!("{key} 应为值而非对象"))),
        }
    }

    fn opt_str(&self, obj: &ObjId, key: &str) -> Result<Option<String>> {
        match self.scalar(obj, key)? {
            None => Ok(None),
            Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
            Some(other) => Err(self.corrupt(format!("{key} 应为文字，实为 {other}"))),
        }
    }

    fn str(&self, obj: &ObjId, key: &str) -> Result<String> {
        self.opt_str(obj, key)?
            .ok_or_else(|| self.corrupt(format!("缺少 {key}")))
    }

    fn int(&self, obj: &ObjId, key: &str) -> Result<i64> {
        match self.scalar(obj, key)? {
            Some(ScalarValue::Int(n)) => Ok(n),
            Some(ScalarValue::Uint(n)) => {
                i64::try_from(n).map_err(|_| self.corrupt(format!("{key} 超出范围")))
            }
            _ => Err(self.corrupt(format!("{key} 应为整数"))),
        }
    }

    fn f64(&self, obj: &ObjId, key: &str) -> Result<f64> {
        match self.scalar(obj, key)? {
            Some(ScalarValue::F64(n)) => Ok(n),
            Some(ScalarValue::Int(n)) => Ok(n as f64),
            _ => Err(self.corrupt(format!("{key} 应为数值"))),
        }
    }

    fn opt_timestamp(&self, obj: &ObjId, key: &str) -> Result<Option<DateTime<Utc>>> {
        match self.scalar(obj, key)? {
            None => Ok(None),
            Some(ScalarValue::Timestamp(ms)) => from_millis(ms)
                .map(Some)
                .ok_or_else(|| self.corrupt(format!("{key} 时间超出范围"))),
            Some(_) => Err(self.corrupt(format!("{key} 应为时间"))),
        }
    }

    fn timestamp(&self, obj: &ObjId, key: &str) -> Result<DateTime<Utc>> {
        self.opt_timestamp(obj, key)?
            .ok_or_else(|| self.corrupt(format!("缺少 {key}")))
    }

    fn opt_map(&self, obj: &ObjId, key: &str) -> Result<Option<ObjId>> {
        match self.get(obj, key) {
            None => Ok(None),
            Some((Value::Object(ObjType::Map), id)) => Ok(Some(id)),
            Some(_) => Err(self.corrupt(format!("{key} 应为对象"))),
        }
    }

    fn map(&self, obj: &ObjId, key: &str) -> Result<ObjId> {
        self.opt_map(obj, key)?
            .ok_or_else(|| self.corrupt(format!("缺少 {key}")))
    }

    fn opt_person(&self, obj: &ObjId, prefix: &str) -> Result<Option<Person>> {
        let name = self.opt_str(obj, &format!("{prefix}_name"))?;
        let cert = self.opt_str(obj, &format!("{prefix}_cert"))?;
        Ok(match (name, cert) {
            (Some(name), Some(cert)) => Some(Person { name, cert }),
            _ => None,
        })
    }

    fn hazard(&self, h: &ObjId) -> Result<Hazard> {
        Ok(Hazard {
            description: self.str(h, "description")?,
            class: self.str(h, "class")?,
            legal_basis: self.str(h, "legal_basis")?,
            measure: self.opt_str(h, "measure")?,
            deadline: match self.opt_str(h, "deadline")? {
                Some(text) => Some(
                    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                        .map_err(|_| self.corrupt(format!("整改期限 {text} 无效")))?,
                ),
                None => None,
            },
        })
    }

    fn answer(&self, obj: &ObjId) -> Result<Answer> {
        let status = self.str(obj, "status")?;
        let status = AnswerStatus::parse(&status)
            .ok_or_else(|| self.corrupt(format!("未知的答案状态 {status}")))?;
        let value = match self.scalar(obj, "value")? {
            None => None,
            Some(ScalarValue::F64(n)) => Some(AnswerValue::Number(n)),
            Some(ScalarValue::Int(n)) => Some(AnswerValue::Number(n as f64)),
            Some(ScalarValue::Str(s)) => Some(AnswerValue::Text(s.to_string())),
            Some(other) => return Err(self.corrupt(format!("答案值 {other} 类型无效"))),
        };
        let photos = match self.get(obj, "photos") {
            Some((Value::Object(ObjType::List), list)) => self
                .doc
                .values(&list)
                .map(|(value, _)| match value {
                    Value::Scalar(s) => s
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| self.corrupt("照片哈希应为文字".into())),
                    Value::Object(_) => Err(self.corrupt("照片哈希应为文字".into())),
                })
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
            Some(_) => return Err(self.corrupt("photos 应为列表".into())),
        };
        let hazard = match self.opt_map(obj, "hazard")? {
            Some(h) => Some(self.hazard(&h)?),
            None => None,
        };
        Ok(Answer {
            status,
            value,
            note: self.opt_str(obj, "note")?,
            photos,
            by: self
                .opt_person(obj, "by")?
                .ok_or_else(|| self.corrupt("答案缺少作答人".into()))?,
            device: self.str(obj, "device")?,
            at: self.timestamp(obj, "at")?,
            hazard,
            resolved_by: self.opt_person(obj, "resolved_by")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enterprise::CreditCode;

    fn new_record() -> NewRecord {
        NewRecord {
            kind: RecordKind::Inspection,
            inspection_kind: InspectionKind::Enforcement,
            agency: Some("淄博市应急管理局".into()),
            template_id: "trade-enforcement".into(),
            template_version: 1,
            enterprise: Enterprise {
                credit_code: CreditCode::parse("914403001922038216").unwrap(),
                name: "测试企业".into(),
                address: "测试地址".into(),
                industry: "工贸".into(),
                region_code: "440307".into(),
                legal_representative: "赵一".into(),
                phone: "0755-28780808".into(),
                sector: None,
                special_operations: None,
            },
            inspectors: vec![Inspector {
                name: "张伟".into(),
                cert: "37030001".into(),
                cert_valid_until: NaiveDate::from_ymd_opt(2028, 12, 31),
            }],
            place: "一号车间".into(),
            gps: Some(Gps {
                lat: 36.81,
                lon: 118.05,
            }),
            started_at: DateTime::from_timestamp_millis(1_790_000_000_000).unwrap(),
            device_id: "01a2223a-0000-7000-8000-000000000001".into(),
            reinspects: None,
            amends: None,
        }
    }

    fn answer(status: AnswerStatus, note: &str, by: &str) -> Answer {
        Answer {
            status,
            value: None,
            note: Some(note.into()),
            photos: vec!["ab".repeat(32)],
            by: Person {
                name: by.into(),
                cert: "1".into(),
            },
            device: "d".into(),
            at: DateTime::from_timestamp_millis(1_790_000_100_000).unwrap(),
            hazard: None,
            resolved_by: None,
        }
    }

    #[test]
    fn a_new_record_reads_back_what_was_written() {
        let new = new_record();
        let mut doc = RecordDoc::create(&new).unwrap();
        let record = doc.read().unwrap();
        assert_eq!(record.id, doc.id());
        assert!(uuid::Uuid::parse_str(&record.id).unwrap().get_version_num() == 7);
        assert_eq!(record.enterprise, new.enterprise);
        assert_eq!(record.inspectors, new.inspectors);
        assert_eq!(record.gps, new.gps);
        assert_eq!(record.started_at, new.started_at);
        assert_eq!(record.status, Status::Draft);
        assert_eq!(record.heads.len(), 1);
    }

    #[test]
    fn saved_and_loaded_documents_are_equal() {
        let mut doc = RecordDoc::create(&new_record()).unwrap();
        doc.put_answer("IT-001", &answer(AnswerStatus::Pass, "好", "张伟"))
            .unwrap();
        let heads = doc.heads();
        doc.put_answer("IT-002", &answer(AnswerStatus::Na, "无", "张伟"))
            .unwrap();
        let full = doc.save();
        let increment = doc.save_after(&heads);
        let mut loaded = RecordDoc::load(doc.id(), &full, &[increment], "other").unwrap();
        assert_eq!(loaded.read().unwrap(), doc.read().unwrap());
    }

    #[test]
    fn concurrent_answers_conflict_and_a_later_answer_ends_the_conflict() {
        let mut a = RecordDoc::create(&new_record()).unwrap();
        let saved = a.save();
        let mut b = RecordDoc::load(a.id(), &saved, &[], "device-b").unwrap();
        a.put_answer("IT-001", &answer(AnswerStatus::Pass, "甲", "张伟"))
            .unwrap();
        b.put_answer("IT-001", &answer(AnswerStatus::Fail, "乙", "李娜"))
            .unwrap();
        a.merge(&mut b).unwrap();
        let record = a.read().unwrap();
        assert_eq!(record.conflicts.len(), 1);
        assert_eq!(record.conflicts[0].values[0], record.answers["IT-001"]);
        assert_eq!(record.conflicts[0].values.len(), 2);

        a.put_answer("IT-001", &answer(AnswerStatus::Fail, "乙", "张伟"))
            .unwrap();
        let record = a.read().unwrap();
        assert!(record.conflicts.is_empty());
        assert_eq!(record, a.read_document().unwrap());
    }

    #[test]
    fn a_document_without_the_record_layout_is_reported_corrupt() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "id", "x").unwrap();
        let bytes = doc.save();
        let err = RecordDoc::load_foreign(&bytes, "d").unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert!(err.to_string().contains("schema"), "{err}");

        let mut record = RecordDoc::create(&new_record()).unwrap();
        record.doc.put(ROOT, "status", "archived").unwrap();
        let err = record.read_document().unwrap_err();
        assert!(err.to_string().contains("archived"), "{err}");

        let garbage = RecordDoc::load("x", b"not automerge", &[], "d").unwrap_err();
        assert!(matches!(garbage, Error::CorruptRecord { .. }));
    }

    #[test]
    fn inspectors_keep_the_order_they_joined_in_not_certificate_order() {
        let person = |name: &str, cert: &str| Inspector {
            name: name.into(),
            cert: cert.into(),
            cert_valid_until: None,
        };
        let mut new = new_record();
        new.inspectors = vec![person("李娜", "9"), person("张伟", "1")];
        let mut doc = RecordDoc::create(&new).unwrap();
        doc.put_inspector(&person("王强", "0")).unwrap();
        doc.put_inspector(&person("张伟", "1")).unwrap();
        let names: Vec<String> = doc
            .read()
            .unwrap()
            .inspectors
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(names, ["李娜", "张伟", "王强"]);
    }

    fn reinspection_of(inspection_kind: InspectionKind, order: Option<&str>) -> NewRecord {
        let mut new = new_record();
        new.kind = RecordKind::Reinspection;
        new.inspection_kind = inspection_kind;
        new.reinspects = Some(Reinspects {
            record_id: "0190a000-0000-7000-8000-0000000000aa".into(),
            inspected_at: DateTime::from_timestamp_millis(1_788_000_000_000),
            order_number: order.map(str::to_string),
            order_issued_at: order
                .map(|_| DateTime::from_timestamp_millis(1_789_000_000_000).unwrap()),
            hazards: vec![HazardEntry {
                item: "IT-002".into(),
                hazard: Hazard {
                    description: "焊工无证上岗".into(),
                    class: "一般".into(),
                    legal_basis: "《安全生产法》第三十条".into(),
                    measure: None,
                    deadline: NaiveDate::from_ymd_opt(2026, 12, 5),
                },
                note: Some("两名焊工".into()),
            }],
        });
        new
    }

    #[test]
    fn a_reinspection_without_an_order_writes_no_order_keys_and_reads_back_none() {
        let new = reinspection_of(InspectionKind::SelfInspection, None);
        let mut doc = RecordDoc::create(&new).unwrap();
        let (_, obj) = doc.doc.get(ROOT, "reinspects").unwrap().unwrap();
        let keys: Vec<String> = doc.doc.keys(&obj).collect();
        assert_eq!(keys, ["hazards", "inspected_at", "record_id"]);
        let record = doc.read().unwrap();
        assert_eq!(record.reinspects, new.reinspects);
        let saved = doc.save();
        let loaded = RecordDoc::load(doc.id(), &saved, &[], "other")
            .unwrap()
            .read()
            .unwrap();
        assert_eq!(loaded, record);
        let json = serde_json::to_value(&record.reinspects).unwrap();
        assert_eq!(json["order_number"], serde_json::Value::Null);
        assert_eq!(json["order_issued_at"], serde_json::Value::Null);
    }

    /// The layout as written before re-inspections without an order existed: both order
    /// keys always present. Written here key by key, as that code wrote them.
    #[test]
    fn an_enforcement_reinspection_written_with_its_order_still_reads_the_same() {
        let mut new = new_record();
        new.kind = RecordKind::Reinspection;
        new.reinspects = None;
        let mut doc = RecordDoc::create(&new).unwrap();
        let am = &mut doc.doc;
        let obj = am.put_object(ROOT, "reinspects", ObjType::Map).unwrap();
        am.put(&obj, "record_id", "0190a000-0000-7000-8000-0000000000aa")
            .unwrap();
        am.put(&obj, "order_number", "(淄)安监责改〔2026〕0001号")
            .unwrap();
        am.put(
            &obj,
            "order_issued_at",
            ScalarValue::Timestamp(1_789_000_000_000),
        )
        .unwrap();
        let hazards = am.put_object(&obj, "hazards", ObjType::Map).unwrap();
        let h = am.put_object(&hazards, "IT-002", ObjType::Map).unwrap();
        am.put(&h, "description", "焊工无证上岗").unwrap();
        am.put(&h, "class", "一般").unwrap();
        am.put(&h, "legal_basis", "《安全生产法》第三十条").unwrap();
        let bytes = doc.save();
        let record = RecordDoc::load_foreign(&bytes, "d")
            .unwrap()
            .read()
            .unwrap();
        let reinspects = record.reinspects.unwrap();
        assert_eq!(
            reinspects.order_number.as_deref(),
            Some("(淄)安监责改〔2026〕0001号")
        );
        assert_eq!(
            reinspects.order_issued_at,
            DateTime::from_timestamp_millis(1_789_000_000_000)
        );
        assert_eq!(reinspects.hazards[0].item, "IT-002");
        assert_eq!(reinspects.inspected_at, None);

        let mut written = RecordDoc::create(&reinspection_of(
            InspectionKind::Enforcement,
            Some("(淄)安监责改〔2026〕0001号"),
        ))
        .unwrap();
        let record = written.read().unwrap();
        assert_eq!(
            record.reinspects.unwrap().order_issued_at,
            DateTime::from_timestamp_millis(1_789_000_000_000)
        );
    }

    #[test]
    fn an_enforcement_reinspection_without_its_order_is_corrupt_and_the_others_carry_none() {
        let mut doc = RecordDoc::create(&reinspection_of(
            InspectionKind::Enforcement,
            Some("(淄)安监责改〔2026〕0001号"),
        ))
        .unwrap();
        let (_, obj) = doc.doc.get(ROOT, "reinspects").unwrap().unwrap();
        doc.doc.delete(&obj, "order_issued_at").unwrap();
        let err = doc.read_document().unwrap_err();
        assert!(err.to_string().contains("同时记载"), "{err}");
        doc.doc.delete(&obj, "order_number").unwrap();
        let err = doc.read_document().unwrap_err();
        assert!(matches!(err, Error::CorruptRecord { .. }), "{err}");
        assert!(
            err.to_string().contains("缺少原责令限期整改指令书编号"),
            "{err}"
        );

        let mut doc = RecordDoc::create(&reinspection_of(
            InspectionKind::Expert,
            Some("(淄)安监责改〔2026〕0001号"),
        ))
        .unwrap();
        let err = doc.read_document().unwrap_err();
        assert!(
            err.to_string().contains("专家检查的复查记录不应引用"),
            "{err}"
        );
    }

    #[test]
    fn records_cannot_be_merged_across_ids() {
        let mut a = RecordDoc::create(&new_record()).unwrap();
        let mut b = RecordDoc::create(&new_record()).unwrap();
        assert!(a.merge(&mut b).is_err());
    }
}
