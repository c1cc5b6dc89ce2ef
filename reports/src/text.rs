//! Text from the target, bounded before it reaches a report.

/// `text`, cut to `max` characters with a note of how much was left out.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{} … ({} more characters not shown)", &text[..cut], text[cut..].chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_says_what_it_left_out() {
        assert_eq!(clip("κόσμε", 10), "κόσμε");
        assert_eq!(clip("κόσμε", 2), "κό … (3 more characters not shown)");
    }
}
