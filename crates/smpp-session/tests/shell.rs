//! The tokio shell of the session layer against scripted peers: in-memory duplex streams with
//! tokio's paused clock for timers, and loopback TCP for the real connector.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{BindResp, Frame, Pdu, SubmitSm, SubmitSmResp};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{
    spawn_client, ClientConfig, LinkEvent, LinkState, SendFailure, SessionRegistry,
};
use support::*;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn server_binds_and_answers_submit_with_the_handlers_id() {
    let handler = Arc::new(TestHandler::default());
    let registry = SessionRegistry::new();
    let (mut peer, _task, _stop) = server(handler.clone(), registry.clone());
    peer.send(Frame::new(1, Pdu::BindTransceiver(bind("partner", "pw"))))
        .await
        .unwrap();
    let resp = next(&mut peer).await;
    assert_eq!(resp.sequence_number, 1);
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    assert!(
        matches!(&resp.pdu, Pdu::BindTransceiverResp(r) if r.system_id.as_bytes() == b"smppgw")
    );
    assert_eq!(registry.count("p1"), 1);
    assert!(registry.has_receiver("p1"));

    peer.send(Frame::new(
        2,
        Pdu::SubmitSm(SubmitSm {
            short_message: "hi".as_bytes().to_vec().into(),
            ..SubmitSm::default()
        }),
    ))
    .await
    .unwrap();
    let resp = next(&mut peer).await;
    assert_eq!(resp.sequence_number, 2);
    assert!(
        matches!(&resp.pdu, Pdu::SubmitSmResp(r) if r.message_id.as_bytes() == b"MSG0"),
        "{resp:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn server_refuses_bad_credentials_with_exact_statuses_and_closes() {
    for (sys, pw, kind, want) in [
        (
            "nobody",
            "pw",
            BindKind::Transceiver,
            CommandStatus::ESME_RINVSYSID,
        ),
        (
            "partner",
            "bad",
            BindKind::Transceiver,
            CommandStatus::ESME_RINVPASWD,
        ),
        (
            "partner",
            "pw",
            BindKind::Receiver,
            CommandStatus::ESME_RBINDFAIL,
        ),
    ] {
        let handler = Arc::new(TestHandler::default());
        let registry = SessionRegistry::new();
        let (mut peer, task, _stop) = server(handler, registry.clone());
        let pdu = match kind {
            BindKind::Receiver => Pdu::BindReceiver(bind(sys, pw)),
            _ => Pdu::BindTransceiver(bind(sys, pw)),
        };
        peer.send(Frame::new(7, pdu)).await.unwrap();
        let resp = next(&mut peer).await;
        assert_eq!((resp.sequence_number, resp.command_status), (7, want));
        assert!(
            peer.next().await.is_none(),
            "connection must close after a refused bind"
        );
        task.await.unwrap();
        assert_eq!(registry.count("p1"), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_binds_is_closed_by_the_session_init_timer() {
    let (mut peer, task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    let t0 = tokio::time::Instant::now();
    assert!(peer.next().await.is_none());
    assert!(
        t0.elapsed() >= Duration::from_secs(10),
        "closed after {:?}",
        t0.elapsed()
    );
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn garbage_gets_generic_nack_and_an_unknown_command_id_too() {
    let (mut peer, _task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    // A well-framed PDU with an unknown command_id.
    let raw: [u8; 16] = [0, 0, 0, 16, 0, 0, 0x0F, 0xFF, 0, 0, 0, 0, 0, 0, 0, 42];
    use tokio::io::AsyncWriteExt;
    peer.get_mut().write_all(&raw).await.unwrap();
    let resp = next(&mut peer).await;
    assert_eq!(
        (resp.sequence_number, resp.command_status),
        (42, CommandStatus::ESME_RINVCMDID)
    );
    assert_eq!(resp.pdu, Pdu::GenericNack);
    // A command_length under 16: framing is lost, a generic_nack ESME_RINVCMDLEN, then close.
    peer.get_mut()
        .write_all(&[0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1])
        .await
        .unwrap();
    let resp = next(&mut peer).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVCMDLEN);
    assert!(peer.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn answers_wait_for_the_application_and_reads_stop_at_the_window() {
    let handler = Arc::new(TestHandler {
        delay: Some(Duration::from_secs(5)),
        ..TestHandler::default()
    });
    let (mut peer, _task, _stop) = server(handler.clone(), SessionRegistry::new());
    peer.send(Frame::new(1, Pdu::BindTransmitter(bind("partner", "pw"))))
        .await
        .unwrap();
    let _ = next(&mut peer).await;
    for seq in 2..=5 {
        peer.send(Frame::new(seq, Pdu::SubmitSm(SubmitSm::default())))
            .await
            .unwrap();
    }
    // Give the session a chance to read; with window 2 only two are with the application.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(handler.messages.load(Ordering::SeqCst), 2);
    let mut seqs = Vec::new();
    for _ in 0..4 {
        let r = next(&mut peer).await;
        assert_eq!(r.command_status, CommandStatus::ESME_ROK);
        seqs.push(r.sequence_number);
    }
    seqs.sort();
    assert_eq!(seqs, vec![2, 3, 4, 5]);
    assert_eq!(handler.messages.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn shutdown_unbinds_the_partner() {
    let (mut peer, task, stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    peer.send(Frame::new(1, Pdu::BindTransceiver(bind("partner", "pw"))))
        .await
        .unwrap();
    let _ = next(&mut peer).await;
    stop.cancel();
    let unbind = next(&mut peer).await;
    assert_eq!(unbind.pdu, Pdu::Unbind);
    peer.send(Frame::new(unbind.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    assert!(peer.next().await.is_none());
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn registry_delivers_to_a_receiving_session_and_reports_the_answer() {
    let handler = Arc::new(TestHandler::default());
    let registry = SessionRegistry::new();
    let (mut peer, _task, _stop) = server(handler, registry.clone());
    assert_eq!(
        registry
            .deliver("p1", Pdu::DeliverSm(SubmitSm::default()))
            .await,
        Err(SendFailure::NotBound)
    );
    peer.send(Frame::new(1, Pdu::BindTransceiver(bind("partner", "pw"))))
        .await
        .unwrap();
    let _ = next(&mut peer).await;
    let reg = registry.clone();
    let delivery =
        tokio::spawn(async move { reg.deliver("p1", Pdu::DeliverSm(SubmitSm::default())).await });
    let d = next(&mut peer).await;
    assert!(matches!(d.pdu, Pdu::DeliverSm(_)));
    peer.send(Frame::with_status(
        d.sequence_number,
        CommandStatus::ESME_RX_T_APPN,
        Pdu::DeliverSmResp(Default::default()),
    ))
    .await
    .unwrap();
    let answer = delivery.await.unwrap().unwrap();
    assert_eq!(answer.command_status, CommandStatus::ESME_RX_T_APPN);
}

/// A scripted SMSC on loopback TCP for the client bind.
async fn scripted_smsc(
    listener: tokio::net::TcpListener,
    bind_status: CommandStatus,
) -> Framed<tokio::net::TcpStream, SmppCodec> {
    let (s, _) = listener.accept().await.unwrap();
    let mut f = Framed::new(s, SmppCodec::new(4096));
    let b = f.next().await.unwrap().unwrap().unwrap();
    assert!(
        matches!(&b.pdu, Pdu::BindTransceiver(x) if x.system_id.as_bytes() == b"gw" && x.password.as_bytes() == b"secret")
    );
    f.send(Frame::with_status(
        b.sequence_number,
        bind_status,
        Pdu::BindTransceiverResp(BindResp {
            system_id: "SMSC".into(),
            ..Default::default()
        }),
    ))
    .await
    .unwrap();
    f
}

fn tcp_client_config(port: u16) -> ClientConfig {
    ClientConfig {
        host: "127.0.0.1".into(),
        port,
        reconnect_interval: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(2),
        ..client_config()
    }
}

#[tokio::test]
async fn client_binds_submits_and_answers_deliver_sm() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(TestHandler::default());
    let stop = CancellationToken::new();
    let client = spawn_client(tcp_client_config(port), handler.clone(), &stop);
    assert_eq!(
        client.send(Pdu::SubmitSm(SubmitSm::default())).await,
        Err(SendFailure::NotBound)
    );
    let mut smsc = scripted_smsc(listener, CommandStatus::ESME_ROK).await;
    let mut st = client.subscribe();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| s.state == LinkState::Bound),
    )
    .await
    .unwrap()
    .unwrap();

    let c2 = Arc::new(client);
    let sender = c2.clone();
    let sent = tokio::spawn(async move { sender.send(Pdu::SubmitSm(SubmitSm::default())).await });
    let sub = smsc.next().await.unwrap().unwrap().unwrap();
    assert!(matches!(sub.pdu, Pdu::SubmitSm(_)));
    smsc.send(Frame::new(
        sub.sequence_number,
        Pdu::SubmitSmResp(SubmitSmResp {
            message_id: "C-1".into(),
            ..Default::default()
        }),
    ))
    .await
    .unwrap();
    let resp = sent.await.unwrap().unwrap();
    assert!(matches!(&resp.pdu, Pdu::SubmitSmResp(r) if r.message_id.as_bytes() == b"C-1"));

    // The carrier's deliver_sm is answered with what the application said (here RX_T_APPN).
    smsc.send(Frame::new(900, Pdu::DeliverSm(SubmitSm::default())))
        .await
        .unwrap();
    let r = smsc.next().await.unwrap().unwrap().unwrap();
    assert_eq!(
        (r.sequence_number, r.command_status),
        (900, CommandStatus::ESME_RX_T_APPN)
    );
    assert!(matches!(r.pdu, Pdu::DeliverSmResp(_)));
    // Its enquire_link is answered with the same sequence number.
    smsc.send(Frame::new(901, Pdu::EnquireLink)).await.unwrap();
    let r = smsc.next().await.unwrap().unwrap().unwrap();
    assert_eq!((r.sequence_number, r.pdu), (901, Pdu::EnquireLinkResp));

    // Shutdown: unbind, await unbind_resp.
    stop.cancel();
    let u = smsc.next().await.unwrap().unwrap().unwrap();
    assert_eq!(u.pdu, Pdu::Unbind);
    smsc.send(Frame::new(u.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), c2.wait_stopped())
        .await
        .unwrap();
}

#[tokio::test]
async fn client_reconnects_after_a_refused_bind_and_after_a_drop() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(TestHandler::default());
    let stop = CancellationToken::new();
    let client = spawn_client(tcp_client_config(port), handler.clone(), &stop);
    // First attempt refused; the session closes and retries on schedule.
    let refused = scripted_smsc_accept_refuse(&listener).await;
    drop(refused);
    let smsc = scripted_smsc(listener, CommandStatus::ESME_ROK).await;
    let mut st = client.subscribe();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| s.state == LinkState::Bound),
    )
    .await
    .unwrap()
    .unwrap();
    drop(smsc);
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| s.state != LinkState::Bound),
    )
    .await
    .unwrap()
    .unwrap();
    let events = handler.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, LinkEvent::BindFailed(why) if why.contains("ESME_RINVPASWD"))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, LinkEvent::Connecting))
            .count()
            >= 2,
        "{events:?}"
    );
    stop.cancel();
}

async fn scripted_smsc_accept_refuse(
    listener: &tokio::net::TcpListener,
) -> Framed<tokio::net::TcpStream, SmppCodec> {
    let (s, _) = listener.accept().await.unwrap();
    let mut f = Framed::new(s, SmppCodec::new(4096));
    let b = f.next().await.unwrap().unwrap().unwrap();
    f.send(Frame::with_status(
        b.sequence_number,
        CommandStatus::ESME_RINVPASWD,
        Pdu::BindTransceiverResp(BindResp::default()),
    ))
    .await
    .unwrap();
    f
}

#[tokio::test(start_paused = true)]
async fn a_throttled_request_is_sent_again_after_the_pause_and_succeeds() {
    let handler = Arc::new(TestHandler::default());
    let registry = SessionRegistry::new();
    let (mut peer, _task, _stop) = server(handler.clone(), registry.clone());
    bind_ok(&mut peer, BindKind::Transceiver).await;
    let reg = registry.clone();
    let pdu = Pdu::DeliverSm(SubmitSm {
        short_message: b"mo-1".to_vec().into(),
        ..SubmitSm::default()
    });
    let first = tokio::spawn(async move { reg.deliver("p1", pdu).await });
    let d = next(&mut peer).await;
    let t0 = tokio::time::Instant::now();
    peer.send(Frame::with_status(
        d.sequence_number,
        CommandStatus::ESME_RTHROTTLED,
        Pdu::DeliverSmResp(Default::default()),
    ))
    .await
    .unwrap();
    // The same message comes again, after the pause, with a new sequence number.
    let again = next(&mut peer).await;
    assert!(
        t0.elapsed() >= smpp_session::driver::THROTTLE_PAUSE_MIN,
        "sent again after {:?}",
        t0.elapsed()
    );
    assert_eq!(again.pdu, d.pdu);
    assert_ne!(again.sequence_number, d.sequence_number);
    peer.send(Frame::new(
        again.sequence_number,
        Pdu::DeliverSmResp(Default::default()),
    ))
    .await
    .unwrap();
    assert!(
        first.await.unwrap().unwrap().command_status.is_ok(),
        "the application sees the final answer, not the throttling"
    );
    assert!(handler.events().iter().any(
        |e| matches!(e, LinkEvent::Throttled(d) if *d == smpp_session::driver::THROTTLE_PAUSE_MIN)
    ));
}

/// The server side of a duplex stream that counts the writes the session makes into it.
struct CountingIo {
    inner: tokio::io::DuplexStream,
    writes: Arc<std::sync::atomic::AtomicUsize>,
}

impl tokio::io::AsyncRead for CountingIo {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountingIo {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let done = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(done, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        done
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A bound transceiver session (window 100) on a duplex stream that counts the session's
/// writes: the peer's end, the counter, the registry, and the handler.
async fn counting_server(
    handler: TestHandler,
) -> (
    Peer,
    Arc<std::sync::atomic::AtomicUsize>,
    SessionRegistry,
    CancellationToken,
) {
    let handler = Arc::new(TestHandler {
        grant: smpp_session::SessionConfig {
            window_size: 100,
            ..smpp_session::SessionConfig::default()
        },
        ..handler
    });
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let io = CountingIo {
        inner: theirs,
        writes: Arc::clone(&writes),
    };
    let stop = CancellationToken::new();
    let registry = SessionRegistry::new();
    let (s, reg) = (stop.clone(), registry.clone());
    tokio::spawn(async move {
        smpp_session::run_server_session(
            io,
            "127.0.0.1:40000".parse().unwrap(),
            listener_config(),
            handler,
            reg,
            s,
        )
        .await;
    });
    let mut peer = Framed::new(ours, SmppCodec::new(4096));
    bind_ok(&mut peer, BindKind::Transceiver).await;
    (peer, writes, registry, stop)
}

/// Answers that complete at the same moment (as a batch of the core does) go out in one write,
/// not one write per `submit_sm_resp`: each write is a TCP segment and a system call.
#[tokio::test(start_paused = true)]
async fn answers_ready_together_leave_in_one_write() {
    const N: u32 = 50;
    let (mut peer, writes, _registry, stop) = counting_server(TestHandler {
        delay: Some(Duration::from_secs(1)),
        ..TestHandler::default()
    })
    .await;
    let after_bind = writes.load(Ordering::SeqCst);
    for seq in 0..N {
        peer.feed(Frame::new(
            10 + seq,
            Pdu::SubmitSm(SubmitSm {
                short_message: "hi".as_bytes().to_vec().into(),
                ..SubmitSm::default()
            }),
        ))
        .await
        .unwrap();
    }
    SinkExt::<Frame>::flush(&mut peer).await.unwrap();
    let mut answered = std::collections::BTreeSet::new();
    for _ in 0..N {
        let resp = next(&mut peer).await;
        assert!(matches!(resp.pdu, Pdu::SubmitSmResp(_)), "{resp:?}");
        answered.insert(resp.sequence_number);
    }
    assert_eq!(
        answered,
        (10..10 + N).collect(),
        "every submit_sm answered once"
    );
    let answer_writes = writes.load(Ordering::SeqCst) - after_bind;
    assert!(
        answer_writes <= 3,
        "{N} answers ready at the same instant took {answer_writes} writes"
    );
    stop.cancel();
}

/// Requests queued together (a claim of the core handed to one bind) go out in one write while
/// the window allows, and each is still answered to its own sender.
#[tokio::test(start_paused = true)]
async fn requests_queued_together_leave_in_one_write() {
    const N: usize = 40;
    let (mut peer, writes, registry, stop) = counting_server(TestHandler::default()).await;
    let after_bind = writes.load(Ordering::SeqCst);
    let deliveries: Vec<_> = (0..N)
        .map(|_| {
            let reg = registry.clone();
            tokio::spawn(
                async move { reg.deliver("p1", Pdu::DeliverSm(SubmitSm::default())).await },
            )
        })
        .collect();
    let mut seqs = Vec::new();
    for _ in 0..N {
        let d = next(&mut peer).await;
        assert!(matches!(d.pdu, Pdu::DeliverSm(_)), "{d:?}");
        seqs.push(d.sequence_number);
    }
    let request_writes = writes.load(Ordering::SeqCst) - after_bind;
    assert!(
        request_writes <= 3,
        "{N} deliver_sm queued at once took {request_writes} writes"
    );
    for seq in &seqs {
        peer.feed(Frame::new(*seq, Pdu::DeliverSmResp(Default::default())))
            .await
            .unwrap();
    }
    SinkExt::<Frame>::flush(&mut peer).await.unwrap();
    for d in deliveries {
        let answer = d.await.unwrap().unwrap();
        assert_eq!(answer.command_status, CommandStatus::ESME_ROK);
    }
    stop.cancel();
}
