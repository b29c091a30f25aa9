//! The supervisors' reference data on both backends: every kind imported from the examples of
//! `docs/import-formats.md` and read back, re-imports, refused files, attendance upserts, the
//! scope of hotline and mailbox lists, and the upgrade of databases of schema version 1.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use chrono::{DateTime, NaiveDate, Utc};

use anjian_core::enterprise::parse_enterprise_csv;
use anjian_server::admin::{self, imports};
use anjian_server::auth::descendants;
use anjian_server::demo;
use anjian_server::store::postgres as postgres_store;
use anjian_server::store::sqlite as sqlite_store;
use anjian_server::store::{
    AreaGrouping, Attendance, AttendanceSource, DatedPage, DutyLeader, EmergencyPlan,
    EnterpriseArchive, HandlingStatus, HazardLevel, HazardSource, HealthDeclaration, HotWorkLevel,
    HotlineCategory, HotlineReport, ImportKind, ImportSummary, MailboxKind, MailboxMessage, Permit,
    PermitType, RecordFilter, RecordScope, ReferenceBatch, Shift, StaffCertificate, StaffRole,
    Store, StoreError, WorkType,
};

use crate::store::{TestDatabase, on_postgres, on_sqlite, sqlite_schema};

conformance! {
    every_documented_example_imports_and_reads_back,
    importing_the_same_files_again_changes_nothing,
    a_bad_row_is_named_by_its_line_and_nothing_is_stored,
    the_store_refuses_a_whole_batch_naming_an_unregistered_enterprise,
    attendance_is_updated_in_place_by_its_key,
    attendance_is_counted_per_month_and_industry_within_scope,
    declarations_and_newest_permits_are_read_per_enterprise_within_scope,
    certificates_and_permits_are_listed_with_their_enterprise_within_scope,
    large_batches_count_each_row_once_across_statements,
    a_later_import_updates_the_rows_it_names_and_keeps_the_others,
    hotline_and_mailbox_lists_follow_the_scope,
    dated_pages_bound_sort_and_page_the_lists,
}

// ---- the world: the demo regions and enterprise register ------------------------------------

/// 淄博齐林电力设备制造有限公司, 工贸, 科苑街道 (370303007) of 张店区.
const FACTORY: &str = "913703030226339277";
/// 淄博齐鲁石化助剂有限公司, 危险化学品, 辛店街道 (370305003) of 临淄区.
const CHEMICALS: &str = "913703050534640908";
/// 淄博鑫源化工有限公司, 危险化学品, 金山镇 (370305102) of 临淄区.
const TRADER: &str = "91370305030246631A";
/// 淄博黑旺铁矿有限公司, 非煤矿山, 太河镇 (370302109) of 淄川区.
const MINE: &str = "91370302016480894K";
/// A valid code of an enterprise that is not in the register.
const UNREGISTERED: &str = "914403001922038216";

pub(crate) fn demo_world(store: &Store) {
    for region in demo::regions().unwrap() {
        store.add_region(&region).unwrap();
    }
    let enterprises =
        parse_enterprise_csv("enterprises.csv", demo::ENTERPRISES_CSV.as_bytes()).unwrap();
    store.upsert_enterprises(&enterprises).unwrap();
}

