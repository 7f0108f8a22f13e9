//! The her2ex web application: the JSON API under `/api/v1` (described at
//! `/api/openapi.json`), the server-rendered pages the sites and the sponsor use, sign-in,
//! roles and site isolation.
//!
//! Every change goes through [`write::execute`]: the server checks who is asking and
//! whether they may, the protocol decides, the store appends. [`app`] builds the whole
//! router without a socket, so tests drive it directly or on port 0.
//!
//! | module | what |
//! |---|---|
//! | [`auth`] | passwords (argon2id), sessions, CSRF, current-user extractors |
//! | [`roles`] | roles and the access policy |
//! | [`write`] | the one write path for participants |
//! | [`admin`] | sites, users, settings through the same audited log |
//! | [`commands`] | the participant commands the API and the pages offer |
//! | [`imaging`] | PET exams: quantification from the DICOM archive, the MIP picture |
//! | [`api`] | JSON endpoints |
//! | [`pet_api`] | PET exam endpoints: series, quantification, exam, MIP |
//! | [`journey_api`] | the journey after PET, the sites' visit lists, CTCAE terms |
//! | [`response_api`] | tumour response: CT assessments and the RECIST 1.1 result |
//! | [`openapi`] | the OpenAPI document |
//! | [`pages`] | web pages |

pub mod admin;
pub mod api;
pub mod auth;
pub mod commands;
pub mod error;
pub mod imaging;
pub mod journey_api;
pub mod openapi;
pub mod pages;
pub mod pet_api;
pub mod response_api;
pub mod roles;
pub mod write;

use std::net::SocketAddr;

use axum::Router;
use store::Store;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Whether cookies carry the `Secure` flag (set when served over HTTPS).
    pub secure_cookies: bool,
    /// The DICOM archive PET exams are read from, when the server has one.
    pub archive: Option<std::sync::Arc<archive::Archive>>,
}

impl AppState {
    /// State over a store; `secure_cookies` when the public address is HTTPS.
    pub fn new(store: Store, secure_cookies: bool) -> Self {
        AppState {
            store,
            secure_cookies,
            archive: None,
        }
    }

    /// The same state reading PET exams from `archive`.
    pub fn with_archive(mut self, archive: std::sync::Arc<archive::Archive>) -> Self {
        self.archive = Some(archive);
        self
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

/// Serves the application on `addr` until the process is stopped.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(state, listener).await
}

/// Serves the application on a bound listener (tests bind port 0).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}
