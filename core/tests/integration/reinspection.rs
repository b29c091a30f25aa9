//! Re-inspection: only of an issued order, its hazards as the items, and its opinion document.

use anjian_core::agency::{Agency, DocType};
use anjian_core::inspection::{AnswerDetails, CoInspector};
use anjian_core::record::{AnswerStatus, RecordKind};
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
    assert_eq!(reinspects.order_number, order.number);
    assert_eq!(reinspects.record_id, order_record);
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
    assert_eq!(document.number, "(淄)安监复查〔2026〕0001号");
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
        "责令于2026年12月31日前整改完毕。",
        "逾期未整改，依法立案处罚。",
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
