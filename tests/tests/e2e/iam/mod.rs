//! The IAM of `infra/*.yaml` against what the code actually sends. moto enforces no IAM, so the
//! code runs against moto through the fault proxy, which keeps every request
//! (`reachguard_tests::journal`); each call becomes the (action, resource, context) requests IAM
//! would evaluate ([`requests`]), and `iam-rs` evaluates them against the policies the templates
//! render ([`render`]) for every configuration: central `Mode` / `MaxMode` / `AllowedActions`,
//! member `AllowRemediation` / `AllowedActions` and the session's `reachguard:max-mode` tag.
//!
//! Asserted: every call the code makes in a configuration is allowed; every write outside it
//! (an action the ceiling or `AllowedActions` does not permit, a delete, a create without or
//! with another `reachguard:created-by` tag, a third-party endpoint service) is denied; every
//! statement's resources and condition keys exist for its actions in the Service Authorization
//! Reference ([`sar`]). `cargo test -p reachguard-tests --test e2e -- iam:: --nocapture` prints
//! every role's permissions per configuration.

mod render;
mod requests;
mod sar;

use std::collections::{BTreeMap, BTreeSet};

use iam_rs::{
    Arn, Context, ContextValue, Decision, EvaluationOptions, IAMPolicy, IAMRequest,
    PolicyEvaluator, Principal, PrincipalId,
};
use reachguard_pipeline::{Env, Guard, Settings};
use reachguard_shared::action::{Action, ActionName};
use reachguard_shared::aws::{
    Accounts, ClientSettings, MemberRole, Organization, Remediator, Secrets, WorkQueue,
};
use reachguard_shared::remediation::Mode;
use reachguard_shared::tags;
use reachguard_tests::journal::{Call, Journal};
use reachguard_tests::proxy::{FaultProxy, Plan};
use reachguard_tests::queue;
use reachguard_tests::{Account, REGION, evaluate_account, inventory, moto_url, seed};
use serde_json::{Value as Json, json};

use render::{RenderedRole, Stack};
use requests::{Request, ResourceTags, Target, Value};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const MEMBER_ROLE: &str = "reachguard-member";
const EXTERNAL_ID: &str = "reachguard-e2e";
const DEFAULT_ACTIONS: &str =
    "associate-gateway-endpoint,create-gateway-endpoint,enable-private-dns";
const ALL_ACTIONS: &str = "associate-gateway-endpoint,create-gateway-endpoint,enable-private-dns,add-endpoint-subnet,allow-https-from-vpc,create-interface-endpoint";

fn template(name: &str) -> String {
    let path = format!("{ROOT}/infra/{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One journal and what produced it: the central roles whose calls it stands for, and the
/// remediation actions its writes may belong to (one action, or the guard's allow-list).
struct Segment {
    roles: &'static [&'static str],
    actions: Vec<ActionName>,
    journal: Journal,
}

impl Segment {
    fn label(&self) -> String {
        let names: Vec<&str> = self.actions.iter().map(|a| a.as_str()).collect();
        names.join("+")
    }

    /// What is wrong with the decisions on `call`'s `requests` ([`check_call`]) made as `caller`
    /// under `role`'s `policies` in `configuration`, which permits the writes when it permits all
    /// this segment's actions; headed by the call, the role and where.
    fn check(
        &self,
        call: &Call,
        role: &str,
        policies: &[Json],
        caller: &Caller,
        requests: &[Request],
        configuration: &impl Configuration,
    ) -> Option<String> {
        let writes_permitted = self.actions.iter().all(|a| configuration.permits(*a));
        let wrong = check_call(policies, caller, requests, writes_permitted)?;
        Some(format!(
            "{}: {role}, {} ({}):\n{wrong}",
            call.operation,
            configuration.label(),
            self.label()
        ))
    }
}

/// Everything the code did, with the resources the templates' policies name.
struct Recorded {
    home: Account,
    members: Vec<Account>,
    org: String,
    topic: String,
    table: String,
    sweep_queue: String,
    secret: String,
    segments: Vec<Segment>,
    tags: ResourceTags,
}

/// A configuration of a template's parameters.
trait Configuration {
    /// Whether a role rendered in it may apply `action`.
    fn permits(&self, action: ActionName) -> bool;
    /// The parameters, for messages.
    fn label(&self) -> String;
}

/// A central configuration: `Mode`, `MaxMode`, `AllowedActions`.
#[derive(Debug, Clone, Copy)]
struct Central {
    mode: &'static str,
    max_mode: &'static str,
    allowed: &'static str,
}

impl Central {
    fn ceiling(&self) -> &'static str {
        if self.max_mode.is_empty() {
            self.mode
        } else {
            self.max_mode
        }
    }
}

