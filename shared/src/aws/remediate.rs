//! The EC2 executor of remediation plans: decides each planned action in order (the core's
//! [`Rehearsal`]: mode, allow-list, safety check on the model as the earlier actions leave it)
//! and applies it in `remediate` mode.
//!
//! Idempotent: every action first reads the current state and does nothing when it already
//! holds (moto, unlike AWS, ignores `ClientToken`, and a re-run must create nothing new); creates
//! carry a `ClientToken` derived from the action alone (what is created, where: concurrent
//! invocations planning the same change send the same token), and the tag
//! `reachguard:created-by`. It never deletes, and never touches NAT gateways, routes, ACLs or
//! endpoint policies (no remediation action does). A failed action is reported — `Interrupted`
//! when the failure is transient (throttling, 5xx, timeout: worth a retry), else `Failed` — and
//! the others still run: the report lists what was and was not applied.

use aws_config::SdkConfig;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification, VpcEndpointType,
};

use super::error::{AdapterError, required};
use crate::action::Action;
use crate::model::Topology;
use crate::remediation::{
    ActionReport, Mode, Outcome, PlannedAction, Rehearsal, RemediationPolicy, client_token,
};
use crate::snapshot::Snapshot;
use crate::tags;

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

/// Applies remediation plans in one account/region.
#[derive(Debug, Clone)]
pub struct Remediator {
    ec2: aws_sdk_ec2::Client,
}

impl Remediator {
    /// A remediator using `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Remediator {
            ec2: aws_sdk_ec2::Client::new(config),
        }
    }

    /// Decides each planned action in order ([`Rehearsal`]: the safety check sees the model as
    /// the earlier actions leave it, including those found already done) and applies it in
    /// `remediate` mode. A failed action is reported and the others still run.
    pub async fn execute(
        &self,
        policy: &RemediationPolicy,
        snapshot: &Snapshot,
        model: &Topology,
        planned: Vec<PlannedAction>,
    ) -> Vec<ActionReport> {
        let mut rehearsal = Rehearsal::new(model);
        let mut actions = Vec::with_capacity(planned.len());
        for (vpc, action, findings) in planned {
            let outcome = match rehearsal.decide(policy, snapshot, &vpc, &action) {
                Err(reason) => Outcome::Skipped(reason),
                Ok(Mode::Remediate) => match self.apply(&action).await {
                    Ok(outcome) => outcome,
                    Err(err) => {
                        tracing::error!(action = action.name().as_str(), vpc = %vpc, error = %err, transient = err.is_transient(), "remediation failed");
                        if err.is_transient() {
                            Outcome::Interrupted(err.to_string())
                        } else {
                            Outcome::Failed(err.to_string())
                        }
                    }
                },
                Ok(_) => Outcome::Planned(action.describe()),
            };
            // Later safety checks see the account as this action leaves it.
            rehearsal.record(&action, &outcome);
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
    /// [`Outcome::Applied`] otherwise. Creates carry the action's `ClientToken`.
    pub async fn apply(&self, action: &Action) -> Result<Outcome, AdapterError> {
        let token = client_token(action);
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
