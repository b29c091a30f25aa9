//! The end-to-end harness: a real server on 127.0.0.1:0 (in this process, or as a process of
//! its own that a test may kill), seeded with the Zibo demo reference data, and devices that
//! are real device stores syncing through core's client.

#![allow(clippy::unwrap_used)] // a test harness: a panic is the failure report

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anjian_core::Store as DeviceStore;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::sync::client::{self, RetryPolicy};
use anjian_core::sync::device::SyncReport;
use anjian_core::template::AnswerKind;
use anjian_server::admin::{self, NewAccount};
use anjian_server::state::AppState;
use anjian_server::store::Store;
use chrono::Utc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct-horse-42";
pub const DEMO_CSV: &str = anjian_server::demo::ENTERPRISES_CSV;
pub const AGENCY_TOML: &str = anjian_server::demo::AGENCY_TOML;

/// 淄博齐林电力设备制造有限公司, 工贸, town 370303007 (科苑街道) of 张店区 (370303).
pub const FACTORY: &str = "913703030226339277";
/// 淄博泰山瓷业有限公司, 工贸, town 370302103 (洪山镇) of 淄川区 (370302): another district.
pub const FOREIGN_FACTORY: &str = "913703020590819387";

/// Every account of the test world, with its role: the demo accounts and an administrator.
pub fn accounts() -> Vec<(&'static str, &'static str)> {
    let mut accounts = vec![("admin", "admin")];
    accounts.extend(
        anjian_server::demo::ACCOUNTS
            .iter()
            .map(|(login, _, role, _, _)| (*login, *role)),
    );
    accounts
}

/// The demo world, every account with [`PASSWORD`], and an administrator `admin`.
pub fn seed(store: &Store) {
    anjian_server::demo::seed(store, PASSWORD).unwrap();
    admin::add_user(
        store,
        &NewAccount {
            login: "admin".into(),
            name: "系统管理员".into(),
            role: "admin".into(),
            scope: String::new(),
            cert: None,
            cert_valid_until: None,
            password: PASSWORD.into(),
        },
    )
    .unwrap();
}

/// A server running in this process on 127.0.0.1:0, stopped when dropped.
pub struct Server {
    pub url: String,
    pub store: Arc<Store>,
    pub public_key: String,
    /// Every key the server has signed with, current first.
    pub keys: Vec<anjian_core::sync::receipt::ServerKey>,
    pub data: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("url", &self.url).finish()
    }
}