/// The example of a kind in `docs/import-formats.md`: the block fenced as ```` ```csv kind ````.
fn documented_example(kind: ImportKind) -> String {
    let doc = include_str!("../../../docs/import-formats.md");
    let fence = format!("```csv {}\n", kind.name());
    let start = doc
        .find(&fence)
        .unwrap_or_else(|| panic!("no example of {} in the doc", kind.name()))
        + fence.len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

fn import(store: &Store, kind: ImportKind, csv: &str) -> ImportSummary {
    admin::import_reference(store, kind, &format!("{}.csv", kind.name()), csv.as_bytes())
        .unwrap_or_else(|e| panic!("{}: {e}", kind.name()))
}

fn import_error(store: &Store, kind: ImportKind, csv: &str) -> String {
    admin::import_reference(store, kind, &format!("{}.csv", kind.name()), csv.as_bytes())
        .unwrap_err()
        .message
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn inserted(n: usize) -> ImportSummary {
    ImportSummary {
        inserted: n,
        updated: 0,
        unchanged: 0,
    }
}

fn ids<T>(rows: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    rows.iter().map(|r| id(r).to_string()).collect()
}

/// Everything stored, for checking that a refused import stored nothing.
fn everything(store: &Store) -> (Vec<EnterpriseArchive>, Vec<Attendance>, usize, usize) {
    let archives = [FACTORY, CHEMICALS, TRADER, MINE]
        .iter()
        .map(|code| store.enterprise_archive(code).unwrap())
        .collect();
    let attendance = [FACTORY, CHEMICALS, TRADER, MINE]
        .iter()
        .flat_map(|code| store.attendance_of(code, &DatedPage::ALL).unwrap())
        .collect();
    (
        archives,
        attendance,
        store
            .hotline_reports(&RecordScope::All, &DatedPage::ALL)
            .unwrap()
            .len(),
        store
            .mailbox_messages(&RecordScope::All, &DatedPage::ALL)
            .unwrap()
            .len(),
    )
}

fn import_every_example(store: &Store) -> Vec<ImportSummary> {
    ImportKind::ALL
        .into_iter()
        .map(|kind| import(store, kind, &documented_example(kind)))
        .collect()
}

// ---- tests ----------------------------------------------------------------------------------

fn every_documented_example_imports_and_reads_back(store: &Store) {
    demo_world(store);
    let summaries = import_every_example(store);
    assert_eq!(
        summaries,
        [4, 3, 4, 3, 3, 3, 3, 4, 3, 3].map(inserted),
        "rows per example, in ImportKind::ALL order"
    );

    let chemicals = store.enterprise_archive(CHEMICALS).unwrap();
    let permit = |from: &str, until: &str| Permit {
        credit_code: CHEMICALS.into(),
        permit_type: PermitType::SafetyProduction,
        number: "(鲁)WH安许证字〔2021〕030012号".into(),
        issued_by: "山东省应急管理厅".into(),
        valid_from: day(from),
        valid_until: day(until),
    };
    assert_eq!(
        chemicals.permits,
        [
            permit("2024-06-01", "2027-05-31"),
            permit("2021-06-01", "2024-05-31")
        ]
    );
    assert_eq!(
        chemicals.hazard_sources,
        [
            HazardSource {
                credit_code: CHEMICALS.into(),
                name: "液氨储罐区".into(),
                level: HazardLevel::Two,
                filed_on: day("2022-04-18"),
            },
            HazardSource {
                credit_code: CHEMICALS.into(),
                name: "甲醇罐区".into(),
                level: HazardLevel::Three,
                filed_on: day("2022-04-18"),
            },
        ]
    );
    let plan = |filed: &str, until: &str| EmergencyPlan {
        credit_code: CHEMICALS.into(),
        title: "生产安全事故综合应急预案".into(),
        filed_on: day(filed),
        valid_until: day(until),
    };
    assert_eq!(
        chemicals.emergency_plans,
        [
            plan("2024-05-08", "2027-05-07"),
            plan("2021-05-10", "2024-05-09")
        ]
    );
    assert_eq!(
        chemicals.health_declarations,
        [HealthDeclaration {
            credit_code: CHEMICALS.into(),
            year: 2025,
            declared_on: day("2025-04-02"),
        }]
    );
    assert_eq!(chemicals.staff, []);
    let permit_numbers: Vec<(&str, Option<HotWorkLevel>, &str)> = chemicals
        .work_permits
        .iter()
        .map(|w| (w.number.as_str(), w.level, w.area.as_str()))
        .collect();
    assert_eq!(
        permit_numbers,
        [
            ("DH-2025-0313-01", Some(HotWorkLevel::First), ""),
            ("SX-2025-0312-01", None, "脱硫塔"),
            ("DH-2025-0311-01", Some(HotWorkLevel::Second), "甲醇罐区"),
        ],
        "latest start first"
    );
    assert_eq!(chemicals.work_permits[2].work_type, WorkType::HotWork);
    assert_eq!(chemicals.work_permits[1].work_type, WorkType::ConfinedSpace);
    assert_eq!(
        chemicals.work_permits[2].valid_from,
        instant("2025-03-11T08:00:00+08:00")
    );
    assert_eq!(
        chemicals.work_permits[2].valid_until,
        instant("2025-03-12T18:00:00+08:00")
    );
    let mine = store.enterprise_archive(MINE).unwrap();
    assert_eq!(
        mine.duty_leaders,
        [
            DutyLeader {
                credit_code: MINE.into(),
                person_id: "L001".into(),
                name: "赵德明".into(),
                position: "矿长".into(),
            },
            DutyLeader {
                credit_code: MINE.into(),
                person_id: "L002".into(),
                name: "钱志刚".into(),
                position: "安全副矿长".into(),
            },
            DutyLeader {
                credit_code: MINE.into(),
                person_id: "L003".into(),
                name: "孙建华".into(),
                position: "副总工程师".into(),
            },
        ]
    );

    let factory = store.enterprise_archive(FACTORY).unwrap();
    let welder = |kind: &str, until: &str| StaffCertificate {
        credit_code: FACTORY.into(),
        role: StaffRole::SpecialOperation,
        name: "王磊".into(),
        certificate_number: "T370303000000000011".into(),
        certificate_type: kind.into(),
        valid_until: day(until),
    };
    assert_eq!(
        factory.staff,
        [
            StaffCertificate {
                credit_code: FACTORY.into(),
                role: StaffRole::Principal,
                name: "陈晓东".into(),
                certificate_number: "GM-3703-2023-00871".into(),
                certificate_type: "工贸行业主要负责人安全生产知识和管理能力考核合格证".into(),
                valid_until: day("2026-08-31"),
            },
            StaffCertificate {
                credit_code: FACTORY.into(),
                role: StaffRole::SafetyManager,
                name: "刘芳".into(),
                certificate_number: "GM-3703-2022-01544".into(),
                certificate_type: "工贸行业安全生产管理人员安全生产知识和管理能力考核合格证".into(),
                valid_until: day("2025-11-30"),
            },
            welder("焊接与热切割作业/熔化焊接与热切割作业", "2026-12-31"),
            welder("电工作业/低压电工作业", "2027-03-31"),
        ]
    );
    assert_eq!(
        factory
            .health_declarations
            .iter()
            .map(|d| (d.year, d.declared_on))
            .collect::<Vec<_>>(),
        [(2025, day("2025-03-20")), (2024, day("2024-03-12"))]
    );
    assert_eq!(
        store.enterprise_archive(TRADER).unwrap().hazard_sources[0].level,
        HazardLevel::One
    );
    assert_eq!(
        store.enterprise_archive(UNREGISTERED).unwrap(),
        EnterpriseArchive::default()
    );

    let hotline = store
        .hotline_reports(&RecordScope::All, &DatedPage::ALL)
        .unwrap();
    assert_eq!(
        hotline,
        [
            HotlineReport {
                id: "12350-20250311-0003".into(),
                received_on: day("2025-03-11"),
                received_at: Some(instant("2025-03-11T21:15:30+08:00")),
                district_code: "370303".into(),
                industry: "工贸".into(),
                category: HotlineCategory::Complaint,
                credit_code: Some(FACTORY.into()),
                summary: "投诉车间未配发防护用品".into(),
                status: HandlingStatus::InProgress,
            },
            HotlineReport {
                id: "12350-20250305-0012".into(),
                received_on: day("2025-03-05"),
                received_at: None,
                district_code: "370303".into(),
                industry: "其他".into(),
                category: HotlineCategory::Enquiry,
                credit_code: None,
                summary: "咨询建筑工地动火作业审批流程".into(),
                status: HandlingStatus::Closed,
            },
            HotlineReport {
                id: "12350-20250301-0007".into(),
                received_on: day("2025-03-01"),
                received_at: Some(instant("2025-03-01T09:42:00+08:00")),
                district_code: "370305".into(),
                // Left empty in the file: the register's industry.
                industry: "危险化学品".into(),
                category: HotlineCategory::Report,
                credit_code: Some(CHEMICALS.into()),
                summary: "反映厂区夜间有刺鼻气味, 怀疑泄漏".into(),
                status: HandlingStatus::Closed,
            },
        ]
    );

    let mailbox = store
        .mailbox_messages(&RecordScope::All, &DatedPage::ALL)
        .unwrap();
    assert_eq!(mailbox.len(), 3);
    assert_eq!(
        mailbox[2],
        MailboxMessage {
            id: "JZXX-2025-0031".into(),
            received_on: day("2025-03-02"),
            kind: MailboxKind::Suggestion,
            district_code: None,
            summary: "建议在化工园区增设应急避难场所指示牌".into(),
            status: HandlingStatus::Pending,
        }
    );
    assert_eq!(
        (mailbox[0].kind, mailbox[0].district_code.as_deref()),
        (MailboxKind::Enquiry, Some("370305"))
    );

    let shift = |date: &str, shift: Shift, leader: &str, present: bool| Attendance {
        credit_code: MINE.into(),
        date: day(date),
        shift,
        leader: leader.into(),
        present,
        source: AttendanceSource::Csv,
    };
    assert_eq!(
        store.attendance_of(MINE, &DatedPage::ALL).unwrap(),
        [
            shift("2025-03-02", Shift::Day, "赵德明", true),
            shift("2025-03-01", Shift::Day, "赵德明", true),
            shift("2025-03-01", Shift::Night, "钱志刚", false),
        ]
    );
    assert_eq!(
        store
            .attendance_of(CHEMICALS, &DatedPage::ALL)
            .unwrap()
            .len(),
        1
    );
}

fn importing_the_same_files_again_changes_nothing(store: &Store) {
    demo_world(store);
    import_every_example(store);
    let before = everything(store);
    let again = import_every_example(store);
    for (kind, summary) in ImportKind::ALL.iter().zip(&again) {
        assert_eq!(
            (summary.inserted, summary.updated),
            (0, 0),
            "{}: {summary:?}",
            kind.name()
        );
        assert!(summary.unchanged > 0);
    }
    assert_eq!(everything(store), before);

    // The same rows in another order, with a byte-order mark, CRLF line ends and spaces
    // around the fields: still the same rows.
    let example = documented_example(ImportKind::Permits);
    let mut lines: Vec<&str> = example.lines().collect();
    lines[1..].reverse();
    let reordered = format!(
        "\u{feff}{}\r\n",
        lines
            .iter()
            .map(|line| line.replace(',', " , "))
            .collect::<Vec<_>>()
            .join("\r\n")
    );
    assert_eq!(
        import(store, ImportKind::Permits, &reordered),
        ImportSummary {
            inserted: 0,
            updated: 0,
            unchanged: 4
        }
    );
    assert_eq!(everything(store), before);
}

fn a_bad_row_is_named_by_its_line_and_nothing_is_stored(store: &Store) {
    demo_world(store);
    let empty = everything(store);
    let header = |kind| imports::header(kind).join(",");
    // (kind, data rows after the header, expected message after the file name)
    let cases: Vec<(ImportKind, Vec<String>, &str)> = vec![
        (
            ImportKind::Permits,
            vec![
                format!("{CHEMICALS},安全生产许可证,A-1,山东省应急管理厅,2021-06-01,2024-05-31"),
                format!("{TRADER},危险化学品经营许可证,B-2,淄博市应急管理局,2023-03-15,2024/3/5"),
            ],
            "第 3 行：有效期至 \"2024/3/5\" 应为 YYYY-MM-DD 格式的日期（如 2024-03-05）",
        ),
        (
            ImportKind::Permits,
            vec![format!(
                "{CHEMICALS},安全生产许可证,A-1,山东省应急管理厅,2024-06-01,2024-05-31"
            )],
            "第 2 行：有效期起 2024-06-01 晚于有效期至 2024-05-31",
        ),
        (
            ImportKind::Permits,
            vec![format!(
                "{CHEMICALS},营业执照,A-1,市场监督管理局,2021-06-01,2024-05-31"
            )],
            "第 2 行：许可证类型 \"营业执照\" 不在 安全生产许可证、危险化学品经营许可证、危险化学品安全使用许可证、危险化学品登记证、烟花爆竹经营许可证 之中",
        ),
        (
            ImportKind::HazardSources,
            vec![
                format!("{CHEMICALS},液氨储罐区,二级,2022-04-18"),
                String::new(),
                format!("{CHEMICALS},甲醇罐区,五级,2022-04-18"),
            ],
            "第 4 行：等级 \"五级\" 不在 一级、二级、三级、四级 之中",
        ),
        (
            ImportKind::Staff,
            vec![
                format!("{FACTORY},主要负责人,陈晓东,GM-1,主要负责人合格证,2026-08-31"),
                format!("{UNREGISTERED},安全管理人员,刘芳,GM-2,安全管理人员合格证,2025-11-30"),
            ],
            "第 3 行：统一社会信用代码 914403001922038216 的企业未登记：请先导入企业名录",
        ),
        (
            ImportKind::Staff,
            vec![format!(
                "{FACTORY},班组长,陈晓东,GM-1,主要负责人合格证,2026-08-31"
            )],
            "第 2 行：人员类别 \"班组长\" 不在 主要负责人、安全管理人员、特种作业人员 之中",
        ),
        (
            ImportKind::WorkPermits,
            vec![format!(
                "{CHEMICALS},DH-1,动火,一级,罐区,2025-03-11 08:00,2025-03-11 16:01"
            )],
            "第 2 行：一级动火作业票的有效期最长 8 小时（GB 30871-2022）",
        ),
        (
            ImportKind::WorkPermits,
            vec![
                format!("{CHEMICALS},DH-1,动火,二级,罐区,2025-03-11 08:00,2025-03-14 08:00"),
                format!("{CHEMICALS},DH-2,动火,,罐区,2025-03-11 08:00,2025-03-11 09:00"),
            ],
            "第 3 行：动火作业须填动火级别（特级、一级、二级）",
        ),
        (
            ImportKind::WorkPermits,
            vec![format!(
                "{CHEMICALS},GC-1,高处,二级,塔顶,2025-03-11 08:00,2025-03-11 09:00"
            )],
            "第 2 行：动火级别只用于动火作业，高处作业应留空",
        ),
        (
            ImportKind::WorkPermits,
            vec![format!(
                "{CHEMICALS},GC-1,高处,,塔顶,2025-03-11,2025-03-11 09:00"
            )],
            "第 2 行：开始时间 \"2025-03-11\" 应含时刻：YYYY-MM-DD HH:MM（北京时间）",
        ),
        (
            ImportKind::WorkPermits,
            vec![format!(
                "{CHEMICALS},GC-1,高处,,塔顶,2025-03-11 09:00,2025-03-11 09:00"
            )],
            "第 2 行：结束时间应晚于开始时间",
        ),
        (
            ImportKind::DutyLeaders,
            vec![
                format!("{MINE},L001,赵德明,矿长"),
                format!("{MINE},L001,钱志刚,安全副矿长"),
            ],
            "第 3 行：与第 2 行重复（企业和人员编号相同）",
        ),
        (
            ImportKind::EmergencyPlans,
            vec!["913703030226339278,综合应急预案,2023-09-01,2026-08-31".into()],
            "第 2 行：统一社会信用代码 913703030226339278 无效：校验码应为 7，实为 8",
        ),
        (
            ImportKind::HealthDeclarations,
            vec![
                format!("{FACTORY},2024,2024-03-12"),
                format!("{FACTORY},24,2024-03-12"),
            ],
            "第 3 行：申报年度 \"24\" 应为 2000–2100 之间的四位年份",
        ),
        (
            ImportKind::Hotline,
            vec![
                "12350-1,2025-03-05,370303,其他,咨询,,咨询,已办结".into(),
                "12350-2,2025-03-05 08:00,370399,其他,咨询,,咨询,已办结".into(),
            ],
            "第 3 行：区县代码 370399 未登记：请先用 region add 添加",
        ),
        (
            ImportKind::Hotline,
            vec!["12350-1,2025-03-05,370303007,其他,咨询,,咨询,已办结".into()],
            "第 2 行：区县代码 \"370303007\" 应为 6 位数字（区县）",
        ),
        (
            ImportKind::Hotline,
            vec!["12350-1,2025-03-05,370303,其他,表扬,,表扬某企业,已办结".into()],
            "第 2 行：类别 \"表扬\" 不在 举报、投诉、咨询、建议、其他 之中",
        ),
        (
            ImportKind::Hotline,
            vec![format!(
                "12350-1,2025-03-05,370303,冶金,投诉,{FACTORY},投诉,待处理"
            )],
            "第 2 行：行业 冶金 与企业登记的行业 工贸 不符（留空即采用登记的行业）",
        ),
        (
            ImportKind::Hotline,
            vec!["12350-1,2025-03-05,370303,,投诉,,投诉,待处理".into()],
            "第 2 行：行业为空：未填统一社会信用代码时必须填写行业",
        ),
        (
            ImportKind::Hotline,
            vec!["12350-1,2025-03-05 9点,370303,其他,投诉,,投诉,待处理".into()],
            "第 2 行：受理时间 \"2025-03-05 9点\" 应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM[:SS] 格式（北京时间）",
        ),
        (
            ImportKind::Mailbox,
            vec!["JZXX-1,2025-03-02,表扬,,表扬,待处理".into()],
            "第 2 行：类型 \"表扬\" 不在 建议、投诉、咨询 之中",
        ),
        (
            ImportKind::Mailbox,
            vec![
                "JZXX-1,2025-03-02,建议,,建议,待处理".into(),
                "JZXX-2,2025-03-02,建议,370399,建议,待处理".into(),
            ],
            "第 3 行：区县代码 370399 未登记：请先用 region add 添加",
        ),
        (
            ImportKind::Mailbox,
            vec!["JZXX-1,2025-03-02,建议,,建议,已回复".into()],
            "第 2 行：办理状态 \"已回复\" 不在 待处理、处理中、已办结、不予受理 之中",
        ),
        (
            ImportKind::Attendance,
            vec![format!("{MINE},2025-03-01,早班,赵德明,是")],
            "第 2 行：班次 \"早班\" 不在 白班、中班、夜班 之中",
        ),
        (
            ImportKind::Attendance,
            vec![format!("{MINE},2025-03-01,白班,赵德明,1")],
            "第 2 行：是否在岗 \"1\" 不在 是、否 之中",
        ),
        (
            ImportKind::Attendance,
            vec![
                format!("{MINE},2025-03-01,白班,赵德明,是"),
                format!("{MINE},2025-03-01,夜班,钱志刚,否"),
                format!("{MINE},2025-03-01,白班,赵德明,否"),
            ],
            "第 4 行：与第 2 行重复（企业、日期、班次和带班领导相同）",
        ),
        (
            ImportKind::Attendance,
            vec![
                format!("{MINE},2025-03-01,白班,赵德明,是"),
                format!("{MINE},2025-03-01,白班,\"赵德明,是"),
            ],
            "第 3 行：引号未闭合：字段以 \" 开始却没有结束的 \"",
        ),
        (
            ImportKind::Attendance,
            vec![
                format!("{MINE},2025-03-01,白班,赵德明,是"),
                format!("{MINE},2025-03-01,白班,赵德明"),
            ],
            "第 3 行：应有 5 列，实有 4 列",
        ),
        (
            ImportKind::Attendance,
            vec![String::new()],
            "：没有任何数据行",
        ),
    ];
    for (kind, rows, expected) in cases {
        let csv = format!("{}\n{}\n", header(kind), rows.join("\n"));
        let message = import_error(store, kind, &csv);
        assert_eq!(
            message,
            format!(
                "{}文件 {}.csv {expected}（未导入任何数据）",
                kind.label(),
                kind.name()
            )
            .replace(".csv ：", ".csv："),
            "{csv}"
        );
        assert_eq!(everything(store), empty, "{csv}");
    }

    // A header out of order, and a file in GBK.
    let swapped = "统一社会信用代码,日期,带班领导,班次,是否在岗\n";
    assert_eq!(
        import_error(store, ImportKind::Attendance, swapped),
        "带班记录文件 attendance.csv：表头应为 统一社会信用代码,日期,班次,带班领导,是否在岗，\
         实为 统一社会信用代码,日期,带班领导,班次,是否在岗（未导入任何数据）"
    );
    let gbk = admin::import_reference(store, ImportKind::Mailbox, "信箱.csv", &[0xd0, 0xc5])
        .unwrap_err()
        .message;
    assert!(gbk.contains("不是 UTF-8 编码"), "{gbk}");
    assert_eq!(everything(store), empty);
}

fn the_store_refuses_a_whole_batch_naming_an_unregistered_enterprise(store: &Store) {
    demo_world(store);
    let permit = |code: &str, number: &str| Permit {
        credit_code: code.into(),
        permit_type: PermitType::SafetyProduction,
        number: number.into(),
        issued_by: "山东省应急管理厅".into(),
        valid_from: day("2024-01-01"),
        valid_until: day("2026-12-31"),
    };
    let batch =
        ReferenceBatch::Permits(vec![permit(CHEMICALS, "A-1"), permit(UNREGISTERED, "A-2")]);
    let refused = store.import_reference(&batch).unwrap_err();
    assert!(
        matches!(&refused, StoreError::Conflict(m) if m.contains("未登记")),
        "{refused:?}"
    );
    assert_eq!(store.enterprise_archive(CHEMICALS).unwrap().permits, []);

    let report = HotlineReport {
        id: "12350-1".into(),
        received_on: day("2025-03-05"),
        received_at: None,
        district_code: "370399".into(),
        industry: "其他".into(),
        category: HotlineCategory::Enquiry,
        credit_code: None,
        summary: "咨询".into(),
        status: HandlingStatus::Pending,
    };
    assert!(matches!(
        store.import_reference(&ReferenceBatch::Hotline(vec![report])),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .hotline_reports(&RecordScope::All, &DatedPage::ALL)
            .unwrap(),
        []
    );
}

fn attendance_is_updated_in_place_by_its_key(store: &Store) {
    demo_world(store);
    let header = imports::header(ImportKind::Attendance).join(",");
    let first =
        format!("{header}\n{MINE},2025-03-01,白班,赵德明,否\n{MINE},2025-03-01,夜班,钱志刚,否\n");
    assert_eq!(import(store, ImportKind::Attendance, &first), inserted(2));

    // The day shift confirmed, the night shift as it was, a new shift, and a second leader
    // on the same day shift (another key, so another row).
    let second = format!(
        "{header}\n{MINE},2025-03-01,白班,赵德明,是\n{MINE},2025-03-01,夜班,钱志刚,否\n\
         {MINE},2025-03-01,中班,孙立,是\n{MINE},2025-03-01,白班,李强,否\n"
    );
    assert_eq!(
        import(store, ImportKind::Attendance, &second),
        ImportSummary {
            inserted: 2,
            updated: 1,
            unchanged: 1
        }
    );
    let rows = store.attendance_of(MINE, &DatedPage::ALL).unwrap();
    let seen: Vec<(Shift, &str, bool)> = rows
        .iter()
        .map(|a| (a.shift, a.leader.as_str(), a.present))
        .collect();
    assert_eq!(
        seen,
        [
            (Shift::Day, "李强", false),
            (Shift::Day, "赵德明", true),
            (Shift::Middle, "孙立", true),
            (Shift::Night, "钱志刚", false),
        ]
    );
    assert!(rows.iter().all(|a| a.source == AttendanceSource::Csv));

    // An (IoT) row written through the store is taken over by a later CSV row of its key.
    let iot = Attendance {
        credit_code: MINE.into(),
        date: day("2025-03-02"),
        shift: Shift::Day,
        leader: "赵德明".into(),
        present: true,
        source: AttendanceSource::Iot,
    };
    assert_eq!(
        store
            .import_reference(&ReferenceBatch::Attendance(vec![iot.clone()]))
            .unwrap(),
        inserted(1)
    );
    assert_eq!(store.attendance_of(MINE, &DatedPage::ALL).unwrap()[0], iot);
    let csv = format!("{header}\n{MINE},2025-03-02,白班,赵德明,是\n");
    assert_eq!(
        import(store, ImportKind::Attendance, &csv),
        ImportSummary {
            inserted: 0,
            updated: 1,
            unchanged: 0
        }
    );
    assert_eq!(
        store.attendance_of(MINE, &DatedPage::ALL).unwrap()[0].source,
        AttendanceSource::Csv
    );
    assert_eq!(store.attendance_of(MINE, &DatedPage::ALL).unwrap().len(), 5);
    assert!(
        store.rollups_agree().unwrap(),
        "the monthly totals followed"
    );
}

/// More rows than one upsert statement takes (500): every row is counted once as inserted,
/// updated or unchanged, whichever statement it fell in; a key twice in a batch is refused.
fn attendance_is_counted_per_month_and_industry_within_scope(store: &Store) {
    demo_world(store);
    import(
        store,
        ImportKind::Attendance,
        &format!(
            "统一社会信用代码,日期,班次,带班领导,是否在岗\n\
             {MINE},2025-03-01,白班,赵德明,是\n\
             {MINE},2025-03-01,夜班,钱志刚,否\n\
             {MINE},2025-03-31,白班,赵德明,是\n\
             {MINE},2025-04-01,白班,赵德明,是\n\
             {CHEMICALS},2025-03-01,白班,王建国,否\n"
        ),
    );
    let counted = |scope: &RecordScope, from: Option<&str>, until: Option<&str>, monthly| {
        store
            .attendance_counts(scope, from.map(day), until.map(day), monthly)
            .unwrap()
            .into_iter()
            .map(|c| (c.month, c.industry, c.shifts, c.present))
            .collect::<Vec<_>>()
    };
    let counts = |scope: &RecordScope, from: Option<&str>, until: Option<&str>| {
        counted(scope, from, until, true)
    };
    let totals =
        |from: Option<&str>, until: Option<&str>| counted(&RecordScope::All, from, until, false);
    let row = |month: &str, industry: &str, shifts: i64, present: i64| {
        (month.to_string(), industry.to_string(), shifts, present)
    };
    // Over a whole range, whatever the months.
    assert_eq!(
        totals(None, None),
        [row("", "危险化学品", 1, 0), row("", "非煤矿山", 4, 3)]
    );
    assert_eq!(
        totals(Some("2025-03-31"), Some("2025-04-01")),
        [row("", "非煤矿山", 2, 2)]
    );
    assert_eq!(totals(Some("2025-03-02"), Some("2025-03-30")), []);
    assert_eq!(
        totals(Some("2025-03-01"), Some("2025-03-01")),
        [row("", "危险化学品", 1, 0), row("", "非煤矿山", 2, 1)],
        "one day, both ends included"
    );
    // Ends beyond an enterprise's first or last shift: its span answers for them.
    assert_eq!(
        totals(Some("2025-04-02"), Some("2025-12-31")),
        [],
        "after the last"
    );
    assert_eq!(
        totals(Some("2024-01-01"), Some("2025-02-28")),
        [],
        "before the first"
    );
    assert_eq!(
        totals(Some("2025-03-02"), Some("2025-12-31")),
        [row("", "非煤矿山", 2, 2)],
        "from between two shifts to after the last"
    );
    assert_eq!(
        totals(Some("2024-01-01"), Some("2025-03-31")),
        [row("", "危险化学品", 1, 0), row("", "非煤矿山", 3, 2)],
        "from before the first to between two shifts"
    );
    assert_eq!(
        totals(Some("2024-01-01"), Some("2026-01-01")),
        totals(None, None),
        "around every shift"
    );
    assert_eq!(
        counts(&RecordScope::All, None, None),
        [
            row("2025-03", "危险化学品", 1, 0),
            row("2025-03", "非煤矿山", 3, 2),
            row("2025-04", "非煤矿山", 1, 1),
        ]
    );
    assert_eq!(
        counts(&RecordScope::All, Some("2025-03-31"), Some("2025-04-01")),
        [
            row("2025-03", "非煤矿山", 1, 1),
            row("2025-04", "非煤矿山", 1, 1)
        ],
        "both ends included"
    );
    let zichuan: Vec<String> = descendants("370302", &store.regions().unwrap())
        .into_iter()
        .collect();
    assert_eq!(
        counts(
            &RecordScope::Regions(zichuan),
            Some("2025-03-01"),
            Some("2025-03-31")
        ),
        [row("2025-03", "非煤矿山", 3, 2)]
    );
    assert_eq!(
        counts(
            &RecordScope::Enterprise {
                credit_code: CHEMICALS.into(),
                inspection_kinds: Vec::new()
            },
            None,
            None
        ),
        [row("2025-03", "危险化学品", 1, 0)]
    );
    assert!(store.rollups_agree().unwrap());

    // A correction to an early day moves the running totals of every later one.
    import(
        store,
        ImportKind::Attendance,
        &format!(
            "统一社会信用代码,日期,班次,带班领导,是否在岗\n{MINE},2025-03-01,夜班,钱志刚,是\n"
        ),
    );
    assert_eq!(
        totals(Some("2025-03-31"), None),
        [row("", "非煤矿山", 2, 2)]
    );
    assert_eq!(
        totals(None, None),
        [row("", "危险化学品", 1, 0), row("", "非煤矿山", 4, 4)]
    );
    assert!(store.rollups_agree().unwrap());
}

fn declarations_and_newest_permits_are_read_per_enterprise_within_scope(store: &Store) {
    demo_world(store);
    import(
        store,
        ImportKind::Permits,
        &format!(
            "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至\n\
             {CHEMICALS},安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2021-06-01,2024-05-31\n\
             {CHEMICALS},安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2024-06-01,2027-05-31\n\
             {CHEMICALS},危险化学品登记证,370312345,山东省化学品登记办公室,2023-01-01,2026-01-01\n\
             {MINE},安全生产许可证,(鲁)FM安许证字〔2020〕000321号,山东省应急管理厅,2020-01-01,2023-01-01\n"
        ),
    );
    import(
        store,
        ImportKind::HealthDeclarations,
        &format!(
            "统一社会信用代码,申报年度,申报日期\n\
             {CHEMICALS},2024,2024-03-12\n\
             {CHEMICALS},2025,2025-03-20\n\
             {MINE},2025,2025-02-01\n"
        ),
    );
    assert_eq!(
        store.permit_ends(&RecordScope::All).unwrap(),
        [
            (
                MINE.to_string(),
                "安全生产许可证".to_string(),
                day("2023-01-01")
            ),
            (
                CHEMICALS.to_string(),
                "危险化学品登记证".to_string(),
                day("2026-01-01")
            ),
            (
                CHEMICALS.to_string(),
                "安全生产许可证".to_string(),
                day("2027-05-31")
            ),
        ]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>(),
        "the newest permit of each type"
    );
    let linzi: Vec<String> = descendants("370305", &store.regions().unwrap())
        .into_iter()
        .collect();
    let registered_in = |codes: &[String]| {
        let mut found: Vec<(String, String)> = store
            .enterprises_since(0)
            .unwrap()
            .into_iter()
            .filter(|e| codes.contains(&e.region_code))
            .map(|e| (e.credit_code.as_str().to_string(), e.region_code))
            .collect();
        found.sort();
        found
    };
    let codes_and_regions = |listed: Vec<(String, String, bool)>| {
        listed
            .into_iter()
            .map(|(code, region, _)| (code, region))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        codes_and_regions(
            store
                .enterprise_regions(&RecordScope::Regions(linzi.clone()), None)
                .unwrap()
        ),
        registered_in(&linzi)
    );
    assert!(!registered_in(&linzi).is_empty());
    assert_eq!(
        store
            .enterprise_regions(
                &RecordScope::Enterprise {
                    credit_code: MINE.into(),
                    inspection_kinds: Vec::new(),
                },
                None
            )
            .unwrap()
            .len(),
        1
    );
    // Which declared for a year of the range, each enterprise once whichever years.
    let declared = |scope: &RecordScope, years: std::ops::RangeInclusive<i32>| {
        let listed = store.enterprise_regions(scope, Some(years)).unwrap();
        assert_eq!(
            codes_and_regions(listed.clone()),
            codes_and_regions(store.enterprise_regions(scope, None).unwrap()),
            "the same enterprises with or without declarations"
        );
        listed
            .into_iter()
            .filter(|(_, _, declared)| *declared)
            .map(|(code, _, _)| code)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        declared(&RecordScope::Regions(linzi.clone()), 2024..=2025),
        [CHEMICALS.to_string()],
        "once, whichever years"
    );
    assert_eq!(
        declared(&RecordScope::Regions(linzi.clone()), 2023..=2023),
        Vec::<String>::new()
    );
    assert!(
        store
            .enterprise_regions(&RecordScope::Regions(linzi.clone()), None)
            .unwrap()
            .iter()
            .all(|(_, _, declared)| !declared),
        "no years asked, none declared"
    );
    assert_eq!(
        store
            .permit_ends(&RecordScope::Regions(linzi))
            .unwrap()
            .len(),
        2
    );
    let mut both = vec![CHEMICALS.to_string(), MINE.to_string()];
    both.sort();
    assert_eq!(declared(&RecordScope::All, 2025..=2025), both);
    assert_eq!(
        declared(&RecordScope::All, 2024..=2024),
        [CHEMICALS.to_string()]
    );
}

fn certificates_and_permits_are_listed_with_their_enterprise_within_scope(store: &Store) {
    demo_world(store);
    import(
        store,
        ImportKind::Staff,
        &documented_example(ImportKind::Staff),
    );
    import(
        store,
        ImportKind::Permits,
        &documented_example(ImportKind::Permits),
    );
    let everything = RecordScope::All;
    let far = day("2000-01-01");
    let counted = |scope: &RecordScope, on: NaiveDate| {
        store
            .certificate_counts(scope, on, on + chrono::Duration::days(90))
            .unwrap()
            .into_iter()
            .map(|c| (c.role, c.valid, c.expiring, c.expired))
            .collect::<Vec<_>>()
    };
    let archived = everything_staff(store) as i64;
    assert_eq!(
        counted(&everything, far).iter().map(|c| c.1).sum::<i64>(),
        archived,
        "every certificate, valid long after 2000"
    );
    // A day's edges: expired the day after its last day, expiring through 90 days ahead.
    let special = |number: &str, until: &str| StaffCertificate {
        credit_code: FACTORY.into(),
        role: StaffRole::SpecialOperation,
        name: "某人".into(),
        certificate_number: number.into(),
        certificate_type: "电工作业/低压电工作业".into(),
        valid_until: day(until),
    };
    store
        .import_reference(&ReferenceBatch::Staff(vec![
            special("T1", "2025-12-31"),
            special("T2", "2026-01-01"),
            special("T3", "2026-04-01"),
            special("T4", "2026-04-02"),
        ]))
        .unwrap();
    // Against a count of the archives' rows: on 1 January 2026, T1 has expired, T2 (its last
    // day) and T3 (90 days ahead) are expiring, T4 is valid.
    let independent = |on: NaiveDate| {
        let mut by_role: std::collections::BTreeMap<String, (i64, i64, i64)> =
            std::collections::BTreeMap::new();
        for e in store.enterprises_since(0).unwrap() {
            for c in store
                .enterprise_archive(e.credit_code.as_str())
                .unwrap()
                .staff
            {
                let slot = by_role.entry(c.role.label().to_string()).or_default();
                if c.valid_until < on {
                    slot.2 += 1;
                } else if c.valid_until <= on + chrono::Duration::days(90) {
                    slot.1 += 1;
                } else {
                    slot.0 += 1;
                }
            }
        }
        by_role
            .into_iter()
            .map(|(role, (valid, expiring, expired))| (role, valid, expiring, expired))
            .collect::<Vec<_>>()
    };
    for on in ["2025-12-31", "2026-01-01", "2026-01-02", "2026-04-02"] {
        let mut found = counted(&everything, day(on));
        found.sort();
        assert_eq!(found, independent(day(on)), "on {on}");
    }
    let of_factory = RecordScope::Enterprise {
        credit_code: FACTORY.into(),
        inspection_kinds: Vec::new(),
    };
    let special_ops = |on: &str| {
        counted(&of_factory, day(on))
            .into_iter()
            .find(|c| c.0 == StaffRole::SpecialOperation.label())
            .unwrap()
    };
    let (_, valid, expiring, expired) = special_ops("2026-01-01");
    let (_, valid_later, expiring_later, expired_later) = special_ops("2026-01-02");
    assert_eq!(
        (
            valid_later - valid,
            expiring_later - expiring,
            expired_later - expired
        ),
        (-1, 0, 1),
        "a day later T2 has expired and T4 is expiring"
    );
    let permits = store.permits(&everything).unwrap();
    let zhangdian: Vec<String> = descendants("370303", &store.regions().unwrap())
        .into_iter()
        .collect();
    let in_zhangdian = store
        .permits(&RecordScope::Regions(zhangdian.clone()))
        .unwrap();
    assert!(!permits.is_empty() && in_zhangdian.len() < permits.len());
    assert!(
        in_zhangdian
            .iter()
            .all(|p| zhangdian.contains(&p.region_code))
    );
    let of_chemicals = store
        .permits(&RecordScope::Enterprise {
            credit_code: CHEMICALS.into(),
            inspection_kinds: Vec::new(),
        })
        .unwrap();
    assert!(!of_chemicals.is_empty());
    assert!(of_chemicals.iter().all(|p| p.credit_code == CHEMICALS
        && p.industry == "危险化学品"
        && p.valid_from < p.valid_until));
    // Oldest first per enterprise and type.
    assert!(of_chemicals.windows(2).all(|w| {
        (w[0].permit_type.as_str(), w[0].valid_from) <= (w[1].permit_type.as_str(), w[1].valid_from)
    }));
}

/// How many staff certificates the archives hold, enterprise by enterprise.
fn everything_staff(store: &Store) -> usize {
    store
        .enterprises_since(0)
        .unwrap()
        .iter()
        .map(|e| {
            store
                .enterprise_archive(e.credit_code.as_str())
                .unwrap()
                .staff
                .len()
        })
        .sum()
}

fn large_batches_count_each_row_once_across_statements(store: &Store) {
    demo_world(store);
    let start = day("2023-01-01");
    let shifts = |count: usize, present: &dyn Fn(usize) -> bool| -> Vec<Attendance> {
        (0..count)
            .map(|i| Attendance {
                credit_code: [MINE, CHEMICALS, FACTORY][i % 3].into(),
                date: start + chrono::Days::new((i / 3) as u64),
                shift: Shift::Day,
                leader: "赵德明".into(),
                present: present(i),
                source: AttendanceSource::Csv,
            })
            .collect()
    };
    let first = shifts(700, &|_| true);
    assert_eq!(
        store
            .import_reference(&ReferenceBatch::Attendance(first))
            .unwrap(),
        inserted(700)
    );
    // Every seventh of the first 700 now absent; 500 more.
    let second = shifts(1200, &|i| i >= 700 || i % 7 != 0);
    assert_eq!(
        store
            .import_reference(&ReferenceBatch::Attendance(second.clone()))
            .unwrap(),
        ImportSummary {
            inserted: 500,
            updated: 100,
            unchanged: 600
        }
    );
    let mut stored: Vec<Attendance> = [MINE, CHEMICALS, FACTORY]
        .iter()
        .flat_map(|code| store.attendance_of(code, &DatedPage::ALL).unwrap())
        .collect();
    let key = |a: &Attendance| (a.date, a.credit_code.clone());
    stored.sort_by_key(key);
    let mut expected = second;
    expected.sort_by_key(key);
    assert_eq!(stored, expected);

    let mut repeated = shifts(3, &|_| true);
    repeated.push(repeated[0].clone());
    let refused = store
        .import_reference(&ReferenceBatch::Attendance(repeated))
        .unwrap_err();
    assert!(
        matches!(&refused, StoreError::Conflict(m) if m.contains("带班记录")),
        "{refused:?}"
    );
}

fn a_later_import_updates_the_rows_it_names_and_keeps_the_others(store: &Store) {
    demo_world(store);
    import_every_example(store);
    let header = |kind| imports::header(kind).join(",");
    // The hotline ticket closed, the permit's end date corrected, a hazard source re-graded.
    let hotline = format!(
        "{}\n12350-20250311-0003,2025-03-11 21:15:30,370303,工贸,投诉,{FACTORY},投诉车间未配发防护用品,已办结\n",
        header(ImportKind::Hotline)
    );
    assert_eq!(
        import(store, ImportKind::Hotline, &hotline),
        ImportSummary {
            inserted: 0,
            updated: 1,
            unchanged: 0
        }
    );
    let reports = store
        .hotline_reports(&RecordScope::All, &DatedPage::ALL)
        .unwrap();
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0].status, HandlingStatus::Closed);

    let permits = format!(
        "{}\n{CHEMICALS},安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2024-06-01,2027-06-30\n",
        header(ImportKind::Permits)
    );
    assert_eq!(import(store, ImportKind::Permits, &permits).updated, 1);
    let stored = store.enterprise_archive(CHEMICALS).unwrap().permits;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].valid_until, day("2027-06-30"));
    assert_eq!(stored[1].valid_until, day("2024-05-31"));

    let sources = format!(
        "{}\n{CHEMICALS},甲醇罐区,一级,2024-01-10\n",
        header(ImportKind::HazardSources)
    );
    assert_eq!(
        import(store, ImportKind::HazardSources, &sources).updated,
        1
    );
    let stored = store.enterprise_archive(CHEMICALS).unwrap().hazard_sources;
    assert_eq!(
        stored
            .iter()
            .map(|h| (h.name.as_str(), h.level))
            .collect::<Vec<_>>(),
        [
            ("甲醇罐区", HazardLevel::One),
            ("液氨储罐区", HazardLevel::Two)
        ]
    );
}

