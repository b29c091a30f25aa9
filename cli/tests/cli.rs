//! The `anjian` command, run as a process against real device folders.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

const DEMO_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../templates/demo/enterprises.csv"
);
const AGENCY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../templates/agency.example.toml"
);
const FACTORY: &str = "913703030226339277";
const CHEMICAL_PLANT: &str = "913703050534640908";

/// One device: a home folder and the command pointed at it.
struct Device {
    home: TempDir,
}

impl Device {
    fn new() -> Device {
        Device {
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// A device initialised for an inspector, with the demo register imported.
    fn ready(name: &str, cert: &str) -> Device {
        let device = Device::new();
        device.ok(&[
            "init",
            "--name",
            name,
            "--cert",
            cert,
            "--cert-valid-until",
            "2028-12-31",
            "--agency",
            AGENCY,
        ]);
        device.ok(&["enterprise", "import", DEMO_CSV]);
        device
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_anjian"))
            .arg("--home")
            .arg(self.home.path())
            .args(args)
            .env_remove("ANJIAN_HOME")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "anjian {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    /// Runs a command that must fail; returns its JSON error `{code, message}`.
    fn fails(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = self.run(&with_json);
        assert!(!out.status.success(), "anjian {args:?} should fail");
        let value: Value = serde_json::from_slice(&out.stdout).unwrap();
        // And in text mode the same failure is explained on standard error.
        let text = self.run(args);
        assert!(!text.status.success());
        assert!(String::from_utf8_lossy(&text.stderr).starts_with("错误："));
        value["error"].clone()
    }

    /// Everything the device holds, as the command reports it.
    fn state(&self) -> String {
        let mut state = self.ok(&["--json", "enterprise", "list"]);
        let list = self.json(&["inspect", "list"]);
        for record in list.as_array().unwrap() {
            let id = record["id"].as_str().unwrap();
            state.push_str(&self.ok(&["--json", "inspect", "show", id]));
        }
        state
    }

    fn start(&self, enterprise: &str, template: &str, with: &str) -> String {
        let started = self.json(&[
            "inspect",
            "start",
            "--enterprise",
            enterprise,
            "--template",
            template,
            "--with",
            with,
        ]);
        started["id"].as_str().unwrap().to_string()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Answers every required item of a record with a passing answer.
fn answer_required(device: &Device, id: &str, template: &str) {
    let shown = device.json(&["template", "show", template]);
    for item in shown["items"].as_array().unwrap() {
        if !item["required"].as_bool().unwrap() {
            continue;
        }
        let value = match item["kind"].as_str().unwrap() {
            "measure" => item["min"]
                .as_f64()
                .or(item["max"].as_f64())
                .unwrap()
                .to_string(),
            "text" => "已记录".to_string(),
            _ => "pass".to_string(),
        };
        device.ok(&[
            "inspect",
            "answer",
            id,
            item["code"].as_str().unwrap(),
            &value,
        ]);
    }
}

#[test]
fn init_prints_the_profile_and_keeps_the_device_id() {
    let device = Device::new();
    let first = device.json(&["init", "--name", "张伟", "--cert", "37030001"]);
    assert_eq!(first["inspector"]["name"], "张伟");
    assert!(first["inspector"]["cert_valid_until"].is_null());
    let again = device.json(&[
        "init",
        "--name",
        "张伟",
        "--cert",
        "37030001",
        "--cert-valid-until",
        "2029-01-31",
        "--agency",
        AGENCY,
    ]);
    assert_eq!(again["device_id"], first["device_id"]);
    assert_eq!(again["inspector"]["cert_valid_until"], "2029-01-31");
    assert_eq!(again["agency"]["name"], "淄博市应急管理局");
    let err = device.fails(&[
        "init",
        "--name",
        "张伟",
        "--cert",
        "37030001",
        "--cert-valid-until",
        "2029-13-01",
    ]);
    assert_eq!(err["code"], "invalid_input");
}

#[test]
fn json_is_accepted_anywhere_on_the_line() {
    let device = Device::ready("张伟", "37030001");
    for args in [
        &["--json", "template", "list"][..],
        &["template", "--json", "list"][..],
        &["template", "list", "--json"][..],
    ] {
        let value: Value = serde_json::from_str(&device.ok(args)).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 6, "{args:?}");
    }
}

#[test]
fn template_list_and_show_have_the_documented_shapes() {
    let device = Device::ready("张伟", "37030001");
    let list = device.json(&["template", "list"]);
    let hazchem = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "hazchem-enforcement")
        .unwrap();
    assert_eq!(hazchem["version"], 2);
    assert_eq!(hazchem["industry"], "危险化学品");
    assert_eq!(hazchem["kind"], "enforcement");
    assert!(hazchem["item_count"].as_u64().unwrap() >= 40);

    let show = device.json(&["template", "show", "hazchem-enforcement"]);
    assert_eq!(show["id"], "hazchem-enforcement");
    let items = show["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, hazchem["item_count"].as_u64().unwrap());
    for key in ["code", "text", "legal_bases", "class", "kind", "required"] {
        assert!(!items[0][key].is_null(), "item has {key}");
    }
    let text = device.ok(&["template", "show", "mine-enforcement"]);
    assert!(text.contains("带班"));
    assert_eq!(
        device.fails(&["template", "show", "nope"])["code"],
        "unknown_template"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::process::Stdio;
    let device = Device::ready("张伟", "37030001");
    // `anjian template show … | true`: the reader closes the pipe before the command (still
    // starting up) writes to it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_anjian"))
        .arg("--home")
        .arg(device.home.path())
        .args(["--json", "template", "show", "hazchem-enforcement"])
        .env_remove("ANJIAN_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn a_template_file_with_an_error_names_file_and_item() {
    let device = Device::ready("张伟", "37030001");
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../templates/checklists/self-monthly.toml"
    ))
    .unwrap();
    let bad = source.replacen("version = 1", "version = 2", 1).replacen(
        "class = \"B\"",
        "class = \"Z\"",
        1,
    );
    let file = write(device.home.path(), "self-v2.toml", &bad);
    let err = device.fails(&["template", "import", file.to_str().unwrap()]);
    assert_eq!(err["code"], "invalid_template");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("self-v2.toml") && message.contains("SI-") && message.contains("class"),
        "{message}"
    );

    let good = write(
        device.home.path(),
        "self-v2-ok.toml",
        &source.replacen("version = 1", "version = 2", 1),
    );
    let added = device.json(&["template", "import", good.to_str().unwrap()]);
    assert_eq!(added["added"], true);
    let list = device.json(&["template", "list"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "self-monthly" && t["version"] == 2)
    );
}

#[test]
fn enterprise_import_is_all_or_nothing() {
    let device = Device::ready("张伟", "37030001");
    let before = device.json(&["enterprise", "list"]);
    assert_eq!(before.as_array().unwrap().len(), 12);

    let csv = "统一社会信用代码,单位名称,地址,行业,区划代码,法定代表人,联系电话\n\
               914403001922038216,甲公司,深圳市龙岗区,工贸,440307,赵一,0755-28780808\n\
               914403001922038217,乙公司,深圳市南山区,工贸,440305,钱二,0755-86013388\n";
    let file = write(device.home.path(), "bad.csv", csv);
    let err = device.fails(&["enterprise", "import", file.to_str().unwrap()]);
    assert_eq!(err["code"], "invalid_csv");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("第 3 行") && message.contains("校验码"),
        "{message}"
    );
    assert_eq!(device.json(&["enterprise", "list"]), before);

    let good = write(
        device.home.path(),
        "good.csv",
        &csv.lines().take(2).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(
        device.json(&["enterprise", "import", good.to_str().unwrap()])["imported"],
        1
    );
    let found = device.json(&["enterprise", "list", "--search", "甲公司"]);
    assert_eq!(found[0]["credit_code"], "914403001922038216");
    assert_eq!(
        device.json(&["enterprise", "show", "914403001922038216"])["name"],
        "甲公司"
    );
    assert_eq!(
        device.fails(&["enterprise", "show", "914403001922038217"])["code"],
        "invalid_credit_code"
    );
}

#[test]
fn an_inspection_from_start_to_submit() {
    let device = Device::ready("张伟", "37030001");
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");

    let photo = write(device.home.path(), "exit.jpg", "\u{ff}jpeg bytes");
    let answered = device.json(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "fail",
        "--note",
        "焊工无证上岗",
        "--photo",
        photo.to_str().unwrap(),
        "--deadline",
        "2026-12-31",
        "--measure",
        "停止无证人员作业",
    ]);
    assert_eq!(answered["status"], "fail");
    assert_eq!(answered["photos"].as_array().unwrap().len(), 1);

    answer_required(&device, &id, "trade-enforcement");
    // The loop above answered IT-002 pass; fail it again, as found.
    device.ok(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "fail",
        "--note",
        "焊工无证上岗",
        "--deadline",
        "2026-12-31",
    ]);

    let show = device.json(&["inspect", "show", &id]);
    assert_eq!(show["id"], id.as_str());
    assert_eq!(show["status"], "draft");
    assert_eq!(show["enterprise"], FACTORY);
    assert_eq!(show["template"], "trade-enforcement");
    assert_eq!(show["inspectors"][1]["name"], "李娜");
    assert_eq!(show["inspectors"][1]["cert"], "37030002");
    assert_eq!(show["answers"]["IT-002"]["status"], "fail");
    assert_eq!(show["answers"]["IT-002"]["note"], "焊工无证上岗");
    let hazard = &show["hazards"][0];
    assert_eq!(hazard["item"], "IT-002");
    assert_eq!(hazard["deadline"], "2026-12-31");
    assert_eq!(hazard["class"], "重大");
    assert!(hazard["legal_basis"].as_str().unwrap().contains("第"));
    assert!(!hazard["description"].as_str().unwrap().is_empty());
    assert_eq!(show["conflicts"], Value::Array(vec![]));

    // Submitting issues the record and the order with it; without serials it is refused,
    // naming them, and nothing changes.
    let before = device.state();
    let err = device.fails(&["inspect", "submit", &id]);
    assert_eq!(err["code"], "incomplete");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("现场检查记录、责令限期整改指令书") && message.contains("号段"),
        "{message}"
    );
    assert_eq!(device.state(), before);
    let year = show["started_at"].as_str().unwrap()[..4].to_string();
    for doc_type in ["record", "order"] {
        device.ok(&["numbers", "add-block", doc_type, &year, "1", "9"]);
    }
    let submitted = device.json(&["inspect", "submit", &id]);
    assert_eq!(submitted["status"], "submitted");
    let list = device.json(&["inspect", "list"]);
    assert_eq!(list[0]["status"], "submitted");
    assert_eq!(list[0]["hazard_count"], 1);

