//! The device's HTTP client for the sync server (reqwest with rustls; no OpenSSL, which does
//! not build for Android). Network calls are `async`; the store calls between them are not.
//!
//! A sync is safe to interrupt anywhere: the server's answer to a repeated request is the same
//! answer, and applying it twice changes nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::sync::device::{RecordOutcome, SyncReport};
use crate::sync::protocol::{
    API_PREFIX, ApiErrorBody, LoginRequest, LoginResponse, RefreshRequest, SyncRequest,
    SyncResponse, UploadResult,
};

/// How often and how patiently a request is retried after a network failure, a 5xx or a 429.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Limit for one request, connecting included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A renewed access token is fetched when the current one has less than this left.
const REFRESH_MARGIN_SECS: i64 = 60;

/// Rounds of one sync: a record the server could not continue from is sent whole at once.
const MAX_ROUNDS: usize = 3;

#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    server: String,
    retry: RetryPolicy,
}

impl SyncClient {
    pub fn new(server: &str, retry: RetryPolicy) -> Result<SyncClient> {
        let server = server.trim().trim_end_matches('/').to_string();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(Error::InvalidInput(format!(
                "服务器地址 {server:?} 应以 http:// 或 https:// 开头"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(retry.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Network {
                server: server.clone(),
                problem: e.to_string(),
            })?;
        Ok(SyncClient {
            http,
            server,
            retry,
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse> {
        self.post("/login", None, request).await
    }

    pub async fn refresh(&self, request: &RefreshRequest) -> Result<LoginResponse> {
        self.post("/refresh", None, request).await
    }

    pub async fn logout(&self, access_token: &str) -> Result<()> {
        let _: serde_json::Value = self
            .post("/logout", Some(access_token), &serde_json::json!({}))
            .await?;
        Ok(())
    }

    pub async fn sync(&self, access_token: &str, request: &SyncRequest) -> Result<SyncResponse> {
        self.post("/sync", Some(access_token), request).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &B,
    ) -> Result<T> {
        let url = format!("{}{API_PREFIX}{path}", self.server);
        let mut delay = self.retry.first_delay;
        let mut attempt = 1;
        loop {
            let mut request = self.http.post(&url).json(body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let outcome = match request.send().await {
                Ok(response) => self.read(response).await,
                Err(e) => Err(self.network(e)),
            };
            let retryable = match &outcome {
                Err(Error::Network { .. }) => true,
                Err(Error::Server { status, .. }) => *status >= 500 || *status == 429,
                _ => false,
            };
            if !retryable || attempt >= self.retry.attempts {
                return outcome;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.retry.max_delay);
            attempt += 1;
        }
    }

    async fn read<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.network(e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Error::Server {
                status: status.as_u16(),
                code: "bad_answer".into(),
                message: format!("服务器的答复无法解析：{e}"),
                record_id: None,
            });
        }
        let body: ApiErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ApiErrorBody {
            code: format!("http_{}", status.as_u16()),
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            record_id: None,
        });
        Err(Error::Server {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
            record_id: body.record_id,
        })
    }

    fn network(&self, e: reqwest::Error) -> Error {
        Error::Network {
            server: self.server.clone(),
            problem: e.to_string(),
        }
    }
}

/// Logs in and keeps the session, the server's public key and the user as this device's
/// inspector.
pub async fn login(
    store: &mut Store,
    server: &str,
    login: &str,
    password: &str,
    retry: RetryPolicy,
) -> Result<LoginResponse> {
    let client = SyncClient::new(server, retry)?;
    let response = client
        .login(&LoginRequest {
            login: login.to_string(),
            password: password.to_string(),
            device_id: store.device_id().to_string(),
        })
        .await?;
    store.save_login(client.server(), &response, Utc::now())?;
    Ok(response)
}

/// Revokes the device's tokens at the server (when reachable) and forgets them here.
pub async fn logout(store: &mut Store, retry: RetryPolicy) -> Result<()> {
    if let Some(session) = store.server_session()? {
        let client = SyncClient::new(&session.server, retry)?;
        match client.logout(&session.access_token).await {
            Ok(()) | Err(Error::Server { status: 401, .. }) => {}
            Err(e) => return Err(e),
        }
    }
    store.clear_tokens()
}

/// One sync: uploads what changed, applies the answer, and repeats (a few rounds at most)
/// while a record has to be sent whole.
pub async fn sync(store: &mut Store, retry: RetryPolicy) -> Result<SyncReport> {
    let mut combined = SyncReport::default();
    for _ in 0..MAX_ROUNDS {
        let report = sync_round(store, retry, Utc::now).await?;
        let again = report
            .records
            .iter()
            .any(|r| r.code.as_deref() == Some("missing_changes"));
        merge_reports(&mut combined, report);
        if !again {
            break;
        }
    }
    Ok(combined)
}

async fn sync_round(
    store: &mut Store,
    retry: RetryPolicy,
    now: fn() -> DateTime<Utc>,
) -> Result<SyncReport> {
    let session = store.server_session()?.ok_or(Error::NotLoggedIn)?;
    let client = SyncClient::new(&session.server, retry)?;
    let mut token = session.access_token.clone();
    if session.access_expires_at - now() < chrono::Duration::seconds(REFRESH_MARGIN_SECS) {
        token = refresh(store, &client, &session.refresh_token).await?;
    }
    let mut refused = Vec::new();
    loop {
        let request = store.sync_request(now())?;
        let answer = match client.sync(&token, &request).await {
            Err(Error::Server { status: 401, .. }) => {
                token = refresh(store, &client, &session.refresh_token).await?;
                client.sync(&token, &request).await
            }
            other => other,
        };
        match answer {
            Ok(response) => {
                let mut report = store.apply_sync_response(&request, &response, now())?;
                report.records.extend(refused);
                return Ok(report);
            }
            // A record the server cannot take at all is set aside (kept, and sent again once
            // it changes) so that the rest still syncs.
            Err(Error::Server {
                status: 400..=499,
                code,
                message,
                record_id: Some(id),
            }) if request.records.iter().any(|r| r.id == id) => {
                store.set_aside_refused(&id, &code, &message)?;
                refused.push(RecordOutcome {
                    id,
                    result: UploadResult::Rejected,
                    code: Some(code),
                    message: Some(message),
                    receipt: None,
                    amendment: None,
                });
            }
            Err(e) => return Err(e),
        }
    }
}

async fn refresh(store: &mut Store, client: &SyncClient, refresh_token: &str) -> Result<String> {
    let response = client
        .refresh(&RefreshRequest {
            refresh_token: refresh_token.to_string(),
            device_id: store.device_id().to_string(),
        })
        .await
        .map_err(|e| match e {
            Error::Server { status: 401, .. } => Error::NotLoggedIn,
            other => other,
        })?;
    let expires = Utc::now() + chrono::Duration::seconds(response.expires_in as i64);
    store.save_access_token(&response.access_token, &response.refresh_token, expires)?;
    Ok(response.access_token)
}

fn merge_reports(into: &mut SyncReport, report: SyncReport) {
    for outcome in report.records {
        into.records.retain(|r| r.id != outcome.id);
        into.records.push(outcome);
    }
    for id in report.downloaded {
        if !into.downloaded.contains(&id) {
            into.downloaded.push(id);
        }
    }
    into.enterprises += report.enterprises;
    into.inspectors += report.inspectors;
    into.templates += report.templates;
    into.agency_updated |= report.agency_updated;
    into.number_blocks += report.number_blocks;
    into.alerts += report.alerts;
    into.problems.extend(report.problems);
}
