//! Two tablets on one inspection, offline, exchanging files.

use anjian_core::Error;
use anjian_core::Store;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::record::{AnswerStatus, Record};
use tempfile::{TempDir, tempdir};

use crate::common::*;

struct Pair {
    _dirs: (TempDir, TempDir),
    a: Store,
    b: Store,
    id: String,
}

/// 张伟 starts on tablet A naming 李娜; 李娜 imports it on tablet B and joins.
fn pair() -> Pair {
    let (dir_a, dir_b) = (tempdir().unwrap(), tempdir().unwrap());
    let mut a = device(dir_a.path(), &zhang());
    with_serials(&mut a, &zhang());
    let mut b = device(dir_b.path(), &li());
    let id = a
        .start_inspection(
            &StartInspection {
                enterprise: CHEMICAL_PLANT.into(),
                template: "hazchem-enforcement".into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2028-06-30").unwrap()],
                ..Default::default()
            },
            morning("2026-11-20"),
        )
        .unwrap()
        .id;
    send(&a, &mut b, &id);
    b.join_inspection(&id).unwrap();
    Pair {
        _dirs: (dir_a, dir_b),
        a,
        b,
        id,
    }
}

fn send(from: &Store, to: &mut Store, id: &str) -> anjian_core::store::ImportOutcome {
    let file = from.export_record(id).unwrap();
    to.import_record("exchange.anjian", &file).unwrap()
}

fn answer(store: &mut Store, id: &str, item: &str, input: &str, note: Option<&str>) {
    let details = AnswerDetails {
        note: note.map(str::to_string),
        ..Default::default()
    };
    store
        .answer_item(id, item, input, &details, morning("2026-11-20"))
        .unwrap();
}

fn same_state(a: &Record, b: &Record) {
    assert_eq!(a.heads, b.heads);
    assert_eq!(a.answers, b.answers);
    assert_eq!(a.conflicts, b.conflicts);
    assert_eq!(a.inspectors, b.inspectors);
}

#[test]
fn answers_to_different_items_merge_without_conflict() {
    let mut p = pair();
    for item in ["HC-001", "HC-002", "HC-003"] {
        answer(&mut p.a, &p.id, item, "pass", None);
    }
    answer(
        &mut p.b,
        &p.id,
        "HC-010",
        "fail",
        Some("储罐区未设紧急切断"),
    );
    answer(&mut p.b, &p.id, "HC-011", "pass", None);
    send(&p.a, &mut p.b, &p.id);
    send(&p.b, &mut p.a, &p.id);

    let (ra, rb) = (p.a.record(&p.id).unwrap(), p.b.record(&p.id).unwrap());
    same_state(&ra, &rb);
    assert_eq!(ra.answers.len(), 5);
    assert!(ra.conflicts.is_empty());
    assert_eq!(ra.answers["HC-001"].by.name, "张伟");
    assert_eq!(ra.answers["HC-010"].by.name, "李娜");
    assert_eq!(ra.hazards.len(), 1);
    assert_eq!(ra.inspectors.len(), 2);
}

#[test]
fn different_answers_to_one_item_are_shown_as_a_conflict_until_resolved() {
    let mut p = pair();
    answer(
        &mut p.a,
        &p.id,
        "HC-005",
        "pass",
        Some("自动化控制系统投用"),
    );
    answer(&mut p.b, &p.id, "HC-005", "fail", Some("2号反应釜联锁摘除"));
    send(&p.a, &mut p.b, &p.id);
    send(&p.b, &mut p.a, &p.id);

    let (ra, rb) = (p.a.record(&p.id).unwrap(), p.b.record(&p.id).unwrap());
    same_state(&ra, &rb);
    assert_eq!(ra.conflicts.len(), 1);
    let conflict = &ra.conflicts[0];
    assert_eq!(conflict.item, "HC-005");
    let mut seen: Vec<(AnswerStatus, &str)> = conflict
        .values
        .iter()
        .map(|v| (v.status, v.by.name.as_str()))
        .collect();
    seen.sort_by_key(|(_, who)| *who);
    assert_eq!(
        seen,
        [(AnswerStatus::Pass, "张伟"), (AnswerStatus::Fail, "李娜")]
    );

    // A conflicted record cannot be submitted.
    let err =
        p.a.submit_inspection(&p.id, morning("2026-11-20"))
            .unwrap_err();
    assert!(err.to_string().contains("HC-005"), "{err}");

    // 张伟 keeps 李娜's finding; once the resolution reaches B the conflict is gone there too.
    let choice = 1 + conflict
        .values
        .iter()
        .position(|v| v.by.name == "李娜")
        .unwrap();
    let kept =
        p.a.resolve_conflict(&p.id, "HC-005", choice, morning("2026-11-20"))
            .unwrap();
    assert_eq!(kept.status, AnswerStatus::Fail);
    assert_eq!(kept.resolved_by.unwrap().name, "张伟");
    send(&p.a, &mut p.b, &p.id);
    let rb = p.b.record(&p.id).unwrap();
    assert!(rb.conflicts.is_empty());
    assert_eq!(
        rb.answers["HC-005"].note.as_deref(),
        Some("2号反应釜联锁摘除")
    );
    assert_eq!(rb.hazards.len(), 1);
}

