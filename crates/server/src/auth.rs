//! Who is asking, over HTTP: the session cookie (the session itself and the passwords are
//! `trial::sessions`), CSRF tokens, and the current-user extractors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use trial::sessions::{SESSION_TTL, Session};
use trial::{Capability, SiteZone, User};

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "her2ex_session";
/// Header that carries the CSRF token on API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request: who she is (for the use cases) and her session's
/// CSRF token and hash (for the forms and sign-out).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who, as the use cases see her.
    pub user: User,
    /// This session's CSRF token.
    pub csrf: String,
    /// Hash of the session token (to sign out).
    pub session_hash: String,
    /// The sites' time zone, for the times shown to her.
    pub zone: SiteZone,
}

impl std::ops::Deref for CurrentUser {
    type Target = User;

    fn deref(&self) -> &User {
        &self.user
    }
}

impl CurrentUser {
    /// Refuses with 403 unless the role has the capability.
    pub fn require(&self, cap: Capability) -> Result<(), ApiError> {
        Ok(self.user.require(cap)?)
    }

    /// An instant as she reads it, in the sites' time zone (`2026-07-01 10:30 CEST`).
    pub fn local_time(&self, t: chrono::DateTime<chrono::Utc>) -> String {
        self.zone.format(t)
    }

    fn from_session(s: Session, zone: SiteZone) -> Self {
        CurrentUser {
            user: s.user,
            csrf: s.csrf,
            session_hash: s.token_hash,
            zone,
        }
    }
}

/// Signs in with a password; returns the cookie value and the signed-in user.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(String, CurrentUser), ApiError> {
    let (token, session) = state.trial.sign_in(username, password).await?;
    Ok((
        token,
        CurrentUser::from_session(session, state.trial.zone()),
    ))
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
    let session = state.trial.session(token).await?;
    crate::trace::record_user(&session.user.username);
    Ok(CurrentUser::from_session(session, state.trial.zone()))
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
