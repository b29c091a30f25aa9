//! `anjian`: the field command. A headless inspection device over anjian-core, for desktop
//! inspectors, scripting and end-to-end tests. Every command works offline on the device store
//! in `--home`.

mod output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anjian_core::agency::{Agency, DocType};
use anjian_core::document::escpos::{self, PaperWidth};
use anjian_core::enterprise::{CreditCode, parse_enterprise_csv};
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::printer::{self, Pacing, PrinterAddress};
use anjian_core::record::{Gps, Inspector};
use anjian_core::sync::client::{self, RetryPolicy};
use anjian_core::{Error, Result, Store, Template};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::output::{Output, SyncInfo};

#[derive(Debug, Parser)]
#[command(name = "anjian", version, about = "安监现场执法终端（离线）")]
struct Cli {
    /// The device's data folder [default: the platform's data directory]/anjian
    #[arg(long, global = true, env = "ANJIAN_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set this device's inspector (and agency); the device id is kept
    Init {
        #[arg(long)]
        name: String,
        #[arg(long)]
        cert: String,
        /// Last day the enforcement certificate is valid (YYYY-MM-DD)
        #[arg(long, value_name = "YYYY-MM-DD")]
        cert_valid_until: Option<String>,
        /// Agency configuration (see templates/agency.example.toml)
        #[arg(long, value_name = "FILE")]
        agency: Option<PathBuf>,
    },
    /// The enterprise register
    #[command(subcommand)]
    Enterprise(EnterpriseCommand),
    /// Colleagues' enforcement certificates known to this device
    #[command(subcommand)]
    Inspector(InspectorCommand),
    /// Checklist templates
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Run inspections
    #[command(subcommand)]
    Inspect(InspectCommand),
    /// Exchange records with another device by file
    #[command(subcommand)]
    Record(RecordCommand),
    /// Document-number blocks and the register of issued and voided numbers
    #[command(subcommand)]
    Numbers(NumbersCommand),
    /// Enforcement documents of a record
    #[command(subcommand)]
    Doc(DocCommand),
    /// Print a record's document on a thermal printer (issuing it on first use)
    Print(PrintArgs),
    /// Log in to the sync server (the password is read from standard input unless a file is given)
    Login {
        /// e.g. http://127.0.0.1:8080
        #[arg(long)]
        server: String,
        #[arg(long)]
        user: String,
        /// A file holding the password (its first line)
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Upload changed records, receive receipts, colleagues' changes and reference data
    Sync,
    /// Revoke this device's tokens at the server and forget them
    Logout,
    /// IoT alerts of the enterprises in scope, as the last sync brought them (newest first)
    Alerts,
}

#[derive(Debug, Args)]
struct PrintArgs {
    id: String,
    #[arg(long = "type", value_name = "record|order|reinspection")]
    doc_type: String,
    /// tcp://HOST:PORT (Wi-Fi printers, port 9100) or file:PATH (/dev/rfcomm0, /dev/usb/lp0)
    #[arg(long, value_name = "ADDRESS")]
    printer: String,
    #[command(flatten)]
    thermal: ThermalArgs,
    /// Bytes per write
    #[arg(long, default_value_t = 256)]
    chunk: usize,
    /// Pause after each write, in milliseconds
    #[arg(long, default_value_t = 20)]
    pause_ms: u64,
    /// Seconds a write may wait before the printer counts as gone
    #[arg(long, default_value_t = 10)]
    timeout_s: u64,
}

#[derive(Debug, Subcommand)]
enum NumbersCommand {
    /// Blocks held, what is left, and the register
    Show,
    /// Register a block of serials: TYPE is record, order or reinspection
    AddBlock {
        #[arg(value_name = "TYPE")]
        doc_type: String,
        year: i32,
        from: u32,
        to: u32,
    },
    /// Void an unused number, with the reason
    Void {
        number: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DocFormat {
    /// A4 PDF, the official layout, the CJK font embedded as a subset
    Pdf,
    /// A self-contained HTML page (preview, review pages)
    Html,
    /// Plain UTF-8 text, block by block
    Text,
    /// ESC/POS bytes for a thermal printer (see --width, --copies)
    Escpos,
}

/// How a thermal-printer job is laid out (`doc render --format escpos` and `print`).
#[derive(Debug, Args)]
struct ThermalArgs {
    /// Thermal paper width in mm: 58, 80, or 104–112
    #[arg(long, default_value_t = 58)]
    width: u32,
    /// Copies, each labelled and cut (一式两联: 2)
    #[arg(long, default_value_t = 2)]
    copies: u8,
    /// Print only copy N of the --copies (a reprint, e.g. 2 for the enterprise's copy)
    #[arg(long, value_name = "N")]
    reprint_copy: Option<u8>,
    /// Print every line as a raster image (printers without a Chinese font)
    #[arg(long)]
    raster: bool,
}

impl ThermalArgs {
    fn options(&self) -> Result<escpos::EscPosOptions> {
        let width = PaperWidth::from_mm(self.width).ok_or_else(|| {
            Error::InvalidInput(format!(
                "纸宽 {} mm 不受支持：应为 58、80 或 104–112",
                self.width
            ))
        })?;
        Ok(escpos::EscPosOptions {
            width,
            copies: self.copies,
            only_copy: self.reprint_copy,
            raster: self.raster,
        })
    }
}

#[derive(Debug, Subcommand)]
enum DocCommand {
    /// Render a record's document (issuing it, and taking its number, on first use)
    Render {
        id: String,
        #[arg(long = "type", value_name = "record|order|reinspection")]
        doc_type: String,
        #[arg(long, value_enum)]
        format: DocFormat,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        thermal: ThermalArgs,
    },
    /// Issue a document for a record (takes its number; issuing again shows the same number)
    Issue {
        id: String,
        #[arg(long = "type", value_name = "record|order|reinspection")]
        doc_type: String,
    },
}

fn parse_doc_type(text: &str) -> Result<DocType> {
    DocType::parse(text).ok_or_else(|| {
        Error::InvalidInput(format!(
            "文书类型 {text:?} 应为 record（现场检查记录）、order（责令限期整改指令书）或 reinspection（整改复查意见书）"
        ))
    })
}

#[derive(Debug, Subcommand)]
enum EnterpriseCommand {
    /// Import a register CSV (header 统一社会信用代码,单位名称,地址,行业,区划代码,法定代表人,联系电话[,细分行业,专项作业]); all rows or none
    Import { file: PathBuf },
    /// List enterprises
    List {
        /// Only those whose name, address or code contains this text
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one enterprise
    Show { code: String },
}

#[derive(Debug, Subcommand)]
enum InspectorCommand {
    /// Register a colleague's certificate and its validity
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        cert: String,
        #[arg(long, value_name = "YYYY-MM-DD")]
        cert_valid_until: String,
    },
    /// List known inspectors
    List,
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// The newest version of every checklist
    List,
    /// One checklist with all its items
    Show {
        id: String,
        #[arg(long)]
        version: Option<u32>,
    },
    /// Add a checklist version from a TOML file
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum InspectCommand {
    /// Start an inspection; prints the new record's id
    Start {
        /// The enterprise's unified social credit code
        #[arg(long, value_name = "CODE")]
        enterprise: String,
        #[arg(long, value_name = "ID")]
        template: String,
        /// A co-inspector, NAME:CERT or NAME:CERT:VALID_UNTIL (repeatable)
        #[arg(long = "with", value_name = "NAME:CERT")]
        with: Vec<String>,
        /// Where the inspection takes place [default: the enterprise's address]
        #[arg(long)]
        place: Option<String>,
        /// Position as LAT,LON
        #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
        gps: Option<String>,
        /// The post (职务) of the enterprise's person on site, for the 现场检查记录
        #[arg(long, value_name = "职务")]
        post: Option<String>,
    },
    /// Set the post (职务) of the enterprise's person on site; possible until the record's
    /// 现场检查记录 is issued (an empty text clears it)
    Post { id: String, post: String },
    /// Start the re-inspection (整改复查) of a submitted inspection's hazards; prints the new
    /// record's id
    Reinspect {
        /// The submitted inspection record whose hazards are re-checked (for an enforcement
        /// inspection, the one whose 责令限期整改指令书 is followed up)
        original_id: String,
        /// A co-inspector, NAME:CERT or NAME:CERT:VALID_UNTIL (repeatable)
        #[arg(long = "with", value_name = "NAME:CERT")]
        with: Vec<String>,
        #[arg(long)]
        place: Option<String>,
    },
    /// Add this device's inspector to a record received from a colleague
    Join { id: String },
    /// Answer an item: pass, fail, na, a measured value, or text
    Answer(AnswerArgs),
    /// Resolve a conflict by keeping answer N (as numbered by `inspect show`)
    Resolve {
        id: String,
        item: String,
        #[arg(long, value_name = "N")]
        keep: usize,
    },
    /// Show a record with its answers, hazards and conflicts
    Show { id: String },
    /// List records on this device
    List,
    /// Submit a completed record; it cannot be edited afterwards
    Submit { id: String },
}

#[derive(Debug, Args)]
struct AnswerArgs {
    id: String,
    item: String,
    /// pass | fail | na | a measured value | text
    #[arg(allow_hyphen_values = true)]
    value: String,
    #[arg(long)]
    note: Option<String>,
    /// A photo file (repeatable)
    #[arg(long, value_name = "FILE")]
    photo: Vec<PathBuf>,
    /// Rectification deadline of a failed item
    #[arg(long, value_name = "YYYY-MM-DD")]
    deadline: Option<String>,
    /// Rectification measure of a failed item [default: the checklist's]
    #[arg(long)]
    measure: Option<String>,
}

#[derive(Debug, Subcommand)]
enum RecordCommand {
    /// Write a record's exchange file
    Export {
        id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Merge an exchange file from another device
    Import { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output { json: cli.json };
    match run(cli.home, cli.command, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            out.error(&error);
            ExitCode::FAILURE
        }
    }
}

fn open_store(home: Option<PathBuf>) -> Result<Store> {
    let home = match home {
        Some(home) => home,
        None => dirs::data_dir()
            .map(|dir| dir.join("anjian"))
            .ok_or_else(|| Error::InvalidInput("找不到本机数据目录：请用 --home 指定".into()))?,
    };
    Store::open(&home)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| Error::InvalidInput(format!("{} 不是 UTF-8 文本", path.display())))
}

fn parse_date(field: &str, text: Option<&str>) -> Result<Option<chrono::NaiveDate>> {
    text.map(|t| anjian_core::time::parse_date(field, t).map_err(Error::InvalidInput))
        .transpose()
}

fn run(home: Option<PathBuf>, command: Command, out: &Output) -> Result<()> {
    let mut store = open_store(home)?;
    let now = Utc::now();
    match command {
        Command::Init {
            name,
            cert,
            cert_valid_until,
            agency,
        } => {
            let agency = match &agency {
                Some(path) => Some((
                    Agency::parse(&path.display().to_string(), &read_text(path)?)?,
                    path.parent().map(Path::to_path_buf).unwrap_or_default(),
                )),
                None => None,
            };
            let inspector = Inspector {
                name: name.trim().to_string(),
                cert: cert.trim().to_string(),
                cert_valid_until: parse_date("有效期", cert_valid_until.as_deref())?,
            };
            if let Some((agency, dir)) = &agency {
                // The seal is checked before the profile changes, so a bad one changes nothing.
                let seal = agency.seal.as_ref().map(|seal| dir.join(seal));
                store.set_agency_seal(seal.as_deref())?;
            }
            store.init_profile(&inspector, agency.as_ref().map(|(agency, _)| agency))?;
            // An older configuration still loads; say what it should now read.
            for notice in agency.iter().flat_map(|(agency, _)| &agency.notices) {
                eprintln!("注意：{notice}");
            }
            out.profile(&store.profile()?, store.home());
        }
        Command::Enterprise(command) => match command {
            EnterpriseCommand::Import { file } => {
                let enterprises =
                    parse_enterprise_csv(&file.display().to_string(), &read_file(&file)?)?;
                let count = store.import_enterprises(&enterprises)?;
                out.value(&json!({ "imported": count }), || {
                    format!("已导入 {count} 家企业")
                });
            }
            EnterpriseCommand::List { search } => {
                out.enterprises(&store.enterprises(search.as_deref())?);
            }
            EnterpriseCommand::Show { code } => {
                out.enterprise(&store.enterprise(&CreditCode::parse(&code)?)?);
            }
        },
        Command::Inspector(command) => match command {
            InspectorCommand::Add {
                name,
                cert,
                cert_valid_until,
            } => {
                let inspector = Inspector {
                    name,
                    cert,
                    cert_valid_until: parse_date("有效期", Some(&cert_valid_until))?,
                };
                store.add_inspector(&inspector)?;
                out.inspectors(&[inspector]);
            }
            InspectorCommand::List => out.inspectors(&store.inspectors()?),
        },
        Command::Template(command) => match command {
            TemplateCommand::List => out.templates(&store.latest_templates()?),
            TemplateCommand::Show { id, version } => out.template(&*store.template(&id, version)?),
            TemplateCommand::Import { file } => {
                let template = Template::parse(&file.display().to_string(), &read_text(&file)?)?;
                let added = store.add_template(&template)?;
                out.value(
                    &json!({ "id": template.id, "version": template.version, "added": added }),
                    || match added {
                        true => format!("已添加检查表 {} 第 {} 版", template.id, template.version),
                        false => format!("检查表 {} 第 {} 版已存在", template.id, template.version),
                    },
                );
            }
        },
        Command::Inspect(command) => inspect(&mut store, command, now, out)?,
        Command::Numbers(command) => match command {
            NumbersCommand::Show => {
                out.numbers(&store.number_blocks()?, &store.number_register()?);
            }
            NumbersCommand::AddBlock {
                doc_type,
                year,
                from,
                to,
            } => {
                let block =
                    store.add_number_block(parse_doc_type(&doc_type)?, year, from, to, now)?;
                out.numbers(&[block], &[]);
            }
            NumbersCommand::Void { number, reason } => {
                let entry = store.void_number(&number, &reason, now)?;
                out.value(&serde_json::to_value(&entry).unwrap_or_default(), || {
                    format!("已作废 {}：{}", entry.number, reason.trim())
                });
            }
        },
        Command::Doc(DocCommand::Render {
            id,
            doc_type,
            format,
            out: path,
            thermal,
        }) => {
            let thermal = thermal.options()?;
            let document = store.document(&id, parse_doc_type(&doc_type)?, now)?;
            let bytes = match format {
                DocFormat::Pdf => {
                    anjian_core::document::pdf::render(&document, store.agency_seal()?.as_ref())?
                }
                DocFormat::Html => anjian_core::document::html::render(&document).into_bytes(),
                DocFormat::Text => document.to_text().into_bytes(),
                DocFormat::Escpos => escpos::render(&document, thermal)?,
            };
            std::fs::write(&path, &bytes).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let sha256 = anjian_core::photos::sha256_hex(&bytes);
            out.value(
                &json!({
                    "number": document.number,
                    "bytes": bytes.len(),
                    "sha256": sha256,
                    "content_hash": document.content_hash(),
                    "file": path,
                }),
                || {
                    format!(
                        "{} {} → {}（{} 字节）",
                        document.title,
                        document.number,
                        path.display(),
                        bytes.len()
                    )
                },
            );
        }
        Command::Login {
            server,
            user,
            password_file,
        } => {
            let password = match &password_file {
                Some(path) => read_text(path)?,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|source| Error::Io {
                            path: PathBuf::from("<stdin>"),
                            source,
                        })?;
                    line
                }
            };
            let password = password.lines().next().unwrap_or_default().to_string();
            let response = block_on(client::login(
                &mut store,
                &server,
                &user,
                &password,
                RetryPolicy::default(),
            ))?;
            out.login(&response, server.trim_end_matches('/'));
        }
        Command::Sync => {
            let report = block_on(client::sync(&mut store, RetryPolicy::default()))?;
            out.sync_report(&report);
        }
        Command::Alerts => out.alerts(&store.alerts()?),
        Command::Logout => {
            block_on(client::logout(&mut store, RetryPolicy::default()))?;
            out.value(&json!({ "logged_out": true }), || "已退出登录".into());
        }
        Command::Print(args) => {
            let thermal = args.thermal.options()?;
            let pacing = Pacing {
                chunk_bytes: args.chunk,
                pause: std::time::Duration::from_millis(args.pause_ms),
                timeout: std::time::Duration::from_secs(args.timeout_s),
            };
            pacing.check()?;
            let address = PrinterAddress::parse(&args.printer)?;
            let document = store.document(&args.id, parse_doc_type(&args.doc_type)?, now)?;
            let job = escpos::render(&document, thermal)?;
            let mut link = address.connect(&pacing)?;
            let report = printer::send(link.as_mut(), &job, &pacing)?;
            out.value(
                &json!({
                    "number": document.number,
                    "bytes": report.bytes,
                    "chunks": report.chunks,
                    "millis": report.millis,
                    "sha256": anjian_core::photos::sha256_hex(&job),
                }),
                || {
                    format!(
                        "已打印 {} {}（{} 联，{} 字节）",
                        document.title, document.number, thermal.copies, report.bytes
                    )
                },
            );
        }
        Command::Doc(DocCommand::Issue { id, doc_type }) => {
            let issued = store.issue_document(&id, parse_doc_type(&doc_type)?, now)?;
            out.value(&serde_json::to_value(&issued).unwrap_or_default(), || {
                format!("{}  {}", issued.doc_type.title(), issued.number)
            });
        }
        Command::Record(command) => match command {
            RecordCommand::Export { id, out: path } => {
                let bytes = store.export_record(&id)?;
                std::fs::write(&path, &bytes).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
                out.value(
                    &json!({ "id": id, "file": path, "bytes": bytes.len() }),
                    || {
                        format!(
                            "已导出记录 {id} 到 {}（{} 字节）",
                            path.display(),
                            bytes.len()
                        )
                    },
                );
            }
            RecordCommand::Import { file } => {
                let outcome =
                    store.import_record(&file.display().to_string(), &read_file(&file)?)?;
                out.value(
                    &serde_json::to_value(&outcome).unwrap_or_default(),
                    || match (outcome.created, outcome.changed) {
                        (true, _) => format!("已导入新记录 {}", outcome.id),
                        (false, true) => format!("已合并记录 {} 的新改动", outcome.id),
                        (false, false) => format!("记录 {} 已是最新，没有新改动", outcome.id),
                    },
                );
            }
        },
    }
    Ok(())
}

/// Runs one network call to completion on a small runtime of its own.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(future)
}

/// What the device knows of a record's standing with the server.
fn sync_info(store: &Store, id: &str) -> Result<SyncInfo> {
    let state = store.sync_state(id)?;
    Ok(SyncInfo {
        locked: state.as_ref().is_some_and(|s| s.locked),
        receipt: state.as_ref().and_then(|s| s.receipt.clone()),
        last_code: state.as_ref().and_then(|s| s.last_code.clone()),
        last_message: state.as_ref().and_then(|s| s.last_message.clone()),
        amendments: store.amendments_of(id)?,
    })
}

fn inspect(
    store: &mut Store,
    command: InspectCommand,
    now: chrono::DateTime<Utc>,
    out: &Output,
) -> Result<()> {
    match command {
        InspectCommand::Start {
            enterprise,
            template,
            with,
            place,
            gps,
            post,
        } => {
            let gps = gps.as_deref().map(parse_gps).transpose()?;
            let post = post
                .as_deref()
                .map(anjian_core::inspection::check_on_site_post)
                .transpose()?;
            let co_inspectors = with
                .iter()
                .map(|w| CoInspector::parse(w))
                .collect::<Result<Vec<_>>>()?;
            let record = store.start_inspection(
                &StartInspection {
                    enterprise,
                    template,
                    co_inspectors,
                    place,
                    gps,
                },
                now,
            )?;
            let record = match post {
                Some(post) => store.set_on_site_post(&record.id, post)?,
                None => record,
            };
            out.value(
                &json!({
                    "id": record.id,
                    "template": record.template_id,
                    "template_version": record.template_version,
                    "enterprise": record.enterprise.credit_code,
                }),
                || record.id.clone(),
            );
        }
        InspectCommand::Post { id, post } => {
            let record = store.set_on_site_post(&id, &post)?;
            out.value(
                &json!({ "id": record.id, "on_site_post": record.on_site_post }),
                || match &record.on_site_post {
                    Some(post) => format!("现场负责人职务：{post}"),
                    None => "已清除现场负责人职务".into(),
                },
            );
        }
        InspectCommand::Reinspect {
            original_id,
            with,
            place,
        } => {
            let co_inspectors = with
                .iter()
                .map(|w| CoInspector::parse(w))
                .collect::<Result<Vec<_>>>()?;
            let record =
                store.start_reinspection(&original_id, &co_inspectors, place.as_deref(), now)?;
            let reinspects = record.reinspects.as_ref();
            // Without an order (self, resident, expert inspections) the number is null.
            out.value(
                &json!({
                    "id": record.id,
                    "reinspects": original_id,
                    "order_number": reinspects.and_then(|r| r.order_number.clone()),
                    "items": reinspects.map_or(0, |r| r.hazards.len()),
                }),
                || record.id.clone(),
            );
        }
        InspectCommand::Join { id } => {
            let record = store.join_inspection(&id)?;
            let template = store.template(&record.template_id, Some(record.template_version))?;
            out.record(&record, &template, &sync_info(store, &id)?);
        }
        InspectCommand::Answer(args) => {
            let details = AnswerDetails {
                note: args.note,
                photos: args.photo,
                deadline: parse_date("整改期限", args.deadline.as_deref())?,
                measure: args.measure,
            };
            let answer = store.answer_item(&args.id, &args.item, &args.value, &details, now)?;
            out.answer(&args.id, &args.item, &answer);
        }
        InspectCommand::Resolve { id, item, keep } => {
            let answer = store.resolve_conflict(&id, &item, keep, now)?;
            out.answer(&id, &item, &answer);
        }
        InspectCommand::Show { id } => {
            let record = store.record(&id)?;
            let template = store.template(&record.template_id, Some(record.template_version))?;
            out.record(&record, &template, &sync_info(store, &id)?);
        }
        InspectCommand::List => out.records(&store.list_records()?),
        InspectCommand::Submit { id } => {
            let record = store.submit_inspection(&id, now)?;
            let template = store.template(&record.template_id, Some(record.template_version))?;
            out.record(&record, &template, &sync_info(store, &id)?);
        }
    }
    Ok(())
}

fn parse_gps(text: &str) -> Result<Gps> {
    let invalid = || Error::InvalidInput(format!("GPS {text:?} 应写作 纬度,经度，如 36.81,118.05"));
    let (lat, lon) = text.split_once(',').ok_or_else(invalid)?;
    Ok(Gps {
        lat: lat.trim().parse().map_err(|_| invalid())?,
        lon: lon.trim().parse().map_err(|_| invalid())?,
    })
}
