//! The supervisors' reference data beside the enterprise register: permits, major hazard
//! sources, certified staff, emergency plans, occupational-health declarations, 12350 hotline
//! reports, the director's mailbox and duty-leader (带班) attendance. Administrators import it
//! from CSV (the server's `admin::imports`, formats in `docs/import-formats.md`); the enterprise
//! archive and the analyses read it.
//!
//! As everywhere in the store, the SQL of these tables is written once, here, on the executor
//! ([`super::exec`]), and run by both backends (schema version 2 creates the tables).
//!
//! Where a row belongs (region, industry) for scoped queries:
//! - rows of one enterprise (permits, hazard sources, staff, plans, declarations, attendance)
//!   copy nothing: join `enterprises` on `credit_code`, so they follow the enterprise when the
//!   register moves it to another town or industry;
//! - a hotline report keeps its own `district_code` and `industry` (as received: a report
//!   may name no enterprise), and `credit_code` when it names one;
//! - a mailbox message keeps its `district_code` when it has one.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::exec::{Cell, Cells, Exec, Query, date, date_cell, fetch, placeholder, text};
use super::{RecordScope, StoreError, StoreResult, from_millis, millis};

/// Defines a closed list of values stored and shown by their label (Chinese except
/// [`AttendanceSource`]): the CSV value, the stored text and the JSON string are the same.
macro_rules! closed_list {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub enum $name {
            $(#[serde(rename = $label)] $variant),+
        }

        impl $name {
            /// Every value, in the order lists show them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($label => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The allowed values, joined for a message: `一级、二级、…`.
            pub fn labels() -> String {
                [$($label),+].join("、")
            }

            // Not every list is stored as its label (hazard levels are numbers) nor sorted
            // in SQL: the macro gives each list both.
            #[allow(dead_code)]
            fn from_stored(text: String) -> StoreResult<$name> {
                $name::parse(&text).ok_or_else(|| {
                    StoreError::Corrupt(format!("{} {text:?}", stringify!($name)))
                })
            }

            /// `CASE column WHEN 'label' THEN 1 … END`: sorts by list order rather than by
            /// the bytes of the Chinese labels.
            #[allow(dead_code)]
            fn rank_sql(column: &str) -> String {
                let mut sql = format!("CASE {column}");
                for (rank, label) in [$($label),+].iter().enumerate() {
                    sql.push_str(&format!(" WHEN '{label}' THEN {rank}"));
                }
                sql.push_str(" ELSE 99 END");
                sql
            }
        }
    };
}

closed_list! {
    /// Licence types the archive and the permit analyses know.
    PermitType {
        SafetyProduction = "安全生产许可证",
        HazchemTrading = "危险化学品经营许可证",
        HazchemUse = "危险化学品安全使用许可证",
        HazchemRegistration = "危险化学品登记证",
        FireworksTrading = "烟花爆竹经营许可证",
    }
}

closed_list! {
    /// Major hazard source level (GB 18218): 一级 is the most dangerous. Stored as its number
    /// (1–4), so that sorting and comparing need no table.
    HazardLevel {
        One = "一级",
        Two = "二级",
        Three = "三级",
        Four = "四级",
    }
}

impl HazardLevel {
    /// 1 for 一级 … 4 for 四级.
    pub fn number(self) -> i64 {
        match self {
            HazardLevel::One => 1,
            HazardLevel::Two => 2,
            HazardLevel::Three => 3,
            HazardLevel::Four => 4,
        }
    }

    fn from_number(number: i64) -> StoreResult<HazardLevel> {
        HazardLevel::ALL
            .iter()
            .copied()
            .find(|level| level.number() == number)
            .ok_or_else(|| StoreError::Corrupt(format!("hazard level {number}")))
    }
}

closed_list! {
    /// Whose certificate: the three groups the certificate analyses count.
    StaffRole {
        Principal = "主要负责人",
        SafetyManager = "安全管理人员",
        SpecialOperation = "特种作业人员",
    }
}

closed_list! {
    /// What a 12350 caller wanted.
    HotlineCategory {
        Report = "举报",
        Complaint = "投诉",
        Enquiry = "咨询",
        Suggestion = "建议",
        Other = "其他",
    }
}

closed_list! {
    /// What a letter to the director's mailbox is.
    MailboxKind {
        Suggestion = "建议",
        Complaint = "投诉",
        Enquiry = "咨询",
    }
}

