//! Running the real `reachguard` binary from the CLI's test binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the bundled examples' paths are relative to it).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `reachguard` with `args` in the repository root; on a failed assertion the caller
/// prints `describe(&output)`.
pub fn reachguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reachguard"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("the reachguard binary runs")
}

/// The command, its exit code and its output, for assertion messages.
pub fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "reachguard {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
