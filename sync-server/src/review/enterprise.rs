//! The enterprise archive: the enterprises in scope, and one enterprise's profile, permits,
//! major hazard sources, certified staff, emergency plans, health declarations, work permits,
//! duty leaders, IoT devices (with a positioning system's last head count by area) and every
//! inspection and hazard in its history.

use axum::extract::{Path, Query};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use anjian_core::enterprise::Enterprise;
use anjian_core::template::InspectionKind;
use anjian_core::time::china_date;

use super::page::{Page, datetime, kind_label, scrolling};
use super::{PageResult, Session};
use crate::auth::Scope;
use crate::state::AppState;
use crate::store::reference::EnterpriseArchive;
use crate::store::{EnterpriseHazard, RecordFilter, RecordRow};

/// A permit, certificate or plan this close to its last day is shown as expiring.
const EXPIRING_DAYS: i64 = 90;

fn validity(valid_until: NaiveDate, today: NaiveDate) -> Markup {
    let (class, label) = if valid_until < today {
        ("badge bad", "已过期")
    } else if (valid_until - today).num_days() <= EXPIRING_DAYS {
        ("badge fail", "即将到期")
    } else {
        ("badge ok", "有效")
    };
    html! { span class=(class) { (label) } }
}

#[derive(Debug, Deserialize)]
pub(super) struct Search {
    q: Option<String>,
}

