//! The supervisors' analyses and record list at city scale: each analysis's JSON API and the
//! record list page, timed over HTTP against the real server on a store filled by
//! `anjian-server seed --scale city` (2,600 enterprises, three years), as a city, a district
//! and a town supervisor see them, over the last year and over all three.
//!
//! ```text
//! ANJIAN_BENCH_DATA=/var/tmp/city cargo bench -p anjian-e2e --bench analyses      # SQLite
//! ANJIAN_BENCH_DATA=/var/tmp/city-pg ANJIAN_BENCH_DATABASE=postgresql://… \
//!     cargo bench -p anjian-e2e --bench analyses                                  # PostgreSQL
//! ```
//!
//! `ANJIAN_BENCH_ONLY=grading` times only the requests whose path contains that text (and
//! `ANJIAN_BENCH_RUNS` sets how many timed runs each gets, 7 by default).
//!
//! The first run on an empty store seeds it (as `seed --scale city` does) and says how long
//! that took; later runs reuse it. Each request runs once to warm up, then `RUNS` times; the
//! table gives the median and the slowest. Results are in `docs/benchmarks.md`.
#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anjian_e2e::{Server, block_on};
use anjian_server::state::AppState;
use anjian_server::store::Store;
use chrono::{Datelike, Duration, Utc};

/// Timed runs per request unless `ANJIAN_BENCH_RUNS` says otherwise.
const RUNS: usize = 7;

fn main() {
    let Some(data) = std::env::var_os("ANJIAN_BENCH_DATA").map(PathBuf::from) else {
        eprintln!("set ANJIAN_BENCH_DATA to a folder for the seeded city (see the doc comment)");
        std::process::exit(2);
    };
    std::fs::create_dir_all(&data).unwrap();
    let database = std::env::var("ANJIAN_BENCH_DATABASE").ok();
    let store: Arc<Store> = match &database {
        Some(url) => Arc::new(Store::connect_postgres(url).unwrap()),
        None => Arc::new(Store::open_sqlite(&data.join(anjian_server::cli::SQLITE_FILE)).unwrap()),
    };
    let password_file = data.join(anjian_server::cli::SEED_PASSWORD_FILE);
    if store.regions().unwrap().is_empty() {
        let (keys, _) = anjian_server::keys::open(
            store.as_ref(),
            &data.join(anjian_server::keys::KEY_FILE),
            anjian_server::keys::FirstStart::Generate,
        )
        .unwrap();
        let state = AppState::new(store.clone(), keys);
        let password = "city-bench-password";
        std::fs::write(&password_file, format!("{password}\n")).unwrap();
        let summary = anjian_server::seed::seed(
            &state,
            anjian_server::seed::Scale::City,
            password,
            Utc::now(),
            &mut |line| eprintln!("{line}"),
        )
        .unwrap();
        eprintln!("seeded: {summary}");
    }
    let password = std::fs::read_to_string(&password_file)
        .unwrap()
        .trim()
        .to_string();
    let key_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data.join(anjian_server::keys::KEY_FILE),
        key_dir.path().join(anjian_server::keys::KEY_FILE),
    )
    .unwrap();
    let server = Server::start_with(store.clone(), key_dir);

    let records: i64 = store.current_seq().unwrap();
    println!("backend {}, store sequence {records}", store.backend());
    let today = anjian_core::time::china_date(Utc::now());
    let year_ago = today - Duration::days(365);
    let three_years = today - Duration::days(3 * 365);
    let month = |d: chrono::NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let town = "370303001";
    let callers = [
        ("city", "city".to_string()),
        ("district", "qu370303".to_string()),
        ("town", format!("zhen{town}")),
    ];
    // Redirects are not followed: the review login answers with its cookie and a redirect.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let only = std::env::var("ANJIAN_BENCH_ONLY").unwrap_or_default();
    let runs = std::env::var("ANJIAN_BENCH_RUNS")
        .map(|r| r.parse::<usize>().unwrap().max(1))
        .unwrap_or(RUNS);
    println!("| request | caller | range | median ms | slowest ms | bytes |");
    println!("|---|---|---|---|---|---|");
    for (label, login) in &callers {
        let token = login_token(&client, &server.url, login, &password);
        for (range, from) in [("1 year", year_ago), ("3 years", three_years)] {
            let dates = format!("from={from}&until={today}");
            let months = format!("from={}&until={}", month(from), month(today));
            let requests = [
                format!("/api/v1/analyses/hazards?by=month&{dates}"),
                format!("/api/v1/analyses/hazards?by=town&{dates}&kind=self&kind=enforcement"),
                format!("/api/v1/analyses/hazards?by=industry&{dates}"),
                format!("/api/v1/analyses/self-inspections?{months}"),
                format!("/api/v1/analyses/coverage?{dates}"),
                format!("/api/v1/analyses/grading?{dates}"),
                format!("/api/v1/analyses/attendance?{dates}"),
                format!("/api/v1/analyses/public?by=category&{dates}"),
                "/api/v1/analyses/certificates".to_string(),
                "/api/v1/analyses/permits".to_string(),
                "/api/v1/hazards".to_string(),
                "/api/v1/hazards?state=overdue&by=town&limit=100".to_string(),
                "/api/v1/hazards?state=rectified".to_string(),
            ];
            for path in requests.iter().filter(|p| p.contains(&only)) {
                let (median, slowest, bytes) =
                    time(&client, &server.url, path, &token, false, runs);
                println!("| `{path}` | {label} | {range} | {median:.1} | {slowest:.1} | {bytes} |");
            }
        }
        let cookie = review_cookie(&client, &server.url, login, &password);
        for path in [
            "/review/records".to_string(),
            "/review/records?page=40".to_string(),
            format!("/review/records?kind=enforcement&with_hazards=on&from={year_ago}"),
            "/review/records?enterprise=化工".to_string(),
            "/review/hazards".to_string(),
        ]
        .into_iter()
        .filter(|p| p.contains(&only))
        {
            let (median, slowest, bytes) = time(&client, &server.url, &path, &cookie, true, runs);
            println!("| `{path}` (page) | {label} | – | {median:.1} | {slowest:.1} | {bytes} |");
        }
    }
}

