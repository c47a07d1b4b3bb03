//! Secrets sealed at rest with XChaCha20-Poly1305.
//!
//! The associated data binds each ciphertext to its org, connection and field,
//! so a sealed value copied into another record does not open.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

use super::MasterKey;
use crate::store::SealedSecret;

const FORMAT_PREFIX: &str = "v1.";
const NONCE_LEN: usize = 24;

/// Where a sealed secret belongs.
#[derive(Debug, Clone, Copy)]
pub struct SecretSlot<'a> {
    pub org_id: &'a str,
    pub connection_id: &'a str,
    pub field: &'a str,
}

impl SecretSlot<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut aad = b"kpilink.secret.v1".to_vec();
        for part in [self.org_id, self.connection_id, self.field] {
            aad.push(0);
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed secret is malformed")]
    Malformed,
    #[error("sealed secret does not open with this master key and slot")]
    WrongKeyOrSlot,
}

pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &MasterKey) -> Self {
        Sealer {
            cipher: XChaCha20Poly1305::new(key.bytes().into()),
        }
    }

    pub fn seal(&self, slot: SecretSlot<'_>, secret: &SecretString) -> SealedSecret {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = slot.associated_data();
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory input");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        SealedSecret(format!("{FORMAT_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    pub fn open(
        &self,
        slot: SecretSlot<'_>,
        sealed: &SealedSecret,
    ) -> Result<SecretString, SealError> {
        let encoded = sealed
            .0
            .strip_prefix(FORMAT_PREFIX)
            .ok_or(SealError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = slot.associated_data();
        let plaintext = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::WrongKeyOrSlot)?;
        let text = String::from_utf8(plaintext).map_err(|_| SealError::Malformed)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot<'a>(org: &'a str, conn: &'a str, field: &'a str) -> SecretSlot<'a> {
        SecretSlot {
            org_id: org,
            connection_id: conn,
            field,
        }
    }

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let sealer = Sealer::new(&MasterKey::generate());
        let secret = SecretString::from("s3cr3t-value".to_owned());
        let sealed = sealer.seal(slot("o", "c", "client_secret"), &secret);
        assert!(!sealed.0.contains("s3cr3t"));
        let opened = sealer
            .open(slot("o", "c", "client_secret"), &sealed)
            .unwrap();
        assert_eq!(opened.expose_secret(), "s3cr3t-value");
    }

    #[test]
    fn a_ciphertext_moved_to_another_slot_or_key_does_not_open() {
        let sealer = Sealer::new(&MasterKey::generate());
        let sealed = sealer.seal(
            slot("org-a", "c1", "client_secret"),
            &SecretString::from("x".to_owned()),
        );
        for other in [
            slot("org-b", "c1", "client_secret"),
            slot("org-a", "c2", "client_secret"),
            slot("org-a", "c1", "client_id"),
        ] {
            assert!(matches!(
                sealer.open(other, &sealed),
                Err(SealError::WrongKeyOrSlot)
            ));
        }
        let other_key = Sealer::new(&MasterKey::generate());
        assert!(
            other_key
                .open(slot("org-a", "c1", "client_secret"), &sealed)
                .is_err()
        );
        assert!(matches!(
            sealer.open(
                slot("org-a", "c1", "client_secret"),
                &SealedSecret("v1.AA".into())
            ),
            Err(SealError::Malformed)
        ));
    }
}
