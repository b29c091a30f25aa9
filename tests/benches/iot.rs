//! IoT intake throughput: `anjian-simulate-iot`'s traffic (the demo world's 12
//! enterprises, 26 devices, 30 days of events up to now: rain gauges every minute, alarm
//! floods, shifts, detections, with wrong clocks, gaps and resends, batches out of order and
//! malformed batches) posted to the real server on a fresh SQLite store, at several batch
//! sizes. The simulator runs in the same process, so both share the machine's cores, and the
//! CPU figure is the two together.
//!
//! ```text
//! cargo bench -p anjian-e2e --bench iot                     # SQLite
//! ANJIAN_TEST_POSTGRES=postgresql://… cargo bench -p anjian-e2e --bench iot   # and PostgreSQL
//! ```
//!
//! Results are in `docs/benchmarks.md`.
#![allow(clippy::unwrap_used)] // a benchmark: a panic is the failure report

use anjian_e2e::{PASSWORD, PostgresDatabase, Server, block_on, cpu_seconds};
use anjian_simulate_iot::{SimulateOptions, run};

const HOURS: u32 = 720;

fn main() {
    let mut backends = vec!["SQLite"];
    if std::env::var_os("ANJIAN_TEST_POSTGRES").is_some() {
        backends.push("PostgreSQL");
    }
    println!(
        "| backend | batch | concurrency | events | sent | seconds | events/s | CPU µs/event |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for backend in backends {
        for (batch, concurrency) in [(10, 4), (100, 1), (100, 4), (500, 4)] {
            let database = (backend == "PostgreSQL").then(|| PostgresDatabase::create("iot"));
            let server = match &database {
                Some(database) => Server::start_postgres(database),
                None => Server::start(),
            };
            let options = SimulateOptions {
                server: server.url.clone(),
                enterprises: 12,
                hours: HOURS,
                login: "admin".into(),
                password: PASSWORD.into(),
                batch,
                concurrency,
                seed: 1,
            };
            let cpu_before = cpu_seconds();
            let report = block_on(run(&options)).unwrap();
            let cpu = cpu_seconds() - cpu_before;
            assert_eq!(report.stored, report.events, "every event stored once");
            assert_eq!(report.conflicts, 0);
            println!(
                "| {backend} | {batch} | {concurrency} | {} | {} | {:.1} | {:.0} | {:.0} |",
                report.events,
                report.events_sent,
                report.seconds,
                report.events_per_second(),
                cpu * 1e6 / report.events_sent as f64,
            );
        }
    }
}
