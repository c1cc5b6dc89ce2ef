//! Case selection with Autobahn's pattern rules, so existing spec files select the same cases: a
//! pattern with `*` matches a prefix of the id (`*` is any text, `.` is literal), one without `*` is
//! an exact id. Agent patterns in `exclude-agent-cases` match whole strings.

/// Whether `pattern` selects `id` (Autobahn's `cases` / `exclude-cases` rule).
pub fn case_matches(pattern: &str, id: &str) -> bool {
    if pattern.contains('*') {
        glob(pattern.as_bytes(), id.as_bytes(), false)
    } else {
        pattern == id
    }
}

/// Whole-string match with `*` (Autobahn's `exclude-agent-cases` rule).
pub fn full_match(pattern: &str, text: &str) -> bool {
    glob(pattern.as_bytes(), text.as_bytes(), true)
}

/// Autobahn's permessage-deflate sections (RFC 7692), which wsspec has no cases for yet: section
/// 12 has 5 subsections and section 13 has 7, each of 18 cases.
const AUTOBAHN_DEFLATE: [(u32, u32); 2] = [(12, 5), (13, 7)];

/// Whether `pattern` selects an Autobahn case that wsspec lacks (12.x and 13.x, permessage-deflate).
/// Spec files written for Autobahn commonly exclude these, so such an exclude pattern is no typo.
pub fn names_autobahn_deflate(pattern: &str) -> bool {
    AUTOBAHN_DEFLATE.iter().any(|&(section, subsections)| {
        (1..=subsections).any(|sub| (1..=18).any(|n| case_matches(pattern, &format!("{section}.{sub}.{n}"))))
    })
}

fn glob(pattern: &[u8], text: &[u8], anchored_end: bool) -> bool {
    match pattern.split_first() {
        None => !anchored_end || text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..], anchored_end)),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..], anchored_end),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("*", "6.4.3", true)]
    #[case("1*", "10.1.1", true)] // Autobahn's start-anchored regex: "1*" also selects 10.x
    #[case("1.*", "10.1.1", false)]
    #[case("6.4.*", "6.4.3", true)]
    #[case("6.4", "6.4.3", false)] // no `*`: an exact id
    #[case("6.4.3", "6.4.3", true)]
    #[case("9.*.1", "9.3.1", true)]
    #[case("9.*.1", "9.3.10", true)] // a prefix match, as Autobahn's re.match
    fn autobahn_case_patterns(#[case] pattern: &str, #[case] id: &str, #[case] selected: bool) {
        assert_eq!(case_matches(pattern, id), selected);
    }

    #[rstest]
    #[case("12.*", true)]
    #[case("13.7.18", true)]
    #[case("1*", true)] // Autobahn's "1*" selects 12.x and 13.x too
    #[case("13.8.1", false)]
    #[case("11.*", false)]
    #[case("9.*", false)]
    fn autobahn_deflate_sections(#[case] pattern: &str, #[case] named: bool) {
        assert_eq!(names_autobahn_deflate(pattern), named);
    }

    #[test]
    fn agent_patterns_match_whole_names() {
        assert!(full_match("tungstenite*", "tungstenite-0.30"));
        assert!(!full_match("tung", "tungstenite"));
    }
}
