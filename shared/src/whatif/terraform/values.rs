//! A planned resource's attribute values, with the values unknown until apply resolved.
//!
//! Terraform prints an unknown value as `true` in `after_unknown` and leaves it out of `after`.
//! When the value is the id of a resource the same plan creates, the plan's `configuration`
//! says which one: the attribute's expression lists `references` (`aws_subnet.a.id`,
//! `aws_route_table.private` + `count.index`, relative to the resource's module). Such a value
//! becomes that resource's **placeholder id**: the AWS prefix of its type and its address,
//! e.g. `subnet-<aws_subnet.a>`, so the model files it as the right kind of resource. A
//! reference to several instances (`count`/`for_each`) picks the instance with the referring
//! resource's own index; a `vpc_id` passed through a module `local` or variable is the one VPC
//! that module instance creates, when it creates exactly one. An unknown value that is not configured is computed by AWS (a route's
//! unused target fields) and counts as absent; one whose references lead to no resource of the
//! plan cannot be resolved, and the resource is not evaluated.

use serde_json::Value;

/// One instance in the plan, as references see it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Full address (`module.vpc.aws_subnet.private[0]`).
    pub address: String,
    /// Module instance (`module.vpc`, empty at the root).
    pub module: String,
    /// `TYPE.NAME`.
    pub resource: String,
    /// Instance key as printed (`0`, `"a"`), if any.
    pub index: Option<String>,
    /// Its id after apply: known, or a placeholder.
    pub id: String,
}

/// A reference to a resource (`aws_subnet.private[0].id` → `aws_subnet.private`, `0`).
fn parse_reference(reference: &str) -> Option<(String, Option<String>)> {
    let (kind, rest) = reference.split_once('.')?;
    if matches!(
        kind,
        "var" | "local" | "data" | "module" | "count" | "each" | "path" | "self" | "terraform"
    ) {
        return None;
    }
    let name_end = rest.find(['.', '[']).unwrap_or(rest.len());
    let name = &rest[..name_end];
    let index = rest[name_end..]
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(index, _)| index.to_string());
    Some((format!("{kind}.{name}"), index))
}

/// The plan's instances, for resolving references.
#[derive(Debug, Default)]
pub(crate) struct Nodes(pub Vec<Node>);

impl Nodes {
    /// The instances `references` (from an expression of `from`) name.
    fn referenced(&self, from: &Node, references: &[String]) -> Vec<&Node> {
        let mut found: Vec<&Node> = Vec::new();
        for (resource, index) in references.iter().filter_map(|r| parse_reference(r)) {
            let candidates: Vec<&Node> = self
                .0
                .iter()
                .filter(|n| n.module == from.module && n.resource == resource)
                .collect();
            let narrowed: Vec<&Node> = match (&index, &from.index) {
                (Some(index), _) => candidates
                    .into_iter()
                    .filter(|n| n.index.as_ref() == Some(index))
                    .collect(),
                (None, Some(own)) if candidates.iter().any(|n| n.index.as_ref() == Some(own)) => {
                    candidates
                        .into_iter()
                        .filter(|n| n.index.as_ref() == Some(own))
                        .collect()
                }
                _ => candidates,
            };
            for node in narrowed {
                if !found.iter().any(|f| f.address == node.address) {
                    found.push(node);
                }
            }
        }
        found
    }
}

/// Why a planned change cannot be applied (it is listed as not evaluated with this reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skip(pub String);

/// The attribute values of one side (`before` or `after`) of a planned change.
pub(crate) struct Attrs<'p> {
    /// Known values.
    pub values: &'p Value,
    /// `after_unknown` (`Null` for `before`).
    pub unknown: &'p Value,
    /// The resource's configuration `expressions` (`Null` when not known).
    pub expressions: &'p Value,
    /// The resource itself.
    pub node: &'p Node,
    /// Every instance of the plan.
    pub nodes: &'p Nodes,
}