closed_list! {
    /// Where the handling of a hotline report or a letter stands.
    HandlingStatus {
        Pending = "待处理",
        InProgress = "处理中",
        Closed = "已办结",
        Declined = "不予受理",
    }
}

closed_list! {
    /// Duty-leader shifts.
    Shift {
        Day = "白班",
        Middle = "中班",
        Night = "夜班",
    }
}

closed_list! {
    /// The special operations of GB 30871-2022, each done under a work permit (作业票).
    WorkType {
        HotWork = "动火",
        ConfinedSpace = "受限空间",
        Height = "高处",
        Lifting = "吊装",
        TemporaryPower = "临时用电",
        Excavation = "动土",
        RoadBreaking = "断路",
        Blinding = "盲板抽堵",
    }
}

closed_list! {
    /// Hot-work grade (GB 30871-2022 5.1): 特级 and 一级 permits last at most 8 hours, 二级 72.
    HotWorkLevel {
        Special = "特级",
        First = "一级",
        Second = "二级",
    }
}

impl HotWorkLevel {
    /// The longest a permit of this grade may run.
    pub fn longest(self) -> chrono::Duration {
        match self {
            HotWorkLevel::Special | HotWorkLevel::First => chrono::Duration::hours(8),
            HotWorkLevel::Second => chrono::Duration::hours(72),
        }
    }
}

closed_list! {
    /// Who wrote an attendance row last: the CSV import, or (later) the face-recognition
    /// terminals.
    AttendanceSource {
        Csv = "csv",
        Iot = "iot",
    }
}

/// Industries a hotline report may name: the register's, and `其他` for reports about
/// anything else (construction sites, shops, …).
pub fn hotline_industries() -> Vec<&'static str> {
    let mut industries = anjian_core::enterprise::INDUSTRIES.to_vec();
    industries.push(HOTLINE_OTHER_INDUSTRY);
    industries
}

pub const HOTLINE_OTHER_INDUSTRY: &str = "其他";

/// One issue of a licence (a renewal that keeps the number is another row, with its own
/// `valid_from`). Key: type, number, valid_from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permit {
    pub credit_code: String,
    pub permit_type: PermitType,
    pub number: String,
    pub issued_by: String,
    pub valid_from: NaiveDate,
    /// The last day it is valid.
    pub valid_until: NaiveDate,
}

/// Key: enterprise, name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HazardSource {
    pub credit_code: String,
    pub name: String,
    pub level: HazardLevel,
    pub filed_on: NaiveDate,
}

/// One certificate of one person at one enterprise. Key: enterprise, certificate number,
/// certificate type (a special-operation certificate number is often the holder's ID number,
/// shared by each operation they are certified for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffCertificate {
    pub credit_code: String,
    pub role: StaffRole,
    pub name: String,
    pub certificate_number: String,
    /// The certificate, or for special operations the operation (e.g. `电工作业/低压电工作业`).
    pub certificate_type: String,
    pub valid_until: NaiveDate,
}

/// One filing of an emergency plan (a revised plan filed again is another row). Key:
/// enterprise, title, filed_on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmergencyPlan {
    pub credit_code: String,
    pub title: String,
    pub filed_on: NaiveDate,
    pub valid_until: NaiveDate,
}

/// An enterprise's occupational-hazard project declaration for a year. Key: enterprise, year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthDeclaration {
    pub credit_code: String,
    pub year: i32,
    pub declared_on: NaiveDate,
}

/// A 12350 hotline report. Key: id (the hotline's own ticket number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HotlineReport {
    pub id: String,
    /// The date in China it was received: what the analyses group by.
    pub received_on: NaiveDate,
    /// The instant, when the file gave a time of day.
    pub received_at: Option<DateTime<Utc>>,
    /// A district or county (6 digits) in the region table.
    pub district_code: String,
    /// One of [`hotline_industries`].
    pub industry: String,
    pub category: HotlineCategory,
    /// The enterprise reported on, when the report names a registered one.
    pub credit_code: Option<String>,
    pub summary: String,
    pub status: HandlingStatus,
}

/// A letter to the director's mailbox. Key: id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxMessage {
    pub id: String,
    pub received_on: NaiveDate,
    pub kind: MailboxKind,
    /// None: the letter concerns the whole jurisdiction (see [`Store::mailbox_messages`]).
    ///
    /// [`Store::mailbox_messages`]: super::Store::mailbox_messages
    pub district_code: Option<String>,
    pub summary: String,
    pub status: HandlingStatus,
}

