//! `POST /api/v1/sync`: per record, apply the device's changes to a copy of the stored
//! document, validate the result, and commit it (with its lock, audit entry and receipt when
//! it is submitted); then lease number blocks, register voided numbers, and answer with the
//! updates for the device's scope since its cursor.
//!
//! Retries are safe: an upload the server already holds changes nothing and gets the answer
//! it got the first time (the same receipt for a locked record).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use anjian_core::agency::{Agency, DocType};
use anjian_core::inspection::{MIN_ENFORCEMENT_INSPECTORS, completion_problems};
use anjian_core::record::{AnswerStatus, Record, RecordDoc, RecordKind, Reinspects, Status};
use anjian_core::sync::protocol::{
    AlertUpdate, AuditCheck, LOW_SERIALS, NumberRequest, RecordResult, RecordUpdate, RecordUpload,
    Role, SyncRequest, SyncResponse, Updates, UploadResult, sorted_heads,
};
use anjian_core::sync::receipt::content_hash;
use anjian_core::template::InspectionKind;
use anjian_core::text::record_text_problems;
use anjian_core::time::{china_date, to_millis};

use crate::auth::{Caller, Scope, inspection_kind_of};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{
    CommitOutcome, HazardRow, IssuedNumber, LockRequest, NumberRegisterEntry, QuarantineEntry,
    RecordCommit, RecordProjection, Rectification, StoredRecord,
};

/// Serials leased at a time.
pub const BLOCK_SIZE: u32 = 50;
/// Records one sync request may carry.
pub const MAX_RECORDS_PER_SYNC: usize = 500;
/// The actor the server loads documents with; it never writes to them.
const SERVER_DEVICE: &str = "00000000-0000-7000-8000-000000000000";
/// Commits redone after losing a race with another upload of the same record.
const COMMIT_ATTEMPTS: usize = 8;

/// Why a record was not taken: a stable code and a message for the inspector.
struct Rejection {
    code: &'static str,
    message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

pub fn handle_sync(
    state: &AppState,
    caller: &Caller,
    request: SyncRequest,
    now: DateTime<Utc>,
) -> AppResult<SyncResponse> {
    if request.device_id != caller.device_id {
        return Err(AppError::forbidden(
            "请求中的设备编号与登录时的设备不符：请在本设备上重新登录",
        ));
    }
    if request.records.len() > MAX_RECORDS_PER_SYNC {
        return Err(AppError::bad_request(
            "too_many_records",
            format!("一次同步最多上传 {MAX_RECORDS_PER_SYNC} 份记录"),
        ));
    }
    if request.cursor < 0 {
        return Err(AppError::bad_request(
            "invalid_cursor",
            "同步游标不能为负数",
        ));
    }
    let store = state.store.as_ref();
    let regions = store.regions()?;
    let scope = Scope::of(&caller.user, &regions);
    let agency = match store.agency()? {
        Some((text, _)) => Some(
            Agency::parse("服务器机关配置", &text).map_err(|e| AppError::internal("agency", e))?,
        ),
        None => None,
    };

    let mut results = Vec::new();
    let mut seen = HashSet::new();
    for upload in &request.records {
        if !seen.insert(upload.id.clone()) {
            return Err(AppError::bad_request(
                "duplicate_record",
                format!("记录 {} 在一次同步中出现了两次", upload.id),
            ));
        }
        let result = process_upload(state, caller, &scope, agency.as_ref(), upload, now)?;
        state.metrics.record_uploaded(match result.result {
            UploadResult::Locked => "locked",
            UploadResult::Accepted => "accepted",
            UploadResult::Rejected => "rejected",
        });
        results.push(result);
    }

    let mut number_problems = Vec::new();
    if let Some(agency) = &agency {
        register_voids(state, caller, agency, &request, &mut number_problems)?;
        lease_blocks(state, caller, agency, &request.number_requests, now)?;
    } else if !request.voided_numbers.is_empty() || !request.number_requests.is_empty() {
        number_problems.push("服务器尚未配置执法机关，不能登记作废编号或领取号段".into());
    }

    // Everything committed up to here is below the new cursor; later commits are sent next
    // time (and possibly also now, which a merge makes harmless).
    let cursor = store.current_seq()?;
    let updates = updates_for(state, caller, &scope, &request, &results)?;
    // The chain's head, signed, and what it holds where the device last saw its head: the
    // device keeps the former and checks the latter, so a chain cut short or rewritten since
    // is reported on every device that had seen more of it.
    let audit_head = store
        .audit_head()?
        .map(|(index, hash)| state.signed_head(index, &hash));
    let audit_check = match &request.known_audit_head {
        Some(known) => Some(AuditCheck {
            log_index: known.log_index,
            entry_hash: store.audit_entry_hash(known.log_index)?,
        }),
        None => None,
    };
    Ok(SyncResponse {
        records: results,
        updates,
        number_problems,
        cursor,
        server_time: now,
        server_keys: state.known_keys().to_vec(),
        audit_head,
        audit_check,
    })
}

fn process_upload(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    agency: Option<&Agency>,
    upload: &RecordUpload,
    now: DateTime<Utc>,
) -> AppResult<RecordResult> {
    for _ in 0..COMMIT_ATTEMPTS {
        match try_upload(state, caller, scope, agency, upload, now)? {
            Some(result) => return Ok(result),
            None => continue,
        }
    }
    Err(AppError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        format!("记录 {} 正被频繁修改，请稍后重试同步", upload.id),
    ))
}

