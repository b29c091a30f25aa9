//! Every download of the review pages: the file names it carries, and each workbook as
//! LibreOffice prints it (landscape, one page wide, the header row on every page).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anjian_e2e::{PASSWORD, Server};
use anjian_server::keys::FirstStart;
use anjian_server::seed::Scale;
use anjian_server::state::AppState;
use anjian_server::store::Store;
use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::CONTENT_DISPOSITION;
use serde_json::Value;

use crate::review::Browser;

/// Every export of the review pages: the page (as a city supervisor opens it), the ASCII
/// fallback name of its files, and the start of their UTF-8 name.
const EXPORTS: &[(&str, &str, &str)] = &[
    (
        "/review/analyses/hazards?by=town",
        "hazards-by-town",
        "隐患统计（按乡镇（街道），全部时间）",
    ),
    (
        "/review/analyses/self-inspections",
        "monthly-self-checks",
        "企业月度自查上报情况",
    ),
    (
        "/review/analyses/public",
        "hotline-and-mailbox",
        "12350热线与局长信箱",
    ),
    (
        "/review/analyses/attendance",
        "duty-attendance",
        "带班到岗率（按行业、月份）",
    ),
    (
        "/review/analyses/coverage",
        "inspection-coverage",
        "检查覆盖率",
    ),
    ("/review/analyses/grading", "town-grading", "乡镇分级"),
    ("/review/analyses/certificates", "certificates", "持证情况"),
    (
        "/review/analyses/permits",
        "permit-overdue-rates",
        "许可证逾期率",
    ),
    ("/review/hazards", "hazard-tracking", "隐患整改跟踪"),
];

fn with_format(page: &str, format: &str) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}format={format}")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            out.push(u8::from_str_radix(&text[at + 1..at + 3], 16).unwrap());
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn every_download_has_a_utf8_name_and_an_ascii_fallback_with_its_extension() {
    let server = Server::start();
    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);
    for (page, ascii, name) in EXPORTS {
        for extension in ["csv", "xlsx"] {
            let path = with_format(page, extension);
            let (status, headers, _) = city.get_bytes(&path);
            assert_eq!(status, StatusCode::OK, "{path}");
            let disposition = headers
                .get(CONTENT_DISPOSITION)
                .unwrap_or_else(|| panic!("{path} has no Content-Disposition"))
                .to_str()
                .unwrap();
            let parts: Vec<&str> = disposition.split("; ").collect();
            assert_eq!(parts.len(), 3, "{path}: {disposition}");
            assert_eq!(parts[0], "attachment", "{path}");
            assert_eq!(
                parts[1],
                format!("filename=\"{ascii}.{extension}\""),
                "{path}"
            );
            let encoded = parts[2]
                .strip_prefix("filename*=UTF-8''")
                .unwrap_or_else(|| panic!("{path}: {disposition}"));
            // RFC 5987: only attr-chars travel unencoded.
            assert!(
                encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"%!#$&+-.^_`|~".contains(&b)),
                "{path}: {encoded}"
            );
            let decoded = percent_decode(encoded);
            assert!(
                decoded.starts_with(name) && decoded.ends_with(&format!(".{extension}")),
                "{path}: {decoded}"
            );
        }
    }
}

/// A tool the export checks need, or a panic that says how to get it.
fn tool(name: &str, package: &str) -> String {
    // Whether it runs at all: pdfinfo answers --version with a non-zero status.
    let found = Command::new(name).arg("--version").output().is_ok();
    assert!(
        found,
        "{name} is needed to print the Excel exports: apt-get install {package} (scripts/test.sh \
         and .ci/run expect it)"
    );
    name.to_string()
}

/// The demo world with a year of history, as `serve --demo` loads it, every account with
/// [`PASSWORD`].
fn demo_server() -> Server {
    let data = tempfile::tempdir().unwrap();
    let store: Arc<Store> =
        Arc::new(Store::open_sqlite(&data.path().join(anjian_server::cli::SQLITE_FILE)).unwrap());
    let (keys, _) = anjian_server::keys::open(
        store.as_ref(),
        &data.path().join(anjian_server::keys::KEY_FILE),
        FirstStart::Generate,
    )
    .unwrap();
    anjian_server::seed::seed(
        &AppState::new(store.clone(), keys),
        Scale::Demo,
        PASSWORD,
        Utc::now(),
        &mut |_| {},
    )
    .unwrap();
    Server::start_with(store, data)
}

