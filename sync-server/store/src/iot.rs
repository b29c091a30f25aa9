//! The IoT tables (schema version 8), one SQL for both backends: the device registry (keys
//! kept as SHA-256 only), the events (idempotent by device and event id; a changed resend is
//! put aside in `iot_event_conflicts`), the gauges' rain events, the DCS hazards and the alerts
//! the rules raise. These are the rows and statements only: what the rules decide is the
//! server's (`iot/`), which runs a batch's statements and rules in one transaction
//! ([`super::Store::write`]).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::exec::{Cell, Cells, Exec, Query, date_cell, fetch, next_seq, text};
use super::{Attendance, Db, RecordScope, StoreError, StoreResult, from_millis, millis};

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

/// What a registered device is; the intake route names it and must match the registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Rain,
    Positioning,
    Face,
    Dcs,
    Video,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 5] = [
        DeviceKind::Rain,
        DeviceKind::Positioning,
        DeviceKind::Face,
        DeviceKind::Dcs,
        DeviceKind::Video,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Rain => "rain",
            DeviceKind::Positioning => "positioning",
            DeviceKind::Face => "face",
            DeviceKind::Dcs => "dcs",
            DeviceKind::Video => "video",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeviceKind::Rain => "雨量计",
            DeviceKind::Positioning => "井下人员定位系统",
            DeviceKind::Face => "人脸识别考勤终端",
            DeviceKind::Dcs => "DCS 报警网关",
            DeviceKind::Video => "视频智能分析设备",
        }
    }

    pub fn parse(text: &str) -> Option<DeviceKind> {
        DeviceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// `rain、positioning、…` for messages.
    pub fn names() -> String {
        DeviceKind::ALL.map(DeviceKind::as_str).join("、")
    }
}

/// A registered device, as intake and the registry's lists see it (never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub device_id: String,
    pub kind: DeviceKind,
    pub credit_code: String,
    pub location: String,
    /// Rain gauges only: this mine's stop threshold when it is not the configured one.
    pub rain_threshold_tenths: Option<i64>,
    pub registered_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// How far the device's clock was off at its last batch (server time − device time).
    pub clock_offset_ms: Option<i64>,
    pub last_batch_at: Option<DateTime<Utc>>,
}

/// One checked event, as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IotEvent {
    pub event_id: String,
    /// The event's time after clock correction.
    pub at: DateTime<Utc>,
    /// The event's time as the device sent it.
    pub device_at: DateTime<Utc>,
    /// Rain: tenths of a millimetre in the interval; positioning: people underground;
    /// DCS: 1 for an activation, 0 for an acknowledgement or a return to normal; video: the
    /// count when it gives one.
    pub value: Option<i64>,
    /// Rain: the interval's length; the event's `at` is its end.
    pub interval_s: Option<i64>,
    /// The event as sent, keys sorted: what identical resends share.
    pub body: String,
    /// SHA-256 (hex) of `body`.
    pub digest: String,
}

/// One continuous rain event at a gauge, as stored beside its readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    /// The start of its first wet reading.
    pub started_ms: i64,
    /// The end of its last wet reading.
    pub last_wet_ms: i64,
    pub total_tenths: i64,
    /// The end of the reading that brought the total to the threshold.
    pub reached_ms: Option<i64>,
}

/// One wet reading: rain fell in `(end_ms - interval, end_ms]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub start_ms: i64,
    pub end_ms: i64,
    pub tenths: i64,
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

/// What storing a batch's events did: which were new, which the server already held with the
/// same content, which it held with other content (those put aside).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBatch {
    pub inserted: HashSet<String>,
    pub duplicates: usize,
    pub conflicts: usize,
}

/// Stores a checked batch's events for its device and notes the device's clock, in the
/// caller's transaction. A device that is not registered is `NotFound`.
pub fn store_batch(
    db: &mut Db<'_, '_>,
    device_id: &str,
    received_at: DateTime<Utc>,
    clock_offset_ms: i64,
    events: &[IotEvent],
) -> StoreResult<StoredBatch> {
    let received = millis(received_at);
    // First, so that on PostgreSQL the device's row lock orders its batches: two batches of
    // one gauge never recount its rain events at once. (SQLite has one writer.)
    let mut query = Query::new(db.postgres());
    let offset = query.bind(Cell::Int(clock_offset_ms));
    let at = query.bind(Cell::Int(received));
    let id = query.bind(text(device_id));
    query.push(&format!(
        "UPDATE iot_devices SET clock_offset_ms = {offset}, last_batch_at = {at} \
         WHERE device_id = {id} RETURNING device_id"
    ));
    if fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Err(StoreError::NotFound(format!("设备 {device_id} 未登记")));
    }
    let mut inserted: HashSet<String> = HashSet::new();
    for chunk in events.chunks(CHUNK) {
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
    let mut outcome = StoredBatch::default();
    let held: Vec<&IotEvent> = events
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
        let stored: HashMap<String, String> =
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
    outcome.inserted = inserted;
    Ok(outcome)
}

