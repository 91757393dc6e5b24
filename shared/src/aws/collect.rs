//! The collector: builds the [`Snapshot`] of one account/region — the very document
//! `reachguard snapshot` prints and `check` reads — whole or scoped to the VPCs an event touches.
//!
//! One paginated `Describe*` per EC2 resource type (filtered by `vpc-id` when scoped, at most 200
//! ids per request: EC2 refuses more with `FilterLimitExceeded`); `DescribeVpcAttribute` twice per
//! VPC; ECS has no VPC filter, so `ListClusters` → `ListServices` (100 per page) →
//! `DescribeServices` (tags included, 10 per call) for the region, keeping the services whose
//! subnets are in scope, and `DescribeTaskDefinition` once per distinct ARN they use. Never a call
//! per subnet or per route table. Every request is counted in [`ApiCalls`]. When the collected
//! snapshot has available NAT gateways, their CloudWatch metrics follow: one `GetMetricData` per
//! 500 queries (14 per NAT gateway; see [`super::metrics`]), best-effort.
//!
//! **Overlap.** Nothing waits for what it does not need: the ECS chain runs from the start beside
//! everything else, the EC2 calls of one kind (clusters, batches, filter chunks, attributes) run
//! up to 8 at a time, and a scope of VPCs starts its DNS attribute reads with the describes. The
//! critical path is therefore the ECS chain (four dependent round trips) or, for a scope naming
//! other resources, its resolution followed by the describes.
//!
//! **Cost of one scoped evaluation** (`V` VPCs, `C` clusters, `S_c` services in cluster `c`, `T`
//! distinct task definitions among the scope's services): `DescribeVpcs`, `DescribeSubnets`,
//! `DescribeRouteTables`, `DescribeVpcEndpoints`, `DescribeNatGateways`,
//! `DescribeInternetGateways`, `DescribeSecurityGroups`, `DescribeNetworkAcls` (⌈V/200⌉ each, more
//! only past 1,000 items per page), `DescribeVpcAttribute` ×2V, `ListClusters` ×1 (up to 100
//! clusters), `ListServices` ×Σ max(1, ⌈S_c/100⌉), `DescribeServices` ×Σ⌈S_c/10⌉,
//! `DescribeTaskDefinition` ×T. One VPC: 10 + 1 + Σ max(1, ⌈S_c/100⌉) + Σ⌈S_c/10⌉ + T. A scope
//! naming other resources adds one filtered `Describe*` per named type and 200 ids
//! (`DescribeSubnets` for subnets and services).
//!
//! A scope that names no VPC is resolved first: a subnet, route table, endpoint, NAT gateway,
//! internet gateway, security group or ACL through one filtered `Describe*` of its type, a service
//! through its subnets. What cannot be resolved (a resource already gone) makes the collection fall
//! back to every VPC that hosts an ECS service (their subnets looked up 200 per request).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types::ServiceField;
use futures::future::{FutureExt, Shared};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use tokio::sync::watch;

use super::convert;
use super::error::AdapterError;
use super::metrics::{MetricsDays, nat_gateway_metrics};
pub use crate::intake::Scope;
use crate::snapshot::{AttributeBoolean, EcsService, Snapshot, VpcAttributes};

/// `DescribeServices` accepts at most this many services per call.
const DESCRIBE_SERVICES_BATCH: usize = 10;
/// `ListServices` page size asked for (ECS's largest; its default is 10).
const LIST_SERVICES_PAGE: i32 = 100;
/// EC2 refuses more values than this in one filter (`FilterLimitExceeded`).
const FILTER_VALUE_LIMIT: usize = 200;
/// Concurrent requests of one kind (clusters, batches, chunks, task definitions, attributes).
const CONCURRENCY: usize = 8;

/// Whether `scope` asks for the whole account/region: `account_region`, or naming nothing at all.
pub fn is_whole(scope: &Scope) -> bool {
    scope.account_region || scope.is_empty()
}

/// A scope of exactly these VPCs.
pub fn vpc_scope<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Scope {
    Scope {
        vpcs: ids.into_iter().map(Into::into).collect(),
        ..Scope::default()
    }
}

/// API requests made, per operation (every page of a paginated call counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiCalls(BTreeMap<&'static str, usize>);

impl ApiCalls {
    /// Requests of one operation.
    pub fn get(&self, operation: &str) -> usize {
        self.0.get(operation).copied().unwrap_or(0)
    }

