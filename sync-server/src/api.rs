//! The HTTP API: one route table, versioned under `/api/v1`. Every handler but health, login,
//! refresh and the OpenAPI description takes a [`Caller`], and every read of a record or an
//! enterprise is checked against the caller's scope; outside it the answer is 404, exactly as
//! for something that does not exist.

use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use anjian_core::RecordDoc;
use anjian_core::agency::DocType;
use anjian_core::enterprise::Enterprise;
use anjian_core::record::Record;
use anjian_core::sync::protocol::{
    LoginRequest, LoginResponse, RefreshRequest, Role, SyncRequest, SyncResponse, UserInfo,
};
use anjian_core::sync::receipt::Receipt;

use crate::admin::{self, NewAccount};
use crate::audit;
use crate::auth::{
    ACCESS_TOKEN_TTL, Caller, ClientAddress, REFRESH_TOKEN_TTL, Scope, check_credentials,
    new_token, token_hash,
};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiQuery, Paging};
use crate::intake;
use crate::state::AppState;
use crate::store::{
    NumberRegisterEntry, RecordFilter, RecordRow, Region, TokenKind, TokenRow, User,
};
use crate::sync::handle_sync;

mod analyses;

pub use crate::extract::MAX_BODY_BYTES;

/// The OpenAPI description, served as is and checked in tests against the route table.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Every endpoint: method, path, handler. The router is built from this table, and the
/// OpenAPI test checks the description against it.
fn route_table() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/api/v1/health", get(health)),
        ("GET", "/api/v1/openapi.json", get(openapi)),
        ("POST", "/api/v1/login", post(login)),
        ("POST", "/api/v1/refresh", post(refresh)),
        ("POST", "/api/v1/logout", post(logout)),
        ("GET", "/api/v1/me", get(me)),
        ("POST", "/api/v1/sync", post(sync)),
        ("GET", "/api/v1/records", get(list_records)),
        ("GET", "/api/v1/records/{id}", get(get_record)),
        (
            "GET",
            "/api/v1/records/{id}/documents/{doc_type}",
            get(get_document),
        ),
        ("GET", "/api/v1/documents", get(list_documents)),
        ("GET", "/api/v1/analyses/hazards", get(analyses::hazards)),
        (
            "GET",
            "/api/v1/analyses/self-inspections",
            get(analyses::self_inspections),
        ),
        ("GET", "/api/v1/analyses/public", get(analyses::public)),
        (
            "GET",
            "/api/v1/analyses/attendance",
            get(analyses::attendance),
        ),
        ("GET", "/api/v1/analyses/coverage", get(analyses::coverage)),
        ("GET", "/api/v1/analyses/grading", get(analyses::grading)),
        (
            "GET",
            "/api/v1/analyses/certificates",
            get(analyses::certificates),
        ),
        ("GET", "/api/v1/analyses/permits", get(analyses::permits)),
        ("GET", "/api/v1/hazards", get(analyses::hazard_list)),
        ("POST", "/api/v1/receipts/verify", post(verify_receipt)),
        ("GET", "/api/v1/enterprises", get(list_enterprises)),
        ("GET", "/api/v1/admin/regions", get(list_regions)),
        ("POST", "/api/v1/admin/regions", post(add_region)),
        ("POST", "/api/v1/admin/users", post(add_user)),
        (
            "POST",
            "/api/v1/admin/users/{login}/disable",
            post(disable_user),
        ),
        (
            "POST",
            "/api/v1/admin/enterprises",
            post(import_enterprises),
        ),
        ("POST", "/api/v1/admin/templates", post(publish_template)),
        ("PUT", "/api/v1/admin/agency", put(set_agency)),
        ("GET", "/api/v1/admin/numbers", get(number_register)),
        ("GET", "/api/v1/admin/audit/verify", get(verify_audit_log)),
        (
            "POST",
            "/api/v1/iot/{kind}",
            post(intake::post_batch).layer(DefaultBodyLimit::max(intake::MAX_BATCH_BYTES)),
        ),
        ("GET", "/api/v1/alerts", get(intake::list_alerts)),
        (
            "POST",
            "/api/v1/alerts/{alert_id}/acknowledge",
            post(intake::acknowledge_alert),
        ),
        (
            "POST",
            "/api/v1/iot-hazards/{hazard_id}/rectify",
            post(intake::rectify_iot_hazard),
        ),
        (
            "GET",
            "/api/v1/admin/iot/devices",
            get(intake::list_devices),
        ),
        (
            "POST",
            "/api/v1/admin/iot/devices",
            post(intake::register_device),
        ),
        (
            "POST",
            "/api/v1/admin/iot/devices/{device_id}/revoke",
            post(intake::revoke_device),
        ),
    ]
}

