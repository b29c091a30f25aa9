//! The CSV files of the supervisors' reference data (`docs/import-formats.md`): one format per
//! [`ImportKind`], each a Chinese header row in a fixed order and one row per line, like the
//! enterprise register (`anjian_core::enterprise`).
//!
//! A file is read and every row checked — values, closed lists, dates, duplicates within the
//! file, and that each enterprise and region it names is registered — before anything is
//! stored, so a file with one bad row stores nothing and the error names its line.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

use anjian_core::enterprise::CreditCode;
use anjian_core::text::{Lines, control_problem};
use anjian_core::time::china;

use crate::store::reference::hotline_industries;
use crate::store::{
    Attendance, AttendanceSource, DutyLeader, EmergencyPlan, HandlingStatus, HazardLevel,
    HazardSource, HealthDeclaration, HotWorkLevel, HotlineCategory, HotlineReport, ImportKind,
    MailboxKind, MailboxMessage, Permit, PermitType, ReferenceBatch, Shift, StaffCertificate,
    StaffRole, Store, StoreResult, WorkPermit, WorkType,
};

/// The header row of each kind's file, in this order.
pub fn header(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Permits => &[
            "统一社会信用代码",
            "许可证类型",
            "许可证编号",
            "发证机关",
            "有效期起",
            "有效期至",
        ],
        ImportKind::HazardSources => &["统一社会信用代码", "危险源名称", "等级", "备案日期"],
        ImportKind::Staff => &[
            "统一社会信用代码",
            "人员类别",
            "姓名",
            "证书编号",
            "证书类型",
            "有效期至",
        ],
        ImportKind::EmergencyPlans => &["统一社会信用代码", "预案名称", "备案日期", "有效期至"],
        ImportKind::HealthDeclarations => &["统一社会信用代码", "申报年度", "申报日期"],
        ImportKind::Hotline => &[
            "工单编号",
            "受理时间",
            "区县代码",
            "行业",
            "类别",
            "统一社会信用代码",
            "内容摘要",
            "办理状态",
        ],
        ImportKind::Mailbox => &[
            "信件编号",
            "收信日期",
            "类型",
            "区县代码",
            "内容摘要",
            "办理状态",
        ],
        ImportKind::Attendance => &["统一社会信用代码", "日期", "班次", "带班领导", "是否在岗"],
        ImportKind::WorkPermits => &[
            "统一社会信用代码",
            "作业票编号",
            "作业类型",
            "动火级别",
            "作业区域",
            "开始时间",
            "结束时间",
        ],
        ImportKind::DutyLeaders => &["统一社会信用代码", "人员编号", "姓名", "职务"],
    }
}

/// What rows may refer to: registered enterprises (with their industry) and regions.
#[derive(Debug, Clone, Default)]
pub struct Known {
    enterprises: HashMap<String, String>,
    regions: HashSet<String>,
}

impl Known {
    /// The whole register and region table (a city has a few thousand enterprises).
    pub fn load(store: &Store) -> StoreResult<Known> {
        Ok(Known {
            enterprises: store
                .enterprises_since(0)?
                .into_iter()
                .map(|e| (e.credit_code.as_str().to_string(), e.industry))
                .collect(),
            regions: store.regions()?.into_iter().map(|r| r.code).collect(),
        })
    }
}

/// Why a file was refused: the file, the line (none for the file as a whole) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub kind: ImportKind,
    pub file: String,
    pub line: Option<u64>,
    pub problem: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}文件 {}", self.kind.label(), self.file)?;
        if let Some(line) = self.line {
            write!(f, " 第 {line} 行")?;
        }
        write!(f, "：{}（未导入任何数据）", self.problem)
    }
}

impl std::error::Error for ImportError {}

