//! The outside security test's findings on keys, the audit log, document numbers, logins and
//! tokens (issue 19: 1, 2, 3, 4, 6, 11), each replayed against the real server: the real
//! binary started on a tampered data folder, crafted uploads through the real sync route, the
//! database edited between runs, the server's memory measured as a ratio.

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anjian_core::agency::DocType;
use anjian_core::sync::protocol::{RecordUpload, SyncRequest, UploadResult};
use anjian_e2e::{
    Api, Device, FACTORY, LI, PASSWORD, Server, ServerProcess, block_on, free_port, seed,
};
use anjian_server::store::Store;
use chrono::Utc;
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_anjian-server-e2e");
/// 张伟 as 李娜's co-inspector.
const ZHANG: &str = "张伟:37030001:2030-12-31";

fn server_command(data: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(SERVER)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn verify_log(data: &Path) -> (bool, String) {
    server_command(data, &["verify-log"])
}

/// `serve` on `data`, expected to refuse to start: its exit and what it said. A server that
/// starts anyway is killed and reported.
fn refused_start(data: &Path) -> String {
    let mut child = Command::new(SERVER)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(!status.success(), "the server exited successfully: {text}");
            return text;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the server started instead of refusing: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lock_records(server_url: &str, device: Option<&mut Device>, count: usize) -> Vec<String> {
    let mut own;
    let zhang = match device {
        Some(device) => device,
        None => {
            own = Device::logged_in(server_url, "zhang");
            &mut own
        }
    };
    (0..count)
        .map(|_| {
            let id = zhang.start_trade(FACTORY, LI);
            zhang.answer_required(&id, 0, 1);
            zhang.store.submit_inspection(&id, Utc::now()).unwrap();
            let report = zhang.sync().unwrap();
            assert_eq!(report.records[0].result, UploadResult::Locked, "{report:?}");
            id
        })
        .collect()
}

fn tamper(data: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data.join(anjian_server::cli::SQLITE_FILE)).unwrap();
    assert!(conn.execute_batch(sql).is_ok(), "{sql}");
}

/// A seeded data folder for the real binary.
fn seeded_data() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    seed(&Store::open_sqlite(&data.path().join(anjian_server::cli::SQLITE_FILE)).unwrap());
    data
}

// ---- 2: signing keys ----------------------------------------------------------------------

#[test]
fn a_missing_or_foreign_signing_key_is_refused_at_start_and_never_replaced() {
    let data = seeded_data();
    let key_file = data.path().join(anjian_server::keys::KEY_FILE);
    let mut server = ServerProcess::start(Path::new(SERVER), data.path(), free_port());
    lock_records(&server.url, None, 1);
    server.kill();
    let original = std::fs::read_to_string(&key_file).unwrap();

    std::fs::remove_file(&key_file).unwrap();
    let said = refused_start(data.path());
    assert!(
        said.contains("签名密钥文件") && said.contains("不存在"),
        "{said}"
    );
    assert!(!key_file.exists(), "a new key was generated");

    std::fs::write(&key_file, "22".repeat(32)).unwrap();
    let said = refused_start(data.path());
    assert!(said.contains("不是本服务器的密钥"), "{said}");

    // verify-log never creates a key either, and passes with the real one back.
    std::fs::write(&key_file, &original).unwrap();
    let (ok, said) = verify_log(data.path());
    assert!(ok, "{said}");
    server.restart(Path::new(SERVER));
}

#[test]
fn receipts_of_a_rotated_key_still_verify_on_devices_and_in_verify_log() {
    let data = seeded_data();
    let mut server = ServerProcess::start(Path::new(SERVER), data.path(), free_port());
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let before = lock_records(&server.url, Some(&mut zhang), 1);
    server.kill();

    let (ok, said) = server_command(data.path(), &["key", "rotate"]);
    assert!(ok, "{said}");
    server.restart(Path::new(SERVER));
    let after = lock_records(&server.url, Some(&mut zhang), 1);

    let key_of = |id: &str| {
        zhang
            .store
            .sync_state(id)
            .unwrap()
            .unwrap()
            .receipt
            .unwrap()
            .key_id
            .unwrap()
    };
    assert_ne!(key_of(&before[0]), key_of(&after[0]));
    for id in before.iter().chain(&after) {
        let check = zhang.store.check_receipt(id).unwrap().unwrap();
        assert_eq!(check.problem, None, "{id}");
    }
    server.kill();
    let (ok, said) = verify_log(data.path());
    assert!(ok && said.contains("共 2 条"), "{said}");
    let (ok, said) = server_command(data.path(), &["key", "list"]);
    assert!(ok && said.contains("（当前）"), "{said}");
}

