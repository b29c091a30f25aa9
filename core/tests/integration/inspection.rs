use anjian_core::Error;
use anjian_core::agency::DocType;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::record::{AnswerStatus, AnswerValue, Status};
use tempfile::tempdir;

use crate::common::*;

const AGENCY: &str = include_str!("../../../templates/agency.example.toml");

#[test]
fn a_failed_item_creates_a_hazard_with_the_items_basis_and_class() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let details = AnswerDetails {
        note: Some("配电箱门未关闭".into()),
        deadline: Some(date("2026-12-05")),
        measure: Some("立即整改".into()),
        ..Default::default()
    };
    store
        .answer_item(&id, "IT-001", "fail", &details, morning("2026-11-20"))
        .unwrap();
    let record = store.record(&id).unwrap();
    let template = store.template("trade-enforcement", None).unwrap();
    let item = template.item("IT-001").unwrap();
    assert_eq!(record.hazards.len(), 1);
    let hazard = &record.hazards[0];
    assert_eq!(hazard.item, "IT-001");
    assert_eq!(
        hazard.hazard.legal_basis,
        item.legal_basis_on(date("2026-11-20")).text
    );
    assert_eq!(hazard.hazard.class, item.class);
    assert_eq!(hazard.hazard.description, item.hazard);
    assert_eq!(hazard.hazard.deadline, Some(date("2026-12-05")));
    assert_eq!(hazard.hazard.measure.as_deref(), Some("立即整改"));
    assert_eq!(hazard.note.as_deref(), Some("配电箱门未关闭"));
    assert_eq!(record.answers["IT-001"].by.cert, "37030001");
}

#[test]
fn measured_values_are_judged_against_the_threshold_inclusively() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = store
        .start_inspection(
            &StartInspection {
                enterprise: MINE.into(),
                template: "mine-enforcement".into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2028-06-30").unwrap()],
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap()
        .id;
    let template = store.template("mine-enforcement", None).unwrap();
    let (code, min) = template
        .items
        .iter()
        .find_map(|item| match &item.answer {
            anjian_core::template::AnswerKind::Measure { min: Some(min), .. } => {
                Some((item.code.clone(), *min))
            }
            _ => None,
        })
        .expect("the mine list has a measured item with a minimum");
    let at = morning("2026-11-20");
    let none = AnswerDetails::default();

    let exact = store
        .answer_item(&id, &code, &min.to_string(), &none, at)
        .unwrap();
    assert_eq!(exact.status, AnswerStatus::Pass);
    assert_eq!(exact.value, Some(AnswerValue::Number(min)));

    let below = store
        .answer_item(&id, &code, &(min - 0.5).to_string(), &none, at)
        .unwrap();
    assert_eq!(below.status, AnswerStatus::Fail);
    let hazard = below.hazard.unwrap();
    assert!(
        hazard.description.contains("实测"),
        "{}",
        hazard.description
    );

    let err = store
        .answer_item(&id, &code, "thirty", &none, at)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAnswer { .. }), "{err}");
}

#[test]
fn bad_answers_are_refused_and_change_nothing() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let before = snapshot(&store);
    let at = morning("2026-11-20");
    let none = AnswerDetails::default();

    let err = store
        .answer_item(&id, "IT-999", "pass", &none, at)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownItem { .. }), "{err}");
    let err = store
        .answer_item(&id, "IT-001", "maybe", &none, at)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAnswer { .. }), "{err}");
    let early = AnswerDetails {
        deadline: Some(date("2026-11-01")),
        ..Default::default()
    };
    let err = store
        .answer_item(&id, "IT-001", "fail", &early, at)
        .unwrap_err();
    assert!(err.to_string().contains("早于检查日期"), "{err}");
    let deadline_on_pass = AnswerDetails {
        deadline: Some(date("2026-12-01")),
        ..Default::default()
    };
    let err = store
        .answer_item(&id, "IT-001", "pass", &deadline_on_pass, at)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAnswer { .. }), "{err}");
    let missing_photo = AnswerDetails {
        photos: vec![dir.path().join("missing.jpg")],
        ..Default::default()
    };
    let err = store
        .answer_item(&id, "IT-001", "pass", &missing_photo, at)
        .unwrap_err();
    assert!(matches!(err, Error::Photo { .. }), "{err}");
    let err = store
        .answer_item("no-such-record", "IT-001", "pass", &none, at)
        .unwrap_err();
    assert!(matches!(err, Error::UnknownRecord(_)), "{err}");

    assert_eq!(snapshot(&store), before);
}

