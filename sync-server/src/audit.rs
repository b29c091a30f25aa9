//! Verifying the audit log: every lock's entry hash is recomputed from its fields and the
//! previous entry, its receipt signature checked with the key it names (any of the server's
//! keys for entries from before key ids), the locked record compared with what was locked,
//! and the record's list columns (enterprise, status, hazard count) with its locked document.
//! Then the latest signed checkpoint kept outside the database must still be in the chain:
//! without it, cutting entries off the end would leave a chain that verifies. The first entry
//! that does not match is named.

use serde::Serialize;

use anjian_core::record::RecordDoc;
use anjian_core::sync::receipt::{GENESIS_HASH, ServerKey, SignedHead, content_hash, entry_hash};

use crate::error::{AppError, AppResult};
use crate::store::{Store, StoredRecord};

/// Reads a locked document; the device id only names the reader's Automerge actor.
const VERIFIER_DEVICE: &str = "00000000-0000-7000-8000-00000000a0d1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: usize,
    pub intact: bool,
    pub first_bad: Option<BadEntry>,
    /// The position of the checkpoint the chain was held against; `None` when there was none.
    pub checkpoint: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    pub index: i64,
    pub record_id: String,
    pub problem: String,
}

/// Verifies the chain with `keys`, and against `checkpoint` when there is one.
pub fn verify(
    store: &Store,
    keys: &[ServerKey],
    checkpoint: Option<&SignedHead>,
) -> AppResult<Verification> {
    let log = store.audit_log()?;
    let mut previous = GENESIS_HASH.to_string();
    let result = |first_bad: Option<BadEntry>| Verification {
        entries: log.len(),
        intact: first_bad.is_none(),
        first_bad,
        checkpoint: checkpoint.map(|c| c.log_index),
    };
    for (position, entry) in log.iter().enumerate() {
        let expected_index = position as i64 + 1;
        let bad = |problem: String| {
            result(Some(BadEntry {
                index: entry.log_index,
                record_id: entry.record_id.clone(),
                problem,
            }))
        };
        if entry.log_index != expected_index {
            return Ok(bad(format!(
                "序号应为 {expected_index}：其前的条目缺失或被改动"
            )));
        }
        if entry.previous_hash != previous {
            return Ok(bad("所记的前一条哈希与前一条不符".into()));
        }
        let recomputed = entry_hash(
            &entry.previous_hash,
            &entry.record_id,
            &entry.heads,
            &entry.content_hash,
            entry.locked_at,
        );
        if recomputed != entry.entry_hash {
            return Ok(bad(
                "条目哈希与其内容不符：记录编号、版本、内容哈希或时间被改动".into(),
            ));
        }
        if let Err(problem) = entry.verify_with(keys) {
            return Ok(bad(format!("回执签名无效：{problem}")));
        }
        match store.record(&entry.record_id)? {
            None => return Ok(bad("被锁定的记录已不存在".into())),
            Some(record) => {
                let mut heads = record.heads.clone();
                heads.sort();
                if heads != entry.heads || content_hash(&record.doc) != entry.content_hash {
                    return Ok(bad("记录内容与锁定时不符".into()));
                }
                if let Some(problem) = list_columns_problem(store, &record)? {
                    return Ok(bad(problem));
                }
            }
        }
        previous = entry.entry_hash.clone();
    }
    if let Some(checkpoint) = checkpoint {
        let bad = |problem: String| {
            result(Some(BadEntry {
                index: checkpoint.log_index,
                record_id: log
                    .get(checkpoint.log_index as usize - 1)
                    .map(|e| e.record_id.clone())
                    .unwrap_or_default(),
                problem,
            }))
        };
        if checkpoint.log_index < 1 {
            return Ok(bad("审计检查点的序号无效".into()));
        }
        if let Err(problem) = checkpoint.verify_with(keys) {
            return Ok(bad(format!("审计检查点的签名无效：{problem}")));
        }
        match log.get(checkpoint.log_index as usize - 1) {
            None => {
                return Ok(bad(format!(
                    "审计日志被截断：库外检查点（{}）记录日志已有 {} 条，数据库中只剩 {} 条",
                    anjian_core::time::format_china(checkpoint.signed_at),
                    checkpoint.log_index,
                    log.len()
                )));
            }
            Some(entry) if entry.entry_hash != checkpoint.entry_hash => {
                return Ok(bad(
                    "审计日志被改写：此条的哈希与库外检查点签名记录的不同".into()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(result(None))
}

/// What the record list shows of a locked record must be what its locked document says: the
/// enterprise (its code, and its name in the document or, after a rename, in the register),
/// the status and the number of hazards.
fn list_columns_problem(store: &Store, record: &StoredRecord) -> AppResult<Option<String>> {
    let locked = RecordDoc::load(&record.id, &record.doc, &[], VERIFIER_DEVICE)
        .and_then(|mut doc| doc.read())
        .map_err(|e| AppError::internal("locked record", e))?;
    let code = locked.enterprise.credit_code.as_str();
    if record.enterprise_code != code {
        return Ok(Some(format!(
            "记录列表中的被检查单位代码 {} 与锁定的记录（{code}）不符",
            record.enterprise_code
        )));
    }
    if record.enterprise_name != locked.enterprise.name {
        let registered = store.enterprise(code)?.map(|e| e.name);
        if registered.as_deref() != Some(record.enterprise_name.as_str()) {
            return Ok(Some(format!(
                "记录列表中的单位名称“{}”与锁定的记录（“{}”）不符",
                record.enterprise_name, locked.enterprise.name
            )));
        }
    }
    if record.status != locked.status.as_str() {
        return Ok(Some(format!(
            "记录列表中的状态 {} 与锁定的记录（{}）不符",
            record.status,
            locked.status.as_str()
        )));
    }
    if record.hazard_count != locked.hazards.len() as i64 {
        return Ok(Some(format!(
            "记录列表中的隐患数 {} 与锁定的记录（{} 项）不符",
            record.hazard_count,
            locked.hazards.len()
        )));
    }
    Ok(None)
}
