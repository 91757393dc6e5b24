//! Just enough IAM policy evaluation for a gateway endpoint policy: explicit
//! Deny wins, then any Allow; wildcards `*` and `?` in `Action` (case-insensitive) and `Resource`;
//! `NotAction`/`NotResource`; a missing policy allows everything.
//!
//! Conditions cannot be evaluated from the VPC's configuration. An `Allow` with a `Condition` is
//! assumed to apply and a `Deny` with a `Condition` is assumed not to: reachguard only reports a
//! blocked path it can prove.

use serde_json::Value;

/// A parsed endpoint policy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndpointPolicy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    allow: bool,
    conditional: bool,
    actions: Matcher,
    resources: Matcher,
}

/// `Action` or `NotAction` (likewise for resources).
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Only(Vec<String>),
    AllBut(Vec<String>),
}

impl Matcher {
    fn matches(&self, value: &str, case_insensitive: bool) -> bool {
        let any = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| wildcard_match(p, value, case_insensitive))
        };
        match self {
            Matcher::Only(patterns) => any(patterns),
            Matcher::AllBut(patterns) => !any(patterns),
        }
    }
}

impl EndpointPolicy {
    /// Parses a policy document (the JSON text the API returns).
    pub fn parse(document: &str) -> Result<EndpointPolicy, String> {
        let value: Value = serde_json::from_str(document)
            .map_err(|e| format!("not a JSON policy document: {e}"))?;
        let statements = match value.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Err("policy document has no Statement".to_string()),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| Statement::parse(s).map_err(|e| format!("Statement[{i}]: {e}")))
            .collect::<Result<_, _>>()?;
        Ok(EndpointPolicy { statements })
    }

    /// True when the policy allows `action` on `resource`.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let applies = |s: &&Statement| {
            s.actions.matches(action, true) && s.resources.matches(resource, false)
        };
        let denied = self
            .statements
            .iter()
            .filter(|s| !s.allow && !s.conditional)
            .any(|s| applies(&s));
        !denied
            && self
                .statements
                .iter()
                .filter(|s| s.allow)
                .any(|s| applies(&s))
    }
}

impl Statement {
    fn parse(value: &Value) -> Result<Statement, String> {
        let allow = match value.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            other => return Err(format!("Effect must be Allow or Deny, got {other:?}")),
        };
        Ok(Statement {
            allow,
            conditional: value.get("Condition").is_some_and(|c| !c.is_null()),
            actions: matcher(value, "Action", "NotAction")?,
            resources: matcher(value, "Resource", "NotResource").or_else(|_| {
                // Endpoint policies may omit Resource: it then means every resource.
                Ok::<_, String>(Matcher::Only(vec!["*".to_string()]))
            })?,
        })
    }
}

fn matcher(statement: &Value, key: &str, not_key: &str) -> Result<Matcher, String> {
    let strings = |v: &Value| -> Result<Vec<String>, String> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("{key} entries must be strings"))
                })
                .collect(),
            _ => Err(format!("{key} must be a string or a list of strings")),
        }
    };
    match (statement.get(key), statement.get(not_key)) {
        (Some(v), _) => Ok(Matcher::Only(strings(v)?)),
        (None, Some(v)) => Ok(Matcher::AllBut(strings(v)?)),
        (None, None) => Err(format!("neither {key} nor {not_key}")),
    }
}

/// IAM-style wildcard match: `*` any run of characters, `?` one character.
fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if case_insensitive {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, v) = (fold(pattern), fold(value));
    // Classic greedy matcher with backtracking to the last star.
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYERS: &str = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*";

    fn allows(policy: &str) -> bool {
        EndpointPolicy::parse(policy)
            .unwrap()
            .allows("s3:GetObject", LAYERS)
    }

    #[test]
    fn endpoint_policies_for_the_ecr_layer_bucket() {
        let cases = [
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
                true,
                "AWS default full access",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}}"#,
                true,
                "the documented ECR statement",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:Get*"],"Resource":["arn:aws:s3:::prod-*-starport-layer-bucket/*"]}]}"#,
                true,
                "wildcards in action and resource",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"S3:GETOBJECT","Resource":"*"}]}"#,
                true,
                "actions are case-insensitive",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::my-bucket/*"}]}"#,
                false,
                "only another bucket",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#,
                false,
                "only another action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}]}"#,
                false,
                "explicit deny wins",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"*"}]}"#,
                true,
                "NotAction deny spares GetObject",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","NotResource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}]}"#,
                false,
                "NotResource excludes the bucket",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}]}"#,
                true,
                "a conditional deny is not assumed",
            ),
            (r#"{"Statement":[]}"#, false, "no statement allows nothing"),
        ];
        for (policy, expected, case) in cases {
            assert_eq!(allows(policy), expected, "{case}");
        }
    }

    #[test]
    fn malformed_policies_are_errors_not_panics() {
        for bad in [
            "",
            "[]",
            r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":7}]}"#,
        ] {
            assert!(EndpointPolicy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc", false));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(!wildcard_match("a?c", "abbc", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("A", "a", false));
        assert!(wildcard_match("A", "a", true));
    }
}