/// Each page of a PDF: its width and height in points, and its text without white space.
fn pdf_pages(pdf: &Path) -> Vec<(f64, f64, String)> {
    let info = Command::new("pdfinfo")
        .args(["-f", "1", "-l", "100000"])
        .arg(pdf)
        .output()
        .unwrap();
    assert!(info.status.success(), "pdfinfo {}", pdf.display());
    let info = String::from_utf8_lossy(&info.stdout);
    // "Page    1 size: 841.89 x 595.276 pts (A4)"
    let sizes: Vec<(f64, f64)> = info
        .lines()
        .filter(|line| line.starts_with("Page ") && line.contains(" size: "))
        .map(|line| {
            let size = line.split(" size: ").nth(1).unwrap();
            let mut numbers = size.split_whitespace();
            let width = numbers.next().unwrap().parse().unwrap();
            numbers.next();
            let height = numbers.next().unwrap().parse().unwrap();
            (width, height)
        })
        .collect();
    let text = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success(), "pdftotext {}", pdf.display());
    // pdftotext ends every page with a form feed.
    let text = String::from_utf8_lossy(&text.stdout);
    let pages: Vec<String> = text
        .split('\u{c}')
        .take(sizes.len())
        .map(|page| page.chars().filter(|c| !c.is_whitespace()).collect())
        .collect();
    assert_eq!(pages.len(), sizes.len(), "{}", pdf.display());
    sizes
        .into_iter()
        .zip(pages)
        .map(|((width, height), text)| (width, height, text))
        .collect()
}

/// The column labels of each sheet, without white space, from the export's JSON form.
fn sheet_labels(tables: &Value) -> Vec<Vec<String>> {
    tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|table| {
            table["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|column| {
                    column["label"]
                        .as_str()
                        .unwrap()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[test]
fn libreoffice_prints_every_workbook_landscape_one_page_wide_with_its_header_on_each_page() {
    let soffice = tool("soffice", "libreoffice-calc-nogui");
    tool("pdfinfo", "poppler-utils");
    let server = demo_server();
    let mut city = Browser::new(&server.url);
    city.login("city", PASSWORD);

    let dir = tempfile::tempdir().unwrap();
    let mut workbooks: Vec<(PathBuf, Vec<Vec<String>>)> = Vec::new();
    for (page, ascii, _) in EXPORTS {
        let (status, _, bytes) = city.get_bytes(&with_format(page, "xlsx"));
        assert_eq!(status, StatusCode::OK, "{page}");
        let (status, _, json) = city.get(&with_format(page, "json"));
        assert_eq!(status, StatusCode::OK, "{page}: {json}");
        let labels = sheet_labels(&serde_json::from_str(&json).unwrap());
        let path = dir.path().join(format!("{ascii}.xlsx"));
        std::fs::write(&path, bytes).unwrap();
        workbooks.push((path, labels));
    }

    // A profile of its own, so that parallel runs (and a desktop LibreOffice) do not share
    // one; a single process converts every workbook.
    let profile = dir.path().join("profile");
    let out = Command::new(&soffice)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .args(workbooks.iter().map(|(path, _)| path))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "soffice failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    for (workbook, sheets) in &workbooks {
        let pdf = workbook.with_extension("pdf");
        assert!(pdf.exists(), "LibreOffice made no {}", pdf.display());
        let pages = pdf_pages(&pdf);
        let name = pdf.file_name().unwrap().to_string_lossy();
        assert!(pages.len() >= sheets.len(), "{name}: {} pages", pages.len());
        let mut printed = vec![false; sheets.len()];
        for (number, (width, height, text)) in pages.iter().enumerate() {
            let number = number + 1;
            assert!(
                width > height,
                "{name}: page {number} is {width}×{height} pt, not landscape"
            );
            // One page wide and the header row repeated: every page shows every column
            // label of its sheet. A sheet cut into page columns would lose some on each.
            let sheet = sheets
                .iter()
                .position(|labels| labels.iter().all(|label| text.contains(label.as_str())));
            let Some(sheet) = sheet else {
                panic!("{name}: page {number} lacks column labels of every sheet: {text}");
            };
            printed[sheet] = true;
        }
        assert!(
            printed.iter().all(|&p| p),
            "{name}: some sheet is on no page"
        );
    }
}
