//! `anjian-simulate-iot`: realistic device traffic against a running server, for
//! demonstrations and load tests. It registers devices at the first N mines and plants of the
//! register (as the administrator), makes H hours of their events up to now (rain storms at
//! mines, alarm floods at some consoles, shifts with their leaders and head counts, camera
//! detections), and posts them as a backlog, as fast as the server takes them — with the
//! faults real devices have: wrong clocks, gaps followed by resending everything, batches
//! sent out of order, and malformed batches (refused, then sent again corrected). At the end
//! every event must have been stored exactly once.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use anjian_server::iot::DeviceKind;
use anjian_server::seed::rng::Rng;

#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// `http://host:port` of the server.
    pub server: String,
    pub enterprises: usize,
    pub hours: u32,
    pub login: String,
    pub password: String,
    /// Events per batch.
    pub batch: usize,
    /// Devices posting at once.
    pub concurrency: usize,
    pub seed: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimulateReport {
    pub devices: Vec<(DeviceKind, usize)>,
    /// Distinct events made; each must end up stored once.
    pub events: usize,
    /// Events posted, resends included.
    pub events_sent: usize,
    pub batches: usize,
    pub stored: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    /// Malformed batches sent on purpose, each refused with a 4xx as it should be.
    pub refused_as_planned: usize,
    pub alerts: usize,
    /// Sending time, registration excluded.
    pub seconds: f64,
}

impl SimulateReport {
    pub fn events_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.stored as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// One simulated device and the events it will send, in time order (true time).
struct SimDevice {
    id: String,
    kind: DeviceKind,
    /// How far its clock is off: added to every time it sends.
    clock_offset: Duration,
    events: Vec<Value>,
    /// Batches it resends after a gap: from this batch index, the gap's length in batches.
    gap: Option<(usize, usize)>,
    /// Sends two batches in swapped order at this index.
    swap_at: Option<usize>,
    /// Sends this batch broken first.
    malformed_at: Option<usize>,
    key: String,
}

const SHIFTS: [(&str, i64); 3] = [("夜班", 0), ("白班", 8), ("中班", 16)];

fn china_midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    let shifted = at + Duration::hours(8);
    shifted.duration_trunc(Duration::days(1)).unwrap_or(shifted) - Duration::hours(8)
}

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn tenths(mm: i64) -> f64 {
    mm as f64 / 10.0
}