    /// All requests.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// `(operation, requests)` in operation order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.0.iter().map(|(op, n)| (*op, *n))
    }
}

impl fmt::Display for ApiCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} calls:", self.total())?;
        for (op, n) in self.iter() {
            write!(f, " {op}×{n}")?;
        }
        Ok(())
    }
}

/// Counts requests while a collection runs (shared by its concurrent calls).
#[derive(Default)]
pub(super) struct Recorder(Mutex<ApiCalls>);

impl Recorder {
    pub(super) fn record(&self, operation: &'static str) {
        if let Ok(mut calls) = self.0.lock() {
            *calls.0.entry(operation).or_default() += 1;
        }
    }

    fn into_calls(self) -> ApiCalls {
        self.0.into_inner().unwrap_or_default()
    }
}

/// Runs a paginated request page by page (counting each page) and concatenates `$items`.
macro_rules! paginate {
    ($rec:expr, $op:literal, $request:expr, $items:ident) => {
        async {
            let mut pages = $request.into_paginator().send();
            let mut items = Vec::new();
            while let Some(page) = pages.next().await {
                $rec.record($op);
                items.extend(
                    page.map_err(AdapterError::of($op))?
                        .$items
                        .unwrap_or_default(),
                );
            }
            Ok::<_, AdapterError>(items)
        }
    };
}

/// Runs `$request` (built from each filter of `$filters` as `$f`) page by page, at most
/// [`CONCURRENCY`] requests at a time, and concatenates their `$items` in filter order.
macro_rules! describe {
    ($rec:expr, $op:literal, $filters:expr, |$f:ident| $request:expr, $items:ident) => {
        async {
            let parts: Vec<Vec<_>> = stream::iter($filters)
                .map(|$f| paginate!($rec, $op, $request, $items))
                .buffered(CONCURRENCY)
                .try_collect()
                .await?;
            Ok::<_, AdapterError>(parts.into_iter().flatten().collect::<Vec<_>>())
        }
    };
}

/// The region's services, awaited (shared) by the scope's resolution and the collection's end.
type ServicesResult = Result<Arc<Vec<EcsService>>, AdapterError>;

/// The subnets in scope (`None`: every subnet, the whole account/region).
type InScope = Option<BTreeSet<String>>;

/// Waits until the EC2 side has said which subnets are in scope. The sender goes away unsent only
/// when the collection failed, which ends the collection first.
async fn scope_subnets(
    mut known: watch::Receiver<Option<InScope>>,
) -> Result<InScope, AdapterError> {
    match known.wait_for(Option::is_some).await {
        Ok(value) => Ok(value.clone().flatten()),
        Err(_) => Err(AdapterError::MissingField {
            operation: "DescribeSubnets",
            field: "Subnets",
        }),
    }
}

/// What the EC2 side of a collection gathered.
#[derive(Default)]
struct Parts {
    /// The EC2 resources (no attributes, services or task definitions yet).
    snapshot: Snapshot,
    /// The DNS attributes of the VPCs asked for or found.
    vpc_attributes: Vec<VpcAttributes>,
    /// The available NAT gateways' metrics, when there are any.
    metrics: Option<Result<crate::nat_metrics::NatGatewayMetrics, AdapterError>>,
}

/// A finished collection.
#[derive(Debug, Clone)]
pub struct Collection {
    /// The document, as `reachguard snapshot` prints it.
    pub snapshot: Snapshot,
    /// The VPCs the scope resolved to (`None`: the whole account/region).
    pub vpcs: Option<BTreeSet<String>>,
    /// True when part of the scope could not be resolved and every VPC hosting a service was
    /// collected instead.
    pub fell_back: bool,
    /// The requests it took.
    pub calls: ApiCalls,
    /// What could not be collected without failing the collection (NAT gateway metrics).
    pub warnings: Vec<String>,
    /// True when the NAT gateways' metrics were wanted but could not be read.
    pub nat_metrics_failed: bool,
}

/// Collects one account/region. Cheap to build; build one per account configuration.
#[derive(Debug, Clone)]
pub struct Collector {
    ec2: aws_sdk_ec2::Client,
    ecs: aws_sdk_ecs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    metrics_days: MetricsDays,
    region: Option<String>,
    account_id: Option<String>,
}

