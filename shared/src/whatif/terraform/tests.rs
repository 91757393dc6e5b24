//! Plans applied to the bundled examples: the named cases of issue 14 (by the findings they open),
//! and one table row per resource type and action (by what they do to the document).

use serde_json::{Value, json};

use super::apply;
use crate::snapshot::Snapshot;
use crate::whatif::{Edited, compare};

const NAT_ONLY: &str = include_str!("../../../../examples/nat-only-vpc.json");
const ENDPOINT_ONLY: &str = include_str!("../../../../examples/endpoint-only-vpc.json");
const BROKEN: &str = include_str!("../../../../examples/broken-vpc.json");

const VPC: &str = "vpc-0a5d2e8c1b4f60001";
const SUBNET_A: &str = "subnet-0a5d2e8c1b4f600a1";
const SUBNET_SPARE: &str = "subnet-0a5d2e8c1b4f600c1";
const RTB_MAIN: &str = "rtb-0a5d2e8c1b4f60010";
const RTB_PRIVATE: &str = "rtb-0a5d2e8c1b4f60011";
const RTB_DYNAMODB: &str = "rtb-0a5d2e8c1b4f60013";
const NAT: &str = "nat-0a5d2e8c1b4f60a01";
const IGW: &str = "igw-0a5d2e8c1b4f60001";
const DYNAMODB_ENDPOINT: &str = "vpce-0a5d2e8c1b4f6ddb0";
const LOGS_ENDPOINT: &str = "vpce-0a5d2e8c1b4f6l0g0";
const ENDPOINT_SG: &str = "sg-0a5d2e8c1b4f60e01";
const TASK_SG: &str = "sg-0a5d2e8c1b4f60a01";
const SERVICE: &str = "arn:aws:ecs:us-east-1:111122223333:service/orders/api";
const ACL: &str = "acl-0b7f3c9d2e1a800b1";
const DEFAULT_ACL: &str = "acl-0b7f3c9d2e1a80001";
const BROKEN_SUBNET_B: &str = "subnet-0b7f3c9d2e1a800b1";

fn snapshot(text: &str) -> Snapshot {
    Snapshot::from_json(text).expect("a bundled example")
}

/// One `resource_changes` entry; type and name come from the address.
fn rc(address: &str, actions: &[&str], before: Value, after: Value, unknown: Value) -> Value {
    let resource = address.rsplit('.').nth(1).unwrap_or_default();
    let name = address.rsplit('.').next().unwrap_or_default();
    json!({
        "address": address, "mode": "managed", "type": resource, "name": name,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}
    })
}

/// A plan of `changes` and the configuration's `resources`.
fn plan_with(changes: Vec<Value>, resources: Value) -> String {
    json!({
        "format_version": "1.2",
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": resources}}
    })
    .to_string()
}

/// A plan of `changes`, with `references` as `(address, attribute, [references])`.
fn plan(changes: Vec<Value>, references: &[(&str, &str, &[&str])]) -> String {
    let mut resources: Vec<Value> = Vec::new();
    for (address, attribute, refs) in references {
        match resources.iter_mut().find(|r| r["address"] == *address) {
            Some(resource) => {
                resource["expressions"][*attribute] = json!({ "references": refs });
            }
            None => resources.push(json!({
                "address": address,
                "expressions": { *attribute: { "references": refs } }
            })),
        }
    }
    plan_with(changes, Value::Array(resources))
}

fn keys(findings: &[crate::finding::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.key()).collect()
}

