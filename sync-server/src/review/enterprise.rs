//! The enterprise archive: the enterprises in scope, and one enterprise's profile, permits,
//! major hazard sources, certified staff, emergency plans, health declarations, work permits,
//! duty leaders, IoT devices (with a positioning system's last head count by area) and every
//! inspection and hazard in its history.

use axum::extract::{Path, Query};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use anjian_core::enterprise::Enterprise;
use anjian_core::template::InspectionKind;
use anjian_core::time::china_date;

use super::page::{Page, datetime, kind_label};
use super::{PageResult, Session};
use crate::auth::Scope;
use crate::report::escape;
use crate::state::AppState;
use crate::store::reference::EnterpriseArchive;
use crate::store::{EnterpriseHazard, RecordFilter, RecordRow};

/// A permit, certificate or plan this close to its last day is shown as expiring.
const EXPIRING_DAYS: i64 = 90;

fn validity(valid_until: NaiveDate, today: NaiveDate) -> &'static str {
    if valid_until < today {
        "<span class=\"badge bad\">已过期</span>"
    } else if (valid_until - today).num_days() <= EXPIRING_DAYS {
        "<span class=\"badge fail\">即将到期</span>"
    } else {
        "<span class=\"badge ok\">有效</span>"
    }
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
    let mut body = format!(
        "<h1>企业档案</h1><form class=\"filters\" method=\"get\" action=\"/review/enterprises\">\
         <label>企业 <input name=\"q\" placeholder=\"名称、地址或统一社会信用代码\" value=\"{}\"></label>\
         <button type=\"submit\">查找</button></form>",
        escape(needle.as_deref().unwrap_or(""))
    );
    if enterprises.is_empty() {
        body.push_str("<p class=\"message\">没有符合条件的企业。</p>");
    } else {
        body.push_str(&format!(
            "<p>共 {} 家。</p><div class=\"table-scroll\" tabindex=\"0\"><table id=\"enterprises\"><thead><tr><th>单位名称</th><th>统一社会信用代码</th>\
             <th>区划</th><th>行业</th><th>地址</th></tr></thead><tbody>",
            enterprises.len()
        ));
        for e in &enterprises {
            body.push_str(&format!(
                "<tr data-enterprise=\"{code}\"><td><a href=\"/review/enterprises/{code}\">{name}</a></td>\
                 <td class=\"mono\">{code}</td><td>{region}</td><td>{industry}</td><td>{address}</td></tr>",
                code = escape(e.credit_code.as_str()),
                name = escape(&e.name),
                region = escape(
                    region_names
                        .get(&e.region_code)
                        .map_or(e.region_code.as_str(), String::as_str)
                ),
                industry = escape(&e.industry),
                address = escape(&e.address),
            ));
        }
        body.push_str("</tbody></table></div>");
    }
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

