//! Document rendering benchmarks: `cargo bench -p anjian-core --bench documents`.
//!
//! An order with 10 findings rendered for a 58 mm thermal printer in text mode (goal ≤ 5 ms and
//! ≤ 4 KB for one copy), as an A4 PDF (goal ≤ 50 ms and ≤ 300 KB) and as HTML. Results are written up in `docs/benchmarks.md`.

use std::time::Instant;

use anjian_core::Store;
use anjian_core::agency::{Agency, DocType};
use anjian_core::document::escpos::{self, EscPosOptions, PaperWidth};
use anjian_core::document::html;
use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection};
use anjian_core::record::Inspector;
use anjian_core::template::AnswerKind;
use chrono::{NaiveDate, Utc};

const DEMO_CSV: &str = include_str!("../../templates/demo/enterprises.csv");
const AGENCY: &str = include_str!("../../templates/agency.example.toml");

fn main() {
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    let me = Inspector {
        name: "张伟".into(),
        cert: "37030001".into(),
        cert_valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
    };
    let agency = Agency::parse("agency", AGENCY).expect("agency");
    store.init_profile(&me, Some(&agency)).expect("init");
    let enterprises = parse_enterprise_csv("demo", DEMO_CSV.as_bytes()).expect("csv");
    store.import_enterprises(&enterprises).expect("import");
    let now = Utc::now();
    let year = anjian_core::numbering::year_of(now);
    for doc_type in [DocType::Record, DocType::Order] {
        store
            .add_number_block(doc_type, year, 1, 99, now)
            .expect("block");
    }
    let id = store
        .start_inspection(
            &StartInspection {
                enterprise: "913703050534640908".into(),
                template: "hazchem-enforcement".into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2030-06-30").expect("co")],
                ..Default::default()
            },
            now,
        )
        .expect("start")
        .id;
    let template = store
        .template("hazchem-enforcement", None)
        .expect("template");
    let mut failed = 0;
    for item in template.items.iter().filter(|i| i.required) {
        let (input, details) = match &item.answer {
            AnswerKind::Check if failed < 10 => {
                failed += 1;
                let details = AnswerDetails {
                    note: Some(format!("现场发现第 {failed} 处问题，已拍照取证")),
                    deadline: NaiveDate::from_ymd_opt(2099, 1, failed),
                    ..Default::default()
                };
                ("fail".to_string(), details)
            }
            AnswerKind::Check => ("pass".to_string(), AnswerDetails::default()),
            AnswerKind::Measure { min, max, .. } => (
                min.or(*max).expect("bound").to_string(),
                AnswerDetails::default(),
            ),
            AnswerKind::Text => ("已记录".to_string(), AnswerDetails::default()),
        };
        store
            .answer_item(&id, &item.code, &input, &details, now)
            .expect("answer");
    }
    store
        .issue_document(&id, DocType::Record, now)
        .expect("record");
    let order = store.document(&id, DocType::Order, now).expect("order");

    // The font is stored compressed in the library: the first document of a process decompresses
    // and parses it.
    let begin = Instant::now();
    anjian_core::document::pdf::render(&order, None).expect("first pdf");
    println!(
        "first A4 PDF in a process (decompresses and parses the font): {:.1} ms",
        begin.elapsed().as_secs_f64() * 1e3
    );

    let rounds = 1_000;
    let options = EscPosOptions {
        width: PaperWidth::Mm58,
        copies: 1,
        only_copy: None,
        raster: false,
    };
    let begin = Instant::now();
    let mut size = 0;
    for _ in 0..rounds {
        size = escpos::render(&order, options).expect("escpos").len();
    }
    let per = begin.elapsed().as_secs_f64() * 1e3 / rounds as f64;
    let text_bytes = encoding_rs::GB18030.encode(&order.to_text()).0.len();
    println!(
        "58 mm ESC/POS, order with 10 findings, one copy: {per:.3} ms, {size} bytes \
         (the document's text alone is {text_bytes} bytes in GB18030)"
    );

    let raster = EscPosOptions {
        raster: true,
        ..options
    };
    let begin = Instant::now();
    for _ in 0..20 {
        size = escpos::render(&order, raster).expect("raster").len();
    }
    let per = begin.elapsed().as_secs_f64() * 1e3 / 20.0;
    println!(
        "58 mm ESC/POS, the same order, whole document as raster images: {per:.1} ms, {size} bytes"
    );

    let begin = Instant::now();
    for _ in 0..rounds {
        size = html::render(&order).len();
    }
    let per = begin.elapsed().as_secs_f64() * 1e3 / rounds as f64;
    println!("HTML, the same order: {per:.3} ms, {size} bytes");

    let begin = Instant::now();
    for _ in 0..20 {
        size = anjian_core::document::pdf::render(&order, None)
            .expect("pdf")
            .len();
    }
    let per = begin.elapsed().as_secs_f64() * 1e3 / 20.0;
    println!("A4 PDF, the same order: {per:.1} ms, {size} bytes");

    let begin = Instant::now();
    for _ in 0..100 {
        store.document(&id, DocType::Order, now).expect("order");
    }
    let per = begin.elapsed().as_secs_f64() * 1e3 / 100.0;
    println!("build the order's content from the store (record open in memory): {per:.3} ms");
}
