//! Faults: the server killed with SIGKILL in the middle of a stream of uploads, and a client
//! cut off in the middle of a request. Acknowledged records survive exactly once, no lock is
//! half-written, and syncing again reaches the same final state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anjian_core::sync::client;
use anjian_core::sync::protocol::UploadResult;
use anjian_core::sync::receipt::Receipt;
use anjian_e2e::{Device, FACTORY, LI, Server, ServerProcess, block_on, free_port, retry, seed};
use anjian_server::store::{RecordScope, Store};
use chrono::Utc;

const SERVER: &str = env!("CARGO_BIN_EXE_anjian-server-e2e");

/// What the server acknowledged: record id → the receipt (for a lock) or none.
type Acknowledged = Arc<Mutex<BTreeMap<String, Option<Receipt>>>>;

fn work(
    mut device: Device,
    colleague: &'static str,
    records: usize,
    acked: Acknowledged,
) -> Device {
    for n in 0..records {
        let id = device.start_trade(FACTORY, colleague);
        device.answer_required(&id, 0, 1);
        if n % 2 == 0 {
            device.store.submit_inspection(&id, Utc::now()).unwrap();
        }
        // The server may be down: the device keeps its records and tries again next time.
        if let Ok(report) = device.sync() {
            let mut acked = acked.lock().unwrap();
            for outcome in report.records {
                match outcome.result {
                    UploadResult::Accepted => {
                        acked.entry(outcome.id).or_insert(None);
                    }
                    UploadResult::Locked => {
                        acked.insert(outcome.id, outcome.receipt);
                    }
                    UploadResult::Rejected => panic!("rejected: {outcome:?}"),
                }
            }
        }
    }
    device
}

fn sync_until_quiet(device: &mut Device) {
    for _ in 0..10 {
        let report = device.sync().unwrap();
        if report.records.is_empty() {
            return;
        }
    }
    panic!("device never finished uploading");
}

fn verify_log(data: &Path) -> std::process::Output {
    std::process::Command::new(SERVER)
        .args(["--data", data.to_str().unwrap(), "verify-log"])
        .output()
        .unwrap()
}

#[test]
fn sigkill_during_uploads_loses_no_acknowledged_record_and_half_writes_no_lock() {
    let data = tempfile::tempdir().unwrap();
    let database = data.path().join(anjian_server::cli::SQLITE_FILE);
    seed(&Store::open_sqlite(&database).unwrap());
    let mut server = ServerProcess::start(Path::new(SERVER), data.path(), free_port());

    let zhang = Device::logged_in(&server.url, "zhang");
    let li = Device::logged_in(&server.url, "li");
    let acked: Acknowledged = Arc::default();
    let workers = [(zhang, LI), (li, "张伟:37030001:2030-12-31")].map(|(device, colleague)| {
        let acked = acked.clone();
        std::thread::spawn(move || work(device, colleague, 12, acked))
    });

    // Kill once some uploads were acknowledged, while more are on their way.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let acknowledged_before_kill = acked.lock().unwrap().clone();
    assert!(acknowledged_before_kill.len() >= 4);
    std::thread::sleep(Duration::from_millis(300));
    server.restart(Path::new(SERVER));

    let mut devices: Vec<Device> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    for device in &mut devices {
        sync_until_quiet(device);
    }
    server.kill();

    let store = Store::open_sqlite(&database).unwrap();
    let on_server = store
        .list_records(&RecordScope::All, &Default::default(), 1000, 0)
        .unwrap();
    let ids: BTreeSet<String> = on_server.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), on_server.len(), "a record is stored twice");
    let created: BTreeSet<String> = devices
        .iter()
        .flat_map(|d| d.store.list_records().unwrap())
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, created);
    assert_eq!(ids.len(), 24);
    // Every acknowledgement holds, and a lock acknowledged before the kill kept its receipt.
    for (id, receipt) in &acknowledged_before_kill {
        let stored = store.record(id).unwrap().expect("acknowledged record lost");
        if let Some(receipt) = receipt {
            assert_eq!(stored.lock.as_ref(), Some(receipt));
        }
    }
    // Every submitted record is locked, once, with an intact chain.
    let log = store.audit_log().unwrap();
    let locked: BTreeSet<String> = log.iter().map(|r| r.record_id.clone()).collect();
    assert_eq!(locked.len(), log.len());
    assert_eq!(
        locked,
        on_server
            .iter()
            .filter(|r| r.status == "submitted")
            .map(|r| r.id.clone())
            .collect()
    );
    assert_eq!(log.len(), 12);
    let check = verify_log(data.path());
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // The devices agree with the server.
    for device in &devices {
        for summary in device.store.list_records().unwrap() {
            let state = device.store.sync_state(&summary.id).unwrap().unwrap();
            assert_eq!(state.locked, summary.status == "submitted", "{summary:?}");
            if let Some(receipt) = &state.receipt {
                assert_eq!(
                    store.record(&summary.id).unwrap().unwrap().lock.as_ref(),
                    Some(receipt)
                );
            }
        }
    }
}

#[test]
fn a_client_cut_off_mid_request_syncs_to_the_same_final_state() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let mut ids = Vec::new();
    for cut_after_ms in [0u64, 2, 5, 10, 20, 40, 80] {
        let id = zhang.start_trade(FACTORY, LI);
        zhang.answer_required(&id, 0, 1);
        zhang.store.submit_inspection(&id, Utc::now()).unwrap();
        ids.push(id);
        // Dropping the future cuts the request wherever it is.
        let cut = block_on(async {
            tokio::time::timeout(
                Duration::from_millis(cut_after_ms),
                client::sync(&mut zhang.store, retry()),
            )
            .await
        });
        if let Ok(result) = cut {
            result.unwrap();
        }
    }
    sync_until_quiet(&mut zhang);
    let log = server.store.audit_log().unwrap();
    assert_eq!(log.len(), ids.len());
    for id in &ids {
        let stored = server.store.record(id).unwrap().unwrap();
        let state = zhang.store.sync_state(id).unwrap().unwrap();
        assert!(state.locked);
        assert_eq!(state.receipt.as_ref(), stored.lock.as_ref());
        let mut heads = stored.heads.clone();
        heads.sort();
        assert_eq!(heads, zhang.store.record(id).unwrap().heads);
    }
    let listed = server
        .store
        .list_records(&RecordScope::All, &Default::default(), 100, 0)
        .unwrap();
    assert_eq!(listed.len(), ids.len());
}
