//! IoT intake over HTTP: devices registered by an administrator post batches with their own
//! key; every refused batch gets a clear 4xx and leaves nothing stored; a revoked key is
//! refused; a rain event reaching 50 mm raises a 停产撤人 alert that the supervisors and
//! inspectors of the mine's area see, and no one else.

use anjian_e2e::{Api, FACTORY, PASSWORD, Server};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

const DEVICE: &str = "0190a000-0000-7000-8000-0000000000e1";
/// 淄博黑旺铁矿有限公司, 非煤矿山, 太河镇 (370302109) of 淄川区.
const MINE: &str = "91370302016480894K";

/// A refused batch: what is wrong, route kind, key, body, and the status, code and message.
type Refusal<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<u8>,
    u16,
    &'a str,
    &'a str,
);

fn register(api: &Api, admin: &str, device_id: &str, kind: &str, enterprise: &str) -> String {
    let (status, body) = api.post_json(
        "/api/v1/admin/iot/devices",
        Some(admin),
        &json!({
            "device_id": device_id,
            "kind": kind,
            "credit_code": enterprise,
            "location": "主井口",
        }),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["device"]["device_id"], device_id);
    body["key"].as_str().unwrap().to_string()
}

fn post(api: &Api, kind: &str, key: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    api.post_bytes(
        &format!("/api/v1/iot/{kind}"),
        key,
        "application/json",
        body,
    )
}

/// A batch of one-minute rain readings: (event id, minutes ago, millimetres).
fn rain(device: &str, readings: &[(&str, i64, f64)]) -> Vec<u8> {
    let now = Utc::now();
    let events: Vec<Value> = readings
        .iter()
        .map(|(id, ago, mm)| {
            json!({
                "id": id,
                "t": (now - Duration::minutes(*ago)).to_rfc3339(),
                "interval_s": 60,
                "rain_mm": mm,
            })
        })
        .collect();
    json!({ "device": device, "sent_at": now.to_rfc3339(), "events": events })
        .to_string()
        .into_bytes()
}

