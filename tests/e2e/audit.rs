//! `anjian-server verify-log` on a real data directory, before and after someone edits the
//! database by hand.

use std::path::Path;

use anjian_e2e::{Device, FACTORY, LI, Server};
use chrono::Utc;

const SERVER: &str = env!("CARGO_BIN_EXE_anjian-server-e2e");

fn verify_log(data: &Path) -> (bool, String) {
    let output = std::process::Command::new(SERVER)
        .args(["--data", data.to_str().unwrap(), "verify-log"])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn locked_records(server: &Server, count: usize) -> Vec<String> {
    let mut zhang = Device::logged_in(&server.url, "zhang");
    (0..count)
        .map(|_| {
            let id = zhang.start_trade(FACTORY, LI);
            zhang.answer_required(&id, 0, 1);
            zhang.store.submit_inspection(&id, Utc::now()).unwrap();
            zhang.sync().unwrap();
            id
        })
        .collect()
}

fn tamper(data: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data.join(anjian_server::cli::SQLITE_FILE)).unwrap();
    assert_eq!(conn.execute(sql, []).unwrap(), 1, "{sql}");
}

#[test]
fn verify_log_passes_an_intact_chain_and_names_the_first_edited_entry() {
    let server = Server::start();
    let ids = locked_records(&server, 3);
    let data = server.data.path();
    let (ok, text) = verify_log(data);
    assert!(ok, "{text}");
    assert!(text.contains("共 3 条"), "{text}");

    // Back-dating the second lock.
    tamper(
        data,
        "UPDATE audit_log SET locked_at = locked_at - 86400000 WHERE idx = 2",
    );
    let (ok, text) = verify_log(data);
    assert!(!ok);
    assert!(text.contains("第 2 条") && text.contains(&ids[1]), "{text}");
}

#[test]
fn verify_log_notices_a_record_rewritten_after_its_lock() {
    let server = Server::start();
    let ids = locked_records(&server, 3);
    let data = server.data.path();

    // The locked record's document replaced by another one.
    tamper(
        data,
        &format!(
            "UPDATE records SET doc = (SELECT doc FROM records WHERE id = '{}') WHERE id = '{}'",
            ids[2], ids[0]
        ),
    );
    let (ok, text) = verify_log(data);
    assert!(!ok && text.contains("第 1 条"), "{text}");
}

#[test]
fn verify_log_notices_a_deleted_entry_and_a_forged_recomputed_entry() {
    let server = Server::start();
    let ids = locked_records(&server, 3);
    let data = server.data.path();
    // Someone recomputes entry 3's hash after editing it: the signature no longer matches.
    let conn = rusqlite::Connection::open(data.join(anjian_server::cli::SQLITE_FILE)).unwrap();
    let (previous, heads, content, at): (String, String, String, i64) = conn
        .query_row(
            "SELECT previous_hash, heads, content_hash, locked_at FROM audit_log WHERE idx = 3",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .unwrap();
    let earlier = at - 3_600_000;
    let heads: Vec<String> = heads.split(',').map(str::to_string).collect();
    let forged = anjian_core::sync::receipt::entry_hash(
        &previous,
        &ids[2],
        &heads,
        &content,
        chrono::DateTime::from_timestamp_millis(earlier).unwrap(),
    );
    conn.execute(
        "UPDATE audit_log SET locked_at = ?1, entry_hash = ?2 WHERE idx = 3",
        rusqlite::params![earlier, forged],
    )
    .unwrap();
    let (ok, text) = verify_log(data);
    assert!(
        !ok && text.contains("第 3 条") && text.contains("签名"),
        "{text}"
    );

    // A deleted entry: the next one no longer follows.
    tamper(data, "DELETE FROM audit_log WHERE idx = 1");
    let (ok, text) = verify_log(data);
    assert!(!ok && text.contains("第 2 条"), "{text}");
}
