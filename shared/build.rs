//! Copies each rule's explanation out of its module doc, so that one text serves rustdoc, the
//! source reader, `reachguard rules --explain` and `docs/rules.md`.
//!
//! For every `src/rules/<module>.rs`, the `//!` lines from the first `## ` heading on (the
//! sections "What it checks", "Why it matters", "Example", "Remediation") are written, without
//! their `//! ` prefix, to `$OUT_DIR/rule_docs/<module>.md`, which `RuleId::explanation` includes.
//! A module without such sections gets an empty file (a unit test names it).

use std::path::{Path, PathBuf};
use std::{env, fs};

const RULES: &str = "src/rules";

fn main() {
    println!("cargo::rerun-if-changed={RULES}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("rule_docs");
    fs::create_dir_all(&out).unwrap_or_else(|e| panic!("cannot create {}: {e}", out.display()));
    let entries = fs::read_dir(RULES).unwrap_or_else(|e| panic!("cannot list {RULES}: {e}"));
    for entry in entries {
        let path = entry.expect("an entry of src/rules").path();
        if let Some(module) = rust_module(&path) {
            let source = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let target = out.join(format!("{module}.md"));
            fs::write(&target, explanation(&source))
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
        }
    }
}

/// The module name of a `.rs` file.
fn rust_module(path: &Path) -> Option<&str> {
    match path.extension() {
        Some(extension) if extension == "rs" => path.file_stem()?.to_str(),
        _ => None,
    }
}

/// The module doc's lines from the first `## ` heading on, as Markdown.
fn explanation(source: &str) -> String {
    let mut text = String::new();
    let doc = source
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .skip_while(|line| !line.starts_with("## "));
    for line in doc {
        text.push_str(line);
        text.push('\n');
    }
    text
}
