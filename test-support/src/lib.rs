//! What the tests of every crate share without depending on the engine or the SDK.
//!
//! Some tests need what a clone elsewhere may not have: the team's reference material beside the
//! repository (`../shared/fixtures/`, `../shared/guide/`), or a program such as Chromium.
//! [`shared_folder`] and [`prerequisite`] let such a test skip with one line where it is missing,
//! and fail in CI, where `.ci/run` sets [`REQUIRE_SHARED`]`=1` because everything must be there.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that makes a missing `../shared/` folder (or other prerequisite) a
/// failure when it is `1`.
pub const REQUIRE_SHARED: &str = "REACHGUARD_CI";

/// `../shared/<relative>` beside the repository, when that folder exists.
///
/// When it does not: `None`, after one line on stderr naming the test and the folder — or, with
/// `REACHGUARD_CI=1`, a panic, so that CI cannot pass without reading it. The line is written to
/// the process's stderr directly: `eprintln!` would be captured, and hidden, for a passing test.
#[track_caller]
pub fn shared_folder(relative: &str) -> Option<PathBuf> {
    let required = std::env::var_os(REQUIRE_SHARED).is_some_and(|value| value == "1");
    match presence(&beside_repository(relative), required) {
        Presence::Present(folder) => Some(folder),
        Presence::Skip(line) => {
            let _ = writeln!(std::io::stderr(), "{line}");
            None
        }
        Presence::Missing(message) => panic!("{message}"),
    }
}

/// `found`, when the test's prerequisite was found. Otherwise `None`, after one line on stderr
/// naming the test, what is missing and `how` to get it — or, with `REACHGUARD_CI=1`, a panic.
#[track_caller]
pub fn prerequisite<T>(found: Option<T>, what: &str, how: &str) -> Option<T> {
    if found.is_some() {
        return found;
    }
    let required = std::env::var_os(REQUIRE_SHARED).is_some_and(|value| value == "1");
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    if required {
        panic!("{test}: {what} is missing ({how}), and {REQUIRE_SHARED}=1 requires it");
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test} needs {what} ({how}); {REQUIRE_SHARED}=1 makes this a failure"
    );
    None
}

/// `<repository>/../shared/<relative>`: this crate sits at `<repository>/test-support`.
fn beside_repository(relative: &str) -> PathBuf {
    let this_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside = this_crate.ancestors().nth(2).unwrap_or(Path::new("../.."));
    beside.join("shared").join(relative)
}

/// What a test does about a folder it reads.
#[derive(Debug, PartialEq)]
enum Presence {
    /// The folder exists: read it.
    Present(PathBuf),
    /// Absent and not required: the line to print before skipping.
    Skip(String),
    /// Absent but required: the failure message.
    Missing(String),
}

fn presence(folder: &Path, required: bool) -> Presence {
    if folder.is_dir() {
        return Presence::Present(folder.to_path_buf());
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("test");
    let shown = folder.display();
    if required {
        Presence::Missing(format!(
            "{test}: {shown} does not exist, and {REQUIRE_SHARED}=1 says the team's shared folder \
             must be beside the repository (lay it there, or unset {REQUIRE_SHARED} to skip)"
        ))
    } else {
        Presence::Skip(format!(
            "skipped: {shown} is absent (the team's shared folder beside the repository), so \
             {test} does not read it; {REQUIRE_SHARED}=1 makes this a failure"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_prerequisite_is_returned_and_a_missing_one_skips_or_fails() {
        assert_eq!(prerequisite(Some(3), "three", "count"), Some(3));
        let missing = std::panic::catch_unwind(|| {
            prerequisite::<u8>(None, "an invented prerequisite", "nothing provides it")
        });
        let required = std::env::var_os(REQUIRE_SHARED).is_some_and(|value| value == "1");
        match missing {
            Ok(found) => assert!(!required && found.is_none(), "skips: {found:?}"),
            Err(panic) => {
                let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                assert!(required, "fails only when required: {message}");
                assert!(
                    message.contains("an invented prerequisite is missing (nothing provides it)"),
                    "{message}"
                );
            }
        }
    }

    #[test]
    fn present_folders_are_read_and_absent_ones_skip_or_fail() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let absent = here.join("no-such-folder");
        for required in [false, true] {
            assert_eq!(
                presence(here, required),
                Presence::Present(here.to_path_buf())
            );
        }
        let cases = [
            (false, "skipped: ", "makes this a failure"),
            (true, "does not exist", "unset REACHGUARD_CI to skip"),
        ];
        for (required, start, end) in cases {
            let (Presence::Skip(text) | Presence::Missing(text)) = presence(&absent, required)
            else {
                panic!("{absent:?} is absent");
            };
            assert!(
                text.contains(start) && text.contains(end),
                "required {required}: {text}"
            );
            assert!(text.contains("no-such-folder"), "names the folder: {text}");
            assert!(
                text.contains("present_folders_are_read"),
                "names the test: {text}"
            );
            assert_eq!(
                matches!(presence(&absent, required), Presence::Missing(_)),
                required
            );
        }
    }
}
