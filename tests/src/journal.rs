//! The call journal: every AWS call the code made through a [`FaultProxy`], read back from the
//! wire — the service (the signature's credential scope), the operation, its parameters and the
//! access key that signed it — and every STS `AssumeRole` session (role, session tags, and the
//! access key moto issued), so a later call is attributed to the role session that made it.
//! What the IAM tests evaluate is therefore what the SDK really sent, not a list written by hand.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::proxy::{Exchange, FaultProxy, operation};

/// A call's parameters as sent: the query protocols' form fields (`TagSpecification.1.Tag.1.Key`
/// …), or the JSON protocols' body.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// EC2, STS, SNS, CloudWatch (form-encoded).
    Query(BTreeMap<String, String>),
    /// ECS, DynamoDB, SQS, Organizations, Secrets Manager (`X-Amz-Target` JSON).
    Json(Value),
}

impl Params {
    /// A query field, or a top-level JSON string member.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self {
            Params::Query(fields) => fields.get(name).map(String::as_str),
            Params::Json(body) => body.get(name).and_then(Value::as_str),
        }
    }

    /// The values of the query fields `<prefix>.1`, `<prefix>.2`, … (`<prefix>.N<suffix>` when a
    /// suffix is given), in order.
    pub fn list(&self, prefix: &str, suffix: &str) -> Vec<&str> {
        let Params::Query(fields) = self else {
            return Vec::new();
        };
        (1..)
            .map_while(|n| fields.get(&format!("{prefix}.{n}{suffix}")))
            .map(String::as_str)
            .collect()
    }
}

/// One AWS call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The signing name of the service (`ec2`, `sts`, `monitoring`, …).
    pub service: String,
    /// The region it was signed for.
    pub region: String,
    /// The API operation (`CreateVpcEndpoint`).
    pub operation: String,
    /// The access key that signed it.
    pub access_key: String,
    /// What was sent.
    pub params: Params,
}

/// A role session STS issued to the code: who assumed what, with which session tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The role assumed.
    pub role_arn: String,
    /// Its session tags (`Tags.member.N`).
    pub tags: BTreeMap<String, String>,
    /// The access key of the session's credentials (what its calls are signed with).
    pub access_key: String,
}

impl Session {
    /// The account of the assumed role (`arn:aws:iam::<account>:role/…`).
    pub fn account(&self) -> &str {
        self.role_arn.split(':').nth(4).unwrap_or_default()
    }
}

/// The calls and sessions of one proxy, in order.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    /// Every call that reached moto or was faulted.
    pub calls: Vec<Call>,
    /// Every successful `AssumeRole`.
    pub sessions: Vec<Session>,
}

impl Journal {
    /// Reads the proxy's exchanges so far.
    pub fn of(proxy: &FaultProxy) -> Journal {
        let mut journal = Journal::default();
        for exchange in proxy.exchanges() {
            let Some(call) = call(&exchange) else {
                continue;
            };
            if call.operation == "AssumeRole"
                && let Some(session) = session(&call, &exchange)
            {
                journal.sessions.push(session);
            }
            journal.calls.push(call);
        }
        journal
    }

    /// The session whose credentials signed `call`, if it was made with assumed credentials.
    pub fn session_of(&self, call: &Call) -> Option<&Session> {
        self.sessions
            .iter()
            .find(|s| s.access_key == call.access_key)
    }
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

fn call(exchange: &Exchange) -> Option<Call> {
    // `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, …`
    let authorization = header(&exchange.head, "authorization")?;
    let credential = authorization.split("Credential=").nth(1)?;
    let mut scope = credential.split([',', ' ']).next()?.split('/');
    let access_key = scope.next()?.to_owned();
    let _date = scope.next()?;
    let region = scope.next()?.to_owned();
    let service = scope.next()?.to_owned();
    let params = if header(&exchange.head, "x-amz-target").is_some() {
        Params::Json(serde_json::from_slice(&exchange.body).unwrap_or(Value::Null))
    } else {
        Params::Query(form(&String::from_utf8_lossy(&exchange.body)))
    };
    Some(Call {
        service,
        region,
        operation: operation(&exchange.head, &exchange.body)?,
        access_key,
        params,
    })
}

fn session(call: &Call, exchange: &Exchange) -> Option<Session> {
    let response = String::from_utf8_lossy(exchange.response.as_deref()?).into_owned();
    let access_key = response
        .split("<AccessKeyId>")
        .nth(1)?
        .split("</AccessKeyId>")
        .next()?
        .to_owned();
    let keys = call.params.list("Tags.member", ".Key");
    let values = call.params.list("Tags.member", ".Value");
    Some(Session {
        role_arn: call.params.get("RoleArn")?.to_owned(),
        tags: keys
            .into_iter()
            .zip(values)
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        access_key,
    })
}

/// `a=1&b=x%2By` → {a: 1, b: x+y}.
fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let fields =
            form("Action=CreateTags&Tag.1.Value=reachguard+create-gateway-endpoint&K=a%3Ab&T=%");
        assert_eq!(fields["Action"], "CreateTags");
        assert_eq!(fields["Tag.1.Value"], "reachguard create-gateway-endpoint");
        assert_eq!(fields["K"], "a:b");
        assert_eq!(fields["T"], "%");
    }
}
