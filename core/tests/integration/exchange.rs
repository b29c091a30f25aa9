use anjian_core::inspection::StartInspection;
use tempfile::tempdir;

use crate::common::*;

#[test]
fn an_exported_record_arrives_whole_on_a_new_device() {
    let (dir_a, dir_b) = (tempdir().unwrap(), tempdir().unwrap());
    let mut a = device(dir_a.path(), &zhang());
    let mut b = anjian_core::Store::open(dir_b.path()).unwrap();
    let id = a
        .start_inspection(
            &StartInspection {
                enterprise: MINE.into(),
                template: "self-monthly".into(),
                place: Some("井口".into()),
                ..Default::default()
            },
            morning("2026-11-02"),
        )
        .unwrap()
        .id;
    a.answer_item(
        &id,
        "SI-001",
        "pass",
        &Default::default(),
        morning("2026-11-02"),
    )
    .unwrap();
    let outcome = b
        .import_record("f", &a.export_record(&id).unwrap())
        .unwrap();
    assert!(outcome.created && outcome.changed);
    // B has neither the enterprise nor the inspector registered: the record carries both.
    let record = b.record(&id).unwrap();
    assert_eq!(record, a.record(&id).unwrap());
    assert_eq!(record.enterprise.name, "淄博黑旺铁矿有限公司");
    assert_eq!(b.list_records().unwrap()[0].place, "井口");
}
