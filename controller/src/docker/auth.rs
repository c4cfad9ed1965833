//! Registry credentials for `X-Registry-Auth`: base64url of a JSON object,
//! as the Docker CLI sends it.

use serde::Serialize;

/// Credentials for one registry. `Debug` never shows the password.
#[derive(Clone, Default, Serialize, PartialEq, Eq)]
pub struct RegistryAuth {
    pub username: String,
    pub password: String,
    /// e.g. `10.213.0.30:5000`.
    #[serde(rename = "serveraddress")]
    pub server_address: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("server_address", &self.server_address)
            .finish()
    }
}

impl RegistryAuth {
    /// The `X-Registry-Auth` header value.
    pub fn header_value(&self) -> String {
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64url(&json)
    }
}

/// RFC 4648 base64 with the URL-safe alphabet and padding: what dockerd's
/// `base64.URLEncoding` decoder expects (20.10 rejects unpadded input).
pub fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for (i, &x) in idx.iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[x as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg==");
        assert_eq!(base64url(b"fo"), "Zm8=");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg==");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8=");
    }

    #[test]
    fn header_is_base64url_json_and_debug_hides_the_password() {
        let a = RegistryAuth {
            username: "u".into(),
            password: "s3cret".into(),
            server_address: "10.213.0.30:5000".into(),
        };
        assert_eq!(
            a.header_value(),
            base64url(
                br#"{"username":"u","password":"s3cret","serveraddress":"10.213.0.30:5000"}"#
            )
        );
        assert!(!format!("{a:?}").contains("s3cret"));
    }
}
