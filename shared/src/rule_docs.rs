//! The rule catalog as documents, generated from the rules themselves: the summary table
//! (`reachguard rules`, the README), one rule's explanation (`reachguard rules --explain ID`) and
//! the reference page `docs/rules.md` (`reachguard rules --format docs`).

use crate::rule_id::RuleId;
use crate::rules::{RULES, rule};

/// The repository path of the page [`reference_page`] generates.
pub const REFERENCE_PAGE: &str = "docs/rules.md";

/// The catalog as a Markdown table: id, severity, subject fields and when the rule fires.
pub fn table() -> String {
    let mut out =
        String::from("| rule | severity | subject | fires when |\n| --- | --- | --- | --- |\n");
    for rule in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id,
            rule.id.severity(),
            subject(rule.id),
            rule.summary
        ));
    }
    out
}

/// One rule in Markdown: its id as the title, severity, subject and summary, then the sections
/// of its explanation (What it checks, Why it matters, Example, Remediation).
pub fn explain(id: RuleId) -> String {
    let rule = rule(id);
    format!(
        "# {id}\n\nSeverity: {}. Subject: {}.\n\nFires when {}.\n\n{}",
        id.severity(),
        subject(id),
        rule.summary,
        rule.explanation
    )
}

/// The reference page of every rule (`docs/rules.md`): what a finding is, the table, then each
/// rule's explanation one heading level down.
pub fn reference_page() -> String {
    let mut page = format!(
        "# Rules\n\n\
         <!-- Generated from the rules' module docs (shared/src/rules/) by \
         `reachguard rules --format docs > {REFERENCE_PAGE}`: edit those, not this file. -->\n\n\
         Each rule fires once per *subject*: the finding fields that identify what it is about \
         (the `subject` column), besides the account, region and VPC every finding carries. A \
         finding's `severity` is its rule's. `reachguard:exempt` tags on a subject's resource (or \
         its VPC) suppress findings; see the README's *Tags*. The members of a finding are \
         described in [json.md](json.md).\n\n{}",
        table()
    );
    for rule in RULES {
        page.push('\n');
        for line in explain(rule.id).lines() {
            if line.starts_with('#') {
                page.push('#');
            }
            page.push_str(line);
            page.push('\n');
        }
    }
    page
}

/// The rule's subject fields, comma-separated.
fn subject(id: RuleId) -> String {
    let fields: Vec<&str> = id.subject().iter().map(|field| field.as_str()).collect();
    fields.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ruff-style sections, in this order, each with text: a rule module without them would
    /// explain nothing.
    #[test]
    fn every_rule_explains_itself_in_four_sections() {
        const SECTIONS: [&str; 4] = [
            "## What it checks\n",
            "## Why it matters\n",
            "## Example\n",
            "## Remediation\n",
        ];
        for rule in RULES {
            let (id, text) = (rule.id, rule.explanation);
            let starts: Vec<Option<usize>> = SECTIONS.iter().map(|s| text.find(s)).collect();
            assert_eq!(
                starts[0],
                Some(0),
                "{id}: its module doc must start its explanation with {:?}:\n{text}",
                SECTIONS[0]
            );
            let mut previous = 0;
            for (section, start) in SECTIONS.iter().zip(starts) {
                let start = start.unwrap_or_else(|| panic!("{id}: no {section:?} in\n{text}"));
                assert!(start >= previous, "{id}: {section:?} out of order");
                let body = text[start + section.len()..].lines().next().unwrap_or("");
                assert!(
                    !body.trim().is_empty(),
                    "{id}: {section:?} has no text after it"
                );
                previous = start;
            }
        }
    }

    #[test]
    fn explain_gives_the_rule_its_metadata_and_sections() {
        let text = explain(RuleId::RouteBlackhole);
        assert!(
            text.starts_with(
                "# route-blackhole\n\nSeverity: critical. Subject: route_table, destination.\n\n\
                 Fires when a service subnet's route table has a blackhole route.\n\n\
                 ## What it checks\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(rule(RuleId::RouteBlackhole).explanation),
            "{text}"
        );
    }

    #[test]
    fn the_reference_page_has_the_table_and_every_rule_one_level_down() {
        let page = reference_page();
        assert!(page.starts_with("# Rules\n"));
        assert!(page.contains(&table()));
        for rule in RULES {
            let id = rule.id;
            assert_eq!(page.matches(&format!("\n## {id}\n")).count(), 1, "{id}");
        }
        assert_eq!(page.matches("\n### Remediation\n").count(), RULES.len());
        assert!(!page.contains("\n# route-blackhole"));
    }
}
