//! The checklist engine: starting an inspection, answering items, conflicts, completion rules
//! and submission. The rules are plain functions over a [`Record`] and its [`Template`]; the
//! `impl Store` block at the end runs them inside the store's record transaction.

use std::borrow::Cow;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

use crate::agency::DocType;
use crate::document::{documents_due_at_submit, issue_in_transaction};
use crate::enterprise::{CreditCode, Enterprise};
use crate::error::{Error, Result};
use crate::record::{
    Answer, AnswerStatus, AnswerValue, Gps, Hazard, Inspector, NewRecord, Person, Record,
    RecordDoc, RecordKind, Reinspects, Status,
};
use crate::store::Store;
use crate::template::{AnswerKind, InspectionKind, Item, LegalBasis, Template};
use crate::text::{Lines, check_text, text_problem};
use crate::time::china_date;

/// Enforcement inspections are made by at least this many certified inspectors.
pub const MIN_ENFORCEMENT_INSPECTORS: usize = 2;

/// A colleague named when an inspection starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoInspector {
    pub name: String,
    pub cert: String,
    /// When not given, the validity registered on this device for the certificate is used.
    pub cert_valid_until: Option<NaiveDate>,
}

impl CoInspector {
    /// Parses `NAME:CERT` or `NAME:CERT:YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<CoInspector> {
        let parts: Vec<&str> = text.split(':').map(str::trim).collect();
        let invalid = || {
            Error::InvalidInput(format!(
                "同行执法人员 {text:?} 应写作 姓名:执法证号 或 姓名:执法证号:有效期至(YYYY-MM-DD)"
            ))
        };
        match parts.as_slice() {
            [name, cert] if !name.is_empty() && !cert.is_empty() => Ok(CoInspector {
                name: name.to_string(),
                cert: cert.to_string(),
                cert_valid_until: None,
            }),
            [name, cert, until] if !name.is_empty() && !cert.is_empty() => Ok(CoInspector {
                name: name.to_string(),
                cert: cert.to_string(),
                cert_valid_until: Some(
                    crate::time::parse_date("有效期", until).map_err(Error::InvalidInput)?,
                ),
            }),
            _ => Err(invalid()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StartInspection {
    pub enterprise: String,
    pub template: String,
    pub co_inspectors: Vec<CoInspector>,
    /// Defaults to the enterprise's address.
    pub place: Option<String>,
    pub gps: Option<Gps>,
}

/// What comes with an answer besides its value.
#[derive(Debug, Clone, Default)]
pub struct AnswerDetails {
    pub note: Option<String>,
    pub photos: Vec<PathBuf>,
    pub deadline: Option<NaiveDate>,
    pub measure: Option<String>,
}

/// Reads the inspector's input for an item: `pass`, `fail`, `na` (or 合格, 不合格, 不适用) for
/// a check item; a number (or `na`) for a measured item, judged against its bounds; any text
/// (or `na`) for a text item.
pub fn interpret_answer(item: &Item, input: &str) -> Result<(AnswerStatus, Option<AnswerValue>)> {
    let input = input.trim();
    let invalid = |problem: String| Error::InvalidAnswer {
        item: item.code.clone(),
        problem,
    };
    if matches!(input, "na" | "不适用") {
        return Ok((AnswerStatus::Na, None));
    }
    match &item.answer {
        AnswerKind::Check => match input {
            "pass" | "合格" => Ok((AnswerStatus::Pass, None)),
            "fail" | "不合格" => Ok((AnswerStatus::Fail, None)),
            _ => Err(invalid(format!(
                "{input:?} 不是有效答案：此项只能回答 pass（合格）、fail（不合格）或 na（不适用）"
            ))),
        },
        AnswerKind::Measure { min, max, .. } => {
            let value: f64 = input
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    invalid(format!(
                        "{input:?} 不是数值：此项应填写实测值（{}）或 na",
                        item.requirement().unwrap_or_default()
                    ))
                })?;
            let within = min.is_none_or(|min| value >= min) && max.is_none_or(|max| value <= max);
            let status = if within {
                AnswerStatus::Pass
            } else {
                AnswerStatus::Fail
            };
            Ok((status, Some(AnswerValue::Number(value))))
        }
        AnswerKind::Text => {
            if input.is_empty() {
                return Err(invalid("记录内容为空".into()));
            }
            Ok((
                AnswerStatus::Recorded,
                Some(AnswerValue::Text(input.to_string())),
            ))
        }
    }
}

/// Who gives an answer, on which device, when.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub by: Person,
    pub device: String,
    pub at: DateTime<Utc>,
}