fn hotline_and_mailbox_lists_follow_the_scope(store: &Store) {
    demo_world(store);
    import(
        store,
        ImportKind::Hotline,
        &documented_example(ImportKind::Hotline),
    );
    import(
        store,
        ImportKind::Mailbox,
        &documented_example(ImportKind::Mailbox),
    );
    let regions = store.regions().unwrap();
    let scope_of = |root: &str| {
        let mut codes: Vec<String> = descendants(root, &regions).into_iter().collect();
        codes.sort();
        RecordScope::Regions(codes)
    };
    let hotline = |scope: &RecordScope| {
        ids(
            &store.hotline_reports(scope, &DatedPage::ALL).unwrap(),
            |r| &r.id,
        )
    };
    let mailbox = |scope: &RecordScope| {
        ids(
            &store.mailbox_messages(scope, &DatedPage::ALL).unwrap(),
            |m| &m.id,
        )
    };
    let all_reports = [
        "12350-20250311-0003",
        "12350-20250305-0012",
        "12350-20250301-0007",
    ];
    let all_letters = ["JZXX-2025-0040", "JZXX-2025-0032", "JZXX-2025-0031"];

    assert_eq!(hotline(&RecordScope::All), all_reports);
    assert_eq!(mailbox(&RecordScope::All), all_letters);
    // The city: everything, including the letter that names no district.
    assert_eq!(hotline(&scope_of("370300")), all_reports);
    assert_eq!(mailbox(&scope_of("370300")), all_letters);
    // 张店区: the reports and the letter filed under it.
    assert_eq!(
        hotline(&scope_of("370303")),
        ["12350-20250311-0003", "12350-20250305-0012"]
    );
    assert_eq!(mailbox(&scope_of("370303")), ["JZXX-2025-0032"]);
    // 辛店街道 (a town of 临淄区): the report about its enterprise, though filed under the
    // district; no letter (letters go by district).
    assert_eq!(hotline(&scope_of("370305003")), ["12350-20250301-0007"]);
    assert_eq!(mailbox(&scope_of("370305003")), Vec::<String>::new());
    // 科苑街道: the complaint about its factory, not the district's enquiry.
    assert_eq!(hotline(&scope_of("370303007")), ["12350-20250311-0003"]);
    // 淄川区: nothing of it.
    assert_eq!(hotline(&scope_of("370302")), Vec::<String>::new());
    assert_eq!(mailbox(&scope_of("370302")), Vec::<String>::new());
    // No region, or an enterprise (even the one reported on): nothing.
    assert_eq!(
        hotline(&RecordScope::Regions(Vec::new())),
        Vec::<String>::new()
    );
    let enterprise = RecordScope::Enterprise {
        credit_code: CHEMICALS.into(),
        inspection_kinds: vec!["self".into()],
    };
    assert_eq!(hotline(&enterprise), Vec::<String>::new());
    assert_eq!(mailbox(&enterprise), Vec::<String>::new());
}

