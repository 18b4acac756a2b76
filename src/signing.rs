//! The v1 provider signature, for the server's check, clients, tests and the load
//! generator alike: lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"` with the
//! provider's secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature a provider sends as `X-Signature`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(
        mac(secret, &timestamp.to_string(), body)
            .finalize()
            .into_bytes(),
    )
}

/// Whether `signature` (raw bytes, decoded from hex) signs `body` at `timestamp` (as
/// sent); compared in constant time.
pub fn verify(secret: &str, timestamp: &str, body: &[u8], signature: &[u8]) -> bool {
    mac(secret, timestamp, body).verify_slice(signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_timestamp_and_body() {
        let signature = hex::decode(sign("demo-secret", 1700000000, b"{}")).unwrap();
        assert!(verify("demo-secret", "1700000000", b"{}", &signature));
        assert!(!verify("other-secret", "1700000000", b"{}", &signature));
        assert!(!verify("demo-secret", "1700000001", b"{}", &signature));
        assert!(!verify("demo-secret", "1700000000", b"{ }", &signature));
    }
}
