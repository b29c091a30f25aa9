//! The IoT rules as decisions over rows: given a batch (or the shifts that ended) and the rows
//! the store read, what to write — alerts to raise, rain events, hazards, attendance. There is
//! no SQL here; [`super::run`] reads the rows and writes the decisions in one transaction.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::rain::tenths_text;
use super::{IotConfig, ShiftSpan};
use crate::store::iot::{
    AlertRule, Device, Episode, IotEvent, NewAlert, NewIotHazard, Reading, WetReading,
};
use crate::store::{Attendance, AttendanceSource, StoreError, StoreResult};

/// Who leads a shift as its attendance row names them when no roster leader checked in.
pub const NO_LEADER: &str = "（无人带班）";

/// A stored event's JSON.
pub fn event_body(event: &IotEvent) -> StoreResult<Value> {
    serde_json::from_str(&event.body)
        .map_err(|e| StoreError::Corrupt(format!("stored event body: {e}")))
}

/// An alert about what one device reported, raised at the batch's arrival.
fn device_alert(
    device: &Device,
    received_at: DateTime<Utc>,
    rule: AlertRule,
    alert_id: String,
    occurred_at: i64,
    title: String,
    detail: Value,
) -> NewAlert {
    NewAlert {
        alert_id,
        rule,
        credit_code: device.credit_code.clone(),
        device_id: Some(device.device_id.clone()),
        occurred_at,
        raised_at: received_at.timestamp_millis(),
        title,
        detail,
    }
}

// ---- 无票动火 -------------------------------------------------------------------------------

/// Hot work a camera saw: when and where, to be held against the enterprise's 动火 permits.
#[derive(Debug, Clone, PartialEq)]
pub struct HotWorkSighting<'a> {
    pub event: &'a IotEvent,
    pub camera: String,
    pub area: Option<String>,
    body: Value,
}

/// The new events that report hot work.
pub fn hot_work_sightings<'a>(events: &[&'a IotEvent]) -> StoreResult<Vec<HotWorkSighting<'a>>> {
    let mut sightings = Vec::new();
    for event in events {
        let body = event_body(event)?;
        if body["type"] != "hot_work" {
            continue;
        }
        sightings.push(HotWorkSighting {
            event,
            camera: body["camera"].as_str().unwrap_or_default().to_string(),
            area: body["area"]
                .as_str()
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            body,
        });
    }
    Ok(sightings)
}

/// 无票动火 for a sighting no permit covers: at most one alert per camera and hour (the id
/// names the hour), so that a camera watching the work all day raises it once an hour.
pub fn unpermitted_hot_work(
    device: &Device,
    received_at: DateTime<Utc>,
    sighting: &HotWorkSighting<'_>,
) -> NewAlert {
    let HotWorkSighting {
        event,
        camera,
        area,
        body,
    } = sighting;
    let at = event.at.timestamp_millis();
    let hour = at.div_euclid(3_600_000);
    let title = format!(
        "{}摄像机 {camera}{} 于 {} 发现动火作业，未查到覆盖该时间的动火安全作业票",
        device.location,
        area.as_ref()
            .map(|a| format!("（{a}）"))
            .unwrap_or_default(),
        anjian_core::time::format_china(event.at)
    );
    let detail = json!({
        "camera": camera,
        "area": area,
        "event_id": event.event_id,
        "snapshot_sha256": body["snapshot_sha256"],
        "confidence": body["confidence"],
    });
    device_alert(
        device,
        received_at,
        AlertRule::HotWorkUnpermitted,
        format!("hot_work_unpermitted:{}:{camera}:{hour}", device.device_id),
        at,
        title,
        detail,
    )
}

// ---- 撤人后井下仍有人 -------------------------------------------------------------------------

/// The positioning snapshots that find people underground.
pub fn occupied_snapshots<'a>(events: &[&'a IotEvent]) -> Vec<&'a IotEvent> {
    events
        .iter()
        .copied()
        .filter(|e| e.value.unwrap_or(0) > 0)
        .collect()
}

/// A 停产撤人 alert still unacknowledged at a snapshot counts when it occurred before this:
/// the evacuation time before the snapshot.
pub fn evacuation_due_before(snapshot: &IotEvent, config: &IotConfig) -> DateTime<Utc> {
    snapshot.at - Duration::minutes(config.positioning.evacuation_minutes)
}