fn dated_pages_bound_sort_and_page_the_lists(store: &Store) {
    demo_world(store);
    import_every_example(store);
    let page = |from: Option<&str>, until: Option<&str>, limit: i64, offset: i64| DatedPage {
        from: from.map(day),
        until: until.map(day),
        limit,
        offset,
    };
    let hotline = |p: DatedPage| {
        ids(
            &store.hotline_reports(&RecordScope::All, &p).unwrap(),
            |r| &r.id,
        )
    };
    // Both ends inclusive.
    assert_eq!(
        hotline(DatedPage::between(day("2025-03-01"), day("2025-03-05"))),
        ["12350-20250305-0012", "12350-20250301-0007"]
    );
    assert_eq!(
        hotline(page(Some("2025-03-02"), None, -1, 0)),
        ["12350-20250311-0003", "12350-20250305-0012"]
    );
    assert_eq!(
        hotline(page(None, Some("2025-03-04"), -1, 0)),
        ["12350-20250301-0007"]
    );
    assert_eq!(hotline(page(None, None, 1, 1)), ["12350-20250305-0012"]);
    assert_eq!(hotline(page(None, None, 2, 2)), ["12350-20250301-0007"]);
    assert_eq!(hotline(page(None, None, 0, 0)), Vec::<String>::new());

    let letters = store
        .mailbox_messages(
            &RecordScope::All,
            &DatedPage::between(day("2025-03-06"), day("2025-03-31")),
        )
        .unwrap();
    assert_eq!(
        ids(&letters, |m| &m.id),
        ["JZXX-2025-0040", "JZXX-2025-0032"]
    );

    let shifts = store
        .attendance_of(MINE, &page(Some("2025-03-01"), Some("2025-03-01"), 1, 1))
        .unwrap();
    assert_eq!(
        shifts.iter().map(|a| (a.date, a.shift)).collect::<Vec<_>>(),
        [(day("2025-03-01"), Shift::Night)]
    );
}

