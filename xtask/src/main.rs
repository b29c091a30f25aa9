//! `cargo xtask …`: the build steps that are more than one cargo command.
//!
//! - `bindings`: builds the host library (`libanjian_ffi.so`) and generates its
//!   Kotlin bindings, with the generator of the same UniFFI version, into
//!   `<target>/bindings/kotlin`. Bindings are generated, never committed.
//! - `jvm-test`: the bindings, the server binary the JVM tests start, then the Kotlin tests
//!   (`android/jvm-tests`, JUnit through JNA against the real library) and the Android shell
//!   compiled against the Android framework jar with its JVM tests and its screens run under
//!   Robolectric (`android/app/pom.xml`; the CLI is built for their print comparison).
//! - `test`: every Rust test of the workspace, then `jvm-test`.
//! - `ffi-size`: the library in the `mobile` profile (the Android build's), stripped, and its
//!   size (`docs/benchmarks.md`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const LIBRARY: &str = "libanjian_ffi.so";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bindings") => bindings().map(|_| ()),
        Some("jvm-test") => jvm_test(),
        Some("test") => {
            run(Command::new(cargo()).args(["test", "--workspace"])).and_then(|()| jvm_test())
        }
        Some("ffi-size") => ffi_size(),
        _ => Err("usage: cargo xtask bindings | jvm-test | test | ffi-size".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn repo_root() -> PathBuf {
    // `cargo xtask` is `cargo run`, which names this package's folder at run time; the path
    // compiled in is the checkout that first built the binary, and a build folder reused by
    // another checkout (CI's cache) would otherwise run that checkout's tests.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// The target folder as cargo sees it (CI moves it outside the clone).
fn target_dir() -> Result<PathBuf, String> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata has no target_directory".into())
}

struct Bindings {
    kotlin: PathBuf,
    library_dir: PathBuf,
}

/// Builds the library and, in the same cargo run so that features unify once, the generator,
/// the server the JVM tests start and the CLI whose thermal job the shell's printing is
/// compared with; then generates the Kotlin bindings from the library.
fn bindings() -> Result<Bindings, String> {
    let target = target_dir()?;
    run(Command::new(cargo()).args([
        "build",
        "-p",
        "anjian-ffi",
        "-p",
        "uniffi-bindgen",
        "-p",
        "anjian-server",
        "-p",
        "anjian-cli",
    ]))?;
    let library_dir = target.join("debug");
    let library = library_dir.join(LIBRARY);
    let kotlin = target.join("bindings").join("kotlin");
    // Stale files of a renamed namespace must not linger beside the new ones.
    if kotlin.exists() {
        std::fs::remove_dir_all(&kotlin)
            .map_err(|e| format!("cannot clear {}: {e}", kotlin.display()))?;
    }
    // Run from the workspace: the generator finds ffi/uniffi.toml through cargo metadata.
    run(Command::new(target.join("debug").join("uniffi-bindgen"))
        .args(["generate", "--library"])
        .arg(&library)
        .args(["--language", "kotlin", "--no-format", "--out-dir"])
        .arg(&kotlin))?;
    println!("Kotlin bindings in {}", kotlin.display());
    Ok(Bindings {
        kotlin,
        library_dir,
    })
}

fn maven(pom: &str, bindings: &Bindings, extra: &[String]) -> Result<(), String> {
    let mut command = Command::new("mvn");
    command
        .args(["-B", "--no-transfer-progress", "-f", pom])
        .arg(format!("-Dbindings.dir={}", bindings.kotlin.display()))
        .arg(format!("-Dnative.dir={}", bindings.library_dir.display()))
        .args(extra)
        .arg("verify");
    run(&mut command)
}

fn jvm_test() -> Result<(), String> {
    let bindings = bindings()?;
    let server = bindings.library_dir.join("anjian-server");
    maven(
        "android/jvm-tests/pom.xml",
        &bindings,
        &[format!("-Danjian.server={}", server.display())],
    )?;
    // The shell's Robolectric tests sync with the server and print what the CLI renders.
    maven(
        "android/app/pom.xml",
        &bindings,
        &[
            format!("-Danjian.server={}", server.display()),
            format!(
                "-Danjian.cli={}",
                bindings.library_dir.join("anjian").display()
            ),
        ],
    )
}

fn ffi_size() -> Result<(), String> {
    // Alone, as the app build has it: no generator features unified into the library.
    run(Command::new(cargo()).args(["build", "--profile", "mobile", "-p", "anjian-ffi"]))?;
    let dir = target_dir()?.join("mobile");
    let library = dir.join(LIBRARY);
    let stripped = dir.join("libanjian_ffi.stripped.so");
    run(Command::new("strip")
        .arg("--strip-all")
        .arg(&library)
        .arg("-o")
        .arg(&stripped))?;
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let stripped_size = size(&stripped)?;
    println!(
        "{}: {} bytes; stripped: {stripped_size} bytes ({:.2} MB)",
        library.display(),
        size(&library)?,
        stripped_size as f64 / 1e6
    );
    Ok(())
}
