//! Load: durable record uploads per second from 50 concurrent devices of 50 inspectors working
//! in 25 pairs, each device uploading new submitted records of its pair (every required item
//! of the trade checklist answered) one sync request at a time. Every upload is validated,
//! stored with its projection rows, locked, appended to the audit chain and answered with a
//! signed receipt, and each answer carries the partner's new records since the device's
//! cursor, as a real sync does. Beside it, in the same run, the baseline: a bare axum route that decodes the same
//! request and inserts the document into SQLite (WAL, synchronous=FULL) — the least any
//! durable upload costs on this machine.
//!
//! ```text
//! cargo bench -p anjian-e2e --bench load                            # SQLite and the baseline
//! scripts/with-postgres.sh cargo bench -p anjian-e2e --bench load   # and PostgreSQL
//! ```
//!
//! Results are in `docs/benchmarks.md`.
#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::record::{
    Answer, AnswerStatus, Inspector, NewRecord, Person, RecordDoc, RecordKind,
};
use anjian_core::sync::protocol::{RecordUpload, SyncRequest, SyncResponse, UploadResult};
use anjian_core::template::InspectionKind;
use anjian_e2e::{Api, DEMO_CSV, FACTORY, Server, cpu_seconds};
use axum::Json;
use axum::extract::State;
use chrono::{NaiveDate, Utc};

const DEVICES: usize = 50;
const UPLOADS_PER_DEVICE: usize = 40;

struct Device {
    id: String,
    token: String,
    bodies: Vec<String>,
}

/// A passing answer per item: code, status, value.
type Passing = (
    String,
    AnswerStatus,
    Option<anjian_core::record::AnswerValue>,
);

/// The certificate of bench inspector `n`; inspectors 2k and 2k+1 work together.
fn cert(n: usize) -> String {
    format!("3703B{n:03}")
}

/// A submitted enforcement record of the factory by inspector `n` and partner, with the given
/// passing answers.
fn record_doc(device_id: &str, n: usize, answers: &[Passing]) -> Vec<u8> {
    let enterprise = parse_enterprise_csv("demo.csv", DEMO_CSV.as_bytes())
        .unwrap()
        .into_iter()
        .find(|e| e.credit_code.as_str() == FACTORY)
        .unwrap();
    let inspectors = [n, n ^ 1]
        .map(|k| Inspector {
            name: format!("检查员{k}"),
            cert: cert(k),
            cert_valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
        })
        .to_vec();
    let now = anjian_core::time::to_millis(Utc::now());
    let mut doc = RecordDoc::create(&NewRecord {
        kind: RecordKind::Inspection,
        inspection_kind: InspectionKind::Enforcement,
        agency: Some("淄博市应急管理局".into()),
        template_id: "trade-enforcement".into(),
        template_version: 1,
        enterprise,
        inspectors,
        place: "一号车间".into(),
        gps: None,
        started_at: now,
        device_id: device_id.into(),
        reinspects: None,
        amends: None,
    })
    .unwrap();
    let by = Person {
        name: format!("检查员{n}"),
        cert: cert(n),
    };
    for (item, status, value) in answers {
        doc.put_answer(
            item,
            &Answer {
                status: *status,
                value: value.clone(),
                note: None,
                photos: vec![],
                by: by.clone(),
                device: device_id.into(),
                at: now,
                hazard: None,
                resolved_by: None,
            },
        )
        .unwrap();
    }
    doc.mark_submitted(now, &by).unwrap();
    doc.save()
}

/// Passing answers for every required item of the trade checklist, read as the device reads
/// an inspector's input.
fn required_answers(server: &Server) -> Vec<Passing> {
    let source = server
        .store
        .template("trade-enforcement", 1)
        .unwrap()
        .unwrap();
    let template = anjian_core::Template::parse("trade", &source).unwrap();
    template
        .items
        .iter()
        .filter(|i| i.required)
        .map(|item| {
            let input = anjian_e2e::passing_input(&item.answer);
            let (status, value) = anjian_core::inspection::interpret_answer(item, &input).unwrap();
            (item.code.clone(), status, value)
        })
        .collect()
}

fn prepare(server: &Server) -> Vec<Device> {
    let api = Api::new(&server.url);
    let answers = required_answers(server);
    for n in 0..DEVICES {
        anjian_server::admin::add_user(
            server.store.as_ref(),
            &anjian_server::admin::NewAccount {
                login: format!("bench{n}"),
                name: format!("检查员{n}"),
                role: "inspector".into(),
                scope: "370303007".into(),
                cert: Some(cert(n)),
                cert_valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
                password: anjian_e2e::PASSWORD.into(),
            },
        )
        .unwrap();
    }
    (0..DEVICES)
        .map(|n| {
            let id = format!("0190b000-0000-7000-8000-{n:012}");
            let token = api.login(&format!("bench{n}"), &id);
            let bodies = (0..UPLOADS_PER_DEVICE)
                .map(|_| {
                    let doc = record_doc(&id, n, &answers);
                    let mut probe = RecordDoc::load_foreign(&doc, &id).unwrap();
                    let record = probe.read().unwrap();
                    serde_json::to_string(&SyncRequest {
                        device_id: id.clone(),
                        cursor: 0,
                        records: vec![RecordUpload {
                            id: record.id,
                            known_heads: vec![],
                            heads: record.heads,
                            changes: doc,
                        }],
                        voided_numbers: vec![],
                        number_requests: vec![],
                        known_audit_head: None,
                    })
                    .unwrap()
                })
                .collect();
            Device { id, token, bodies }
        })
        .collect()
}

