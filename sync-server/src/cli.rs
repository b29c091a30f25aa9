//! The `anjian-server` command line: `serve`, and the administration subcommands, each
//! working on the SQLite file under `--data` or on the PostgreSQL database of `--database`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};

use anjian_core::sync::protocol::Role;

use crate::admin::{self, NewAccount};
use crate::error::AppError;
use crate::keys;
use crate::state::AppState;
use crate::store::{ImportKind, Region, Store};

pub const SQLITE_FILE: &str = "anjian-server.sqlite3";
pub const INITIAL_ADMIN_PASSWORD_FILE: &str = "initial-admin-password.txt";
pub const DEMO_PASSWORD_FILE: &str = "demo-password.txt";
pub const SEED_PASSWORD_FILE: &str = "seed-password.txt";

#[derive(Debug, Parser)]
#[command(
    name = "anjian-server",
    version,
    about = "安监同步服务器：接收、校验、锁定检查记录"
)]
struct Cli {
    #[command(flatten)]
    storage: Storage,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Storage {
    /// Data directory: the SQLite database and the signing key.
    #[arg(
        long,
        global = true,
        env = "ANJIAN_DATA",
        default_value = "anjian-data"
    )]
    data: PathBuf,
    /// PostgreSQL instead of SQLite, e.g. postgres://anjian@db/anjian (the signing key stays
    /// in the data directory).
    #[arg(long, global = true, env = "ANJIAN_DATABASE_URL")]
    database: Option<String>,
    /// The signing key's file; by default server-signing-key.hex in the data directory. Keep it
    /// off the database's disk (and out of its backups) by pointing this elsewhere.
    #[arg(long, global = true, env = "ANJIAN_SIGNING_KEY")]
    signing_key: Option<PathBuf>,
    /// Where signed checkpoints of the audit log's head are kept; by default audit-checkpoints
    /// in the data directory. Put it on another disk or host: `verify-log` holds the log
    /// against it, so cutting entries off the log's end is detected.
    #[arg(long, global = true, env = "ANJIAN_CHECKPOINT_DIR")]
    checkpoint_dir: Option<PathBuf>,
}

impl Storage {
    fn key_path(&self) -> PathBuf {
        self.signing_key
            .clone()
            .unwrap_or_else(|| self.data.join(keys::KEY_FILE))
    }

