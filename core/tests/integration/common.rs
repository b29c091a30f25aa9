use std::path::Path;

use anjian_core::Store;
use anjian_core::enterprise::parse_enterprise_csv;
use anjian_core::inspection::{AnswerDetails, CoInspector, StartInspection, checklist};
use anjian_core::record::Inspector;
use anjian_core::template::AnswerKind;
use chrono::{DateTime, NaiveDate, Utc};

pub const DEMO_CSV: &str = include_str!("../../../templates/demo/enterprises.csv");
/// 淄博齐鲁石化助剂有限公司, 危险化学品.
pub const CHEMICAL_PLANT: &str = "913703050534640908";
/// 淄博齐林电力设备制造有限公司, 工贸.
pub const FACTORY: &str = "913703030226339277";
/// 淄博黑旺铁矿有限公司, 非煤矿山.
pub const MINE: &str = "91370302016480894K";

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// 09:00 China time on the given day.
pub fn morning(day: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{day}T09:00:00+08:00"))
        .unwrap()
        .with_utc()
}

trait WithUtc {
    fn with_utc(self) -> DateTime<Utc>;
}

impl WithUtc for DateTime<chrono::FixedOffset> {
    fn with_utc(self) -> DateTime<Utc> {
        self.with_timezone(&Utc)
    }
}

pub fn inspector(name: &str, cert: &str, valid_until: &str) -> Inspector {
    Inspector {
        name: name.into(),
        cert: cert.into(),
        cert_valid_until: Some(date(valid_until)),
    }
}

/// A device store in `dir` for the given inspector, with the demo enterprises imported.
pub fn device(dir: &Path, me: &Inspector) -> Store {
    let mut store = Store::open(dir).unwrap();
    store.init_profile(me, None).unwrap();
    let enterprises = parse_enterprise_csv("enterprises.csv", DEMO_CSV.as_bytes()).unwrap();
    store.import_enterprises(&enterprises).unwrap();
    store
}

pub fn zhang() -> Inspector {
    inspector("张伟", "37030001", "2028-12-31")
}

pub fn li() -> Inspector {
    inspector("李娜", "37030002", "2028-06-30")
}

/// A fingerprint of everything a device stores, to show that a refused operation changed
/// nothing.
pub fn snapshot(store: &Store) -> String {
    let mut out = String::new();
    for summary in store.list_records().unwrap() {
        let mut doc = store.load_record(&summary.id).unwrap();
        out.push_str(&format!(
            "{summary:?}|{:?}|{}\n",
            doc.heads(),
            doc.save().len()
        ));
    }
    out.push_str(&format!("{:?}", store.enterprises(None).unwrap()));
    out
}

/// An enforcement inspection of the factory by 张伟 and 李娜, started on the given day.
pub fn start_trade(store: &mut Store, day: &str) -> String {
    store
        .start_inspection(
            &StartInspection {
                enterprise: FACTORY.into(),
                template: "trade-enforcement".into(),
                co_inspectors: vec![CoInspector::parse("李娜:37030002:2028-06-30").unwrap()],
                place: Some("一号车间".into()),
                gps: None,
            },
            morning(day),
        )
        .unwrap()
        .id
}

/// Answers every required item with an answer that passes.
pub fn answer_all_required(store: &mut Store, id: &str, day: &str) {
    let record = store.record(id).unwrap();
    let template = store
        .template(&record.template_id, Some(record.template_version))
        .unwrap();
    for item in checklist(&record, &template).iter().filter(|i| i.required) {
        let input = match &item.answer {
            AnswerKind::Check => "pass".to_string(),
            AnswerKind::Measure { min, max, .. } => min.or(*max).unwrap().to_string(),
            AnswerKind::Text => "记录".to_string(),
        };
        store
            .answer_item(
                id,
                &item.code,
                &input,
                &AnswerDetails::default(),
                morning(day),
            )
            .unwrap();
    }
}

/// Configures the example agency and registers serials for every document type of 2026–2028:
/// submitting an enforcement inspection issues the documents it still lacks.
pub fn with_serials(store: &mut Store, me: &Inspector) {
    let agency = anjian_core::agency::Agency::parse(
        "agency.example.toml",
        include_str!("../../../templates/agency.example.toml"),
    )
    .unwrap();
    store.init_profile(me, Some(&agency)).unwrap();
    for year in 2026..=2028 {
        for doc_type in anjian_core::agency::DocType::ALL {
            store
                .add_number_block(doc_type, year, 1, 999, morning("2026-01-05"))
                .unwrap();
        }
    }
}
