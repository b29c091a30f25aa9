//! What the command prints: readable Chinese text by default, JSON with `--json`.

use std::fmt::Write as _;
use std::path::Path;

use anjian_core::enterprise::Enterprise;
use anjian_core::numbering::{BlockStatus, NumberEntry};
use anjian_core::record::{Answer, AnswerStatus, Inspector, Record};
use anjian_core::store::{Profile, RecordSummary};
use anjian_core::sync::device::SyncReport;
use anjian_core::sync::protocol::{AlertUpdate, LoginResponse, UploadResult};
use anjian_core::sync::receipt::Receipt;
use anjian_core::time::format_china;
use anjian_core::{Error, Template};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct Output {
    pub json: bool,
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "serialization_error": e.to_string() }))
}

/// Writes a line to standard output. A reader that went away (`anjian … | head`) ends the
/// command quietly, as the writer of a pipe usually ends; any other failure to write is
/// reported on standard error.
fn print_line(text: impl std::fmt::Display) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("错误：无法写出结果：{e}");
        std::process::exit(1);
    }
}

impl Output {
    /// Prints `value` as JSON, or the text `human` makes.
    pub fn value(&self, value: &Value, human: impl FnOnce() -> String) {
        if self.json {
            print_line(format_args!("{value:#}"));
        } else {
            print_line(human());
        }
    }

    /// Errors go to standard error as text; in JSON mode to standard output as
    /// `{"error": {"code", "message"}}` so scripts read one stream.
    pub fn error(&self, error: &Error) {
        if self.json {
            print_line(format_args!(
                "{:#}",
                json!({ "error": { "code": error.code(), "message": error.to_string() } })
            ));
        } else {
            eprintln!("错误：{error}");
        }
    }

    pub fn profile(&self, profile: &Profile, home: &Path) {
        let mut value = to_json(profile);
        value["home"] = json!(home);
        self.value(&value, || {
            let mut text = format!(
                "本机编号：{}\n数据目录：{}",
                profile.device_id,
                home.display()
            );
            if let Some(inspector) = &profile.inspector {
                let _ = write!(text, "\n执法人员：{}", inspector_line(inspector));
            }
            if let Some(agency) = &profile.agency {
                let _ = write!(text, "\n执法机关：{}", agency.name);
            }
            text
        });
    }

    pub fn enterprises(&self, enterprises: &[Enterprise]) {
        self.value(&to_json(&enterprises), || {
            if enterprises.is_empty() {
                return "没有企业：请先用 anjian enterprise import 导入企业名录".into();
            }
            let mut text = String::new();
            for e in enterprises {
                let _ = writeln!(
                    text,
                    "{}  {}  {}  {}",
                    e.credit_code, e.name, e.industry, e.region_code
                );
            }
            let _ = write!(text, "共 {} 家", enterprises.len());
            text
        });
    }

    pub fn enterprise(&self, e: &Enterprise) {
        self.value(&to_json(e), || {
            format!(
                "{}\n统一社会信用代码：{}\n地址：{}\n行业：{}\n区划代码：{}\n法定代表人：{}\n联系电话：{}",
                e.name, e.credit_code, e.address, e.industry, e.region_code, e.legal_representative, e.phone
            )
        });
    }

