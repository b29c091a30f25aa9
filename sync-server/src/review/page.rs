//! The page frame and the record page's body. Every value that came from a record or an
//! account goes through `escape`.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use anjian_core::template::InspectionKind;
use anjian_core::time::china;

use super::RecordDetail;
use crate::auth::Caller;
use crate::report::escape;

/// The pages every account may open, in the header's order.
const NAVIGATION: [(&str, &str); 12] = [
    ("/review/records", "检查记录"),
    ("/review/enterprises", "企业档案"),
    ("/review/hazards", "隐患整改"),
    ("/review/alerts", "物联网警报"),
    ("/review/analyses/hazards", "隐患统计"),
    ("/review/analyses/self-inspections", "企业月度自查"),
    ("/review/analyses/public", "热线与信箱"),
    ("/review/analyses/attendance", "带班到岗"),
    ("/review/analyses/coverage", "覆盖率"),
    ("/review/analyses/grading", "乡镇分级"),
    ("/review/analyses/certificates", "持证"),
    ("/review/analyses/permits", "许可证"),
];

/// A review page: the frame, the account bar and a body of trusted HTML.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: String::new(),
        }
    }

    pub fn body(mut self, body: String) -> Page {
        self.body = body;
        self
    }

    pub fn html(self, caller: Option<&Caller>) -> Response {
        let bar = match caller {
            Some(caller) => format!(
                "<header class=\"top\"><a class=\"brand\" href=\"/review/records\">安监检查记录审阅</a>\
                 <nav aria-label=\"页面\">{links}</nav>\
                 <span class=\"who\" id=\"who\">{name}<span class=\"role\">（{role}）</span></span>\
                 <form method=\"post\" action=\"/review/logout\">{token}<button type=\"submit\">退出</button></form>\
                 </header>",
                name = escape(&caller.user.name),
                role = caller.user.role.label(),
                token = super::csrf::hidden_input(&super::csrf::form_token(&caller.token_hash)),
                links = NAVIGATION
                    .iter()
                    .map(|(href, label)| format!("<a href=\"{href}\">{label}</a>"))
                    .collect::<String>(),
            ),
            None => String::new(),
        };
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} - 安监</title>\
             <link rel=\"icon\" href=\"/favicon.ico\" type=\"image/svg+xml\">\
             <link rel=\"stylesheet\" href=\"/review/static/review.css\"></head>\
             <body>{bar}<main>{body}</main></body></html>",
            title = escape(&self.title),
            body = self.body,
        );
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response()
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.html(None)
    }
}

/// An instant as the documents show it: China time, to the minute.
pub fn datetime(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn kind_label(kind: &str) -> &'static str {
    if kind == crate::store::standings::IOT_KIND {
        return "物联网";
    }
    InspectionKind::parse(kind).map_or("其他", InspectionKind::label)
}

fn status_badge(status: &str) -> &'static str {
    match status {
        "pass" => "<span class=\"badge ok\">合格</span>",
        "fail" => "<span class=\"badge fail\">不合格</span>",
        "na" => "<span class=\"badge\">不适用</span>",
        _ => "<span class=\"badge\">已记录</span>",
    }
}

fn record_link(id: &str) -> String {
    format!(
        "<a href=\"/review/records/{id}\"><span class=\"mono\">{id}</span></a>",
        id = escape(id)
    )
}