/// 撤人后井下仍有人 for a snapshot that finds people underground longer than the evacuation
/// time after the stop alert `stop` (its id and when it occurred), which no one has yet
/// acknowledged (production resumes only after a person confirms it is safe).
pub fn still_underground(
    device: &Device,
    received_at: DateTime<Utc>,
    snapshot: &IotEvent,
    stop: &(String, DateTime<Utc>),
) -> StoreResult<NewAlert> {
    let (stop_alert, stopped_at) = stop;
    let at = snapshot.at.timestamp_millis();
    let body = event_body(snapshot)?;
    let underground: Vec<Value> = body["persons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["out_time"].is_null())
        .map(|p| json!({"card": p["card"], "name": p["name"], "area": p["area"]}))
        .collect();
    let title = format!(
        "停产撤人警报发出 {} 分钟后，{}报告井下仍有 {} 人",
        (at - stopped_at.timestamp_millis()) / 60_000,
        device.location,
        snapshot.value.unwrap_or(0)
    );
    let detail = json!({
        "stop_alert": stop_alert,
        "stop_at": stopped_at.to_rfc3339(),
        "underground": snapshot.value,
        "persons": underground,
    });
    Ok(device_alert(
        device,
        received_at,
        AlertRule::StillUnderground,
        format!(
            "still_underground:{}:{}",
            device.device_id, snapshot.event_id
        ),
        at,
        title,
        detail,
    ))
}

// ---- DCS 报警频繁 ----------------------------------------------------------------------------

/// The batch's new activations (milliseconds), in order.
pub fn new_activations(events: &[&IotEvent]) -> Vec<i64> {
    let mut new: Vec<i64> = events
        .iter()
        .filter(|e| e.value == Some(1))
        .map(|e| e.at.timestamp_millis())
        .collect();
    new.sort_unstable();
    new
}

/// The stored activations the rule must see for `new` (sorted, not empty): those within
/// `(after, until]`.
pub fn activation_window(new: &[i64], config: &IotConfig) -> Option<(i64, i64)> {
    let window = config.dcs.window_hours * 3_600_000;
    Some((*new.first()? - window, *new.last()?))
}

/// When the gateway's activations within any window of `dcs.window_hours` ending at one of
/// the batch's new activations (`new`, sorted) exceed `dcs.max_alarms`: the hazard the
/// enterprise gets in hazard tracking (kind IoT, deadline `dcs.rectify_days` on), like one an
/// inspection found, and its alert. `activations` are the gateway's, sorted, over the window
/// of [`activation_window`]. The caller asks only while the gateway has no open hazard.
pub fn frequent_alarms(
    device: &Device,
    received_at: DateTime<Utc>,
    new: &[i64],
    activations: &[i64],
    config: &IotConfig,
) -> StoreResult<Option<(NewIotHazard, NewAlert)>> {
    let window = config.dcs.window_hours * 3_600_000;
    // The first new activation at which the window ending there holds too many.
    let crossed = new.iter().find_map(|&end| {
        let start = activations.partition_point(|&at| at <= end - window);
        let stop = activations.partition_point(|&at| at <= end);
        let count = (stop - start) as i64;
        (count > config.dcs.max_alarms).then_some((end, count))
    });
    let Some((at, count)) = crossed else {
        return Ok(None);
    };
    let found = DateTime::from_timestamp_millis(at)
        .ok_or_else(|| StoreError::Corrupt(format!("time {at} out of range")))?;
    let deadline = anjian_core::time::china_date(found) + Duration::days(config.dcs.rectify_days);
    let hazard_id = format!("dcs:{}:{at}", device.device_id);
    let description = format!(
        "DCS 报警频繁：{}（{}）{} 小时内报警 {count} 次，超过 {} 次的管理要求",
        device.location, device.device_id, config.dcs.window_hours, config.dcs.max_alarms
    );
    let title = format!("{description}；已列入隐患整改，整改期限 {deadline}");
    let detail = json!({
        "hazard_id": hazard_id,
        "window_hours": config.dcs.window_hours,
        "max_alarms": config.dcs.max_alarms,
        "alarms": count,
        "deadline": deadline.to_string(),
    });
    let alert = device_alert(
        device,
        received_at,
        AlertRule::DcsFrequent,
        format!("dcs_frequent:{hazard_id}"),
        at,
        title,
        detail,
    );
    let hazard = NewIotHazard {
        hazard_id,
        credit_code: device.credit_code.clone(),
        device_id: device.device_id.clone(),
        subject: device.location.clone(),
        description,
        found_at: found,
        deadline,
    };
    Ok(Some((hazard, alert)))
}

// ---- 降雨停产撤人 ----------------------------------------------------------------------------

/// The new events that carry rain, as readings.
pub fn wet_readings(events: &[&IotEvent]) -> Vec<Reading> {
    events
        .iter()
        .filter_map(|e| {
            let tenths = e.value.filter(|t| *t > 0)?;
            let end_ms = e.at.timestamp_millis();
            Some(Reading {
                start_ms: end_ms - e.interval_s.unwrap_or(0) * 1000,
                end_ms,
                tenths,
            })
        })
        .collect()
}

/// How a batch's readings, the earliest starting at `earliest`, move the gauge's rain events,
/// given the stored events they can touch (by start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RainPlan {
    /// Every reading comes after the gauge's last rain: fold them onto the open event (if
    /// any).
    Continue(Option<Episode>),
    /// A reading arrived late: fold the stored readings again from this instant.
    Recount { from: i64 },
}