fn login_token(client: &reqwest::Client, base: &str, login: &str, password: &str) -> String {
    block_on(async {
        let body: serde_json::Value = client
            .post(format!("{base}/api/v1/login"))
            .json(&serde_json::json!({
                "login": login,
                "password": password,
                "device_id": "00000000-0000-4000-8000-00000000bench",
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login {login}: {body}"))
            .to_string()
    })
}

fn review_cookie(client: &reqwest::Client, base: &str, login: &str, password: &str) -> String {
    block_on(async {
        // The login form posts its page's token, which the page's cookie repeats.
        let page = client
            .get(format!("{base}/review/login"))
            .send()
            .await
            .unwrap();
        let form_cookie = page.headers()["set-cookie"].to_str().unwrap();
        let form_cookie = form_cookie.split(';').next().unwrap().to_string();
        let html = page.text().await.unwrap();
        let token = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let response = client
            .post(format!("{base}/review/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", form_cookie)
            .body(format!(
                "login={login}&password={password}&next=%2Freview%2Frecords&csrf={token}"
            ))
            .send()
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap_or_else(|| panic!("review login {login}: {}", response.status()))
            .to_str()
            .unwrap();
        cookie.split(';').next().unwrap().to_string()
    })
}

/// Median and slowest milliseconds of a GET, and the body's size; panics unless 200.
fn time(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    credential: &str,
    cookie: bool,
    runs: usize,
) -> (f64, f64, usize) {
    let get = || {
        let request = client.get(format!("{base}{path}"));
        let request = if cookie {
            request.header("cookie", credential)
        } else {
            request.bearer_auth(credential)
        };
        block_on(async {
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            (started.elapsed().as_secs_f64() * 1000.0, body.len())
        })
    };
    let (_, bytes) = get();
    let mut times: Vec<f64> = (0..runs).map(|_| get().0).collect();
    times.sort_by(f64::total_cmp);
    (times[runs / 2], times[runs - 1], bytes)
}
