//! The loop guard: API calls made by reachguard itself must
//! never trigger another evaluation or remediation. It owns who counts as "reachguard itself"
//! and how a CloudTrail caller is matched against that; it does not read the environment (the
//! functions pass the variables' values in).
use std::fmt;

use serde_json::Value;

/// Whose API calls are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopGuard {
    /// The function's own role: an IAM role ARN, or the assumed-role ARN that STS
    /// `GetCallerIdentity` returns (both forms match both forms of a caller).
    pub own_role_arn: Option<String>,
    /// `REACHGUARD_MEMBER_ROLE`: a role name matched in any account, whatever its path.
    pub member_role_name: Option<String>,
    /// `REACHGUARD_IGNORE_PRINCIPALS`: principal ARNs; a trailing `*` matches any rest.
    pub ignored_principals: Vec<String>,
}

/// Why the loop guard ignores a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardMatch {
    /// The function's own role.
    OwnRole,
    /// The member role used for remediation in member accounts (its name).
    MemberRole(String),
    /// An entry of the ignored principals (as configured).
    IgnoredPrincipal(String),
}

impl fmt::Display for GuardMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OwnRole => f.write_str("the function's own role"),
            Self::MemberRole(name) => write!(f, "the member role {name}"),
            Self::IgnoredPrincipal(pattern) => write!(f, "ignored principal {pattern}"),
        }
    }
}

impl LoopGuard {
    /// Builds the guard from the values of the function's settings, as the environment holds
    /// them: `own_role_arn` (learned through STS), `REACHGUARD_MEMBER_ROLE` and
    /// `REACHGUARD_IGNORE_PRINCIPALS`. Empty values count as unset.
    pub fn from_settings(
        own_role_arn: Option<&str>,
        member_role: Option<&str>,
        ignore_principals: Option<&str>,
    ) -> Self {
        let non_empty = |value: Option<&str>| {
            value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Self {
            own_role_arn: non_empty(own_role_arn),
            member_role_name: non_empty(member_role),
            ignored_principals: ignore_principals
                .map(parse_principal_list)
                .unwrap_or_default(),
        }
    }

    /// What the guard makes of a CloudTrail `userIdentity`: the caller it matched and why, or
    /// `None` when the call is not ours. The caller is `sessionContext.sessionIssuer.arn`
    /// (assumed roles) and `arn`; either matching is enough.
    pub fn check(&self, user_identity: &Value) -> Option<(String, GuardMatch)> {
        let issuer = user_identity
            .get("sessionContext")
            .and_then(|context| context.get("sessionIssuer"))
            .and_then(|issuer| issuer.get("arn"));
        [issuer, user_identity.get("arn")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|caller| Some((caller.to_owned(), self.match_caller(caller)?)))
    }

    fn match_caller(&self, caller: &str) -> Option<GuardMatch> {
        let caller_role = RoleIdentity::of(caller);
        if self
            .own_role_arn
            .as_deref()
            .is_some_and(|own| same_principal(caller, own))
        {
            return Some(GuardMatch::OwnRole);
        }
        if let Some(member) = &self.member_role_name
            && caller_role.is_some_and(|role| role.name == member)
        {
            return Some(GuardMatch::MemberRole(member.clone()));
        }
        let caller_as_role_arn = caller_role.map(|role| role.iam_arn());
        self.ignored_principals
            .iter()
            .find(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => {
                    caller.starts_with(prefix)
                        || caller_as_role_arn
                            .as_deref()
                            .is_some_and(|arn| arn.starts_with(prefix))
                }
                None => same_principal(caller, pattern),
            })
            .map(|pattern| GuardMatch::IgnoredPrincipal(pattern.clone()))
    }
}

