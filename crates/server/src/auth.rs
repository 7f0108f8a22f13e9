//! Who is asking: passwords (argon2id, hashed off the async threads), server-side
//! sessions behind an opaque cookie, CSRF tokens, and the current-user extractors.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::roles::{Capability, Role};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "her2ex_session";
/// Header that carries the CSRF token on API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a sign-in lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Sign-in name.
    pub username: String,
    /// Name shown on pages and in the audit trail.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Site of a site-bound user.
    pub site: Option<String>,
    /// This session's CSRF token.
    pub csrf: String,
    /// Hash of the session token (to sign out).
    pub session_hash: String,
}

impl CurrentUser {
    /// Refuses with 403 unless the role has the capability.
    pub fn require(&self, cap: Capability) -> Result<(), ApiError> {
        if self.role.may(cap) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} may not do this",
                self.role.label().to_lowercase()
            )))
        }
    }

    /// Whether this user may see participants of `site`.
    pub fn sees_site(&self, site: &str) -> bool {
        if !self.role.may(Capability::ReadParticipants) {
            return false;
        }
        !self.role.is_site_bound() || self.site.as_deref() == Some(site)
    }
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::internal("hashing task", e))?
    .map_err(|e| ApiError::internal("hashing", e))
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

/// SHA-256 of a session token: only the hash is stored, so a stolen database holds no
/// usable session.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Checks a user's password and opens a session; returns the cookie value and the
/// session's CSRF token. Wrong user and wrong password give the same answer.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), ApiError> {
    let user = state.store.user(username).await?;
    let hash = user
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone());
    if !verify_password(password.to_string(), hash).await {
        return Err(ApiError::SignInFailed);
    }
    let token = random_token();
    let csrf = random_token();
    let ttl =
        chrono::Duration::from_std(SESSION_TTL).unwrap_or_else(|_| chrono::Duration::hours(12));
    state
        .store
        .create_session(&store::SessionRow {
            token_hash: token_hash(&token),
            username: username.to_string(),
            csrf_token: csrf.clone(),
            created_at: now,
            expires_at: now + ttl,
        })
        .await?;
    Ok((token, csrf))
}

/// The Set-Cookie value for a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    )
}

/// The Set-Cookie value that ends a session in the browser.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Finds the signed-in user of a request, if any.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<CurrentUser, ApiError> {
    let token = cookie_value(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
    let hash = token_hash(token);
    let session = state
        .store
        .session(&hash)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if session.expires_at <= Utc::now() {
        state.store.delete_session(&hash).await?;
        return Err(ApiError::Unauthenticated);
    }
    let user = state
        .store
        .user(&session.username)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthenticated)?;
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::internal("user role", format!("unknown role {}", user.role)))?;
    Ok(CurrentUser {
        username: user.username,
        display_name: user.display_name,
        role,
        site: user.site,
        csrf: session.csrf_token,
        session_hash: hash,
    })
}

/// The signed-in user of an API request. Writes must carry the session's CSRF token in
/// the `x-csrf-token` header.
pub struct ApiUser(pub CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = authenticate(parts, state).await?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(user.csrf.as_str()) {
                return Err(ApiError::Forbidden(format!(
                    "missing or wrong {CSRF_HEADER} header (the token comes with sign-in)"
                )));
            }
        }
        Ok(ApiUser(user))
    }
}

/// The signed-in user of a web page; anyone else is sent to the sign-in page. Forms
/// check the CSRF token themselves (it comes in the form body).
pub struct PageUser(pub CurrentUser);

/// Rejection of [`PageUser`]: a redirect to sign-in, or an error page.
pub enum PageRejection {
    /// Not signed in.
    SignIn,
    /// Something failed.
    Error(ApiError),
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::SignIn => Redirect::to("/signin").into_response(),
            PageRejection::Error(e) => crate::pages::error_page(e),
        }
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PageRejection> {
        match authenticate(parts, state).await {
            Ok(u) => Ok(PageUser(u)),
            Err(ApiError::Unauthenticated) => Err(PageRejection::SignIn),
            Err(e) => Err(PageRejection::Error(e)),
        }
    }
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

    #[test]
    fn cookie_parsing_finds_the_session_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; her2ex_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&h, "c"), None);
    }
}
