//! The device side of sync: which changes to upload, and applying the server's answer.
//!
//! Every step of applying an answer is idempotent (merging a document, upserting reference
//! data, adding a held block, creating an amendment only once per late change), and the
//! cursor is saved last, so an interrupted sync is simply run again.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::agency::{Agency, DocType};
use crate::error::{Error, Result};
use crate::numbering::year_of;
use crate::record::{Amends, Answer, Inspector, NewRecord, Record, RecordDoc, RecordKind};
use crate::store::Store;
use crate::sync::protocol::{
    AlertUpdate, AuditPosition, LOW_SERIALS, LoginResponse, NumberRequest, RecordResult,
    RecordUpload, Role, SyncRequest, SyncResponse, UploadResult, VoidedNumber, heads_from_text,
    sorted_heads,
};
use crate::sync::receipt::{Receipt, ReceiptProblem, ServerKey, SignedHead};
use crate::template::Template;
use crate::time::format_china;

/// The device's login at a sync server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSession {
    pub server: String,
    pub login: String,
    pub role: Role,
    #[serde(skip)]
    pub access_token: String,
    #[serde(skip)]
    pub refresh_token: String,
    pub access_expires_at: DateTime<Utc>,
    /// The server's Ed25519 public key (hex).
    pub public_key: String,
    pub cursor: i64,
}

/// A record's standing with the server, as this device knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSyncState {
    pub acked_heads: Vec<String>,
    pub locked: bool,
    pub receipt: Option<Receipt>,
    /// The code of the last rejection, such as `record_locked`.
    pub last_code: Option<String>,
    pub last_message: Option<String>,
}

/// A stored receipt checked again on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptCheck {
    pub receipt: Receipt,
    /// Why the receipt does not hold; `None` when it verifies.
    pub problem: Option<String>,
}

/// What happened to one uploaded record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordOutcome {
    pub id: String,
    pub result: UploadResult,
    pub code: Option<String>,
    pub message: Option<String>,
    pub receipt: Option<Receipt>,
    /// The amendment draft made from changes the server refused as late.
    pub amendment: Option<String>,
}

/// What one sync exchange did on this device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub records: Vec<RecordOutcome>,
    /// Records received or changed by co-inspectors.
    pub downloaded: Vec<String>,
    pub enterprises: usize,
    pub inspectors: usize,
    pub templates: usize,
    pub agency_updated: bool,
    /// Blocks of document numbers newly leased to this device.
    pub number_blocks: usize,
    /// IoT alerts new to this device or changed (acknowledged).
    pub alerts: usize,
    /// Things the device could not take from the answer, and number problems the server saw.
    pub problems: Vec<String>,
}

const PROFILE_KEYS: [&str; 8] = [
    "server_url",
    "server_login",
    "server_role",
    "access_token",
    "refresh_token",
    "access_expires_at",
    "server_public_key",
    "sync_cursor",
];

impl Store {
    fn set_profile_value(&self, key: &str, value: &str) -> Result<()> {
        self.connection().execute(
            "INSERT INTO profile (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    fn get_profile_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT value FROM profile WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    /// Keeps a login: the tokens, the server's public key, and the user as this device's
    /// inspector. Logging in to a different server starts its sync state afresh.
    pub fn save_login(
        &mut self,
        server: &str,
        login: &LoginResponse,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let previous = self.get_profile_value("server_url")?;
        if previous.as_deref() != Some(server) {
            self.connection().execute("DELETE FROM sync_state", [])?;
            self.set_profile_value("sync_cursor", "0")?;
        }
        let user = &login.user;
        // Accounts without an enforcement certificate (enterprise officers, experts) sign
        // their records with their login.
        let inspector = Inspector {
            name: user.name.clone(),
            cert: user.cert.clone().unwrap_or_else(|| user.login.clone()),
            cert_valid_until: user.cert_valid_until,
        };
        self.init_profile(&inspector, None)?;
        let expires = now + chrono::Duration::seconds(login.expires_in as i64);
        for (key, value) in [
            ("server_url", server.to_string()),
            ("server_login", user.login.clone()),
            ("server_role", user.role.as_str().to_string()),
            ("access_token", login.access_token.clone()),
            ("refresh_token", login.refresh_token.clone()),
            ("access_expires_at", expires.to_rfc3339()),
            ("server_public_key", login.server_public_key.clone()),
        ] {
            self.set_profile_value(key, &value)?;
        }
        let mut keys = if previous.as_deref() == Some(server) {
            self.server_keys()?
        } else {
            // Another server: neither its keys nor its audit chain are this one's.
            self.connection()
                .execute("DELETE FROM profile WHERE key = 'audit_head'", [])?;
            Vec::new()
        };
        merge_keys(&mut keys, &login.server_keys);
        merge_keys(&mut keys, &[ServerKey::new(&login.server_public_key)]);
        self.save_server_keys(&keys)
    }

    /// Every key of the server this device knows, current first: receipts name theirs.
    pub fn server_keys(&self) -> Result<Vec<ServerKey>> {
        let mut keys: Vec<ServerKey> = match self.get_profile_value("server_keys")? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|_| Error::InvalidInput("本机保存的服务器密钥无效".into()))?,
            None => Vec::new(),
        };
        // A device that logged in before keys were named knows one key.
        if let Some(public) = self.get_profile_value("server_public_key")? {
            merge_keys(&mut keys, &[ServerKey::new(&public)]);
        }
        Ok(keys)
    }

