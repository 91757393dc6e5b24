//! Renders a CloudFormation template's IAM policies for one set of parameters: resolves the
//! intrinsics the templates use (`Ref`, `Fn::Sub`, `Fn::GetAtt`, `Fn::If`, `Fn::Join`,
//! `Fn::Split`, `Fn::Select`, and the condition functions), drops `AWS::NoValue` and resources
//! whose condition is false. Nothing maintained does this offline for arbitrary parameters
//! (cfn-lint resolves conditions only to check them), so it is small and strict: an intrinsic it
//! does not know fails the test instead of rendering something else.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use serde_norway::Value;

/// A template with its parameters: what CloudFormation would evaluate.
pub struct Stack {
    template: Value,
    /// Parameter values (defaults filled in), pseudo parameters, and the physical ids / ARNs the
    /// test gives the template's resources (`FindingsTopic`, `StateTable.Arn`, …).
    values: BTreeMap<String, String>,
    conditions: BTreeMap<String, bool>,
}

/// A role as rendered: its identity policies and its trust policy, as IAM JSON.
#[derive(Debug, Clone)]
pub struct RenderedRole {
    /// The role's logical id.
    pub name: String,
    /// Managed (of this template) and inline policy documents.
    pub policies: Vec<Json>,
    /// `AssumeRolePolicyDocument`.
    pub trust: Json,
}

const NO_VALUE: &str = "AWS::NoValue";

impl Stack {
    /// `template` (YAML with CloudFormation tags) with `parameters` over its defaults and
    /// `values` for pseudo parameters and resources.
    pub fn new(template: &str, parameters: &[(&str, &str)], values: &[(&str, String)]) -> Stack {
        let template: Value = serde_norway::from_str(template).expect("template YAML");
        let mut all: BTreeMap<String, String> = template["Parameters"]
            .as_mapping()
            .expect("Parameters")
            .iter()
            .filter_map(|(name, p)| {
                let default = match &p["Default"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some((name.as_str()?.to_owned(), default))
            })
            .collect();
        for (name, value) in parameters {
            assert!(
                template["Parameters"].get(name).is_some(),
                "no parameter {name}"
            );
            all.insert((*name).to_owned(), (*value).to_owned());
        }
        for (name, value) in values {
            all.insert((*name).to_owned(), value.clone());
        }
        let mut stack = Stack {
            template,
            values: all,
            conditions: BTreeMap::new(),
        };
        let names: Vec<String> = stack.template["Conditions"]
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for name in names {
            let value = stack.condition(&name);
            stack.conditions.insert(name, value);
        }
        stack
    }

    /// The value of a condition of the `Conditions` section.
    pub fn condition(&self, name: &str) -> bool {
        if let Some(known) = self.conditions.get(name) {
            return *known;
        }
        let expression = self.template["Conditions"]
            .get(name)
            .unwrap_or_else(|| panic!("no condition {name}"));
        self.truth(expression)
    }

    /// A role resource, with the policies attached to it.
    pub fn role(&self, logical_id: &str) -> Option<RenderedRole> {
        let resource = self.resource(logical_id)?;
        let properties = &resource["Properties"];
        let mut policies = Vec::new();
        if let Some(arns) = self.render(&properties["ManagedPolicyArns"]) {
            for arn in arns.as_array().expect("ManagedPolicyArns list") {
                let arn = arn.as_str().expect("a policy ARN");
                // `!Ref <ManagedPolicy>` renders as `policy:<logical id>` (see `reference`).
                if let Some(policy) = arn.strip_prefix("policy:") {
                    let document = self
                        .resource(policy)
                        .map(|p| self.render(&p["Properties"]["PolicyDocument"]))
                        .unwrap_or_else(|| panic!("{policy} is referenced but absent"))
                        .expect("a policy document");
                    policies.push(document);
                }
            }
        }
        if let Some(inline) = self.render(&properties["Policies"]) {
            for policy in inline.as_array().expect("Policies list") {
                policies.push(policy["PolicyDocument"].clone());
            }
        }
        // Policies that attach themselves to the role (`Roles: [!Ref <role>]`), when they exist.
        let resources = self.template["Resources"].as_mapping().expect("Resources");
        for name in resources.keys().filter_map(Value::as_str) {
            let Some(policy) = self.resource(name) else {
                continue;
            };
            let kind = policy["Type"].as_str();
            let attached = matches!(kind, Some("AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy"))
                && policy["Properties"]["Roles"]
                    .as_sequence()
                    .is_some_and(|roles| roles.iter().any(|r| refers_to(r, logical_id)));
            if attached {
                let document = self.render(&policy["Properties"]["PolicyDocument"]);
                policies.push(document.expect("a policy document"));
            }
        }
        Some(RenderedRole {
            name: logical_id.to_owned(),
            policies,
            trust: self
                .render(&properties["AssumeRolePolicyDocument"])
                .expect("AssumeRolePolicyDocument"),
        })
    }

    /// A resource when it exists under these parameters.
    fn resource(&self, logical_id: &str) -> Option<&Value> {
        let resource = self.template["Resources"].get(logical_id)?;
        match resource.get("Condition").and_then(Value::as_str) {
            Some(condition) if !self.condition(condition) => None,
            _ => Some(resource),
        }
    }

    fn truth(&self, expression: &Value) -> bool {
        match self.render(expression) {
            Some(Json::Bool(b)) => b,
            other => panic!("a condition rendered to {other:?}"),
        }
    }

    /// Renders `value`; `None` is `AWS::NoValue` (or a missing node).
    fn render(&self, value: &Value) -> Option<Json> {
        match value {
            Value::Null => None,
            Value::Bool(b) => Some(Json::Bool(*b)),
            Value::Number(n) => Some(serde_json::to_value(n).expect("number")),
            Value::String(s) => Some(Json::String(s.clone())),
            Value::Sequence(items) => Some(Json::Array(
                items.iter().filter_map(|i| self.render(i)).collect(),
            )),
            Value::Mapping(map) => {
                if map.len() == 1
                    && let Some((key, arg)) = map.iter().next()
                    && let Some(function) = key
                        .as_str()
                        .and_then(|k| k.strip_prefix("Fn::").or((k == "Ref").then_some(k)))
                {
                    return self.intrinsic(function, arg);
                }
                let mut out = Map::new();
                for (k, v) in map {
                    if let Some(v) = self.render(v) {
                        out.insert(k.as_str().expect("string key").to_owned(), v);
                    }
                }
                Some(Json::Object(out))
            }
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let function = tag.trim_start_matches('!');
                self.intrinsic(function, &tagged.value)
            }
        }
    }

