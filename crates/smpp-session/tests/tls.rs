//! SMPP over TLS over real loopback TCP, with certificates made at test time: our client bind
//! against our TLS listener, mutual TLS, wrong CAs and names, a handshake that never starts,
//! one `max_connections` over both endpoints, and configuration errors that name the file.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Frame, Pdu, SubmitSm};
use smpp_session::tls::{acceptor, ClientTls, ClientTlsFiles, ServerTlsFiles, TlsError};
use smpp_session::{
    serve, spawn_client, ClientConfig, ConnectionLimit, Endpoint, LinkEvent, LinkState,
    ListenerConfig, SessionConfig, SessionRegistry,
};
use support::*;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

struct TlsServer {
    port: u16,
    plain_port: u16,
    registry: SessionRegistry,
    limit: ConnectionLimit,
    stop: CancellationToken,
}

async fn tls_server(files: ServerTlsFiles, max: usize, bind_timeout: Duration) -> TlsServer {
    let tls_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tls_listener.local_addr().unwrap().port();
    let plain_port = plain_listener.local_addr().unwrap().port();
    let registry = SessionRegistry::new();
    let limit = ConnectionLimit::new(max);
    let stop = CancellationToken::new();
    let config = ListenerConfig {
        session: SessionConfig {
            bind_timeout,
            ..SessionConfig::default()
        },
        ..listener_config()
    };
    let endpoints = vec![
        Endpoint::tls(tls_listener, acceptor(&files).unwrap()),
        Endpoint::plain(plain_listener),
    ];
    tokio::spawn(serve(
        endpoints,
        limit.clone(),
        config,
        Arc::new(TestHandler::default()),
        registry.clone(),
        stop.clone(),
    ));
    TlsServer {
        port,
        plain_port,
        registry,
        limit,
        stop,
    }
}

fn server_files(pki: &Pki, mutual: bool) -> ServerTlsFiles {
    ServerTlsFiles {
        cert_file: pki.server_cert.clone(),
        key_file: pki.server_key.clone(),
        client_ca_file: mutual.then(|| pki.ca.clone()),
    }
}

fn tls_client(port: u16, tls: ClientTls) -> ClientConfig {
    ClientConfig {
        host: "127.0.0.1".into(),
        port,
        system_id: "partner".into(),
        password: "pw".into(),
        reconnect_interval: Duration::from_millis(300),
        connect_timeout: Duration::from_secs(3),
        tls: Some(tls),
        ..client_config()
    }
}

async fn wait_bound(client: &smpp_session::ClientHandle) {
    let mut st = client.subscribe();
    tokio::time::timeout(
        Duration::from_secs(10),
        st.wait_for(|s| s.state == LinkState::Bound),
    )
    .await
    .expect("bound within 10 s")
    .unwrap();
}