/// The (method, path) of every endpoint served.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    route_table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

pub fn app(state: AppState) -> Router {
    let mut by_path: std::collections::BTreeMap<&str, MethodRouter<AppState>> =
        std::collections::BTreeMap::new();
    for (_, path, handler) in route_table() {
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(path, merged);
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .merge(crate::review::routes())
        .merge(crate::verify::routes())
        .route("/metrics", get(crate::observe::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(crate::transport::guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::observe::observe,
        ))
        .with_state(state)
}

/// A TOML body (a checklist, the agency), or the same document as JSON, which is stored as
/// the TOML it stands for.
async fn toml_body(request: Request) -> AppResult<String> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    let text = text_body(request).await?;
    if !json {
        return Ok(text);
    }
    let table: toml::Table = serde_json::from_str(&text).map_err(|e| {
        AppError::bad_request(
            "invalid_json",
            format!(
                "JSON 应为一个对象，且不含 null（TOML 没有空值）：第 {} 行第 {} 列有误",
                e.line(),
                e.column()
            ),
        )
    })?;
    toml::to_string(&table).map_err(|e| AppError::internal("json as toml", e))
}

/// A text body (CSV, TOML) within the size limit.
async fn text_body(request: Request) -> AppResult<String> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("请求体超过 {} MiB 上限", MAX_BODY_BYTES / 1024 / 1024),
            )
        })?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| AppError::bad_request("invalid_body", "请求体应为 UTF-8 文本"))
}

async fn not_found() -> AppError {
    AppError::not_found("没有这个接口")
}

async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "此接口不接受这种请求方法",
    )
}

async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    Json(json!({ "status": "ok", "backend": state.store.backend() }))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

type State = axum::extract::State<AppState>;

fn user_info(user: &User) -> UserInfo {
    UserInfo {
        login: user.login.clone(),
        name: user.name.clone(),
        role: user.role,
        scope: user.scope.clone(),
        cert: user.cert.clone(),
        cert_valid_until: user.cert_valid_until,
    }
}

fn check_device_id(device_id: &str) -> AppResult<()> {
    let ok = !device_id.trim().is_empty()
        && device_id.len() <= 64
        && device_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "invalid_input",
            "设备编号应为不超过 64 个字母、数字或连字符",
        ))
    }
}

/// Issues an access token and a device-bound refresh token.
fn issue_tokens(state: &AppState, user: &User, device_id: &str) -> AppResult<LoginResponse> {
    let now = Utc::now();
    let access = new_token().map_err(|e| AppError::internal("token", e))?;
    let refresh = new_token().map_err(|e| AppError::internal("token", e))?;
    for (token, kind, ttl) in [
        (&access, TokenKind::Access, ACCESS_TOKEN_TTL),
        (&refresh, TokenKind::Refresh, REFRESH_TOKEN_TTL),
    ] {
        state.store.insert_token(&TokenRow {
            hash: token_hash(token),
            kind,
            login: user.login.clone(),
            device_id: device_id.to_string(),
            expires_at: now + ttl,
            revoked: false,
        })?;
    }
    Ok(LoginResponse {
        access_token: access,
        refresh_token: refresh,
        expires_in: ACCESS_TOKEN_TTL.num_seconds() as u64,
        user: user_info(user),
        server_public_key: state.public_key_hex(),
        server_keys: state.known_keys().to_vec(),
    })
}

