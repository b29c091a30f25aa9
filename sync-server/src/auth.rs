//! Accounts and scope: Argon2id password hashes, random tokens stored only as SHA-256, the
//! `Caller` extractor every protected handler takes, logins checked against the limiter of
//! `access`, and what a caller may read and write.

use std::collections::HashSet;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use sha2::{Digest, Sha256};

use anjian_core::sync::protocol::Role;
use anjian_core::template::InspectionKind;

use crate::access::{ACCOUNT_SLOWDOWN, LoginPace};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{RecordScope, Region, StoredRecord, TokenKind, User};

/// Access tokens are short-lived; the device renews them with its refresh token.
pub const ACCESS_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// A refresh token is bound to one device and lasts a month of offline work.
pub const REFRESH_TOKEN_TTL: chrono::Duration = chrono::Duration::days(30);

/// Logins are at most 40 characters (`admin::add_user`); anything much longer is refused
/// before it is looked at, hashed or remembered.
pub const MAX_LOGIN_BYTES: usize = 128;
/// Argon2id reads all of a password; no one types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).ok().is_some_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A real Argon2id hash of nothing, checked against when a login does not exist, so that a
/// failed login takes as long whether or not the account exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("no such account").unwrap_or_default())
}

/// 32 random bytes, hex.
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The address a request counts against for login limiting (see
/// [`crate::access::Access::client_address`]).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientAddress, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddress(
            state.access.client_address(&parts.headers, peer),
        ))
    }
}

/// The authenticated user of a request, from a valid access token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub device_id: String,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Caller> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| AppError::unauthorized("缺少访问令牌：请先登录"))?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::unauthorized("访问令牌格式应为 Authorization: Bearer 令牌"))?;
        authenticate(state, token, TokenKind::Access).await
    }
}

/// The caller a token of `kind` belongs to, when it is valid: the API takes only access tokens
/// (15 minutes), the review pages only their session tokens.
pub async fn authenticate(state: &AppState, token: &str, kind: TokenKind) -> AppResult<Caller> {
    let hash = token_hash(token);
    let lookup = hash.clone();
    let (row, user) = state
        .blocking(move |store| {
            let row = store.token(&lookup)?;
            let user = match &row {
                Some(row) => store.user(&row.login)?,
                None => None,
            };
            Ok((row, user))
        })
        .await?;
    let row = row
        .filter(|row| row.kind == kind)
        .ok_or_else(|| AppError::unauthorized("访问令牌无效：请重新登录"))?;
    if row.revoked {
        return Err(AppError::unauthorized("访问令牌已注销：请重新登录"));
    }
    if row.expires_at <= Utc::now() {
        return Err(AppError::unauthorized(
            "访问令牌已过期：请用刷新令牌续期或重新登录",
        ));
    }
    let user = user.ok_or_else(|| AppError::unauthorized("账号不存在"))?;
    if user.disabled {
        return Err(AppError::unauthorized("账号已停用"));
    }
    // The request span (`observe`) declares the field empty; naming the account here keeps
    // every log line of the request attributable without the span knowing about tokens.
    tracing::Span::current().record("account", user.login.as_str());
    Ok(Caller {
        user,
        device_id: row.device_id,
        token_hash: hash,
    })
}

/// Checks a login and password, counting failures against the limits of the account and of
/// the source address. A missing account costs a hash too, so timing does not tell which
/// logins exist. Runs on a blocking thread (Argon2id).
pub fn check_credentials(
    state: &AppState,
    login: &str,
    password: &str,
    address: &str,
) -> AppResult<User> {
    check_login_length(login, password)?;
    if state.limiter.check(login, address)? == LoginPace::Slowed {
        std::thread::sleep(ACCOUNT_SLOWDOWN);
    }
    let user = state.store.user(login)?;
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let valid = verify_password(password, hash);
    match user {
        Some(user) if valid && !user.disabled => {
            state.limiter.succeeded(login, address);
            Ok(user)
        }
        Some(_) if valid => Err(AppError::unauthorized("账号已停用")),
        _ => {
            state.limiter.failed(login, address);
            Err(AppError::unauthorized("账号或密码错误"))
        }
    }
}

