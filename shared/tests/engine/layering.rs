//! The layering the crate documents is true: the modules of `shared/src` form no import cycle,
//! and AWS SDK types appear only in the adapters (`shared/src/aws/`) across the workspace's
//! production code.
//!
//! Read from the sources: a module depends on another when its non-test code names
//! `crate::<other>` (submodules count as their top-level module; `#[cfg(test)]` modules are
//! left out, since test helpers may look anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without its `#[cfg(test)]` items (by convention they come last).
fn production_code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The top-level module a file of `shared/src` belongs to (`None` for lib.rs).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    (first != "lib.rs").then(|| first.trim_end_matches(".rs").to_owned())
}

/// Every `crate::<name>` the code names (comments, doc links included, are not code).
fn crate_references(code: &str) -> BTreeSet<String> {
    let code: String = code
        .lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n");
    code.match_indices("crate::")
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(at, m)| {
            code[at + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("shared/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        let text = fs::read_to_string(&file).expect("readable source");
        let deps = graph.entry(module.clone()).or_default();
        for other in crate_references(production_code(&text)) {
            if other != module {
                deps.insert(other);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the list of modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_modules_of_the_core_form_no_import_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("rules") && graph.contains_key("finding"));
    assert!(
        graph["rules"].contains("evaluation"),
        "the reader sees real dependencies: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_vocabulary_modules_are_leaves() {
    let graph = module_graph();
    for leaf in ["names", "net"] {
        assert_eq!(graph[leaf], BTreeSet::new(), "{leaf} uses no other module");
    }
    for (module, allowed) in [("rule_id", &["names"][..]), ("action", &["names"][..])] {
        let uses: Vec<&str> = graph[module].iter().map(String::as_str).collect();
        assert_eq!(uses, allowed, "{module} uses only the vocabulary");
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        crate_references(
            "use crate::model::X;\nlet y = crate::paths::f(); not_crate::z // crate::rules"
        ),
        BTreeSet::from(["model".to_owned(), "paths".to_owned()])
    );
}

#[test]
fn sdk_types_appear_only_in_the_adapters() {
    let root = repo();
    let mut files = Vec::new();
    for dir in ["shared/src", "pipeline/src", "cli/src", "functions"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the workspace's sources were found");
    let adapters = root.join("shared/src/aws");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&adapters) && !f.components().any(|c| c.as_os_str() == "tests"))
        .filter(|f| {
            let text = fs::read_to_string(f).unwrap_or_default();
            ["aws_sdk_", "aws_smithy_", "aws_config"]
                .iter()
                .any(|sdk| production_code(&text).contains(sdk))
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "SDK types outside shared/src/aws/: {offenders:?}"
    );
}

/// The paths the README's "Layout" table names (its first column's backticked paths).
fn layout_table_paths(readme: &str) -> Vec<String> {
    let table = readme
        .split("\n## Layout\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_default();
    table
        .lines()
        .filter_map(|row| row.strip_prefix("| "))
        .filter_map(|row| row.split(" | ").next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .map(|path| path.trim_end_matches('/').to_owned())
        .collect()
}

#[test]
fn the_readme_layout_table_matches_the_tree() {
    let root = repo();
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let listed = layout_table_paths(&readme);
    assert!(listed.len() > 10, "the Layout table was found: {listed:?}");
    for path in &listed {
        assert!(
            root.join(path).exists(),
            "README's Layout names {path}, which does not exist"
        );
    }
    let top_level: Vec<String> = fs::read_dir(&root)
        .expect("the repository root")
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|name| !name.starts_with('.') && name != "target")
        .collect();
    for folder in top_level {
        assert!(
            listed
                .iter()
                .any(|p| p == &folder || p.starts_with(&format!("{folder}/"))),
            "README's Layout does not name the folder {folder}/"
        );
    }
}
