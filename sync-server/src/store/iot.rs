//! The IoT tables (schema version 8), one SQL for both backends: the device registry (keys
//! kept as SHA-256 only), the events (idempotent by device and event id; a changed resend is
//! put aside in `iot_event_conflicts`), the gauges' rain events and the alerts the rules
//! raise. A batch is stored and its rules run in one transaction: an answered batch is
//! stored with its alerts, a refused one leaves nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::reference::{Cell, Cells, Exec, Query, fetch, text};
use super::{RecordScope, StoreError, StoreResult, from_millis, millis};
use crate::iot::rain::{self, Episode, Reading};
use crate::iot::{Device, DeviceKind, IngestOutcome, Intake, IotConfig, ShiftSpan};

/// Rows per insert statement: few statements per batch, well under either backend's limit of
/// bound values.
const CHUNK: usize = 200;

/// An alert a rule raised, as the review pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub alert_id: String,
    pub rule: AlertRule,
    pub credit_code: String,
    pub enterprise_name: String,
    pub region_code: String,
    pub device_id: Option<String>,
    /// When what the alert is about happened (device time, corrected).
    pub occurred_at: DateTime<Utc>,
    pub raised_at: DateTime<Utc>,
    pub title: String,
    /// The rule's figures (for rain: the event's readings), as JSON.
    pub detail: serde_json::Value,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
}

/// Which rule raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertRule {
    /// Cumulative rainfall of a rain event reached the mine's threshold: 停产撤人.
    RainStop,
    /// People still underground after a 停产撤人 alert and the evacuation time.
    StillUnderground,
    /// A camera saw hot work that no 动火 permit covers.
    HotWorkUnpermitted,
    /// A positioning system sent nothing for a shift.
    PositioningMissing,
    /// A shift passed with no leader of the roster checked in (带班缺岗).
    DutyAbsent,
    /// A DCS console's alarms exceeded the configured frequency: now a hazard in tracking.
    DcsFrequent,
}

impl AlertRule {
    pub const ALL: [AlertRule; 6] = [
        AlertRule::RainStop,
        AlertRule::StillUnderground,
        AlertRule::HotWorkUnpermitted,
        AlertRule::PositioningMissing,
        AlertRule::DutyAbsent,
        AlertRule::DcsFrequent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertRule::RainStop => "rain_stop",
            AlertRule::StillUnderground => "still_underground",
            AlertRule::HotWorkUnpermitted => "hot_work_unpermitted",
            AlertRule::PositioningMissing => "positioning_missing",
            AlertRule::DutyAbsent => "duty_absent",
            AlertRule::DcsFrequent => "dcs_frequent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AlertRule::RainStop => "降雨停产撤人",
            AlertRule::StillUnderground => "撤人后井下仍有人",
            AlertRule::HotWorkUnpermitted => "无票动火",
            AlertRule::PositioningMissing => "人员定位缺传",
            AlertRule::DutyAbsent => "带班缺岗",
            AlertRule::DcsFrequent => "DCS 报警频繁",
        }
    }

    fn parse(text: &str) -> StoreResult<AlertRule> {
        AlertRule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("alert rule {text:?}")))
    }
}

/// A device to register: its key is given only as its hash.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub device_id: String,
    pub kind: DeviceKind,
    pub credit_code: String,
    pub location: String,
    pub rain_threshold_tenths: Option<i64>,
    pub key_hash: String,
    pub registered_at: DateTime<Utc>,
}

const DEVICE_COLUMNS: &str = "d.device_id, d.kind, d.credit_code, d.location, d.rain_threshold, \
     d.registered_at, d.revoked_at, d.clock_offset_ms, d.last_batch_at";

fn device(row: &dyn Cells) -> StoreResult<Device> {
    let kind = row.text(1)?;
    Ok(Device {
        device_id: row.text(0)?,
        kind: DeviceKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("device kind {kind:?}")))?,
        credit_code: row.text(2)?,
        location: row.text(3)?,
        rain_threshold_tenths: row.opt_int(4)?,
        registered_at: from_millis(row.int(5)?)?,
        revoked_at: row.opt_int(6)?.map(from_millis).transpose()?,
        clock_offset_ms: row.opt_int(7)?,
        last_batch_at: row.opt_int(8)?.map(from_millis).transpose()?,
    })
}

pub(super) fn register_device(db: &mut impl Exec, new: &NewDevice) -> StoreResult<Device> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(&new.credit_code));
    query.push(&format!(
        "SELECT credit_code FROM enterprises WHERE credit_code = {code}"
    ));
    if fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Err(StoreError::NotFound(format!(
            "企业 {} 未登记：请先导入企业名录",
            new.credit_code
        )));
    }
    let mut query = Query::new(db.postgres());
    let values = [
        query.bind(text(&new.device_id)),
        query.bind(text(new.kind.as_str())),
        query.bind(text(&new.credit_code)),
        query.bind(text(&new.location)),
        query.bind(text(&new.key_hash)),
        query.bind(Cell::OptInt(new.rain_threshold_tenths)),
        query.bind(Cell::Int(millis(new.registered_at))),
    ];
    query.push(&format!(
        "INSERT INTO iot_devices (device_id, kind, credit_code, location, key_hash, \
         rain_threshold, registered_at) VALUES ({}) ON CONFLICT (device_id) DO NOTHING \
         RETURNING device_id",
        values.join(", ")
    ));
    if fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Err(StoreError::Conflict(format!(
            "设备编号 {} 已登记：换一个编号，或先吊销原设备",
            new.device_id
        )));
    }
    Ok(Device {
        device_id: new.device_id.clone(),
        kind: new.kind,
        credit_code: new.credit_code.clone(),
        location: new.location.clone(),
        rain_threshold_tenths: new.rain_threshold_tenths,
        registered_at: new.registered_at,
        revoked_at: None,
        clock_offset_ms: None,
        last_batch_at: None,
    })
}

