//! Bounded fuzzing of what reads bytes from outside: the sync request decoder and, through the
//! real sync handler, Automerge change application and the server's validation; the enterprise
//! register and reference CSV imports; the checklist template parser; the IoT batch checker.
//!
//! Each target starts from real inputs (the shipped data, a real device's upload, the examples
//! of `docs/import-formats.md`) and the kept corpus (`fuzz/corpus/<target>/`, inputs worth
//! running every time), and mutates them: bytes flipped, cut, repeated, and tokens that broke
//! parsers before inserted (NUL, an emoji, 𠀀, quotes, separators, huge numbers and dates). The
//! property is the same everywhere: an answer, never a panic, and what is accepted holds the
//! rules (no control character or unprintable text, no event outside the plausible window).
//!
//! `ANJIAN_FUZZ_CASES` sets the cases per target (default 64, a few seconds in CI; 20000 by
//! hand runs each for minutes). A failure is kept by proptest in `fuzz/regressions/` and runs
//! first next time; put a minimal input into the corpus folder when it is fixed.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::sync::protocol::{RecordUpload, SyncRequest};
use anjian_core::template::{BUILTIN_TEMPLATES, Template};
use anjian_core::text::{Lines, text_problem};
use anjian_e2e::{DEMO_CSV, Device, FACTORY, LI, Server};
use anjian_server::admin::imports::{self, Known};
use anjian_server::auth::Caller;
use anjian_server::iot::{self, DeviceKind, IotConfig};
use anjian_server::state::AppState;
use anjian_server::store::ImportKind;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

/// Pieces that broke parsers somewhere: inserted whole.
const TOKENS: &[&str] = &[
    "\0",
    "😀",
    "𠀀",
    "\u{1b}[2J",
    "\r\n",
    "\n",
    "\"",
    "\"\"",
    ",",
    ";",
    "\\",
    "\u{feff}",
    "\u{202e}",
    "{",
    "}",
    "[",
    "]",
    "[[items]]",
    "=",
    ":",
    "-1",
    "0",
    "1e400",
    "NaN",
    "18446744073709551616",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "null",
    "true",
    "%FF",
    "\u{fffd}",
    "\t",
    " ",
];

/// One change to a seed input; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let token = prop_oneof![
        proptest::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip(at, byte)),
        4 => (any::<usize>(), token).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Repeat(at, n)),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for mutation in mutations {
        let at = |i: usize| {
            if bytes.is_empty() {
                0
            } else {
                i % (bytes.len() + 1)
            }
        };
        match mutation {
            Mutation::Flip(i, byte) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] ^= byte | 1;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, inserted) => {
                let i = at(*i);
                bytes.splice(i..i, inserted.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = at(*i);
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Truncate(i) => {
                let i = at(*i);
                bytes.truncate(i);
            }
            Mutation::Repeat(i, n) => {
                let i = at(*i);
                let end = (i + n).min(bytes.len());
                let piece = bytes[i..end].to_vec();
                bytes.splice(end..end, piece);
            }
        }
    }
    bytes
}