    fn save_server_keys(&self, keys: &[ServerKey]) -> Result<()> {
        let text = serde_json::to_string(keys)
            .map_err(|e| Error::InvalidInput(format!("服务器密钥无法保存：{e}")))?;
        self.set_profile_value("server_keys", &text)
    }

    /// The latest head of the server's audit chain this device saw, signed.
    pub fn audit_head(&self) -> Result<Option<SignedHead>> {
        match self.get_profile_value("audit_head")? {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| Error::InvalidInput("本机保存的审计日志头无效".into())),
            None => Ok(None),
        }
    }

    /// Holds the answer's audit chain against the head this device saw last: the server's
    /// chain must still hold that entry, unchanged, and its new head must be signed by one of
    /// its keys and be no shorter. Returns the head to keep once the answer is applied.
    fn check_audit_chain(
        &self,
        response: &SyncResponse,
        keys: &[ServerKey],
    ) -> Result<Option<SignedHead>> {
        let known = self.audit_head()?;
        let broken = |message: String| {
            Err(Error::AuditChainBroken(format!(
                "{message}。这可能是服务器数据库被截断、回滚或篡改：请停止同步并立即报告系统管理员（本机记录不受影响）"
            )))
        };
        if let Some(known) = &known {
            let seen = format!(
                "本机于 {} 见过的审计日志第 {} 条",
                format_china(known.signed_at),
                known.log_index
            );
            match &response.audit_check {
                None => return broken(format!("服务器没有答复{seen}是否仍在")),
                Some(check) if check.log_index != known.log_index => {
                    return broken(format!("服务器答复的不是{seen}"));
                }
                Some(check) => match &check.entry_hash {
                    None => {
                        return broken(format!("服务器的审计日志已不含{seen}（日志被截断或回滚）"));
                    }
                    Some(hash) if *hash != known.entry_hash => {
                        return broken(format!("服务器审计日志中{seen}已被改写（日志出现分叉）"));
                    }
                    Some(_) => {}
                },
            }
        }
        match (&response.audit_head, &known) {
            (Some(head), _) => {
                if let Err(problem) = head.verify_with(keys) {
                    return broken(format!("服务器审计日志头的签名无效：{problem}"));
                }
                if let Some(known) = &known
                    && head.log_index < known.log_index
                {
                    return broken(format!(
                        "服务器审计日志只有 {} 条，少于本机见过的 {} 条（日志被回滚）",
                        head.log_index, known.log_index
                    ));
                }
                Ok(Some(head.clone()))
            }
            (None, Some(known)) => broken(format!(
                "服务器报告审计日志为空，而本机见过第 {} 条（日志被回滚）",
                known.log_index
            )),
            (None, None) => Ok(None),
        }
    }

    /// Replaces the access token after a refresh.
    pub fn save_access_token(
        &mut self,
        access_token: &str,
        refresh_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.set_profile_value("access_token", access_token)?;
        self.set_profile_value("refresh_token", refresh_token)?;
        self.set_profile_value("access_expires_at", &expires_at.to_rfc3339())
    }

    /// Forgets the tokens (the sync state stays, for a later login to the same server).
    pub fn clear_tokens(&mut self) -> Result<()> {
        for key in ["access_token", "refresh_token", "access_expires_at"] {
            self.connection()
                .execute("DELETE FROM profile WHERE key = ?1", [key])?;
        }
        Ok(())
    }

    pub fn server_session(&self) -> Result<Option<ServerSession>> {
        let mut values = Vec::new();
        for key in PROFILE_KEYS {
            values.push(self.get_profile_value(key)?);
        }
        let [
            Some(server),
            Some(login),
            Some(role),
            Some(access_token),
            Some(refresh_token),
            Some(expires),
            Some(public_key),
            cursor,
        ] = <[Option<String>; 8]>::try_from(values).expect("one value per key")
        else {
            return Ok(None);
        };
        let role = Role::parse(&role)
            .ok_or_else(|| Error::InvalidInput(format!("本机保存的账号角色 {role} 无效")))?;
        let access_expires_at = DateTime::parse_from_rfc3339(&expires)
            .map_err(|_| Error::InvalidInput("本机保存的令牌有效期无效".into()))?
            .with_timezone(&Utc);
        Ok(Some(ServerSession {
            server,
            login,
            role,
            access_token,
            refresh_token,
            access_expires_at,
            public_key,
            cursor: cursor.and_then(|c| c.parse().ok()).unwrap_or(0),
        }))
    }

    /// The record's standing with the server; `None` for a record never uploaded.
    pub fn sync_state(&self, id: &str) -> Result<Option<RecordSyncState>> {
        let row = self
            .connection()
            .prepare_cached(
                "SELECT acked_heads, receipt, last_code, last_message
                 FROM sync_state WHERE record_id = ?1",
            )?
            .query_row([id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()?;
        let Some((acked, receipt, last_code, last_message)) = row else {
            return Ok(None);
        };
        let receipt = match receipt {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| {
                Error::InvalidInput(format!("本机保存的记录 {id} 回执无法读取：{e}"))
            })?),
            None => None,
        };
        Ok(Some(RecordSyncState {
            acked_heads: heads_from_text(&acked),
            locked: receipt.is_some(),
            receipt,
            last_code,
            last_message,
        }))
    }

    /// Whether the server has locked the record.
    pub fn is_locked(&self, id: &str) -> Result<bool> {
        Ok(self.sync_state(id)?.is_some_and(|state| state.locked))
    }

    /// Checks a locked record's receipt again, as an inspector would before showing it: the
    /// server's signature (with the key kept at login), the audit-chain hash, and that this
    /// device's copy of the record contains the locked version. `None` for a record the server
    /// has not locked.
    pub fn check_receipt(&self, id: &str) -> Result<Option<ReceiptCheck>> {
        let Some(receipt) = self.sync_state(id)?.and_then(|state| state.receipt) else {
            return Ok(None);
        };
        let keys = self.server_keys()?;
        let problem = if keys.is_empty() {
            Some("本机没有服务器公钥：请重新登录后再核验".to_string())
        } else {
            match receipt.verify_with(&keys) {
                Err(problem) => Some(problem.to_string()),
                Ok(()) if !self.load_record(id)?.contains_heads(&receipt.heads) => {
                    Some(ReceiptProblem::HeadsMismatch.to_string())
                }
                Ok(()) => None,
            }
        };
        Ok(Some(ReceiptCheck { receipt, problem }))
    }

    /// The amendments made on this device to a locked record, oldest first.
    pub fn amendments_of(&self, id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .connection()
            .prepare_cached("SELECT id FROM records WHERE amends = ?1 ORDER BY id")?;
        let rows = stmt.query_map([id], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The request for the next exchange: every record changed since the server last
    /// acknowledged it (except late changes the server already refused), the voided numbers,
    /// and a request for more serials where fewer than [`LOW_SERIALS`] are left.
    pub fn sync_request(&self, now: DateTime<Utc>) -> Result<SyncRequest> {
        let session = self.server_session()?.ok_or(Error::NotLoggedIn)?;
        let pending: Vec<(String, String)> = {
            let mut stmt = self.connection().prepare(
                "SELECT r.id, COALESCE(s.acked_heads, '') FROM records r
                 LEFT JOIN sync_state s ON s.record_id = r.id
                 WHERE r.heads != COALESCE(s.acked_heads, '')
                   AND (s.rejected_heads IS NULL OR r.heads != s.rejected_heads)
                 ORDER BY r.id",
            )?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut records = Vec::new();
        for (id, acked) in pending {
            let mut doc = self.load_record(&id)?;
            let mut known_heads = heads_from_text(&acked);
            if !doc.contains_heads(&known_heads) {
                known_heads.clear();
            }
            let changes = doc.changes_since(&known_heads)?;
            let heads = doc.read()?.heads;
            records.push(RecordUpload {
                id,
                known_heads,
                heads,
                changes,
            });
        }
        let voided_numbers = self.voided_numbers()?;
        let mut number_requests = Vec::new();
        if session.role == Role::Inspector {
            let year = year_of(now);
            let blocks = self.number_blocks_or_empty()?;
            for doc_type in DocType::ALL {
                let remaining: u32 = blocks
                    .iter()
                    .filter(|b| b.doc_type == doc_type && b.year == year)
                    .map(|b| b.remaining)
                    .sum();
                if remaining < LOW_SERIALS {
                    number_requests.push(NumberRequest { doc_type, year });
                }
            }
        }
        Ok(SyncRequest {
            device_id: self.device_id().to_string(),
            cursor: session.cursor,
            records,
            voided_numbers,
            number_requests,
            known_audit_head: self.audit_head()?.map(|head| AuditPosition {
                log_index: head.log_index,
                entry_hash: head.entry_hash,
            }),
        })
    }

    fn voided_numbers(&self) -> Result<Vec<VoidedNumber>> {
        let mut stmt = self.connection().prepare(
            "SELECT number, COALESCE(reason, ''), at FROM numbers WHERE state = 'voided'
             ORDER BY agency, doc_type, year, serial",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (number, reason, at) = row?;
            let at = DateTime::parse_from_rfc3339(&at)
                .map_err(|_| Error::InvalidInput(format!("作废编号 {number} 的时间 {at} 无效")))?
                .with_timezone(&Utc);
            out.push(VoidedNumber { number, reason, at });
        }
        Ok(out)
    }

    fn number_blocks_or_empty(&self) -> Result<Vec<crate::numbering::BlockStatus>> {
        match self.number_blocks() {
            Err(Error::NoAgency) => Ok(Vec::new()),
            other => other,
        }
    }

    /// Keeps an alert as the server sent it; false when it was already held unchanged.
    fn store_alert(&self, alert: &AlertUpdate) -> Result<bool> {
        let time = |at: &DateTime<Utc>| at.to_rfc3339();
        let changed = self.connection().execute(
            "INSERT INTO alerts (alert_id, rule, rule_label, credit_code, enterprise_name,
                 device_id, occurred_at, raised_at, title, acknowledged_at, acknowledged_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (alert_id) DO UPDATE SET acknowledged_at = excluded.acknowledged_at,
                 acknowledged_by = excluded.acknowledged_by, title = excluded.title
             WHERE acknowledged_at IS NOT excluded.acknowledged_at
                OR acknowledged_by IS NOT excluded.acknowledged_by
                OR title IS NOT excluded.title",
            rusqlite::params![
                alert.alert_id,
                alert.rule,
                alert.rule_label,
                alert.credit_code,
                alert.enterprise_name,
                alert.device_id,
                time(&alert.occurred_at),
                time(&alert.raised_at),
                alert.title,
                alert.acknowledged_at.as_ref().map(time),
                alert.acknowledged_by,
            ],
        )?;
        Ok(changed > 0)
    }

    /// The IoT alerts the server sent, newest first.
    pub fn alerts(&self) -> Result<Vec<AlertUpdate>> {
        let mut stmt = self.connection().prepare(
            "SELECT alert_id, rule, rule_label, credit_code, enterprise_name, device_id,
                    occurred_at, raised_at, title, acknowledged_at, acknowledged_by
             FROM alerts ORDER BY raised_at DESC, alert_id",
        )?;
        let instant = |i: usize, row: &rusqlite::Row<'_>| -> rusqlite::Result<DateTime<Utc>> {
            let text: String = row.get(i)?;
            DateTime::parse_from_rfc3339(&text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                })
        };
        let rows = stmt.query_map([], |row| {
            Ok(AlertUpdate {
                alert_id: row.get(0)?,
                rule: row.get(1)?,
                rule_label: row.get(2)?,
                credit_code: row.get(3)?,
                enterprise_name: row.get(4)?,
                device_id: row.get(5)?,
                occurred_at: instant(6, row)?,
                raised_at: instant(7, row)?,
                title: row.get(8)?,
                acknowledged_at: match row.get::<_, Option<String>>(9)? {
                    Some(_) => Some(instant(9, row)?),
                    None => None,
                },
                acknowledged_by: row.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Applies the server's answer to `request`.
    pub fn apply_sync_response(
        &mut self,
        request: &SyncRequest,
        response: &SyncResponse,
        now: DateTime<Utc>,
    ) -> Result<SyncReport> {
        // Checked before anything of the answer is taken: an answer from a server whose chain
        // was cut short changes nothing here, and the next sync asks again.
        self.server_session()?.ok_or(Error::NotLoggedIn)?;
        let mut keys = self.server_keys()?;
        merge_keys(&mut keys, &response.server_keys);
        let audit_head = self.check_audit_chain(response, &keys)?;
        let mut report = SyncReport {
            problems: response.number_problems.clone(),
            ..SyncReport::default()
        };
        let updates = &response.updates;

        if let Some(text) = &updates.agency {
            let agency = Agency::parse("服务器下发的机关配置", text)?;
            let current = self.profile()?.agency;
            if current.as_ref().map(|a| &a.source_text) != Some(&agency.source_text) {
                let me = self.current_inspector()?;
                self.init_profile(&me, Some(&agency))?;
                report.agency_updated = true;
            }
        }
        for source in &updates.templates {
            let file = format!("服务器下发的模板 {} 第 {} 版", source.id, source.version);
            match Template::parse(&file, &source.source).and_then(|t| self.add_template(&t)) {
                Ok(true) => report.templates += 1,
                Ok(false) => {}
                Err(e) => report.problems.push(e.to_string()),
            }
        }
        for inspector in &updates.inspectors {
            if self.inspector(&inspector.cert)?.as_ref() != Some(inspector) {
                self.add_inspector(inspector)?;
                report.inspectors += 1;
            }
        }
        if !updates.enterprises.is_empty() {
            report.enterprises = self.import_enterprises(&updates.enterprises)?;
        }
        if let Some(agency) = self.profile()?.agency {
            let held = self.number_blocks_or_empty()?;
            for block in &updates.number_blocks {
                if block.agency != agency.name
                    || held.iter().any(|h| {
                        h.doc_type == block.doc_type
                            && h.year == block.year
                            && h.first == block.first
                    })
                {
                    continue;
                }
                match self.add_number_block(
                    block.doc_type,
                    block.year,
                    block.first,
                    block.last,
                    now,
                ) {
                    Ok(_) => report.number_blocks += 1,
                    Err(e) => report.problems.push(e.to_string()),
                }
            }
        }

        for alert in &updates.alerts {
            if self.store_alert(alert)? {
                report.alerts += 1;
            }
        }

        for result in &response.records {
            let uploaded = request.records.iter().find(|r| r.id == result.id);
            let outcome = self.apply_record_result(result, uploaded, &keys, now)?;
            report.records.push(outcome);
        }
        for update in &updates.records {
            if let Some(receipt) = &update.receipt {
                receipt
                    .verify_with(&keys)
                    .map_err(|problem| Error::BadReceipt(problem.to_string()))?;
            }
            let (changed, server_heads) = self.merge_server_doc(&update.id, &update.doc)?;
            // The server holds these heads, and now so does this device: later uploads of
            // this record start from them. A record answered above keeps that answer's state.
            if !response.records.iter().any(|r| r.id == update.id) {
                self.write_sync_state(
                    &update.id,
                    &server_heads,
                    update.receipt.as_ref(),
                    None,
                    None,
                )?;
            }
            if changed {
                report.downloaded.push(update.id.clone());
            }
        }
        self.set_profile_value("sync_cursor", &response.cursor.to_string())?;
        self.save_server_keys(&keys)?;
        if let Some(head) = audit_head {
            let text = serde_json::to_string(&head)
                .map_err(|e| Error::InvalidInput(format!("审计日志头无法保存：{e}")))?;
            self.set_profile_value("audit_head", &text)?;
        }
        Ok(report)
    }

    fn apply_record_result(
        &mut self,
        result: &RecordResult,
        uploaded: Option<&RecordUpload>,
        keys: &[ServerKey],
        now: DateTime<Utc>,
    ) -> Result<RecordOutcome> {
        let id = result.id.clone();
        let mut outcome = RecordOutcome {
            id: id.clone(),
            result: result.result,
            code: result.code.clone(),
            message: result.message.clone(),
            receipt: result.receipt.clone(),
            amendment: None,
        };
        if uploaded.is_none() || !self.record_exists(&id)? {
            outcome.message = Some("服务器答复了本机未上传的记录，已忽略".into());
            return Ok(outcome);
        }
        if let Some(receipt) = &result.receipt {
            if receipt.record_id != id {
                return Err(Error::BadReceipt(format!(
                    "回执所属记录 {} 不是 {id}",
                    receipt.record_id
                )));
            }
            receipt
                .verify_with(keys)
                .map_err(|problem| Error::BadReceipt(problem.to_string()))?;
        }
        if let Some(doc) = &result.server_doc {
            self.merge_server_doc(&id, doc)?;
        }
        match (result.result, result.code.as_deref()) {
            (UploadResult::Accepted, _) => {
                self.write_sync_state(&id, &result.heads, None, None, None)?;
            }
            (UploadResult::Locked, _) => {
                let receipt = result
                    .receipt
                    .as_ref()
                    .ok_or_else(|| Error::BadReceipt(format!("锁定的记录 {id} 没有回执")))?;
                let mut doc = self.load_record(&id)?;
                if !doc.contains_heads(&receipt.heads) {
                    return Err(Error::BadReceipt(format!(
                        "回执锁定的版本不在本机记录 {id} 中"
                    )));
                }
                self.write_sync_state(&id, &receipt.heads, Some(receipt), None, None)?;
            }
            (UploadResult::Rejected, Some("record_locked")) => {
                let receipt = result.receipt.as_ref().ok_or_else(|| {
                    Error::BadReceipt(format!("记录 {id} 被报已锁定，但没有回执"))
                })?;
                let amendment = self.amend_late_changes(&id, receipt, now)?;
                let late_heads = self.record(&id)?.heads;
                self.write_sync_state(
                    &id,
                    &receipt.heads,
                    Some(receipt),
                    Some(&late_heads),
                    Some((
                        "record_locked",
                        result.message.as_deref().unwrap_or("记录已锁定"),
                    )),
                )?;
                outcome.amendment = Some(amendment);
            }
            (UploadResult::Rejected, code) => {
                let code = code.unwrap_or("rejected");
                let message = result.message.as_deref().unwrap_or("服务器拒收");
                // A record the server cannot continue from is sent whole next time.
                let acked = if code == "missing_changes" {
                    Vec::new()
                } else {
                    self.sync_state(&id)?
                        .map(|s| s.acked_heads)
                        .unwrap_or_default()
                };
                self.write_sync_state(&id, &acked, None, None, Some((code, message)))?;
            }
        }
        Ok(outcome)
    }

    /// Merges a document from the server into the local record, creating it when new.
    /// Returns whether anything changed. Server changes are merged even into a record
    /// submitted here: the server holds only changes it accepted.
    fn merge_server_doc(&mut self, id: &str, bytes: &[u8]) -> Result<(bool, Vec<String>)> {
        let mut incoming = RecordDoc::load_foreign(bytes, self.device_id())?;
        if incoming.id() != id {
            return Err(Error::InvalidInput(format!(
                "服务器下发的记录 {id} 的文档属于 {}",
                incoming.id()
            )));
        }
        let record = incoming.read()?;
        self.template(&record.template_id, Some(record.template_version))?;
        let server_heads = record.heads;
        if !self.record_exists(id)? {
            self.insert_record(&mut incoming)?;
            return Ok((true, server_heads));
        }
        let changed = self.update_record(id, |doc, _| {
            let before = doc.heads();
            doc.merge(&mut incoming)?;
            Ok(doc.heads() != before)
        })?;
        Ok((changed, server_heads))
    }

    /// Turns the changes the server refused as late into an amendment draft linked to the
    /// locked record; the same late changes make one amendment however often they are refused.
    fn amend_late_changes(
        &mut self,
        id: &str,
        receipt: &Receipt,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let mut doc = self.load_record(id)?;
        let late = doc.read()?;
        for existing in self.amendments_of(id)? {
            let record = self.record(&existing)?;
            if record
                .amends
                .as_ref()
                .is_some_and(|a| a.late_heads == late.heads)
            {
                return Ok(existing);
            }
        }
        if !doc.contains_heads(&receipt.heads) {
            return Err(Error::BadReceipt(format!(
                "回执锁定的版本不在本机记录 {id} 中"
            )));
        }
        let locked = doc.fork_at(&receipt.heads)?.read()?;
        let me = self.current_inspector()?;
        let mut inspectors = vec![
            late.inspectors
                .iter()
                .find(|i| i.cert == me.cert)
                .cloned()
                .unwrap_or(me.clone()),
        ];
        inspectors.extend(
            late.inspectors
                .iter()
                .filter(|i| i.cert != me.cert)
                .cloned(),
        );
        let mut amendment = RecordDoc::create(&NewRecord {
            kind: RecordKind::Amendment,
            inspection_kind: late.inspection_kind,
            agency: late.agency.clone(),
            template_id: late.template_id.clone(),
            template_version: late.template_version,
            enterprise: late.enterprise.clone(),
            inspectors,
            place: late.place.clone(),
            gps: late.gps.clone(),
            started_at: crate::time::to_millis(now),
            device_id: self.device_id().to_string(),
            reinspects: None,
            amends: Some(Amends {
                record_id: id.to_string(),
                locked_heads: sorted_heads(&receipt.heads),
                late_heads: late.heads.clone(),
            }),
        })?;
        for (item, answer) in late_answers(&locked, &late) {
            amendment.put_answer(&item, &answer)?;
        }
        let record = self.insert_record(&mut amendment)?;
        Ok(record.id)
    }

    /// Keeps a record the server refused outright out of later requests until it changes.
    pub fn set_aside_refused(&mut self, id: &str, code: &str, message: &str) -> Result<()> {
        let heads = self.record(id)?.heads;
        let acked = self
            .sync_state(id)?
            .map(|s| s.acked_heads)
            .unwrap_or_default();
        self.write_sync_state(id, &acked, None, Some(&heads), Some((code, message)))
    }

    fn write_sync_state(
        &self,
        id: &str,
        acked_heads: &[String],
        receipt: Option<&Receipt>,
        rejected_heads: Option<&[String]>,
        last: Option<(&str, &str)>,
    ) -> Result<()> {
        let receipt_json = receipt
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::InvalidInput(format!("回执无法保存：{e}")))?;
        // A lock, once known, is kept (and so is a refusal of late heads): later answers only
        // add to them.
        self.connection().execute(
            "INSERT INTO sync_state (record_id, acked_heads, receipt, rejected_heads,
                 last_code, last_message, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (record_id) DO UPDATE SET acked_heads = excluded.acked_heads,
                 receipt = COALESCE(excluded.receipt, sync_state.receipt),
                 rejected_heads = COALESCE(excluded.rejected_heads, sync_state.rejected_heads),
                 last_code = excluded.last_code, last_message = excluded.last_message,
                 updated_at = excluded.updated_at",
            params![
                id,
                sorted_heads(acked_heads).join(","),
                receipt_json,
                rejected_heads.map(|h| sorted_heads(h).join(",")),
                last.map(|l| l.0),
                last.map(|l| l.1),
                format_china(Utc::now()),
            ],
        )?;
        Ok(())
    }
}

/// The answers of the late version that the locked version does not have: changed answers,
/// and the late side of a conflict with the locked answer.
/// Adds the keys not yet in `keys`, keeping the order (current first).
fn merge_keys(keys: &mut Vec<ServerKey>, more: &[ServerKey]) {
    for key in more {
        if !keys.iter().any(|k| k.key_id == key.key_id) {
            keys.push(key.clone());
        }
    }
}

fn late_answers(locked: &Record, late: &Record) -> Vec<(String, Answer)> {
    let mut out = Vec::new();
    for (item, winner) in &late.answers {
        let locked_answer = locked.answers.get(item);
        let mut candidates = vec![winner];
        if let Some(conflict) = late.conflicts.iter().find(|c| &c.item == item) {
            candidates.extend(conflict.values.iter());
        }
        let fresh = candidates
            .into_iter()
            .find(|answer| locked_answer.is_none_or(|locked| !locked.same_content(answer)));
        if let Some(answer) = fresh {
            out.push((item.clone(), answer.clone()));
        }
    }
    out
}