    let before = device.state();
    let err = device.fails(&["inspect", "answer", &id, "IT-003", "na"]);
    assert_eq!(err["code"], "record_submitted");
    assert_eq!(device.state(), before);
    let text = device.ok(&["inspect", "show", &id]);
    assert!(text.contains("已提交") && text.contains("焊工无证上岗"));
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let device = Device::ready("张伟", "37030001");
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");
    device.ok(&["inspect", "answer", &id, "IT-001", "pass"]);
    let before = device.state();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                "914403001922038216",
                "--template",
                "trade-enforcement",
            ],
            "unknown_enterprise",
        ),
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                "91440300192203821X",
                "--template",
                "trade-enforcement",
            ],
            "invalid_credit_code",
        ),
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                FACTORY,
                "--template",
                "no-such",
            ],
            "unknown_template",
        ),
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                FACTORY,
                "--template",
                "hazchem-enforcement",
            ],
            "template_not_applicable",
        ),
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                FACTORY,
                "--template",
                "trade-enforcement",
                "--with",
                "李娜",
            ],
            "invalid_input",
        ),
        (
            &["inspect", "answer", &id, "IT-999", "pass"],
            "unknown_item",
        ),
        (
            &["inspect", "answer", &id, "IT-001", "perhaps"],
            "invalid_answer",
        ),
        (
            &[
                "inspect",
                "answer",
                &id,
                "IT-001",
                "fail",
                "--deadline",
                "2020-01-01",
            ],
            "invalid_answer",
        ),
        (
            &[
                "inspect",
                "answer",
                &id,
                "IT-001",
                "fail",
                "--deadline",
                "next week",
            ],
            "invalid_input",
        ),
        (
            &[
                "inspect",
                "answer",
                &id,
                "IT-001",
                "pass",
                "--photo",
                "/no/such/photo.jpg",
            ],
            "photo_unreadable",
        ),
        (
            &["inspect", "answer", "0000-no-record", "IT-001", "pass"],
            "unknown_record",
        ),
        (&["inspect", "submit", &id], "incomplete"),
        (
            &["inspect", "resolve", &id, "IT-001", "--keep", "1"],
            "invalid_input",
        ),
        (&["record", "import", "/no/such/file"], "io"),
        // Text the documents cannot print, or with control characters (issue 19).
        (
            &[
                "inspect",
                "answer",
                &id,
                "IT-001",
                "fail",
                "--note",
                "护栏😀",
            ],
            "invalid_answer",
        ),
        (
            &[
                "inspect",
                "answer",
                &id,
                "IT-001",
                "fail",
                "--note",
                "护栏\u{1b}缺失",
            ],
            "invalid_answer",
        ),
        (
            &[
                "inspect",
                "start",
                "--enterprise",
                FACTORY,
                "--template",
                "trade-enforcement",
                "--with",
                "李娜:37030002",
                "--place",
                "𠀀号车间",
            ],
            "invalid_input",
        ),
    ];
    for (args, code) in cases {
        assert_eq!(device.fails(args)["code"], *code, "{args:?}");
    }
    let refusal = device.fails(&[
        "inspect",
        "answer",
        &id,
        "IT-001",
        "fail",
        "--note",
        "护栏😀",
    ]);
    let message = refusal["message"].as_str().unwrap();
    assert!(
        message.contains("备注") && message.contains("“😀”（U+1F600）"),
        "{message}"
    );
    let corrupt = write(device.home.path(), "corrupt.anjian", "ANJIANRX garbage");
    assert_eq!(
        device.fails(&["record", "import", corrupt.to_str().unwrap()])["code"],
        "corrupt_export"
    );
    assert_eq!(device.state(), before);
}

