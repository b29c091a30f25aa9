//! The public check of a paper document: the QR code's address, opened without login.

use anjian_core::agency::DocType;
use anjian_core::inspection::AnswerDetails;
use anjian_core::sync::protocol::UploadResult;
use anjian_e2e::{Api, Device, FACTORY, LI, Server};
use chrono::Utc;

/// The path and query of a QR code's address (the host is the agency's public address).
fn path_of(url: &str) -> String {
    let at = url.find("/v/").unwrap();
    url[at..].to_string()
}

#[test]
fn anyone_can_check_a_printed_document_and_sees_only_its_facts() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.start_trade(FACTORY, LI);
    zhang.answer_required(&id, 0, 1);
    let finding = AnswerDetails {
        note: Some("焊工张某无证上岗".into()),
        deadline: Some(chrono::NaiveDate::from_ymd_opt(2099, 1, 31).unwrap()),
        ..Default::default()
    };
    zhang
        .store
        .answer_item(&id, "IT-002", "fail", &finding, Utc::now())
        .unwrap();
    zhang.store.submit_inspection(&id, Utc::now()).unwrap();
    let order = zhang
        .store
        .document(&id, DocType::Order, Utc::now())
        .unwrap();
    let url = order.verification_url().unwrap();
    assert!(url.starts_with("https://"), "{url}");
    let api = Api::new(&server.url);

    // Printed on site, before the device synced: not uploaded yet.
    let (status, page) = api.get_text(&path_of(&url), None);
    assert_eq!(status, 200);
    assert!(page.contains("尚未上传"), "{page}");
    assert!(!page.contains(&order.number), "{page}");

    let report = zhang.sync().unwrap();
    assert_eq!(report.records[0].result, UploadResult::Locked, "{report:?}");
    let (status, page) = api.get_text(&path_of(&url), None);
    assert_eq!(status, 200);
    for expected in [
        "<html lang=\"zh-CN\">",
        "name=\"viewport\"",
        "核验结果：与存档一致",
        "淄博市应急管理局",
        "责令限期整改指令书",
        &order.number,
        "淄博齐林电力设备制造有限公司",
        "签发日期",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
    // Nothing else: no finding, no person, no certificate, no address.
    for absent in ["焊工", "张伟", "李娜", "37030001", "华光路", "违反"] {
        assert!(!page.contains(absent), "{absent} shown: {page}");
    }

    // A copy whose content was altered carries another hash.
    let tampered = format!("{}{}", &url[..url.len() - 64], "0".repeat(64));
    let (_, page) = api.get_text(&path_of(&tampered), None);
    assert!(page.contains("核验结果：不一致"), "{page}");
    assert!(!page.contains("与存档一致"));
    // The record's own 现场检查记录 checks too; a malformed code is explained.
    let record_doc = zhang
        .store
        .document(&id, DocType::Record, Utc::now())
        .unwrap();
    let (_, page) = api.get_text(&path_of(&record_doc.verification_url().unwrap()), None);
    assert!(
        page.contains("与存档一致") && page.contains("现场检查记录"),
        "{page}"
    );
    let (status, page) = api.get_text(&format!("/v/{id}?t=order"), None);
    assert_eq!(status, 400);
    assert!(page.contains("二维码内容不完整"), "{page}");
    // An id the server never saw is "not uploaded", not an error that tells ids apart.
    let (status, page) = api.get_text(
        &format!(
            "/v/0190abcd-0000-7000-8000-000000000000?t=order&h={}",
            "a".repeat(64)
        ),
        None,
    );
    assert_eq!(status, 200);
    assert!(page.contains("尚未上传"), "{page}");

    // Rate limited: a script going through ids is stopped.
    let mut limited = false;
    for _ in 0..40 {
        let (status, _) = api.get_text(&path_of(&url), None);
        if status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the check is rate limited");
}
