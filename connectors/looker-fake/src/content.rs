//! Looker content the fake serves: folders, dashboards, tiles, Looks, saved queries and merge
//! queries, plus the explores their queries read.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::model::Explore;
use crate::query::{QueryDef, StoredQuery, slug};

pub(crate) struct Folder {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) parent_id: Option<&'static str>,
}

pub(crate) struct User {
    pub(crate) id: &'static str,
    pub(crate) first_name: &'static str,
    pub(crate) last_name: &'static str,
}

pub(crate) struct DashboardFilter {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) default_value: Option<String>,
    pub(crate) explore: String,
    pub(crate) dimension: String,
    pub(crate) allow_multiple_values: bool,
}

pub(crate) struct Dashboard {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) folder_id: String,
    /// Set for LookML dashboards (id `model::name`), which search_dashboards never returns.
    pub(crate) lookml_model: Option<String>,
    pub(crate) deleted: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) deleted_at: Option<String>,
    pub(crate) last_viewed_at: Option<String>,
    pub(crate) user_id: String,
    pub(crate) view_count: i64,
    pub(crate) favorite_count: i64,
    pub(crate) refresh_interval: Option<String>,
    pub(crate) filters: Vec<DashboardFilter>,
    pub(crate) element_ids: Vec<String>,
}

pub(crate) enum Source {
    Query(String),
    Look(String),
    Merge(String),
    Text {
        title_text: String,
        subtitle_text: Option<String>,
        body_text: String,
    },
    Button {
        rich_content_json: String,
    },
}

pub(crate) struct Element {
    pub(crate) id: String,
    pub(crate) dashboard_id: String,
    pub(crate) title: Option<String>,
    pub(crate) source: Source,
    /// `result_maker.filterables[].listen`: (dashboard filter name, field).
    pub(crate) listens: Vec<(String, String)>,
    pub(crate) note_text: Option<String>,
    /// Vis config of a merged-results tile (query tiles use their query's vis_config).
    pub(crate) merge_vis_config: Option<Map<String, Value>>,
    /// Removed through the control endpoint ("someone deleted the tile").
    pub(crate) removed: bool,
}

pub(crate) struct Look {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) folder_id: String,
    pub(crate) query_id: String,
    pub(crate) deleted: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) user_id: String,
    pub(crate) view_count: i64,
    pub(crate) favorite_count: i64,
    pub(crate) public: bool,
}

pub(crate) struct MergeSource {
    pub(crate) name: String,
    pub(crate) query_id: String,
    /// (field_name in the merged result, source_field_name in this source).
    pub(crate) merge_fields: Vec<(String, String)>,
}

pub(crate) struct MergeQuery {
    pub(crate) id: String,
    pub(crate) sources: Vec<MergeSource>,
    pub(crate) sorts: Vec<String>,
    pub(crate) vis_config: Map<String, Value>,
}

/// All content, with id indexes so that a dashboard, tile, Look or merge query is found in
/// O(1) however much (generated) content there is. The Vecs keep insertion order, which is the
/// order listings and searches start from; they are private so that every insertion also
/// updates its index.
#[derive(Default)]
pub(crate) struct Catalog {
    pub(crate) explores: Vec<Explore>,
    folders: Vec<Folder>,
    users: Vec<User>,
    dashboards: Vec<Dashboard>,
    elements: Vec<Element>,
    looks: Vec<Look>,
    merges: Vec<MergeQuery>,
    pub(crate) queries: HashMap<String, StoredQuery>,
    dashboard_index: HashMap<String, usize>,
    element_index: HashMap<String, usize>,
    look_index: HashMap<String, usize>,
    merge_index: HashMap<String, usize>,
    identities: HashMap<String, String>,
    next_query_id: u64,
    /// Bumped on every write lock (see `CatalogLock`): what rendered responses are cached by.
    version: u64,
}

/// The first insertion of an id wins, as a linear `find` would.
fn insert_index(index: &mut HashMap<String, usize>, id: &str, position: usize) {
    index.entry(id.to_string()).or_insert(position);
}

