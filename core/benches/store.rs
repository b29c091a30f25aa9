//! Device store benchmarks: `cargo bench -p anjian-core --bench store`.
//!
//! Measures what an inspector feels on a tablet: answering one item (CRDT change + SQLite
//! commit, goal ≤ 1 ms), opening a store of 10,000 records and listing them (goal ≤ 100 ms),
//! and the saved size of a submitted 40-item record. Results are written up in
//! `docs/benchmarks.md`.

use std::time::{Duration, Instant};

use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::record::Inspector;
use anjian_core::{Store, Template};
use chrono::{NaiveDate, Utc};

const DEMO_CSV: &str = include_str!("../../templates/demo/enterprises.csv");
const HAZCHEM: &str = include_str!("../../templates/checklists/hazchem-enforcement.toml");
const CHEMICAL_PLANT: &str = "913703050534640908";
const RECORDS_FOR_LISTING: usize = 10_000;

fn device(dir: &std::path::Path) -> Store {
    let mut store = Store::open(dir).expect("open store");
    let me = Inspector {
        name: "张伟".into(),
        cert: "37030001".into(),
        cert_valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
    };
    store.init_profile(&me, None).expect("init");
    let enterprises = parse_enterprise_csv("demo", DEMO_CSV.as_bytes()).expect("demo csv");
    store.import_enterprises(&enterprises).expect("import");
    store
}

/// The hazardous-chemicals list cut to its first 40 items, as a template of its own.
fn forty_item_template() -> Template {
    let mut parts = HAZCHEM.split("[[items]]");
    let header = parts.next().expect("header").replacen(
        "id = \"hazchem-enforcement\"",
        "id = \"bench-forty\"",
        1,
    );
    let items: Vec<&str> = parts.take(40).collect();
    let text = format!("{header}[[items]]{}", items.join("[[items]]"));
    Template::parse("bench-forty.toml", &text).expect("40-item template")
}

fn start(store: &mut Store, template: &str) -> String {
    store
        .start_inspection(
            &StartInspection {
                enterprise: CHEMICAL_PLANT.into(),
                template: template.into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2030-06-30").expect("co")],
                ..Default::default()
            },
            Utc::now(),
        )
        .expect("start")
        .id
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(label: &str, mut times: Vec<Duration>) {
    let total: Duration = times.iter().sum();
    let count = times.len();
    times.sort();
    println!(
        "{label} ({count} answers): mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
        total.as_secs_f64() * 1e3 / count as f64,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
    );
}

/// An inspector going through the list: 20 records, each check item answered once.
fn bench_answer(dir: &std::path::Path) {
    let mut store = device(dir);
    let template = store
        .template("hazchem-enforcement", None)
        .expect("template");
    let checks: Vec<String> = template
        .items
        .iter()
        .filter(|i| matches!(i.answer, anjian_core::template::AnswerKind::Check))
        .map(|i| i.code.clone())
        .collect();
    let mut times = Vec::new();
    for _ in 0..20 {
        let id = start(&mut store, "hazchem-enforcement");
        for item in &checks {
            let begin = Instant::now();
            store
                .answer_item(&id, item, "pass", &AnswerDetails::default(), Utc::now())
                .expect("answer");
            times.push(begin.elapsed());
        }
    }
    report(
        &format!(
            "answer one item, each of {} items once per record",
            checks.len()
        ),
        times,
    );

    // The same items answered over and over: a record whose history holds 1,000 answers.
    let id = start(&mut store, "hazchem-enforcement");
    let mut times = Vec::new();
    for n in 0..1_000 {
        let item = &checks[n % checks.len()];
        let input = if (n / checks.len()).is_multiple_of(2) {
            "pass"
        } else {
            "na"
        };
        let begin = Instant::now();
        store
            .answer_item(&id, item, input, &AnswerDetails::default(), Utc::now())
            .expect("answer");
        times.push(begin.elapsed());
    }
    report("answer one item again and again on one record", times);
}

/// What one `anjian inspect answer` command does: open the store, load the record, answer.
fn bench_cold_answer(dir: &std::path::Path) {
    let mut store = device(dir);
    let id = start(&mut store, "hazchem-enforcement");
    for n in 1..=40 {
        store
            .answer_item(
                &id,
                &format!("HC-{n:03}"),
                "na",
                &AnswerDetails::default(),
                Utc::now(),
            )
            .expect("answer");
    }
    drop(store);
    let rounds = 100;
    let mut times = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let begin = Instant::now();
        let mut store = Store::open(dir).expect("open");
        let input = if n % 2 == 0 { "na" } else { "pass" };
        store
            .answer_item(&id, "HC-001", input, &AnswerDetails::default(), Utc::now())
            .expect("answer");
        drop(store);
        times.push(begin.elapsed());
    }
    times.sort();
    println!(
        "open the store, load a 40-answer record and answer one item (one CLI command, {rounds} runs): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
    );
}

