//! Bad input gets a clear 4xx with a JSON error body, nothing is stored, and nothing panics.

use anjian_core::sync::protocol::{RecordUpload, SyncRequest, UploadResult};
use anjian_core::sync::receipt::Receipt;
use anjian_e2e::{Api, Device, FACTORY, LI, PASSWORD, Server};
use anjian_server::store::{TokenKind, TokenRow};
use automerge::transaction::Transactable;
use chrono::Utc;
use serde_json::json;

const DEVICE: &str = "0190a000-0000-7000-8000-00000000000b";

fn assert_error(answer: &(u16, serde_json::Value), status: u16, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["code"], json!(code), "{}", answer.1);
    assert!(
        answer.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        answer.1
    );
}

fn upload_body(device_id: &str, upload: &RecordUpload) -> serde_json::Value {
    serde_json::to_value(SyncRequest {
        device_id: device_id.into(),
        cursor: 0,
        records: vec![upload.clone()],
        voided_numbers: vec![],
        number_requests: vec![],
        known_audit_head: None,
    })
    .unwrap()
}

#[test]
fn malformed_requests_are_refused_with_json_errors() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let token = api.login("zhang", DEVICE);

    let answer = api.post_bytes(
        "/api/v1/sync",
        Some(&token),
        "application/json",
        b"{\"device_id\": ".to_vec(),
    );
    assert_error(&answer, 400, "invalid_json");
    let answer = api.post_bytes("/api/v1/sync", Some(&token), "text/plain", b"{}".to_vec());
    assert_error(&answer, 415, "unsupported_media_type");
    let answer = api.post_json(
        "/api/v1/sync",
        Some(&token),
        &json!({ "device_id": DEVICE, "cursor": 0, "surprise": true }),
    );
    // Well-formed JSON that does not fit the interface is 422, as axum answers it.
    assert_error(&answer, 422, "invalid_json");
    let answer = api.post_json(
        "/api/v1/sync",
        Some(&token),
        &json!({ "device_id": DEVICE, "cursor": 0,
                 "records": [{ "id": "x", "known_heads": [], "heads": [], "changes": "%%%" }] }),
    );
    assert_error(&answer, 422, "invalid_json");
    let answer = api.post_json("/api/v1/login", None, &json!({ "login": "zhang" }));
    assert_error(&answer, 422, "invalid_json");
    // Said in Chinese, naming the field and where it is; serde's English is not passed on.
    assert_eq!(
        answer.1["message"], "JSON 内容不符合接口：缺少字段 password（第 1 行第 17 列）",
        "{}",
        answer.1
    );
    let answer = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": 7, "password": "x", "device_id": "d" }),
    );
    assert_error(&answer, 422, "invalid_json");
    let message = answer.1["message"].as_str().unwrap();
    assert!(
        message.starts_with("JSON 内容不符合接口：字段 login 类型不符"),
        "{message}"
    );
    let answer = api.post_bytes(
        "/api/v1/login",
        None,
        "application/json",
        b"{\"login\": ".to_vec(),
    );
    assert_error(&answer, 400, "invalid_json");
    assert_eq!(
        answer.1["message"],
        "JSON 格式错误：字段 login 内容不完整（第 1 行第 10 列）"
    );

    // Lists: one code for a bad query on every route, out-of-range and empty values named.
    for path in ["/api/v1/records", "/api/v1/alerts"] {
        for (query, expected) in [
            (
                "offset=9223372036854775808",
                "offset 应为 0 到 9223372036854775807 之间的整数",
            ),
            ("offset=-1", "offset 应为 0 到"),
            ("limit=", "limit 应为 1 到 500 之间的整数，收到 \"\""),
            ("limit=501", "limit 应为 1 到 500"),
            ("page=2", "不支持查询参数 page"),
        ] {
            let answer = api.get(&format!("{path}?{query}"), Some(&token));
            assert_error(&answer, 400, "invalid_query");
            let message = answer.1["message"].as_str().unwrap();
            assert!(message.starts_with(expected), "{path}?{query}: {message}");
        }
    }
    for path in [
        "/api/v1/analyses/hazards",
        "/api/v1/analyses/coverage",
        "/api/v1/hazards",
    ] {
        let answer = api.get(&format!("{path}?until="), Some(&token));
        assert_error(&answer, 400, "invalid_query");
        assert_eq!(
            answer.1["message"], "查询参数 until 没有值：不需要时请省略该参数",
            "{path}"
        );
    }
    let answer = api.get("/api/v1/no-such-thing", Some(&token));
    assert_error(&answer, 404, "not_found");

    // Over the body limit.
    let huge = vec![b' '; anjian_server::api::MAX_BODY_BYTES + 1];
    let answer = api.post_bytes("/api/v1/sync", Some(&token), "application/json", huge);
    assert_error(&answer, 413, "body_too_large");

    // Bytes that are no Automerge document.
    let id = "0190a000-0000-7000-8000-0000000000aa";
    let garbage = RecordUpload {
        id: id.into(),
        known_heads: vec![],
        heads: vec![],
        changes: b"not automerge at all".to_vec(),
    };
    let answer = api.post_json("/api/v1/sync", Some(&token), &upload_body(DEVICE, &garbage));
    assert_error(&answer, 400, "invalid_record");
    assert_eq!(answer.1["record_id"], json!(id));
    assert!(server.store.record(id).unwrap().is_none());
}