impl Configuration for Central {
    fn permits(&self, action: ActionName) -> bool {
        self.ceiling() == "remediate" && self.allowed.split(',').any(|a| a == action.as_str())
    }

    fn label(&self) -> String {
        format!(
            "central Mode={} MaxMode={} AllowedActions={}",
            self.mode,
            if self.max_mode.is_empty() {
                "(empty)"
            } else {
                self.max_mode
            },
            self.allowed
        )
    }
}

const CENTRAL: [Central; 9] = {
    const fn c(mode: &'static str, max_mode: &'static str, allowed: &'static str) -> Central {
        Central {
            mode,
            max_mode,
            allowed,
        }
    }
    [
        c("notify", "", DEFAULT_ACTIONS),
        c("dry-run", "", DEFAULT_ACTIONS),
        c("remediate", "", DEFAULT_ACTIONS),
        c("remediate", "", ALL_ACTIONS),
        c("remediate", "", "create-interface-endpoint"),
        c("notify", "remediate", DEFAULT_ACTIONS),
        c("notify", "remediate", ALL_ACTIONS),
        c("remediate", "notify", ALL_ACTIONS),
        c("dry-run", "dry-run", ALL_ACTIONS),
    ]
};

/// A member configuration: `AllowRemediation`, `AllowedActions`, and the ceiling the central
/// functions' sessions carry.
#[derive(Debug, Clone, Copy)]
struct Member {
    allow_remediation: bool,
    allowed: &'static str,
    session_max_mode: Mode,
}

impl Configuration for Member {
    fn permits(&self, action: ActionName) -> bool {
        self.allow_remediation
            && self.session_max_mode == Mode::Remediate
            && self.allowed.split(',').any(|a| a == action.as_str())
    }

    fn label(&self) -> String {
        format!(
            "member AllowRemediation={} AllowedActions={} session reachguard:max-mode={}",
            self.allow_remediation, self.allowed, self.session_max_mode
        )
    }
}

impl Member {
    fn all() -> Vec<Member> {
        let mut out = Vec::new();
        for allow_remediation in [false, true] {
            for allowed in [DEFAULT_ACTIONS, ALL_ACTIONS] {
                for session_max_mode in [Mode::Notify, Mode::DryRun, Mode::Remediate] {
                    out.push(Member {
                        allow_remediation,
                        allowed,
                        session_max_mode,
                    });
                }
            }
        }
        out
    }
}

fn central_stack(r: &Recorded, c: &Central) -> Stack {
    let arn =
        |service: &str, name: &str| format!("arn:aws:{service}:{REGION}:{}:{name}", r.home.id);
    Stack::new(
        &template("template.yaml"),
        &[
            ("Mode", c.mode),
            ("MaxMode", c.max_mode),
            ("AllowedActions", c.allowed),
            ("OrgId", &r.org),
            ("SlackSecretArn", &r.secret),
            ("MemberRoleName", MEMBER_ROLE),
            ("ExternalId", EXTERNAL_ID),
        ],
        &[
            ("AWS::Partition", "aws".into()),
            ("AWS::Region", REGION.into()),
            ("AWS::AccountId", r.home.id.clone()),
            ("FindingsTopic", r.topic.clone()),
            (
                "StateTable.Arn",
                arn("dynamodb", &format!("table/{}", r.table)),
            ),
            ("FailureQueue.Arn", arn("sqs", "reachguard-failures")),
            ("SweepQueue.Arn", r.sweep_queue.clone()),
        ],
    )
}

fn member_stack(r: &Recorded, member: &str, m: &Member) -> Stack {
    Stack::new(
        &template("member-account.yaml"),
        &[
            ("CentralAccountId", &r.home.id),
            ("CentralRegion", REGION),
            ("OrgId", &r.org),
            ("ExternalId", EXTERNAL_ID),
            ("MemberRoleName", MEMBER_ROLE),
            (
                "AllowRemediation",
                if m.allow_remediation { "true" } else { "false" },
            ),
            ("AllowedActions", m.allowed),
        ],
        &[
            ("AWS::Partition", "aws".into()),
            ("AWS::Region", REGION.into()),
            ("AWS::AccountId", member.to_owned()),
        ],
    )
}

/// The central roles' names as the template builds them (`${ResourcePrefix}-<kind>-<region>`).
fn central_role_arn(home: &str, logical: &str) -> String {
    let kind = logical.trim_end_matches("Role").to_ascii_lowercase();
    format!("arn:aws:iam::{home}:role/reachguard-{kind}-{REGION}")
}

/// Who makes a request: the role, its session tags, and the organisation.
struct Caller<'a> {
    role_arn: String,
    session_tags: BTreeMap<String, String>,
    org: &'a str,
}