fn stored(server: &Server, device: &str) -> Vec<String> {
    server
        .store
        .iot_events_of(device, 1000)
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

#[test]
fn devices_post_with_their_own_key_and_refused_batches_store_nothing() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    let key = register(&api, &admin, "RG-001", "rain", MINE);
    let face_key = register(&api, &admin, "FACE-01", "face", MINE);

    // The OpenAPI description's example is accepted as it stands, then recognised as a resend.
    let (_, doc) = api.get("/api/v1/openapi.json", None);
    let example = &doc["paths"]["/api/v1/iot/{kind}"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    let (status, body) = post(&api, "rain", Some(&key), example.to_string().into_bytes());
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["stored"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let (status, body) = post(&api, "rain", Some(&key), example.to_string().into_bytes());
    assert_eq!(
        (status, body["stored"].as_u64(), body["duplicates"].as_u64()),
        (200, Some(0), Some(1))
    );
    // The example's clock is months off: corrected by the batch's offset, and flagged.
    assert_eq!(body["clock"], "suspect");
    let before = stored(&server, "RG-001");
    assert_eq!(before, ["20260714-000123"]);

    let good = rain("RG-001", &[("g1", 3, 0.5), ("g2", 2, 0.5)]);
    let mut one_bad: Value = serde_json::from_slice(&good).unwrap();
    one_bad["events"][1]["rain_mm"] = json!(-2);
    let mut other_device: Value = serde_json::from_slice(&good).unwrap();
    other_device["device"] = json!("RG-999");
    let mut future: Value = serde_json::from_slice(&good).unwrap();
    future["events"][0]["t"] = json!((Utc::now() + Duration::hours(1)).to_rfc3339());
    let truncated = good[..good.len() / 2].to_vec();
    let oversize = vec![b' '; 3 * 1024 * 1024];
    let cases: Vec<Refusal> = vec![
        (
            "no key",
            "rain",
            None,
            good.clone(),
            401,
            "unauthorized",
            "缺少设备密钥",
        ),
        (
            "a wrong key",
            "rain",
            Some("0123456789abcdef"),
            good.clone(),
            401,
            "unauthorized",
            "密钥无效",
        ),
        (
            "an unknown kind",
            "weather",
            Some(&key),
            good.clone(),
            404,
            "not_found",
            "weather",
        ),
        (
            "another kind's route",
            "face",
            Some(&key),
            good.clone(),
            403,
            "forbidden",
            "登记为雨量计",
        ),
        (
            "another device's name",
            "rain",
            Some(&key),
            other_device.to_string().into_bytes(),
            403,
            "forbidden",
            "RG-999",
        ),
        (
            "a face terminal's key for a gauge's batch",
            "face",
            Some(&face_key),
            good.clone(),
            403,
            "forbidden",
            "FACE-01",
        ),
        (
            "not JSON",
            "rain",
            Some(&key),
            b"rain 0.5mm".to_vec(),
            400,
            "bad_batch",
            "不是约定格式的 JSON",
        ),
        (
            "a truncated body",
            "rain",
            Some(&key),
            truncated,
            400,
            "bad_batch",
            "不是约定格式的 JSON",
        ),
        (
            "one bad event among good ones",
            "rain",
            Some(&key),
            one_bad.to_string().into_bytes(),
            400,
            "bad_batch",
            "第 2 个事件（id g2）：rain_mm",
        ),
        (
            "an event in the future",
            "rain",
            Some(&key),
            future.to_string().into_bytes(),
            400,
            "bad_batch",
            "晚于服务器收到批次的时间",
        ),
        (
            "an oversize body",
            "rain",
            Some(&key),
            oversize,
            413,
            "too_large",
            "批次过大",
        ),
    ];
    for (what, kind, key, body, status, code, message) in cases {
        let (got, answer) = post(&api, kind, key, body);
        assert_eq!(got, status, "{what}: {answer}");
        assert_eq!(answer["code"], code, "{what}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{what}: {answer}"
        );
        assert_eq!(stored(&server, "RG-001"), before, "{what} stored something");
        assert!(
            stored(&server, "FACE-01").is_empty(),
            "{what} stored something"
        );
    }

    let (status, body) = post(&api, "rain", Some(&key), good.clone());
    assert_eq!((status, body["stored"].as_u64()), (200, Some(2)), "{body}");

    // Only an administrator registers, lists and revokes.
    let town = api.login("town", DEVICE);
    let (status, _) = api.post_json(
        "/api/v1/admin/iot/devices",
        Some(&town),
        &json!({"device_id": "X", "kind": "rain", "credit_code": MINE, "location": "井口"}),
    );
    assert_eq!(status, 403);
    let (status, _) = api.get("/api/v1/admin/iot/devices", Some(&town));
    assert_eq!(status, 403);
    for (request, message) in [
        (
            json!({"device_id": "RG-001", "kind": "rain", "credit_code": MINE, "location": "风井"}),
            "已登记",
        ),
        (
            json!({"device_id": "RG-X", "kind": "barometer", "credit_code": MINE, "location": "风井"}),
            "设备类型",
        ),
        (
            json!({"device_id": "RG-X", "kind": "rain", "credit_code": "914403001922038216", "location": "风井"}),
            "未登记",
        ),
        (
            json!({"device_id": "CAM 1", "kind": "video", "credit_code": MINE, "location": "风井"}),
            "设备编号",
        ),
        (
            json!({"device_id": "CAM-1", "kind": "video", "credit_code": MINE, "location": "风井", "rain_threshold_mm": 50}),
            "只有雨量计",
        ),
        (
            json!({"device_id": "RG-X", "kind": "rain", "credit_code": MINE, "location": "风井", "rain_threshold_mm": 0}),
            "雨量标准",
        ),
    ] {
        let (status, body) = api.post_json("/api/v1/admin/iot/devices", Some(&admin), &request);
        assert!((400..500).contains(&status), "{request}: {status} {body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{request}: {body}"
        );
    }
    let (status, devices) = api.get("/api/v1/admin/iot/devices", Some(&admin));
    assert_eq!(status, 200);
    let ids: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["FACE-01", "RG-001"]);

    // A revoked key is refused from then on, and nothing more is stored.
    let (status, body) = api.post_json(
        "/api/v1/admin/iot/devices/RG-001/revoke",
        Some(&admin),
        &json!({}),
    );
    assert_eq!((status, &body["revoked"]), (200, &json!(true)), "{body}");
    let (status, body) = post(
        &api,
        "rain",
        Some(&key),
        rain("RG-001", &[("after", 1, 0.5)]),
    );
    assert_eq!(status, 401, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("已吊销"),
        "{body}"
    );
    assert!(!stored(&server, "RG-001").contains(&"after".to_string()));
    let (status, _) = api.post_json(
        "/api/v1/admin/iot/devices/RG-404/revoke",
        Some(&admin),
        &json!({}),
    );
    assert_eq!(status, 404);
}

#[test]
fn a_rain_stop_alert_reaches_the_people_of_the_mines_area_only() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    let mine_key = register(&api, &admin, "RG-MINE", "rain", MINE);
    // A gauge at an enterprise of 科苑街道, the demo's town supervisor's and inspectors' town.
    let town_key = register(&api, &admin, "RG-TOWN", "rain", FACTORY);
    // 49.9 mm, then 0.1 mm: exactly 50.0 raises the alert.
    let (_, body) = post(
        &api,
        "rain",
        Some(&mine_key),
        rain("RG-MINE", &[("a", 30, 40.0), ("b", 20, 9.9)]),
    );
    assert_eq!(body["alerts"], json!([]), "{body}");
    let (_, body) = post(
        &api,
        "rain",
        Some(&mine_key),
        rain("RG-MINE", &[("c", 10, 0.1)]),
    );
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1, "{body}");
    let (_, body) = post(
        &api,
        "rain",
        Some(&town_key),
        rain("RG-TOWN", &[("a", 5, 55.0)]),
    );
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1, "{body}");

    let seen = |login: &str| -> Vec<String> {
        let token = api.login(login, DEVICE);
        let (status, page) = api.get("/api/v1/alerts", Some(&token));
        assert_eq!(status, 200, "{login}: {page}");
        let alerts = page["alerts"].as_array().unwrap();
        assert_eq!(page["total"].as_u64(), Some(alerts.len() as u64));
        let mut devices: Vec<String> = alerts
            .iter()
            .map(|a| a["device_id"].as_str().unwrap().to_string())
            .collect();
        devices.sort();
        devices
    };
    assert_eq!(seen("city"), ["RG-MINE", "RG-TOWN"]);
    assert_eq!(seen("admin"), ["RG-MINE", "RG-TOWN"]);
    assert_eq!(seen("district"), ["RG-TOWN"]);
    assert_eq!(seen("town"), ["RG-TOWN"]);
    assert_eq!(
        seen("zhang"),
        ["RG-TOWN"],
        "an inspector sees their town's alerts"
    );
    assert_eq!(seen("officer"), ["RG-TOWN"], "the enterprise's own officer");
    assert!(
        seen("foreign_town").is_empty(),
        "another town of the mine's district"
    );
    assert!(seen("foreign_officer").is_empty());

    let city = api.login("city", DEVICE);
    let (_, page) = api.get("/api/v1/alerts?limit=1", Some(&city));
    assert_eq!(page["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], 2);
    let alert = &page["alerts"][0];
    assert!(
        alert["title"].as_str().unwrap().contains("停产撤人"),
        "{alert}"
    );
    for bad in ["limit=0", "limit=501", "offset=-1", "limit=x"] {
        let (status, body) = api.get(&format!("/api/v1/alerts?{bad}"), Some(&city));
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, listed) = api.get("/api/v1/alerts", Some(&city));
    let mine_alert = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["device_id"] == "RG-MINE")
        .unwrap();
    assert_eq!(mine_alert["detail"]["total_mm"], "50.0");
    assert_eq!(
        mine_alert["detail"]["readings"].as_array().unwrap().len(),
        3
    );
    assert_eq!(mine_alert["enterprise_name"], "淄博黑旺铁矿有限公司");

    // The review page lists the same alerts to the same people, with the readings.
    let page = |login: &str| -> String {
        let mut browser = crate::review::Browser::new(&server.url);
        browser.login(login, PASSWORD);
        let (status, _, html) = browser.get("/review/alerts");
        assert_eq!(status, 200, "{login}");
        html
    };
    let city_page = page("city");
    assert!(city_page.contains("id=\"alert-total\">2<"), "{city_page}");
    assert!(city_page.contains("淄博黑旺铁矿有限公司") && city_page.contains("降雨停产撤人"));
    assert!(
        city_page.contains("降雨过程的 3 次读数（累计 50.0 毫米）"),
        "{city_page}"
    );
    let town_page = page("town");
    assert!(town_page.contains("id=\"alert-total\">1<"), "{town_page}");
    assert!(
        !town_page.contains("淄博黑旺铁矿有限公司"),
        "another district's mine"
    );
    assert!(town_page.contains("RG-TOWN"));
    let mut browser = crate::review::Browser::new(&server.url);
    browser.login("city", PASSWORD);
    let (status, _, _) = browser.get("/review/alerts?page=0");
    assert_eq!(status, 400);

    // Acknowledging: the enterprise may not, another town cannot see it, the town may; the
    // first acknowledgement stays.
    let town_alert = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["device_id"] == "RG-TOWN")
        .unwrap()["alert_id"]
        .as_str()
        .unwrap()
        .to_string();
    let acknowledge = |login: &str| {
        let token = api.login(login, DEVICE);
        api.post_json(
            &format!("/api/v1/alerts/{town_alert}/acknowledge"),
            Some(&token),
            &json!({}),
        )
    };
    assert_eq!(acknowledge("officer").0, 403);
    assert_eq!(acknowledge("foreign_town").0, 404);
    let (status, body) = acknowledge("zhang");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acknowledged_by"], "zhang");
    let (_, body) = acknowledge("town");
    assert_eq!(body["acknowledged_by"], "zhang");
    let town_page = page("town");
    assert!(town_page.contains("已确认</span> zhang"), "{town_page}");
    // The mine's alert is acknowledged from the page: a form that posts and comes back.
    let mine_id = mine_alert["alert_id"].as_str().unwrap();
    let city_page = page("city");
    let action = format!("/review/alerts/{mine_id}/acknowledge?page=1");
    assert!(
        city_page.contains(&format!("action=\"{action}\"")),
        "{city_page}"
    );
    // The button alone does nothing: acknowledging silences a 停产撤人 alert, so the box
    // saying it was checked on site must be ticked.
    let (_, _, alerts_page) = browser.get("/review/alerts");
    assert!(
        alerts_page.contains("井下人员已全部撤出") && alerts_page.contains("required"),
        "{alerts_page}"
    );
    let (status, _, refusal) = browser.post_form(&action, "");
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert!(refusal.contains("已现场核查"), "{refusal}");
    let alerts = || api.get("/api/v1/alerts", Some(&city)).1["alerts"].clone();
    let listed = alerts();
    let waiting = |a: &Value| a["alert_id"] == mine_id && a["acknowledged_at"].is_null();
    assert!(listed.as_array().unwrap().iter().any(waiting), "{listed}");
    let (status, headers, _) = browser.post_form(&action, "confirm=checked-on-site");
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/review/alerts?page=1");
    let listed = alerts();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["acknowledged_at"].is_string()),
        "{listed}"
    );
}