// ---- 4: audit truncation and list columns ----------------------------------------------------

#[test]
fn cutting_the_end_off_the_audit_log_is_detected_by_verify_log() {
    let server = Server::start();
    let ids = lock_records(&server.url, None, 4);
    let data = server.data.path();
    let (ok, said) = verify_log(data);
    assert!(ok, "{said}");

    // The last entry deleted: the chain that is left verifies on its own.
    tamper(data, "DELETE FROM audit_log WHERE idx = 4");
    let (ok, said) = verify_log(data);
    assert!(
        !ok && said.contains("截断") && said.contains("第 4 条"),
        "{said}"
    );

    // The last entry deleted and that record's document then edited: still caught.
    tamper(
        data,
        &format!(
            "UPDATE records SET doc = (SELECT doc FROM records WHERE id = '{}') WHERE id = '{}'",
            ids[0], ids[3]
        ),
    );
    let (ok, said) = verify_log(data);
    assert!(!ok && said.contains("截断"), "{said}");

    // The last two.
    tamper(data, "DELETE FROM audit_log WHERE idx = 3");
    let (ok, said) = verify_log(data);
    assert!(!ok && said.contains("只剩 2 条"), "{said}");

    // The checkpoint folder removed: verify-log says it cannot tell, and fails.
    std::fs::remove_dir_all(data.join(anjian_server::checkpoint::CHECKPOINT_DIR)).unwrap();
    let (ok, said) = verify_log(data);
    assert!(!ok && said.contains("检查点"), "{said}");
}

#[test]
fn the_list_columns_of_a_locked_record_are_held_against_its_document() {
    for (column, sql, problem) in [
        (
            "enterprise name",
            "UPDATE records SET enterprise_name = '别的公司' WHERE id = '{id}'",
            "单位名称",
        ),
        (
            "status",
            "UPDATE records SET status = 'draft' WHERE id = '{id}'",
            "状态",
        ),
        (
            "hazard count",
            "UPDATE records SET hazard_count = hazard_count + 3 WHERE id = '{id}'",
            "隐患数",
        ),
    ] {
        let server = Server::start();
        let ids = lock_records(&server.url, None, 2);
        tamper(server.data.path(), &sql.replace("{id}", &ids[0]));
        let (ok, said) = verify_log(server.data.path());
        assert!(
            !ok && said.contains("第 1 条") && said.contains(problem),
            "{column}: {said}"
        );
    }
}

#[test]
fn a_device_reports_a_server_whose_audit_log_was_cut_short_or_rewritten() {
    // Cut short: the device saw two entries, the server now has one.
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    lock_records(&server.url, Some(&mut zhang), 2);
    assert_eq!(zhang.store.audit_head().unwrap().unwrap().log_index, 2);
    tamper(server.data.path(), "DELETE FROM audit_log WHERE idx = 2");
    let error = zhang.sync().unwrap_err();
    assert_eq!(error.code(), "audit_chain_broken", "{error}");
    assert!(error.to_string().contains("截断"), "{error}");
    // A device that never saw the longer chain has nothing to compare with.
    Device::logged_in(&server.url, "li");

    // Rewritten: the entry the device saw has another hash now.
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    lock_records(&server.url, Some(&mut zhang), 2);
    tamper(
        server.data.path(),
        "UPDATE audit_log SET entry_hash = previous_hash WHERE idx = 2",
    );
    let error = zhang.sync().unwrap_err();
    assert_eq!(error.code(), "audit_chain_broken", "{error}");
    assert!(error.to_string().contains("改写"), "{error}");
    // The device keeps what it saw: the next sync reports it again.
    assert_eq!(zhang.sync().unwrap_err().code(), "audit_chain_broken");
}

// ---- 3: device numbers ----------------------------------------------------------------------

