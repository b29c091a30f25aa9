//! Errors of the core. One enum; each variant has a stable machine code (`Error::code`) that the
//! CLI prints in `--json` mode and the FFI layer will map onto its few public variants.
//! Messages are read by inspectors, so they are in Chinese and name the thing that is wrong.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("模板文件 {file}：{problem}")]
    InvalidTemplate { file: String, problem: String },

    #[error("模板文件 {file} 的检查项 {item}：{problem}")]
    InvalidTemplateItem {
        file: String,
        item: String,
        problem: String,
    },

    #[error("模板 {id} 第 {version} 版与本机已存的同版本内容不同：修改检查表后必须提高 version")]
    TemplateVersionReused { id: String, version: u32 },

    #[error("统一社会信用代码 {code} 无效：{reason}")]
    InvalidCreditCode { code: String, reason: String },

    #[error("企业名录 {file} 第 {line} 行：{problem}（未导入任何企业）")]
    InvalidCsvRow {
        file: String,
        line: u64,
        problem: String,
    },

    #[error("企业名录 {file}：{problem}（未导入任何企业）")]
    InvalidCsv { file: String, problem: String },

    #[error("未找到企业 {0}：请先导入企业名录")]
    UnknownEnterprise(String),

    #[error("未找到检查表模板 {0}")]
    UnknownTemplate(String),

    #[error("检查表 {template} 中没有检查项 {item}")]
    UnknownItem { template: String, item: String },

    #[error("未找到检查记录 {0}")]
    UnknownRecord(String),

    #[error("检查表 {template}（{industry}）不适用于 {enterprise}（行业：{enterprise_industry}）")]
    TemplateNotApplicable {
        template: String,
        industry: String,
        enterprise: String,
        enterprise_industry: String,
    },

    #[error("检查项 {item} 的答案无效：{problem}")]
    InvalidAnswer { item: String, problem: String },

    #[error("输入无效：{0}")]
    InvalidInput(String),

    #[error("检查记录 {0} 已提交，不能再修改；如需更正请另行制作更正记录")]
    RecordSubmitted(String),

    #[error("检查记录 {0} 已由服务器锁定，不能再修改；如需更正请制作补正记录")]
    RecordLocked(String),

    #[error("检查记录 {0} 的变更缺少其所依赖的更早变更：请整份重新上传")]
    MissingChanges(String),

    #[error("本机尚未登录同步服务器：请先运行 anjian login --server 地址 --user 账号")]
    NotLoggedIn,

    #[error("同步服务器 {server} 无法连接：{problem}（本机数据未改动，可稍后重试）")]
    Network { server: String, problem: String },

    #[error("同步服务器拒绝了请求（{code}）：{message}")]
    Server {
        status: u16,
        code: String,
        message: String,
        /// The record a refused sync request was refused for.
        record_id: Option<String>,
    },

    #[error("服务器回执无效：{0}")]
    BadReceipt(String),

    /// The server's audit chain no longer holds what this device saw of it: cut short, rolled
    /// back or rewritten.
    #[error("服务器审计日志异常：{0}")]
    AuditChainBroken(String),

    #[error("检查记录 {id} 不能提交：{}", problems.join("；"))]
    Incomplete { id: String, problems: Vec<String> },

    #[error("本机尚未初始化：请先运行 anjian init --name 姓名 --cert 执法证号")]
    NotInitialized,

    #[error("不能签发{title}：{}", problems.join("；"))]
    CannotIssue {
        title: &'static str,
        problems: Vec<String>,
    },

    #[error("本机未配置执法机关：请用 anjian init --agency 机关配置文件 设置")]
    NoAgency,

    #[error("{title}（{year} 年）没有可用的文书编号：请先领取或登记号段")]
    NoSerialLeft { title: &'static str, year: i32 },

    #[error("文书编号 {number} 不能作废：{reason}")]
    NumberNotVoidable { number: String, reason: String },

    #[error("打印失败：{reason}（已发送 {sent}/{total} 字节；可重新打印）")]
    Printer {
        sent: usize,
        total: usize,
        reason: String,
    },

    #[error("交换文件 {file} 无法读取：{problem}（本机数据未改动）")]
    CorruptExport { file: String, problem: String },

    #[error("检查记录 {id} 的数据损坏：{problem}")]
    CorruptRecord { id: String, problem: String },

    #[error("照片 {path} 无法读取：{source}")]
    Photo {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("数据库错误：{0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("本机数据库版本 {found} 高于本程序支持的 {supported}：请升级 anjian")]
    StoreTooNew { found: u32, supported: u32 },

    #[error("文件读写错误 {path}：{source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("CRDT 文档错误：{0}")]
    Automerge(#[from] automerge::AutomergeError),
}

impl Error {
    /// A stable, machine-readable code for scripts and the app.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidTemplate { .. } | Error::InvalidTemplateItem { .. } => "invalid_template",
            Error::TemplateVersionReused { .. } => "template_version_reused",
            Error::InvalidCreditCode { .. } => "invalid_credit_code",
            Error::InvalidCsvRow { .. } | Error::InvalidCsv { .. } => "invalid_csv",
            Error::UnknownEnterprise(_) => "unknown_enterprise",
            Error::UnknownTemplate(_) => "unknown_template",
            Error::UnknownItem { .. } => "unknown_item",
            Error::UnknownRecord(_) => "unknown_record",
            Error::TemplateNotApplicable { .. } => "template_not_applicable",
            Error::InvalidAnswer { .. } => "invalid_answer",
            Error::InvalidInput(_) => "invalid_input",
            Error::RecordSubmitted(_) => "record_submitted",
            Error::RecordLocked(_) => "record_locked",
            Error::MissingChanges(_) => "missing_changes",
            Error::NotLoggedIn => "not_logged_in",
            Error::Network { .. } => "network",
            Error::Server { .. } => "server",
            Error::BadReceipt(_) => "bad_receipt",
            Error::AuditChainBroken(_) => "audit_chain_broken",
            Error::Incomplete { .. } => "incomplete",
            Error::NotInitialized => "not_initialized",
            Error::NoAgency => "no_agency",
            Error::CannotIssue { .. } => "cannot_issue",
            Error::Printer { .. } => "printer",
            Error::NoSerialLeft { .. } => "no_serial_left",
            Error::NumberNotVoidable { .. } => "number_not_voidable",
            Error::CorruptExport { .. } => "corrupt_export",
            Error::CorruptRecord { .. } => "corrupt_record",
            Error::Photo { .. } => "photo_unreadable",
            Error::Sqlite(_) | Error::StoreTooNew { .. } => "store",
            Error::Io { .. } => "io",
            Error::Automerge(_) => "crdt",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
