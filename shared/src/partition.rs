//! AWS partitions: the `arn:<partition>:` every ARN starts with, so the ARNs reachguard builds
//! are right in China (`aws-cn`) and GovCloud (`aws-us-gov`) as well as in the commercial
//! regions (`aws`). The Lambdas take the partition from their own identity (STS
//! `GetCallerIdentity`); the engine, which only knows a snapshot's region, from the region.

/// The partition a region belongs to, by its name's prefix (`cn-north-1` → `aws-cn`,
/// `us-gov-west-1` → `aws-us-gov`); `aws` for every other name.
pub fn of_region(region: &str) -> &'static str {
    const BY_PREFIX: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
    ];
    BY_PREFIX
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// The partition an ARN names (`arn:aws-cn:sts::…` → `aws-cn`); `None` when it is not an ARN.
pub fn of_arn(arn: &str) -> Option<&str> {
    let (partition, _) = arn.strip_prefix("arn:")?.split_once(':')?;
    (!partition.is_empty()).then_some(partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_of_regions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("", "aws"),
        ] {
            assert_eq!(of_region(region), partition, "{region}");
        }
    }

    #[test]
    fn partitions_of_arns() {
        for (arn, partition) in [
            ("arn:aws:sts::111122223333:assumed-role/r/s", Some("aws")),
            (
                "arn:aws-cn:sts::111122223333:assumed-role/r/s",
                Some("aws-cn"),
            ),
            (
                "arn:aws-us-gov:iam::111122223333:role/r",
                Some("aws-us-gov"),
            ),
            ("arn::sts::1:x", None),
            ("aws:sts::1:x", None),
            ("arn:aws", None),
        ] {
            assert_eq!(of_arn(arn), partition, "{arn}");
        }
    }
}
