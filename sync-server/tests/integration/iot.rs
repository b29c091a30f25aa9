//! IoT intake on both backends: the device registry, events stored once whatever a device
//! resends, and the rainfall rule at its edges (exactly the threshold, a dry gap just under and
//! at the dry period, readings arriving late and out of order).
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use chrono::{DateTime, Duration, Utc};

use anjian_server::admin::imports;
use anjian_server::auth::token_hash;
use anjian_server::iot::{self, Device, DeviceKind, IngestOutcome, IotConfig, check_batch};
use anjian_server::store::iot::{AlertRule, NewDevice};
use anjian_server::store::{ImportKind, RecordScope, Store, StoreError};

use crate::reference::demo_world;
use crate::store::{on_postgres, on_sqlite};

conformance! {
    devices_are_registered_once_found_by_key_and_revoked,
    resent_events_are_stored_once_and_changed_resends_put_aside,
    rain_reaching_exactly_the_threshold_raises_one_stop_alert,
    a_dry_gap_shorter_than_the_dry_period_continues_the_rain_event,
    a_late_reading_recounts_the_rain_events_it_joins,
    a_mine_may_have_its_own_threshold,
    hot_work_without_a_covering_permit_raises_an_alert_once_an_hour,
    people_still_underground_after_a_stop_raise_an_alert_until_it_is_acknowledged,
    a_shift_without_a_positioning_upload_raises_an_alert_once,
    duty_attendance_follows_the_roster_leaders_check_ins,
    frequent_dcs_alarms_become_a_hazard_in_tracking_until_confirmed_rectified,
}

/// 淄博黑旺铁矿有限公司, 非煤矿山, 太河镇 (370302109) of 淄川区.
const MINE: &str = "91370302016480894K";
/// 淄博博山石灰石矿, 非煤矿山, 池上镇 (370304104) of 博山区.
const OTHER_MINE: &str = "91370304081924866E";
/// 淄博齐鲁石化助剂有限公司, 危险化学品, 辛店街道 (370305003) of 临淄区.
const CHEMICALS: &str = "913703050534640908";

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The day of the tests' rain, China time.
fn hour(h: i64) -> DateTime<Utc> {
    instant("2026-07-14T00:00:00+08:00") + Duration::hours(h)
}

fn register(store: &Store, id: &str, enterprise: &str, threshold: Option<i64>) -> Device {
    register_kind(store, id, DeviceKind::Rain, enterprise, threshold)
}

fn register_kind(
    store: &Store,
    id: &str,
    kind: DeviceKind,
    enterprise: &str,
    threshold: Option<i64>,
) -> Device {
    store
        .register_device(&NewDevice {
            device_id: id.into(),
            kind,
            credit_code: enterprise.into(),
            location: "主井口".into(),
            rain_threshold_tenths: threshold,
            key_hash: token_hash(&format!("key of {id}")),
            registered_at: hour(0),
        })
        .unwrap()
}

/// One-minute readings: (id, end of the minute, millimetres).
fn send(store: &Store, device: &Device, readings: &[(&str, DateTime<Utc>, &str)]) -> IngestOutcome {
    let received = readings.iter().map(|r| r.1).max().unwrap() + Duration::seconds(5);
    let events: Vec<String> = readings
        .iter()
        .map(|(id, t, mm)| {
            format!(
                r#"{{"id":"{id}","t":"{}","interval_s":60,"rain_mm":{mm}}}"#,
                t.to_rfc3339()
            )
        })
        .collect();
    let body = format!(
        r#"{{"device":"{}","sent_at":"{}","events":[{}]}}"#,
        device.device_id,
        received.to_rfc3339(),
        events.join(",")
    );
    let config = IotConfig::shipped();
    let intake = check_batch(device, body.as_bytes(), received, &config).unwrap();
    iot::ingest(store, &intake, &config).unwrap()
}

/// `n` one-minute readings of `mm` each, ending at `first`, `first` + 1 min, …
fn minutes(
    prefix: &str,
    first: DateTime<Utc>,
    n: i64,
    mm: &'static str,
) -> Vec<(String, DateTime<Utc>, &'static str)> {
    (0..n)
        .map(|i| (format!("{prefix}{i}"), first + Duration::minutes(i), mm))
        .collect()
}

fn send_all(
    store: &Store,
    device: &Device,
    readings: &[(String, DateTime<Utc>, &str)],
) -> IngestOutcome {
    let borrowed: Vec<(&str, DateTime<Utc>, &str)> = readings
        .iter()
        .map(|(id, t, mm)| (id.as_str(), *t, *mm))
        .collect();
    send(store, device, &borrowed)
}

