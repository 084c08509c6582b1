//! The listener over real loopback TCP: `max_connections` against a crowd.

mod support;

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Frame, Pdu};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{
    serve, ConnectionLimit, Endpoint, ListenerConfig, SessionConfig, SessionRegistry,
};
use support::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// Whether the server closed `s` (EOF or reset) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) => false,
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_connections_against_max_connections_100() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limit = ConnectionLimit::new(100);
    let registry = SessionRegistry::new();
    let stop = CancellationToken::new();
    let config = ListenerConfig {
        session: SessionConfig {
            bind_timeout: Duration::from_secs(120),
            ..SessionConfig::default()
        },
        ..listener_config()
    };
    let server = tokio::spawn(serve(
        vec![Endpoint::plain(listener)],
        limit.clone(),
        config,
        Arc::new(TestHandler::default()),
        registry.clone(),
        stop.clone(),
    ));

    // The first 100 are taken and kept open (not bound: max_connections counts them all).
    let mut kept = Vec::new();
    for _ in 0..100 {
        kept.push(TcpStream::connect(addr).await.unwrap());
    }
    let t = tokio::time::Instant::now();
    while limit.open() < 100 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "only {} accepted",
            limit.open()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // 1,900 more, in waves of 100 open at once: each is closed at once.
    for wave in 0..19 {
        let mut extra = Vec::new();
        for _ in 0..100 {
            extra.push(TcpStream::connect(addr).await.unwrap());
        }
        for (i, s) in extra.iter_mut().enumerate() {
            assert!(
                closed_within(s, Duration::from_secs(5)).await,
                "wave {wave}, connection {i} was not closed"
            );
        }
    }
    assert_eq!(limit.refused(), 1900);
    assert_eq!(limit.open(), 100);
    // The 100 kept are served as usual: one of them binds.
    let mut first = Framed::new(kept.remove(0), SmppCodec::new(4096));
    first
        .send(Frame::new(
            1,
            bind_pdu(BindKind::Transceiver, "partner", "pw"),
        ))
        .await
        .unwrap();
    let r = first.next().await.unwrap().unwrap().unwrap();
    assert_eq!(r.command_status, CommandStatus::ESME_ROK);
    assert_eq!(registry.count("p1"), 1);
    // One leaves: its place is free for the next comer.
    drop(kept.pop());
    let t = tokio::time::Instant::now();
    while limit.open() > 99 {
        assert!(t.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut newcomer = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        SmppCodec::new(4096),
    );
    newcomer
        .send(Frame::new(3, Pdu::EnquireLink))
        .await
        .unwrap();
    assert_eq!(
        newcomer.next().await.unwrap().unwrap().unwrap(),
        Frame::new(3, Pdu::EnquireLinkResp)
    );

    stop.cancel();
    // The bound one is unbound on shutdown.
    let u = first.next().await.unwrap().unwrap().unwrap();
    assert_eq!(u.pdu, Pdu::Unbind);
    first
        .send(Frame::new(u.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    drop(kept);
    drop(newcomer);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
}
