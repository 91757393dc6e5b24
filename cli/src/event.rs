//! `reachguard event` (what the event intake makes of an event, one JSON line per event) and
//! `reachguard patterns` (the EventBridge patterns that select the triggers).
use std::{
    fs,
    io::{self, Read, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;
use reachguard_shared::intake::{self, LoopGuard, parse_principal_list};

/// Arguments of `event`.
#[derive(clap::Args)]
pub struct Args {
    /// Event file: an EventBridge envelope, a CloudTrail record, a `{"Records": […]}` log file,
    /// `aws cloudtrail lookup-events` output, or an array of these; `-` reads standard input.
    file: PathBuf,
    /// Ignore API calls made by this principal ARN (a trailing `*` matches any rest), as
    /// `REACHGUARD_IGNORE_PRINCIPALS` does for the functions; repeatable, or comma separated.
    #[arg(long = "ignore-principal", value_name = "ARN")]
    ignore_principals: Vec<String>,
}

/// Runs `event`: exit 0 with one line per event, or an error (exit 2) naming the file.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let name = if args.file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        args.file.display().to_string()
    };
    let input = read_input(&args.file).with_context(|| format!("cannot read {name}"))?;
    let guard = LoopGuard {
        ignored_principals: args
            .ignore_principals
            .iter()
            .flat_map(|list| parse_principal_list(list))
            .collect(),
        ..LoopGuard::default()
    };
    let decisions = intake::decide(&input, &guard).with_context(|| name.clone())?;
    let mut lines = String::new();
    for decision in &decisions {
        lines.push_str(&serde_json::to_string(decision)?);
        lines.push('\n');
    }
    print_ignoring_closed_pipe(&lines)
}

/// Runs `patterns`: the EventBridge event patterns, keyed by rule name, as pretty JSON.
pub fn run_patterns() -> anyhow::Result<ExitCode> {
    let patterns = serde_json::to_string_pretty(&intake::event_patterns())?;
    print_ignoring_closed_pipe(&format!("{patterns}\n"))
}

fn read_input(file: &PathBuf) -> io::Result<Vec<u8>> {
    if file.as_os_str() == "-" {
        let mut input = Vec::new();
        io::stdin().lock().read_to_end(&mut input)?;
        Ok(input)
    } else {
        fs::read(file)
    }
}

/// Writes to stdout; a reader that stopped early (`| head`) is not an error.
fn print_ignoring_closed_pipe(text: &str) -> anyhow::Result<ExitCode> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
