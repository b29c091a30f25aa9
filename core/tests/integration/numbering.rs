//! Document numbers offline: blocks, issuing with the record change, voids, and the rules for
//! issuing each document.

use anjian_core::agency::{Agency, DocType};
use anjian_core::inspection::AnswerDetails;
use anjian_core::record::Status;
use anjian_core::{Error, Store};
use tempfile::tempdir;

use crate::common::*;

const AGENCY: &str = include_str!("../../../templates/agency.example.toml");

fn agency_device(dir: &std::path::Path) -> Store {
    let mut store = device(dir, &zhang());
    let agency = Agency::parse("agency.example.toml", AGENCY).unwrap();
    store.init_profile(&zhang(), Some(&agency)).unwrap();
    store
}

/// A complete factory inspection with one hazard, ready for its documents.
fn inspected(store: &mut Store, day: &str) -> String {
    let id = start_trade(store, day);
    answer_all_required(store, &id, day);
    let finding = AnswerDetails {
        deadline: Some(date(day) + chrono::Days::new(30)),
        ..Default::default()
    };
    store
        .answer_item(&id, "IT-002", "fail", &finding, morning(day))
        .unwrap();
    id
}

fn register(store: &Store) -> Vec<(String, String)> {
    store
        .number_register()
        .unwrap()
        .into_iter()
        .map(|e| (e.number, e.state))
        .collect()
}