fn cases() -> u32 {
    std::env::var("ANJIAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// The kept inputs of a target.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect()
}

/// Runs `check` on every kept input of `target`, then on `cases()` mutations of the seeds and
/// the kept inputs.
fn fuzz(target: &'static str, seeds: Vec<Vec<u8>>, check: impl Fn(&[u8])) {
    let kept = corpus(target);
    for input in &kept {
        check(input);
    }
    let mut all = seeds;
    all.extend(kept);
    let regressions: &'static str =
        Box::leak(format!("fuzz/regressions/{target}.txt").into_boxed_str());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        max_shrink_iters: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    });
    let strategy = (
        proptest::sample::select(all),
        proptest::collection::vec(mutation(), 0..6),
    );
    runner
        .run(&strategy, |(seed, mutations)| {
            check(&mutate(&seed, &mutations));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{target}: {e}"));
}

/// A running demo server, a device's real upload of an enforcement inspection with a failed
/// item and an issued document, and the handler state to call `handle_sync` with directly.
struct SyncWorld {
    _server: Server,
    state: AppState,
    caller: Caller,
    request: SyncRequest,
}

fn sync_world() -> SyncWorld {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let id = zhang.answered_trade(FACTORY, LI);
    zhang
        .store
        .issue_document(&id, anjian_core::agency::DocType::Record, Utc::now())
        .unwrap();
    let mut doc = zhang.store.load_record(&id).unwrap();
    let heads = doc.heads().iter().map(ToString::to_string).collect();
    let request = SyncRequest {
        device_id: zhang.store.device_id().to_string(),
        cursor: 0,
        records: vec![RecordUpload {
            id,
            known_heads: vec![],
            heads,
            changes: doc.save(),
        }],
        voided_numbers: vec![],
        number_requests: vec![],
        known_audit_head: None,
    };
    let caller = Caller {
        user: server.store.user("zhang").unwrap().unwrap(),
        device_id: request.device_id.clone(),
        token_hash: String::new(),
    };
    // The running server's own key, so receipts signed here verify as the server's.
    let (keys, _) = anjian_server::keys::open(
        server.store.as_ref(),
        &server.data.path().join(anjian_server::keys::KEY_FILE),
        anjian_server::keys::FirstStart::Refuse,
    )
    .unwrap();
    let state = AppState::new(Arc::clone(&server.store), keys);
    SyncWorld {
        _server: server,
        state,
        caller,
        request,
    }
}

/// The sync handler answers, and refuses with a client error, never a server error.
fn sync_answers(world: &SyncWorld, request: SyncRequest) {
    match anjian_server::sync::handle_sync(&world.state, &world.caller, request, Utc::now()) {
        Ok(_) => {}
        Err(e) => assert!(!e.status.is_server_error(), "{e}"),
    }
}

#[test]
fn sync_requests() {
    let world = sync_world();
    let seed = serde_json::to_vec(&world.request).unwrap();
    fuzz("sync_request", vec![seed], |bytes| {
        if let Ok(request) = serde_json::from_slice::<SyncRequest>(bytes) {
            sync_answers(&world, request);
        }
    });
}

#[test]
fn automerge_changes() {
    let world = sync_world();
    let changes = world.request.records[0].changes.clone();
    fuzz("automerge_changes", vec![changes], |bytes| {
        let mut request = world.request.clone();
        request.records[0].changes = bytes.to_vec();
        sync_answers(&world, request);
    });
}

#[test]
fn enterprise_register_csv() {
    fuzz(
        "enterprise_csv",
        vec![DEMO_CSV.as_bytes().to_vec()],
        |bytes| {
            if let Ok(enterprises) = parse_enterprise_csv("e.csv", bytes) {
                for e in enterprises {
                    for text in [&e.name, &e.address, &e.legal_representative] {
                        assert_eq!(text_problem(text, Lines::One), None, "{text:?}");
                    }
                }
            }
        },
    );
}

#[test]
fn reference_csv() {
    let server = Server::start();
    let known = Known::load(server.store.as_ref()).unwrap();
    // The examples of the formats' documentation, each headed ```csv KIND.
    let docs = include_str!("../../docs/import-formats.md");
    let mut seeds = Vec::new();
    for block in docs.split("```csv ").skip(1) {
        let (name, rest) = block.split_once('\n').unwrap();
        let body = rest.split("```").next().unwrap();
        let kind = ImportKind::ALL
            .into_iter()
            .position(|k| k.name() == name.trim())
            .unwrap_or_else(|| panic!("unknown example {name}"));
        // The kind travels as the first byte, so that a mutation may change it too.
        let mut seed = vec![u8::try_from(kind).unwrap()];
        seed.extend(body.as_bytes());
        seeds.push(seed);
    }
    assert!(seeds.len() >= 8, "the documented examples");
    fuzz("reference_csv", seeds, |bytes| {
        let Some((&kind, csv)) = bytes.split_first() else {
            return;
        };
        let kind = ImportKind::ALL[usize::from(kind) % ImportKind::ALL.len()];
        if imports::parse(kind, "r.csv", csv, &known).is_ok() {
            let text = String::from_utf8_lossy(csv);
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r'),
                "{text:?}"
            );
        }
    });
}

#[test]
fn templates() {
    let seeds = BUILTIN_TEMPLATES
        .iter()
        .map(|(_, text)| text.as_bytes().to_vec())
        .collect();
    fuzz("template", seeds, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(template) = Template::parse("t.toml", text) {
            assert!(!template.items.is_empty());
            for item in &template.items {
                let bases = item.legal_bases.iter().map(|basis| &basis.text);
                for text in [&item.text, &item.hazard].into_iter().chain(bases) {
                    assert_eq!(text_problem(text, Lines::Many), None, "{text:?}");
                }
            }
        }
    });
}

#[test]
fn iot_batches() {
    let config = IotConfig::shipped();
    let received: DateTime<Utc> = "2026-07-14T02:15:00Z".parse().unwrap();
    let gauge = iot::Device {
        device_id: "RG-01".into(),
        kind: DeviceKind::Rain,
        credit_code: "91370302016480894K".into(),
        location: "主井口".into(),
        rain_threshold_tenths: None,
        registered_at: received - Duration::days(30),
        revoked_at: None,
        clock_offset_ms: None,
        last_batch_at: None,
    };
    let seed = br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[
        {"id":"a","t":"2026-07-14T10:10:00+08:00","interval_s":60,"rain_mm":1.5},
        {"id":"b","t":"2026-07-14T10:11:00+08:00","interval_s":60,"rain_mm":0.0},
        {"id":"c","t":"2026-07-13T22:11:00Z","interval_s":600,"rain_mm":12.3}]}"#;
    let earliest: DateTime<Utc> = iot::EARLIEST_DEVICE_TIME.parse().unwrap();
    fuzz("iot_batch", vec![seed.to_vec()], |bytes| {
        if let Ok(intake) = iot::check_batch(&gauge, bytes, received, &config) {
            for event in &intake.events {
                assert!(event.device_at >= earliest, "{event:?}");
                assert!(
                    event.at >= received - Duration::days(iot::MAX_EVENT_AGE_DAYS)
                        && event.at
                            <= received + Duration::seconds(config.clock.future_tolerance_s),
                    "{event:?}"
                );
            }
        }
    });
}
