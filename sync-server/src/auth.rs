//! Accounts and scope: Argon2id password hashes, random tokens stored only as SHA-256, the
//! `Caller` extractor every protected handler takes, login rate limiting, and what a caller
//! may read and write.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use sha2::{Digest, Sha256};

use anjian_core::sync::protocol::Role;
use anjian_core::template::InspectionKind;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{RecordScope, Region, StoredRecord, TokenKind, User};

/// Access tokens are short-lived; the device renews them with its refresh token.
pub const ACCESS_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(15);
/// A refresh token is bound to one device and lasts a month of offline work.
pub const REFRESH_TOKEN_TTL: chrono::Duration = chrono::Duration::days(30);

/// Failed logins allowed per account from one source address within [`LOGIN_WINDOW`]
/// before further attempts on that account from that address are refused with 429.
pub const LOGIN_FAILURES_ALLOWED: u32 = 5;
/// Failed logins allowed from one source address, over all accounts, within the window.
pub const ADDRESS_FAILURES_ALLOWED: u32 = 20;
/// Past [`LOGIN_FAILURES_ALLOWED`] failures of an account from all addresses together, every
/// attempt on it waits this long before its password is checked: spraying one account from
/// many addresses is slowed, and its owner still gets in.
pub const ACCOUNT_SLOWDOWN: Duration = Duration::from_secs(1);
pub const LOGIN_WINDOW: Duration = Duration::from_secs(300);
/// How many counters the limiter keeps at most; the oldest go first when it is full.
pub const LIMITER_CAPACITY: usize = 8192;
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

/// Remembers recent failed logins in a fixed-size table: per source address, per account and
/// address, and per account. Keys are salted SHA-256 prefixes, never the login itself, so what
/// an attacker sends as a login costs 24 bytes at most, and the table never holds more than
/// [`LIMITER_CAPACITY`] counters; a counter forgets after [`LOGIN_WINDOW`].
#[derive(Debug)]
pub struct LoginLimiter {
    salt: [u8; 16],
    counters: Mutex<HashMap<u64, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// The first failure of the current window.
    since: Instant,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let mut salt = [0u8; 16];
        // Without randomness the keys are still hashed, only predictably.
        let _ = getrandom::fill(&mut salt);
        LoginLimiter {
            salt,
            counters: Mutex::new(HashMap::with_capacity(LIMITER_CAPACITY)),
        }
    }
}

/// What the limiter decided about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPace {
    Now,
    /// The account is under attack from elsewhere: wait [`ACCOUNT_SLOWDOWN`], then check.
    Slowed,
}

impl LoginLimiter {
    fn key(&self, parts: &[&str]) -> u64 {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        u64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
    }

    fn keys(&self, login: &str, address: &str) -> [u64; 3] {
        let login = login.to_lowercase();
        [
            self.key(&["address", address]),
            self.key(&["account-address", &login, address]),
            self.key(&["account", &login]),
        ]
    }

    /// Refuses an attempt from an address, or on an account from an address, with too many
    /// recent failures; slows one on an account others have failed on too often.
    pub fn check(&self, login: &str, address: &str) -> AppResult<LoginPace> {
        let counters = self
            .counters
            .lock()
            .map_err(|_| AppError::internal("login limiter", "poisoned"))?;
        let now = Instant::now();
        let recent = |key: u64| {
            counters
                .get(&key)
                .filter(|f| now.duration_since(f.since) <= LOGIN_WINDOW)
                .map_or(0, |f| f.count)
        };
        let [by_address, by_account_here, by_account] = self.keys(login, address);
        let minutes = LOGIN_WINDOW.as_secs() / 60;
        if recent(by_address) >= ADDRESS_FAILURES_ALLOWED {
            return Err(AppError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("从此网络地址登录失败的次数过多，请 {minutes} 分钟后再试"),
            ));
        }
        if recent(by_account_here) >= LOGIN_FAILURES_ALLOWED {
            return Err(AppError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("账号 {login} 登录失败次数过多，请 {minutes} 分钟后再试"),
            ));
        }
        Ok(if recent(by_account) >= LOGIN_FAILURES_ALLOWED {
            LoginPace::Slowed
        } else {
            LoginPace::Now
        })
    }

    pub fn failed(&self, login: &str, address: &str) {
        let keys = self.keys(login, address);
        let Ok(mut counters) = self.counters.lock() else {
            return;
        };
        let now = Instant::now();
        for key in keys {
            if !counters.contains_key(&key) && counters.len() >= LIMITER_CAPACITY {
                counters.retain(|_, f| now.duration_since(f.since) <= LOGIN_WINDOW);
                if counters.len() >= LIMITER_CAPACITY
                    && let Some(oldest) = counters
                        .iter()
                        .min_by_key(|(_, f)| f.since)
                        .map(|(key, _)| *key)
                {
                    counters.remove(&oldest);
                }
            }
            let entry = counters.entry(key).or_insert(Failures {
                count: 0,
                since: now,
            });
            if now.duration_since(entry.since) > LOGIN_WINDOW {
                *entry = Failures {
                    count: 0,
                    since: now,
                };
            }
            entry.count = entry.count.saturating_add(1);
        }
    }

    /// The account's counters start again; the address's does not, or an attacker could
    /// reset it by logging in to an account of their own between guesses.
    pub fn succeeded(&self, login: &str, address: &str) {
        let [_, by_account_here, by_account] = self.keys(login, address);
        if let Ok(mut counters) = self.counters.lock() {
            counters.remove(&by_account_here);
            counters.remove(&by_account);
        }
    }

    /// Counters held now (at most [`LIMITER_CAPACITY`]).
    pub fn len(&self) -> usize {
        self.counters.lock().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How clients reach the server, which decides two things: whether the review cookie is
/// `Secure` and which address a login attempt counts against. Behind a reverse proxy the
/// connection comes from the proxy, so its `X-Forwarded-For` and `X-Forwarded-Proto` are read,
/// but only when the operator says a proxy sets them (`--trust-forwarded`): otherwise anyone
/// could send them.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--public-url https://…`: clients reach the server over HTTPS.
    pub public_https: bool,
    /// `--trust-forwarded`: a reverse proxy in front sets the forwarded headers.
    pub trust_forwarded: bool,
    /// `--metrics-token`: lets a collector on another host read `/metrics`.
    pub metrics_token: Option<String>,
}

