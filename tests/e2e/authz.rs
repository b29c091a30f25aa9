//! Every endpoint × every role × own versus foreign region or enterprise: zero foreign reads
//! or writes. Expectations come from the table below, written from the rules, not from the
//! server's code.

use std::collections::BTreeSet;

use anjian_core::agency::DocType;
use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::sync::protocol::UploadResult;
use anjian_e2e::{Api, DEMO_CSV, Device, FACTORY, FOREIGN_FACTORY, LI, Server, WU, accounts};
use chrono::Utc;
use serde_json::json;

struct Records {
    own_enforcement: String,
    foreign_enforcement: String,
    own_self: String,
    foreign_self: String,
}

fn submitted_enforcement(
    server: &Server,
    login: &str,
    enterprise: &str,
    colleague: &str,
) -> String {
    let mut device = Device::logged_in(&server.url, login);
    let id = device.start_trade(enterprise, colleague);
    device.answer_required(&id, 0, 1);
    device
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap();
    device.store.submit_inspection(&id, Utc::now()).unwrap();
    let report = device.sync().unwrap();
    assert_eq!(report.records[0].result, UploadResult::Locked, "{report:?}");
    id
}

fn self_inspection(server: &Server, login: &str, enterprise: &str) -> String {
    let mut device = Device::logged_in(&server.url, login);
    let id = device.start_self_inspection(enterprise);
    device.answer_required(&id, 0, 3);
    let report = device.sync().unwrap();
    assert_eq!(
        report.records[0].result,
        UploadResult::Accepted,
        "{report:?}"
    );
    id
}

/// Which of the four records each account may read.
fn expected_visible(login: &str, records: &Records) -> BTreeSet<String> {
    let own = [&records.own_enforcement, &records.own_self];
    let foreign = [&records.foreign_enforcement, &records.foreign_self];
    let ids: Vec<&String> = match login {
        "admin" | "city" => own.into_iter().chain(foreign).collect(),
        "district" | "town" | "zhang" | "li" | "expert" | "resident" => own.to_vec(),
        "officer" => vec![&records.own_self],
        "chen" | "wu" | "foreign_town" => foreign.to_vec(),
        "foreign_officer" => vec![&records.foreign_self],
        other => panic!("no expectation for {other}"),
    };
    ids.into_iter().cloned().collect()
}

/// Enterprises each account's scope holds (credit codes), of the two under test.
fn expected_enterprises(login: &str) -> BTreeSet<&'static str> {
    match login {
        "admin" | "city" => [FACTORY, FOREIGN_FACTORY].into(),
        "district" | "town" | "zhang" | "li" | "expert" | "resident" | "officer" => {
            [FACTORY].into()
        }
        "chen" | "wu" | "foreign_town" | "foreign_officer" => [FOREIGN_FACTORY].into(),
        other => panic!("no expectation for {other}"),
    }
}