#[test]
fn changes_that_break_a_record_are_refused_and_the_stored_record_is_untouched() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 3);
    zhang.sync().unwrap();
    let before = server.store.record(&id).unwrap().unwrap();

    // A change that deletes the enterprise, made with Automerge directly.
    let saved = zhang.store.load_record(&id).unwrap().save();
    let mut doc = automerge::AutoCommit::load(&saved).unwrap();
    let heads = doc.get_heads();
    doc.delete(automerge::ROOT, "enterprise").unwrap();
    doc.delete(automerge::ROOT, "status").unwrap();
    let changes = doc.save_after(&heads);
    let upload = RecordUpload {
        id: id.clone(),
        known_heads: before.heads.clone(),
        heads: doc.get_heads().iter().map(|h| h.to_string()).collect(),
        changes,
    };
    let api = Api::new(&server.url);
    let session = zhang.store.server_session().unwrap().unwrap();
    let answer = api.post_json(
        "/api/v1/sync",
        Some(&session.access_token),
        &upload_body(zhang.store.device_id(), &upload),
    );
    assert_error(&answer, 400, "invalid_record");
    assert_eq!(server.store.record(&id).unwrap().unwrap(), before);

    // Changes whose history the server lacks are answered, per record, `missing_changes`.
    let mut orphan = upload.clone();
    let mut doc = automerge::AutoCommit::load(&saved).unwrap();
    let base = doc.get_heads();
    doc.put(automerge::ROOT, "place", "二号车间").unwrap();
    let middle = doc.get_heads();
    doc.put(automerge::ROOT, "place", "三号车间").unwrap();
    orphan.changes = doc.save_after(&middle);
    orphan.known_heads = base.iter().map(|h| h.to_string()).collect();
    let answer = api.post_json(
        "/api/v1/sync",
        Some(&session.access_token),
        &upload_body(zhang.store.device_id(), &orphan),
    );
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["records"][0]["code"], json!("missing_changes"));
    assert_eq!(server.store.record(&id).unwrap().unwrap(), before);
}