/// The first connection failure the handler saw, waiting up to 10 s for it.
async fn first_connect_failure(handler: &TestHandler) -> String {
    let t = tokio::time::Instant::now();
    loop {
        if let Some(why) = handler.events().into_iter().find_map(|e| {
            if let LinkEvent::ConnectFailed(w) = e {
                Some(w)
            } else {
                None
            }
        }) {
            return why;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no connection failure: {:?}",
            handler.events()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_bind_over_tls_binds_submits_and_is_registered_as_tls() {
    let pki = Pki::new("basic");
    let srv = tls_server(server_files(&pki, false), 10, Duration::from_secs(10)).await;
    let tls = ClientTls::new(
        &ClientTlsFiles {
            ca_file: Some(pki.ca.clone()),
            ..Default::default()
        },
        "localhost",
    )
    .unwrap();
    let handler = Arc::new(TestHandler::default());
    let stop = CancellationToken::new();
    let client = spawn_client(tls_client(srv.port, tls), handler.clone(), &stop);
    wait_bound(&client).await;
    let resp = client
        .send(Pdu::SubmitSm(SubmitSm::default()))
        .await
        .unwrap();
    assert!(
        matches!(&resp.pdu, Pdu::SubmitSmResp(r) if r.message_id.as_bytes() == b"MSG0"),
        "{resp:?}"
    );
    let sessions = srv.registry.snapshot();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].info.tls, "the server saw a TLS session");
    client.shutdown().await;
    srv.stop.cancel();
}

#[tokio::test]
async fn mutual_tls_turns_away_a_client_without_a_certificate_and_admits_one_with() {
    let pki = Pki::new("mutual");
    let srv = tls_server(server_files(&pki, true), 10, Duration::from_secs(10)).await;
    let stop = CancellationToken::new();

    let no_cert = ClientTls::new(
        &ClientTlsFiles {
            ca_file: Some(pki.ca.clone()),
            ..Default::default()
        },
        "localhost",
    )
    .unwrap();
    let h1 = Arc::new(TestHandler::default());
    let c1 = spawn_client(tls_client(srv.port, no_cert), h1.clone(), &stop);
    // With TLS 1.3 the client learns of the refusal when it reads: either the handshake or
    // the bind fails; it never binds.
    let t = tokio::time::Instant::now();
    while !h1
        .events()
        .iter()
        .any(|e| matches!(e, LinkEvent::ConnectFailed(_) | LinkEvent::Closed(_)))
    {
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", h1.events());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!h1.events().contains(&LinkEvent::Bound));
    assert_eq!(srv.registry.count("p1"), 0);
    c1.shutdown().await;

    let with_cert = ClientTls::new(
        &ClientTlsFiles {
            ca_file: Some(pki.ca.clone()),
            cert_file: Some(pki.client_cert.clone()),
            key_file: Some(pki.client_key.clone()),
        },
        "localhost",
    )
    .unwrap();
    let h2 = Arc::new(TestHandler::default());
    let c2 = spawn_client(tls_client(srv.port, with_cert), h2.clone(), &stop);
    wait_bound(&c2).await;
    assert_eq!(srv.registry.count("p1"), 1);
    c2.shutdown().await;
    srv.stop.cancel();
}

#[tokio::test]
async fn an_smsc_certificate_from_an_untrusted_ca_or_for_another_name_is_refused() {
    let pki = Pki::new("untrusted");
    let srv = tls_server(server_files(&pki, false), 10, Duration::from_secs(10)).await;
    let stop = CancellationToken::new();
    for (ca, name, expect) in [
        (pki.other_ca.clone(), "localhost", "UnknownIssuer"),
        (pki.ca.clone(), "smsc.example.net", "not valid for name"),
    ] {
        let tls = ClientTls::new(
            &ClientTlsFiles {
                ca_file: Some(ca),
                ..Default::default()
            },
            name,
        )
        .unwrap();
        let handler = Arc::new(TestHandler::default());
        let client = spawn_client(tls_client(srv.port, tls), handler.clone(), &stop);
        let why = first_connect_failure(&handler).await;
        assert!(
            why.contains("TLS handshake") && why.contains(expect),
            "{why}"
        );
        assert_ne!(client.status().state, LinkState::Bound);
        client.shutdown().await;
    }
    assert_eq!(srv.registry.count("p1"), 0);
    srv.stop.cancel();
}

#[tokio::test]
async fn a_tls_handshake_that_never_starts_is_closed_by_the_session_init_timer() {
    let pki = Pki::new("silent");
    let srv = tls_server(server_files(&pki, false), 10, Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).await.unwrap();
    let t = tokio::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed within 5 s");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "closed after {:?}",
        t.elapsed()
    );
    srv.stop.cancel();
}

#[tokio::test]
async fn plain_and_tls_endpoints_share_one_max_connections() {
    let pki = Pki::new("shared");
    let srv = tls_server(server_files(&pki, false), 2, Duration::from_secs(30)).await;
    let _a = TcpStream::connect(("127.0.0.1", srv.port)).await.unwrap();
    let _b = TcpStream::connect(("127.0.0.1", srv.plain_port))
        .await
        .unwrap();
    let t = tokio::time::Instant::now();
    while srv.limit.open() < 2 {
        assert!(t.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut c = Framed::new(
        TcpStream::connect(("127.0.0.1", srv.plain_port))
            .await
            .unwrap(),
        SmppCodec::new(4096),
    );
    let _ = c.send(Frame::new(1, Pdu::EnquireLink)).await;
    assert!(
        matches!(
            tokio::time::timeout(Duration::from_secs(5), c.next()).await,
            Ok(None) | Ok(Some(Err(_)))
        ),
        "the third connection is closed"
    );
    assert_eq!(srv.limit.refused(), 1);
    srv.stop.cancel();
}

#[test]
fn tls_configuration_errors_name_the_file_and_the_fault() {
    let pki = Pki::new("errors");
    let missing = pki.dir.join("nope.pem");
    let err = acceptor(&ServerTlsFiles {
        cert_file: missing.clone(),
        key_file: pki.server_key.clone(),
        client_ca_file: None,
    })
    .err()
    .unwrap();
    assert!(
        matches!(&err, TlsError::File { path, .. } if *path == missing),
        "{err}"
    );
    // A key file that holds a certificate, not a key.
    let err = acceptor(&ServerTlsFiles {
        cert_file: pki.server_cert.clone(),
        key_file: pki.server_cert.clone(),
        client_ca_file: None,
    })
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("server.pem") && err.to_string().contains("private key"),
        "{err}"
    );
    // A key that does not belong to the certificate.
    let err = acceptor(&ServerTlsFiles {
        cert_file: pki.server_cert.clone(),
        key_file: pki.client_key.clone(),
        client_ca_file: None,
    })
    .err()
    .unwrap();
    assert!(matches!(err, TlsError::Config(_)), "{err}");
    // A certificate file with no certificate in it.
    let err = ClientTls::new(
        &ClientTlsFiles {
            ca_file: Some(pki.server_key.clone()),
            ..Default::default()
        },
        "localhost",
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("server.key") && err.to_string().contains("no CERTIFICATE"),
        "{err}"
    );
    // Half a client certificate.
    let err = ClientTls::new(
        &ClientTlsFiles {
            cert_file: Some(pki.client_cert.clone()),
            ..Default::default()
        },
        "localhost",
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("both"), "{err}");
    // The default trust store (no ca_file) builds.
    assert!(ClientTls::new(&ClientTlsFiles::default(), "smsc.example.net").is_ok());
}
