//! Thermal printing, checked by an independent ESC/POS decoder: the job is rendered by the
//! emupos emulator (Python, `tests/escpos/decode.py`), the Chinese text recovered from it and
//! compared with the document, the QR code read back from the emulator's image by zbarimg.
//! `scripts/test.sh` prepares the decoder and sets ANJIAN_TEST_PYTHON.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const DEMO_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../templates/demo/enterprises.csv"
);
const AGENCY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../templates/agency.example.toml"
);
const DECODER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/escpos/decode.py");

fn anjian(home: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_anjian"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "anjian {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(home: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(&anjian(home, &args)).unwrap()
}

/// The lines the printout must contain, from the document's plain text: the legal basis and
/// the printed names under a signature line stand on lines of their own on paper.
fn expected_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some((label, name)) = line.split_once("（签名）：") {
            lines.push(format!("{label}（签名）："));
            if !name.is_empty() {
                lines.push(name.to_string());
            }
        } else if let Some((finding, basis)) = line.split_once("依据：") {
            lines.push(finding.to_string());
            lines.push(format!("依据：{}", basis.trim_end_matches('。')));
        } else {
            lines.push(line.to_string());
        }
    }
    lines
}

fn decoder() -> String {
    std::env::var("ANJIAN_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "ANJIAN_TEST_PYTHON is not set: run the tests with scripts/test.sh, which prepares \
             the ESC/POS decoder (emupos, Python 3.13) and needs zbarimg (zbar-tools)"
        )
    })
}

