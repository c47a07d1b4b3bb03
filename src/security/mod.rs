//! Caller authentication and secret sealing.

mod admin_token;
mod auth;
mod files;
mod master_key;
mod sealing;

pub use admin_token::{ADMIN_TOKEN_FILE, ensure_admin_token};
pub use auth::{AuthLayer, Authenticator, Caller, OrgScope, TokenGrant, hash_token};
pub use master_key::{GENERATED_KEY_FILE, MasterKey, MasterKeySource};
pub use sealing::{SealError, Sealer, SecretSlot};
