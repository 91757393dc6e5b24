//! The collector against moto: what it collects, how scopes resolve, and what it costs.

use reachguard_shared::aws::{Collector, Scope, vpc_scope};
use reachguard_tests::{Account, seed};

use crate::large::DESCRIBES;

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|x| id(x).to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn scoped_collection_holds_exactly_the_vpcs_resources() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let nat = seed::nat_only(&account).await;

    let got = Collector::new(&account.config)
        .collect(&vpc_scope([ep.vpc.clone()]))
        .await
        .expect("collect");
    let snap = &got.snapshot;

    assert_eq!(snap.account_id.as_deref(), Some(account.id.as_str()));
    assert_eq!(snap.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        ids(&snap.vpcs, |v| &v.vpc_id),
        std::slice::from_ref(&ep.vpc)
    );
    let mut subnets = ep.subnets.clone();
    subnets.sort();
    assert_eq!(ids(&snap.subnets, |s| &s.subnet_id), subnets);
    assert!(
        snap.route_tables
            .iter()
            .any(|t| t.route_table_id == ep.route_table)
    );
    assert!(snap.route_tables.iter().all(|t| t.vpc_id == ep.vpc));
    let mut endpoints: Vec<String> = ep.endpoints.values().cloned().collect();
    endpoints.sort();
    assert_eq!(ids(&snap.vpc_endpoints, |e| &e.vpc_endpoint_id), endpoints);
    // moto sends states in lower case; the document keeps them as sent.
    assert!(
        snap.vpc_endpoints
            .iter()
            .all(|e| e.state.as_deref() == Some("available"))
    );
    let s3 = snap
        .vpc_endpoints
        .iter()
        .find(|e| e.service_name.ends_with(".s3"))
        .expect("s3 endpoint");
    assert_eq!(s3.vpc_endpoint_type, "Gateway");
    assert_eq!(s3.route_table_ids, std::slice::from_ref(&ep.route_table));
    assert!(
        snap.nat_gateways.is_empty(),
        "the NAT-only VPC's NAT gateway is out of scope"
    );
    assert!(
        snap.security_groups
            .iter()
            .any(|g| g.group_id == ep.task_security_group)
    );
    assert!(snap.network_acls.as_ref().is_some_and(|a| !a.is_empty()));
    let attrs = &snap.vpc_attributes;
    assert_eq!(attrs.len(), 1);
    assert_eq!(attrs[0].enable_dns_support.map(|a| a.value), Some(true));
    assert_eq!(attrs[0].enable_dns_hostnames.map(|a| a.value), Some(true));
    assert_eq!(
        ids(&snap.services, |s| &s.service_arn),
        std::slice::from_ref(&ep.service_arn)
    );
    assert_ne!(ep.service_arn, nat.service_arn);
    let service = &snap.services[0];
    assert_eq!(service.launch_type.as_deref(), Some("FARGATE"));
    let awsvpc = service
        .network_configuration
        .as_ref()
        .and_then(|n| n.awsvpc_configuration.as_ref())
        .expect("awsvpc");
    assert_eq!(awsvpc.subnets, ep.subnets);
    assert_eq!(snap.task_definitions.len(), 1);
    let container = &snap.task_definitions[0].container_definitions[0];
    assert!(
        container
            .image
            .as_deref()
            .is_some_and(|i| i.contains(".dkr.ecr.us-east-1."))
    );
    assert_eq!(
        container
            .log_configuration
            .as_ref()
            .map(|l| l.log_driver.as_str()),
        Some("awslogs")
    );

    // One request per resource type; two attribute reads for the one VPC; ECS for the region.
    let calls = &got.calls;
    for op in DESCRIBES
        .into_iter()
        .chain(["ListClusters", "DescribeTaskDefinition"])
    {
        assert_eq!(calls.get(op), 1, "{op} in {calls}");
    }
    assert_eq!(calls.get("DescribeVpcAttribute"), 2, "{calls}");
    assert_eq!(calls.get("ListServices"), 2, "one per cluster: {calls}");
    assert_eq!(calls.get("DescribeServices"), 2, "one per cluster: {calls}");
    assert_eq!(calls.total(), 16, "{calls}");
    eprintln!("scoped evaluation of one VPC (2 clusters, 2 services): {calls}");
}

