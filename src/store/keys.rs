//! Key layout. Org ids and resource ids never contain a NUL (the API refuses
//! control characters), so NUL separates the parts and keeps an org's keys
//! contiguous.

const SEP: u8 = 0;

/// `org \0 id`: an org's records sort by id.
pub(super) fn scoped(org_id: &str, id: &str) -> Vec<u8> {
    let mut key = org_prefix(org_id);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `org \0`: the prefix of every key of one org.
pub(super) fn org_prefix(org_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(org_id.len() + 40);
    key.extend_from_slice(org_id.as_bytes());
    key.push(SEP);
    key
}

/// Display names are unique per org, ignoring case.
pub(super) fn connection_name(org_id: &str, display_name: &str) -> Vec<u8> {
    scoped(org_id, &display_name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_org_prefix_never_matches_another_org() {
        let key = scoped("org-10", "c1");
        assert!(key.starts_with(&org_prefix("org-10")));
        assert!(!key.starts_with(&org_prefix("org-1")));
    }
}