#[test]
fn example_plans_open_exactly_the_named_findings() {
    let ecr_service = "arn:aws:ecs:us-east-1:111122223333:service/payments/api";
    let cases: [(&str, &str, &str, Vec<String>); 4] = [
        (
            "deleting the S3 gateway endpoint cuts the ECR layers of the service pulling from ECR",
            ENDPOINT_ONLY,
            include_str!("../../../../examples/plans/endpoint-only-delete-s3-endpoint.json"),
            vec![
                format!("unreachable-dependency|{ecr_service}|subnet-0c4e1a7b2d3f500a1|s3"),
                format!("unreachable-dependency|{ecr_service}|subnet-0c4e1a7b2d3f500b1|s3"),
            ],
        ),
        (
            "replacing the NAT gateway (new id unknown) and re-pointing its route opens nothing",
            NAT_ONLY,
            include_str!("../../../../examples/plans/nat-only-replace-nat-gateway.json"),
            vec![],
        ),
        (
            "a new interface endpoint whose new security group lacks 443 blocks HTTPS",
            NAT_ONLY,
            include_str!("../../../../examples/plans/nat-only-add-ecr-endpoint.json"),
            vec![
                format!("unreachable-dependency|{SERVICE}|{SUBNET_A}|ecr.dkr"),
                format!("unreachable-dependency|{SERVICE}|subnet-0a5d2e8c1b4f600b1|ecr.dkr"),
                format!(
                    "endpoint-security-group-blocks-https|vpce-<aws_vpc_endpoint.ecr_dkr>|{SUBNET_A}"
                ),
                "endpoint-security-group-blocks-https|vpce-<aws_vpc_endpoint.ecr_dkr>|subnet-0a5d2e8c1b4f600b1"
                    .to_string(),
            ],
        ),
        (
            "moving a subnet to a route table without the gateway endpoint",
            ENDPOINT_ONLY,
            include_str!("../../../../examples/plans/endpoint-only-move-subnet.json"),
            vec![
                format!("unreachable-dependency|{ecr_service}|subnet-0c4e1a7b2d3f500a1|s3"),
                "gateway-endpoint-not-associated|vpce-0c4e1a7b2d3f50s30|rtb-0c4e1a7b2d3f50010"
                    .to_string(),
            ],
        ),
    ];
    for (name, snapshot_text, plan_text, mut expected) in cases {
        let before = snapshot(snapshot_text);
        let edited = apply(&before, plan_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            edited.not_evaluated.is_empty(),
            "{name}: {:?}",
            edited.not_evaluated
        );
        let impact = compare(&before, edited).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut opened = keys(&impact.opened);
        opened.sort();
        expected.sort();
        assert_eq!(opened, expected, "{name}");
    }
}

/// What a row expects of the edited document.
type Expect = fn(&Edited) -> bool;

fn rtb<'d>(e: &'d Edited, id: &str) -> Option<&'d crate::snapshot::RouteTable> {
    e.snapshot
        .route_tables
        .iter()
        .find(|t| t.route_table_id == id)
}

fn endpoint<'d>(e: &'d Edited, id: &str) -> Option<&'d crate::snapshot::VpcEndpoint> {
    e.snapshot
        .vpc_endpoints
        .iter()
        .find(|x| x.vpc_endpoint_id == id)
}

fn acl<'d>(e: &'d Edited, id: &str) -> Option<&'d crate::snapshot::NetworkAcl> {
    e.snapshot
        .network_acls
        .iter()
        .flatten()
        .find(|a| a.network_acl_id == id)
}

fn group<'d>(e: &'d Edited, id: &str) -> Option<&'d crate::snapshot::SecurityGroup> {
    e.snapshot.security_groups.iter().find(|g| g.group_id == id)
}

fn skipped(e: &Edited, reason: &str) -> bool {
    e.applied.is_empty() && e.not_evaluated.iter().any(|n| n.reason.contains(reason))
}

fn route_to<'d>(
    e: &'d Edited,
    table: &str,
    destination: &str,
) -> Option<&'d crate::snapshot::Route> {
    rtb(e, table)?
        .routes
        .iter()
        .find(|r| crate::whatif::change::destination(r) == Some(destination))
}

