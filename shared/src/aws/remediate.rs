//! The remediator: applies the remediation plans of RULES.md §4 to an account.
//!
//! For a scope it scans, gathers the distinct [`Action`]s the findings propose, and decides each
//! one in order: the mode (`notify` / `dry-run` / `remediate`, the VPC tag `reachguard:mode`
//! overriding the deployment's), the allow-list, then the engine's safety check
//! ([`check_safety`]) on the model as changed by the actions already decided. Only then does it
//! call EC2. After applying it re-collects and re-evaluates, so the report says whether the
//! findings are gone.
//!
//! Idempotent: every action first reads the current state and does nothing when it already
//! holds (moto, unlike AWS, ignores `ClientToken`, and a re-run must create nothing new); creates
//! carry a `ClientToken` derived from the action and the findings it fixes, and the tag
//! `reachguard:created-by`. It never deletes, and never touches NAT gateways, routes, ACLs or
//! endpoint policies (no action of RULES.md §4 does). A failed action is reported as failed and
//! the others still run: the report lists what was and was not applied.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification, VpcEndpointType,
};
use serde::Serialize;

use super::collect::{Collector, Scope};
use super::error::{AdapterError, required};
use super::scan::{Scan, ScanError, scan};
use crate::evaluate::Report;
use crate::finding::Finding;
use crate::model::Topology;
use crate::notification::{RemediationNote, Status, Transition};
use crate::remediation::{Action, ActionName, check_safety, simulate};
use crate::snapshot::Snapshot;
use crate::tags;

/// What reachguard does about findings (`REACHGUARD_MODE`, or a VPC's `reachguard:mode` tag).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Report only.
    #[default]
    Notify,
    /// Report, with the plan.
    DryRun,
    /// Apply allowed, safe actions, then re-evaluate.
    Remediate,
}

impl Mode {
    /// The public name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Notify => "notify",
            Mode::DryRun => "dry-run",
            Mode::Remediate => "remediate",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Mode::Notify, Mode::DryRun, Mode::Remediate]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown mode {s:?}: expected notify, dry-run or remediate"))
    }
}

/// The deployment's remediation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The deployment-wide mode.
    pub mode: Mode,
    /// Actions that may be applied in `remediate` mode.
    pub allowed: BTreeSet<ActionName>,
}

impl Default for Policy {
    /// `notify`, with the default allow-list (the free actions).
    fn default() -> Self {
        Policy {
            mode: Mode::Notify,
            allowed: ActionName::DEFAULT_ALLOWED.into_iter().collect(),
        }
    }
}

impl Policy {
    /// The mode for `vpc`: its `reachguard:mode` tag when that names a mode, else the
    /// deployment's.
    pub fn mode_for(&self, snapshot: &Snapshot, vpc: &str) -> Mode {
        snapshot
            .vpcs
            .iter()
            .find(|v| v.vpc_id == vpc)
            .and_then(|v| v.tags.iter().find(|t| t.key == tags::MODE))
            .and_then(|t| t.value.parse().ok())
            .unwrap_or(self.mode)
    }
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
pub enum Outcome {
    /// Changed the account.
    Applied(String),
    /// The account already was as the action wants it: nothing to do.
    AlreadyDone(String),
    /// Dry-run: would be applied.
    Planned(String),
    /// Not applied: mode, allow-list or safety (the reason).
    Skipped(String),
    /// The AWS call failed (the error).
    Failed(String),
}

impl Outcome {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Outcome::Applied(d) => ("applied", d),
            Outcome::AlreadyDone(d) => ("already-done", d),
            Outcome::Planned(d) => ("planned", d),
            Outcome::Skipped(d) => ("skipped", d),
            Outcome::Failed(d) => ("failed", d),
        }
    }
}

