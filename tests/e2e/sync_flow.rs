use anjian_core::agency::DocType;
use anjian_core::enterprise::CreditCode;
use anjian_core::inspection::AnswerDetails;
use anjian_core::record::{NewRecord, RecordDoc, RecordKind, Reinspects};
use anjian_core::sync::client::SyncClient;
use anjian_core::sync::protocol::{RecordUpload, SyncRequest, UploadResult};
use anjian_e2e::{Api, Device, FACTORY, LI, Server, block_on, retry};
use automerge::ReadDoc;
use automerge::transaction::Transactable;
use chrono::Utc;

#[test]
fn co_inspection_on_two_devices_syncs_to_the_same_merged_record() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let mut li = Device::logged_in(&server.url, "li");

    let id = zhang.start_trade(FACTORY, LI);
    let by_zhang = zhang.answer_required(&id, 0, 2);
    let report = zhang.sync().unwrap();
    assert_eq!(report.records.len(), 1);
    assert_eq!(report.records[0].result, UploadResult::Accepted);

    let report = li.sync().unwrap();
    assert!(report.downloaded.contains(&id), "{report:?}");
    let by_li = li.answer_required(&id, 1, 2);
    li.sync().unwrap();
    zhang.sync().unwrap();

    let on_zhang = zhang.store.record(&id).unwrap();
    let on_li = li.store.record(&id).unwrap();
    assert_eq!(on_zhang.answers.len(), by_zhang.len() + by_li.len());
    assert_eq!(on_zhang.answers, on_li.answers);
    assert_eq!(on_zhang.heads, on_li.heads);
    assert!(on_zhang.conflicts.is_empty());
    assert_eq!(on_zhang.answers[&by_li[0]].by.name, "李娜");
    assert_eq!(on_li.answers[&by_zhang[0]].by.name, "张伟");

    // The server holds the same merged record.
    let stored = server.store.record(&id).unwrap().unwrap();
    let mut heads = stored.heads.clone();
    heads.sort();
    assert_eq!(heads, on_zhang.heads);
    // Nothing is left to send: a further sync uploads nothing.
    assert!(zhang.sync().unwrap().records.is_empty());
    assert!(li.sync().unwrap().records.is_empty());
}

#[test]
fn a_submitted_record_is_locked_with_a_receipt_that_verifies() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let blocks = zhang.store.number_blocks().unwrap();
    assert_eq!(
        blocks.len(),
        3,
        "one leased block per document type: {blocks:?}"
    );

    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    let issued = zhang
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap();
    assert!(issued.number.contains("检记"), "{}", issued.number);
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    let report = zhang.sync().unwrap();
    let outcome = &report.records[0];
    assert_eq!(outcome.result, UploadResult::Locked, "{outcome:?}");
    let receipt = outcome.receipt.clone().unwrap();
    let record = zhang.store.record(&id).unwrap();
    receipt.verify_for(&server.keys, &record.heads).unwrap();
    assert_eq!(receipt.log_index, 1);

    // The device checks the stored receipt again whenever it shows it.
    let check = zhang.store.check_receipt(&id).unwrap().unwrap();
    assert_eq!(check.receipt, receipt);
    assert_eq!(check.problem, None);

    let state = zhang.store.sync_state(&id).unwrap().unwrap();
    assert!(state.locked);
    assert_eq!(state.receipt.as_ref(), Some(&receipt));
    // The lock is in the server's log, and the number in its register.
    let log = server.store.audit_log().unwrap();
    assert_eq!(log, vec![receipt.clone()]);
    let register = server.store.number_register().unwrap();
    assert!(
        register
            .iter()
            .any(|n| n.number == issued.number && n.record_id.as_deref() == Some(id.as_str()))
    );
    // The enterprise reads the document addressed to it, as the device renders it.
    let api = anjian_e2e::Api::new(&server.url);
    let officer = api.login("officer", "0190a000-0000-7000-8000-0000000000e1");
    let (status, html) = api.get_text(
        &format!("/api/v1/records/{id}/documents/record"),
        Some(&officer),
    );
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("现场检查记录") && html.contains(&issued.number),
        "{html}"
    );

    // A locked record refuses local edits with the code the app shows.
    let refused = zhang
        .store
        .answer_item(&id, "IT-001", "fail", &AnswerDetails::default(), Utc::now())
        .unwrap_err();
    assert_eq!(refused.code(), "record_submitted");
}