/// Parses and checks a whole file of `kind`.
pub fn parse(
    kind: ImportKind,
    file_label: &str,
    bytes: &[u8],
    known: &Known,
) -> Result<ReferenceBatch, ImportError> {
    let error = |line: Option<u64>, problem: String| ImportError {
        kind,
        file: file_label.to_string(),
        line,
        problem,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| {
        error(
            None,
            "不是 UTF-8 编码：请在表格软件中另存为“CSV UTF-8”后再导入".into(),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = read_csv(text)
        .map_err(|(line, problem)| error(Some(line), problem))?
        .into_iter();
    let expected = header(kind);
    let found = rows.next().map(|row| row.fields).unwrap_or_default();
    if found != expected {
        return Err(error(
            None,
            format!("表头应为 {}，实为 {}", expected.join(","), found.join(",")),
        ));
    }
    let mut parser = Parser {
        known,
        first_line_of_key: HashMap::new(),
    };
    let mut batch = match kind {
        ImportKind::Permits => ReferenceBatch::Permits(Vec::new()),
        ImportKind::HazardSources => ReferenceBatch::HazardSources(Vec::new()),
        ImportKind::Staff => ReferenceBatch::Staff(Vec::new()),
        ImportKind::EmergencyPlans => ReferenceBatch::EmergencyPlans(Vec::new()),
        ImportKind::HealthDeclarations => ReferenceBatch::HealthDeclarations(Vec::new()),
        ImportKind::Hotline => ReferenceBatch::Hotline(Vec::new()),
        ImportKind::Mailbox => ReferenceBatch::Mailbox(Vec::new()),
        ImportKind::Attendance => ReferenceBatch::Attendance(Vec::new()),
        ImportKind::WorkPermits => ReferenceBatch::WorkPermits(Vec::new()),
        ImportKind::DutyLeaders => ReferenceBatch::DutyLeaders(Vec::new()),
    };
    for row in rows {
        if row.fields.iter().all(String::is_empty) {
            continue;
        }
        if row.fields.len() != expected.len() {
            return Err(error(
                Some(row.line),
                format!("应有 {} 列，实有 {} 列", expected.len(), row.fields.len()),
            ));
        }
        // Line breaks may stay (a complaint's summary has paragraphs); other control
        // characters would come out raw in the pages and the exports.
        if let Some((name, problem)) = expected.iter().zip(&row.fields).find_map(|(name, value)| {
            control_problem(value, Lines::Many).map(|problem| (name, problem))
        }) {
            return Err(error(Some(row.line), format!("{name}{problem}")));
        }
        let fields = Fields {
            values: &row.fields,
            names: expected,
        };
        parser
            .row(&fields, row.line, &mut batch)
            .map_err(|problem| error(Some(row.line), problem))?;
    }
    if batch.is_empty() {
        return Err(error(None, "没有任何数据行".into()));
    }
    Ok(batch)
}

/// One row's fields with their column names, for messages that name the column.
struct Fields<'a> {
    values: &'a [String],
    names: &'static [&'static str],
}

/// At most this many characters in a name, number or title; summaries may be longer.
const MAX_TEXT: usize = 200;
const MAX_SUMMARY: usize = 2000;

impl Fields<'_> {
    fn name(&self, i: usize) -> &'static str {
        self.names.get(i).copied().unwrap_or("")
    }

    fn raw(&self, i: usize) -> &str {
        self.values.get(i).map_or("", String::as_str)
    }

    fn optional(&self, i: usize) -> Option<String> {
        Some(self.raw(i).to_string()).filter(|v| !v.is_empty())
    }

    fn text_up_to(&self, i: usize, max: usize) -> Result<String, String> {
        let value = self.raw(i);
        if value.is_empty() {
            return Err(format!("{}为空", self.name(i)));
        }
        if value.chars().count() > max {
            return Err(format!("{}过长（最多 {max} 字）", self.name(i)));
        }
        Ok(value.to_string())
    }

    fn text(&self, i: usize) -> Result<String, String> {
        self.text_up_to(i, MAX_TEXT)
    }

    fn date(&self, i: usize) -> Result<NaiveDate, String> {
        parse_date(self.name(i), self.raw(i))
    }

    fn closed<T>(
        &self,
        i: usize,
        parse: fn(&str) -> Option<T>,
        labels: String,
    ) -> Result<T, String> {
        parse(self.raw(i))
            .ok_or_else(|| format!("{} {:?} 不在 {labels} 之中", self.name(i), self.raw(i)))
    }
}

/// `YYYY-MM-DD` exactly (spreadsheets also write `2024/3/5`, which is refused rather than
/// guessed), a real date, year 1900–2100.
fn parse_date(name: &str, text: &str) -> Result<NaiveDate, String> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let date = shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("{name} {text:?} 应为 YYYY-MM-DD 格式的日期（如 2024-03-05）"))?;
    if !(1900..=2100).contains(&chrono::Datelike::year(&date)) {
        return Err(format!("{name} {text} 的年份应在 1900–2100 之间"));
    }
    Ok(date)
}