/// The device a key belongs to, revoked or not (the caller tells the two apart).
pub(super) fn device_by_key(db: &mut impl Exec, key_hash: &str) -> StoreResult<Option<Device>> {
    let mut query = Query::new(db.postgres());
    let hash = query.bind(text(key_hash));
    query.push(&format!(
        "SELECT {DEVICE_COLUMNS} FROM iot_devices d WHERE d.key_hash = {hash}"
    ));
    Ok(fetch(db, &query, device)?.pop())
}

/// Revokes a device's key at `at`; false when no such device is registered. Revoking twice
/// keeps the first time.
pub(super) fn revoke_device(
    db: &mut impl Exec,
    device_id: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut query = Query::new(db.postgres());
    let at = query.bind(Cell::Int(millis(at)));
    let id = query.bind(text(device_id));
    query.push(&format!(
        "UPDATE iot_devices SET revoked_at = COALESCE(revoked_at, {at}) \
         WHERE device_id = {id} RETURNING device_id"
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// The devices of the enterprises in scope, by enterprise then device id.
pub(super) fn devices(db: &mut impl Exec, scope: &RecordScope) -> StoreResult<Vec<Device>> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "e");
    query.push(&format!(
        "SELECT {DEVICE_COLUMNS} FROM iot_devices d \
         JOIN enterprises e ON e.credit_code = d.credit_code \
         WHERE {condition} ORDER BY d.credit_code, d.device_id"
    ));
    fetch(db, &query, device)
}

/// IoT data belongs to an enterprise: a region's supervisors and inspectors see their
/// enterprises', an enterprise officer their own enterprise's.
fn enterprise_scope(query: &mut Query, scope: &RecordScope, alias: &str) -> String {
    match scope {
        RecordScope::All => "1 = 1".into(),
        RecordScope::Regions(codes) => query.any_of(&format!("{alias}.region_code"), codes),
        RecordScope::Enterprise { credit_code, .. } => {
            let code = query.bind(text(credit_code));
            format!("{alias}.credit_code = {code}")
        }
    }
}

/// Stores a checked batch and runs its device's rules, in the caller's transaction.
pub(super) fn ingest(
    db: &mut impl Exec,
    intake: &Intake,
    config: &IotConfig,
) -> StoreResult<IngestOutcome> {
    let device_id = &intake.device.device_id;
    let received = millis(intake.received_at);
    // First, so that on PostgreSQL the device's row lock orders its batches: two batches of
    // one gauge never recount its rain events at once. (SQLite has one writer.)
    let mut query = Query::new(db.postgres());
    let offset = query.bind(Cell::Int(intake.clock_offset_ms));
    let at = query.bind(Cell::Int(received));
    let id = query.bind(text(device_id));
    query.push(&format!(
        "UPDATE iot_devices SET clock_offset_ms = {offset}, last_batch_at = {at} \
         WHERE device_id = {id} RETURNING device_id"
    ));
    if fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Err(StoreError::NotFound(format!("设备 {device_id} 未登记")));
    }
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in intake.events.chunks(CHUNK) {
        let mut query = Query::new(db.postgres());
        let mut rows = Vec::with_capacity(chunk.len());
        for event in chunk {
            let cells = [
                query.bind(text(device_id)),
                query.bind(text(&event.event_id)),
                query.bind(Cell::Int(millis(event.at))),
                query.bind(Cell::Int(millis(event.device_at))),
                query.bind(Cell::Int(received)),
                query.bind(Cell::OptInt(event.value)),
                query.bind(Cell::OptInt(event.interval_s)),
                query.bind(text(&event.digest)),
                query.bind(text(&event.body)),
            ];
            rows.push(format!("({})", cells.join(", ")));
        }
        query.push(&format!(
            "INSERT INTO iot_events (device_id, event_id, at, device_at, received_at, value, \
             interval_s, digest, body) VALUES {} \
             ON CONFLICT (device_id, event_id) DO NOTHING RETURNING event_id",
            rows.join(", ")
        ));
        inserted.extend(fetch(db, &query, |row| row.text(0))?);
    }
    let mut outcome = IngestOutcome {
        stored: inserted.len(),
        duplicates: intake.repeated,
        ..IngestOutcome::default()
    };
    let held: Vec<&crate::iot::IotEvent> = intake
        .events
        .iter()
        .filter(|e| !inserted.contains(&e.event_id))
        .collect();
    for chunk in held.chunks(CHUNK) {
        let mut query = Query::new(db.postgres());
        let id = query.bind(text(device_id));
        let ids: Vec<String> = chunk.iter().map(|e| e.event_id.clone()).collect();
        let among = query.any_of("event_id", &ids);
        query.push(&format!(
            "SELECT event_id, digest FROM iot_events WHERE device_id = {id} AND {among}"
        ));
        let stored: std::collections::HashMap<String, String> =
            fetch(db, &query, |row| Ok((row.text(0)?, row.text(1)?)))?
                .into_iter()
                .collect();
        for event in chunk {
            if stored.get(&event.event_id) == Some(&event.digest) {
                outcome.duplicates += 1;
                continue;
            }
            outcome.conflicts += 1;
            let mut query = Query::new(db.postgres());
            let cells = [
                query.bind(text(device_id)),
                query.bind(text(&event.event_id)),
                query.bind(text(&event.digest)),
                query.bind(text(&event.body)),
                query.bind(Cell::Int(received)),
            ];
            query.push(&format!(
                "INSERT INTO iot_event_conflicts (device_id, event_id, digest, body, received_at) \
                 VALUES ({}) ON CONFLICT (device_id, event_id, digest) DO NOTHING \
                 RETURNING event_id",
                cells.join(", ")
            ));
            fetch(db, &query, |row| row.text(0))?;
        }
    }
    let new_events: Vec<&crate::iot::IotEvent> = intake
        .events
        .iter()
        .filter(|e| inserted.contains(&e.event_id))
        .collect();
    match intake.device.kind {
        DeviceKind::Video => outcome.alerts = check_hot_work(db, intake, &new_events)?,
        DeviceKind::Positioning => {
            outcome.alerts = check_evacuation(db, intake, &new_events, config)?;
        }
        DeviceKind::Face => outcome.alerts = recheck_duty(db, intake, &new_events, config)?,
        DeviceKind::Dcs => outcome.alerts = check_alarm_frequency(db, intake, &new_events, config)?,
        _ => {}
    }
    if intake.device.kind == DeviceKind::Rain {
        let readings: Vec<Reading> = intake
            .events
            .iter()
            .filter(|e| inserted.contains(&e.event_id))
            .filter_map(|e| {
                let tenths = e.value.filter(|t| *t > 0)?;
                let end_ms = millis(e.at);
                Some(Reading {
                    start_ms: end_ms - e.interval_s.unwrap_or(0) * 1000,
                    end_ms,
                    tenths,
                })
            })
            .collect();
        if !readings.is_empty() {
            outcome.alerts = apply_rain(db, intake, &readings, config)?;
        }
    }
    Ok(outcome)
}