#[test]
fn printed_orders_decode_to_the_document_on_every_paper_width() {
    let python = decoder();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("device");
    anjian(
        &home,
        &[
            "init",
            "--name",
            "张伟",
            "--cert",
            "37030001",
            "--cert-valid-until",
            "2028-12-31",
            "--agency",
            AGENCY,
        ],
    );
    anjian(&home, &["enterprise", "import", DEMO_CSV]);
    let id = json(
        &home,
        &[
            "inspect",
            "start",
            "--enterprise",
            "913703030226339277",
            "--template",
            "trade-enforcement",
            "--with",
            "李娜:37030002:2028-06-30",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let year = json(&home, &["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    anjian(&home, &["numbers", "add-block", "record", &year, "1", "9"]);
    anjian(&home, &["numbers", "add-block", "order", &year, "1", "9"]);
    let template = json(&home, &["template", "show", "trade-enforcement"]);
    for item in template["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["required"] == true)
    {
        let value = match item["kind"].as_str().unwrap() {
            "measure" => item["min"]
                .as_f64()
                .or(item["max"].as_f64())
                .unwrap()
                .to_string(),
            "text" => "已记录".to_string(),
            _ => "na".to_string(),
        };
        anjian(
            &home,
            &[
                "inspect",
                "answer",
                &id,
                item["code"].as_str().unwrap(),
                &value,
            ],
        );
    }
    anjian(
        &home,
        &[
            "inspect",
            "answer",
            &id,
            "IT-002",
            "fail",
            "--note",
            "二号车间焊工无证上岗（GB 30871-2022 第5.3条）",
            "--deadline",
            "2099-12-05",
        ],
    );
    anjian(
        &home,
        &[
            "inspect",
            "answer",
            &id,
            "IT-013",
            "fail",
            "--deadline",
            "2099-12-20",
        ],
    );
    anjian(&home, &["doc", "issue", &id, "--type", "record"]);

    let text_file = dir.path().join("order.txt");
    let rendered = json(
        &home,
        &[
            "doc",
            "render",
            &id,
            "--type",
            "order",
            "--format",
            "text",
            "--out",
            text_file.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&text_file).unwrap();
    let number = rendered["number"].as_str().unwrap();
    let encoded_number: String = number
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let qr = format!(
        "anjian:doc?no={encoded_number}&rec={id}&sha256={}",
        rendered["content_hash"].as_str().unwrap()
    );

    for (width, dots, copies) in [("58", 384, 2), ("80", 576, 2), ("112", 832, 1)] {
        let job = dir.path().join(format!("order-{width}.bin"));
        let printed = json(
            &home,
            &[
                "doc",
                "render",
                &id,
                "--type",
                "order",
                "--format",
                "escpos",
                "--width",
                width,
                "--copies",
                &copies.to_string(),
                "--out",
                job.to_str().unwrap(),
            ],
        );
        assert_eq!(
            printed["number"], number,
            "the number does not change between renderings"
        );
        let expected = dir.path().join(format!("expected-{width}.json"));
        let labels = ["第一联 执法机关存档", "第二联 交被检查单位"];
        std::fs::write(
            &expected,
            json!({ "copies": copies, "lines": expected_lines(&text), "copy_labels": labels, "qr": qr }).to_string(),
        )
        .unwrap();
        let out = Command::new(&python)
            .arg(DECODER)
            .arg(&job)
            .arg(dots.to_string())
            .arg(&expected)
            .arg(dir.path().join(format!("png-{width}")))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{width} mm: {report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["receipts"][0]["width_dots"], dots);
    }
}

#[test]
fn a_character_outside_the_printer_font_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("device");
    anjian(
        &home,
        &[
            "init",
            "--name",
            "张伟",
            "--cert",
            "37030001",
            "--cert-valid-until",
            "2028-12-31",
            "--agency",
            AGENCY,
        ],
    );
    anjian(&home, &["enterprise", "import", DEMO_CSV]);
    let id = json(
        &home,
        &[
            "inspect",
            "start",
            "--enterprise",
            "913703030226339277",
            "--template",
            "trade-enforcement",
            "--with",
            "𠀀工:37030002:2028-06-30",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let year = json(&home, &["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    anjian(&home, &["numbers", "add-block", "record", &year, "1", "9"]);
    let template = json(&home, &["template", "show", "trade-enforcement"]);
    for item in template["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["required"] == true)
    {
        let value = match item["kind"].as_str().unwrap() {
            "measure" => item["min"]
                .as_f64()
                .or(item["max"].as_f64())
                .unwrap()
                .to_string(),
            "text" => "已记录".to_string(),
            _ => "pass".to_string(),
        };
        anjian(
            &home,
            &[
                "inspect",
                "answer",
                &id,
                item["code"].as_str().unwrap(),
                &value,
            ],
        );
    }
    let job = dir.path().join("record.bin");
    let out = Command::new(env!("CARGO_BIN_EXE_anjian"))
        .arg("--home")
        .arg(&home)
        .args([
            "doc",
            "render",
            &id,
            "--type",
            "record",
            "--format",
            "escpos",
            "--out",
            job.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("𠀀") && stderr.contains("GBK"), "{stderr}");
    assert!(
        !job.exists(),
        "nothing is written for a job that cannot print"
    );
}

mod fake_printer {
    use std::io::Read;
    use std::net::TcpListener;
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// What the fake printer does with a connection.
    #[derive(Clone, Copy)]
    pub enum Behaviour {
        /// Reads everything.
        Healthy,
        /// Reads this many bytes, stops reading for a while (out of paper, cooling), then
        /// reads the rest.
        StallsAfter(usize, Duration),
        /// Reads this many bytes, then hangs up.
        ClosesAfter(usize),
    }

    /// A printer on 127.0.0.1 that serves one connection and returns the bytes it received.
    pub fn start(behaviour: Behaviour) -> (String, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("tcp://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut received = Vec::new();
            let mut buffer = [0u8; 97];
            loop {
                let limit = match behaviour {
                    Behaviour::ClosesAfter(n) if received.len() >= n => return received,
                    Behaviour::ClosesAfter(n) => (n - received.len()).min(buffer.len()),
                    _ => buffer.len(),
                };
                if let Behaviour::StallsAfter(n, pause) = behaviour
                    && received.len() >= n
                    && received.len() < n + buffer.len()
                {
                    std::thread::sleep(pause);
                }
                match stream.read(&mut buffer[..limit]) {
                    Ok(0) => return received,
                    Ok(read) => received.extend_from_slice(&buffer[..read]),
                    Err(e) => panic!("fake printer: {e}"),
                }
            }
        });
        (address, handle)
    }
}

/// A device with one complete inspection and a record-number block; returns (home, id).
fn device_with_inspection(dir: &Path) -> (std::path::PathBuf, String) {
    let home = dir.join("device");
    anjian(
        &home,
        &[
            "init",
            "--name",
            "张伟",
            "--cert",
            "37030001",
            "--cert-valid-until",
            "2028-12-31",
            "--agency",
            AGENCY,
        ],
    );
    anjian(&home, &["enterprise", "import", DEMO_CSV]);
    let id = json(
        &home,
        &[
            "inspect",
            "start",
            "--enterprise",
            "913703030226339277",
            "--template",
            "trade-enforcement",
            "--with",
            "李娜:37030002:2028-06-30",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let year = json(&home, &["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    anjian(&home, &["numbers", "add-block", "record", &year, "1", "9"]);
    let template = json(&home, &["template", "show", "trade-enforcement"]);
    for item in template["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["required"] == true)
    {
        let value = match item["kind"].as_str().unwrap() {
            "measure" => item["min"]
                .as_f64()
                .or(item["max"].as_f64())
                .unwrap()
                .to_string(),
            "text" => "已记录".to_string(),
            _ => "pass".to_string(),
        };
        anjian(
            &home,
            &[
                "inspect",
                "answer",
                &id,
                item["code"].as_str().unwrap(),
                &value,
            ],
        );
    }
    (home, id)
}

fn print(home: &Path, id: &str, printer: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anjian"))
        .arg("--home")
        .arg(home)
        .args([
            "print",
            id,
            "--type",
            "record",
            "--printer",
            printer,
            "--width",
            "80",
            "--chunk",
            "128",
            "--pause-ms",
            "2",
            "--json",
        ])
        .output()
        .unwrap()
}

#[test]
fn a_fake_tcp_printer_receives_the_job_byte_for_byte_even_after_a_stall_or_a_hang_up() {
    use fake_printer::Behaviour;
    let dir = tempfile::tempdir().unwrap();
    let (home, id) = device_with_inspection(dir.path());
    let job_file = dir.path().join("job.bin");
    anjian(
        &home,
        &[
            "doc",
            "render",
            &id,
            "--type",
            "record",
            "--format",
            "escpos",
            "--width",
            "80",
            "--out",
            job_file.to_str().unwrap(),
        ],
    );
    let job = std::fs::read(&job_file).unwrap();

    let (address, printer) = fake_printer::start(Behaviour::Healthy);
    let out = print(&home, &id, &address);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["bytes"], job.len());
    assert!(report["chunks"].as_u64().unwrap() >= (job.len() / 128) as u64);
    assert_eq!(
        printer.join().unwrap(),
        job,
        "healthy printer got the job byte for byte"
    );

    let (address, printer) = fake_printer::start(Behaviour::StallsAfter(
        1000,
        std::time::Duration::from_millis(1500),
    ));
    let out = print(&home, &id, &address);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        printer.join().unwrap(),
        job,
        "a stalled printer that resumes gets everything"
    );

    let (address, printer) = fake_printer::start(Behaviour::ClosesAfter(700));
    let out = print(&home, &id, &address);
    assert!(!out.status.success(), "a hang-up mid-job is an error");
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["code"], "printer");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("可重新打印")
    );
    assert_eq!(printer.join().unwrap(), job[..700]);

    // Sent again, the same job arrives whole, with the same number.
    let (address, printer) = fake_printer::start(Behaviour::Healthy);
    assert!(print(&home, &id, &address).status.success());
    assert_eq!(printer.join().unwrap(), job);
}

#[test]
fn printing_to_nowhere_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (home, id) = device_with_inspection(dir.path());
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = print(&home, &id, &format!("tcp://{closed}"));
    assert!(!out.status.success());
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["code"], "printer");
    let out = print(&home, &id, "bluetooth:printer");
    let error: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["error"]["code"], "invalid_input");

    // A device file receives the job as the printer would.
    let device_file = dir.path().join("rfcomm0");
    std::fs::write(&device_file, b"").unwrap();
    let out = print(&home, &id, &format!("file:{}", device_file.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        std::fs::metadata(&device_file).unwrap().len(),
        report["bytes"].as_u64().unwrap()
    );
}