/// One duty-leader shift that was due: `present` says whether the leader was on site. Key:
/// enterprise, date, shift, leader; importing the same key again updates `present` and
/// `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub credit_code: String,
    pub date: NaiveDate,
    pub shift: Shift,
    pub leader: String,
    pub present: bool,
    pub source: AttendanceSource,
}

/// A work permit (作业票) for one special operation. Key: enterprise, number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkPermit {
    pub credit_code: String,
    pub number: String,
    pub work_type: WorkType,
    /// Hot work only.
    pub level: Option<HotWorkLevel>,
    /// Where the work is done; empty for the whole site.
    pub area: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

/// A mine leader who leads shifts (带班领导), as the face-recognition terminals know them.
/// Key: enterprise, person id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DutyLeader {
    pub credit_code: String,
    /// The id the enterprise's face terminals report for this person.
    pub person_id: String,
    pub name: String,
    pub position: String,
}

/// The kinds of reference data, as `anjian-server import <kind>` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Permits,
    HazardSources,
    Staff,
    EmergencyPlans,
    HealthDeclarations,
    Hotline,
    Mailbox,
    Attendance,
    WorkPermits,
    DutyLeaders,
}

impl ImportKind {
    pub const ALL: [ImportKind; 10] = [
        ImportKind::Permits,
        ImportKind::HazardSources,
        ImportKind::Staff,
        ImportKind::EmergencyPlans,
        ImportKind::HealthDeclarations,
        ImportKind::Hotline,
        ImportKind::Mailbox,
        ImportKind::Attendance,
        ImportKind::WorkPermits,
        ImportKind::DutyLeaders,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Permits => "permits",
            ImportKind::HazardSources => "hazard-sources",
            ImportKind::Staff => "staff",
            ImportKind::EmergencyPlans => "emergency-plans",
            ImportKind::HealthDeclarations => "health-declarations",
            ImportKind::Hotline => "hotline",
            ImportKind::Mailbox => "mailbox",
            ImportKind::Attendance => "attendance",
            ImportKind::WorkPermits => "work-permits",
            ImportKind::DutyLeaders => "duty-leaders",
        }
    }

    pub fn parse(name: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// What a person calls a file of this kind.
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Permits => "许可证",
            ImportKind::HazardSources => "重大危险源",
            ImportKind::Staff => "持证人员",
            ImportKind::EmergencyPlans => "应急预案",
            ImportKind::HealthDeclarations => "职业病危害项目申报",
            ImportKind::Hotline => "12350 热线工单",
            ImportKind::Mailbox => "局长信箱来信",
            ImportKind::Attendance => "带班记录",
            ImportKind::WorkPermits => "作业票",
            ImportKind::DutyLeaders => "带班领导名单",
        }
    }

    /// The table, its natural key and the columns an import updates.
    fn spec(self) -> TableSpec {
        let (table, key, attrs): (_, &[_], &[_]) = match self {
            ImportKind::Permits => (
                "permits",
                &["permit_type", "number", "valid_from"],
                &["credit_code", "issued_by", "valid_until"],
            ),
            ImportKind::HazardSources => (
                "hazard_sources",
                &["credit_code", "name"],
                &["level", "filed_on"],
            ),
            ImportKind::Staff => (
                "staff_certificates",
                &["credit_code", "certificate_number", "certificate_type"],
                &["role", "name", "valid_until"],
            ),
            ImportKind::EmergencyPlans => (
                "emergency_plans",
                &["credit_code", "title", "filed_on"],
                &["valid_until"],
            ),
            ImportKind::HealthDeclarations => (
                "health_declarations",
                &["credit_code", "year"],
                &["declared_on"],
            ),
            ImportKind::Hotline => (
                "hotline_reports",
                &["id"],
                &[
                    "received_on",
                    "received_at",
                    "district_code",
                    "industry",
                    "category",
                    "credit_code",
                    "summary",
                    "status",
                ],
            ),
            ImportKind::Mailbox => (
                "mailbox_messages",
                &["id"],
                &["received_on", "kind", "district_code", "summary", "status"],
            ),
            ImportKind::Attendance => (
                "attendance",
                &["credit_code", "date", "shift", "leader"],
                &["present", "source"],
            ),
            ImportKind::WorkPermits => (
                "work_permits",
                &["credit_code", "number"],
                &["work_type", "level", "area", "valid_from", "valid_until"],
            ),
            ImportKind::DutyLeaders => (
                "duty_leaders",
                &["credit_code", "person_id"],
                &["name", "position"],
            ),
        };
        TableSpec { table, key, attrs }
    }
}