// ---- upgrading databases of schema version 1 ------------------------------------------------

/// The public key of the server that wrote `fixtures/server-v1.sqlite3`.
const V1_SERVER_PUBLIC_KEY: &str =
    "759f6b4c65b2aee00c8151f0e2129d1f42f3b5e92166d3c0c19194f6a08315a8";

fn user_version(path: &std::path::Path) -> u32 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_version_1_sqlite_database_upgrades_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anjian-server.sqlite3");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/server-v1.sqlite3"
        ),
        &path,
    )
    .unwrap();
    assert_eq!(user_version(&path), 1);
    let v1_tables = sqlite_schema(&path).len();

    let store = Store::open_sqlite(&path).unwrap();
    assert_eq!(user_version(&path), sqlite_store::SCHEMA_VERSION);

    // What version 1 held is all there: the demo world, a locked record with its hazard and
    // numbers, an audit chain that still verifies.
    assert_eq!(store.regions().unwrap().len(), 21);
    assert_eq!(store.enterprises_since(0).unwrap().len(), 12);
    assert_eq!(
        store.user("zhang").unwrap().unwrap().cert.as_deref(),
        Some("37030001")
    );
    let record = store
        .record("01a223eb-bc56-7548-a071-df301b802c9b")
        .unwrap()
        .unwrap();
    assert_eq!(record.enterprise_code, FACTORY);
    assert!(record.lock.is_some());
    assert_eq!(store.number_register().unwrap().len(), 2);
    let verification = anjian_server::audit::verify(
        &store,
        &[anjian_core::sync::receipt::ServerKey::new(
            V1_SERVER_PUBLIC_KEY,
        )],
        None,
    )
    .unwrap();
    assert!(verification.intact, "{verification:?}");
    assert_eq!(verification.entries, 1);

    // The schema is now exactly a fresh database's.
    let fresh = dir.path().join("fresh.sqlite3");
    drop(Store::open_sqlite(&fresh).unwrap());
    assert_eq!(sqlite_schema(&path), sqlite_schema(&fresh));
    assert!(sqlite_schema(&path).len() > v1_tables);

    // And the new tables work.
    for kind in ImportKind::ALL {
        import(&store, kind, &documented_example(kind));
    }
    assert_eq!(
        store.enterprise_archive(CHEMICALS).unwrap().permits.len(),
        2
    );
    drop(store);

    // Opening it again changes nothing.
    let store = Store::open_sqlite(&path).unwrap();
    assert_eq!(user_version(&path), sqlite_store::SCHEMA_VERSION);
    assert_eq!(
        store.enterprise_archive(CHEMICALS).unwrap().permits.len(),
        2
    );
}