/// An alert to raise: what a rule decided, written by [`insert_alert`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub alert_id: String,
    pub rule: AlertRule,
    pub credit_code: String,
    pub device_id: Option<String>,
    /// Milliseconds since the epoch, as stored.
    pub occurred_at: i64,
    pub raised_at: i64,
    pub title: String,
    pub detail: serde_json::Value,
}

/// Writes an alert under the enterprise's current region and the next sequence number (the
/// order devices receive updates in); false when an alert of that id was already raised.
pub fn insert_alert(db: &mut Db<'_, '_>, alert: &NewAlert) -> StoreResult<bool> {
    // Rules evaluated again (each tick, each resend) find their alert raised: no number taken.
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(&alert.alert_id));
    query.push(&format!(
        "SELECT alert_id FROM iot_alerts WHERE alert_id = {id}"
    ));
    if !fetch(db, &query, |row| row.text(0))?.is_empty() {
        return Ok(false);
    }
    let seq = next_seq(db)?;
    let mut query = Query::new(db.postgres());
    let cells = [
        query.bind(text(&alert.alert_id)),
        query.bind(text(alert.rule.as_str())),
        query.bind(Cell::OptText(alert.device_id.clone())),
        query.bind(Cell::Int(alert.occurred_at)),
        query.bind(Cell::Int(alert.raised_at)),
        query.bind(text(&alert.title)),
        query.bind(text(&alert.detail.to_string())),
        query.bind(Cell::Int(seq)),
    ];
    let code = query.bind(text(&alert.credit_code));
    query.push(&format!(
        "INSERT INTO iot_alerts (alert_id, rule, device_id, occurred_at, raised_at, title, \
         detail, seq, credit_code, region_code) \
         SELECT {}, credit_code, region_code FROM enterprises WHERE credit_code = {code} \
         ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id",
        cells.join(", ")
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

// ---- what the rules read and write ------------------------------------------------------------

/// Whether a 动火 work permit of the enterprise covers `at` (in `area`, when the sighting and
/// the permit both name one).
pub fn hot_work_permitted(
    db: &mut Db<'_, '_>,
    credit_code: &str,
    at: DateTime<Utc>,
    area: Option<&str>,
) -> StoreResult<bool> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let when = query.bind(Cell::Int(millis(at)));
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
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// The enterprise's earliest 停产撤人 alert that occurred before `before` and that no one has
/// acknowledged: its id and when it occurred.
pub fn unacknowledged_rain_stop(
    db: &mut Db<'_, '_>,
    credit_code: &str,
    before: DateTime<Utc>,
) -> StoreResult<Option<(String, DateTime<Utc>)>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let latest = query.bind(Cell::Int(millis(before)));
    query.push(&format!(
        "SELECT alert_id, occurred_at FROM iot_alerts WHERE credit_code = {code} \
         AND rule = 'rain_stop' AND acknowledged_at IS NULL AND occurred_at < {latest} \
         ORDER BY occurred_at LIMIT 1"
    ));
    Ok(fetch(db, &query, |row| {
        Ok((row.text(0)?, from_millis(row.int(1)?)?))
    })?
    .pop())
}

/// Whether the device's last IoT hazard is still open (not confirmed rectified).
pub fn open_iot_hazard(db: &mut Db<'_, '_>, device_id: &str) -> StoreResult<bool> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    query.push(&format!(
        "SELECT hazard_id FROM iot_hazards WHERE device_id = {id} AND rectified_at IS NULL"
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// The times (milliseconds) of a DCS gateway's activations within `(after, until]`, in order.
pub fn activations(
    db: &mut Db<'_, '_>,
    device_id: &str,
    after: i64,
    until: i64,
) -> StoreResult<Vec<i64>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let from = query.bind(Cell::Int(after));
    let until = query.bind(Cell::Int(until));
    query.push(&format!(
        "SELECT at FROM iot_events WHERE device_id = {id} AND at > {from} AND at <= {until} \
         AND value = 1 ORDER BY at"
    ));
    fetch(db, &query, |row| row.int(0))
}

/// A hazard an IoT rule found, tracked like one an inspection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIotHazard {
    pub hazard_id: String,
    pub credit_code: String,
    pub device_id: String,
    /// What the hazard is at: the device's location.
    pub subject: String,
    pub description: String,
    pub found_at: DateTime<Utc>,
    pub deadline: NaiveDate,
}

/// Writes an IoT hazard and adds it to hazard tracking.
pub fn add_iot_hazard(db: &mut Db<'_, '_>, hazard: &NewIotHazard) -> StoreResult<()> {
    let mut query = Query::new(db.postgres());
    let cells = [
        query.bind(text(&hazard.hazard_id)),
        query.bind(text(&hazard.credit_code)),
        query.bind(text(&hazard.device_id)),
        query.bind(text(&hazard.subject)),
        query.bind(text(&hazard.description)),
        query.bind(Cell::Int(millis(hazard.found_at))),
        query.bind(date_cell(hazard.deadline)),
    ];
    query.push(&format!(
        "INSERT INTO iot_hazards (hazard_id, credit_code, device_id, subject, description, \
         found_at, deadline) VALUES ({}) RETURNING hazard_id",
        cells.join(", ")
    ));
    fetch(db, &query, |row| row.text(0))?;
    super::standings::iot_hazard_found(db, &hazard.hazard_id)
}

/// The gauge's rain events whose last rain ended after `after`, by start: those a reading
/// starting a dry period after `after` can join or come before.
pub fn rain_episodes_after(
    db: &mut Db<'_, '_>,
    device_id: &str,
    after: i64,
) -> StoreResult<Vec<Episode>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let reach = query.bind(Cell::Int(after));
    query.push(&format!(
        "SELECT started_at, last_wet_at, total, reached_at FROM rain_episodes \
         WHERE device_id = {id} AND last_wet_at > {reach} ORDER BY started_at"
    ));
    fetch(db, &query, episode)
}

