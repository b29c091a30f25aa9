//! The checklist an inspection asks: the legal basis in force on its date, and the 10号令
//! items of the enterprise's 细分行业 and special operations.

use anjian_core::Error;
use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::inspection::{
    AnswerDetails, CoInspector, StartInspection, checklist, completion_problems,
};
use anjian_core::store::Store;
use tempfile::tempdir;

use crate::common::*;

/// 淄博粮丰面粉有限公司: 工贸, 轻工, 粉尘涉爆 in the demo register.
const FLOUR_MILL: &str = "91370322078106871M";

fn start(store: &mut Store, enterprise: &str, template: &str, day: &str) -> String {
    store
        .start_inspection(
            &StartInspection {
                enterprise: enterprise.into(),
                template: template.into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2028-06-30").unwrap()],
                place: None,
                gps: None,
            },
            morning(day),
        )
        .unwrap()
        .id
}

fn fail(store: &mut Store, id: &str, item: &str, day: &str) -> String {
    let details = AnswerDetails {
        deadline: Some(date("2026-12-31")),
        ..Default::default()
    };
    store
        .answer_item(id, item, "fail", &details, morning(day))
        .unwrap();
    let record = store.record(id).unwrap();
    let hazard = record.hazards.iter().find(|h| h.item == item).unwrap();
    hazard.hazard.legal_basis.clone()
}

#[test]
fn a_hazard_cites_the_regulation_before_the_new_law_and_the_law_from_2026_05_01() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let april = start(
        &mut store,
        CHEMICAL_PLANT,
        "hazchem-enforcement",
        "2026-04-30",
    );
    let may = start(
        &mut store,
        CHEMICAL_PLANT,
        "hazchem-enforcement",
        "2026-05-01",
    );

    let before = fail(&mut store, &april, "HC-037", "2026-04-30");
    assert!(
        before.contains("《危险化学品安全管理条例》第二十四条"),
        "{before}"
    );
    assert!(!before.contains("危险化学品安全法"), "{before}");
    let after = fail(&mut store, &may, "HC-037", "2026-05-01");
    assert!(
        after.contains("《中华人民共和国危险化学品安全法》"),
        "{after}"
    );
    assert!(!after.contains("安全管理条例"), "{after}");

    // Answering later does not move an inspection into the new law: its date is its start.
    let late = fail(&mut store, &april, "HC-038", "2026-05-06");
    assert!(
        late.contains("《危险化学品安全管理条例》第二十五条"),
        "{late}"
    );
}

#[test]
fn an_inspection_asks_the_order_10_items_of_the_enterprise_s_sector_only() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let id = start(&mut store, FLOUR_MILL, "trade-enforcement", "2026-11-20");
    let record = store.record(&id).unwrap();
    assert_eq!(record.enterprise.sector.as_deref(), Some("轻工"));
    assert_eq!(
        record.enterprise.special_operations,
        Some(vec!["粉尘涉爆".to_string()])
    );
    let template = store
        .template(&record.template_id, Some(record.template_version))
        .unwrap();
    let asked = checklist(&record, &template);
    assert!(asked.len() < template.items.len());
    assert!(asked.iter().any(|i| i.sectors == ["轻工"]));
    assert!(
        asked
            .iter()
            .any(|i| i.special.as_deref() == Some("粉尘涉爆"))
    );
    assert!(
        asked
            .iter()
            .all(|i| (i.sectors.is_empty() || i.sectors == ["轻工"])
                && (i.special.is_none() || i.special.as_deref() == Some("粉尘涉爆")))
    );

    // A 冶金 item is not this record's: it can be neither answered nor owed.
    let err = store
        .answer_item(
            &id,
            "IT-004",
            "pass",
            &AnswerDetails::default(),
            morning("2026-11-20"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::UnknownItem { .. }), "{err}");
    answer_all_required(&mut store, &id, "2026-11-20");
    let record = store.record(&id).unwrap();
    assert_eq!(
        completion_problems(&record, &template),
        Vec::<String>::new()
    );

    // The factory's register row says neither: it is asked every item.
    let factory = start_trade(&mut store, "2026-11-20");
    let record = store.record(&factory).unwrap();
    assert_eq!(checklist(&record, &template).len(), template.items.len());
}

#[test]
fn an_older_register_imported_again_keeps_the_sector_it_does_not_mention() {
    let dir = tempdir().unwrap();
    let mut store = device(dir.path(), &zhang());
    let code = anjian_core::enterprise::CreditCode::parse(FLOUR_MILL).unwrap();
    let old_row = DEMO_CSV
        .lines()
        .find(|line| line.starts_with(FLOUR_MILL))
        .unwrap()
        .trim_end_matches(",轻工,粉尘涉爆");
    let old_register =
        format!("统一社会信用代码,单位名称,地址,行业,区划代码,法定代表人,联系电话\n{old_row}\n");
    let enterprises = parse_enterprise_csv("old.csv", old_register.as_bytes()).unwrap();
    assert_eq!(enterprises[0].sector, None);
    store.import_enterprises(&enterprises).unwrap();
    let kept = store.enterprise(&code).unwrap();
    assert_eq!(kept.sector.as_deref(), Some("轻工"));
    assert_eq!(kept.special_operations, Some(vec!["粉尘涉爆".to_string()]));
}