#[test]
fn alerts_reach_the_field_devices_of_the_enterprises_town_through_sync() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    let mine_key = register(&api, &admin, "RG-MINE", "rain", MINE);
    let town_key = register(&api, &admin, "RG-TOWN", "rain", FACTORY);
    // Logged in before the alerts: the next sync brings them.
    let mut zhang = anjian_e2e::Device::logged_in(&server.url, "zhang");
    let mut officer = anjian_e2e::Device::logged_in(&server.url, "officer");
    let mut chen = anjian_e2e::Device::logged_in(&server.url, "chen");
    post(
        &api,
        "rain",
        Some(&mine_key),
        rain("RG-MINE", &[("a", 5, 60.0)]),
    );
    post(
        &api,
        "rain",
        Some(&town_key),
        rain("RG-TOWN", &[("a", 5, 50.0)]),
    );

    let report = zhang.sync().unwrap();
    assert_eq!(report.alerts, 1, "{report:?}");
    let held = zhang.store.alerts().unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].credit_code, FACTORY);
    assert_eq!(held[0].rule, "rain_stop");
    assert_eq!(held[0].rule_label, "降雨停产撤人");
    assert!(held[0].title.contains("停产撤人"));
    assert_eq!(held[0].acknowledged_by, None);
    assert_eq!(
        officer.sync().unwrap().alerts,
        1,
        "the enterprise's own officer"
    );
    // 陈刚 inspects another town of 淄川区, not the mine's 太河镇: neither alert.
    assert_eq!(chen.sync().unwrap().alerts, 0);
    assert!(chen.store.alerts().unwrap().is_empty());
    // Nothing new: nothing sent again.
    assert_eq!(zhang.sync().unwrap().alerts, 0);

    // Acknowledged at the server: the devices learn who and when.
    let town = api.login("town", DEVICE);
    let (status, _) = api.post_json(
        &format!("/api/v1/alerts/{}/acknowledge", held[0].alert_id),
        Some(&town),
        &json!({}),
    );
    assert_eq!(status, 200);
    assert_eq!(zhang.sync().unwrap().alerts, 1);
    let held = zhang.store.alerts().unwrap();
    assert_eq!(held[0].acknowledged_by.as_deref(), Some("town"));
    assert!(held[0].acknowledged_at.is_some());
    // A device that logs in later gets every alert in its scope at once.
    let late = anjian_e2e::Device::logged_in(&server.url, "li");
    assert_eq!(late.store.alerts().unwrap().len(), 1);
}