async fn login(
    state: State,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    check_device_id(&request.device_id)?;
    crate::auth::check_login_length(&request.login, &request.password)?;
    let response = state
        .run(move |state| {
            let user = check_credentials(state, &request.login, &request.password, &address)?;
            issue_tokens(state, &user, &request.device_id)
        })
        .await?;
    Ok(Json(response))
}

async fn refresh(
    state: State,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> AppResult<Json<LoginResponse>> {
    let response = state
        .run(move |state| {
            let hash = token_hash(&request.refresh_token);
            let invalid = || AppError::unauthorized("刷新令牌无效、已过期或已注销：请重新登录");
            let row = state
                .store
                .token(&hash)?
                .filter(|row| row.kind == TokenKind::Refresh)
                .ok_or_else(invalid)?;
            if row.revoked {
                // A refresh token is used once. Seeing it again means someone kept a copy: the
                // device's whole family of tokens goes, the successor included, so that
                // whichever of the two holds the newer token cannot go on either.
                let revoked = state
                    .store
                    .revoke_tokens(&row.login, Some(&row.device_id))?;
                tracing::warn!(
                    login = %row.login,
                    device = %row.device_id,
                    revoked,
                    "a used refresh token was presented again; revoked the device's live tokens"
                );
                return Err(AppError::unauthorized(
                    "刷新令牌已使用过：为安全起见，这台设备的登录已全部注销，请重新登录",
                ));
            }
            if row.expires_at <= Utc::now() {
                return Err(invalid());
            }
            if row.device_id != request.device_id {
                return Err(AppError::unauthorized("刷新令牌不属于这台设备：请重新登录"));
            }
            let user = state
                .store
                .user(&row.login)?
                .filter(|u| !u.disabled)
                .ok_or_else(|| AppError::unauthorized("账号已停用"))?;
            // The refresh token is used once: the answer carries a new one.
            state.store.revoke_token(&hash)?;
            issue_tokens(state, &user, &row.device_id)
        })
        .await?;
    Ok(Json(response))
}

async fn logout(state: State, caller: Caller) -> AppResult<Json<serde_json::Value>> {
    let revoked = state
        .blocking(move |store| {
            store.revoke_token(&caller.token_hash)?;
            store.revoke_tokens(&caller.user.login, Some(&caller.device_id))
        })
        .await?;
    Ok(Json(json!({ "revoked": revoked + 1 })))
}

async fn me(caller: Caller) -> Json<UserInfo> {
    Json(user_info(&caller.user))
}

async fn sync(
    state: State,
    caller: Caller,
    ApiJson(request): ApiJson<SyncRequest>,
) -> AppResult<Json<SyncResponse>> {
    let response = state
        .run(move |state| handle_sync(state, &caller, request, Utc::now()))
        .await?;
    Ok(Json(response))
}

async fn list_records(
    state: State,
    caller: Caller,
    ApiQuery(paging): ApiQuery<Paging>,
) -> AppResult<Json<Vec<RecordRow>>> {
    let (limit, offset) = paging.bounds()?;
    let rows = state
        .blocking(move |store| {
            let scope = Scope::of(&caller.user, &store.regions()?);
            store.list_records(&scope.records(), &RecordFilter::default(), limit, offset)
        })
        .await?;
    Ok(Json(rows))
}

#[derive(Debug, Serialize)]
struct QuarantineView {
    uploader: String,
    device_id: String,
    received_at: chrono::DateTime<Utc>,
    changes_hash: String,
}

#[derive(Debug, Serialize)]
struct RecordView {
    record: Record,
    locked: bool,
    receipt: Option<Receipt>,
    amends: Option<String>,
    amendments: Vec<String>,
    quarantined: Vec<QuarantineView>,
}

async fn get_record(
    state: State,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<RecordView>> {
    let view = state
        .run(move |state| {
            let store = state.store.as_ref();
            let hidden = || AppError::not_found(format!("未找到记录 {id}，或您无权查看"));
            let stored = store.record(&id)?.ok_or_else(hidden)?;
            let scope = Scope::of(&caller.user, &store.regions()?);
            if !scope.may_read(&stored) {
                return Err(hidden());
            }
            let record = RecordDoc::load(&id, &stored.doc, &[], "server")
                .and_then(|mut doc| doc.read())
                .map_err(|e| AppError::internal("stored record", e))?;
            let quarantined = store
                .quarantined(&id)?
                .into_iter()
                .map(|q| QuarantineView {
                    uploader: q.uploader,
                    device_id: q.device_id,
                    received_at: q.received_at,
                    changes_hash: q.changes_hash,
                })
                .collect();
            Ok(RecordView {
                locked: stored.lock.is_some(),
                receipt: stored.lock.clone(),
                amends: stored.amends.clone(),
                amendments: store.amendments_of(&id)?,
                quarantined,
                record,
            })
        })
        .await?;
    Ok(Json(view))
}

/// An issued enforcement document of a record, as the HTML page the device renders too.
async fn get_document(
    state: State,
    caller: Caller,
    Path((id, doc_type)): Path<(String, String)>,
) -> AppResult<impl IntoResponse> {
    let doc_type = DocType::parse(&doc_type).ok_or_else(|| {
        AppError::not_found(format!(
            "文书类型 {doc_type} 无效：应为 record、order 或 reinspection"
        ))
    })?;
    let html = state
        .run(move |state| {
            let document = crate::documents::readable_document(state, &caller.user, &id, doc_type)?;
            Ok(anjian_core::document::html::render(&document))
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                crate::documents::DOCUMENT_CSP,
            ),
        ],
        html,
    ))
}

