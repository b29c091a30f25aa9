//! The enforcement documents of a record: the rules for when each may be issued, the number it
//! takes, and its content ([`model::Document`]) for the renderers. A document keeps its number
//! whenever it is rendered or printed again.

/// WenQuanYi Micro Hei (`templates/fonts/`), stored brotli-compressed (1.5 MB instead of
/// 5.2 MB, which matters for the Android library). A `static`, so that the library holds one
/// copy however many places use it.
static CJK_FONT_BROTLI: &[u8] = include_bytes!("../../../templates/fonts/wqy-microhei.ttc.br");

/// The CJK font: face 0 proportional, face 1 monospaced. Decompressed once, on first use.
pub(crate) fn cjk_font() -> Result<&'static [u8]> {
    static FONT: std::sync::OnceLock<Option<Vec<u8>>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        let mut font = Vec::with_capacity(6 << 20);
        brotli_decompressor::BrotliDecompress(&mut &CJK_FONT_BROTLI[..], &mut font)
            .ok()
            .map(|()| font)
    })
    .as_deref()
    .ok_or_else(|| Error::InvalidInput("文书字体 wqy-microhei.ttc 无法解压".into()))
}

pub mod escpos;
pub mod html;
pub mod layout;
pub mod model;
pub mod pdf;
pub mod seal;

use chrono::{DateTime, Utc};

use crate::agency::DocType;
use crate::error::{Error, Result};
use crate::inspection::{certificate_problems, completion_problems};
use crate::numbering::{issue_number, year_of};
use crate::record::{IssuedDocument, Person, Record, RecordKind, Status};
use crate::store::Store;
use crate::template::{InspectionKind, Template};
use crate::time::china_date;
use model::Document;

/// Why `doc_type` cannot be issued for `record` at `at`; empty when it can.
pub fn issue_problems(
    record: &Record,
    template: &Template,
    doc_type: DocType,
    at: DateTime<Utc>,
) -> Vec<String> {
    let mut problems = Vec::new();
    match doc_type {
        DocType::Record | DocType::Order => {
            if record.kind != RecordKind::Inspection {
                problems.push(format!("{}只能依据检查记录制作", doc_type.title()));
                return problems;
            }
            problems.extend(completion_problems(record, template));
        }
        DocType::Reinspection => {
            if record.kind != RecordKind::Reinspection {
                problems.push("整改复查意见书只能依据复查记录制作".into());
                return problems;
            }
            // The opinion answers an order; the other kinds' re-inspections have none.
            if record.inspection_kind != InspectionKind::Enforcement {
                problems.push(format!(
                    "{}的整改复查没有责令限期整改指令书，不签发整改复查意见书",
                    record.inspection_kind.label()
                ));
                return problems;
            }
            problems.extend(completion_problems(record, template));
        }
    }
    if doc_type == DocType::Order {
        if record.hazards.is_empty() {
            problems.push("本次检查未发现隐患，不能下达责令限期整改指令书".into());
        }
        // An order states a deadline for every finding; a blank date is no order.
        let undated: Vec<&str> = record
            .hazards
            .iter()
            .filter(|h| h.hazard.deadline.is_none())
            .map(|h| h.item.as_str())
            .collect();
        if !undated.is_empty() {
            problems.push(format!(
                "检查项 {} 的隐患未设整改期限：指令书须为每项问题写明整改期限",
                undated.join("、")
            ));
        }
        if !record
            .documents
            .iter()
            .any(|d| d.doc_type == DocType::Record)
        {
            problems.push("应先制作现场检查记录".into());
        }
    }
    if record.inspection_kind == InspectionKind::Enforcement {
        let date = china_date(at);
        let (_, certificate) = certificate_problems(record, date);
        problems.extend(
            certificate
                .into_iter()
                .map(|problem| format!("签发日 {date}：{problem}，不能签发文书")),
        );
    }
    problems.sort();
    problems.dedup();
    problems
}

