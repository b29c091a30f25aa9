//! The store conformance suite: every test runs against a fresh SQLite store and a fresh
//! PostgreSQL database, so both backends are held to the same behaviour.
//!
//! PostgreSQL comes from `ANJIAN_TEST_POSTGRES`, the URL of a server where the tests may create
//! databases (one per test, dropped at its end). `scripts/with-postgres.sh` starts a throwaway
//! server and sets it; without it the PostgreSQL tests fail rather than skip.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::collections::BTreeSet;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signer, SigningKey};

use anjian_core::agency::DocType;
use anjian_core::enterprise::{CreditCode, Enterprise};
use anjian_core::numbering::MAX_SERIAL;
use anjian_core::record::Inspector;
use anjian_core::sync::protocol::{NumberBlock, Role, TemplateSource};
use anjian_core::sync::receipt::{GENESIS_HASH, Receipt, entry_hash};
use anjian_server::store::migrations;
use anjian_server::store::sqlite as sqlite_store;
use anjian_server::store::standings::{OpenStanding, TallyLevel};
use anjian_server::store::{
    AreaCount, AreaGrouping, CommitOutcome, EnterpriseActivity, HazardRow, HazardTallies,
    HazardTally, IssuedNumber, LockRequest, NumberRegisterEntry, QuarantineEntry, RecordCommit,
    RecordFilter, RecordProjection, RecordRow, RecordScope, RecordState, Rectification, Region,
    Store, StoreError, StoredRecord, TokenKind, TokenRow, User,
};

conformance! {
    regions_list_in_code_order_and_a_taken_code_is_a_conflict,
    users_are_added_read_back_and_disabled,
    a_taken_login_or_certificate_is_a_conflict,
    tokens_are_found_by_hash_and_revoked_by_login_and_device,
    enterprises_are_upserted_all_or_none,
    enterprises_since_returns_only_later_changes,
    an_enterprise_keeps_its_sector_when_a_register_does_not_say,
    a_template_version_is_published_once_with_one_text,
    the_agency_carries_the_seq_of_its_last_change,
    a_new_record_is_stored_with_its_projection_and_numbers,
    an_update_must_name_the_version_it_read,
    a_lock_appends_a_signed_receipt_to_the_audit_chain,
    a_locked_record_refuses_commits,
    a_number_held_elsewhere_refuses_the_whole_commit,
    quarantine_keeps_the_same_late_changes_once,
    devices_follow_the_records_they_created_or_inspect,
    a_cursor_misses_no_record_committed_concurrently,
    record_lists_honour_scope_limit_and_offset,
    record_lists_filter_by_every_field_of_the_review_form,
    an_enterprise_history_lists_its_hazards_newest_first,
    hazards_are_counted_per_china_month_region_industry_and_kind,
    submitted_inspections_are_listed_by_enterprise_and_start,
    rollups_follow_every_commit_and_answer_ranges_of_china_days,
    a_reinspection_marks_the_hazards_it_found_rectified_whatever_arrives_first,
    amendments_name_the_record_they_amend,
    leases_are_consecutive_blocks_per_agency_type_and_year,
    voiding_is_idempotent_and_refused_for_an_issued_number,
    concurrent_locks_keep_the_audit_chain_intact,
    racing_writers_get_one_winner_each,
}

// ---- backends -------------------------------------------------------------------------------

pub(crate) fn on_sqlite(test: fn(&Store)) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("server.sqlite3")).unwrap();
    assert_eq!(store.backend(), "sqlite");
    test(&store);
}

pub(crate) fn on_postgres(test: fn(&Store)) {
    let db = TestDatabase::create();
    // Dropped (its connections closed) before the database.
    let store = Store::connect_postgres(&db.url).unwrap();
    assert_eq!(store.backend(), "postgresql");
    test(&store);
}

const POSTGRES_VAR: &str = "ANJIAN_TEST_POSTGRES";

/// A database of one test's own, dropped when the test ends, failed or not.
pub(crate) struct TestDatabase {
    admin_url: String,
    name: String,
    pub(crate) url: String,
}

impl TestDatabase {
    pub(crate) fn create() -> TestDatabase {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let admin_url = std::env::var(POSTGRES_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_VAR} is not set: the store conformance tests also run against \
                 PostgreSQL. Run them through scripts/test.sh, which starts a throwaway \
                 PostgreSQL (or: scripts/with-postgres.sh cargo test -p anjian-server \
                 --test integration)"
            )
        });
        let name = format!(
            "anjian_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_VAR}={admin_url}: {e}"));
        // Left over from an earlier run that had the same process id.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        TestDatabase {
            url: database_url(&admin_url, &name),
            admin_url,
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: whatever is left goes with the throwaway server.
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The connection string `url` with database `name` in place of its own.
fn database_url(url: &str, name: &str) -> String {
    let Some(rest) = ["postgresql://", "postgres://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))
    else {
        // key=value settings: a later dbname wins.
        return format!("{url} dbname={name}");
    };
    let scheme = &url[..url.len() - rest.len()];
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = base
        .split_once('/')
        .map_or(base, |(authority, _)| authority);
    format!("{scheme}{authority}/{name}{query}")
}

#[test]
fn database_urls_name_the_test_database() {
    assert_eq!(
        database_url("postgresql://postgres@127.0.0.1:5433/postgres", "t1"),
        "postgresql://postgres@127.0.0.1:5433/t1"
    );
    assert_eq!(
        database_url("postgres://u:p@h/db?sslmode=disable", "t1"),
        "postgres://u:p@h/t1?sslmode=disable"
    );
    assert_eq!(database_url("postgres://h:1", "t1"), "postgres://h:1/t1");
    assert_eq!(
        database_url("host=/tmp port=5433 user=postgres", "t1"),
        "host=/tmp port=5433 user=postgres dbname=t1"
    );
}

/// Two instances starting against one fresh database: one creates the schema, the other
/// waits for it and finds it in place.
#[test]
fn postgres_servers_starting_at_once_create_the_schema_once() {
    let db = TestDatabase::create();
    let start = Barrier::new(4);
    let stores: Vec<Store> = std::thread::scope(|s| {
        let starting: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    Store::connect_postgres(&db.url)
                })
            })
            .collect();
        starting
            .into_iter()
            .map(|handle| handle.join().unwrap().unwrap())
            .collect()
    });
    stores[0]
        .add_region(&region("440300", "深圳市", None))
        .unwrap();
    for store in &stores {
        assert_eq!(store.regions().unwrap().len(), 1);
        assert_eq!(store.current_seq().unwrap(), 0);
    }
    drop(stores);
    let again = Store::connect_postgres(&db.url).unwrap();
    assert_eq!(again.regions().unwrap().len(), 1);
}

// ---- migrations -----------------------------------------------------------------------------

/// What `sqlite_master` lists: (type, name, SQL), sorted.
pub(crate) fn sqlite_schema(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// A database left at each earlier version (by that version's files, as the server of the
/// time wrote it) upgrades to exactly the schema a fresh database gets.
#[test]
fn a_sqlite_database_at_any_earlier_version_upgrades_to_the_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.sqlite3");
    drop(Store::open_sqlite(&fresh).unwrap());
    let expected = sqlite_schema(&fresh);
    assert!(expected.iter().any(|(_, name, _)| name == "signing_keys"));
    for version in 1..migrations::SQLITE.len() {
        let path = dir.path().join(format!("v{version}.sqlite3"));
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &migrations::SQLITE[..version] {
            conn.execute_batch(migration.sql).unwrap();
        }
        conn.pragma_update(None, "user_version", i64::try_from(version).unwrap())
            .unwrap();
        let before = sqlite_schema(&path);
        drop(conn);

        let store = Store::open_sqlite(&path).unwrap();
        assert_ne!(
            before, expected,
            "version {version} already had the fresh schema"
        );
        assert_eq!(
            sqlite_schema(&path),
            expected,
            "upgraded from version {version}"
        );
        // The upgraded store works: a write and the rollups' recount agree.
        add_regions(&store);
        assert!(store.rollups_agree().unwrap());
    }
}

#[test]
fn a_sqlite_database_of_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.sqlite3");
    drop(Store::open_sqlite(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", sqlite_store::SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let refused = Store::open_sqlite(&path).unwrap_err().to_string();
    assert!(refused.contains("upgrade anjian-server"), "{refused}");
}

/// The schema as PostgreSQL describes it: columns with their types, nullability, defaults
/// and collations; indexes; constraints.
fn postgres_schema(url: &str) -> Vec<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let mut schema = Vec::new();
    for sql in [
        "SELECT concat_ws(' ', table_name, column_name, data_type, is_nullable,
                          column_default, collation_name)
         FROM information_schema.columns WHERE table_schema = 'public'",
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'",
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    ] {
        let mut rows: Vec<String> = client
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        rows.sort();
        schema.extend(rows);
    }
    schema
}

#[test]
fn a_postgres_database_at_any_earlier_version_upgrades_to_the_fresh_schema() {
    let fresh = TestDatabase::create();
    drop(Store::connect_postgres(&fresh.url).unwrap());
    let expected = postgres_schema(&fresh.url);
    assert!(expected.iter().any(|row| row.starts_with("signing_keys ")));
    for version in 1..migrations::POSTGRES.len() {
        let db = TestDatabase::create();
        let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        client
            .batch_execute(
                "CREATE TABLE schema_version (
                     id      INTEGER PRIMARY KEY CHECK (id = 1),
                     version INTEGER NOT NULL
                 )",
            )
            .unwrap();
        for migration in &migrations::POSTGRES[..version] {
            client.batch_execute(migration.sql).unwrap();
        }
        let stored = i32::try_from(version).unwrap();
        client
            .execute(
                "INSERT INTO schema_version (id, version) VALUES (1, $1)",
                &[&stored],
            )
            .unwrap();
        drop(client);

        let store = Store::connect_postgres(&db.url).unwrap();
        assert_eq!(
            postgres_schema(&db.url),
            expected,
            "upgraded from version {version}"
        );
        add_regions(&store);
        assert!(store.rollups_agree().unwrap());
    }
}

// ---- fixtures -------------------------------------------------------------------------------

const T0: i64 = 1_750_000_000_123;
const DEVICE_A: &str = "tablet-a";
const DEVICE_B: &str = "tablet-b";
const AGENCY: &str = "深应急";
const CODE_A: &str = "914403001922038216";
const CODE_B: &str = "9144030071526726XG";
const CODE_C: &str = "91110000802100433B";

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn sign(bytes: &[u8]) -> String {
    hex::encode(server_key().sign(bytes).to_bytes())
}

fn public_key() -> String {
    hex::encode(server_key().verifying_key().to_bytes())
}

fn region(code: &str, name: &str, parent: Option<&str>) -> Region {
    Region {
        code: code.into(),
        name: name.into(),
        parent: parent.map(str::to_string),
    }
}

fn add_regions(store: &Store) {
    store.add_region(&region("440300", "深圳市", None)).unwrap();
    store
        .add_region(&region("440305", "南山区", Some("440300")))
        .unwrap();
    store
        .add_region(&region("440306", "宝安区", Some("440300")))
        .unwrap();
}