#[derive(Debug, Serialize)]
struct DocumentRow {
    record_id: String,
    doc_type: DocType,
    title: &'static str,
    number: String,
    issued_at: chrono::DateTime<Utc>,
}

/// The issued documents the caller may read: an enterprise officer, those addressed to the
/// enterprise.
async fn list_documents(state: State, caller: Caller) -> AppResult<Json<Vec<DocumentRow>>> {
    let rows = state
        .blocking(move |store| {
            let scope = Scope::of(&caller.user, &store.regions()?);
            let mut rows = Vec::new();
            let mut readable = std::collections::HashMap::new();
            for entry in store.number_register()? {
                let Some(record_id) = entry.record_id.clone() else {
                    continue;
                };
                let may = match readable.get(&record_id) {
                    Some(may) => *may,
                    None => {
                        let may = store
                            .record(&record_id)?
                            .is_some_and(|r| scope.may_read_documents(&r));
                        readable.insert(record_id.clone(), may);
                        may
                    }
                };
                if may {
                    rows.push(DocumentRow {
                        record_id,
                        doc_type: entry.doc_type,
                        title: entry.doc_type.title(),
                        number: entry.number,
                        issued_at: entry.at,
                    });
                }
            }
            rows.sort_by_key(|r| std::cmp::Reverse(r.issued_at));
            Ok(rows)
        })
        .await?;
    Ok(Json(rows))
}

/// Checks a receipt someone holds: its signature, and that the audit log has the same entry.
async fn verify_receipt(
    state: State,
    _caller: Caller,
    ApiJson(receipt): ApiJson<Receipt>,
) -> AppResult<Json<serde_json::Value>> {
    let index = receipt.log_index;
    state
        .run(move |state| {
            let invalid = |message: String| AppError::bad_request("invalid_receipt", message);
            receipt
                .verify_with(state.known_keys())
                .map_err(|problem| invalid(problem.to_string()))?;
            let logged = state
                .store
                .audit_log()?
                .into_iter()
                .find(|entry| entry.log_index == receipt.log_index);
            if logged.as_ref() != Some(&receipt) {
                return Err(invalid(format!(
                    "审计日志第 {} 条与回执不符",
                    receipt.log_index
                )));
            }
            Ok(())
        })
        .await?;
    Ok(Json(json!({ "valid": true, "log_index": index })))
}