fn alerts(store: &Store, scope: &RecordScope) -> Vec<anjian_server::store::iot::Alert> {
    let (alerts, total) = store.alerts(scope, 100, 0).unwrap();
    assert_eq!(total as usize, alerts.len());
    alerts
}

fn everywhere(store: &Store) -> Vec<anjian_server::store::iot::Alert> {
    alerts(store, &RecordScope::All)
}

fn devices_are_registered_once_found_by_key_and_revoked(store: &Store) {
    demo_world(store);
    let gauge = register(store, "RG-1", MINE, None);
    assert_eq!(gauge.kind, DeviceKind::Rain);
    let again = store.register_device(&NewDevice {
        device_id: "RG-1".into(),
        kind: DeviceKind::Rain,
        credit_code: OTHER_MINE.into(),
        location: "风井".into(),
        rain_threshold_tenths: None,
        key_hash: token_hash("another key"),
        registered_at: hour(1),
    });
    assert!(matches!(again, Err(StoreError::Conflict(m)) if m.contains("RG-1 已登记")));
    let unregistered = store.register_device(&NewDevice {
        device_id: "RG-2".into(),
        kind: DeviceKind::Rain,
        credit_code: "914403001922038216".into(),
        location: "井口".into(),
        rain_threshold_tenths: None,
        key_hash: token_hash("a third key"),
        registered_at: hour(1),
    });
    assert!(matches!(unregistered, Err(StoreError::NotFound(m)) if m.contains("未登记")));
    register(store, "RG-3", OTHER_MINE, None);

    let found = store
        .device_by_key(&token_hash("key of RG-1"))
        .unwrap()
        .unwrap();
    assert_eq!(found, gauge);
    assert_eq!(
        store.device_by_key(&token_hash("no such key")).unwrap(),
        None
    );

    let ids = |scope: RecordScope| -> Vec<String> {
        store
            .devices(&scope)
            .unwrap()
            .into_iter()
            .map(|d| d.device_id)
            .collect()
    };
    assert_eq!(ids(RecordScope::All), ["RG-1", "RG-3"]);
    assert_eq!(
        ids(RecordScope::Regions(vec!["370302109".into()])),
        ["RG-1"]
    );
    assert_eq!(
        ids(RecordScope::Regions(vec!["370303007".into()])),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(RecordScope::Enterprise {
            credit_code: OTHER_MINE.into(),
            inspection_kinds: Vec::new()
        }),
        ["RG-3"]
    );

    assert!(store.revoke_device("RG-1", hour(2)).unwrap());
    assert!(store.revoke_device("RG-1", hour(3)).unwrap());
    assert!(!store.revoke_device("RG-9", hour(3)).unwrap());
    let revoked = store
        .device_by_key(&token_hash("key of RG-1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        revoked.revoked_at,
        Some(hour(2)),
        "the first revocation counts"
    );
}

fn resent_events_are_stored_once_and_changed_resends_put_aside(store: &Store) {
    demo_world(store);
    let gauge = register(store, "RG-1", MINE, None);
    let first = send(
        store,
        &gauge,
        &[
            ("a", hour(1), "0.5"),
            ("b", hour(2), "0"),
            ("c", hour(3), "1.2"),
        ],
    );
    assert_eq!((first.stored, first.duplicates, first.conflicts), (3, 0, 0));
    // A device reconnecting resends everything, and one new reading.
    let resent = send(
        store,
        &gauge,
        &[
            ("a", hour(1), "0.5"),
            ("b", hour(2), "0"),
            ("c", hour(3), "1.2"),
            ("d", hour(4), "0"),
        ],
    );
    assert_eq!(
        (resent.stored, resent.duplicates, resent.conflicts),
        (1, 3, 0)
    );
    // The same id with another amount: the first is kept, the second put aside once.
    for _ in 0..2 {
        let changed = send(store, &gauge, &[("c", hour(3), "9.9")]);
        assert_eq!(
            (changed.stored, changed.duplicates, changed.conflicts),
            (0, 0, 1)
        );
    }
    assert_eq!(store.iot_conflicts_of("RG-1").unwrap(), 1);
    let events = store.iot_events_of("RG-1", 10).unwrap();
    let values: Vec<(&str, Option<i64>)> = events
        .iter()
        .map(|e| (e.event_id.as_str(), e.value))
        .collect();
    assert_eq!(
        values,
        [
            ("d", Some(0)),
            ("c", Some(12)),
            ("b", Some(0)),
            ("a", Some(5))
        ]
    );
    assert!(everywhere(store).is_empty(), "1.7 mm raises nothing");
    let device = store
        .device_by_key(&token_hash("key of RG-1"))
        .unwrap()
        .unwrap();
    assert_eq!(device.last_batch_at, Some(hour(3) + Duration::seconds(5)));
    assert_eq!(device.clock_offset_ms, Some(0));
}

fn rain_reaching_exactly_the_threshold_raises_one_stop_alert(store: &Store) {
    demo_world(store);
    let gauge = register(store, "RG-1", MINE, None);
    // 49.9 mm: 499 minutes of 0.1 mm, in batches of 100.
    let below = minutes("m", hour(1), 499, "0.1");
    for batch in below.chunks(100) {
        assert!(send_all(store, &gauge, batch).alerts.is_empty());
    }
    assert!(everywhere(store).is_empty(), "49.9 mm is below 50.0");
    let exactly = send(
        store,
        &gauge,
        &[("m499", hour(1) + Duration::minutes(499), "0.1")],
    );
    assert_eq!(
        exactly.alerts.len(),
        1,
        "exactly 50.0 mm reaches the threshold"
    );
    let more = send_all(
        store,
        &gauge,
        &minutes("n", hour(1) + Duration::minutes(500), 30, "1.0"),
    );
    assert!(
        more.alerts.is_empty(),
        "the same rain event raises one alert"
    );

    let alerts = everywhere(store);
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.rule.as_str(), "rain_stop");
    assert_eq!(alert.credit_code, MINE);
    assert_eq!(alert.enterprise_name, "淄博黑旺铁矿有限公司");
    assert_eq!(alert.region_code, "370302109");
    assert_eq!(alert.occurred_at, hour(1) + Duration::minutes(499));
    assert!(
        alert.title.contains("累计 50.0 毫米") && alert.title.contains("停产撤人"),
        "{}",
        alert.title
    );
    assert_eq!(alert.detail["total_mm"], "50.0");
    assert_eq!(alert.detail["threshold_mm"], "50.0");
    assert_eq!(alert.detail["readings"].as_array().unwrap().len(), 500);
    assert_eq!(alert.detail["readings"][499]["rain_mm"], "0.1");

    // Who sees it: the mine's town and district, and the mine; not another district.
    for (scope, seen) in [
        (RecordScope::Regions(vec!["370302109".into()]), 1),
        (
            RecordScope::Regions(vec!["370302".into(), "370302109".into()]),
            1,
        ),
        (
            RecordScope::Regions(vec!["370303".into(), "370303007".into()]),
            0,
        ),
        (
            RecordScope::Enterprise {
                credit_code: MINE.into(),
                inspection_kinds: Vec::new(),
            },
            1,
        ),
        (
            RecordScope::Enterprise {
                credit_code: OTHER_MINE.into(),
                inspection_kinds: Vec::new(),
            },
            0,
        ),
    ] {
        assert_eq!(alerts_len(store, &scope), seen, "{scope:?}");
    }
}