    fn checkpoint_dir(&self) -> PathBuf {
        self.checkpoint_dir
            .clone()
            .unwrap_or_else(|| self.data.join(crate::checkpoint::CHECKPOINT_DIR))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the Zibo demo (regions, agency, enterprises, an account of every role) into an
        /// empty server
        #[arg(long)]
        demo: bool,
        /// IoT rules' parameters instead of the built-in templates/iot.toml
        #[arg(long)]
        iot_config: Option<PathBuf>,
        /// The address clients use, e.g. https://anjian.example.gov.cn; an https address makes
        /// the review pages' cookie Secure.
        #[arg(long, env = "ANJIAN_PUBLIC_URL")]
        public_url: Option<String>,
        /// A reverse proxy in front sets X-Forwarded-For and X-Forwarded-Proto: count logins
        /// per the client address it names, and make the cookie Secure when it says https.
        /// Only with a proxy that overwrites these headers: otherwise clients could forge them.
        #[arg(long, env = "ANJIAN_TRUST_FORWARDED")]
        trust_forwarded: bool,
        /// Lets a metrics collector on another host read /metrics with
        /// `Authorization: Bearer TOKEN`; without it only this machine may.
        #[arg(long, env = "ANJIAN_METRICS_TOKEN")]
        metrics_token: Option<String>,
        /// Log lines on stderr as text or as JSON objects (one per line).
        #[arg(long, value_enum, default_value = "text", env = "ANJIAN_LOG_FORMAT")]
        log_format: crate::observe::LogFormat,
        /// Which log events to write: a level, optionally per target, e.g. info or
        /// warn,anjian_server::sync=debug.
        #[arg(long, default_value = "info", env = "ANJIAN_LOG")]
        log: String,
    },
    /// IoT devices: register one (its key is printed once), list them, revoke a key.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Administrative divisions: city → district → town.
    Region {
        #[command(subcommand)]
        command: RegionCommand,
    },
    /// Real-name accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The enterprise register.
    Enterprise {
        #[command(subcommand)]
        command: EnterpriseCommand,
    },
    /// Checklist templates.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// The agency configuration (name, document numbers, remedy authorities).
    Agency {
        #[command(subcommand)]
        command: AgencyCommand,
    },
    /// Imports supervisors' reference data from a CSV file, all or nothing; importing the
    /// same rows again changes nothing (formats: docs/import-formats.md).
    Import {
        /// What the file holds.
        #[arg(value_parser = PossibleValuesParser::new(ImportKind::ALL.map(ImportKind::name)))]
        kind: String,
        file: PathBuf,
    },
    /// Recomputes the audit log's hash chain, checks every receipt and the records' list
    /// columns, and holds the log against the latest checkpoint kept outside the database.
    VerifyLog,
    /// The server's signing keys: list them, or rotate to a new one.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Recounts the analyses' rollups from the records (the server keeps them as records
    /// arrive; this is for an administrator who doubts them). With --check, only says whether
    /// they agree with the records.
    RebuildRollups {
        #[arg(long)]
        check: bool,
    },
    /// Fills an empty database with a synthetic city and its history, uploaded through the
    /// real sync path: `city` is 2,600 enterprises in 88 towns over three years (the
    /// benchmarks' data), `demo` the demo world and a year of it. Every account's password is
    /// written to seed-password.txt in the data directory.
    Seed {
        #[arg(long, value_parser = PossibleValuesParser::new(["demo", "city"]))]
        scale: String,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    Add {
        device_id: String,
        /// rain, positioning, face, dcs or video.
        #[arg(long)]
        kind: String,
        /// The enterprise's unified social credit code.
        #[arg(long)]
        enterprise: String,
        #[arg(long)]
        location: String,
        /// Rain gauges: this mine's stop threshold in millimetres.
        #[arg(long)]
        rain_threshold_mm: Option<f64>,
    },
    List,
    Revoke {
        device_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Every key the server has signed with (public halves), the current one first.
    List,
    /// Generates a new key and makes it current; receipts of the old one still verify.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum RegionCommand {
    Add {
        code: String,
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    Add {
        login: String,
        #[arg(long)]
        name: String,
        /// admin, city_supervisor, district_supervisor, town_supervisor, inspector, expert,
        /// resident_inspector or enterprise_officer.
        #[arg(long)]
        role: String,
        /// A region code, or a credit code for an enterprise officer (empty for an admin).
        #[arg(long, default_value = "")]
        scope: String,
        #[arg(long)]
        cert: Option<String>,
        #[arg(long)]
        cert_valid_until: Option<NaiveDate>,
        /// A file holding the password (its first line).
        #[arg(long)]
        password_file: PathBuf,
    },
    Disable {
        login: String,
    },
}

#[derive(Debug, Subcommand)]
enum EnterpriseCommand {
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    Publish { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum AgencyCommand {
    Set { file: PathBuf },
}

/// Everything a subcommand reports to the person: Chinese, one line.
struct Failure(String);

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure(e.message)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure(AppError::from(e).message)
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

fn open_store(storage: &Storage) -> Result<Arc<Store>, Failure> {
    std::fs::create_dir_all(&storage.data)
        .map_err(|e| Failure(format!("无法创建数据目录 {}：{e}", storage.data.display())))?;
    Ok(match &storage.database {
        Some(url) => Arc::new(Store::connect_postgres(url)?),
        None => Arc::new(Store::open_sqlite(&storage.data.join(SQLITE_FILE))?),
    })
}

fn read_file(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure(format!("无法读取 {}：{e}", path.display())))
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let store = open_store(&cli.storage)?;
    let store = store.as_ref();
    match cli.command {
        Command::Serve {
            listen,
            demo,
            iot_config,
            public_url,
            trust_forwarded,
            metrics_token,
            log_format,
            log,
        } => {
            crate::observe::init_logging(log_format, &log).map_err(Failure)?;
            let mut access = access_of(public_url.as_deref(), trust_forwarded)?;
            access.metrics_token = match metrics_token {
                Some(token) if token.trim().len() < 16 => {
                    return Err(Failure(
                        "--metrics-token 至少应有 16 个字符：它是远程读取监控指标的唯一凭据".into(),
                    ));
                }
                token => token,
            };
            return serve(&cli.storage, listen, demo, iot_config.as_deref(), access);
        }
        Command::Key { command } => match command {
            KeyCommand::List => {
                for key in store.signing_keys()? {
                    println!(
                        "{}{} 公钥 {}（{} 启用）",
                        key.key_id,
                        if key.current { "（当前）" } else { "" },
                        key.public_key,
                        anjian_core::time::format_china(key.added_at)
                    );
                }
            }
            KeyCommand::Rotate => {
                let (keys, retired) =
                    keys::rotate(store, &cli.storage.key_path()).map_err(Failure)?;
                println!(
                    "已启用新签名密钥 {}（公钥 {}）；旧密钥文件已移到 {}，此前的回执仍可用旧公钥核验。请重启所有服务器实例。",
                    keys.key_id(),
                    keys.public_key_hex(),
                    retired.display()
                );
            }
        },
        Command::Device { command } => match command {
            DeviceCommand::Add {
                device_id,
                kind,
                enterprise,
                location,
                rain_threshold_mm,
            } => {
                let request = admin::NewDeviceRequest {
                    device_id,
                    kind,
                    credit_code: enterprise,
                    location,
                    rain_threshold_mm,
                };
                let (device, key) = admin::register_device(store, &request, chrono::Utc::now())?;
                println!(
                    "已登记{} {}（{}，{}）",
                    device.kind.label(),
                    device.device_id,
                    device.credit_code,
                    device.location
                );
                println!("设备密钥（只显示这一次，服务器只保存其摘要）：{key}");
            }
            DeviceCommand::List => {
                for device in store.devices(&crate::store::RecordScope::All)? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        device.device_id,
                        device.kind.as_str(),
                        device.credit_code,
                        device.location,
                        if device.revoked_at.is_some() {
                            "已吊销"
                        } else {
                            "有效"
                        }
                    );
                }
            }
            DeviceCommand::Revoke { device_id } => {
                if !store.revoke_device(&device_id, chrono::Utc::now())? {
                    return Err(Failure(format!("设备 {device_id} 未登记")));
                }
                println!("已吊销设备 {device_id} 的密钥");
            }
        },
        Command::Seed { scale } => return seed(&cli.storage, &scale),
        Command::Region { command } => match command {
            RegionCommand::Add { code, name, parent } => {
                let region = Region { code, name, parent };
                admin::add_region(store, &region)?;
                println!("已添加区划 {} {}", region.code, region.name);
            }
            RegionCommand::List => {
                for region in store.regions()? {
                    println!(
                        "{}\t{}\t{}",
                        region.code,
                        region.name,
                        region.parent.unwrap_or_default()
                    );
                }
            }
        },
        Command::User { command } => match command {
            UserCommand::Add {
                login,
                name,
                role,
                scope,
                cert,
                cert_valid_until,
                password_file,
            } => {
                let password = read_file(&password_file)?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let user = admin::add_user(
                    store,
                    &NewAccount {
                        login,
                        name,
                        role,
                        scope,
                        cert,
                        cert_valid_until,
                        password,
                    },
                )?;
                println!(
                    "已添加账号 {}（{}，{}，管辖 {}）",
                    user.login,
                    user.name,
                    user.role.label(),
                    if user.scope.is_empty() {
                        "全部"
                    } else {
                        &user.scope
                    }
                );
            }
            UserCommand::Disable { login } => {
                let revoked = admin::disable_user(store, &login)?;
                println!("已停用账号 {login}，注销令牌 {revoked} 个");
            }
        },
        Command::Enterprise {
            command: EnterpriseCommand::Import { file },
        } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure(format!("无法读取 {}：{e}", file.display())))?;
            let count = admin::import_enterprises(store, &file.display().to_string(), &bytes)?;
            println!("已导入 {count} 家企业");
        }
        Command::Template {
            command: TemplateCommand::Publish { file },
        } => {
            let text = read_file(&file)?;
            if admin::publish_template(store, &file.display().to_string(), &text)? {
                println!("已发布模板 {}", file.display());
            } else {
                println!(
                    "模板 {} 的此版本已发布过，内容相同，未作改动",
                    file.display()
                );
            }
        }
        Command::Agency {
            command: AgencyCommand::Set { file },
        } => {
            let text = read_file(&file)?;
            let agency = admin::set_agency(store, &file.display().to_string(), &text)?;
            for notice in &agency.notices {
                eprintln!("注意：{notice}");
            }
            println!("已设置执法机关：{}", agency.name);
        }
        Command::Import { kind, file } => {
            let kind = ImportKind::parse(&kind)
                .ok_or_else(|| Failure(format!("未知的导入类型 {kind}")))?;
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure(format!("无法读取 {}：{e}", file.display())))?;
            let summary =
                admin::import_reference(store, kind, &file.display().to_string(), &bytes)?;
            println!(
                "已导入{} {} 条：新增 {}，更新 {}，未变 {}",
                kind.label(),
                summary.total(),
                summary.inserted,
                summary.updated,
                summary.unchanged
            );
        }
        Command::RebuildRollups { check: true } => {
            if store.rollups_agree()? {
                println!("统计汇总表与检查记录一致");
            } else {
                println!("统计汇总表与检查记录不一致：请运行 anjian-server rebuild-rollups");
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::RebuildRollups { check: false } => {
            println!("已重建统计汇总表：{}", store.rebuild_rollups()?);
        }
        Command::VerifyLog => {
            // Only the public halves are needed: the database's list of keys.
            let known: Vec<anjian_core::sync::receipt::ServerKey> = store
                .signing_keys()?
                .into_iter()
                .map(|k| anjian_core::sync::receipt::ServerKey {
                    key_id: k.key_id,
                    public_key: k.public_key,
                })
                .collect();
            let checkpoint_dir = cli.storage.checkpoint_dir();
            let checkpoint = crate::checkpoint::latest(&checkpoint_dir).map_err(Failure)?;
            let verification = crate::audit::verify(store, &known, checkpoint.as_ref())?;
            match verification.first_bad {
                None if checkpoint.is_none() && verification.entries > 0 => {
                    println!(
                        "审计日志的哈希链与签名相符（共 {} 条），但检查点目录 {} 中没有库外检查点，无法确认日志末尾未被删除",
                        verification.entries,
                        checkpoint_dir.display()
                    );
                    return Ok(ExitCode::FAILURE);
                }
                None if verification.entries == 0 => println!("审计日志为空"),
                None => {
                    println!(
                        "审计日志完好：共 {} 条，哈希链与签名全部相符，库外检查点（第 {} 条）仍在链中",
                        verification.entries,
                        verification.checkpoint.unwrap_or(0)
                    );
                }
                Some(bad) => {
                    println!(
                        "审计日志第 {} 条（记录 {}）不符：{}",
                        bad.index, bad.record_id, bad.problem
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn access_of(
    public_url: Option<&str>,
    trust_forwarded: bool,
) -> Result<crate::access::Access, Failure> {
    let public_https = match public_url {
        None => false,
        Some(url) if url.starts_with("https://") => true,
        Some(url) if url.starts_with("http://") => false,
        Some(url) => {
            return Err(Failure(format!(
                "--public-url {url} 应以 https:// 或 http:// 开头"
            )));
        }
    };
    Ok(crate::access::Access {
        public_https,
        trust_forwarded,
        metrics_token: None,
    })
}

/// The keys, and the checkpoints of the audit log with the chain's current head written: a
/// database upgraded from before checkpoints, or one whose last checkpoint was lost, gets one
/// at once (a checkpoint never moves back, so a log cut short while the server was down is
/// not covered up by this).
fn open_keys_and_checkpoints(
    storage: &Storage,
    store: &Store,
) -> Result<(crate::keys::ServerKeys, crate::checkpoint::Checkpoints), Failure> {
    let key_path = storage.key_path();
    let (keys, created) =
        keys::open(store, &key_path, keys::FirstStart::Generate).map_err(Failure)?;
    if created {
        println!(
            "已生成服务器签名密钥 {}（{}）",
            keys.key_id(),
            key_path.display()
        );
    }
    let checkpoints =
        crate::checkpoint::Checkpoints::open(&storage.checkpoint_dir()).map_err(Failure)?;
    Ok((keys, checkpoints))
}

fn serve(
    storage: &Storage,
    listen: SocketAddr,
    demo: bool,
    iot_config: Option<&Path>,
    access: crate::access::Access,
) -> Result<ExitCode, Failure> {
    let iot_config = match iot_config {
        Some(path) => crate::iot::IotConfig::parse(&path.display().to_string(), &read_file(path)?)
            .map_err(Failure)?,
        None => crate::iot::IotConfig::shipped(),
    };
    let store = open_store(storage)?;
    let (keys, checkpoints) = open_keys_and_checkpoints(storage, store.as_ref())?;
    let published = admin::publish_builtin_templates(store.as_ref())?;
    if published > 0 {
        println!("已发布随程序提供的检查表模板 {published} 个");
    }
    let first_admin = ensure_first_admin(store.as_ref(), &storage.data)?;
    let state = AppState::new(store.clone(), keys)
        .with_iot_config(iot_config)
        .with_checkpoints(checkpoints)
        .with_access(access);
    if let Some((index, hash)) = store.audit_head()? {
        state.checkpoint(index, &hash);
    }
    let demo_seeded = if demo && store.regions()?.is_empty() {
        let password = crate::auth::new_token().map_err(Failure)?[..12].to_string();
        let path = storage.data.join(DEMO_PASSWORD_FILE);
        write_private(&path, &format!("{password}\n"))?;
        println!("正在生成淄博演示数据（一年的检查记录）……");
        let summary = crate::seed::seed(
            &state,
            crate::seed::Scale::Demo,
            &password,
            chrono::Utc::now(),
            &mut |_| {},
        )?;
        Some((path, summary))
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("无法启动运行时：{e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure(format!("无法监听 {listen}：{e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure(format!("无法取得监听地址：{e}")))?;
        let backend = match &storage.database {
            Some(_) => "PostgreSQL".to_string(),
            None => format!("SQLite {}", storage.data.join(SQLITE_FILE).display()),
        };
        println!("anjian-server 正在监听 http://{address}（存储：{backend}）");
        println!("服务器公钥（设备用来核验回执）：{}", state.public_key_hex());
        if let Some(password_file) = first_admin {
            println!(
                "首个管理员账号 admin 的初始密码已写入 {}。登录：anjian login --server http://{address} --user admin --password-file {}",
                password_file.display(),
                password_file.display()
            );
        }
        if let Some((path, summary)) = demo_seeded {
            let logins: Vec<&str> = crate::demo::ACCOUNTS.iter().map(|a| a.0).collect();
            println!("已载入淄博演示数据：{summary}");
            println!(
                "演示账号 {}（密码均写入 {}）；监管人员页面：http://{address}/review",
                logins.join("、"),
                path.display()
            );
            println!(
                "例如：anjian login --server http://{address} --user zhang --password-file {}",
                path.display()
            );
        }
        tokio::spawn(crate::intake::absence_rules(state.clone()));
        // The peer's address: login attempts and the public document check count per address.
        let app = crate::api::app(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Failure(format!("服务器出错：{e}")))?;
        println!("anjian-server 已停止");
        Ok(ExitCode::SUCCESS)
    })
}

fn seed(storage: &Storage, scale: &str) -> Result<ExitCode, Failure> {
    let scale = crate::seed::Scale::parse(scale)
        .ok_or_else(|| Failure(format!("未知的规模 {scale}：应为 demo 或 city")))?;
    let store = open_store(storage)?;
    let (keys, checkpoints) = open_keys_and_checkpoints(storage, store.as_ref())?;
    // Checkpointed once at the end rather than after each of the many locks.
    let state = AppState::new(store.clone(), keys);
    let password = crate::auth::new_token().map_err(Failure)?[..12].to_string();
    let path = storage.data.join(SEED_PASSWORD_FILE);
    write_private(&path, &format!("{password}\n"))?;
    let summary = crate::seed::seed(&state, scale, &password, chrono::Utc::now(), &mut |line| {
        println!("{line}")
    })?;
    let state = state.with_checkpoints(checkpoints);
    if let Some((index, hash)) = store.audit_head()? {
        state.checkpoint(index, &hash);
    }
    println!("已生成模拟数据：{summary}");
    println!("所有模拟账号的密码已写入 {}", path.display());
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// On first start there is no administrator: one named `admin` is made with a random
/// password written to a file only the server's user can read.
fn ensure_first_admin(store: &Store, data: &Path) -> Result<Option<PathBuf>, Failure> {
    if store.user("admin")?.is_some() {
        return Ok(None);
    }
    let password = crate::auth::new_token().map_err(Failure)?[..20].to_string();
    let path = data.join(INITIAL_ADMIN_PASSWORD_FILE);
    write_private(&path, &format!("{password}\n"))?;
    admin::add_user(
        store,
        &NewAccount {
            login: "admin".into(),
            name: "系统管理员".into(),
            role: Role::Admin.as_str().into(),
            scope: String::new(),
            cert: None,
            cert_valid_until: None,
            password,
        },
    )?;
    Ok(Some(path))
}

fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| Failure(format!("无法写入 {}：{e}", path.display())))
}