/// The rows of one import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceBatch {
    Permits(Vec<Permit>),
    HazardSources(Vec<HazardSource>),
    Staff(Vec<StaffCertificate>),
    EmergencyPlans(Vec<EmergencyPlan>),
    HealthDeclarations(Vec<HealthDeclaration>),
    Hotline(Vec<HotlineReport>),
    Mailbox(Vec<MailboxMessage>),
    Attendance(Vec<Attendance>),
    WorkPermits(Vec<WorkPermit>),
    DutyLeaders(Vec<DutyLeader>),
}

impl ReferenceBatch {
    pub fn kind(&self) -> ImportKind {
        match self {
            ReferenceBatch::Permits(_) => ImportKind::Permits,
            ReferenceBatch::HazardSources(_) => ImportKind::HazardSources,
            ReferenceBatch::Staff(_) => ImportKind::Staff,
            ReferenceBatch::EmergencyPlans(_) => ImportKind::EmergencyPlans,
            ReferenceBatch::HealthDeclarations(_) => ImportKind::HealthDeclarations,
            ReferenceBatch::Hotline(_) => ImportKind::Hotline,
            ReferenceBatch::Mailbox(_) => ImportKind::Mailbox,
            ReferenceBatch::Attendance(_) => ImportKind::Attendance,
            ReferenceBatch::WorkPermits(_) => ImportKind::WorkPermits,
            ReferenceBatch::DutyLeaders(_) => ImportKind::DutyLeaders,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ReferenceBatch::Permits(rows) => rows.len(),
            ReferenceBatch::HazardSources(rows) => rows.len(),
            ReferenceBatch::Staff(rows) => rows.len(),
            ReferenceBatch::EmergencyPlans(rows) => rows.len(),
            ReferenceBatch::HealthDeclarations(rows) => rows.len(),
            ReferenceBatch::Hotline(rows) => rows.len(),
            ReferenceBatch::Mailbox(rows) => rows.len(),
            ReferenceBatch::Attendance(rows) => rows.len(),
            ReferenceBatch::WorkPermits(rows) => rows.len(),
            ReferenceBatch::DutyLeaders(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of rows `range`, each in the order of its table's key columns, then the
    /// others. (By chunks: a batch of a city's attendance is millions of rows.)
    fn cells_of(&self, range: std::ops::Range<usize>) -> Vec<Vec<Cell>> {
        fn map<T>(rows: &[T], f: impl Fn(&T) -> Vec<Cell>) -> Vec<Vec<Cell>> {
            rows.iter().map(f).collect()
        }
        match self {
            ReferenceBatch::Permits(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |p| {
                vec![
                    text(p.permit_type.label()),
                    text(&p.number),
                    date_cell(p.valid_from),
                    text(&p.credit_code),
                    text(&p.issued_by),
                    date_cell(p.valid_until),
                ]
            }),
            ReferenceBatch::HazardSources(rows) => {
                map(rows.get(range.clone()).unwrap_or(&[]), |h| {
                    vec![
                        text(&h.credit_code),
                        text(&h.name),
                        Cell::Int(h.level.number()),
                        date_cell(h.filed_on),
                    ]
                })
            }
            ReferenceBatch::Staff(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |s| {
                vec![
                    text(&s.credit_code),
                    text(&s.certificate_number),
                    text(&s.certificate_type),
                    text(s.role.label()),
                    text(&s.name),
                    date_cell(s.valid_until),
                ]
            }),
            ReferenceBatch::EmergencyPlans(rows) => {
                map(rows.get(range.clone()).unwrap_or(&[]), |p| {
                    vec![
                        text(&p.credit_code),
                        text(&p.title),
                        date_cell(p.filed_on),
                        date_cell(p.valid_until),
                    ]
                })
            }
            ReferenceBatch::HealthDeclarations(rows) => {
                map(rows.get(range.clone()).unwrap_or(&[]), |d| {
                    vec![
                        text(&d.credit_code),
                        Cell::Int(i64::from(d.year)),
                        date_cell(d.declared_on),
                    ]
                })
            }
            ReferenceBatch::Hotline(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |h| {
                vec![
                    text(&h.id),
                    date_cell(h.received_on),
                    Cell::OptInt(h.received_at.map(millis)),
                    text(&h.district_code),
                    text(&h.industry),
                    text(h.category.label()),
                    Cell::OptText(h.credit_code.clone()),
                    text(&h.summary),
                    text(h.status.label()),
                ]
            }),
            ReferenceBatch::Mailbox(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |m| {
                vec![
                    text(&m.id),
                    date_cell(m.received_on),
                    text(m.kind.label()),
                    Cell::OptText(m.district_code.clone()),
                    text(&m.summary),
                    text(m.status.label()),
                ]
            }),
            ReferenceBatch::Attendance(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |a| {
                vec![
                    text(&a.credit_code),
                    date_cell(a.date),
                    text(a.shift.label()),
                    text(&a.leader),
                    Cell::Bool(a.present),
                    text(a.source.label()),
                ]
            }),
            ReferenceBatch::WorkPermits(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |w| {
                vec![
                    text(&w.credit_code),
                    text(&w.number),
                    text(w.work_type.label()),
                    Cell::OptText(w.level.map(|l| l.label().to_string())),
                    text(&w.area),
                    Cell::Int(millis(w.valid_from)),
                    Cell::Int(millis(w.valid_until)),
                ]
            }),
            ReferenceBatch::DutyLeaders(rows) => map(rows.get(range.clone()).unwrap_or(&[]), |d| {
                vec![
                    text(&d.credit_code),
                    text(&d.person_id),
                    text(&d.name),
                    text(&d.position),
                ]
            }),
        }
    }
}

/// What an import did: rows added, rows changed, rows found as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl ImportSummary {
    pub fn total(&self) -> usize {
        self.inserted + self.updated + self.unchanged
    }
}

/// What the enterprise archive shows beside the profile and the inspections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EnterpriseArchive {
    /// By type in list order, newest issue first.
    pub permits: Vec<Permit>,
    /// By level (一级 first), then name.
    pub hazard_sources: Vec<HazardSource>,
    /// By role in list order, then name and certificate.
    pub staff: Vec<StaffCertificate>,
    /// Newest filing first.
    pub emergency_plans: Vec<EmergencyPlan>,
    /// Newest year first.
    pub health_declarations: Vec<HealthDeclaration>,
    /// Latest start first.
    pub work_permits: Vec<WorkPermit>,
    /// By person id.
    pub duty_leaders: Vec<DutyLeader>,
}

/// Which rows of a dated list: dated `from..=until` (either end open when `None`), newest
/// first, `limit` rows (all when negative) after skipping `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatedPage {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub limit: i64,
    pub offset: i64,
}

