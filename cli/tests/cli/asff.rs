//! `check --format asff`: the findings as an array of AWS Security Finding Format objects, one per
//! finding of `--format json`, in the same order (issue 16).

use reachguard_shared::asff::REQUIRED_MEMBERS;
use serde_json::Value;

use crate::util::{describe, reachguard, repo};

/// Runs `check` with `args`, checks the exit code and parses stdout as JSON.
fn check(args: &[&str], expect: i32) -> Value {
    let out = reachguard(args);
    assert_eq!(out.status.code(), Some(expect), "{}", describe(args, &out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", describe(args, &out)))
}

#[test]
fn every_bundled_example_prints_one_asff_object_per_finding() {
    for (file, exit) in [
        ("examples/broken-vpc.json", 1),
        ("examples/nat-only-vpc.json", 1),
        ("examples/endpoint-only-vpc.json", 0),
    ] {
        let report = check(&["check", file, "--format", "json"], exit);
        let findings = report["findings"].as_array().expect("findings");
        let asff = check(&["check", file, "--format", "asff"], exit);
        let asff = asff
            .as_array()
            .unwrap_or_else(|| panic!("{file}: not an array"));
        assert_eq!(asff.len(), findings.len(), "{file}");
        let mut ids = std::collections::BTreeSet::new();
        for (object, finding) in asff.iter().zip(findings) {
            for member in REQUIRED_MEMBERS {
                assert!(
                    object.get(member).is_some(),
                    "{file}: {member} in {object:#}"
                );
            }
            assert_eq!(object["GeneratorId"], finding["rule"], "{file}");
            assert_eq!(object["AwsAccountId"], "111122223333", "{file}");
            assert_eq!(
                object["Severity"]["Label"].as_str(),
                finding["severity"]
                    .as_str()
                    .map(str::to_uppercase)
                    .as_deref(),
            );
            assert_eq!(object["Compliance"]["Status"], "FAILED");
            assert_eq!(object["RecordState"], "ACTIVE");
            assert_eq!(object["Workflow"]["Status"], "NEW");
            assert_eq!(object["Description"], finding["message"], "{file}");
            assert!(ids.insert(object["Id"].to_string()), "{file}: duplicate Id");
        }
    }
}

#[test]
fn ids_are_the_same_on_every_run_and_rule_filters_apply() {
    let args = ["check", "examples/broken-vpc.json", "--format", "asff"];
    let ids = |doc: &Value| -> Vec<Value> {
        doc.as_array()
            .expect("array")
            .iter()
            .map(|f| f["Id"].clone())
            .collect()
    };
    assert_eq!(ids(&check(&args, 1)), ids(&check(&args, 1)));
    let filtered = check(&[&args[..], &["--rule", "route-blackhole"]].concat(), 1);
    let filtered = filtered.as_array().expect("array");
    assert!(!filtered.is_empty());
    assert!(
        filtered
            .iter()
            .all(|f| f["GeneratorId"] == "route-blackhole")
    );
}

#[test]
fn a_snapshot_without_account_is_bad_input_naming_the_fix() {
    let text = std::fs::read_to_string(repo().join("examples/broken-vpc.json")).expect("example");
    let mut doc: Value = serde_json::from_str(&text).expect("example is JSON");
    doc.as_object_mut().expect("object").remove("AccountId");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("asff-no-account.json");
    std::fs::write(&path, doc.to_string()).expect("write the snapshot");
    let path = path.to_str().expect("utf-8 path");
    let args = ["check", path, "--format", "asff"];
    let out = reachguard(&args);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&args, &out));
    assert!(out.stdout.is_empty(), "{}", describe(&args, &out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AccountId"), "{}", describe(&args, &out));
}
