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

#[derive(Default)]
pub(crate) struct Catalog {
    pub(crate) explores: Vec<Explore>,
    pub(crate) folders: Vec<Folder>,
    pub(crate) users: Vec<User>,
    pub(crate) dashboards: Vec<Dashboard>,
    pub(crate) elements: Vec<Element>,
    pub(crate) looks: Vec<Look>,
    pub(crate) merges: Vec<MergeQuery>,
    pub(crate) queries: HashMap<String, StoredQuery>,
    identities: HashMap<String, String>,
    next_query_id: u64,
}

impl Catalog {
    pub(crate) fn new(explores: Vec<Explore>) -> Self {
        Catalog {
            explores,
            next_query_id: 1000,
            ..Catalog::default()
        }
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

    pub(crate) fn dashboard(&self, id: &str) -> Option<&Dashboard> {
        self.dashboards.iter().find(|d| d.id == id)
    }

    /// A visible tile (removed tiles are gone, as after a real deletion).
    pub(crate) fn element(&self, id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.id == id && !e.removed)
    }

    pub(crate) fn element_any(&mut self, id: &str) -> Option<&mut Element> {
        self.elements.iter_mut().find(|e| e.id == id)
    }

    pub(crate) fn look(&self, id: &str) -> Option<&Look> {
        self.looks.iter().find(|l| l.id == id)
    }

    pub(crate) fn merge(&self, id: &str) -> Option<&MergeQuery> {
        self.merges.iter().find(|m| m.id == id)
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

    /// Stores a query under a fixed id (demo content).
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

    /// create_query: the existing query when the parameters match, else a new id.
    pub(crate) fn create_query(&mut self, def: QueryDef) -> &StoredQuery {
        let identity = def.identity_key();
        let id = match self.identities.get(&identity) {
            Some(id) => id.clone(),
            None => {
                self.next_query_id += 1;
                let id = self.next_query_id.to_string();
                self.insert_query(&id, def);
                id
            }
        };
        &self.queries[&id]
    }
}