/// The documents an enforcement record must carry once submitted: a submitted record can no
/// longer take a document, so these are issued with the submission (现场检查记录 always, 责令限期
/// 整改指令书 when hazards were found, 整改复查意见书 for the re-inspection of an order). The
/// other inspection kinds issue no enforcement document.
pub fn documents_due_at_submit(record: &Record) -> Vec<DocType> {
    if record.inspection_kind != InspectionKind::Enforcement {
        return Vec::new();
    }
    let due = match record.kind {
        RecordKind::Inspection if record.hazards.is_empty() => vec![DocType::Record],
        RecordKind::Inspection => vec![DocType::Record, DocType::Order],
        RecordKind::Reinspection => vec![DocType::Reinspection],
        RecordKind::Amendment => Vec::new(),
    };
    due.into_iter()
        .filter(|t| !record.documents.iter().any(|d| d.doc_type == *t))
        .collect()
}

/// Checks the rules and issues `doc_type` inside the caller's record transaction, so that the
/// number and the record change are stored together; `record` then lists the new document too.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_in_transaction(
    doc: &mut crate::record::RecordDoc,
    record: &mut Record,
    conn: &rusqlite::Connection,
    agency: &crate::agency::Agency,
    template: &Template,
    signer: &Person,
    doc_type: DocType,
    now: DateTime<Utc>,
) -> Result<IssuedDocument> {
    let problems = issue_problems(record, template, doc_type, now);
    if !problems.is_empty() {
        return Err(Error::CannotIssue {
            title: doc_type.title(),
            problems,
        });
    }
    let number = issue_number(conn, agency, doc_type, year_of(now), &record.id, now)?;
    let issued = IssuedDocument {
        doc_type,
        number,
        issued_at: crate::time::to_millis(now),
        issued_by: signer.clone(),
    };
    doc.put_document(&issued)?;
    record.documents.push(issued.clone());
    Ok(issued)
}

impl Store {
    /// Issues a document for a record: checks the rules, takes the next number of the agency's
    /// blocks and writes both in one transaction. A document already issued is returned as it
    /// is, with its number.
    pub fn issue_document(
        &mut self,
        id: &str,
        doc_type: DocType,
        now: DateTime<Utc>,
    ) -> Result<IssuedDocument> {
        let me = self.current_inspector()?;
        let agency = self.profile()?.agency.ok_or(Error::NoAgency)?;
        let record = self.record(id)?;
        if let Some(issued) = record.documents.iter().find(|d| d.doc_type == doc_type) {
            return Ok(issued.clone());
        }
        if record.created_by_device != self.device_id() {
            return Err(Error::InvalidInput(format!(
                "文书只能在创建此记录的设备（{}）上签发，以免两台设备为同一文书取用两个编号",
                record.created_by_device
            )));
        }
        let template = self.template(&record.template_id, Some(record.template_version))?;
        self.update_record_with(id, |doc, record, conn| {
            if record.status == Status::Submitted {
                return Err(Error::RecordSubmitted(record.id.clone()));
            }
            let signer = Person {
                name: me.name.clone(),
                cert: me.cert.clone(),
            };
            let mut record = record.clone();
            issue_in_transaction(
                doc,
                &mut record,
                conn,
                &agency,
                &template,
                &signer,
                doc_type,
                now,
            )
        })
    }

    /// The content of a record's document, issuing it first when it has not been issued.
    pub fn document(
        &mut self,
        id: &str,
        doc_type: DocType,
        now: DateTime<Utc>,
    ) -> Result<Document> {
        let issued = self.issue_document(id, doc_type, now)?;
        let agency = self.profile()?.agency.ok_or(Error::NoAgency)?;
        let record = self.record(id)?;
        let template = self.template(&record.template_id, Some(record.template_version))?;
        Ok(match doc_type {
            DocType::Record => Document::inspection_record(&record, &template, &agency, &issued),
            DocType::Order => Document::order(&record, &agency, &issued),
            DocType::Reinspection => Document::reinspection_opinion(&record, &agency, &issued)
                .ok_or_else(|| Error::CorruptRecord {
                    id: record.id.clone(),
                    problem: "复查记录缺少原指令书".into(),
                })?,
        })
    }
}

#[cfg(test)]
mod font_tests {
    use sha2::{Digest, Sha256};

    #[test]
    fn the_compressed_font_is_the_shipped_font_byte_for_byte() {
        let shipped = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../templates/fonts/wqy-microhei.ttc"
        ))
        .expect("the font beside its compressed copy");
        let font = super::cjk_font().expect("decompresses");
        assert_eq!(font.len(), shipped.len());
        assert_eq!(Sha256::digest(font), Sha256::digest(&shipped));
    }
}
