//! Keeping bindings current: the scheduler, the sync engine with coalescing and
//! retries, and the durable update log.

mod engine;
pub mod outcome;
mod scheduler;
mod updates;

pub use engine::{Engine, SyncSettings, value_record};
pub use updates::{Audience, UpdateLog};