/// `iam-rs`'s decision for `request` made by `caller` under `policies` (identity policies, or a
/// trust policy when `trust` is set: its principal is the caller's account, as `:root` means).
fn decide(policies: &[Json], caller: &Caller, request: &Request, trust: bool) -> Decision {
    let mut context = Context::new();
    context.insert(
        "aws:PrincipalArn".into(),
        ContextValue::String(caller.role_arn.clone()),
    );
    context.insert(
        "aws:PrincipalOrgID".into(),
        ContextValue::String(caller.org.to_owned()),
    );
    context.insert(
        "aws:ResourceOrgID".into(),
        ContextValue::String(caller.org.to_owned()),
    );
    for (key, value) in &caller.session_tags {
        context.insert(
            format!("aws:PrincipalTag/{key}"),
            ContextValue::String(value.clone()),
        );
    }
    for (key, value) in &request.context {
        context.insert(
            key.clone(),
            match value {
                Value::One(v) => ContextValue::String(v.clone()),
                Value::Set(v) => ContextValue::StringList(v.clone()),
            },
        );
    }
    let principal = if trust {
        let account = caller.role_arn.split(':').nth(4).unwrap_or_default();
        format!("arn:aws:iam::{account}:root")
    } else {
        caller.role_arn.clone()
    };
    // Actions without resource-level permissions are authorised on `*`: any ARN of the service
    // stands for it (only `"Resource": "*"` can match it).
    let resource = if request.resource == "*" {
        let service = request.action.split(':').next().unwrap_or_default();
        format!("arn:aws:{service}:{REGION}:000000000000:*")
    } else {
        request.resource.clone()
    };
    let policies: Vec<IAMPolicy> = policies
        .iter()
        .map(|p| serde_json::from_value(p.clone()).unwrap_or_else(|e| panic!("{e}: {p}")))
        .collect();
    let iam_request = IAMRequest::new_with_context(
        Principal::Aws(PrincipalId::String(principal)),
        &request.action,
        Arn::parse(&resource).unwrap_or_else(|e| panic!("{resource}: {e:?}")),
        context,
    );
    // A trust policy names no resource: it is the role's own.
    let options = EvaluationOptions {
        ignore_resource_constraints: trust,
        ..EvaluationOptions::default()
    };
    PolicyEvaluator::with_policies(policies)
        .with_options(options)
        .evaluate(&iam_request)
        .unwrap_or_else(|e| panic!("evaluating {request:?}: {e}"))
        .decision
}

fn describe(request: &Request) -> String {
    let context: Vec<String> = request
        .context
        .iter()
        .map(|(k, v)| match v {
            Value::One(v) => format!("{k}={v:?}"),
            Value::Set(v) => format!("{k}={v:?}"),
        })
        .collect();
    format!(
        "{} on {} [{}]",
        request.action,
        request.resource,
        context.join(", ")
    )
}

/// Whether an (action, resource) pair changes anything: everything but reads, notifications,
/// state and the sessions themselves is a write the configuration must permit.
fn is_remediation_write(request: &Request) -> bool {
    request.action.starts_with("ec2:") && !request.action.starts_with("ec2:Describe")
}

/// What is wrong with the decisions on one call's requests, if anything: a call that only reads
/// (or notifies, keeps state, assumes a role) must be allowed whole; a call that writes must be
/// allowed whole when `writes_permitted`, and have at least one request denied otherwise (AWS
/// refuses a call when any of its resources is refused).
fn check_call(
    policies: &[Json],
    caller: &Caller,
    requests: &[Request],
    writes_permitted: bool,
) -> Option<String> {
    let decisions: Vec<(bool, String)> = requests
        .iter()
        .map(|r| {
            (
                decide(policies, caller, r, false) == Decision::Allow,
                describe(r),
            )
        })
        .collect();
    let allowed = decisions.iter().all(|(allowed, _)| *allowed);
    let expected = writes_permitted || !requests.iter().any(is_remediation_write);
    (allowed != expected).then(|| {
        let lines: Vec<String> = decisions
            .iter()
            .map(|(allowed, what)| {
                format!("  {} {what}", if *allowed { "ALLOWED" } else { "DENIED " })
            })
            .collect();
        format!(
            "  expected the call {}\n{}",
            if expected { "allowed" } else { "denied" },
            lines.join("\n")
        )
    })
}

