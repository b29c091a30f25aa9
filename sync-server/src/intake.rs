//! The IoT routes: devices post batches of events with their own key (`POST
//! /api/v1/iot/{kind}`), administrators register and revoke devices, and supervisors and
//! inspectors read the alerts of the enterprises in their scope. A refused batch is answered
//! with a 4xx naming the problem, logged, and leaves nothing stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use anjian_core::sync::protocol::Role;

use crate::admin::{self, NewDeviceRequest};
use crate::auth::{Caller, Scope, token_hash};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiQuery, Paging};
use crate::follow_up;
use crate::iot::{BatchError, ClockStatus, Device, DeviceKind, check_batch};
use crate::state::AppState;
use crate::store::iot::Alert;

/// The most a batch's body may hold.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;

/// The intake's answer to a stored batch.
#[derive(Debug, Serialize, Deserialize)]
pub struct IntakeAnswer {
    pub stored: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub alerts: Vec<String>,
    /// Server time minus the batch's `sent_at`.
    pub clock_offset_ms: i64,
    pub clock: String,
}

fn refused(device: Option<&str>, error: AppError) -> AppError {
    tracing::warn!(
        status = error.status.as_u16(),
        code = error.code,
        device = device.unwrap_or("(unknown key)"),
        message = %error.message,
        "iot batch refused"
    );
    error
}

/// The device the request's key belongs to: 401 for no key, an unknown key or a revoked one.
async fn device_of(state: &AppState, headers: &HeaderMap) -> AppResult<Device> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            refused(
                None,
                AppError::unauthorized(
                    "缺少设备密钥：请在 Authorization: Bearer 中给出登记时发放的密钥",
                ),
            )
        })?;
    let hash = token_hash(key);
    let found = state
        .blocking(move |store| store.device_by_key(&hash))
        .await?;
    match found {
        None => Err(refused(
            None,
            AppError::unauthorized("设备密钥无效：该密钥未登记"),
        )),
        Some(device) if device.revoked_at.is_some() => Err(refused(
            Some(&device.device_id),
            AppError::unauthorized(format!(
                "设备 {} 的密钥已吊销：请管理员重新登记设备",
                device.device_id
            )),
        )),
        Some(device) => Ok(device),
    }
}

pub async fn post_batch(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<Json<IntakeAnswer>> {
    let received_at = Utc::now();
    let device = device_of(&state, &headers).await?;
    let id = device.device_id.clone();
    let Some(kind) = DeviceKind::parse(&kind) else {
        return Err(refused(
            Some(&id),
            AppError::not_found(format!(
                "没有 {kind} 这类设备的接入地址：应为 {}",
                DeviceKind::names()
            )),
        ));
    };
    if kind != device.kind {
        return Err(refused(
            Some(&id),
            AppError::forbidden(format!(
                "设备 {id} 登记为{}，不能向 {} 的地址发送",
                device.kind.label(),
                kind.as_str()
            )),
        ));
    }
    let body = body.map_err(|e| {
        refused(
            Some(&id),
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "批次过大或读取失败（上限 {} MiB）：{e}",
                    MAX_BATCH_BYTES / 1024 / 1024
                ),
            ),
        )
    })?;
    let intake = check_batch(&device, &body, received_at, state.iot_config()).map_err(|e| {
        refused(
            Some(&id),
            match e {
                BatchError::Malformed(message) => AppError::bad_request("bad_batch", message),
                BatchError::Forbidden(message) => AppError::forbidden(message),
            },
        )
    })?;
    let clock = match intake.clock {
        ClockStatus::Ok => "ok",
        ClockStatus::Corrected => "corrected",
        ClockStatus::Suspect => "suspect",
    };
    let offset = intake.clock_offset_ms;
    let config = state.iot_config().clone();
    let outcome = state
        .blocking(move |store| crate::iot::ingest(store, &intake, &config))
        .await?;
    let metrics = &state.metrics;
    metrics.iot_events(kind.as_str(), "stored", outcome.stored as u64);
    metrics.iot_events(kind.as_str(), "duplicate", outcome.duplicates as u64);
    metrics.iot_events(kind.as_str(), "conflict", outcome.conflicts as u64);
    Ok(Json(IntakeAnswer {
        stored: outcome.stored,
        duplicates: outcome.duplicates,
        conflicts: outcome.conflicts,
        alerts: outcome.alerts,
        clock_offset_ms: offset,
        clock: clock.to_string(),
    }))
}

fn require_admin(caller: &Caller) -> AppResult<()> {
    if caller.user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden("只有系统管理员可以进行此操作"))
    }
}

#[derive(Debug, Serialize)]
pub struct RegisteredDevice {
    pub device: Device,
    /// Shown once: the server keeps only its hash.
    pub key: String,
}

pub async fn register_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<NewDeviceRequest>,
) -> AppResult<(StatusCode, Json<RegisteredDevice>)> {
    require_admin(&caller)?;
    let (device, key) = state
        .run(move |state| admin::register_device(state.store.as_ref(), &request, Utc::now()))
        .await?;
    Ok((StatusCode::CREATED, Json(RegisteredDevice { device, key })))
}

pub async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<Device>>> {
    require_admin(&caller)?;
    Ok(Json(
        state
            .blocking(|store| store.devices(&crate::store::RecordScope::All))
            .await?,
    ))
}

pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    require_admin(&caller)?;
    let id = device_id.clone();
    let found = state
        .blocking(move |store| store.revoke_device(&id, Utc::now()))
        .await?;
    if !found {
        return Err(AppError::not_found(format!("设备 {device_id} 未登记")));
    }
    Ok(Json(
        serde_json::json!({ "device_id": device_id, "revoked": true }),
    ))
}

#[derive(Debug, Serialize)]
pub struct AlertPage {
    pub total: i64,
    pub alerts: Vec<Alert>,
}

/// The alerts of the enterprises in the caller's scope, newest first.
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(paging): ApiQuery<Paging>,
) -> AppResult<Json<AlertPage>> {
    let (limit, offset) = paging.bounds()?;
    let user = caller.user;
    let (alerts, total) = state
        .blocking(move |store| {
            let scope = Scope::of(&user, &store.regions()?).records();
            store.alerts(&scope, limit, offset)
        })
        .await?;
    Ok(Json(AlertPage { total, alerts }))
}

pub async fn acknowledge_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(alert_id): Path<String>,
) -> AppResult<Json<Alert>> {
    Ok(Json(
        follow_up::acknowledge(&state, &caller, alert_id).await?,
    ))
}

/// Runs the absence rules (a shift with no positioning upload, 带班) every
/// `absence.tick_seconds` for as long as the server runs. A failed run is logged and the next
/// one tries again: the rules look back over `absence.lookback_hours`.
pub async fn absence_rules(state: AppState) {
    let every = std::time::Duration::from_secs(state.iot_config().absence.tick_seconds);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let config = state.iot_config().clone();
        match state
            .blocking(move |store| crate::iot::tick(store, Utc::now(), &config))
            .await
        {
            Ok(outcome) if !outcome.alerts.is_empty() => tracing::info!(
                alerts = outcome.alerts.len(),
                "iot absence rules raised alerts"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "iot absence rules failed"),
        }
    }
}

pub async fn rectify_iot_hazard(
    State(state): State<AppState>,
    caller: Caller,
    Path(hazard_id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let at = follow_up::rectify_iot_hazard(&state, &caller, hazard_id.clone()).await?;
    Ok(Json(
        serde_json::json!({ "hazard_id": hazard_id, "rectified_at": at }),
    ))
}