impl DatedPage {
    /// Every row.
    pub const ALL: DatedPage = DatedPage {
        from: None,
        until: None,
        limit: -1,
        offset: 0,
    };

    /// Every row dated `from..=until`.
    pub fn between(from: NaiveDate, until: NaiveDate) -> DatedPage {
        DatedPage {
            from: Some(from),
            until: Some(until),
            ..DatedPage::ALL
        }
    }
}

// ---- the SQL both backends run --------------------------------------------------------------

struct TableSpec {
    table: &'static str,
    key: &'static [&'static str],
    attrs: &'static [&'static str],
}

/// `AND column >= from AND column <= until`, the ends given, then order and paging.
fn dated_page(query: &mut Query, column: &str, page: &DatedPage, order: &str) {
    if let Some(from) = page.from {
        let p = query.bind(date_cell(from));
        query.push(&format!(" AND {column} >= {p}"));
    }
    if let Some(until) = page.until {
        let p = query.bind(date_cell(until));
        query.push(&format!(" AND {column} <= {p}"));
    }
    let limit = query.bind(Cell::Limit(page.limit));
    let offset = query.bind(Cell::Int(page.offset.max(0)));
    query.push(&format!(" ORDER BY {order} LIMIT {limit} OFFSET {offset}"));
}

/// Rows per upsert statement: far fewer statements (and, on PostgreSQL, network round trips)
/// than rows, well under either backend's limit of bound values.
const CHUNK: usize = 500;