/// Splits a `REACHGUARD_IGNORE_PRINCIPALS`-style list: entries separated by commas and/or
/// whitespace, empty entries dropped.
pub fn parse_principal_list(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Equal ARNs, or the same role in the same account written as an IAM role ARN
/// (`arn:aws:iam::A:role/[path/]N`) or an STS assumed-role ARN (`arn:aws:sts::A:assumed-role/N/S`).
fn same_principal(left: &str, right: &str) -> bool {
    left == right
        || RoleIdentity::of(left).is_some_and(|role| Some(role) == RoleIdentity::of(right))
}

/// A role as far as an ARN names it (assumed-role ARNs drop the role's path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RoleIdentity<'a> {
    partition: &'a str,
    account: &'a str,
    name: &'a str,
}

impl<'a> RoleIdentity<'a> {
    fn of(arn: &'a str) -> Option<Self> {
        let mut fields = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(_region),
            Some(account),
            Some(resource),
        ) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        )
        else {
            return None;
        };
        let name = match service {
            "iam" => resource.strip_prefix("role/")?.rsplit('/').next()?,
            "sts" => resource.strip_prefix("assumed-role/")?.split('/').next()?,
            _ => return None,
        };
        (!name.is_empty()).then_some(Self {
            partition,
            account,
            name,
        })
    }

    /// The role's IAM ARN without a path (what an assumed-role ARN tells).
    fn iam_arn(self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition, self.account, self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn assumed(account: &str, role_path: &str, name: &str) -> Value {
        json!({
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{account}:assumed-role/{name}/session"),
            "sessionContext": {"sessionIssuer": {
                "arn": format!("arn:aws:iam::{account}:role/{role_path}{name}")}}
        })
    }

    #[test]
    fn own_role_in_either_form() {
        let by_sts = LoopGuard::from_settings(
            Some("arn:aws:sts::111122223333:assumed-role/rg-fn/rg-fn"),
            None,
            None,
        );
        let by_iam = LoopGuard::from_settings(
            Some("arn:aws:iam::111122223333:role/service/rg-fn"),
            None,
            None,
        );
        for guard in [by_sts, by_iam] {
            let own = assumed("111122223333", "service/", "rg-fn");
            assert_eq!(guard.check(&own).map(|m| m.1), Some(GuardMatch::OwnRole));
            assert_eq!(guard.check(&assumed("444455556666", "", "rg-fn")), None);
            assert_eq!(guard.check(&assumed("111122223333", "", "other")), None);
        }
    }

    #[test]
    fn member_role_in_any_account_and_path() {
        let guard = LoopGuard::from_settings(None, Some("RgMember"), None);
        let member = assumed("444455556666", "reachguard/", "RgMember");
        assert_eq!(
            guard.check(&member).map(|m| m.1),
            Some(GuardMatch::MemberRole("RgMember".into()))
        );
        let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::444455556666:user/RgMember"});
        assert_eq!(guard.check(&user), None);
    }

    #[test]
    fn ignored_principals_with_wildcards() {
        let guard = LoopGuard::from_settings(
            None,
            None,
            Some(" arn:aws:iam::111122223333:role/rg-* ,arn:aws:iam::111122223333:user/bot"),
        );
        assert_eq!(guard.ignored_principals.len(), 2);
        let sweep = json!({"arn": "arn:aws:sts::111122223333:assumed-role/rg-sweep/x"});
        assert!(guard.check(&sweep).is_some());
        let bot = json!({"arn": "arn:aws:iam::111122223333:user/bot"});
        assert!(guard.check(&bot).is_some());
        let bot2 = json!({"arn": "arn:aws:iam::111122223333:user/bot2"});
        assert_eq!(guard.check(&bot2), None);
    }

    #[test]
    fn principal_list_separators() {
        assert_eq!(parse_principal_list(" a,b  c,,\nd "), ["a", "b", "c", "d"]);
        assert!(parse_principal_list(" , ").is_empty());
    }

    #[test]
    fn odd_identities_never_match() {
        let guard = LoopGuard::from_settings(Some("arn:aws:iam::1:role/x"), Some("x"), Some("*"));
        assert!(guard.check(&json!(null)).is_none());
        assert!(guard.check(&json!({"arn": 5})).is_none());
        assert!(RoleIdentity::of("arn:aws:iam::1:role/").is_none());
        assert!(RoleIdentity::of("arn:aws:sts::1:assumed-role").is_none());
    }
}
