//! Documents as they leave the device, checked by independent tools: thermal-printer jobs are
//! rendered by the emupos emulator (Python, `tests/escpos/decode.py`), their Chinese recovered
//! and compared with the document, their QR codes read back by zbarimg; PDFs are read back by
//! poppler (pdftotext, pdffonts, pdfinfo, pdftoppm); printer links are exercised against a fake
//! TCP printer. `scripts/test.sh` prepares the decoder and sets ANJIAN_TEST_PYTHON.
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
        } else if let Some(at) = line
            .find("。违反了")
            .or_else(|| line.find("。不符合"))
            .filter(|_| line.ends_with("的规定。"))
        {
            // The finding, then the provisions it breaches on a line of their own.
            let (finding, basis) = line.split_at(at + '。'.len_utf8());
            lines.push(finding.to_string());
            lines.push(basis.to_string());
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

/// A device for 张伟 (agency `agency`, the demo enterprises) with one inspection of the
/// factory by 张伟 and `colleague` (NAME:CERT:VALID_UNTIL), every required item answered (check
/// items with `check`), and number blocks for `blocks` in the inspection's year.
/// Returns the record id.
fn factory_inspection(
    home: &Path,
    agency: &str,
    colleague: &str,
    check: &str,
    blocks: &[&str],
) -> String {
    anjian(
        home,
        &[
            "init",
            "--name",
            "张伟",
            "--cert",
            "37030001",
            "--cert-valid-until",
            "2028-12-31",
            "--agency",
            agency,
        ],
    );
    anjian(home, &["enterprise", "import", DEMO_CSV]);
    let id = json(
        home,
        &[
            "inspect",
            "start",
            "--enterprise",
            "913703030226339277",
            "--template",
            "trade-enforcement",
            "--with",
            colleague,
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let year = json(home, &["inspect", "show", &id])["started_at"]
        .as_str()
        .unwrap()[..4]
        .to_string();
    for doc_type in blocks {
        anjian(home, &["numbers", "add-block", doc_type, &year, "1", "9"]);
    }
    let template = json(home, &["template", "show", "trade-enforcement"]);
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
            _ => check.to_string(),
        };
        anjian(
            home,
            &[
                "inspect",
                "answer",
                &id,
                item["code"].as_str().unwrap(),
                &value,
            ],
        );
    }
    id
}

#[test]
fn printed_orders_decode_to_the_document_on_every_paper_width() {
    let python = decoder();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("device");
    let id = factory_inspection(
        &home,
        AGENCY,
        "李娜:37030002:2028-06-30",
        "na",
        &["record", "order"],
    );
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
    let qr = qr_payload_of(&rendered, &id, "order");

    // The last job reprints the enterprise's copy alone, labelled as that copy.
    for (width, dots, copies, reprint) in [
        ("58", 384, 2, None),
        ("80", 576, 2, None),
        ("112", 832, 1, None),
        ("58", 384, 2, Some(2)),
    ] {
        let name = format!(
            "{width}{}",
            reprint.map_or(String::new(), |c| format!("-copy{c}"))
        );
        let job = dir.path().join(format!("order-{name}.bin"));
        let mut args = vec![
            "doc".to_string(),
            "render".into(),
            id.clone(),
            "--type".into(),
            "order".into(),
            "--format".into(),
            "escpos".into(),
            "--width".into(),
            width.into(),
            "--copies".into(),
            copies.to_string(),
            "--out".into(),
            job.to_str().unwrap().into(),
        ];
        if let Some(copy) = reprint {
            args.extend(["--reprint-copy".to_string(), copy.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let printed = json(&home, &args);
        assert_eq!(
            printed["number"], number,
            "the number does not change between renderings"
        );
        let expected = dir.path().join(format!("expected-{name}.json"));
        let (printed_copies, labels) = match reprint {
            None => (copies, vec!["第一联 执法机关存档", "第二联 交被检查单位"]),
            Some(_) => (1, vec!["第二联 交被检查单位"]),
        };
        std::fs::write(
            &expected,
            json!({ "copies": printed_copies, "lines": expected_lines(&text), "copy_labels": labels, "qr": qr }).to_string(),
        )
        .unwrap();
        let out = Command::new(&python)
            .arg(DECODER)
            .arg(&job)
            .arg(dots.to_string())
            .arg(&expected)
            .arg(dir.path().join(format!("png-{name}")))
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
fn lines_outside_the_printer_font_and_raster_jobs_print_as_images() {
    let python = decoder();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("device");
    // 龦 (U+9FA6) is outside GBK, so outside the printers' own font.
    let id = factory_inspection(
        &home,
        AGENCY,
        "龦工:37030002:2028-06-30",
        "pass",
        &["record"],
    );
    let text_file = dir.path().join("record.txt");
    let rendered = json(
        &home,
        &[
            "doc",
            "render",
            &id,
            "--type",
            "record",
            "--format",
            "text",
            "--out",
            text_file.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&text_file).unwrap();
    let qr = qr_payload_of(&rendered, &id, "record");

    for (raster, label) in [(false, "mixed"), (true, "raster")] {
        let job = dir.path().join(format!("record-{label}.bin"));
        let mut args = vec![
            "doc",
            "render",
            &id,
            "--type",
            "record",
            "--format",
            "escpos",
            "--width",
            "80",
            "--copies",
            "1",
            "--out",
            job.to_str().unwrap(),
        ];
        if raster {
            args.push("--raster");
        }
        json(&home, &args);
        let bytes = std::fs::read(&job).unwrap();
        let images = bytes
            .windows(3)
            .filter(|w| w == &[0x1d, b'v', b'0'])
            .count();
        // Text mode: only what the printer's font lacks is an image; raster mode: every line.
        let expected: Vec<String> = if raster {
            vec![]
        } else {
            expected_lines(&text)
                .into_iter()
                .filter(|l| !l.contains('龦'))
                .collect()
        };
        if raster {
            assert!(images > 20, "{images} raster lines");
            assert!(
                !bytes.windows(2).any(|w| w == [0x1c, b'&']),
                "no text-mode Chinese in a raster job"
            );
        } else {
            assert!((1..=4).contains(&images), "{images} raster lines");
        }
        let spec = dir.path().join(format!("expected-{label}.json"));
        std::fs::write(
            &spec,
            json!({ "copies": 1, "lines": expected, "copy_labels": if raster { json!([""]) } else { json!(["第一联 执法机关存档"]) }, "qr": qr }).to_string(),
        )
        .unwrap();
        let out = Command::new(&python)
            .arg(DECODER)
            .arg(&job)
            .arg("576")
            .arg(&spec)
            .arg(dir.path().join(format!("png-{label}")))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The QR payload the printout must carry for a rendered document: the agency's verification
/// address for it, which any phone opens.
fn qr_payload_of(rendered: &Value, id: &str, doc_type: &str) -> String {
    format!(
        "https://aqjg.example.gov.cn/v/{id}?t={doc_type}&h={}",
        rendered["content_hash"].as_str().unwrap()
    )
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
    let id = factory_inspection(
        &home,
        AGENCY,
        "李娜:37030002:2028-06-30",
        "pass",
        &["record"],
    );
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

/// Text poppler extracts from a PDF, without the running heads and feet of each page.
fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.trim_start_matches('\u{c}'))
        .filter(|l| {
            // The folio, 共 N 页 第 M 页 (poppler drops the spaces between CJK).
            let folio = l.starts_with('共') && l.ends_with('页') && squeeze(l).contains("页第");
            let running =
                l.contains("（续页）") || l.starts_with("记录 ") || l.starts_with("本文书一式两份");
            !(folio || running)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect()
}

#[test]
fn pdfs_read_back_with_every_field_a_subset_font_and_continuation_pages() {
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
            "913703050534640908",
            "--template",
            "hazchem-enforcement",
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
    for doc_type in ["record", "order"] {
        anjian(&home, &["numbers", "add-block", doc_type, &year, "1", "9"]);
    }
    // Twenty findings: more than one page.
    let template = json(&home, &["template", "show", "hazchem-enforcement"]);
    let mut failed = 0;
    for item in template["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["required"] == true)
    {
        let code = item["code"].as_str().unwrap();
        match item["kind"].as_str().unwrap() {
            "check" if failed < 20 => {
                failed += 1;
                let deadline = format!("2099-{:02}-01", 1 + failed % 3);
                anjian(
                    &home,
                    &[
                        "inspect",
                        "answer",
                        &id,
                        code,
                        "fail",
                        "--note",
                        &format!("现场第{failed}处，见照片"),
                        "--deadline",
                        &deadline,
                    ],
                );
            }
            "check" => {
                anjian(&home, &["inspect", "answer", &id, code, "pass"]);
            }
            "measure" => {
                let value = item["min"]
                    .as_f64()
                    .or(item["max"].as_f64())
                    .unwrap()
                    .to_string();
                anjian(&home, &["inspect", "answer", &id, code, &value]);
            }
            _ => {
                anjian(&home, &["inspect", "answer", &id, code, "已记录"]);
            }
        }
    }

    for doc_type in ["record", "order"] {
        let text_file = dir.path().join(format!("{doc_type}.txt"));
        let pdf = dir.path().join(format!("{doc_type}.pdf"));
        anjian(
            &home,
            &[
                "doc",
                "render",
                &id,
                "--type",
                doc_type,
                "--format",
                "text",
                "--out",
                text_file.to_str().unwrap(),
            ],
        );
        let rendered = json(
            &home,
            &[
                "doc",
                "render",
                &id,
                "--type",
                doc_type,
                "--format",
                "pdf",
                "--out",
                pdf.to_str().unwrap(),
            ],
        );
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        assert!(
            bytes.len() < 300 * 1024,
            "{doc_type}: {} bytes",
            bytes.len()
        );
        assert_eq!(rendered["bytes"], bytes.len());

        // Every line of the document, with its Chinese exact, is in the PDF's text.
        let extracted = squeeze(&pdf_text(&pdf));
        let text = std::fs::read_to_string(&text_file).unwrap();
        let footer = text.lines().last().unwrap();
        assert!(footer.starts_with("本文书一式两份："), "{footer}");
        for line in expected_lines(&text).iter().filter(|l| *l != footer) {
            assert!(
                extracted.contains(&squeeze(line)),
                "{doc_type}: {line:?} not in the PDF text:\n{extracted}"
            );
        }

        // The font is embedded as a subset (a tag such as ABCDEF+ before its name).
        let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
        let fonts = String::from_utf8(fonts.stdout).unwrap();
        let row = fonts
            .lines()
            .find(|l| l.contains("WenQuanYi"))
            .unwrap_or_else(|| panic!("{fonts}"));
        let columns: Vec<&str> = row.split_whitespace().collect();
        assert!(columns[0].chars().nth(6) == Some('+'), "{row}");
        assert!(
            row.contains("yes yes yes"),
            "embedded, subset, with a ToUnicode map: {row}"
        );

        // The pages render.
        let info =
            String::from_utf8(Command::new("pdfinfo").arg(&pdf).output().unwrap().stdout).unwrap();
        let pages: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let raw = Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let raw = String::from_utf8_lossy(&raw.stdout).to_string();
        if doc_type == "order" {
            assert!(pages >= 2, "twenty findings continue on a second page");
            assert!(raw.contains("（续页）"));
        }
        // The set's footer and the page count on every page.
        assert_eq!(raw.matches(footer).count(), pages, "{raw}");
        assert!(
            squeeze(&raw).contains(&format!("共{pages}页第{pages}页")),
            "{raw}"
        );
        // Metadata: the title is the document's name and number, the dates its issue time,
        // and it is no PDF/X.
        assert!(!info.contains("PDF/X") && !info.contains("GTS"), "{info}");
        let title = info
            .lines()
            .find_map(|l| l.strip_prefix("Title:"))
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(
            title,
            format!(
                "{} {}",
                if doc_type == "order" {
                    "责令限期整改指令书"
                } else {
                    "现场检查记录"
                },
                rendered["number"].as_str().unwrap()
            )
        );
        let created = info
            .lines()
            .find_map(|l| l.strip_prefix("CreationDate:"))
            .unwrap()
            .trim()
            .to_string();
        assert!(!created.contains("1970"), "{info}");
        assert!(created.contains(&year), "{info}");
        let prefix = dir.path().join(format!("{doc_type}-page"));
        let rendered_pages = Command::new("pdftoppm")
            .args(["-r", "40", "-png"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(rendered_pages.success());
        let pngs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{doc_type}-page"))
            })
            .count();
        assert_eq!(pngs, pages);

        // The first page's QR code holds the document's verification address: zbar reads it
        // from the page image, as a phone reads it from paper.
        let first_page = dir.path().join(format!("{doc_type}-qr"));
        assert!(
            Command::new("pdftoppm")
                .args(["-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile"])
                .arg(&pdf)
                .arg(&first_page)
                .status()
                .unwrap()
                .success()
        );
        let scanned = Command::new("zbarimg")
            .args(["--raw", "-q"])
            .arg(first_page.with_extension("png"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&scanned.stdout).trim(),
            qr_payload_of(&rendered, &id, doc_type),
            "{}",
            String::from_utf8_lossy(&scanned.stderr)
        );
    }
}

#[test]
fn the_agency_seal_goes_onto_pdf_orders_and_a_bad_seal_is_refused() {
    let python = decoder();
    let dir = tempfile::tempdir().unwrap();
    let agency_dir = dir.path().join("agency");
    std::fs::create_dir_all(&agency_dir).unwrap();
    let seal = agency_dir.join("seal.png");
    let made = Command::new(&python)
        .args(["-c", "import sys; from PIL import Image, ImageDraw; i = Image.new('RGBA', (300, 300), (0, 0, 0, 0)); ImageDraw.Draw(i).ellipse((10, 10, 290, 290), outline=(200, 0, 0, 255), width=12); i.save(sys.argv[1])"])
        .arg(&seal)
        .status()
        .unwrap();
    assert!(made.success());
    let agency = agency_dir.join("agency.toml");
    let config = std::fs::read_to_string(AGENCY)
        .unwrap()
        .replace("# seal = \"seal.png\"", "seal = \"seal.png\"");
    assert!(config.contains("\nseal = "));
    std::fs::write(&agency, &config).unwrap();

    let home = dir.path().join("device");
    // A seal that is not a PNG is refused and the profile stays as it was.
    std::fs::write(agency_dir.join("broken.png"), b"not an image").unwrap();
    let broken = agency_dir.join("broken.toml");
    std::fs::write(
        &broken,
        config.replace("seal = \"seal.png\"", "seal = \"broken.png\""),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anjian"))
        .arg("--home")
        .arg(&home)
        .args([
            "init",
            "--name",
            "张伟",
            "--cert",
            "37030001",
            "--agency",
            broken.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("印章图片无效"));
    assert!(
        json(&home, &["enterprise", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    let id = factory_inspection(
        &home,
        agency.to_str().unwrap(),
        "李娜:37030002:2028-06-30",
        "pass",
        &["record", "order"],
    );
    anjian(
        &home,
        &[
            "inspect",
            "answer",
            &id,
            "IT-002",
            "fail",
            "--deadline",
            "2099-12-05",
        ],
    );
    anjian(&home, &["doc", "issue", &id, "--type", "record"]);
    let pdf = dir.path().join("order.pdf");
    anjian(
        &home,
        &[
            "doc",
            "render",
            &id,
            "--type",
            "order",
            "--format",
            "pdf",
            "--out",
            pdf.to_str().unwrap(),
        ],
    );
    let images = Command::new("pdfimages")
        .arg("-list")
        .arg(&pdf)
        .output()
        .unwrap();
    let listing = String::from_utf8(images.stdout).unwrap();
    let rows: Vec<&str> = listing.lines().skip(2).collect();
    assert!(
        rows.iter()
            .any(|r| r.contains(" image ") && r.contains("300   300")),
        "{listing}"
    );
}
