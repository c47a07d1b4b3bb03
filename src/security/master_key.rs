//! The master key that seals secrets. It lives outside the database: in
//! `KPILINK_MASTER_KEY`, in a key file, or generated into `<data-dir>/master.key`.

use std::path::{Path, PathBuf};

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{KeyInit, OsRng};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::files::write_private;

pub const GENERATED_KEY_FILE: &str = "master.key";

/// 32 key bytes, wiped from memory when dropped; never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

/// Where the key comes from, in order of precedence.
pub enum MasterKeySource {
    /// Hex from the environment (`KPILINK_MASTER_KEY`).
    Env(SecretString),
    File(PathBuf),
    /// `<data-dir>/master.key`, generated when absent.
    DataDir(PathBuf),
}

impl MasterKey {
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        MasterKey(Zeroizing::new(key.into()))
    }

    pub(super) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> anyhow::Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), key.as_mut_slice())
            .map_err(|_| anyhow::anyhow!("a master key is 64 hex characters (32 bytes)"))?;
        Ok(MasterKey(key))
    }

    /// Loads the key; for [`MasterKeySource::DataDir`] generates it on first start.
    /// Returns the key and whether it was generated now.
    pub fn load(source: &MasterKeySource) -> anyhow::Result<(Self, bool)> {
        match source {
            MasterKeySource::Env(hex) => Ok((
                Self::from_hex(hex.expose_secret())
                    .map_err(|e| anyhow::anyhow!("KPILINK_MASTER_KEY: {e}"))?,
                false,
            )),
            MasterKeySource::File(path) => Ok((read_key_file(path)?, false)),
            MasterKeySource::DataDir(dir) => {
                let path = dir.join(GENERATED_KEY_FILE);
                if path.exists() {
                    return Ok((read_key_file(&path)?, false));
                }
                let key = Self::generate();
                let text = Zeroizing::new(format!("{}\n", hex::encode(key.bytes())));
                write_private(&path, text.as_bytes()).map_err(|e| {
                    anyhow::anyhow!("cannot write master key {}: {e}", path.display())
                })?;
                Ok((key, true))
            }
        }
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read master key file {}: {e}", path.display()))?,
    );
    MasterKey::from_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_generated_key_is_private_and_loads_again() {
        let dir = tempfile::tempdir().unwrap();
        let source = MasterKeySource::DataDir(dir.path().to_owned());
        let (first, generated) = MasterKey::load(&source).unwrap();
        assert!(generated);
        let path = dir.path().join(GENERATED_KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (second, generated) = MasterKey::load(&source).unwrap();
        assert!(!generated);
        assert_eq!(first.bytes(), second.bytes());
    }

    #[test]
    fn bad_hex_is_refused_without_echoing_it() {
        let error = MasterKey::from_hex("not-a-key-zzzz")
            .err()
            .unwrap()
            .to_string();
        assert!(!error.contains("zzzz"), "{error}");
        assert!(MasterKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(MasterKey::from_hex(&format!(" {}\n", "ab".repeat(32))).is_ok());
    }
}
