//! `anjian-server import` run as a process on a data directory: what it prints, its exit
//! status, and that a refused file leaves the database as it was.
#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::path::Path;
use std::process::{Command, Output};

const SERVER: &str = env!("CARGO_BIN_EXE_anjian-server");

const REGISTER: &str = "统一社会信用代码,单位名称,地址,行业,区划代码,法定代表人,联系电话
913703050534640908,淄博齐鲁石化助剂有限公司,淄博市临淄区齐鲁化学工业区清田路16号,危险化学品,370305003,王建国,0533-7512345
";

const PERMITS: &str = "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至
913703050534640908,安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2021-06-01,2024-05-31
913703050534640908,安全生产许可证,(鲁)WH安许证字〔2021〕030012号,山东省应急管理厅,2024-06-01,2027-05-31
";

/// The second row good, the third with a date as spreadsheets write it.
const BAD_PERMITS: &str = "统一社会信用代码,许可证类型,许可证编号,发证机关,有效期起,有效期至
913703050534640908,危险化学品经营许可证,鲁淄危化经字〔2023〕000158,淄博市应急管理局,2023-03-15,2026-03-14
913703050534640908,危险化学品登记证,370312345,应急管理部化学品登记中心,2023-01-01,2026/1/1
";

fn server(data: &Path, args: &[&str]) -> Output {
    Command::new(SERVER)
        .arg("--data")
        .arg(data)
        .args(args)
        // The command's own settings come from the arguments only.
        .env_remove("ANJIAN_DATA")
        .env_remove("ANJIAN_DATABASE_URL")
        .output()
        .unwrap()
}

fn succeeds(data: &Path, args: &[&str]) -> String {
    let output = server(data, args);
    assert!(
        output.status.success(),
        "anjian-server {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Registers the plant's DCS gateway.
const ADD_GATEWAY: [&str; 9] = [
    "device",
    "add",
    "DCS-01",
    "--kind",
    "dcs",
    "--enterprise",
    "913703050534640908",
    "--location",
    "中控室",
];

/// The city, the district and the town of the register's one enterprise.
fn add_regions(data: &Path) {
    for (code, name, parent) in [
        ("370300", "淄博市", None),
        ("370305", "临淄区", Some("370300")),
        ("370305003", "辛店街道", Some("370305")),
    ] {
        let mut args = vec!["region", "add", code, name];
        if let Some(parent) = parent {
            args.extend(["--parent", parent]);
        }
        succeeds(data, &args);
    }
}

#[test]
fn import_reports_what_it_stored_and_refuses_a_bad_file_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_regions(&data);
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let register = file("企业名录.csv", REGISTER);
    succeeds(&data, &["enterprise", "import", &register]);

    let permits = file("许可证.csv", PERMITS);
    assert_eq!(
        succeeds(&data, &["import", "permits", &permits]),
        "已导入许可证 2 条：新增 2，更新 0，未变 0\n"
    );
    assert_eq!(
        succeeds(&data, &["import", "permits", &permits]),
        "已导入许可证 2 条：新增 0，更新 0，未变 2\n"
    );

    let bad = file("许可证-有误.csv", BAD_PERMITS);
    let output = server(&data, &["import", "permits", &bad]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "错误：许可证文件 {bad} 第 3 行：有效期至 \"2026/1/1\" 应为 YYYY-MM-DD 格式的日期\
             （如 2024-03-05）（未导入任何数据）\n"
        )
    );
    // Not even the good second row of the refused file was stored: the corrected file adds
    // both its rows.
    let fixed = file(
        "许可证-已改.csv",
        &BAD_PERMITS.replace("2026/1/1", "2026-01-01"),
    );
    assert_eq!(
        succeeds(&data, &["import", "permits", &fixed]),
        "已导入许可证 2 条：新增 2，更新 0，未变 0\n"
    );

    // An unknown kind is refused by the argument parser, naming the kinds there are.
    let output = server(&data, &["import", "licences", &permits]);
    assert_eq!(output.status.code(), Some(2));
    let help = String::from_utf8(output.stderr).unwrap();
    assert!(
        help.contains("permits") && help.contains("attendance"),
        "{help}"
    );
}

#[test]
fn a_device_is_registered_with_a_key_shown_once_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_regions(&data);
    let register = dir.path().join("enterprises.csv");
    std::fs::write(&register, REGISTER).unwrap();
    succeeds(&data, &["enterprise", "import", register.to_str().unwrap()]);

    let added = succeeds(&data, &ADD_GATEWAY);
    assert!(added.contains("已登记DCS 报警网关 DCS-01"), "{added}");
    let key = added
        .lines()
        .find_map(|line| {
            line.split_once("：")
                .filter(|(label, _)| label.contains("设备密钥"))
        })
        .map(|(_, key)| key.trim().to_string())
        .unwrap();
    assert_eq!(key.len(), 64, "{added}");
    // Only the key's hash is kept.
    let database = std::fs::read(data.join("anjian-server.sqlite3")).unwrap();
    assert!(!database.windows(key.len()).any(|w| w == key.as_bytes()));

    let listed = succeeds(&data, &["device", "list"]);
    assert_eq!(listed, "DCS-01\tdcs\t913703050534640908\t中控室\t有效\n");
    let again = server(&data, &ADD_GATEWAY);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("设备编号 DCS-01 已登记"));
    let threshold = server(
        &data,
        &[
            "device",
            "add",
            "DCS-02",
            "--kind",
            "dcs",
            "--enterprise",
            "913703050534640908",
            "--location",
            "中控室",
            "--rain-threshold-mm",
            "40",
        ],
    );
    assert!(String::from_utf8_lossy(&threshold.stderr).contains("只有雨量计"));

    assert!(succeeds(&data, &["device", "revoke", "DCS-01"]).contains("已吊销"));
    assert!(succeeds(&data, &["device", "list"]).ends_with("\t已吊销\n"));
    let unknown = server(&data, &["device", "revoke", "DCS-99"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("设备 DCS-99 未登记"));

    // A bad rules file stops the server before it listens, naming the problem.
    let config = dir.path().join("iot.toml");
    std::fs::write(
        &config,
        anjian_server::iot::DEFAULT_CONFIG.replace("dry_minutes = 360", "dry_minutes = 0"),
    )
    .unwrap();
    let serve = server(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--iot-config",
            config.to_str().unwrap(),
        ],
    );
    assert!(!serve.status.success());
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(
        stderr.contains("iot.toml") && stderr.contains("dry_minutes"),
        "{stderr}"
    );
}
