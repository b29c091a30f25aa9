//! What operators see: Prometheus metrics at `/metrics` (for this machine or a token holder
//! only) and one log line per request in the request's span, as JSON lines from the real
//! binary.

use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anjian_e2e::{Device, FACTORY, LI, Server, block_on, free_port};
use chrono::Utc;
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_anjian-server-e2e");
const METRICS_TOKEN: &str = "collector-token-0123456789";

/// GET `path` from a loopback address, with extra headers: status, headers, body.
fn get(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::builder()
        .local_address("127.0.0.1".parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    block_on(async {
        let mut request = client.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    })
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

#[test]
fn metrics_count_uploads_requests_and_refusals_for_this_machine_only() {
    let server = Server::start_with_state(|state| {
        state.with_access(anjian_server::access::Access {
            trust_forwarded: true,
            metrics_token: Some(METRICS_TOKEN.into()),
            ..Default::default()
        })
    });
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    zhang.sync().unwrap();
    // A refusal, and a path no route matches (which must not become a label of its own).
    let (status, _, _) = get(&format!("{}/api/v1/records", server.url), &[]);
    assert_eq!(status, 401);
    let (status, _, _) = get(&format!("{}/no-such-page-4711", server.url), &[]);
    assert_eq!(status, 404);

    let metrics_url = format!("{}/metrics", server.url);
    let (status, headers, metrics) = get(&metrics_url, &[]);
    assert_eq!(status, 200, "{metrics}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{headers:?}"
    );
    assert_eq!(
        sample(&metrics, "anjian_sync_records_total{outcome=\"locked\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "anjian_http_requests_total{method=\"POST\",route=\"/api/v1/sync\",status=\"200\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "anjian_http_errors_total{route=\"/api/v1/records\",code=\"unauthorized\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            "anjian_http_request_duration_seconds_count{route=\"/api/v1/sync\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{metrics}"
    );
    assert!(!metrics.contains("no-such-page-4711"), "{metrics}");

    // Through the trusted proxy from elsewhere: only with the collector's token.
    let remote = [("x-forwarded-for", "203.0.113.9")];
    let (status, _, body) = get(&metrics_url, &remote);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("监控令牌"), "{body}");
    let wrong = format!("Bearer {METRICS_TOKEN}x");
    let (status, _, _) = get(
        &metrics_url,
        &[remote[0], ("authorization", wrong.as_str())],
    );
    assert_eq!(status, 403);
    let right = format!("Bearer {METRICS_TOKEN}");
    let (status, _, body) = get(
        &metrics_url,
        &[remote[0], ("authorization", right.as_str())],
    );
    assert_eq!(status, 200);
    assert!(body.contains("anjian_sync_records_total"), "{body}");
}

#[test]
fn every_request_is_logged_as_json_in_its_span_with_its_id() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("server.log");
    let port = free_port();
    let mut child = Command::new(SERVER)
        .args(["--data", data.path().to_str().unwrap(), "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("http://127.0.0.1:{port}");
    let password = std::fs::read_to_string(data.path().join("initial-admin-password.txt"))
        .unwrap()
        .trim()
        .to_string();
    let api = anjian_e2e::Api::new(&url);
    let (status, body) = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": "admin", "password": password, "device_id": "ops-test" }),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {token}");
    let (status, headers, _) = get(
        &format!("{url}/api/v1/me"),
        &[("authorization", &bearer), ("x-request-id", "ops-me-1")],
    );
    assert_eq!(status, 200);
    assert_eq!(headers["x-request-id"], "ops-me-1");
    // An id that is not plain is replaced by one of the server's own.
    let (_, headers, _) = get(
        &format!("{url}/api/v1/health"),
        &[("x-request-id", "bad id\twith spaces")],
    );
    let own = headers["x-request-id"].to_str().unwrap();
    assert!(
        own.len() == 16 && own.bytes().all(|b| b.is_ascii_hexdigit()),
        "{own}"
    );
    let (status, _, _) = get(
        &format!("{url}/api/v1/records?limit=0"),
        &[("authorization", &bearer), ("x-request-id", "ops-bad-1")],
    );
    assert_eq!(status, 400);
    child.kill().unwrap();
    child.wait().unwrap();

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let request_line = |id: &str| {
        lines
            .iter()
            .find(|line| line["span"]["request_id"] == id && line["status"].is_number())
            .unwrap_or_else(|| panic!("no log line of request {id} in:\n{log}"))
            .clone()
    };
    let me = request_line("ops-me-1");
    assert_eq!(me["span"]["route"], "/api/v1/me", "{me}");
    assert_eq!(me["span"]["method"], "GET", "{me}");
    assert_eq!(me["span"]["account"], "admin", "{me}");
    assert_eq!(me["status"], 200, "{me}");
    assert!(
        me["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{me}"
    );
    assert_eq!(me["level"], "INFO", "{me}");
    let bad = request_line("ops-bad-1");
    assert_eq!(bad["status"], 400, "{bad}");
    assert_eq!(bad["span"]["route"], "/api/v1/records", "{bad}");
}
