//! The IoT sequences: a device's batch ([`ingest`]) and the absence rules' minute ([`tick`]),
//! each one store transaction that reads the rows a rule needs, asks the rule
//! ([`super::rules`]) what follows, and writes it. An answered batch is stored with its
//! alerts; a refused one leaves nothing. On PostgreSQL the device's row lock, taken first,
//! orders one device's batches.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::rules::{self, RainPlan};
use super::{IngestOutcome, Intake, IotConfig, ShiftSpan, rain};
use crate::store::iot::{self as rows, Device, DeviceKind, IotEvent, NewAlert};
use crate::store::{Db, Store, StoreResult};

/// Stores a checked batch and runs its device's rules, in one transaction.
pub fn ingest(store: &Store, intake: &Intake, config: &IotConfig) -> StoreResult<IngestOutcome> {
    store.write(|db| {
        let device = &intake.device;
        let stored = rows::store_batch(
            db,
            &device.device_id,
            intake.received_at,
            intake.clock_offset_ms,
            &intake.events,
        )?;
        let new_events: Vec<&IotEvent> = intake
            .events
            .iter()
            .filter(|e| stored.inserted.contains(&e.event_id))
            .collect();
        let at = intake.received_at;
        let alerts = match device.kind {
            DeviceKind::Video => hot_work(db, device, at, &new_events)?,
            DeviceKind::Positioning => evacuation(db, device, at, &new_events, config)?,
            DeviceKind::Face => {
                let spans = rules::shifts_to_rejudge(device, at, &new_events, config);
                duty(db, &device.credit_code, &spans, config, at)?.0
            }
            DeviceKind::Dcs => alarm_frequency(db, device, at, &new_events, config)?,
            DeviceKind::Rain => rain_events(db, device, at, &new_events, config)?,
        };
        Ok(IngestOutcome {
            stored: stored.inserted.len(),
            duplicates: intake.repeated + stored.duplicates,
            conflicts: stored.conflicts,
            alerts,
        })
    })
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
/// nothing timed within a shift, and 带班 — each shift of an enterprise with a face terminal
/// gets its attendance row from the roster leaders' check-ins, and a shift without one is
/// 带班缺岗. Running it again changes nothing.
pub fn tick(store: &Store, now: DateTime<Utc>, config: &IotConfig) -> StoreResult<TickOutcome> {
    let until = now - chrono::Duration::minutes(config.absence.grace_minutes);
    let spans = config.shifts_ending(
        until - chrono::Duration::hours(config.absence.lookback_hours),
        until,
    );
    if spans.is_empty() {
        return Ok(TickOutcome::default());
    }
    store.write(|db| {
        let mut outcome = TickOutcome::default();
        let devices = rows::shift_devices(db)?;
        for d in devices.iter().filter(|d| d.kind == DeviceKind::Positioning) {
            for span in spans.iter().filter(|s| rules::watched_during(d, s)) {
                if rows::has_event_within(db, &d.device_id, span.start, span.end)? {
                    continue;
                }
                raise(
                    db,
                    rules::positioning_missing(d, span, now),
                    &mut outcome.alerts,
                )?;
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
                .filter(|s| terminals.iter().any(|d| rules::watched_during(d, s)))
                .copied()
                .collect();
            let (alerts, written) = duty(db, code, &due, config, now)?;
            outcome.alerts.extend(alerts);
            outcome.attendance += written;
        }
        Ok(outcome)
    })
}

/// Writes an alert; its id joins `raised` when it is new.
fn raise(db: &mut Db<'_, '_>, alert: NewAlert, raised: &mut Vec<String>) -> StoreResult<()> {
    if rows::insert_alert(db, &alert)? {
        raised.push(alert.alert_id);
    }
    Ok(())
}

fn hot_work(
    db: &mut Db<'_, '_>,
    device: &Device,
    received_at: DateTime<Utc>,
    events: &[&IotEvent],
) -> StoreResult<Vec<String>> {
    let mut raised = Vec::new();
    for sighting in rules::hot_work_sightings(events)? {
        let at = sighting.event.at;
        if rows::hot_work_permitted(db, &device.credit_code, at, sighting.area.as_deref())? {
            continue;
        }
        let alert = rules::unpermitted_hot_work(device, received_at, &sighting);
        raise(db, alert, &mut raised)?;
    }
    Ok(raised)
}

fn evacuation(
    db: &mut Db<'_, '_>,
    device: &Device,
    received_at: DateTime<Utc>,
    events: &[&IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let mut raised = Vec::new();
    for snapshot in rules::occupied_snapshots(events) {
        let before = rules::evacuation_due_before(snapshot, config);
        let Some(stop) = rows::unacknowledged_rain_stop(db, &device.credit_code, before)? else {
            continue;
        };
        let alert = rules::still_underground(device, received_at, snapshot, &stop)?;
        raise(db, alert, &mut raised)?;
    }
    Ok(raised)
}

fn alarm_frequency(
    db: &mut Db<'_, '_>,
    device: &Device,
    received_at: DateTime<Utc>,
    events: &[&IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let new = rules::new_activations(events);
    let Some((after, until)) = rules::activation_window(&new, config) else {
        return Ok(Vec::new());
    };
    if rows::open_iot_hazard(db, &device.device_id)? {
        return Ok(Vec::new());
    }
    let activations = rows::activations(db, &device.device_id, after, until)?;
    let Some((hazard, alert)) =
        rules::frequent_alarms(device, received_at, &new, &activations, config)?
    else {
        return Ok(Vec::new());
    };
    rows::add_iot_hazard(db, &hazard)?;
    rows::insert_alert(db, &alert)?;
    Ok(vec![alert.alert_id])
}

/// Moves the gauge's rain events by its newly stored wet readings and raises 停产撤人 for an
/// event that reached the threshold and has no alert yet.
fn rain_events(
    db: &mut Db<'_, '_>,
    device: &Device,
    received_at: DateTime<Utc>,
    events: &[&IotEvent],
    config: &IotConfig,
) -> StoreResult<Vec<String>> {
    let readings = rules::wet_readings(events);
    let Some(earliest) = readings.iter().map(|r| r.start_ms).min() else {
        return Ok(Vec::new());
    };
    let dry_ms = config.rain.dry().num_milliseconds();
    let threshold = config.rain.threshold_for(device);
    let touched = rows::rain_episodes_after(db, &device.device_id, earliest - dry_ms)?;
    let episodes = match rules::rain_plan(&touched, earliest) {
        RainPlan::Continue(open) => rain::fold(open, &readings, dry_ms, threshold),
        RainPlan::Recount { from } => {
            let stored = rows::wet_readings_from(db, &device.device_id, from)?;
            rain::fold(None, &stored, dry_ms, threshold)
        }
    };
    let replaced_from = touched.first().map(|e| e.started_ms);
    rows::replace_rain_episodes(db, &device.device_id, replaced_from, &episodes)?;
    let mut raised = Vec::new();
    for episode in &episodes {
        let Some(reached) = episode.reached_ms else {
            continue;
        };
        // An event recounted after a late reading keeps its alert: alerts are never withdrawn.
        if rows::rain_stop_within(
            db,
            &device.device_id,
            episode.started_ms,
            episode.last_wet_ms,
        )? {
            continue;
        }
        let wet = rows::wet_readings_between(db, &device.device_id, episode.started_ms, reached)?;
        let alert = rules::rain_stop(device, received_at, episode, reached, threshold, &wet)?;
        rows::insert_alert(db, &alert)?;
        raised.push(alert.alert_id);
    }
    Ok(raised)
}

/// Judges `spans` of one enterprise's 带班 from the rows they need and writes the outcome:
/// the alerts raised and how many attendance rows were written.
fn duty(
    db: &mut Db<'_, '_>,
    credit_code: &str,
    spans: &[ShiftSpan],
    config: &IotConfig,
    now: DateTime<Utc>,
) -> StoreResult<(Vec<String>, usize)> {
    let (Some((from, until)), Some((first_day, last_day))) = (
        rules::check_in_window(spans, config),
        rules::span_days(spans),
    ) else {
        return Ok((Vec::new(), 0));
    };
    let roster = rows::duty_roster(db, credit_code)?;
    let check_ins = rows::face_events(db, credit_code, from, until)?;
    let stored = rows::attendance_between(db, credit_code, first_day, last_day)?;
    let judgement = rules::judge_duty(
        credit_code,
        spans,
        &roster,
        &check_ins,
        &stored,
        config,
        now,
    );
    rows::write_iot_attendance(db, &judgement.attendance)?;
    let mut raised = Vec::new();
    for alert in judgement.alerts {
        raise(db, alert, &mut raised)?;
    }
    Ok((raised, judgement.attendance.len()))
}