#[test]
fn a_crafted_upload_cannot_spend_a_colleagues_document_numbers() {
    let server = Server::start();
    let mut li = Device::logged_in(&server.url, "li");
    let zhang = Device::logged_in(&server.url, "zhang");

    // 李娜's inspection, with 张伟 as co-inspector, its document numbered from her block.
    let id = li.start_trade(FACTORY, ZHANG);
    li.answer_required(&id, 0, 1);
    let number = li
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap()
        .number;
    li.store.submit_inspection(&id, Utc::now()).unwrap();

    // 张伟 uploads her record before she does, from his own device and login.
    let (_, doc) =
        anjian_core::exchange::decode("crafted", &li.store.export_record(&id).unwrap()).unwrap();
    let mut probe = anjian_core::RecordDoc::load_foreign(&doc, "probe").unwrap();
    let record = probe.read().unwrap();
    let session = zhang.store.server_session().unwrap().unwrap();
    let api = Api::new(&server.url);
    let crafted = SyncRequest {
        device_id: zhang.store.device_id().to_string(),
        cursor: 0,
        records: vec![RecordUpload {
            id: id.clone(),
            known_heads: vec![],
            heads: record.heads,
            changes: doc,
        }],
        voided_numbers: vec![],
        number_requests: vec![],
        known_audit_head: None,
    };
    let (status, body) = api.post_json(
        "/api/v1/sync",
        Some(&session.access_token),
        &serde_json::to_value(&crafted).unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"][0]["result"], "rejected", "{body}");
    assert_eq!(body["records"][0]["code"], "number_not_leased", "{body}");
    assert!(server.store.record(&id).unwrap().is_none());
    let registered_to = || {
        server
            .store
            .number_register()
            .unwrap()
            .into_iter()
            .find(|entry| entry.number == number)
            .map(|entry| entry.record_id)
    };
    assert_eq!(registered_to(), None);

    // Her own upload takes the number.
    let report = li.sync().unwrap();
    assert_eq!(report.records[0].result, UploadResult::Locked, "{report:?}");
    assert_eq!(registered_to(), Some(Some(id.clone())));

    // Logging in as 李娜's device id gives 张伟 none of her blocks.
    let token = api.login("zhang", li.store.device_id());
    let (status, body) = api.post_json(
        "/api/v1/sync",
        Some(&token),
        &json!({ "device_id": li.store.device_id(), "cursor": 0 }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["updates"]["number_blocks"], json!([]), "{body}");
}

// ---- 1: the login limiter's memory ----------------------------------------------------------

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn login_names_of_any_length_do_not_grow_the_server() {
    let data = seeded_data();
    let server = ServerProcess::start(Path::new(SERVER), data.path(), free_port());
    let api = Api::new(&server.url);
    let pid = server.pid().unwrap();
    let login = |name: String| {
        api.post_json(
            "/api/v1/login",
            None,
            &json!({ "login": name, "password": "wrong", "device_id": "probe-device" }),
        )
    };
    // Warm up the allocator with a few requests of the same size.
    for n in 0..10 {
        login(format!("{n}{}", "x".repeat(1 << 20)));
    }
    let before = resident_kib(pid);
    for n in 0..300 {
        let (status, body) = login(format!("{n:04}{}", "名".repeat(350_000)));
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "invalid_input", "{body}");
    }
    let after = resident_kib(pid);
    // 300 unique 1 MB names grew a server from 504 MB to 2,966 MB before the fix.
    let ratio = after as f64 / before as f64;
    println!(
        "resident memory {before} KiB → {after} KiB (×{ratio:.2}) after 300 one-megabyte logins"
    );
    assert!(ratio < 2.0, "{before} KiB → {after} KiB");
}

// ---- 6: lockout and spraying ----------------------------------------------------------------

/// A client whose requests come from `address` (any 127.x.y.z is this host on Linux).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn api_login(server: &Server, from: &str, login: &str, password: &str) -> u16 {
    let client = client_from(from);
    block_on(async {
        client
            .post(format!("{}/api/v1/login", server.url))
            .json(&json!({ "login": login, "password": password, "device_id": "dev-6" }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

fn form_login(server: &Server, from: &str, login: &str, password: &str) -> (u16, String) {
    form_login_via(server, from, None, login, password)
}

/// The review login form, through a proxy that says the client used `forwarded_proto`.
fn form_login_via(
    server: &Server,
    from: &str,
    forwarded_proto: Option<&str>,
    login: &str,
    password: &str,
) -> (u16, String) {
    let client = client_from(from);
    block_on(async {
        // As a browser does: open the form for its token (and the cookie it repeats), then post.
        let page = client
            .get(format!("{}/review/login", server.url))
            .send()
            .await
            .unwrap();
        let login_cookie = page
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().unwrap().split(';').next().map(str::to_string))
            .unwrap();
        let body = page.text().await.unwrap();
        let marker = "name=\"csrf\" value=\"";
        let token = body[body.find(marker).unwrap() + marker.len()..]
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let mut request = client
            .post(format!("{}/review/login", server.url))
            .header("cookie", login_cookie)
            .form(&[("login", login), ("password", password), ("csrf", &token)]);
        if let Some(proto) = forwarded_proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let response = request.send().await.unwrap();
        let cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (response.status().as_u16(), cookie)
    })
}

#[test]
fn others_cannot_lock_an_account_out_and_one_address_cannot_spray() {
    let server = Server::start();
    // The API: five wrong passwords from one address lock that address out of the account …
    for _ in 0..5 {
        assert_eq!(
            api_login(&server, "127.0.0.2", "zhang", "wrong-password"),
            401
        );
    }
    assert_eq!(api_login(&server, "127.0.0.2", "zhang", PASSWORD), 429);
    // … and the owner, elsewhere, still gets in.
    assert_eq!(api_login(&server, "127.0.0.3", "zhang", PASSWORD), 200);

    // The review form: the same.
    for _ in 0..5 {
        assert_eq!(
            form_login(&server, "127.0.0.4", "town", "wrong-password").0,
            401
        );
    }
    assert_eq!(form_login(&server, "127.0.0.4", "town", PASSWORD).0, 429);
    assert_eq!(form_login(&server, "127.0.0.5", "town", PASSWORD).0, 303);

    // Spraying: 40 wrong attempts over 10 accounts from one address are cut off at 20.
    let accounts = [
        "city", "district", "li", "expert", "resident", "officer", "admin",
    ];
    let mut refused = 0;
    for n in 0..40 {
        let login = accounts[n % accounts.len()];
        if api_login(&server, "127.0.0.6", login, "wrong-password") == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 20);
}

// ---- 11: review sessions, cookies, refresh tokens --------------------------------------------

#[test]
fn the_review_session_is_not_an_api_token_and_its_cookie_is_secure_behind_https() {
    let server = Server::start();
    let (status, cookie) = form_login(&server, "127.0.0.1", "town", PASSWORD);
    assert_eq!(status, 303);
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_string())
        .unwrap();
    let api = Api::new(&server.url);
    let (status, body) = api.get("/api/v1/me", Some(&token));
    assert_eq!(status, 401, "{body}");
    // The pages take it.
    let client = client_from("127.0.0.1");
    let status = block_on(async {
        client
            .get(format!("{}/review/records", server.url))
            .header("cookie", format!("anjian_session={token}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);

    let https = Server::start_with_state(|state| {
        state.with_access(anjian_server::access::Access {
            public_https: true,
            trust_forwarded: false,
            ..Default::default()
        })
    });
    let (status, cookie) = form_login(&https, "127.0.0.1", "town", PASSWORD);
    assert_eq!(status, 303);
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Behind a trusted proxy, what it says about the client's scheme counts.
    let proxied = Server::start_with_state(|state| {
        state.with_access(anjian_server::access::Access {
            public_https: false,
            trust_forwarded: true,
            ..Default::default()
        })
    });
    let (_, cookie) = form_login_via(&proxied, "127.0.0.1", Some("https"), "town", PASSWORD);
    assert!(cookie.contains("; Secure"), "{cookie}");
    let (_, cookie) = form_login_via(&proxied, "127.0.0.1", Some("http"), "town", PASSWORD);
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[test]
fn replaying_a_used_refresh_token_revokes_its_successor() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let (status, first) = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": "zhang", "password": PASSWORD, "device_id": "dev-11" }),
    );
    assert_eq!(status, 200, "{first}");
    let refresh = |token: &serde_json::Value| {
        api.post_json(
            "/api/v1/refresh",
            None,
            &json!({ "refresh_token": token, "device_id": "dev-11" }),
        )
    };
    let (status, second) = refresh(&first["refresh_token"]);
    assert_eq!(status, 200, "{second}");
    // Someone replays the first refresh token: refused, and the family goes with it.
    let (status, body) = refresh(&first["refresh_token"]);
    assert_eq!(status, 401, "{body}");
    let (status, body) = refresh(&second["refresh_token"]);
    assert_eq!(status, 401, "{body}");
    let (status, body) = api.get("/api/v1/me", second["access_token"].as_str());
    assert_eq!(status, 401, "{body}");
}