fn bench_listing(dir: &std::path::Path) {
    let mut store = device(dir);
    let begin = Instant::now();
    for n in 0..RECORDS_FOR_LISTING {
        let id = start(&mut store, "self-monthly");
        if n % 4 == 0 {
            store
                .answer_item(&id, "SI-001", "pass", &AnswerDetails::default(), Utc::now())
                .expect("answer");
        }
    }
    println!(
        "created {RECORDS_FOR_LISTING} records in {:.1} s",
        begin.elapsed().as_secs_f64()
    );
    drop(store);

    let mut runs = Vec::new();
    for _ in 0..5 {
        let begin = Instant::now();
        let store = Store::open(dir).expect("open");
        let opened = begin.elapsed();
        let list = store.list_records().expect("list");
        let total = begin.elapsed();
        assert_eq!(list.len(), RECORDS_FOR_LISTING);
        runs.push((opened, total));
    }
    runs.sort_by_key(|(_, total)| *total);
    let (opened, total) = runs[runs.len() / 2];
    println!(
        "open a store of {RECORDS_FOR_LISTING} records and list them: {:.1} ms (open {:.1} ms), median of 5",
        total.as_secs_f64() * 1e3,
        opened.as_secs_f64() * 1e3
    );
}

fn bench_size(dir: &std::path::Path) {
    let mut store = device(dir);
    let template = forty_item_template();
    store.add_template(&template).expect("add");
    let id = start(&mut store, "bench-forty");
    let photo = dir.join("photo.jpg");
    std::fs::write(&photo, vec![0xa5u8; 200_000]).expect("photo");
    for (n, item) in template.items.iter().enumerate() {
        let failing = n % 4 == 0 && matches!(item.answer, anjian_core::template::AnswerKind::Check);
        let details = if failing {
            AnswerDetails {
                note: Some(format!(
                    "现场发现第 {n} 项不符合要求，已拍照取证并告知企业负责人。"
                )),
                photos: vec![photo.clone()],
                deadline: NaiveDate::from_ymd_opt(2030, 1, 31),
                ..Default::default()
            }
        } else {
            AnswerDetails::default()
        };
        let input = match &item.answer {
            anjian_core::template::AnswerKind::Measure { min, max, .. } => {
                min.or(*max).expect("bound").to_string()
            }
            anjian_core::template::AnswerKind::Text => "储罐区液位 65%，温度 18 ℃".into(),
            anjian_core::template::AnswerKind::Check if failing => "fail".into(),
            anjian_core::template::AnswerKind::Check => "pass".into(),
        };
        store
            .answer_item(&id, &item.code, &input, &details, Utc::now())
            .expect("answer");
    }
    let record = store.submit_inspection(&id, Utc::now()).expect("submit");
    let mut doc = store.load_record(&id).expect("load");
    println!(
        "submitted 40-item record ({} hazards): {} bytes saved (compacted Automerge document)",
        record.hazards.len(),
        doc.save().len()
    );
}

fn main() {
    // `cargo test --benches` runs this binary with --test: there is nothing to check then.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    // `cargo bench --bench store -- NAME` runs only the benchmark called NAME.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = tempfile::tempdir().expect("tempdir");
    type Bench = fn(&std::path::Path);
    let benches: [(&str, Bench); 4] = [
        ("answer", bench_answer),
        ("cold_answer", bench_cold_answer),
        ("size", bench_size),
        ("listing", bench_listing),
    ];
    for (name, bench) in benches {
        if filter.as_deref().is_none_or(|f| name == f) {
            bench(&dir.path().join(name));
        }
    }
}