/// Raises 无票动火 for hot work a camera saw at a time no 动火 permit of the enterprise covers
/// (in the same area, when the detection and the permit both name one); at most one alert per
/// camera and hour, so that a camera watching the work all day raises it once an hour.
fn check_hot_work(
    db: &mut impl Exec,
    intake: &Intake,
    events: &[&crate::iot::IotEvent],
) -> StoreResult<Vec<String>> {
    let device = &intake.device;
    let mut raised = Vec::new();
    for event in events {
        let body = event_body(event)?;
        if body["type"] != "hot_work" {
            continue;
        }
        let camera = body["camera"].as_str().unwrap_or_default();
        let area = body["area"].as_str().filter(|a| !a.is_empty());
        let at = millis(event.at);
        let mut query = Query::new(db.postgres());
        let code = query.bind(text(&device.credit_code));
        let when = query.bind(Cell::Int(at));
        let area_condition = match area {
            Some(area) => {
                let area = query.bind(text(area));
                format!("AND (area = '' OR area = {area})")
            }
            None => String::new(),
        };
        query.push(&format!(
            "SELECT number FROM work_permits WHERE credit_code = {code} AND work_type = '动火' \
             AND valid_from <= {when} AND valid_until >= {when} {area_condition}"
        ));
        if !fetch(db, &query, |row| row.text(0))?.is_empty() {
            continue;
        }
        let hour = at.div_euclid(3_600_000);
        let alert_id = format!("hot_work_unpermitted:{}:{camera}:{hour}", device.device_id);
        let title = format!(
            "{}摄像机 {camera}{} 于 {} 发现动火作业，未查到覆盖该时间的动火安全作业票",
            device.location,
            area.map(|a| format!("（{a}）")).unwrap_or_default(),
            anjian_core::time::format_china(event.at)
        );
        let detail = serde_json::json!({
            "camera": camera,
            "area": area,
            "event_id": event.event_id,
            "snapshot_sha256": body["snapshot_sha256"],
            "confidence": body["confidence"],
        });
        if raise_for_device(
            db,
            intake,
            AlertRule::HotWorkUnpermitted,
            &alert_id,
            at,
            &title,
            &detail,
        )? {
            raised.push(alert_id);
        }
    }
    Ok(raised)
}

/// Raises 撤人后井下仍有人 for a positioning snapshot that finds people underground longer
/// than the evacuation time after a 停产撤人 alert of the enterprise that no one has yet
/// acknowledged (production resumes only after a person confirms it is safe).
fn check_evacuation(
    db: &mut impl Exec,
    intake: &Intake,
    events: &[&crate::iot::IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let device = &intake.device;
    let grace = config.positioning.evacuation_minutes * 60_000;
    let mut raised = Vec::new();
    for event in events.iter().filter(|e| e.value.unwrap_or(0) > 0) {
        let at = millis(event.at);
        let mut query = Query::new(db.postgres());
        let code = query.bind(text(&device.credit_code));
        let latest = query.bind(Cell::Int(at - grace));
        query.push(&format!(
            "SELECT alert_id, occurred_at FROM iot_alerts WHERE credit_code = {code} \
             AND rule = 'rain_stop' AND acknowledged_at IS NULL AND occurred_at < {latest} \
             ORDER BY occurred_at LIMIT 1"
        ));
        let Some((stop, stopped_at)) =
            fetch(db, &query, |row| Ok((row.text(0)?, row.int(1)?)))?.pop()
        else {
            continue;
        };
        let body = event_body(event)?;
        let underground: Vec<serde_json::Value> = body["persons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["out_time"].is_null())
            .map(|p| serde_json::json!({"card": p["card"], "name": p["name"], "area": p["area"]}))
            .collect();
        let alert_id = format!("still_underground:{}:{}", device.device_id, event.event_id);
        let title = format!(
            "停产撤人警报发出 {} 分钟后，{}报告井下仍有 {} 人",
            (at - stopped_at) / 60_000,
            device.location,
            event.value.unwrap_or(0)
        );
        let detail = serde_json::json!({
            "stop_alert": stop,
            "stop_at": from_millis(stopped_at)?.to_rfc3339(),
            "underground": event.value,
            "persons": underground,
        });
        if raise_for_device(
            db,
            intake,
            AlertRule::StillUnderground,
            &alert_id,
            at,
            &title,
            &detail,
        )? {
            raised.push(alert_id);
        }
    }
    Ok(raised)
}

/// When a DCS gateway's activations within any window of `dcs.window_hours` ending at one of
/// the batch's new activations exceed `dcs.max_alarms`, the enterprise gets a hazard in hazard
/// tracking (kind IoT, deadline `dcs.rectify_days` on), like one an inspection found, and an
/// alert — unless the gateway's previous hazard is still open.
fn check_alarm_frequency(
    db: &mut impl Exec,
    intake: &Intake,
    events: &[&crate::iot::IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let device = &intake.device;
    let mut new: Vec<i64> = events
        .iter()
        .filter(|e| e.value == Some(1))
        .map(|e| millis(e.at))
        .collect();
    if new.is_empty() {
        return Ok(Vec::new());
    }
    new.sort_unstable();
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&device.device_id));
    query.push(&format!(
        "SELECT hazard_id FROM iot_hazards WHERE device_id = {id} AND rectified_at IS NULL"
    ));
    if !fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Ok(Vec::new());
    }
    let window = config.dcs.window_hours * 3_600_000;
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&device.device_id));
    let from = query.bind(Cell::Int(new[0] - window));
    let until = query.bind(Cell::Int(new[new.len() - 1]));
    query.push(&format!(
        "SELECT at FROM iot_events WHERE device_id = {id} AND at > {from} AND at <= {until} \
         AND value = 1 ORDER BY at"
    ));
    let activations = fetch(db, &query, |row| row.int(0))?;
    // The first new activation at which the window ending there holds too many.
    let crossed = new.iter().find_map(|&end| {
        let start = activations.partition_point(|&at| at <= end - window);
        let stop = activations.partition_point(|&at| at <= end);
        let count = (stop - start) as i64;
        (count > config.dcs.max_alarms).then_some((end, count))
    });
    let Some((at, count)) = crossed else {
        return Ok(Vec::new());
    };
    let found = from_millis(at)?;
    let deadline =
        anjian_core::time::china_date(found) + chrono::Duration::days(config.dcs.rectify_days);
    let hazard_id = format!("dcs:{}:{at}", device.device_id);
    let description = format!(
        "DCS 报警频繁：{}（{}）{} 小时内报警 {count} 次，超过 {} 次的管理要求",
        device.location, device.device_id, config.dcs.window_hours, config.dcs.max_alarms
    );
    let mut query = Query::new(db.postgres());
    let cells = [
        query.bind(text(&hazard_id)),
        query.bind(text(&device.credit_code)),
        query.bind(text(&device.device_id)),
        query.bind(text(&device.location)),
        query.bind(text(&description)),
        query.bind(Cell::Int(at)),
        query.bind(super::reference::date_cell(deadline)),
    ];
    query.push(&format!(
        "INSERT INTO iot_hazards (hazard_id, credit_code, device_id, subject, description, \
         found_at, deadline) VALUES ({}) RETURNING hazard_id",
        cells.join(", ")
    ));
    fetch(db, &query, |row| row.text(0))?;
    super::standings::iot_hazard_found(db, &hazard_id)?;
    let alert_id = format!("dcs_frequent:{hazard_id}");
    let title = format!("{description}；已列入隐患整改，整改期限 {deadline}");
    let detail = serde_json::json!({
        "hazard_id": hazard_id,
        "window_hours": config.dcs.window_hours,
        "max_alarms": config.dcs.max_alarms,
        "alarms": count,
        "deadline": deadline.to_string(),
    });
    raise_for_device(
        db,
        intake,
        AlertRule::DcsFrequent,
        &alert_id,
        at,
        &title,
        &detail,
    )?;
    Ok(vec![alert_id])
}

