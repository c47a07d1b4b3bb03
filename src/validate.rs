//! Checks shared by every request: ids, names, sizes.

use crate::error::{Reason, Violation};

pub const MAX_ID_BYTES: usize = 128;

/// Org and resource ids: 1–128 bytes of printable, non-space characters.
pub fn id(field: &str, value: &str, violations: &mut Vec<Violation>) {
    if value.is_empty() {
        violations.push(Violation::new(field, Reason::FieldRequired, "is required"));
    } else if value.len() > MAX_ID_BYTES {
        violations.push(Violation::new(
            field,
            Reason::FieldInvalid,
            format!("must be at most {MAX_ID_BYTES} bytes"),
        ));
    } else if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        violations.push(Violation::new(
            field,
            Reason::FieldInvalid,
            "must not contain spaces or control characters",
        ));
    }
}

/// Free text such as a display name: `min..=max` characters, no control characters.
pub fn text(field: &str, value: &str, max_chars: usize, violations: &mut Vec<Violation>) {
    let chars = value.chars().count();
    if chars == 0 {
        violations.push(Violation::new(field, Reason::FieldRequired, "is required"));
    } else if chars > max_chars {
        violations.push(Violation::new(
            field,
            Reason::FieldInvalid,
            format!("must be at most {max_chars} characters"),
        ));
    } else if value.chars().any(char::is_control) {
        violations.push(Violation::new(
            field,
            Reason::FieldInvalid,
            "must not contain control characters",
        ));
    }
}

/// Fails with every violation found, or succeeds when there are none.
pub fn finish(violations: Vec<Violation>) -> crate::error::Result<()> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::invalid(violations))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_present_short_and_printable() {
        for (value, reason) in [
            ("", Some(Reason::FieldRequired)),
            ("org 1", Some(Reason::FieldInvalid)),
            ("org\u{0}", Some(Reason::FieldInvalid)),
            ("org-1_ü:x", None),
        ] {
            let mut violations = Vec::new();
            id("org_id", value, &mut violations);
            assert_eq!(violations.first().map(|v| v.reason), reason, "{value:?}");
        }
        let mut violations = Vec::new();
        id("org_id", &"x".repeat(129), &mut violations);
        assert_eq!(violations[0].reason, Reason::FieldInvalid);
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut violations = Vec::new();
        text("display_name", &"é".repeat(200), 200, &mut violations);
        assert!(violations.is_empty());
        text("display_name", &"é".repeat(201), 200, &mut violations);
        assert_eq!(violations.len(), 1);
    }
}