#[test]
fn an_uninitialised_device_says_how_to_start() {
    let device = Device::new();
    device.ok(&["enterprise", "import", DEMO_CSV]);
    let err = device.fails(&[
        "inspect",
        "start",
        "--enterprise",
        FACTORY,
        "--template",
        "trade-enforcement",
    ]);
    assert_eq!(err["code"], "not_initialized");
    assert!(err["message"].as_str().unwrap().contains("anjian init"));
}

#[test]
fn two_tablets_merge_through_exchange_files() {
    let a = Device::ready("张伟", "37030001");
    let b = Device::ready("李娜", "37030002");
    let id = a.start(
        CHEMICAL_PLANT,
        "hazchem-enforcement",
        "李娜:37030002:2028-12-31",
    );
    let file = a.path("to-b.anjian");
    a.ok(&["record", "export", &id, "--out", file.to_str().unwrap()]);
    let imported = b.json(&["record", "import", file.to_str().unwrap()]);
    assert_eq!(imported["created"], true);
    b.ok(&["inspect", "join", &id]);

    a.ok(&["inspect", "answer", &id, "HC-001", "pass"]);
    a.ok(&[
        "inspect",
        "answer",
        &id,
        "HC-004",
        "pass",
        "--note",
        "联锁投用",
    ]);
    b.ok(&[
        "inspect",
        "answer",
        &id,
        "HC-002",
        "fail",
        "--note",
        "电工证过期",
        "--deadline",
        "2026-12-31",
    ]);
    b.ok(&[
        "inspect",
        "answer",
        &id,
        "HC-004",
        "fail",
        "--note",
        "联锁摘除",
        "--deadline",
        "2026-12-31",
    ]);

    let to_a = b.path("to-a.anjian");
    b.ok(&["record", "export", &id, "--out", to_a.to_str().unwrap()]);
    assert_eq!(
        a.json(&["record", "import", to_a.to_str().unwrap()])["changed"],
        true
    );
    a.ok(&["record", "export", &id, "--out", file.to_str().unwrap()]);
    b.ok(&["record", "import", file.to_str().unwrap()]);

    let (show_a, show_b) = (
        a.json(&["inspect", "show", &id]),
        b.json(&["inspect", "show", &id]),
    );
    for key in ["answers", "conflicts", "inspectors", "heads", "hazards"] {
        assert_eq!(show_a[key], show_b[key], "{key}");
    }
    assert_eq!(show_a["answers"]["HC-002"]["by"]["name"], "李娜");
    let conflicts = show_a["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["item"], "HC-004");
    let values = conflicts[0]["values"].as_array().unwrap();
    let notes: Vec<&str> = values.iter().map(|v| v["note"].as_str().unwrap()).collect();
    assert!(
        notes.contains(&"联锁投用") && notes.contains(&"联锁摘除"),
        "{notes:?}"
    );
    assert!(
        values
            .iter()
            .all(|v| v["by"]["name"].is_string() && v["at"].is_string())
    );
    assert!(a.ok(&["inspect", "show", &id]).contains("冲突（1）"));

    // Importing the same file again changes nothing.
    let before = b.state();
    assert_eq!(
        b.json(&["record", "import", file.to_str().unwrap()])["changed"],
        false
    );
    assert_eq!(b.state(), before);

    // Keep 李娜's finding.
    let keep = 1 + values.iter().position(|v| v["note"] == "联锁摘除").unwrap();
    a.ok(&[
        "inspect",
        "resolve",
        &id,
        "HC-004",
        "--keep",
        &keep.to_string(),
    ]);
    let resolved = a.json(&["inspect", "show", &id]);
    assert_eq!(resolved["conflicts"], Value::Array(vec![]));
    assert_eq!(resolved["answers"]["HC-004"]["status"], "fail");
    assert_eq!(resolved["answers"]["HC-004"]["resolved_by"]["name"], "张伟");
}

#[test]
fn negative_measured_values_are_values_not_flags() {
    let device = Device::ready("张伟", "37030001");
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");
    let template = device.json(&["template", "show", "trade-enforcement"]);
    let measured = template["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "measure")
        .unwrap();
    let code = measured["code"].as_str().unwrap();
    let answer = device.json(&[
        "inspect",
        "answer",
        &id,
        code,
        "-5",
        "--deadline",
        "2026-12-31",
    ]);
    assert_eq!(answer["value"], -5.0);
}

#[test]
fn numbers_and_issued_documents() {
    let device = Device::ready("张伟", "37030001");
    let blocks = device.json(&["numbers", "show"]);
    assert_eq!(blocks["blocks"], Value::Array(vec![]));

    // Numbers run per year: the inspection's own year, by the device clock.
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");
    let year = device.json(&["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    let added = device.json(&["numbers", "add-block", "record", &year, "1", "20"]);
    assert_eq!(added["blocks"][0]["remaining"], 20);
    device.ok(&["numbers", "add-block", "order", &year, "1", "20"]);
    for bad in [
        &["numbers", "add-block", "order", &year, "15", "30"][..],
        &["numbers", "add-block", "notice", &year, "1", "2"][..],
    ] {
        assert_eq!(device.fails(bad)["code"], "invalid_input", "{bad:?}");
    }
    let spoiled = format!("（淄）应急检记〔{year}〕1号");
    let voided = device.json(&["numbers", "void", &spoiled, "--reason", "打印损坏"]);
    assert_eq!(voided["state"], "voided");

    answer_required(&device, &id, "trade-enforcement");
    device.ok(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "fail",
        "--deadline",
        "2099-12-31",
    ]);
    assert_eq!(
        device.fails(&["doc", "issue", &id, "--type", "order"])["code"],
        "cannot_issue"
    );
    let record_doc = device.json(&["doc", "issue", &id, "--type", "record"]);
    assert_eq!(record_doc["number"], format!("（淄）应急检记〔{year}〕2号"));
    let order = device.json(&["doc", "issue", &id, "--type", "order"]);
    assert_eq!(order["number"], format!("（淄）应急责改〔{year}〕1号"));
    assert_eq!(
        device.json(&["doc", "issue", &id, "--type", "order"]),
        order
    );

    let shown = device.json(&["inspect", "show", &id]);
    assert_eq!(shown["documents"][1]["number"], order["number"]);
    let register = device.json(&["numbers", "show"])["register"].clone();
    let issued: Vec<&Value> = register
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state"] == "issued")
        .collect();
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().all(|e| e["record_id"] == id.as_str()));
    assert!(device.ok(&["numbers", "show"]).contains("作废：打印损坏"));
}

#[test]
fn submitting_before_issuing_leaves_every_document_issuable() {
    // A new user: starts with the on-site person's post, answers, finds a hazard, and taps
    // submit before issuing anything.
    let device = Device::ready("张伟", "37030001");
    let started = device.json(&[
        "inspect",
        "start",
        "--enterprise",
        FACTORY,
        "--template",
        "trade-enforcement",
        "--with",
        "李娜:37030002:2028-06-30",
        "--post",
        "设备部经理",
    ]);
    let id = started["id"].as_str().unwrap().to_string();
    assert_eq!(
        device.json(&["inspect", "show", &id])["on_site_post"],
        "设备部经理"
    );
    let corrected = device.json(&["inspect", "post", &id, "生产副总经理"]);
    assert_eq!(corrected["on_site_post"], "生产副总经理");
    let year = device.json(&["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    for doc_type in ["record", "order"] {
        device.ok(&["numbers", "add-block", doc_type, &year, "1", "9"]);
    }
    answer_required(&device, &id, "trade-enforcement");
    device.ok(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "fail",
        "--deadline",
        "2099-12-31",
    ]);
    let submitted = device.json(&["inspect", "submit", &id]);
    assert_eq!(submitted["status"], "submitted");

    // Every document is still there to issue and render, with the number taken at submission.
    let record_doc = device.json(&["doc", "issue", &id, "--type", "record"]);
    assert_eq!(record_doc["number"], format!("（淄）应急检记〔{year}〕1号"));
    let out = device.path("order.txt");
    let rendered = device.json(&[
        "doc",
        "render",
        &id,
        "--type",
        "order",
        "--format",
        "text",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(rendered["number"], format!("（淄）应急责改〔{year}〕1号"));
    let record_text = device.path("record.txt");
    device.ok(&[
        "doc",
        "render",
        &id,
        "--type",
        "record",
        "--format",
        "text",
        "--out",
        record_text.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&record_text).unwrap();
    assert!(text.contains("职务：生产副总经理"), "{text}");
    // The post is fixed once the record is issued.
    let err = device.fails(&["inspect", "post", &id, "厂长"]);
    assert_eq!(err["code"], "record_submitted");
}

#[test]
fn an_old_agency_file_is_taken_with_a_notice_of_what_changed() {
    let device = Device::new();
    let old = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/fixtures/agency-pre-2024.toml"
    ));
    let out = device.run(&[
        "init",
        "--name",
        "张伟",
        "--cert",
        "37030001",
        "--agency",
        old.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let notice = String::from_utf8_lossy(&out.stderr);
    assert!(
        notice.contains("注意：")
            && notice.contains("remedy.review_bodies")
            && notice.contains("不再写“或者山东省应急管理厅”"),
        "{notice}"
    );
}

#[test]
fn doc_render_writes_the_document_and_reports_its_number_and_hash() {
    let device = Device::ready("张伟", "37030001");
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");
    let year = device.json(&["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    device.ok(&["numbers", "add-block", "record", &year, "1", "9"]);
    answer_required(&device, &id, "trade-enforcement");
    let out = device.path("record.html");
    let rendered = device.json(&[
        "doc",
        "render",
        &id,
        "--type",
        "record",
        "--format",
        "html",
        "--out",
        out.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(rendered["bytes"], bytes.len());
    assert_eq!(rendered["number"], format!("（淄）应急检记〔{year}〕1号"));
    let sha = rendered["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    let page = String::from_utf8(bytes).unwrap();
    assert!(page.contains("现场检查记录") && page.contains(rendered["number"].as_str().unwrap()));

    // Rendering again (as text) keeps the number.
    let text_out = device.path("record.txt");
    let again = device.json(&[
        "doc",
        "render",
        &id,
        "--type",
        "record",
        "--format",
        "text",
        "--out",
        text_out.to_str().unwrap(),
    ]);
    assert_eq!(again["number"], rendered["number"]);
    assert_eq!(again["content_hash"], rendered["content_hash"]);
    assert!(
        device
            .run(&[
                "doc", "render", &id, "--type", "record", "--format", "docx", "--out", "x"
            ])
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn reinspect_follows_up_an_order() {
    let device = Device::ready("张伟", "37030001");
    let id = device.start(FACTORY, "trade-enforcement", "李娜:37030002:2028-06-30");
    assert_eq!(
        device.fails(&["inspect", "reinspect", &id])["code"],
        "invalid_input"
    );
    let year = device.json(&["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    for doc_type in ["record", "order", "reinspection"] {
        device.ok(&["numbers", "add-block", doc_type, &year, "1", "9"]);
    }
    answer_required(&device, &id, "trade-enforcement");
    device.ok(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "fail",
        "--deadline",
        "2099-01-31",
    ]);
    device.ok(&["doc", "issue", &id, "--type", "record"]);
    let order = device.json(&["doc", "issue", &id, "--type", "order"]);
    // The order is issued, but the inspection it ends is not submitted yet.
    let err = device.fails(&["inspect", "reinspect", &id]);
    assert_eq!(err["code"], "invalid_input");
    assert!(
        err["message"].as_str().unwrap().contains("尚未提交"),
        "{err}"
    );
    device.ok(&["inspect", "submit", &id]);

    let started = device.json(&[
        "inspect",
        "reinspect",
        &id,
        "--with",
        "李娜:37030002:2028-06-30",
    ]);
    assert_eq!(started["order_number"], order["number"]);
    assert_eq!(started["items"], 1);
    let re = started["id"].as_str().unwrap();
    device.ok(&[
        "inspect",
        "answer",
        re,
        "IT-002",
        "pass",
        "--note",
        "已持证上岗",
    ]);
    let shown = device.json(&["inspect", "show", re]);
    assert_eq!(shown["kind"], "reinspection");
    assert_eq!(shown["reinspects"]["record_id"], id.as_str());
    assert!(device.ok(&["inspect", "show", re]).contains("复查："));
    let out = device.path("opinion.txt");
    let rendered = device.json(&[
        "doc",
        "render",
        re,
        "--type",
        "reinspection",
        "--format",
        "text",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(rendered["number"], format!("（淄）应急复查〔{year}〕1号"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("经复查，原指令书所列隐患均已整改合格。"),
        "{text}"
    );
    assert!(text.contains(order["number"].as_str().unwrap()));
}

#[test]
fn reinspect_rechecks_a_self_inspection_without_an_order() {
    let device = Device::ready("张伟", "37030001");
    let started = device.json(&[
        "inspect",
        "start",
        "--enterprise",
        FACTORY,
        "--template",
        "self-monthly",
    ]);
    let id = started["id"].as_str().unwrap().to_string();
    answer_required(&device, &id, "self-monthly");
    device.ok(&[
        "inspect",
        "answer",
        &id,
        "SI-003",
        "fail",
        "--deadline",
        "2099-01-31",
    ]);
    device.ok(&["inspect", "submit", &id]);

    let started = device.json(&["inspect", "reinspect", &id]);
    assert_eq!(started["order_number"], Value::Null);
    assert_eq!(started["items"], 1);
    let re = started["id"].as_str().unwrap();
    let shown = device.json(&["inspect", "show", re]);
    assert_eq!(shown["inspection_kind"], "self");
    assert_eq!(shown["reinspects"]["order_number"], Value::Null);
    let text = device.ok(&["inspect", "show", re]);
    assert!(
        text.contains("复查（无指令书）：整改复查（") && text.contains(&id),
        "{text}"
    );
    device.ok(&["inspect", "answer", re, "SI-003", "pass"]);
    // No enforcement document follows a self-inspection's re-inspection.
    for doc_type in ["reinspection", "order", "record"] {
        let err = device.fails(&["doc", "issue", re, "--type", doc_type]);
        assert_eq!(err["code"], "cannot_issue", "{doc_type}: {err}");
    }
    let err = device.fails(&["doc", "issue", re, "--type", "reinspection"]);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("企业自查的整改复查没有责令限期整改指令书"),
        "{err}"
    );
    assert_eq!(
        device.json(&["inspect", "submit", re])["status"],
        "submitted"
    );
}
