//! What every handler shares: the store, the signing keys, the audit checkpoints, the login
//! limiter, how the server is reached, parsed templates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anjian_core::sync::receipt::{ServerKey, SignedHead};
use anjian_core::template::Template;

use crate::access::{Access, LoginLimiter};
use crate::checkpoint::Checkpoints;
use crate::error::{AppError, AppResult};
use crate::iot::IotConfig;
use crate::keys::ServerKeys;
use crate::store::{Store, StoreResult};

/// Parsed templates by (id, version).
type TemplateCache = Mutex<HashMap<(String, u32), Arc<Template>>>;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    keys: Arc<ServerKeys>,
    checkpoints: Option<Arc<Checkpoints>>,
    pub limiter: Arc<LoginLimiter>,
    pub access: Arc<Access>,
    templates: Arc<TemplateCache>,
    iot: Arc<IotConfig>,
    pub metrics: crate::metrics::SharedMetrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("public_key", &self.public_key_hex())
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Arc<Store>, keys: ServerKeys) -> AppState {
        AppState {
            store,
            keys: Arc::new(keys),
            checkpoints: None,
            limiter: Arc::default(),
            access: Arc::default(),
            templates: Arc::default(),
            iot: Arc::new(IotConfig::shipped()),
            metrics: Arc::default(),
        }
    }

    /// The same state with another IoT configuration (`serve --iot-config`).
    pub fn with_iot_config(mut self, config: IotConfig) -> AppState {
        self.iot = Arc::new(config);
        self
    }

    /// The same state writing a signed checkpoint of the audit chain's head after each lock.
    pub fn with_checkpoints(mut self, checkpoints: Checkpoints) -> AppState {
        self.checkpoints = Some(Arc::new(checkpoints));
        self
    }

    /// The same state with another idea of how clients reach it (`serve --public-url`,
    /// `--trust-forwarded`).
    pub fn with_access(mut self, access: Access) -> AppState {
        self.access = Arc::new(access);
        self
    }

    pub fn iot_config(&self) -> &IotConfig {
        &self.iot
    }

    /// Runs store work on a blocking thread: the store is synchronous, and the PostgreSQL
    /// client must not run on the async workers.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> StoreResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let store = self.store.clone();
        // The request's span goes along, so what the work logs names the request.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(store.as_ref())))
            .await
            .map_err(|e| AppError::internal("blocking task", e))?
            .map_err(AppError::from)
    }

    /// Like [`AppState::blocking`], for work that returns the handler's own errors.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let state = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| work(&state)))
            .await
            .map_err(|e| AppError::internal("blocking task", e))?
    }

    pub fn keys(&self) -> &ServerKeys {
        &self.keys
    }

    /// Hex Ed25519 signature of `bytes` with the current key.
    pub fn sign(&self, bytes: &[u8]) -> String {
        self.keys.sign(bytes)
    }

    pub fn public_key_hex(&self) -> String {
        self.keys.public_key_hex()
    }

    /// Every key the server has signed with, current first.
    pub fn known_keys(&self) -> &[ServerKey] {
        self.keys.known()
    }

    /// The audit chain's head signed now with the current key.
    pub fn signed_head(&self, log_index: i64, entry_hash: &str) -> SignedHead {
        let mut head = SignedHead::unsigned(
            log_index,
            entry_hash,
            chrono::Utc::now(),
            self.keys.key_id(),
        );
        head.signature = self.keys.sign(&head.signed_bytes());
        head
    }

    /// The latest checkpoint the server keeps, if it keeps them.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedHead>, String> {
        match &self.checkpoints {
            Some(checkpoints) => crate::checkpoint::latest(checkpoints.dir()),
            None => Ok(None),
        }
    }

    /// Writes a checkpoint of the chain ending at this entry, when the server keeps them. A
    /// checkpoint that cannot be written is logged, not fatal: the lock is committed already,
    /// and the next lock writes a newer checkpoint.
    pub fn checkpoint(&self, log_index: i64, entry_hash: &str) {
        if let Some(checkpoints) = &self.checkpoints
            && let Err(e) = checkpoints.record(self.signed_head(log_index, entry_hash))
        {
            tracing::error!(error = %e, "audit checkpoint not written");
        }
    }

    /// A published template, parsed once per process.
    pub fn template(&self, id: &str, version: u32) -> AppResult<Option<Arc<Template>>> {
        let key = (id.to_string(), version);
        if let Some(found) = self
            .templates
            .lock()
            .ok()
            .and_then(|t| t.get(&key).cloned())
        {
            return Ok(Some(found));
        }
        let Some(source) = self.store.template(id, version)? else {
            return Ok(None);
        };
        let template = Arc::new(
            Template::parse(&format!("{id} v{version}"), &source)
                .map_err(|e| AppError::internal("published template", e))?,
        );
        if let Ok(mut cache) = self.templates.lock() {
            cache.insert(key, template.clone());
        }
        Ok(Some(template))
    }
}
