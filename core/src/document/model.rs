//! The content of the enforcement documents, built once from a record, its template and the
//! agency configuration, for every renderer to lay out. Field names and fixed sentences follow
//! the 2015+ national forms (`../shared/DOMAIN.md` §2).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::agency::{Agency, DocType};
use crate::record::{AnswerStatus, IssuedDocument, Record};
use crate::template::Template;
use crate::time::china;

pub const HEADING: &str = "安全生产行政执法文书";

/// One enforcement document, ready to lay out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    pub doc_type: DocType,
    pub heading: &'static str,
    pub agency: String,
    pub title: &'static str,
    pub number: String,
    pub record_id: String,
    pub blocks: Vec<Block>,
    /// The footer of every page set: 本文书一式两份：一份由<机关>备案，一份交被检查单位。
    pub footer: String,
    /// The agency's public address, under which the QR code lets anyone check this copy.
    pub public_address: Option<String>,
    /// When the document was issued: the PDF's dates.
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// `label：value` on a line of its own.
    Field { label: String, value: String },
    /// Running text: a fixed sentence with its values filled in.
    Paragraph { text: String },
    /// The line naming whom the document is addressed to (`<被检查单位>：`), flush left.
    Addressee { text: String },
    /// The issuing agency where its seal goes, at the foot on the right.
    Seal { text: String },
    /// A numbered list (1、…。2、…。) under an optional heading.
    Numbered {
        heading: Option<String>,
        items: Vec<NumberedItem>,
    },
    /// Lines left for handwritten signatures, with the printed name and certificate where
    /// known.
    Signatures { lines: Vec<SignatureLine> },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberedItem {
    pub text: String,
    /// The provisions this finding breaches, as a sentence: 违反了《…》第…条的规定。
    pub basis: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureLine {
    pub label: String,
    pub name: Option<String>,
    pub cert: Option<String>,
}

/// `2026年11月20日`.
pub fn chinese_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// `2026年11月20日09时05分`.
fn chinese_minute(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&china());
    format!(
        "{}{:02}时{:02}分",
        chinese_date(local.date_naive()),
        local.hour(),
        local.minute()
    )
}

