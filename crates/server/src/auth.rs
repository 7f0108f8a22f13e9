//! Who is asking, over HTTP: the session cookie (the session itself and the passwords are
//! `trial::sessions`), CSRF tokens, and the current-user extractors.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use trial::sessions::{SESSION_TTL, Session};
use trial::{Capability, SiteZone, User};

use crate::AppState;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "her2ex_session";
/// The page where a user changes her own password.
pub const PASSWORD_PAGE: &str = "/account/password";
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
    /// Her password was reset: she may only change it (and sign out) until she does.
    pub must_change_password: bool,
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
            must_change_password: s.must_change_password,
        }
    }
}

/// The address a request came from: the peer of the connection, or, when the peer is one
/// of the account policy's trusted proxies, the last address of its `X-Forwarded-For`
/// header. None when the server was started without peer addresses (tests that call the
/// router directly).
pub struct ClientAddress(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        Ok(ClientAddress(client_address(parts, state)))
    }
}

fn client_address(parts: &Parts, state: &AppState) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    if !state.trial.account_policy().trusted_proxies.contains(&peer) {
        return Some(peer.to_string());
    }
    // The proxy appends the address it saw last; earlier entries are the client's word.
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .next_back();
    Some(forwarded.unwrap_or(peer).to_string())
}

/// Signs in with a password from `client`; returns the cookie value and the signed-in
/// user.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: Option<&str>,
) -> Result<(String, CurrentUser), ApiError> {
    let (token, session) = state.trial.sign_in(username, password, client).await?;
    Ok((
        token,
        CurrentUser::from_session(session, state.trial.zone()),
    ))
}

/// The Set-Cookie value for a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    // The server ends the session earlier if it stays idle or the policy is shorter.
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
    let client = client_address(parts, state);
    let session = state.trial.session(token, client.as_deref()).await?;
    crate::trace::record_user(&session.user.username);
    Ok(CurrentUser::from_session(session, state.trial.zone()))
}

/// The signed-in user of an API request. Writes must carry the session's CSRF token in
/// the `x-csrf-token` header. A session whose password must be changed is refused (403)
/// here; only [`SessionUser`] lets it through.
pub struct ApiUser(pub CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SessionUser(user) = SessionUser::from_request_parts(parts, state).await?;
        if user.must_change_password {
            return Err(ApiError::Forbidden(
                "your password was reset: change it first (POST /api/v1/account/password)".into(),
            ));
        }
        Ok(ApiUser(user))
    }
}

/// The signed-in user of an API request even if her password must be changed: for
/// changing it, seeing who is signed in, and signing out. Writes must carry the CSRF
/// token as for [`ApiUser`].
pub struct SessionUser(pub CurrentUser);

impl FromRequestParts<AppState> for SessionUser {
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
        Ok(SessionUser(user))
    }
}

/// The signed-in user of a web page; anyone else is sent to the sign-in page. Forms
/// check the CSRF token themselves (it comes in the form body).
pub struct PageUser(pub CurrentUser);

/// Rejection of [`PageUser`]: a redirect to sign-in, or an error page.
pub enum PageRejection {
    /// Not signed in.
    SignIn,
    /// Signed in, but the password was reset and must be changed first.
    ChangePassword,
    /// Something failed.
    Error(ApiError),
}

impl IntoResponse for PageRejection {
    fn into_response(self) -> Response {
        match self {
            PageRejection::SignIn => Redirect::to("/signin").into_response(),
            PageRejection::ChangePassword => Redirect::to(PASSWORD_PAGE).into_response(),
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
            Ok(u)
                if u.must_change_password
                    && !matches!(parts.uri.path(), PASSWORD_PAGE | "/signout") =>
            {
                Err(PageRejection::ChangePassword)
            }
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
