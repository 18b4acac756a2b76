//! Evolution's `authToken` (`../protocols.md` 2.2): a query parameter that must equal the
//! provider's configured token, compared in constant time: the SHA-256 digests of both
//! (equal lengths whatever the token's) compared with `subtle`, so neither the position
//! of a first difference nor the token's length shows in the timing.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::Uri;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub fn token_ok(uri: &Uri, expected: &str) -> bool {
    let Ok(Query(query)) = Query::<HashMap<String, String>>::try_from_uri(uri) else {
        return false;
    };
    let Some(given) = query.get("authToken") else {
        return false;
    };
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_token_passes() {
        let uri = |q: &str| format!("/evolution/e/check{q}").parse::<Uri>().unwrap();
        assert!(token_ok(
            &uri("?authToken=evolution-demo-token"),
            "evolution-demo-token"
        ));
        assert!(token_ok(
            &uri("?x=1&authToken=evolution%2Ddemo-token"),
            "evolution-demo-token"
        ));
        assert!(!token_ok(&uri("?authToken=wrong"), "evolution-demo-token"));
        assert!(!token_ok(&uri(""), "evolution-demo-token"));
        assert!(!token_ok(
            &uri("?authtoken=evolution-demo-token"),
            "evolution-demo-token"
        ));
    }
}
