//! Title search beyond Looker's own: partial words through `%words%`, and a
//! ranking that puts exact titles first, then prefixes, then the rest.

/// The SQL LIKE pattern Looker matches titles with: every word, in order,
/// anywhere in the title (`"revenue region"` → `%revenue%region%`).
pub(crate) fn like_pattern(query: &str) -> String {
    let words: Vec<&str> = query.split_whitespace().collect();
    if words.is_empty() {
        return "%".to_owned();
    }
    format!("%{}%", words.join("%"))
}

/// 0 exact, 1 prefix, 2 substring, 3 otherwise (e.g. words apart); case-insensitive.
fn rank(query: &str, title: &str) -> u8 {
    let query = query.trim().to_lowercase();
    let title = title.trim().to_lowercase();
    if title == query {
        0
    } else if title.starts_with(&query) {
        1
    } else if title.contains(&query) {
        2
    } else {
        3
    }
}

/// Sorts items by rank, then title, then id (stable for paging).
pub(crate) fn rank_by_title<T>(query: &str, items: &mut [T], title: impl Fn(&T) -> (&str, &str)) {
    items.sort_by_cached_key(|item| {
        let (title, id) = title(item);
        (rank(query, title), title.to_lowercase(), id.to_owned())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_every_word_in_order() {
        assert_eq!(like_pattern("Revenue"), "%Revenue%");
        assert_eq!(like_pattern("  revenue   region "), "%revenue%region%");
        assert_eq!(like_pattern(""), "%");
    }

    #[test]
    fn exact_then_prefix_then_substring() {
        let mut titles = vec![
            ("Quarterly Revenue by Region", "1"),
            ("Revenue Overview", "2"),
            ("revenue", "3"),
            ("Net revenue", "4"),
            ("Revenue", "5"),
        ];
        rank_by_title("Revenue", &mut titles, |t| (t.0, t.1));
        let order: Vec<&str> = titles.iter().map(|t| t.1).collect();
        assert_eq!(order, ["3", "5", "2", "4", "1"]);
    }
}
