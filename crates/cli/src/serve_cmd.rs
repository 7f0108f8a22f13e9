//! `her2ex serve`: the web application and the JSON API.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;

use crate::DataArgs;

/// Arguments of `her2ex serve`.
#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "HER2EX_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address people use, when it differs (e.g. behind a TLS proxy). An https
    /// address turns on Secure cookies.
    #[arg(long, env = "HER2EX_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Serves until stopped.
pub async fn serve(a: ServeArgs) -> anyhow::Result<u8> {
    let store = a.data.open().await?;
    serve_store(store, &a).await
}

/// Serves an opened store.
pub async fn serve_store(store: store::Store, a: &ServeArgs) -> anyhow::Result<u8> {
    let secure = a
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let state = server::AppState::new(store, secure);
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("listening on {}", a.listen))?;
    let url = a
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", a.listen));
    println!("her2ex serving at {url} (stop with Ctrl-C)");
    server::serve_on(state, listener).await.context("serving")?;
    Ok(0)
}