/// Applies every remediation action once in `target`, from `home`'s functions (the member role
/// when `target` is another account), one journal per action.
async fn every_action(home: &Account, target: &Account, segments: &mut Vec<Segment>) {
    let s = seed::broken(target).await;
    let bare = seed::security_group(target, &s.vpc, "bare", None).await;
    let sg = seed::security_group(target, &s.vpc, "sts-endpoint", Some(&s.cidr)).await;
    let sts = seed::interface_endpoint(target, &s.vpc, "sts", &s.subnets, &sg, false).await;
    let mut actions = vec![
        Action::CreateGatewayEndpoint {
            vpc: s.vpc.clone(),
            service_name: format!("com.amazonaws.{REGION}.dynamodb"),
            route_tables: vec![s.route_table.clone()],
        },
        Action::AssociateGatewayEndpoint {
            endpoint: s.endpoints["s3"].clone(),
            route_table: s.route_table.clone(),
        },
        Action::CreateInterfaceEndpoint {
            vpc: s.vpc.clone(),
            service_name: format!("com.amazonaws.{REGION}.secretsmanager"),
            subnets: vec![s.subnets[0].clone()],
            allow_https_from: s.cidr.clone(),
        },
        Action::AllowHttpsFromVpc {
            security_group: bare,
            cidr: s.cidr.clone(),
        },
        Action::EnablePrivateDns { endpoint: sts },
    ];
    let mut step = 0;
    while let Some(action) = actions.get(step).cloned() {
        step += 1;
        let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
        let accounts = Accounts::new(
            ClientSettings::default().apply(&home.through(&proxy.url).await),
            Some(MemberRole {
                name: MEMBER_ROLE.into(),
                external_id: Some(EXTERNAL_ID.into()),
                max_mode: Mode::Remediate,
            }),
        );
        let config = accounts.config_for(&target.id).await.expect("config");
        let outcome = Remediator::new(&config)
            .apply(&action)
            .await
            .expect("apply");
        assert!(
            matches!(outcome, reachguard_shared::remediation::Outcome::Applied(_)),
            "{action:?}: {outcome:?}"
        );
        if let Action::CreateInterfaceEndpoint { .. } = action {
            let created = seed::endpoints_for(target, &s.vpc, "secretsmanager").await;
            actions.push(Action::AddEndpointSubnet {
                endpoint: created[0].vpc_endpoint_id().expect("id").to_owned(),
                subnet: s.subnets[1].clone(),
            });
        }
        segments.push(Segment {
            roles: &["EventsRole", "SweepRole"],
            actions: vec![action.name()],
            journal: Journal::of(&proxy),
        });
    }
}

/// Runs the code against moto through proxies, one journal per role and action.
async fn record() -> Recorded {
    let home = Account::new().await;
    let org = aws_sdk_organizations::Client::new(&home.config)
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization")
        .organization
        .and_then(|o| o.id)
        .expect("organisation id");
    let topic = queue::create_topic(&home, "findings").await;
    let table = "reachguard-state".to_owned();
    home.create_state_table(&table).await;
    let sweep_queue_url = queue::create(&home, "reachguard-sweep").await;
    let secret = home
        .slack_secret("https://hooks.slack.com/services/T/B/x")
        .await;
    let mut segments = Vec::new();

    // The guard (the event functions and the sweep's worker): collect, evaluate, remediate in a
    // member account, keep state, announce. Mode remediate, the default actions.
    let guarded = Account::new().await;
    seed::broken(&guarded).await;
    seed::nat_only(&guarded).await;
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let home_through = ClientSettings::default().apply(&home.through(&proxy.url).await);
    let settings = Settings::from_env(&Env::from_pairs(&[
        ("REACHGUARD_TOPIC_ARN", &topic),
        ("REACHGUARD_STATE_TABLE", &table),
        ("REACHGUARD_MODE", "remediate"),
        ("REACHGUARD_MEMBER_ROLE", MEMBER_ROLE),
        ("REACHGUARD_EXTERNAL_ID", EXTERNAL_ID),
    ]))
    .expect("settings");
    let guard = Guard::start(settings, home_through).await.expect("guard");
    let evaluated = evaluate_account(&guard, &guarded).await;
    assert!(
        evaluated.remediated > 0,
        "the guard remediated: {evaluated:?}"
    );
    segments.push(Segment {
        roles: &["EventsRole", "SweepRole"],
        actions: ActionName::DEFAULT_ALLOWED.to_vec(),
        journal: Journal::of(&proxy),
    });

    // Every remediation action once in a member account (through the member role) and once in
    // the central account itself (with the function's own role).
    let member = Account::new().await;
    every_action(&home, &member, &mut segments).await;
    every_action(&home, &home, &mut segments).await;

    // The sweep's fan-out: the organisation's accounts, the work queue.
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let config = ClientSettings::default().apply(&home.through(&proxy.url).await);
    let accounts = Organization::new(&config)
        .active_accounts(&org)
        .await
        .expect("ListAccounts");
    assert!(accounts.contains(&home.id), "{accounts:?}");
    WorkQueue::new(&config, &sweep_queue_url)
        .send_all(&["{}".to_owned()])
        .await
        .expect("SendMessageBatch");
    segments.push(Segment {
        roles: &["SweepRole"],
        actions: Vec::new(),
        journal: Journal::of(&proxy),
    });

    // slack-notify: the webhook secret.
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let config = ClientSettings::default().apply(&home.through(&proxy.url).await);
    Secrets::new(&config)
        .webhook_url(&secret)
        .await
        .expect("webhook");
    segments.push(Segment {
        roles: &["SlackRole"],
        actions: Vec::new(),
        journal: Journal::of(&proxy),
    });

    let mut tags = ResourceTags::new();
    for account in [&guarded, &member, &home] {
        let out = account
            .ec2()
            .describe_tags()
            .send()
            .await
            .expect("DescribeTags");
        for tag in out.tags() {
            tags.entry(tag.resource_id().unwrap_or_default().to_owned())
                .or_default()
                .push((
                    tag.key().unwrap_or_default().to_owned(),
                    tag.value().unwrap_or_default().to_owned(),
                ));
        }
    }
    let (_, queue_name) = sweep_queue_url.rsplit_once('/').expect("queue URL");
    Recorded {
        sweep_queue: format!("arn:aws:sqs:{REGION}:{}:{queue_name}", home.id),
        home,
        members: vec![guarded, member],
        org,
        topic,
        table,
        secret,
        segments,
        tags,
    }
}

