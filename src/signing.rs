//! The v1 provider signature, for the server's check, clients, tests and the load
//! generator alike: lowercase hex HMAC-SHA256 of `"<timestamp>.<path>.<body>"` with the
//! provider's secret, where `path` is the request's path without the query string. The
//! path is signed so that a body captured on its way to one endpoint is refused at
//! another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(secret: &str, timestamp: &str, path: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(path.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature a provider sends as `X-Signature` for a request to `path`.
pub fn sign(secret: &str, timestamp: i64, path: &str, body: &[u8]) -> String {
    let mac = mac(secret, &timestamp.to_string(), path, body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (raw bytes, decoded from hex) signs `body` sent to `path` at
/// `timestamp` (as sent); compared in constant time.
pub fn verify(secret: &str, timestamp: &str, path: &str, body: &[u8], signature: &[u8]) -> bool {
    mac(secret, timestamp, path, body)
        .verify_slice(signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_secret_timestamp_path_and_body() {
        let bet = "/v1/wallet/bet";
        let signature = hex::decode(sign("demo-secret", 1700000000, bet, b"{}")).unwrap();
        assert!(verify("demo-secret", "1700000000", bet, b"{}", &signature));
        assert!(!verify(
            "other-secret",
            "1700000000",
            bet,
            b"{}",
            &signature
        ));
        assert!(!verify("demo-secret", "1700000001", bet, b"{}", &signature));
        assert!(!verify(
            "demo-secret",
            "1700000000",
            "/v1/wallet/win",
            b"{}",
            &signature
        ));
        assert!(!verify(
            "demo-secret",
            "1700000000",
            bet,
            b"{ }",
            &signature
        ));
    }

    #[test]
    fn the_recipe_is_the_documented_one() {
        // printf '1700000000./v1/wallet/bet.{}' | openssl dgst -sha256 -hmac demo-secret
        let mut mac = Hmac::<Sha256>::new_from_slice(b"demo-secret").unwrap();
        mac.update(b"1700000000./v1/wallet/bet.{}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            sign("demo-secret", 1700000000, "/v1/wallet/bet", b"{}"),
            expected
        );
    }
}