/// Refuses a login or password longer than any real one, before anything else reads it.
pub fn check_login_length(login: &str, password: &str) -> AppResult<()> {
    if login.len() > MAX_LOGIN_BYTES {
        return Err(AppError::bad_request(
            "invalid_input",
            format!("账号过长：账号不超过 {MAX_LOGIN_BYTES} 字节"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::bad_request(
            "invalid_input",
            format!("密码过长：密码不超过 {MAX_PASSWORD_BYTES} 字节"),
        ));
    }
    Ok(())
}

/// What a caller may see: every region under the account's scope, or one enterprise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Regions(HashSet<String>),
    Enterprise(String),
}

impl Scope {
    pub fn of(user: &User, regions: &[Region]) -> Scope {
        match user.role {
            Role::Admin => Scope::All,
            Role::EnterpriseOfficer => Scope::Enterprise(user.scope.clone()),
            _ => Scope::Regions(descendants(&user.scope, regions)),
        }
    }

    /// The records a list may show under this scope: an enterprise sees its own
    /// self-inspections.
    pub fn records(&self) -> RecordScope {
        match self {
            Scope::All => RecordScope::All,
            Scope::Regions(codes) => {
                let mut codes: Vec<String> = codes.iter().cloned().collect();
                codes.sort();
                RecordScope::Regions(codes)
            }
            Scope::Enterprise(code) => RecordScope::Enterprise {
                credit_code: code.clone(),
                inspection_kinds: vec![InspectionKind::SelfInspection.as_str().into()],
            },
        }
    }

    /// Whether the caller may see an enterprise: its own, or one in its regions.
    pub fn covers_enterprise(&self, enterprise: &anjian_core::enterprise::Enterprise) -> bool {
        match self {
            Scope::Enterprise(own) => own == enterprise.credit_code.as_str(),
            other => other.covers_region(&enterprise.region_code),
        }
    }

    pub fn covers_region(&self, region_code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Regions(codes) => codes.contains(region_code),
            Scope::Enterprise(_) => false,
        }
    }

    /// Whether the caller may read a record.
    pub fn may_read(&self, record: &StoredRecord) -> bool {
        match self {
            Scope::All => true,
            Scope::Regions(codes) => codes.contains(&record.region_code),
            // An enterprise sees its own self-inspections, and their amendments.
            Scope::Enterprise(code) => {
                record.enterprise_code == *code
                    && record.inspection_kind == InspectionKind::SelfInspection.as_str()
            }
        }
    }
}

impl Scope {
    /// Whether the caller may read the enforcement documents of a record: whoever may read
    /// the record, and the enterprise the documents are addressed to.
    pub fn may_read_documents(&self, record: &StoredRecord) -> bool {
        match self {
            Scope::Enterprise(code) => record.enterprise_code == *code,
            other => other.may_read(record),
        }
    }
}

/// A region and everything under it.
pub fn descendants(root: &str, regions: &[Region]) -> HashSet<String> {
    let mut out = HashSet::new();
    if !regions.iter().any(|r| r.code == root) {
        return out;
    }
    out.insert(root.to_string());
    let mut frontier = vec![root.to_string()];
    while let Some(code) = frontier.pop() {
        for child in regions
            .iter()
            .filter(|r| r.parent.as_deref() == Some(code.as_str()))
        {
            if out.insert(child.code.clone()) {
                frontier.push(child.code.clone());
            }
        }
    }
    out
}

/// The inspection kind each uploading role records.
pub fn inspection_kind_of(role: Role) -> Option<InspectionKind> {
    match role {
        Role::Inspector => Some(InspectionKind::Enforcement),
        Role::Expert => Some(InspectionKind::Expert),
        Role::ResidentInspector => Some(InspectionKind::Resident),
        Role::EnterpriseOfficer => Some(InspectionKind::SelfInspection),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str, parent: Option<&str>) -> Region {
        Region {
            code: code.into(),
            name: code.into(),
            parent: parent.map(str::to_string),
        }
    }

    #[test]
    fn a_district_covers_its_towns_and_not_its_neighbours() {
        let regions = vec![
            region("370300", None),
            region("370302", Some("370300")),
            region("370303", Some("370300")),
            region("370302001", Some("370302")),
            region("370303001", Some("370303")),
        ];
        let district = descendants("370302", &regions);
        assert!(district.contains("370302") && district.contains("370302001"));
        assert!(!district.contains("370303001") && !district.contains("370300"));
        assert_eq!(descendants("370300", &regions).len(), 5);
        assert!(descendants("999999", &regions).is_empty());
    }

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