pub fn record_body(detail: &RecordDetail) -> String {
    let record = &detail.record;
    let mut body = format!(
        "<h1><a href=\"/review/enterprises/{code}\">{name}</a></h1><dl class=\"facts\">\
         <dt>统一社会信用代码</dt><dd class=\"mono\">{code}</dd>\
         <dt>区划</dt><dd>{region}</dd><dt>行业</dt><dd>{industry}</dd>\
         <dt>检查类型</dt><dd>{kind}</dd><dt>检查表</dt><dd>{template}（第 {version} 版）</dd>\
         <dt>检查地点</dt><dd>{place}</dd><dt>开始时间</dt><dd>{started}</dd>\
         <dt>检查人员</dt><dd>{inspectors}</dd><dt>状态</dt><dd id=\"state\">{state}</dd>\
         <dt>记录编号</dt><dd class=\"mono\">{id}</dd></dl>",
        name = escape(&record.enterprise.name),
        code = escape(record.enterprise.credit_code.as_str()),
        region = escape(&detail.region_name),
        industry = escape(&record.enterprise.industry),
        kind = kind_label(record.inspection_kind.as_str()),
        // A checklist the server does not hold is still named, by its id.
        template = escape(
            detail
                .template_title
                .as_deref()
                .unwrap_or(&record.template_id)
        ),
        version = record.template_version,
        place = escape(&record.place),
        started = datetime(record.started_at),
        inspectors = record
            .inspectors
            .iter()
            .map(|i| format!("{}（{}）", escape(&i.name), escape(&i.cert)))
            .collect::<Vec<_>>()
            .join("、"),
        state = match (&detail.lock, record.submitted_at) {
            (Some(_), _) => "<span class=\"badge locked\">已锁定</span>".to_string(),
            (None, Some(at)) => format!("已提交（{}），尚未锁定", datetime(at)),
            (None, None) => "<span class=\"badge draft\">草稿</span>".to_string(),
        },
        id = escape(&record.id),
    );

    if let Some(receipt) = &detail.lock {
        let verdict = match &detail.receipt_problem {
            None => "<span class=\"badge ok\" id=\"receipt-check\">回执验证通过</span>".to_string(),
            Some(problem) => format!(
                "<span class=\"badge bad\" id=\"receipt-check\">回执验证失败：{}</span>",
                escape(problem)
            ),
        };
        body.push_str(&format!(
            "<h2>锁定回执</h2><dl class=\"facts\"><dt>锁定时间</dt><dd>{locked}</dd>\
             <dt>审计日志序号</dt><dd>{index}</dd><dt>内容哈希</dt><dd class=\"mono\">{hash}</dd>\
             <dt>签名</dt><dd class=\"mono\">{signature}</dd><dt>验证</dt><dd>{verdict}</dd></dl>",
            locked = datetime(receipt.locked_at),
            index = receipt.log_index,
            hash = escape(&receipt.content_hash),
            signature = escape(&receipt.signature),
        ));
    }
    if detail.late_changes > 0 {
        body.push_str(&format!(
            "<p class=\"message\">锁定后收到的修改 {} 份已另行保存，未并入本记录（见补正记录）。</p>",
            detail.late_changes
        ));
    }
    if let Some(original) = &detail.amends {
        body.push_str(&format!(
            "<p id=\"amends\">本记录为补正记录，补正：{}</p>",
            record_link(original)
        ));
    }
    if !detail.amendments.is_empty() {
        body.push_str(&format!(
            "<p id=\"amendments\">补正记录：{}</p>",
            detail
                .amendments
                .iter()
                .map(|id| record_link(id))
                .collect::<Vec<_>>()
                .join("、")
        ));
    }

    body.push_str("<h2>执法文书</h2>");
    if record.documents.is_empty() {
        body.push_str("<p>未制作文书。</p>");
    } else {
        body.push_str(
            "<div class=\"table-scroll\" tabindex=\"0\"><table id=\"documents\"><thead><tr><th>文书</th><th>编号</th><th>制作时间</th>\
             <th>制作人</th><th>查看与下载</th></tr></thead><tbody>",
        );
        for document in &record.documents {
            let path = format!(
                "/review/records/{}/documents/{}",
                escape(&record.id),
                document.doc_type.as_str()
            );
            body.push_str(&format!(
                "<tr><td>{title}</td><td class=\"nowrap\">{number}</td><td class=\"nowrap\">{at}</td><td>{by}</td>\
                 <td><a href=\"{path}\">查看</a> · <a class=\"pdf\" href=\"{path}/pdf\">下载 PDF</a></td></tr>",
                title = document.doc_type.title(),
                number = escape(&document.number),
                at = datetime(document.issued_at),
                by = escape(&document.issued_by.name),
            ));
        }
        body.push_str("</tbody></table></div>");
    }

    body.push_str(&format!("<h2>隐患（{}）</h2>", record.hazards.len()));
    if record.hazards.is_empty() {
        body.push_str("<p>未发现隐患。</p>");
    } else {
        body.push_str(
            "<div class=\"table-scroll\" tabindex=\"0\"><table id=\"hazards\"><thead><tr><th>检查项</th><th>隐患</th><th>等级</th>\
             <th>依据</th><th>整改措施</th><th>整改期限</th></tr></thead><tbody>",
        );
        for entry in &record.hazards {
            let hazard = &entry.hazard;
            body.push_str(&format!(
                "<tr><td class=\"mono\">{item}</td><td>{description}</td><td>{class}</td>\
                 <td>{basis}</td><td>{measure}</td><td class=\"nowrap\">{deadline}</td></tr>",
                item = escape(&entry.item),
                description = escape(&hazard.description),
                class = escape(&hazard.class),
                basis = escape(&hazard.legal_basis),
                measure = escape(hazard.measure.as_deref().unwrap_or("")),
                deadline = hazard
                    .deadline
                    .map_or("未定".to_string(), |d| d.to_string()),
            ));
        }
        body.push_str("</tbody></table></div>");
    }

    if !record.conflicts.is_empty() {
        body.push_str(&format!(
            "<h2>未处理的冲突（{}）</h2><div class=\"table-scroll\" tabindex=\"0\"><table id=\"conflicts\"><thead><tr><th>检查项</th>\
             <th>各方答案</th></tr></thead><tbody>",
            record.conflicts.len()
        ));
        for conflict in &record.conflicts {
            let values = conflict
                .values
                .iter()
                .map(|a| {
                    format!(
                        "{}{}（{}）",
                        status_badge(a.status.as_str()),
                        escape(a.note.as_deref().unwrap_or("")),
                        escape(&a.by.name)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>");
            body.push_str(&format!(
                "<tr><td class=\"mono\">{}</td><td>{values}</td></tr>",
                escape(&conflict.item)
            ));
        }
        body.push_str("</tbody></table></div>");
    }

    body.push_str(&format!(
        "<h2>检查结果（{}）</h2><div class=\"table-scroll\" tabindex=\"0\"><table id=\"answers\"><thead><tr><th>检查项</th><th>检查内容</th>\
         <th>结论</th><th>数值</th><th>备注</th><th>照片</th><th>检查人</th><th>时间</th></tr></thead><tbody>",
        record.answers.len()
    ));
    for (item, answer) in &record.answers {
        body.push_str(&format!(
            "<tr><td class=\"mono\">{code}</td><td>{text}</td><td>{status}</td><td>{value}</td>\
             <td>{note}</td><td class=\"num\">{photos}</td><td>{by}</td><td class=\"nowrap\">{at}</td></tr>",
            code = escape(item),
            text = escape(detail.item_texts.get(item).map_or("", String::as_str)),
            status = status_badge(answer.status.as_str()),
            value = escape(
                &answer
                    .value
                    .as_ref()
                    .map_or(String::new(), ToString::to_string)
            ),
            note = escape(answer.note.as_deref().unwrap_or("")),
            photos = answer.photos.len(),
            by = escape(&answer.by.name),
            at = datetime(answer.at),
        ));
    }
    body.push_str("</tbody></table></div>");
    body
}
