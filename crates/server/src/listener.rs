//! Accepting connections with a limit on slow clients: a client must send its request
//! head within [`HttpLimits::header_read_timeout`] of connecting (or of the previous
//! answer on a kept-alive connection), or it is disconnected. A connection that sends
//! nothing, or half a head, therefore holds no task for longer than that (the slow-loris
//! attack). Each request carries the peer's address as [`ConnectInfo`].

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::security::HttpLimits;

/// Serves `router` on every connection `listener` accepts, until the process stops.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors or a connection reset before it was accepted:
                // the listener itself is fine, so wait a moment and go on accepting.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Small answers leave at once rather than waiting for more to send.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req)
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}