/// The events of one device over `[from, until)`, in time order, without ids and times'
/// offsets (added when sent).
fn make_events(
    kind: DeviceKind,
    rng: &mut Rng,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Value)> {
    let minutes = (until - from).num_minutes();
    let mut events = Vec::new();
    match kind {
        DeviceKind::Rain => {
            // Half the gauges see a storm of 2–10 hours, 20–90 mm in all.
            let storm = rng.chance(0.5).then(|| {
                let length = rng.between(120, 600).min(minutes.max(1));
                let start = rng.between(0, (minutes - length).max(0));
                let total_tenths = rng.between(200, 900);
                (start, length, total_tenths)
            });
            for m in 0..minutes {
                let rain = match storm {
                    Some((start, length, total)) if m >= start && m < start + length => {
                        // Uneven: each minute 0–2× the mean, in tenths.
                        let mean = total as f64 / length as f64;
                        (mean * 2.0 * rng.unit()).round() as i64
                    }
                    _ => 0,
                };
                events.push((
                    from + Duration::minutes(m + 1),
                    json!({ "interval_s": 60, "rain_mm": tenths(rain) }),
                ));
            }
        }
        DeviceKind::Positioning => {
            let mut day = china_midnight(from);
            while day < until {
                for (name, start) in SHIFTS {
                    let at = day + Duration::hours(start) + Duration::minutes(30);
                    if at < from || at >= until {
                        continue;
                    }
                    let date = (day + Duration::hours(8)).format("%Y-%m-%d").to_string();
                    let count = rng.between(10, 60);
                    let persons: Vec<Value> = (0..count)
                        .map(|n| {
                            let out = rng.chance(0.1);
                            json!({
                                "card": format!("K{n:04}"),
                                "name": format!("矿工{n}"),
                                "in_time": (at - Duration::minutes(rng.between(5, 30))).to_rfc3339(),
                                "out_time": if out { Value::String(at.to_rfc3339()) } else { Value::Null },
                                "area": *rng.pick(&["一采区", "二采区", "井底车场", "主运输巷"]),
                            })
                        })
                        .collect();
                    let underground = persons.iter().filter(|p| p["out_time"].is_null()).count();
                    events.push((
                        at,
                        json!({
                            "shift": { "date": date, "name": name },
                            "trigger": "shift",
                            "underground": underground,
                            "persons": persons,
                        }),
                    ));
                }
                day += Duration::days(1);
            }
        }
        DeviceKind::Face => {
            let mut day = china_midnight(from);
            while day < until {
                for (_, start) in SHIFTS {
                    let shift_start = day + Duration::hours(start);
                    let leader = format!("L{:02}", rng.between(1, 3));
                    for (at, direction) in [
                        (shift_start + Duration::minutes(rng.between(-10, 10)), "in"),
                        (
                            shift_start
                                + Duration::hours(8)
                                + Duration::minutes(rng.between(-10, 10)),
                            "out",
                        ),
                    ] {
                        if at >= from && at < until && rng.chance(0.95) {
                            events.push((
                                at,
                                json!({
                                    "person": leader,
                                    "direction": direction,
                                    "photo_sha256": sha(&format!("{leader}{at}")),
                                    "score": 0.9,
                                }),
                            ));
                        }
                    }
                }
                day += Duration::days(1);
            }
        }
        DeviceKind::Dcs => {
            // Most consoles about 3 alarms an hour; one in ten floods at 30.
            let per_hour = if rng.chance(0.1) { 30.0 } else { 3.0 };
            for hour in 0..(minutes / 60).max(1) {
                for _ in 0..rng.poisson(per_hour) {
                    let active =
                        from + Duration::hours(hour) + Duration::seconds(rng.between(0, 3599));
                    let tag = format!("TI-{}", rng.between(100, 180));
                    let priority = *rng.pick(&["high", "medium", "low"]);
                    for (at, state) in [
                        (active, "active"),
                        (active + Duration::seconds(rng.between(30, 300)), "ack"),
                        (active + Duration::seconds(rng.between(300, 1800)), "rtn"),
                    ] {
                        if at < until {
                            events.push((
                                at,
                                json!({ "tag": tag, "console": "操作站1", "priority": priority, "state": state }),
                            ));
                        }
                    }
                }
            }
        }
        DeviceKind::Video => {
            for hour in 0..(minutes / 60).max(1) {
                for _ in 0..rng.poisson(1.0) {
                    let at = from + Duration::hours(hour) + Duration::seconds(rng.between(0, 3599));
                    let kind = *rng.pick(&[
                        "hot_work",
                        "excavation",
                        "confined_space",
                        "work_at_height",
                        "lifting",
                        "head_count",
                    ]);
                    let mut event = json!({
                        "camera": format!("CAM-{}", rng.between(1, 8)),
                        "type": kind,
                        "confidence": 0.8,
                        "snapshot_sha256": sha(&format!("{kind}{at}")),
                    });
                    if kind == "head_count" {
                        event["count"] = json!(rng.between(0, 40));
                    }
                    events.push((at, event));
                }
            }
        }
    }
    events.sort_by_key(|(at, _)| *at);
    events
}

/// The devices of an enterprise by industry: a mine has a rain gauge, positioning and a face
/// terminal; a chemical plant a DCS gateway, cameras and a face terminal; others cameras.
fn kinds_for(industry: &str) -> &'static [DeviceKind] {
    match industry {
        "非煤矿山" | "煤矿" => &[DeviceKind::Rain, DeviceKind::Positioning, DeviceKind::Face],
        "危险化学品" => &[DeviceKind::Dcs, DeviceKind::Video, DeviceKind::Face],
        _ => &[DeviceKind::Video],
    }
}