/// Builds the answer to store. A re-answer with the same status keeps the earlier note,
/// photos, measure and deadline unless new ones are given, so nothing entered is dropped by
/// answering again.
pub fn build_answer(
    record: &Record,
    item: &Item,
    input: &str,
    details: &AnswerDetails,
    photo_hashes: Vec<String>,
    attribution: &Attribution,
) -> Result<Answer> {
    let (status, value) = interpret_answer(item, input)?;
    let invalid = |problem: String| Error::InvalidAnswer {
        item: item.code.clone(),
        problem,
    };
    if status != AnswerStatus::Fail && (details.deadline.is_some() || details.measure.is_some()) {
        return Err(invalid(format!(
            "答案为“{}”，只有不合格项才有整改措施和整改期限",
            status.label()
        )));
    }
    let inspection_date = china_date(record.started_at);
    if let Some(deadline) = details.deadline
        && deadline < inspection_date
    {
        return Err(invalid(format!(
            "整改期限 {deadline} 早于检查日期 {inspection_date}"
        )));
    }
    if let Some(note) = &details.note
        && note.trim().is_empty()
    {
        return Err(invalid("备注为空".into()));
    }
    for (field, text, lines) in [
        ("备注", details.note.as_deref(), Lines::Many),
        ("整改措施", details.measure.as_deref(), Lines::Many),
        (
            "记录内容",
            match &value {
                Some(AnswerValue::Text(text)) => Some(text.as_str()),
                _ => None,
            },
            Lines::Many,
        ),
    ] {
        if let Some(problem) = text.and_then(|text| text_problem(text, lines)) {
            return Err(invalid(format!("{field}{problem}")));
        }
    }

    let previous = record
        .answers
        .get(&item.code)
        .filter(|previous| previous.status == status);
    let note = details
        .note
        .clone()
        .or_else(|| previous.and_then(|p| p.note.clone()));
    let mut photos = previous.map(|p| p.photos.clone()).unwrap_or_default();
    for hash in photo_hashes {
        if !photos.contains(&hash) {
            photos.push(hash);
        }
    }
    let hazard = (status == AnswerStatus::Fail).then(|| {
        let previous_hazard = previous.and_then(|p| p.hazard.as_ref());
        let description = match (&value, &item.answer) {
            (Some(AnswerValue::Number(v)), AnswerKind::Measure { unit, .. }) => format!(
                "{}（实测 {v} {unit}，要求 {}）",
                item.hazard,
                item.requirement().unwrap_or_default()
            ),
            _ => item.hazard.clone(),
        };
        Hazard {
            description,
            class: item.class.clone(),
            legal_basis: item.legal_basis_on(inspection_date).text.clone(),
            measure: details
                .measure
                .clone()
                .or_else(|| previous_hazard.and_then(|h| h.measure.clone()))
                .or_else(|| item.measure.clone()),
            deadline: details
                .deadline
                .or_else(|| previous_hazard.and_then(|h| h.deadline)),
        }
    });
    Ok(Answer {
        status,
        value,
        note,
        photos,
        by: attribution.by.clone(),
        device: attribution.device.clone(),
        at: crate::time::to_millis(attribution.at),
        hazard,
        resolved_by: None,
    })
}

/// What a re-inspection follows up, as its items' section and in messages: the order, or for
/// an inspection without one the day of the inspection that found the hazards.
pub fn reinspection_label(reinspects: &Reinspects) -> String {
    match (&reinspects.order_number, reinspects.inspected_at) {
        (Some(order), _) => format!("复查 {order}"),
        (None, Some(at)) => format!("整改复查（{}检查）", china_date(at)),
        (None, None) => "整改复查".into(),
    }
}

