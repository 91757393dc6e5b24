//! Member accounts: STS AssumeRole into another account id collects that account's resources with
//! that account's credentials.

use reachguard_shared::aws::{Accounts, Collector, MemberRole, Scope};
use reachguard_shared::remediation::Mode;
use reachguard_tests::{Account, seed};

#[tokio::test]
async fn a_member_account_is_collected_through_the_member_role() {
    let home = Account::new().await;
    let member = Account::new().await;
    let home_vpc = seed::endpoint_only(&home).await;
    let member_vpc = seed::nat_only(&member).await;

    let role = MemberRole {
        name: "reachguard-member".into(),
        external_id: Some("reachguard".into()),
        max_mode: Mode::Notify,
    };
    let accounts = Accounts::new(home.config.clone(), Some(role.clone()));
    assert_eq!(
        accounts.home_account().await.expect("home account"),
        home.id
    );
    let partition = &accounts.identity().await.expect("identity").partition;
    assert_eq!(partition, "aws");
    assert_eq!(
        role.arn(partition, &member.id),
        format!("arn:aws:iam::{}:role/reachguard-member", member.id)
    );

    for (account, seeded, other) in [
        (&member, &member_vpc, &home_vpc),
        (&home, &home_vpc, &member_vpc),
    ] {
        let config = accounts.config_for(&account.id).await.expect("config");
        let got = Collector::new(&config)
            .collect(&Scope::account_region())
            .await
            .expect("collect");
        let snap = &got.snapshot;
        assert!(
            snap.vpcs.iter().any(|v| v.vpc_id == seeded.vpc),
            "{}'s VPC",
            account.id
        );
        assert!(
            !snap.vpcs.iter().any(|v| v.vpc_id == other.vpc),
            "not the other account's VPC"
        );
        assert!(
            snap.vpcs
                .iter()
                .all(|v| v.owner_id.as_deref() == Some(account.id.as_str()))
        );
        assert_eq!(snap.account_id.as_deref(), Some(account.id.as_str()));
        let arns: Vec<&str> = snap
            .services
            .iter()
            .map(|s| s.service_arn.as_str())
            .collect();
        assert_eq!(arns, [seeded.service_arn.as_str()]);
        assert!(seeded.service_arn.contains(&format!(":{}:", account.id)));
    }
}

#[tokio::test]
async fn without_a_member_role_only_the_home_account_is_reachable() {
    let home = Account::new().await;
    let accounts = Accounts::new(home.config.clone(), None);
    let err = accounts
        .config_for("210987654321")
        .await
        .expect_err("no member role");
    assert!(
        err.to_string().contains("no member role is configured"),
        "{err}"
    );
    assert!(accounts.config_for(&home.id).await.is_ok());
}
