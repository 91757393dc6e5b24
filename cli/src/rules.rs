//! `reachguard rules`: the rule catalog, generated from the rules themselves — the summary table
//! (the README's table is this output; a test keeps them equal), one rule's explanation, or the
//! reference page `docs/rules.md`.

use std::process::ExitCode;

use reachguard_shared::rule_docs;
use reachguard_shared::rule_id::RuleId;

/// What `rules` prints.
#[derive(Clone, Copy, Default, clap::ValueEnum)]
enum Format {
    /// The summary table (Markdown).
    #[default]
    Table,
    /// The reference page of every rule, `docs/rules.md` (Markdown).
    Docs,
}

#[derive(clap::Args)]
pub struct Args {
    /// Explain one rule: what it checks, why it matters, its subject and severity, an example and
    /// its remediation.
    #[arg(long, value_name = "ID", conflicts_with = "format")]
    explain: Option<RuleId>,
    /// What to print for the whole catalog.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// Runs `rules`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = match (args.explain, args.format) {
        (Some(id), _) => rule_docs::explain(id),
        (None, Format::Table) => rule_docs::table(),
        (None, Format::Docs) => rule_docs::reference_page(),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