#[test]
fn every_endpoint_for_every_role_shows_only_its_own_scope() {
    let server = Server::start();
    let records = Records {
        own_enforcement: submitted_enforcement(&server, "zhang", FACTORY, LI),
        foreign_enforcement: submitted_enforcement(&server, "chen", FOREIGN_FACTORY, WU),
        own_self: self_inspection(&server, "officer", FACTORY),
        foreign_self: self_inspection(&server, "foreign_officer", FOREIGN_FACTORY),
    };
    let all = [
        &records.own_enforcement,
        &records.foreign_enforcement,
        &records.own_self,
        &records.foreign_self,
    ];
    let api = Api::new(&server.url);

    for (login, role) in accounts() {
        let device_id = format!("0190a000-0000-7000-8000-{:012}", login.len());
        let token = api.login(login, &device_id);
        let visible = expected_visible(login, &records);
        let role = &role;

        // One record at a time: the record, or 404 with no data.
        for id in all {
            let (status, body) = api.get(&format!("/api/v1/records/{id}"), Some(&token));
            if visible.contains(id) {
                assert_eq!(status, 200, "{login} reads {id}: {body}");
                assert_eq!(body["record"]["id"], json!(id));
            } else {
                assert_eq!(status, 404, "{login} must not read {id}: {body}");
                assert!(body.get("record").is_none(), "{login}: {body}");
                assert_eq!(body["code"], "not_found");
            }
        }

        // Enforcement documents: readers of the record, and the enterprise they are addressed to.
        let addressee = |id: &String| match login {
            "officer" => id == &records.own_enforcement,
            "foreign_officer" => id == &records.foreign_enforcement,
            _ => false,
        };
        let mut documents = BTreeSet::new();
        for id in [&records.own_enforcement, &records.foreign_enforcement] {
            let may = visible.contains(id) || addressee(id);
            let (status, body) = api.get(
                &format!("/api/v1/records/{id}/documents/record"),
                Some(&token),
            );
            if may {
                assert_eq!(status, 200, "{login} reads the document of {id}: {body}");
                documents.insert(id.clone());
            } else {
                assert_eq!(
                    status, 404,
                    "{login} must not read the document of {id}: {body}"
                );
                assert_eq!(body["code"], "not_found");
            }
        }
        let (status, body) = api.get("/api/v1/documents", Some(&token));
        assert_eq!(status, 200);
        let listed: BTreeSet<String> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["record_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, documents, "{login}'s documents");

        // The list.
        let (status, body) = api.get("/api/v1/records?limit=500", Some(&token));
        assert_eq!(status, 200, "{login}: {body}");
        let listed: BTreeSet<String> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(listed, visible, "{login}'s record list");

        // Enterprises.
        let (status, body) = api.get("/api/v1/enterprises", Some(&token));
        assert_eq!(status, 200);
        let codes: BTreeSet<String> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["credit_code"].as_str().unwrap().to_string())
            .collect();
        for code in [FACTORY, FOREIGN_FACTORY] {
            assert_eq!(
                codes.contains(code),
                expected_enterprises(login).contains(code),
                "{login} and enterprise {code}"
            );
        }

        // What a sync hands out: records and enterprises in scope only.
        let (status, body) = api.post_json(
            "/api/v1/sync",
            Some(&token),
            &json!({ "device_id": device_id, "cursor": 0 }),
        );
        assert_eq!(status, 200, "{login}: {body}");
        for update in body["updates"]["records"].as_array().unwrap() {
            let id = update["id"].as_str().unwrap();
            assert!(visible.contains(id), "{login} was sent {id}");
        }
        for enterprise in body["updates"]["enterprises"].as_array().unwrap() {
            let code = enterprise["credit_code"].as_str().unwrap();
            assert!(
                code != FOREIGN_FACTORY || expected_enterprises(login).contains(code),
                "{login} was sent {code}"
            );
            assert!(
                code != FACTORY || expected_enterprises(login).contains(code),
                "{login} was sent {code}"
            );
        }

        // Administration: reads and writes for the admin only.
        let admin_reads = [
            "/api/v1/admin/regions",
            "/api/v1/admin/numbers",
            "/api/v1/admin/audit/verify",
        ];
        for path in admin_reads {
            let (status, body) = api.get(path, Some(&token));
            let expected = if *role == "admin" { 200 } else { 403 };
            assert_eq!(status, expected, "{login} GET {path}: {body}");
        }
        if *role != "admin" {
            let writes: [(&str, serde_json::Value); 3] = [
                (
                    "/api/v1/admin/regions",
                    json!({ "code": "370399", "name": "测试区", "parent": "370300" }),
                ),
                (
                    "/api/v1/admin/users",
                    json!({ "login": "intruder", "name": "某", "role": "admin", "scope": "",
                            "password": "longenough1" }),
                ),
                ("/api/v1/admin/users/zhang/disable", json!({})),
            ];
            for (path, body) in writes {
                let (status, answer) = api.post_json(path, Some(&token), &body);
                assert_eq!(status, 403, "{login} POST {path}: {answer}");
            }
            let (status, _) = api.post_bytes(
                "/api/v1/admin/enterprises",
                Some(&token),
                "text/csv",
                DEMO_CSV.as_bytes().to_vec(),
            );
            assert_eq!(status, 403, "{login} imports enterprises");
            let (status, _) = api.put_bytes(
                "/api/v1/admin/agency",
                Some(&token),
                anjian_e2e::AGENCY_TOML.as_bytes().to_vec(),
            );
            assert_eq!(status, 403, "{login} sets the agency");
        }

        // Without a token nothing is served.
        for path in ["/api/v1/records", "/api/v1/enterprises", "/api/v1/me"] {
            assert_eq!(api.get(path, None).0, 401, "{path} without a token");
        }
    }
    // Nothing the non-admins tried was written.
    assert!(server.store.user("intruder").unwrap().is_none());
    assert!(!server.store.user("zhang").unwrap().unwrap().disabled);
    assert!(
        !server
            .store
            .regions()
            .unwrap()
            .iter()
            .any(|r| r.code == "370399")
    );
}

