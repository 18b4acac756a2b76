//! Hub88 signatures (`../protocols.md` 1.2): `X-Hub88-Signature` is the base64 of an
//! RSASSA-PKCS1-v1_5 SHA-256 signature over the exact body bytes, the provider's key on
//! requests and ours on answers. Verified over the raw bytes received, before parsing:
//! re-serialising the JSON would break on any formatting difference.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::config::keys::{SigningKey, VerificationKey};
use crate::config::Hub88Settings;

pub const SIGNATURE_HEADER: &str = "x-hub88-signature";

/// One `hub88` provider's keys and amount settings, loaded once at start-up.
pub struct Hub88Keys {
    pub settings: Hub88Settings,
    verifying: VerificationKey,
    signing: SigningKey,
}

impl Hub88Keys {
    pub fn load(settings: &Hub88Settings) -> Result<Self, String> {
        Ok(Hub88Keys {
            settings: settings.clone(),
            verifying: settings.load_verification_key()?,
            signing: settings.load_signing_key()?,
        })
    }

    /// Whether `header` (the header's text) signs `body` with the provider's key.
    pub fn verify(&self, header: Option<&str>, body: &[u8]) -> bool {
        let Some(decoded) = header.and_then(|h| STANDARD.decode(h.trim()).ok()) else {
            return false;
        };
        self.verifying.verify(body, &decoded)
    }

    /// The header value that signs `body` with our key (PKCS#1 v1.5 signatures are
    /// deterministic; AWS-LC blinds the private-key operation against timing attacks).
    /// `None` only if AWS-LC refuses to sign, which the check at loading rules out.
    pub fn sign(&self, body: &[u8]) -> Option<String> {
        self.signing.sign(body).map(|s| STANDARD.encode(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Hub88Keys {
        let settings = Hub88Settings {
            operator_id: None,
            // The wallet's own pair, so that what it signs it can verify.
            verification_key: concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/api/protocol-keys/wallet-demo-operator-public.pem"
            )
            .into(),
            signing_key: concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/config/protocol-keys/wallet-demo-operator-private.pem"
            )
            .into(),
            amount_multiplier: 100_000,
            amount_multipliers: Default::default(),
        };
        Hub88Keys::load(&settings).unwrap()
    }

    #[test]
    fn a_signature_verifies_for_its_body_only() {
        let keys = demo();
        let body = br#"{"user":"p1","request_uuid":"r1"}"#;
        let signature = keys.sign(body).unwrap();
        assert!(keys.verify(Some(&signature), body));
        assert!(!keys.verify(Some(&signature), br#"{"user":"p2","request_uuid":"r1"}"#));
        assert!(!keys.verify(Some("not base64!"), body));
        assert!(!keys.verify(Some(""), body));
        assert!(!keys.verify(None, body));
    }
}