#[derive(Debug)]
struct Outcome {
    uploads: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    /// CPU time of the whole process (server and load generator) during the run.
    cpu_seconds: f64,
}

impl Outcome {
    fn per_second(&self) -> f64 {
        self.uploads as f64 / self.seconds
    }
}

/// Every device sends its bodies one after the other, all devices at once.
fn drive(url: &str, path: &str, devices: &[Device], check: bool) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(DEVICES)
            .build()
            .unwrap();
        let mut tasks = Vec::new();
        for device in devices {
            let client = client.clone();
            let url = format!("{url}{path}");
            let token = device.token.clone();
            let bodies = device.bodies.clone();
            let latencies = latencies.clone();
            let device_id = device.id.clone();
            tasks.push(tokio::spawn(async move {
                let mut cursor = 0i64;
                for body in bodies {
                    let body = body.replacen("\"cursor\":0", &format!("\"cursor\":{cursor}"), 1);
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200, "{device_id}");
                    let bytes = response.bytes().await.unwrap();
                    latencies.lock().unwrap().push(sent.elapsed());
                    if check {
                        let answer: SyncResponse = serde_json::from_slice(&bytes).unwrap();
                        assert_eq!(answer.records[0].result, UploadResult::Locked, "{answer:?}");
                        cursor = answer.cursor;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = cpu_seconds() - cpu_before;
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Outcome {
        uploads: latencies.len(),
        seconds,
        p50: at(0.50),
        p99: at(0.99),
        cpu_seconds,
    }
}

fn report(name: &str, outcome: &Outcome, baseline: Option<&Outcome>) {
    let ratio = baseline.map_or(String::new(), |b| {
        format!(", {:.2} × baseline", outcome.per_second() / b.per_second())
    });
    println!(
        "{name:<28} {:>6} uploads in {:>6.2} s = {:>7.0}/s   p50 {:>6.1} ms   p99 {:>6.1} ms   CPU {:.2} ms/upload ({:.0} % of 2 cores){ratio}",
        outcome.uploads,
        outcome.seconds,
        outcome.per_second(),
        outcome.p50.as_secs_f64() * 1e3,
        outcome.p99.as_secs_f64() * 1e3,
        outcome.cpu_seconds * 1e3 / outcome.uploads as f64,
        outcome.cpu_seconds / outcome.seconds / 2.0 * 100.0,
    );
}

/// The bare baseline: decode the request, insert the bytes, answer.
struct Baseline {
    conn: Mutex<rusqlite::Connection>,
}

async fn baseline_upload(
    State(baseline): State<Arc<Baseline>>,
    Json(request): Json<SyncRequest>,
) -> Json<serde_json::Value> {
    let upload = request.records.into_iter().next().unwrap();
    tokio::task::spawn_blocking(move || {
        let conn = baseline.conn.lock().unwrap();
        conn.execute(
            "INSERT INTO uploads (id, doc) VALUES (?1, ?2)",
            rusqlite::params![upload.id, upload.changes],
        )
        .unwrap();
    })
    .await
    .unwrap();
    Json(serde_json::json!({ "ok": true }))
}

fn baseline(devices: &[Device]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("baseline.sqlite3")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE uploads (id TEXT PRIMARY KEY, doc BLOB NOT NULL)")
        .unwrap();
    let state = Arc::new(Baseline {
        conn: Mutex::new(conn),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let app = axum::Router::new()
                    .route("/baseline", axum::routing::post(baseline_upload))
                    .layer(axum::extract::DefaultBodyLimit::max(16 << 20))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
    });
    let outcome = drive(&url, "/baseline", devices, false);
    let _ = stop.send(());
    thread.join().unwrap();
    outcome
}

fn run_server(name: &str, server: &Server, devices: &[Device], baseline: &Outcome) {
    let outcome = drive(&server.url, "/api/v1/sync", devices, true);
    assert_eq!(server.store.audit_log().unwrap().len(), outcome.uploads);
    report(name, &outcome, Some(baseline));
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "{DEVICES} devices × {UPLOADS_PER_DEVICE} uploads, each a new submitted record locked with a receipt"
    );
    let sqlite = Server::start();
    let devices = prepare(&sqlite);
    let body_bytes = devices[0].bodies[0].len();
    println!("request body: {body_bytes} bytes");
    let base = baseline(&devices);
    report("baseline axum + SQLite", &base, None);
    run_server("anjian-server, SQLite", &sqlite, &devices, &base);

    if std::env::var("ANJIAN_TEST_POSTGRES").is_ok() {
        let database = anjian_e2e::PostgresDatabase::create("bench");
        let server = Server::start_postgres(&database);
        let devices = prepare(&server);
        run_server("anjian-server, PostgreSQL", &server, &devices, &base);
    } else {
        println!(
            "PostgreSQL skipped: run under scripts/with-postgres.sh to include it (ANJIAN_TEST_POSTGRES)"
        );
    }
}
