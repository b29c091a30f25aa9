//! The wire types of the HTTP API, shared by the device's client and the server. Binary fields
//! (Automerge changes, whole documents) travel as standard base64 strings.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::agency::DocType;
use crate::enterprise::Enterprise;
use crate::record::Inspector;
use crate::sync::receipt::{Receipt, ServerKey, SignedHead};

/// The path prefix of every endpoint of this protocol version.
pub const API_PREFIX: &str = "/api/v1";

/// A device asks for another block of serials when it holds fewer unused ones than this.
pub const LOW_SERIALS: u32 = 10;

/// Hex change hashes in one order, so that two sets of heads compare equal when they are.
pub fn sorted_heads(heads: &[String]) -> Vec<String> {
    let mut heads = heads.to_vec();
    heads.sort();
    heads
}

/// Heads kept as one text column: comma-joined hex hashes, empty for none.
pub fn heads_from_text(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect()
}

/// Real-name account roles. Supervisors read their region; inspectors, experts, resident
/// inspectors and enterprise officers upload the records of their kind within their scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    CitySupervisor,
    DistrictSupervisor,
    TownSupervisor,
    Inspector,
    Expert,
    ResidentInspector,
    EnterpriseOfficer,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::CitySupervisor,
        Role::DistrictSupervisor,
        Role::TownSupervisor,
        Role::Inspector,
        Role::Expert,
        Role::ResidentInspector,
        Role::EnterpriseOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CitySupervisor => "city_supervisor",
            Role::DistrictSupervisor => "district_supervisor",
            Role::TownSupervisor => "town_supervisor",
            Role::Inspector => "inspector",
            Role::Expert => "expert",
            Role::ResidentInspector => "resident_inspector",
            Role::EnterpriseOfficer => "enterprise_officer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::CitySupervisor => "市级监管人员",
            Role::DistrictSupervisor => "区县监管人员",
            Role::TownSupervisor => "乡镇监管人员",
            Role::Inspector => "执法人员",
            Role::Expert => "专家",
            Role::ResidentInspector => "驻厂监管员",
            Role::EnterpriseOfficer => "企业安全管理人员",
        }
    }

    /// Roles whose scope is a credit code rather than a region code.
    pub fn scoped_to_enterprise(self) -> bool {
        self == Role::EnterpriseOfficer
    }

    /// Roles that record inspections on a device and upload them.
    pub fn uploads_records(self) -> bool {
        matches!(
            self,
            Role::Inspector | Role::Expert | Role::ResidentInspector | Role::EnterpriseOfficer
        )
    }
}

/// The error body of every 4xx and 5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A stable machine-readable code, such as `unauthorized` or `invalid_json`.
    pub code: String,
    /// What went wrong, in Chinese, for the person in front of the screen.
    pub message: String,
    /// The record of a sync request that made it unacceptable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
    pub device_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub login: String,
    pub name: String,
    pub role: Role,
    /// A region code, or a credit code for an enterprise officer.
    pub scope: String,
    pub cert: Option<String>,
    pub cert_valid_until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserInfo,
    /// The server's current Ed25519 public key (hex), which signs new receipts.
    pub server_public_key: String,
    /// Every key the server has signed with, current first: receipts name theirs.
    #[serde(default)]
    pub server_keys: Vec<ServerKey>,
}

/// One record's changes since the heads the server last acknowledged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordUpload {
    pub id: String,
    /// Hex change hashes the server acknowledged last time; empty for a record it never had.
    pub known_heads: Vec<String>,
    /// The device's heads after these changes.
    pub heads: Vec<String>,
    /// Automerge changes since `known_heads` (base64).
    #[serde(with = "base64_bytes")]
    pub changes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoidedNumber {
    pub number: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A device holds fewer than [`LOW_SERIALS`] unused serials of this type and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberRequest {
    pub doc_type: DocType,
    pub year: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    pub device_id: String,
    /// The `cursor` of the last answer applied; 0 on the first sync.
    pub cursor: i64,
    #[serde(default)]
    pub records: Vec<RecordUpload>,
    #[serde(default)]
    pub voided_numbers: Vec<VoidedNumber>,
    #[serde(default)]
    pub number_requests: Vec<NumberRequest>,
    /// The latest audit-chain head this device saw signed, for the server to show its chain
    /// still holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_audit_head: Option<AuditPosition>,
}

/// A position in the server's audit chain: the entry at `log_index` has `entry_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPosition {
    pub log_index: i64,
    pub entry_hash: String,
}