pub(super) async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    search: Result<Query<Search>, axum::extract::rejection::QueryRejection>,
) -> PageResult<Response> {
    let needle = search
        .ok()
        .and_then(|Query(s)| s.q)
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    let user = caller.user.clone();
    let wanted = needle.clone();
    let (enterprises, region_names) = state
        .blocking(move |store| {
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions);
            let mut found: Vec<Enterprise> = store
                .enterprises_since(0)?
                .into_iter()
                .filter(|e| scope.covers_enterprise(e))
                .filter(|e| {
                    wanted.as_deref().is_none_or(|q| {
                        e.name.contains(q) || e.credit_code.as_str() == q || e.address.contains(q)
                    })
                })
                .collect();
            found.sort_by(|a, b| a.region_code.cmp(&b.region_code).then(a.name.cmp(&b.name)));
            let names: std::collections::HashMap<String, String> =
                regions.into_iter().map(|r| (r.code, r.name)).collect();
            Ok((found, names))
        })
        .await?;
    let body = html! {
        h1 { "企业档案" }
        form class="filters" method="get" action="/review/enterprises" {
            label {
                "企业 "
                input name="q" placeholder="名称、地址或统一社会信用代码"
                    value=(needle.as_deref().unwrap_or(""));
            }
            button type="submit" { "查找" }
        }
        @if enterprises.is_empty() {
            p class="message" { "没有符合条件的企业。" }
        } @else {
            p { "共 " (enterprises.len()) " 家。" }
            (scrolling(html! {
                table id="enterprises" {
                    thead {
                        tr { th { "单位名称" } th { "统一社会信用代码" } th { "区划" } th { "行业" } th { "地址" } }
                    }
                    tbody {
                        @for e in &enterprises {
                            @let code = e.credit_code.as_str();
                            tr data-enterprise=(code) {
                                td { a href={ "/review/enterprises/" (code) } { (e.name) } }
                                td class="mono" { (code) }
                                td { (region_names.get(&e.region_code).map_or(e.region_code.as_str(), String::as_str)) }
                                td { (e.industry) }
                                td { (e.address) }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(Page::new("企业档案").body(body).html(Some(&caller)))
}

/// A device's latest event: when, and what it said.
type LatestEvent = (chrono::DateTime<Utc>, serde_json::Value);

struct Archive {
    enterprise: Enterprise,
    region_name: String,
    reference: EnterpriseArchive,
    records: Vec<RecordRow>,
    hazards: Vec<EnterpriseHazard>,
    /// The enterprise's IoT devices, each with its latest event.
    devices: Vec<(crate::iot::Device, Option<LatestEvent>)>,
}

pub(super) async fn archive(
    axum::extract::State(state): axum::extract::State<AppState>,
    Session(caller): Session,
    Path(code): Path<String>,
) -> PageResult<Response> {
    let user = caller.user.clone();
    let archive = state
        .blocking(move |store| {
            let hidden =
                || crate::store::StoreError::NotFound(format!("未找到企业 {code}，或您无权查看"));
            let regions = store.regions()?;
            let scope = Scope::of(&user, &regions);
            let enterprise = store
                .enterprise(&code)?
                .filter(|e| scope.covers_enterprise(e))
                .ok_or_else(hidden)?;
            let filter = RecordFilter {
                enterprise: Some(code.clone()),
                ..RecordFilter::default()
            };
            let records = store.list_records(&scope.records(), &filter, -1, 0)?;
            let mut hazards = store.enterprise_hazards(&code)?;
            // An enterprise sees the hazards of its own self-inspections; the orders it was
            // given reach it as documents.
            if matches!(scope, Scope::Enterprise(_)) {
                hazards.retain(|h| h.inspection_kind == InspectionKind::SelfInspection.as_str());
            }
            let region_name = regions
                .iter()
                .find(|r| r.code == enterprise.region_code)
                .map_or(enterprise.region_code.clone(), |r| r.name.clone());
            let devices = store
                .devices(&crate::store::RecordScope::Enterprise {
                    credit_code: code.clone(),
                    inspection_kinds: Vec::new(),
                })?
                .into_iter()
                .map(|d| {
                    let latest = store.latest_iot_event(&d.device_id)?;
                    Ok((d, latest))
                })
                .collect::<crate::store::StoreResult<Vec<_>>>()?;
            Ok(Archive {
                devices,
                reference: store.enterprise_archive(&code)?,
                enterprise,
                region_name,
                records,
                hazards,
            })
        })
        .await?;
    let today = china_date(Utc::now());
    let body = archive_body(&archive, today);
    Ok(Page::new(&archive.enterprise.name)
        .body(body)
        .html(Some(&caller)))
}

/// A titled table of the archive, with its count, or a line saying it is empty.
fn section(id: &str, title: &str, head: &[&str], rows: Vec<Markup>) -> Markup {
    html! {
        h2 { (title) "（" (rows.len()) "）" }
        @if rows.is_empty() {
            p { "无记录。" }
        } @else {
            (scrolling(html! {
                table id=(id) {
                    thead { tr { @for h in head { th { (h) } } } }
                    tbody { @for row in rows { (row) } }
                }
            }))
        }
    }
}

fn archive_body(archive: &Archive, today: NaiveDate) -> Markup {
    let e = &archive.enterprise;
    let reference = &archive.reference;
    let permits = reference.permits.iter().map(|p| {
        html! {
            tr {
                td { (p.permit_type.label()) }
                td class="mono" { (p.number) }
                td { (p.issued_by) }
                td class="nowrap" { (p.valid_from.to_string()) }
                td class="nowrap" { (p.valid_until.to_string()) }
                td { (validity(p.valid_until, today)) }
            }
        }
    });
    let hazard_sources = reference.hazard_sources.iter().map(|h| {
        html! {
            tr { td { (h.name) } td { (h.level.label()) } td class="nowrap" { (h.filed_on.to_string()) } }
        }
    });
    let staff = reference.staff.iter().map(|s| {
        html! {
            tr {
                td { (s.role.label()) }
                td { (s.name) }
                td { (s.certificate_type) }
                td class="mono" { (s.certificate_number) }
                td class="nowrap" { (s.valid_until.to_string()) }
                td { (validity(s.valid_until, today)) }
            }
        }
    });
    let emergency_plans = reference.emergency_plans.iter().map(|p| {
        html! {
            tr {
                td { (p.title) }
                td class="nowrap" { (p.filed_on.to_string()) }
                td class="nowrap" { (p.valid_until.to_string()) }
                td { (validity(p.valid_until, today)) }
            }
        }
    });
    let health_declarations = reference.health_declarations.iter().map(|d| {
        html! { tr { td { (d.year) } td class="nowrap" { (d.declared_on.to_string()) } } }
    });
    let work_permits = reference.work_permits.iter().map(|w| {
        html! {
            tr {
                td class="mono" { (w.number) }
                td { (w.work_type.label()) }
                td { (w.level.map_or("", |l| l.label())) }
                td { (w.area) }
                td class="nowrap" { (datetime(w.valid_from)) }
                td class="nowrap" { (datetime(w.valid_until)) }
            }
        }
    });
    let duty_leaders = reference.duty_leaders.iter().map(|d| {
        html! { tr { td class="mono" { (d.person_id) } td { (d.name) } td { (d.position) } } }
    });
    let devices = archive.devices.iter().map(|(device, latest)| {
        html! {
            tr data-device=(device.device_id) {
                td class="mono" { (device.device_id) }
                td { (device.kind.label()) }
                td { (device.location) }
                td {
                    @match (device.revoked_at, device.clock_offset_ms) {
                        (Some(_), _) => span class="badge bad" { "已吊销" },
                        (None, Some(offset)) if offset.abs() > 300_000 => span class="badge fail" {
                            "时钟偏差 " (offset / 60_000) " 分钟"
                        },
                        _ => span class="badge ok" { "正常" },
                    }
                }
                td { (latest_summary(device.kind, latest.as_ref())) }
            }
        }
    });
    let history = archive.records.iter().map(|r| {
        let state = if r.locked {
            "已锁定"
        } else if r.status == "submitted" {
            "已提交"
        } else {
            "草稿"
        };
        html! {
            tr data-record=(r.id) {
                td class="nowrap" { a href={ "/review/records/" (r.id) } { (datetime(r.started_at)) } }
                td { (kind_label(&r.inspection_kind)) }
                td { (state) }
                td class="num" { (r.hazard_count) }
            }
        }
    });
    let hazards = archive.hazards.iter().map(|h| {
        html! {
            tr {
                td class="nowrap" { a href={ "/review/records/" (h.record_id) } { (datetime(h.found_at)) } }
                td { (kind_label(&h.inspection_kind)) }
                td class="mono" { (h.item) }
                td { (h.description) }
                td { (h.class) }
                td { (h.legal_basis) }
                td class="nowrap" { (h.deadline.map_or("未定".to_string(), |d| d.to_string())) }
            }
        }
    });
    html! {
        h1 { (e.name) }
        dl class="facts" {
            dt { "统一社会信用代码" } dd class="mono" { (e.credit_code.as_str()) }
            dt { "区划" } dd { (archive.region_name) }
            dt { "行业" } dd { (e.industry) }
            dt { "地址" } dd { (e.address) }
            dt { "法定代表人" } dd { (e.legal_representative) }
            dt { "联系电话" } dd { (e.phone) }
        }
        (section("permits", "许可证", &["类型", "编号", "发证机关", "有效期自", "有效期至", "状态"], permits.collect()))
        (section("hazard-sources", "重大危险源", &["名称", "等级", "备案日期"], hazard_sources.collect()))
        (section("staff", "持证人员", &["类别", "姓名", "证书类型", "证书编号", "有效期至", "状态"], staff.collect()))
        (section("emergency-plans", "应急预案", &["名称", "备案日期", "有效期至", "状态"], emergency_plans.collect()))
        (section("health-declarations", "职业病危害项目申报", &["年度", "申报日期"], health_declarations.collect()))
        (section("work-permits", "作业票", &["编号", "作业类型", "动火级别", "作业区域", "开始", "结束"], work_permits.collect()))
        (section("duty-leaders", "带班领导", &["人员编号", "姓名", "职务"], duty_leaders.collect()))
        (section("iot-devices", "物联网设备", &["设备编号", "类型", "安装位置", "状态", "最近数据"], devices.collect()))
        (section("history", "检查记录", &["检查时间", "检查类型", "状态", "隐患"], history.collect()))
        (section("enterprise-hazards", "隐患", &["发现时间", "检查类型", "检查项", "隐患", "等级", "依据", "整改期限"], hazards.collect()))
    }
}

/// What a device last reported, in a line: for a positioning system the shift's head count
/// by area.
fn latest_summary(kind: crate::iot::DeviceKind, latest: Option<&LatestEvent>) -> String {
    let Some((at, event)) = latest else {
        return "尚无数据".into();
    };
    let when = datetime(*at);
    if kind != crate::iot::DeviceKind::Positioning {
        return when;
    }
    let mut by_area: std::collections::BTreeMap<&str, usize> = Default::default();
    for person in event["persons"].as_array().into_iter().flatten() {
        if person["out_time"].is_null() {
            *by_area
                .entry(person["area"].as_str().unwrap_or(""))
                .or_default() += 1;
        }
    }
    let areas: Vec<String> = by_area
        .iter()
        .map(|(area, n)| format!("{area}{n}人"))
        .collect();
    format!(
        "{when} {}{}：井下 {} 人（{}）",
        event["shift"]["date"].as_str().unwrap_or(""),
        event["shift"]["name"].as_str().unwrap_or(""),
        event["underground"].as_i64().unwrap_or(0),
        areas.join("，")
    )
}
