//! The upgrade ladder, run on a store file written by version 1 of the schema
//! (`tests/fixtures/store-v1.sqlite3`, made as `tests/fixtures/README.md` describes).

use anjian_core::Store;
use anjian_core::inspection::AnswerDetails;
use anjian_core::record::Status;
use rusqlite::Connection;
use tempfile::tempdir;

use crate::common::*;

const FIXTURE: &[u8] = include_bytes!("../fixtures/store-v1.sqlite3");

/// Every table and index as SQLite describes it, with whitespace normalised.
fn schema_of(path: &std::path::Path) -> Vec<(String, String)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| {
        let sql: String = row.get(1)?;
        Ok((
            row.get(0)?,
            sql.split_whitespace().collect::<Vec<_>>().join(" "),
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn user_version(path: &std::path::Path) -> u32 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_version_1_store_upgrades_to_the_fresh_schema_and_keeps_its_records() {
    let old = tempdir().unwrap();
    let db = old.path().join("anjian.sqlite3");
    std::fs::write(&db, FIXTURE).unwrap();
    assert_eq!(user_version(&db), 1);

    let mut store = Store::open(old.path()).unwrap();
    let fresh = tempdir().unwrap();
    drop(Store::open(fresh.path()).unwrap());
    assert_eq!(
        schema_of(&db),
        schema_of(&fresh.path().join("anjian.sqlite3"))
    );
    assert_eq!(user_version(&db), anjian_core::store::SCHEMA_VERSION);

    // The record written by version 1 reads, and can be worked on with the new change log.
    let records = store.list_records().unwrap();
    assert_eq!(records.len(), 1);
    let id = records[0].id.clone();
    let record = store.record(&id).unwrap();
    assert_eq!(record.status, Status::Draft);
    assert_eq!(record.enterprise.credit_code.as_str(), FACTORY);
    assert_eq!(record.answers["IT-001"].status.as_str(), "fail");
    store
        .answer_item(
            &id,
            "IT-002",
            "pass",
            &AnswerDetails::default(),
            morning("2026-03-02"),
        )
        .unwrap();
    assert_eq!(store.record(&id).unwrap().answers.len(), 2);
    assert_eq!(store.current_inspector().unwrap().name, "张伟");
}

#[test]
fn a_store_from_a_newer_program_is_refused() {
    let dir = tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let db = dir.path().join("anjian.sqlite3");
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, anjian_core::Error::StoreTooNew { found: 99, .. }),
        "{err}"
    );
}