fn batch_body(device: &SimDevice, events: &[Value], now: DateTime<Utc>) -> Vec<u8> {
    json!({
        "device": device.id,
        "sent_at": (now + device.clock_offset).to_rfc3339(),
        "events": events,
    })
    .to_string()
    .into_bytes()
}

/// `http://host:port` or `https://…`, without a trailing slash.
fn server_base(url: &str) -> Result<String, String> {
    let base = url.trim_end_matches('/');
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .ok_or_else(|| format!("服务器地址 {url} 应以 http:// 或 https:// 开头"))?;
    if rest.is_empty() || rest.contains('/') {
        return Err(format!("服务器地址 {url} 应为 http://主机:端口"));
    }
    Ok(base.to_string())
}

/// The server's API over one pooled HTTP client (kept-alive connections, shared by the
/// workers).
#[derive(Debug, Clone)]
struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    fn new(base: &str) -> Result<Client, String> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| format!("无法创建 HTTP 客户端：{e}"))?;
        Ok(Client {
            base: base.to_string(),
            http,
        })
    }

    /// Sends one request and reads its answer: (status, body).
    async fn send(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "GET" => self.http.get(&url),
            _ => self
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
        };
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("无法连接服务器 {url}：{e}"))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("读取服务器 {url} 的答复失败：{e}"))?;
        Ok((status, body.to_vec()))
    }
}

fn answer_error(status: u16, body: &[u8]) -> String {
    format!("服务器答复 {status}：{}", String::from_utf8_lossy(body))
}

