//! What every answer carries and what every request may cost: the security headers
//! (content security policy, no framing, no sniffing, no referrer, HSTS over HTTPS, no
//! caching of anything but the stylesheet) and the request body's limits (a size above
//! which the server answers 413, and a time within which the body must have arrived or
//! the server answers 408). The connection-level limits (the time to send the request
//! head) are applied where connections are accepted, in [`crate::listener`].
//!
//! The pages carry no script and no inline style (the stylesheet is served from
//! `/static/`), so the policy allows neither: an injected `<script>` or `style` attribute
//! does nothing in a browser.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use crate::AppState;
use crate::error::ErrorBody;

/// The content security policy of every answer: resources from this server only, no
/// script at all, no inline style, forms post only here, and no page may frame ours
/// (clickjacking).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `Strict-Transport-Security` when the public address is HTTPS: a year, as browsers'
/// preload rules ask.
pub const HSTS: &str = "max-age=31536000";

/// Path prefix of the static assets: the only answers a browser may cache.
pub const STATIC_PREFIX: &str = "/static/";

/// How long and how much a client may take: the limits `her2ex serve` is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time from the start of a connection (or the end of the previous answer on a
    /// kept-alive connection) to the end of the request head; a slower client is
    /// disconnected.
    pub header_read_timeout: Duration,
    /// Time to receive the whole request body once the handler starts reading it; a
    /// slower client gets 408.
    pub body_read_timeout: Duration,
    /// Largest request body in bytes; a larger one gets 413.
    pub max_body_bytes: usize,
}

impl HttpLimits {
    /// Default time to send the request head.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default time to send the request body.
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default largest request body: 1 MiB, far above any form or command of the trial.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// Adds the security headers to every answer, the error answers included. Every answer
/// but a static asset is `Cache-Control: no-store`: pages and API answers carry
/// participants' data, which must not stay in a shared computer's browser cache.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with(STATIC_PREFIX);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    // An answer that carries its own policy keeps it: the study report admits exactly
    // its own inline style sheet, by hash, and nothing else.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if state.secure_cookies {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Why a request body was not accepted.
enum BodyRefusal {
    /// Larger than the limit.
    TooLarge,
    /// Not all there within the time.
    TooSlow,
    /// The connection failed while it was being read.
    Broken,
}

/// Reads the request body within the configured size and time before any handler sees
/// it: a body over the limit is answered 413 (at once when its `Content-Length` says so),
/// a body that does not arrive in time 408, both as JSON errors.
pub async fn body_limits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = state.limits;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return refusal(BodyRefusal::TooLarge, &limits);
    }
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(
        limits.body_read_timeout,
        read_limited(body, limits.max_body_bytes),
    )
    .await;
    match read {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(why)) => refusal(why, &limits),
        Err(_) => refusal(BodyRefusal::TooSlow, &limits),
    }
}

/// The body's bytes, or why not, stopping as soon as it passes `max` bytes.
async fn read_limited(mut body: Body, max: usize) -> Result<Bytes, BodyRefusal> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyRefusal::Broken)?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(BodyRefusal::TooLarge);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// The JSON error answer of a refused body.
fn refusal(why: BodyRefusal, limits: &HttpLimits) -> Response {
    let (status, error, message) = match why {
        BodyRefusal::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is larger than the limit of {} bytes",
                limits.max_body_bytes
            ),
        ),
        BodyRefusal::TooSlow => (
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} seconds",
                limits.body_read_timeout.as_secs_f64()
            ),
        ),
        BodyRefusal::Broken => (
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read".to_string(),
        ),
    };
    let body = ErrorBody {
        error,
        rule: None,
        message,
        hint: None,
    };
    (status, Json(body)).into_response()
}
