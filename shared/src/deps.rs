//! What a service depends on: the AWS services its tasks must reach, each with the
//! first reason found, computed from launch type, task definition and the `reachguard:needs` tag.

use std::collections::BTreeMap;

use crate::account::is_account_id;
use crate::model::{Launch, Service, Topology};
use crate::snapshot::ContainerDefinition;
use crate::tags::{self, split_list};

/// The pseudo-dependency for anything no VPC endpoint can serve.
pub const INTERNET: &str = "internet";
/// The services S3/DynamoDB gateway endpoints serve.
pub const GATEWAY_SERVICES: [&str; 2] = ["s3", "dynamodb"];

/// A service's dependencies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// Dependency name (`ecr.dkr`, `s3`, `internet`, …) → why it is needed.
    pub needs: BTreeMap<String, String>,
    /// `s3` is needed for ECR image layers: only a gateway endpoint or a default route serves it
    /// (the stricter reading applies even when `s3` is also needed for another reason).
    pub ecr_layers: bool,
}

impl Dependencies {
    fn add(&mut self, name: &str, why: impl FnOnce() -> String) {
        self.needs.entry(name.to_string()).or_insert_with(why);
    }

    /// Dependency names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.needs.keys().map(String::as_str)
    }

    /// True when an interface endpoint for `dependency` could serve it (never `internet`, and not
    /// `s3` needed for ECR layers).
    pub fn interface_endpoint_can_serve(&self, dependency: &str) -> bool {
        dependency != INTERNET && !(dependency == "s3" && self.ecr_layers)
    }

    /// Merges another set (the union the `subnet-not-ready` rule needs).
    pub fn extend(&mut self, other: &Dependencies) {
        for (name, why) in &other.needs {
            self.add(name, || why.clone());
        }
        self.ecr_layers |= other.ecr_layers;
    }
}

/// Computes the dependencies of a service in `topology`'s region.
pub fn of_service(topology: &Topology, service: &Service) -> Dependencies {
    let mut deps = Dependencies::default();
    if service.launch == Launch::Ec2 {
        for name in ["ecs", "ecs-agent", "ecs-telemetry"] {
            deps.add(name, || "EC2 launch type: the ECS agent".to_string());
        }
    }
    let containers = service
        .task_definition
        .as_deref()
        .and_then(|arn| topology.task_definition(arn))
        .map(|t| t.container_definitions.as_slice())
        .unwrap_or_default();
    for container in containers {
        container_dependencies(&topology.region, container, &mut deps);
    }
    if service.exec {
        deps.add("ssmmessages", || "enableExecuteCommand".to_string());
    }
    if let Some(declared) = service.tags.get(tags::NEEDS) {
        for name in split_list(declared) {
            deps.add(name, || format!("declared in the {} tag", tags::NEEDS));
        }
    }
    deps
}

fn container_dependencies(region: &str, c: &ContainerDefinition, deps: &mut Dependencies) {
    let name = c.name.as_deref().unwrap_or("(unnamed)");
    if let Some(image) = &c.image {
        let why = || format!("container {name} pulls image {image}");
        match ecr_region(image) {
            Some(r) if r == region => {
                deps.add("ecr.api", why);
                deps.add("ecr.dkr", why);
                deps.add("s3", || format!("ECR image layers for {image}"));
                deps.ecr_layers = true;
            }
            _ => deps.add(INTERNET, why),
        }
    }
    if let Some(log) = &c.log_configuration {
        if log.log_driver == "awslogs" {
            match log.options.get("awslogs-region") {
                Some(r) if r != region => deps.add(INTERNET, || {
                    format!("container {name} sends logs to region {r}")
                }),
                _ => deps.add("logs", || format!("container {name} logs with awslogs")),
            }
        }
        for secret in &log.secret_options {
            secret_dependency(region, name, &secret.value_from, deps);
        }
    }
    for secret in &c.secrets {
        secret_dependency(region, name, &secret.value_from, deps);
    }
    if let Some(creds) = &c.repository_credentials {
        secret_dependency(region, name, &creds.credentials_parameter, deps);
    }
    for file in c.environment_files.iter().filter(|f| f.file_type == "s3") {
        deps.add("s3", || {
            format!("container {name} loads environment file {}", file.value)
        });
    }
}

/// `secretsmanager`/`ssm` for a `valueFrom` in our region; `internet` for another region.
fn secret_dependency(region: &str, container: &str, value_from: &str, deps: &mut Dependencies) {
    let why = || format!("container {container} reads {value_from}");
    let mut parts = value_from.split(':');
    if parts.next() != Some("arn") {
        deps.add("ssm", why);
        return;
    }
    let (service, arn_region) = (parts.nth(1), parts.next());
    let name = match service {
        Some("secretsmanager") => "secretsmanager",
        Some("ssm") => "ssm",
        _ => return,
    };
    if arn_region.is_some_and(|r| r != region) {
        deps.add(INTERNET, why);
    } else {
        deps.add(name, why);
    }
}