impl Catalog {
    pub(crate) fn new(explores: Vec<Explore>) -> Self {
        Catalog {
            explores,
            next_query_id: 1000,
            ..Catalog::default()
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    pub(crate) fn bump_version(&mut self) {
        self.version += 1;
    }

    pub(crate) fn explore(&self, model: &str, view: &str) -> Option<&Explore> {
        self.explores
            .iter()
            .find(|e| e.model == model && e.name == view)
    }

    pub(crate) fn explore_mut(&mut self, model: &str, view: &str) -> Option<&mut Explore> {
        self.explores
            .iter_mut()
            .find(|e| e.model == model && e.name == view)
    }

    pub(crate) fn dashboards(&self) -> &[Dashboard] {
        &self.dashboards
    }

    pub(crate) fn elements(&self) -> &[Element] {
        &self.elements
    }

    pub(crate) fn looks(&self) -> &[Look] {
        &self.looks
    }

    pub(crate) fn add_folder(&mut self, folder: Folder) {
        self.folders.push(folder);
    }

    pub(crate) fn add_user(&mut self, user: User) {
        self.users.push(user);
    }

    /// Adds a dashboard. Its id is its index key: callers may change any field but the id.
    pub(crate) fn add_dashboard(&mut self, dashboard: Dashboard) -> &mut Dashboard {
        insert_index(
            &mut self.dashboard_index,
            &dashboard.id,
            self.dashboards.len(),
        );
        self.dashboards.push(dashboard);
        self.dashboards.last_mut().expect("just pushed")
    }

    /// Adds a tile (listed by its dashboard, when that exists). Its id must not change.
    pub(crate) fn add_element(&mut self, element: Element) -> &mut Element {
        if let Some(i) = self.dashboard_index.get(&element.dashboard_id).copied() {
            self.dashboards[i].element_ids.push(element.id.clone());
        }
        insert_index(&mut self.element_index, &element.id, self.elements.len());
        self.elements.push(element);
        self.elements.last_mut().expect("just pushed")
    }

    /// Adds a Look. Its id must not change.
    pub(crate) fn add_look(&mut self, look: Look) -> &mut Look {
        insert_index(&mut self.look_index, &look.id, self.looks.len());
        self.looks.push(look);
        self.looks.last_mut().expect("just pushed")
    }

    pub(crate) fn add_merge(&mut self, merge: MergeQuery) {
        insert_index(&mut self.merge_index, &merge.id, self.merges.len());
        self.merges.push(merge);
    }

    pub(crate) fn dashboard(&self, id: &str) -> Option<&Dashboard> {
        self.dashboard_index
            .get(id)
            .copied()
            .map(|i| &self.dashboards[i])
    }

    /// A visible tile (removed tiles are gone, as after a real deletion).
    pub(crate) fn element(&self, id: &str) -> Option<&Element> {
        self.element_index
            .get(id)
            .copied()
            .map(|i| &self.elements[i])
            .filter(|e| !e.removed)
    }

    pub(crate) fn element_any(&mut self, id: &str) -> Option<&mut Element> {
        self.element_index
            .get(id)
            .copied()
            .map(|i| &mut self.elements[i])
    }

    /// Every removed tile comes back (control reset).
    pub(crate) fn restore_all_elements(&mut self) {
        for element in &mut self.elements {
            element.removed = false;
        }
    }

    pub(crate) fn look(&self, id: &str) -> Option<&Look> {
        self.look_index.get(id).copied().map(|i| &self.looks[i])
    }

    pub(crate) fn merge(&self, id: &str) -> Option<&MergeQuery> {
        self.merge_index.get(id).copied().map(|i| &self.merges[i])
    }

    pub(crate) fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.id == id)
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn query(&self, id: &str) -> Option<&StoredQuery> {
        self.queries.get(id)
    }

    /// Stores a query under a fixed id (demo and generated content).
    pub(crate) fn insert_query(&mut self, id: &str, def: QueryDef) {
        self.identities.insert(def.identity_key(), id.to_string());
        let stored = StoredQuery {
            id: id.to_string(),
            slug: slug(&format!("slug:{id}"), 22),
            client_id: slug(&format!("client:{id}"), 22),
            def,
        };
        self.queries.insert(id.to_string(), stored);
    }

    /// The stored query with exactly these parameters (what create_query would return).
    pub(crate) fn find_query(&self, def: &QueryDef) -> Option<&StoredQuery> {
        self.identities
            .get(&def.identity_key())
            .and_then(|id| self.queries.get(id))
    }

    /// create_query: the existing query when the parameters match, else a new id.
    pub(crate) fn create_query(&mut self, def: QueryDef) -> &StoredQuery {
        let identity = def.identity_key();
        let id = match self.identities.get(&identity) {
            Some(id) => id.clone(),
            None => {
                // Skip ids that fixed content already uses (generated content has large ids).
                let id = loop {
                    self.next_query_id += 1;
                    let id = self.next_query_id.to_string();
                    if !self.queries.contains_key(&id) {
                        break id;
                    }
                };
                self.insert_query(&id, def);
                id
            }
        };
        &self.queries[&id]
    }
}
