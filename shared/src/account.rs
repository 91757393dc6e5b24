//! AWS account ids.

/// A real account id: exactly 12 ASCII digits (EventBridge test events and documentation
/// examples carry placeholders that are not).
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        for (text, expected) in [
            ("111122223333", true),
            ("123", false),
            ("11112222333x", false),
            ("1111222233334", false),
            ("", false),
            ("１１１１２２２２３３３３", false),
        ] {
            assert_eq!(is_account_id(text), expected, "{text:?}");
        }
    }
}