/// Adds or updates every row of the batch, keyed by its kind's natural key; a row equal to the
/// stored one is left alone (and counted unchanged). The caller's transaction makes it all or
/// nothing. A key repeated within the batch is a `Conflict` (which row should win is a guess;
/// the CSV parser names both lines before it gets here).
///
/// Each chunk of rows is one `INSERT … ON CONFLICT DO UPDATE … WHERE <a column differs>
/// RETURNING <inserted?>`: an unchanged row returns nothing, an inserted or updated one says
/// which it was — on PostgreSQL by `xmax = 0` (no earlier version of the row), on SQLite by a
/// rowid above the table's largest before the statement (SQLite gives a new row the largest
/// rowid plus one; an update keeps the row's rowid).
pub(super) fn import(db: &mut impl Exec, batch: &ReferenceBatch) -> StoreResult<ImportSummary> {
    let kind = batch.kind();
    let spec = kind.spec();
    let postgres = db.postgres();
    let table = spec.table;
    let width = spec.key.len() + spec.attrs.len();
    let upsert = |rows: usize| -> String {
        let columns: Vec<&str> = spec.key.iter().chain(spec.attrs).copied().collect();
        let values: Vec<String> = (0..rows)
            .map(|row| {
                let cells: Vec<String> = (1..=width)
                    .map(|column| placeholder(postgres, row * width + column))
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let updates: Vec<String> = spec
            .attrs
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let differs: Vec<String> = spec
            .attrs
            .iter()
            .map(|c| format!("{table}.{c} IS DISTINCT FROM excluded.{c}"))
            .collect();
        let inserted = if postgres {
            "xmax = 0".to_string()
        } else {
            format!("rowid > {}", placeholder(postgres, rows * width + 1))
        };
        format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {} WHERE {}
             RETURNING ({inserted})",
            columns.join(", "),
            values.join(", "),
            spec.key.join(", "),
            updates.join(", "),
            differs.join(" OR ")
        )
    };
    let largest_rowid = format!("SELECT COALESCE(MAX(rowid), 0) FROM {table}");
    let full_chunk = upsert(CHUNK);
    let mut seen: HashSet<Vec<Cell>> = HashSet::new();
    let mut summary = ImportSummary::default();
    let mut start = 0;
    while start < batch.len() {
        let rows = batch.cells_of(start..batch.len().min(start + CHUNK));
        start += rows.len();
        for cells in &rows {
            if !seen.insert(cells.get(..spec.key.len()).unwrap_or_default().to_vec()) {
                return Err(StoreError::Conflict(format!(
                    "{}数据中有两行的 {} 相同（未导入任何数据）",
                    kind.label(),
                    spec.key.join("、")
                )));
            }
        }
        let mut values: Vec<Cell> = rows.iter().flatten().cloned().collect();
        if !postgres {
            let largest = db.rows(&largest_rowid, &[], |row| row.int(0))?;
            values.push(Cell::Int(largest.first().copied().unwrap_or(0)));
        }
        let partial;
        let sql = if rows.len() == CHUNK {
            &full_chunk
        } else {
            partial = upsert(rows.len());
            &partial
        };
        let returned = db.rows(sql, &values, |row| row.boolean(0))?;
        let inserted = returned.iter().filter(|fresh| **fresh).count();
        summary.inserted += inserted;
        summary.updated += returned.len() - inserted;
        summary.unchanged += rows.len() - returned.len();
    }
    Ok(summary)
}

fn permit(row: &dyn Cells) -> StoreResult<Permit> {
    Ok(Permit {
        credit_code: row.text(0)?,
        permit_type: PermitType::from_stored(row.text(1)?)?,
        number: row.text(2)?,
        issued_by: row.text(3)?,
        valid_from: date(row, 4)?,
        valid_until: date(row, 5)?,
    })
}

fn hazard_source(row: &dyn Cells) -> StoreResult<HazardSource> {
    Ok(HazardSource {
        credit_code: row.text(0)?,
        name: row.text(1)?,
        level: HazardLevel::from_number(row.int(2)?)?,
        filed_on: date(row, 3)?,
    })
}

fn staff_certificate(row: &dyn Cells) -> StoreResult<StaffCertificate> {
    Ok(StaffCertificate {
        credit_code: row.text(0)?,
        role: StaffRole::from_stored(row.text(1)?)?,
        name: row.text(2)?,
        certificate_number: row.text(3)?,
        certificate_type: row.text(4)?,
        valid_until: date(row, 5)?,
    })
}

fn emergency_plan(row: &dyn Cells) -> StoreResult<EmergencyPlan> {
    Ok(EmergencyPlan {
        credit_code: row.text(0)?,
        title: row.text(1)?,
        filed_on: date(row, 2)?,
        valid_until: date(row, 3)?,
    })
}

fn health_declaration(row: &dyn Cells) -> StoreResult<HealthDeclaration> {
    let year = row.int(1)?;
    Ok(HealthDeclaration {
        credit_code: row.text(0)?,
        year: i32::try_from(year).map_err(|_| StoreError::Corrupt(format!("year {year}")))?,
        declared_on: date(row, 2)?,
    })
}

fn work_permit(row: &dyn Cells) -> StoreResult<WorkPermit> {
    Ok(WorkPermit {
        credit_code: row.text(0)?,
        number: row.text(1)?,
        work_type: WorkType::from_stored(row.text(2)?)?,
        level: row
            .opt_text(3)?
            .map(HotWorkLevel::from_stored)
            .transpose()?,
        area: row.text(4)?,
        valid_from: from_millis(row.int(5)?)?,
        valid_until: from_millis(row.int(6)?)?,
    })
}

fn duty_leader(row: &dyn Cells) -> StoreResult<DutyLeader> {
    Ok(DutyLeader {
        credit_code: row.text(0)?,
        person_id: row.text(1)?,
        name: row.text(2)?,
        position: row.text(3)?,
    })
}

fn hotline_report(row: &dyn Cells) -> StoreResult<HotlineReport> {
    Ok(HotlineReport {
        id: row.text(0)?,
        received_on: date(row, 1)?,
        received_at: row.opt_int(2)?.map(from_millis).transpose()?,
        district_code: row.text(3)?,
        industry: row.text(4)?,
        category: HotlineCategory::from_stored(row.text(5)?)?,
        credit_code: row.opt_text(6)?,
        summary: row.text(7)?,
        status: HandlingStatus::from_stored(row.text(8)?)?,
    })
}

fn mailbox_message(row: &dyn Cells) -> StoreResult<MailboxMessage> {
    Ok(MailboxMessage {
        id: row.text(0)?,
        received_on: date(row, 1)?,
        kind: MailboxKind::from_stored(row.text(2)?)?,
        district_code: row.opt_text(3)?,
        summary: row.text(4)?,
        status: HandlingStatus::from_stored(row.text(5)?)?,
    })
}

pub(super) fn attendance(row: &dyn Cells) -> StoreResult<Attendance> {
    Ok(Attendance {
        credit_code: row.text(0)?,
        date: date(row, 1)?,
        shift: Shift::from_stored(row.text(2)?)?,
        leader: row.text(3)?,
        present: row.boolean(4)?,
        source: AttendanceSource::from_stored(row.text(5)?)?,
    })
}

/// `SELECT columns FROM table WHERE credit_code = ? ORDER BY order`.
fn of_enterprise(postgres: bool, credit_code: &str, select: &str, order: &str) -> Query {
    let mut query = Query::new(postgres);
    let code = query.bind(text(credit_code));
    query.push(&format!(
        "SELECT {select} WHERE credit_code = {code} ORDER BY {order}"
    ));
    query
}

/// Everything on file for one enterprise except attendance; read in the caller's (one)
/// transaction.
pub(super) fn enterprise_archive(
    db: &mut impl Exec,
    credit_code: &str,
) -> StoreResult<EnterpriseArchive> {
    let pg = db.postgres();
    Ok(EnterpriseArchive {
        permits: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, permit_type, number, issued_by, valid_from, valid_until
                 FROM permits",
                &format!(
                    "{}, valid_from DESC, number",
                    PermitType::rank_sql("permit_type")
                ),
            ),
            permit,
        )?,
        hazard_sources: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, name, level, filed_on FROM hazard_sources",
                "level, name",
            ),
            hazard_source,
        )?,
        staff: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, role, name, certificate_number, certificate_type, valid_until
                 FROM staff_certificates",
                &format!(
                    "{}, name, certificate_number, certificate_type",
                    StaffRole::rank_sql("role")
                ),
            ),
            staff_certificate,
        )?,
        emergency_plans: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, title, filed_on, valid_until FROM emergency_plans",
                "filed_on DESC, title",
            ),
            emergency_plan,
        )?,
        health_declarations: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, year, declared_on FROM health_declarations",
                "year DESC",
            ),
            health_declaration,
        )?,
        work_permits: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, number, work_type, level, area, valid_from, valid_until
                 FROM work_permits",
                "valid_from DESC, number",
            ),
            work_permit,
        )?,
        duty_leaders: fetch(
            db,
            &of_enterprise(
                pg,
                credit_code,
                "credit_code, person_id, name, position FROM duty_leaders",
                "person_id",
            ),
            duty_leader,
        )?,
    })
}