fn alerts_len(store: &Store, scope: &RecordScope) -> usize {
    alerts(store, scope).len()
}

fn a_dry_gap_shorter_than_the_dry_period_continues_the_rain_event(store: &Store) {
    demo_world(store);
    let dry = IotConfig::shipped().rain.dry();
    // 30 mm; dry for one minute less than the dry period; 20 mm: one event of 50 mm.
    let near = register(store, "RG-1", MINE, None);
    send(store, &near, &[("a", hour(1), "30.0")]);
    let next_start = hour(1) + dry - Duration::minutes(1);
    let continued = send(
        store,
        &near,
        &[("b", next_start + Duration::minutes(1), "20.0")],
    );
    assert_eq!(
        continued.alerts.len(),
        1,
        "a gap under the dry period continues the event"
    );
    // The same with a gap of exactly the dry period: two events of 30 and 20 mm.
    let far = register(store, "RG-2", OTHER_MINE, None);
    send(store, &far, &[("a", hour(1), "30.0")]);
    let next_start = hour(1) + dry;
    let restarted = send(
        store,
        &far,
        &[("b", next_start + Duration::minutes(1), "20.0")],
    );
    assert!(restarted.alerts.is_empty(), "the dry period ends the event");
    // Then the second event goes on to 50 mm by itself.
    let later = send(
        store,
        &far,
        &[("c", next_start + Duration::minutes(2), "30.0")],
    );
    assert_eq!(later.alerts.len(), 1);
    let alerts = everywhere(store);
    let on_far: Vec<_> = alerts
        .iter()
        .filter(|a| a.device_id.as_deref() == Some("RG-2"))
        .collect();
    assert_eq!(on_far.len(), 1);
    assert_eq!(on_far[0].detail["total_mm"], "50.0");
    assert_eq!(on_far[0].detail["readings"].as_array().unwrap().len(), 2);
}