#[test]
fn the_same_upload_twice_makes_one_record_and_the_same_answer() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();

    let session = zhang.store.server_session().unwrap().unwrap();
    let request = zhang.store.sync_request(Utc::now()).unwrap();
    let client = SyncClient::new(&server.url, retry()).unwrap();
    let first = block_on(client.sync(&session.access_token, &request)).unwrap();
    let second = block_on(client.sync(&session.access_token, &request)).unwrap();
    assert_eq!(first.records[0].result, UploadResult::Locked);
    assert_eq!(second.records[0].result, UploadResult::Locked);
    assert_eq!(first.records[0].receipt, second.records[0].receipt);
    assert_eq!(server.store.audit_log().unwrap().len(), 1);
    let listed = server
        .store
        .list_records(
            &anjian_server::store::RecordScope::All,
            &Default::default(),
            100,
            0,
        )
        .unwrap();
    assert_eq!(listed.iter().filter(|r| r.id == id).count(), 1);
    assert_eq!(listed.len(), 1);
    // The device applies either answer alike.
    zhang
        .store
        .apply_sync_response(&request, &second, Utc::now())
        .unwrap();
    assert!(zhang.store.is_locked(&id).unwrap());
}

#[test]
fn an_edit_after_the_lock_is_rejected_kept_and_becomes_a_linked_amendment() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let mut li = Device::logged_in(&server.url, "li");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    zhang.sync().unwrap();
    li.sync().unwrap();

    // 李娜 changes an answer offline while 张伟 submits and syncs.
    li.store
        .answer_item(
            &id,
            "IT-001",
            "fail",
            &AnswerDetails {
                note: Some("复核发现护栏缺失".into()),
                deadline: chrono::NaiveDate::from_ymd_opt(2030, 1, 31),
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    assert_eq!(
        zhang.sync().unwrap().records[0].result,
        UploadResult::Locked
    );

    let report = li.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(outcome.result, UploadResult::Rejected);
    assert_eq!(outcome.code.as_deref(), Some("record_locked"));
    outcome
        .receipt
        .as_ref()
        .unwrap()
        .verify(&server.public_key)
        .unwrap();
    let amendment_id = outcome.amendment.clone().expect("an amendment draft");

    // Kept at the server with who, when and which device.
    let kept = server.store.quarantined(&id).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].uploader, "li");
    assert_eq!(kept[0].device_id, li.store.device_id());

    // The draft carries the late answer and links to the locked record.
    let amendment = li.store.record(&amendment_id).unwrap();
    assert_eq!(amendment.kind, RecordKind::Amendment);
    assert_eq!(amendment.amends.as_ref().unwrap().record_id, id);
    assert_eq!(amendment.answers.len(), 1);
    assert_eq!(
        amendment.answers["IT-001"].note.as_deref(),
        Some("复核发现护栏缺失")
    );
    assert_eq!(
        li.store.amendments_of(&id).unwrap(),
        vec![amendment_id.clone()]
    );

    // Syncing again neither resends the late change nor makes a second draft.
    let again = li.sync().unwrap();
    assert!(again.records.iter().all(|r| r.id != id), "{again:?}");
    assert_eq!(li.store.amendments_of(&id).unwrap().len(), 1);
    assert_eq!(server.store.quarantined(&id).unwrap().len(), 1);

    // The amendment is submitted and locked as a record of its own, linked both ways.
    li.store
        .submit_inspection(&amendment_id, Utc::now())
        .unwrap();
    let report = li.sync().unwrap();
    let outcome = report
        .records
        .iter()
        .find(|r| r.id == amendment_id)
        .unwrap();
    assert_eq!(outcome.result, UploadResult::Locked, "{outcome:?}");
    assert_eq!(
        server.store.amendments_of(&id).unwrap(),
        vec![amendment_id.clone()]
    );
    assert_eq!(
        server.store.record(&amendment_id).unwrap().unwrap().amends,
        Some(id.clone())
    );
}

