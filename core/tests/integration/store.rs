use anjian_core::inspection::AnswerDetails;
use anjian_core::store::COMPACT_AFTER;
use anjian_core::{Error, Store, Template};
use tempfile::tempdir;

use crate::common::*;

/// The trade list as this build ships it.
fn shipped_trade(store: &Store) -> std::sync::Arc<Template> {
    store.template("trade-enforcement", None).unwrap()
}

/// The next version of the trade list: one more item, as a newer build would ship it.
fn trade_v2(store: &Store) -> Template {
    let v1 = shipped_trade(store);
    let text = v1.source_text.replacen(
        &format!("version = {}", v1.version),
        &format!("version = {}", v1.version + 1),
        1,
    ) + r#"
[[items]]
code = "IT-900"
section = "新增"
text = "是否张贴岗位安全风险告知卡"
hazard = "未张贴岗位安全风险告知卡"
legal_basis = "《中华人民共和国安全生产法》第四十四条"
class = "一般"
kind = "check"
required = true
guidance = "现场查看"
"#;
    Template::parse("trade-enforcement.toml", &text).unwrap()
}

#[test]
fn a_record_keeps_its_template_version_after_a_newer_one_ships() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let old = start_trade(&mut store, "2026-11-20");
    let v2 = trade_v2(&store);
    assert!(store.add_template(&v2).unwrap());
    assert!(
        !store.add_template(&v2).unwrap(),
        "adding the same version twice is a no-op"
    );

    let new = start_trade(&mut store, "2026-11-20");
    assert_eq!(store.record(&new).unwrap().template_version, v2.version);
    let record = store.record(&old).unwrap();
    assert_eq!(record.template_version, v2.version - 1);
    // The old record answers against the shipped version, which has no IT-900.
    let err = store
        .answer_item(
            &old,
            "IT-900",
            "pass",
            &AnswerDetails::default(),
            morning("2026-11-20"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::UnknownItem { .. }), "{err}");
    store
        .answer_item(
            &new,
            "IT-900",
            "pass",
            &AnswerDetails::default(),
            morning("2026-11-20"),
        )
        .unwrap();

    // Reopening the store (as after an upgrade of the app) keeps both versions.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.record(&old).unwrap().template_version, v2.version - 1);
    let latest = store.latest_templates().unwrap();
    let trade = latest.iter().find(|t| t.id == "trade-enforcement").unwrap();
    assert_eq!(trade.version, v2.version);
}

#[test]
fn a_changed_template_must_bump_its_version() {
    let dir = tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let v1 = shipped_trade(&store);
    let changed = Template::parse(
        "trade-enforcement.toml",
        &v1.source_text.replacen("是否", "是否确已", 1),
    )
    .unwrap();
    let err = store.add_template(&changed).unwrap_err();
    assert!(
        matches!(err, Error::TemplateVersionReused { version, .. } if version == v1.version),
        "{err}"
    );
}

#[test]
fn a_record_of_an_unknown_template_version_is_not_imported() {
    let (dir_a, dir_b) = (tempdir().unwrap(), tempdir().unwrap());
    let mut a = device(dir_a.path(), &zhang());
    let mut b = device(dir_b.path(), &li());
    let v2 = trade_v2(&a);
    a.add_template(&v2).unwrap();
    let id = start_trade(&mut a, "2026-11-20");
    let before = snapshot(&b);
    let err = b
        .import_record("f", &a.export_record(&id).unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::UnknownTemplate(_)), "{err}");
    assert_eq!(snapshot(&b), before);
}

#[test]
fn many_answers_are_compacted_without_losing_any() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = start_trade(&mut store, "2026-11-20");
    let template = shipped_trade(&store);
    let checks: Vec<String> = template
        .items
        .iter()
        .filter(|i| matches!(i.answer, anjian_core::template::AnswerKind::Check))
        .map(|i| i.code.clone())
        .collect();
    let rounds = COMPACT_AFTER as usize + 5;
    for n in 0..rounds {
        let item = &checks[n % checks.len()];
        let input = if n % 2 == 0 { "pass" } else { "na" };
        store
            .answer_item(
                &id,
                item,
                input,
                &AnswerDetails::default(),
                morning("2026-11-20"),
            )
            .unwrap();
    }
    let in_memory = store.record(&id).unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let reopened = store.record(&id).unwrap();
    assert_eq!(in_memory, reopened);
    assert_eq!(reopened.answers.len(), rounds.min(checks.len()));
    let summary = &store.list_records().unwrap()[0];
    assert_eq!(summary.answered_count as usize, reopened.answers.len());
}

#[test]
fn enterprise_search_and_update() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    assert_eq!(store.enterprises(None).unwrap().len(), 12);
    let mines = store.enterprises(Some("铁矿")).unwrap();
    assert_eq!(mines.len(), 2);
    assert!(store.enterprises(Some("100%")).unwrap().is_empty());

    let mut factory = store
        .enterprise(&anjian_core::enterprise::CreditCode::parse(FACTORY).unwrap())
        .unwrap();
    factory.phone = "0533-1111111".into();
    store.import_enterprises(&[factory.clone()]).unwrap();
    assert_eq!(store.enterprises(None).unwrap().len(), 12);
    assert_eq!(
        store.enterprise(&factory.credit_code).unwrap().phone,
        "0533-1111111"
    );
}

#[test]
fn the_device_id_survives_reopening_and_reinitialising() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = store.device_id().to_string();
    store
        .init_profile(&inspector("张伟", "37030001", "2031-12-31"), None)
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.device_id(), id);
    let me = store.current_inspector().unwrap();
    assert_eq!(me.cert_valid_until, Some(date("2031-12-31")));
}

#[test]
fn two_processes_on_one_device_never_overwrite_each_other() {
    // Two stores on one folder stand for the app and the command line running side by side;
    // each keeps the record open in memory and must notice the other's writes.
    let dir = tempdir().unwrap();
    let mut first = device(dir.path(), &zhang());
    let id = start_trade(&mut first, "2026-11-20");
    let mut second = Store::open(dir.path()).unwrap();
    let at = morning("2026-11-20");
    let none = AnswerDetails::default();
    for round in 0..3 {
        first
            .answer_item(&id, &format!("IT-00{}", round * 2 + 1), "pass", &none, at)
            .unwrap();
        second
            .answer_item(&id, &format!("IT-00{}", round * 2 + 2), "na", &none, at)
            .unwrap();
    }
    let seen_by_first = first.record(&id).unwrap();
    let seen_by_second = second.record(&id).unwrap();
    assert_eq!(seen_by_first, seen_by_second);
    assert_eq!(seen_by_first.answers.len(), 6);
    assert!(seen_by_first.conflicts.is_empty());
    drop((first, second));
    assert_eq!(
        Store::open(dir.path()).unwrap().record(&id).unwrap(),
        seen_by_first
    );
}