/// A date, or a date and a time of day in China (`YYYY-MM-DD HH:MM[:SS]`, or with `T`):
/// the date in China, and the instant when a time was given.
fn parse_date_time(
    name: &str,
    text: &str,
) -> Result<(NaiveDate, Option<chrono::DateTime<Utc>>), String> {
    if text.len() == 10 {
        return Ok((parse_date(name, text)?, None));
    }
    let local = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .ok_or_else(|| {
        format!("{name} {text:?} 应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM[:SS] 格式（北京时间）")
    })?;
    // Checks the year range too.
    let date = parse_date(name, &local.date().to_string())?;
    let at = china()
        .from_local_datetime(&local)
        .single()
        .ok_or_else(|| format!("{name} {text:?} 不是有效的时间"))?
        .with_timezone(&Utc);
    Ok((date, Some(at)))
}

/// A district or county code: 6 digits, registered.
fn district(known: &Known, name: &str, code: &str) -> Result<String, String> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name} {code:?} 应为 6 位数字（区县）"));
    }
    if !known.regions.contains(code) {
        return Err(format!("{name} {code} 未登记：请先用 region add 添加"));
    }
    Ok(code.to_string())
}

struct Parser<'a> {
    known: &'a Known,
    /// Natural key → the line that had it first.
    first_line_of_key: HashMap<Vec<String>, u64>,
}

