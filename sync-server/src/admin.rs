//! Administration shared by the `anjian-server` subcommands and the administrators' HTTP API:
//! regions, accounts, the enterprise register, checklist templates, the agency configuration,
//! the supervisors' reference data ([`imports`]). Every input is checked here, before anything
//! is stored.

pub mod imports;

use chrono::NaiveDate;
use serde::Deserialize;

use anjian_core::agency::Agency;
use anjian_core::enterprise::{CreditCode, parse_enterprise_csv};
use anjian_core::sync::protocol::{Role, TemplateSource};
use anjian_core::template::Template;
use anjian_core::text::{Lines, text_problem};

use crate::auth::hash_password;
use crate::error::{AppError, AppResult};
use crate::password::check_new_password;
use crate::store::{ImportKind, ImportSummary, Region, Store, User};

fn invalid(message: impl Into<String>) -> AppError {
    AppError::bad_request("invalid_input", message)
}

/// Region codes: 6 digits (city, district or county) or 9 digits (town).
pub fn add_region(store: &Store, region: &Region) -> AppResult<()> {
    let code = region.code.trim();
    if ![6, 9].contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "区划代码 {code:?} 应为 6 位（市、区县）或 9 位（乡镇街道）数字"
        )));
    }
    if region.name.trim().is_empty() {
        return Err(invalid("区划名称不能为空"));
    }
    if let Some(problem) = text_problem(&region.name, Lines::One) {
        return Err(invalid(format!("区划名称{problem}")));
    }
    if let Some(parent) = &region.parent
        && !store.regions()?.iter().any(|r| &r.code == parent)
    {
        return Err(invalid(format!(
            "上级区划 {parent} 未登记：请先添加上级区划"
        )));
    }
    store.add_region(&Region {
        code: code.to_string(),
        name: region.name.trim().to_string(),
        parent: region.parent.clone(),
    })?;
    Ok(())
}

/// A new account as the administrator describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub login: String,
    pub name: String,
    pub role: String,
    pub scope: String,
    pub cert: Option<String>,
    pub cert_valid_until: Option<NaiveDate>,
    pub password: String,
}

pub fn add_user(store: &Store, account: &NewAccount) -> AppResult<User> {
    let login = account.login.trim();
    if login.len() < 2
        || login.len() > 40
        || !login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(invalid(format!(
            "账号 {login:?} 应为 2–40 个字母、数字或 . _ -"
        )));
    }
    if account.name.trim().is_empty() {
        return Err(invalid("姓名不能为空"));
    }
    // The name is printed on the documents an inspector issues.
    if let Some(problem) = text_problem(&account.name, Lines::One) {
        return Err(invalid(format!("姓名{problem}")));
    }
    let role = Role::parse(&account.role).ok_or_else(|| {
        invalid(format!(
            "角色 {:?} 无效，应为：{}",
            account.role,
            Role::ALL.map(Role::as_str).join("、")
        ))
    })?;
    let scope = account.scope.trim().to_string();
    if role.scoped_to_enterprise() {
        let code = CreditCode::parse(&scope).map_err(|e| invalid(e.to_string()))?;
        if store.enterprise(code.as_str())?.is_none() {
            return Err(invalid(format!("企业 {scope} 未登记：请先导入企业名录")));
        }
    } else if (role != Role::Admin || !scope.is_empty())
        && !store.regions()?.iter().any(|r| r.code == scope)
    {
        return Err(invalid(format!(
            "管辖区划 {scope:?} 未登记：请先用 region add 添加"
        )));
    }
    let cert = account
        .cert
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if let Some(cert) = &cert
        && (cert.len() > 40 || cert.chars().any(char::is_whitespace))
    {
        return Err(invalid(format!("执法证号 {cert:?} 无效")));
    }
    if role == Role::Inspector && (cert.is_none() || account.cert_valid_until.is_none()) {
        return Err(invalid(
            "执法人员账号须登记执法证号及有效期（--cert、--cert-valid-until）",
        ));
    }
    check_new_password(login, &account.password).map_err(invalid)?;
    let password_hash =
        hash_password(&account.password).map_err(|e| AppError::internal("password hash", e))?;
    let user = User {
        login: login.to_string(),
        name: account.name.trim().to_string(),
        role,
        scope,
        cert,
        cert_valid_until: account.cert_valid_until,
        password_hash,
        disabled: false,
    };
    store.add_user(&user)?;
    Ok(user)
}

/// Disables an account and revokes every token it holds.
pub fn disable_user(store: &Store, login: &str) -> AppResult<usize> {
    if !store.set_user_disabled(login, true)? {
        return Err(AppError::not_found(format!("账号 {login} 不存在")));
    }
    Ok(store.revoke_tokens(login, None)?)
}