impl Collector {
    /// A collector using `config`'s credentials, region, endpoint, retry and timeouts.
    pub fn new(config: &SdkConfig) -> Self {
        Collector {
            ec2: aws_sdk_ec2::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            metrics_days: MetricsDays::default(),
            region: config.region().map(ToString::to_string),
            account_id: None,
        }
    }

    /// Records `account` as the snapshot's `AccountId` (otherwise the VPCs' `OwnerId` is used).
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account_id = Some(account.into());
        self
    }

    /// Reads NAT gateway metrics over the last `days` (default 7).
    pub fn with_metrics_days(mut self, days: MetricsDays) -> Self {
        self.metrics_days = days;
        self
    }

    /// Collects `scope`. Fails on the first call that fails after the SDK's retries: there is no
    /// partial snapshot. NAT gateway metrics are the exception: without them (CloudWatch denied
    /// or failing) the collection succeeds with a warning and no `NatGatewayMetrics`.
    ///
    /// Every call starts as soon as what it needs is known: the ECS chain from the start, beside
    /// the scope's resolution and the EC2 `Describe*`; the DNS attributes with the scope's VPCs
    /// (after `DescribeVpcs` for the whole account/region); the NAT gateway metrics after
    /// `DescribeNatGateways`; the task definitions once the services and the scope's subnets are
    /// (whatever the EC2 side still waits for).
    pub async fn collect(&self, scope: &Scope) -> Result<Collection, AdapterError> {
        let rec = Recorder::default();
        let region_services = async { self.ecs_services(&rec).await.map(Arc::new) }.shared();
        // The scope's subnets, as soon as they are known (`None` inside: every subnet).
        let (subnets_known, subnets) = watch::channel::<Option<InScope>>(None);
        let described_services = async {
            let (all, in_scope) =
                tokio::try_join!(region_services.clone(), scope_subnets(subnets))?;
            let kept: Vec<EcsService> = all
                .iter()
                .filter(|s| {
                    in_scope
                        .as_ref()
                        .is_none_or(|ids| service_subnets(s).iter().any(|id| ids.contains(id)))
                })
                .cloned()
                .collect();
            let task_definitions = self.task_definitions(&kept, &rec).await?;
            Ok::<_, AdapterError>((kept, task_definitions))
        };
        let collected = async {
            let (vpcs, fell_back) = if is_whole(scope) {
                (None, false)
            } else if names_only_vpcs(scope) {
                (Some(scope.vpcs.clone()), false)
            } else {
                let (vpcs, fell_back) = self.resolve(scope, region_services.clone(), &rec).await?;
                (Some(vpcs), fell_back)
            };
            let parts = match &vpcs {
                None => {
                    subnets_known.send_replace(Some(None));
                    self.ec2_resources(None, &subnets_known, &rec).await?
                }
                Some(ids) if ids.is_empty() => {
                    subnets_known.send_replace(Some(Some(BTreeSet::new())));
                    Parts::default()
                }
                Some(ids) => self.ec2_resources(Some(ids), &subnets_known, &rec).await?,
            };
            Ok::<_, AdapterError>((vpcs, fell_back, parts))
        };
        let ((services, task_definitions), (vpcs, fell_back, parts)) =
            tokio::try_join!(described_services, collected)?;
        drop(region_services);
        let Parts {
            mut snapshot,
            vpc_attributes,
            metrics,
        } = parts;
        snapshot.network_acls.get_or_insert_with(Vec::new);
        let mut warnings = Vec::new();
        let nat_metrics_failed = matches!(metrics, Some(Err(_)));
        match metrics {
            Some(Ok(metrics)) => snapshot.nat_gateway_metrics = Some(metrics),
            Some(Err(e)) => warnings.push(format!(
                "NAT gateway metrics not collected ({e}): the NAT capacity rules and cost figures are skipped, every other rule ran; grant cloudwatch:GetMetricData to include them"
            )),
            None => {}
        }

        snapshot.region = self.region.clone();
        snapshot.account_id = self
            .account_id
            .clone()
            .or_else(|| snapshot.vpcs.iter().find_map(|v| v.owner_id.clone()));
        // In `DescribeVpcs` order, for the VPCs that exist.
        let mut by_vpc: BTreeMap<String, VpcAttributes> = vpc_attributes
            .into_iter()
            .map(|a| (a.vpc_id.clone(), a))
            .collect();
        snapshot.vpc_attributes = snapshot
            .vpcs
            .iter()
            .filter_map(|v| by_vpc.remove(&v.vpc_id))
            .collect();
        snapshot.services = services;
        snapshot.task_definitions = task_definitions;
        Ok(Collection {
            snapshot,
            vpcs,
            fell_back,
            calls: rec.into_calls(),
            warnings,
            nat_metrics_failed,
        })
    }

    /// The VPCs a scope naming more than VPCs resolves to, and whether part of it could not be
    /// resolved (then every VPC hosting a service is included). Waits for the region's services
    /// only when the scope names services or something was not found.
    async fn resolve(
        &self,
        scope: &Scope,
        services: Shared<impl Future<Output = ServicesResult>>,
        rec: &Recorder,
    ) -> Result<(BTreeSet<String>, bool), AdapterError> {
        let named_services = async {
            if scope.services.is_empty() {
                Ok(None)
            } else {
                services.clone().await.map(Some)
            }
        };
        let (named, known) = tokio::try_join!(self.resolve_named(scope, rec), named_services)?;
        let mut resolved = named.vpcs;
        let mut unresolved = named.unresolved;
        // Services resolve through their subnets, as do named subnets.
        let mut subnets: BTreeSet<String> = scope.subnets.iter().cloned().collect();
        if let Some(known) = &known {
            for wanted in &scope.services {
                match known.iter().find(|s| service_matches(s, wanted)) {
                    Some(service) => subnets.extend(service_subnets(service).iter().cloned()),
                    None => unresolved = true,
                }
            }
        }
        if unresolved {
            let all = match known {
                Some(known) => known,
                None => services.await?,
            };
            subnets.extend(all.iter().flat_map(|s| service_subnets(s).iter().cloned()));
        }
        if !subnets.is_empty() {
            let found = describe!(
                rec,
                "DescribeSubnets",
                chunked("subnet-id", &subnets),
                |f| self.ec2.describe_subnets().filters(f),
                subnets
            )
            .await?;
            unresolved |= scope
                .subnets
                .iter()
                .any(|id| !found.iter().any(|s| s.subnet_id() == Some(id)));
            resolved.extend(found.iter().filter_map(|s| s.vpc_id().map(str::to_owned)));
        }
        Ok((resolved, unresolved))
    }

    /// The eight EC2 `Describe*` calls, concurrently, filtered to `vpcs` when given (at most
    /// [`FILTER_VALUE_LIMIT`] VPC ids per request), with what follows from them: the DNS
    /// attributes of the VPCs (from the start when `vpcs` names them, else after `DescribeVpcs`)
    /// and the metrics of the available NAT gateways (after `DescribeNatGateways`).
    async fn ec2_resources(
        &self,
        vpcs: Option<&BTreeSet<String>>,
        subnets_known: &watch::Sender<Option<InScope>>,
        rec: &Recorder,
    ) -> Result<Parts, AdapterError> {
        let by_vpc = |name: &str| match vpcs {
            Some(ids) => chunked(name, ids).into_iter().map(Some).collect(),
            None => vec![None],
        };
        let ec2 = &self.ec2;
        let vpcs_and_attributes = async {
            let found = describe!(
                rec,
                "DescribeVpcs",
                by_vpc("vpc-id"),
                |f| ec2.describe_vpcs().set_filters(f.map(|f| vec![f])),
                vpcs
            );
            match vpcs {
                Some(ids) => {
                    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    tokio::try_join!(found, self.vpc_attributes(&ids, rec))
                }
                None => {
                    let found = found.await?;
                    let ids: Vec<&str> = found.iter().filter_map(|v| v.vpc_id()).collect();
                    let attributes = self.vpc_attributes(&ids, rec).await?;
                    Ok((found, attributes))
                }
            }
        };
        let nat_gateways_and_metrics = async {
            let found = describe!(
                rec,
                "DescribeNatGateways",
                by_vpc("vpc-id"),
                |f| ec2.describe_nat_gateways().set_filter(f.map(|f| vec![f])),
                nat_gateways
            )
            .await?;
            let nat_gateways = convert_all(&found, convert::nat_gateway)?;
            let available: Vec<&str> = nat_gateways
                .iter()
                .filter(|n| {
                    n.state
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case("available"))
                })
                .map(|n| n.nat_gateway_id.as_str())
                .collect();
            // Their failure fails nothing.
            let metrics = if available.is_empty() {
                None
            } else {
                Some(
                    nat_gateway_metrics(&self.cloudwatch, &available, self.metrics_days, rec).await,
                )
            };
            Ok::<_, AdapterError>((nat_gateways, metrics))
        };
        let ((v, vpc_attributes), s, rt, e, (nat_gateways, metrics), i, g, a) = tokio::try_join!(
            vpcs_and_attributes,
            async {
                let found = describe!(
                    rec,
                    "DescribeSubnets",
                    by_vpc("vpc-id"),
                    |f| ec2.describe_subnets().set_filters(f.map(|f| vec![f])),
                    subnets
                )
                .await?;
                if vpcs.is_some() {
                    let ids = found
                        .iter()
                        .filter_map(|s| s.subnet_id().map(str::to_owned));
                    subnets_known.send_replace(Some(Some(ids.collect())));
                }
                Ok(found)
            },
            describe!(
                rec,
                "DescribeRouteTables",
                by_vpc("vpc-id"),
                |f| ec2.describe_route_tables().set_filters(f.map(|f| vec![f])),
                route_tables
            ),
            describe!(
                rec,
                "DescribeVpcEndpoints",
                by_vpc("vpc-id"),
                |f| ec2.describe_vpc_endpoints().set_filters(f.map(|f| vec![f])),
                vpc_endpoints
            ),
            nat_gateways_and_metrics,
            describe!(
                rec,
                "DescribeInternetGateways",
                by_vpc("attachment.vpc-id"),
                |f| ec2
                    .describe_internet_gateways()
                    .set_filters(f.map(|f| vec![f])),
                internet_gateways
            ),
            describe!(
                rec,
                "DescribeSecurityGroups",
                by_vpc("vpc-id"),
                |f| ec2
                    .describe_security_groups()
                    .set_filters(f.map(|f| vec![f])),
                security_groups
            ),
            describe!(
                rec,
                "DescribeNetworkAcls",
                by_vpc("vpc-id"),
                |f| ec2.describe_network_acls().set_filters(f.map(|f| vec![f])),
                network_acls
            ),
        )?;
        Ok(Parts {
            snapshot: Snapshot {
                vpcs: convert_all(&v, convert::vpc)?,
                subnets: convert_all(&s, convert::subnet)?,
                route_tables: convert_all(&rt, convert::route_table)?,
                vpc_endpoints: convert_all(&e, convert::vpc_endpoint)?,
                nat_gateways,
                internet_gateways: convert_all(&i, convert::internet_gateway)?,
                security_groups: convert_all(&g, convert::security_group)?,
                network_acls: Some(convert_all(&a, convert::network_acl)?),
                ..Snapshot::default()
            },
            vpc_attributes,
            metrics,
        })
    }

    /// Resolves the EC2 resources a scope names (other than VPCs and subnets) to their VPCs, one
    /// call per named type.
    async fn resolve_named(&self, scope: &Scope, rec: &Recorder) -> Result<Named, AdapterError> {
        let ec2 = &self.ec2;
        let ids = |set: &BTreeSet<String>| (!set.is_empty()).then(|| set.clone());
        let (rt, e, n, i, g, a) = tokio::try_join!(
            lookup(ids(&scope.route_tables), |ids| async move {
                let found = describe!(
                    rec,
                    "DescribeRouteTables",
                    chunked("route-table-id", &ids),
                    |f| ec2.describe_route_tables().filters(f),
                    route_tables
                )
                .await?;
                Ok(owners(
                    &ids,
                    found.iter().map(|t| (t.route_table_id(), t.vpc_id())),
                ))
            }),
            // Deleted endpoints and NAT gateways stay visible (state `deleted`) for a while; ids
            // that are gone entirely come back as `*.NotFound` and trigger the fallback.
            lookup(ids(&scope.endpoints), |ids| async move {
                let found = not_found_is_empty(
                    paginate!(
                        rec,
                        "DescribeVpcEndpoints",
                        ec2.describe_vpc_endpoints()
                            .set_vpc_endpoint_ids(Some(ids.iter().cloned().collect())),
                        vpc_endpoints
                    )
                    .await,
                )?;
                Ok(owners(
                    &ids,
                    found.iter().map(|x| (x.vpc_endpoint_id(), x.vpc_id())),
                ))
            }),
            lookup(ids(&scope.nat_gateways), |ids| async move {
                let found = describe!(
                    rec,
                    "DescribeNatGateways",
                    chunked("nat-gateway-id", &ids),
                    |f| ec2.describe_nat_gateways().filter(f),
                    nat_gateways
                )
                .await?;
                Ok(owners(
                    &ids,
                    found.iter().map(|x| (x.nat_gateway_id(), x.vpc_id())),
                ))
            }),
            lookup(ids(&scope.internet_gateways), |ids| async move {
                let found = describe!(
                    rec,
                    "DescribeInternetGateways",
                    chunked("internet-gateway-id", &ids),
                    |f| ec2.describe_internet_gateways().filters(f),
                    internet_gateways
                )
                .await?;
                Ok(owners(
                    &ids,
                    found.iter().flat_map(|x| {
                        x.attachments()
                            .iter()
                            .map(|a| (x.internet_gateway_id(), a.vpc_id()))
                    }),
                ))
            }),
            lookup(ids(&scope.security_groups), |ids| async move {
                let found = describe!(
                    rec,
                    "DescribeSecurityGroups",
                    chunked("group-id", &ids),
                    |f| ec2.describe_security_groups().filters(f),
                    security_groups
                )
                .await?;
                Ok(owners(
                    &ids,
                    found.iter().map(|x| (x.group_id(), x.vpc_id())),
                ))
            }),
            lookup(ids(&scope.network_acls), |ids| async move {
                let found = not_found_is_empty(
                    paginate!(
                        rec,
                        "DescribeNetworkAcls",
                        ec2.describe_network_acls()
                            .set_network_acl_ids(Some(ids.iter().cloned().collect())),
                        network_acls
                    )
                    .await,
                )?;
                Ok(owners(
                    &ids,
                    found.iter().map(|x| (x.network_acl_id(), x.vpc_id())),
                ))
            }),
        )?;
        let mut named = Named {
            vpcs: scope.vpcs.clone(),
            unresolved: false,
        };
        for part in [rt, e, n, i, g, a] {
            named.vpcs.extend(part.vpcs);
            named.unresolved |= part.unresolved;
        }
        Ok(named)
    }

    /// Every service of the region: `ListClusters` → `ListServices` (100 per page) →
    /// `DescribeServices` (10 per call), the clusters and the batches concurrently.
    async fn ecs_services(&self, rec: &Recorder) -> Result<Vec<EcsService>, AdapterError> {
        let clusters =
            paginate!(rec, "ListClusters", self.ecs.list_clusters(), cluster_arns).await?;
        let per_cluster: Vec<Vec<EcsService>> = stream::iter(&clusters)
            .map(|cluster| async move {
                let arns = paginate!(
                    rec,
                    "ListServices",
                    self.ecs
                        .list_services()
                        .cluster(cluster)
                        .max_results(LIST_SERVICES_PAGE),
                    service_arns
                )
                .await?;
                let described: Vec<Vec<EcsService>> =
                    stream::iter(arns.chunks(DESCRIBE_SERVICES_BATCH))
                        .map(|batch| async move {
                            rec.record("DescribeServices");
                            let out = self
                                .ecs
                                .describe_services()
                                .cluster(cluster)
                                .set_services(Some(batch.to_vec()))
                                .include(ServiceField::Tags)
                                .send()
                                .await
                                .map_err(AdapterError::of("DescribeServices"))?;
                            convert_all(out.services(), convert::ecs_service)
                        })
                        .buffered(CONCURRENCY)
                        .try_collect()
                        .await?;
                Ok::<_, AdapterError>(described.into_iter().flatten().collect())
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_cluster.into_iter().flatten().collect())
    }

    /// `DescribeTaskDefinition` once per distinct task definition of `services`.
    async fn task_definitions(
        &self,
        services: &[EcsService],
        rec: &Recorder,
    ) -> Result<Vec<crate::snapshot::TaskDefinition>, AdapterError> {
        let arns: BTreeSet<&str> = services
            .iter()
            .filter_map(|s| s.task_definition.as_deref())
            .collect();
        let found: Vec<Option<crate::snapshot::TaskDefinition>> = stream::iter(arns)
            .map(|arn| async move {
                rec.record("DescribeTaskDefinition");
                let out = self
                    .ecs
                    .describe_task_definition()
                    .task_definition(arn)
                    .send()
                    .await;
                match out {
                    Ok(out) => out
                        .task_definition()
                        .map(convert::task_definition)
                        .transpose(),
                    // A deregistered-and-deleted task definition: the engine evaluates the service
                    // with launch-type and declared dependencies only.
                    Err(err) => {
                        let err = AdapterError::sdk("DescribeTaskDefinition", err);
                        if err.code() == Some("ClientException") {
                            Ok(None)
                        } else {
                            Err(err)
                        }
                    }
                }
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// `DescribeVpcAttribute` for `enableDnsSupport` and `enableDnsHostnames` of each VPC; a VPC
    /// that does not exist (any more) has none.
    async fn vpc_attributes(
        &self,
        vpcs: &[&str],
        rec: &Recorder,
    ) -> Result<Vec<VpcAttributes>, AdapterError> {
        use aws_sdk_ec2::types::VpcAttributeName;
        let found: Vec<Option<VpcAttributes>> = stream::iter(vpcs)
            .map(|vpc| async move {
                let attribute = |name: VpcAttributeName| async move {
                    rec.record("DescribeVpcAttribute");
                    self.ec2
                        .describe_vpc_attribute()
                        .vpc_id(*vpc)
                        .attribute(name)
                        .send()
                        .await
                        .map_err(AdapterError::of("DescribeVpcAttribute"))
                };
                let (support, hostnames) = match tokio::try_join!(
                    attribute(VpcAttributeName::EnableDnsSupport),
                    attribute(VpcAttributeName::EnableDnsHostnames)
                ) {
                    Ok(both) => both,
                    Err(err) if err.is_not_found() => return Ok(None),
                    Err(err) => return Err(err),
                };
                Ok(Some(VpcAttributes {
                    vpc_id: (*vpc).to_owned(),
                    enable_dns_support: support
                        .enable_dns_support()
                        .and_then(|a| a.value())
                        .map(|value| AttributeBoolean { value }),
                    enable_dns_hostnames: hostnames
                        .enable_dns_hostnames()
                        .and_then(|a| a.value())
                        .map(|value| AttributeBoolean { value }),
                }))
            })
            .buffered(CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }
}

/// VPCs that named resources of one type resolved to.
#[derive(Default)]
struct Named {
    vpcs: BTreeSet<String>,
    /// Some named resource was not found.
    unresolved: bool,
}

/// Runs `find` when the scope names resources of this type.
async fn lookup<F, Fut>(ids: Option<BTreeSet<String>>, find: F) -> Result<Named, AdapterError>
where
    F: FnOnce(BTreeSet<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Named, AdapterError>>,
{
    match ids {
        Some(ids) => find(ids).await,
        None => Ok(Named::default()),
    }
}

/// The VPCs of the `(id, vpc)` pairs found; unresolved when some wanted id has no VPC.
fn owners<'a>(
    wanted: &BTreeSet<String>,
    found: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Named {
    let mut named = Named::default();
    let mut seen = BTreeSet::new();
    for (id, vpc) in found {
        if let (Some(id), Some(vpc)) = (id, vpc) {
            seen.insert(id);
            named.vpcs.insert(vpc.to_owned());
        }
    }
    named.unresolved = wanted.iter().any(|id| !seen.contains(id.as_str()));
    named
}

/// `*.NotFound` (an id given explicitly no longer exists) → nothing found.
fn not_found_is_empty<T>(result: Result<Vec<T>, AdapterError>) -> Result<Vec<T>, AdapterError> {
    match result {
        Err(err) if err.is_not_found() => Ok(Vec::new()),
        other => other,
    }
}

/// Filters on `name` for `values`, at most [`FILTER_VALUE_LIMIT`] values each: one request each.
fn chunked(name: &str, values: &BTreeSet<String>) -> Vec<Filter> {
    let values: Vec<String> = values.iter().cloned().collect();
    values
        .chunks(FILTER_VALUE_LIMIT)
        .map(|chunk| {
            Filter::builder()
                .name(name)
                .set_values(Some(chunk.to_vec()))
                .build()
        })
        .collect()
}

/// True when `scope` names VPCs and nothing else: no resolution needed.
fn names_only_vpcs(scope: &Scope) -> bool {
    !scope.vpcs.is_empty()
        && Scope {
            vpcs: BTreeSet::new(),
            ..scope.clone()
        }
        .is_empty()
}

fn convert_all<S, D>(
    items: &[S],
    f: impl Fn(&S) -> Result<D, AdapterError>,
) -> Result<Vec<D>, AdapterError> {
    items.iter().map(f).collect()
}

fn service_subnets(service: &EcsService) -> &[String] {
    service
        .network_configuration
        .as_ref()
        .and_then(|n| n.awsvpc_configuration.as_ref())
        .map(|a| a.subnets.as_slice())
        .unwrap_or_default()
}

/// A scope's service reference (ARN, or `cluster/name`) names `service`.
fn service_matches(service: &EcsService, wanted: &str) -> bool {
    if service.service_arn == wanted {
        return true;
    }
    let cluster = service
        .cluster_arn
        .as_deref()
        .and_then(|arn| arn.rsplit('/').next());
    match (
        cluster,
        service.service_name.as_deref(),
        wanted.split_once('/'),
    ) {
        (Some(cluster), Some(name), Some((c, n))) => cluster == c && name == n,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{AwsVpcConfiguration, NetworkConfiguration};

    #[test]
    fn scope_naming_nothing_is_whole() {
        assert!(is_whole(&Scope::default()));
        assert!(is_whole(&Scope::account_region()));
        assert!(!is_whole(&vpc_scope(["vpc-1"])));
    }

    #[test]
    fn service_matches_by_arn_or_cluster_and_name() {
        let s = EcsService {
            service_arn: "arn:aws:ecs:us-east-1:1:service/web/api".into(),
            service_name: Some("api".into()),
            cluster_arn: Some("arn:aws:ecs:us-east-1:1:cluster/web".into()),
            network_configuration: Some(NetworkConfiguration {
                awsvpc_configuration: Some(AwsVpcConfiguration {
                    subnets: vec!["subnet-1".into()],
                    ..Default::default()
                }),
            }),
            ..Default::default()
        };
        assert!(service_matches(
            &s,
            "arn:aws:ecs:us-east-1:1:service/web/api"
        ));
        assert!(service_matches(&s, "web/api"));
        assert!(!service_matches(&s, "web/other"));
        assert!(!service_matches(&s, "other/api"));
        assert_eq!(service_subnets(&s), ["subnet-1"]);
    }

    #[test]
    fn owners_flags_ids_not_found() {
        let wanted: BTreeSet<String> = ["rtb-1".to_owned(), "rtb-2".to_owned()].into();
        let named = owners(&wanted, [(Some("rtb-1"), Some("vpc-1"))].into_iter());
        assert_eq!(named.vpcs, BTreeSet::from(["vpc-1".to_owned()]));
        assert!(named.unresolved);
    }

    #[test]
    fn filters_hold_at_most_200_values_each() {
        for (values, sizes) in [
            (1, vec![1]),
            (200, vec![200]),
            (201, vec![200, 1]),
            (450, vec![200, 200, 50]),
        ] {
            let ids: BTreeSet<String> = (0..values).map(|i| format!("subnet-{i:05}")).collect();
            let filters = chunked("subnet-id", &ids);
            let got: Vec<usize> = filters.iter().map(|f| f.values().len()).collect();
            assert_eq!(got, sizes, "{values} values");
            assert!(filters.iter().all(|f| f.name() == Some("subnet-id")));
            let rejoined: BTreeSet<String> =
                filters.iter().flat_map(|f| f.values().to_vec()).collect();
            assert_eq!(rejoined, ids, "every value exactly once");
        }
    }

    #[test]
    fn only_a_scope_of_vpcs_alone_needs_no_resolution() {
        let vpcs = vpc_scope(["vpc-1"]);
        let mixed = Scope {
            subnets: ["subnet-1".to_owned()].into(),
            ..vpcs.clone()
        };
        for (scope, expected) in [
            (vpcs, true),
            (mixed, false),
            (Scope::default(), false),
            (Scope::account_region(), false),
        ] {
            assert_eq!(names_only_vpcs(&scope), expected, "{scope:?}");
        }
    }

    #[test]
    fn api_calls_display_lists_each_operation() {
        let rec = Recorder::default();
        rec.record("DescribeVpcs");
        rec.record("DescribeVpcAttribute");
        rec.record("DescribeVpcAttribute");
        let calls = rec.into_calls();
        assert_eq!(calls.total(), 3);
        assert_eq!(
            calls.to_string(),
            "3 calls: DescribeVpcAttribute×2 DescribeVpcs×1"
        );
    }
}