/// Records that `login` confirmed an IoT hazard in scope rectified at `at`; hazard tracking
/// moves it to the rectified. None when no such hazard is in scope; the first confirmation
/// stays.
pub(super) fn rectify_iot_hazard(
    db: &mut impl Exec,
    scope: &RecordScope,
    hazard_id: &str,
    login: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(hazard_id));
    let condition = enterprise_scope(&mut query, scope, "e");
    query.push(&format!(
        "SELECT h.rectified_at FROM iot_hazards h \
         JOIN enterprises e ON e.credit_code = h.credit_code \
         WHERE h.hazard_id = {id} AND {condition}"
    ));
    let Some(rectified) = fetch(db, &query, |row| row.opt_int(0))?.pop() else {
        return Ok(None);
    };
    if let Some(rectified) = rectified {
        return Ok(Some(from_millis(rectified)?));
    }
    let mut query = Query::new(db.postgres());
    let who = query.bind(text(login));
    let when = query.bind(Cell::Int(millis(at)));
    let id = query.bind(text(hazard_id));
    query.push(&format!(
        "UPDATE iot_hazards SET rectified_by = {who}, rectified_at = {when} \
         WHERE hazard_id = {id} RETURNING hazard_id"
    ));
    fetch(db, &query, |row| row.text(0))?;
    super::standings::iot_hazard_rectified(db, hazard_id)?;
    Ok(Some(at))
}

fn episode(row: &dyn Cells) -> StoreResult<Episode> {
    Ok(Episode {
        started_ms: row.int(0)?,
        last_wet_ms: row.int(1)?,
        total_tenths: row.int(2)?,
        reached_ms: row.opt_int(3)?,
    })
}

/// Moves the gauge's rain events by its newly stored wet readings and raises 停产撤人 for an
/// event that reached the threshold and has no alert yet. In order (every new reading after
/// the gauge's last rain) the open event is continued; a reading arriving late recounts the
/// events it can touch from the stored readings.
fn apply_rain(
    db: &mut impl Exec,
    intake: &Intake,
    readings: &[Reading],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let device = &intake.device;
    let dry_ms = config.rain.dry().num_milliseconds();
    let threshold = device.rain_threshold(&config.rain);
    let earliest = readings.iter().map(|r| r.start_ms).min().unwrap_or(0);
    // Events a reading starting at `earliest` can join or come before.
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&device.device_id));
    let reach = query.bind(Cell::Int(earliest - dry_ms));
    query.push(&format!(
        "SELECT started_at, last_wet_at, total, reached_at FROM rain_episodes \
         WHERE device_id = {id} AND last_wet_at > {reach} ORDER BY started_at"
    ));
    let touched = fetch(db, &query, episode)?;
    let episodes = match touched.as_slice() {
        [] => rain::fold(None, readings, dry_ms, threshold),
        [open] if earliest >= open.last_wet_ms => {
            rain::fold(Some(*open), readings, dry_ms, threshold)
        }
        [first, ..] => {
            let from = first.started_ms.min(earliest);
            let mut query = Query::new(db.postgres());
            let id = query.bind(text(&device.device_id));
            let from = query.bind(Cell::Int(from));
            query.push(&format!(
                "SELECT at, interval_s, value FROM iot_events \
                 WHERE device_id = {id} AND at >= {from} AND value > 0"
            ));
            let stored = fetch(db, &query, |row| {
                let end_ms = row.int(0)?;
                Ok(Reading {
                    start_ms: end_ms - row.opt_int(1)?.unwrap_or(0) * 1000,
                    end_ms,
                    tenths: row.int(2)?,
                })
            })?;
            rain::fold(None, &stored, dry_ms, threshold)
        }
    };
    if let Some(first) = touched.first() {
        let mut query = Query::new(db.postgres());
        let id = query.bind(text(&device.device_id));
        let from = query.bind(Cell::Int(first.started_ms));
        query.push(&format!(
            "DELETE FROM rain_episodes WHERE device_id = {id} AND started_at >= {from} \
             RETURNING started_at"
        ));
        fetch(db, &query, |row| row.int(0))?;
    }
    let mut raised = Vec::new();
    for e in &episodes {
        let mut query = Query::new(db.postgres());
        let cells = [
            query.bind(text(&device.device_id)),
            query.bind(Cell::Int(e.started_ms)),
            query.bind(Cell::Int(e.last_wet_ms)),
            query.bind(Cell::Int(e.total_tenths)),
            query.bind(Cell::OptInt(e.reached_ms)),
        ];
        query.push(&format!(
            "INSERT INTO rain_episodes (device_id, started_at, last_wet_at, total, reached_at) \
             VALUES ({}) RETURNING started_at",
            cells.join(", ")
        ));
        fetch(db, &query, |row| row.int(0))?;
        if let Some(reached) = e.reached_ms
            && let Some(alert) = raise_rain_alert(db, intake, e, reached, threshold)?
        {
            raised.push(alert);
        }
    }
    Ok(raised)
}

