//! Server binds (we are the SMSC) against scripted partners over in-memory streams, on tokio's
//! paused clock: binds that never complete, garbage, floods, state rules, `max_sessions`,
//! `deliver_sm` spread over a partner's sessions under one TPS window, keep-alive and
//! inactivity, and the orderly end.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smpp_codec::command::command_id;
use smpp_codec::pdu::{Frame, Pdu, SubmitSm};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{CloseReason, LinkEvent, SessionConfig, SessionRegistry, TpsLimiter};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

fn deliver(text: &str) -> Pdu {
    Pdu::DeliverSm(SubmitSm {
        short_message: text.as_bytes().to_vec().into(),
        ..SubmitSm::default()
    })
}

fn spawn_deliver(
    registry: &SessionRegistry,
    text: &str,
) -> tokio::task::JoinHandle<Result<Frame, smpp_session::SendFailure>> {
    let reg = registry.clone();
    let pdu = deliver(text);
    tokio::spawn(async move { reg.deliver("p1", pdu).await })
}

#[tokio::test(start_paused = true)]
async fn a_bind_that_never_completes_is_closed_by_the_session_init_timer() {
    let (mut peer, task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    let t0 = Instant::now();
    // Half a bind_transceiver header, then silence.
    peer.get_mut()
        .write_all(&[0, 0, 0, 40, 0, 0, 0])
        .await
        .unwrap();
    assert!(next_or_end(&mut peer).await.is_none());
    assert_eq!(t0.elapsed(), secs(10));
    task.await.unwrap();
}

/// A deterministic byte generator (xorshift), so a failing case can be replayed.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn garbage_bytes_never_crash_the_session_and_end_it_within_the_session_init_timer() {
    for seed in 1..=40u64 {
        let (peer, task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
        let t0 = Instant::now();
        let bytes = garbage(seed, 200 + (seed as usize * 37) % 3000);
        let (r, mut w) = tokio::io::split(peer.into_inner());
        let mut rx =
            tokio_util::codec::FramedRead::new(r, smpp_codec::codec::SmppCodec::new(70_000));
        let writer = tokio::spawn(async move {
            let _ = w.write_all(&bytes).await;
            w
        });
        // Whatever comes back is a response to something, never a request of ours, and the
        // connection ends (framing lost, or the session-init timer).
        while let Some(item) = rx.next().await {
            match item {
                Ok(Ok(f)) => assert!(f.pdu.is_response(), "seed {seed}: {f:?}"),
                Ok(Err(e)) => panic!("seed {seed}: the gateway wrote an undecodable PDU: {e}"),
                Err(e) => panic!("seed {seed}: framing of the gateway's output: {e}"),
            }
        }
        assert!(
            t0.elapsed() <= secs(10),
            "seed {seed}: ended after {:?}",
            t0.elapsed()
        );
        task.await.unwrap();
        let _ = writer.await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_command_length_over_the_maximum_gets_generic_nack_then_close() {
    let (mut peer, task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    // command_length 1 MB, sequence_number 77.
    peer.get_mut()
        .write_all(&[0, 0x10, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 77])
        .await
        .unwrap();
    let nack = next(&mut peer).await;
    assert_eq!(
        (nack.pdu, nack.command_status, nack.sequence_number),
        (Pdu::GenericNack, CommandStatus::ESME_RINVCMDLEN, 77)
    );
    assert!(next_or_end(&mut peer).await.is_none());
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_bad_body_is_answered_and_the_stream_goes_on() {
    let (mut peer, _task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    bind_ok(&mut peer, BindKind::Transmitter).await;
    // A well-framed submit_sm whose body stops inside service_type: ESME_RINVCMDLEN in a
    // submit_sm_resp, and the session stays usable.
    peer.get_mut()
        .write_all(&[0, 0, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, b'C', b'M'])
        .await
        .unwrap();
    let r = next(&mut peer).await;
    assert_eq!(
        (r.command_id(), r.command_status, r.sequence_number),
        (
            command_id::SUBMIT_SM_RESP,
            CommandStatus::ESME_RINVCMDLEN,
            9
        )
    );
    peer.send(Frame::new(10, Pdu::SubmitSm(SubmitSm::default())))
        .await
        .unwrap();
    let r = next(&mut peer).await;
    assert_eq!(
        (r.sequence_number, r.command_status),
        (10, CommandStatus::ESME_ROK)
    );
}

#[tokio::test(start_paused = true)]
async fn an_enquire_link_flood_before_bind_is_answered_and_the_timer_still_closes() {
    let (peer, task, _stop) = server(Arc::new(TestHandler::default()), SessionRegistry::new());
    let t0 = Instant::now();
    let (mut tx, mut rx) = peer.split();
    let w = tokio::spawn(async move {
        for i in 1..=5_000u32 {
            tx.feed(Frame::new(i, Pdu::EnquireLink)).await.unwrap();
        }
        tx.flush().await.unwrap();
    });
    for i in 1..=5_000u32 {
        assert_eq!(
            rx.next().await.unwrap().unwrap().unwrap(),
            Frame::new(i, Pdu::EnquireLinkResp)
        );
    }
    w.await.unwrap();
    // Keep-alives are not a bind: the session-init timer still ends the connection.
    assert!(rx.next().await.is_none());
    assert_eq!(t0.elapsed(), secs(10));
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn submit_on_a_receiver_session_is_refused_with_rinvbndsts() {
    let handler = Arc::new(TestHandler {
        allow_receiver: true,
        ..TestHandler::default()
    });
    let (mut peer, _task, _stop) = server(handler.clone(), SessionRegistry::new());
    bind_ok(&mut peer, BindKind::Receiver).await;
    peer.send(Frame::new(5, Pdu::SubmitSm(SubmitSm::default())))
        .await
        .unwrap();
    let r = next(&mut peer).await;
    assert_eq!(
        (r.command_id(), r.command_status, r.sequence_number),
        (
            command_id::SUBMIT_SM_RESP,
            CommandStatus::ESME_RINVBNDSTS,
            5
        )
    );
    assert_eq!(
        handler.messages.load(Ordering::SeqCst),
        0,
        "nothing reached the application"
    );
    assert!(handler.events().contains(&LinkEvent::Refused {
        command_id: command_id::SUBMIT_SM,
        status: CommandStatus::ESME_RINVBNDSTS
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_sessions_holds_when_binds_arrive_together() {
    for _round in 0..20 {
        let handler = Arc::new(TestHandler {
            max_sessions: 2,
            ..TestHandler::default()
        });
        let registry = SessionRegistry::new();
        let mut binds = Vec::new();
        let mut keep = Vec::new();
        for _ in 0..5 {
            let (mut peer, task, stop) = server(handler.clone(), registry.clone());
            keep.push((task, stop));
            binds.push(tokio::spawn(async move {
                peer.send(Frame::new(
                    1,
                    bind_pdu(BindKind::Transceiver, "partner", "pw"),
                ))
                .await
                .unwrap();
                let r = next(&mut peer).await;
                (r.command_status, peer)
            }));
        }
        let mut statuses = Vec::new();
        let mut peers = Vec::new();
        for b in binds {
            let (st, p) = b.await.unwrap();
            statuses.push(st);
            peers.push(p);
        }
        let ok = statuses.iter().filter(|s| s.is_ok()).count();
        assert_eq!(ok, 2, "{statuses:?}");
        assert!(
            statuses
                .iter()
                .filter(|s| !s.is_ok())
                .all(|s| *s == CommandStatus::ESME_RBINDFAIL),
            "{statuses:?}"
        );
        assert_eq!(registry.count("p1"), 2);
        for (_, stop) in keep {
            stop.cancel();
        }
    }
}

#[tokio::test(start_paused = true)]
async fn deliver_sm_is_spread_over_every_receiving_session_and_never_to_a_transmitter() {
    let handler = Arc::new(TestHandler {
        allow_receiver: true,
        grant: SessionConfig {
            window_size: 3,
            ..SessionConfig::default()
        },
        ..TestHandler::default()
    });
    let registry = SessionRegistry::new();
    let mut peers = Vec::new();
    for kind in [
        BindKind::Receiver,
        BindKind::Transceiver,
        BindKind::Transmitter,
    ] {
        let (mut peer, task, stop) = server(handler.clone(), registry.clone());
        bind_ok(&mut peer, kind).await;
        peers.push((kind, peer, task, stop));
    }
    assert_eq!(registry.count("p1"), 3);
    let deliveries: Vec<_> = (0..30)
        .map(|i| spawn_deliver(&registry, &format!("mo{i}")))
        .collect();
    // Each partner session answers what it gets.
    let mut counts = Vec::new();
    let mut readers = Vec::new();
    for (kind, mut peer, _task, _stop) in peers {
        readers.push(tokio::spawn(async move {
            let mut n = 0;
            while let Ok(Some(Ok(Ok(f)))) = tokio::time::timeout(secs(5), peer.next()).await {
                if matches!(f.pdu, Pdu::DeliverSm(_)) {
                    n += 1;
                    peer.send(Frame::new(
                        f.sequence_number,
                        Pdu::DeliverSmResp(Default::default()),
                    ))
                    .await
                    .unwrap();
                }
            }
            (kind, n)
        }));
    }
    for d in deliveries {
        assert!(d.await.unwrap().unwrap().command_status.is_ok());
    }
    for r in readers {
        counts.push(r.await.unwrap());
    }
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<usize>(), 30);
    for (kind, n) in &counts {
        match kind {
            BindKind::Transmitter => assert_eq!(*n, 0, "a transmitter session receives nothing"),
            _ => assert!((8..=22).contains(n), "{kind:?} got {n} of 30: {counts:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_partners_tps_limit_holds_over_all_its_sessions() {
    let tps = TpsLimiter::new(4);
    let handler = Arc::new(TestHandler {
        allow_receiver: true,
        tps: tps.clone(),
        grant: SessionConfig {
            window_size: 50,
            ..SessionConfig::default()
        },
        ..TestHandler::default()
    });
    let registry = SessionRegistry::new();
    let t0 = Instant::now();
    let mut readers = Vec::new();
    let mut keep = Vec::new();
    for _ in 0..2 {
        let (mut peer, task, stop) = server(handler.clone(), registry.clone());
        bind_ok(&mut peer, BindKind::Receiver).await;
        keep.push((task, stop));
        readers.push(tokio::spawn(async move {
            let mut at = Vec::new();
            while let Ok(Some(Ok(Ok(f)))) = tokio::time::timeout(secs(5), peer.next()).await {
                at.push(t0.elapsed().as_secs());
                peer.send(Frame::new(
                    f.sequence_number,
                    Pdu::DeliverSmResp(Default::default()),
                ))
                .await
                .unwrap();
            }
            at
        }));
    }
    let deliveries: Vec<_> = (0..12)
        .map(|i| spawn_deliver(&registry, &format!("r{i}")))
        .collect();
    for d in deliveries {
        assert!(d.await.unwrap().is_ok());
    }
    let mut all: Vec<u64> = Vec::new();
    let mut per_session = Vec::new();
    for r in readers {
        let at = r.await.unwrap();
        per_session.push(at.len());
        all.extend(at);
    }
    all.sort();
    assert_eq!(
        all,
        vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        "4 per second over both sessions"
    );
    assert!(per_session.iter().all(|n| *n > 0), "{per_session:?}");
}

#[tokio::test(start_paused = true)]
async fn an_idle_partner_gets_enquire_link_and_a_dead_one_is_closed() {
    let handler = Arc::new(TestHandler::default());
    let registry = SessionRegistry::new();
    let (mut peer, task, _stop) = server(handler.clone(), registry.clone());
    bind_ok(&mut peer, BindKind::Transceiver).await;
    let t0 = Instant::now();
    let e = next(&mut peer).await;
    assert_eq!((e.pdu.clone(), t0.elapsed()), (Pdu::EnquireLink, secs(60)));
    peer.send(Frame::new(e.sequence_number, Pdu::EnquireLinkResp))
        .await
        .unwrap();
    let e2 = next(&mut peer).await;
    assert_eq!((e2.pdu, t0.elapsed()), (Pdu::EnquireLink, secs(120)));
    // This time the partner is gone without a FIN.
    assert!(next_or_end(&mut peer).await.is_none());
    assert_eq!(t0.elapsed(), secs(150));
    task.await.unwrap();
    assert_eq!(
        registry.count("p1"),
        0,
        "the dead session left the registry"
    );
    assert!(handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::EnquireLinkTimeout)));
}

#[tokio::test(start_paused = true)]
async fn an_inactive_partner_is_unbound() {
    let grant = SessionConfig {
        enquire_link_interval: None,
        inactivity_timeout: Some(secs(300)),
        window_size: 2,
        ..SessionConfig::default()
    };
    let handler = Arc::new(TestHandler {
        grant,
        ..TestHandler::default()
    });
    let (mut peer, task, _stop) = server(handler.clone(), SessionRegistry::new());
    bind_ok(&mut peer, BindKind::Transceiver).await;
    let t0 = Instant::now();
    let u = next(&mut peer).await;
    assert_eq!((u.pdu.clone(), t0.elapsed()), (Pdu::Unbind, secs(300)));
    peer.send(Frame::new(u.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    assert!(next_or_end(&mut peer).await.is_none());
    task.await.unwrap();
    assert!(handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::Inactivity)));
}

#[tokio::test(start_paused = true)]
async fn disabling_a_partner_finishes_its_deliveries_then_unbinds() {
    let handler = Arc::new(TestHandler::default());
    let registry = SessionRegistry::new();
    let (mut peer, task, _stop) = server(handler.clone(), registry.clone());
    bind_ok(&mut peer, BindKind::Transceiver).await;
    let d = spawn_deliver(&registry, "last one");
    let f = next(&mut peer).await;
    registry.unbind_peer("p1");
    // New deliveries are refused at once, unsent.
    tokio::task::yield_now().await;
    assert_eq!(
        registry.deliver("p1", deliver("too late")).await,
        Err(smpp_session::SendFailure::NotBound)
    );
    assert!(
        tokio::time::timeout(secs(2), peer.next()).await.is_err(),
        "no unbind while a delivery awaits its answer"
    );
    peer.send(Frame::new(
        f.sequence_number,
        Pdu::DeliverSmResp(Default::default()),
    ))
    .await
    .unwrap();
    assert!(d.await.unwrap().unwrap().command_status.is_ok());
    let u = next(&mut peer).await;
    assert_eq!(u.pdu, Pdu::Unbind);
    peer.send(Frame::new(u.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    assert!(next_or_end(&mut peer).await.is_none());
    task.await.unwrap();
    assert_eq!(registry.count("p1"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_partners_unbind_is_answered_and_its_session_leaves_the_registry() {
    let registry = SessionRegistry::new();
    let (mut peer, task, _stop) = server(Arc::new(TestHandler::default()), registry.clone());
    bind_ok(&mut peer, BindKind::Transceiver).await;
    assert_eq!(registry.count("p1"), 1);
    peer.send(Frame::new(31, Pdu::Unbind)).await.unwrap();
    assert_eq!(next(&mut peer).await, Frame::new(31, Pdu::UnbindResp));
    assert!(next_or_end(&mut peer).await.is_none());
    task.await.unwrap();
    assert_eq!(registry.count("p1"), 0);
    let _ = Duration::ZERO;
}
