//! Re-inspection: of a submitted inspection's hazards, which are its items; for enforcement
//! only of an issued order, with its opinion document; for the other kinds without an order
//! and without any document.

use anjian_core::agency::{Agency, DocType};
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection, checklist};
use anjian_core::record::{AnswerStatus, RecordKind};
use anjian_core::template::InspectionKind;
use anjian_core::{Error, Store};
use tempfile::{TempDir, tempdir};

use crate::common::*;

const AGENCY: &str = include_str!("../../../templates/agency.example.toml");
const DAY: &str = "2026-11-20";
const LATER: &str = "2026-12-08";

fn li_with_validity() -> Vec<CoInspector> {
    vec![CoInspector::parse("李娜:37030002:2028-06-30").unwrap()]
}

/// An inspection with three hazards and its record and order issued.
fn ordered() -> (TempDir, Store, String) {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let agency = Agency::parse("agency.example.toml", AGENCY).unwrap();
    store.init_profile(&zhang(), Some(&agency)).unwrap();
    for doc_type in DocType::ALL {
        store
            .add_number_block(doc_type, 2026, 1, 99, morning(DAY))
            .unwrap();
    }
    let id = start_trade(&mut store, DAY);
    answer_all_required(&mut store, &id, DAY);
    for (item, deadline) in [
        ("IT-002", "2026-12-05"),
        ("IT-013", "2026-12-05"),
        ("IT-030", "2026-12-05"),
    ] {
        let details = AnswerDetails {
            deadline: Some(date(deadline)),
            ..Default::default()
        };
        store
            .answer_item(&id, item, "fail", &details, morning(DAY))
            .unwrap();
    }
    store
        .issue_document(&id, DocType::Record, morning(DAY))
        .unwrap();
    store
        .issue_document(&id, DocType::Order, morning(DAY))
        .unwrap();
    store.submit_inspection(&id, morning(DAY)).unwrap();
    (dir, store, id)
}

fn answer(
    store: &mut Store,
    id: &str,
    item: &str,
    input: &str,
    details: AnswerDetails,
) -> anjian_core::Result<()> {
    store
        .answer_item(id, item, input, &details, morning(LATER))
        .map(|_| ())
}

#[test]
fn there_is_no_reinspection_without_an_issued_order() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = start_trade(&mut store, DAY);
    let before = snapshot(&store);
    let err = store
        .start_reinspection(&id, &li_with_validity(), None, morning(LATER))
        .unwrap_err();
    assert!(
        err.to_string().contains("没有已签发的责令限期整改指令书"),
        "{err}"
    );
    let err = store
        .start_reinspection("no-such-record", &[], None, morning(LATER))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownRecord(_)), "{err}");
    assert_eq!(snapshot(&store), before);
}