/// The requests of one journaled call and the caller that made it: a member role session, or
/// the central role the segment stands for.
fn attribute<'r>(
    r: &'r Recorded,
    journal: &Journal,
    call: &Call,
    central_role: &str,
) -> (Caller<'r>, Vec<Request>, bool) {
    let (caller, account, member) = match journal.session_of(call) {
        Some(session) => (
            Caller {
                role_arn: session.role_arn.clone(),
                session_tags: session.tags.clone(),
                org: &r.org,
            },
            session.account().to_owned(),
            true,
        ),
        None => (
            Caller {
                role_arn: central_role_arn(&r.home.id, central_role),
                session_tags: BTreeMap::new(),
                org: &r.org,
            },
            r.home.id.clone(),
            false,
        ),
    };
    let requests = requests::requests(
        call,
        &Target {
            account: &account,
            tags: &r.tags,
        },
    );
    (caller, requests, member)
}

/// Writes no configuration permits, made from the recorded creates: a delete, a create without
/// the tag or with another value or another key, a third-party endpoint service, tags on an
/// existing resource.
fn forbidden(r: &Recorded) -> Vec<Request> {
    let mut out = Vec::new();
    for segment in &r.segments {
        for call in &segment.journal.calls {
            let Some(session) = segment.journal.session_of(call) else {
                continue;
            };
            let target = Target {
                account: session.account(),
                tags: &r.tags,
            };
            for request in requests::requests(call, &target) {
                let created_by = format!("aws:RequestTag/{}", tags::CREATED_BY);
                if !request.context.contains_key(&created_by) {
                    continue;
                }
                let mut untagged = request.clone();
                untagged
                    .context
                    .retain(|k, _| !k.starts_with("aws:RequestTag/"));
                untagged
                    .context
                    .insert("aws:TagKeys".into(), Value::Set(Vec::new()));
                out.push(untagged);
                let mut other = request.clone();
                other
                    .context
                    .insert(created_by.clone(), Value::One("reachguard".into()));
                out.push(other);
                let mut extra = request.clone();
                extra
                    .context
                    .insert("aws:RequestTag/owner".into(), Value::One("someone".into()));
                extra.context.insert(
                    "aws:TagKeys".into(),
                    Value::Set(vec![tags::CREATED_BY.into(), "owner".into()]),
                );
                out.push(extra);
                if request.context.contains_key("ec2:VpceServiceName") {
                    let mut third_party = request.clone();
                    third_party.context.insert(
                        "ec2:VpceServiceName".into(),
                        Value::One(format!(
                            "com.amazonaws.vpce.{REGION}.vpce-svc-0123456789abcdef0"
                        )),
                    );
                    out.push(third_party);
                }
            }
        }
    }
    let member = &r.members[1].id;
    let ec2 = |kind: &str| format!("arn:aws:ec2:{REGION}:{member}:{kind}/*");
    for (action, kind) in [
        ("ec2:DeleteVpcEndpoints", "vpc-endpoint"),
        ("ec2:DeleteSecurityGroup", "security-group"),
        ("ec2:RevokeSecurityGroupIngress", "security-group"),
        ("ec2:DeleteTags", "vpc-endpoint"),
        ("ec2:CreateTags", "vpc"),
        ("ec2:DeleteRoute", "route-table"),
    ] {
        out.push(Request {
            action: action.into(),
            resource: ec2(kind),
            context: BTreeMap::new(),
        });
    }
    out
}