/// The gauge's stored wet readings ending at or after `from`.
pub fn wet_readings_from(
    db: &mut Db<'_, '_>,
    device_id: &str,
    from: i64,
) -> StoreResult<Vec<Reading>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let from = query.bind(Cell::Int(from));
    query.push(&format!(
        "SELECT at, interval_s, value FROM iot_events \
         WHERE device_id = {id} AND at >= {from} AND value > 0"
    ));
    fetch(db, &query, |row| {
        let end_ms = row.int(0)?;
        Ok(Reading {
            start_ms: end_ms - row.opt_int(1)?.unwrap_or(0) * 1000,
            end_ms,
            tenths: row.int(2)?,
        })
    })
}

/// Replaces the gauge's rain events that start at or after `from` (none when `None`) by
/// `episodes`.
pub fn replace_rain_episodes(
    db: &mut Db<'_, '_>,
    device_id: &str,
    from: Option<i64>,
    episodes: &[Episode],
) -> StoreResult<()> {
    if let Some(from) = from {
        let mut query = Query::new(db.postgres());
        let id = query.bind(text(device_id));
        let from = query.bind(Cell::Int(from));
        query.push(&format!(
            "DELETE FROM rain_episodes WHERE device_id = {id} AND started_at >= {from} \
             RETURNING started_at"
        ));
        fetch(db, &query, |row| row.int(0))?;
    }
    for e in episodes {
        let mut query = Query::new(db.postgres());
        let cells = [
            query.bind(text(device_id)),
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
    }
    Ok(())
}

/// Whether one of the gauge's 停产撤人 alerts occurred within `[from, until]`.
pub fn rain_stop_within(
    db: &mut Db<'_, '_>,
    device_id: &str,
    from: i64,
    until: i64,
) -> StoreResult<bool> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let from = query.bind(Cell::Int(from));
    let until = query.bind(Cell::Int(until));
    query.push(&format!(
        "SELECT alert_id FROM iot_alerts WHERE device_id = {id} AND rule = 'rain_stop' \
         AND occurred_at >= {from} AND occurred_at <= {until}"
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// A gauge's wet reading as it was sent: its end, its interval, its rain in tenths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WetReading {
    pub at: DateTime<Utc>,
    pub interval_s: Option<i64>,
    pub tenths: i64,
}

/// The gauge's wet readings ending within `[from, until]`, in order.
pub fn wet_readings_between(
    db: &mut Db<'_, '_>,
    device_id: &str,
    from: i64,
    until: i64,
) -> StoreResult<Vec<WetReading>> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let from = query.bind(Cell::Int(from));
    let until = query.bind(Cell::Int(until));
    query.push(&format!(
        "SELECT at, interval_s, value FROM iot_events WHERE device_id = {id} \
         AND at >= {from} AND at <= {until} AND value > 0 ORDER BY at"
    ));
    fetch(db, &query, |row| {
        Ok(WetReading {
            at: from_millis(row.int(0)?)?,
            interval_s: row.opt_int(1)?,
            tenths: row.int(2)?,
        })
    })
}

/// Every positioning system and face terminal, revoked or not, by device id: the devices the
/// absence rules watch.
pub fn shift_devices(db: &mut Db<'_, '_>) -> StoreResult<Vec<Device>> {
    let mut query = Query::new(db.postgres());
    query.push(&format!(
        "SELECT {DEVICE_COLUMNS} FROM iot_devices d \
         WHERE d.kind IN ('positioning', 'face') ORDER BY d.device_id"
    ));
    fetch(db, &query, device)
}

/// Whether the device sent an event timed within `[from, until)`.
pub fn has_event_within(
    db: &mut Db<'_, '_>,
    device_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut query = Query::new(db.postgres());
    let id = query.bind(text(device_id));
    let from = query.bind(Cell::Int(millis(from)));
    let to = query.bind(Cell::Int(millis(until)));
    query.push(&format!(
        "SELECT event_id FROM iot_events WHERE device_id = {id} \
         AND at >= {from} AND at < {to} LIMIT 1"
    ));
    Ok(!fetch(db, &query, |row| row.text(0))?.is_empty())
}

/// The enterprise's duty-leader roster: person id → name.
pub fn duty_roster(db: &mut Db<'_, '_>, credit_code: &str) -> StoreResult<HashMap<String, String>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    query.push(&format!(
        "SELECT person_id, name FROM duty_leaders WHERE credit_code = {code}"
    ));
    Ok(fetch(db, &query, |row| Ok((row.text(0)?, row.text(1)?)))?
        .into_iter()
        .collect())
}