/// What the server's chain holds at the position a device asked about: `entry_hash` is
/// `None` when the chain has no entry there (it was cut short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditCheck {
    pub log_index: i64,
    pub entry_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadResult {
    /// Stored; the record stays open for more changes.
    Accepted,
    /// Stored and locked at `heads`; the receipt proves it.
    Locked,
    /// Not stored; `code` says why.
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordResult {
    pub id: String,
    pub result: UploadResult,
    /// Why a record was rejected: `record_locked`, `invalid_record`, `out_of_scope`, ...
    pub code: Option<String>,
    pub message: Option<String>,
    /// The server's heads for the record after this exchange (empty when it has none).
    pub heads: Vec<String>,
    /// For a locked record (also when a late change to it was rejected).
    pub receipt: Option<Receipt>,
    /// The server's whole document when the device lacks some of its changes (base64).
    #[serde(default, with = "base64_opt_bytes")]
    pub server_doc: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordUpdate {
    pub id: String,
    #[serde(with = "base64_bytes")]
    pub doc: Vec<u8>,
    pub receipt: Option<Receipt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSource {
    pub id: String,
    pub version: u32,
    /// The checklist in its TOML form.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberBlock {
    pub agency: String,
    pub doc_type: DocType,
    pub year: i32,
    pub first: u32,
    pub last: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Updates {
    /// Records in the device's scope changed since its cursor: co-inspectors' changes.
    pub records: Vec<RecordUpdate>,
    pub enterprises: Vec<Enterprise>,
    /// Inspectors' names and certificates.
    pub inspectors: Vec<Inspector>,
    pub templates: Vec<TemplateSource>,
    /// The agency configuration (TOML), when it changed.
    pub agency: Option<String>,
    /// Every block leased to this device, so a device that lost an answer still learns them.
    pub number_blocks: Vec<NumberBlock>,
    /// IoT alerts of the enterprises in scope raised or acknowledged since the cursor.
    #[serde(default)]
    pub alerts: Vec<AlertUpdate>,
}

/// An alert the server's IoT rules raised (rain 停产撤人, hot work without a permit, …), as a
/// device keeps and shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertUpdate {
    pub alert_id: String,
    /// The rule's code (`rain_stop`, `hot_work_unpermitted`, …) and its Chinese name.
    pub rule: String,
    pub rule_label: String,
    pub credit_code: String,
    pub enterprise_name: String,
    pub device_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub raised_at: DateTime<Utc>,
    pub title: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncResponse {
    pub records: Vec<RecordResult>,
    pub updates: Updates,
    /// Problems with voided numbers the device reported (a number not leased to it, ...).
    #[serde(default)]
    pub number_problems: Vec<String>,
    pub cursor: i64,
    pub server_time: DateTime<Utc>,
    /// Every key the server has signed with, current first.
    #[serde(default)]
    pub server_keys: Vec<ServerKey>,
    /// The chain's last entry, signed; `None` while the chain is empty.
    #[serde(default)]
    pub audit_head: Option<SignedHead>,
    /// The entry at the device's `known_audit_head` position, when it sent one.
    #[serde(default)]
    pub audit_check: Option<AuditCheck>,
}

pub mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

pub mod base64_opt_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_str(&STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => STANDARD
                .decode(text.as_bytes())
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}"))),
            None => Ok(None),
        }
    }
}