#[test]
fn a_dcs_alarm_flood_is_tracked_as_a_hazard_and_confirmed_rectified_on_the_page() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    // 淄博齐鲁石化助剂有限公司 (辛店街道, 临淄区).
    let plant = "913703050534640908";
    let key = register(&api, &admin, "DCS-1", "dcs", plant);
    let now = Utc::now();
    let events: Vec<Value> = (0..289)
        .map(|n| {
            json!({
                "id": format!("a{n}"),
                "t": (now - Duration::minutes(289 - n)).to_rfc3339(),
                "tag": "PI-201",
                "console": "操作站2",
                "priority": "medium",
                "state": "active",
            })
        })
        .collect();
    let body = json!({ "device": "DCS-1", "sent_at": now.to_rfc3339(), "events": events });
    let (status, answer) = post(&api, "dcs", Some(&key), body.to_string().into_bytes());
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["alerts"].as_array().unwrap().len(), 1, "{answer}");

    let mut browser = crate::review::Browser::new(&server.url);
    browser.login("city", PASSWORD);
    let (_, _, page) = browser.get("/review/hazards");
    assert!(
        page.contains("DCS 报警频繁") && page.contains("（物联网）"),
        "{page}"
    );
    let start = page
        .find("action=\"/review/iot-hazards/")
        .expect("a confirm button");
    let action: String = page[start + 8..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    // Another district's town supervisor cannot confirm it (outside the scope: 404).
    let town = api.login("town", DEVICE);
    let hazard_id = action
        .trim_start_matches("/review/iot-hazards/")
        .trim_end_matches("/rectify");
    let (status, _) = api.post_json(
        &format!("/api/v1/iot-hazards/{hazard_id}/rectify"),
        Some(&town),
        &json!({}),
    );
    assert_eq!(status, 404);
    let (status, headers, _) = browser.post_form(&action, "");
    assert_eq!(status, reqwest::StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/review/hazards");
    let city = api.login("city", DEVICE);
    let (_, rectified) = api.get("/api/v1/hazards?state=rectified", Some(&city));
    let text = rectified.to_string();
    assert!(text.contains("DCS 报警频繁"), "{text}");
    let (_, _, page) = browser.get("/review/hazards");
    assert!(!page.contains("确认已整改"), "nothing left to confirm");
}

#[test]
fn the_archive_shows_the_devices_and_the_last_head_count_by_area() {
    let server = Server::start();
    let api = Api::new(&server.url);
    let admin = api.login("admin", DEVICE);
    let key = register(&api, &admin, "KJ-1", "positioning", MINE);
    register(&api, &admin, "RG-1", "rain", MINE);
    let now = Utc::now();
    let person = |card: &str, area: &str, out: bool| {
        json!({
            "card": card, "name": format!("矿工{card}"), "area": area,
            "in_time": (now - Duration::hours(2)).to_rfc3339(),
            "out_time": if out { json!(now.to_rfc3339()) } else { Value::Null },
        })
    };
    let snapshot = json!({
        "id": "s1",
        "t": now.to_rfc3339(),
        "shift": {"date": "2026-07-14", "name": "白班"},
        "trigger": "shift",
        "underground": 3,
        "persons": [
            person("C1", "一采区", false),
            person("C2", "一采区", false),
            person("C3", "井底车场", false),
            person("C4", "井底车场", true),
        ],
    });
    let body = json!({ "device": "KJ-1", "sent_at": now.to_rfc3339(), "events": [snapshot] });
    let (status, answer) = post(
        &api,
        "positioning",
        Some(&key),
        body.to_string().into_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    let mut browser = crate::review::Browser::new(&server.url);
    browser.login("city", PASSWORD);
    let (status, _, page) = browser.get(&format!("/review/enterprises/{MINE}"));
    assert_eq!(status, 200);
    assert!(page.contains("物联网设备（2）"), "{page}");
    assert!(
        page.contains("2026-07-14白班：井下 3 人（一采区2人，井底车场1人）"),
        "{page}"
    );
    assert!(page.contains("RG-1") && page.contains("尚无数据"), "{page}");
}