#[test]
fn documents_take_consecutive_numbers_and_keep_them() {
    let dir = tempdir().unwrap();
    let mut store = agency_device(dir.path());
    let at = morning("2026-11-20");
    store
        .add_number_block(DocType::Record, 2026, 11, 13, at)
        .unwrap();
    store
        .add_number_block(DocType::Order, 2026, 1, 50, at)
        .unwrap();

    let first = inspected(&mut store, "2026-11-20");
    let second = inspected(&mut store, "2026-11-20");
    let record_1 = store.issue_document(&first, DocType::Record, at).unwrap();
    let record_2 = store.issue_document(&second, DocType::Record, at).unwrap();
    assert_eq!(record_1.number, "（淄）应急检记〔2026〕11号");
    assert_eq!(record_2.number, "（淄）应急检记〔2026〕12号");
    let order = store.issue_document(&first, DocType::Order, at).unwrap();
    assert_eq!(order.number, "（淄）应急责改〔2026〕1号");

    // Issuing again gives the same document and takes no number.
    assert_eq!(
        store.issue_document(&first, DocType::Record, at).unwrap(),
        record_1
    );
    assert_eq!(register(&store).len(), 3);
    let record = store.record(&first).unwrap();
    assert_eq!(record.documents.len(), 2);
    assert_eq!(record.documents[1].number, order.number);

    // The last serial of the record block, then none left.
    let third = inspected(&mut store, "2026-11-20");
    assert_eq!(
        store
            .issue_document(&third, DocType::Record, at)
            .unwrap()
            .number,
        "（淄）应急检记〔2026〕13号"
    );
    let fourth = inspected(&mut store, "2026-11-20");
    let before = snapshot(&store);
    let err = store
        .issue_document(&fourth, DocType::Record, at)
        .unwrap_err();
    assert!(
        matches!(err, Error::NoSerialLeft { year: 2026, .. }),
        "{err}"
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn a_voided_serial_is_skipped_and_explained() {
    let dir = tempdir().unwrap();
    let mut store = agency_device(dir.path());
    let at = morning("2026-11-20");
    store
        .add_number_block(DocType::Record, 2026, 1, 10, at)
        .unwrap();
    let voided = store
        .void_number("（淄）应急检记〔2026〕1号", "纸质文书打印损坏", at)
        .unwrap();
    assert_eq!(voided.reason.as_deref(), Some("纸质文书打印损坏"));
    let id = inspected(&mut store, "2026-11-20");
    let issued = store.issue_document(&id, DocType::Record, at).unwrap();
    assert_eq!(issued.number, "（淄）应急检记〔2026〕2号");

    for (number, reason, why) in [
        ("（淄）应急检记〔2026〕2号", "x", "已签发"),
        ("（淄）应急检记〔2026〕1号", "x", "已作废"),
        ("（淄）应急检记〔2026〕11号", "x", "号段"),
        ("（淄）应急检记〔2026〕3号", " ", "原因"),
        ("检记-3", "x", "编号格式"),
    ] {
        let err = store.void_number(number, reason, at).unwrap_err();
        assert!(
            matches!(&err, Error::NumberNotVoidable { reason, .. } if reason.contains(why)),
            "{number}: {err}"
        );
    }
    let blocks = store.number_blocks().unwrap();
    assert_eq!(
        (blocks[0].issued, blocks[0].voided, blocks[0].remaining),
        (1, 1, 8)
    );
    assert_eq!(blocks[0].next.as_deref(), Some("（淄）应急检记〔2026〕3号"));
}

#[test]
fn blocks_must_be_valid_and_must_not_overlap() {
    let dir = tempdir().unwrap();
    let mut store = agency_device(dir.path());
    let at = morning("2026-11-20");
    store
        .add_number_block(DocType::Order, 2026, 100, 199, at)
        .unwrap();
    for (first, last) in [(150, 250), (50, 100), (0, 10), (20, 10)] {
        assert!(
            store
                .add_number_block(DocType::Order, 2026, first, last, at)
                .is_err(),
            "{first}-{last}"
        );
    }
    // Another year or another type is a separate series.
    store
        .add_number_block(DocType::Order, 2027, 100, 199, at)
        .unwrap();
    store
        .add_number_block(DocType::Record, 2026, 100, 199, at)
        .unwrap();
    assert_eq!(store.number_blocks().unwrap().len(), 3);
}

#[test]
fn an_order_needs_hazards_and_the_inspection_record_first() {
    let dir = tempdir().unwrap();
    let mut store = agency_device(dir.path());
    let at = morning("2026-11-20");
    store
        .add_number_block(DocType::Record, 2026, 1, 10, at)
        .unwrap();
    store
        .add_number_block(DocType::Order, 2026, 1, 10, at)
        .unwrap();

    let clean = start_trade(&mut store, "2026-11-20");
    answer_all_required(&mut store, &clean, "2026-11-20");
    let err = store
        .issue_document(&clean, DocType::Order, at)
        .unwrap_err();
    match &err {
        Error::CannotIssue { problems, .. } => {
            assert!(
                problems.iter().any(|p| p.contains("未发现隐患")),
                "{problems:?}"
            );
            assert!(
                problems.iter().any(|p| p.contains("应先制作现场检查记录")),
                "{problems:?}"
            );
        }
        other => panic!("{other}"),
    }
    let err = store
        .issue_document(&clean, DocType::Reinspection, at)
        .unwrap_err();
    assert!(err.to_string().contains("复查记录"), "{err}");

    let incomplete = start_trade(&mut store, "2026-11-20");
    let err = store
        .issue_document(&incomplete, DocType::Record, at)
        .unwrap_err();
    assert!(err.to_string().contains("必查项尚未作答"), "{err}");
    assert!(
        register(&store).is_empty(),
        "a refused document takes no number"
    );
}

#[test]
fn an_expired_certificate_on_the_issue_date_refuses_the_document() {
    let dir = tempdir().unwrap();
    let mut store = agency_device(dir.path());
    // 李娜's certificate is valid until 2028-06-30: inspected on the 30th, issued on 1 July.
    let day = "2028-06-30";
    store
        .add_number_block(DocType::Record, 2028, 1, 10, morning(day))
        .unwrap();
    let id = inspected(&mut store, day);
    let err = store
        .issue_document(&id, DocType::Record, morning("2028-07-01"))
        .unwrap_err();
    assert!(err.to_string().contains("已于 2028-06-30 到期"), "{err}");
    assert!(register(&store).is_empty());
    store
        .issue_document(&id, DocType::Record, morning(day))
        .unwrap();
}

#[test]
fn only_the_device_that_created_a_record_issues_its_documents() {
    let (dir_a, dir_b) = (tempdir().unwrap(), tempdir().unwrap());
    let mut a = agency_device(dir_a.path());
    let mut b = device(dir_b.path(), &li());
    let agency = Agency::parse("agency.example.toml", AGENCY).unwrap();
    b.init_profile(&li(), Some(&agency)).unwrap();
    b.add_number_block(DocType::Record, 2026, 1, 10, morning("2026-11-20"))
        .unwrap();
    let id = inspected(&mut a, "2026-11-20");
    b.import_record("f", &a.export_record(&id).unwrap())
        .unwrap();
    let err = b
        .issue_document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap_err();
    assert!(err.to_string().contains("创建此记录的设备"), "{err}");
}

#[test]
fn issuing_needs_an_agency_and_a_draft_record() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = inspected(&mut store, "2026-11-20");
    let err = store
        .issue_document(&id, DocType::Record, morning("2026-11-20"))
        .unwrap_err();
    assert!(matches!(err, Error::NoAgency), "{err}");

    let mut store = agency_device(dir.path());
    store
        .add_number_block(DocType::Record, 2026, 1, 10, morning("2026-11-20"))
        .unwrap();
    // Submitting issues the documents the record still lacks, in the same transaction: with no
    // serial for the order left, nothing is submitted and nothing issued.
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    assert!(
        err.to_string().contains("责令限期整改指令书") && err.to_string().contains("号段"),
        "{err}"
    );
    assert!(register(&store).is_empty());
    assert_eq!(store.record(&id).unwrap().status, Status::Draft);

    store
        .add_number_block(DocType::Order, 2026, 1, 10, morning("2026-11-20"))
        .unwrap();
    let submitted = store.submit_inspection(&id, morning("2026-11-20")).unwrap();
    let numbers: Vec<&str> = submitted
        .documents
        .iter()
        .map(|d| d.number.as_str())
        .collect();
    assert_eq!(
        numbers,
        ["（淄）应急检记〔2026〕1号", "（淄）应急责改〔2026〕1号"]
    );
    // Asking for a document after the submission gives the one issued with it.
    let again = store
        .issue_document(&id, DocType::Order, morning("2026-11-21"))
        .unwrap();
    assert_eq!(again.number, numbers[1]);
    assert_eq!(register(&store).len(), 2);
}