fn rejected(id: &str, rejection: Rejection, stored: Option<&StoredRecord>) -> RecordResult {
    RecordResult {
        id: id.to_string(),
        result: UploadResult::Rejected,
        code: Some(rejection.code.to_string()),
        message: Some(rejection.message),
        heads: stored.map(|s| s.heads.clone()).unwrap_or_default(),
        receipt: None,
        server_doc: None,
    }
}

/// Input no correct device sends: the whole request is refused with 4xx naming the record
/// (records before it in the request may be stored; sending them again is harmless).
fn bad_input(id: &str, code: &'static str, message: impl Into<String>) -> AppError {
    let mut error = AppError::bad_request(code, format!("记录 {id}：{}", message.into()));
    error.record_id = Some(id.to_string());
    error
}

/// One attempt; `None` when the commit lost a race and must be redone from a fresh read.
fn try_upload(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    agency: Option<&Agency>,
    upload: &RecordUpload,
    now: DateTime<Utc>,
) -> AppResult<Option<RecordResult>> {
    let store = state.store.as_ref();
    let id = upload.id.as_str();
    if !uuid_like(id) {
        return Err(bad_input(
            id,
            "invalid_record",
            format!("记录编号 {id:?} 无效"),
        ));
    }
    let stored = store.record(id)?;
    if let Some(existing) = &stored
        && !scope.may_read(existing)
    {
        // The same answer as for a record that does not exist: nothing about it is revealed.
        return Ok(Some(rejected(
            id,
            reject("out_of_scope", "该记录不在您的管辖范围内"),
            None,
        )));
    }

    let (mut doc, before) = match &stored {
        Some(existing) => {
            let mut doc = RecordDoc::load(id, &existing.doc, &[], SERVER_DEVICE)
                .map_err(|e| AppError::internal("stored record", e))?;
            let before = doc
                .read()
                .map_err(|e| AppError::internal("stored record", e))?;
            match doc.apply_changes(&upload.changes) {
                Ok(()) => {}
                Err(anjian_core::Error::MissingChanges(_)) => {
                    return Ok(Some(rejected(
                        id,
                        reject(
                            "missing_changes",
                            "服务器缺少这些变更所依赖的更早变更：请整份重新上传",
                        ),
                        Some(existing),
                    )));
                }
                Err(e) => return Err(bad_input(id, "invalid_changes", e.to_string())),
            }
            (doc, Some(before))
        }
        None => {
            if !upload.known_heads.is_empty() {
                return Ok(Some(rejected(
                    id,
                    reject("missing_changes", "服务器没有这份记录：请整份重新上传"),
                    None,
                )));
            }
            match RecordDoc::load_foreign(&upload.changes, SERVER_DEVICE) {
                Ok(doc) => (doc, None),
                Err(e) => {
                    return Err(bad_input(
                        id,
                        "invalid_record",
                        format!("记录数据无法读取：{e}"),
                    ));
                }
            }
        }
    };
    if doc.id() != id {
        return Err(bad_input(
            id,
            "invalid_record",
            format!("上传的文档属于记录 {}，不是 {id}", doc.id()),
        ));
    }
    let after = match doc.read() {
        Ok(record) => record,
        Err(e) => return Err(bad_input(id, "invalid_record", e.to_string())),
    };
    // The server's document goes back only when the device lacks some of its changes; what
    // the server holds is already saved, so it is sent as stored.
    let server_doc_if_behind = |saved: &[u8], heads: &[String]| {
        (sorted_heads(&upload.heads) != sorted_heads(heads)).then(|| saved.to_vec())
    };

    if let Some(existing) = &stored
        && let Some(receipt) = &existing.lock
    {
        if after.heads == sorted_heads(&existing.heads) {
            return Ok(Some(RecordResult {
                id: id.to_string(),
                result: UploadResult::Locked,
                code: None,
                message: None,
                heads: existing.heads.clone(),
                receipt: Some(receipt.clone()),
                server_doc: server_doc_if_behind(&existing.doc, &existing.heads),
            }));
        }
        let fresh = store.quarantine(&QuarantineEntry {
            record_id: id.to_string(),
            changes_hash: content_hash(&upload.changes),
            changes: upload.changes.clone(),
            uploader: caller.user.login.clone(),
            device_id: caller.device_id.clone(),
            received_at: now,
        })?;
        if fresh {
            tracing::warn!(
                record = id,
                login = %caller.user.login,
                device = %caller.device_id,
                "late change to a locked record kept in quarantine"
            );
        }
        return Ok(Some(RecordResult {
            id: id.to_string(),
            result: UploadResult::Rejected,
            code: Some("record_locked".into()),
            message: Some(format!(
                "记录已于 {} 由服务器锁定（审计日志第 {} 条），锁定后的修改已留存待查，请以补正记录提交",
                anjian_core::time::format_china(receipt.locked_at),
                receipt.log_index
            )),
            heads: existing.heads.clone(),
            receipt: Some(receipt.clone()),
            server_doc: Some(existing.doc.clone()),
        }));
    }

    if let Some(existing) = &stored
        && after.heads == sorted_heads(&existing.heads)
    {
        return Ok(Some(RecordResult {
            id: id.to_string(),
            result: UploadResult::Accepted,
            code: None,
            message: None,
            heads: existing.heads.clone(),
            receipt: None,
            server_doc: server_doc_if_behind(&existing.doc, &existing.heads),
        }));
    }

    let projection = match validate(state, caller, scope, agency, before.as_ref(), &after)? {
        Ok(projection) => projection,
        Err(rejection) if rejection.code == "unknown_template" => {
            let mut error = bad_input(id, rejection.code, rejection.message);
            error.status = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Err(error);
        }
        Err(rejection) => return Ok(Some(rejected(id, rejection, stored.as_ref()))),
    };
    let saved = doc.save();
    let lock = (after.status == Status::Submitted).then(|| LockRequest {
        content_hash: content_hash(&saved),
        locked_at: to_millis(now),
    });
    let commit = RecordCommit {
        id: id.to_string(),
        doc: saved,
        heads: after.heads.clone(),
        expected_version: stored.as_ref().map(|s| s.version),
        projection,
        uploader: caller.user.login.clone(),
        device_id: caller.device_id.clone(),
        lock,
    };
    let outcome = store.commit_record(&commit, state.keys())?;
    let server_doc = server_doc_if_behind(&commit.doc, &after.heads);
    let receipt = match outcome {
        CommitOutcome::Committed { receipt } => {
            if let Some(receipt) = &receipt {
                state.checkpoint(receipt.log_index, &receipt.entry_hash);
            }
            receipt
        }
        CommitOutcome::VersionConflict => return Ok(None),
        CommitOutcome::NumberTaken { number, record_id } => {
            let message = if record_id.is_empty() {
                format!("文书编号 {number} 已作废，不能使用")
            } else {
                format!("文书编号 {number} 已用于记录 {record_id}")
            };
            return Ok(Some(rejected(
                id,
                reject("number_taken", message),
                stored.as_ref(),
            )));
        }
    };
    Ok(Some(RecordResult {
        id: id.to_string(),
        result: if receipt.is_some() {
            UploadResult::Locked
        } else {
            UploadResult::Accepted
        },
        code: None,
        message: None,
        heads: after.heads.clone(),
        server_doc,
        receipt,
    }))
}

