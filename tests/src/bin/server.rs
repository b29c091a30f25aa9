//! The real `anjian-server`, built inside the end-to-end test package so that its tests can
//! start it as a process (and kill it).
fn main() -> std::process::ExitCode {
    anjian_server::cli::main()
}
