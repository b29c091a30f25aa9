fn main() -> std::process::ExitCode {
    anjian_server::cli::main()
}
