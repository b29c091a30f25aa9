//! `anjian login`, `anjian sync` and the sync fields of `anjian inspect show`, run as
//! processes against a real server.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::io::Write;
use std::process::{Command, Output, Stdio};

use anjian_e2e::{FACTORY, PASSWORD, Server};
use serde_json::Value;
use tempfile::TempDir;

struct Device {
    home: TempDir,
}

impl Device {
    fn new() -> Device {
        Device {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn run_with_input(&self, args: &[&str], input: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anjian"))
            .arg("--home")
            .arg(self.home.path())
            .args(args)
            .env_remove("ANJIAN_HOME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run_with_input(&all, "");
        assert!(
            output.status.success(),
            "anjian {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn login(&self, server: &Server, user: &str) -> Value {
        let output = self.run_with_input(
            &["--json", "login", "--server", &server.url, "--user", user],
            &format!("{PASSWORD}\n"),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

fn answer_all(device: &Device, id: &str) {
    let template = device.json(&["template", "show", "trade-enforcement"]);
    for item in template["items"].as_array().unwrap() {
        if item["required"] == Value::Bool(true) {
            let input = match item["kind"].as_str() {
                Some("measure") => item["min"]
                    .as_f64()
                    .or(item["max"].as_f64())
                    .unwrap()
                    .to_string(),
                Some("text") => "记录".to_string(),
                _ => "pass".to_string(),
            };
            device.json(&[
                "inspect",
                "answer",
                id,
                item["code"].as_str().unwrap(),
                &input,
            ]);
        }
    }
}

#[test]
fn login_reads_the_password_from_standard_input_and_sync_reports_receipts() {
    let server = Server::start();
    let zhang = Device::new();
    let login = zhang.login(&server, "zhang");
    assert_eq!(login["user"]["login"], "zhang");
    assert_eq!(login["user"]["role"], "inspector");
    assert_eq!(login["server_public_key"], server.public_key.as_str());

    // The first sync brings the agency, the enterprises in scope and number blocks.
    let first = zhang.json(&["sync"]);
    assert_eq!(first["records"], Value::Array(vec![]));
    assert!(first["enterprises"].as_u64().unwrap() >= 1);
    assert_eq!(first["number_blocks"], 3);

    let started = zhang.json(&[
        "inspect",
        "start",
        "--enterprise",
        FACTORY,
        "--template",
        "trade-enforcement",
        "--with",
        "李娜:37030002:2030-12-31",
    ]);
    let id = started["id"].as_str().unwrap().to_string();
    answer_all(&zhang, &id);
    zhang.json(&["doc", "issue", &id, "--type", "record"]);
    zhang.json(&["inspect", "submit", &id]);

    let report = zhang.json(&["sync"]);
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], id.as_str());
    assert_eq!(records[0]["result"], "locked");
    assert_eq!(records[0]["code"], Value::Null);
    let receipt = &records[0]["receipt"];
    assert_eq!(receipt["record_id"], id.as_str());
    assert_eq!(receipt["log_index"], 1);

    let shown = zhang.json(&["inspect", "show", &id]);
    assert_eq!(shown["locked"], true);
    assert_eq!(&shown["receipt"], receipt);
    assert_eq!(shown["amends"], Value::Null);
    assert_eq!(shown["amendments"], Value::Array(vec![]));

    // The same command again uploads nothing.
    assert_eq!(zhang.json(&["sync"])["records"], Value::Array(vec![]));
}

#[test]
fn a_late_change_synced_from_the_command_line_becomes_an_amendment() {
    let server = Server::start();
    let zhang = Device::new();
    zhang.login(&server, "zhang");
    zhang.json(&["sync"]);
    let li = Device::new();
    li.login(&server, "li");
    li.json(&["sync"]);

    let id = zhang.json(&[
        "inspect",
        "start",
        "--enterprise",
        FACTORY,
        "--template",
        "trade-enforcement",
        "--with",
        "李娜:37030002:2030-12-31",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    answer_all(&zhang, &id);
    zhang.json(&["sync"]);
    li.json(&["sync"]);
    li.json(&[
        "inspect",
        "answer",
        &id,
        "IT-002",
        "na",
        "--note",
        "复核：不适用",
    ]);
    zhang.json(&["inspect", "submit", &id]);
    zhang.json(&["sync"]);

    let report = li.json(&["sync"]);
    let outcome = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(outcome["result"], "rejected");
    assert_eq!(outcome["code"], "record_locked");
    assert!(outcome["receipt"]["signature"].is_string());
    let amendment = outcome["amendment"].as_str().unwrap().to_string();

    let original = li.json(&["inspect", "show", &id]);
    assert_eq!(original["locked"], true);
    assert_eq!(
        original["amendments"],
        Value::Array(vec![amendment.as_str().into()])
    );
    let draft = li.json(&["inspect", "show", &amendment]);
    assert_eq!(draft["kind"], "amendment");
    assert_eq!(draft["amends"], id.as_str());
    assert_eq!(draft["answers"]["IT-002"]["note"], "复核：不适用");

    // Without a login the command says so.
    let stranger = Device::new();
    let output = stranger.run_with_input(&["--json", "sync"], "");
    assert!(!output.status.success());
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["code"], "not_logged_in");
    // A wrong password is refused with the server's message.
    let output = stranger.run_with_input(
        &[
            "--json",
            "login",
            "--server",
            &server.url,
            "--user",
            "zhang",
        ],
        "wrong-password\n",
    );
    assert!(!output.status.success());
    let error: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error["error"]["code"], "server");
}