/// Runs the simulation; the report says what was sent and stored.
pub async fn run(options: &SimulateOptions) -> Result<SimulateReport, String> {
    let base = server_base(&options.server)?;
    if options.enterprises == 0
        || options.hours == 0
        || options.batch == 0
        || options.concurrency == 0
    {
        return Err("企业数、小时数、批次大小和并发数都应为正整数".into());
    }
    let admin = Client::new(&base)?;
    let login = json!({
        "login": options.login,
        "password": options.password,
        "device_id": "00000000-0000-4000-8000-00000000510a",
    });
    let (status, body) = admin
        .send("POST", "/api/v1/login", None, login.to_string().as_bytes())
        .await?;
    if status != 200 {
        return Err(format!(
            "以 {} 登录失败：{}",
            options.login,
            answer_error(status, &body)
        ));
    }
    let token: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let token = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = admin
        .send("GET", "/api/v1/enterprises", Some(&token), b"")
        .await?;
    if status != 200 {
        return Err(format!("读取企业名录失败：{}", answer_error(status, &body)));
    }
    let register: Vec<Value> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    // Mines and chemical plants first: they carry the rules.
    let mut chosen: Vec<&Value> = register.iter().collect();
    chosen.sort_by_key(|e| {
        let rank = match e["industry"].as_str() {
            Some("非煤矿山" | "煤矿") => 0,
            Some("危险化学品") => 1,
            _ => 2,
        };
        (rank, e["credit_code"].as_str().unwrap_or("").to_string())
    });
    chosen.truncate(options.enterprises);
    if chosen.is_empty() {
        return Err("服务器的企业名录为空：请先导入企业".into());
    }

    let now = Utc::now();
    let from = now - Duration::hours(i64::from(options.hours));
    let run_id = format!("{:x}", now.timestamp() % 0x100000);
    let mut rng = Rng::new(options.seed);
    let mut devices = Vec::new();
    for (n, enterprise) in chosen.iter().enumerate() {
        let code = enterprise["credit_code"].as_str().unwrap_or_default();
        for &kind in kinds_for(enterprise["industry"].as_str().unwrap_or_default()) {
            let mut own = rng.fork((n as u64) << 8 | kind as u64);
            let id = format!("SIM{run_id}-{n:04}-{}", kind.as_str());
            let timed = make_events(kind, &mut own, from, now);
            let generation = format!("g{}", own.between(1, 9));
            let clock_offset = match own.below(20) {
                0 => Duration::hours(if own.chance(0.5) { 1 } else { -1 }),
                1 => Duration::days(-1),
                _ => Duration::milliseconds(own.between(-2_000, 2_000)),
            };
            let events: Vec<Value> = timed
                .into_iter()
                .enumerate()
                .map(|(i, (at, mut event))| {
                    event["id"] = json!(format!("{generation}-{i:06}"));
                    event["t"] = json!((at + clock_offset).to_rfc3339());
                    event
                })
                .collect();
            let batches = events.len().div_ceil(options.batch);
            let pick = |rng: &mut Rng, p: f64, room: usize| {
                (batches > room && rng.chance(p))
                    .then(|| rng.below((batches - room) as u64) as usize)
            };
            let gap = pick(&mut own, 0.2, 2).map(|at| (at, 1 + own.below(3) as usize));
            let swap_at = pick(&mut own, 0.2, 2);
            let malformed_at = pick(&mut own, 0.3, 0);
            let (status, body) = admin
                .send(
                    "POST",
                    "/api/v1/admin/iot/devices",
                    Some(&token),
                    json!({
                        "device_id": id,
                        "kind": kind.as_str(),
                        "credit_code": code,
                        "location": format!("模拟{}", kind.label()),
                    })
                    .to_string()
                    .as_bytes(),
                )
                .await?;
            if status != 201 {
                return Err(format!(
                    "登记设备 {id} 失败：{}",
                    answer_error(status, &body)
                ));
            }
            let registered: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            devices.push(SimDevice {
                id,
                kind,
                clock_offset,
                events,
                gap,
                swap_at,
                malformed_at,
                key: registered["key"].as_str().unwrap_or_default().to_string(),
            });
        }
    }
    let mut report = SimulateReport {
        devices: DeviceKind::ALL
            .iter()
            .map(|k| (*k, devices.iter().filter(|d| d.kind == *k).count()))
            .filter(|(_, n)| *n > 0)
            .collect(),
        events: devices.iter().map(|d| d.events.len()).sum(),
        ..SimulateReport::default()
    };

    // Each worker takes whole devices, so a device's batches keep their (faulty) order.
    let devices = Arc::new(devices);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.concurrency {
        let (devices, next, connection) = (devices.clone(), next.clone(), admin.clone());
        let batch = options.batch;
        workers.push(tokio::spawn(async move {
            let mut report = SimulateReport::default();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(device) = devices.get(n) else {
                    return Ok::<SimulateReport, String>(report);
                };
                send_device(&connection, device, batch, &mut report).await?;
            }
        }));
    }
    for worker in workers {
        let part = worker.await.map_err(|e| e.to_string())??;
        report.events_sent += part.events_sent;
        report.batches += part.batches;
        report.stored += part.stored;
        report.duplicates += part.duplicates;
        report.conflicts += part.conflicts;
        report.refused_as_planned += part.refused_as_planned;
        report.alerts += part.alerts;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The order a device sends its batches in: a swap, and after a gap the batches it missed
/// plus the two before, resent.
fn send_order(device: &SimDevice, batches: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..batches).collect();
    if let Some(at) = device.swap_at {
        order.swap(at, at + 1);
    }
    if let Some((at, length)) = device.gap {
        let missed_until = (at + length).min(batches);
        order.retain(|b| !(at..missed_until).contains(b));
        let resume = order
            .iter()
            .position(|b| *b >= missed_until)
            .unwrap_or(order.len());
        let resent: Vec<usize> = (at.saturating_sub(2)..missed_until).collect();
        order.splice(resume..resume, resent);
    }
    order
}