/// One enterprise's duty-leader shifts, newest first.
pub(super) fn attendance_of(
    db: &mut impl Exec,
    credit_code: &str,
    page: &DatedPage,
) -> StoreResult<Vec<Attendance>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    query.push(&format!(
        "SELECT credit_code, date, shift, leader, present, source FROM attendance
         WHERE credit_code = {code}"
    ));
    dated_page(
        &mut query,
        "date",
        page,
        &format!("date DESC, {}, leader", Shift::rank_sql("shift")),
    );
    fetch(db, &query, attendance)
}

/// Hotline reports in scope: a region scope sees the reports filed under its districts and
/// those naming an enterprise of its regions (so a town sees the reports about its
/// enterprises although reports are filed by district); an enterprise sees none (a report
/// about it is the reporter's, not its own).
pub(super) fn hotline_reports(
    db: &mut impl Exec,
    scope: &RecordScope,
    page: &DatedPage,
) -> StoreResult<Vec<HotlineReport>> {
    let mut query = Query::new(db.postgres());
    let condition = match scope {
        RecordScope::All => "1 = 1".to_string(),
        RecordScope::Regions(codes) if !codes.is_empty() => {
            let district = query.any_of("h.district_code", codes);
            let enterprise = query.any_of("e.region_code", codes);
            format!(
                "({district} OR h.credit_code IN (SELECT e.credit_code FROM enterprises e
                   WHERE {enterprise}))"
            )
        }
        RecordScope::Regions(_) | RecordScope::Enterprise { .. } => return Ok(Vec::new()),
    };
    query.push(&format!(
        "SELECT id, received_on, received_at, district_code, industry, category, credit_code,
                summary, status
         FROM hotline_reports h WHERE {condition}"
    ));
    dated_page(&mut query, "received_on", page, "received_on DESC, id DESC");
    fetch(db, &query, hotline_report)
}