/// Raises 停产撤人 for a rain event unless one of the gauge's alerts already lies within it
/// (an event recounted after a late reading keeps its alert: alerts are never withdrawn).
fn raise_rain_alert(
    db: &mut impl Exec,
    intake: &Intake,
    e: &Episode,
    reached: i64,
    threshold: i64,
) -> StoreResult<Option<String>> {
    let device = &intake.device;
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&device.device_id));
    let from = query.bind(Cell::Int(e.started_ms));
    let until = query.bind(Cell::Int(e.last_wet_ms));
    query.push(&format!(
        "SELECT alert_id FROM iot_alerts WHERE device_id = {id} AND rule = 'rain_stop' \
         AND occurred_at >= {from} AND occurred_at <= {until}"
    ));
    if !fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Ok(None);
    }
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&device.device_id));
    let from = query.bind(Cell::Int(e.started_ms));
    let until = query.bind(Cell::Int(reached));
    query.push(&format!(
        "SELECT at, interval_s, value FROM iot_events WHERE device_id = {id} \
         AND at >= {from} AND at <= {until} AND value > 0 ORDER BY at"
    ));
    let rows = fetch(db, &query, |row| {
        Ok((from_millis(row.int(0)?)?, row.opt_int(1)?, row.int(2)?))
    })?;
    let reached_total: i64 = rows.iter().map(|(_, _, tenths)| tenths).sum();
    let readings: Vec<serde_json::Value> = rows
        .iter()
        .map(|(at, interval_s, tenths)| {
            serde_json::json!({
                "t": at.to_rfc3339(),
                "interval_s": interval_s,
                "rain_mm": tenths_text(*tenths),
            })
        })
        .collect();
    let title = format!(
        "{}（{}）降雨累计 {} 毫米，达到停产撤人标准 {} 毫米：立即停产撤人",
        device.location,
        device.device_id,
        tenths_text(reached_total),
        tenths_text(threshold)
    );
    let detail = serde_json::json!({
        "threshold_mm": tenths_text(threshold),
        "total_mm": tenths_text(reached_total),
        "rain_started_at": from_millis(e.started_ms)?.to_rfc3339(),
        "reached_at": from_millis(reached)?.to_rfc3339(),
        "readings": readings,
    });
    let alert_id = format!("rain_stop:{}:{}", device.device_id, e.started_ms);
    raise_for_device(
        db,
        intake,
        AlertRule::RainStop,
        &alert_id,
        reached,
        &title,
        &detail,
    )?;
    Ok(Some(alert_id))
}

/// Raises an alert about what one device reported, at the batch's arrival; false when it was
/// already raised.
fn raise_for_device(
    db: &mut impl Exec,
    intake: &Intake,
    rule: AlertRule,
    alert_id: &str,
    occurred_at: i64,
    title: &str,
    detail: &serde_json::Value,
) -> StoreResult<bool> {
    insert_alert(
        db,
        &AlertRow {
            alert_id,
            rule,
            credit_code: &intake.device.credit_code,
            device_id: Some(&intake.device.device_id),
            occurred_at,
            raised_at: millis(intake.received_at),
            title,
            detail: &detail.to_string(),
        },
    )
}

/// A stored event's JSON.
fn event_body(event: &crate::iot::IotEvent) -> StoreResult<serde_json::Value> {
    serde_json::from_str(&event.body)
        .map_err(|e| StoreError::Corrupt(format!("stored event body: {e}")))
}

/// Tenths of a millimetre as the millimetres people read: `500` → `50.0`.
pub fn tenths_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, (tenths % 10).abs())
}

struct AlertRow<'a> {
    alert_id: &'a str,
    rule: AlertRule,
    credit_code: &'a str,
    device_id: Option<&'a str>,
    occurred_at: i64,
    raised_at: i64,
    title: &'a str,
    detail: &'a str,
}