/// One action of the plan and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionReport {
    /// The VPC it is for.
    pub vpc: String,
    /// The action.
    pub action: Action,
    /// Keys of the findings that proposed it.
    pub findings: Vec<String>,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl ActionReport {
    /// The `remediation` member of a notification transition.
    pub fn note(&self) -> RemediationNote {
        let (outcome, detail) = self.outcome.parts();
        RemediationNote {
            action: self.action.name().to_string(),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

/// The result of a remediation run.
#[derive(Debug, Clone)]
pub struct Remediation {
    /// The scan the plan came from.
    pub before: Scan,
    /// Every planned action, in plan order, with its outcome.
    pub actions: Vec<ActionReport>,
    /// The re-scan after applying (`None` when nothing was applied).
    pub after: Option<Report>,
}

impl Remediation {
    /// True when some action was applied.
    pub fn applied(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Applied(_)))
    }

    /// True when some action failed.
    pub fn failed(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a.outcome, Outcome::Failed(_)))
    }

    /// The notification transitions: a finding an action was applied to and that is gone after
    /// is `remediated`; one whose action failed is `remediation-failed`; one whose action was
    /// planned or skipped is `remediation-skipped`; any other finding is `opened`.
    pub fn transitions(&self) -> Vec<Transition> {
        let still_open: BTreeSet<String> = self
            .after
            .as_ref()
            .unwrap_or(&self.before.report)
            .findings
            .iter()
            .map(|f| f.key())
            .collect();
        self.before
            .report
            .findings
            .iter()
            .map(|finding| {
                let opened = Transition {
                    status: Status::Opened,
                    finding: finding.clone(),
                    remediation: None,
                };
                outcome_transition(opened, &self.actions, Some(&still_open))
            })
            .collect()
    }
}

/// One planned action: its VPC, the action, and the keys of the findings proposing it.
pub type PlannedAction = (String, Action, Vec<String>);

/// The id of the endpoint `CreateVpcEndpoint` created.
fn created_endpoint_id(
    out: &aws_sdk_ec2::operation::create_vpc_endpoint::CreateVpcEndpointOutput,
) -> Result<&str, AdapterError> {
    required(
        out.vpc_endpoint().and_then(|e| e.vpc_endpoint_id()),
        "CreateVpcEndpoint",
        "VpcEndpoint.VpcEndpointId",
    )
}

/// The distinct actions the findings propose, in finding order, each with the keys of the
/// findings proposing it.
pub fn plan<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Vec<PlannedAction> {
    let mut order: Vec<(String, Action)> = Vec::new();
    let mut by_action: BTreeMap<Action, Vec<String>> = BTreeMap::new();
    for finding in findings {
        for action in &finding.remediation {
            let keys = by_action.entry(action.clone()).or_default();
            if keys.is_empty() {
                order.push((finding.vpc.clone(), action.clone()));
            }
            keys.push(finding.key());
        }
    }
    order
        .into_iter()
        .map(|(vpc, action)| {
            let keys = by_action.remove(&action).unwrap_or_default();
            (vpc, action, keys)
        })
        .collect()
}

/// The mode `action` runs in for `vpc`, or why it is skipped: notify mode, not in the
/// allow-list, or unsafe on `model` (RULES.md §4).
pub fn decide(
    policy: &Policy,
    snapshot: &Snapshot,
    model: &Topology,
    vpc: &str,
    action: &Action,
) -> Result<Mode, String> {
    let mode = policy.mode_for(snapshot, vpc);
    if mode == Mode::Notify {
        return Err(format!("mode is notify for {vpc}"));
    }
    if !policy.allowed.contains(&action.name()) {
        return Err(format!("{} is not in the allow-list", action.name()));
    }
    check_safety(model, action)?;
    Ok(mode)
}

/// A finding's transition after remediation: `remediated` when an action for it was applied
/// (or already done) and it is gone from `still_open` (the re-evaluation; `None`: not
/// re-evaluated), `remediation-failed` when its action failed, `remediation-skipped` when it was
/// only planned or skipped; otherwise unchanged. The action's note is attached.
pub fn outcome_transition(
    mut transition: Transition,
    actions: &[ActionReport],
    still_open: Option<&BTreeSet<String>>,
) -> Transition {
    let key = transition.finding.key();
    let Some(report) = actions.iter().find(|a| a.findings.contains(&key)) else {
        return transition;
    };
    let gone = still_open.is_some_and(|open| !open.contains(&key));
    match &report.outcome {
        Outcome::Applied(_) | Outcome::AlreadyDone(_) if gone => {
            transition.status = Status::Remediated
        }
        Outcome::Applied(_) | Outcome::AlreadyDone(_) => {}
        Outcome::Failed(_) => transition.status = Status::RemediationFailed,
        Outcome::Planned(_) | Outcome::Skipped(_) => transition.status = Status::RemediationSkipped,
    }
    transition.remediation = Some(report.note());
    transition
}

