//! An issued enforcement document of a stored record, built from the server's copy with the
//! server's agency configuration: the same content the device renders, for the API's HTML and
//! the review pages' HTML and PDF.

use anjian_core::RecordDoc;
use anjian_core::agency::{Agency, DocType};
use anjian_core::document::model::Document;

use crate::auth::Scope;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{StoredRecord, User};

/// The policy of a rendered document: its own inline styles and embedded images, nothing else.
pub const DOCUMENT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'";

/// The document of `doc_type` issued for record `id`, when `user` may read it. A record
/// outside the user's scope and a document never issued are the same 404. Runs on a blocking
/// thread.
pub fn readable_document(
    state: &AppState,
    user: &User,
    id: &str,
    doc_type: DocType,
) -> AppResult<Document> {
    let store = state.store.as_ref();
    let hidden = || {
        AppError::not_found(format!(
            "未找到记录 {id} 的{}，或您无权查看",
            doc_type.title()
        ))
    };
    let stored = store.record(id)?.ok_or_else(hidden)?;
    let scope = Scope::of(user, &store.regions()?);
    if !scope.may_read_documents(&stored) {
        return Err(hidden());
    }
    document_of(state, &stored, doc_type)?.ok_or_else(hidden)
}

/// The document of `doc_type` issued for a stored record, built from the server's copy with
/// the server's agency configuration; `None` when it was never issued. Anyone's access is the
/// caller's to check. Runs on a blocking thread.
pub fn document_of(
    state: &AppState,
    stored: &StoredRecord,
    doc_type: DocType,
) -> AppResult<Option<Document>> {
    let record = RecordDoc::load(&stored.id, &stored.doc, &[], "server")
        .and_then(|mut doc| doc.read())
        .map_err(|e| AppError::internal("stored record", e))?;
    let Some(issued) = record.documents.iter().find(|d| d.doc_type == doc_type) else {
        return Ok(None);
    };
    let agency = server_agency(state)?;
    Ok(Some(match doc_type {
        DocType::Record => {
            let template = state
                .template(&record.template_id, record.template_version)?
                .ok_or_else(|| AppError::internal("document", "template missing"))?;
            Document::inspection_record(&record, &template, &agency, issued)
        }
        DocType::Order => Document::order(&record, &agency, issued),
        DocType::Reinspection => Document::reinspection_opinion(&record, &agency, issued)
            .ok_or_else(|| AppError::internal("document", "reinspection without order"))?,
    }))
}

/// The server's agency configuration.
pub fn server_agency(state: &AppState) -> AppResult<Agency> {
    let (text, _) = state
        .store
        .agency()?
        .ok_or_else(|| AppError::internal("document", "no agency configured"))?;
    Agency::parse("服务器机关配置", &text).map_err(|e| AppError::internal("agency", e))
}
