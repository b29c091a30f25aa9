//! The review pages in a real headless Chromium (tests/browser/review.cjs, playwright-core):
//! a town supervisor and a city supervisor log in and see exactly their scope, open a record,
//! see its receipt verified, and download its PDF, which poppler reads back; every page fits
//! a phone and a desk and axe-core finds nothing serious in it (tests/browser/layout.cjs).

use std::path::Path;
use std::process::Command;

use anjian_core::agency::DocType;
use anjian_core::inspection::AnswerDetails;
use anjian_e2e::{Device, FACTORY, FOREIGN_FACTORY, LI, PASSWORD, Server, WU};
use anjian_server::store::RecordScope;
use chrono::Utc;
use serde_json::{Value, json};

/// Where the test tools are: scripts/test.sh fetches playwright-core and axe-core and finds
/// Chromium.
fn tool(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!("{variable} is not set: run the tests with scripts/test.sh, which provides playwright-core, axe-core and Chromium")
    })
}

/// Runs a playwright-core script of `tests/browser/` with `config` and returns the JSON line it
/// printed last: what it saw.
fn run_browser_script(script: &str, config: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("config.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("browser")
        .join(script);
    let out = Command::new(std::env::var("ANJIAN_NODE").unwrap_or_else(|_| "node".into()))
        .arg(&script)
        .arg(&config_file)
        .env("ANJIAN_PLAYWRIGHT", tool("ANJIAN_PLAYWRIGHT"))
        .env("ANJIAN_CHROMIUM", tool("ANJIAN_CHROMIUM"))
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap()
}

/// A locked enforcement inspection with a hazard at each of `failing` (the first noted) and
/// both documents issued.
fn locked_inspection(
    device: &mut Device,
    enterprise: &str,
    colleague: &str,
    failing: &[&str],
) -> (String, Vec<String>) {
    let id = device.start_trade(enterprise, colleague);
    device.answer_required(&id, 0, 1);
    for (n, item) in failing.iter().enumerate() {
        device
            .store
            .answer_item(
                &id,
                item,
                "fail",
                &AnswerDetails {
                    note: (n == 0).then(|| "二楼平台护栏缺失".to_string()),
                    deadline: chrono::NaiveDate::from_ymd_opt(2030, 1, 31),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap();
    }
    let numbers = [DocType::Record, DocType::Order]
        .into_iter()
        .map(|t| {
            device
                .store
                .issue_document(&id, t, Utc::now())
                .unwrap()
                .number
        })
        .collect();
    device.store.submit_inspection(&id, Utc::now()).unwrap();
    device.sync().unwrap();
    assert!(device.store.is_locked(&id).unwrap());
    (id, numbers)
}

/// Hazards of submitted records per district, counted from the stored documents themselves,
/// largest first and ties in code order, as the analysis orders them.
fn hazards_by_district(server: &Server) -> Vec<(String, i64)> {
    let regions = server.store.regions().unwrap();
    let parent = |code: &str| {
        regions
            .iter()
            .find(|r| r.code == code)
            .and_then(|r| r.parent.clone())
    };
    let mut counts = std::collections::BTreeMap::<String, i64>::new();
    let rows = server
        .store
        .list_records(&RecordScope::All, &Default::default(), -1, 0)
        .unwrap();
    for row in rows {
        let stored = server.store.record(&row.id).unwrap().unwrap();
        let record = anjian_core::RecordDoc::load(&row.id, &stored.doc, &[], "test")
            .unwrap()
            .read()
            .unwrap();
        if record.status != anjian_core::record::Status::Submitted {
            continue;
        }
        // A town's district is its parent; the demo's enterprises are all in towns.
        let district = parent(&stored.region_code).unwrap();
        *counts.entry(district).or_default() += record.hazards.len() as i64;
    }
    let mut expected: Vec<(String, i64)> = counts.into_iter().collect();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    expected
}

/// The first two columns of the workbook's data rows (code and count), read by openpyxl.
fn xlsx_rows(file: &Path) -> Vec<(String, i64)> {
    let python = tool("ANJIAN_TEST_PYTHON");
    let out = Command::new(python)
        .arg("-c")
        .arg(
            "import json, sys, openpyxl\n\
             sheet = openpyxl.load_workbook(sys.argv[1]).worksheets[0]\n\
             print(json.dumps([[r[0], r[2]] for r in sheet.iter_rows(min_row=2, values_only=True)]))",
        )
        .arg(file)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, i64)> = serde_json::from_slice(&out.stdout).unwrap();
    rows
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect()
}

#[test]
fn supervisors_see_their_scope_open_a_record_and_download_its_pdf() {
    let server = Server::start();
    let mut zhang = Device::logged_in(&server.url, "zhang");
    let (town_record, numbers) = locked_inspection(&mut zhang, FACTORY, LI, &["IT-001", "IT-003"]);
    let mut chen = Device::logged_in(&server.url, "chen");
    let (foreign_record, _) = locked_inspection(&mut chen, FOREIGN_FACTORY, WU, &["IT-001"]);

    let dir = tempfile::tempdir().unwrap();
    let seen = run_browser_script(
        "review.cjs",
        &json!({
            "base": server.url,
            "password": PASSWORD,
            "town_record": town_record,
            "foreign_record": foreign_record,
            // 淄川区, the district of the other town.
            "foreign_district": "370302",
            "download_dir": dir.path(),
        }),
    );

    assert!(
        seen["wrong_password"]
            .as_str()
            .unwrap()
            .contains("账号或密码错误"),
        "{seen}"
    );
    assert!(seen["town_who"].as_str().unwrap().contains("钱镇监"));
    assert_eq!(
        seen["town_records"],
        json!([town_record]),
        "town scope only"
    );
    assert_eq!(seen["town_foreign_status"], 404);
    assert_eq!(seen["town_foreign_pdf_status"], 404);
    assert!(
        seen["record_title"]
            .as_str()
            .unwrap()
            .contains("淄博齐林电力设备制造有限公司")
    );
    assert!(
        seen["receipt_check"]
            .as_str()
            .unwrap()
            .contains("回执验证通过")
    );
    let hazards = seen["hazard_rows"].as_array().unwrap();
    assert_eq!(hazards.len(), 2, "{seen}");
    assert_eq!(hazards[0][0], "IT-001");
    assert_eq!(hazards[0][5], "2030-01-31");
    let stored = server.store.record(&town_record).unwrap().unwrap();
    let record = anjian_core::RecordDoc::load(&town_record, &stored.doc, &[], "test")
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(seen["answer_count"], record.answers.len());
    assert_eq!(
        seen["documents"],
        json!([
            ["现场检查记录", numbers[0]],
            ["责令限期整改指令书", numbers[1]]
        ])
    );
    let pdf_name = seen["pdf_name"].as_str().unwrap();
    assert!(
        pdf_name.starts_with("现场检查记录") && pdf_name.ends_with(".pdf"),
        "{pdf_name}"
    );
    let text = pdf_text(Path::new(seen["pdf_file"].as_str().unwrap()));
    assert!(
        text.contains("现场检查记录") && text.contains(&numbers[0]),
        "the downloaded PDF reads back as the record: {text}"
    );
    assert_eq!(seen["after_logout"], "/review/login");
    let city = seen["city_records"].as_array().unwrap();
    assert!(
        city.contains(&json!(town_record)) && city.contains(&json!(foreign_record)),
        "{seen}"
    );
    // The analysis against an independent count from the stored records.
    let expected = hazards_by_district(&server);
    let table: Vec<(String, i64)> = seen["analysis_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
        .collect();
    assert_eq!(table, expected, "{seen}");
    let bars = seen["analysis_bars"].as_array().unwrap();
    assert_eq!(bars.len(), expected.len(), "a bar per row");
    for (bar, (_, count)) in bars.iter().zip(&expected) {
        assert_eq!(bar[1].as_i64().unwrap(), *count);
        assert!(bar[2].as_f64().unwrap() > 0.0, "drawn: {bar}");
    }
    assert!(seen["xlsx_name"].as_str().unwrap().ends_with(".xlsx"));
    assert_eq!(
        xlsx_rows(Path::new(seen["xlsx_file"].as_str().unwrap())),
        expected,
        "the Excel export read back by openpyxl"
    );
    assert_eq!(seen["city_district_records"], json!([foreign_record]));
    assert_eq!(seen["city_self_records"], json!([]));
    assert!(
        seen["city_self_message"]
            .as_str()
            .unwrap()
            .contains("没有符合条件的检查记录")
    );
    assert_eq!(
        seen["left_origin"],
        json!([]),
        "nothing fetched from elsewhere"
    );
}

#[test]
fn forms_posted_from_another_origin_are_refused_and_an_alert_is_acknowledged_only_when_ticked() {
    let server = Server::start();
    let api = anjian_e2e::Api::new(&server.url);
    let device = "0190a000-0000-7000-8000-0000000001b0";
    let admin = api.login("admin", device);
    let body = storm_at_the_mine(&api, &admin, "RG-CSRF", "主井口");
    let alert_id = body["alerts"][0].as_str().unwrap().to_string();
    let city = api.login("city", device);
    let acknowledged_by = || {
        let (_, listed) = api.get("/api/v1/alerts", Some(&city));
        listed["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["alert_id"] == json!(alert_id))
            .unwrap()["acknowledged_by"]
            .clone()
    };
    assert_eq!(acknowledged_by(), Value::Null);

    let seen = run_browser_script(
        "csrf.cjs",
        &json!({ "base": server.url, "password": PASSWORD, "alert_id": alert_id }),
    );
    for form in ["acknowledge", "logout", "login"] {
        assert_eq!(seen[format!("forged_{form}")], 403, "{form}: {seen}");
    }
    assert!(
        seen["forged_message"]
            .as_str()
            .unwrap()
            .contains("其他网站"),
        "{seen}"
    );
    assert_eq!(seen["still_logged_in"], true, "{seen}");
    assert_eq!(seen["waiting_after_forgery"], true, "{seen}");
    assert_eq!(seen["unticked_stays"], true, "{seen}");
    assert!(
        seen["checkbox_label"]
            .as_str()
            .unwrap()
            .contains("井下人员已全部撤出"),
        "{seen}"
    );
    assert!(
        seen["acknowledged_cell"]
            .as_str()
            .unwrap()
            .contains("已确认"),
        "{seen}"
    );
    assert_eq!(acknowledged_by(), json!("city"));
}

/// Seeds what makes the pages' tables and charts wide: two districts' locked inspections with
/// hazards, an enterprise's permits and staff, hotline reports this year and a rain alert.
fn seed_for_layout(server: &Server) -> (String, String) {
    use anjian_server::admin::import_reference;
    use anjian_server::store::ImportKind;

    let store = server.store.as_ref();
    import_reference(
        store,
        ImportKind::Permits,
        "permits.csv",
        format!(
            "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至\n\
             {FACTORY},安全生产许可证,(鲁)WH安许证字〔2019〕030001号,山东省应急管理厅,2019-01-01,2021-12-31\n\
             {FACTORY},安全生产许可证,(鲁)WH安许证字〔2022〕030001号,山东省应急管理厅,2022-01-01,2099-12-31\n"
        )
        .as_bytes(),
    )
    .unwrap();
    import_reference(
        store,
        ImportKind::Staff,
        "staff.csv",
        format!(
            "统一社会信用代码,人员类别,姓名,证书编号,证书类型,有效期至\n\
             {FACTORY},主要负责人,陈晓东,GM-3703-2023-00871,工贸行业主要负责人安全生产知识和管理能力考核合格证,2099-08-31\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let today = anjian_core::time::china_date(Utc::now());
    import_reference(
        store,
        ImportKind::Hotline,
        "hotline.csv",
        format!(
            "工单编号,受理时间,区县代码,行业,类别,统一社会信用代码,内容摘要,办理状态\n\
             12350-0001,{today},370303,工贸,举报,{FACTORY},反映厂区夜间有刺鼻气味,已办结\n\
             12350-0002,{today},370302,其他,咨询,,咨询动火作业审批流程,已办结\n\
             12350-0003,{today},370303,工贸,投诉,{FACTORY},投诉车间未配发防护用品,处理中\n"
        )
        .as_bytes(),
    )
    .unwrap();

    let mut zhang = Device::logged_in(&server.url, "zhang");
    let (record, _) = locked_inspection(&mut zhang, FACTORY, LI, &["IT-001", "IT-003"]);
    let mut chen = Device::logged_in(&server.url, "chen");
    locked_inspection(&mut chen, FOREIGN_FACTORY, WU, &["IT-001"]);

    let api = anjian_e2e::Api::new(&server.url);
    let admin = api.login("admin", "0190a000-0000-7000-8000-0000000001c0");
    storm_at_the_mine(&api, &admin, "RG-LAYOUT-0001", "主井口东侧雨量计");
    (record, FACTORY.to_string())
}

#[test]
fn every_review_page_fits_a_phone_and_a_desk_and_axe_finds_nothing_serious() {
    tool("ANJIAN_AXE");
    let server = Server::start();
    let (record, enterprise) = seed_for_layout(&server);
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("review-screenshots");
    println!("screenshots of the review pages: {}", screenshots.display());
    let seen = run_browser_script(
        "layout.cjs",
        &json!({
            "base": server.url,
            "password": PASSWORD,
            "record": record,
            "enterprise": enterprise,
            "screenshot_dir": screenshots,
        }),
    );

    let pages = seen["pages"].as_array().unwrap();
    // The login page and fifteen pages behind it, at both widths.
    assert_eq!(pages.len(), 2 * 16, "{seen}");
    // Every fault of every page is collected, so that one run shows them all.
    let mut faults: Vec<String> = Vec::new();
    let mut check = |ok: bool, fault: String| {
        if !ok {
            faults.push(fault);
        }
    };
    for page in pages {
        let (name, width) = (
            page["name"].as_str().unwrap(),
            page["width"].as_i64().unwrap(),
        );
        let at = format!("{name} at {width} px");
        check(
            page["status"] == 200,
            format!("{at}: status {}", page["status"]),
        );
        check(
            page["scroll_width"].as_i64() <= page["client_width"].as_i64(),
            format!(
                "{at} scrolls sideways: {} > {}",
                page["scroll_width"], page["client_width"]
            ),
        );
        let lines = page["header_lines"].as_i64();
        match (name, width) {
            ("login", _) => check(lines.is_none(), format!("{at}: a header")),
            (_, 390) => check(
                matches!(lines, Some(1..=2)),
                format!("{at}: the header takes {lines:?} lines"),
            ),
            _ => {
                check(
                    lines == Some(1),
                    format!("{at}: the header takes {lines:?} lines"),
                );
                check(
                    page["nav_hidden"] == 0,
                    format!("{at}: links scrolled out of the header"),
                );
            }
        }
        if name != "login" {
            check(
                page["who_hidden"] == 0,
                format!("{at}: the account's name is cut"),
            );
        }
        if let (390, Some(smallest)) = (width, page["smallest_chart_text"].as_f64()) {
            check(
                smallest >= 9.99,
                format!("{at}: chart text of {smallest:.1} px"),
            );
        }
        check(
            page["broken_cells"] == json!([]),
            format!(
                "{at}: codes or dates broken over lines, or text out of its cell: {}",
                page["broken_cells"]
            ),
        );
        let serious: Vec<&Value> = page["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        check(
            serious.is_empty(),
            format!("{at}: axe-core finds {serious:?}"),
        );
        let text = page["text"].as_str().unwrap();
        check(
            !text.contains("templates/") && !text.contains(".toml"),
            format!("{at} shows an internal path"),
        );
        check(
            page["icon"] == "/favicon.ico",
            format!("{at}: icon {}", page["icon"]),
        );
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
    let page = |name: &str| {
        pages
            .iter()
            .find(|p| p["name"] == name && p["width"] == 1280)
            .unwrap()
    };
    // Charts were measured: the analyses draw text at all.
    assert!(
        page("analysis-hazards")["smallest_chart_text"]
            .as_f64()
            .is_some()
    );

    // The record names its checklist by the title of the version it was made with.
    let stored = server.store.record(&record).unwrap().unwrap();
    let doc = anjian_core::RecordDoc::load(&record, &stored.doc, &[], "test")
        .unwrap()
        .read()
        .unwrap();
    let source = server
        .store
        .template(&doc.template_id, doc.template_version)
        .unwrap()
        .unwrap();
    let template = anjian_core::template::Template::parse("stored", &source).unwrap();
    let text = page("record")["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{}（第 {} 版）", template.title, template.version)),
        "{text}"
    );
    assert!(!text.contains(&doc.template_id), "{text}");

    // Hazard states keep their colours in the donut: the open ones are blue, and overdue is
    // red wherever it is drawn (checked for every state in report/svg.rs).
    assert_eq!(
        page("hazards")["donut"],
        json!([["整改中", anjian_server::report::svg::STATE_OPEN]]),
        "{seen}"
    );

    assert_eq!(seen["favicon"]["status"], 200, "{seen}");
    assert_eq!(seen["favicon"]["type"], "image/svg+xml");
    assert!(
        seen["favicon"]["body"]
            .as_str()
            .unwrap()
            .starts_with("<svg")
    );
}

/// Registers a rain gauge at the demo mine and posts a 55 mm storm five minutes ago, which
/// raises a 停产撤人 alert; returns the intake's answer.
fn storm_at_the_mine(api: &anjian_e2e::Api, admin: &str, device_id: &str, location: &str) -> Value {
    let (status, body) = api.post_json(
        "/api/v1/admin/iot/devices",
        Some(admin),
        &json!({ "device_id": device_id, "kind": "rain",
                 "credit_code": "91370302016480894K", "location": location }),
    );
    assert_eq!(status, 201, "{body}");
    let key = body["key"].as_str().unwrap().to_string();
    let now = Utc::now();
    let batch = json!({ "device": device_id, "sent_at": now.to_rfc3339(), "events": [
        { "id": "a", "t": (now - chrono::Duration::minutes(5)).to_rfc3339(),
          "interval_s": 60, "rain_mm": 55.0 } ] });
    let (status, body) = api.post_bytes(
        "/api/v1/iot/rain",
        Some(&key),
        "application/json",
        batch.to_string().into_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    body
}