#[test]
fn a_record_on_an_unknown_template_is_refused_and_the_rest_still_syncs() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    // The shipped checklist under a version the server has never published.
    let source = include_str!("../../templates/checklists/trade-enforcement.toml")
        .lines()
        .map(|line| {
            if line.starts_with("version = ") {
                "version = 77"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let template = anjian_core::Template::parse("local.toml", &source).unwrap();
    zhang.store.add_template(&template).unwrap();
    let local = zhang
        .store
        .start_inspection(
            &anjian_core::inspection::StartInspection {
                enterprise: FACTORY.into(),
                template: "trade-enforcement".into(),
                co_inspectors: vec![anjian_core::inspection::CoInspector::parse(LI).unwrap()],
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    assert_eq!(local.template_version, 77);
    // The device starts the newest version it has: a second inspection is on version 77 too.
    let ordinary = zhang.start_trade(FACTORY, LI);
    // Both are refused as unknown, each reported, nothing stored, and the sync completes.
    let report = zhang.sync().unwrap();
    for id in [&local.id, &ordinary] {
        let outcome = report.records.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(outcome.result, UploadResult::Rejected);
        assert_eq!(outcome.code.as_deref(), Some("unknown_template"));
        assert!(server.store.record(id).unwrap().is_none());
    }
    // Once the administrator publishes the version, the records go up as they are.
    anjian_server::admin::publish_template(server.store.as_ref(), "v77.toml", &source).unwrap();
    zhang
        .store
        .answer_item(&local.id, "IT-001", "pass", &Default::default(), Utc::now())
        .unwrap();
    zhang
        .store
        .answer_item(&ordinary, "IT-001", "pass", &Default::default(), Utc::now())
        .unwrap();
    let report = zhang.sync().unwrap();
    assert!(
        report
            .records
            .iter()
            .all(|r| r.result == UploadResult::Accepted),
        "{report:?}"
    );
    assert!(server.store.record(&local.id).unwrap().is_some());
}

#[test]
fn forged_receipts_and_dead_tokens_are_refused() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    let receipt: Receipt = zhang.sync().unwrap().records[0].receipt.clone().unwrap();
    let api = Api::new(&server.url);
    let token = api.login("zhang", DEVICE);

    let answer = api.post_json(
        "/api/v1/receipts/verify",
        Some(&token),
        &serde_json::to_value(&receipt).unwrap(),
    );
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(answer.1["valid"], json!(true));
    // Another record id under the same signature.
    let mut forged = receipt.clone();
    forged.record_id = "0190a000-0000-7000-8000-0000000000ff".into();
    let answer = api.post_json(
        "/api/v1/receipts/verify",
        Some(&token),
        &serde_json::to_value(&forged).unwrap(),
    );
    assert_error(&answer, 400, "invalid_receipt");
    // Signed by someone else's key.
    let mut forged = receipt.clone();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    forged.signature =
        hex::encode(ed25519_dalek::Signer::sign(&key, &forged.signed_bytes()).to_bytes());
    let answer = api.post_json(
        "/api/v1/receipts/verify",
        Some(&token),
        &serde_json::to_value(&forged).unwrap(),
    );
    assert_error(&answer, 400, "invalid_receipt");
    assert!(forged.verify(&server.public_key).is_err());

    // Expired, revoked, and a disabled user's tokens.
    let expired = "expired-token-for-test";
    server
        .store
        .insert_token(&TokenRow {
            hash: anjian_server::auth::token_hash(expired),
            kind: TokenKind::Access,
            login: "zhang".into(),
            device_id: DEVICE.into(),
            expires_at: Utc::now() - chrono::Duration::minutes(1),
            revoked: false,
        })
        .unwrap();
    assert_error(&api.get("/api/v1/me", Some(expired)), 401, "unauthorized");
    assert_error(
        &api.get("/api/v1/me", Some("nonsense")),
        401,
        "unauthorized",
    );
    assert_eq!(api.get("/api/v1/me", Some(&token)).0, 200);
    assert_eq!(
        api.post_json("/api/v1/logout", Some(&token), &json!({})).0,
        200
    );
    assert_error(&api.get("/api/v1/me", Some(&token)), 401, "unauthorized");

    let li_token = api.login("li", DEVICE);
    let admin_token = api.login("admin", "0190a000-0000-7000-8000-00000000000a");
    let answer = api.post_json(
        "/api/v1/admin/users/li/disable",
        Some(&admin_token),
        &json!({}),
    );
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_error(&api.get("/api/v1/me", Some(&li_token)), 401, "unauthorized");
    let answer = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": "li", "password": PASSWORD, "device_id": DEVICE }),
    );
    assert_error(&answer, 401, "unauthorized");
}

#[test]
fn logins_are_rate_limited_and_refresh_tokens_are_bound_to_their_device() {
    let server = Server::start();
    let api = Api::new(&server.url);
    for _ in 0..anjian_server::access::LOGIN_FAILURES_ALLOWED {
        let answer = api.post_json(
            "/api/v1/login",
            None,
            &json!({ "login": "zhang", "password": "wrong-password", "device_id": DEVICE }),
        );
        assert_error(&answer, 401, "unauthorized");
    }
    let answer = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": "zhang", "password": PASSWORD, "device_id": DEVICE }),
    );
    assert_error(&answer, 429, "too_many_attempts");
    // Another account is not affected.
    let (status, body) = api.post_json(
        "/api/v1/login",
        None,
        &json!({ "login": "li", "password": PASSWORD, "device_id": DEVICE }),
    );
    assert_eq!(status, 200);
    let refresh = body["refresh_token"].as_str().unwrap();
    let answer = api.post_json(
        "/api/v1/refresh",
        None,
        &json!({ "refresh_token": refresh, "device_id": "0190a000-0000-7000-8000-0000000000cc" }),
    );
    assert_error(&answer, 401, "unauthorized");
    let (status, renewed) = api.post_json(
        "/api/v1/refresh",
        None,
        &json!({ "refresh_token": refresh, "device_id": DEVICE }),
    );
    assert_eq!(status, 200, "{renewed}");
    // A refresh token is used once.
    let answer = api.post_json(
        "/api/v1/refresh",
        None,
        &json!({ "refresh_token": refresh, "device_id": DEVICE }),
    );
    assert_error(&answer, 401, "unauthorized");
}