#[test]
fn a_number_not_leased_to_the_device_is_refused() {
    let server = Server::start();
    // 张伟 logs in first and is leased serials 1–50 of each type; 李娜 gets 51–100.
    let zhang = Device::logged_in(&server.url, "zhang");
    let mut li = Device::logged_in(&server.url, "li");
    let year = anjian_core::numbering::year_of(Utc::now());
    let leased = li.store.number_blocks().unwrap();
    assert!(leased.iter().all(|b| b.first == 51), "{leased:?}");
    // 李娜's device registers serials 1–10 by hand: they were leased to 张伟's device.
    li.store
        .add_number_block(DocType::Record, year, 1, 10, Utc::now())
        .unwrap();
    let id = li.start_trade(FACTORY, "张伟:37030001:2030-12-31");
    li.answer_required(&id, 0, 1);
    let issued = li
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap();
    assert!(
        issued.number.ends_with(&format!("〔{year}〕1号")),
        "{}",
        issued.number
    );

    let report = li.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(outcome.result, UploadResult::Rejected);
    assert_eq!(outcome.code.as_deref(), Some("number_not_leased"));
    assert!(server.store.record(&id).unwrap().is_none());
    assert!(server.store.number_register().unwrap().is_empty());
    drop(zhang);
}

#[test]
fn voided_numbers_reach_the_register_and_more_serials_are_leased_when_low() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let block = zhang
        .store
        .number_blocks()
        .unwrap()
        .into_iter()
        .find(|b| b.doc_type == DocType::Order)
        .unwrap();
    // Void all but a few serials of the order block: the next sync leases another block.
    for _ in 0..(block.last - block.first - 3) {
        let next = zhang
            .store
            .number_blocks()
            .unwrap()
            .into_iter()
            .find(|b| b.doc_type == DocType::Order)
            .and_then(|b| b.next)
            .unwrap();
        zhang
            .store
            .void_number(&next, "纸质文书填写错误", Utc::now())
            .unwrap();
    }
    let report = zhang.sync().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.number_blocks, 1);
    let orders: Vec<_> = zhang
        .store
        .number_blocks()
        .unwrap()
        .into_iter()
        .filter(|b| b.doc_type == DocType::Order)
        .collect();
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[1].first, block.last + 1);
    let voided = server
        .store
        .number_register()
        .unwrap()
        .into_iter()
        .filter(|n| n.state == "voided")
        .count() as u32;
    assert_eq!(voided, block.last - block.first - 3);
    // Syncing again leases nothing more: the device holds enough.
    assert_eq!(zhang.sync().unwrap().number_blocks, 0);
}

#[test]
fn the_whole_flow_runs_on_postgresql_too() {
    let database = anjian_e2e::PostgresDatabase::create("e2e_flow");
    let server = Server::start_postgres(&database);
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let mut li = Device::logged_in(&server.url, "li");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 2);
    zhang.sync().unwrap();
    li.sync().unwrap();
    li.answer_required(&id, 1, 2);
    li.sync().unwrap();
    zhang.sync().unwrap();
    assert_eq!(
        zhang.store.record(&id).unwrap().heads,
        li.store.record(&id).unwrap().heads
    );
    zhang
        .store
        .issue_document(&id, DocType::Record, Utc::now())
        .unwrap();
    li.store
        .answer_item(&id, "IT-002", "na", &AnswerDetails::default(), Utc::now())
        .unwrap();
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    let locked = zhang.sync().unwrap();
    assert_eq!(locked.records[0].result, UploadResult::Locked);
    let late = li.sync().unwrap();
    let outcome = late.records.iter().find(|r| r.id == id).unwrap();
    assert_eq!(outcome.code.as_deref(), Some("record_locked"));
    assert_eq!(server.store.quarantined(&id).unwrap().len(), 1);
    let amendment = outcome.amendment.clone().unwrap();
    li.store.submit_inspection(&amendment, Utc::now()).unwrap();
    li.sync().unwrap();
    assert_eq!(server.store.amendments_of(&id).unwrap(), vec![amendment]);
    assert_eq!(server.store.audit_log().unwrap().len(), 2);
    assert!(
        anjian_server::audit::verify(server.store.as_ref(), &server.keys, None)
            .unwrap()
            .intact
    );
}