#[test]
fn uploads_outside_the_scope_or_the_role_are_refused_and_not_stored() {
    let server = Server::start();
    let everything = parse_enterprise_csv("demo.csv", DEMO_CSV.as_bytes()).unwrap();

    // A town inspector records an enforcement inspection in another district.
    let mut zhang = Device::logged_in(&server.url, "zhang");
    zhang.store.import_enterprises(&everything).unwrap();
    let id = zhang.start_trade(FOREIGN_FACTORY, LI);
    let report = zhang.sync().unwrap();
    assert_eq!(report.records[0].result, UploadResult::Rejected);
    assert_eq!(report.records[0].code.as_deref(), Some("out_of_scope"));
    assert!(server.store.record(&id).unwrap().is_none());

    // An enterprise officer records a self-inspection of another enterprise.
    let mut officer = Device::logged_in(&server.url, "officer");
    officer.store.import_enterprises(&everything).unwrap();
    let id = officer.start_self_inspection(FOREIGN_FACTORY);
    let report = officer.sync().unwrap();
    assert_eq!(report.records[0].code.as_deref(), Some("out_of_scope"));
    assert!(server.store.record(&id).unwrap().is_none());

    // An officer may not upload an enforcement inspection, even of the own enterprise.
    let id = officer.start_trade(FACTORY, LI);
    let report = officer.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(outcome.code.as_deref(), Some("forbidden"));
    assert!(server.store.record(&id).unwrap().is_none());

    // A supervisor uploads nothing.
    let mut town = Device::logged_in(&server.url, "town");
    let id = town.start_trade(FACTORY, LI);
    let report = town.sync().unwrap();
    assert_eq!(report.records[0].code.as_deref(), Some("forbidden"));
    assert!(server.store.record(&id).unwrap().is_none());

    // A foreign inspector cannot write into a record of another town by knowing its id.
    let own = {
        let id = zhang.start_trade(FACTORY, LI);
        zhang.answer_required(&id, 0, 4);
        zhang.sync().unwrap();
        id
    };
    let mut chen = Device::logged_in(&server.url, "chen");
    let bytes = zhang.store.export_record(&own).unwrap();
    chen.store.import_enterprises(&everything).unwrap();
    chen.store.import_record("from zhang", &bytes).unwrap();
    let before = server.store.record(&own).unwrap().unwrap();
    chen.store.join_inspection(&own).unwrap();
    chen.answer_required(&own, 1, 4);
    let report = chen.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == own).unwrap();
    assert_eq!(outcome.result, UploadResult::Rejected);
    assert_eq!(outcome.code.as_deref(), Some("out_of_scope"));
    assert!(outcome.receipt.is_none());
    assert_eq!(server.store.record(&own).unwrap().unwrap(), before);
}
