//! AWS Organizations: the active accounts of the organisation the sweep covers.

use aws_config::SdkConfig;
use aws_sdk_organizations::types::AccountStatus;

use super::error::AdapterError;

/// The organisation's accounts, read through `ListAccounts` (the management account or a
/// delegated administrator may call it).
#[derive(Debug, Clone)]
pub struct Organization {
    client: aws_sdk_organizations::Client,
}

impl Organization {
    /// An Organizations client using `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Organization {
            client: aws_sdk_organizations::Client::new(config),
        }
    }

    /// The ids of the ACTIVE accounts of organisation `org_id` (`o-…`), every page. An account
    /// ARN names its organisation (`arn:…:account/o-…/111122223333`): an account of another
    /// organisation means the configured id is wrong, which is an error naming both ids rather
    /// than a sweep of the wrong accounts.
    pub async fn active_accounts(&self, org_id: &str) -> Result<Vec<String>, AdapterError> {
        let mut pages = self.client.list_accounts().into_paginator().send();
        let mut active = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(AdapterError::of("ListAccounts"))?;
            for account in page.accounts.unwrap_or_default() {
                if let Some(arn) = account.arn()
                    && let Some(other) = organization_of(arn).filter(|o| *o != org_id)
                {
                    return Err(AdapterError::Service {
                        operation: "ListAccounts",
                        code: "OrganizationMismatch".into(),
                        message: format!(
                            "account {arn} belongs to {other}, not to the configured organisation {org_id} (REACHGUARD_ORG)"
                        ),
                    });
                }
                if account.status() == Some(&AccountStatus::Active)
                    && let Some(id) = account.id
                {
                    active.push(id);
                }
            }
        }
        Ok(active)
    }
}

/// The organisation id an account ARN names (`arn:aws:organizations::<mgmt>:account/o-…/<id>`).
fn organization_of(account_arn: &str) -> Option<&str> {
    let (_, path) = account_arn.split_once(":account/")?;
    path.split('/').next().filter(|o| o.starts_with("o-"))
}

#[cfg(test)]
mod tests {
    use super::organization_of;

    #[test]
    fn account_arns_name_their_organization() {
        for (arn, expected) in [
            (
                "arn:aws:organizations::111111111111:account/o-exampleorgid/222222222222",
                Some("o-exampleorgid"),
            ),
            (
                "arn:aws-us-gov:organizations::111111111111:account/o-gov1/222222222222",
                Some("o-gov1"),
            ),
            ("arn:aws:organizations::111111111111:root/o-x/r-1", None),
            ("not an arn", None),
        ] {
            assert_eq!(organization_of(arn), expected, "{arn}");
        }
    }
}