#[test]
fn the_orders_hazards_are_the_items_and_the_opinion_lists_both_outcomes() {
    let (_dir, mut store, order_record) = ordered();
    let original = store.record(&order_record).unwrap();
    let order = original
        .documents
        .iter()
        .find(|d| d.doc_type == DocType::Order)
        .unwrap()
        .clone();

    let re = store
        .start_reinspection(
            &order_record,
            &li_with_validity(),
            Some("一号车间"),
            morning(LATER),
        )
        .unwrap();
    assert_eq!(re.kind, RecordKind::Reinspection);
    let reinspects = re.reinspects.as_ref().unwrap();
    assert_eq!(reinspects.order_number.as_ref(), Some(&order.number));
    assert_eq!(reinspects.order_issued_at, Some(order.issued_at));
    assert_eq!(reinspects.inspected_at, Some(original.started_at));
    assert_eq!(reinspects.record_id, order_record);
    let template = store
        .template(&re.template_id, Some(re.template_version))
        .unwrap();
    assert_eq!(
        checklist(&re, &template)[0].section,
        format!("复查 {}", order.number)
    );
    let items: Vec<&str> = reinspects.hazards.iter().map(|h| h.item.as_str()).collect();
    assert_eq!(items, ["IT-002", "IT-013", "IT-030"]);

    // Only the order's hazards, and only rectified or not.
    let err = answer(
        &mut store,
        &re.id,
        "IT-001",
        "pass",
        AnswerDetails::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::UnknownItem { .. }), "{err}");
    let err = answer(&mut store, &re.id, "IT-002", "na", AnswerDetails::default()).unwrap_err();
    assert!(err.to_string().contains("已整改"), "{err}");

    answer(
        &mut store,
        &re.id,
        "IT-002",
        "pass",
        AnswerDetails {
            note: Some("焊工已取得特种作业操作证".into()),
            ..Default::default()
        },
    )
    .unwrap();
    answer(
        &mut store,
        &re.id,
        "IT-013",
        "fail",
        AnswerDetails::default(),
    )
    .unwrap();
    let err = store
        .issue_document(&re.id, DocType::Reinspection, morning(LATER))
        .unwrap_err();
    assert!(
        err.to_string().contains("IT-030"),
        "unanswered item named: {err}"
    );
    assert!(
        err.to_string().contains("后续处理措施"),
        "follow-up missing: {err}"
    );

    answer(
        &mut store,
        &re.id,
        "IT-013",
        "fail",
        AnswerDetails {
            deadline: Some(date("2026-12-31")),
            ..Default::default()
        },
    )
    .unwrap();
    answer(
        &mut store,
        &re.id,
        "IT-030",
        "fail",
        AnswerDetails {
            measure: Some("逾期未整改，依法立案处罚".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let record = store.record(&re.id).unwrap();
    assert_eq!(record.answers["IT-002"].status, AnswerStatus::Pass);
    assert_eq!(record.hazards.len(), 2, "the outstanding hazards");

    let document = store
        .document(&re.id, DocType::Reinspection, morning(LATER))
        .unwrap();
    assert_eq!(document.number, "（淄）应急复查〔2026〕1号");
    let text = document.to_text();
    for expected in [
        "整改复查意见书",
        "淄博齐林电力设备制造有限公司：",
        &format!(
            "本机关于2026年11月20日作出了责令限期整改的决定[{}]，经对你单位整改情况进行复查，提出如下意见：",
            order.number
        ),
        "以下隐患已整改合格：",
        "（焊工已取得特种作业操作证）。",
        "以下隐患未整改完毕：",
        "1、粉尘爆炸危险场所设置在非框架结构",
        "现责令你单位对上述未整改完毕的第1项问题于2026年12月31日前整改完毕，逾期仍未整改的，本机关将依法立案查处。",
        "逾期未整改，依法立案处罚。",
        "对上述未整改完毕的第2项问题，本机关将依法立案查处。",
        "本文书一式两份：一份由淄博市应急管理局备案，一份交被复查单位。",
        "被复查单位负责人（签名）：",
        "安全生产监管行政执法人员（签名）：李娜（证号 37030002）",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    let rectified = text.find("以下隐患已整改合格").unwrap();
    let outstanding = text.find("以下隐患未整改完毕").unwrap();
    let pass_item = text.find("特种作业人员").unwrap();
    assert!(rectified < pass_item && pass_item < outstanding);

    store.submit_inspection(&re.id, morning(LATER)).unwrap();
}

#[test]
fn a_colleagues_device_reinspects_an_order_it_received() {
    let (_dir, a, order_record) = ordered();
    let dir_b = tempdir().unwrap();
    let mut b = device(dir_b.path(), &li());
    b.import_record("f", &a.export_record(&order_record).unwrap())
        .unwrap();
    let re = b
        .start_reinspection(
            &order_record,
            &[CoInspector::parse("张伟:37030001:2028-12-31").unwrap()],
            None,
            morning(LATER),
        )
        .unwrap();
    let names: Vec<&str> = re.inspectors.iter().map(|i| i.name.as_str()).collect();
    assert!(
        names.contains(&"李娜") && names.contains(&"张伟"),
        "{names:?}"
    );
    assert_eq!(re.created_by_device, b.device_id());
    assert_eq!(re.reinspects.unwrap().hazards.len(), 3);
}

/// 王芳, the factory's safety officer: an enterprise device has an inspector but no agency.
fn officer_device() -> (TempDir, Store) {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &inspector("王芳", "SAFE-0001", "2030-12-31"));
    // With an agency and serials, a refused document is refused by its rules, not for want
    // of a number.
    let agency = Agency::parse("agency.example.toml", AGENCY).unwrap();
    store
        .init_profile(&inspector("王芳", "SAFE-0001", "2030-12-31"), Some(&agency))
        .unwrap();
    for doc_type in DocType::ALL {
        store
            .add_number_block(doc_type, 2026, 1, 99, morning(DAY))
            .unwrap();
    }
    (dir, store)
}

/// The factory's monthly self-inspection, every required item answered, `failed` failing
/// with a deadline.
fn self_inspection(store: &mut Store, failed: &[&str], submit: bool) -> String {
    let id = store
        .start_inspection(
            &StartInspection {
                enterprise: FACTORY.into(),
                template: "self-monthly".into(),
                ..Default::default()
            },
            morning(DAY),
        )
        .unwrap()
        .id;
    answer_all_required(store, &id, DAY);
    for item in failed {
        let details = AnswerDetails {
            deadline: Some(date("2026-12-05")),
            ..Default::default()
        };
        store
            .answer_item(&id, item, "fail", &details, morning(DAY))
            .unwrap();
    }
    if submit {
        store.submit_inspection(&id, morning(DAY)).unwrap();
    }
    id
}

#[test]
fn a_self_inspections_hazards_are_rechecked_without_an_order_or_a_document() {
    let (_dir, mut store) = officer_device();
    let original = self_inspection(&mut store, &["SI-002", "SI-003"], true);

    let re = store
        .start_reinspection(&original, &[], None, morning(LATER))
        .unwrap();
    assert_eq!(re.kind, RecordKind::Reinspection);
    assert_eq!(re.inspection_kind, InspectionKind::SelfInspection);
    assert_eq!(
        (re.template_id.as_str(), re.template_version),
        ("self-monthly", 1)
    );
    assert_eq!(re.inspectors.len(), 1, "the officer alone");
    let reinspects = re.reinspects.as_ref().unwrap();
    assert_eq!(reinspects.record_id, original);
    assert_eq!(reinspects.order_number, None);
    assert_eq!(reinspects.order_issued_at, None);
    assert_eq!(reinspects.inspected_at, Some(morning(DAY)));
    let template = store.template("self-monthly", Some(1)).unwrap();
    let items = checklist(&re, &template);
    let codes: Vec<&str> = items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes, ["SI-002", "SI-003"]);
    assert!(
        items
            .iter()
            .all(|i| i.section == "整改复查（2026-11-20检查）")
    );
    assert!(
        items[0].guidance.contains("对照原检查记录"),
        "{}",
        items[0].guidance
    );
    // Read back from the store, the same record.
    assert_eq!(store.record(&re.id).unwrap(), re);

    let err = answer(
        &mut store,
        &re.id,
        "SI-001",
        "pass",
        AnswerDetails::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("整改复查（2026-11-20检查）"),
        "{err}"
    );
    let err = answer(&mut store, &re.id, "SI-002", "na", AnswerDetails::default()).unwrap_err();
    assert!(err.to_string().contains("已整改"), "{err}");
    answer(
        &mut store,
        &re.id,
        "SI-002",
        "pass",
        AnswerDetails::default(),
    )
    .unwrap();
    answer(
        &mut store,
        &re.id,
        "SI-003",
        "fail",
        AnswerDetails {
            deadline: Some(date("2026-12-31")),
            ..Default::default()
        },
    )
    .unwrap();

    // No enforcement document follows it, and none takes a number.
    let before = store.number_register().unwrap();
    for doc_type in DocType::ALL {
        let err = store
            .issue_document(&re.id, doc_type, morning(LATER))
            .unwrap_err();
        assert!(matches!(err, Error::CannotIssue { .. }), "{err}");
    }
    let err = store
        .issue_document(&re.id, DocType::Reinspection, morning(LATER))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("企业自查的整改复查没有责令限期整改指令书，不签发整改复查意见书"),
        "{err}"
    );
    assert_eq!(store.number_register().unwrap(), before);

    let submitted = store.submit_inspection(&re.id, morning(LATER)).unwrap();
    assert_eq!(submitted.hazards.len(), 1, "SI-003 is still outstanding");
}