fn a_late_reading_recounts_the_rain_events_it_joins(store: &Store) {
    demo_world(store);
    let gauge = register(store, "RG-1", MINE, None);
    // 30 mm at 01:00 and 21 mm at 12:00: eleven dry hours, two events, no alert.
    send(store, &gauge, &[("a", hour(1), "30.0")]);
    send(store, &gauge, &[("d", hour(12), "21.0")]);
    assert!(everywhere(store).is_empty());
    // A gauge's backlog arrives late: rain at 05:00 and 09:00 bridges the gap (no dry spell
    // of six hours left): one event of 30 + 0.5 + 0.5 + 21 = 52 mm.
    let late = send(
        store,
        &gauge,
        &[("c", hour(9), "0.5"), ("b", hour(5), "0.5")],
    );
    assert_eq!(late.alerts.len(), 1);
    let alerts = everywhere(store);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].occurred_at, hour(12));
    assert_eq!(alerts[0].detail["total_mm"], "52.0");
    // An even earlier reading moves the event's start: still the one alert.
    let earlier = send(
        store,
        &gauge,
        &[("z", hour(0) + Duration::minutes(30), "2.0")],
    );
    assert!(earlier.alerts.is_empty());
    assert_eq!(everywhere(store).len(), 1);
}

fn a_mine_may_have_its_own_threshold(store: &Store) {
    demo_world(store);
    let strict = register(store, "RG-1", MINE, Some(450));
    assert!(
        send(store, &strict, &[("a", hour(1), "44.9")])
            .alerts
            .is_empty()
    );
    let reached = send(
        store,
        &strict,
        &[("b", hour(1) + Duration::minutes(1), "0.1")],
    );
    assert_eq!(reached.alerts.len(), 1);
    let alert = &everywhere(store)[0];
    assert_eq!(alert.detail["threshold_mm"], "45.0");
    assert!(alert.title.contains("标准 45.0 毫米"), "{}", alert.title);
}

/// Posts one batch of `events` (JSON objects with their `id` and `t`), received a little after
/// the latest.
fn post_events(store: &Store, device: &Device, events: &[serde_json::Value]) -> IngestOutcome {
    let latest = events
        .iter()
        .map(|e| instant(e["t"].as_str().unwrap()))
        .max()
        .unwrap();
    post_events_at(store, device, events, latest + Duration::seconds(5))
}

/// The same, received at `received` (a device's backlog arrives after its events).
fn post_events_at(
    store: &Store,
    device: &Device,
    events: &[serde_json::Value],
    received: DateTime<Utc>,
) -> IngestOutcome {
    let body = serde_json::json!({
        "device": device.device_id,
        "sent_at": received.to_rfc3339(),
        "events": events,
    });
    let config = IotConfig::shipped();
    let intake = check_batch(device, body.to_string().as_bytes(), received, &config).unwrap();
    iot::ingest(store, &intake, &config).unwrap()
}

fn detection(id: &str, at: DateTime<Utc>, work: &str, area: Option<&str>) -> serde_json::Value {
    let mut event = serde_json::json!({
        "id": id,
        "t": at.to_rfc3339(),
        "camera": "CAM-1",
        "type": work,
        "snapshot_sha256": "ab".repeat(32),
    });
    if let Some(area) = area {
        event["area"] = serde_json::json!(area);
    }
    event
}

fn import_csv(store: &Store, kind: ImportKind, csv: &str) {
    let known = imports::Known::load(store).unwrap();
    let batch = imports::parse(kind, "test.csv", csv.as_bytes(), &known).unwrap();
    store.import_reference(&batch).unwrap();
}

