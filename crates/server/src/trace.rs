//! A tracing span per request: method, path, user, status and duration. The user is
//! filled in by the extractor that signs her in ([`record_user`]); the status and the
//! duration are logged when the answer leaves.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Wraps one request in its span and logs how it ended.
pub async fn span_per_request(req: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        user = tracing::field::Empty,
        status = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(req).await;
        let span = tracing::Span::current();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        span.record("status", response.status().as_u16());
        span.record("ms", ms);
        tracing::info!(status = response.status().as_u16(), ms, "answered");
        response
    }
    .instrument(span)
    .await
}

/// Names the signed-in user in the current request's span.
pub fn record_user(username: &str) {
    tracing::Span::current().record("user", username);
}