/// The items a record answers: its template's that apply to the enterprise as the record
/// snapshotted it (its 细分行业 and special operations, see [`Item::applies_to`]), or for a
/// re-inspection the hazards of the inspection it follows up (the order's, for enforcement),
/// each asked as "rectified or not".
pub fn checklist<'a>(record: &Record, template: &'a Template) -> Cow<'a, [Item]> {
    let Some(reinspects) = &record.reinspects else {
        let applies = |item: &Item| item.applies_to(&record.enterprise);
        if template.items.iter().all(applies) {
            return Cow::Borrowed(&template.items);
        }
        return Cow::Owned(
            template
                .items
                .iter()
                .filter(|i| applies(i))
                .cloned()
                .collect(),
        );
    };
    let section = reinspection_label(reinspects);
    let against = match reinspects.order_number {
        Some(_) => "原指令书",
        None => "原检查记录",
    };
    let items = reinspects
        .hazards
        .iter()
        .map(|entry| {
            let h = &entry.hazard;
            let deadline = h
                .deadline
                .map_or("未定".to_string(), |d| d.to_string());
            Item {
                code: entry.item.clone(),
                section: section.clone(),
                text: format!("是否已整改：{}", h.description),
                hazard: h.description.clone(),
                // The basis the original inspection recorded, for the law in force on its date.
                legal_bases: vec![LegalBasis::always(h.legal_basis.clone())],
                sectors: Vec::new(),
                special: None,
                class: h.class.clone(),
                answer: AnswerKind::Check,
                required: true,
                guidance: format!(
                    "对照{against}逐项核查整改情况（原整改期限 {deadline}）：已整改合格答 pass；未整改答 fail，并给出新的整改期限或后续处理措施。"
                ),
                measure: None,
            }
        })
        .collect();
    Cow::Owned(items)
}

/// Why a record cannot be submitted yet; empty when it can.
pub fn completion_problems(record: &Record, template: &Template) -> Vec<String> {
    let items = checklist(record, template);
    let mut problems = Vec::new();
    for conflict in &record.conflicts {
        problems.push(format!(
            "检查项 {} 有 {} 个互相冲突的答案，需先处理",
            conflict.item,
            conflict.values.len()
        ));
    }
    // An amendment carries only the answers it corrects.
    let unanswered: Vec<&str> = items
        .iter()
        .filter(|item| item.required && !record.answers.contains_key(&item.code))
        .filter(|_| record.kind != RecordKind::Amendment)
        .map(|item| item.code.as_str())
        .collect();
    if record.kind == RecordKind::Amendment && record.answers.is_empty() {
        problems.push("补正记录至少应包含一项更正后的答案".into());
    }
    if !unanswered.is_empty() {
        problems.push(format!(
            "{} 个必查项尚未作答：{}",
            unanswered.len(),
            unanswered.join("、")
        ));
    }
    for entry in &record.hazards {
        let escalated = record.kind == RecordKind::Reinspection && entry.hazard.measure.is_some();
        if entry.hazard.deadline.is_none() && !escalated {
            problems.push(match record.kind {
                RecordKind::Reinspection => format!(
                    "未整改隐患 {} 既无新的整改期限，也无后续处理措施",
                    entry.item
                ),
                _ => format!("隐患 {} 未设整改期限", entry.item),
            });
        }
    }
    if record.inspection_kind == InspectionKind::Enforcement {
        let date = china_date(record.started_at);
        let (valid, certificate) = certificate_problems(record, date);
        problems.extend(certificate);
        if valid < MIN_ENFORCEMENT_INSPECTORS {
            problems.push(format!(
                "执法检查须由至少 {MIN_ENFORCEMENT_INSPECTORS} 名持有效执法证的执法人员进行，检查日 {date} 有效的只有 {valid} 名"
            ));
        }
    }
    problems
}