/// A record id as devices make them: a UUID in its hyphenated form.
fn uuid_like(id: &str) -> bool {
    id.len() == 36
        && id.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// What a re-inspection follows up must be a submitted inspection the uploader may read, of
/// the same kind and enterprise; an enforcement re-inspection must name the order issued for
/// it (reading the record already requires the number there, and none for the other kinds).
fn check_reinspected(
    state: &AppState,
    scope: &Scope,
    after: &Record,
    reinspects: &Reinspects,
) -> AppResult<Result<(), Rejection>> {
    let invalid = |message: String| Ok(Err(reject("invalid_reinspection", message)));
    let original_id = reinspects.record_id.as_str();
    // Outside the scope it is answered as if it did not exist.
    let Some(original) = state
        .store
        .record(original_id)?
        .filter(|original| scope.may_read(original))
    else {
        return invalid(format!(
            "复查所依据的检查记录 {original_id} 不存在或不在您的管辖范围内"
        ));
    };
    if original.kind != RecordKind::Inspection.as_str() {
        return invalid(format!("复查所依据的记录 {original_id} 不是检查记录"));
    }
    if original.status != Status::Submitted.as_str() {
        return invalid(format!("复查所依据的检查记录 {original_id} 尚未提交"));
    }
    if original.inspection_kind != after.inspection_kind.as_str()
        || original.enterprise_code != after.enterprise.credit_code.as_str()
    {
        return invalid(format!(
            "复查记录的检查类型或被检查单位与所依据的检查记录 {original_id} 不同"
        ));
    }
    if after.inspection_kind == InspectionKind::Enforcement {
        let original_doc = RecordDoc::load(original_id, &original.doc, &[], SERVER_DEVICE)
            .and_then(|mut doc| doc.read())
            .map_err(|e| AppError::internal("stored record", e))?;
        let order = original_doc
            .documents
            .iter()
            .find(|d| d.doc_type == DocType::Order);
        let named = reinspects.order_number.as_ref();
        if !matches!((order, named), (Some(order), Some(named)) if &order.number == named) {
            return invalid(format!(
                "执法检查的复查须依据检查记录 {original_id} 签发的责令限期整改指令书"
            ));
        }
    }
    Ok(Ok(()))
}

/// The server's rules for a record after the upload; the projection rows when it passes.
fn validate(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    agency: Option<&Agency>,
    before: Option<&Record>,
    after: &Record,
) -> AppResult<Result<RecordProjection, Rejection>> {
    let store = state.store.as_ref();
    let role = caller.user.role;
    let Some(kind) = inspection_kind_of(role) else {
        return Ok(Err(reject(
            "forbidden",
            format!("{}账号不能上传检查记录", role.label()),
        )));
    };
    if after.inspection_kind != kind {
        return Ok(Err(reject(
            "forbidden",
            format!(
                "{}账号只能上传{}记录，此记录为{}",
                role.label(),
                kind.label(),
                after.inspection_kind.label()
            ),
        )));
    }
    if let Some(before) = before {
        for (field, same) in [
            ("记录类型", before.kind == after.kind),
            ("检查类型", before.inspection_kind == after.inspection_kind),
            (
                "检查表模板",
                before.template_id == after.template_id
                    && before.template_version == after.template_version,
            ),
            (
                "被检查单位",
                before.enterprise.credit_code == after.enterprise.credit_code,
            ),
            (
                "创建设备",
                before.created_by_device == after.created_by_device,
            ),
            ("开始时间", before.started_at == after.started_at),
            ("复查所依据的原检查", before.reinspects == after.reinspects),
        ] {
            if !same {
                return Ok(Err(reject(
                    "invalid_transition",
                    format!("记录的{field}不能更改"),
                )));
            }
        }
        if before.status == Status::Submitted && after.status != Status::Submitted {
            return Ok(Err(reject(
                "invalid_transition",
                "已提交的记录不能退回草稿",
            )));
        }
    }
    // Text already stored before this rule existed stays acceptable; only new text is refused.
    let known_problems = before.map(record_text_problems).unwrap_or_default();
    if let Some(problem) = record_text_problems(after)
        .into_iter()
        .find(|problem| !known_problems.contains(problem))
    {
        return Ok(Err(reject("invalid_text", problem)));
    }
    let Some(template) = state.template(&after.template_id, after.template_version)? else {
        return Ok(Err(reject(
            "unknown_template",
            format!(
                "服务器没有检查表模板 {} 第 {} 版",
                after.template_id, after.template_version
            ),
        )));
    };
    let code = after.enterprise.credit_code.as_str();
    let Some(enterprise) = store.enterprise(code)? else {
        return Ok(Err(reject(
            "unknown_enterprise",
            format!("服务器企业名录中没有 {code}（{}）", after.enterprise.name),
        )));
    };
    let in_scope = match scope {
        Scope::Enterprise(own) => own == code,
        other => other.covers_region(&enterprise.region_code),
    };
    if !in_scope {
        return Ok(Err(reject(
            "out_of_scope",
            format!("{}（{code}）不在您的管辖范围内", enterprise.name),
        )));
    }
    let me = caller.user.cert.as_deref().unwrap_or(&caller.user.login);
    if !after.inspectors.iter().any(|i| i.cert == me) {
        return Ok(Err(reject(
            "not_participant",
            format!("您（{}）不是此记录的检查人员", caller.user.name),
        )));
    }
    if let Some(amends) = &after.amends {
        let original = store.record(&amends.record_id)?;
        match original {
            Some(original) if scope.may_read(&original) && original.lock.is_some() => {
                if original.enterprise_code != code {
                    return Ok(Err(reject(
                        "invalid_amendment",
                        "补正记录的被检查单位与原记录不同",
                    )));
                }
            }
            _ => {
                return Ok(Err(reject(
                    "invalid_amendment",
                    format!("补正记录所指的原记录 {} 不存在或尚未锁定", amends.record_id),
                )));
            }
        }
    }
    if let Some(reinspects) = &after.reinspects
        && let Err(rejection) = check_reinspected(state, scope, after, reinspects)?
    {
        return Ok(Err(rejection));
    }
    if after.status == Status::Submitted {
        let problems = completion_problems(after, &template);
        if !problems.is_empty() {
            return Ok(Err(reject("incomplete", problems.join("；"))));
        }
        if after.inspection_kind == InspectionKind::Enforcement {
            let certified = store.certified_users_since(0)?;
            let date = china_date(after.started_at);
            let valid = after
                .inspectors
                .iter()
                .filter(|i| {
                    certified.iter().any(|c| {
                        c.cert == i.cert && c.cert_valid_until.is_some_and(|until| until >= date)
                    })
                })
                .count();
            if valid < MIN_ENFORCEMENT_INSPECTORS {
                return Ok(Err(reject(
                    "uncertified_inspectors",
                    format!(
                        "执法检查须由至少 {MIN_ENFORCEMENT_INSPECTORS} 名持有效执法证的执法人员进行；服务器登记的执法证中，检查日 {date} 有效的只有 {valid} 名"
                    ),
                )));
            }
        }
    }

    let mut documents = Vec::new();
    for issued in &after.documents {
        let Some(agency) = agency else {
            return Ok(Err(reject(
                "no_agency",
                "服务器尚未配置执法机关，不能接收带文书编号的记录",
            )));
        };
        let Some((doc_type, year, serial)) = agency.parse_number(&issued.number) else {
            return Ok(Err(reject(
                "invalid_number",
                format!("文书编号 {} 不符合本机关的编号格式", issued.number),
            )));
        };
        if doc_type != issued.doc_type {
            return Ok(Err(reject(
                "invalid_number",
                format!(
                    "文书编号 {} 不是{}的编号",
                    issued.number,
                    issued.doc_type.title()
                ),
            )));
        }
        let holder = store.lease_holder(&agency.name, doc_type, year, serial)?;
        if holder.as_ref().map(|(device, _)| device.as_str())
            != Some(after.created_by_device.as_str())
        {
            return Ok(Err(reject(
                "number_not_leased",
                format!("文书编号 {} 不在服务器租给签发设备的号段内", issued.number),
            )));
        }
        // A number new to this record is registered only by the device holding its block,
        // logged in as the account that leased it: documents are issued on the device that
        // created the record, which uploads them itself. Otherwise anyone could name a
        // colleague's device as the creator and spend its numbers.
        let new_here =
            before.is_none_or(|before| !before.documents.iter().any(|d| d.number == issued.number));
        if new_here
            && holder.as_ref().is_none_or(|(device, login)| {
                *device != caller.device_id || *login != caller.user.login
            })
        {
            return Ok(Err(reject(
                "number_not_leased",
                format!(
                    "文书编号 {} 的号段租给了设备 {}，只能由该设备以领取号段的账号上传；本次上传来自设备 {}（{}）",
                    issued.number, after.created_by_device, caller.device_id, caller.user.login
                ),
            )));
        }
        documents.push(IssuedNumber {
            number: issued.number.clone(),
            agency: agency.name.clone(),
            doc_type,
            year,
            serial,
            issued_at: issued.issued_at,
        });
    }
    if after.kind == RecordKind::Reinspection && after.reinspects.is_none() {
        return Ok(Err(reject(
            "invalid_record",
            "复查记录缺少所依据的检查记录",
        )));
    }
    Ok(Ok(RecordProjection {
        kind: after.kind.as_str().to_string(),
        inspection_kind: after.inspection_kind.as_str().to_string(),
        template_id: after.template_id.clone(),
        template_version: after.template_version,
        enterprise_code: code.to_string(),
        enterprise_name: enterprise.name.clone(),
        region_code: enterprise.region_code.clone(),
        industry: enterprise.industry.clone(),
        status: after.status.as_str().to_string(),
        started_at: after.started_at,
        submitted_at: after.submitted_at,
        created_by_device: after.created_by_device.clone(),
        answered_count: after.answers.len() as i64,
        amends: after.amends.as_ref().map(|a| a.record_id.clone()),
        inspector_certs: after.inspectors.iter().map(|i| i.cert.clone()).collect(),
        hazards: after
            .hazards
            .iter()
            .map(|h| HazardRow {
                item: h.item.clone(),
                class: h.hazard.class.clone(),
                description: h.hazard.description.clone(),
                legal_basis: h.hazard.legal_basis.clone(),
                deadline: h.hazard.deadline,
            })
            .collect(),
        documents,
        rectifies: after
            .reinspects
            .as_ref()
            .filter(|_| after.kind == RecordKind::Reinspection)
            .zip(after.submitted_at)
            .map(|(reinspects, at)| Rectification {
                record_id: reinspects.record_id.clone(),
                items: after
                    .answers
                    .iter()
                    .filter(|(_, answer)| answer.status == AnswerStatus::Pass)
                    .map(|(item, _)| item.clone())
                    .collect(),
                at,
            }),
    }))
}

fn register_voids(
    state: &AppState,
    caller: &Caller,
    agency: &Agency,
    request: &SyncRequest,
    problems: &mut Vec<String>,
) -> AppResult<()> {
    let store = state.store.as_ref();
    for void in &request.voided_numbers {
        let Some((doc_type, year, serial)) = agency.parse_number(&void.number) else {
            problems.push(format!("作废编号 {} 不符合本机关的编号格式", void.number));
            continue;
        };
        let holder = store.lease_holder(&agency.name, doc_type, year, serial)?;
        if holder.as_ref().is_none_or(|(device, login)| {
            *device != caller.device_id || *login != caller.user.login
        }) {
            problems.push(format!(
                "作废编号 {} 不是租给本设备和本账号的号段",
                void.number
            ));
            continue;
        }
        let entry = NumberRegisterEntry {
            number: void.number.clone(),
            agency: agency.name.clone(),
            doc_type,
            year,
            serial,
            state: "voided".into(),
            record_id: None,
            reason: Some(void.reason.clone()),
            device_id: caller.device_id.clone(),
            at: void.at,
        };
        match store.void_number(&entry) {
            Ok(()) => {}
            Err(crate::store::StoreError::Conflict(message)) => problems.push(message),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Leases a block when the device, as far as the server knows, holds fewer than
/// [`LOW_SERIALS`] unused serials of that type and year. A repeated request (an answer lost on
/// the way) therefore gets no second block: the answer lists every block the device holds.
fn lease_blocks(
    state: &AppState,
    caller: &Caller,
    agency: &Agency,
    requests: &[NumberRequest],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if requests.is_empty() {
        return Ok(());
    }
    // Only enforcement inspectors issue the three documents.
    if caller.user.role != Role::Inspector {
        return Ok(());
    }
    let store = state.store.as_ref();
    let this_year = anjian_core::numbering::year_of(now);
    let leases = store.leases_of_device(&caller.device_id, &caller.user.login)?;
    let register = store.number_register()?;
    let mut done = HashSet::new();
    for request in requests {
        if (request.year - this_year).abs() > 1 || !done.insert(*request) {
            continue;
        }
        let unused: u32 = leases
            .iter()
            .filter(|b| {
                b.agency == agency.name && b.doc_type == request.doc_type && b.year == request.year
            })
            .map(|b| {
                let used = register
                    .iter()
                    .filter(|n| {
                        n.agency == agency.name
                            && n.doc_type == b.doc_type
                            && n.year == b.year
                            && (b.first..=b.last).contains(&n.serial)
                    })
                    .count() as u32;
                b.last - b.first + 1 - used
            })
            .sum();
        if unused < LOW_SERIALS {
            store.lease_block(
                &agency.name,
                request.doc_type,
                request.year,
                &caller.device_id,
                &caller.user.login,
                BLOCK_SIZE,
                now,
            )?;
        }
    }
    Ok(())
}

fn updates_for(
    state: &AppState,
    caller: &Caller,
    scope: &Scope,
    request: &SyncRequest,
    results: &[RecordResult],
) -> AppResult<Updates> {
    let store = state.store.as_ref();
    let cursor = request.cursor;
    let cert = caller
        .user
        .cert
        .clone()
        .unwrap_or(caller.user.login.clone());
    let mut records = Vec::new();
    for stored in store.records_for_device_since(cursor, &caller.device_id, Some(&cert))? {
        if !scope.may_read(&stored) {
            continue;
        }
        // A record answered above already carries what the device lacks.
        if results.iter().any(|r| r.id == stored.id) {
            continue;
        }
        records.push(RecordUpdate {
            id: stored.id.clone(),
            doc: stored.doc.clone(),
            receipt: stored.lock.clone(),
        });
    }
    let enterprises = store
        .enterprises_since(cursor)?
        .into_iter()
        .filter(|e| match scope {
            Scope::Enterprise(own) => own == e.credit_code.as_str(),
            other => other.covers_region(&e.region_code),
        })
        .collect();
    let inspectors = if caller.user.role == Role::EnterpriseOfficer {
        Vec::new()
    } else {
        store.certified_users_since(cursor)?
    };
    let agency = match store.agency()? {
        Some((text, seq)) if seq > cursor => Some(text),
        _ => None,
    };
    let alerts = store
        .alerts_since(&scope.records(), cursor)?
        .into_iter()
        .map(|a| AlertUpdate {
            alert_id: a.alert_id,
            rule: a.rule.as_str().to_string(),
            rule_label: a.rule.label().to_string(),
            credit_code: a.credit_code,
            enterprise_name: a.enterprise_name,
            device_id: a.device_id,
            occurred_at: a.occurred_at,
            raised_at: a.raised_at,
            title: a.title,
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
        })
        .collect();
    Ok(Updates {
        records,
        enterprises,
        inspectors,
        templates: store.templates_since(cursor)?,
        agency,
        number_blocks: store.leases_of_device(&caller.device_id, &caller.user.login)?,
        alerts,
    })
}
