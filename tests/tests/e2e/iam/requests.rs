//! What IAM authorises for one journaled call: the action, each resource ARN the request names
//! (AWS authorises every one of them), and the request-context keys the call carries — request
//! tags and tag keys from `TagSpecification`, `ec2:CreateAction` for tag-on-create, the
//! endpoint's service name, the resources' own tags (read from moto), the session's principal
//! tags. This table of operations is the only hand-written part: an operation it does not know
//! fails the test, so a new SDK call cannot slip past the policy checks.

use std::collections::BTreeMap;

use reachguard_tests::journal::{Call, Params};

/// A context value: one string, or a set (`aws:TagKeys`, a list-valued key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Single-valued key.
    One(String),
    /// Multivalued key.
    Set(Vec<String>),
}

/// One (action, resource) pair IAM evaluates, with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `ec2:CreateVpcEndpoint`.
    pub action: String,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: String,
    /// Condition keys present in the request.
    pub context: BTreeMap<String, Value>,
}

impl Request {
    fn new(action: impl Into<String>, resource: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    fn with(mut self, key: impl Into<String>, value: Value) -> Request {
        self.context.insert(key.into(), value);
        self
    }

    /// `aws:RequestTag/<key>` for each tag and `aws:TagKeys`.
    pub fn with_request_tags(mut self, tags: &[(String, String)]) -> Request {
        for (key, value) in tags {
            self.context
                .insert(format!("aws:RequestTag/{key}"), Value::One(value.clone()));
        }
        self.context.insert(
            "aws:TagKeys".into(),
            Value::Set(tags.iter().map(|(k, _)| k.clone()).collect()),
        );
        self
    }
}

/// The tags of existing resources, by id (read from moto after the run).
pub type ResourceTags = BTreeMap<String, Vec<(String, String)>>;

/// Where a call runs: the account and region its resources live in.
pub struct Target<'a> {
    /// The account of the credentials that made the call.
    pub account: &'a str,
    /// Existing resources' tags.
    pub tags: &'a ResourceTags,
}

