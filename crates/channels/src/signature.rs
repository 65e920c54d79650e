//! Signature checks shared by the adapters: HMAC over the raw body, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Hex HMAC-SHA256 of `body` with `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Base64 HMAC-SHA256 of `body` with `secret` (LINE's and X's signatures).
pub fn hmac_sha256_base64(secret: &[u8], body: &[u8]) -> String {
    use base64::Engine;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `given` (a hex digest, any case) is the HMAC-SHA256 of `body` with `secret`.
/// The comparison takes the same time wherever the first difference is.
pub fn verify_hmac_sha256_hex(secret: &[u8], body: &[u8], given: &str) -> bool {
    let expected = hmac_sha256_hex(secret, body);
    let given = given.trim().to_ascii_lowercase();
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_right_digest_verifies() {
        let good = hmac_sha256_hex(b"secret", b"body");
        assert!(verify_hmac_sha256_hex(b"secret", b"body", &good));
        assert!(verify_hmac_sha256_hex(b"secret", b"body", &good.to_uppercase()));
        assert!(!verify_hmac_sha256_hex(b"secret", b"body!", &good));
        assert!(!verify_hmac_sha256_hex(b"other", b"body", &good));
        assert!(!verify_hmac_sha256_hex(b"secret", b"body", ""));
    }
}
