//! Following an IoT alert up, from the API or a review page alike: acknowledging the alert
//! after checking on site, and confirming a hazard an IoT rule found rectified. Both are for
//! the supervisors and inspectors whose scope holds the enterprise.

use chrono::Utc;

use anjian_core::sync::protocol::Role;

use crate::auth::{Caller, Scope};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::iot::Alert;

/// Who may acknowledge an alert: the supervisors and inspectors whose scope holds the
/// enterprise (and administrators), not the enterprise itself.
pub fn may_acknowledge(role: Role) -> bool {
    matches!(
        role,
        Role::Admin
            | Role::CitySupervisor
            | Role::DistrictSupervisor
            | Role::TownSupervisor
            | Role::Inspector
    )
}

/// Acknowledges an alert for the caller; 404 outside the scope, as for one that does not
/// exist.
pub async fn acknowledge(state: &AppState, caller: &Caller, alert_id: String) -> AppResult<Alert> {
    if !may_acknowledge(caller.user.role) {
        return Err(AppError::forbidden("只有监管人员和执法人员可以确认警报"));
    }
    let user = caller.user.clone();
    let id = alert_id.clone();
    state
        .blocking(move |store| {
            let scope = Scope::of(&user, &store.regions()?).records();
            store.acknowledge_alert(&scope, &id, &user.login, Utc::now())
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("没有警报 {alert_id}")))
}

/// Confirms an IoT hazard (an alarm-frequency hazard) rectified for the caller: the same
/// people who acknowledge alerts; 404 outside the scope.
pub async fn rectify_iot_hazard(
    state: &AppState,
    caller: &Caller,
    hazard_id: String,
) -> AppResult<chrono::DateTime<Utc>> {
    if !may_acknowledge(caller.user.role) {
        return Err(AppError::forbidden(
            "只有监管人员和执法人员可以确认隐患已整改",
        ));
    }
    let user = caller.user.clone();
    let id = hazard_id.clone();
    state
        .blocking(move |store| {
            let scope = Scope::of(&user, &store.regions()?).records();
            store.rectify_iot_hazard(&scope, &id, &user.login, Utc::now())
        })
        .await?
        .ok_or_else(|| AppError::not_found(format!("没有隐患 {hazard_id}")))
}
