//! A Terraform JSON plan (`terraform show -json PLANFILE`, the documented format) applied to the
//! snapshot document: each `resource_changes[]` entry of a modelled type is created, updated,
//! deleted or replaced on the copy; values unknown until apply become placeholder ids
//! ([`values`]); a replaced resource keeps its current id, so findings about it carry over
//! and whatever the plan re-points at it lands on it. Every managed resource the plan changes is either applied or listed as not
//! evaluated, with the reason: a type reachguard does not model, an id the snapshot lacks, an
//! unknown value that cannot be resolved.
//!
//! Order: VPCs first, then the resources that live in them (subnets, route tables, security
//! groups, ACLs, gateways, task definitions), then endpoints and NAT gateways, then what links
//! them (routes, associations, rules, ECS services), so a reference always finds its target.

mod resources;
mod values;

use serde::Deserialize;
use serde_json::Value;

use super::{Edited, NotEvaluated, WhatIfError};
use crate::snapshot::Snapshot;
use resources::Kind;
use values::{Attrs, Node, Nodes, Skip};

/// The resource types a plan is applied for (the others are listed as not evaluated).
pub fn supported_types() -> impl Iterator<Item = &'static str> {
    resources::KINDS.iter().map(|k| k.resource_type)
}

#[derive(Deserialize)]
struct Plan {
    format_version: String,
    #[serde(default)]
    resource_changes: Vec<ResourceChange>,
    #[serde(default)]
    configuration: Value,
}

#[derive(Deserialize)]
struct ResourceChange {
    address: String,
    #[serde(default)]
    module_address: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(rename = "type")]
    resource_type: String,
    name: String,
    #[serde(default)]
    index: Option<Value>,
    change: PlannedChange,
}

#[derive(Deserialize)]
struct PlannedChange {
    actions: Vec<String>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
}

/// What a planned change does to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Delete,
    Replace,
}

impl Action {
    /// The action of `actions`; `None` for no change (`no-op`, `read`, `forget`).
    fn of(actions: &[String]) -> Result<Option<Action>, String> {
        let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
        Ok(Some(match actions.as_slice() {
            ["no-op"] | ["read"] | ["forget"] => return Ok(None),
            ["create"] => Action::Create,
            ["update"] => Action::Update,
            ["delete"] => Action::Delete,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            other => return Err(format!("unknown actions {other:?}")),
        }))
    }

    fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Replace => "replace",
        }
    }
}

