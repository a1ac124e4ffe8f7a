//! Bearer-token authentication of the calls that change something.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
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

    /// What a signed-in browser keeps in its cookie: derived from the
    /// token, so the token itself is never stored there, and the same
    /// across restarts of a host with the same token.
    pub fn session(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"clever-dashboard-session:");
        hash.update(self.0);
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// True if `cookie` is [`Token::session`], in time independent of
    /// where they differ.
    pub fn session_matches(&self, cookie: &str) -> bool {
        let want: [u8; 32] = Sha256::digest(self.session().as_bytes()).into();
        let got: [u8; 32] = Sha256::digest(cookie.as_bytes()).into();
        same(&want, &got)
    }
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

/// Let the request through only with `Authorization: Bearer <token>`
/// (or with no token set, under `--insecure-local`).
pub async fn require_token(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(token) = &state.token {
        let given = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
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
        let session = t.session();
        assert!(!session.contains("s3cret"));
        assert!(t.session_matches(&session));
        assert!(!t.session_matches("s3cret"));
        assert_ne!(session, Token::new("other").expect("not empty").session());
    }
}
