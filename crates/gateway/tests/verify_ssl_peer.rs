//! `verify_ssl_peer` (seed 002) governs the core API's HTTPS: `true` refuses a certificate
//! it cannot verify, `false` accepts it (self-signed cores in test setups). The core here is a
//! minimal HTTPS responder with a self-signed certificate made at test time.

use std::time::Duration;

use core_bridge::CoreClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS server on loopback answering every request with `{"status":"ok"}`.
async fn https_core() -> (String, tokio::task::JoinHandle<()>) {
    let dir = std::env::temp_dir().join(format!("smppgw-verify-ssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let (cert_file, key_file) = (dir.join("core.pem"), dir.join("core.key"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let acceptor = smpp_session::tls::acceptor(&smpp_session::ServerTlsFiles {
        cert_file,
        key_file,
        client_ca_file: None,
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let body = br#"{"status":"ok"}"#;
                let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn verify_ssl_peer_true_refuses_an_unverifiable_core_and_false_accepts_it() {
    let (url, task) = https_core().await;
    let strict = CoreClient::new(&url, true, Duration::from_secs(5)).unwrap();
    let err = strict
        .health()
        .await
        .expect_err("a self-signed certificate must not pass verification");
    assert!(
        err.is_retryable(),
        "reported as the core being unreachable: {err}"
    );
    assert!(err.to_string().contains("unreachable"), "{err}");
    let lenient = CoreClient::new(&url, false, Duration::from_secs(5)).unwrap();
    let health = lenient
        .health()
        .await
        .expect("verify_ssl_peer = false accepts the certificate");
    assert_eq!(health.status, "ok");
    task.abort();
}