impl Parser<'_> {
    /// A registered enterprise's normalised code.
    fn enterprise(&self, fields: &Fields<'_>, i: usize) -> Result<String, String> {
        let code = CreditCode::parse(fields.raw(i)).map_err(|e| e.to_string())?;
        let code = code.as_str().to_string();
        if !self.known.enterprises.contains_key(&code) {
            return Err(format!(
                "统一社会信用代码 {code} 的企业未登记：请先导入企业名录"
            ));
        }
        Ok(code)
    }

    /// Refuses a second row with the same natural key: which of two would count is a guess.
    fn once(&mut self, key: Vec<String>, line: u64, what: &str) -> Result<(), String> {
        if let Some(first) = self.first_line_of_key.insert(key, line) {
            return Err(format!("与第 {first} 行重复（{what}相同）"));
        }
        Ok(())
    }

    fn row(&mut self, f: &Fields<'_>, line: u64, batch: &mut ReferenceBatch) -> Result<(), String> {
        match batch {
            ReferenceBatch::Permits(rows) => {
                let permit = Permit {
                    credit_code: self.enterprise(f, 0)?,
                    permit_type: f.closed(1, PermitType::parse, PermitType::labels())?,
                    number: f.text(2)?,
                    issued_by: f.text(3)?,
                    valid_from: f.date(4)?,
                    valid_until: f.date(5)?,
                };
                if permit.valid_from > permit.valid_until {
                    return Err(format!(
                        "有效期起 {} 晚于有效期至 {}",
                        permit.valid_from, permit.valid_until
                    ));
                }
                self.once(
                    vec![
                        permit.permit_type.label().into(),
                        permit.number.clone(),
                        permit.valid_from.to_string(),
                    ],
                    line,
                    "许可证类型、许可证编号和有效期起",
                )?;
                rows.push(permit);
            }
            ReferenceBatch::HazardSources(rows) => {
                let source = HazardSource {
                    credit_code: self.enterprise(f, 0)?,
                    name: f.text(1)?,
                    level: f.closed(2, HazardLevel::parse, HazardLevel::labels())?,
                    filed_on: f.date(3)?,
                };
                self.once(
                    vec![source.credit_code.clone(), source.name.clone()],
                    line,
                    "企业和危险源名称",
                )?;
                rows.push(source);
            }
            ReferenceBatch::Staff(rows) => {
                let staff = StaffCertificate {
                    credit_code: self.enterprise(f, 0)?,
                    role: f.closed(1, StaffRole::parse, StaffRole::labels())?,
                    name: f.text(2)?,
                    certificate_number: f.text(3)?,
                    certificate_type: f.text(4)?,
                    valid_until: f.date(5)?,
                };
                self.once(
                    vec![
                        staff.credit_code.clone(),
                        staff.certificate_number.clone(),
                        staff.certificate_type.clone(),
                    ],
                    line,
                    "企业、证书编号和证书类型",
                )?;
                rows.push(staff);
            }
            ReferenceBatch::EmergencyPlans(rows) => {
                let plan = EmergencyPlan {
                    credit_code: self.enterprise(f, 0)?,
                    title: f.text(1)?,
                    filed_on: f.date(2)?,
                    valid_until: f.date(3)?,
                };
                if plan.filed_on > plan.valid_until {
                    return Err(format!(
                        "备案日期 {} 晚于有效期至 {}",
                        plan.filed_on, plan.valid_until
                    ));
                }
                self.once(
                    vec![
                        plan.credit_code.clone(),
                        plan.title.clone(),
                        plan.filed_on.to_string(),
                    ],
                    line,
                    "企业、预案名称和备案日期",
                )?;
                rows.push(plan);
            }
            ReferenceBatch::HealthDeclarations(rows) => {
                let credit_code = self.enterprise(f, 0)?;
                let year = f
                    .raw(1)
                    .parse::<i32>()
                    .ok()
                    .filter(|y| f.raw(1).len() == 4 && (2000..=2100).contains(y))
                    .ok_or_else(|| {
                        format!("申报年度 {:?} 应为 2000–2100 之间的四位年份", f.raw(1))
                    })?;
                let declaration = HealthDeclaration {
                    credit_code,
                    year,
                    declared_on: f.date(2)?,
                };
                self.once(
                    vec![declaration.credit_code.clone(), year.to_string()],
                    line,
                    "企业和申报年度",
                )?;
                rows.push(declaration);
            }
            ReferenceBatch::Hotline(rows) => {
                let id = f.text_up_to(0, 64)?;
                let (received_on, received_at) = parse_date_time(f.name(1), f.raw(1))?;
                let district_code = district(self.known, f.name(2), f.raw(2))?;
                let category = f.closed(4, HotlineCategory::parse, HotlineCategory::labels())?;
                let credit_code = match f.optional(5) {
                    Some(_) => Some(self.enterprise(f, 5)?),
                    None => None,
                };
                let registered = credit_code
                    .as_ref()
                    .and_then(|code| self.known.enterprises.get(code));
                let industry = match (f.optional(3), registered) {
                    (None, Some(registered)) => registered.clone(),
                    (None, None) => {
                        return Err("行业为空：未填统一社会信用代码时必须填写行业".into());
                    }
                    (Some(industry), _) if !hotline_industries().contains(&industry.as_str()) => {
                        return Err(format!(
                            "行业 {industry:?} 不在 {} 之中",
                            hotline_industries().join("、")
                        ));
                    }
                    (Some(industry), Some(registered)) if &industry != registered => {
                        return Err(format!(
                            "行业 {industry} 与企业登记的行业 {registered} 不符（留空即采用登记的行业）"
                        ));
                    }
                    (Some(industry), _) => industry,
                };
                let report = HotlineReport {
                    id,
                    received_on,
                    received_at,
                    district_code,
                    industry,
                    category,
                    credit_code,
                    summary: f.text_up_to(6, MAX_SUMMARY)?,
                    status: f.closed(7, HandlingStatus::parse, HandlingStatus::labels())?,
                };
                self.once(vec![report.id.clone()], line, "工单编号")?;
                rows.push(report);
            }
            ReferenceBatch::Mailbox(rows) => {
                let message = MailboxMessage {
                    id: f.text_up_to(0, 64)?,
                    received_on: f.date(1)?,
                    kind: f.closed(2, MailboxKind::parse, MailboxKind::labels())?,
                    district_code: match f.optional(3) {
                        Some(code) => Some(district(self.known, f.name(3), &code)?),
                        None => None,
                    },
                    summary: f.text_up_to(4, MAX_SUMMARY)?,
                    status: f.closed(5, HandlingStatus::parse, HandlingStatus::labels())?,
                };
                self.once(vec![message.id.clone()], line, "信件编号")?;
                rows.push(message);
            }
            ReferenceBatch::Attendance(rows) => {
                let attendance = Attendance {
                    credit_code: self.enterprise(f, 0)?,
                    date: f.date(1)?,
                    shift: f.closed(2, Shift::parse, Shift::labels())?,
                    leader: f.text(3)?,
                    present: f.closed(
                        4,
                        |v| match v {
                            "是" => Some(true),
                            "否" => Some(false),
                            _ => None,
                        },
                        "是、否".into(),
                    )?,
                    source: AttendanceSource::Csv,
                };
                self.once(
                    vec![
                        attendance.credit_code.clone(),
                        attendance.date.to_string(),
                        attendance.shift.label().into(),
                        attendance.leader.clone(),
                    ],
                    line,
                    "企业、日期、班次和带班领导",
                )?;
                rows.push(attendance);
            }
            ReferenceBatch::WorkPermits(rows) => {
                let credit_code = self.enterprise(f, 0)?;
                let number = f.text_up_to(1, 64)?;
                let work_type = f.closed(2, WorkType::parse, WorkType::labels())?;
                let level = match (work_type, f.optional(3)) {
                    (WorkType::HotWork, None) => {
                        return Err(format!(
                            "动火作业须填动火级别（{}）",
                            HotWorkLevel::labels()
                        ));
                    }
                    (WorkType::HotWork, Some(_)) => {
                        Some(f.closed(3, HotWorkLevel::parse, HotWorkLevel::labels())?)
                    }
                    (_, None) => None,
                    (other, Some(_)) => {
                        return Err(format!(
                            "动火级别只用于动火作业，{}作业应留空",
                            other.label()
                        ));
                    }
                };
                let instant = |i: usize| -> Result<chrono::DateTime<Utc>, String> {
                    match parse_date_time(f.name(i), f.raw(i))? {
                        (_, Some(at)) => Ok(at),
                        (_, None) => Err(format!(
                            "{} {:?} 应含时刻：YYYY-MM-DD HH:MM（北京时间）",
                            f.name(i),
                            f.raw(i)
                        )),
                    }
                };
                let permit = WorkPermit {
                    credit_code,
                    number,
                    work_type,
                    level,
                    area: f.optional(4).unwrap_or_default(),
                    valid_from: instant(5)?,
                    valid_until: instant(6)?,
                };
                if permit.valid_until <= permit.valid_from {
                    return Err("结束时间应晚于开始时间".into());
                }
                if let Some(level) = permit.level
                    && permit.valid_until - permit.valid_from > level.longest()
                {
                    return Err(format!(
                        "{}动火作业票的有效期最长 {} 小时（GB 30871-2022）",
                        level.label(),
                        level.longest().num_hours()
                    ));
                }
                self.once(
                    vec![permit.credit_code.clone(), permit.number.clone()],
                    line,
                    "企业和作业票编号",
                )?;
                rows.push(permit);
            }
            ReferenceBatch::DutyLeaders(rows) => {
                let leader = DutyLeader {
                    credit_code: self.enterprise(f, 0)?,
                    person_id: f.text_up_to(1, 64)?,
                    name: f.text(2)?,
                    position: f.text(3)?,
                };
                self.once(
                    vec![leader.credit_code.clone(), leader.person_id.clone()],
                    line,
                    "企业和人员编号",
                )?;
                rows.push(leader);
            }
        }
        Ok(())
    }
}

