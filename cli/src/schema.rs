//! `reachguard schema NAME`: the JSON Schema of a document reachguard reads or writes (what
//! `docs/schema/NAME.json` holds).

use std::process::ExitCode;

use reachguard_shared::schema::Document;

#[derive(clap::Args)]
pub struct Args {
    /// `findings` (what `check --format json` prints), `notification` (what SNS subscribers
    /// receive) or `snapshot` (what `check` reads).
    #[arg(value_name = "NAME")]
    document: Document,
}

/// Runs `schema`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    print!("{}", args.document.schema());
    Ok(ExitCode::SUCCESS)
}