/// Writes an alert under the enterprise's current region and the next sequence number (the
/// order devices receive updates in); false when an alert of that id was already raised.
fn insert_alert(db: &mut impl Exec, alert: &AlertRow<'_>) -> StoreResult<bool> {
    // Rules evaluated again (each tick, each resend) find their alert raised: no number taken.
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(alert.alert_id));
    query.push(&format!(
        "SELECT alert_id FROM iot_alerts WHERE alert_id = {id}"
    ));
    if !fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Ok(false);
    }
    let seq = next_seq(db)?;
    let mut query = Query::new(db.postgres());
    let cells = [
        query.bind(text(alert.alert_id)),
        query.bind(text(alert.rule.as_str())),
        query.bind(Cell::OptText(alert.device_id.map(str::to_string))),
        query.bind(Cell::Int(alert.occurred_at)),
        query.bind(Cell::Int(alert.raised_at)),
        query.bind(text(alert.title)),
        query.bind(text(alert.detail)),
        query.bind(Cell::Int(seq)),
    ];
    let code = query.bind(text(alert.credit_code));
    query.push(&format!(
        "INSERT INTO iot_alerts (alert_id, rule, device_id, occurred_at, raised_at, title, \
         detail, seq, credit_code, region_code) \
         SELECT {}, credit_code, region_code FROM enterprises WHERE credit_code = {code} \
         ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id",
        cells.join(", ")
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// The next number of the counter that orders records and alerts for devices.
fn next_seq(db: &mut impl Exec) -> StoreResult<i64> {
    let mut next = Query::new(db.postgres());
    next.push("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value");
    fetch(db, &next, |row| row.int(0))?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("no sequence counter".into()))
}

/// The alerts in scope raised or acknowledged after sequence number `seq`, in that order:
/// what a device has not yet received.
pub(super) fn alerts_since(
    db: &mut impl Exec,
    scope: &RecordScope,
    seq: i64,
) -> StoreResult<Vec<Alert>> {
    let mut query = Query::new(db.postgres());
    let since = query.bind(Cell::Int(seq));
    let condition = enterprise_scope(&mut query, scope, "a");
    query.push(&format!(
        "{ALERT_SELECT} WHERE a.seq > {since} AND {condition} ORDER BY a.seq"
    ));
    fetch(db, &query, alert)
}

/// An alert with its enterprise's name, in the shape [`alert`] decodes.
const ALERT_SELECT: &str = "SELECT a.alert_id, a.rule, a.credit_code, e.name, a.region_code, \
     a.device_id, a.occurred_at, a.raised_at, a.title, a.detail, a.acknowledged_at, \
     a.acknowledged_by FROM iot_alerts a JOIN enterprises e ON e.credit_code = a.credit_code";

fn alert(row: &dyn Cells) -> StoreResult<Alert> {
    let detail = row.text(9)?;
    Ok(Alert {
        alert_id: row.text(0)?,
        rule: AlertRule::parse(&row.text(1)?)?,
        credit_code: row.text(2)?,
        enterprise_name: row.text(3)?,
        region_code: row.text(4)?,
        device_id: row.opt_text(5)?,
        occurred_at: from_millis(row.int(6)?)?,
        raised_at: from_millis(row.int(7)?)?,
        title: row.text(8)?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("alert detail: {e}")))?,
        acknowledged_at: row.opt_int(10)?.map(from_millis).transpose()?,
        acknowledged_by: row.opt_text(11)?,
    })
}

/// A page of the alerts in scope, newest first, and how many there are.
pub(super) fn alerts(
    db: &mut impl Exec,
    scope: &RecordScope,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<Alert>, i64)> {
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "a");
    query.push(&format!(
        "SELECT COUNT(*) FROM iot_alerts a WHERE {condition}"
    ));
    let total = fetch(db, &query, |row| row.int(0))?.pop().unwrap_or(0);
    let mut query = Query::new(db.postgres());
    let condition = enterprise_scope(&mut query, scope, "a");
    let limit = query.bind(Cell::Limit(limit));
    let offset = query.bind(Cell::Int(offset.max(0)));
    query.push(&format!(
        "{ALERT_SELECT} WHERE {condition} ORDER BY a.raised_at DESC, a.alert_id LIMIT {limit} OFFSET {offset}"
    ));
    Ok((fetch(db, &query, alert)?, total))
}

/// Records that `login` acknowledged an alert in scope at `at` (for 停产撤人: checked on site,
/// production may resume). None when no such alert is in scope; the first acknowledgement
/// stays.
pub(super) fn acknowledge_alert(
    db: &mut impl Exec,
    scope: &RecordScope,
    alert_id: &str,
    login: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<Alert>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(alert_id));
    let condition = enterprise_scope(&mut query, scope, "iot_alerts");
    query.push(&format!(
        "SELECT acknowledged_at FROM iot_alerts WHERE alert_id = {id} AND {condition}"
    ));
    let Some(acknowledged) = fetch(db, &query, |row| row.opt_int(0))?.pop() else {
        return Ok(None);
    };
    if acknowledged.is_none() {
        // A new sequence number: devices that hold the alert receive it again, acknowledged.
        let seq = next_seq(db)?;
        let mut query = Query::new(db.postgres());
        let who = query.bind(text(login));
        let when = query.bind(Cell::Int(millis(at)));
        let seq = query.bind(Cell::Int(seq));
        let id = query.bind(text(alert_id));
        query.push(&format!(
            "UPDATE iot_alerts SET acknowledged_by = {who}, acknowledged_at = {when}, \
             seq = {seq} WHERE alert_id = {id} RETURNING alert_id"
        ));
        fetch(db, &query, |row| row.text(0))?;
    }
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(alert_id));
    query.push(&format!("{ALERT_SELECT} WHERE a.alert_id = {id}"));
    Ok(fetch(db, &query, alert)?.pop())
}

/// One stored event, as a device's page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub event_id: String,
    pub at: DateTime<Utc>,
    pub value: Option<i64>,
}

/// The events a device sent, newest first (for its page and the tests).
pub(super) fn events_of(
    db: &mut impl Exec,
    device_id: &str,
    limit: i64,
) -> StoreResult<Vec<StoredEvent>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let limit = query.bind(Cell::Limit(limit));
    query.push(&format!(
        "SELECT event_id, at, value FROM iot_events WHERE device_id = {id} \
         ORDER BY at DESC, event_id LIMIT {limit}"
    ));
    fetch(db, &query, |row| {
        Ok(StoredEvent {
            event_id: row.text(0)?,
            at: from_millis(row.int(1)?)?,
            value: row.opt_int(2)?,
        })
    })
}