/// Parses a plan, naming the JSON path of the first problem.
fn parse(text: &str) -> Result<Plan, WhatIfError> {
    // serde would also read a positional array as a struct; a plan is an object.
    if !text.trim_start().starts_with('{') {
        return Err(WhatIfError::Plan(
            "expected a JSON object with format_version and resource_changes".into(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        WhatIfError::Plan(format!("{path}: {}", e.into_inner()))
    })
}

/// `module.a[0].aws_x.b["k"]` without instance keys: `module.a.aws_x.b`.
fn without_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every resource's `expressions` in `configuration`, by address without instance keys.
fn expressions(configuration: &Value) -> Vec<(String, &Value)> {
    fn walk<'c>(module: &'c Value, prefix: &str, out: &mut Vec<(String, &'c Value)>) {
        for resource in module
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(address), Some(expressions)) = (
                resource.get("address").and_then(Value::as_str),
                resource.get("expressions"),
            ) {
                out.push((format!("{prefix}{address}"), expressions));
            }
        }
        for (name, call) in module
            .get("module_calls")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(inner) = call.get("module") {
                walk(inner, &format!("{prefix}module.{name}."), out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(root) = configuration.get("root_module") {
        walk(root, "", &mut out);
    }
    out
}

/// The id a planned resource has after apply: known, or the id of the resource it replaces
/// (so findings about it carry over), or a placeholder for a resource the plan creates.
fn id_after(doc: &Snapshot, change: &ResourceChange, kind: Option<&Kind>) -> String {
    let key = kind.map_or("id", |k| k.id_key);
    let known = |side: &Value| side.get(key).and_then(Value::as_str).map(str::to_string);
    known(&change.change.after)
        .or_else(|| known(&change.change.before))
        .unwrap_or_else(|| match kind {
            Some(kind) => (kind.placeholder)(doc, &change.address, &change.change.after),
            None => format!("<{}>", change.address),
        })
}

/// Applies the plan's `resource_changes` to a copy of `doc`.
pub fn apply(doc: &Snapshot, plan_json: &str) -> Result<Edited, WhatIfError> {
    let plan = parse(plan_json)?;
    if !plan.format_version.starts_with("0.") && !plan.format_version.starts_with("1.") {
        return Err(WhatIfError::Plan(format!(
            "format_version {:?} is not one this reachguard reads (0.x, 1.x)",
            plan.format_version
        )));
    }
    let managed: Vec<&ResourceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| c.mode.as_deref().is_none_or(|m| m == "managed"))
        .collect();
    let nodes = Nodes(
        managed
            .iter()
            .map(|change| Node {
                address: change.address.clone(),
                module: change.module_address.clone().unwrap_or_default(),
                resource: format!("{}.{}", change.resource_type, change.name),
                index: change.index.as_ref().map(Value::to_string),
                id: id_after(doc, change, resources::kind(&change.resource_type)),
            })
            .collect(),
    );
    let configured = expressions(&plan.configuration);
    let mut order: Vec<usize> = (0..managed.len()).collect();
    order.sort_by_key(|&i| resources::kind(&managed[i].resource_type).map_or(u8::MAX, |k| k.phase));
    let mut edited = Edited {
        snapshot: doc.clone(),
        ..Edited::default()
    };
    for i in order {
        let change = managed[i];
        let action = Action::of(&change.change.actions).map_err(|reason| {
            WhatIfError::Plan(format!(
                "resource_changes[{i}] ({}): {reason}",
                change.address
            ))
        })?;
        let Some(action) = action else { continue };
        let not_evaluated = |reason: String| NotEvaluated {
            resource: change.address.clone(),
            reason,
        };
        let Some(kind) = resources::kind(&change.resource_type) else {
            edited.not_evaluated.push(not_evaluated(format!(
                "{} is not part of reachguard's model",
                change.resource_type
            )));
            continue;
        };
        let config_address = without_keys(&change.address);
        let expressions = configured
            .iter()
            .find(|(address, _)| *address == config_address)
            .map_or(&Value::Null, |(_, e)| *e);
        let node = &nodes.0[i];
        let before = Attrs {
            values: &change.change.before,
            unknown: &Value::Null,
            expressions: &Value::Null,
            node,
            nodes: &nodes,
        };
        let after = Attrs {
            values: &change.change.after,
            unknown: &change.change.after_unknown,
            expressions,
            node,
            nodes: &nodes,
        };
        match apply_one(&edited.snapshot, kind, action, &before, &after) {
            Ok(snapshot) => {
                edited.snapshot = snapshot;
                edited
                    .applied
                    .push(format!("{} {}", action.verb(), change.address));
            }
            Err(Skip(reason)) => edited.not_evaluated.push(not_evaluated(reason)),
        }
    }
    Ok(edited)
}

/// One change on a copy of the document (so a change that cannot be applied leaves no trace).
fn apply_one(
    doc: &Snapshot,
    kind: &Kind,
    action: Action,
    before: &Attrs<'_>,
    after: &Attrs<'_>,
) -> Result<Snapshot, Skip> {
    if !kind.linked && action != Action::Create {
        let id = before.own_id(kind.id_key);
        if !resources::in_snapshot(doc, kind, &id) {
            return Err(Skip(format!(
                "{id} is not in the snapshot (another account or region, or a stale snapshot?)"
            )));
        }
    }
    let mut doc = doc.clone();
    match action {
        Action::Create => (kind.upsert)(&mut doc, after)?,
        Action::Delete => (kind.remove)(&mut doc, before)?,
        Action::Update if !kind.linked => (kind.upsert)(&mut doc, after)?,
        Action::Update | Action::Replace => {
            (kind.remove)(&mut doc, before)?;
            (kind.upsert)(&mut doc, after)?;
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests;
