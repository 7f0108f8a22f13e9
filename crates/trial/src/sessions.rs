//! Passwords and sign-in sessions: argon2id hashes computed off the async threads, and
//! server-side sessions of which only the token's SHA-256 is stored, so a stolen database
//! holds no usable session. Cookies and CSRF headers are the server's business.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

use crate::Trial;
use crate::access::User;
use crate::error::{Error, Result};
use crate::roles::Role;

/// How long a sign-in lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| Error::internal("hashing a password", e))?
    .map_err(|e| Error::internal("hashing a password", e))
}

/// A hash of a password nobody has, so that an unknown user costs as much as a known one.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J8j5yF8nF1rA0n1m3CkqQn4kJm6g8wq9cYJcV7B0wqY";

/// Checks a password against a stored hash on a blocking thread.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DECOY_HASH.to_string());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    known && ok
}

/// SHA-256 of a session token: only the hash is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// An open session: the user, the token for the cookie and the CSRF token of its forms.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub user: User,
    /// The session's CSRF token.
    pub csrf: String,
    /// Hash of the session token (to sign out).
    pub token_hash: String,
}

impl Trial {
    /// Checks a user's password and opens a session; returns the token for the cookie and
    /// the session. Wrong user and wrong password give the same answer.
    pub async fn sign_in(&self, username: &str, password: &str) -> Result<(String, Session)> {
        let row = self.store().user(username).await?;
        let hash = row
            .as_ref()
            .filter(|u| u.active)
            .map(|u| u.password_hash.clone());
        if !verify_password(password.to_string(), hash).await {
            return Err(Error::SignInFailed);
        }
        let row = row.ok_or(Error::SignInFailed)?;
        let token = random_token();
        let csrf = random_token();
        let now = self.now();
        let ttl =
            chrono::Duration::from_std(SESSION_TTL).unwrap_or_else(|_| chrono::Duration::hours(12));
        let hash = token_hash(&token);
        self.store()
            .create_session(&store::SessionRow {
                token_hash: hash.clone(),
                username: username.to_string(),
                csrf_token: csrf.clone(),
                created_at: now,
                expires_at: now + ttl,
            })
            .await?;
        let user = user_of(row)?;
        Ok((
            token,
            Session {
                user,
                csrf,
                token_hash: hash,
            },
        ))
    }

    /// The session of a cookie's token, if it is open and its user active.
    pub async fn session(&self, token: &str) -> Result<Session> {
        let hash = token_hash(token);
        let session = self
            .store()
            .session(&hash)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if session.expires_at <= self.now() {
            self.store().delete_session(&hash).await?;
            return Err(Error::Unauthenticated);
        }
        let row = self
            .store()
            .user(&session.username)
            .await?
            .filter(|u| u.active)
            .ok_or(Error::Unauthenticated)?;
        Ok(Session {
            user: user_of(row)?,
            csrf: session.csrf_token,
            token_hash: hash,
        })
    }

    /// Ends a session.
    pub async fn sign_out(&self, token_hash: &str) -> Result<()> {
        Ok(self.store().delete_session(token_hash).await?)
    }

    /// Checks a signer's password again (electronic signatures).
    pub async fn check_password(&self, username: &str, password: &str) -> Result<bool> {
        let hash = self.store().user(username).await?.map(|u| u.password_hash);
        Ok(verify_password(password.to_string(), hash).await)
    }
}

fn user_of(row: store::UserRow) -> Result<User> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| Error::internal("reading a user", format!("unknown role {}", row.role)))?;
    Ok(User {
        username: row.username,
        display_name: row.display_name,
        role,
        site: row.site,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn password_hash_verifies_only_the_right_password() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }
}
