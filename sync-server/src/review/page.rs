//! The page frame and the record page's body, as maud templates: every spliced value is
//! escaped unless it is markup itself.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use anjian_core::template::InspectionKind;
use anjian_core::time::china;

use super::RecordDetail;
use crate::auth::Caller;

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

/// A review page: the frame, the account bar and its body.
pub struct Page {
    title: String,
    body: Markup,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: html! {},
        }
    }

    pub fn body(mut self, body: Markup) -> Page {
        self.body = body;
        self
    }

    pub fn html(self, caller: Option<&Caller>) -> Response {
        let document = document(
            &format!("{} - 安监", self.title),
            html! {
                link rel="icon" href="/favicon.ico" type="image/svg+xml";
                link rel="stylesheet" href="/review/static/review.css";
            },
            html! {
                @if let Some(caller) = caller { (account_bar(caller)) }
                main { (self.body) }
            },
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
            document.into_string(),
        )
            .into_response()
    }
}

/// An HTML document in Chinese that fits a phone as well as a desk: `head` follows the title.
pub fn document(title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                (head)
            }
            body { (body) }
        }
    }
}

fn account_bar(caller: &Caller) -> Markup {
    html! {
        header class="top" {
            a class="brand" href="/review/records" { "安监检查记录审阅" }
            nav aria-label="页面" {
                @for (href, label) in NAVIGATION { a href=(href) { (label) } }
            }
            span class="who" id="who" {
                (caller.user.name) span class="role" { "（" (caller.user.role.label()) "）" }
            }
            form method="post" action="/review/logout" {
                (super::csrf::hidden_input(&super::csrf::form_token(&caller.token_hash)))
                button type="submit" { "退出" }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        self.html(None)
    }
}

/// Items one after another with `separator` between them, as the pages list names.
pub fn joined<T>(
    items: impl IntoIterator<Item = T>,
    separator: Markup,
    each: impl Fn(T) -> Markup,
) -> Markup {
    html! {
        @for (index, item) in items.into_iter().enumerate() {
            @if index > 0 { (separator) }
            (each(item))
        }
    }
}

/// A long table in its own scrolling box, reachable from the keyboard.
pub fn scrolling(table: Markup) -> Markup {
    html! { div class="table-scroll" tabindex="0" { (table) } }
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

fn status_badge(status: &str) -> Markup {
    let (class, label) = match status {
        "pass" => ("badge ok", "合格"),
        "fail" => ("badge fail", "不合格"),
        "na" => ("badge", "不适用"),
        _ => ("badge", "已记录"),
    };
    html! { span class=(class) { (label) } }
}

fn record_link(id: &str) -> Markup {
    html! { a href={ "/review/records/" (id) } { span class="mono" { (id) } } }
}

pub fn record_body(detail: &RecordDetail) -> Markup {
    let record = &detail.record;
    let code = record.enterprise.credit_code.as_str();
    // A checklist the server does not hold is still named, by its id.
    let template = detail
        .template_title
        .as_deref()
        .unwrap_or(&record.template_id);
    html! {
        h1 { a href={ "/review/enterprises/" (code) } { (record.enterprise.name) } }
        dl class="facts" {
            dt { "统一社会信用代码" } dd class="mono" { (code) }
            dt { "区划" } dd { (detail.region_name) }
            dt { "行业" } dd { (record.enterprise.industry) }
            dt { "检查类型" } dd { (kind_label(record.inspection_kind.as_str())) }
            dt { "检查表" } dd { (template) "（第 " (record.template_version) " 版）" }
            dt { "检查地点" } dd { (record.place) }
            dt { "开始时间" } dd { (datetime(record.started_at)) }
            dt { "检查人员" }
            dd { (joined(&record.inspectors, html! { "、" }, |i| html! { (i.name) "（" (i.cert) "）" })) }
            dt { "状态" }
            dd id="state" {
                @match (&detail.lock, record.submitted_at) {
                    (Some(_), _) => span class="badge locked" { "已锁定" },
                    (None, Some(at)) => { "已提交（" (datetime(at)) "），尚未锁定" },
                    (None, None) => span class="badge draft" { "草稿" },
                }
            }
            dt { "记录编号" } dd class="mono" { (record.id) }
        }
        @if let Some(receipt) = &detail.lock {
            h2 { "锁定回执" }
            dl class="facts" {
                dt { "锁定时间" } dd { (datetime(receipt.locked_at)) }
                dt { "审计日志序号" } dd { (receipt.log_index) }
                dt { "内容哈希" } dd class="mono" { (receipt.content_hash) }
                dt { "签名" } dd class="mono" { (receipt.signature) }
                dt { "验证" }
                dd {
                    @match &detail.receipt_problem {
                        None => span class="badge ok" id="receipt-check" { "回执验证通过" },
                        Some(problem) => span class="badge bad" id="receipt-check" {
                            "回执验证失败：" (problem)
                        },
                    }
                }
            }
        }
        @if detail.late_changes > 0 {
            p class="message" {
                "锁定后收到的修改 " (detail.late_changes) " 份已另行保存，未并入本记录（见补正记录）。"
            }
        }
        @if let Some(original) = &detail.amends {
            p id="amends" { "本记录为补正记录，补正：" (record_link(original)) }
        }
        @if !detail.amendments.is_empty() {
            p id="amendments" {
                "补正记录：" (joined(&detail.amendments, html! { "、" }, |id| record_link(id)))
            }
        }
        h2 { "执法文书" }
        @if record.documents.is_empty() {
            p { "未制作文书。" }
        } @else {
            (scrolling(html! {
                table id="documents" {
                    thead { tr { th { "文书" } th { "编号" } th { "制作时间" } th { "制作人" } th { "查看与下载" } } }
                    tbody {
                        @for document in &record.documents {
                            @let path = format!("/review/records/{}/documents/{}", record.id, document.doc_type.as_str());
                            tr {
                                td { (document.doc_type.title()) }
                                td class="nowrap" { (document.number) }
                                td class="nowrap" { (datetime(document.issued_at)) }
                                td { (document.issued_by.name) }
                                td {
                                    a href=(path) { "查看" } " · "
                                    a class="pdf" href={ (path) "/pdf" } { "下载 PDF" }
                                }
                            }
                        }
                    }
                }
            }))
        }
        h2 { "隐患（" (record.hazards.len()) "）" }
        @if record.hazards.is_empty() {
            p { "未发现隐患。" }
        } @else {
            (scrolling(html! {
                table id="hazards" {
                    thead { tr { th { "检查项" } th { "隐患" } th { "等级" } th { "依据" } th { "整改措施" } th { "整改期限" } } }
                    tbody {
                        @for entry in &record.hazards {
                            @let hazard = &entry.hazard;
                            tr {
                                td class="mono" { (entry.item) }
                                td { (hazard.description) }
                                td { (hazard.class) }
                                td { (hazard.legal_basis) }
                                td { (hazard.measure.as_deref().unwrap_or("")) }
                                td class="nowrap" {
                                    @match hazard.deadline {
                                        Some(deadline) => (deadline.to_string()),
                                        None => "未定",
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if !record.conflicts.is_empty() {
            h2 { "未处理的冲突（" (record.conflicts.len()) "）" }
            (scrolling(html! {
                table id="conflicts" {
                    thead { tr { th { "检查项" } th { "各方答案" } } }
                    tbody {
                        @for conflict in &record.conflicts {
                            tr {
                                td class="mono" { (conflict.item) }
                                td {
                                    (joined(&conflict.values, html! { br; }, |answer| html! {
                                        (status_badge(answer.status.as_str()))
                                        (answer.note.as_deref().unwrap_or(""))
                                        "（" (answer.by.name) "）"
                                    }))
                                }
                            }
                        }
                    }
                }
            }))
        }
        h2 { "检查结果（" (record.answers.len()) "）" }
        (scrolling(html! {
            table id="answers" {
                thead {
                    tr {
                        th { "检查项" } th { "检查内容" } th { "结论" } th { "数值" }
                        th { "备注" } th { "照片" } th { "检查人" } th { "时间" }
                    }
                }
                tbody {
                    @for (item, answer) in &record.answers {
                        tr {
                            td class="mono" { (item) }
                            td { (detail.item_texts.get(item).map_or("", String::as_str)) }
                            td { (status_badge(answer.status.as_str())) }
                            td { @if let Some(value) = &answer.value { (value.to_string()) } }
                            td { (answer.note.as_deref().unwrap_or("")) }
                            td class="num" { (answer.photos.len()) }
                            td { (answer.by.name) }
                            td class="nowrap" { (datetime(answer.at)) }
                        }
                    }
                }
            }
        }))
    }
}