#[test]
fn answering_again_keeps_the_earlier_note_and_photos() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let photo = dir.path().join("evidence.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff\xe0 jpeg body").unwrap();
    let first = AnswerDetails {
        note: Some("消防通道堆放杂物".into()),
        photos: vec![photo],
        ..Default::default()
    };
    store
        .answer_item(&id, "IT-001", "fail", &first, morning("2026-11-20"))
        .unwrap();
    let second = AnswerDetails {
        deadline: Some(date("2026-11-30")),
        ..Default::default()
    };
    let answer = store
        .answer_item(&id, "IT-001", "fail", &second, morning("2026-11-20"))
        .unwrap();
    assert_eq!(answer.note.as_deref(), Some("消防通道堆放杂物"));
    assert_eq!(answer.photos.len(), 1);
    assert!(store.photo_path(&answer.photos[0]).is_some());
    assert_eq!(answer.hazard.unwrap().deadline, Some(date("2026-11-30")));
}

#[test]
fn submit_requires_every_required_item_and_deadlines() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    match &err {
        Error::Incomplete { problems, .. } => {
            assert!(
                problems.iter().any(|p| p.contains("必查项尚未作答")),
                "{problems:?}"
            );
        }
        other => panic!("{other}"),
    }
    answer_all_required(&mut store, &id, "2026-11-20");
    store
        .answer_item(
            &id,
            "IT-002",
            "fail",
            &AnswerDetails::default(),
            morning("2026-11-20"),
        )
        .unwrap();
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    assert!(
        err.to_string().contains("隐患 IT-002 未设整改期限"),
        "{err}"
    );

    let deadline = AnswerDetails {
        deadline: Some(date("2026-12-20")),
        ..Default::default()
    };
    store
        .answer_item(&id, "IT-002", "fail", &deadline, morning("2026-11-20"))
        .unwrap();
    let record = store.submit_inspection(&id, morning("2026-11-20")).unwrap();
    assert_eq!(record.status, Status::Submitted);
    assert_eq!(record.submitted_by.unwrap().cert, "37030001");
}

#[test]
fn enforcement_needs_two_inspectors_valid_on_the_inspection_date() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    // 李娜's certificate ends 2028-06-30: valid on 2028-06-30, expired on 2028-07-01.
    for (day, ok) in [("2028-06-30", true), ("2028-07-01", false)] {
        let id = start_trade(&mut store, day);
        answer_all_required(&mut store, &id, day);
        let result = store.submit_inspection(&id, morning(day));
        match (ok, result) {
            (true, Ok(record)) => assert_eq!(record.status, Status::Submitted),
            (false, Err(Error::Incomplete { problems, .. })) => {
                assert!(
                    problems.iter().any(|p| p.contains("已于 2028-06-30 到期")),
                    "{problems:?}"
                );
            }
            (ok, result) => panic!("{day}: expected ok={ok}, got {result:?}"),
        }
    }

    // One inspector alone, or a colleague whose validity is unknown, is not enough.
    let id = store
        .start_inspection(
            &StartInspection {
                enterprise: FACTORY.into(),
                template: "trade-enforcement".into(),
                co_inspectors: vec![CoInspector::parse("王强:37039999").unwrap()],
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap()
        .id;
    answer_all_required(&mut store, &id, "2026-11-20");
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    assert!(err.to_string().contains("有效期未知"), "{err}");
}

#[test]
fn a_submitted_record_refuses_every_edit_and_stays_unchanged() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    answer_all_required(&mut store, &id, "2026-11-20");
    store.submit_inspection(&id, morning("2026-11-20")).unwrap();
    let before = snapshot(&store);

    let at = morning("2026-11-21");
    let err = store
        .answer_item(&id, "IT-001", "fail", &AnswerDetails::default(), at)
        .unwrap_err();
    assert!(matches!(err, Error::RecordSubmitted(_)), "{err}");
    assert!(matches!(
        store.submit_inspection(&id, at),
        Err(Error::RecordSubmitted(_))
    ));
    assert!(matches!(
        store.join_inspection(&id),
        Err(Error::RecordSubmitted(_))
    ));
    assert_eq!(snapshot(&store), before);
}