/// Mailbox letters in scope: a region scope sees the letters of its districts, and the
/// letters without a district when it covers a top-level region (one without a parent: the
/// city), because the mailbox is the bureau's; an enterprise sees none.
pub(super) fn mailbox_messages(
    db: &mut impl Exec,
    scope: &RecordScope,
    page: &DatedPage,
) -> StoreResult<Vec<MailboxMessage>> {
    let mut query = Query::new(db.postgres());
    let condition = match scope {
        RecordScope::All => "1 = 1".to_string(),
        RecordScope::Regions(codes) if !codes.is_empty() => {
            let district = query.any_of("m.district_code", codes);
            let top = query.any_of("r.code", codes);
            format!(
                "({district} OR (m.district_code IS NULL AND EXISTS (SELECT 1 FROM regions r
                   WHERE r.parent IS NULL AND {top})))"
            )
        }
        RecordScope::Regions(_) | RecordScope::Enterprise { .. } => return Ok(Vec::new()),
    };
    query.push(&format!(
        "SELECT id, received_on, kind, district_code, summary, status
         FROM mailbox_messages m WHERE {condition}"
    ));
    dated_page(&mut query, "received_on", page, "received_on DESC, id DESC");
    fetch(db, &query, mailbox_message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_dialect() {
        let codes = vec!["370303".to_string(), "370305".to_string()];
        let mut sqlite = Query::new(false);
        assert_eq!(sqlite.any_of("c", &codes), "c IN (?1, ?2)");
        let mut postgres = Query::new(true);
        assert_eq!(postgres.any_of("c", &codes), "c = ANY ($1)");
        assert_eq!(postgres.any_of("c", &[]), "1 = 0");
    }

    #[test]
    fn closed_lists_parse_their_labels_only() {
        assert_eq!(HazardLevel::parse("三级"), Some(HazardLevel::Three));
        assert_eq!(HazardLevel::parse("3"), None);
        assert_eq!(Shift::labels(), "白班、中班、夜班");
        assert_eq!(
            Shift::rank_sql("shift"),
            "CASE shift WHEN '白班' THEN 0 WHEN '中班' THEN 1 WHEN '夜班' THEN 2 ELSE 99 END"
        );
        for kind in ImportKind::ALL {
            assert_eq!(ImportKind::parse(kind.name()), Some(kind));
        }
    }
}