async fn send_device(
    connection: &Client,
    device: &SimDevice,
    batch: usize,
    report: &mut SimulateReport,
) -> Result<(), String> {
    let chunks: Vec<&[Value]> = device.events.chunks(batch).collect();
    let path = format!("/api/v1/iot/{}", device.kind.as_str());
    for index in send_order(device, chunks.len()) {
        let events = chunks[index];
        if device.malformed_at == Some(index) {
            // A broken event (a field the format does not have): the whole batch is refused.
            let mut broken = events.to_vec();
            if let Some(last) = broken.last_mut() {
                last["unexpected"] = json!(true);
            }
            let (status, body) = connection
                .send(
                    "POST",
                    &path,
                    Some(&device.key),
                    &batch_body(device, &broken, Utc::now()),
                )
                .await?;
            if status != 400 {
                return Err(format!(
                    "设备 {} 的错误批次应被拒收（400），却得到 {}",
                    device.id,
                    answer_error(status, &body)
                ));
            }
            report.refused_as_planned += 1;
        }
        let (status, body) = connection
            .send(
                "POST",
                &path,
                Some(&device.key),
                &batch_body(device, events, Utc::now()),
            )
            .await?;
        if status != 200 {
            return Err(format!(
                "设备 {} 的批次被拒收：{}",
                device.id,
                answer_error(status, &body)
            ));
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let count = |field: &str| answer[field].as_u64().unwrap_or(0) as usize;
        report.batches += 1;
        report.events_sent += events.len();
        report.stored += count("stored");
        report.duplicates += count("duplicates");
        report.conflicts += count("conflicts");
        report.alerts += answer["alerts"].as_array().map_or(0, Vec::len);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(gap: Option<(usize, usize)>, swap_at: Option<usize>) -> SimDevice {
        SimDevice {
            id: "SIM-1".into(),
            kind: DeviceKind::Rain,
            clock_offset: Duration::zero(),
            events: Vec::new(),
            gap,
            swap_at,
            malformed_at: None,
            key: String::new(),
        }
    }

    #[test]
    fn every_batch_is_sent_at_least_once_gaps_resend_and_swaps_reorder() {
        assert_eq!(send_order(&device(None, None), 4), [0, 1, 2, 3]);
        assert_eq!(send_order(&device(None, Some(1)), 4), [0, 2, 1, 3]);
        // Offline for batches 3 and 4: on reconnect 1–4 go again, then 5.
        assert_eq!(
            send_order(&device(Some((3, 2)), None), 6),
            [0, 1, 2, 1, 2, 3, 4, 5]
        );
        assert_eq!(send_order(&device(Some((0, 1)), None), 3), [0, 1, 2]);
        for (gap, swap) in [
            (Some((2, 3)), Some(0)),
            (Some((5, 3)), Some(6)),
            (Some((0, 2)), Some(3)),
        ] {
            let order = send_order(&device(gap, swap), 8);
            for batch in 0..8 {
                assert!(order.contains(&batch), "{batch} in {order:?}");
            }
        }
    }

    #[test]
    fn each_kind_makes_events_the_server_accepts() {
        let config = anjian_server::iot::IotConfig::shipped();
        let until = Utc::now();
        let from = until - Duration::hours(30);
        for kind in DeviceKind::ALL {
            let mut rng = Rng::new(7);
            let timed = make_events(kind, &mut rng, from, until);
            assert!(!timed.is_empty(), "{kind:?}");
            assert!(timed.windows(2).all(|w| w[0].0 <= w[1].0));
            let events: Vec<Value> = timed
                .into_iter()
                .enumerate()
                .map(|(i, (at, mut e))| {
                    e["id"] = json!(format!("g1-{i}"));
                    e["t"] = json!(at.to_rfc3339());
                    e
                })
                .collect();
            let sim = SimDevice {
                kind,
                ..device(None, None)
            };
            let registered = anjian_server::iot::Device {
                device_id: sim.id.clone(),
                kind,
                credit_code: String::new(),
                location: String::new(),
                rain_threshold_tenths: None,
                registered_at: from,
                revoked_at: None,
                clock_offset_ms: None,
                last_batch_at: None,
            };
            for chunk in events.chunks(500) {
                let body = batch_body(&sim, chunk, until);
                anjian_server::iot::check_batch(&registered, &body, until, &config)
                    .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
            }
        }
    }
}