    fn intrinsic(&self, function: &str, arg: &Value) -> Option<Json> {
        let list = || arg.as_sequence().expect("a list argument").as_slice();
        let string = |v: &Value| -> String {
            match self.render(v) {
                Some(Json::String(s)) => s,
                other => panic!("{function}: expected a string, got {other:?}"),
            }
        };
        Some(match function {
            "Ref" => return self.reference(arg.as_str().expect("Ref name")),
            "Condition" => Json::Bool(self.condition(arg.as_str().expect("condition name"))),
            "If" => {
                let [condition, then, otherwise] = list() else {
                    panic!("Fn::If takes three arguments")
                };
                let branch = if self.condition(condition.as_str().expect("condition name")) {
                    then
                } else {
                    otherwise
                };
                return self.render(branch);
            }
            "Equals" => {
                let [a, b] = list() else {
                    panic!("Fn::Equals takes two arguments")
                };
                Json::Bool(self.render(a) == self.render(b))
            }
            "Not" => Json::Bool(!self.truth(&list()[0])),
            "And" => Json::Bool(list().iter().all(|c| self.truth(c))),
            "Or" => Json::Bool(list().iter().any(|c| self.truth(c))),
            "Sub" => Json::String(self.substitute(&string(arg))),
            "GetAtt" => {
                let name = match arg {
                    Value::String(s) => s.clone(),
                    other => other
                        .as_sequence()
                        .expect("GetAtt")
                        .iter()
                        .map(|p| p.as_str().expect("GetAtt part"))
                        .collect::<Vec<_>>()
                        .join("."),
                };
                Json::String(self.value(&name))
            }
            "Join" => {
                let [separator, items] = list() else {
                    panic!("Fn::Join takes two arguments")
                };
                let items = self.render(items).expect("Join items");
                let parts: Vec<&str> = items
                    .as_array()
                    .expect("Join list")
                    .iter()
                    .map(|p| p.as_str().expect("Join part"))
                    .collect();
                Json::String(parts.join(separator.as_str().expect("Join separator")))
            }
            "Split" => {
                let [separator, text] = list() else {
                    panic!("Fn::Split takes two arguments")
                };
                let separator = separator.as_str().expect("Split separator");
                Json::Array(
                    string(text)
                        .split(separator)
                        .map(|p| Json::String(p.to_owned()))
                        .collect(),
                )
            }
            other => panic!("the renderer does not know Fn::{other}: teach it (iam/render.rs)"),
        })
    }

    /// `Ref`: a parameter or pseudo parameter, `AWS::NoValue`, or a resource (a managed
    /// policy renders as `policy:<logical id>`, others as the value the test gave them).
    fn reference(&self, name: &str) -> Option<Json> {
        if name == NO_VALUE {
            return None;
        }
        if let Some(Value::Mapping(resource)) = self.template["Resources"].get(name)
            && resource.get("Type").and_then(Value::as_str) == Some("AWS::IAM::ManagedPolicy")
        {
            return Some(Json::String(format!("policy:{name}")));
        }
        Some(Json::String(self.value(name)))
    }

    fn value(&self, name: &str) -> String {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("the test gives no value for {name}"))
            .clone()
    }

    /// `${Name}` and `${Resource.Attribute}` in `text`.
    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("closing brace") + start;
            out.push_str(&self.value(&rest[start + 2..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Whether `value` is `!Ref <logical_id>` (or `{Ref: <logical_id>}`).
fn refers_to(value: &Value, logical_id: &str) -> bool {
    match value {
        Value::Tagged(tagged) => {
            tagged.tag.to_string().trim_start_matches('!') == "Ref"
                && tagged.value.as_str() == Some(logical_id)
        }
        Value::Mapping(map) => {
            map.len() == 1 && map.get("Ref").and_then(Value::as_str) == Some(logical_id)
        }
        _ => false,
    }
}