fn hot_work_without_a_covering_permit_raises_an_alert_once_an_hour(store: &Store) {
    demo_world(store);
    import_csv(
        store,
        ImportKind::WorkPermits,
        &format!(
            "统一社会信用代码,作业票编号,作业类型,动火级别,作业区域,开始时间,结束时间\n\
             {CHEMICALS},DH-1,动火,二级,甲醇罐区,2026-07-14 08:00,2026-07-14 18:00\n\
             {CHEMICALS},DH-2,动火,一级,,2026-07-15 08:00,2026-07-15 16:00\n\
             {CHEMICALS},SX-1,受限空间,,脱硫塔,2026-07-14 08:00,2026-07-14 18:00\n"
        ),
    );
    let camera = register_kind(store, "VB-1", DeviceKind::Video, CHEMICALS, None);
    let at = |text: &str| instant(&format!("2026-07-{text}+08:00"));
    let raised = |events: Vec<serde_json::Value>| post_events(store, &camera, &events).alerts.len();
    // Within the permit's time and area, or naming no area: covered.
    assert_eq!(
        raised(vec![detection(
            "a",
            at("14T10:00:00"),
            "hot_work",
            Some("甲醇罐区")
        )]),
        0
    );
    assert_eq!(
        raised(vec![detection("b", at("14T10:01:00"), "hot_work", None)]),
        0
    );
    assert_eq!(
        raised(vec![detection(
            "c",
            at("14T18:00:00"),
            "hot_work",
            Some("甲醇罐区")
        )]),
        0
    );
    // A permit naming no area covers every area.
    assert_eq!(
        raised(vec![detection(
            "d",
            at("15T12:00:00"),
            "hot_work",
            Some("脱硫塔")
        )]),
        0
    );
    // Another area, or a second past the permit's end: not covered.
    assert_eq!(
        raised(vec![detection(
            "e",
            at("14T10:05:00"),
            "hot_work",
            Some("脱硫塔")
        )]),
        1
    );
    // The same camera in the same hour: the alert stands, no second one.
    assert_eq!(
        raised(vec![detection(
            "f",
            at("14T10:20:00"),
            "hot_work",
            Some("脱硫塔")
        )]),
        0
    );
    assert_eq!(
        raised(vec![detection(
            "g",
            at("14T18:00:01"),
            "hot_work",
            Some("甲醇罐区")
        )]),
        1
    );
    // A confined-space permit is not a hot-work permit; other detections raise nothing.
    assert_eq!(
        raised(vec![detection(
            "h",
            at("16T09:00:00"),
            "hot_work",
            Some("脱硫塔")
        )]),
        1
    );
    assert_eq!(
        raised(vec![detection("i", at("16T09:30:00"), "excavation", None)]),
        0
    );
    // Resending a detection raises nothing again.
    assert_eq!(
        raised(vec![detection(
            "h",
            at("16T09:00:00"),
            "hot_work",
            Some("脱硫塔")
        )]),
        0
    );

    let alerts = everywhere(store);
    assert_eq!(alerts.len(), 3);
    assert!(
        alerts
            .iter()
            .all(|a| a.rule == AlertRule::HotWorkUnpermitted)
    );
    let first = alerts
        .iter()
        .find(|a| a.occurred_at == at("14T10:05:00"))
        .unwrap();
    assert!(
        first.title.contains("CAM-1（脱硫塔）") && first.title.contains("动火安全作业票"),
        "{}",
        first.title
    );
    assert_eq!(first.detail["event_id"], "e");
    assert_eq!(first.detail["snapshot_sha256"], "ab".repeat(32));
}

fn snapshot(id: &str, at: DateTime<Utc>, underground: usize) -> serde_json::Value {
    let persons: Vec<serde_json::Value> = (0..underground + 1)
        .map(|n| {
            serde_json::json!({
                "card": format!("K{n}"),
                "name": format!("矿工{n}"),
                "in_time": (at - Duration::hours(1)).to_rfc3339(),
                // One of them came up.
                "out_time": if n == underground { serde_json::json!(at.to_rfc3339()) } else { serde_json::Value::Null },
                "area": "一采区",
            })
        })
        .collect();
    serde_json::json!({
        "id": id,
        "t": at.to_rfc3339(),
        "shift": {"date": "2026-07-14", "name": "白班"},
        "trigger": "on_demand",
        "underground": underground,
        "persons": persons,
    })
}