#[test]
fn a_stored_receipt_that_no_longer_verifies_is_reported_not_trusted() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    assert_eq!(
        zhang.store.check_receipt(&id).unwrap(),
        None,
        "not locked yet"
    );
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    zhang.sync().unwrap();

    // Another server's key: the signature no longer matches.
    let other_key = "11".repeat(32);
    let db = rusqlite::Connection::open(zhang.dir.path().join("anjian.sqlite3")).unwrap();
    let set_keys = |public: &str| {
        db.execute(
            "UPDATE profile SET value = ?1 WHERE key = 'server_public_key'",
            [public],
        )
        .unwrap();
        let ring =
            serde_json::to_string(&[anjian_core::sync::receipt::ServerKey::new(public)]).unwrap();
        db.execute(
            "UPDATE profile SET value = ?1 WHERE key = 'server_keys'",
            [&ring],
        )
        .unwrap();
    };
    set_keys(&other_key);
    let check = zhang.store.check_receipt(&id).unwrap().unwrap();
    let problem = check.problem.expect("a problem");
    assert!(
        problem.contains("公钥") || problem.contains("签名"),
        "{problem}"
    );

    // A receipt altered on the device: the audit-chain hash does not match its content.
    set_keys(&server.public_key);
    assert_eq!(
        zhang.store.check_receipt(&id).unwrap().unwrap().problem,
        None
    );
    let stored: String = db
        .query_row(
            "SELECT receipt FROM sync_state WHERE record_id = ?1",
            [&id],
            |row| row.get(0),
        )
        .unwrap();
    let mut altered: serde_json::Value = serde_json::from_str(&stored).unwrap();
    altered["log_index"] = serde_json::json!(99);
    db.execute(
        "UPDATE sync_state SET receipt = ?1 WHERE record_id = ?2",
        [altered.to_string(), id.clone()],
    )
    .unwrap();
    assert!(
        zhang
            .store
            .check_receipt(&id)
            .unwrap()
            .unwrap()
            .problem
            .is_some()
    );
}

/// A re-inspection record made by hand, as no device makes it: following `original_id`,
/// whatever that is, with the given order number.
fn forged_reinspection(
    device: &Device,
    original_id: &str,
    template: &str,
    order_number: Option<&str>,
) -> RecordDoc {
    let template = device.store.template(template, None).unwrap();
    let hazards = device
        .store
        .record(original_id)
        .map(|original| original.hazards)
        .unwrap_or_default();
    RecordDoc::create(&NewRecord {
        kind: RecordKind::Reinspection,
        inspection_kind: template.kind,
        agency: None,
        template_id: template.id.clone(),
        template_version: template.version,
        enterprise: device
            .store
            .enterprise(&CreditCode::parse(FACTORY).unwrap())
            .unwrap(),
        inspectors: vec![device.store.current_inspector().unwrap()],
        place: "一号车间".into(),
        gps: None,
        started_at: Utc::now(),
        device_id: device.store.device_id().to_string(),
        reinspects: Some(Reinspects {
            record_id: original_id.to_string(),
            inspected_at: Some(Utc::now()),
            order_number: order_number.map(str::to_string),
            order_issued_at: order_number.map(|_| Utc::now()),
            hazards,
        }),
        amends: None,
    })
    .unwrap()
}

/// The factory's self-inspection by its officer, SI-002 failed; submitted or left a draft.
fn officers_self_inspection(officer: &mut Device, submit: bool) -> String {
    let id = officer.start_self_inspection(FACTORY);
    officer.answer_required(&id, 0, 1);
    let details = AnswerDetails {
        deadline: Some(chrono::NaiveDate::from_ymd_opt(2030, 6, 30).unwrap()),
        ..Default::default()
    };
    officer
        .store
        .answer_item(&id, "SI-002", "fail", &details, Utc::now())
        .unwrap();
    if submit {
        officer.store.submit_inspection(&id, Utc::now()).unwrap();
    }
    id
}