/// How many of a record's inspectors hold a certificate valid on `date`, and what is wrong
/// with the others'.
pub fn certificate_problems(record: &Record, date: NaiveDate) -> (usize, Vec<String>) {
    let mut valid = 0;
    let mut problems = Vec::new();
    for inspector in &record.inspectors {
        match inspector.cert_valid_until {
            Some(until) if until >= date => valid += 1,
            Some(until) => problems.push(format!(
                "执法人员 {}（{}）的执法证已于 {until} 到期",
                inspector.name, inspector.cert
            )),
            None => problems.push(format!(
                "执法人员 {}（{}）的执法证有效期未知",
                inspector.name, inspector.cert
            )),
        }
    }
    (valid, problems)
}

/// The longest post (职务) a record takes: a title, not a description.
const MAX_POST_CHARS: usize = 40;

/// A post (职务) as a record takes it: trimmed, one line, a title's length.
pub fn check_on_site_post(post: &str) -> Result<&str> {
    let post = post.trim();
    if post.chars().count() > MAX_POST_CHARS || post.chars().any(char::is_control) {
        return Err(Error::InvalidInput(format!(
            "职务应为不超过 {MAX_POST_CHARS} 个字的一行文字"
        )));
    }
    Ok(post)
}

fn ensure_draft(record: &Record) -> Result<()> {
    match record.status {
        Status::Draft => Ok(()),
        Status::Submitted => Err(Error::RecordSubmitted(record.id.clone())),
    }
}

fn ensure_participant(record: &Record, inspector: &Inspector) -> Result<()> {
    if record.inspectors.iter().any(|i| i.cert == inspector.cert) {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{}（{}）不是记录 {} 的检查人员：请先运行 anjian inspect join {}",
            inspector.name, inspector.cert, record.id, record.id
        )))
    }
}

fn person(inspector: &Inspector) -> Person {
    Person {
        name: inspector.name.clone(),
        cert: inspector.cert.clone(),
    }
}

impl Store {
    /// Starts an inspection of an enterprise from the newest version of a template, with this
    /// device's inspector and the named colleagues.
    pub fn start_inspection(
        &mut self,
        start: &StartInspection,
        now: DateTime<Utc>,
    ) -> Result<Record> {
        self.current_inspector()?;
        let code = CreditCode::parse(&start.enterprise)?;
        let enterprise = self.enterprise(&code)?;
        let template = self.template(&start.template, None)?;
        if !template.applies_to_industry(&enterprise.industry) {
            return Err(Error::TemplateNotApplicable {
                template: template.id.clone(),
                industry: template.industry.clone(),
                enterprise: enterprise.name.clone(),
                enterprise_industry: enterprise.industry.clone(),
            });
        }
        self.create_record(
            RecordKind::Inspection,
            &template,
            enterprise,
            &start.co_inspectors,
            start.place.as_deref(),
            start.gps.clone(),
            None,
            now,
        )
    }

