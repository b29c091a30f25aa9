//! Verifying the audit log: every lock's entry hash is recomputed from its fields and the
//! previous entry, its receipt signature checked with the server's key, and the locked record
//! compared with what was locked. The first entry that does not match is named.

use serde::Serialize;

use anjian_core::sync::receipt::{GENESIS_HASH, content_hash, entry_hash};

use crate::error::AppResult;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// Entries read.
    pub entries: usize,
    pub intact: bool,
    pub first_bad: Option<BadEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    pub index: i64,
    pub record_id: String,
    pub problem: String,
}

pub fn verify(store: &dyn Store, public_key_hex: &str) -> AppResult<Verification> {
    let log = store.audit_log()?;
    let mut previous = GENESIS_HASH.to_string();
    for (position, entry) in log.iter().enumerate() {
        let expected_index = position as i64 + 1;
        let bad = |problem: String| Verification {
            entries: log.len(),
            intact: false,
            first_bad: Some(BadEntry {
                index: entry.log_index,
                record_id: entry.record_id.clone(),
                problem,
            }),
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
        if let Err(problem) = entry.verify(public_key_hex) {
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
            }
        }
        previous = entry.entry_hash.clone();
    }
    Ok(Verification {
        entries: log.len(),
        intact: true,
        first_bad: None,
    })
}