impl Access {
    /// The client's address: the proxy's last `X-Forwarded-For` entry when trusted (the one
    /// it appended itself; earlier entries are whatever the client sent), else the peer.
    /// IPv6 addresses count per /64, what one host usually holds.
    pub fn client_address(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> String {
        match self.client_ip(headers, peer) {
            Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(std::net::IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .map_or_else(String::new, |v4| v4.to_string()),
            Some(address) => address.to_string(),
            None => "unknown".to_string(),
        }
    }

    /// The client's IP address as [`Access::client_address`] finds it, before grouping.
    pub fn client_ip(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<std::net::IpAddr>,
    ) -> Option<std::net::IpAddr> {
        let forwarded = self
            .trust_forwarded
            .then(|| {
                // Only the last entry: an unreadable one is not a reason to believe an earlier.
                headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .next_back()
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok())
            })
            .flatten();
        forwarded.or(peer)
    }

    /// Whether the client reached the server over HTTPS, so that cookies must be `Secure`.
    pub fn https(&self, headers: &axum::http::HeaderMap) -> bool {
        self.public_https
            || (self.trust_forwarded
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https")))
    }
}

/// The address a request counts against for login limiting (see [`Access::client_address`]).
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
    crate::observe::note_account(&user.login);
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
    fn the_limiter_stays_within_its_capacity_however_many_names_it_is_sent() {
        let limiter = LoginLimiter::default();
        for n in 0..(LIMITER_CAPACITY * 3) {
            limiter.failed(
                &format!("name-{n}"),
                &format!("10.0.{}.{}", n / 250, n % 250),
            );
        }
        assert_eq!(limiter.len(), LIMITER_CAPACITY);
    }

    #[test]
    fn an_account_locked_from_one_address_still_opens_from_another_and_spraying_is_limited() {
        let limiter = LoginLimiter::default();
        for _ in 0..LOGIN_FAILURES_ALLOWED {
            assert!(limiter.check("zhang", "10.0.0.66").is_ok());
            limiter.failed("zhang", "10.0.0.66");
        }
        assert_eq!(
            limiter.check("zhang", "10.0.0.66").unwrap_err().code,
            "too_many_attempts"
        );
        // The owner elsewhere is slowed, not refused.
        assert_eq!(
            limiter.check("zhang", "10.0.0.7").unwrap(),
            LoginPace::Slowed
        );
        limiter.succeeded("zhang", "10.0.0.7");
        assert_eq!(limiter.check("zhang", "10.0.0.7").unwrap(), LoginPace::Now);

        // One address spraying many accounts, a few guesses each.
        for n in 0..ADDRESS_FAILURES_ALLOWED {
            let login = format!("user{}", n / 2);
            assert!(limiter.check(&login, "10.0.0.99").is_ok());
            limiter.failed(&login, "10.0.0.99");
        }
        assert!(limiter.check("someone-else", "10.0.0.99").is_err());
    }

    #[test]
    fn forwarded_headers_count_only_when_a_proxy_is_trusted() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "1.2.3.4, 203.0.113.9".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        let peer = Some("127.0.0.1".parse().unwrap());
        let direct = Access::default();
        assert_eq!(direct.client_address(&headers, peer), "127.0.0.1");
        assert!(!direct.https(&headers));
        let proxied = Access {
            public_https: false,
            trust_forwarded: true,
            ..Access::default()
        };
        assert_eq!(proxied.client_address(&headers, peer), "203.0.113.9");
        assert!(proxied.https(&headers));
        let v6 = Some("2001:db8:1:2:3:4:5:6".parse().unwrap());
        assert_eq!(direct.client_address(&headers, v6), "2001:db8:1:2::/64");
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
