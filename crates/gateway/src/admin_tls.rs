//! HTTPS for the admin API and dashboard (`[admin] tls_cert_file` / `tls_key_file`).
//!
//! [`TlsListener`] is an [`axum::serve::Listener`]: a background task accepts TCP
//! connections and runs each TLS handshake in its own task (bounded by
//! [`HANDSHAKE_TIMEOUT`]), so one slow or silent client cannot hold up the others; finished
//! handshakes are handed to axum through a channel. A failed handshake (plain HTTP sent to
//! the HTTPS port, an unknown CA on the browser side) is logged at debug level and the
//! connection closed; the listener keeps serving.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use smpp_session::tls::TlsAcceptor;

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes finished but not yet taken by axum; beyond this the accept task waits.
const READY_BACKLOG: usize = 64;

/// A TCP listener that yields TLS streams whose handshake succeeded.
pub struct TlsListener {
    ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Start accepting on `listener` with `acceptor`, until `stop` is cancelled.
    pub fn new(
        listener: TcpListener,
        acceptor: TlsAcceptor,
        stop: CancellationToken,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_BACKLOG);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.cancelled() => return,
                    a = listener.accept() => a,
                };
                let (tcp, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and the like: wait a little rather than spin.
                        tracing::warn!(error = %e, "admin API (HTTPS): accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "admin API (HTTPS): TLS handshake failed")
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "admin API (HTTPS): TLS handshake timed out")
                        }
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(next) => next,
            // The accept task ended (shutdown): never yield again; graceful shutdown ends serve.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A self-signed certificate for 127.0.0.1, its acceptor, and a client that trusts it.
    fn certificate(dir: &std::path::Path) -> (TlsAcceptor, reqwest::Client) {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_file, cert.cert.pem()).unwrap();
        std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
        let acceptor = smpp_session::tls::acceptor(&smpp_session::ServerTlsFiles {
            cert_file,
            key_file,
            client_ca_file: None,
        })
        .unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap(),
            )
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        (acceptor, client)
    }

    async fn serve(dir: &str) -> (SocketAddr, reqwest::Client, CancellationToken) {
        let dir =
            std::env::temp_dir().join(format!("smppgw-admin-tls-{dir}-{}", std::process::id()));
        let (acceptor, client) = certificate(&dir);
        let stop = CancellationToken::new();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = TlsListener::new(tcp, acceptor, stop.clone()).unwrap();
        let addr = axum::serve::Listener::local_addr(&tls).unwrap();
        let app =
            axum::Router::new().route("/hello", axum::routing::get(|| async { "hello over tls" }));
        let s = stop.clone();
        tokio::spawn(async move {
            axum::serve(tls, app)
                .with_graceful_shutdown(async move { s.cancelled().await })
                .await
                .unwrap();
        });
        (addr, client, stop)
    }

    #[tokio::test]
    async fn serves_https_and_a_silent_client_does_not_hold_up_others() {
        let (addr, client, stop) = serve("silent").await;
        // A client that connects and never starts its handshake.
        let _silent = TcpStream::connect(addr).await.unwrap();
        let body = client
            .get(format!("https://{addr}/hello"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "hello over tls");
        stop.cancel();
    }

    #[tokio::test]
    async fn plain_http_is_refused_and_the_listener_keeps_serving() {
        let (addr, client, stop) = serve("plain").await;
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain
            .write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut answer).await;
        assert!(
            !String::from_utf8_lossy(&answer).contains("hello over tls"),
            "plain HTTP got the page: {answer:?}"
        );
        let status = client
            .get(format!("https://{addr}/hello"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        stop.cancel();
    }
}
