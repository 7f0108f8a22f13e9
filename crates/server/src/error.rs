//! The one HTTP error type: refusals, conflicts, authorisation and malformed input become
//! JSON answers with a rule id and a message a person can act on; machine failures are
//! logged in full and answered without their internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Everything a request can end in other than success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The protocol said no (HTTP 422).
    #[error("{0}")]
    Refused(protocol::Refusal),
    /// The request was based on a stale version of the record (HTTP 409).
    #[error("the record changed since you loaded it (your version {expected}, now {actual})")]
    Conflict {
        /// Version the client based its change on.
        expected: i64,
        /// Version the record has now.
        actual: i64,
    },
    /// Not signed in, or the session expired (HTTP 401).
    #[error("sign in first")]
    Unauthenticated,
    /// Wrong user name or password (HTTP 401).
    #[error("wrong user name or password")]
    SignInFailed,
    /// Too many failed sign-ins: try again after `retry_after` seconds (HTTP 429 with a
    /// `Retry-After` header).
    #[error("too many failed sign-ins: try again in {retry_after} seconds")]
    Throttled {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Signed in, but the role may not do this (HTTP 403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing here, or nothing this user may know of (HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// The machine failed; the cause goes to the log only (HTTP 500).
    #[error("internal error")]
    Internal(#[source] trial::Error),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// A short, stable code: `refused`, `conflict`, `unauthenticated`, `throttled`, `forbidden`,
    /// `not_found`, `bad_request` or `internal`.
    pub error: &'static str,
    /// The protocol rule that refused, for `refused` (e.g. `GATE_CONSENT`, `IN4`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What went wrong, in words.
    pub message: String,
    /// What would satisfy the rule, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthenticated | ApiError::SignInFailed => StatusCode::UNAUTHORIZED,
            ApiError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body shown to the client.
    pub fn body(&self) -> ErrorBody {
        let (error, rule, hint) = match self {
            ApiError::Refused(r) => ("refused", Some(r.rule.id().to_string()), r.hint.clone()),
            ApiError::Conflict { .. } => (
                "conflict",
                None,
                Some("reload the record, check what changed, and enter your change again".into()),
            ),
            ApiError::Unauthenticated | ApiError::SignInFailed => ("unauthenticated", None, None),
            ApiError::Throttled { .. } => ("throttled", None, None),
            ApiError::Forbidden(_) => ("forbidden", None, None),
            ApiError::NotFound(_) => ("not_found", None, None),
            ApiError::BadRequest(_) => ("bad_request", None, None),
            ApiError::Internal(_) => ("internal", None, None),
        };
        let message = match self {
            ApiError::Refused(r) => r.message.clone(),
            other => other.to_string(),
        };
        ErrorBody {
            error,
            rule,
            message,
            hint,
        }
    }

    /// A machine failure with its cause for the log.
    pub fn internal(context: &str, err: impl Into<trial::error::Source>) -> Self {
        ApiError::Internal(trial::Error::internal(context, err))
    }

    /// Logs an internal failure with its whole cause chain (never shown to the user).
    pub fn log(&self) {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = %e.chain(), "request failed");
        }
    }
}

impl From<protocol::Refusal> for ApiError {
    fn from(r: protocol::Refusal) -> Self {
        ApiError::Refused(r)
    }
}

impl From<trial::Error> for ApiError {
    fn from(e: trial::Error) -> Self {
        use trial::Error as E;
        match e {
            E::Refused(r) => ApiError::Refused(r),
            E::Conflict { expected, actual } => ApiError::Conflict { expected, actual },
            E::Unauthenticated => ApiError::Unauthenticated,
            E::SignInFailed => ApiError::SignInFailed,
            E::Throttled { retry_after } => ApiError::Throttled { retry_after },
            E::Forbidden(m) => ApiError::Forbidden(m),
            E::NotFound(m) => ApiError::NotFound(m),
            E::BadRequest(m) => ApiError::BadRequest(m),
            internal @ E::Internal { .. } => ApiError::Internal(internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (self.status(), Json(self.body())).into_response();
        if let ApiError::Throttled { retry_after } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after.into());
        }
        response
    }
}
