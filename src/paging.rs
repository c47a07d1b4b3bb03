//! Page sizes and opaque page tokens shared by every list RPC.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Reason, Result};

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// A validated page request: how many items, and after which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub size: usize,
    pub after: Option<String>,
}

impl Page {
    /// `list` names the listing so that a token of one list is refused by another.
    /// Sizes above the maximum are lowered to it; 0 means the default.
    pub fn parse(list: &str, page_size: i32, page_token: &str) -> Result<Self> {
        let size = match page_size {
            size if size < 0 => {
                return Err(Error::field(
                    "page_size",
                    Reason::FieldInvalid,
                    "must not be negative",
                ));
            }
            0 => DEFAULT_PAGE_SIZE,
            size => (size as usize).min(MAX_PAGE_SIZE),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(decode_token(list, page_token)?)
        };
        Ok(Page { size, after })
    }

    /// The token for the page after `last_key`.
    pub fn token_after(list: &str, last_key: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{list}\0{last_key}"))
    }
}

fn decode_token(list: &str, token: &str) -> Result<String> {
    let invalid = || {
        Error::field(
            "page_token",
            Reason::PageTokenInvalid,
            "is not a token this list returned",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (kind, key) = text.split_once('\0').ok_or_else(invalid)?;
    if kind != list || key.is_empty() {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

/// Splits one extra fetched item off: returns the page and the next token.
pub fn finish_page<T>(
    list: &str,
    mut items: Vec<T>,
    size: usize,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, String) {
    if items.len() <= size {
        return (items, String::new());
    }
    items.truncate(size);
    let token = items
        .last()
        .map(|last| Page::token_after(list, key(last)))
        .unwrap_or_default();
    (items, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_default_and_clamp() {
        assert_eq!(Page::parse("c", 0, "").unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(Page::parse("c", 5000, "").unwrap().size, MAX_PAGE_SIZE);
        assert_eq!(
            Page::parse("c", -1, "").unwrap_err().reason,
            Reason::FieldInvalid
        );
    }

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_list() {
        let token = Page::token_after("connections", "con_1");
        let page = Page::parse("connections", 10, &token).unwrap();
        assert_eq!(page.after.as_deref(), Some("con_1"));
        for bad in [token.as_str(), "!!!", "Zm9v"] {
            let error = Page::parse("bindings", 10, bad).unwrap_err();
            assert_eq!(error.reason, Reason::PageTokenInvalid);
        }
    }

    #[test]
    fn a_full_extra_item_yields_a_token() {
        let (items, token) = finish_page("l", vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(items, ["a", "b"]);
        assert_eq!(
            Page::parse("l", 2, &token).unwrap().after.as_deref(),
            Some("b")
        );
        let (_, token) = finish_page("l", vec!["a"], 2, |s| s);
        assert!(token.is_empty());
    }
}