#[tokio::test]
async fn whole_collection_holds_every_vpc_and_service() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let nat = seed::nat_only(&account).await;

    let got = Collector::new(&account.config)
        .collect(&Scope::account_region())
        .await
        .expect("collect");
    let snap = &got.snapshot;
    assert!(got.vpcs.is_none());
    for vpc in [&ep.vpc, &nat.vpc] {
        assert!(
            snap.vpcs.iter().any(|v| &v.vpc_id == vpc),
            "{vpc} collected"
        );
        assert!(
            snap.vpc_attributes.iter().any(|a| &a.vpc_id == vpc),
            "{vpc} attributes"
        );
    }
    let mut services = vec![ep.service_arn.clone(), nat.service_arn.clone()];
    services.sort();
    assert_eq!(ids(&snap.services, |s| &s.service_arn), services);
    let nat_id = nat.nat_gateway.clone().expect("nat");
    assert_eq!(ids(&snap.nat_gateways, |n| &n.nat_gateway_id), [nat_id]);
    assert_eq!(snap.nat_gateways[0].state.as_deref(), Some("available"));
    assert!(
        snap.internet_gateways
            .iter()
            .any(|g| g.attachments.iter().any(|a| a.vpc_id == nat.vpc))
    );
    let nat_rt = snap
        .route_tables
        .iter()
        .find(|t| t.route_table_id == nat.route_table)
        .expect("nat rt");
    assert!(
        nat_rt
            .routes
            .iter()
            .any(|r| r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
                && r.nat_gateway_id == nat.nat_gateway)
    );
    assert_eq!(snap.task_definitions.len(), 2);
}

#[tokio::test]
async fn scopes_naming_other_resources_resolve_to_their_vpc() {
    let account = Account::new().await;
    let ep = seed::endpoint_only(&account).await;
    let nat = seed::nat_only(&account).await;
    let collector = Collector::new(&account.config);
    let vpcs_of = |scope: Scope| {
        let collector = collector.clone();
        async move {
            let got = collector.collect(&scope).await.expect("collect");
            let vpcs: Vec<String> = got.vpcs.expect("scoped").into_iter().collect();
            (vpcs, got.fell_back)
        }
    };
    let one = |v: &str| vec![v.to_owned()];

    let by_subnet = Scope {
        subnets: [ep.subnets[1].clone()].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_subnet).await, (one(&ep.vpc), false));
    let by_rt = Scope {
        route_tables: [nat.route_table.clone()].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_rt).await, (one(&nat.vpc), false));
    let by_sg = Scope {
        security_groups: [ep.task_security_group.clone()].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_sg).await, (one(&ep.vpc), false));
    let by_nat = Scope {
        nat_gateways: nat.nat_gateway.iter().cloned().collect(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_nat).await, (one(&nat.vpc), false));
    let by_service = Scope {
        services: ["nat-only/api".to_owned()].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_service).await, (one(&nat.vpc), false));
    let by_arn = Scope {
        services: [ep.service_arn.clone()].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_arn).await, (one(&ep.vpc), false));

    // A deleted endpoint is still described (state `deleted`) and names its VPC.
    let logs = ep.endpoints["logs"].clone();
    account
        .ec2()
        .delete_vpc_endpoints()
        .vpc_endpoint_ids(&logs)
        .send()
        .await
        .expect("DeleteVpcEndpoints");
    let by_deleted = Scope {
        endpoints: [logs].into(),
        ..Scope::default()
    };
    assert_eq!(vpcs_of(by_deleted).await, (one(&ep.vpc), false));

    // An id nobody knows any more: every VPC that hosts a service.
    let unknown = Scope {
        endpoints: ["vpce-0123456789abcdef0".to_owned()].into(),
        ..Scope::default()
    };
    let mut both = vec![ep.vpc.clone(), nat.vpc.clone()];
    both.sort();
    assert_eq!(vpcs_of(unknown).await, (both, true));
}