/// The region of a private ECR image (`<acct>.dkr.ecr.<region>.amazonaws.com/...`).
fn ecr_region(image: &str) -> Option<&str> {
    let host = image.split('/').next()?;
    let rest = host.split_once(".dkr.ecr.")?.1;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    let account = host.split('.').next()?;
    is_account_id(account).then_some(region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{self, Snapshot};

    fn deps(service: serde_json::Value, containers: serde_json::Value) -> Dependencies {
        let doc: Snapshot = serde_json::from_value(serde_json::json!({
            "Region": "us-east-1",
            "services": [service],
            "taskDefinitions": [{"taskDefinitionArn": "td", "containerDefinitions": containers}],
        }))
        .unwrap();
        let topology = Topology::from_snapshot(&doc).unwrap();
        of_service(&topology, &topology.services[0])
    }

    fn names(d: &Dependencies) -> Vec<&str> {
        d.names().collect()
    }

    fn fargate() -> serde_json::Value {
        serde_json::json!({"serviceArn": "svc", "launchType": "FARGATE", "taskDefinition": "td"})
    }

    #[test]
    fn launch_type_dependencies() {
        let none = serde_json::json!([]);
        let cases = [
            (
                serde_json::json!({"serviceArn": "s", "launchType": "EC2"}),
                true,
                "EC2 launch type",
            ),
            (
                serde_json::json!({"serviceArn": "s"}),
                true,
                "neither launch type nor strategy",
            ),
            (
                serde_json::json!({"serviceArn": "s", "capacityProviderStrategy": [{"capacityProvider": "my-asg"}]}),
                true,
                "ASG capacity provider",
            ),
            (
                serde_json::json!({"serviceArn": "s", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}, {"capacityProvider": "FARGATE_SPOT"}]}),
                false,
                "Fargate providers only",
            ),
            (
                serde_json::json!({"serviceArn": "s", "launchType": "FARGATE"}),
                false,
                "Fargate launch type",
            ),
        ];
        for (service, ecs, case) in cases {
            let d = deps(service, none.clone());
            assert_eq!(d.needs.contains_key("ecs-agent"), ecs, "{case}");
            assert_eq!(d.needs.contains_key("ecs-telemetry"), ecs, "{case}");
        }
    }

    #[test]
    fn container_dependencies_follow_rules_md_section_1() {
        let cases: [(serde_json::Value, &[&str], bool, &str); 11] = [
            (
                serde_json::json!({"image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/app:1"}),
                &["ecr.api", "ecr.dkr", "s3"],
                true,
                "private ECR, same region",
            ),
            (
                serde_json::json!({"image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1"}),
                &["internet"],
                false,
                "ECR of another region",
            ),
            (
                serde_json::json!({"image": "public.ecr.aws/nginx/nginx:latest"}),
                &["internet"],
                false,
                "public ECR",
            ),
            (
                serde_json::json!({"image": "nginx:latest"}),
                &["internet"],
                false,
                "Docker Hub",
            ),
            (
                serde_json::json!({"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "us-east-1"}}}),
                &["logs"],
                false,
                "awslogs",
            ),
            (
                serde_json::json!({"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "eu-west-1"}}}),
                &["internet"],
                false,
                "awslogs in another region",
            ),
            (
                serde_json::json!({"logConfiguration": {"logDriver": "splunk", "secretOptions": [{"name": "t", "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/t"}]}}),
                &["ssm"],
                false,
                "other driver, secret option",
            ),
            (
                serde_json::json!({"secrets": [{"name": "a", "valueFrom": "arn:aws:secretsmanager:us-east-1:111122223333:secret:a"}, {"name": "b", "valueFrom": "db-password"}]}),
                &["secretsmanager", "ssm"],
                false,
                "secret ARN and bare parameter",
            ),
            (
                serde_json::json!({"secrets": [{"name": "a", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:a"}]}),
                &["internet"],
                false,
                "secret of another region",
            ),
            (
                serde_json::json!({"repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:111122223333:secret:hub"}}),
                &["secretsmanager"],
                false,
                "repository credentials",
            ),
            (
                serde_json::json!({"environmentFiles": [{"value": "arn:aws:s3:::bucket/app.env", "type": "s3"}]}),
                &["s3"],
                false,
                "environment file",
            ),
        ];
        for (container, expected, layers, case) in cases {
            let d = deps(fargate(), serde_json::json!([container]));
            assert_eq!(names(&d), expected, "{case}");
            assert_eq!(d.ecr_layers, layers, "{case}");
        }
    }

    #[test]
    fn exec_and_declared_needs() {
        let mut service = fargate();
        service["enableExecuteCommand"] = true.into();
        service["tags"] =
            serde_json::json!([{"key": "reachguard:needs", "value": "dynamodb sqs/sts"}]);
        let d = deps(service, serde_json::json!([]));
        assert_eq!(names(&d), ["dynamodb", "sqs", "ssmmessages", "sts"]);
    }

    #[test]
    fn unknown_task_definition_keeps_launch_and_declared_dependencies() {
        let doc = Snapshot {
            services: vec![snapshot::EcsService {
                service_arn: "svc".into(),
                task_definition: Some("missing".into()),
                tags: vec![snapshot::EcsTag {
                    key: "reachguard:needs".into(),
                    value: "sqs".into(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let topology = Topology::from_snapshot(&doc).unwrap();
        let d = of_service(&topology, &topology.services[0]);
        assert_eq!(names(&d), ["ecs", "ecs-agent", "ecs-telemetry", "sqs"]);
    }

    #[test]
    fn interface_endpoints_never_serve_ecr_layers() {
        let d = deps(
            fargate(),
            serde_json::json!([{"image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/app"}, {"environmentFiles": [{"value": "arn:aws:s3:::b/k", "type": "s3"}]}]),
        );
        assert!(
            !d.interface_endpoint_can_serve("s3"),
            "stricter reading wins"
        );
        assert!(d.interface_endpoint_can_serve("ecr.dkr"));
        assert!(!d.interface_endpoint_can_serve(INTERNET));
    }
}