fn people_still_underground_after_a_stop_raise_an_alert_until_it_is_acknowledged(store: &Store) {
    demo_world(store);
    let gauge = register(store, "RG-1", MINE, None);
    let positioning = register_kind(store, "KJ-1", DeviceKind::Positioning, MINE, None);
    let other = register_kind(store, "KJ-2", DeviceKind::Positioning, OTHER_MINE, None);
    // People underground before any stop: nothing.
    assert!(
        post_events(store, &positioning, &[snapshot("p0", hour(9), 40)])
            .alerts
            .is_empty()
    );
    let stop = send(store, &gauge, &[("a", hour(10), "50.0")]).alerts;
    assert_eq!(stop.len(), 1);
    let grace = Duration::minutes(IotConfig::shipped().positioning.evacuation_minutes);
    // Within the evacuation time: nothing yet.
    let within = post_events(store, &positioning, &[snapshot("p1", hour(10) + grace, 12)]);
    assert!(within.alerts.is_empty());
    // After it, with people underground: an alert naming them; another mine is not concerned.
    let late = post_events(
        store,
        &positioning,
        &[snapshot("p2", hour(10) + grace + Duration::minutes(1), 3)],
    );
    assert_eq!(late.alerts.len(), 1);
    assert!(
        post_events(store, &other, &[snapshot("q1", hour(12), 30)])
            .alerts
            .is_empty()
    );
    assert!(
        post_events(store, &positioning, &[snapshot("p3", hour(12), 0)])
            .alerts
            .is_empty()
    );
    let alert = everywhere(store)
        .into_iter()
        .find(|a| a.rule == AlertRule::StillUnderground)
        .unwrap();
    assert_eq!(alert.detail["underground"], 3);
    assert_eq!(alert.detail["persons"].as_array().unwrap().len(), 3);
    assert_eq!(alert.detail["stop_alert"], stop[0].as_str());
    assert!(
        alert.title.contains("61 分钟后") && alert.title.contains("仍有 3 人"),
        "{}",
        alert.title
    );

    // Acknowledged by someone whose scope holds the mine: no more alerts after it.
    let elsewhere = RecordScope::Regions(vec!["370303".into(), "370303007".into()]);
    assert_eq!(
        store
            .acknowledge_alert(&elsewhere, &stop[0], "town", hour(13))
            .unwrap(),
        None
    );
    let town = RecordScope::Regions(vec!["370302109".into()]);
    let acknowledged = store
        .acknowledge_alert(&town, &stop[0], "chen", hour(13))
        .unwrap()
        .unwrap();
    assert_eq!(acknowledged.acknowledged_by.as_deref(), Some("chen"));
    assert_eq!(acknowledged.acknowledged_at, Some(hour(13)));
    let again = store
        .acknowledge_alert(&RecordScope::All, &stop[0], "city", hour(14))
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.acknowledged_by.as_deref(), again.acknowledged_at),
        (Some("chen"), Some(hour(13))),
        "the first acknowledgement stays"
    );
    assert!(
        post_events(store, &positioning, &[snapshot("p4", hour(15), 25)])
            .alerts
            .is_empty()
    );
    assert_eq!(everywhere(store).len(), 2);
}

/// A time on the tests' days, China time: `at("14T08:30")`.
fn china(text: &str) -> DateTime<Utc> {
    instant(&format!("2026-07-{text}:00+08:00"))
}

fn a_shift_without_a_positioning_upload_raises_an_alert_once(store: &Store) {
    demo_world(store);
    let config = IotConfig::shipped();
    let kept = register_kind(store, "KJ-1", DeviceKind::Positioning, MINE, None);
    let revoked = register_kind(store, "KJ-2", DeviceKind::Positioning, OTHER_MINE, None);
    assert!(store.revoke_device("KJ-2", china("14T10:00")).unwrap());
    let _ = revoked;
    post_events(store, &kept, &[snapshot("p1", china("14T08:30"), 20)]);
    // Before the night shift's grace has passed: nothing judged yet.
    assert!(
        iot::tick(store, china("14T08:29"), &config)
            .unwrap()
            .alerts
            .is_empty()
    );
    let outcome = iot::tick(store, china("15T00:31"), &config).unwrap();
    let mut raised = outcome.alerts.clone();
    raised.sort();
    assert_eq!(
        raised,
        [
            "positioning_missing:KJ-1:2026-07-14:中班",
            "positioning_missing:KJ-1:2026-07-14:夜班",
            // Revoked at 10:00: its day shift had begun, its middle shift had not.
            "positioning_missing:KJ-2:2026-07-14:夜班",
            "positioning_missing:KJ-2:2026-07-14:白班",
        ]
    );
    assert!(
        iot::tick(store, china("15T00:40"), &config)
            .unwrap()
            .alerts
            .is_empty()
    );
    let alert = everywhere(store)
        .into_iter()
        .find(|a| a.alert_id == "positioning_missing:KJ-1:2026-07-14:中班")
        .unwrap();
    assert_eq!(alert.rule, AlertRule::PositioningMissing);
    assert_eq!(alert.occurred_at, china("15T00:00"));
    assert!(
        alert.title.contains("2026-07-14 中班未上传"),
        "{}",
        alert.title
    );
}