#[test]
fn starting_needs_a_known_enterprise_template_and_a_matching_industry() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    let before = snapshot(&store);
    let start = |enterprise: &str, template: &str| StartInspection {
        enterprise: enterprise.into(),
        template: template.into(),
        ..Default::default()
    };
    let at = morning("2026-11-20");
    assert!(matches!(
        store.start_inspection(&start("914403001922038216", "trade-enforcement"), at),
        Err(Error::UnknownEnterprise(_))
    ));
    assert!(matches!(
        store.start_inspection(&start("914403001922038217", "trade-enforcement"), at),
        Err(Error::InvalidCreditCode { .. })
    ));
    assert!(matches!(
        store.start_inspection(&start(FACTORY, "no-such-list"), at),
        Err(Error::UnknownTemplate(_))
    ));
    assert!(matches!(
        store.start_inspection(&start(FACTORY, "mine-enforcement"), at),
        Err(Error::TemplateNotApplicable { .. })
    ));
    assert_eq!(snapshot(&store), before);

    // The self-inspection list applies to every industry.
    let record = store
        .start_inspection(&start(MINE, "self-monthly"), at)
        .unwrap();
    assert_eq!(record.inspection_kind.as_str(), "self");
    assert_eq!(record.place, record.enterprise.address);
}

#[test]
fn an_uninitialised_device_cannot_inspect() {
    let dir = tempdir().unwrap();
    let mut store = anjian_core::Store::open(dir.path()).unwrap();
    let err = store
        .start_inspection(
            &StartInspection {
                enterprise: FACTORY.into(),
                template: "trade-enforcement".into(),
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::NotInitialized));
}

#[test]
fn no_document_is_lost_to_submitting_first() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    with_serials(&mut store, &zhang());
    // A new user's path: answer, find a hazard, tap 提交 before 出具文书.
    let id = start_trade(&mut store, "2026-11-20");
    answer_all_required(&mut store, &id, "2026-11-20");
    let deadline = AnswerDetails {
        deadline: Some(date("2026-12-20")),
        ..Default::default()
    };
    store
        .answer_item(&id, "IT-002", "fail", &deadline, morning("2026-11-20"))
        .unwrap();
    let record = store.submit_inspection(&id, morning("2026-11-20")).unwrap();
    assert_eq!(record.status, Status::Submitted);
    let types: Vec<DocType> = record.documents.iter().map(|d| d.doc_type).collect();
    assert_eq!(types, [DocType::Record, DocType::Order]);
    // Both render after the submission, with the numbers issued with it.
    for (doc_type, number) in [
        (DocType::Record, "（淄）应急检记〔2026〕1号"),
        (DocType::Order, "（淄）应急责改〔2026〕1号"),
    ] {
        let document = store
            .document(&id, doc_type, morning("2026-11-21"))
            .unwrap();
        assert_eq!(document.number, number);
    }
    assert_eq!(store.number_register().unwrap().len(), 2);

    // Without hazards, the record only; a self-inspection issues nothing.
    let clean = start_trade(&mut store, "2026-11-20");
    answer_all_required(&mut store, &clean, "2026-11-20");
    let record = store
        .submit_inspection(&clean, morning("2026-11-20"))
        .unwrap();
    let types: Vec<DocType> = record.documents.iter().map(|d| d.doc_type).collect();
    assert_eq!(types, [DocType::Record]);
    let own = store
        .start_inspection(
            &StartInspection {
                enterprise: FACTORY.into(),
                template: "self-monthly".into(),
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap()
        .id;
    answer_all_required(&mut store, &own, "2026-11-20");
    let record = store
        .submit_inspection(&own, morning("2026-11-20"))
        .unwrap();
    assert!(record.documents.is_empty());
}

#[test]
fn submitting_is_refused_naming_the_document_that_cannot_be_issued() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    answer_all_required(&mut store, &id, "2026-11-20");
    // No agency configured: nothing can be issued, so nothing is submitted.
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    assert!(matches!(err, Error::NoAgency), "{err}");
    let agency = anjian_core::agency::Agency::parse("agency.example.toml", AGENCY).unwrap();
    store.init_profile(&zhang(), Some(&agency)).unwrap();
    let before = snapshot(&store);
    let err = store
        .submit_inspection(&id, morning("2026-11-20"))
        .unwrap_err();
    assert!(matches!(err, Error::Incomplete { .. }), "{err}");
    assert!(
        err.to_string().contains("提交时须同时签发现场检查记录")
            && err.to_string().contains("号段"),
        "{err}"
    );
    assert_eq!(snapshot(&store), before);
    assert!(store.number_register().unwrap().is_empty());

    // A colleague's device holds the record but cannot issue its documents: it says where to
    // submit instead.
    let dir_b = tempdir().unwrap();
    let mut b = device(dir_b.path(), &li());
    with_serials(&mut b, &li());
    b.import_record("f", &store.export_record(&id).unwrap())
        .unwrap();
    b.join_inspection(&id).unwrap();
    let err = b.submit_inspection(&id, morning("2026-11-20")).unwrap_err();
    assert!(
        err.to_string().contains("创建此记录的设备") && err.to_string().contains(store.device_id()),
        "{err}"
    );
}