pub fn rain_plan(touched: &[Episode], earliest: i64) -> RainPlan {
    match touched {
        [] => RainPlan::Continue(None),
        [open] if earliest >= open.last_wet_ms => RainPlan::Continue(Some(*open)),
        [first, ..] => RainPlan::Recount {
            from: first.started_ms.min(earliest),
        },
    }
}

/// 停产撤人 for a rain event that reached the gauge's threshold at `reached`; `readings` are
/// the event's wet readings up to then. The caller raises it only when none of the gauge's
/// alerts lies within the event (an event recounted after a late reading keeps its alert:
/// alerts are never withdrawn).
pub fn rain_stop(
    device: &Device,
    received_at: DateTime<Utc>,
    episode: &Episode,
    reached: i64,
    threshold: i64,
    readings: &[WetReading],
) -> StoreResult<NewAlert> {
    let at = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
    };
    let reached_total: i64 = readings.iter().map(|r| r.tenths).sum();
    let listed: Vec<Value> = readings
        .iter()
        .map(|r| {
            json!({
                "t": r.at.to_rfc3339(),
                "interval_s": r.interval_s,
                "rain_mm": tenths_text(r.tenths),
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
    let detail = json!({
        "threshold_mm": tenths_text(threshold),
        "total_mm": tenths_text(reached_total),
        "rain_started_at": at(episode.started_ms)?.to_rfc3339(),
        "reached_at": at(reached)?.to_rfc3339(),
        "readings": listed,
    });
    Ok(device_alert(
        device,
        received_at,
        AlertRule::RainStop,
        format!("rain_stop:{}:{}", device.device_id, episode.started_ms),
        reached,
        title,
        detail,
    ))
}

// ---- 人员定位缺传 ----------------------------------------------------------------------------

/// Whether a device was registered and not revoked when the shift started.
pub fn watched_during(device: &Device, span: &ShiftSpan) -> bool {
    device.registered_at <= span.start && device.revoked_at.is_none_or(|r| r > span.start)
}

/// 人员定位缺传 for a positioning system that sent nothing timed within a shift.
pub fn positioning_missing(device: &Device, span: &ShiftSpan, now: DateTime<Utc>) -> NewAlert {
    let shift = span.shift.label();
    NewAlert {
        alert_id: format!(
            "positioning_missing:{}:{}:{shift}",
            device.device_id, span.date
        ),
        rule: AlertRule::PositioningMissing,
        credit_code: device.credit_code.clone(),
        device_id: Some(device.device_id.clone()),
        occurred_at: span.end.timestamp_millis(),
        raised_at: now.timestamp_millis(),
        title: format!(
            "{}（{}）{} {shift}未上传井下人员定位数据",
            device.location, device.device_id, span.date
        ),
        detail: json!({
            "shift": shift,
            "date": span.date.to_string(),
            "shift_start": span.start.to_rfc3339(),
            "shift_end": span.end.to_rfc3339(),
        }),
    }
}

// ---- 带班 -----------------------------------------------------------------------------------

/// The shifts a face terminal's new check-ins fall in that were already judged (ended more
/// than the grace period before the batch arrived), so that a backlog arriving late turns a
/// shift's absence into attendance. (The alert raised meanwhile stays.)
pub fn shifts_to_rejudge(
    device: &Device,
    received_at: DateTime<Utc>,
    events: &[&IotEvent],
    config: &IotConfig,
) -> Vec<ShiftSpan> {
    let Some(earliest) = events.iter().map(|e| e.at).min() else {
        return Vec::new();
    };
    let early = Duration::minutes(config.duty.early_minutes);
    let judged_until = received_at - Duration::minutes(config.absence.grace_minutes);
    config
        .shifts_ending(earliest - Duration::days(1), judged_until)
        .into_iter()
        .filter(|s| s.start >= device.registered_at)
        .filter(|s| {
            events
                .iter()
                .any(|e| e.at >= s.start - early && e.at < s.end - early)
        })
        .collect()
}

/// The face terminals' events that can count for `spans`: those within `[from, until)`.
pub fn check_in_window(
    spans: &[ShiftSpan],
    config: &IotConfig,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let early = Duration::minutes(config.duty.early_minutes);
    let first = spans.iter().map(|s| s.start).min()?;
    let last = spans.iter().map(|s| s.end).max()?;
    Some((first - early, last - early))
}

/// The days `spans` start on, first and last.
pub fn span_days(spans: &[ShiftSpan]) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        spans.iter().map(|s| s.date).min()?,
        spans.iter().map(|s| s.date).max()?,
    ))
}

