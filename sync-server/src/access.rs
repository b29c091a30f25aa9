//! Who is calling and how often: how clients reach the server (HTTPS, a trusted reverse
//! proxy, the metrics token) and the limiter of failed logins per address and account.
//! Shared state below the handlers, so it knows nothing of accounts or tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
