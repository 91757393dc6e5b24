//! Plain-text helpers for the places that must bound a text's length (Slack's block limits,
//! log lines quoting an input).

use std::borrow::Cow;

/// The cut mark [`truncate`] ends a shortened text with.
pub const ELLIPSIS: char = '…';

/// `text` if it has at most `max_chars` characters; otherwise its first `max_chars - 1`
/// characters followed by [`ELLIPSIS`], so the result never exceeds `max_chars` characters and
/// never splits a character.
pub fn truncate(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some(_) if max_chars == 0 => Cow::Borrowed(""),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max_chars - 1)
                .map_or(text.len(), |(end, _)| end);
            Cow::Owned(format!("{}{ELLIPSIS}", &text[..end]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn texts_longer_than_the_limit_are_cut_with_a_mark() {
        let cases = [
            ("abcdef", 3, "ab…"),
            ("abc", 3, "abc"),
            ("abcd", 4, "abcd"),
            ("", 0, ""),
            ("abc", 0, ""),
            ("abc", 1, "…"),
            // Multi-byte characters count as one and are never split.
            ("ééééé", 3, "éé…"),
            ("a→b→c", 4, "a→b…"),
        ];
        for (text, max, expected) in cases {
            assert_eq!(truncate(text, max), expected, "truncate({text:?}, {max})");
        }
    }

    #[test]
    fn texts_within_the_limit_are_borrowed() {
        assert!(matches!(truncate("abc", 3), Cow::Borrowed("abc")));
    }

    proptest! {
        #[test]
        fn the_result_fits_and_starts_like_the_text(text in "\\PC{0,40}", max in 0usize..50) {
            let cut = truncate(&text, max);
            prop_assert!(cut.chars().count() <= max);
            let kept = cut.strip_suffix(ELLIPSIS).filter(|_| cut != text).unwrap_or(&cut);
            prop_assert!(text.starts_with(kept));
            prop_assert_eq!(cut == text, text.chars().count() <= max);
        }
    }
}