/// The requests IAM evaluates for `call`; empty for calls that need no permission
/// (`GetCallerIdentity`).
pub fn requests(call: &Call, target: &Target) -> Vec<Request> {
    let region = &call.region;
    let account = target.account;
    let p = &call.params;
    let ec2 = |kind: &str, id: &str| format!("arn:aws:ec2:{region}:{account}:{kind}/{id}");
    let existing = |kind: &str, id: &str, action: &str| {
        let mut request = Request::new(action, ec2(kind, id));
        for (key, value) in target.tags.get(id).into_iter().flatten() {
            request = request.with(format!("aws:ResourceTag/{key}"), Value::One(value.clone()));
        }
        request
    };
    // The existing resources named in the list parameters `fields` (parameter, resource type).
    let listed = |fields: [(&str, &str); 3], action: &str| {
        let mut out = Vec::new();
        for (field, kind) in fields {
            for id in p.list(field, "") {
                out.push(existing(kind, id, action));
            }
        }
        out
    };
    let op = call.operation.as_str();
    match (call.service.as_str(), op) {
        ("sts", "GetCallerIdentity") => Vec::new(),
        ("sts", "AssumeRole") => {
            let role = p.get("RoleArn").expect("RoleArn").to_owned();
            let mut assume = Request::new("sts:AssumeRole", &role);
            if let Some(id) = p.get("ExternalId") {
                assume = assume.with("sts:ExternalId", Value::One(id.to_owned()));
            }
            let tags = session_tags(p);
            if tags.is_empty() {
                vec![assume]
            } else {
                vec![
                    assume,
                    Request::new("sts:TagSession", role).with_request_tags(&tags),
                ]
            }
        }
        ("ec2", describe) if describe.starts_with("Describe") => {
            vec![Request::new(format!("ec2:{describe}"), "*")]
        }
        ("ec2", "CreateVpcEndpoint") => {
            let mut out = created(p, "vpc-endpoint", "CreateVpcEndpoint", region, account);
            if let Some(first) = out.first_mut()
                && let Some(service) = p.get("ServiceName")
            {
                first
                    .context
                    .insert("ec2:VpceServiceName".into(), Value::One(service.to_owned()));
            }
            let action = "ec2:CreateVpcEndpoint";
            out.push(existing("vpc", p.get("VpcId").expect("VpcId"), action));
            out.extend(listed(
                [
                    ("SubnetId", "subnet"),
                    ("RouteTableId", "route-table"),
                    ("SecurityGroupId", "security-group"),
                ],
                action,
            ));
            out
        }
        ("ec2", "CreateSecurityGroup") => {
            let mut out = created(p, "security-group", "CreateSecurityGroup", region, account);
            out.push(existing(
                "vpc",
                p.get("VpcId").expect("VpcId"),
                "ec2:CreateSecurityGroup",
            ));
            out
        }
        ("ec2", "AuthorizeSecurityGroupIngress") => {
            let action = "ec2:AuthorizeSecurityGroupIngress";
            vec![
                existing("security-group", p.get("GroupId").expect("GroupId"), action),
                Request::new(action, ec2("security-group-rule", "*")),
            ]
        }
        ("ec2", "ModifyVpcEndpoint") => {
            let action = "ec2:ModifyVpcEndpoint";
            let mut out = vec![existing(
                "vpc-endpoint",
                p.get("VpcEndpointId").expect("VpcEndpointId"),
                action,
            )];
            out.extend(listed(
                [
                    ("AddRouteTableId", "route-table"),
                    ("AddSubnetId", "subnet"),
                    ("AddSecurityGroupId", "security-group"),
                ],
                action,
            ));
            out
        }
        ("ecs", _) | ("monitoring", _) | ("organizations", _) => {
            let prefix = match call.service.as_str() {
                "monitoring" => "cloudwatch",
                other => other,
            };
            vec![Request::new(format!("{prefix}:{op}"), "*")]
        }
        ("sns", "Publish") => vec![Request::new(
            "sns:Publish",
            p.get("TopicArn").expect("TopicArn"),
        )],
        ("dynamodb", _) => {
            let Params::Json(body) = p else {
                panic!("DynamoDB speaks JSON")
            };
            let tables: Vec<String> = match body.get("TableName").and_then(|t| t.as_str()) {
                Some(table) => vec![table.to_owned()],
                None => body
                    .get("RequestItems")
                    .and_then(|r| r.as_object())
                    .map(|items| items.keys().cloned().collect())
                    .unwrap_or_else(|| panic!("{op}: which table? teach iam/requests.rs")),
            };
            tables
                .iter()
                .map(|t| {
                    Request::new(
                        format!("dynamodb:{op}"),
                        format!("arn:aws:dynamodb:{region}:{account}:table/{t}"),
                    )
                })
                .collect()
        }
        ("sqs", _) => {
            // `SendMessageBatch` is authorised as `sqs:SendMessage`.
            let action = op.strip_suffix("Batch").unwrap_or(op);
            let url = p.get("QueueUrl").expect("QueueUrl");
            let mut path = url.rsplit('/');
            let name = path.next().expect("queue name");
            let owner = path.next().expect("queue owner");
            vec![Request::new(
                format!("sqs:{action}"),
                format!("arn:aws:sqs:{region}:{owner}:{name}"),
            )]
        }
        ("secretsmanager", "GetSecretValue") => vec![Request::new(
            "secretsmanager:GetSecretValue",
            p.get("SecretId").expect("SecretId"),
        )],
        (service, op) => panic!(
            "the journal has {service}:{op}, which iam/requests.rs does not know: add its \
             resources and context keys"
        ),
    }
}

/// A create with tag-on-create: the new resource (request tags of its `TagSpecification`) and
/// `ec2:CreateTags` on it (`ec2:CreateAction`), as AWS authorises both.
fn created(p: &Params, kind: &str, create: &str, region: &str, account: &str) -> Vec<Request> {
    let arn = format!("arn:aws:ec2:{region}:{account}:{kind}/*");
    let tags = tag_specification(p, kind);
    let mut out = vec![Request::new(format!("ec2:{create}"), &arn).with_request_tags(&tags)];
    if !tags.is_empty() {
        out.push(
            Request::new("ec2:CreateTags", arn)
                .with("ec2:CreateAction", Value::One(create.to_owned()))
                .with_request_tags(&tags),
        );
    }
    out
}

/// The tags of the `TagSpecification` whose `ResourceType` is `kind`.
fn tag_specification(p: &Params, kind: &str) -> Vec<(String, String)> {
    (1..)
        .map_while(|n| {
            let prefix = format!("TagSpecification.{n}");
            p.get(&format!("{prefix}.ResourceType"))
                .map(|t| (t.to_owned(), prefix))
        })
        .filter(|(t, _)| t == kind)
        .flat_map(|(_, prefix)| {
            let keys = p.list(&format!("{prefix}.Tag"), ".Key");
            let values = p.list(&format!("{prefix}.Tag"), ".Value");
            keys.into_iter()
                .zip(values)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn session_tags(p: &Params) -> Vec<(String, String)> {
    let keys = p.list("Tags.member", ".Key");
    let values = p.list("Tags.member", ".Value");
    keys.into_iter()
        .zip(values)
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