/// `11月20日11时30分`: the end of an inspection, whose year is the start's.
fn chinese_minute_without_year(at: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let local = at.with_timezone(&china());
    format!(
        "{}月{}日{:02}时{:02}分",
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

/// Joins with 、 as Chinese lists do.
fn enumerate(parts: &[String]) -> String {
    parts.join("、")
}

/// A finding as the documents state it: the hazard, the inspector's detail in brackets, and a
/// closing 。.
fn finding(description: &str, note: Option<&str>) -> String {
    let description = description.trim_end_matches(['。', '；', ';']);
    match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(note) => format!("{description}（{}）。", note.trim_end_matches('。')),
        None => format!("{description}。"),
    }
}

/// A finding's legal basis as the forms state a breach: 违反了《…》第…条的规定 for laws,
/// regulations and rules, 不符合<标准>的规定 for a technical standard (GB, GB/T, AQ …), each
/// citation of the template's `；`-separated list in its place.
pub fn violation_sentence(legal_basis: &str) -> String {
    let mut violated = Vec::new();
    let mut not_met = Vec::new();
    for citation in legal_basis
        .split(['；', ';'])
        .map(|c| c.trim().trim_end_matches('。'))
        .filter(|c| !c.is_empty())
    {
        let standard = citation.strip_prefix("参照").unwrap_or(citation);
        let code: String = standard
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '/')
            .collect();
        let after_code = &standard[code.len()..];
        if !code.is_empty() && after_code.starts_with(|c: char| c == ' ' || c.is_ascii_digit()) {
            not_met.push(standard);
        } else {
            violated.push(citation);
        }
    }
    let mut parts = Vec::new();
    if !violated.is_empty() {
        parts.push(format!("违反了{}的规定", violated.join("，")));
    }
    if !not_met.is_empty() {
        parts.push(format!("不符合{}的规定", not_met.join("，")));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("{}。", parts.join("；"))
}

fn inspector_signatures(record: &Record, label: &str) -> Vec<SignatureLine> {
    record
        .inspectors
        .iter()
        .map(|inspector| SignatureLine {
            label: label.to_string(),
            name: Some(inspector.name.clone()),
            cert: Some(inspector.cert.clone()),
        })
        .collect()
}

/// A signature line for the enterprise's representative, whose name is written by hand.
fn enterprise_signature(label: &str) -> SignatureLine {
    SignatureLine {
        label: label.to_string(),
        name: None,
        cert: None,
    }
}

/// The signature lines and the issue date that close every document.
fn signed_and_dated(lines: Vec<SignatureLine>, issued: &IssuedDocument) -> [Block; 2] {
    [
        Block::Signatures { lines },
        field(
            "日期",
            &chinese_date(crate::time::china_date(issued.issued_at)),
        ),
    ]
}

impl Document {
    /// 现场检查记录.
    pub fn inspection_record(
        record: &Record,
        template: &Template,
        agency: &Agency,
        issued: &IssuedDocument,
    ) -> Document {
        let e = &record.enterprise;
        let end = record.ended_at.unwrap_or(issued.issued_at);
        let mut blocks = vec![
            field("被检查单位", &e.name),
            field("地址", &e.address),
            field("法定代表人（负责人）", &e.legal_representative),
            field("职务", record.on_site_post.as_deref().unwrap_or("")),
            field("联系电话", &e.phone),
            field("检查场所", &record.place),
            field(
                "检查时间",
                &format!(
                    "{}至{}",
                    chinese_minute(record.started_at),
                    chinese_minute_without_year(end)
                ),
            ),
        ];
        let names: Vec<String> = record.inspectors.iter().map(|i| i.name.clone()).collect();
        let certs: Vec<String> = record.inspectors.iter().map(|i| i.cert.clone()).collect();
        blocks.push(Block::Paragraph {
            text: format!(
                "我们是{}行政执法人员{}，证件号码为{}，这是我们的证件（出示证件）。现依法对你单位进行现场检查，请予以配合。",
                agency.name,
                enumerate(&names),
                enumerate(&certs)
            ),
        });

        let count = |status: AnswerStatus| {
            record
                .answers
                .values()
                .filter(|a| a.status == status)
                .count()
        };
        let mut summary = format!(
            "依据《{}》检查 {} 项，其中合格 {} 项，不合格 {} 项，不适用 {} 项",
            template.title,
            record.answers.len(),
            count(AnswerStatus::Pass),
            count(AnswerStatus::Fail),
            count(AnswerStatus::Na)
        );
        let recorded = count(AnswerStatus::Recorded);
        if recorded > 0 {
            let _ = write!(summary, "，记录现场情况 {recorded} 项");
        }
        summary.push('。');
        if record.hazards.is_empty() {
            summary.push_str("未发现安全生产违法行为和事故隐患。");
        } else {
            let _ = write!(summary, "发现以下问题：");
        }
        let items = record
            .hazards
            .iter()
            .map(|h| NumberedItem {
                text: finding(&h.hazard.description, h.note.as_deref()),
                basis: Some(violation_sentence(&h.hazard.legal_basis)),
            })
            .collect();
        blocks.push(Block::Field {
            label: "检查情况".into(),
            value: summary,
        });
        if !record.hazards.is_empty() {
            blocks.push(Block::Numbered {
                heading: None,
                items,
            });
        }
        let mut lines = inspector_signatures(record, "检查人员（签名）");
        lines.push(enterprise_signature("被检查单位现场负责人（签名）"));
        blocks.extend(signed_and_dated(lines, issued));
        Document::new(DocType::Record, record, agency, issued, blocks)
    }

    /// 责令限期整改指令书.
    pub fn order(record: &Record, agency: &Agency, issued: &IssuedDocument) -> Document {
        let mut blocks = vec![Block::Addressee {
            text: format!("{}：", record.enterprise.name),
        }];
        blocks.push(Block::Numbered {
            heading: Some("经查，你单位存在下列问题：".into()),
            items: record
                .hazards
                .iter()
                .map(|h| NumberedItem {
                    text: finding(&h.hazard.description, h.note.as_deref()),
                    basis: Some(violation_sentence(&h.hazard.legal_basis)),
                })
                .collect(),
        });
        // One sentence per deadline, naming the problems due by it. An order is issued only
        // when every finding has its deadline (`issue_problems`): no blank date is printed.
        let mut by_deadline: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
        for (index, h) in record.hazards.iter().enumerate() {
            if let Some(deadline) = h.hazard.deadline {
                by_deadline
                    .entry(deadline)
                    .or_default()
                    .push((index + 1).to_string());
            }
        }
        for (deadline, items) in by_deadline {
            blocks.push(Block::Paragraph {
                text: format!(
                    "现责令你单位对上述第{}项问题于{}前整改完毕，达到有关法律法规规章和标准规定的要求。由此造成事故的，依法追究有关人员的责任。",
                    enumerate(&items),
                    chinese_date(deadline)
                ),
            });
        }
        blocks.push(Block::Paragraph {
            text: "整改期间，你单位应当采取措施，确保安全生产。对安全生产违法行为，将依法予以行政处罚。".into(),
        });
        let remedy = &agency.remedy;
        blocks.push(Block::Paragraph {
            text: format!(
                "如果不服本指令，可以依法在60日内向{}申请行政复议，或者在6个月内依法向{}提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
                remedy.review_bodies.join("或者"),
                remedy.court
            ),
        });
        let mut lines = inspector_signatures(record, "安全生产监管行政执法人员（签名）");
        lines.push(enterprise_signature("被检查单位负责人（签名）"));
        blocks.extend(signed_and_dated(lines, issued));
        blocks.push(Block::Seal {
            text: format!("{}（印章）", agency.name),
        });
        Document::new(DocType::Order, record, agency, issued, blocks)
    }

    /// 整改复查意见书, for the re-inspection of an order (`None` for any other record,
    /// including the re-inspection of an inspection without an order).
    pub fn reinspection_opinion(
        record: &Record,
        agency: &Agency,
        issued: &IssuedDocument,
    ) -> Option<Document> {
        let reinspects = record.reinspects.as_ref()?;
        let order_number = reinspects.order_number.as_ref()?;
        let order_issued_at = reinspects.order_issued_at?;
        let mut blocks = vec![
            Block::Addressee {
                text: format!("{}：", record.enterprise.name),
            },
            Block::Paragraph {
                text: format!(
                    "本机关于{}作出了责令限期整改的决定[{}]，经对你单位整改情况进行复查，提出如下意见：",
                    chinese_date(crate::time::china_date(order_issued_at)),
                    order_number
                ),
            },
        ];
        let mut rectified = Vec::new();
        let mut outstanding = Vec::new();
        // What follows for the items not rectified: a new deadline (numbered by deadline), or
        // the case opened for penalty (立案查处) where no new deadline was given.
        let mut new_deadlines: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
        let mut escalated = Vec::new();
        for entry in &reinspects.hazards {
            let Some(answer) = record.answers.get(&entry.item) else {
                continue;
            };
            let description = &entry.hazard.description;
            match (&answer.status, &answer.hazard) {
                (AnswerStatus::Pass, _) => rectified.push(NumberedItem {
                    text: finding(description, answer.note.as_deref()),
                    basis: None,
                }),
                (AnswerStatus::Fail, Some(follow_up)) => {
                    let mut text = finding(description, answer.note.as_deref());
                    if let Some(measure) = &follow_up.measure {
                        let _ = write!(text, "{}", finding(measure, None));
                    }
                    outstanding.push(NumberedItem {
                        text,
                        basis: Some(violation_sentence(&entry.hazard.legal_basis)),
                    });
                    let number = outstanding.len().to_string();
                    match follow_up.deadline {
                        Some(deadline) => new_deadlines.entry(deadline).or_default().push(number),
                        None => escalated.push(number),
                    }
                }
                _ => {}
            }
        }
        if outstanding.is_empty() {
            blocks.push(Block::Paragraph {
                text: "经复查，原指令书所列隐患均已整改合格。".into(),
            });
        }
        if !rectified.is_empty() {
            blocks.push(Block::Numbered {
                heading: Some("以下隐患已整改合格：".into()),
                items: rectified,
            });
        }
        if !outstanding.is_empty() {
            blocks.push(Block::Numbered {
                heading: Some("以下隐患未整改完毕：".into()),
                items: outstanding,
            });
            for (deadline, items) in new_deadlines {
                blocks.push(Block::Paragraph {
                    text: format!(
                        "现责令你单位对上述未整改完毕的第{}项问题于{}前整改完毕，逾期仍未整改的，本机关将依法立案查处。",
                        enumerate(&items),
                        chinese_date(deadline)
                    ),
                });
            }
            if !escalated.is_empty() {
                blocks.push(Block::Paragraph {
                    text: format!(
                        "对上述未整改完毕的第{}项问题，本机关将依法立案查处。",
                        enumerate(&escalated)
                    ),
                });
            }
        }
        let mut lines = vec![enterprise_signature("被复查单位负责人（签名）")];
        lines.extend(inspector_signatures(
            record,
            "安全生产监管行政执法人员（签名）",
        ));
        blocks.extend(signed_and_dated(lines, issued));
        blocks.push(Block::Seal {
            text: format!("{}（印章）", agency.name),
        });
        Some(Document::new(
            DocType::Reinspection,
            record,
            agency,
            issued,
            blocks,
        ))
    }

    fn new(
        doc_type: DocType,
        record: &Record,
        agency: &Agency,
        issued: &IssuedDocument,
        blocks: Vec<Block>,
    ) -> Document {
        let addressee = match doc_type {
            DocType::Reinspection => "被复查单位",
            DocType::Record | DocType::Order => "被检查单位",
        };
        Document {
            doc_type,
            heading: HEADING,
            agency: agency.name.clone(),
            title: doc_type.title(),
            number: issued.number.clone(),
            record_id: record.id.clone(),
            blocks,
            footer: format!(
                "本文书一式两份：一份由{}备案，一份交{addressee}。",
                agency.footer.filing_body
            ),
            public_address: agency.public_address.clone(),
            issued_at: issued.issued_at,
        }
    }

    /// The document as plain text, one block per paragraph: what every renderer must show.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n{}\n",
            self.heading, self.agency, self.title, self.number
        );
        for block in &self.blocks {
            match block {
                Block::Field { label, value } => {
                    let _ = writeln!(text, "{label}：{value}");
                }
                Block::Paragraph { text: line }
                | Block::Addressee { text: line }
                | Block::Seal { text: line } => {
                    let _ = writeln!(text, "{line}");
                }
                Block::Numbered { heading, items } => {
                    if let Some(heading) = heading {
                        let _ = writeln!(text, "{heading}");
                    }
                    for (n, item) in items.iter().enumerate() {
                        let _ = write!(text, "{}、{}", n + 1, item.text);
                        if let Some(basis) = &item.basis {
                            let _ = write!(text, "{basis}");
                        }
                        text.push('\n');
                    }
                }
                Block::Signatures { lines } => {
                    for line in lines {
                        let _ = write!(text, "{}：", line.label);
                        if let Some(name) = &line.name {
                            let _ = write!(text, "{name}");
                        }
                        if let Some(cert) = &line.cert {
                            let _ = write!(text, "（证号 {cert}）");
                        }
                        text.push('\n');
                    }
                }
            }
        }
        let _ = writeln!(text, "{}", self.footer);
        text
    }

    /// SHA-256 of the plain text: printed in the QR code so that a copy can be checked against
    /// the record.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.to_text().as_bytes()))
    }

    /// What the QR code holds: `https://<public address>/v/<record>?t=<type>&h=<content hash>`,
    /// which any phone camera opens and the server answers without login (ASCII only, so
    /// every reader decodes it the same). `None` when the agency has no public address.
    pub fn verification_url(&self) -> Option<String> {
        self.public_address.as_ref().map(|address| {
            format!(
                "{address}/v/{}?t={}&h={}",
                self.record_id,
                self.doc_type.as_str(),
                self.content_hash()
            )
        })
    }
}

fn field(label: &str, value: &str) -> Block {
    Block::Field {
        label: label.to_string(),
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_end_in_one_full_stop_with_the_note_in_brackets() {
        assert_eq!(
            finding("未设置报警", Some("2号罐区")),
            "未设置报警（2号罐区）。"
        );
        assert_eq!(finding("未设置报警。", None), "未设置报警。");
        assert_eq!(finding("未设置报警", Some("  ")), "未设置报警。");
    }

    #[test]
    fn dates_and_times_are_written_the_chinese_way() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T17:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(chinese_minute(at), "2026年3月2日01时05分");
        assert_eq!(chinese_minute_without_year(at), "3月2日01时05分");
    }
}
