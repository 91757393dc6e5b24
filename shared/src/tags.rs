//! reachguard's own tags (`reachguard:*`) and how their values are read.

/// What every reachguard tag key starts with.
pub const PREFIX: &str = "reachguard:";

/// Rules suppressed on the tagged resource: a list of rule ids, or `all`.
pub const EXEMPT: &str = "reachguard:exempt";
/// Extra dependencies of a service, e.g. `dynamodb sqs sts`.
pub const NEEDS: &str = "reachguard:needs";
/// `ecs` on a spare subnet that services may move into (`subnet-not-ready`).
pub const WORKLOAD: &str = "reachguard:workload";
/// `restricted` on a VPC whose egress must be destination-controlled.
pub const EGRESS: &str = "reachguard:egress";
/// `notify`, `dry-run` or `remediate` on a VPC: that VPC's mode, up to the deployment's ceiling
/// (`REACHGUARD_MAX_MODE`).
pub const MODE: &str = "reachguard:mode";
/// The session tag the central functions pass when they assume the member role: the highest
/// mode the deployment permits (`REACHGUARD_MAX_MODE`). The member role's write statements
/// require it to be `remediate` (`aws:PrincipalTag/reachguard:max-mode`).
pub const MAX_MODE: &str = "reachguard:max-mode";
/// Put on every resource reachguard creates.
pub const CREATED_BY: &str = "reachguard:created-by";

/// Splits a tag list value: items separated by spaces, `+`, `/` or commas (ECS tag values do not
/// allow commas).
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, '+' | '/' | ','))
        .filter(|item| !item.is_empty())
}

/// A resource's tags, as key/value pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<(String, String)>);

impl Tags {
    /// Builds from key/value pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Tags(pairs.into_iter().collect())
    }

    /// The value of `key`, if tagged.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when `reachguard:exempt` names `rule` (or `all` / `*`).
    pub fn exempts(&self, rule: &str) -> bool {
        self.get(EXEMPT).is_some_and(|list| {
            split_list(list)
                .any(|item| item == rule || item.eq_ignore_ascii_case("all") || item == "*")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(value: &str) -> Tags {
        Tags::new([(EXEMPT.to_string(), value.to_string())])
    }

    #[test]
    fn exempt_lists_accept_every_separator_and_all() {
        let cases = [
            ("nat-single-az", "nat-single-az", true),
            ("route-blackhole nat-single-az", "nat-single-az", true),
            ("route-blackhole+nat-single-az", "nat-single-az", true),
            ("route-blackhole/nat-single-az", "nat-single-az", true),
            ("route-blackhole,nat-single-az", "nat-single-az", true),
            ("all", "nat-single-az", true),
            ("*", "nat-single-az", true),
            ("nat-single", "nat-single-az", false),
            ("", "nat-single-az", false),
        ];
        for (value, rule, expected) in cases {
            assert_eq!(
                tags(value).exempts(rule),
                expected,
                "{value:?} exempts {rule}"
            );
        }
        assert!(!Tags::default().exempts("nat-single-az"));
    }
}
