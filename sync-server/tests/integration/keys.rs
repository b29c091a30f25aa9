//! The signing keys against what the database remembers (issue 19, finding 2): a key is made
//! only on the first start of an empty database; afterwards a missing or different key file is
//! refused, saying what is wrong; rotation keeps the older keys' receipts verifiable; a database
//! from before keys were recorded adopts only the key that signed its audit log.
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::Path;

use anjian_server::keys::{self, FirstStart};
use anjian_server::store::Store;

fn fresh(dir: &Path) -> Store {
    Store::open_sqlite(&dir.join("server.sqlite3")).unwrap()
}

#[test]
fn a_key_is_made_once_and_a_missing_or_foreign_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh(dir.path());
    let path = dir.path().join(keys::KEY_FILE);

    // Tools that only read never make a key.
    let error = keys::open(&store, &path, FirstStart::Refuse).unwrap_err();
    assert!(error.contains("不存在"), "{error}");
    assert!(!path.exists());

    let (first, created) = keys::open(&store, &path, FirstStart::Generate).unwrap();
    assert!(created);
    let (again, created) = keys::open(&store, &path, FirstStart::Generate).unwrap();
    assert!(!created);
    assert_eq!(again.key_id(), first.key_id());
    assert_eq!(store.signing_keys().unwrap().len(), 1);

    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let error = keys::open(&store, &path, FirstStart::Generate).unwrap_err();
    assert!(
        error.contains("不存在") && error.contains(first.key_id()),
        "{error}"
    );
    assert!(!path.exists(), "a missing key is never replaced");

    std::fs::write(&path, "33".repeat(32)).unwrap();
    let error = keys::open(&store, &path, FirstStart::Generate).unwrap_err();
    assert!(error.contains("不是本服务器的密钥"), "{error}");

    std::fs::write(&path, &original).unwrap();
    let (rotated, retired) = keys::rotate(&store, &path).unwrap();
    assert_ne!(rotated.key_id(), first.key_id());
    assert_eq!(
        rotated
            .known()
            .iter()
            .map(|k| k.key_id.as_str())
            .collect::<Vec<_>>(),
        [rotated.key_id(), first.key_id()],
        "current first, the older key kept"
    );
    // The retired key's file is refused as the current one.
    std::fs::copy(&retired, &path).unwrap();
    let error = keys::open(&store, &path, FirstStart::Generate).unwrap_err();
    assert!(error.contains("旧密钥"), "{error}");
}

#[test]
fn a_database_from_before_recorded_keys_adopts_only_the_key_that_signed_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("anjian-server.sqlite3");
    // Schema version 1, with one lock signed by a key whose secret is not in the fixture.
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/server-v1.sqlite3"
        ),
        &database,
    )
    .unwrap();
    let store = Store::open_sqlite(&database).unwrap();
    let path = dir.path().join(keys::KEY_FILE);

    let error = keys::open(&store, &path, FirstStart::Generate).unwrap_err();
    assert!(error.contains("已有 1 条审计日志"), "{error}");
    assert!(!path.exists());

    std::fs::write(&path, "44".repeat(32)).unwrap();
    let error = keys::open(&store, &path, FirstStart::Generate).unwrap_err();
    assert!(error.contains("没有签署本数据库的审计日志"), "{error}");
    assert!(store.signing_keys().unwrap().is_empty());
}