/// The events of the enterprise's face terminals timed within `[from, until)`, each with its
/// JSON.
pub fn face_events(
    db: &mut Db<'_, '_>,
    credit_code: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Vec<(DateTime<Utc>, serde_json::Value)>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let from = query.bind(Cell::Int(millis(from)));
    let to = query.bind(Cell::Int(millis(until)));
    query.push(&format!(
        "SELECT e.at, e.body FROM iot_events e JOIN iot_devices d ON d.device_id = e.device_id \
         WHERE d.credit_code = {code} AND d.kind = 'face' AND e.at >= {from} AND e.at < {to}"
    ));
    fetch(db, &query, |row| {
        let body = serde_json::from_str(&row.text(1)?)
            .map_err(|e| StoreError::Corrupt(format!("stored event body: {e}")))?;
        Ok((from_millis(row.int(0)?)?, body))
    })
}

/// The enterprise's attendance rows dated `from..=until`, whoever wrote them.
pub fn attendance_between(
    db: &mut Db<'_, '_>,
    credit_code: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> StoreResult<Vec<Attendance>> {
    let mut query = Query::new(db.postgres());
    let code = query.bind(text(credit_code));
    let from = query.bind(date_cell(from));
    let to = query.bind(date_cell(until));
    query.push(&format!(
        "SELECT credit_code, date, shift, leader, present, source FROM attendance \
         WHERE credit_code = {code} AND date >= {from} AND date <= {to}"
    ));
    fetch(db, &query, super::reference::attendance)
}

/// Writes attendance rows the face terminals decided (`source = iot`), each in place of the
/// shift's earlier IoT row, and moves the attendance rollups by them.
pub fn write_iot_attendance(db: &mut Db<'_, '_>, rows: &[Attendance]) -> StoreResult<()> {
    for row in rows {
        let mut query = Query::new(db.postgres());
        let code = query.bind(text(&row.credit_code));
        let date = query.bind(date_cell(row.date));
        let shift = query.bind(text(row.shift.label()));
        query.push(&format!(
            "DELETE FROM attendance WHERE credit_code = {code} AND date = {date} \
             AND shift = {shift} AND source = 'iot' RETURNING leader"
        ));
        fetch(db, &query, |row| row.text(0))?;
        let mut query = Query::new(db.postgres());
        let cells = [
            query.bind(text(&row.credit_code)),
            query.bind(date_cell(row.date)),
            query.bind(text(row.shift.label())),
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
    }
    super::rollups::attendance_changed(db, rows)
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
