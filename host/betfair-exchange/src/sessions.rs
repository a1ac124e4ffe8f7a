//! The exchange's one account and its sessions (venue-protocols B.2): login
//! with a username and password hands out a session token, keep-alive
//! extends it, logout ends it, and every Stream API connection and Betting
//! API call must carry a live token and the account's app key.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use clever_betfair::esa::{ErrorCode, Secret};
use rand::RngExt;

/// Betfair's session lifetime on the international exchange.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The account clients log in to.
#[derive(Debug, Clone)]
pub struct Account {
    /// Login name.
    pub username: String,
    /// Login password.
    pub password: Secret,
    /// The application key every request must carry.
    pub app_key: Secret,
}

/// Why credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No app key given.
    NoAppKey,
    /// Not the account's app key.
    InvalidAppKey,
    /// No session token given.
    NoSession,
    /// A token that was never issued, has expired or was logged out.
    InvalidSession,
}

impl Refusal {
    /// The Stream API's code for it (A.3).
    pub fn stream_code(self) -> ErrorCode {
        match self {
            Refusal::NoAppKey => ErrorCode::NoAppKey,
            Refusal::InvalidAppKey => ErrorCode::InvalidAppKey,
            Refusal::NoSession => ErrorCode::NoSession,
            Refusal::InvalidSession => ErrorCode::InvalidSessionInformation,
        }
    }

    /// The Betting API's `APINGException` code for it (B.1).
    pub fn api_code(self) -> &'static str {
        match self {
            Refusal::NoAppKey => "NO_APP_KEY",
            Refusal::InvalidAppKey => "INVALID_APP_KEY",
            Refusal::NoSession => "NO_SESSION",
            Refusal::InvalidSession => "INVALID_SESSION_INFORMATION",
        }
    }
}

/// The account and the sessions open on it.
#[derive(Debug)]
pub struct Sessions {
    account: Account,
    lifetime: Duration,
    /// Live tokens and when each expires.
    open: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    /// Sessions on `account` that expire `lifetime` after login or the
    /// latest keep-alive.
    pub fn new(account: Account, lifetime: Duration) -> Sessions {
        Sessions {
            account,
            lifetime,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// The account's app key (the `product` of login replies).
    pub fn app_key(&self) -> &Secret {
        &self.account.app_key
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new session for the right username and password.
    pub fn login(&self, username: &str, password: &str) -> Option<Secret> {
        if username != self.account.username || password != self.account.password.expose() {
            return None;
        }
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let mut open = self.open();
        let now = Instant::now();
        open.retain(|_, expires| *expires > now);
        open.insert(token.clone(), now + self.lifetime);
        Some(Secret::new(token))
    }

    /// Extend a live session; false if it is not one.
    pub fn keep_alive(&self, token: &str) -> bool {
        let now = Instant::now();
        match self.open().get_mut(token) {
            Some(expires) if *expires > now => {
                *expires = now + self.lifetime;
                true
            }
            _ => false,
        }
    }

    /// End a session; false if it was not live.
    pub fn logout(&self, token: &str) -> bool {
        let now = Instant::now();
        self.open()
            .remove(token)
            .is_some_and(|expires| expires > now)
    }

    /// Open a session with a token chosen by the caller (tests).
    #[cfg(test)]
    pub(crate) fn with_token(self, token: &str) -> Sessions {
        self.open()
            .insert(token.into(), Instant::now() + self.lifetime);
        self
    }

    /// End every session at once (fault injection: the exchange forgets
    /// its sessions, as after an expiry).
    pub fn expire_all(&self) {
        self.open().clear();
    }

    /// Whether a request with these credentials may go on.
    pub fn check(&self, app_key: Option<&str>, token: Option<&str>) -> Result<(), Refusal> {
        let app_key = app_key.ok_or(Refusal::NoAppKey)?;
        if app_key != self.account.app_key.expose() {
            return Err(Refusal::InvalidAppKey);
        }
        let token = token.ok_or(Refusal::NoSession)?;
        let live = self
            .open()
            .get(token)
            .is_some_and(|expires| *expires > Instant::now());
        if live {
            Ok(())
        } else {
            Err(Refusal::InvalidSession)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(lifetime: Duration) -> Sessions {
        let account = Account {
            username: "u".into(),
            password: Secret::new("p"),
            app_key: Secret::new("k"),
        };
        Sessions::new(account, lifetime)
    }

    #[test]
    fn a_login_gives_a_token_that_works_until_logout() {
        let s = sessions(SESSION_LIFETIME);
        assert!(s.login("u", "wrong").is_none());
        let token = s.login("u", "p").unwrap();
        let token = token.expose();
        assert_eq!(token.len(), 32);
        assert_eq!(s.check(Some("k"), Some(token)), Ok(()));
        assert_eq!(s.check(None, Some(token)), Err(Refusal::NoAppKey));
        assert_eq!(s.check(Some("x"), Some(token)), Err(Refusal::InvalidAppKey));
        assert_eq!(s.check(Some("k"), None), Err(Refusal::NoSession));
        assert!(s.keep_alive(token));
        assert!(s.logout(token));
        assert_eq!(
            s.check(Some("k"), Some(token)),
            Err(Refusal::InvalidSession)
        );
        assert!(!s.keep_alive(token));
    }

    #[test]
    fn a_session_expires_after_its_lifetime() {
        let s = sessions(Duration::from_millis(30));
        let token = s.login("u", "p").unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let refused = s.check(Some("k"), Some(token.expose()));
        assert_eq!(refused, Err(Refusal::InvalidSession));
        assert!(!s.keep_alive(token.expose()));
    }
}
