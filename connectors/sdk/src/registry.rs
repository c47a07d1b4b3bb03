use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ConnectorFactory;

/// The connector kinds the daemon knows, keyed by kind.
#[derive(Clone, Default)]
pub struct Registry {
    factories: BTreeMap<&'static str, Arc<dyn ConnectorFactory>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a kind; a later registration of the same kind replaces the earlier.
    pub fn register(&mut self, factory: Arc<dyn ConnectorFactory>) {
        self.factories.insert(factory.kind(), factory);
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn ConnectorFactory>> {
        self.factories.get(kind)
    }

    /// Every kind, ordered by name.
    pub fn kinds(&self) -> impl Iterator<Item = &Arc<dyn ConnectorFactory>> {
        self.factories.values()
    }
}