/// One record of a CSV file: the line it starts on, and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CsvRow {
    line: u64,
    fields: Vec<String>,
}

/// Reads CSV with the `csv` crate and the settings of the enterprise register's parser in
/// core: comma-separated, fields optionally in double quotes (which may hold commas, line
/// breaks and `""` for a quote), lines ending in LF or CRLF, surrounding spaces trimmed from
/// every field, rows of any length (the count is checked per row by the caller). Blank lines
/// are skipped. An error names the line and the problem.
///
/// The crate reads a malformed quote leniently (a quote that never closes swallows every
/// later row into one field), so each record holding a quote is checked by [`quote_problem`]
/// and refused with its line, as before the crate.
fn read_csv(text: &str) -> Result<Vec<CsvRow>, (u64, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            (line, format!("格式错误：{e}"))
        })?;
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(text.len());
        records.push((start, record));
    }
    // The crate's positions can point at the line break before a record (the LF of a CRLF,
    // a blank line) and its line count at that break, so the line is counted here from the
    // first byte of the record itself: a record never starts with a line break, since a
    // line break there would end an empty line, which the crate skips.
    let mut rows = Vec::with_capacity(records.len());
    let mut starts = Vec::with_capacity(records.len() + 1);
    let (mut counted_to, mut line) = (0, 1_u64);
    for (start, record) in records {
        let start = start
            + bytes[start.min(bytes.len())..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        let newlines = bytes[counted_to..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        line += newlines as u64;
        counted_to = start;
        starts.push(start);
        rows.push(CsvRow {
            line,
            fields: record.iter().map(str::to_string).collect(),
        });
    }
    starts.push(text.len());
    for (row, span) in rows.iter().zip(starts.windows(2)) {
        let raw = &text[span[0]..span[1]];
        if raw.contains('"')
            && let Some((offset, problem)) = quote_problem(raw)
        {
            let line = row.line + raw[..offset].matches('\n').count() as u64;
            return Err((line, problem));
        }
    }
    Ok(rows)
}

/// Where and how the quotes of one record's raw text break RFC 4180, if they do: a quote
/// inside an unquoted field, text between a closing quote and the next comma, or a quoted
/// field that never closes. Only a check: the `csv` crate does the reading.
fn quote_problem(raw: &str) -> Option<(usize, String)> {
    let mut in_quotes = false;
    let mut after_quotes = false;
    // Only white space since the last comma or line break: a quote here opens a field.
    let mut field_start = true;
    let mut opened_at = 0;
    let mut chars = raw.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek().is_some_and(|&(_, next)| next == '"') {
                    chars.next();
                } else {
                    in_quotes = false;
                    after_quotes = true;
                }
            }
            continue;
        }
        match c {
            ',' | '\r' | '\n' => {
                field_start = true;
                after_quotes = false;
            }
            c if c.is_whitespace() => {}
            _ if after_quotes => {
                return Some((offset, format!("引号之后、逗号之前有多余的字符 {c:?}")));
            }
            '"' if field_start => {
                in_quotes = true;
                opened_at = offset;
            }
            '"' => {
                return Some((
                    offset,
                    "未加引号的字段中有引号：请把整个字段放在引号中，字段内的引号写作 \"\"".into(),
                ));
            }
            _ => field_start = false,
        }
    }
    in_quotes.then(|| {
        (
            opened_at,
            "引号未闭合：字段以 \" 开始却没有结束的 \"".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(u64, Vec<String>)> {
        read_csv(text)
            .unwrap()
            .into_iter()
            .map(|row| (row.line, row.fields))
            .collect()
    }

    fn fields(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let text = "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\", z \n\n1,2";
        assert_eq!(
            rows(text),
            vec![
                (1, fields(&["a", "b"])),
                (2, fields(&["x, y", "say \"hi\""])),
                (3, fields(&["two\nlines", "z"])),
                // The blank line 5 is no record.
                (6, fields(&["1", "2"])),
            ]
        );
    }

    #[test]
    fn broken_quotes_name_their_line() {
        assert_eq!(read_csv("a\n\"open,b\n").unwrap_err().0, 2);
        assert_eq!(read_csv("a\n\"x\"y,b").unwrap_err().0, 2);
        assert_eq!(read_csv("a\nx\"y,b").unwrap_err().0, 2);
        // A quote that never closes would take the later rows into its field: refused at
        // the line where it opens, though the rows after it are well formed.
        let error = read_csv("a,b\n1,\"open\n2,3\n4,5\n").unwrap_err();
        assert_eq!(error.0, 2);
        assert!(error.1.starts_with("引号未闭合"), "{}", error.1);
        // Or up to the next quote, which then closes it in the wrong place.
        let error = read_csv("a,b\n1,\"open\n2,3\n4,\"x\"\n").unwrap_err();
        assert_eq!(error, (4, "引号之后、逗号之前有多余的字符 'x'".to_string()));
        // Within a record that spans lines, the line of the fault itself.
        let error = read_csv("a,b\n\"one\ntwo\",x\"y\n").unwrap_err();
        assert_eq!(error.0, 3);
        assert!(error.1.starts_with("未加引号的字段中有引号"), "{}", error.1);
        let error = read_csv("a,b\n\"x\" z,1\n").unwrap_err();
        assert!(error.1.contains("'z'"), "{}", error.1);
    }

    fn mailbox_file(rows: &str) -> String {
        format!("{}\r\n{rows}", header(ImportKind::Mailbox).join(","))
    }

    fn messages(batch: ReferenceBatch) -> Vec<MailboxMessage> {
        match batch {
            ReferenceBatch::Mailbox(messages) => messages,
            other => panic!("a mailbox batch, not {other:?}"),
        }
    }

    #[test]
    fn a_file_with_a_bom_crlf_and_quoted_commas_and_line_breaks_is_read_whole() {
        let file = format!(
            "\u{feff}{}",
            mailbox_file(concat!(
                // Excel breaks lines inside a cell with LF, whatever ends the rows.
                "XX-1,2024-03-05,投诉,,\"噪声，夜间施工\n第二段：\"\"尽快处理\"\"\",待处理\r\n",
                "\r\n",
                "XX-2 , 2024-03-06 ,建议, ,\" 前后的空格去掉 \",已办结\r\n",
            ))
        );
        let messages = messages(
            parse(
                ImportKind::Mailbox,
                "m.csv",
                file.as_bytes(),
                &Known::default(),
            )
            .expect("the file is read"),
        );
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].id, "XX-1");
        assert_eq!(messages[0].summary, "噪声，夜间施工\n第二段：\"尽快处理\"");
        assert_eq!(messages[0].district_code, None);
        assert_eq!(messages[1].id, "XX-2");
        assert_eq!(messages[1].received_on.to_string(), "2024-03-06");
        assert_eq!(messages[1].summary, "前后的空格去掉");
    }

    #[test]
    fn a_bad_row_after_a_multi_line_field_names_its_own_line_and_stores_nothing() {
        let file = mailbox_file(concat!(
            "XX-1,2024-03-05,投诉,,\"第一行\n第二行\n第三行\",待处理\n",
            "XX-2,2024-03-06,表扬,,摘要,待处理\n",
        ));
        let error = parse(
            ImportKind::Mailbox,
            "m.csv",
            file.as_bytes(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(error.line, Some(5), "{error}");
        assert!(error.problem.contains("类型 \"表扬\" 不在"), "{error}");
        assert!(error.to_string().contains("第 5 行"), "{error}");
        assert!(error.to_string().ends_with("（未导入任何数据）"), "{error}");

        let unclosed = mailbox_file(
            "XX-1,2024-03-05,投诉,,\"没有结束,待处理\nXX-2,2024-03-06,建议,,摘要,待处理\n",
        );
        let error = parse(
            ImportKind::Mailbox,
            "m.csv",
            unclosed.as_bytes(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(error.line, Some(2), "{error}");
        assert!(error.problem.starts_with("引号未闭合"), "{error}");
    }

    #[test]
    fn a_header_that_differs_is_refused_for_the_file() {
        let error = parse(
            ImportKind::Mailbox,
            "m.csv",
            "信件编号,日期\nXX-1,2024-03-05\n".as_bytes(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(error.line, None);
        assert!(
            error.problem.starts_with("表头应为 信件编号,收信日期"),
            "{error}"
        );
    }

    #[test]
    fn dates_are_iso_only_and_times_are_china_time() {
        assert!(parse_date("日期", "2024-03-05").is_ok());
        for bad in ["2024/3/5", "2024-3-5", "2024-02-30", "0024-01-01", ""] {
            assert!(
                parse_date("日期", bad).unwrap_err().contains("日期"),
                "{bad}"
            );
        }
        let (on, at) = parse_date_time("受理时间", "2024-03-05 07:30").unwrap();
        assert_eq!(on.to_string(), "2024-03-05");
        assert_eq!(at.unwrap().to_rfc3339(), "2024-03-04T23:30:00+00:00");
        assert_eq!(
            parse_date_time("受理时间", "2024-03-05").unwrap(),
            (on, None)
        );
        assert!(parse_date_time("受理时间", "2024-03-05 25:00").is_err());
    }

    #[test]
    fn control_characters_are_refused_before_a_row_is_read() {
        let mut file = header(ImportKind::HazardSources).join(",");
        file.push_str("\n914403001922038216,\"液氯\u{0}储罐\",一级,2024-03-05\n");
        let error = parse(
            ImportKind::HazardSources,
            "h.csv",
            file.as_bytes(),
            &Known::default(),
        )
        .unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(
            error.problem.contains("危险源名称含有空字符（NUL） U+0000"),
            "{error}"
        );
    }
}
