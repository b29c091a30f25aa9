//! One error type for the app, with few variants it can act on. The text an inspector reads is
//! in `detail` (Kotlin's `e.message` of an error with fields is the field dump, not that text);
//! `code` is core's stable code, for logs and finer choices.

use anjian_core::Error;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AnjianError {
    /// An enterprise, template, item or record this device does not have.
    #[error("{detail}")]
    NotFound { code: String, detail: String },
    /// Input the inspector can correct: an answer, a date, a file, a choice.
    #[error("{detail}")]
    InvalidInput { code: String, detail: String },
    /// A record cannot be submitted, or a document issued, yet; `problems` lists why.
    #[error("{detail}")]
    Incomplete {
        code: String,
        detail: String,
        problems: Vec<String>,
    },
    /// The record is submitted or locked by the server: corrections go into an amendment.
    #[error("{detail}")]
    Locked { code: String, detail: String },
    /// The device lacks set-up: no inspector, no agency, or no document numbers left (sync).
    #[error("{detail}")]
    NotReady { code: String, detail: String },
    /// No login, or the server no longer accepts it: log in again.
    #[error("{detail}")]
    NotLoggedIn { code: String, detail: String },
    /// The server could not be reached; nothing on the device changed, try again later.
    #[error("{detail}")]
    Network { detail: String },
    /// The server refused a request, or answered with something that does not verify.
    #[error("{detail}")]
    Server {
        status: Option<u16>,
        code: String,
        detail: String,
        record_id: Option<String>,
    },
    /// The printer failed mid-job; `sent` of `total` bytes reached it. Print again.
    #[error("{detail}")]
    Printer {
        sent: u64,
        total: u64,
        detail: String,
    },
    /// The device's own data could not be read or written.
    #[error("{detail}")]
    Storage { code: String, detail: String },
}

impl From<Error> for AnjianError {
    fn from(error: Error) -> Self {
        let code = error.code().to_string();
        let detail = error.to_string();
        match error {
            Error::UnknownEnterprise(_)
            | Error::UnknownTemplate(_)
            | Error::UnknownItem { .. }
            | Error::UnknownRecord(_) => AnjianError::NotFound { code, detail },
            Error::Incomplete { problems, .. } | Error::CannotIssue { problems, .. } => {
                AnjianError::Incomplete {
                    code,
                    detail,
                    problems,
                }
            }
            Error::RecordSubmitted(_) | Error::RecordLocked(_) => {
                AnjianError::Locked { code, detail }
            }
            Error::NotInitialized | Error::NoAgency | Error::NoSerialLeft { .. } => {
                AnjianError::NotReady { code, detail }
            }
            Error::NotLoggedIn | Error::Server { status: 401, .. } => {
                AnjianError::NotLoggedIn { code, detail }
            }
            Error::Network { .. } => AnjianError::Network { detail },
            Error::Server {
                status,
                code,
                record_id,
                ..
            } => AnjianError::Server {
                status: Some(status),
                code,
                detail,
                record_id,
            },
            Error::BadReceipt(_) | Error::AuditChainBroken(_) | Error::MissingChanges(_) => {
                AnjianError::Server {
                    status: None,
                    code,
                    detail,
                    record_id: None,
                }
            }
            Error::Printer { sent, total, .. } => AnjianError::Printer {
                sent: sent as u64,
                total: total as u64,
                detail,
            },
            Error::Sqlite(_)
            | Error::StoreTooNew { .. }
            | Error::Io { .. }
            | Error::Automerge(_)
            | Error::CorruptRecord { .. } => AnjianError::Storage { code, detail },
            Error::InvalidTemplate { .. }
            | Error::InvalidTemplateItem { .. }
            | Error::TemplateVersionReused { .. }
            | Error::InvalidCreditCode { .. }
            | Error::InvalidCsvRow { .. }
            | Error::InvalidCsv { .. }
            | Error::TemplateNotApplicable { .. }
            | Error::InvalidAnswer { .. }
            | Error::InvalidInput(_)
            | Error::NumberNotVoidable { .. }
            | Error::CorruptExport { .. }
            | Error::Photo { .. } => AnjianError::InvalidInput { code, detail },
        }
    }
}

/// A Kotlin callback that threw something other than an [`AnjianError`].
impl From<uniffi::UnexpectedUniFFICallbackError> for AnjianError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        AnjianError::Printer {
            sent: 0,
            total: 0,
            detail: format!("打印机连接出错：{}", error.reason),
        }
    }
}

pub(crate) fn invalid(detail: String) -> AnjianError {
    AnjianError::InvalidInput {
        code: "invalid_input".into(),
        detail,
    }
}