/// One step into nested attributes: an object key or a block index.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'a> {
    /// Object member.
    Key(&'a str),
    /// Element of a block list.
    Index(usize),
}

fn walk<'v>(value: &'v Value, path: &[Step<'_>]) -> &'v Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => v.get(k).unwrap_or(&Value::Null),
        Step::Index(i) => v.get(i).unwrap_or(&Value::Null),
    })
}

/// The expression of a nested attribute: a block list with one element serves every index.
fn expression<'v>(expressions: &'v Value, path: &[Step<'_>]) -> &'v Value {
    path.iter().fold(expressions, |v, step| match step {
        Step::Key(k) => v.get(k).unwrap_or(&Value::Null),
        Step::Index(i) => match v.as_array() {
            Some(blocks) if blocks.len() == 1 => &blocks[0],
            Some(blocks) => blocks.get(*i).unwrap_or(&Value::Null),
            None => &Value::Null,
        },
    })
}

fn checked_cidr(path: &[Step<'_>], cidr: &str) -> Result<(), Skip> {
    cidr.parse::<crate::net::Ipv4Cidr>()
        .map(|_| ())
        .map_err(|reason| Skip(format!("{} {cidr:?}: {reason}", describe(path))))
}

fn describe(path: &[Step<'_>]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => (*k).to_string(),
            Step::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

impl<'p> Attrs<'p> {
    /// The known value at `path` (`Null` when absent or unknown).
    pub fn value(&self, path: &[Step<'_>]) -> &'p Value {
        walk(self.values, path)
    }

    /// The number of blocks at `path` (known or unknown).
    pub fn blocks(&self, key: &str) -> usize {
        let known = self.values.get(key).and_then(Value::as_array).map(Vec::len);
        let unknown = self
            .unknown
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::len);
        known.unwrap_or(0).max(unknown.unwrap_or(0))
    }

    fn is_unknown(&self, path: &[Step<'_>]) -> bool {
        walk(self.unknown, path) == &Value::Bool(true)
    }

    /// The resources the expression at `path` references; `None` when not configured with any.
    fn references(&self, path: &[Step<'_>]) -> Option<(Vec<String>, Vec<&'p Node>)> {
        let references: Vec<String> = expression(self.expressions, path)
            .get("references")?
            .as_array()?
            .iter()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        let nodes = self.nodes.referenced(self.node, &references);
        Some((references, nodes))
    }

    fn unresolved(&self, path: &[Step<'_>], references: &[String], why: &str) -> Skip {
        Skip(format!(
            "{} is known only after apply and refers to {} ({why})",
            describe(path),
            references.join(", ")
        ))
    }

    /// A string attribute: known, resolved to a placeholder, or absent (`None`, also for `""`).
    pub fn string(&self, path: &[Step<'_>]) -> Result<Option<String>, Skip> {
        match self.value(path) {
            Value::String(s) if !s.is_empty() => return Ok(Some(s.clone())),
            Value::Number(n) => return Ok(Some(n.to_string())),
            _ => {}
        }
        if !self.is_unknown(path) {
            return Ok(None);
        }
        let Some((references, nodes)) = self.references(path) else {
            return Ok(None);
        };
        match nodes.as_slice() {
            [] => match (path, self.only_vpc_of_module()) {
                ([Step::Key("vpc_id")], Some(vpc)) => Ok(Some(vpc.id.clone())),
                _ => Err(self.unresolved(path, &references, "no resource of this plan")),
            },
            [node] => Ok(Some(node.id.clone())),
            _ => Err(self.unresolved(path, &references, "more than one resource")),
        }
    }

    /// The one VPC this resource's module instance creates, if it creates exactly one: what a
    /// `vpc_id` passed through a `local` or variable of that module means (as in the common
    /// VPC modules, where `vpc_id = local.vpc_id`).
    fn only_vpc_of_module(&self) -> Option<&'p Node> {
        let mut vpcs = self
            .nodes
            .0
            .iter()
            .filter(|n| n.module == self.node.module && n.resource.starts_with("aws_vpc."));
        let vpc = vpcs.next()?;
        vpcs.next().is_none().then_some(vpc)
    }

    /// The resource's own id on this side: `key` when known, else its id after apply.
    pub fn own_id(&self, key: &str) -> String {
        self.values
            .get(key)
            .and_then(Value::as_str)
            .map_or_else(|| self.node.id.clone(), str::to_string)
    }

    /// A required string attribute.
    pub fn required(&self, key: &str) -> Result<String, Skip> {
        let path = [Step::Key(key)];
        self.string(&path)?.ok_or_else(|| {
            Skip(if self.is_unknown(&path) {
                format!("{key} is known only after apply")
            } else {
                format!("{key} is not set")
            })
        })
    }

    /// A list of strings: its known elements, plus the resources its expression references when
    /// part or all of it is unknown.
    pub fn strings(&self, path: &[Step<'_>]) -> Result<Vec<String>, Skip> {
        let mut out: Vec<String> = self
            .value(path)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
            .collect();
        let unknown = walk(self.unknown, path);
        let partly_unknown = unknown == &Value::Bool(true)
            || unknown
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == &Value::Bool(true)));
        if partly_unknown && let Some((references, nodes)) = self.references(path) {
            if nodes.is_empty() {
                return Err(self.unresolved(path, &references, "no resource of this plan"));
            }
            for node in nodes {
                if !out.contains(&node.id) {
                    out.push(node.id.clone());
                }
            }
        }
        Ok(out)
    }

    /// An IPv4 CIDR attribute, checked (the model would reject the whole document otherwise).
    pub fn cidr(&self, path: &[Step<'_>]) -> Result<Option<String>, Skip> {
        let value = self.string(path)?;
        value.iter().try_for_each(|c| checked_cidr(path, c))?;
        Ok(value)
    }

    /// A list of IPv4 CIDRs, each checked.
    pub fn cidrs(&self, path: &[Step<'_>]) -> Result<Vec<String>, Skip> {
        let values = self.strings(path)?;
        values.iter().try_for_each(|c| checked_cidr(path, c))?;
        Ok(values)
    }

    /// A boolean attribute (`default` when absent or unknown).
    pub fn flag(&self, key: &str, default: bool) -> bool {
        self.values
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }

    /// An integer attribute.
    pub fn number(&self, path: &[Step<'_>]) -> Option<i64> {
        let value = self.value(path);
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    }

    /// The `tags` map as EC2 tags.
    pub fn tags(&self) -> Vec<crate::snapshot::Tag> {
        self.values
            .get("tags")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| {
                Some(crate::snapshot::Tag {
                    key: key.clone(),
                    value: value.as_str()?.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(module: &str, resource: &str, index: Option<&str>, id: &str) -> Node {
        Node {
            address: format!(
                "{module}{}{resource}{}",
                if module.is_empty() { "" } else { "." },
                index.map(|i| format!("[{i}]")).unwrap_or_default()
            ),
            module: module.into(),
            resource: resource.into(),
            index: index.map(str::to_string),
            id: id.into(),
        }
    }

    #[test]
    fn references_resolve_to_the_instance_with_the_same_index() {
        let nodes = Nodes(vec![
            node("module.vpc", "aws_subnet.private", Some("0"), "subnet-<0>"),
            node("module.vpc", "aws_subnet.private", Some("1"), "subnet-<1>"),
            node("", "aws_subnet.private", None, "subnet-root"),
            node("module.vpc", "aws_route_table.rt", Some("1"), "rtb-x"),
        ]);
        let from = node("module.vpc", "aws_route_table_association.a", Some("1"), "");
        let root = node("", "aws_route_table_association.a", None, "");
        // (referring resource, references, after_unknown, the id expected or Err(()))
        type Row<'n> = (&'n Node, Value, Value, Result<Option<&'static str>, ()>);
        let cases: [Row<'_>; 7] = [
            (
                &from,
                json!(["aws_subnet.private", "count.index"]),
                json!(true),
                Ok(Some("subnet-<1>")),
            ),
            (
                &from,
                json!(["aws_subnet.private[0].id", "aws_subnet.private[0]"]),
                json!(true),
                Ok(Some("subnet-<0>")),
            ),
            (
                &root,
                json!(["aws_subnet.private.id"]),
                json!(true),
                Ok(Some("subnet-root")),
            ),
            (&root, json!(["var.subnet_id"]), json!(true), Err(())),
            // a vpc_id through a local: the one VPC of the module (see the vpc_id test)
            (&root, json!(["aws_subnet.other"]), json!(true), Err(())),
            // computed by AWS and not configured: absent
            (&root, Value::Null, json!(true), Ok(None)),
            // known values win
            (&root, json!(["aws_subnet.private"]), json!(false), Ok(None)),
        ];
        for (from, references, unknown, expected) in cases {
            let expressions = if references.is_null() {
                json!({})
            } else {
                json!({"subnet_id": {"references": references}})
            };
            let unknown = json!({ "subnet_id": unknown });
            let attrs = Attrs {
                values: &Value::Null,
                unknown: &unknown,
                expressions: &expressions,
                node: from,
                nodes: &nodes,
            };
            let got = attrs.string(&[Step::Key("subnet_id")]);
            match expected {
                Ok(id) => assert_eq!(got, Ok(id.map(str::to_string)), "{references}"),
                Err(()) => assert!(got.is_err(), "{references}: {got:?}"),
            }
        }
    }

    #[test]
    fn a_vpc_id_through_a_local_is_the_one_vpc_of_the_module() {
        let one = Nodes(vec![
            node("module.vpc", "aws_vpc.this", Some("0"), "vpc-<this>"),
            node("", "aws_vpc.other", None, "vpc-<root>"),
        ]);
        let two = Nodes(vec![
            node("module.vpc", "aws_vpc.a", None, "vpc-<a>"),
            node("module.vpc", "aws_vpc.b", None, "vpc-<b>"),
        ]);
        let from = node("module.vpc", "aws_subnet.private", Some("0"), "");
        let expressions = json!({"vpc_id": {"references": ["local.vpc_id"]},
                                 "cidr_block": {"references": ["local.cidr"]}});
        let unknown = json!({"vpc_id": true, "cidr_block": true});
        let attrs = |nodes| Attrs {
            values: &Value::Null,
            unknown: &unknown,
            expressions: &expressions,
            node: &from,
            nodes,
        };
        assert_eq!(
            attrs(&one).string(&[Step::Key("vpc_id")]),
            Ok(Some("vpc-<this>".to_string()))
        );
        assert!(attrs(&two).string(&[Step::Key("vpc_id")]).is_err());
        assert!(attrs(&one).string(&[Step::Key("cidr_block")]).is_err());
    }

    #[test]
    fn lists_take_known_elements_and_every_referenced_resource() {
        let nodes = Nodes(vec![
            node("", "aws_subnet.a", None, "subnet-<a>"),
            node("", "aws_subnet.b", None, "subnet-<b>"),
        ]);
        let from = node("", "aws_vpc_endpoint.e", None, "");
        let values = json!({"subnet_ids": ["subnet-known"]});
        let unknown = json!({"subnet_ids": [false, true, true]});
        let expressions = json!({"subnet_ids": {"references": ["aws_subnet.a.id", "aws_subnet.a", "aws_subnet.b.id"]}});
        let attrs = Attrs {
            values: &values,
            unknown: &unknown,
            expressions: &expressions,
            node: &from,
            nodes: &nodes,
        };
        assert_eq!(
            attrs.strings(&[Step::Key("subnet_ids")]),
            Ok(vec![
                "subnet-known".to_string(),
                "subnet-<a>".to_string(),
                "subnet-<b>".to_string()
            ])
        );
    }
}
