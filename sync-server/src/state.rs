//! What every handler shares: the store, the signing key, the login limiter, parsed templates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ed25519_dalek::{Signer, SigningKey};

use anjian_core::template::Template;

use crate::auth::LoginLimiter;
use crate::error::{AppError, AppResult};
use crate::iot::IotConfig;
use crate::store::{Store, StoreResult};

/// Parsed templates by (id, version).
type TemplateCache = Mutex<HashMap<(String, u32), Arc<Template>>>;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    signing_key: Arc<SigningKey>,
    pub limiter: Arc<LoginLimiter>,
    templates: Arc<TemplateCache>,
    iot: Arc<IotConfig>,
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
    pub fn new(store: Arc<dyn Store>, signing_key: SigningKey) -> AppState {
        AppState {
            store,
            signing_key: Arc::new(signing_key),
            limiter: Arc::default(),
            templates: Arc::default(),
            iot: Arc::new(IotConfig::shipped()),
        }
    }

    /// The same state with another IoT configuration (`serve --iot-config`).
    pub fn with_iot_config(mut self, config: IotConfig) -> AppState {
        self.iot = Arc::new(config);
        self
    }

    pub fn iot_config(&self) -> &IotConfig {
        &self.iot
    }

    /// Runs store work on a blocking thread: the store is synchronous, and the PostgreSQL
    /// client must not run on the async workers.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || work(store.as_ref()))
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
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .map_err(|e| AppError::internal("blocking task", e))?
    }

    /// Hex Ed25519 signature of `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> String {
        hex::encode(self.signing_key.sign(bytes).to_bytes())
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing_key.verifying_key().to_bytes())
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