#[test]
fn a_reinspection_needs_a_submitted_inspection_with_hazards_and_for_enforcement_an_order() {
    let (_dir, mut store) = officer_device();
    let draft = self_inspection(&mut store, &["SI-002"], false);
    let clean = self_inspection(&mut store, &[], true);
    let followed = self_inspection(&mut store, &["SI-002"], true);
    let reinspection = store
        .start_reinspection(&followed, &[], None, morning(LATER))
        .unwrap()
        .id;

    // Enforcement: submitting issues the order with the record, so a submitted inspection
    // with hazards always has one (`no_document_is_lost_to_submitting_first` in
    // inspection.rs); an order but not submitted.
    let ordered_on_submit = start_trade(&mut store, DAY);
    answer_all_required(&mut store, &ordered_on_submit, DAY);
    let details = AnswerDetails {
        deadline: Some(date("2026-12-05")),
        ..Default::default()
    };
    store
        .answer_item(&ordered_on_submit, "IT-002", "fail", &details, morning(DAY))
        .unwrap();
    let submitted = store
        .submit_inspection(&ordered_on_submit, morning(DAY))
        .unwrap();
    assert!(
        submitted
            .documents
            .iter()
            .any(|d| d.doc_type == DocType::Order)
    );
    let unsubmitted = start_trade(&mut store, DAY);
    answer_all_required(&mut store, &unsubmitted, DAY);
    store
        .answer_item(&unsubmitted, "IT-002", "fail", &details, morning(DAY))
        .unwrap();
    for doc_type in [DocType::Record, DocType::Order] {
        store
            .issue_document(&unsubmitted, doc_type, morning(DAY))
            .unwrap();
    }

    let before = snapshot(&store);
    for (id, why) in [
        (&draft, "尚未提交"),
        (&clean, "未发现隐患"),
        (&reinspection, "是复查记录，只有检查记录才能复查"),
        (&unsubmitted, "尚未提交"),
    ] {
        let err = store
            .start_reinspection(id, &li_with_validity(), None, morning(LATER))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains(why), "{why}: {err}");
        assert!(err.to_string().contains("不能复查"), "{err}");
    }
    assert_eq!(snapshot(&store), before);
}