#[test]
fn the_same_answer_given_on_both_tablets_is_no_conflict() {
    let mut p = pair();
    answer(&mut p.a, &p.id, "HC-007", "pass", None);
    answer(&mut p.b, &p.id, "HC-007", "pass", None);
    send(&p.b, &mut p.a, &p.id);
    let record = p.a.record(&p.id).unwrap();
    assert!(record.conflicts.is_empty());
    assert_eq!(record.answers["HC-007"].status, AnswerStatus::Pass);
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let mut p = pair();
    answer(&mut p.a, &p.id, "HC-001", "pass", None);
    let file = p.a.export_record(&p.id).unwrap();
    let first = p.b.import_record("f", &file).unwrap();
    assert!(first.changed && !first.created);
    let before = snapshot(&p.b);
    let second = p.b.import_record("f", &file).unwrap();
    assert!(!second.changed && !second.created);
    assert_eq!(snapshot(&p.b), before);
}

#[test]
fn a_corrupted_file_is_refused_and_the_store_is_untouched() {
    let mut p = pair();
    answer(&mut p.a, &p.id, "HC-001", "pass", None);
    let file = p.a.export_record(&p.id).unwrap();
    let before = snapshot(&p.b);
    let mut flipped = file.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0xff;
    for bad in [&file[..file.len() / 2], &flipped[..], b"hello".as_slice()] {
        let err = p.b.import_record("bad.anjian", bad).unwrap_err();
        assert!(matches!(err, Error::CorruptExport { .. }), "{err}");
    }
    // A well-formed file whose payload is not an Automerge document.
    let forged = anjian_core::exchange::encode(&p.id, b"not automerge at all");
    let err = p.b.import_record("forged.anjian", &forged).unwrap_err();
    assert!(matches!(err, Error::CorruptExport { .. }), "{err}");
    assert_eq!(snapshot(&p.b), before);
}

#[test]
fn late_changes_do_not_enter_a_record_submitted_here() {
    let mut p = pair();
    answer_all_required(&mut p.a, &p.id, "2026-11-20");
    p.a.submit_inspection(&p.id, morning("2026-11-20")).unwrap();
    answer(&mut p.b, &p.id, "HC-002", "fail", Some("补充发现"));
    let before = snapshot(&p.a);
    let file = p.b.export_record(&p.id).unwrap();
    let err = p.a.import_record("late.anjian", &file).unwrap_err();
    assert!(matches!(err, Error::RecordSubmitted(_)), "{err}");
    assert_eq!(snapshot(&p.a), before);
    // The late answer is still on B, and B learns of the submission by importing A's copy.
    send(&p.a, &mut p.b, &p.id);
    let rb = p.b.record(&p.id).unwrap();
    assert_eq!(rb.status, anjian_core::record::Status::Submitted);
    // A answered HC-002 too, so B now shows both answers side by side: nothing was dropped.
    let kept = rb
        .conflicts
        .iter()
        .filter(|c| c.item == "HC-002")
        .flat_map(|c| &c.values)
        .any(|v| v.note.as_deref() == Some("补充发现"));
    assert!(kept, "{:?}", rb.conflicts);
}