/// A device's latest event (by its time) with its JSON: what the archive shows of a
/// positioning system's last head count.
pub(super) fn latest_event(
    db: &mut impl Exec,
    device_id: &str,
) -> StoreResult<Option<(DateTime<Utc>, serde_json::Value)>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    query.push(&format!(
        "SELECT at, body FROM iot_events WHERE device_id = {id} ORDER BY at DESC, event_id LIMIT 1"
    ));
    fetch(db, &query, |row| {
        let body = serde_json::from_str(&row.text(1)?)
            .map_err(|e| StoreError::Corrupt(format!("stored event body: {e}")))?;
        Ok((from_millis(row.int(0)?)?, body))
    })
    .map(|mut rows| rows.pop())
}

/// How many changed resends a device's events have put aside.
pub(super) fn conflicts_of(db: &mut impl Exec, device_id: &str) -> StoreResult<i64> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    query.push(&format!(
        "SELECT COUNT(*) FROM iot_event_conflicts WHERE device_id = {id}"
    ));
    Ok(fetch(db, &query, |row| row.int(0))?.pop().unwrap_or(0))
}

/// What one run of the absence rules did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickOutcome {
    pub alerts: Vec<String>,
    /// Attendance rows written or rewritten.
    pub attendance: usize,
}

/// The rules that fire on what did *not* arrive, for the shifts that ended within the
/// look-back and more than the grace period before `now`: a positioning system that sent
/// nothing timed within a shift, and 带班 — each shift of an enterprise with a face terminal gets its
/// attendance row from the roster leaders' check-ins, and a shift without one is 带班缺岗.
/// Running it again changes nothing.
pub(super) fn tick(
    db: &mut impl Exec,
    now: DateTime<Utc>,
    config: &IotConfig,
) -> StoreResult<TickOutcome> {
    let grace = chrono::Duration::minutes(config.absence.grace_minutes);
    let until = now - grace;
    let spans = config.shifts_ending(
        until - chrono::Duration::hours(config.absence.lookback_hours),
        until,
    );
    let mut outcome = TickOutcome::default();
    if spans.is_empty() {
        return Ok(outcome);
    }
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "SELECT {DEVICE_COLUMNS} FROM iot_devices d \
         WHERE d.kind IN ('positioning', 'face') ORDER BY d.device_id"
    ));
    let devices = fetch(db, &query, device)?;
    let active = |d: &Device, span: &ShiftSpan| {
        d.registered_at <= span.start && d.revoked_at.is_none_or(|r| r > span.start)
    };
    for d in devices.iter().filter(|d| d.kind == DeviceKind::Positioning) {
        for span in spans.iter().filter(|s| active(d, s)) {
            let mut query = Query::new(db.postgres());
            let id = query.bind(text(&d.device_id));
            let from = query.bind(Cell::Int(millis(span.start)));
            let to = query.bind(Cell::Int(millis(span.end)));
            query.push(&format!(
                "SELECT event_id FROM iot_events WHERE device_id = {id} \
                 AND at >= {from} AND at < {to} LIMIT 1"
            ));
            if !fetch(db, &query, |row| row.text(0))?.is_empty() {
                continue;
            }
            let alert_id = format!(
                "positioning_missing:{}:{}:{}",
                d.device_id,
                span.date,
                span.shift.label()
            );
            let title = format!(
                "{}（{}）{} {}未上传井下人员定位数据",
                d.location,
                d.device_id,
                span.date,
                span.shift.label()
            );
            let detail = serde_json::json!({
                "shift": span.shift.label(),
                "date": span.date.to_string(),
                "shift_start": span.start.to_rfc3339(),
                "shift_end": span.end.to_rfc3339(),
            });
            if insert_alert(
                db,
                &AlertRow {
                    alert_id: &alert_id,
                    rule: AlertRule::PositioningMissing,
                    credit_code: &d.credit_code,
                    device_id: Some(&d.device_id),
                    occurred_at: millis(span.end),
                    raised_at: millis(now),
                    title: &title,
                    detail: &detail.to_string(),
                },
            )? {
                outcome.alerts.push(alert_id);
            }
        }
    }
    let mut enterprises: std::collections::BTreeMap<&str, Vec<&Device>> = Default::default();
    for d in devices.iter().filter(|d| d.kind == DeviceKind::Face) {
        enterprises
            .entry(d.credit_code.as_str())
            .or_default()
            .push(d);
    }
    for (code, terminals) in enterprises {
        let due: Vec<ShiftSpan> = spans
            .iter()
            .filter(|s| terminals.iter().any(|d| active(d, s)))
            .copied()
            .collect();
        let (alerts, written) = evaluate_duty(db, code, &due, config, now)?;
        outcome.alerts.extend(alerts);
        outcome.attendance += written;
    }
    Ok(outcome)
}

