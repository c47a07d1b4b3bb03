//! The schema version and the hook that upgrades older data at start-up.

use super::{StoreError, StoreResult};

pub(super) const SCHEMA_VERSION_KEY: &str = "schema_version";
/// The layout this build reads and writes.
pub(super) const CURRENT_SCHEMA: u32 = 1;

/// Brings the database from `found` to [`CURRENT_SCHEMA`]. `None` is a new
/// database. Each future layout change adds one step here.
pub(super) fn migrate(db: &sled::Db, found: Option<u32>) -> StoreResult<()> {
    match found {
        Some(CURRENT_SCHEMA) => Ok(()),
        None => write_version(db, CURRENT_SCHEMA),
        Some(version) if version > CURRENT_SCHEMA => Err(StoreError::Corrupt(format!(
            "the data directory has schema version {version}, newer than this build's \
             {CURRENT_SCHEMA}; run a newer kpilink"
        ))),
        Some(version) => Err(StoreError::Corrupt(format!(
            "no migration from schema version {version}"
        ))),
    }
}

pub(super) fn read_version(db: &sled::Db) -> StoreResult<Option<u32>> {
    let meta = db.open_tree("meta")?;
    let Some(bytes) = meta.get(SCHEMA_VERSION_KEY)? else {
        return Ok(None);
    };
    let bytes: [u8; 4] = bytes
        .as_ref()
        .try_into()
        .map_err(|_| StoreError::Corrupt("schema version is not 4 bytes".into()))?;
    Ok(Some(u32::from_be_bytes(bytes)))
}

fn write_version(db: &sled::Db, version: u32) -> StoreResult<()> {
    db.open_tree("meta")?
        .insert(SCHEMA_VERSION_KEY, &version.to_be_bytes())?;
    Ok(())
}
