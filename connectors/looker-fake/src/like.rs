//! SQL LIKE matching, case-insensitive, as Looker's search endpoints apply it to string params:
//! `%` matches any run of characters, `_` exactly one; there is no escape character.

pub(crate) fn like_ci(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    like_chars(&p, &t)
}

/// Case-sensitive variant, for string filter expressions on query fields.
pub(crate) fn like_cs(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    like_chars(&p, &t)
}

fn like_chars(p: &[char], t: &[char]) -> bool {
    // Iterative wildcard matching with backtracking to the last `%`: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '%' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        // The examples from the search_dashboards description.
        assert!(like_ci("dan%", "danger"));
        assert!(like_ci("dan%", "Danzig"));
        assert!(!like_ci("dan%", "David"));
        assert!(like_ci("D_m%", "Damage"));
        assert!(like_ci("D_m%", "dump"));
        assert!(like_ci("revenue overview", "Revenue Overview"));
        assert!(
            !like_ci("revenue", "Revenue Overview"),
            "no wildcard means whole string"
        );
        assert!(like_ci("%revenue%", "Quarterly Revenue by Region"));
        assert!(like_ci("%", ""));
        assert!(!like_ci("_", ""));
        assert!(!like_cs("emea", "EMEA"));
    }
}
