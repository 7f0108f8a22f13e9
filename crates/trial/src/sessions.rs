//! Passwords and sign-in sessions: argon2id hashes computed off the async threads and at
//! most one per core at a time (so a flood of sign-ins waits instead of taking memory),
//! and server-side sessions of which only the token's SHA-256 is stored, so a stolen
//! database holds no usable session. A session ends at its absolute limit or after a
//! stretch without use. Every failed password check is recorded in the audit trail with
//! the client's address, and counts towards the account's lockout ([`crate::signin`]).
//! Cookies and CSRF headers are the server's business.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::Trial;
use crate::access::User;
use crate::accounts::PasswordCheck;
use crate::error::{Error, Result};
use crate::roles::Role;

/// How long a sign-in lasts at most (the default of [`crate::AccountPolicy::session_ttl`]).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// A session's last use is written again only after this long, so reading pages does not
/// turn every request into a database write.
const TOUCH_AFTER: chrono::Duration = chrono::Duration::seconds(60);

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Permits to run argon2: one per core. Each hash takes 19 MiB and a core's worth of
/// time, so more at once only adds memory, never throughput.
fn hashing_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new(cores)
    })
}

/// Runs `work` on a blocking thread once a hashing permit is free.
async fn with_permit<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|e| Error::internal("waiting to hash a password", e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::internal("hashing a password", e))
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> Result<String> {
    with_permit(move || {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await?
    .map_err(|e| Error::internal("hashing a password", e))
}

/// A hash of a password nobody has, so that an unknown user costs as much as a known one.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J8j5yF8nF1rA0n1m3CkqQn4kJm6g8wq9cYJcV7B0wqY";

/// Checks a password against a stored hash on a blocking thread.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DECOY_HASH.to_string());
    let ok = with_permit(move || {
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
    /// The password was reset by an administrator: until she changes it, the session may
    /// do nothing else.
    pub must_change_password: bool,
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::hours(12))
}

impl Trial {
    /// Checks a user's password and opens a session; returns the token for the cookie and
    /// the session. Wrong user, wrong password, a locked and a deactivated account give
    /// the same answer; each is recorded in the audit trail with `client` (the address the
    /// request came from). Too many failures from one address or for one account name
    /// are answered [`Error::Throttled`] before any password is checked.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: Option<&str>,
    ) -> Result<(String, Session)> {
        let policy = self.account_policy();
        let now = self.now();
        let name_key: String = username.chars().take(64).collect();
        let limits = [
            (format!("account:{name_key}"), policy.per_account_limit),
            (
                format!("address:{}", client.unwrap_or("unknown")),
                policy.per_address_limit,
            ),
        ];
        let ticket = self
            .throttle()
            .begin(&limits, policy.throttle_window, now)
            .map_err(|retry_after| {
                tracing::warn!(username = %name_key, client, "sign-in throttled");
                Error::Throttled { retry_after }
            })?;
        let row = self.store().user(username).await?;
        let credential = self.store().credential(username).await?;
        let usable = row.as_ref().is_some_and(|u| u.active && !u.locked);
        let hash = credential
            .as_ref()
            .filter(|_| usable)
            .map(|c| c.password_hash.clone());
        if !verify_password(password.to_string(), hash).await {
            let check = match &row {
                None => PasswordCheck::UnknownUser,
                Some(u) if !u.active => PasswordCheck::Deactivated,
                Some(u) if u.locked => PasswordCheck::Locked,
                Some(_) => PasswordCheck::WrongPassword,
            };
            self.password_failed("sign_in_failed", username, client, None, check)
                .await?;
            return Err(Error::SignInFailed);
        }
        self.throttle().forgive(ticket);
        let (row, credential) = match (row, credential) {
            (Some(r), Some(c)) => (r, c),
            _ => return Err(Error::SignInFailed),
        };
        if credential.failures > 0 {
            self.store().clear_failures(username).await?;
        }
        let idle_since = now - chrono_of(policy.idle_timeout);
        self.store().purge_sessions(now, idle_since).await?;
        let token = random_token();
        let csrf = random_token();
        let hash = token_hash(&token);
        self.store()
            .create_session(&store::SessionRow {
                token_hash: hash.clone(),
                username: username.to_string(),
                csrf_token: csrf.clone(),
                created_at: now,
                expires_at: now + chrono_of(policy.session_ttl),
                last_seen_at: now,
            })
            .await?;
        let user = user_of(row, client)?;
        Ok((
            token,
            Session {
                user,
                csrf,
                token_hash: hash,
                must_change_password: credential.must_change,
            },
        ))
    }

    /// The session of a cookie's token, if it is open (neither past its limit nor idle
    /// too long) and its user active and not locked. `client` is where the request came
    /// from, for the audit trail of what the session does.
    pub async fn session(&self, token: &str, client: Option<&str>) -> Result<Session> {
        let hash = token_hash(token);
        // One read: the session, its user and her credential's state.
        let store::SessionAccount {
            session,
            user,
            must_change_password,
        } = self
            .store()
            .session_account(&hash)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let now = self.now();
        let idle = chrono_of(self.account_policy().idle_timeout);
        if session.expires_at <= now || session.last_seen_at + idle <= now {
            self.store().delete_session(&hash).await?;
            return Err(Error::Unauthenticated);
        }
        let row = user
            .filter(|u| u.active && !u.locked)
            .ok_or(Error::Unauthenticated)?;
        if now - session.last_seen_at >= TOUCH_AFTER {
            self.store().touch_session(&hash, now).await?;
        }
        Ok(Session {
            user: user_of(row, client)?,
            csrf: session.csrf_token,
            token_hash: hash,
            must_change_password,
        })
    }

    /// Ends a session.
    pub async fn sign_out(&self, token_hash: &str) -> Result<()> {
        Ok(self.store().delete_session(token_hash).await?)
    }

    /// Checks a signer's password again (electronic signatures). A wrong password is
    /// recorded in the audit trail with the signer's address and counts towards her
    /// account's lockout; `meaning` is what she was signing.
    pub async fn check_signature(
        &self,
        user: &User,
        password: &str,
        meaning: &str,
    ) -> Result<bool> {
        let credential = self.store().credential(&user.username).await?;
        let hash = credential.map(|c| c.password_hash);
        if verify_password(password.to_string(), hash).await {
            return Ok(true);
        }
        self.password_failed(
            "signature_failed",
            &user.username,
            user.client_address.as_deref(),
            Some(meaning),
            PasswordCheck::WrongPassword,
        )
        .await?;
        Ok(false)
    }
}

pub(crate) fn user_of(row: store::UserRow, client: Option<&str>) -> Result<User> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| Error::internal("reading a user", format!("unknown role {}", row.role)))?;
    Ok(User {
        username: row.username,
        display_name: row.display_name,
        role,
        site: row.site,
        client_address: client.map(str::to_string),
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