impl Server {
    /// A seeded server on SQLite.
    pub fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let store: Arc<Store> = Arc::new(
            Store::open_sqlite(&data.path().join(anjian_server::cli::SQLITE_FILE)).unwrap(),
        );
        seed(store.as_ref());
        Server::start_with(store, data)
    }

    pub fn start_with(store: Arc<Store>, data: TempDir) -> Server {
        Server::start_configured(store, data, |state| state)
    }

    /// A seeded server on SQLite whose state `configure` adjusts (how clients reach it, …).
    pub fn start_with_state(configure: impl FnOnce(AppState) -> AppState) -> Server {
        let data = tempfile::tempdir().unwrap();
        let store: Arc<Store> = Arc::new(
            Store::open_sqlite(&data.path().join(anjian_server::cli::SQLITE_FILE)).unwrap(),
        );
        seed(store.as_ref());
        Server::start_configured(store, data, configure)
    }

    pub fn start_configured(
        store: Arc<Store>,
        data: TempDir,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Server {
        // As `serve` does: the key file and the checkpoints in the data folder.
        let (keys, _) = anjian_server::keys::open(
            store.as_ref(),
            &data.path().join(anjian_server::keys::KEY_FILE),
            anjian_server::keys::FirstStart::Generate,
        )
        .unwrap();
        let checkpoints = anjian_server::checkpoint::Checkpoints::open(
            &data.path().join(anjian_server::checkpoint::CHECKPOINT_DIR),
        )
        .unwrap();
        let state = configure(AppState::new(store.clone(), keys).with_checkpoints(checkpoints));
        let public_key = state.public_key_hex();
        let known_keys = state.known_keys().to_vec();
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = anjian_server::api::app(state)
                    .into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Server {
            url,
            store,
            public_key,
            keys: known_keys,
            data,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The real `anjian-server` binary as a child process, on a fixed port so that a restart
/// keeps the address devices know.
pub struct ServerProcess {
    pub url: String,
    pub data: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl std::fmt::Debug for ServerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerProcess")
            .field("url", &self.url)
            .finish()
    }
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl ServerProcess {
    pub fn start(binary: &Path, data: &Path, port: u16) -> ServerProcess {
        let mut process = ServerProcess {
            url: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
            port,
            child: None,
        };
        process.restart(binary);
        process
    }

    pub fn restart(&mut self, binary: &Path) {
        let child = Command::new(binary)
            .args(["--data", self.data.to_str().unwrap(), "serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "anjian-server did not start listening on port {}",
            self.port
        );
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: no shutdown, no flushing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(400),
        request_timeout: Duration::from_secs(30),
    }
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A field device: its own store, logged in to a server.
pub struct Device {
    pub store: DeviceStore,
    pub dir: TempDir,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("id", &self.store.device_id())
            .finish()
    }
}

impl Device {
    pub fn new() -> Device {
        let dir = tempfile::tempdir().unwrap();
        Device {
            store: DeviceStore::open(dir.path()).unwrap(),
            dir,
        }
    }

    /// Logs in and syncs once, so the device has the agency, templates, enterprises and its
    /// first number blocks.
    pub fn logged_in(server_url: &str, login: &str) -> Device {
        let mut device = Device::new();
        device.login(server_url, login);
        device.sync().unwrap();
        device
    }

    pub fn login(&mut self, server_url: &str, login: &str) {
        block_on(client::login(
            &mut self.store,
            server_url,
            login,
            PASSWORD,
            retry(),
        ))
        .unwrap();
    }

    pub fn sync(&mut self) -> anjian_core::Result<SyncReport> {
        block_on(client::sync(&mut self.store, retry()))
    }

    /// An enforcement inspection of `enterprise` on the trade checklist, with a colleague.
    pub fn start_trade(&mut self, enterprise: &str, colleague: &str) -> String {
        self.store
            .start_inspection(
                &StartInspection {
                    enterprise: enterprise.into(),
                    template: "trade-enforcement".into(),
                    co_inspectors: vec![CoInspector::parse(colleague).unwrap()],
                    place: Some("一号车间".into()),
                    gps: None,
                },
                Utc::now(),
            )
            .unwrap()
            .id
    }

    /// Starts a monthly self-inspection of `enterprise` (the device's officer's own, unless a
    /// test means otherwise).
    pub fn start_self_inspection(&mut self, enterprise: &str) -> String {
        self.store
            .start_inspection(
                &StartInspection {
                    enterprise: enterprise.into(),
                    template: "self-monthly".into(),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap()
            .id
    }

    /// An enforcement inspection of `enterprise` with a colleague and every required item
    /// answered, passing: ready to issue its documents and submit.
    pub fn answered_trade(&mut self, enterprise: &str, colleague: &str) -> String {
        let id = self.start_trade(enterprise, colleague);
        self.answer_required(&id, 0, 1);
        id
    }

    /// Answers required items (every `step`-th from `first`) with passing answers.
    pub fn answer_required(&mut self, id: &str, first: usize, step: usize) -> Vec<String> {
        let record = self.store.record(id).unwrap();
        let template = self
            .store
            .template(&record.template_id, Some(record.template_version))
            .unwrap();
        let mut answered = Vec::new();
        for item in anjian_core::inspection::checklist(&record, &template)
            .iter()
            .filter(|i| i.required)
            .skip(first)
            .step_by(step)
        {
            let input = passing_input(&item.answer);
            self.store
                .answer_item(
                    id,
                    &item.code,
                    &input,
                    &AnswerDetails::default(),
                    Utc::now(),
                )
                .unwrap();
            answered.push(item.code.clone());
        }
        answered
    }
}

impl Default for Device {
    fn default() -> Self {
        Device::new()
    }
}

pub fn passing_input(kind: &AnswerKind) -> String {
    match kind {
        AnswerKind::Check => "pass".to_string(),
        AnswerKind::Measure { min, max, .. } => min.or(*max).unwrap().to_string(),
        AnswerKind::Text => "记录".to_string(),
    }
}

/// 张伟's colleague 李娜 as a co-inspector.
pub const LI: &str = "李娜:37030002:2030-12-31";
/// 陈刚's colleague 吴敏.
pub const WU: &str = "吴敏:37020002:2030-12-31";

/// Raw HTTP against the API, for what devices never send.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

/// Status and parsed JSON body (Null when the body is not JSON).
pub type Answer = (u16, serde_json::Value);

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        block_on(self.send(request))
    }

    /// A text answer (an HTML document) as it is.
    pub fn get_text(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        })
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &serde_json::Value) -> Answer {
        self.post_bytes(
            path,
            token,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    pub fn post_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        block_on(self.send(request))
    }

    pub fn put_bytes(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
        self.put_typed(path, token, "text/plain", body)
    }

    pub fn put_typed(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .http
            .put(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        block_on(self.send(request))
    }

    /// Logs in as `login` from device `device_id`; returns the access token.
    pub fn login(&self, login: &str, device_id: &str) -> String {
        let (status, body) = self.post_json(
            "/api/v1/login",
            None,
            &serde_json::json!({ "login": login, "password": PASSWORD, "device_id": device_id }),
        );
        assert_eq!(status, 200, "login {login}: {body}");
        body["access_token"].as_str().unwrap().to_string()
    }
}

/// A PostgreSQL database of its own on the server `ANJIAN_TEST_POSTGRES` names (which
/// `scripts/test.sh` starts), dropped when this goes.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl std::fmt::Debug for PostgresDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDatabase")
            .field("name", &self.name)
            .finish()
    }
}

impl PostgresDatabase {
    pub fn create(label: &str) -> PostgresDatabase {
        let admin_url = std::env::var("ANJIAN_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "ANJIAN_TEST_POSTGRES is not set: run through scripts/test.sh (or \
                 scripts/with-postgres.sh), which starts a throwaway PostgreSQL"
            )
        });
        let name = format!("anjian_{label}_{}", std::process::id());
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        PostgresDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Server {
    /// A seeded server on a fresh PostgreSQL database.
    pub fn start_postgres(database: &PostgresDatabase) -> Server {
        let store: Arc<Store> = Arc::new(Store::connect_postgres(&database.url).unwrap());
        seed(store.as_ref());
        Server::start_with(store, tempfile::tempdir().unwrap())
    }
}

/// User plus system CPU seconds of this process so far (Linux `/proc/self/stat`, in clock
/// ticks of 1/100 s).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