/// One row per resource type and action: (name, snapshot, plan, expectation).
fn rows() -> Vec<(&'static str, &'static str, String, Expect)> {
    let no = Value::Null;
    let none = json!({});
    vec![
        (
            "aws_vpc create: DNS hostnames default off",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc.new",
                    &["create"],
                    no.clone(),
                    json!({"cidr_block": "10.99.0.0/16"}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                e.snapshot
                    .vpcs
                    .iter()
                    .any(|v| v.vpc_id == "vpc-<aws_vpc.new>")
                    && e.snapshot.vpc_attributes.iter().any(|a| {
                        a.vpc_id == "vpc-<aws_vpc.new>"
                            && a.enable_dns_hostnames.is_some_and(|b| !b.value)
                    })
            },
        ),
        (
            "aws_vpc update: DNS support off",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc.main",
                    &["update"],
                    json!({"id": VPC}),
                    json!({"id": VPC, "enable_dns_support": false, "enable_dns_hostnames": true}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                e.snapshot
                    .vpc_attributes
                    .iter()
                    .any(|a| a.vpc_id == VPC && a.enable_dns_support.is_some_and(|b| !b.value))
            },
        ),
        (
            "aws_vpc update that states no DNS attribute leaves them as they are",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc.main",
                    &["update"],
                    json!({"id": VPC}),
                    json!({"id": VPC, "tags": {"Name": "orders"}}),
                    json!({"enable_dns_hostnames": true}),
                )],
                &[],
            ),
            |e| {
                e.snapshot.vpc_attributes.iter().any(|a| {
                    a.vpc_id == VPC
                        && a.enable_dns_hostnames.is_some_and(|b| b.value)
                        && a.enable_dns_support.is_some_and(|b| b.value)
                })
            },
        ),
        (
            "aws_subnet create in a new VPC (unknown vpc_id resolved through configuration)",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_vpc.new",
                        &["create"],
                        no.clone(),
                        json!({"cidr_block": "10.99.0.0/16"}),
                        json!({"id": true}),
                    ),
                    rc(
                        "aws_subnet.new",
                        &["create"],
                        no.clone(),
                        json!({"cidr_block": "10.99.1.0/24", "availability_zone": "us-east-1a"}),
                        json!({"id": true, "vpc_id": true}),
                    ),
                ],
                &[(
                    "aws_subnet.new",
                    "vpc_id",
                    &["aws_vpc.new.id", "aws_vpc.new"],
                )],
            ),
            |e| {
                e.snapshot.subnets.iter().any(|s| {
                    s.subnet_id == "subnet-<aws_subnet.new>" && s.vpc_id == "vpc-<aws_vpc.new>"
                })
            },
        ),
        (
            "aws_subnet create with an availability zone unknown until apply: not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_subnet.new",
                    &["create"],
                    no.clone(),
                    json!({"cidr_block": "10.10.9.0/24", "vpc_id": VPC}),
                    json!({"id": true, "availability_zone": true}),
                )],
                &[],
            ),
            |e| skipped(e, "availability_zone is known only after apply"),
        ),
        (
            "aws_subnet create with a CIDR that is not one: not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_subnet.bad",
                    &["create"],
                    no.clone(),
                    json!({"cidr_block": "10.10.9.0/33", "vpc_id": VPC, "availability_zone": "us-east-1a"}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| skipped(e, "cidr_block \"10.10.9.0/33\""),
        ),
        (
            "aws_subnet delete: its route table association goes too",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_subnet.spare",
                    &["delete"],
                    json!({"id": SUBNET_SPARE}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                !e.snapshot
                    .subnets
                    .iter()
                    .any(|s| s.subnet_id == SUBNET_SPARE)
                    && rtb(e, RTB_DYNAMODB).is_some_and(|t| t.associations.is_empty())
            },
        ),
        (
            "aws_route_table create with an inline route to a new NAT gateway",
            NAT_ONLY,
            plan_with(
                vec![
                    rc(
                        "aws_nat_gateway.b",
                        &["create"],
                        no.clone(),
                        json!({"subnet_id": "subnet-0a5d2e8c1b4f600p1"}),
                        json!({"id": true}),
                    ),
                    rc(
                        "aws_route_table.b",
                        &["create"],
                        no.clone(),
                        json!({"vpc_id": VPC, "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": ""}]}),
                        json!({"id": true, "route": [{"nat_gateway_id": true}]}),
                    ),
                ],
                json!([{"address": "aws_route_table.b", "expressions": {"route": [{"nat_gateway_id": {"references": ["aws_nat_gateway.b.id", "aws_nat_gateway.b"]}}]}}]),
            ),
            |e| {
                route_to(e, "rtb-<aws_route_table.b>", "0.0.0.0/0").is_some_and(|r| {
                    r.nat_gateway_id.as_deref() == Some("nat-<aws_nat_gateway.b>")
                        && r.gateway_id.is_none()
                })
            },
        ),
        (
            "aws_route_table update: inline routes replaced, the gateway endpoint's route kept",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route_table.spare",
                    &["update"],
                    json!({"id": RTB_DYNAMODB, "vpc_id": VPC}),
                    json!({"id": RTB_DYNAMODB, "vpc_id": VPC, "route": [{"cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT}]}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                route_to(e, RTB_DYNAMODB, "0.0.0.0/0")
                    .is_some_and(|r| r.nat_gateway_id.as_deref() == Some(NAT))
                    && rtb(e, RTB_DYNAMODB).is_some_and(|t| {
                        t.routes
                            .iter()
                            .any(|r| r.gateway_id.as_deref() == Some(DYNAMODB_ENDPOINT))
                    })
            },
        ),
        (
            "aws_route_table delete: the main table cannot go",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route_table.main",
                    &["delete"],
                    json!({"id": RTB_MAIN}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| skipped(e, "main route table"),
        ),
        (
            "aws_route create: default route of the spare table to the NAT gateway",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route.spare",
                    &["create"],
                    no.clone(),
                    json!({"route_table_id": RTB_DYNAMODB, "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT}),
                    json!({"id": true, "gateway_id": true}),
                )],
                &[],
            ),
            |e| {
                route_to(e, RTB_DYNAMODB, "0.0.0.0/0")
                    .is_some_and(|r| r.nat_gateway_id.as_deref() == Some(NAT))
            },
        ),
        (
            "aws_route update: target replaced (remove, then add)",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route.private",
                    &["update"],
                    json!({"route_table_id": RTB_PRIVATE, "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT}),
                    json!({"route_table_id": RTB_PRIVATE, "destination_cidr_block": "0.0.0.0/0", "gateway_id": IGW}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                route_to(e, RTB_PRIVATE, "0.0.0.0/0").is_some_and(|r| {
                    r.gateway_id.as_deref() == Some(IGW) && r.nat_gateway_id.is_none()
                })
            },
        ),
        (
            "aws_route delete",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route.private",
                    &["delete"],
                    json!({"route_table_id": RTB_PRIVATE, "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": NAT}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| route_to(e, RTB_PRIVATE, "0.0.0.0/0").is_none(),
        ),
        (
            "aws_route_table_association replace: the subnet moves to the new table",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route_table_association.a",
                    &["delete", "create"],
                    json!({"subnet_id": SUBNET_A, "route_table_id": RTB_PRIVATE}),
                    json!({"subnet_id": SUBNET_A, "route_table_id": RTB_DYNAMODB}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                rtb(e, RTB_DYNAMODB).is_some_and(|t| {
                    t.associations
                        .iter()
                        .any(|a| a.subnet_id.as_deref() == Some(SUBNET_A))
                }) && rtb(e, RTB_PRIVATE).is_some_and(|t| {
                    !t.associations
                        .iter()
                        .any(|a| a.subnet_id.as_deref() == Some(SUBNET_A))
                })
            },
        ),
        (
            "aws_route_table_association delete: the subnet falls back to the main table",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route_table_association.a",
                    &["delete"],
                    json!({"subnet_id": SUBNET_A, "route_table_id": RTB_PRIVATE}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                e.snapshot.route_tables.iter().all(|t| {
                    !t.associations
                        .iter()
                        .any(|a| a.subnet_id.as_deref() == Some(SUBNET_A))
                })
            },
        ),
        (
            "aws_route_table_association with a gateway (edge association): not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_route_table_association.edge",
                    &["create"],
                    no.clone(),
                    json!({"gateway_id": IGW, "route_table_id": RTB_PRIVATE}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| skipped(e, "edge association"),
        ),
        (
            "aws_main_route_table_association create: another table becomes main",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_main_route_table_association.m",
                    &["create"],
                    no.clone(),
                    json!({"vpc_id": VPC, "route_table_id": RTB_PRIVATE}),
                    json!({"id": true, "original_route_table_id": true}),
                )],
                &[],
            ),
            |e| {
                rtb(e, RTB_PRIVATE).is_some_and(|t| t.associations.iter().any(|a| a.main))
                    && rtb(e, RTB_MAIN).is_some_and(|t| !t.associations.iter().any(|a| a.main))
            },
        ),
        (
            "aws_vpc_endpoint create on a new route table lands on that route table",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_route_table.new",
                        &["create"],
                        no.clone(),
                        json!({"vpc_id": VPC}),
                        json!({"id": true, "route": true}),
                    ),
                    rc(
                        "aws_vpc_endpoint.s3",
                        &["create"],
                        no.clone(),
                        json!({"vpc_id": VPC, "service_name": "com.amazonaws.us-east-1.s3", "vpc_endpoint_type": "Gateway"}),
                        json!({"id": true, "route_table_ids": true, "policy": true}),
                    ),
                ],
                &[(
                    "aws_vpc_endpoint.s3",
                    "route_table_ids",
                    &["aws_route_table.new.id", "aws_route_table.new"],
                )],
            ),
            |e| {
                endpoint(e, "vpce-<aws_vpc_endpoint.s3>")
                    .is_some_and(|x| x.route_table_ids == ["rtb-<aws_route_table.new>"])
                    && rtb(e, "rtb-<aws_route_table.new>").is_some()
            },
        ),
        (
            "aws_vpc_endpoint update: private DNS on",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint.logs",
                    &["update"],
                    json!({"id": LOGS_ENDPOINT}),
                    json!({"id": LOGS_ENDPOINT, "vpc_id": VPC, "service_name": "com.amazonaws.us-east-1.logs", "vpc_endpoint_type": "Interface", "private_dns_enabled": true, "subnet_ids": [SUBNET_A], "security_group_ids": [ENDPOINT_SG]}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                endpoint(e, LOGS_ENDPOINT).is_some_and(|x| {
                    x.private_dns_enabled == Some(true) && x.subnet_ids == [SUBNET_A]
                })
            },
        ),
        (
            "aws_vpc_endpoint delete: its prefix-list route goes too",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint.ddb",
                    &["delete"],
                    json!({"id": DYNAMODB_ENDPOINT}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                endpoint(e, DYNAMODB_ENDPOINT).is_none()
                    && rtb(e, RTB_DYNAMODB).is_some_and(|t| {
                        !t.routes
                            .iter()
                            .any(|r| r.gateway_id.as_deref() == Some(DYNAMODB_ENDPOINT))
                    })
            },
        ),
        (
            "aws_vpc_endpoint delete of an id the snapshot lacks: not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint.gone",
                    &["delete"],
                    json!({"id": "vpce-gone"}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| skipped(e, "vpce-gone is not in the snapshot"),
        ),
        (
            "aws_vpc_endpoint_route_table_association create",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint_route_table_association.p",
                    &["create"],
                    no.clone(),
                    json!({"vpc_endpoint_id": DYNAMODB_ENDPOINT, "route_table_id": RTB_PRIVATE}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                endpoint(e, DYNAMODB_ENDPOINT)
                    .is_some_and(|x| x.route_table_ids.contains(&RTB_PRIVATE.to_string()))
            },
        ),
        (
            "aws_vpc_endpoint_route_table_association delete",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint_route_table_association.s",
                    &["delete"],
                    json!({"vpc_endpoint_id": DYNAMODB_ENDPOINT, "route_table_id": RTB_DYNAMODB}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| endpoint(e, DYNAMODB_ENDPOINT).is_some_and(|x| x.route_table_ids.is_empty()),
        ),
        (
            "aws_vpc_endpoint_subnet_association create on an endpoint the plan creates",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_vpc_endpoint.ecr",
                        &["create"],
                        no.clone(),
                        json!({"vpc_id": VPC, "service_name": "com.amazonaws.us-east-1.ecr.api", "vpc_endpoint_type": "Interface", "private_dns_enabled": true}),
                        json!({"id": true}),
                    ),
                    rc(
                        "aws_vpc_endpoint_subnet_association.a",
                        &["create"],
                        no.clone(),
                        json!({"subnet_id": SUBNET_A}),
                        json!({"id": true, "vpc_endpoint_id": true}),
                    ),
                ],
                &[(
                    "aws_vpc_endpoint_subnet_association.a",
                    "vpc_endpoint_id",
                    &["aws_vpc_endpoint.ecr.id"],
                )],
            ),
            |e| {
                endpoint(e, "vpce-<aws_vpc_endpoint.ecr>")
                    .is_some_and(|x| x.subnet_ids == [SUBNET_A])
            },
        ),
        (
            "aws_vpc_endpoint_security_group_association create",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_endpoint_security_group_association.t",
                    &["create"],
                    no.clone(),
                    json!({"vpc_endpoint_id": LOGS_ENDPOINT, "security_group_id": TASK_SG}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                endpoint(e, LOGS_ENDPOINT)
                    .is_some_and(|x| x.groups.iter().any(|g| g.group_id == TASK_SG))
            },
        ),
        (
            "aws_vpc_endpoint_policy create, then the policy unknown until apply: not evaluated",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_vpc_endpoint_policy.p",
                        &["create"],
                        no.clone(),
                        json!({"vpc_endpoint_id": DYNAMODB_ENDPOINT, "policy": "{\"Statement\":[]}"}),
                        json!({"id": true}),
                    ),
                    rc(
                        "aws_vpc_endpoint_policy.q",
                        &["create"],
                        no.clone(),
                        json!({"vpc_endpoint_id": DYNAMODB_ENDPOINT}),
                        json!({"id": true, "policy": true}),
                    ),
                ],
                &[],
            ),
            |e| {
                endpoint(e, DYNAMODB_ENDPOINT)
                    .is_some_and(|x| x.policy_document.as_deref() == Some("{\"Statement\":[]}"))
                    && e.not_evaluated
                        .iter()
                        .any(|n| n.resource == "aws_vpc_endpoint_policy.q")
            },
        ),
        (
            "aws_nat_gateway delete: routes to it become blackholes",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_nat_gateway.main",
                    &["delete"],
                    json!({"id": NAT, "subnet_id": "subnet-0a5d2e8c1b4f600p1"}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                route_to(e, RTB_PRIVATE, "0.0.0.0/0")
                    .is_some_and(|r| r.state.as_deref() == Some("blackhole"))
            },
        ),
        (
            "aws_nat_gateway replace: the new one keeps the id, a private one is private",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_nat_gateway.main",
                    &["delete", "create"],
                    json!({"id": NAT, "subnet_id": "subnet-0a5d2e8c1b4f600p1"}),
                    json!({"subnet_id": "subnet-0a5d2e8c1b4f600p1", "connectivity_type": "private"}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                e.snapshot.nat_gateways.iter().any(|n| {
                    n.nat_gateway_id == NAT && n.connectivity_type.as_deref() == Some("private")
                })
            },
        ),
        (
            "aws_internet_gateway create attached to the VPC",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_internet_gateway.b",
                    &["create"],
                    no.clone(),
                    json!({"vpc_id": VPC}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                e.snapshot.internet_gateways.iter().any(|g| {
                    g.internet_gateway_id == "igw-<aws_internet_gateway.b>"
                        && g.attachments[0].vpc_id == VPC
                })
            },
        ),
        (
            "aws_internet_gateway_attachment delete",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_internet_gateway_attachment.a",
                    &["delete"],
                    json!({"internet_gateway_id": IGW, "vpc_id": VPC}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                e.snapshot
                    .internet_gateways
                    .iter()
                    .any(|g| g.internet_gateway_id == IGW && g.attachments.is_empty())
            },
        ),
        (
            "aws_security_group update: inline ingress replaced",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_security_group.endpoints",
                    &["update"],
                    json!({"id": ENDPOINT_SG}),
                    json!({"id": ENDPOINT_SG, "vpc_id": VPC, "ingress": [{"protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_blocks": ["10.10.0.0/16"], "security_groups": [], "self": false}]}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                group(e, ENDPOINT_SG).is_some_and(|g| {
                    g.ip_permissions.len() == 1 && g.ip_permissions[0].from_port == Some(80)
                })
            },
        ),
        (
            "aws_security_group delete: endpoints and services lose it",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_security_group.endpoints",
                    &["delete"],
                    json!({"id": ENDPOINT_SG}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                group(e, ENDPOINT_SG).is_none()
                    && endpoint(e, LOGS_ENDPOINT).is_some_and(|x| x.groups.is_empty())
            },
        ),
        (
            "aws_security_group_rule delete: the 443 source goes",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_security_group_rule.https",
                    &["delete"],
                    json!({"type": "ingress", "security_group_id": ENDPOINT_SG, "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.10.0.0/16"]}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| group(e, ENDPOINT_SG).is_some_and(|g| g.ip_permissions.is_empty()),
        ),
        (
            "aws_security_group_rule create from the task group",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_security_group_rule.tasks",
                    &["create"],
                    no.clone(),
                    json!({"type": "ingress", "security_group_id": ENDPOINT_SG, "protocol": "tcp", "from_port": 443, "to_port": 443, "source_security_group_id": TASK_SG}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                group(e, ENDPOINT_SG).is_some_and(|g| {
                    g.ip_permissions.iter().any(|p| {
                        p.user_id_group_pairs
                            .iter()
                            .any(|x| x.group_id.as_deref() == Some(TASK_SG))
                    })
                })
            },
        ),
        (
            "aws_security_group_rule egress: not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_security_group_rule.out",
                    &["create"],
                    no.clone(),
                    json!({"type": "egress", "security_group_id": TASK_SG, "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| skipped(e, "egress rules"),
        ),
        (
            "aws_vpc_security_group_ingress_rule create on a new group (unknown id resolved)",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_security_group.new",
                        &["create"],
                        no.clone(),
                        json!({"vpc_id": VPC}),
                        json!({"id": true, "ingress": true}),
                    ),
                    rc(
                        "aws_vpc_security_group_ingress_rule.https",
                        &["create"],
                        no.clone(),
                        json!({"ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.10.0.0/16"}),
                        json!({"id": true, "security_group_id": true}),
                    ),
                ],
                &[(
                    "aws_vpc_security_group_ingress_rule.https",
                    "security_group_id",
                    &["aws_security_group.new.id", "aws_security_group.new"],
                )],
            ),
            |e| {
                group(e, "sg-<aws_security_group.new>").is_some_and(|g| {
                    g.ip_permissions.len() == 1
                        && g.ip_permissions[0].ip_ranges[0].cidr_ip == "10.10.0.0/16"
                })
            },
        ),
        (
            "aws_vpc_security_group_egress_rule: not evaluated",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_vpc_security_group_egress_rule.all",
                    &["create"],
                    no.clone(),
                    json!({"security_group_id": TASK_SG, "ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| skipped(e, "egress rules"),
        ),
        (
            "aws_network_acl create: inline rules, the final denies, and the subnet moved to it",
            BROKEN,
            plan(
                vec![rc(
                    "aws_network_acl.new",
                    &["create"],
                    no.clone(),
                    json!({"vpc_id": "vpc-0b7f3c9d2e1a80001", "subnet_ids": [BROKEN_SUBNET_B], "ingress": [{"rule_no": 100, "protocol": "tcp", "action": "allow", "cidr_block": "0.0.0.0/0", "from_port": 443, "to_port": 443}], "egress": []}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                acl(e, "acl-<aws_network_acl.new>").is_some_and(|a| {
                    a.entries.len() == 3
                        && a.associations
                            .iter()
                            .any(|x| x.subnet_id == BROKEN_SUBNET_B)
                }) && acl(e, ACL).is_some_and(|a| a.associations.is_empty())
            },
        ),
        (
            "aws_network_acl delete: the default one cannot go",
            BROKEN,
            plan(
                vec![rc(
                    "aws_network_acl.default",
                    &["delete"],
                    json!({"id": DEFAULT_ACL}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| skipped(e, "default network ACL"),
        ),
        (
            "aws_network_acl_rule create: deny 443 out at rule 50",
            BROKEN,
            plan(
                vec![rc(
                    "aws_network_acl_rule.deny",
                    &["create"],
                    no.clone(),
                    json!({"network_acl_id": ACL, "rule_number": 50, "egress": true, "protocol": "tcp", "rule_action": "deny", "cidr_block": "0.0.0.0/0", "from_port": 443, "to_port": 443}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                acl(e, ACL).is_some_and(|a| {
                    a.entries.iter().any(|x| {
                        x.rule_number == 50
                            && x.egress
                            && x.protocol == "6"
                            && x.rule_action == "deny"
                    })
                })
            },
        ),
        (
            "aws_network_acl_rule delete",
            BROKEN,
            plan(
                vec![rc(
                    "aws_network_acl_rule.allow",
                    &["delete"],
                    json!({"network_acl_id": ACL, "rule_number": 100, "egress": false, "protocol": "-1", "rule_action": "allow", "cidr_block": "0.0.0.0/0"}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                acl(e, ACL)
                    .is_some_and(|a| !a.entries.iter().any(|x| x.rule_number == 100 && !x.egress))
            },
        ),
        (
            "aws_network_acl_association create",
            BROKEN,
            plan(
                vec![rc(
                    "aws_network_acl_association.b",
                    &["create"],
                    no.clone(),
                    json!({"network_acl_id": DEFAULT_ACL, "subnet_id": BROKEN_SUBNET_B}),
                    json!({"id": true}),
                )],
                &[],
            ),
            |e| {
                acl(e, DEFAULT_ACL).is_some_and(|a| {
                    a.associations
                        .iter()
                        .any(|x| x.subnet_id == BROKEN_SUBNET_B)
                })
            },
        ),
        (
            "aws_default_network_acl update: its inline rules are replaced",
            BROKEN,
            plan(
                vec![rc(
                    "aws_default_network_acl.d",
                    &["update"],
                    json!({"id": DEFAULT_ACL, "default_network_acl_id": DEFAULT_ACL}),
                    json!({"id": DEFAULT_ACL, "default_network_acl_id": DEFAULT_ACL, "ingress": [], "egress": []}),
                    none.clone(),
                )],
                &[],
            ),
            |e| {
                acl(e, DEFAULT_ACL)
                    .is_some_and(|a| a.entries.iter().all(|x| x.rule_number == 32767))
            },
        ),
        (
            "aws_ecs_task_definition and aws_ecs_service create, connected by reference",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_ecs_task_definition.web",
                        &["create"],
                        no.clone(),
                        json!({"family": "web", "container_definitions": "[{\"name\":\"web\",\"image\":\"111122223333.dkr.ecr.us-east-1.amazonaws.com/web:1\"}]"}),
                        json!({"arn": true, "id": true, "revision": true}),
                    ),
                    rc(
                        "aws_ecs_service.web",
                        &["create"],
                        no.clone(),
                        json!({"name": "web", "cluster": "arn:aws:ecs:us-east-1:111122223333:cluster/orders", "launch_type": "FARGATE", "network_configuration": [{"subnets": [SUBNET_A], "security_groups": [TASK_SG], "assign_public_ip": false}]}),
                        json!({"id": true, "task_definition": true}),
                    ),
                ],
                &[(
                    "aws_ecs_service.web",
                    "task_definition",
                    &[
                        "aws_ecs_task_definition.web.arn",
                        "aws_ecs_task_definition.web",
                    ],
                )],
            ),
            |e| {
                e.snapshot.services.iter().any(|s| s.service_arn == "arn:aws:ecs:us-east-1:111122223333:service/orders/web"
                && s.task_definition.as_deref() == Some("arn:aws:ecs:us-east-1:111122223333:task-definition/web:<aws_ecs_task_definition.web>"))
                && e.snapshot.task_definitions.iter().any(|t| t.container_definitions.len() == 1)
            },
        ),
        (
            "aws_ecs_service delete",
            NAT_ONLY,
            plan(
                vec![rc(
                    "aws_ecs_service.api",
                    &["delete"],
                    json!({"id": SERVICE}),
                    no.clone(),
                    none.clone(),
                )],
                &[],
            ),
            |e| e.snapshot.services.is_empty(),
        ),
        (
            "a type outside the model is listed, a no-op and a data source are not changes",
            NAT_ONLY,
            plan(
                vec![
                    rc(
                        "aws_iam_role.r",
                        &["create"],
                        no.clone(),
                        json!({}),
                        json!({"id": true}),
                    ),
                    rc(
                        "aws_vpc.main",
                        &["no-op"],
                        json!({"id": VPC}),
                        json!({"id": VPC}),
                        none.clone(),
                    ),
                    json!({"address": "data.aws_vpc.x", "mode": "data", "type": "aws_vpc", "name": "x", "change": {"actions": ["read"], "before": null, "after": {}, "after_unknown": {}}}),
                ],
                &[],
            ),
            |e| {
                e.applied.is_empty()
                    && e.not_evaluated.len() == 1
                    && e.not_evaluated[0].reason.contains("aws_iam_role")
            },
        ),
    ]
}

#[test]
fn every_resource_type_and_action_changes_the_document() {
    for (name, snapshot_text, plan_text, expect) in rows() {
        let edited =
            apply(&snapshot(snapshot_text), &plan_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            expect(&edited),
            "{name}\napplied: {:?}\nnot evaluated: {:?}",
            edited.applied,
            edited.not_evaluated
        );
    }
}

#[test]
fn every_supported_type_has_a_row() {
    let rows = rows();
    for resource_type in super::supported_types() {
        assert!(
            rows.iter().any(|(name, ..)| name
                .split([' ', ':', ','])
                .any(|word| word == resource_type)),
            "no row for {resource_type}"
        );
    }
}

#[test]
fn bad_plans_are_errors_naming_the_problem() {
    let cases = [
        ("[]", "a JSON object"),
        ("{\"resource_changes\": []}", "format_version"),
        ("{\"format_version\": \"9.0\"}", "9.0"),
        (
            &plan(
                vec![rc(
                    "aws_vpc.x",
                    &["explode"],
                    Value::Null,
                    json!({}),
                    json!({}),
                )],
                &[],
            ),
            "resource_changes[0] (aws_vpc.x): unknown actions",
        ),
    ];
    for (text, expected) in cases {
        let error = apply(&snapshot(NAT_ONLY), text)
            .expect_err(text)
            .to_string();
        assert!(error.contains(expected), "{text}: {error}");
    }
}