/// Imports the enterprise register (the field command's CSV format), all or nothing.
pub fn import_enterprises(store: &Store, file_label: &str, csv: &[u8]) -> AppResult<usize> {
    let enterprises = parse_enterprise_csv(file_label, csv).map_err(|e| invalid(e.to_string()))?;
    let regions = store.regions()?;
    if let Some(unknown) = enterprises
        .iter()
        .find(|e| !regions.iter().any(|r| r.code == e.region_code))
    {
        return Err(invalid(format!(
            "企业 {}（{}）的区划代码 {} 未登记：请先用 region add 添加（未导入任何企业）",
            unknown.name,
            unknown.credit_code.as_str(),
            unknown.region_code
        )));
    }
    Ok(store.upsert_enterprises(&enterprises)?)
}

/// Imports one CSV file of supervisors' reference data (`docs/import-formats.md`), all or
/// nothing: every row is checked, and every enterprise and region it names must be
/// registered, before any is stored. Re-importing a file changes nothing.
pub fn import_reference(
    store: &Store,
    kind: ImportKind,
    file_label: &str,
    csv: &[u8],
) -> AppResult<ImportSummary> {
    let known = imports::Known::load(store)?;
    let batch =
        imports::parse(kind, file_label, csv, &known).map_err(|e| invalid(e.to_string()))?;
    Ok(store.import_reference(&batch)?)
}

/// Publishes a checklist template version after validating it. Returns false when the same
/// version was already published with the same text.
pub fn publish_template(store: &Store, file_label: &str, toml: &str) -> AppResult<bool> {
    let template = Template::parse(file_label, toml).map_err(|e| invalid(e.to_string()))?;
    Ok(store.publish_template(&TemplateSource {
        id: template.id.clone(),
        version: template.version,
        source: toml.to_string(),
    })?)
}

/// Publishes the checklists shipped with this build, and the earlier versions records may
/// still name (on first start; later starts add new versions only).
pub fn publish_builtin_templates(store: &Store) -> AppResult<usize> {
    let mut published = 0;
    let shipped = Template::superseded()
        .and_then(|old| Ok(old.into_iter().chain(Template::builtin()?)))
        .map_err(|e| AppError::internal("builtin templates", e))?;
    for template in shipped {
        let source = TemplateSource {
            id: template.id.clone(),
            version: template.version,
            source: template.source_text.clone(),
        };
        match store.publish_template(&source) {
            Ok(true) => published += 1,
            Ok(false) => {}
            // A version published by an administrator with other text stays as it is.
            Err(crate::store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(published)
}

/// Sets the agency configuration (the field command's agency TOML).
pub fn set_agency(store: &Store, file_label: &str, toml: &str) -> AppResult<Agency> {
    let agency = Agency::parse(file_label, toml).map_err(|e| invalid(e.to_string()))?;
    store.set_agency(toml)?;
    Ok(agency)
}

/// An IoT device as the administrator registers it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceRequest {
    pub device_id: String,
    pub kind: String,
    pub credit_code: String,
    pub location: String,
    /// Rain gauges only: this mine's 停产撤人 threshold, when not the configured one.
    #[serde(default)]
    pub rain_threshold_mm: Option<f64>,
}

/// Registers a device and returns it with its key, which is shown this once: only its
/// SHA-256 is stored.
pub fn register_device(
    store: &Store,
    request: &NewDeviceRequest,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<(crate::iot::Device, String)> {
    use crate::iot::DeviceKind;
    let device_id = request.device_id.trim();
    if device_id.is_empty()
        || device_id.len() > 64
        || !device_id.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(invalid(format!(
            "设备编号 {device_id:?} 应为 1–64 个可见 ASCII 字符（字母、数字、- 等）"
        )));
    }
    let kind = DeviceKind::parse(request.kind.trim()).ok_or_else(|| {
        invalid(format!(
            "设备类型 {:?} 未知：应为 {} 之一",
            request.kind,
            DeviceKind::names()
        ))
    })?;
    let credit_code =
        CreditCode::parse(&request.credit_code).map_err(|e| invalid(e.to_string()))?;
    let credit_code = credit_code.as_str();
    let location = request.location.trim();
    if location.is_empty() || location.chars().count() > 100 {
        return Err(invalid("安装位置不能为空，最多 100 个字符"));
    }
    let rain_threshold_tenths = match (kind, request.rain_threshold_mm) {
        (_, None) => None,
        (DeviceKind::Rain, Some(mm)) => Some(
            crate::iot::check_threshold_mm(mm)
                .map_err(|e| invalid(format!("停产撤人雨量标准{e}")))?,
        ),
        (other, Some(_)) => {
            return Err(invalid(format!(
                "只有雨量计可以设停产撤人雨量标准，{device_id} 是{}",
                other.label()
            )));
        }
    };
    let key = crate::auth::new_token().map_err(|e| AppError::internal("device key", e))?;
    let device = store.register_device(&crate::store::iot::NewDevice {
        device_id: device_id.to_string(),
        kind,
        credit_code: credit_code.to_string(),
        location: location.to_string(),
        rain_threshold_tenths,
        key_hash: crate::auth::token_hash(&key),
        registered_at: at,
    })?;
    Ok((device, key))
}