async fn list_enterprises(state: State, caller: Caller) -> AppResult<Json<Vec<Enterprise>>> {
    let list = state
        .blocking(move |store| {
            let scope = Scope::of(&caller.user, &store.regions()?);
            Ok(store
                .enterprises_since(0)?
                .into_iter()
                .filter(|e| scope.covers_enterprise(e))
                .collect())
        })
        .await?;
    Ok(Json(list))
}

fn require_admin(caller: &Caller) -> AppResult<()> {
    if caller.user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden("只有系统管理员可以进行此操作"))
    }
}

async fn list_regions(state: State, caller: Caller) -> AppResult<Json<Vec<Region>>> {
    require_admin(&caller)?;
    Ok(Json(state.blocking(|store| store.regions()).await?))
}

async fn add_region(
    state: State,
    caller: Caller,
    ApiJson(region): ApiJson<Region>,
) -> AppResult<(StatusCode, Json<Region>)> {
    require_admin(&caller)?;
    let added = region.clone();
    state
        .run(move |state| admin::add_region(state.store.as_ref(), &added))
        .await?;
    Ok((StatusCode::CREATED, Json(region)))
}

async fn add_user(
    state: State,
    caller: Caller,
    ApiJson(account): ApiJson<NewAccount>,
) -> AppResult<(StatusCode, Json<UserInfo>)> {
    require_admin(&caller)?;
    let user = state
        .run(move |state| admin::add_user(state.store.as_ref(), &account))
        .await?;
    Ok((StatusCode::CREATED, Json(user_info(&user))))
}

async fn disable_user(
    state: State,
    caller: Caller,
    Path(login): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    require_admin(&caller)?;
    let revoked = state
        .run(move |state| admin::disable_user(state.store.as_ref(), &login))
        .await?;
    Ok(Json(json!({ "disabled": true, "revoked_tokens": revoked })))
}

async fn import_enterprises(
    state: State,
    caller: Caller,
    request: Request,
) -> AppResult<Json<serde_json::Value>> {
    require_admin(&caller)?;
    let text = text_body(request).await?;
    let imported = state
        .run(move |state| {
            admin::import_enterprises(state.store.as_ref(), "上传的企业名录", text.as_bytes())
        })
        .await?;
    Ok(Json(json!({ "imported": imported })))
}

async fn publish_template(
    state: State,
    caller: Caller,
    request: Request,
) -> AppResult<Json<serde_json::Value>> {
    require_admin(&caller)?;
    let text = toml_body(request).await?;
    let published = state
        .run(move |state| admin::publish_template(state.store.as_ref(), "上传的模板", &text))
        .await?;
    Ok(Json(json!({ "published": published })))
}

async fn set_agency(
    state: State,
    caller: Caller,
    request: Request,
) -> AppResult<Json<serde_json::Value>> {
    require_admin(&caller)?;
    let text = toml_body(request).await?;
    let agency = state
        .run(move |state| admin::set_agency(state.store.as_ref(), "上传的机关配置", &text))
        .await?;
    Ok(Json(
        json!({ "name": agency.name, "short_name": agency.short_name }),
    ))
}

async fn number_register(
    state: State,
    caller: Caller,
) -> AppResult<Json<Vec<NumberRegisterEntry>>> {
    require_admin(&caller)?;
    Ok(Json(state.blocking(|store| store.number_register()).await?))
}

async fn verify_audit_log(state: State, caller: Caller) -> AppResult<Json<audit::Verification>> {
    require_admin(&caller)?;
    let verification = state
        .run(move |state| {
            let checkpoint = state
                .latest_checkpoint()
                .map_err(|e| AppError::internal("audit checkpoint", e))?;
            audit::verify(
                state.store.as_ref(),
                state.known_keys(),
                checkpoint.as_ref(),
            )
        })
        .await?;
    Ok(Json(verification))
}
