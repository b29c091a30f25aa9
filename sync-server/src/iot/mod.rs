//! IoT intake: what a registered device may send (`POST /api/v1/iot/{kind}`, one batch of
//! events), checked whole before anything is stored, with the device's clock corrected by how
//! far its batch's `sent_at` is from the server's time. The rules that turn events into
//! alerts are decisions over rows ([`rules`], [`rain`]), run with the store's statements in
//! one transaction per batch or tick ([`run`]); the store keeps events idempotent by (device,
//! event id).
//! The format is documented in `docs/iot.md`.

pub mod rain;
pub mod rules;
pub mod run;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::store::iot::{Device, DeviceKind, IotEvent};
pub use run::{TickOutcome, ingest, tick};

pub const DEFAULT_CONFIG: &str = include_str!("../../../templates/iot.toml");

/// The most an event's or a device's identifier may hold.
const ID_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IotConfig {
    pub clock: ClockConfig,
    pub batch: BatchConfig,
    pub rain: RainConfig,
    pub positioning: PositioningConfig,
    /// Shift name → its start, `HH:MM` China time.
    pub shifts: std::collections::BTreeMap<String, String>,
    pub absence: AbsenceConfig,
    pub duty: DutyConfig,
    pub dcs: DcsConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcsConfig {
    pub window_hours: i64,
    pub max_alarms: i64,
    pub rectify_days: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbsenceConfig {
    pub grace_minutes: i64,
    pub tick_seconds: u64,
    pub lookback_hours: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyConfig {
    pub early_minutes: i64,
}

/// One shift on one day: it starts at its configured time and ends when the next begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShiftSpan {
    /// The China date it starts on.
    pub date: NaiveDate,
    pub shift: crate::store::Shift,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositioningConfig {
    pub evacuation_minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    pub correct_after_s: i64,
    pub suspect_after_s: i64,
    pub future_tolerance_s: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    pub max_events: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RainConfig {
    pub threshold_mm: f64,
    pub dry_minutes: i64,
}

impl RainConfig {
    pub fn threshold_tenths(&self) -> i64 {
        (self.threshold_mm * 10.0).round() as i64
    }

    pub fn dry(&self) -> Duration {
        Duration::minutes(self.dry_minutes)
    }

    /// The stop threshold at a gauge: its mine's own, or the configured one.
    pub fn threshold_for(&self, device: &Device) -> i64 {
        device
            .rain_threshold_tenths
            .unwrap_or_else(|| self.threshold_tenths())
    }
}

impl IotConfig {
    /// Parses and checks a configuration; the message names the file and what is wrong.
    pub fn parse(file: &str, text: &str) -> Result<IotConfig, String> {
        let config: IotConfig =
            toml::from_str(text).map_err(|e| format!("物联网配置 {file}：{e}"))?;
        config
            .check()
            .map_err(|problem| format!("物联网配置 {file}：{problem}"))?;
        Ok(config)
    }

    pub fn shipped() -> IotConfig {
        IotConfig::parse("templates/iot.toml", DEFAULT_CONFIG)
            .expect("the shipped IoT configuration is checked by its unit test")
    }

    fn check(&self) -> Result<(), String> {
        let ClockConfig {
            correct_after_s,
            suspect_after_s,
            future_tolerance_s,
        } = self.clock;
        if !(0 <= correct_after_s && correct_after_s <= suspect_after_s) {
            return Err("应有 0 ≤ clock.correct_after_s ≤ clock.suspect_after_s".into());
        }
        if future_tolerance_s < 0 {
            return Err("clock.future_tolerance_s 不能为负".into());
        }
        if !(1..=10_000).contains(&self.batch.max_events) {
            return Err("batch.max_events 应在 1 到 10000 之间".into());
        }
        check_threshold_mm(self.rain.threshold_mm).map_err(|e| format!("rain.threshold_mm {e}"))?;
        if self.rain.dry_minutes < 1 {
            return Err("rain.dry_minutes 应为正整数".into());
        }
        if self.positioning.evacuation_minutes < 0 {
            return Err("positioning.evacuation_minutes 不能为负".into());
        }
        self.shift_starts()?;
        let AbsenceConfig {
            grace_minutes,
            tick_seconds,
            lookback_hours,
        } = self.absence;
        if grace_minutes < 0 || tick_seconds == 0 || lookback_hours < 1 {
            return Err(
                "absence 应有 grace_minutes ≥ 0、tick_seconds ≥ 1、lookback_hours ≥ 1".into(),
            );
        }
        if self.duty.early_minutes < 0 {
            return Err("duty.early_minutes 不能为负".into());
        }
        let DcsConfig {
            window_hours,
            max_alarms,
            rectify_days,
        } = self.dcs;
        if window_hours < 1 || max_alarms < 1 || rectify_days < 1 {
            return Err("dcs 的 window_hours、max_alarms、rectify_days 都应为正整数".into());
        }
        Ok(())
    }
}

impl IotConfig {
    /// The shifts by start (minutes after China midnight), checked: known names, `HH:MM`
    /// times, no two at once.
    fn shift_starts(&self) -> Result<Vec<(i64, crate::store::Shift)>, String> {
        use crate::store::Shift;
        if self.shifts.is_empty() {
            return Err("shifts 至少要有一个班次".into());
        }
        let mut starts = Vec::new();
        for (name, start) in &self.shifts {
            let shift = Shift::parse(name)
                .ok_or_else(|| format!("shifts 的班次 {name} 应为 {} 之一", Shift::labels()))?;
            let time = chrono::NaiveTime::parse_from_str(start, "%H:%M")
                .map_err(|_| format!("shifts.{name} 应为 HH:MM，现为 {start:?}"))?;
            let minutes = i64::from(chrono::Timelike::hour(&time)) * 60
                + i64::from(chrono::Timelike::minute(&time));
            starts.push((minutes, shift));
        }
        starts.sort();
        if starts.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("shifts 中有两个班次同时开始".into());
        }
        Ok(starts)
    }

    /// The shifts that end within `(after, until]`, earliest first.
    pub fn shifts_ending(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<ShiftSpan> {
        let Ok(starts) = self.shift_starts() else {
            return Vec::new();
        };
        let china = anjian_core::time::china();
        let midnight = |date: NaiveDate| {
            chrono::TimeZone::from_local_datetime(&china, &date.and_time(chrono::NaiveTime::MIN))
                .single()
                .map(|at| at.with_timezone(&Utc))
        };
        let mut spans = Vec::new();
        let mut date = anjian_core::time::china_date(after) - Duration::days(1);
        while let Some(day) = midnight(date) {
            if day > until {
                break;
            }
            for (i, (minutes, shift)) in starts.iter().enumerate() {
                let start = day + Duration::minutes(*minutes);
                let end = match starts.get(i + 1) {
                    Some((next, _)) => day + Duration::minutes(*next),
                    None => day + Duration::days(1) + Duration::minutes(starts[0].0),
                };
                if end > after && end <= until {
                    spans.push(ShiftSpan {
                        date,
                        shift: *shift,
                        start,
                        end,
                    });
                }
            }
            date += Duration::days(1);
        }
        spans
    }
}

/// A rainfall threshold: positive, at most one decimal (gauges count tenths of a millimetre).
pub fn check_threshold_mm(mm: f64) -> Result<i64, String> {
    match tenths(mm) {
        Some(t) if t > 0 => Ok(t),
        _ => Err(format!("应为大于 0、最多一位小数的毫米数，现为 {mm}")),
    }
}

/// `mm` in tenths of a millimetre, when it is finite, not negative, not absurd and has at
/// most one decimal.
fn tenths(mm: f64) -> Option<i64> {
    if !mm.is_finite() || !(0.0..=10_000.0).contains(&mm) {
        return None;
    }
    let scaled = mm * 10.0;
    let rounded = scaled.round();
    ((scaled - rounded).abs() < 1e-6).then_some(rounded as i64)
}

/// How the batch's clock compared with the server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Within the correction threshold: event times kept as sent.
    Ok,
    /// Off by more than the correction threshold: event times moved by the offset.
    Corrected,
    /// Off by more than the suspicion threshold: corrected, and shown to administrators.
    Suspect,
}

/// A checked batch from one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    pub device: Device,
    pub received_at: DateTime<Utc>,
    pub clock_offset_ms: i64,
    pub clock: ClockStatus,
    pub events: Vec<IotEvent>,
    /// Events repeated within the batch with the same content, dropped before storing.
    pub repeated: usize,
}

/// What storing a batch did; the intake's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestOutcome {
    pub stored: usize,
    /// Events the server already held with the same content (a device resending).
    pub duplicates: usize,
    /// Events whose id the server already held with other content: the first is kept, the
    /// other put aside for an administrator (nothing is silently dropped).
    pub conflicts: usize,
    /// Alerts this batch raised.
    pub alerts: Vec<String>,
}

/// Why a batch was refused. `Forbidden` is a batch from another device than the key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    Malformed(String),
    Forbidden(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    device: String,
    sent_at: String,
    events: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RainReading {
    id: String,
    t: String,
    interval_s: i64,
    rain_mm: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaceCheck {
    id: String,
    t: String,
    person: String,
    direction: Direction,
    photo_sha256: String,
    #[serde(default)]
    score: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Direction {
    In,
    Out,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositioningSnapshot {
    id: String,
    t: String,
    shift: ShiftRef,
    trigger: Trigger,
    underground: i64,
    persons: Vec<Person>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftRef {
    date: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Trigger {
    Shift,
    OnDemand,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Person {
    card: String,
    name: String,
    in_time: String,
    #[serde(default)]
    out_time: Option<String>,
    area: String,
    #[serde(default)]
    station: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DcsAlarm {
    id: String,
    t: String,
    tag: String,
    console: String,
    priority: Priority,
    state: AlarmState,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Priority {
    High,
    Medium,
    Low,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AlarmState {
    Active,
    Ack,
    Rtn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VideoDetection {
    id: String,
    t: String,
    camera: String,
    #[serde(rename = "type")]
    work: VideoType,
    #[serde(default)]
    area: Option<String>,
    #[serde(default)]
    count: Option<i64>,
    #[serde(default)]
    confidence: Option<f64>,
    snapshot_sha256: String,
}

/// What a video-analysis device reports seeing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoType {
    HotWork,
    Excavation,
    ConfinedSpace,
    WorkAtHeight,
    Lifting,
    HeadCount,
    Other,
}

/// What every kind's event shares once decoded.
struct Checked {
    id: String,
    t: String,
    value: Option<i64>,
    interval_s: Option<i64>,
}

/// The first instant a device's time may name: an unset real-time clock reads 0000, 0001,
/// 1970 or 2000-01-01, none of which is an event of this system.
pub const EARLIEST_DEVICE_TIME: &str = "2000-01-02T00:00:00Z";
/// How far a batch's `sent_at` may be from the server's time; beyond it the clock is broken,
/// not off, and correcting by it would move events by centuries (`sent_at` 9999-12-31 put
/// rain in year −7973).
pub const MAX_CLOCK_OFFSET_DAYS: i64 = 366;
/// How old an event may be when it arrives: a year of backlog (a terminal offline for a
/// season) is plausible, older is a clock fault.
pub const MAX_EVENT_AGE_DAYS: i64 = 366;

fn earliest_device_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(EARLIEST_DEVICE_TIME)
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether a time the device wrote can be one: not before [`EARLIEST_DEVICE_TIME`].
fn plausible_device_time(field: &str, at: DateTime<Utc>) -> Result<(), String> {
    if at < earliest_device_time() {
        return Err(format!(
            "{field} 为 {}，早于 2000 年：设备时钟未设置或已失效，请校准后重发",
            at.to_rfc3339()
        ));
    }
    Ok(())
}

/// Checks a batch for `device`, received at `received_at`: the whole batch or nothing. The
/// events' times are corrected by the batch's clock offset when it exceeds the configured
/// threshold; an event id repeated in the batch with the same content is kept once.
pub fn check_batch(
    device: &Device,
    body: &[u8],
    received_at: DateTime<Utc>,
    config: &IotConfig,
) -> Result<Intake, BatchError> {
    let malformed = |message: String| BatchError::Malformed(message);
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("批次不是约定格式的 JSON：{e}")))?;
    if envelope.device != device.device_id {
        return Err(BatchError::Forbidden(format!(
            "批次的 device 为 {}，而此密钥属于设备 {}",
            envelope.device, device.device_id
        )));
    }
    let sent_at = instant("sent_at", &envelope.sent_at).map_err(malformed)?;
    plausible_device_time("sent_at", sent_at).map_err(malformed)?;
    if (received_at - sent_at).abs() > Duration::days(MAX_CLOCK_OFFSET_DAYS) {
        return Err(malformed(format!(
            "sent_at 为 {}，与服务器时间 {} 相差超过 {MAX_CLOCK_OFFSET_DAYS} 天：设备时钟有误，请校准后重发",
            sent_at.to_rfc3339(),
            anjian_core::time::format_china(received_at)
        )));
    }
    if envelope.events.is_empty() {
        return Err(malformed("批次没有事件（events 为空）".into()));
    }
    if envelope.events.len() > config.batch.max_events {
        return Err(malformed(format!(
            "一个批次最多 {} 个事件，此批次有 {} 个：请分批发送",
            config.batch.max_events,
            envelope.events.len()
        )));
    }
    let offset = received_at - sent_at;
    let offset_ms = offset.num_milliseconds();
    let clock = if offset_ms.abs() > config.clock.suspect_after_s * 1000 {
        ClockStatus::Suspect
    } else if offset_ms.abs() > config.clock.correct_after_s * 1000 {
        ClockStatus::Corrected
    } else {
        ClockStatus::Ok
    };
    let latest = received_at + Duration::seconds(config.clock.future_tolerance_s);
    let oldest = received_at - Duration::days(MAX_EVENT_AGE_DAYS);
    let mut events: Vec<IotEvent> = Vec::with_capacity(envelope.events.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut repeated = 0;
    for (n, raw) in envelope.events.into_iter().enumerate() {
        let at_event = |problem: String| {
            let id = raw
                .get("id")
                .and_then(Value::as_str)
                .map(|id| format!("（id {id}）"))
                .unwrap_or_default();
            malformed(format!("第 {} 个事件{id}：{problem}", n + 1))
        };
        let checked = check_event(device.kind, &raw).map_err(at_event)?;
        if checked.id.is_empty()
            || checked.id.len() > ID_MAX
            || !checked.id.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(at_event(format!("id 应为 1–{ID_MAX} 个可见 ASCII 字符")));
        }
        let device_at = instant("t", &checked.t).map_err(at_event)?;
        plausible_device_time("t", device_at).map_err(at_event)?;
        let at = if clock == ClockStatus::Ok {
            device_at
        } else {
            device_at + offset
        };
        if at < oldest {
            return Err(at_event(format!(
                "事件时间 {} 早于服务器收到批次前 {MAX_EVENT_AGE_DAYS} 天：设备时钟有误或积压过久",
                anjian_core::time::format_china(at)
            )));
        }
        if at > latest {
            return Err(at_event(format!(
                "事件时间 {} 晚于服务器收到批次的时间 {}",
                anjian_core::time::format_china(at),
                anjian_core::time::format_china(received_at)
            )));
        }
        let body = canonical(&raw);
        let digest = hex::encode(Sha256::digest(body.as_bytes()));
        if let Some(&earlier) = seen.get(&checked.id) {
            if events[earlier].digest == digest {
                repeated += 1;
                continue;
            }
            return Err(at_event(format!(
                "事件 id {} 在批次中出现两次且内容不同",
                checked.id
            )));
        }
        seen.insert(checked.id.clone(), events.len());
        events.push(IotEvent {
            event_id: checked.id,
            at,
            device_at,
            value: checked.value,
            interval_s: checked.interval_s,
            body,
            digest,
        });
    }
    Ok(Intake {
        device: device.clone(),
        received_at,
        clock_offset_ms: offset_ms,
        clock,
        events,
        repeated,
    })
}

fn decode<T: serde::de::DeserializeOwned>(raw: &Value) -> Result<T, String> {
    T::deserialize(raw).map_err(|e| format!("字段不符合约定：{e}"))
}

fn check_event(kind: DeviceKind, raw: &Value) -> Result<Checked, String> {
    Ok(match kind {
        DeviceKind::Rain => {
            let r: RainReading = decode(raw)?;
            if !(1..=86_400).contains(&r.interval_s) {
                return Err(format!(
                    "interval_s 应在 1 到 86400 秒之间，现为 {}",
                    r.interval_s
                ));
            }
            let Some(tenths) = tenths(r.rain_mm) else {
                return Err(format!(
                    "rain_mm 应为不小于 0、最多一位小数的毫米数，现为 {}",
                    r.rain_mm
                ));
            };
            Checked {
                id: r.id,
                t: r.t,
                value: Some(tenths),
                interval_s: Some(r.interval_s),
            }
        }
        DeviceKind::Face => {
            let f: FaceCheck = decode(raw)?;
            text_field("person", &f.person)?;
            sha256_field("photo_sha256", &f.photo_sha256)?;
            if f.score.is_some_and(|s| !(0.0..=1.0).contains(&s)) {
                return Err("score 应在 0 到 1 之间".into());
            }
            let _ = f.direction;
            Checked {
                id: f.id,
                t: f.t,
                value: None,
                interval_s: None,
            }
        }
        DeviceKind::Positioning => {
            let p: PositioningSnapshot = decode(raw)?;
            NaiveDate::parse_from_str(&p.shift.date, "%Y-%m-%d")
                .map_err(|_| format!("shift.date 应为 YYYY-MM-DD，现为 {}", p.shift.date))?;
            if crate::store::Shift::parse(&p.shift.name).is_none() {
                return Err(format!(
                    "shift.name 应为 {} 之一，现为 {}",
                    crate::store::Shift::labels(),
                    p.shift.name
                ));
            }
            let _ = p.trigger;
            for (i, person) in p.persons.iter().enumerate() {
                let at_person = |e: String| format!("persons 第 {} 人：{e}", i + 1);
                text_field("card", &person.card).map_err(at_person)?;
                text_field("name", &person.name).map_err(at_person)?;
                text_field("area", &person.area).map_err(at_person)?;
                instant("in_time", &person.in_time).map_err(at_person)?;
                if let Some(out) = &person.out_time {
                    instant("out_time", out).map_err(at_person)?;
                }
                if let Some(station) = &person.station {
                    text_field("station", station).map_err(at_person)?;
                }
            }
            let still_in = p.persons.iter().filter(|p| p.out_time.is_none()).count() as i64;
            if p.underground != still_in {
                return Err(format!(
                    "underground 为 {}，而 persons 中未升井（无 out_time）的有 {still_in} 人",
                    p.underground
                ));
            }
            Checked {
                id: p.id,
                t: p.t,
                value: Some(p.underground),
                interval_s: None,
            }
        }
        DeviceKind::Dcs => {
            let d: DcsAlarm = decode(raw)?;
            text_field("tag", &d.tag)?;
            text_field("console", &d.console)?;
            if let Some(text) = &d.text
                && text.chars().count() > 200
            {
                return Err("text 最多 200 个字符".into());
            }
            let _ = d.priority;
            Checked {
                id: d.id,
                t: d.t,
                // Activations are what the alarm-frequency rule counts.
                value: Some(i64::from(matches!(d.state, AlarmState::Active))),
                interval_s: None,
            }
        }
        DeviceKind::Video => {
            let v: VideoDetection = decode(raw)?;
            text_field("camera", &v.camera)?;
            if let Some(area) = &v.area {
                text_field("area", area)?;
            }
            sha256_field("snapshot_sha256", &v.snapshot_sha256)?;
            if v.count.is_some_and(|c| c < 0) {
                return Err("count 不能为负".into());
            }
            if v.work == VideoType::HeadCount && v.count.is_none() {
                return Err("head_count 事件须给出 count".into());
            }
            if v.confidence.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
                return Err("confidence 应在 0 到 1 之间".into());
            }
            Checked {
                id: v.id,
                t: v.t,
                value: v.count,
                interval_s: None,
            }
        }
    })
}

fn text_field(name: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() || value.chars().count() > ID_MAX {
        return Err(format!("{name} 应为 1–{ID_MAX} 个字符"));
    }
    Ok(())
}

fn sha256_field(name: &str, value: &str) -> Result<(), String> {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{name} 应为 64 位十六进制的 SHA-256"));
    }
    Ok(())
}

/// An RFC 3339 instant with its offset (a device's local time without a zone is ambiguous).
fn instant(field: &str, text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            format!(
                "{field} 应为带时区的 RFC 3339 时间，如 2026-07-14T10:10:00+08:00，现为 {text:?}"
            )
        })
}

/// The JSON text of `value` with every object's keys sorted, so that a resend with its keys
/// in another order is recognised as the same event.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for key in keys {
                    out.insert(key.clone(), sorted(&map[key]));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge() -> Device {
        Device {
            device_id: "RG-01".into(),
            kind: DeviceKind::Rain,
            credit_code: "91370303MA3C000001".into(),
            location: "主井口".into(),
            rain_threshold_tenths: None,
            registered_at: Utc::now(),
            revoked_at: None,
            clock_offset_ms: None,
            last_batch_at: None,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn batch(sent_at: &str, events: &str) -> Vec<u8> {
        format!(r#"{{"device":"RG-01","sent_at":"{sent_at}","events":[{events}]}}"#).into_bytes()
    }

    fn reading(id: &str, t: &str, mm: &str) -> String {
        format!(r#"{{"id":"{id}","t":"{t}","interval_s":60,"rain_mm":{mm}}}"#)
    }

    /// A gauge's batch checked with the shipped configuration.
    fn check_gauge(body: &[u8], received: DateTime<Utc>) -> Result<Intake, BatchError> {
        check_batch(&gauge(), body, received, &IotConfig::shipped())
    }

    fn malformed(result: Result<Intake, BatchError>) -> String {
        match result {
            Err(BatchError::Malformed(message)) => message,
            other => panic!("expected a malformed batch, got {other:?}"),
        }
    }

    #[test]
    fn the_shipped_configuration_parses() {
        let config = IotConfig::shipped();
        assert_eq!(config.rain.threshold_tenths(), 500);
        assert_eq!(config.rain.dry(), Duration::hours(6));
    }

    #[test]
    fn bad_configurations_say_what_is_wrong() {
        let swap = |from: &str, to: &str| {
            IotConfig::parse("x.toml", &DEFAULT_CONFIG.replace(from, to)).unwrap_err()
        };
        assert!(swap("threshold_mm = 50.0", "threshold_mm = 50.05").contains("threshold_mm"));
        assert!(swap("dry_minutes = 360", "dry_minutes = 0").contains("dry_minutes"));
        assert!(swap("max_events = 1000", "max_events = 0").contains("max_events"));
        assert!(swap("suspect_after_s = 300", "suspect_after_s = 60").contains("suspect_after_s"));
        assert!(swap("[rain]", "[rian]").contains("x.toml"));
        assert!(swap("\"白班\" = \"08:00\"", "\"早班\" = \"08:00\"").contains("早班"));
        assert!(swap("\"白班\" = \"08:00\"", "\"白班\" = \"8点\"").contains("HH:MM"));
        assert!(swap("\"白班\" = \"08:00\"", "\"白班\" = \"00:00\"").contains("同时开始"));
        assert!(swap("tick_seconds = 60", "tick_seconds = 0").contains("tick_seconds"));
    }

    #[test]
    fn shifts_run_from_their_start_to_the_next_and_end_once() {
        let config = IotConfig::shipped();
        let spans = config.shifts_ending(
            at("2026-07-14T07:59:00+08:00"),
            at("2026-07-15T08:00:00+08:00"),
        );
        let seen: Vec<(String, &str, DateTime<Utc>, DateTime<Utc>)> = spans
            .iter()
            .map(|s| (s.date.to_string(), s.shift.label(), s.start, s.end))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "2026-07-14".into(),
                    "夜班",
                    at("2026-07-14T00:00:00+08:00"),
                    at("2026-07-14T08:00:00+08:00")
                ),
                (
                    "2026-07-14".into(),
                    "白班",
                    at("2026-07-14T08:00:00+08:00"),
                    at("2026-07-14T16:00:00+08:00")
                ),
                (
                    "2026-07-14".into(),
                    "中班",
                    at("2026-07-14T16:00:00+08:00"),
                    at("2026-07-15T00:00:00+08:00")
                ),
                (
                    "2026-07-15".into(),
                    "夜班",
                    at("2026-07-15T00:00:00+08:00"),
                    at("2026-07-15T08:00:00+08:00")
                ),
            ]
        );
        // An end exactly at `after` was counted before; one exactly at `until` is counted now.
        assert!(
            config
                .shifts_ending(
                    at("2026-07-14T08:00:00+08:00"),
                    at("2026-07-14T15:59:59+08:00")
                )
                .is_empty()
        );
        // Two shifts of twelve hours, the night one across midnight.
        let two = IotConfig::parse(
            "x.toml",
            &DEFAULT_CONFIG
                .replace("\"夜班\" = \"00:00\"", "\"夜班\" = \"20:00\"")
                .replace("\"中班\" = \"16:00\"\n", ""),
        )
        .unwrap();
        let spans = two.shifts_ending(
            at("2026-07-14T00:00:00+08:00"),
            at("2026-07-15T00:00:00+08:00"),
        );
        let seen: Vec<(&str, DateTime<Utc>)> =
            spans.iter().map(|s| (s.shift.label(), s.end)).collect();
        assert_eq!(
            seen,
            [
                ("夜班", at("2026-07-14T08:00:00+08:00")),
                ("白班", at("2026-07-14T20:00:00+08:00"))
            ]
        );
        assert_eq!(spans[0].date.to_string(), "2026-07-13");
    }

    #[test]
    fn rain_is_kept_in_tenths_of_a_millimetre_exactly() {
        let received = at("2026-07-14T10:15:03+08:00");
        let body = batch(
            "2026-07-14T10:15:02+08:00",
            &[
                reading("a", "2026-07-14T10:10:00+08:00", "50.0"),
                reading("b", "2026-07-14T10:11:00+08:00", "0.1"),
                reading("c", "2026-07-14T10:12:00+08:00", "0"),
            ]
            .join(","),
        );
        let intake = check_gauge(&body, received).unwrap();
        let values: Vec<Option<i64>> = intake.events.iter().map(|e| e.value).collect();
        assert_eq!(values, [Some(500), Some(1), Some(0)]);
        assert_eq!(intake.clock, ClockStatus::Ok);
        assert_eq!(intake.events[0].at, at("2026-07-14T10:10:00+08:00"));
        for mm in ["0.05", "-1", "1e9"] {
            let body = batch(
                "2026-07-14T10:15:02+08:00",
                &reading("a", "2026-07-14T10:10:00+08:00", mm),
            );
            let message = malformed(check_gauge(&body, received));
            assert!(
                message.contains("第 1 个事件（id a）：rain_mm"),
                "{message}"
            );
        }
    }

    #[test]
    fn a_clock_off_by_more_than_the_threshold_is_corrected_by_the_batch_offset() {
        let config = IotConfig::shipped();
        let received = at("2026-07-14T10:15:00+08:00");
        // The device thinks it is an hour earlier.
        let body = batch(
            "2026-07-14T09:15:00+08:00",
            &reading("a", "2026-07-14T09:10:00+08:00", "1.0"),
        );
        let intake = check_batch(&gauge(), &body, received, &config).unwrap();
        assert_eq!(intake.clock, ClockStatus::Suspect);
        assert_eq!(intake.clock_offset_ms, 3_600_000);
        assert_eq!(intake.events[0].at, at("2026-07-14T10:10:00+08:00"));
        assert_eq!(intake.events[0].device_at, at("2026-07-14T09:10:00+08:00"));
        // Within the threshold the times are kept; past it, corrected but not suspect.
        for (sent, status) in [
            ("2026-07-14T10:13:00+08:00", ClockStatus::Ok),
            ("2026-07-14T10:12:59+08:00", ClockStatus::Corrected),
            ("2026-07-14T10:10:00+08:00", ClockStatus::Corrected),
            ("2026-07-14T10:09:59+08:00", ClockStatus::Suspect),
        ] {
            let body = batch(sent, &reading("a", "2026-07-14T10:00:00+08:00", "1.0"));
            let intake = check_batch(&gauge(), &body, received, &config).unwrap();
            assert_eq!(intake.clock, status, "sent at {sent}");
        }
    }

    #[test]
    fn an_event_still_in_the_future_after_correction_refuses_the_batch() {
        let received = at("2026-07-14T10:15:00+08:00");
        let body = batch(
            "2026-07-14T10:15:00+08:00",
            &[
                reading("a", "2026-07-14T10:10:00+08:00", "1.0"),
                reading("b", "2026-07-14T10:20:01+08:00", "1.0"),
            ]
            .join(","),
        );
        let message = malformed(check_gauge(&body, received));
        assert!(
            message.contains("第 2 个事件（id b）") && message.contains("晚于"),
            "{message}"
        );
    }

    #[test]
    fn times_outside_a_plausible_window_refuse_the_batch() {
        let received = at("2026-07-14T10:15:00+08:00");
        for (sent, t, expected) in [
            (
                "2026-07-14T10:15:00+08:00",
                "0000-01-01T00:00:00Z",
                "早于 2000 年",
            ),
            (
                "2026-07-14T10:15:00+08:00",
                "0001-01-01T00:00:00Z",
                "早于 2000 年",
            ),
            (
                "2026-07-14T10:15:00+08:00",
                "1970-01-01T00:00:00Z",
                "早于 2000 年",
            ),
            ("1970-01-01T00:10:00Z", "1970-01-01T00:05:00Z", "sent_at"),
            ("9999-12-31T23:59:59Z", "9999-12-31T23:50:00Z", "相差超过"),
            (
                "2026-07-14T10:15:00+08:00",
                "2025-07-01T00:00:00+08:00",
                "早于服务器收到批次前",
            ),
        ] {
            let body = batch(sent, &reading("a", t, "1.0"));
            let message = malformed(check_gauge(&body, received));
            assert!(message.contains(expected), "{sent} {t}: {message}");
        }
        // A clock off by days is still corrected, not refused.
        let body = batch(
            "2026-07-10T10:15:00+08:00",
            &reading("a", "2026-07-10T10:10:00+08:00", "1.0"),
        );
        let intake = check_gauge(&body, received).unwrap();
        assert_eq!(intake.events[0].at, at("2026-07-14T10:10:00+08:00"));
    }

    #[test]
    fn a_repeated_event_is_kept_once_and_a_changed_repeat_refuses_the_batch() {
        let received = at("2026-07-14T10:15:00+08:00");
        let same = batch(
            "2026-07-14T10:15:00+08:00",
            &[
                reading("a", "2026-07-14T10:10:00+08:00", "1.0"),
                // The same event with its keys in another order.
                r#"{"rain_mm":1.0,"interval_s":60,"t":"2026-07-14T10:10:00+08:00","id":"a"}"#
                    .to_string(),
            ]
            .join(","),
        );
        let intake = check_gauge(&same, received).unwrap();
        assert_eq!((intake.events.len(), intake.repeated), (1, 1));
        let changed = batch(
            "2026-07-14T10:15:00+08:00",
            &[
                reading("a", "2026-07-14T10:10:00+08:00", "1.0"),
                reading("a", "2026-07-14T10:10:00+08:00", "2.0"),
            ]
            .join(","),
        );
        let message = malformed(check_gauge(&changed, received));
        assert!(message.contains("出现两次且内容不同"), "{message}");
    }

    #[test]
    fn malformed_batches_say_what_is_wrong() {
        let received = at("2026-07-14T10:15:00+08:00");
        let config = IotConfig::shipped();
        let cases: [(&[u8], &str); 7] = [
            (b"{not json", "不是约定格式的 JSON"),
            (br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[]}"#, "没有事件"),
            (
                br#"{"device":"RG-01","sent_at":"2026-07-14 10:15:00","events":[{}]}"#,
                "sent_at 应为带时区的 RFC 3339",
            ),
            (
                br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[{"id":"a","t":"2026-07-14T10:10:00+08:00","interval_s":60,"rain":1}]}"#,
                "第 1 个事件（id a）：字段不符合约定",
            ),
            (
                br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[{"id":"","t":"2026-07-14T10:10:00+08:00","interval_s":60,"rain_mm":1}]}"#,
                "id 应为",
            ),
            (
                br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[{"id":"a","t":"2026-07-14T10:10:00","interval_s":60,"rain_mm":1}]}"#,
                "t 应为带时区",
            ),
            (
                br#"{"device":"RG-01","sent_at":"2026-07-14T10:15:00+08:00","events":[{"id":"a","t":"2026-07-14T10:10:00+08:00","interval_s":0,"rain_mm":1}]}"#,
                "interval_s",
            ),
        ];
        for (body, expected) in cases {
            let message = malformed(check_batch(&gauge(), body, received, &config));
            assert!(message.contains(expected), "{expected}: {message}");
        }
        let other_device =
            br#"{"device":"RG-02","sent_at":"2026-07-14T10:15:00+08:00","events":[]}"#;
        assert!(matches!(
            check_batch(&gauge(), other_device, received, &config),
            Err(BatchError::Forbidden(_))
        ));
        let too_many = batch(
            "2026-07-14T10:15:00+08:00",
            &(0..1001)
                .map(|n| reading(&n.to_string(), "2026-07-14T10:10:00+08:00", "0"))
                .collect::<Vec<_>>()
                .join(","),
        );
        assert!(
            malformed(check_batch(&gauge(), &too_many, received, &config)).contains("最多 1000 个")
        );
    }

    #[test]
    fn every_kind_checks_its_own_fields() {
        let received = at("2026-07-14T10:15:00+08:00");
        let config = IotConfig::shipped();
        let hash = "ab".repeat(32);
        let check = |kind: DeviceKind, event: String| {
            let device = Device { kind, ..gauge() };
            check_batch(
                &device,
                &batch("2026-07-14T10:15:00+08:00", &event),
                received,
                &config,
            )
        };
        let positioning = |underground: i64| {
            format!(
                r#"{{"id":"p1","t":"2026-07-14T10:00:00+08:00","shift":{{"date":"2026-07-14","name":"白班"}},"trigger":"shift","underground":{underground},"persons":[{{"card":"C1","name":"张三","in_time":"2026-07-14T08:00:00+08:00","out_time":null,"area":"一采区"}},{{"card":"C2","name":"李四","in_time":"2026-07-14T08:00:00+08:00","out_time":"2026-07-14T09:00:00+08:00","area":"井底车场"}}]}}"#
            )
        };
        let intake = check(DeviceKind::Positioning, positioning(1)).unwrap();
        assert_eq!(intake.events[0].value, Some(1));
        assert!(malformed(check(DeviceKind::Positioning, positioning(2))).contains("未升井"));
        let face = |direction: &str, photo: &str| {
            format!(
                r#"{{"id":"f1","t":"2026-07-14T08:01:00+08:00","person":"L001","direction":"{direction}","photo_sha256":"{photo}"}}"#
            )
        };
        check(DeviceKind::Face, face("in", &hash)).unwrap();
        assert!(
            malformed(check(DeviceKind::Face, face("sideways", &hash))).contains("字段不符合约定")
        );
        assert!(malformed(check(DeviceKind::Face, face("in", "abc"))).contains("photo_sha256"));
        let dcs = r#"{"id":"d1","t":"2026-07-14T10:00:00+08:00","tag":"TI-101","console":"操作站1","priority":"high","state":"active"}"#;
        check(DeviceKind::Dcs, dcs.into()).unwrap();
        let video = |kind: &str, count: &str| {
            format!(
                r#"{{"id":"v1","t":"2026-07-14T10:00:00+08:00","camera":"CAM-3","type":"{kind}"{count},"snapshot_sha256":"{hash}"}}"#
            )
        };
        check(DeviceKind::Video, video("hot_work", "")).unwrap();
        assert_eq!(
            check(DeviceKind::Video, video("head_count", r#","count":7"#))
                .unwrap()
                .events[0]
                .value,
            Some(7)
        );
        assert!(malformed(check(DeviceKind::Video, video("head_count", ""))).contains("count"));
        // A rain reading sent to a face terminal's registration does not fit its fields.
        assert!(
            malformed(check(
                DeviceKind::Face,
                reading("a", "2026-07-14T10:10:00+08:00", "1.0")
            ))
            .contains("字段不符合约定")
        );
    }
}