/// The server starting while an administrator's command opens the same old file: one
/// upgrades it, the others wait and find it upgraded.
#[test]
fn sqlite_stores_opening_an_old_database_at_once_upgrade_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anjian-server.sqlite3");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/server-v1.sqlite3"
        ),
        &path,
    )
    .unwrap();
    let start = std::sync::Barrier::new(4);
    let stores: Vec<Store> = std::thread::scope(|s| {
        let opening: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    Store::open_sqlite(&path)
                })
            })
            .collect();
        opening
            .into_iter()
            .map(|handle| handle.join().unwrap().unwrap())
            .collect()
    });
    assert_eq!(user_version(&path), sqlite_store::SCHEMA_VERSION);
    import(
        &stores[0],
        ImportKind::Mailbox,
        &documented_example(ImportKind::Mailbox),
    );
    for store in &stores {
        assert_eq!(
            store
                .mailbox_messages(&RecordScope::All, &DatedPage::ALL)
                .unwrap()
                .len(),
            3
        );
    }
    // Version 5 counted the submitted inspection version 1 stored into the rollups.
    let counted = stores[0]
        .area_counts(
            &RecordScope::All,
            &RecordFilter::default(),
            AreaGrouping::ALL,
        )
        .unwrap();
    assert_eq!(counted.iter().map(|c| c.inspections).sum::<i64>(), 1);
    assert!(stores[0].rollups_agree().unwrap());
}