/// Every statement of a policy, one line each.
fn statements(policies: &[Json]) -> Vec<String> {
    policies
        .iter()
        .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            let mut line = format!(
                "{} {} on {}",
                s["Effect"].as_str().unwrap_or_default(),
                s["Action"],
                s.get("Resource").cloned().unwrap_or(json!("(the role)"))
            );
            if let Some(principal) = s.get("Principal") {
                line.push_str(&format!(" for {principal}"));
            }
            if let Some(condition) = s.get("Condition") {
                line.push_str(&format!(" if {condition}"));
            }
            line
        })
        .collect()
}

#[tokio::test]
async fn every_call_the_code_makes_is_allowed_and_every_other_write_denied() {
    let r = record().await;
    let mut failures = Vec::new();
    let mut checked = 0;
    let forbidden = forbidden(&r);
    // role name → statements → the configurations that render them.
    let mut permissions: BTreeMap<String, BTreeMap<Vec<String>, BTreeSet<String>>> =
        BTreeMap::new();

    for central in &CENTRAL {
        let stack = central_stack(&r, central);
        let roles: BTreeMap<&str, RenderedRole> = ["EventsRole", "SweepRole", "SlackRole"]
            .into_iter()
            .filter_map(|name| stack.role(name).map(|role| (name, role)))
            .collect();
        for role in roles.values() {
            permissions
                .entry(format!("central {}", role.name))
                .or_default()
                .entry(statements(&role.policies))
                .or_default()
                .insert(central.label());
        }
        for segment in &r.segments {
            for role_name in segment.roles {
                let role = &roles[role_name];
                for call in &segment.journal.calls {
                    let (caller, requests, member) =
                        attribute(&r, &segment.journal, call, role_name);
                    if member {
                        continue; // the member role's side: below
                    }
                    checked += 1;
                    failures.extend(segment.check(
                        call,
                        role_name,
                        &role.policies,
                        &caller,
                        &requests,
                        central,
                    ));
                }
            }
        }
        for request in &forbidden {
            checked += 1;
            let caller = Caller {
                role_arn: central_role_arn(&r.home.id, "EventsRole"),
                session_tags: BTreeMap::new(),
                org: &r.org,
            };
            if decide(&roles["EventsRole"].policies, &caller, request, false) == Decision::Allow {
                failures.push(format!(
                    "{}: EventsRole ALLOWED {}",
                    central.label(),
                    describe(request)
                ));
            }
        }
    }

    for m in Member::all() {
        for member in &r.members {
            let stack = member_stack(&r, &member.id, &m);
            let role = stack
                .role("MemberRole")
                .expect("MemberRole in the role region");
            if member.id == r.members[0].id {
                let mut lines = statements(&role.policies);
                lines.extend(
                    statements(std::slice::from_ref(&role.trust))
                        .into_iter()
                        .map(|s| format!("trust: {s}")),
                );
                permissions
                    .entry("member MemberRole".into())
                    .or_default()
                    .entry(lines)
                    .or_default()
                    .insert(format!(
                        "AllowRemediation={} AllowedActions={}",
                        m.allow_remediation, m.allowed
                    ));
            }
            for segment in &r.segments {
                for call in &segment.journal.calls {
                    let (mut caller, requests, is_member) =
                        attribute(&r, &segment.journal, call, segment.roles[0]);
                    let assumes_here = call.operation == "AssumeRole"
                        && call
                            .params
                            .get("RoleArn")
                            .is_some_and(|a| a.contains(&member.id));
                    if assumes_here {
                        // The member role's trust policy decides the AssumeRole (and TagSession).
                        for mut request in requests {
                            checked += 1;
                            if request.action == "sts:TagSession" {
                                request.context.insert(
                                    format!("aws:RequestTag/{}", tags::MAX_MODE),
                                    Value::One(m.session_max_mode.to_string()),
                                );
                            }
                            if decide(std::slice::from_ref(&role.trust), &caller, &request, true)
                                != Decision::Allow
                            {
                                failures.push(format!(
                                    "{}: trust DENIED {}",
                                    m.label(),
                                    describe(&request)
                                ));
                            }
                        }
                        continue;
                    }
                    if !is_member || !caller.role_arn.contains(&member.id) {
                        continue;
                    }
                    caller
                        .session_tags
                        .insert(tags::MAX_MODE.into(), m.session_max_mode.to_string());
                    checked += 1;
                    failures.extend(segment.check(
                        call,
                        "MemberRole",
                        &role.policies,
                        &caller,
                        &requests,
                        &m,
                    ));
                }
            }
            let caller = Caller {
                role_arn: format!("arn:aws:iam::{}:role/{MEMBER_ROLE}", member.id),
                session_tags: BTreeMap::from([(
                    tags::MAX_MODE.to_owned(),
                    m.session_max_mode.to_string(),
                )]),
                org: &r.org,
            };
            for request in &forbidden {
                checked += 1;
                if decide(&role.policies, &caller, request, false) == Decision::Allow {
                    failures.push(format!(
                        "{}: MemberRole ALLOWED {}",
                        m.label(),
                        describe(request)
                    ));
                }
            }
        }
    }

    println!("Permissions of every role, per configuration (as rendered and evaluated):");
    for (role, variants) in &permissions {
        for (lines, configurations) in variants {
            let configurations: Vec<&str> = configurations.iter().map(String::as_str).collect();
            println!("\n== {role} — in: {}", configurations.join(" | "));
            for line in lines {
                println!("   {line}");
            }
        }
    }
    let calls: usize = r.segments.iter().map(|s| s.journal.calls.len()).sum();
    println!("\n{calls} journaled calls, {checked} (request, configuration) decisions checked");
    assert!(calls > 0 && checked > 0);
    assert!(
        failures.is_empty(),
        "{} wrong decisions:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every statement of every configuration names resources and condition keys its actions have.
#[test]
fn every_statement_can_match_on_aws() {
    let mut reference = sar::Reference::load();
    let mut problems = BTreeSet::new();
    let values = |home: &str| -> Vec<(&'static str, String)> {
        vec![
            ("AWS::Partition", "aws".into()),
            ("AWS::Region", REGION.into()),
            ("AWS::AccountId", home.into()),
            (
                "FindingsTopic",
                format!("arn:aws:sns:{REGION}:{home}:findings"),
            ),
            (
                "StateTable.Arn",
                format!("arn:aws:dynamodb:{REGION}:{home}:table/state"),
            ),
            (
                "FailureQueue.Arn",
                format!("arn:aws:sqs:{REGION}:{home}:failures"),
            ),
            (
                "SweepQueue.Arn",
                format!("arn:aws:sqs:{REGION}:{home}:sweep"),
            ),
        ]
    };
    let mut roles = Vec::new();
    for c in &CENTRAL {
        for (org, security_hub) in [("", "false"), ("o-exampleorg01", "true")] {
            let stack = Stack::new(
                &template("template.yaml"),
                &[
                    ("Mode", c.mode),
                    ("MaxMode", c.max_mode),
                    ("AllowedActions", c.allowed),
                    ("OrgId", org),
                    ("SecurityHub", security_hub),
                    (
                        "SlackSecretArn",
                        "arn:aws:secretsmanager:us-east-1:111111111111:secret:slack",
                    ),
                ],
                &values("111111111111"),
            );
            roles.extend(
                ["EventsRole", "SweepRole", "SlackRole"]
                    .into_iter()
                    .filter_map(|n| stack.role(n)),
            );
        }
    }
    for m in Member::all() {
        for (external_id, security_hub) in [("", "false"), ("x", "true")] {
            let stack = Stack::new(
                &template("member-account.yaml"),
                &[
                    ("CentralAccountId", "111111111111"),
                    ("OrgId", "o-exampleorg01"),
                    ("ExternalId", external_id),
                    ("SecurityHub", security_hub),
                    (
                        "AllowRemediation",
                        if m.allow_remediation { "true" } else { "false" },
                    ),
                    ("AllowedActions", m.allowed),
                ],
                &values("222222222222"),
            );
            roles.extend(stack.role("MemberRole"));
        }
    }
    let mut statements = 0;
    for role in &roles {
        for (policy, trust) in role
            .policies
            .iter()
            .map(|p| (p, false))
            .chain([(&role.trust, true)])
        {
            for statement in policy["Statement"].as_array().expect("Statement list") {
                statements += 1;
                let list = |v: &Json| -> Vec<String> {
                    match v {
                        Json::String(s) => vec![s.clone()],
                        Json::Array(a) => a
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect(),
                        _ => Vec::new(),
                    }
                };
                let keys: Vec<String> = statement["Condition"]
                    .as_object()
                    .into_iter()
                    .flat_map(|ops| ops.values())
                    .flat_map(|kv| kv.as_object().into_iter().flat_map(|m| m.keys().cloned()))
                    .collect();
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let resources = if trust {
                    vec![None]
                } else {
                    list(&statement["Resource"]).into_iter().map(Some).collect()
                };
                for action in list(&statement["Action"]) {
                    if trust && !action.starts_with("sts:") {
                        continue;
                    }
                    for resource in &resources {
                        for problem in reference.problems(&action, resource.as_deref(), &keys) {
                            problems.insert(format!("{}: {problem}", role.name));
                        }
                    }
                }
            }
        }
    }
    assert!(statements > 0);
    assert!(
        problems.is_empty(),
        "statements that can never match on AWS:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The kill switch: with the central mode `notify`, a member VPC tagged `remediate` is not
/// changed — the code refuses (its session says `notify`), and the member role would deny the
/// write even if the code tried.
#[tokio::test]
async fn with_the_central_mode_notify_a_member_vpc_tagged_remediate_is_not_changed() {
    let home = Account::new().await;
    let member = Account::new().await;
    let s = seed::broken(&member).await;
    seed::tag(&member, &s.vpc, tags::MODE, "remediate").await;
    let topic = queue::create_topic(&home, "findings").await;
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let settings = Settings::from_env(&Env::from_pairs(&[
        ("REACHGUARD_TOPIC_ARN", &topic),
        ("REACHGUARD_MODE", "notify"),
        ("REACHGUARD_ALLOWED_ACTIONS", ALL_ACTIONS),
        ("REACHGUARD_MEMBER_ROLE", MEMBER_ROLE),
    ]))
    .expect("settings");
    let member_role = settings.member_role.clone().expect("member role");
    let home_through = ClientSettings::default().apply(&home.through(&proxy.url).await);
    let guard = Guard::start(settings, home_through.clone())
        .await
        .expect("guard");
    let before = inventory(&member).await;
    let evaluated = evaluate_account(&guard, &member).await;
    assert!(evaluated.findings > 0, "{evaluated:?}");
    assert_eq!(evaluated.remediated, 0, "{evaluated:?}");
    assert_eq!(
        inventory(&member).await,
        before,
        "the tagged VPC was changed"
    );

    // The session the code opened says notify; a write in it is denied by the member role even
    // with AllowRemediation=true and every action allowed.
    let journal = Journal::of(&proxy);
    let session = journal
        .sessions
        .iter()
        .find(|s| s.role_arn.contains(&member.id))
        .expect("a member session");
    assert_eq!(
        session.tags.get(tags::MAX_MODE).map(String::as_str),
        Some("notify")
    );
    let writes: Vec<&Call> = journal
        .calls
        .iter()
        .filter(|c| c.service == "ec2" && !c.operation.starts_with("Describe"))
        .collect();
    assert!(writes.is_empty(), "the code sent writes: {writes:?}");

    // What the member role says about the write the code would have sent: record it (moto
    // enforces nothing) in that same notify session and evaluate it.
    let proxy = FaultProxy::start(moto_url(), Plan::default()).await;
    let accounts = Accounts::new(
        ClientSettings::default().apply(&home.through(&proxy.url).await),
        Some(member_role),
    );
    let config = accounts
        .config_for(&member.id)
        .await
        .expect("member config");
    Remediator::new(&config)
        .apply(&Action::CreateGatewayEndpoint {
            vpc: s.vpc.clone(),
            service_name: format!("com.amazonaws.{REGION}.dynamodb"),
            route_tables: vec![s.route_table.clone()],
        })
        .await
        .expect("apply");
    let journal = Journal::of(&proxy);
    let create = journal
        .calls
        .iter()
        .find(|c| c.operation == "CreateVpcEndpoint")
        .expect("the create");
    let session = journal
        .session_of(create)
        .expect("made in the member session");
    assert_eq!(
        session.tags.get(tags::MAX_MODE).map(String::as_str),
        Some("notify")
    );
    let stack = Stack::new(
        &template("member-account.yaml"),
        &[
            ("CentralAccountId", &home.id),
            ("OrgId", "o-exampleorg01"),
            ("AllowRemediation", "true"),
            ("AllowedActions", ALL_ACTIONS),
        ],
        &[
            ("AWS::Partition", "aws".into()),
            ("AWS::Region", REGION.into()),
            ("AWS::AccountId", member.id.clone()),
        ],
    );
    let role = stack.role("MemberRole").expect("MemberRole");
    let caller = Caller {
        role_arn: session.role_arn.clone(),
        session_tags: session.tags.clone(),
        org: "o-exampleorg01",
    };
    let tags = ResourceTags::new();
    let requests = requests::requests(
        create,
        &Target {
            account: &member.id,
            tags: &tags,
        },
    );
    let decisions: Vec<(String, Decision)> = requests
        .iter()
        .map(|request| {
            (
                describe(request),
                decide(&role.policies, &caller, request, false),
            )
        })
        .collect();
    assert!(
        decisions.iter().any(|(_, d)| *d != Decision::Allow),
        "the member role allows a write in a notify session: {decisions:?}"
    );
}
