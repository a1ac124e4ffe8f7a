//! Bearer-token authentication of the calls that change something.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{ApiError, ApiState};

/// The API token, kept as its SHA-256 so a comparison takes the same time
/// whatever the guess.
#[derive(Clone)]
pub struct Token([u8; 32]);

impl Token {
    /// The token `text` (surrounding whitespace, such as a file's final
    /// newline, is not part of it). `None` if it is empty.
    pub fn new(text: &str) -> Option<Token> {
        let text = text.trim();
        (!text.is_empty()).then(|| Token(Sha256::digest(text.as_bytes()).into()))
    }

    /// True if `guess` is the token, in time independent of where they differ.
    pub fn matches(&self, guess: &str) -> bool {
        let guess: [u8; 32] = Sha256::digest(guess.as_bytes()).into();
        same(&self.0, &guess)
    }

    /// A signed-in browser's cookie, issued at `issued_ms`: the time and
    /// an HMAC of it keyed by the token's hash. The token itself is never
    /// stored there; a host with the same token accepts it after a
    /// restart; it expires ([`Token::session_valid`]).
    pub fn session(&self, issued_ms: i64) -> String {
        let mac = self.session_mac(issued_ms).finalize().into_bytes();
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        format!("{issued_ms}.{hex}")
    }

    /// True if `cookie` is a [`Token::session`] issued at most
    /// `max_age_ms` before `now_ms` (a minute ahead is forgiven), its MAC
    /// compared in constant time.
    pub fn session_valid(&self, cookie: &str, now_ms: i64, max_age_ms: i64) -> bool {
        let Some((issued, mac)) = cookie.split_once('.') else {
            return false;
        };
        let Ok(issued) = issued.parse::<i64>() else {
            return false;
        };
        let age = now_ms.checked_sub(issued);
        if !age.is_some_and(|age| (-60_000..=max_age_ms).contains(&age)) {
            return false;
        }
        let Some(mac) = unhex(mac) else {
            return false;
        };
        self.session_mac(issued).verify_slice(&mac).is_ok()
    }

    fn session_mac(&self, issued_ms: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(b"clever-dashboard-session:");
        mac.update(issued_ms.to_string().as_bytes());
        mac
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16);
    let pairs = bytes.chunks(2);
    pairs
        .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ")
}

/// Let the request through only with `Authorization: Bearer <token>`
/// (or with no token set, under `--insecure-local`).
pub async fn require_token(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(token) = &state.token {
        match bearer(request.headers()) {
            None => {
                return Err(ApiError::unauthorized(
                    "this call needs `Authorization: Bearer <token>`",
                ));
            }
            Some(guess) if !token.matches(guess) => {
                return Err(ApiError::unauthorized("the bearer token is wrong"));
            }
            Some(_) => {}
        }
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_itself_only() {
        let t = Token::new("s3cret\n").expect("not empty");
        assert!(t.matches("s3cret"));
        assert!(!t.matches("s3cre"));
        assert!(!t.matches(""));
        assert!(Token::new(" \n").is_none());
    }

    #[test]
    fn a_session_is_the_tokens_own_and_expires() {
        let t = Token::new("s3cret").expect("not empty");
        let (issued, day) = (1_700_000_000_000, 86_400_000);
        let session = t.session(issued);
        assert!(!session.contains("s3cret"));
        assert!(t.session_valid(&session, issued, day));
        assert!(t.session_valid(&session, issued + day, day));
        assert!(!t.session_valid(&session, issued + day + 1, day), "expired");
        assert!(
            !t.session_valid(&session, issued - 120_000, day),
            "from the future"
        );
        let other = Token::new("other").expect("not empty");
        assert!(
            !other.session_valid(&session, issued, day),
            "another token's"
        );
        // The time is signed: moving it forward breaks the MAC.
        let (_, mac) = session.split_once('.').expect("time.mac");
        let moved = format!("{}.{mac}", issued + 1000);
        assert!(!t.session_valid(&moved, issued + 1000, day));
        for bad in [
            "",
            ".",
            "s3cret",
            "1.zz",
            "x.00",
            &format!("{issued}.{}", &mac[1..]),
        ] {
            assert!(!t.session_valid(bad, issued, day), "{bad:?}");
        }
    }
}
