//! Text helpers shared by what reachguard prints and sends.

/// `text` cut to at most `max` characters, on a character boundary.
pub fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// `text` cut to at most `max` characters, with `…` added when something was cut.
pub fn shorten(text: &str, max: usize) -> String {
    let cut = truncate(text, max);
    if cut.len() == text.len() {
        cut.to_owned()
    } else {
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_character_boundaries() {
        for (text, max, cut, short) in [
            ("abcdef", 3, "abc", "abc…"),
            ("abc", 3, "abc", "abc"),
            ("", 0, "", ""),
            ("äöü€x", 4, "äöü€", "äöü€…"),
            ("ab", 0, "", "…"),
        ] {
            assert_eq!(truncate(text, max), cut, "{text:?} {max}");
            assert_eq!(shorten(text, max), short, "{text:?} {max}");
        }
    }
}
