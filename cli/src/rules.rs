//! `reachguard rules`: the rule catalog as a Markdown table, generated from the rules themselves
//! (the README's table is this output; a test keeps them equal).

use std::process::ExitCode;

use reachguard_shared::rules::RULES;

/// The catalog as Markdown.
pub fn table() -> String {
    let mut out =
        String::from("| rule | severity | subject | fires when |\n| --- | --- | --- | --- |\n");
    for rule in RULES {
        let subject: Vec<&str> = rule.id.subject().iter().map(|f| f.as_str()).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id,
            rule.id.severity(),
            subject.join(", "),
            rule.summary
        ));
    }
    out
}

/// Runs `rules`.
pub fn run() -> anyhow::Result<ExitCode> {
    print!("{}", table());
    Ok(ExitCode::SUCCESS)
}