fn user(login: &str, cert: Option<&str>) -> User {
    User {
        login: login.into(),
        name: format!("{login} 的姓名"),
        role: Role::Inspector,
        scope: "440305".into(),
        cert: cert.map(str::to_string),
        cert_valid_until: cert.map(|_| NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
    }
}

fn enterprise(code: &str, name: &str, region_code: &str) -> Enterprise {
    Enterprise {
        credit_code: CreditCode::parse(code).unwrap(),
        name: name.into(),
        address: "深圳市南山区科技园".into(),
        industry: "制造业".into(),
        region_code: region_code.into(),
        legal_representative: "张三".into(),
        phone: "0755-12345678".into(),
        sector: None,
        special_operations: None,
    }
}

fn projection(enterprise_code: &str, region_code: &str, started_at: i64) -> RecordProjection {
    RecordProjection {
        kind: "inspection".into(),
        inspection_kind: "enforcement".into(),
        template_id: "fire-safety".into(),
        template_version: 3,
        enterprise_code: enterprise_code.into(),
        enterprise_name: "深圳市某某制造有限公司".into(),
        region_code: region_code.into(),
        industry: "制造业".into(),
        status: "draft".into(),
        started_at: at(started_at),
        submitted_at: None,
        created_by_device: DEVICE_A.into(),
        answered_count: 4,
        amends: None,
        inspector_certs: Vec::new(),
        hazards: Vec::new(),
        documents: Vec::new(),
        rectifies: None,
    }
}

/// A new record of enterprise A in 南山区, created on device A.
fn new_record(id: &str) -> RecordCommit {
    RecordCommit {
        id: id.into(),
        doc: format!("saved document of {id}").into_bytes(),
        heads: vec!["0a1b".into(), "ff00".into()],
        expected_version: None,
        projection: projection(CODE_A, "440305", T0),
        uploader: "alice".into(),
        device_id: DEVICE_A.into(),
        lock: None,
    }
}

/// The next commit of a record read at `version`.
fn update(id: &str, version: i64) -> RecordCommit {
    RecordCommit {
        expected_version: Some(version),
        doc: format!("saved document of {id}, version {}", version + 1).into_bytes(),
        heads: vec![format!("beef{version}")],
        ..new_record(id)
    }
}

fn locking(mut commit: RecordCommit, locked_at: i64) -> RecordCommit {
    commit.lock = Some(LockRequest {
        content_hash: format!("content hash of {}", commit.id),
        locked_at: at(locked_at),
    });
    commit
}

fn hazard(item: &str) -> HazardRow {
    HazardRow {
        item: item.into(),
        class: "一般隐患".into(),
        description: format!("{item} 不合格"),
        legal_basis: "《中华人民共和国安全生产法》第四十一条".into(),
        deadline: Some(NaiveDate::from_ymd_opt(2025, 7, 15).unwrap()),
    }
}

fn issued(serial: u32) -> IssuedNumber {
    IssuedNumber {
        number: format!("深应急责改〔2025〕{serial}号"),
        agency: AGENCY.into(),
        doc_type: DocType::Order,
        year: 2025,
        serial,
        issued_at: at(T0 + 60_000),
    }
}

fn voided(serial: u32) -> NumberRegisterEntry {
    NumberRegisterEntry {
        number: issued(serial).number,
        agency: AGENCY.into(),
        doc_type: DocType::Order,
        year: 2025,
        serial,
        state: "voided".into(),
        record_id: None,
        reason: Some("打印时卡纸".into()),
        device_id: DEVICE_B.into(),
        at: at(T0 + 120_000),
    }
}

/// Commits, expecting success; returns the receipt when the commit locked.
fn commit(store: &Store, commit: &RecordCommit) -> Option<Receipt> {
    match store.commit_record(commit, &sign).unwrap() {
        CommitOutcome::Committed { receipt } => receipt,
        other => panic!("commit of {} refused: {other:?}", commit.id),
    }
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn ids(records: &[StoredRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

fn row_ids(rows: &[RecordRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

// ---- regions, users, tokens -----------------------------------------------------------------

fn regions_list_in_code_order_and_a_taken_code_is_a_conflict(store: &Store) {
    assert_eq!(store.regions().unwrap(), []);
    let city = region("440300", "深圳市", None);
    let baoan = region("440306", "宝安区", Some("440300"));
    let nanshan = region("440305", "南山区", Some("440300"));
    for r in [&city, &baoan, &nanshan] {
        store.add_region(r).unwrap();
    }
    assert_eq!(
        store.regions().unwrap(),
        [city.clone(), nanshan.clone(), baoan.clone()]
    );

    let message = conflict(store.add_region(&region("440305", "别名", None)));
    assert_eq!(message, "区划代码 440305 已存在");
    assert_eq!(store.regions().unwrap(), [city, nanshan, baoan]);
}

fn users_are_added_read_back_and_disabled(store: &Store) {
    let before = store.current_seq().unwrap();
    let alice = user("alice", Some("44030001"));
    let bob = user("bob", None);
    store.add_user(&alice).unwrap();
    store.add_user(&bob).unwrap();
    assert_eq!(store.user("alice").unwrap(), Some(alice.clone()));
    assert_eq!(store.user("bob").unwrap(), Some(bob));
    assert_eq!(store.user("nobody").unwrap(), None);

    let alice_inspector = Inspector {
        name: alice.name.clone(),
        cert: "44030001".into(),
        cert_valid_until: alice.cert_valid_until,
    };
    // Only users holding a certificate, only changes after the cursor.
    assert_eq!(
        store.certified_users_since(before).unwrap(),
        std::slice::from_ref(&alice_inspector)
    );
    let cursor = store.current_seq().unwrap();
    assert!(cursor > before);
    assert_eq!(store.certified_users_since(cursor).unwrap(), []);

    assert!(store.set_user_disabled("alice", true).unwrap());
    assert!(store.user("alice").unwrap().unwrap().disabled);
    assert_eq!(store.certified_users_since(0).unwrap(), []);
    assert!(!store.set_user_disabled("nobody", true).unwrap());

    assert!(store.set_user_disabled("alice", false).unwrap());
    assert!(!store.user("alice").unwrap().unwrap().disabled);
    assert_eq!(
        store.certified_users_since(cursor).unwrap(),
        [alice_inspector]
    );
}

fn a_taken_login_or_certificate_is_a_conflict(store: &Store) {
    store.add_user(&user("alice", Some("44030001"))).unwrap();
    let seq = store.current_seq().unwrap();

    let message = conflict(store.add_user(&user("alice", None)));
    assert_eq!(message, "账号 alice 已存在");
    let message = conflict(store.add_user(&user("carol", Some("44030001"))));
    assert_eq!(message, "执法证号 44030001 已属于账号 alice");

    assert_eq!(store.user("carol").unwrap(), None);
    assert_eq!(
        store.user("alice").unwrap(),
        Some(user("alice", Some("44030001")))
    );
    assert_eq!(store.current_seq().unwrap(), seq);
}

fn tokens_are_found_by_hash_and_revoked_by_login_and_device(store: &Store) {
    store.add_user(&user("alice", None)).unwrap();
    store.add_user(&user("bob", None)).unwrap();
    let token = |hash: &str, kind: TokenKind, login: &str, device: &str| TokenRow {
        hash: hash.into(),
        kind,
        login: login.into(),
        device_id: device.into(),
        expires_at: at(T0 + 3_600_000),
        revoked: false,
    };
    let a1 = token("a1", TokenKind::Access, "alice", DEVICE_A);
    let r1 = token("r1", TokenKind::Refresh, "alice", DEVICE_A);
    let a2 = token("a2", TokenKind::Access, "alice", DEVICE_B);
    let b1 = token("b1", TokenKind::Refresh, "bob", DEVICE_A);
    for t in [&a1, &r1, &a2, &b1] {
        store.insert_token(t).unwrap();
    }
    assert_eq!(store.token("a1").unwrap(), Some(a1.clone()));
    assert_eq!(store.token("r1").unwrap(), Some(r1));
    assert_eq!(store.token("missing").unwrap(), None);

    store.revoke_token("a1").unwrap();
    assert_eq!(
        store.token("a1").unwrap(),
        Some(TokenRow {
            revoked: true,
            ..a1
        })
    );
    // Counts only tokens revoked now: a1 was already.
    assert_eq!(store.revoke_tokens("alice", Some(DEVICE_A)).unwrap(), 1);
    assert!(store.token("r1").unwrap().unwrap().revoked);
    assert!(!store.token("a2").unwrap().unwrap().revoked);

    assert_eq!(store.revoke_tokens("alice", None).unwrap(), 1);
    assert!(store.token("a2").unwrap().unwrap().revoked);
    assert_eq!(store.revoke_tokens("alice", None).unwrap(), 0);
    // Another user's token on the same device is untouched.
    assert!(!store.token("b1").unwrap().unwrap().revoked);
}

// ---- reference data -------------------------------------------------------------------------

fn enterprises_are_upserted_all_or_none(store: &Store) {
    add_regions(store);
    let seq = store.current_seq().unwrap();
    let good = enterprise(CODE_A, "深圳市某某制造有限公司", "440305");
    let stray = enterprise(CODE_B, "宝利来实业有限公司", "999999");

    let message = conflict(store.upsert_enterprises(&[good.clone(), stray]));
    assert_eq!(
        message,
        "企业 宝利来实业有限公司（9144030071526726XG）的区划代码 999999 未登记：请先用 region add 添加"
    );
    assert_eq!(store.enterprise(CODE_A).unwrap(), None);
    assert_eq!(store.enterprise(CODE_B).unwrap(), None);
    assert_eq!(store.current_seq().unwrap(), seq);

    assert_eq!(
        store
            .upsert_enterprises(std::slice::from_ref(&good))
            .unwrap(),
        1
    );
    assert_eq!(store.enterprise(CODE_A).unwrap(), Some(good.clone()));

    let moved = Enterprise {
        name: "深圳市某某制造有限公司（更名）".into(),
        region_code: "440306".into(),
        phone: "0755-87654321".into(),
        ..good
    };
    assert_eq!(
        store
            .upsert_enterprises(std::slice::from_ref(&moved))
            .unwrap(),
        1
    );
    assert_eq!(store.enterprise(CODE_A).unwrap(), Some(moved));
    assert_eq!(store.enterprise(CODE_C).unwrap(), None);
}

fn an_enterprise_keeps_its_sector_when_a_register_does_not_say(store: &Store) {
    add_regions(store);
    let smelter = Enterprise {
        industry: "工贸".into(),
        sector: Some("有色".into()),
        special_operations: Some(vec!["粉尘涉爆".into(), "有限空间作业".into()]),
        ..enterprise(CODE_A, "甲铝业公司", "440305")
    };
    let none = Enterprise {
        industry: "工贸".into(),
        sector: Some("商贸".into()),
        special_operations: Some(Vec::new()),
        ..enterprise(CODE_B, "乙商场", "440305")
    };
    let cursor = store.current_seq().unwrap();
    store
        .upsert_enterprises(&[smelter.clone(), none.clone()])
        .unwrap();
    assert_eq!(store.enterprise(CODE_A).unwrap(), Some(smelter.clone()));
    assert_eq!(store.enterprise(CODE_B).unwrap(), Some(none.clone()));
    // Devices receive them with the enterprise.
    assert_eq!(
        store.enterprises_since(cursor).unwrap(),
        [smelter.clone(), none]
    );

    // An older register, without the two columns, leaves them as they were.
    let renamed = Enterprise {
        name: "甲铝业公司（更名）".into(),
        sector: None,
        special_operations: None,
        ..smelter.clone()
    };
    store
        .upsert_enterprises(std::slice::from_ref(&renamed))
        .unwrap();
    assert_eq!(
        store.enterprise(CODE_A).unwrap(),
        Some(Enterprise {
            name: "甲铝业公司（更名）".into(),
            ..smelter.clone()
        })
    );

    // An enterprise that is no longer 工贸 has neither.
    let chemical = Enterprise {
        industry: "危险化学品".into(),
        sector: None,
        special_operations: None,
        ..smelter
    };
    store
        .upsert_enterprises(std::slice::from_ref(&chemical))
        .unwrap();
    assert_eq!(store.enterprise(CODE_A).unwrap(), Some(chemical));
}

fn enterprises_since_returns_only_later_changes(store: &Store) {
    add_regions(store);
    let a = enterprise(CODE_A, "甲公司", "440305");
    let b = enterprise(CODE_B, "乙公司", "440306");
    let c = enterprise(CODE_C, "丙公司", "440305");
    store.upsert_enterprises(&[c.clone(), a.clone()]).unwrap();
    let cursor = store.current_seq().unwrap();
    assert_eq!(store.enterprises_since(cursor).unwrap(), []);

    let a2 = Enterprise {
        address: "深圳市南山区新地址".into(),
        ..a.clone()
    };
    store.upsert_enterprises(&[b.clone(), a2.clone()]).unwrap();
    // In credit-code order.
    assert_eq!(
        store.enterprises_since(cursor).unwrap(),
        [a2.clone(), b.clone()]
    );
    assert_eq!(store.enterprises_since(0).unwrap(), [c, a2, b]);
    assert_eq!(
        store
            .enterprises_since(store.current_seq().unwrap())
            .unwrap(),
        []
    );
}

fn a_template_version_is_published_once_with_one_text(store: &Store) {
    let v1 = TemplateSource {
        id: "fire-safety".into(),
        version: 1,
        source: "id = \"fire-safety\"\nversion = 1\n".into(),
    };
    assert!(store.publish_template(&v1).unwrap());
    let cursor = store.current_seq().unwrap();
    assert!(!store.publish_template(&v1).unwrap());
    assert_eq!(store.current_seq().unwrap(), cursor);

    let changed = TemplateSource {
        source: "id = \"fire-safety\"\nversion = 1\n# edited\n".into(),
        ..v1.clone()
    };
    let message = conflict(store.publish_template(&changed));
    assert_eq!(
        message,
        "模板 fire-safety 第 1 版已发布且内容不同：修改检查表后必须提高 version"
    );
    assert_eq!(
        store.template("fire-safety", 1).unwrap(),
        Some(v1.source.clone())
    );
    assert_eq!(store.template("fire-safety", 2).unwrap(), None);

    let v2 = TemplateSource {
        version: 2,
        source: "id = \"fire-safety\"\nversion = 2\n".into(),
        ..v1.clone()
    };
    let other = TemplateSource {
        id: "chemicals".into(),
        version: 7,
        source: "id = \"chemicals\"\n".into(),
    };
    assert!(store.publish_template(&v2).unwrap());
    assert!(store.publish_template(&other).unwrap());
    assert_eq!(
        store.templates_since(cursor).unwrap(),
        [other.clone(), v2.clone()]
    );
    assert_eq!(store.templates_since(0).unwrap(), [other, v1, v2]);
    assert_eq!(
        store.templates_since(store.current_seq().unwrap()).unwrap(),
        []
    );
}

fn the_agency_carries_the_seq_of_its_last_change(store: &Store) {
    assert_eq!(store.agency().unwrap(), None);
    store.set_agency("name = \"深圳市应急管理局\"\n").unwrap();
    let first = store.current_seq().unwrap();
    assert_eq!(
        store.agency().unwrap(),
        Some(("name = \"深圳市应急管理局\"\n".to_string(), first))
    );

    store.add_user(&user("alice", None)).unwrap();
    store.set_agency("name = \"南山区应急管理局\"\n").unwrap();
    let second = store.current_seq().unwrap();
    assert!(second > first + 1);
    assert_eq!(
        store.agency().unwrap(),
        Some(("name = \"南山区应急管理局\"\n".to_string(), second))
    );
}

// ---- records --------------------------------------------------------------------------------

fn a_new_record_is_stored_with_its_projection_and_numbers(store: &Store) {
    let seq = store.current_seq().unwrap();
    let mut c = new_record("r1");
    c.projection.inspector_certs = vec!["44030002".into(), "44030001".into()];
    c.projection.hazards = vec![hazard("1.1"), hazard("2.3")];
    c.projection.documents = vec![issued(5)];
    assert_eq!(commit(store, &c), None);
    assert_eq!(store.current_seq().unwrap(), seq + 1);

    assert_eq!(
        store.record("r1").unwrap(),
        Some(StoredRecord {
            id: "r1".into(),
            doc: c.doc.clone(),
            heads: c.heads.clone(),
            version: 1,
            region_code: "440305".into(),
            enterprise_code: CODE_A.into(),
            inspection_kind: "enforcement".into(),
            kind: "inspection".into(),
            status: "draft".into(),
            enterprise_name: c.projection.enterprise_name.clone(),
            hazard_count: 2,
            created_by_device: DEVICE_A.into(),
            amends: None,
            inspector_certs: vec!["44030001".into(), "44030002".into()],
            lock: None,
        })
    );
    assert_eq!(store.record("r2").unwrap(), None);
    assert_eq!(
        store
            .list_records(&RecordScope::All, &RecordFilter::default(), 10, 0)
            .unwrap(),
        [RecordRow {
            id: "r1".into(),
            kind: "inspection".into(),
            inspection_kind: "enforcement".into(),
            enterprise_code: CODE_A.into(),
            enterprise_name: "深圳市某某制造有限公司".into(),
            region_code: "440305".into(),
            status: "draft".into(),
            started_at: at(T0),
            locked: false,
            hazard_count: 2,
        }]
    );
    assert_eq!(
        store.number_register().unwrap(),
        [NumberRegisterEntry {
            number: issued(5).number,
            agency: AGENCY.into(),
            doc_type: DocType::Order,
            year: 2025,
            serial: 5,
            state: "issued".into(),
            record_id: Some("r1".into()),
            reason: None,
            device_id: DEVICE_A.into(),
            at: at(T0 + 60_000),
        }]
    );
}

fn an_update_must_name_the_version_it_read(store: &Store) {
    commit(store, &new_record("r1"));
    let mut second = update("r1", 1);
    second.projection.status = "submitted".into();
    second.projection.submitted_at = Some(at(T0 + 600_000));
    second.projection.inspector_certs = vec!["44030003".into()];
    second.projection.hazards = vec![hazard("3.1")];
    assert_eq!(commit(store, &second), None);

    let stored = store.record("r1").unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.doc, second.doc);
    assert_eq!(stored.heads, second.heads);
    assert_eq!(stored.status, "submitted");
    assert_eq!(stored.inspector_certs, ["44030003"]);
    let seq = store.current_seq().unwrap();

    // Read at version 1, committed after version 2: lost the race.
    let stale = RecordCommit {
        doc: b"stale".to_vec(),
        ..update("r1", 1)
    };
    assert_eq!(
        store.commit_record(&stale, &sign).unwrap(),
        CommitOutcome::VersionConflict
    );
    // A second "new" record under a taken id.
    assert_eq!(
        store.commit_record(&new_record("r1"), &sign).unwrap(),
        CommitOutcome::VersionConflict
    );
    // An update of a record that does not exist.
    assert_eq!(
        store.commit_record(&update("r9", 1), &sign).unwrap(),
        CommitOutcome::VersionConflict
    );
    assert_eq!(store.record("r1").unwrap(), Some(stored));
    assert_eq!(store.record("r9").unwrap(), None);
    assert_eq!(store.current_seq().unwrap(), seq);
    assert_eq!(
        store
            .list_records(&RecordScope::All, &RecordFilter::default(), 10, 0)
            .unwrap()[0]
            .hazard_count,
        1
    );
}

fn a_lock_appends_a_signed_receipt_to_the_audit_chain(store: &Store) {
    let first = locking(new_record("r1"), T0 + 1_000);
    let receipt = commit(store, &first).expect("a lock gives a receipt");
    assert_eq!(receipt.record_id, "r1");
    assert_eq!(receipt.heads, first.heads);
    assert_eq!(receipt.content_hash, "content hash of r1");
    assert_eq!(receipt.locked_at, at(T0 + 1_000));
    assert_eq!(receipt.log_index, 1);
    assert_eq!(receipt.previous_hash, GENESIS_HASH);
    assert_eq!(
        receipt.entry_hash,
        entry_hash(
            GENESIS_HASH,
            "r1",
            &first.heads,
            "content hash of r1",
            at(T0 + 1_000)
        )
    );
    assert_eq!(receipt.signature, sign(&receipt.signed_bytes()));
    receipt
        .verify_for(
            &[anjian_core::sync::receipt::ServerKey::new(&public_key())],
            &first.heads,
        )
        .unwrap();

    // Locked on its second commit.
    commit(store, &new_record("r2"));
    let second = locking(update("r2", 1), T0 + 2_000);
    let receipt2 = commit(store, &second).expect("a lock gives a receipt");
    assert_eq!(receipt2.log_index, 2);
    assert_eq!(receipt2.previous_hash, receipt.entry_hash);
    assert_eq!(
        receipt2.entry_hash,
        entry_hash(
            &receipt.entry_hash,
            "r2",
            &second.heads,
            "content hash of r2",
            at(T0 + 2_000)
        )
    );
    receipt2.verify(&public_key()).unwrap();

    assert_eq!(
        store.audit_log().unwrap(),
        [receipt.clone(), receipt2.clone()]
    );
    assert_eq!(store.record("r1").unwrap().unwrap().lock, Some(receipt));
    let r2 = store.record("r2").unwrap().unwrap();
    assert_eq!(r2.version, 2);
    assert_eq!(r2.lock, Some(receipt2));
    let rows = store
        .list_records(&RecordScope::All, &RecordFilter::default(), 10, 0)
        .unwrap();
    assert!(rows.iter().all(|row| row.locked));
}

fn a_locked_record_refuses_commits(store: &Store) {
    commit(store, &locking(new_record("r1"), T0 + 1_000));
    let locked = store.record("r1").unwrap().unwrap();
    let seq = store.current_seq().unwrap();

    assert_eq!(
        store.commit_record(&update("r1", 1), &sign).unwrap(),
        CommitOutcome::VersionConflict
    );
    assert_eq!(
        store
            .commit_record(&locking(update("r1", 1), T0 + 2_000), &sign)
            .unwrap(),
        CommitOutcome::VersionConflict
    );
    assert_eq!(store.record("r1").unwrap(), Some(locked));
    assert_eq!(store.audit_log().unwrap().len(), 1);
    assert_eq!(store.current_seq().unwrap(), seq);
}

fn a_number_held_elsewhere_refuses_the_whole_commit(store: &Store) {
    let mut first = new_record("r1");
    first.projection.documents = vec![issued(1)];
    commit(store, &first);
    store.void_number(&voided(2)).unwrap();
    let register = store.number_register().unwrap();
    let seq = store.current_seq().unwrap();

    // A new record with a free number and one issued to r1, locking: nothing of it is kept.
    let mut second = locking(new_record("r2"), T0 + 1_000);
    second.projection.created_by_device = DEVICE_B.into();
    second.projection.inspector_certs = vec!["44030009".into()];
    second.projection.hazards = vec![hazard("1.1")];
    second.projection.documents = vec![issued(3), issued(1)];
    assert_eq!(
        store.commit_record(&second, &sign).unwrap(),
        CommitOutcome::NumberTaken {
            number: issued(1).number,
            record_id: "r1".into(),
        }
    );
    assert_eq!(store.record("r2").unwrap(), None);
    assert_eq!(store.number_register().unwrap(), register);
    assert_eq!(store.audit_log().unwrap(), []);
    assert_eq!(store.current_seq().unwrap(), seq);
    assert_eq!(
        store
            .records_for_device_since(0, DEVICE_B, Some("44030009"))
            .unwrap(),
        []
    );
    assert_eq!(
        row_ids(
            &store
                .list_records(&RecordScope::All, &RecordFilter::default(), 10, 0)
                .unwrap()
        ),
        ["r1"]
    );

    // A voided number belongs to no record.
    let mut third = new_record("r3");
    third.projection.documents = vec![issued(2)];
    assert_eq!(
        store.commit_record(&third, &sign).unwrap(),
        CommitOutcome::NumberTaken {
            number: issued(2).number,
            record_id: String::new(),
        }
    );
    assert_eq!(store.record("r3").unwrap(), None);

    // A record keeps its own numbers across commits and takes new ones.
    let mut again = update("r1", 1);
    again.projection.documents = vec![issued(1), issued(4)];
    commit(store, &again);
    let held: Vec<_> = store
        .number_register()
        .unwrap()
        .into_iter()
        .map(|n| (n.serial, n.state, n.record_id))
        .collect();
    assert_eq!(
        held,
        [
            (1, "issued".to_string(), Some("r1".to_string())),
            (2, "voided".to_string(), None),
            (4, "issued".to_string(), Some("r1".to_string())),
        ]
    );

    // An update carrying a voided number leaves the record as it was.
    let before = store.record("r1").unwrap();
    let mut taken = update("r1", 2);
    taken.projection.documents = vec![issued(1), issued(4), issued(2)];
    assert!(matches!(
        store.commit_record(&taken, &sign).unwrap(),
        CommitOutcome::NumberTaken { .. }
    ));
    assert_eq!(store.record("r1").unwrap(), before);
}

fn quarantine_keeps_the_same_late_changes_once(store: &Store) {
    commit(store, &locking(new_record("r1"), T0 + 1_000));
    let entry = QuarantineEntry {
        record_id: "r1".into(),
        changes_hash: "hash-b".into(),
        changes: b"late changes".to_vec(),
        uploader: "bob".into(),
        device_id: DEVICE_B.into(),
        received_at: at(T0 + 5_000),
    };
    assert!(store.quarantine(&entry).unwrap());
    assert!(!store.quarantine(&entry).unwrap());
    let later = QuarantineEntry {
        changes_hash: "hash-a".into(),
        changes: b"later changes".to_vec(),
        received_at: at(T0 + 9_000),
        ..entry.clone()
    };
    assert!(store.quarantine(&later).unwrap());

    assert_eq!(store.quarantined("r1").unwrap(), [entry, later]);
    assert_eq!(store.quarantined("r2").unwrap(), []);
}

fn devices_follow_the_records_they_created_or_inspect(store: &Store) {
    let mut r1 = new_record("r1");
    r1.projection.inspector_certs = vec!["C1".into()];
    let mut r2 = new_record("r2");
    r2.projection.created_by_device = DEVICE_B.into();
    r2.projection.inspector_certs = vec!["C2".into()];
    let mut r3 = new_record("r3");
    r3.projection.created_by_device = DEVICE_B.into();
    r3.projection.inspector_certs = vec!["C1".into(), "C2".into()];
    for c in [&r1, &r2, &r3] {
        commit(store, c);
    }

    let follows = |seq, device, cert| store.records_for_device_since(seq, device, cert).unwrap();
    assert_eq!(ids(&follows(0, DEVICE_A, None)), ["r1"]);
    assert_eq!(ids(&follows(0, DEVICE_A, Some("C1"))), ["r1", "r3"]);
    assert_eq!(ids(&follows(0, "tablet-c", Some("C2"))), ["r2", "r3"]);
    assert_eq!(ids(&follows(0, DEVICE_B, None)), ["r2", "r3"]);
    assert_eq!(ids(&follows(0, "tablet-c", Some("C9"))), Vec::<&str>::new());
    // Whole records, as record() reads them.
    assert_eq!(
        follows(0, DEVICE_A, Some("C1")),
        [
            store.record("r1").unwrap().unwrap(),
            store.record("r3").unwrap().unwrap()
        ]
    );

    // After the cursor: only what changed since, in change order.
    let cursor = store.current_seq().unwrap();
    assert_eq!(follows(cursor, DEVICE_A, Some("C1")), []);
    let mut r2b = update("r2", 1);
    r2b.projection = r2.projection.clone();
    commit(store, &r2b);
    let mut r1b = locking(update("r1", 1), T0 + 1_000);
    r1b.projection = r1.projection.clone();
    commit(store, &r1b);
    assert_eq!(ids(&follows(cursor, "tablet-c", Some("C2"))), ["r2"]);
    assert_eq!(ids(&follows(cursor, DEVICE_A, Some("C1"))), ["r1"]);
    assert_eq!(ids(&follows(0, DEVICE_A, Some("C1"))), ["r3", "r1"]);
    assert!(follows(cursor, DEVICE_A, None)[0].lock.is_some());
    assert_eq!(
        follows(store.current_seq().unwrap(), DEVICE_A, Some("C1")),
        []
    );
}

/// A device syncing while others commit: reading the cursor, then the records after the old
/// one, never skips a record, because changes become visible in sequence order.
fn a_cursor_misses_no_record_committed_concurrently(store: &Store) {
    const WRITERS: usize = 4;
    const EACH: usize = 6;
    let done = AtomicBool::new(false);
    let seen = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = BTreeSet::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let next = store.current_seq().unwrap();
                for record in store
                    .records_for_device_since(cursor, DEVICE_A, None)
                    .unwrap()
                {
                    seen.insert(record.id);
                }
                cursor = next;
                if finished {
                    return seen;
                }
            }
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                s.spawn(move || {
                    for i in 0..EACH {
                        commit(store, &new_record(&format!("w{w}-{i}")));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        reader.join().unwrap()
    });
    assert_eq!(seen.len(), WRITERS * EACH);
}

fn record_lists_honour_scope_limit_and_offset(store: &Store) {
    let r1 = new_record("r1");
    let mut r2 = new_record("r2");
    r2.projection = projection(CODE_B, "440306", T0 + 1_000);
    let mut r3 = new_record("r3");
    r3.projection.inspection_kind = "self".into();
    r3.projection.started_at = at(T0 + 2_000);
    // Started with r3: the id breaks the tie.
    let mut r4 = locking(new_record("r4"), T0 + 9_000);
    r4.projection = projection(CODE_A, "440306", T0 + 2_000);
    r4.projection.status = "submitted".into();
    r4.projection.hazards = vec![hazard("1.1"), hazard("1.2")];
    for c in [&r1, &r2, &r3, &r4] {
        commit(store, c);
    }

    let list = |scope: &RecordScope, limit, offset| {
        store
            .list_records(scope, &RecordFilter::default(), limit, offset)
            .unwrap()
    };
    let all = list(&RecordScope::All, 100, 0);
    assert_eq!(row_ids(&all), ["r4", "r3", "r2", "r1"]);
    assert_eq!(
        all[0],
        RecordRow {
            id: "r4".into(),
            kind: "inspection".into(),
            inspection_kind: "enforcement".into(),
            enterprise_code: CODE_A.into(),
            enterprise_name: "深圳市某某制造有限公司".into(),
            region_code: "440306".into(),
            status: "submitted".into(),
            started_at: at(T0 + 2_000),
            locked: true,
            hazard_count: 2,
        }
    );
    assert!(!all[1].locked);
    assert_eq!(row_ids(&list(&RecordScope::All, 2, 1)), ["r3", "r2"]);
    assert_eq!(row_ids(&list(&RecordScope::All, 2, 3)), ["r1"]);
    assert_eq!(list(&RecordScope::All, 2, 4), []);
    assert_eq!(list(&RecordScope::All, 0, 0), []);
    // As SQLite has it: a negative limit is none, a negative offset is zero.
    assert_eq!(row_ids(&list(&RecordScope::All, -1, 2)), ["r2", "r1"]);
    assert_eq!(row_ids(&list(&RecordScope::All, 1, -3)), ["r4"]);

    let regions =
        |codes: &[&str]| RecordScope::Regions(codes.iter().map(|c| c.to_string()).collect());
    assert_eq!(row_ids(&list(&regions(&["440305"]), 100, 0)), ["r3", "r1"]);
    assert_eq!(
        row_ids(&list(&regions(&["440306", "440305"]), 100, 0)),
        ["r4", "r3", "r2", "r1"]
    );
    assert_eq!(row_ids(&list(&regions(&["440306"]), 1, 1)), ["r2"]);
    assert_eq!(list(&regions(&[]), 100, 0), []);
    assert_eq!(list(&regions(&["440300"]), 100, 0), []);

    let of_a = |kinds: &[&str]| RecordScope::Enterprise {
        credit_code: CODE_A.into(),
        inspection_kinds: kinds.iter().map(|k| k.to_string()).collect(),
    };
    assert_eq!(
        row_ids(&list(&of_a(&["enforcement"]), 100, 0)),
        ["r4", "r1"]
    );
    assert_eq!(
        row_ids(&list(&of_a(&["enforcement", "self"]), 100, 0)),
        ["r4", "r3", "r1"]
    );
    assert_eq!(
        row_ids(&list(&of_a(&["self", "enforcement"]), 1, 1)),
        ["r3"]
    );
    assert_eq!(list(&of_a(&[]), 100, 0), []);
}

fn record_lists_filter_by_every_field_of_the_review_form(store: &Store) {
    let mut r1 = new_record("r1");
    r1.projection.hazards = vec![hazard("1.1")];
    let mut r2 = new_record("r2");
    r2.projection = projection(CODE_B, "440306", T0 + 60_000);
    r2.projection.enterprise_name = "深圳市100%_安全有限公司".into();
    r2.projection.industry = "工贸".into();
    r2.projection.inspection_kind = "self".into();
    let mut r3 = locking(new_record("r3"), T0 + 200_000);
    r3.projection.started_at = at(T0 + 120_000);
    r3.projection.status = "submitted".into();
    let mut r4 = new_record("r4");
    r4.projection.started_at = at(T0 + 180_000);
    r4.projection.status = "submitted".into();
    for c in [&r1, &r2, &r3, &r4] {
        commit(store, c);
    }
    let find = |filter: RecordFilter| {
        let rows = store
            .list_records(&RecordScope::All, &filter, 100, 0)
            .unwrap();
        rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(find(RecordFilter::default()), ["r4", "r3", "r2", "r1"]);
    assert_eq!(
        find(RecordFilter {
            started_from: Some(at(T0 + 60_000)),
            started_before: Some(at(T0 + 180_000)),
            ..Default::default()
        }),
        ["r3", "r2"],
        "from inclusive, before exclusive"
    );
    assert_eq!(
        find(RecordFilter {
            regions: Some(vec!["440306".into(), "440399".into()]),
            ..Default::default()
        }),
        ["r2"]
    );
    assert_eq!(
        find(RecordFilter {
            regions: Some(Vec::new()),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        find(RecordFilter {
            industry: Some("工贸".into()),
            ..Default::default()
        }),
        ["r2"]
    );
    assert_eq!(
        find(RecordFilter {
            inspection_kinds: vec!["enforcement".into()],
            ..Default::default()
        }),
        ["r4", "r3", "r1"]
    );
    for (state, expected) in [
        (RecordState::Draft, vec!["r2", "r1"]),
        (RecordState::Submitted, vec!["r4"]),
        (RecordState::Locked, vec!["r3"]),
    ] {
        assert_eq!(
            find(RecordFilter {
                state: Some(state),
                ..Default::default()
            }),
            expected,
            "{state:?}"
        );
    }
    // A credit code matches exactly; a name matches in part, wildcards taken literally.
    assert_eq!(
        find(RecordFilter {
            enterprise: Some(CODE_B.into()),
            ..Default::default()
        }),
        ["r2"]
    );
    assert_eq!(
        find(RecordFilter {
            enterprise: Some("100%_安全".into()),
            ..Default::default()
        }),
        ["r2"]
    );
    assert_eq!(
        find(RecordFilter {
            enterprise: Some("%".into()),
            ..Default::default()
        }),
        ["r2"],
        "only r2's name has a percent sign"
    );
    assert_eq!(
        find(RecordFilter {
            with_hazards: true,
            ..Default::default()
        }),
        ["r1"]
    );
    // Conditions combine, and the scope still applies.
    assert_eq!(
        find(RecordFilter {
            inspection_kinds: vec!["enforcement".into()],
            state: Some(RecordState::Submitted),
            ..Default::default()
        }),
        ["r4"]
    );
    let in_440306 = store
        .list_records(
            &RecordScope::Regions(vec!["440306".into()]),
            &RecordFilter {
                inspection_kinds: vec!["enforcement".into()],
                ..Default::default()
            },
            100,
            0,
        )
        .unwrap();
    assert_eq!(in_440306, []);
}

fn an_enterprise_history_lists_its_hazards_newest_first(store: &Store) {
    let mut older = new_record("r1");
    older.projection.hazards = vec![hazard("1.2"), hazard("1.1")];
    let mut newer = new_record("r2");
    newer.projection.started_at = at(T0 + 5_000);
    newer.projection.inspection_kind = "self".into();
    newer.projection.hazards = vec![hazard("2.1")];
    let mut other = new_record("r3");
    other.projection = projection(CODE_B, "440306", T0 + 9_000);
    other.projection.hazards = vec![hazard("9.9")];
    for c in [&older, &newer, &other] {
        commit(store, c);
    }
    let found = store.enterprise_hazards(CODE_A).unwrap();
    let keys: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|h| {
            (
                h.record_id.as_str(),
                h.item.as_str(),
                h.inspection_kind.as_str(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("r2", "2.1", "self"),
            ("r1", "1.1", "enforcement"),
            ("r1", "1.2", "enforcement")
        ]
    );
    assert_eq!(found[0].found_at, at(T0 + 5_000));
    assert_eq!(found[1].description, hazard("1.1").description);
    assert_eq!(store.enterprise_hazards("no-such-code").unwrap(), []);
}

fn hazards_are_counted_per_china_month_region_industry_and_kind(store: &Store) {
    // 2025-01-31 16:30 UTC is already 1 February in China.
    let february_in_china = 1_738_341_000_000;
    let submitted = |id: &str, started: i64, hazards: &[&str]| {
        let mut c = new_record(id);
        c.projection.started_at = at(started);
        c.projection.status = "submitted".into();
        c.projection.hazards = hazards.iter().map(|item| hazard(item)).collect();
        c
    };
    let r1 = submitted("r1", february_in_china - 3_600_000, &["1", "2"]);
    let r2 = submitted("r2", february_in_china, &["3"]);
    let mut r3 = submitted("r3", february_in_china + 5_000, &["4", "5", "6"]);
    r3.projection.inspection_kind = "self".into();
    let mut r4 = submitted("r4", february_in_china, &["7"]);
    r4.projection = projection(CODE_B, "440306", february_in_china);
    r4.projection.status = "submitted".into();
    r4.projection.industry = "工贸".into();
    r4.projection.hazards = vec![hazard("7")];
    let mut draft = new_record("r5");
    draft.projection.hazards = vec![hazard("8")];
    for c in [&r1, &r2, &r3, &r4, &draft] {
        commit(store, c);
    }
    let counts = |scope: &RecordScope, filter: RecordFilter| {
        store
            .hazard_counts(scope, &filter)
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.month,
                    c.region_code,
                    c.industry,
                    c.inspection_kind,
                    c.count,
                )
            })
            .collect::<Vec<_>>()
    };
    let row = |month: &str, region: &str, industry: &str, kind: &str, count: i64| {
        (
            month.to_string(),
            region.to_string(),
            industry.to_string(),
            kind.to_string(),
            count,
        )
    };
    assert_eq!(
        counts(&RecordScope::All, RecordFilter::default()),
        [
            row("2025-01", "440305", "制造业", "enforcement", 2),
            row("2025-02", "440305", "制造业", "enforcement", 1),
            row("2025-02", "440305", "制造业", "self", 3),
            row("2025-02", "440306", "工贸", "enforcement", 1),
        ],
        "drafts are not counted"
    );
    assert_eq!(
        counts(
            &RecordScope::Regions(vec!["440306".into()]),
            RecordFilter::default()
        ),
        [row("2025-02", "440306", "工贸", "enforcement", 1)]
    );
    assert_eq!(
        counts(
            &RecordScope::All,
            RecordFilter {
                inspection_kinds: vec!["self".into()],
                ..Default::default()
            }
        ),
        [row("2025-02", "440305", "制造业", "self", 3)]
    );
    assert_eq!(
        counts(
            &RecordScope::All,
            RecordFilter {
                started_from: Some(at(february_in_china)),
                industry: Some("制造业".into()),
                ..Default::default()
            }
        ),
        [
            row("2025-02", "440305", "制造业", "enforcement", 1),
            row("2025-02", "440305", "制造业", "self", 3),
        ]
    );
}

/// A China calendar day's midnight as an instant, in milliseconds.
fn china_midnight_ms(y: i32, m: u32, d: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000
}

fn rollups_follow_every_commit_and_answer_ranges_of_china_days(store: &Store) {
    let hour = 3_600_000;
    let inspection =
        |id: &str, code: &str, region: &str, kind: &str, started: i64, hazards: usize| {
            let mut c = new_record(id);
            c.projection = projection(code, region, started);
            c.projection.inspection_kind = kind.into();
            c.projection.status = "submitted".into();
            c.projection.submitted_at = Some(at(started + 30 * 24 * hour));
            c.projection.hazards = (0..hazards).map(|i| hazard(&format!("{i}"))).collect();
            c
        };
    // 2025-03-31 23:30 in China: the last half hour of March.
    let march_end = china_midnight_ms(2025, 4, 1) - hour / 2;
    // 2025-04-01 00:30 in China is 31 March in UTC: April here.
    let april_first = china_midnight_ms(2025, 4, 1) + hour / 2;
    let records = [
        inspection("s1", CODE_A, "440305", "self", march_end, 0),
        inspection("s2", CODE_A, "440305", "self", april_first, 2),
        inspection(
            "s3",
            CODE_A,
            "440305",
            "self",
            china_midnight_ms(2025, 4, 20),
            0,
        ),
        inspection(
            "e1",
            CODE_A,
            "440305",
            "enforcement",
            china_midnight_ms(2025, 5, 2),
            3,
        ),
        inspection(
            "e2",
            CODE_B,
            "440306",
            "enforcement",
            china_midnight_ms(2025, 4, 15),
            1,
        ),
        inspection(
            "x1",
            CODE_B,
            "440306",
            "expert",
            china_midnight_ms(2025, 6, 30),
            0,
        ),
    ];
    for c in &records {
        commit(store, c);
    }
    let mut draft = new_record("d1");
    draft.projection.hazards = vec![hazard("9")];
    commit(store, &draft);
    let mut reinspection = inspection("r1", CODE_A, "440305", "self", april_first, 1);
    reinspection.projection.kind = "reinspection".into();
    commit(store, &reinspection);
    assert!(store.rollups_agree().unwrap(), "after new records");

    // A draft submitted later joins; a submitted record resubmitted with fewer hazards, and
    // one taken back to a draft, move and leave.
    let mut submitted = update("d1", 1);
    submitted.projection = projection(CODE_A, "440305", T0);
    submitted.projection.status = "submitted".into();
    submitted.projection.submitted_at = Some(at(T0 + hour));
    submitted.projection.hazards = vec![hazard("9")];
    commit(store, &submitted);
    let mut fewer = update("e1", 1);
    fewer.projection = records[3].projection.clone();
    fewer.projection.hazards = vec![hazard("1")];
    commit(store, &fewer);
    let mut withdrawn = update("x1", 1);
    withdrawn.projection = records[5].projection.clone();
    withdrawn.projection.status = "draft".into();
    withdrawn.projection.submitted_at = None;
    commit(store, &withdrawn);
    assert!(store.rollups_agree().unwrap(), "after updates");

    let counts = |scope: &RecordScope, from: Option<i64>, before: Option<i64>, kinds: &[&str]| {
        store
            .area_counts(
                scope,
                &RecordFilter {
                    started_from: from.map(at),
                    started_before: before.map(at),
                    inspection_kinds: kinds.iter().map(|k| k.to_string()).collect(),
                    ..RecordFilter::default()
                },
                AreaGrouping::ALL,
            )
            .unwrap()
            .into_iter()
            .map(|c: AreaCount| {
                (
                    c.month,
                    c.region_code,
                    c.inspection_kind,
                    c.inspections,
                    c.passed,
                    c.hazards,
                )
            })
            .collect::<Vec<_>>()
    };
    let row = |month: &str, region: &str, kind: &str, n: i64, passed: i64, hazards: i64| {
        (
            month.to_string(),
            region.to_string(),
            kind.to_string(),
            n,
            passed,
            hazards,
        )
    };
    let everything = [
        row("2025-03", "440305", "self", 1, 1, 0),
        row("2025-04", "440305", "self", 2, 1, 2),
        row("2025-04", "440306", "enforcement", 1, 0, 1),
        row("2025-05", "440305", "enforcement", 1, 0, 1),
        // T0 is 15 June 2025 in China.
        row("2025-06", "440305", "enforcement", 1, 0, 1),
    ];
    assert_eq!(counts(&RecordScope::All, None, None, &[]), everything);
    // Whole months only, edge days only, and both.
    assert_eq!(
        counts(
            &RecordScope::All,
            Some(china_midnight_ms(2025, 4, 1)),
            Some(china_midnight_ms(2025, 5, 1)),
            &[]
        ),
        everything[1..3]
    );
    assert_eq!(
        counts(
            &RecordScope::All,
            Some(china_midnight_ms(2025, 4, 2)),
            Some(china_midnight_ms(2025, 4, 20)),
            &[]
        ),
        [row("2025-04", "440306", "enforcement", 1, 0, 1)],
        "2–19 April: the 1 April and 20 April self-inspections are outside"
    );
    assert_eq!(
        counts(
            &RecordScope::All,
            Some(china_midnight_ms(2025, 3, 31)),
            Some(china_midnight_ms(2025, 5, 3)),
            &["self", "enforcement"]
        ),
        everything[..4]
    );
    assert_eq!(
        counts(
            &RecordScope::Regions(vec!["440306".into()]),
            None,
            Some(china_midnight_ms(2025, 4, 16)),
            &[]
        ),
        [row("2025-04", "440306", "enforcement", 1, 0, 1)]
    );
    assert_eq!(
        counts(
            &RecordScope::All,
            Some(china_midnight_ms(2025, 3, 31)),
            Some(china_midnight_ms(2025, 4, 2)),
            &[]
        ),
        [
            row("2025-03", "440305", "self", 1, 1, 0),
            row("2025-04", "440305", "self", 1, 0, 2)
        ],
        "two days across a month end, each in its month"
    );
    // Without months: the running totals at the range's two ends.
    let by_region = |from: Option<i64>, before: Option<i64>| {
        store
            .area_counts(
                &RecordScope::All,
                &RecordFilter {
                    started_from: from.map(at),
                    started_before: before.map(at),
                    ..RecordFilter::default()
                },
                AreaGrouping {
                    month: false,
                    region: true,
                    industry: false,
                },
            )
            .unwrap()
            .into_iter()
            .map(|c| {
                assert_eq!((c.month.as_str(), c.industry.as_str()), ("", ""));
                (
                    c.region_code,
                    c.inspection_kind,
                    c.inspections,
                    c.passed,
                    c.hazards,
                )
            })
            .collect::<Vec<_>>()
    };
    let area = |region: &str, kind: &str, n: i64, passed: i64, hazards: i64| {
        (region.to_string(), kind.to_string(), n, passed, hazards)
    };
    assert_eq!(
        by_region(None, None),
        [
            area("440305", "enforcement", 2, 0, 2),
            area("440305", "self", 3, 2, 2),
            area("440306", "enforcement", 1, 0, 1),
        ]
    );
    assert_eq!(
        by_region(
            Some(china_midnight_ms(2025, 4, 1)),
            Some(china_midnight_ms(2025, 4, 21))
        ),
        [
            area("440305", "self", 2, 1, 2),
            area("440306", "enforcement", 1, 0, 1),
        ],
        "1–20 April, both days of the self-inspections included"
    );
    assert_eq!(
        by_region(Some(china_midnight_ms(2025, 4, 2)), None),
        [
            area("440305", "enforcement", 2, 0, 2),
            area("440305", "self", 1, 1, 0),
            area("440306", "enforcement", 1, 0, 1),
        ]
    );
    assert_eq!(
        by_region(
            Some(china_midnight_ms(2025, 4, 21)),
            Some(china_midnight_ms(2025, 5, 1))
        ),
        []
    );
    // Longer than two months: from the running totals at the two ends.
    assert_eq!(
        by_region(
            Some(china_midnight_ms(2025, 1, 1)),
            Some(china_midnight_ms(2026, 1, 1))
        ),
        by_region(None, None)
    );
    assert_eq!(
        by_region(
            Some(china_midnight_ms(2025, 4, 1)),
            Some(china_midnight_ms(2025, 6, 15))
        ),
        [
            area("440305", "enforcement", 1, 0, 1),
            area("440305", "self", 2, 1, 2),
            area("440306", "enforcement", 1, 0, 1),
        ],
        "1 April to 14 June: T0 (15 June) is outside"
    );
    assert_eq!(
        by_region(
            Some(china_midnight_ms(2025, 4, 2)),
            Some(china_midnight_ms(2025, 7, 1))
        ),
        by_region(Some(china_midnight_ms(2025, 4, 2)), None),
        "both ways from 2 April"
    );
    let enterprise_b = RecordScope::Enterprise {
        credit_code: CODE_B.into(),
        inspection_kinds: vec!["enforcement".into(), "expert".into()],
    };
    assert_eq!(
        counts(&enterprise_b, None, None, &[]),
        [row("2025-04", "440306", "enforcement", 1, 0, 1)],
        "an enterprise's scope, read from its records"
    );

    // Each enterprise's activity over a period: the kinds started in it and, per month, the
    // first submission of a self-inspection started in that month.
    let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    let other = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let activity_of = |scope: &RecordScope, code: &str, from, until| {
        let mut found: Vec<EnterpriseActivity> = store
            .enterprise_activity(scope, from, until)
            .unwrap()
            .into_iter()
            .filter(|a| a.enterprise_code == code)
            .collect();
        assert_eq!(found.len(), 1, "{code} has one history");
        found.remove(0)
    };
    let spring = activity_of(&RecordScope::All, CODE_A, day(3, 1), day(5, 31));
    assert_eq!(spring.region_code, "440305");
    let kinds_started = |activity: &EnterpriseActivity| {
        EnterpriseActivity::KINDS
            .iter()
            .filter(|kind| activity.started(**kind))
            .map(|kind| kind.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(kinds_started(&spring), ["enforcement", "self"]);
    assert_eq!(
        spring.self_first_submitted,
        [Some(day(4, 30)), Some(day(5, 1)), None],
        "March's one; the earlier of April's two; none in May"
    );
    for (from, until, started) in [
        (day(4, 2), day(4, 19), false),
        (day(4, 1), day(4, 1), true),
        (day(4, 20), day(4, 20), true),
        (day(4, 21), day(12, 31), false),
        (other(2024, 12, 1), day(3, 31), true),
        (other(2024, 1, 1), day(3, 30), false),
        (day(4, 21), other(2026, 6, 1), false),
        (other(2024, 1, 1), other(2026, 1, 1), true),
        (other(2026, 1, 1), other(2026, 2, 1), false),
        (other(2024, 1, 1), other(2024, 12, 31), false),
    ] {
        let activity = activity_of(&RecordScope::All, CODE_A, from, until);
        assert_eq!(
            activity.started(anjian_core::template::InspectionKind::SelfInspection),
            started,
            "{from}..={until}"
        );
    }
    assert_eq!(
        activity_of(&RecordScope::All, CODE_A, day(4, 2), day(4, 19)).self_first_submitted,
        [Some(day(5, 1))],
        "a month is judged whole: April's inspections started outside the period count"
    );
    assert!(
        store
            .enterprise_activity(&RecordScope::All, day(5, 1), day(4, 30))
            .unwrap()
            .is_empty(),
        "an empty period"
    );
    let b_only = store
        .enterprise_activity(
            &RecordScope::Regions(vec!["440306".into()]),
            day(1, 1),
            day(12, 31),
        )
        .unwrap();
    assert_eq!(b_only.len(), 1);
    assert_eq!(b_only[0].enterprise_code, CODE_B);
    assert_eq!(
        kinds_started(&b_only[0]),
        ["enforcement"],
        "its expert check was taken back to a draft"
    );
    let self_only = RecordScope::Enterprise {
        credit_code: CODE_A.into(),
        inspection_kinds: vec!["self".into()],
    };
    assert_eq!(
        kinds_started(&activity_of(&self_only, CODE_A, day(1, 1), day(12, 31))),
        ["self"],
        "an enterprise's scope sees only its kinds"
    );

    let summary = store.rebuild_rollups().unwrap();
    assert_eq!(summary.inspections, 6);
    assert!(store.rollups_agree().unwrap());
    assert_eq!(counts(&RecordScope::All, None, None, &[]), everything);
}

fn submitted_inspections_are_listed_by_enterprise_and_start(store: &Store) {
    let self_inspection =
        |id: &str, code: &str, region: &str, started: i64, submitted: Option<i64>| {
            let mut c = new_record(id);
            c.projection = projection(code, region, started);
            c.projection.inspection_kind = "self".into();
            if let Some(at_ms) = submitted {
                c.projection.status = "submitted".into();
                c.projection.submitted_at = Some(at(at_ms));
            }
            c
        };
    let a1 = self_inspection("a1", CODE_A, "440305", T0, Some(T0 + 86_400_000));
    let a2 = self_inspection("a2", CODE_A, "440305", T0 + 2_000, Some(T0 + 3_000));
    let draft = self_inspection("a3", CODE_A, "440305", T0 + 4_000, None);
    let mut enforcement = new_record("a4");
    enforcement.projection.status = "submitted".into();
    enforcement.projection.submitted_at = Some(at(T0 + 5_000));
    let b1 = self_inspection("b1", CODE_B, "440306", T0 + 1_000, Some(T0 + 1_500));
    for c in [&a1, &a2, &draft, &enforcement, &b1] {
        commit(store, c);
    }
    let all_kinds = store
        .submitted_inspections(&RecordScope::All, &RecordFilter::default())
        .unwrap();
    assert_eq!(
        all_kinds
            .iter()
            .map(|r| (r.enterprise_code.as_str(), r.inspection_kind.as_str()))
            .collect::<Vec<_>>(),
        // By enterprise, start, then id: a1 and a4 both start at T0.
        [
            (CODE_A, "self"),
            (CODE_A, "enforcement"),
            (CODE_A, "self"),
            (CODE_B, "self")
        ],
        "submitted inspections of every kind, drafts left out"
    );
    let listed = |scope: &RecordScope, filter: RecordFilter| {
        let filter = RecordFilter {
            inspection_kinds: vec!["self".into()],
            ..filter
        };
        store
            .submitted_inspections(scope, &filter)
            .unwrap()
            .into_iter()
            .map(|r| (r.enterprise_code, r.started_at, r.submitted_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(&RecordScope::All, RecordFilter::default()),
        [
            (CODE_A.to_string(), at(T0), at(T0 + 86_400_000)),
            (CODE_A.to_string(), at(T0 + 2_000), at(T0 + 3_000)),
            (CODE_B.to_string(), at(T0 + 1_000), at(T0 + 1_500)),
        ],
        "submitted self-inspections only, by enterprise and start"
    );
    assert_eq!(
        listed(
            &RecordScope::Regions(vec!["440306".into()]),
            RecordFilter::default()
        ),
        [(CODE_B.to_string(), at(T0 + 1_000), at(T0 + 1_500))]
    );
    assert_eq!(
        listed(
            &RecordScope::All,
            RecordFilter {
                started_from: Some(at(T0 + 1_000)),
                started_before: Some(at(T0 + 2_000)),
                ..Default::default()
            }
        ),
        [(CODE_B.to_string(), at(T0 + 1_000), at(T0 + 1_500))]
    );
}

fn a_reinspection_marks_the_hazards_it_found_rectified_whatever_arrives_first(store: &Store) {
    let submitted = |id: &str, started: i64, hazards: &[&str]| {
        let mut c = new_record(id);
        c.projection.started_at = at(started);
        c.projection.status = "submitted".into();
        c.projection.submitted_at = Some(at(started + 1_000));
        c.projection.hazards = hazards.iter().map(|item| hazard(item)).collect();
        c
    };
    let reinspection = |id: &str, of: &str, items: &[&str], on: i64| {
        let mut c = submitted(id, on, &[]);
        c.projection.kind = "reinspection".into();
        c.projection.rectifies = Some(Rectification {
            record_id: of.into(),
            items: items.iter().map(|i| i.to_string()).collect(),
            at: at(on + 1_000),
        });
        c
    };
    // r1's re-inspection arrives first; r2's after it; a second re-inspection of r2 later.
    commit(store, &reinspection("x1", "r1", &["1.1"], T0 + 50_000));
    commit(store, &submitted("r1", T0, &["1.1", "1.2"]));
    commit(store, &submitted("r2", T0 + 10_000, &["2.1"]));
    commit(store, &reinspection("x2", "r2", &["2.1"], T0 + 60_000));
    commit(store, &reinspection("x3", "r2", &["2.1"], T0 + 90_000));
    let statuses: Vec<(String, String, Option<DateTime<Utc>>)> = store
        .hazard_statuses(&RecordScope::All)
        .unwrap()
        .into_iter()
        .map(|h| (h.record_id, h.item, h.rectified_at))
        .collect();
    assert_eq!(
        statuses,
        [
            ("r1".to_string(), "1.1".to_string(), Some(at(T0 + 51_000))),
            ("r1".to_string(), "1.2".to_string(), None),
            ("r2".to_string(), "2.1".to_string(), Some(at(T0 + 61_000))),
        ],
        "the earliest re-inspection counts; re-inspections are not hazards of their own"
    );
    assert_eq!(
        store
            .hazard_statuses(&RecordScope::Regions(vec!["440306".into()]))
            .unwrap(),
        []
    );

    // Hazard tracking's tallies and open list followed both orders of arrival. Each hazard's
    // deadline is 15 July 2025.
    assert!(store.rollups_agree().unwrap());
    let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    let tallied = |today: NaiveDate| {
        store
            .hazard_tallies(
                &RecordScope::All,
                TallyLevel::Enterprise,
                today,
                today + chrono::Duration::days(7),
                -1,
                0,
            )
            .unwrap()
            .page
            .into_iter()
            .map(|t| (t.code, t.found, t.rectified, t.overdue, t.due_soon))
            .collect::<Vec<_>>()
    };
    assert_eq!(tallied(day(7, 20)), [(CODE_A.to_string(), 3, 2, 1, 0)]);
    assert_eq!(tallied(day(7, 10)), [(CODE_A.to_string(), 3, 2, 0, 1)]);
    assert_eq!(tallied(day(6, 1)), [(CODE_A.to_string(), 3, 2, 0, 0)]);
    // The deadline's own day is due, not overdue; the day after is overdue; a deadline on the
    // last day of "soon" is due soon.
    assert_eq!(tallied(day(7, 15)), [(CODE_A.to_string(), 3, 2, 0, 1)]);
    assert_eq!(tallied(day(7, 16)), [(CODE_A.to_string(), 3, 2, 1, 0)]);
    assert_eq!(tallied(day(7, 8)), [(CODE_A.to_string(), 3, 2, 0, 1)]);
    assert_eq!(tallied(day(7, 7)), [(CODE_A.to_string(), 3, 2, 0, 0)]);
    assert_eq!(
        store
            .hazard_tallies(
                &RecordScope::Regions(vec!["440306".into()]),
                TallyLevel::Region,
                day(7, 20),
                day(7, 27),
                -1,
                0
            )
            .unwrap(),
        HazardTallies {
            page: vec![],
            groups: 0,
            sum: HazardTally::default()
        }
    );
    let open = |standing, today: NaiveDate, limit| {
        store
            .open_hazards(
                &RecordScope::All,
                standing,
                today,
                today + chrono::Duration::days(7),
                limit,
                0,
            )
            .unwrap()
            .into_iter()
            .map(|h| (h.record_id, h.item))
            .collect::<Vec<_>>()
    };
    let r1_2 = vec![("r1".to_string(), "1.2".to_string())];
    assert_eq!(open(None, day(7, 20), -1), r1_2);
    assert_eq!(open(Some(OpenStanding::Overdue), day(7, 20), -1), r1_2);
    assert_eq!(open(Some(OpenStanding::DueSoon), day(7, 20), -1), []);
    assert_eq!(open(Some(OpenStanding::DueSoon), day(7, 10), -1), r1_2);
    assert_eq!(open(Some(OpenStanding::Open), day(6, 1), -1), r1_2);
    assert_eq!(open(None, day(7, 20), 0), []);
    // The rectified, latest rectification first, whichever arrived first; paged; in scope.
    let rectified = |scope: &RecordScope, limit, offset| {
        store
            .rectified_hazards(scope, limit, offset)
            .unwrap()
            .into_iter()
            .map(|h| (h.record_id, h.item, h.rectified_at))
            .collect::<Vec<_>>()
    };
    let r2_1 = ("r2".to_string(), "2.1".to_string(), Some(at(T0 + 61_000)));
    let r1_1 = ("r1".to_string(), "1.1".to_string(), Some(at(T0 + 51_000)));
    assert_eq!(
        rectified(&RecordScope::All, -1, 0),
        [r2_1.clone(), r1_1.clone()]
    );
    assert_eq!(
        rectified(&RecordScope::All, 1, 1),
        std::slice::from_ref(&r1_1)
    );
    assert_eq!(rectified(&RecordScope::All, 5, 2), []);
    assert_eq!(
        rectified(&RecordScope::Regions(vec!["440305".into()]), -1, 0),
        [r2_1, r1_1]
    );
    assert_eq!(
        rectified(&RecordScope::Regions(vec!["440306".into()]), -1, 0),
        []
    );
    // A re-inspection earlier than the one that counted, arriving later (its device synced
    // late): the earliest date counts, in the rows and in the list.
    commit(store, &reinspection("x0", "r2", &["2.1"], T0 + 55_000));
    let earliest = ("r2".to_string(), "2.1".to_string(), Some(at(T0 + 56_000)));
    assert!(
        store
            .hazard_statuses(&RecordScope::All)
            .unwrap()
            .into_iter()
            .any(|h| (h.record_id, h.item, h.rectified_at) == earliest)
    );
    assert_eq!(rectified(&RecordScope::All, 1, 0), [earliest]);
    assert!(store.rollups_agree().unwrap());

    // An undated hazard is listed after every dated one, and paging runs across both.
    let mut undated = submitted("r3", T0 + 20_000, &["3.1"]);
    undated.projection.hazards[0].deadline = None;
    commit(store, &undated);
    let page = |standing, limit, offset| {
        store
            .open_hazards(
                &RecordScope::All,
                standing,
                day(7, 20),
                day(7, 27),
                limit,
                offset,
            )
            .unwrap()
            .into_iter()
            .map(|h| h.record_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(page(None, -1, 0), ["r1", "r3"]);
    assert_eq!(page(None, 1, 0), ["r1"]);
    assert_eq!(page(None, 1, 1), ["r3"]);
    assert_eq!(page(None, 5, 2), Vec::<String>::new());
    assert_eq!(page(Some(OpenStanding::Open), -1, 0), ["r3"]);
    assert_eq!(page(Some(OpenStanding::Overdue), -1, 0), ["r1"]);
    assert!(store.rollups_agree().unwrap());

    // The enterprise renamed: the latest-started inspection names its tally, whatever
    // arrives first.
    let named = |id: &str, started: i64, name: &str| {
        let mut c = submitted(id, started, &["9.1"]);
        c.projection.enterprise_name = name.into();
        c
    };
    // A page of the summary on 20 July.
    let summary = |level, limit, offset| {
        store
            .hazard_tallies(
                &RecordScope::All,
                level,
                day(7, 20),
                day(7, 27),
                limit,
                offset,
            )
            .unwrap()
    };
    let tally_name = || {
        summary(TallyLevel::Enterprise, -1, 0)
            .page
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>()
    };
    let before = tally_name();
    commit(store, &named("n1", T0 + 500_000, "新名称有限公司"));
    assert_eq!(tally_name(), ["新名称有限公司"]);
    commit(store, &named("n0", T0 - 500_000, "旧名称有限公司"));
    assert_eq!(
        tally_name(),
        ["新名称有限公司"],
        "an earlier inspection arriving late"
    );
    assert_ne!(before, tally_name());
    assert!(store.rollups_agree().unwrap());
    store.rebuild_rollups().unwrap();
    assert_eq!(
        tally_name(),
        ["新名称有限公司"],
        "a recount names it the same"
    );
    // An expert check under the old name, started before the renaming one: the enterprise is
    // still one row of the summary, under its latest name, counting both kinds' hazards.
    let mut expert = named("e1", T0 + 400_000, "旧名称有限公司");
    expert.projection.inspection_kind = "expert".into();
    commit(store, &expert);
    let by_enterprise = summary(TallyLevel::Enterprise, -1, 0).page;
    assert_eq!(
        by_enterprise
            .iter()
            .map(|t| (t.name.as_str(), t.found))
            .collect::<Vec<_>>(),
        [("新名称有限公司", 7)]
    );
    // By region the same hazards, under the region's code.
    let by_region = summary(TallyLevel::Region, -1, 0).page;
    assert_eq!(
        by_region
            .iter()
            .map(|t| (t.code.as_str(), t.found, t.rectified, t.overdue))
            .collect::<Vec<_>>(),
        [(
            "440305",
            by_enterprise[0].found,
            by_enterprise[0].rectified,
            by_enterprise[0].overdue
        )]
    );

    // A second enterprise with more overdue hazards heads the summary; a page of one row
    // past it is the first; the sum and the count of groups cover every page.
    let mut other = submitted(
        "b1",
        T0 + 30_000,
        &["b.1", "b.2", "b.3", "b.4", "b.5", "b.6"],
    );
    other.projection = projection(CODE_B, "440306", T0 + 30_000);
    other.projection.status = "submitted".into();
    other.projection.hazards = (1..=6).map(|i| hazard(&format!("b.{i}"))).collect();
    commit(store, &other);
    let whole = summary(TallyLevel::Enterprise, -1, 0);
    assert_eq!(
        whole
            .page
            .iter()
            .map(|t| t.code.as_str())
            .collect::<Vec<_>>(),
        [CODE_B, CODE_A],
        "{whole:?}"
    );
    assert!(whole.page[0].overdue > whole.page[1].overdue, "{whole:?}");
    assert_eq!(whole.groups, 2);
    assert_eq!(
        whole.sum.found,
        whole.page.iter().map(|t| t.found).sum::<i64>()
    );
    assert_eq!(
        whole.sum.overdue,
        whole.page.iter().map(|t| t.overdue).sum::<i64>()
    );
    let second = summary(TallyLevel::Enterprise, 1, 1);
    assert_eq!(second.page, whole.page[1..]);
    assert_eq!((second.groups, &second.sum), (2, &whole.sum));
    assert_eq!(summary(TallyLevel::Enterprise, 5, 2).page, []);
    assert_eq!(summary(TallyLevel::Enterprise, 0, 0).page, []);
    assert!(store.rollups_agree().unwrap());
}

fn amendments_name_the_record_they_amend(store: &Store) {
    commit(store, &locking(new_record("r1"), T0 + 1_000));
    commit(store, &new_record("r2"));
    // Ids compare byte by byte, whatever the database's collation: "B1" before "a1".
    for id in ["a2", "B1", "a1"] {
        let mut amendment = new_record(id);
        amendment.projection.kind = "amendment".into();
        amendment.projection.amends = Some("r1".into());
        commit(store, &amendment);
    }
    assert_eq!(store.amendments_of("r1").unwrap(), ["B1", "a1", "a2"]);
    assert_eq!(store.amendments_of("r2").unwrap(), Vec::<String>::new());
    assert_eq!(store.amendments_of("a1").unwrap(), Vec::<String>::new());
    let a1 = store.record("a1").unwrap().unwrap();
    assert_eq!(a1.amends.as_deref(), Some("r1"));
    assert_eq!(a1.kind, "amendment");
}

// ---- numbers --------------------------------------------------------------------------------

fn leases_are_consecutive_blocks_per_agency_type_and_year(store: &Store) {
    let lease = |agency: &str, doc_type, year, device: &str, size| {
        store
            .lease_block(agency, doc_type, year, device, "alice", size, at(T0))
            .unwrap()
    };
    let block = |agency: &str, doc_type, year, first, last| NumberBlock {
        agency: agency.into(),
        doc_type,
        year,
        first,
        last,
    };
    let seq = store.current_seq().unwrap();
    assert_eq!(
        lease(AGENCY, DocType::Order, 2025, DEVICE_A, 50),
        block(AGENCY, DocType::Order, 2025, 1, 50)
    );
    assert_eq!(
        lease(AGENCY, DocType::Order, 2025, DEVICE_B, 50),
        block(AGENCY, DocType::Order, 2025, 51, 100)
    );
    assert_eq!(
        lease(AGENCY, DocType::Order, 2025, DEVICE_A, 10),
        block(AGENCY, DocType::Order, 2025, 101, 110)
    );
    // Each type, year and agency counts on its own.
    assert_eq!(
        lease(AGENCY, DocType::Record, 2025, DEVICE_A, 10),
        block(AGENCY, DocType::Record, 2025, 1, 10)
    );
    assert_eq!(
        lease(AGENCY, DocType::Order, 2026, DEVICE_A, 10),
        block(AGENCY, DocType::Order, 2026, 1, 10)
    );
    assert_eq!(
        lease("其他机构", DocType::Order, 2025, DEVICE_A, 5),
        block("其他机构", DocType::Order, 2025, 1, 5)
    );
    assert_eq!(store.current_seq().unwrap(), seq);

    // Ordered by agency (byte order: 其 before 深), type, year, first serial.
    assert_eq!(
        store.leases_of_device(DEVICE_A, "alice").unwrap(),
        [
            block("其他机构", DocType::Order, 2025, 1, 5),
            block(AGENCY, DocType::Order, 2025, 1, 50),
            block(AGENCY, DocType::Order, 2025, 101, 110),
            block(AGENCY, DocType::Order, 2026, 1, 10),
            block(AGENCY, DocType::Record, 2025, 1, 10),
        ]
    );
    assert_eq!(
        store.leases_of_device(DEVICE_B, "alice").unwrap(),
        [block(AGENCY, DocType::Order, 2025, 51, 100)]
    );
    assert_eq!(store.leases_of_device("tablet-c", "alice").unwrap(), []);

    let holder = |doc_type, year, serial| {
        store
            .lease_holder(AGENCY, doc_type, year, serial)
            .unwrap()
            .map(|(device, login)| {
                assert_eq!(login, "alice");
                device
            })
    };
    // Another account using the same device id sees none of the device's blocks.
    assert_eq!(store.leases_of_device(DEVICE_A, "mallory").unwrap(), []);
    assert_eq!(holder(DocType::Order, 2025, 1).as_deref(), Some(DEVICE_A));
    assert_eq!(holder(DocType::Order, 2025, 50).as_deref(), Some(DEVICE_A));
    assert_eq!(holder(DocType::Order, 2025, 51).as_deref(), Some(DEVICE_B));
    assert_eq!(holder(DocType::Order, 2025, 100).as_deref(), Some(DEVICE_B));
    assert_eq!(holder(DocType::Order, 2025, 111), None);
    assert_eq!(holder(DocType::Reinspection, 2025, 1), None);
    assert_eq!(holder(DocType::Order, 2024, 1), None);

    // The serials of a year run out.
    assert_eq!(
        lease(
            AGENCY,
            DocType::Reinspection,
            2025,
            DEVICE_A,
            MAX_SERIAL - 1
        ),
        block(AGENCY, DocType::Reinspection, 2025, 1, MAX_SERIAL - 1)
    );
    let message = conflict(store.lease_block(
        AGENCY,
        DocType::Reinspection,
        2025,
        DEVICE_A,
        "alice",
        2,
        at(T0),
    ));
    assert_eq!(message, "整改复查意见书（2025 年）的编号已用尽");
    assert_eq!(
        lease(AGENCY, DocType::Reinspection, 2025, DEVICE_B, 1),
        block(AGENCY, DocType::Reinspection, 2025, MAX_SERIAL, MAX_SERIAL)
    );
}

fn voiding_is_idempotent_and_refused_for_an_issued_number(store: &Store) {
    store.void_number(&voided(7)).unwrap();
    store.void_number(&voided(7)).unwrap();
    assert_eq!(store.number_register().unwrap(), [voided(7)]);

    let mut c = new_record("r1");
    c.projection.documents = vec![issued(3)];
    commit(store, &c);
    let message = conflict(store.void_number(&voided(3)));
    assert_eq!(
        message,
        format!("编号 {} 已用于记录 r1，不能作废", issued(3).number)
    );

    let mut record_number = voided(12);
    record_number.doc_type = DocType::Record;
    record_number.number = "深应急现记〔2025〕12号".into();
    record_number.reason = None;
    store.void_number(&record_number).unwrap();
    // By agency, type, year and serial.
    assert_eq!(
        store.number_register().unwrap(),
        [
            NumberRegisterEntry {
                number: issued(3).number,
                agency: AGENCY.into(),
                doc_type: DocType::Order,
                year: 2025,
                serial: 3,
                state: "issued".into(),
                record_id: Some("r1".into()),
                reason: None,
                device_id: DEVICE_A.into(),
                at: at(T0 + 60_000),
            },
            voided(7),
            record_number,
        ]
    );
}

// ---- audit ----------------------------------------------------------------------------------

fn concurrent_locks_keep_the_audit_chain_intact(store: &Store) {
    const THREADS: usize = 8;
    const EACH: usize = 3;
    let start = Barrier::new(THREADS);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let start = &start;
            s.spawn(move || {
                start.wait();
                for i in 0..EACH {
                    let at_ms = T0 + (t * EACH + i) as i64;
                    let receipt = commit(store, &locking(new_record(&format!("r{t}-{i}")), at_ms));
                    assert!(receipt.is_some());
                }
            });
        }
    });

    let log = store.audit_log().unwrap();
    assert_eq!(log.len(), THREADS * EACH);
    let mut previous = GENESIS_HASH.to_string();
    for (i, receipt) in log.iter().enumerate() {
        assert_eq!(receipt.log_index, i as i64 + 1);
        assert_eq!(receipt.previous_hash, previous);
        assert_eq!(
            receipt.entry_hash,
            entry_hash(
                &previous,
                &receipt.record_id,
                &receipt.heads,
                &receipt.content_hash,
                receipt.locked_at
            )
        );
        receipt.verify(&public_key()).unwrap();
        let record = store.record(&receipt.record_id).unwrap().unwrap();
        assert_eq!(record.lock.as_ref(), Some(receipt));
        previous = receipt.entry_hash.clone();
    }
    let locked: BTreeSet<_> = log.iter().map(|r| r.record_id.as_str()).collect();
    assert_eq!(locked.len(), THREADS * EACH);
}

/// Writers racing for one record version, one new id, one login and the next serials: one
/// wins each, the others are refused (or, for serials, get the blocks after), nothing is lost.
fn racing_writers_get_one_winner_each(store: &Store) {
    const RACERS: usize = 6;
    commit(store, &new_record("r1"));
    let start = Barrier::new(RACERS);
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let racers: Vec<_> = (0..RACERS)
            .map(|n| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    let mut next = update("r1", 1);
                    next.doc = format!("racer {n}").into_bytes();
                    let updated = store.commit_record(&next, &sign).unwrap();
                    let mut fresh = new_record("r2");
                    fresh.doc = format!("racer {n}").into_bytes();
                    let created = store.commit_record(&fresh, &sign).unwrap();
                    let login = store.add_user(&user("carol", Some(&format!("C{n}"))));
                    let block = store
                        .lease_block(AGENCY, DocType::Order, 2025, DEVICE_A, "alice", 10, at(T0))
                        .unwrap();
                    (n, updated, created, login, block)
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });

    let committed = CommitOutcome::Committed { receipt: None };
    let winners: Vec<_> = outcomes.iter().filter(|o| o.1 == committed).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.1 == committed || o.1 == CommitOutcome::VersionConflict)
    );
    let r1 = store.record("r1").unwrap().unwrap();
    assert_eq!(r1.version, 2);
    assert_eq!(r1.doc, format!("racer {}", winners[0].0).into_bytes());

    let creators: Vec<_> = outcomes.iter().filter(|o| o.2 == committed).collect();
    assert_eq!(creators.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.2 == committed || o.2 == CommitOutcome::VersionConflict)
    );
    let r2 = store.record("r2").unwrap().unwrap();
    assert_eq!(r2.version, 1);
    assert_eq!(r2.doc, format!("racer {}", creators[0].0).into_bytes());

    let added: Vec<_> = outcomes.iter().filter(|o| o.3.is_ok()).collect();
    assert_eq!(added.len(), 1);
    for o in &outcomes {
        if let Err(e) = &o.3 {
            assert!(
                matches!(e, StoreError::Conflict(m) if m == "账号 carol 已存在"),
                "{e:?}"
            );
        }
    }
    let cert = format!("C{}", added[0].0);
    assert_eq!(
        store.user("carol").unwrap().unwrap().cert.as_deref(),
        Some(cert.as_str())
    );

    let mut blocks: Vec<_> = outcomes.iter().map(|o| (o.4.first, o.4.last)).collect();
    blocks.sort();
    let expected: Vec<_> = (0..RACERS as u32)
        .map(|i| (i * 10 + 1, i * 10 + 10))
        .collect();
    assert_eq!(blocks, expected);
}

/// The server's state (and with it the store) may be dropped on an async worker at shutdown,
/// where the synchronous client could not close its connections itself.
#[test]
fn a_postgres_store_may_be_dropped_on_an_async_worker() {
    let db = TestDatabase::create();
    let store = Store::connect_postgres(&db.url).unwrap();
    assert_eq!(store.regions().unwrap(), []);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move { drop(store) });
}