/// A `ClientToken` (≤ 64 ASCII characters) derived from the action and the findings it fixes:
/// the same plan always sends the same token, across processes and releases (FNV-1a over the
/// action's JSON and the finding keys, not `std`'s unspecified hasher).
pub fn client_token(action: &Action, findings: &[String]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let action_json = serde_json::to_string(action).unwrap_or_default();
    for part in std::iter::once(action_json.as_str()).chain(findings.iter().map(String::as_str)) {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("reachguard-{}-{hash:016x}", action.name())
}

/// Applies remediation plans in one account/region.
#[derive(Debug, Clone)]
pub struct Remediator {
    ec2: aws_sdk_ec2::Client,
    collector: Collector,
}

impl Remediator {
    /// A remediator using `config` (its collector too).
    pub fn new(config: &SdkConfig) -> Self {
        Remediator {
            ec2: aws_sdk_ec2::Client::new(config),
            collector: Collector::new(config),
        }
    }

    /// Scans `scope`, decides and (where the mode says so) applies every planned action, then
    /// re-scans if anything was applied. Fails only when a scan fails; failed actions are in
    /// the report.
    pub async fn remediate(
        &self,
        scope: &Scope,
        policy: &Policy,
    ) -> Result<Remediation, ScanError> {
        let before = scan(&self.collector, scope).await?;
        let model = Topology::from_snapshot(&before.collection.snapshot)?;
        let planned = plan(&before.report.findings);
        let actions = self
            .execute(policy, &before.collection.snapshot, &model, planned)
            .await;
        let mut remediation = Remediation {
            before,
            actions,
            after: None,
        };
        if remediation.applied() {
            remediation.after = Some(scan(&self.collector, scope).await?.report);
        }
        Ok(remediation)
    }

    /// Decides each planned action in order ([`decide`], the safety check seeing the model as
    /// the earlier actions leave it) and applies it in `remediate` mode. A failed action is
    /// reported and the others still run.
    pub async fn execute(
        &self,
        policy: &Policy,
        snapshot: &Snapshot,
        model: &Topology,
        planned: Vec<PlannedAction>,
    ) -> Vec<ActionReport> {
        let mut model = model.clone();
        let mut actions = Vec::with_capacity(planned.len());
        for (vpc, action, findings) in planned {
            let outcome = match decide(policy, snapshot, &model, &vpc, &action) {
                Err(reason) => Outcome::Skipped(reason),
                Ok(Mode::Remediate) => match self.apply(&action, &findings).await {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        tracing::error!(action = action.name().as_str(), vpc = %vpc, error = %err, "remediation failed");
                        Outcome::Failed(err.to_string())
                    }
                },
                Ok(_) => Outcome::Planned(action.describe()),
            };
            if matches!(outcome, Outcome::Applied(_) | Outcome::Planned(_)) {
                // Later safety checks see the account as this action leaves it.
                simulate(&mut model, &action);
            }
            actions.push(ActionReport {
                vpc,
                action,
                findings,
                outcome,
            });
        }
        actions
    }

    /// Applies one action now (no mode, allow-list or safety check: the caller decided), reading
    /// the current state first: [`Outcome::AlreadyDone`] when nothing needs to change,
    /// [`Outcome::Applied`] otherwise. `findings` (the keys of the findings it fixes) seed the
    /// `ClientToken`.
    pub async fn apply(
        &self,
        action: &Action,
        findings: &[String],
    ) -> Result<Outcome, AdapterError> {
        let token = client_token(action, findings);
        match action {
            Action::AssociateGatewayEndpoint {
                endpoint,
                route_table,
            } => {
                let current = self.endpoint(endpoint).await?;
                if current.route_table_ids().iter().any(|t| t == route_table) {
                    return Ok(Outcome::AlreadyDone(format!(
                        "{endpoint} is already associated with {route_table}"
                    )));
                }
                self.ec2
                    .modify_vpc_endpoint()
                    .vpc_endpoint_id(endpoint)
                    .add_route_table_ids(route_table)
                    .send()
                    .await
                    .map_err(AdapterError::of("ModifyVpcEndpoint"))?;
                Ok(Outcome::Applied(format!(
                    "associated {endpoint} with {route_table}"
                )))
            }
            Action::EnablePrivateDns { endpoint } => {
                if self.endpoint(endpoint).await?.private_dns_enabled() == Some(true) {
                    return Ok(Outcome::AlreadyDone(format!(
                        "private DNS is already enabled on {endpoint}"
                    )));
                }
                self.ec2
                    .modify_vpc_endpoint()
                    .vpc_endpoint_id(endpoint)
                    .private_dns_enabled(true)
                    .send()
                    .await
                    .map_err(AdapterError::of("ModifyVpcEndpoint"))?;
                Ok(Outcome::Applied(format!(
                    "enabled private DNS on {endpoint}"
                )))
            }
            Action::AddEndpointSubnet { endpoint, subnet } => {
                if self
                    .endpoint(endpoint)
                    .await?
                    .subnet_ids()
                    .iter()
                    .any(|s| s == subnet)
                {
                    return Ok(Outcome::AlreadyDone(format!(
                        "{endpoint} already has a network interface in {subnet}"
                    )));
                }
                self.ec2
                    .modify_vpc_endpoint()
                    .vpc_endpoint_id(endpoint)
                    .add_subnet_ids(subnet)
                    .send()
                    .await
                    .map_err(AdapterError::of("ModifyVpcEndpoint"))?;
                Ok(Outcome::Applied(format!("added {subnet} to {endpoint}")))
            }
            Action::AllowHttpsFromVpc {
                security_group,
                cidr,
            } => self.allow_https(security_group, cidr).await,
            Action::CreateGatewayEndpoint {
                vpc,
                service_name,
                route_tables,
            } => {
                if let Some(done) = self
                    .already_served(vpc, service_name, VpcEndpointType::Gateway)
                    .await?
                {
                    return Ok(done);
                }
                let out = self
                    .ec2
                    .create_vpc_endpoint()
                    .vpc_id(vpc)
                    .vpc_endpoint_type(VpcEndpointType::Gateway)
                    .service_name(service_name)
                    .set_route_table_ids(Some(route_tables.clone()))
                    .client_token(token)
                    .tag_specifications(created_by(ResourceType::VpcEndpoint, action))
                    .send()
                    .await
                    .map_err(AdapterError::of("CreateVpcEndpoint"))?;
                let id = created_endpoint_id(&out)?;
                Ok(Outcome::Applied(format!(
                    "created {id} for {service_name} on {}",
                    route_tables.join(", ")
                )))
            }
            Action::CreateInterfaceEndpoint {
                vpc,
                service_name,
                subnets,
                allow_https_from,
            } => {
                if let Some(done) = self
                    .already_served(vpc, service_name, VpcEndpointType::Interface)
                    .await?
                {
                    return Ok(done);
                }
                let group = self
                    .endpoint_security_group(vpc, service_name, allow_https_from, action)
                    .await?;
                let out = self
                    .ec2
                    .create_vpc_endpoint()
                    .vpc_id(vpc)
                    .vpc_endpoint_type(VpcEndpointType::Interface)
                    .service_name(service_name)
                    .set_subnet_ids(Some(subnets.clone()))
                    .security_group_ids(&group)
                    .private_dns_enabled(true)
                    .client_token(token)
                    .tag_specifications(created_by(ResourceType::VpcEndpoint, action))
                    .send()
                    .await
                    .map_err(AdapterError::of("CreateVpcEndpoint"))?;
                let id = created_endpoint_id(&out)?;
                Ok(Outcome::Applied(format!(
                    "created {id} for {service_name} in {} behind {group}",
                    subnets.join(", ")
                )))
            }
        }
    }

    async fn endpoint(&self, id: &str) -> Result<aws_sdk_ec2::types::VpcEndpoint, AdapterError> {
        let out = self
            .ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
            .map_err(AdapterError::of("DescribeVpcEndpoints"))?;
        required(
            out.vpc_endpoints.and_then(|mut e| e.pop()),
            "DescribeVpcEndpoints",
            "VpcEndpoints[0]",
        )
    }

    /// [`Outcome::AlreadyDone`] when a live (not deleted or failed) endpoint of `kind` already
    /// serves `service_name` in `vpc`: creating endpoints stays idempotent where `ClientToken`
    /// is ignored.
    async fn already_served(
        &self,
        vpc: &str,
        service_name: &str,
        kind: VpcEndpointType,
    ) -> Result<Option<Outcome>, AdapterError> {
        let out = self
            .ec2
            .describe_vpc_endpoints()
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .filters(
                Filter::builder()
                    .name("service-name")
                    .values(service_name)
                    .build(),
            )
            .send()
            .await
            .map_err(AdapterError::of("DescribeVpcEndpoints"))?;
        Ok(out
            .vpc_endpoints()
            .iter()
            .filter(|e| {
                e.vpc_endpoint_type()
                    .is_some_and(|t| t.as_str().eq_ignore_ascii_case(kind.as_str()))
            })
            .filter(|e| {
                let state = e
                    .state()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .unwrap_or_default();
                !matches!(
                    state.as_str(),
                    "deleted" | "deleting" | "failed" | "rejected" | "expired"
                )
            })
            .find_map(|e| e.vpc_endpoint_id())
            .map(|id| Outcome::AlreadyDone(format!("{id} already serves {service_name} in {vpc}"))))
    }

    /// `AuthorizeSecurityGroupIngress` TCP 443 from `cidr`, unless a rule already admits it.
    async fn allow_https(&self, group: &str, cidr: &str) -> Result<Outcome, AdapterError> {
        let out = self
            .ec2
            .describe_security_groups()
            .group_ids(group)
            .send()
            .await
            .map_err(AdapterError::of("DescribeSecurityGroups"))?;
        let admits = out
            .security_groups()
            .iter()
            .flat_map(|g| g.ip_permissions())
            .any(|p| {
                let proto = p.ip_protocol().unwrap_or_default();
                let ports = proto == "-1"
                    || (p.from_port().unwrap_or(0) <= 443 && p.to_port().unwrap_or(0) >= 443);
                (proto == "-1" || proto == "tcp" || proto == "6")
                    && ports
                    && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some(cidr))
            });
        if admits {
            return Ok(Outcome::AlreadyDone(format!(
                "{group} already admits TCP 443 from {cidr}"
            )));
        }
        self.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(
                        IpRange::builder()
                            .cidr_ip(cidr)
                            .description("reachguard: HTTPS to VPC endpoints")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(AdapterError::of("AuthorizeSecurityGroupIngress"))?;
        Ok(Outcome::Applied(format!(
            "{group} now admits TCP 443 from {cidr}"
        )))
    }

    /// The security group of a new interface endpoint: `reachguard-<service>` in `vpc`, created
    /// (and tagged) when missing, admitting TCP 443 from `cidr`.
    async fn endpoint_security_group(
        &self,
        vpc: &str,
        service_name: &str,
        cidr: &str,
        action: &Action,
    ) -> Result<String, AdapterError> {
        // `com.amazonaws.<region>.ecr.dkr` → `reachguard-ecr.dkr` (one group per VPC and service).
        let name = format!(
            "reachguard-{}",
            service_name.splitn(4, '.').nth(3).unwrap_or(service_name)
        );
        let out = self
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .filters(Filter::builder().name("group-name").values(&name).build())
            .send()
            .await
            .map_err(AdapterError::of("DescribeSecurityGroups"))?;
        let group = match out.security_groups().iter().find_map(|g| g.group_id()) {
            Some(id) => id.to_owned(),
            None => {
                let created = self
                    .ec2
                    .create_security_group()
                    .vpc_id(vpc)
                    .group_name(&name)
                    .description(format!(
                        "reachguard: HTTPS from {cidr} to the {service_name} endpoint"
                    ))
                    .tag_specifications(created_by(ResourceType::SecurityGroup, action))
                    .send()
                    .await
                    .map_err(AdapterError::of("CreateSecurityGroup"))?;
                required(created.group_id, "CreateSecurityGroup", "GroupId")?
            }
        };
        self.allow_https(&group, cidr).await?;
        Ok(group)
    }
}