/// After a face terminal's batch: the shifts its new check-ins fall in that were already
/// judged (ended more than the grace period ago) are judged again, so that a backlog arriving
/// late turns a shift's absence into attendance. (The alert raised meanwhile stays.)
fn recheck_duty(
    db: &mut impl Exec,
    intake: &Intake,
    events: &[&crate::iot::IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let Some(earliest) = events.iter().map(|e| e.at).min() else {
        return Ok(Vec::new());
    };
    let early = chrono::Duration::minutes(config.duty.early_minutes);
    let judged_until = intake.received_at - chrono::Duration::minutes(config.absence.grace_minutes);
    let spans: Vec<ShiftSpan> = config
        .shifts_ending(earliest - chrono::Duration::days(1), judged_until)
        .into_iter()
        .filter(|s| s.start >= intake.device.registered_at)
        .filter(|s| {
            events
                .iter()
                .any(|e| e.at >= s.start - early && e.at < s.end - early)
        })
        .collect();
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    Ok(evaluate_duty(
        db,
        &intake.device.credit_code,
        &spans,
        config,
        intake.received_at,
    )?
    .0)
}

/// Who leads a shift as its attendance row names them when no roster leader checked in.
pub const NO_LEADER: &str = "（无人带班）";

/// Judges `spans` of one enterprise: the roster leaders who checked in (direction `in`) at one
/// of its face terminals in the shift's window, which starts `duty.early_minutes` before the
/// shift and ends as early before the next (so a leader who comes early for the day shift
/// leads the day shift, not the night shift it arrives in, and each check-in counts once).
/// Writes the shift's attendance row (`source = iot`; a shift the CSV import already holds is
/// left to it) when it differs, and raises 带班缺岗 for a shift with no leader.
fn evaluate_duty(
    db: &mut impl Exec,
    credit_code: &str,
    spans: &[ShiftSpan],
    config: &IotConfig,
    now: DateTime<Utc>,
) -> StoreResult<(Vec<String>, usize)> {
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.start).min(),
        spans.iter().map(|s| s.end).max(),
    ) else {
        return Ok((Vec::new(), 0));
    };
    let early = chrono::Duration::minutes(config.duty.early_minutes);
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    query.push(&format!(
        "SELECT person_id, name FROM duty_leaders WHERE credit_code = {code}"
    ));
    let roster: std::collections::HashMap<String, String> =
        fetch(db, &query, |row| Ok((row.text(0)?, row.text(1)?)))?
            .into_iter()
            .collect();
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let from = query.bind(Cell::Int(millis(first - early)));
    let to = query.bind(Cell::Int(millis(last - early)));
    query.push(&format!(
        "SELECT e.at, e.body FROM iot_events e JOIN iot_devices d ON d.device_id = e.device_id \
         WHERE d.credit_code = {code} AND d.kind = 'face' AND e.at >= {from} AND e.at < {to}"
    ));
    let check_ins: Vec<(DateTime<Utc>, String)> = fetch(db, &query, |row| {
        let body: serde_json::Value = serde_json::from_str(&row.text(1)?)
            .map_err(|e| StoreError::Corrupt(format!("stored event body: {e}")))?;
        Ok((
            from_millis(row.int(0)?)?,
            body["person"].as_str().unwrap_or_default().to_string(),
            body["direction"] == "in",
        ))
    })?
    .into_iter()
    .filter(|(_, _, entering)| *entering)
    .filter_map(|(at, person, _)| roster.get(&person).map(|name| (at, name.clone())))
    .collect();
    let (first_day, last_day) = (
        spans.iter().map(|s| s.date).min().unwrap_or_default(),
        spans.iter().map(|s| s.date).max().unwrap_or_default(),
    );
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let from = query.bind(super::reference::date_cell(first_day));
    let to = query.bind(super::reference::date_cell(last_day));
    query.push(&format!(
        "SELECT date, shift, leader, present, source FROM attendance \
         WHERE credit_code = {code} AND date >= {from} AND date <= {to}"
    ));
    let stored: Vec<(chrono::NaiveDate, String, String, bool, String)> =
        fetch(db, &query, |row| {
            Ok((
                super::reference::date(row, 0)?,
                row.text(1)?,
                row.text(2)?,
                row.boolean(3)?,
                row.text(4)?,
            ))
        })?;
    let mut raised = Vec::new();
    let mut changed = Vec::new();
    for span in spans {
        let shift = span.shift.label();
        let rows: Vec<&(chrono::NaiveDate, String, String, bool, String)> = stored
            .iter()
            .filter(|(date, s, ..)| *date == span.date && s == shift)
            .collect();
        if rows.iter().any(|(.., source)| source == "csv") {
            continue;
        }
        let mut leaders: Vec<&str> = check_ins
            .iter()
            .filter(|(at, _)| *at >= span.start - early && *at < span.end - early)
            .map(|(_, name)| name.as_str())
            .collect();
        leaders.sort();
        leaders.dedup();
        let present = !leaders.is_empty();
        let leader = if present {
            leaders.join("、")
        } else {
            NO_LEADER.to_string()
        };
        let unchanged =
            matches!(rows.as_slice(), [(_, _, l, p, _)] if *l == leader && *p == present);
        if !unchanged {
            let mut query = Query::new(db.postgres());
            let code = query.bind(text(credit_code));
            let date = query.bind(super::reference::date_cell(span.date));
            let s = query.bind(text(shift));
            query.push(&format!(
                "DELETE FROM attendance WHERE credit_code = {code} AND date = {date} \
                 AND shift = {s} AND source = 'iot' RETURNING leader"
            ));
            fetch(db, &query, |row| row.text(0))?;
            let row = crate::store::Attendance {
                credit_code: credit_code.to_string(),
                date: span.date,
                shift: span.shift,
                leader,
                present,
                source: crate::store::AttendanceSource::Iot,
            };
            let mut query = Query::new(db.postgres());
            let cells = [
                query.bind(text(&row.credit_code)),
                query.bind(super::reference::date_cell(row.date)),
                query.bind(text(shift)),
                query.bind(text(&row.leader)),
                query.bind(Cell::Bool(row.present)),
                query.bind(text(row.source.label())),
            ];
            query.push(&format!(
                "INSERT INTO attendance (credit_code, date, shift, leader, present, source) \
                 VALUES ({}) RETURNING leader",
                cells.join(", ")
            ));
            fetch(db, &query, |row| row.text(0))?;
            changed.push(row);
        }
        if !present {
            let alert_id = format!("duty_absent:{credit_code}:{}:{shift}", span.date);
            let title = format!(
                "{} {shift}无矿领导带班：人脸识别考勤没有带班领导入井记录",
                span.date
            );
            let detail = serde_json::json!({
                "shift": shift,
                "date": span.date.to_string(),
                "shift_start": span.start.to_rfc3339(),
                "shift_end": span.end.to_rfc3339(),
                "roster": roster.len(),
            });
            if insert_alert(
                db,
                &AlertRow {
                    alert_id: &alert_id,
                    rule: AlertRule::DutyAbsent,
                    credit_code,
                    device_id: None,
                    occurred_at: millis(span.end),
                    raised_at: millis(now),
                    title: &title,
                    detail: &detail.to_string(),
                },
            )? {
                raised.push(alert_id);
            }
        }
    }
    super::rollups::attendance_changed(db, &changed)?;
    Ok((raised, changed.len()))
}