/// The tables version 2 added, newest first (for dropping).
const V2_TABLES: [&str; 8] = [
    "attendance",
    "mailbox_messages",
    "hotline_reports",
    "health_declarations",
    "emergency_plans",
    "staff_certificates",
    "hazard_sources",
    "permits",
];

#[test]
fn a_version_1_postgres_database_upgrades_in_place() {
    let db = TestDatabase::create();
    let store = Store::connect_postgres(&db.url).unwrap();
    demo_world(&store);
    drop(store);
    // Back to what version 1 wrote: its tables only (versions 2, 3 and 5 changed none of them,
    // version 4 added indexes, version 10 the audit key id, version 11 two enterprise columns).
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let columns = |client: &mut postgres::Client| -> Vec<(String, String, String)> {
        client
            .query(
                "SELECT table_name::TEXT, column_name::TEXT, data_type::TEXT
                 FROM information_schema.columns WHERE table_schema = 'public'
                 ORDER BY table_name, column_name",
                &[],
            )
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect()
    };
    let v2_columns = columns(&mut admin);
    let later_tables = [
        "hazard_rectifications",
        "inspection_months",
        "inspection_region_months",
        "attendance_months",
        "inspection_series",
        "inspection_totals",
        "inspection_histories",
        "attendance_totals",
        "hazard_tallies",
        "open_hazards",
        "rectified_hazards",
        "iot_alerts",
        "iot_devices",
        "iot_events",
        "iot_event_conflicts",
        "rain_episodes",
        "iot_hazards",
        "work_permits",
        "duty_leaders",
        "attendance_spans",
        "signing_keys",
    ];
    for table in V2_TABLES.iter().chain(&later_tables) {
        admin.batch_execute(&format!("DROP TABLE {table}")).unwrap();
    }
    admin
        .batch_execute(
            "DROP INDEX records_by_started; DROP INDEX enterprises_by_region;
             ALTER TABLE audit_log DROP COLUMN key_id;
             ALTER TABLE enterprises DROP COLUMN sector, DROP COLUMN special_operations;
             UPDATE schema_version SET version = 1",
        )
        .unwrap();
    assert!(columns(&mut admin).len() < v2_columns.len());

    let store = Store::connect_postgres(&db.url).unwrap();
    let version: i32 = admin
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, postgres_store::SCHEMA_VERSION);
    assert_eq!(columns(&mut admin), v2_columns);
    assert_eq!(store.regions().unwrap().len(), 21);
    for kind in ImportKind::ALL {
        import(&store, kind, &documented_example(kind));
    }
    assert_eq!(
        store.enterprise_archive(CHEMICALS).unwrap().permits.len(),
        2
    );
}
