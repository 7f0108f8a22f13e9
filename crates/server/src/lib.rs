//! The her2ex web application: the JSON API under `/api/v1` (described at
//! `/api/openapi.json`), the server-rendered pages the sites and the sponsor use, and
//! sign-in. HTTP adapters only: a handler parses the request, calls one method of
//! [`trial::Trial`] (where access is checked, the protocol decides and the store
//! appends), and renders the answer. [`app`] builds the whole router without a socket, so
//! tests drive it directly or on port 0. Every request runs in a tracing span with its
//! method, path, user, status and duration.
//!
//! | module | what |
//! |---|---|
//! | [`auth`] | session cookie, CSRF, current-user extractors |
//! | [`error`] | the one HTTP error type |
//! | [`api`] | JSON endpoints: session, participants, commands |
//! | [`analyses_api`] | the study's analyses as JSON, as of a data cut-off |
//! | [`account_api`] | own password, and the administrator's account lifecycle |
//! | [`admin_api`] | the administrator's sites, user list and new accounts, protocol settings |
//! | [`batch_api`] | several commands of one kind as one write, all or nothing |
//! | [`dashboard_api`] | the study dashboard's figures and the study-wide deviation list (JSON, CSV) |
//! | [`pet_api`] | PET exam endpoints: series, quantification, exam, MIP |
//! | [`journey_api`] | the journey after PET, the sites' visit lists, CTCAE terms |
//! | [`response_api`] | tumour response: CT assessments and the RECIST 1.1 result |
//! | [`oversight_api`] | data points, queries, verification, freeze and lock, signatures, deviations |
//! | [`openapi`] | the OpenAPI document |
//! | [`pages`] | web pages |
//! | [`receipts_api`] | the receipts of the DICOM objects that arrived (receiver, folder import, PACS pull) |
//! | [`png`] | the MIP picture answer shared by the API and the pages |
//! | [`security`] | security headers on every answer; request body size and time limits |
//! | [`listener`] | accepting connections; slow clients are cut off |
//! | [`work_api`] | the signed-in user's work list |

pub mod account_api;
pub mod admin_api;
pub mod analyses_api;
pub mod api;
pub mod auth;
pub mod batch_api;
pub mod dashboard_api;
pub mod error;
pub mod journey_api;
pub mod listener;
pub mod openapi;
pub mod oversight_api;
pub mod pages;
pub mod pet_api;
pub mod png;
pub mod receipts_api;
pub mod response_api;
pub mod security;
mod trace;
pub mod work_api;

use std::net::SocketAddr;

use axum::Router;
pub use security::HttpLimits;
use store::Store;
use trial::Trial;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The application.
    pub trial: Trial,
    /// Whether cookies carry the `Secure` flag (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How long and how much a client may take to send a request.
    pub limits: HttpLimits,
}

impl AppState {
    /// State over an application; `secure_cookies` when the public address is HTTPS.
    pub fn from_trial(trial: Trial, secure_cookies: bool) -> Self {
        AppState {
            trial,
            secure_cookies,
            limits: HttpLimits::default(),
        }
    }

    /// The same state with other limits on what a request may take.
    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// State over a store on the machine's clock; `secure_cookies` when the public address
    /// is HTTPS.
    pub fn new(store: Store, secure_cookies: bool) -> Self {
        AppState::from_trial(Trial::new(store), secure_cookies)
    }

    /// The same state reading PET exams from `archive`.
    pub fn with_archive(mut self, archive: std::sync::Arc<archive::Archive>) -> Self {
        self.trial = self.trial.with_archive(archive);
        self
    }

    /// The database.
    pub fn store(&self) -> &Store {
        self.trial.store()
    }
}

/// The whole application. Every answer, errors included, carries the security headers;
/// every request body is read within the state's [`HttpLimits`] before a handler runs.
pub fn app(state: AppState) -> Router {
    use axum::middleware::{from_fn, from_fn_with_state};
    Router::new()
        .merge(api::router())
        .merge(oversight_api::router())
        .merge(dashboard_api::router())
        .merge(analyses_api::router())
        .merge(receipts_api::router())
        .merge(pages::router())
        .merge(admin_api::router())
        // The body is already read and bounded by `security::body_limits`.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), security::body_limits))
        .layer(from_fn_with_state(
            state.clone(),
            security::security_headers,
        ))
        .layer(from_fn(trace::span_per_request))
        .with_state(state)
}

/// Serves the application on `addr` until the process is stopped.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

/// Serves the application on a bound listener (tests bind port 0), cutting off clients
/// slower than the state's [`HttpLimits`].
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let limits = state.limits;
    listener::serve_connections(listener, app(state), limits).await
}
