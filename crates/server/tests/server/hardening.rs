//! The server under hostile HTTP: every answer (pages, API, errors) carries the security
//! headers and is not cached; a client that sends its request head or body too slowly
//! is cut off (slow-loris), fifty half-open connections included; a body over the limit
//! is refused with 413 before a handler reads it.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;
use server::{AppState, HttpLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{PASSWORD, TestApp};

/// Short limits so the tests need not wait the production defaults.
const TEST_LIMITS: HttpLimits = HttpLimits {
    header_read_timeout: Duration::from_millis(300),
    body_read_timeout: Duration::from_millis(300),
    max_body_bytes: 1000,
};

/// How long a test waits for the server to close a connection it must close: far above
/// the limits above, so only a server that never closes fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A second server over the same application state, on its own port.
async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(server::serve_on(state, listener));
    addr
}

fn assert_security_headers(what: &str, h: &HeaderMap) {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} header in {h:?}"))
            .to_string()
    };
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(
        !csp.contains("script-src"),
        "{what}: no script allowed: {csp}"
    );
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
}

fn cache_control(h: &HeaderMap) -> &str {
    h.get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_api_answers_and_errors_carry_the_security_headers_and_are_not_cached() {
    let app = TestApp::start().await;
    let id = app.register("nurse.ks", "KS").await;
    let nurse = app.client("nurse.ks").await;
    let anonymous = reqwest::Client::new();

    let signin = anonymous.get(app.url("/signin")).send().await.unwrap();
    assert_eq!(signin.status(), StatusCode::OK);
    let h = signin.headers().clone();
    assert_security_headers("sign-in page", &h);
    assert_eq!(cache_control(&h), "no-store");
    assert!(h.get("strict-transport-security").is_none(), "plain HTTP");
    let html = signin.text().await.unwrap();
    assert!(!html.contains("<style"), "no inline style: {html}");
    assert!(!html.contains("<script"), "no script: {html}");
    assert!(html.contains("href=\"/static/her2ex.css\""), "{html}");

    let page = nurse
        .http
        .get(app.url(&format!("/participants/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_security_headers("participant page", page.headers());
    assert_eq!(cache_control(page.headers()), "no-store");

    let api = nurse
        .http
        .get(app.url(&format!("/api/v1/participants/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::OK);
    assert_security_headers("participant API answer", api.headers());
    assert_eq!(cache_control(api.headers()), "no-store");

    for (what, path) in [
        ("unknown API path", "/api/v1/nowhere"),
        ("API without a session", "/api/v1/participants"),
        ("unknown page", "/nowhere"),
    ] {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert!(r.status().is_client_error(), "{what}: {}", r.status());
        assert_security_headers(what, r.headers());
        assert_eq!(cache_control(r.headers()), "no-store", "{what}");
    }

    // The stylesheet is the one answer a browser may keep.
    let css = anonymous
        .get(app.url("/static/her2ex.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert_security_headers("stylesheet", css.headers());
    assert!(cache_control(css.headers()).starts_with("public"));
    assert!(css.text().await.unwrap().contains("font:"));

    // Served as HTTPS (behind a TLS proxy), answers also demand HTTPS from now on.
    let mut secure = app.state.clone();
    secure.secure_cookies = true;
    let addr = serve(secure).await;
    let r = anonymous
        .post(format!("http://{addr}/api/v1/session"))
        .json(&json!({"username": "nurse.ks", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers("refused sign-in over HTTPS", r.headers());
    let hsts = r.headers().get("strict-transport-security");
    assert!(
        hsts.and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("max-age=")),
        "{hsts:?}"
    );
}

/// Waits until the server closes `stream`, returning what it sent before; panics after
/// [`PATIENCE`].
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    match tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got)).await {
        // An orderly close or a reset: the server let go of the connection either way.
        Ok(_) => got,
        Err(_) => panic!("the server kept a stalled connection open"),
    }
}

/// A request head that stops half-way, as a slow-loris client sends it.
const HALF_A_HEAD: &[u8] = b"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

#[tokio::test]
async fn a_client_that_sends_half_a_request_head_is_disconnected() {
    let app = TestApp::start().await;
    let addr = serve(app.state.clone().with_limits(TEST_LIMITS)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(HALF_A_HEAD).await.unwrap();
    let got = until_closed(&mut slow).await;
    assert!(
        !String::from_utf8_lossy(&got).contains("200 OK"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // The server itself goes on answering.
    let r = reqwest::get(format!("http://{addr}/signin")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn fifty_half_open_connections_are_all_closed() {
    let app = TestApp::start().await;
    let addr = serve(app.state.clone().with_limits(TEST_LIMITS)).await;
    let mut conns = Vec::new();
    for i in 0..50 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        // Half of them send nothing at all, half send part of a head.
        if i % 2 == 1 {
            c.write_all(HALF_A_HEAD).await.unwrap();
        }
        conns.push(c);
    }
    // The server's timers run side by side; waiting on one after another costs no more.
    for c in &mut conns {
        until_closed(c).await;
    }
    let r = reqwest::get(format!("http://{addr}/signin")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_that_arrives_too_slowly_is_answered_408() {
    let app = TestApp::start().await;
    let addr = serve(app.state.clone().with_limits(TEST_LIMITS)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    let got = String::from_utf8_lossy(&until_closed_or_answered(&mut slow).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("request_timeout"), "{got}");
    assert!(
        got.to_lowercase().contains("content-security-policy"),
        "{got}"
    );
}

/// Reads until the server closes `stream` or has sent a whole answer head and some body.
async fn until_closed_or_answered(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&got);
            if let Some(head_end) = text.find("\r\n\r\n")
                && text.len() > head_end + 4
                && text.ends_with('}')
            {
                break;
            }
        }
    };
    if tokio::time::timeout(PATIENCE, read).await.is_err() {
        panic!("no answer to a stalled body");
    }
    got
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_a_json_error() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();

    // The default limit, declared by Content-Length.
    let huge = "x".repeat(HttpLimits::DEFAULT_MAX_BODY_BYTES + 1);
    let body = json!({"username": "nurse.ks", "password": huge}).to_string();
    let r = client
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_security_headers("413", r.headers());
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["error"], "payload_too_large");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1048576 bytes"),
        "{err}"
    );

    // A body just under the limit is read and answered by the handler.
    let small = json!({"username": "nurse.ks", "password": PASSWORD}).to_string();
    let r = client
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(small)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A configured limit, with a chunked body that never says its length.
    let addr = serve(app.state.clone().with_limits(TEST_LIMITS)).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut request = b"POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..3 {
        request.extend_from_slice(format!("{:x}\r\n{}\r\n", 600, "y".repeat(600)).as_bytes());
    }
    request.extend_from_slice(b"0\r\n\r\n");
    c.write_all(&request).await.unwrap();
    let got = String::from_utf8_lossy(&until_closed_or_answered(&mut c).await).into_owned();
    assert!(got.starts_with("HTTP/1.1 413"), "{got}");
    assert!(got.contains("1000 bytes"), "{got}");
}