/// The `reachguard:created-by` tag (value: the action's name) for a created resource.
fn created_by(kind: ResourceType, action: &Action) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(
            Tag::builder()
                .key(tags::CREATED_BY)
                .value(format!("reachguard {}", action.name()))
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleId;
    use crate::snapshot::{Tag as DocTag, Vpc};

    fn finding(subnet: &str, actions: Vec<Action>) -> Finding {
        let mut f = Finding::new(
            RuleId::UnreachableDependency,
            Some("1"),
            "us-east-1",
            "vpc-1",
        );
        f.subnet = Some(subnet.into());
        f.remediation = actions;
        f
    }

    fn associate(rt: &str) -> Action {
        Action::AssociateGatewayEndpoint {
            endpoint: "vpce-1".into(),
            route_table: rt.into(),
        }
    }

    #[test]
    fn the_plan_has_each_action_once_with_every_finding_it_fixes() {
        let report = Report {
            findings: vec![
                finding("subnet-a", vec![associate("rtb-1")]),
                finding("subnet-b", vec![associate("rtb-1"), associate("rtb-2")]),
            ],
            ..Report::default()
        };
        let plan = plan(&report.findings);
        let actions: Vec<&Action> = plan.iter().map(|(_, a, _)| a).collect();
        assert_eq!(actions, [&associate("rtb-1"), &associate("rtb-2")]);
        assert_eq!(plan[0].2.len(), 2);
        assert_eq!(plan[1].2.len(), 1);
        assert_eq!(plan[0].0, "vpc-1");
    }

    #[test]
    fn client_tokens_are_stable_and_short() {
        let keys = vec!["k".to_owned()];
        let t = client_token(&associate("rtb-1"), &keys);
        assert_eq!(t, client_token(&associate("rtb-1"), &keys));
        assert_ne!(t, client_token(&associate("rtb-2"), &keys));
        assert!(t.len() <= 64 && t.is_ascii(), "{t}");
        // Pinned: a token must not change between releases, or a retried create would duplicate.
        assert_eq!(t, "reachguard-associate-gateway-endpoint-12563ba05b56a0ee");
    }

    #[test]
    fn the_vpc_tag_overrides_the_deployment_mode() {
        let vpc = |id: &str, mode: Option<&str>| Vpc {
            vpc_id: id.into(),
            tags: mode
                .map(|m| DocTag {
                    key: tags::MODE.into(),
                    value: m.into(),
                })
                .into_iter()
                .collect(),
            ..Vpc::default()
        };
        let snapshot = Snapshot {
            vpcs: vec![
                vpc("vpc-a", Some("remediate")),
                vpc("vpc-b", None),
                vpc("vpc-c", Some("bogus")),
            ],
            ..Snapshot::default()
        };
        let policy = Policy {
            mode: Mode::DryRun,
            ..Policy::default()
        };
        assert_eq!(policy.mode_for(&snapshot, "vpc-a"), Mode::Remediate);
        assert_eq!(policy.mode_for(&snapshot, "vpc-b"), Mode::DryRun);
        assert_eq!(
            policy.mode_for(&snapshot, "vpc-c"),
            Mode::DryRun,
            "an unknown value is ignored"
        );
    }

    #[test]
    fn modes_parse_by_their_public_names() {
        assert_eq!("dry-run".parse::<Mode>(), Ok(Mode::DryRun));
        assert_eq!("Remediate".parse::<Mode>(), Ok(Mode::Remediate));
        assert!("apply".parse::<Mode>().is_err());
        assert_eq!(Policy::default().mode, Mode::Notify);
        assert!(
            !Policy::default()
                .allowed
                .contains(&ActionName::CreateInterfaceEndpoint)
        );
    }
}