fn face(id: &str, at: DateTime<Utc>, person: &str, direction: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "t": at.to_rfc3339(),
        "person": person,
        "direction": direction,
        "photo_sha256": "cd".repeat(32),
    })
}

fn duty_attendance_follows_the_roster_leaders_check_ins(store: &Store) {
    demo_world(store);
    let config = IotConfig::shipped();
    import_csv(
        store,
        ImportKind::DutyLeaders,
        &format!(
            "统一社会信用代码,人员编号,姓名,职务\n\
             {MINE},L001,赵德明,矿长\n{MINE},L002,钱志刚,安全副矿长\n"
        ),
    );
    let terminal = register_kind(store, "FACE-1", DeviceKind::Face, MINE, None);
    post_events(
        store,
        &terminal,
        &[
            // Early for the day shift (07:00–15:00 window): leads the day shift only.
            face("f1", china("14T07:10"), "L001", "in"),
            face("f2", china("14T15:20"), "L001", "out"),
            face("f3", china("14T15:30"), "L002", "in"),
            // Not on the roster.
            face("f4", china("14T16:00"), "X99", "in"),
            face("f5", china("15T00:10"), "X99", "in"),
        ],
    );
    let outcome = iot::tick(store, china("15T08:31"), &config).unwrap();
    let mut raised = outcome.alerts.clone();
    raised.sort();
    assert_eq!(
        raised,
        [
            format!("duty_absent:{MINE}:2026-07-14:夜班"),
            format!("duty_absent:{MINE}:2026-07-15:夜班"),
        ]
    );
    // The day shift had ended when the batch came: the batch wrote its row, the tick the rest.
    assert_eq!(outcome.attendance, 3);
    let rows = |store: &Store| -> Vec<(String, String, String, bool)> {
        let mut rows: Vec<_> = store
            .attendance_of(MINE, &anjian_server::store::DatedPage::ALL)
            .unwrap()
            .into_iter()
            .map(|a| {
                assert_eq!(a.source, anjian_server::store::AttendanceSource::Iot);
                (
                    a.date.to_string(),
                    a.shift.label().to_string(),
                    a.leader,
                    a.present,
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let day = |date: &str, shift: &str, leader: &str, present: bool| {
        (
            date.to_string(),
            shift.to_string(),
            leader.to_string(),
            present,
        )
    };
    assert_eq!(
        rows(store),
        [
            day("2026-07-14", "中班", "钱志刚", true),
            day("2026-07-14", "夜班", "（无人带班）", false),
            day("2026-07-14", "白班", "赵德明", true),
            day("2026-07-15", "夜班", "（无人带班）", false),
        ]
    );
    // Again: nothing changes.
    let again = iot::tick(store, china("15T08:45"), &config).unwrap();
    assert_eq!((again.alerts.len(), again.attendance), (0, 0));

    // A backlog arrives: a leader did lead the night shift. The row follows; the alert stays.
    let late = post_events_at(
        store,
        &terminal,
        &[face("f6", china("15T01:00"), "L002", "in")],
        china("15T09:00"),
    );
    assert!(late.alerts.is_empty());
    assert!(rows(store).contains(&day("2026-07-15", "夜班", "钱志刚", true)));
    assert_eq!(rows(store).len(), 4);
    assert_eq!(everywhere(store).len(), 2);
    let counts = store
        .attendance_counts(
            &RecordScope::All,
            Some(chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()),
            Some(chrono::NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()),
            false,
        )
        .unwrap();
    let (shifts, present) = counts
        .iter()
        .fold((0, 0), |(s, p), c| (s + c.shifts, p + c.present));
    assert_eq!(
        (shifts, present),
        (4, 3),
        "the 带班 analysis counts the IoT rows"
    );
    assert!(store.rollups_agree().unwrap());
}

fn alarm(id: &str, at: DateTime<Utc>, state: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "t": at.to_rfc3339(),
        "tag": "TI-101",
        "console": "操作站1",
        "priority": "high",
        "state": state,
    })
}

fn frequent_dcs_alarms_become_a_hazard_in_tracking_until_confirmed_rectified(store: &Store) {
    use anjian_server::store::standings::TallyLevel;
    demo_world(store);
    let config = IotConfig::shipped();
    let (window, max) = (
        Duration::hours(config.dcs.window_hours),
        config.dcs.max_alarms,
    );
    let gateway = register_kind(store, "DCS-1", DeviceKind::Dcs, CHEMICALS, None);
    let end = china("20T12:00");
    // One activation exactly a window before `end`, then max − 1 within it, each with its
    // acknowledgement (which does not count).
    let mut events = vec![alarm("a0", end - window, "active")];
    for n in 1..max {
        let at = end - window + Duration::minutes(n * 4);
        events.push(alarm(&format!("a{n}"), at, "active"));
        events.push(alarm(&format!("k{n}"), at + Duration::seconds(30), "ack"));
    }
    assert!(post_events(store, &gateway, &events).alerts.is_empty());
    // At `end` the window (end − 24 h, end] holds max: not more than allowed.
    assert!(
        post_events(store, &gateway, &[alarm("b1", end, "active")])
            .alerts
            .is_empty()
    );
    // One more: max + 1.
    let over = post_events(
        store,
        &gateway,
        &[alarm("b2", end + Duration::seconds(1), "active")],
    );
    assert_eq!(over.alerts.len(), 1, "more than {max} in the window");
    let hazard_id = format!(
        "dcs:DCS-1:{}",
        (end + Duration::seconds(1)).timestamp_millis()
    );
    assert_eq!(over.alerts[0], format!("dcs_frequent:{hazard_id}"));
    // While it is open, more alarms open nothing more.
    assert!(
        post_events(
            store,
            &gateway,
            &[alarm("b3", end + Duration::minutes(1), "active")]
        )
        .alerts
        .is_empty()
    );

    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 21).unwrap();
    let found_and_rectified = || {
        let tallies = store
            .hazard_tallies(
                &RecordScope::All,
                TallyLevel::Enterprise,
                today,
                today,
                10,
                0,
            )
            .unwrap();
        (tallies.sum.found, tallies.sum.rectified)
    };
    let open = store
        .open_hazards(&RecordScope::All, None, today, today, 100, 0)
        .unwrap();
    assert_eq!(open.len(), 1);
    let hazard = &open[0];
    assert_eq!(hazard.record_id, hazard_id);
    assert_eq!(hazard.inspection_kind, "iot");
    assert_eq!(hazard.enterprise_code, CHEMICALS);
    assert_eq!(hazard.region_code, "370305003");
    assert_eq!(
        hazard.deadline,
        chrono::NaiveDate::from_ymd_opt(2026, 8, 19)
    );
    assert!(
        hazard.description.contains(&format!("报警 {} 次", max + 1)),
        "{}",
        hazard.description
    );
    assert_eq!(found_and_rectified(), (1, 0));
    assert!(
        store.rollups_agree().unwrap(),
        "a recount finds the same hazard"
    );

    // Confirmed rectified by someone whose scope holds the plant.
    let elsewhere = RecordScope::Regions(vec!["370303007".into()]);
    assert_eq!(
        store
            .rectify_iot_hazard(&elsewhere, &hazard_id, "town", china("21T09:00"))
            .unwrap(),
        None
    );
    let district = RecordScope::Regions(vec!["370305".into(), "370305003".into()]);
    assert_eq!(
        store
            .rectify_iot_hazard(&district, &hazard_id, "qu", china("21T09:00"))
            .unwrap(),
        Some(china("21T09:00"))
    );
    assert_eq!(
        store
            .rectify_iot_hazard(&RecordScope::All, &hazard_id, "city", china("22T09:00"))
            .unwrap(),
        Some(china("21T09:00")),
        "the first confirmation stays"
    );
    assert!(
        store
            .open_hazards(&RecordScope::All, None, today, today, 100, 0)
            .unwrap()
            .is_empty()
    );
    let rectified = store.rectified_hazards(&RecordScope::All, 10, 0).unwrap();
    assert_eq!(rectified.len(), 1);
    assert_eq!(rectified[0].rectified_at, Some(china("21T09:00")));
    assert_eq!(found_and_rectified(), (1, 1));
    assert!(store.rollups_agree().unwrap());
    // Alarms flooding again after the confirmation: a new hazard.
    let again = post_events(
        store,
        &gateway,
        &[alarm("c1", end + Duration::minutes(2), "active")],
    );
    assert_eq!(again.alerts.len(), 1);
    assert_eq!(
        store
            .open_hazards(&RecordScope::All, None, today, today, 100, 0)
            .unwrap()
            .len(),
        1
    );
    store.rebuild_rollups().unwrap();
    assert!(store.rollups_agree().unwrap());
    assert_eq!(
        store
            .rectified_hazards(&RecordScope::All, 10, 0)
            .unwrap()
            .len(),
        1
    );
}
