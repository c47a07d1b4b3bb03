//! The connector kinds this build knows. A new data source adds one line here.

use std::sync::Arc;

use kpilink_connector::Registry;

pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(Arc::new(kpilink_looker::LookerFactory));
    registry
}
