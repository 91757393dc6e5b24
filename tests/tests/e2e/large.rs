//! A large account (12 VPCs, 288 subnets, 120 services in 3 clusters) collected through the fault
//! proxy, which holds moto to two AWS limits: at most 200 values per EC2 filter
//! (`FilterLimitExceeded`) and `ListServices` pages of 10 unless `maxResults` asks for more.

use reachguard_shared::aws::{Collector, Scope, vpc_scope};
use reachguard_tests::large::{self, Shape};
use reachguard_tests::proxy::{EC2_FILTER_VALUE_LIMIT, FaultProxy, Plan};
use reachguard_tests::{Account, moto_url};

const SHAPE: Shape = Shape {
    vpcs: 12,
    subnets_per_vpc: 24,
    clusters: 3,
    services: 120,
};

/// The eight EC2 `Describe*` of a collection, one per resource type.
pub(crate) const DESCRIBES: [&str; 8] = [
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeRouteTables",
    "DescribeVpcEndpoints",
    "DescribeNatGateways",
    "DescribeInternetGateways",
    "DescribeSecurityGroups",
    "DescribeNetworkAcls",
];

#[tokio::test]
async fn large_account_stays_within_ec2_filter_limit_and_pages_list_services_by_100() {
    let account = Account::new().await;
    let seeded = large::seed(&account, SHAPE).await;
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let collector = Collector::new(&account.through(&proxy.url).await);
    let services_per_cluster = SHAPE.services / SHAPE.clusters;
    // ListServices: one page of up to 100 per cluster; DescribeServices: 10 per call.
    let list_services = SHAPE.clusters * services_per_cluster.div_ceil(100);
    let describe_services = SHAPE.clusters * services_per_cluster.div_ceil(10);

    // The scoped event: one VPC, one call per resource type.
    let vpc = &seeded.vpcs[0];
    let scoped = collector
        .collect(&vpc_scope([vpc.clone()]))
        .await
        .expect("scoped collection");
    let calls = &scoped.calls;
    for op in DESCRIBES {
        assert_eq!(calls.get(op), 1, "{op} in {calls}");
    }
    assert_eq!(calls.get("ListServices"), list_services, "{calls}");
    assert_eq!(calls.get("DescribeServices"), describe_services, "{calls}");
    assert_eq!(calls.get("DescribeVpcAttribute"), 2, "{calls}");
    assert_eq!(scoped.snapshot.subnets.len(), SHAPE.subnets_per_vpc);
    assert_eq!(
        scoped.snapshot.services.len(),
        SHAPE.services / SHAPE.vpcs,
        "the VPC's services"
    );
    eprintln!("large account, scoped event (one VPC): {calls}");

    // An id nobody knows: every VPC hosting a service, through the subnets of all 120 services
    // (288 > 200 subnet ids, two chunks), then by `vpc-id` (12 ids, one chunk per type).
    let fallback = collector
        .collect(&Scope {
            endpoints: ["vpce-0123456789abcdef0".to_owned()].into(),
            ..Scope::default()
        })
        .await
        .expect("fallback collection within EC2's filter limit");
    assert!(fallback.fell_back);
    let mut all_vpcs = seeded.vpcs.clone();
    all_vpcs.sort();
    let collected: Vec<String> = fallback.vpcs.clone().expect("scoped").into_iter().collect();
    assert_eq!(collected, all_vpcs);
    let service_subnets = SHAPE.vpcs * SHAPE.subnets_per_vpc;
    let calls = &fallback.calls;
    assert_eq!(
        calls.get("DescribeSubnets"),
        service_subnets.div_ceil(EC2_FILTER_VALUE_LIMIT) + 1,
        "subnet-id chunks, then one by vpc-id: {calls}"
    );
    for op in DESCRIBES.iter().filter(|op| **op != "DescribeSubnets") {
        assert_eq!(
            calls.get(op),
            usize::from(*op == "DescribeVpcEndpoints") + 1,
            "{op} in {calls}"
        );
    }
    assert_eq!(calls.get("ListServices"), list_services, "{calls}");
    assert_eq!(fallback.snapshot.subnets.len(), service_subnets);
    assert_eq!(fallback.snapshot.services.len(), SHAPE.services);
    eprintln!("large account, fallback to every VPC: {calls}");

    let timeline = proxy.timeline();
    let widest = timeline.iter().map(|c| c.filter_values).max();
    assert!(
        widest.is_some_and(|n| n <= EC2_FILTER_VALUE_LIMIT),
        "at most {EC2_FILTER_VALUE_LIMIT} values per filter, saw {widest:?}"
    );
    assert_eq!(proxy.faults(), 0, "no request refused");
    assert_eq!(
        proxy.requests(),
        scoped.calls.total() + fallback.calls.total(),
        "every request counted"
    );
}
