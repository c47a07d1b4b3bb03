//! With no token configured, the daemon makes its own: a random token written to
//! `<data-dir>/admin.token` (0600), of which only the hash is stored.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use zeroize::Zeroizing;

use super::auth::{OrgScope, TokenGrant, hash_token};
use super::files::write_private;
use crate::store::Store;

pub const ADMIN_TOKEN_FILE: &str = "admin.token";
const ADMIN_TOKEN_HASH_KEY: &str = "admin_token_sha256";

/// Returns the grant of the generated admin token (all orgs), generating the
/// token when there is none or when its file was removed.
pub async fn ensure_admin_token(store: &dyn Store, data_dir: &Path) -> anyhow::Result<TokenGrant> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    let stored = store.get_meta(ADMIN_TOKEN_HASH_KEY).await?;
    if let Some(hash) = stored
        .as_deref()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
    {
        if path.exists() {
            tracing::info!(path = %path.display(), "no token configured; using the generated admin token");
            return Ok(TokenGrant {
                sha256: hash,
                scope: OrgScope::All,
            });
        }
        tracing::warn!(path = %path.display(), "the admin token file is gone; generating a new admin token (the old one stops working)");
    }

    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut_slice());
    let token = Zeroizing::new(format!("kpl_{}", URL_SAFE_NO_PAD.encode(bytes.as_slice())));
    write_private(&path, format!("{}\n", token.as_str()).as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    let sha256 = hash_token(&token);
    store.put_meta(ADMIN_TOKEN_HASH_KEY, &sha256).await?;
    tracing::info!(path = %path.display(), "no token configured; generated an admin token for all orgs");
    Ok(TokenGrant {
        sha256,
        scope: OrgScope::All,
    })
}