    /// Starts the re-inspection (整改复查) of a submitted inspection that found hazards: a record
    /// of the same inspection kind and template whose items are those hazards, to be answered
    /// rectified (pass) or not (fail, with a new deadline or the follow-up measure). An
    /// enforcement inspection is re-inspected only after its 责令限期整改指令书 was issued, and
    /// the re-inspection names that order; a self, resident or expert inspection has no order.
    /// Whoever may start an inspection on this device may start its re-inspection.
    pub fn start_reinspection(
        &mut self,
        original_id: &str,
        co_inspectors: &[CoInspector],
        place: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Record> {
        self.current_inspector()?;
        let original = self.record(original_id)?;
        let refuse = |why: &str| {
            Err(Error::InvalidInput(format!(
                "记录 {original_id} {why}，不能复查"
            )))
        };
        if original.kind != RecordKind::Inspection {
            return refuse(&format!(
                "是{}，只有检查记录才能复查",
                match original.kind {
                    RecordKind::Reinspection => "复查记录",
                    _ => "补正记录",
                }
            ));
        }
        let order = original
            .documents
            .iter()
            .find(|d| d.doc_type == DocType::Order);
        if original.inspection_kind == InspectionKind::Enforcement && order.is_none() {
            return refuse("没有已签发的责令限期整改指令书");
        }
        if original.status != Status::Submitted {
            return refuse("尚未提交");
        }
        if original.hazards.is_empty() {
            return refuse("未发现隐患");
        }
        let template = self.template(&original.template_id, Some(original.template_version))?;
        let reinspects = Reinspects {
            record_id: original.id.clone(),
            inspected_at: Some(original.started_at),
            order_number: order.map(|o| o.number.clone()),
            order_issued_at: order.map(|o| o.issued_at),
            hazards: original.hazards.clone(),
        };
        self.create_record(
            RecordKind::Reinspection,
            &template,
            original.enterprise,
            co_inspectors,
            place,
            None,
            Some(reinspects),
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn create_record(
        &mut self,
        kind: RecordKind,
        template: &Template,
        enterprise: Enterprise,
        co_inspectors: &[CoInspector],
        place: Option<&str>,
        gps: Option<Gps>,
        reinspects: Option<Reinspects>,
        now: DateTime<Utc>,
    ) -> Result<Record> {
        let profile = self.profile()?;
        let me = profile.inspector.clone().ok_or(Error::NotInitialized)?;
        let mut inspectors = vec![me];
        for colleague in co_inspectors {
            if inspectors.iter().any(|i| i.cert == colleague.cert) {
                return Err(Error::InvalidInput(format!(
                    "执法证号 {} 重复出现",
                    colleague.cert
                )));
            }
            check_text("同行执法人员姓名", &colleague.name, Lines::One)?;
            check_text("同行执法人员的执法证号", &colleague.cert, Lines::One)?;
            let registered = self.inspector(&colleague.cert)?;
            inspectors.push(Inspector {
                name: colleague.name.clone(),
                cert: colleague.cert.clone(),
                cert_valid_until: colleague
                    .cert_valid_until
                    .or_else(|| registered.and_then(|r| r.cert_valid_until)),
            });
        }
        let place = place
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map_or_else(|| enterprise.address.clone(), str::to_string);
        check_text("检查地点", &place, Lines::One)?;
        if let Some(gps) = &gps
            && !((-90.0..=90.0).contains(&gps.lat) && (-180.0..=180.0).contains(&gps.lon))
        {
            return Err(Error::InvalidInput(format!(
                "GPS 坐标 {},{} 超出范围",
                gps.lat, gps.lon
            )));
        }

        let mut doc = RecordDoc::create(&NewRecord {
            kind,
            inspection_kind: template.kind,
            agency: profile.agency.map(|a| a.name),
            template_id: template.id.clone(),
            template_version: template.version,
            enterprise,
            inspectors: inspectors.clone(),
            place,
            gps,
            started_at: now,
            device_id: self.device_id().to_string(),
            reinspects,
            amends: None,
        })?;
        // Colleagues named with a validity are remembered for the next inspection.
        for (colleague, inspector) in co_inspectors.iter().zip(&inspectors[1..]) {
            if colleague.cert_valid_until.is_some() {
                self.add_inspector(inspector)?;
            }
        }
        self.insert_record(&mut doc)
    }

    /// Adds this device's inspector to a record received from a colleague's device.
    pub fn join_inspection(&mut self, id: &str) -> Result<Record> {
        let me = self.current_inspector()?;
        self.update_record(id, |doc, record| {
            ensure_draft(record)?;
            if !record.inspectors.iter().any(|i| i == &me) {
                doc.put_inspector(&me)?;
            }
            doc.read()
        })
    }

    /// Answers an item for this device's inspector. Photos are copied into the photo folder
    /// only after the answer has been checked.
    pub fn answer_item(
        &mut self,
        id: &str,
        item_code: &str,
        input: &str,
        details: &AnswerDetails,
        now: DateTime<Utc>,
    ) -> Result<Answer> {
        let me = self.current_inspector()?;
        let record = self.record(id)?;
        let template = self.template(&record.template_id, Some(record.template_version))?;
        let item = checklist(&record, &template)
            .iter()
            .find(|item| item.code == item_code)
            .ok_or_else(|| Error::UnknownItem {
                template: match &record.reinspects {
                    Some(r) => reinspection_label(r),
                    None => format!("{} 第 {} 版", template.id, template.version),
                },
                item: item_code.to_string(),
            })?
            .clone();
        if record.kind == RecordKind::Reinspection
            && interpret_answer(&item, input)?.0 == AnswerStatus::Na
        {
            return Err(Error::InvalidAnswer {
                item: item.code.clone(),
                problem: "复查项只能回答 pass（已整改）或 fail（未整改）".into(),
            });
        }
        ensure_draft(&record)?;
        ensure_participant(&record, &me)?;
        let attribution = Attribution {
            by: person(&me),
            device: self.device_id().to_string(),
            at: now,
        };
        // Checked once before photos are copied, and again inside the transaction.
        build_answer(&record, &item, input, details, Vec::new(), &attribution)?;

        let hashes = details
            .photos
            .iter()
            .map(|path| self.add_photo(path))
            .collect::<Result<Vec<_>>>()?;
        self.update_record(id, |doc, record| {
            ensure_draft(record)?;
            let answer = build_answer(record, &item, input, details, hashes, &attribution)?;
            doc.put_answer(&item.code, &answer)?;
            Ok(answer)
        })
    }

    /// Sets the post (职务) of the enterprise's person on site, which the 现场检查记录 states:
    /// taken at the start of an inspection and editable until that document is issued (an
    /// empty text clears it). Once issued, the document and its content hash are fixed.
    pub fn set_on_site_post(&mut self, id: &str, post: &str) -> Result<Record> {
        let me = self.current_inspector()?;
        let post = check_on_site_post(post)?;
        self.update_record(id, |doc, record| {
            ensure_draft(record)?;
            ensure_participant(record, &me)?;
            if let Some(issued) = record
                .documents
                .iter()
                .find(|d| d.doc_type == DocType::Record)
            {
                return Err(Error::InvalidInput(format!(
                    "现场检查记录已签发（{}），职务不能再修改",
                    issued.number
                )));
            }
            doc.put_on_site_post(post)?;
            doc.read()
        })
    }

    /// Resolves a conflict by keeping one of the conflicting answers (numbered from 1 in the
    /// order `Record::conflicts` lists them). The choice is written as a new answer that
    /// supersedes all of them; the others stay in the document's history.
    pub fn resolve_conflict(
        &mut self,
        id: &str,
        item_code: &str,
        choice: usize,
        now: DateTime<Utc>,
    ) -> Result<Answer> {
        let me = self.current_inspector()?;
        self.update_record(id, |doc, record| {
            ensure_draft(record)?;
            ensure_participant(record, &me)?;
            let conflict = record
                .conflicts
                .iter()
                .find(|c| c.item == item_code)
                .ok_or_else(|| {
                    Error::InvalidInput(format!("检查项 {item_code} 没有冲突需要处理"))
                })?;
            let chosen = choice
                .checked_sub(1)
                .and_then(|index| conflict.values.get(index))
                .ok_or_else(|| {
                    Error::InvalidInput(format!(
                        "检查项 {item_code} 有 {} 个冲突答案，请选择 1 到 {}",
                        conflict.values.len(),
                        conflict.values.len()
                    ))
                })?;
            let mut answer = chosen.clone();
            answer.resolved_by = Some(person(&me));
            answer.at = crate::time::to_millis(now);
            doc.put_answer(item_code, &answer)?;
            Ok(answer)
        })
    }

    /// Submits a record once every completion rule holds. The record cannot be edited after, so
    /// an enforcement record's documents not yet issued ([`documents_due_at_submit`]) are issued
    /// in the same transaction; when one cannot be (no serial left, another device's record), the
    /// submission is refused naming it, and nothing changes.
    pub fn submit_inspection(&mut self, id: &str, now: DateTime<Utc>) -> Result<Record> {
        let me = self.current_inspector()?;
        let record = self.record(id)?;
        let template = self.template(&record.template_id, Some(record.template_version))?;
        let due = documents_due_at_submit(&record);
        let agency = if due.is_empty() {
            None
        } else {
            Some(self.profile()?.agency.ok_or(Error::NoAgency)?)
        };
        let this_device = self.device_id().to_string();
        self.update_record_with(id, |doc, record, conn| {
            ensure_draft(record)?;
            ensure_participant(record, &me)?;
            let refuse = |problems: Vec<String>| Error::Incomplete {
                id: record.id.clone(),
                problems,
            };
            let problems = completion_problems(record, &template);
            if !problems.is_empty() {
                return Err(refuse(problems));
            }
            let due = documents_due_at_submit(record);
            let titles = due.iter().map(|t| t.title()).collect::<Vec<_>>().join("、");
            if !due.is_empty() && record.created_by_device != this_device {
                return Err(refuse(vec![format!(
                    "提交前须签发{titles}，文书只能在创建此记录的设备（{}）上签发：请在该设备上提交",
                    record.created_by_device
                )]));
            }
            let mut with_documents = record.clone();
            for doc_type in due {
                let agency = agency.as_ref().ok_or(Error::NoAgency)?;
                issue_in_transaction(
                    doc,
                    &mut with_documents,
                    conn,
                    agency,
                    &template,
                    &person(&me),
                    doc_type,
                    now,
                )
                .map_err(|e| match e {
                    Error::NoSerialLeft { .. } | Error::CannotIssue { .. } => refuse(vec![
                        format!("提交时须同时签发{titles}，但{e}"),
                    ]),
                    other => other,
                })?;
            }
            doc.mark_submitted(now, &person(&me))?;
            doc.read()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(answer: AnswerKind) -> Item {
        Item {
            code: "TT-001".into(),
            section: "s".into(),
            text: "是否符合".into(),
            hazard: "不符合".into(),
            legal_bases: vec![LegalBasis::always("《法》第一条")],
            sectors: Vec::new(),
            special: None,
            class: "一般".into(),
            answer,
            required: true,
            guidance: "看".into(),
            measure: None,
        }
    }

    #[test]
    fn check_items_take_pass_fail_na_in_english_or_chinese() {
        let check = item(AnswerKind::Check);
        for (input, status) in [
            ("pass", AnswerStatus::Pass),
            ("合格", AnswerStatus::Pass),
            ("fail", AnswerStatus::Fail),
            (" 不合格 ", AnswerStatus::Fail),
            ("na", AnswerStatus::Na),
            ("不适用", AnswerStatus::Na),
        ] {
            assert_eq!(
                interpret_answer(&check, input).unwrap(),
                (status, None),
                "{input}"
            );
        }
        assert!(interpret_answer(&check, "ok").is_err());
        assert!(interpret_answer(&check, "").is_err());
    }

    #[test]
    fn measured_values_are_judged_inclusively_on_both_bounds() {
        let ranged = item(AnswerKind::Measure {
            unit: "%".into(),
            min: Some(19.5),
            max: Some(21.0),
        });
        let judge = |input: &str| interpret_answer(&ranged, input).unwrap().0;
        assert_eq!(judge("19.5"), AnswerStatus::Pass);
        assert_eq!(judge("21"), AnswerStatus::Pass);
        assert_eq!(judge("19.49"), AnswerStatus::Fail);
        assert_eq!(judge("21.01"), AnswerStatus::Fail);
        assert_eq!(judge("na"), AnswerStatus::Na);
        for bad in ["NaN", "inf", "二十", "pass"] {
            assert!(interpret_answer(&ranged, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_items_record_any_text() {
        let text = item(AnswerKind::Text);
        assert_eq!(
            interpret_answer(&text, "井下 38 人").unwrap(),
            (
                AnswerStatus::Recorded,
                Some(AnswerValue::Text("井下 38 人".into()))
            )
        );
        assert!(interpret_answer(&text, "  ").is_err());
    }

    #[test]
    fn co_inspectors_are_written_name_cert_and_optional_validity() {
        let plain = CoInspector::parse("李娜:37030002").unwrap();
        assert_eq!(plain.cert_valid_until, None);
        let dated = CoInspector::parse("李娜:37030002:2028-06-30").unwrap();
        assert_eq!(dated.cert_valid_until, NaiveDate::from_ymd_opt(2028, 6, 30));
        for bad in ["李娜", ":37030002", "李娜:", "李娜:1:2028/06/30", "a:b:c:d"] {
            assert!(CoInspector::parse(bad).is_err(), "{bad}");
        }
    }
}