#[test]
fn a_reinspection_must_follow_a_submitted_inspection_of_its_kind_the_uploader_may_read() {
    let server = Server::start();
    let mut officer = Device::logged_in(&server.url, "officer");
    let mut zhang = Device::logged_in(&server.url, "zhang");

    // Zhang's enforcement inspection of the factory, with its order; the officer's
    // self-inspection, still a draft on the server.
    let enforcement = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&enforcement, 0, 1);
    let details = AnswerDetails {
        deadline: Some(chrono::NaiveDate::from_ymd_opt(2030, 6, 30).unwrap()),
        ..Default::default()
    };
    zhang
        .store
        .answer_item(&enforcement, "IT-002", "fail", &details, Utc::now())
        .unwrap();
    for doc_type in [DocType::Record, DocType::Order] {
        zhang
            .store
            .issue_document(&enforcement, doc_type, Utc::now())
            .unwrap();
    }
    zhang
        .store
        .submit_inspection(&enforcement, Utc::now())
        .unwrap();
    zhang.sync().unwrap();
    let draft = officers_self_inspection(&mut officer, false);
    officer.sync().unwrap();

    // The officer's: of a draft, of nothing, of an enforcement inspection (outside the
    // officer's scope, so answered as if it did not exist).
    let mut officers = Vec::new();
    for (original, why) in [
        (draft.as_str(), "尚未提交"),
        (
            "0190a000-0000-7000-8000-0000000000ff",
            "不存在或不在您的管辖范围内",
        ),
        (enforcement.as_str(), "不存在或不在您的管辖范围内"),
    ] {
        let mut doc = forged_reinspection(&officer, original, "self-monthly", None);
        let id = officer.store.insert_record(&mut doc).unwrap().id;
        officers.push((id, why));
    }
    let report = officer.sync().unwrap();
    for (id, why) in &officers {
        let outcome = report.records.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(outcome.result, UploadResult::Rejected, "{why}");
        assert_eq!(outcome.code.as_deref(), Some("invalid_reinspection"));
        let message = outcome.message.as_deref().unwrap();
        assert!(message.contains(why), "{why}: {message}");
        assert!(server.store.record(id).unwrap().is_none());
    }

    // Once the self-inspection is submitted, the re-inspection of it that the server refused
    // is taken when the device sends it again; the others are refused again.
    officer.store.submit_inspection(&draft, Utc::now()).unwrap();
    let report = officer.sync().unwrap();
    let results: Vec<_> = officers
        .iter()
        .map(|(id, _)| {
            let outcome = report.records.iter().find(|r| &r.id == id).unwrap();
            (outcome.result, outcome.code.as_deref())
        })
        .collect();
    assert_eq!(
        results,
        [
            (UploadResult::Accepted, None),
            (UploadResult::Rejected, Some("invalid_reinspection")),
            (UploadResult::Rejected, Some("invalid_reinspection")),
        ]
    );

    // Zhang's: of the officer's self-inspection (another kind), and of the enforcement
    // inspection under an order number it was not issued.
    let mut refused = Vec::new();
    for (original, order, why) in [
        (
            draft.as_str(),
            "(淄)安监责改〔2030〕0001号",
            "检查类型或被检查单位",
        ),
        (
            enforcement.as_str(),
            "(淄)安监责改〔2030〕0999号",
            "签发的责令限期整改指令书",
        ),
    ] {
        let mut doc = forged_reinspection(&zhang, original, "trade-enforcement", Some(order));
        let id = zhang.store.insert_record(&mut doc).unwrap().id;
        refused.push((id, why));
    }
    let report = zhang.sync().unwrap();
    for (id, why) in &refused {
        let outcome = report.records.iter().find(|r| &r.id == id).unwrap();
        assert_eq!(
            outcome.code.as_deref(),
            Some("invalid_reinspection"),
            "{why}"
        );
        assert!(outcome.message.as_deref().unwrap().contains(why), "{why}");
        assert!(server.store.record(id).unwrap().is_none());
    }

    // An enforcement re-inspection without its order's number is no record at all.
    let mut doc = forged_reinspection(&zhang, &enforcement, "trade-enforcement", Some("x"));
    let mut raw = automerge::AutoCommit::load(&doc.save()).unwrap();
    let (_, reinspects) = raw.get(automerge::ROOT, "reinspects").unwrap().unwrap();
    raw.delete(&reinspects, "order_number").unwrap();
    raw.delete(&reinspects, "order_issued_at").unwrap();
    let upload = RecordUpload {
        id: doc.id().to_string(),
        known_heads: vec![],
        heads: raw.get_heads().iter().map(|h| h.to_string()).collect(),
        changes: raw.save(),
    };
    let session = zhang.store.server_session().unwrap().unwrap();
    let (status, body) = Api::new(&server.url).post_json(
        "/api/v1/sync",
        Some(&session.access_token),
        &serde_json::to_value(SyncRequest {
            device_id: zhang.store.device_id().into(),
            cursor: 0,
            records: vec![upload],
            voided_numbers: vec![],
            number_requests: vec![],
            known_audit_head: None,
        })
        .unwrap(),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_record"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("缺少原责令限期整改指令书编号"),
        "{body}"
    );
    assert!(server.store.record(doc.id()).unwrap().is_none());

    // The device's own re-inspection of the now submitted self-inspection is taken.
    let re = officer
        .store
        .start_reinspection(&draft, &[], None, Utc::now())
        .unwrap()
        .id;
    let report = officer.sync().unwrap();
    let outcome = report.records.iter().find(|r| r.id == re).unwrap();
    assert_eq!(outcome.result, UploadResult::Accepted, "{outcome:?}");
}
