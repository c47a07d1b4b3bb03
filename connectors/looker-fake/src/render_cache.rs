//! Response bodies of `GET /dashboards/{id}` and `GET /dashboards/{id}/dashboard_elements`,
//! kept until the catalog changes: rendering a 20-tile dashboard costs many times a query run,
//! and benchmarks read every dashboard on every sync cycle.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use crate::state::lock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum View {
    Dashboard,
    Elements,
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    view: View,
    id: String,
    /// Sorted and deduplicated: `fields` keeps attributes by membership only.
    fields: Option<Vec<String>>,
}

/// Past this many bytes the cache starts over, so that arbitrary `fields` lists cannot grow it
/// without bound (500 bulk dashboards of 20 tiles take about 50 MB).
const MAX_BYTES: usize = 256 << 20;

#[derive(Default)]
pub(crate) struct RenderCache(Mutex<Entries>);

#[derive(Default)]
struct Entries {
    /// The catalog version every entry was rendered from.
    version: u64,
    bytes: usize,
    map: HashMap<Key, Bytes>,
}

impl RenderCache {
    /// The body cached for this catalog version, else `render`'s (kept unless it fails).
    /// `catalog_version` must come from the same catalog guard that `render` reads, so that
    /// no write can come between them.
    pub(crate) fn get_or_render<E>(
        &self,
        catalog_version: u64,
        view: View,
        id: &str,
        fields: Option<&[String]>,
        render: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let key = Key {
            view,
            id: id.to_string(),
            fields: fields.map(|f| {
                let mut f = f.to_vec();
                f.sort();
                f.dedup();
                f
            }),
        };
        {
            let mut entries = lock(&self.0);
            entries.advance(catalog_version);
            if entries.version == catalog_version
                && let Some(body) = entries.map.get(&key)
            {
                return Ok(body.clone());
            }
        }
        let body = render()?;
        let mut entries = lock(&self.0);
        entries.advance(catalog_version);
        if entries.version == catalog_version {
            if entries.bytes + body.len() > MAX_BYTES {
                entries.map.clear();
                entries.bytes = 0;
            }
            entries.bytes += body.len();
            if let Some(old) = entries.map.insert(key, body.clone()) {
                entries.bytes -= old.len();
            }
        }
        Ok(body)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.0).map.len()
    }
}

impl Entries {
    /// Drops everything rendered from an older catalog.
    fn advance(&mut self, version: u64) {
        if version > self.version {
            self.map.clear();
            self.bytes = 0;
            self.version = version;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &'static str) -> Result<Bytes, ()> {
        Ok(Bytes::from_static(text.as_bytes()))
    }

    #[test]
    fn keyed_by_version_view_id_and_field_set() {
        let cache = RenderCache::default();
        let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let get = |version, view, id: &str, f: Option<&[String]>, text| {
            cache
                .get_or_render(version, view, id, f, || body(text))
                .unwrap()
        };
        assert_eq!(get(1, View::Dashboard, "1", None, "a"), "a");
        assert_eq!(get(1, View::Dashboard, "1", None, "b"), "a");
        assert_eq!(get(1, View::Elements, "1", None, "c"), "c");
        assert_eq!(get(1, View::Dashboard, "2", None, "d"), "d");
        let (ab, ba) = (fields(&["a", "b"]), fields(&["b", "a", "b"]));
        assert_eq!(get(1, View::Dashboard, "1", Some(&ab), "e"), "e");
        assert_eq!(get(1, View::Dashboard, "1", Some(&ba), "f"), "e");
        assert_eq!(get(1, View::Dashboard, "1", Some(&[]), "g"), "g");
        assert_eq!(cache.len(), 5);
        // A newer catalog drops everything; an older one is neither served nor kept.
        assert_eq!(get(2, View::Dashboard, "1", None, "h"), "h");
        assert_eq!(cache.len(), 1);
        assert_eq!(get(1, View::Dashboard, "1", None, "i"), "i");
        assert_eq!(get(2, View::Dashboard, "1", None, "j"), "h");
        // Errors are not kept.
        let failed: Result<Bytes, ()> =
            cache.get_or_render(2, View::Dashboard, "9", None, || Err(()));
        assert!(failed.is_err());
        assert_eq!(get(2, View::Dashboard, "9", None, "k"), "k");
    }
}