    pub fn inspectors(&self, inspectors: &[Inspector]) {
        self.value(&to_json(&inspectors), || {
            inspectors
                .iter()
                .map(inspector_line)
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn templates(&self, templates: &[std::sync::Arc<Template>]) {
        let list: Vec<Value> = templates
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "version": t.version,
                    "title": t.title,
                    "industry": t.industry,
                    "kind": t.kind,
                    "item_count": t.items.len(),
                })
            })
            .collect();
        self.value(&Value::Array(list), || {
            templates
                .iter()
                .map(|t| {
                    format!(
                        "{}  第 {} 版  {}  {}  {}  {} 项",
                        t.id,
                        t.version,
                        t.title,
                        t.industry,
                        t.kind.label(),
                        t.items.len()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn template(&self, t: &Template) {
        self.value(&to_json(t), || {
            let mut text = format!(
                "{}（{} 第 {} 版）\n行业：{}  类型：{}  共 {} 项\n依据：{}\n",
                t.title,
                t.id,
                t.version,
                t.industry,
                t.kind.label(),
                t.items.len(),
                t.sources.join("；")
            );
            let mut section = "";
            for item in &t.items {
                if item.section != section {
                    section = &item.section;
                    let _ = writeln!(text, "\n【{section}】");
                }
                let required = if item.required { "必查" } else { "选查" };
                let _ = writeln!(
                    text,
                    "{} [{}·{}] {}",
                    item.code, item.class, required, item.text
                );
                if let Some(requirement) = item.requirement() {
                    let _ = writeln!(text, "    要求：{requirement}");
                }
                for basis in &item.legal_bases {
                    let period = match (basis.effective_from, basis.effective_until) {
                        (None, None) => String::new(),
                        (Some(from), None) => format!("（{from} 起检查适用）"),
                        (None, Some(until)) => format!("（{until} 及以前检查适用）"),
                        (Some(from), Some(until)) => format!("（{from} 至 {until} 检查适用）"),
                    };
                    let _ = writeln!(text, "    依据{period}：{}", basis.text);
                    if let Some(review) = &basis.review {
                        let _ = writeln!(text, "    待法制审核：{review}");
                    }
                }
                let _ = writeln!(text, "    检查方法：{}", item.guidance);
            }
            text.trim_end().to_string()
        });
    }

    pub fn answer(&self, id: &str, item: &str, answer: &Answer) {
        let mut value = to_json(answer);
        value["id"] = json!(id);
        value["item"] = json!(item);
        self.value(&value, || {
            let mut text = format!("{item}：{}", answer_line(answer));
            if let Some(hazard) = &answer.hazard {
                let _ = write!(
                    text,
                    "\n隐患[{}]：{}\n依据：{}",
                    hazard.class, hazard.description, hazard.legal_basis
                );
                match hazard.deadline {
                    Some(deadline) => {
                        let _ = write!(text, "\n整改期限：{deadline}");
                    }
                    None => text.push_str("\n尚未设整改期限（提交前需用 --deadline 补上）"),
                }
            }
            text
        });
    }

    pub fn records(&self, records: &[RecordSummary]) {
        self.value(&to_json(&records), || {
            if records.is_empty() {
                return "本机没有检查记录".into();
            }
            records
                .iter()
                .map(|r| {
                    let status = match r.status.as_str() {
                        "draft" => "草稿",
                        "submitted" => "已提交",
                        other => other,
                    };
                    format!(
                        "{}  {status}  {}  {}  已答 {}  隐患 {}{}",
                        r.id,
                        r.started_at,
                        r.enterprise_name,
                        r.answered_count,
                        r.hazard_count,
                        if r.conflict_count > 0 {
                            format!("  冲突 {}", r.conflict_count)
                        } else {
                            String::new()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn numbers(&self, blocks: &[BlockStatus], register: &[NumberEntry]) {
        self.value(&json!({ "blocks": blocks, "register": register }), || {
            let mut text = String::new();
            if blocks.is_empty() {
                text.push_str(
                    "本机没有文书编号号段：用 anjian numbers add-block 类型 年份 起号 止号 登记",
                );
            }
            for b in blocks {
                let _ = writeln!(
                    text,
                    "{} {} 年 {}–{}：已签发 {}，已作废 {}，剩余 {}{}",
                    b.doc_type.title(),
                    b.year,
                    b.first,
                    b.last,
                    b.issued,
                    b.voided,
                    b.remaining,
                    b.next
                        .as_ref()
                        .map_or(String::new(), |n| format!("，下一个 {n}"))
                );
            }
            for entry in register {
                let what = match (&entry.record_id, &entry.reason) {
                    (Some(record), _) => format!("签发给记录 {record}"),
                    (None, Some(reason)) => format!("作废：{reason}"),
                    (None, None) => entry.state.clone(),
                };
                let _ = writeln!(text, "{}  {}  {}", entry.number, entry.at, what);
            }
            text.trim_end().to_string()
        });
    }

    pub fn record(&self, record: &Record, template: &Template, sync: &SyncInfo) {
        let mut value = record_json(record);
        value["locked"] = json!(sync.locked);
        value["receipt"] = to_json(&sync.receipt);
        value["amends"] = json!(record.amends.as_ref().map(|a| &a.record_id));
        value["amendments"] = json!(sync.amendments);
        value["sync"] = json!({ "last_code": sync.last_code, "last_message": sync.last_message });
        self.value(&value, || {
            let mut text = record_text(record, template);
            text.push_str(&sync_text(record, sync));
            text
        });
    }

    pub fn login(&self, response: &LoginResponse, server: &str) {
        self.value(
            &json!({
                "server": server,
                "user": response.user,
                "expires_in": response.expires_in,
                "server_public_key": response.server_public_key,
            }),
            || {
                format!(
                    "已登录 {server}：{}（{}，{}）\n服务器公钥：{}",
                    response.user.name,
                    response.user.login,
                    response.user.role.label(),
                    response.server_public_key
                )
            },
        );
    }

    pub fn alerts(&self, alerts: &[AlertUpdate]) {
        self.value(&to_json(&alerts), || {
            if alerts.is_empty() {
                return "没有警报".into();
            }
            alerts
                .iter()
                .map(|a| {
                    let state = match (&a.acknowledged_at, &a.acknowledged_by) {
                        (Some(at), by) => format!(
                            "已由 {} 于 {} 确认",
                            by.as_deref().unwrap_or(""),
                            format_china(*at)
                        ),
                        (None, _) => "未确认".into(),
                    };
                    format!(
                        "{}  {}  {}：{}（{}）",
                        format_china(a.raised_at),
                        a.rule_label,
                        a.enterprise_name,
                        a.title,
                        state
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    }

    pub fn sync_report(&self, report: &SyncReport) {
        self.value(&to_json(report), || sync_report_text(report));
    }
}

/// A record's standing with the server, shown with the record.
#[derive(Debug, Default)]
pub struct SyncInfo {
    pub locked: bool,
    pub receipt: Option<Receipt>,
    pub amendments: Vec<String>,
    pub last_code: Option<String>,
    pub last_message: Option<String>,
}

fn sync_text(record: &Record, sync: &SyncInfo) -> String {
    let mut text = String::new();
    if let Some(amends) = &record.amends {
        let _ = write!(text, "\n补正对象：记录 {}", amends.record_id);
    }
    match &sync.receipt {
        Some(receipt) if sync.locked => {
            let _ = write!(
                text,
                "\n服务器已于 {} 锁定（审计日志第 {} 条，回执签名 {}…）",
                format_china(receipt.locked_at),
                receipt.log_index,
                &receipt.signature[..16.min(receipt.signature.len())]
            );
        }
        _ => {}
    }
    if let (Some(code), Some(message)) = (&sync.last_code, &sync.last_message) {
        let _ = write!(text, "\n上次同步被拒（{code}）：{message}");
    }
    if !sync.amendments.is_empty() {
        let _ = write!(text, "\n补正记录：{}", sync.amendments.join("、"));
    }
    text
}

fn sync_report_text(report: &SyncReport) -> String {
    let mut text = String::new();
    if report.records.is_empty() {
        let _ = writeln!(text, "没有需要上传的记录");
    }
    for outcome in &report.records {
        let line = match outcome.result {
            UploadResult::Accepted => format!("记录 {}：已上传", outcome.id),
            UploadResult::Locked => format!(
                "记录 {}：已上传并锁定（审计日志第 {} 条，回执已核验）",
                outcome.id,
                outcome.receipt.as_ref().map_or(0, |r| r.log_index)
            ),
            UploadResult::Rejected => format!(
                "记录 {}：被拒收（{}）：{}",
                outcome.id,
                outcome.code.as_deref().unwrap_or("rejected"),
                outcome.message.as_deref().unwrap_or("")
            ),
        };
        let _ = writeln!(text, "{line}");
        if let Some(amendment) = &outcome.amendment {
            let _ = writeln!(
                text,
                "  锁定后的修改已转为补正记录草稿 {amendment}：请核对后提交"
            );
        }
    }
    if !report.downloaded.is_empty() {
        let _ = writeln!(text, "收到同事更新的记录 {} 份", report.downloaded.len());
    }
    for (count, what, unit) in [
        (report.enterprises, "企业", "家"),
        (report.inspectors, "执法人员证件", "个"),
        (report.templates, "检查表模板", "个"),
        (report.number_blocks, "新领文书号段", "个"),
        (report.alerts, "物联网警报（新的或已确认的）", "条"),
    ] {
        if count > 0 {
            let _ = writeln!(text, "{what}：{count} {unit}");
        }
    }
    if report.agency_updated {
        let _ = writeln!(text, "执法机关配置已更新");
    }
    for problem in &report.problems {
        let _ = writeln!(text, "注意：{problem}");
    }
    text.trim_end().to_string()
}

/// The record as JSON: `enterprise` and `template` are the codes, details beside them.
pub fn record_json(record: &Record) -> Value {
    let mut value = to_json(record);
    value["enterprise_detail"] = value["enterprise"].take();
    value["enterprise"] = json!(record.enterprise.credit_code);
    value["enterprise_name"] = json!(record.enterprise.name);
    value["template"] = json!(record.template_id);
    if let Some(object) = value.as_object_mut() {
        object.remove("template_id");
    }
    value
}

fn inspector_line(inspector: &Inspector) -> String {
    match inspector.cert_valid_until {
        Some(until) => format!(
            "{}（执法证 {}，有效期至 {until}）",
            inspector.name, inspector.cert
        ),
        None => format!(
            "{}（执法证 {}，有效期未登记）",
            inspector.name, inspector.cert
        ),
    }
}

fn answer_line(answer: &Answer) -> String {
    let mut text = answer.status.label().to_string();
    if let Some(value) = &answer.value {
        let _ = write!(text, "（{value}）");
    }
    if let Some(note) = &answer.note {
        let _ = write!(text, "  备注：{note}");
    }
    if !answer.photos.is_empty() {
        let _ = write!(text, "  照片 {} 张", answer.photos.len());
    }
    let _ = write!(text, "  — {} {}", answer.by.name, format_china(answer.at));
    if let Some(resolver) = &answer.resolved_by {
        let _ = write!(text, "（{} 处理冲突时选定）", resolver.name);
    }
    text
}

fn record_text(record: &Record, template: &Template) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "记录 {}（{}）", record.id, record.status.label());
    let _ = writeln!(
        text,
        "企业：{}（{}，{}）",
        record.enterprise.name, record.enterprise.credit_code, record.enterprise.industry
    );
    let _ = writeln!(
        text,
        "检查表：{}（{} 第 {} 版，{}）",
        template.title,
        template.id,
        template.version,
        record.inspection_kind.label()
    );
    let _ = writeln!(
        text,
        "地点：{}  开始：{}",
        record.place,
        format_china(record.started_at)
    );
    if let Some(post) = &record.on_site_post {
        let _ = writeln!(text, "现场负责人职务：{post}");
    }
    let inspectors: Vec<String> = record.inspectors.iter().map(inspector_line).collect();
    let _ = writeln!(text, "检查人员：{}", inspectors.join("、"));
    let items = anjian_core::inspection::checklist(record, template);
    if let Some(reinspects) = &record.reinspects {
        let followed = match &reinspects.order_number {
            Some(order) => format!("复查：{order}（记录 {}）", reinspects.record_id),
            None => format!(
                "复查（无指令书）：{}（记录 {}）",
                anjian_core::inspection::reinspection_label(reinspects),
                reinspects.record_id
            ),
        };
        let _ = writeln!(text, "{followed}所列 {} 项隐患", reinspects.hazards.len());
    }
    let required_left = items
        .iter()
        .filter(|i| i.required && !record.answers.contains_key(&i.code))
        .count();
    let _ = writeln!(
        text,
        "进度：已答 {}/{}，必查未答 {required_left}",
        record.answers.len(),
        items.len()
    );

    let mut section = "";
    for item in items.iter() {
        if item.section != section {
            section = &item.section;
            let _ = writeln!(text, "\n【{section}】");
        }
        match record.answers.get(&item.code) {
            Some(answer) => {
                let mark = match answer.status {
                    AnswerStatus::Pass => "✓",
                    AnswerStatus::Fail => "✗",
                    AnswerStatus::Na => "—",
                    AnswerStatus::Recorded => "✎",
                };
                let _ = writeln!(
                    text,
                    "{mark} {} {}\n    {}",
                    item.code,
                    item.text,
                    answer_line(answer)
                );
            }
            None => {
                let required = if item.required {
                    "必查，未答"
                } else {
                    "选查，未答"
                };
                let _ = writeln!(text, "· {} {}（{required}）", item.code, item.text);
            }
        }
    }

    if !record.hazards.is_empty() {
        let _ = writeln!(text, "\n隐患（{}）：", record.hazards.len());
        for (n, entry) in record.hazards.iter().enumerate() {
            let h = &entry.hazard;
            let _ = writeln!(
                text,
                "{}. {} [{}] {}",
                n + 1,
                entry.item,
                h.class,
                h.description
            );
            let _ = writeln!(text, "   依据：{}", h.legal_basis);
            if let Some(measure) = &h.measure {
                let _ = writeln!(text, "   整改措施：{measure}");
            }
            let deadline = h.deadline.map_or("未设".to_string(), |d| d.to_string());
            let _ = writeln!(text, "   整改期限：{deadline}");
        }
    }
    if !record.conflicts.is_empty() {
        let _ = writeln!(text, "\n冲突（{}）：", record.conflicts.len());
        for conflict in &record.conflicts {
            let _ = writeln!(text, "{}：", conflict.item);
            for (n, value) in conflict.values.iter().enumerate() {
                let _ = writeln!(text, "  {}) {}", n + 1, answer_line(value));
            }
        }
        let _ = writeln!(
            text,
            "用 anjian inspect resolve {} 检查项 --keep 序号 选定保留的答案",
            record.id
        );
    }
    if !record.documents.is_empty() {
        let _ = writeln!(text, "\n文书：");
        for document in &record.documents {
            let _ = writeln!(
                text,
                "{}  {}  {} 签发于 {}",
                document.doc_type.title(),
                document.number,
                document.issued_by.name,
                format_china(document.issued_at)
            );
        }
    }
    if let (Some(at), Some(by)) = (record.submitted_at, &record.submitted_by) {
        let _ = writeln!(text, "\n已于 {} 由 {} 提交", format_china(at), by.name);
    }
    text.trim_end().to_string()
}
