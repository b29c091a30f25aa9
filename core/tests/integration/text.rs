//! Free text is refused at input when it holds control characters or characters the
//! documents' font cannot draw (issue 19, findings 5 and 10): the message names the field,
//! the character and its code, and nothing is stored.

use anjian_core::Error;
use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use tempfile::tempdir;

use crate::common::*;

fn refused(error: Error, wanted: &[&str]) {
    let message = error.to_string();
    for part in wanted {
        assert!(message.contains(part), "{part:?} missing from {message}");
    }
}

#[test]
fn a_note_or_measure_outside_the_font_or_with_control_characters_is_refused() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let before = snapshot(&store);
    for (details, wanted) in [
        (
            AnswerDetails {
                note: Some("配电箱😀门未关闭".into()),
                ..Default::default()
            },
            vec!["IT-001", "备注", "“😀”（U+1F600）"],
        ),
        (
            AnswerDetails {
                note: Some("𠀀".into()),
                ..Default::default()
            },
            vec!["备注", "“𠀀”（U+20000）"],
        ),
        (
            AnswerDetails {
                note: Some("配电箱\0门".into()),
                ..Default::default()
            },
            vec!["备注", "U+0000"],
        ),
        (
            AnswerDetails {
                measure: Some("立即\u{1b}[2J整改".into()),
                deadline: Some(date("2026-12-05")),
                ..Default::default()
            },
            vec!["整改措施", "U+001B"],
        ),
    ] {
        let error = store
            .answer_item(&id, "IT-001", "fail", &details, morning("2026-11-20"))
            .unwrap_err();
        refused(error, &wanted);
    }
    assert_eq!(snapshot(&store), before, "nothing stored");
    // A note of several lines is kept as written.
    let answer = store
        .answer_item(
            &id,
            "IT-001",
            "fail",
            &AnswerDetails {
                note: Some("配电箱门未关闭\n二楼平台护栏缺失".into()),
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap();
    assert_eq!(
        answer.note.as_deref(),
        Some("配电箱门未关闭\n二楼平台护栏缺失")
    );
}

#[test]
fn a_place_a_colleague_or_a_profile_name_outside_the_font_is_refused() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let start = |place: &str, colleague: &str| StartInspection {
        enterprise: FACTORY.into(),
        template: "trade-enforcement".into(),
        co_inspectors: vec![CoInspector::parse(colleague).unwrap()],
        place: Some(place.into()),
        gps: None,
    };
    let error = store
        .start_inspection(&start("一号车间𠀀", "李娜:37030002"), morning("2026-11-20"))
        .unwrap_err();
    refused(error, &["检查地点", "U+20000"]);
    let error = store
        .start_inspection(&start("一号车间", "李😀娜:37030002"), morning("2026-11-20"))
        .unwrap_err();
    refused(error, &["同行执法人员姓名", "U+1F600"]);
    assert!(store.list_records().unwrap().is_empty());
    let error = store
        .init_profile(&inspector("张\0伟", "37030009", "2028-12-31"), None)
        .unwrap_err();
    refused(error, &["执法人员姓名", "U+0000"]);
}

#[test]
fn a_register_with_an_emoji_in_a_name_imports_nothing() {
    let mut csv = DEMO_CSV.to_string();
    csv = csv.replacen("有限公司", "有限公司😀", 1);
    let error = parse_enterprise_csv("enterprises.csv", csv.as_bytes()).unwrap_err();
    refused(
        error,
        &["enterprises.csv", "第 2 行", "U+1F600", "未导入任何企业"],
    );
}

#[test]
fn an_exchange_file_carrying_such_text_is_refused() {
    let a_dir = tempdir().unwrap();
    let mut a = device(a_dir.path(), &zhang());
    let id = start_trade(&mut a, "2026-11-20");
    a.answer_item(
        &id,
        "IT-001",
        "fail",
        &AnswerDetails::default(),
        morning("2026-11-20"),
    )
    .unwrap();
    // Another program wrote the document directly, past the input checks.
    a.update_record(&id, |doc, record| {
        let mut answer = record.answers["IT-001"].clone();
        answer.note = Some("护栏\0缺失".into());
        doc.put_answer("IT-001", &answer)
    })
    .unwrap();
    let b_dir = tempdir().unwrap();
    let mut b = device(b_dir.path(), &li());
    let error = b
        .import_record("x.anjian", &a.export_record(&id).unwrap())
        .unwrap_err();
    refused(error, &["x.anjian", "检查项 IT-001 的备注", "U+0000"]);
    assert!(b.list_records().unwrap().is_empty());
}