fn archive_body(archive: &Archive, today: NaiveDate) -> String {
    let e = &archive.enterprise;
    let reference = &archive.reference;
    let mut body = format!(
        "<h1>{name}</h1><dl class=\"facts\"><dt>统一社会信用代码</dt><dd class=\"mono\">{code}</dd>\
         <dt>区划</dt><dd>{region}</dd><dt>行业</dt><dd>{industry}</dd><dt>地址</dt><dd>{address}</dd>\
         <dt>法定代表人</dt><dd>{legal}</dd><dt>联系电话</dt><dd>{phone}</dd></dl>",
        name = escape(&e.name),
        code = escape(e.credit_code.as_str()),
        region = escape(&archive.region_name),
        industry = escape(&e.industry),
        address = escape(&e.address),
        legal = escape(&e.legal_representative),
        phone = escape(&e.phone),
    );

    let section = |body: &mut String, id: &str, title: &str, head: &[&str], rows: Vec<String>| {
        body.push_str(&format!("<h2>{title}（{}）</h2>", rows.len()));
        if rows.is_empty() {
            body.push_str("<p>无记录。</p>");
            return;
        }
        body.push_str(&format!(
            "<div class=\"table-scroll\" tabindex=\"0\"><table id=\"{id}\"><thead><tr>"
        ));
        for h in head {
            body.push_str(&format!("<th>{h}</th>"));
        }
        body.push_str("</tr></thead><tbody>");
        for row in rows {
            body.push_str(&row);
        }
        body.push_str("</tbody></table></div>");
    };

    section(
        &mut body,
        "permits",
        "许可证",
        &["类型", "编号", "发证机关", "有效期自", "有效期至", "状态"],
        reference
            .permits
            .iter()
            .map(|p| {
                format!(
                    "<tr><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td>{}</td></tr>",
                    p.permit_type.label(),
                    escape(&p.number),
                    escape(&p.issued_by),
                    p.valid_from,
                    p.valid_until,
                    validity(p.valid_until, today)
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "hazard-sources",
        "重大危险源",
        &["名称", "等级", "备案日期"],
        reference
            .hazard_sources
            .iter()
            .map(|h| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td class=\"nowrap\">{}</td></tr>",
                    escape(&h.name),
                    h.level.label(),
                    h.filed_on
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "staff",
        "持证人员",
        &["类别", "姓名", "证书类型", "证书编号", "有效期至", "状态"],
        reference
            .staff
            .iter()
            .map(|s| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"nowrap\">{}</td><td>{}</td></tr>",
                    s.role.label(),
                    escape(&s.name),
                    escape(&s.certificate_type),
                    escape(&s.certificate_number),
                    s.valid_until,
                    validity(s.valid_until, today)
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "emergency-plans",
        "应急预案",
        &["名称", "备案日期", "有效期至", "状态"],
        reference
            .emergency_plans
            .iter()
            .map(|p| {
                format!(
                    "<tr><td>{}</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td><td>{}</td></tr>",
                    escape(&p.title),
                    p.filed_on,
                    p.valid_until,
                    validity(p.valid_until, today)
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "health-declarations",
        "职业病危害项目申报",
        &["年度", "申报日期"],
        reference
            .health_declarations
            .iter()
            .map(|d| {
                format!(
                    "<tr><td>{}</td><td class=\"nowrap\">{}</td></tr>",
                    d.year, d.declared_on
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "work-permits",
        "作业票",
        &["编号", "作业类型", "动火级别", "作业区域", "开始", "结束"],
        reference
            .work_permits
            .iter()
            .map(|w| {
                format!(
                    "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"nowrap\">{}</td><td class=\"nowrap\">{}</td></tr>",
                    escape(&w.number),
                    w.work_type.label(),
                    w.level.map_or("", |l| l.label()),
                    escape(&w.area),
                    datetime(w.valid_from),
                    datetime(w.valid_until)
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "duty-leaders",
        "带班领导",
        &["人员编号", "姓名", "职务"],
        reference
            .duty_leaders
            .iter()
            .map(|d| {
                format!(
                    "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&d.person_id),
                    escape(&d.name),
                    escape(&d.position)
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "iot-devices",
        "物联网设备",
        &["设备编号", "类型", "安装位置", "状态", "最近数据"],
        archive
            .devices
            .iter()
            .map(|(device, latest)| {
                format!(
                    "<tr data-device=\"{id}\"><td class=\"mono\">{id}</td><td>{kind}</td><td>{location}</td>\
                     <td>{state}</td><td>{latest}</td></tr>",
                    id = escape(&device.device_id),
                    kind = device.kind.label(),
                    location = escape(&device.location),
                    state = match (device.revoked_at, device.clock_offset_ms) {
                        (Some(_), _) => "<span class=\"badge bad\">已吊销</span>".to_string(),
                        (None, Some(offset)) if offset.abs() > 300_000 => format!(
                            "<span class=\"badge fail\">时钟偏差 {} 分钟</span>",
                            offset / 60_000
                        ),
                        _ => "<span class=\"badge ok\">正常</span>".to_string(),
                    },
                    latest = latest_summary(device.kind, latest.as_ref()),
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "history",
        "检查记录",
        &["检查时间", "检查类型", "状态", "隐患"],
        archive
            .records
            .iter()
            .map(|r| {
                format!(
                    "<tr data-record=\"{id}\"><td class=\"nowrap\"><a href=\"/review/records/{id}\">{at}</a></td><td>{kind}</td>\
                     <td>{state}</td><td class=\"num\">{hazards}</td></tr>",
                    id = escape(&r.id),
                    at = datetime(r.started_at),
                    kind = kind_label(&r.inspection_kind),
                    state = if r.locked {
                        "已锁定"
                    } else if r.status == "submitted" {
                        "已提交"
                    } else {
                        "草稿"
                    },
                    hazards = r.hazard_count,
                )
            })
            .collect(),
    );
    section(
        &mut body,
        "enterprise-hazards",
        "隐患",
        &["发现时间", "检查类型", "检查项", "隐患", "等级", "依据", "整改期限"],
        archive
            .hazards
            .iter()
            .map(|h| {
                format!(
                    "<tr><td class=\"nowrap\"><a href=\"/review/records/{id}\">{at}</a></td><td>{kind}</td><td class=\"mono\">{item}</td>\
                     <td>{description}</td><td>{class}</td><td>{basis}</td><td class=\"nowrap\">{deadline}</td></tr>",
                    id = escape(&h.record_id),
                    at = datetime(h.found_at),
                    kind = kind_label(&h.inspection_kind),
                    item = escape(&h.item),
                    description = escape(&h.description),
                    class = escape(&h.class),
                    basis = escape(&h.legal_basis),
                    deadline = h.deadline.map_or("未定".to_string(), |d| d.to_string()),
                )
            })
            .collect(),
    );
    body
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
        .map(|(area, n)| format!("{}{n}人", escape(area)))
        .collect();
    format!(
        "{when} {}{}：井下 {} 人（{}）",
        escape(event["shift"]["date"].as_str().unwrap_or("")),
        escape(event["shift"]["name"].as_str().unwrap_or("")),
        event["underground"].as_i64().unwrap_or(0),
        areas.join("，")
    )
}