/// What judging an enterprise's shifts decided: the attendance rows to write (each in place
/// of the shift's earlier IoT row) and the 带班缺岗 alerts to raise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DutyJudgement {
    pub attendance: Vec<Attendance>,
    pub alerts: Vec<NewAlert>,
}

/// Judges `spans` of one enterprise: the roster leaders (`roster`: person id → name) who
/// checked in (direction `in`) at one of its face terminals (`check_ins`: each event's time
/// and JSON) in the shift's window, which starts `duty.early_minutes` before the shift and
/// ends as early before the next (so a leader who comes early for the day shift leads the day
/// shift, not the night shift it arrives in, and each check-in counts once). A shift's
/// attendance row (`source = iot`) is written when it differs from `stored`, unless the CSV
/// import holds the shift; a shift with no leader raises 带班缺岗.
pub fn judge_duty(
    credit_code: &str,
    spans: &[ShiftSpan],
    roster: &HashMap<String, String>,
    check_ins: &[(DateTime<Utc>, Value)],
    stored: &[Attendance],
    config: &IotConfig,
    now: DateTime<Utc>,
) -> DutyJudgement {
    let early = Duration::minutes(config.duty.early_minutes);
    let leaders_in: Vec<(DateTime<Utc>, &str)> = check_ins
        .iter()
        .filter(|(_, body)| body["direction"] == "in")
        .filter_map(|(at, body)| {
            let person = body["person"].as_str().unwrap_or_default();
            roster.get(person).map(|name| (*at, name.as_str()))
        })
        .collect();
    let mut judgement = DutyJudgement::default();
    for span in spans {
        let shift = span.shift.label();
        let rows: Vec<&Attendance> = stored
            .iter()
            .filter(|a| a.date == span.date && a.shift == span.shift)
            .collect();
        if rows.iter().any(|a| a.source == AttendanceSource::Csv) {
            continue;
        }
        let mut leaders: Vec<&str> = leaders_in
            .iter()
            .filter(|(at, _)| *at >= span.start - early && *at < span.end - early)
            .map(|(_, name)| *name)
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
            matches!(rows.as_slice(), [row] if row.leader == leader && row.present == present);
        if !unchanged {
            judgement.attendance.push(Attendance {
                credit_code: credit_code.to_string(),
                date: span.date,
                shift: span.shift,
                leader,
                present,
                source: AttendanceSource::Iot,
            });
        }
        if !present {
            judgement.alerts.push(NewAlert {
                alert_id: format!("duty_absent:{credit_code}:{}:{shift}", span.date),
                rule: AlertRule::DutyAbsent,
                credit_code: credit_code.to_string(),
                device_id: None,
                occurred_at: span.end.timestamp_millis(),
                raised_at: now.timestamp_millis(),
                title: format!(
                    "{} {shift}无矿领导带班：人脸识别考勤没有带班领导入井记录",
                    span.date
                ),
                detail: json!({
                    "shift": shift,
                    "date": span.date.to_string(),
                    "shift_start": span.start.to_rfc3339(),
                    "shift_end": span.end.to_rfc3339(),
                    "roster": roster.len(),
                }),
            });
        }
    }
    judgement
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::Shift;
    use crate::store::iot::DeviceKind;

    const MINE: &str = "91370303MA3C000001";

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn device(kind: DeviceKind) -> Device {
        Device {
            device_id: "D-1".into(),
            kind,
            credit_code: MINE.into(),
            location: "主井口".into(),
            rain_threshold_tenths: None,
            registered_at: at("2026-07-01T00:00:00+08:00"),
            revoked_at: None,
            clock_offset_ms: None,
            last_batch_at: None,
        }
    }

    fn event(id: &str, t: &str, value: Option<i64>, body: Value) -> IotEvent {
        IotEvent {
            event_id: id.into(),
            at: at(t),
            device_at: at(t),
            value,
            interval_s: None,
            body: body.to_string(),
            digest: String::new(),
        }
    }

    fn day_shift() -> ShiftSpan {
        ShiftSpan {
            date: "2026-07-14".parse().unwrap(),
            shift: Shift::Day,
            start: at("2026-07-14T08:00:00+08:00"),
            end: at("2026-07-14T16:00:00+08:00"),
        }
    }

    fn check_in(t: DateTime<Utc>, person: &str, direction: &str) -> (DateTime<Utc>, Value) {
        (t, json!({"person": person, "direction": direction}))
    }

    #[test]
    fn a_leader_checking_in_early_leads_the_shift_and_a_shift_without_one_raises_an_alert() {
        let config = IotConfig::shipped();
        let roster: HashMap<String, String> = [("P-1".to_string(), "王矿长".to_string())].into();
        let now = at("2026-07-14T16:31:00+08:00");
        let early = day_shift().start - Duration::minutes(config.duty.early_minutes);
        let attended = judge_duty(
            MINE,
            &[day_shift()],
            &roster,
            &[
                check_in(early, "P-1", "in"),
                // Not on the roster, or leaving: neither leads the shift.
                check_in(at("2026-07-14T09:00:00+08:00"), "P-9", "in"),
                check_in(at("2026-07-14T10:00:00+08:00"), "P-1", "out"),
            ],
            &[],
            &config,
            now,
        );
        assert!(attended.alerts.is_empty());
        assert_eq!(attended.attendance.len(), 1);
        assert_eq!(attended.attendance[0].leader, "王矿长");
        assert!(attended.attendance[0].present);
        assert_eq!(attended.attendance[0].source, AttendanceSource::Iot);

        let absent = judge_duty(MINE, &[day_shift()], &roster, &[], &[], &config, now);
        assert_eq!(absent.attendance[0].leader, NO_LEADER);
        assert!(!absent.attendance[0].present);
        assert_eq!(absent.alerts.len(), 1);
        assert_eq!(absent.alerts[0].rule, AlertRule::DutyAbsent);
        assert_eq!(
            absent.alerts[0].alert_id,
            format!("duty_absent:{MINE}:2026-07-14:白班")
        );
        assert_eq!(
            absent.alerts[0].occurred_at,
            day_shift().end.timestamp_millis()
        );
    }

    #[test]
    fn a_shift_the_csv_import_holds_or_already_judged_the_same_is_not_rewritten() {
        let config = IotConfig::shipped();
        let roster = HashMap::new();
        let now = at("2026-07-14T16:31:00+08:00");
        let row = |leader: &str, source| Attendance {
            credit_code: MINE.into(),
            date: "2026-07-14".parse().unwrap(),
            shift: Shift::Day,
            leader: leader.into(),
            present: false,
            source,
        };
        let from_csv = judge_duty(
            MINE,
            &[day_shift()],
            &roster,
            &[],
            &[row("李矿长", AttendanceSource::Csv)],
            &config,
            now,
        );
        assert_eq!(from_csv, DutyJudgement::default());
        let judged = judge_duty(
            MINE,
            &[day_shift()],
            &roster,
            &[],
            &[row(NO_LEADER, AttendanceSource::Iot)],
            &config,
            now,
        );
        assert!(judged.attendance.is_empty());
        // The alert is decided again; the store keeps the first one raised.
        assert_eq!(judged.alerts.len(), 1);
    }

    #[test]
    fn alarms_beyond_the_limit_within_the_window_become_a_hazard_with_a_deadline() {
        let config = IotConfig::shipped();
        let gateway = device(DeviceKind::Dcs);
        let received = at("2026-07-14T12:00:00+08:00");
        let hour = 3_600_000;
        let start = at("2026-07-14T00:00:00+08:00").timestamp_millis();
        let limit = usize::try_from(config.dcs.max_alarms).unwrap();
        let at_limit: Vec<i64> = (0..limit).map(|i| start + i as i64 * 60_000).collect();
        let new = vec![*at_limit.last().unwrap()];
        assert_eq!(
            activation_window(&new, &config),
            Some((new[0] - config.dcs.window_hours * hour, new[0]))
        );
        assert!(
            frequent_alarms(&gateway, received, &new, &at_limit, &config)
                .unwrap()
                .is_none()
        );
        let mut over = at_limit.clone();
        over.push(start + limit as i64 * 60_000);
        let new = vec![*over.last().unwrap()];
        let (hazard, alert) = frequent_alarms(&gateway, received, &new, &over, &config)
            .unwrap()
            .unwrap();
        assert_eq!(hazard.hazard_id, format!("dcs:D-1:{}", new[0]));
        assert_eq!(
            hazard.deadline,
            anjian_core::time::china_date(hazard.found_at)
                + Duration::days(config.dcs.rectify_days)
        );
        assert_eq!(alert.alert_id, format!("dcs_frequent:{}", hazard.hazard_id));
        assert_eq!(alert.detail["alarms"], json!(limit + 1));
        assert_eq!(alert.raised_at, received.timestamp_millis());
        // Activations older than the window do not count.
        let spread: Vec<i64> = (0..=limit as i64)
            .map(|i| start + i * config.dcs.window_hours * hour)
            .collect();
        let new = vec![*spread.last().unwrap()];
        assert!(
            frequent_alarms(&gateway, received, &new, &spread, &config)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn readings_after_the_last_rain_continue_it_and_a_late_one_recounts() {
        let open = Episode {
            started_ms: 1_000,
            last_wet_ms: 5_000,
            total_tenths: 30,
            reached_ms: None,
        };
        assert_eq!(rain_plan(&[], 7), RainPlan::Continue(None));
        assert_eq!(rain_plan(&[open], 5_000), RainPlan::Continue(Some(open)));
        assert_eq!(rain_plan(&[open], 4_000), RainPlan::Recount { from: 1_000 });
        assert_eq!(rain_plan(&[open], 500), RainPlan::Recount { from: 500 });
        let later = Episode {
            started_ms: 9_000,
            ..open
        };
        assert_eq!(
            rain_plan(&[open, later], 9_500),
            RainPlan::Recount { from: 1_000 }
        );
    }

    #[test]
    fn only_hot_work_is_a_sighting_and_its_alert_names_the_camera_and_hour() {
        let camera = device(DeviceKind::Video);
        let hot = event(
            "E-1",
            "2026-07-14T10:20:00+08:00",
            None,
            json!({"type": "hot_work", "camera": "C-2", "area": "", "snapshot_sha256": "ab"}),
        );
        let lifting = event(
            "E-2",
            "2026-07-14T10:21:00+08:00",
            None,
            json!({"type": "lifting", "camera": "C-2"}),
        );
        let sightings = hot_work_sightings(&[&hot, &lifting]).unwrap();
        assert_eq!(sightings.len(), 1);
        assert_eq!(sightings[0].area, None);
        let alert = unpermitted_hot_work(&camera, at("2026-07-14T10:25:00+08:00"), &sightings[0]);
        let hour = hot.at.timestamp_millis().div_euclid(3_600_000);
        assert_eq!(
            alert.alert_id,
            format!("hot_work_unpermitted:D-1:C-2:{hour}")
        );
        assert_eq!(alert.occurred_at, hot.at.timestamp_millis());
        assert_eq!(alert.detail["snapshot_sha256"], "ab");
    }

    #[test]
    fn a_device_watches_the_shifts_that_start_while_it_is_registered() {
        let mut system = device(DeviceKind::Positioning);
        assert!(watched_during(&system, &day_shift()));
        system.revoked_at = Some(day_shift().start);
        assert!(!watched_during(&system, &day_shift()));
        system.revoked_at = None;
        system.registered_at = day_shift().start + Duration::seconds(1);
        assert!(!watched_during(&system, &day_shift()));
        let alert = positioning_missing(&system, &day_shift(), day_shift().end);
        assert_eq!(alert.alert_id, "positioning_missing:D-1:2026-07-14:白班");
    }
}
