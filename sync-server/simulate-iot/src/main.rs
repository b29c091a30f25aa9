//! `anjian-simulate-iot`: sends realistic IoT traffic to a running server. It registers
//! devices at the first N mines and plants of the server's register as the administrator,
//! then posts H hours of their events up to now as fast as the server takes them, with wrong
//! clocks, gaps and resends, batches out of order and malformed batches, and reports events
//! per second. It fails unless every event was stored exactly once.

use std::path::PathBuf;
use std::process::ExitCode;

use anjian_simulate_iot::{SimulateOptions, run};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "anjian-simulate-iot", version, about)]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    server: String,
    #[arg(long, default_value_t = 20)]
    enterprises: usize,
    #[arg(long, default_value_t = 24)]
    hours: u32,
    /// The administrator account to register devices with.
    #[arg(long, default_value = "admin")]
    login: String,
    /// Its password (first line): the server's initial-admin-password.txt by default.
    #[arg(long, default_value = "anjian-data/initial-admin-password.txt")]
    password_file: PathBuf,
    /// Events per batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Devices sending at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    match simulate(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("错误：{message}");
            ExitCode::FAILURE
        }
    }
}

fn simulate(args: Args) -> Result<(), String> {
    let password = std::fs::read_to_string(&args.password_file)
        .map_err(|e| format!("无法读取密码文件 {}：{e}", args.password_file.display()))?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let options = SimulateOptions {
        server: args.server,
        enterprises: args.enterprises,
        hours: args.hours,
        login: args.login,
        password,
        batch: args.batch,
        concurrency: args.concurrency,
        seed: args.seed,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("无法启动运行时：{e}"))?;
    let report = runtime.block_on(run(&options))?;
    let devices: Vec<String> = report
        .devices
        .iter()
        .map(|(kind, n)| format!("{}{n}台", kind.label()))
        .collect();
    println!(
        "模拟设备：{}；{} 小时的事件 {} 个",
        devices.join("，"),
        options.hours,
        report.events
    );
    println!(
        "发送批次 {}（事件 {}，含重发），新保存 {}，重发重复 {}，冲突 {}；故意发送的错误批次 {} 个均被拒收；触发警报 {} 条",
        report.batches,
        report.events_sent,
        report.stored,
        report.duplicates,
        report.conflicts,
        report.refused_as_planned,
        report.alerts
    );
    println!(
        "用时 {:.1} 秒，每秒保存 {:.0} 个事件",
        report.seconds,
        report.events_per_second()
    );
    if report.stored != report.events || report.conflicts != 0 {
        return Err(format!(
            "应保存 {} 个事件各一次，实际新保存 {}、冲突 {}",
            report.events, report.stored, report.conflicts
        ));
    }
    Ok(())
}
