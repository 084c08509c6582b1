//! Client binds (we are the ESME) against scripted SMSCs over in-memory streams, on tokio's
//! paused clock: the retry schedule, half-open links, silent and late peers, throttling,
//! the peer's unbind, orderly shutdown, stalled writes and an enquire_link flood.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use smpp_codec::pdu::{Frame, Pdu, SubmitSm, SubmitSmResp};
use smpp_codec::status::CommandStatus;
use smpp_session::{
    spawn_client_with, ClientConfig, ClientHandle, CloseReason, LinkEvent, LinkState, SendFailure,
    SessionConfig,
};
use support::*;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

struct Rig {
    client: Arc<ClientHandle>,
    handler: Arc<TestHandler>,
    connector: Arc<DuplexConnector>,
    accepted: UnboundedReceiver<(Instant, Peer)>,
    stop: CancellationToken,
    t0: Instant,
}

fn rig(config: ClientConfig) -> Rig {
    rig_with(config, 64 * 1024)
}

fn rig_with(config: ClientConfig, buffer: usize) -> Rig {
    let (connector, accepted) = DuplexConnector::new(buffer);
    let handler = Arc::new(TestHandler::default());
    let stop = CancellationToken::new();
    let t0 = Instant::now();
    let client = Arc::new(spawn_client_with(
        config,
        connector.clone(),
        handler.clone(),
        &stop,
    ));
    Rig {
        client,
        handler,
        connector,
        accepted,
        stop,
        t0,
    }
}

impl Rig {
    async fn connection(&mut self) -> (Instant, Peer) {
        self.accepted.recv().await.expect("connector gone")
    }

    /// The next connection, bound.
    async fn bound(&mut self) -> Peer {
        let (_, mut smsc) = self.connection().await;
        answer_bind(&mut smsc, CommandStatus::ESME_ROK).await;
        let mut st = self.client.subscribe();
        st.wait_for(|s| s.state == LinkState::Bound).await.unwrap();
        smsc
    }

    fn send(&self, text: &str) -> tokio::task::JoinHandle<Result<Frame, SendFailure>> {
        let c = self.client.clone();
        let pdu = submit(text);
        tokio::spawn(async move { c.send(pdu).await })
    }

    fn since_start(&self) -> Vec<u64> {
        self.connector
            .attempts()
            .iter()
            .map(|t| t.duration_since(self.t0).as_secs())
            .collect()
    }
}

fn submit(text: &str) -> Pdu {
    Pdu::SubmitSm(SubmitSm {
        short_message: text.as_bytes().to_vec().into(),
        ..SubmitSm::default()
    })
}

fn text_of(f: &Frame) -> String {
    match &f.pdu {
        Pdu::SubmitSm(s) => String::from_utf8_lossy(&s.short_message).into_owned(),
        other => panic!("not a submit_sm: {other:?}"),
    }
}

async fn ok(smsc: &mut Peer, f: &Frame, id: &str) {
    smsc.send(Frame::new(
        f.sequence_number,
        Pdu::SubmitSmResp(SubmitSmResp {
            message_id: id.into(),
            ..Default::default()
        }),
    ))
    .await
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn refused_binds_are_retried_on_a_backoff_schedule_never_in_a_tight_loop() {
    let mut r = rig(client_config());
    for status in [
        CommandStatus::ESME_RINVPASWD,
        CommandStatus::ESME_RINVSYSID,
        CommandStatus::ESME_RBINDFAIL,
        CommandStatus::ESME_RALYBND,
        CommandStatus::ESME_RBINDFAIL,
        CommandStatus::ESME_RBINDFAIL,
    ] {
        let (_, mut smsc) = r.connection().await;
        answer_bind(&mut smsc, status).await;
        assert!(
            next_or_end(&mut smsc).await.is_none(),
            "the connection closes after a refused bind"
        );
    }
    let mut smsc = r.bound().await;
    // 30 s, then doubling to the 300 s cap.
    assert_eq!(r.since_start(), vec![0, 30, 90, 210, 450, 750, 1050]);
    let refusals: Vec<String> = r
        .handler
        .events()
        .into_iter()
        .filter_map(|e| {
            if let LinkEvent::BindFailed(why) = e {
                Some(why)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(refusals.len(), 6);
    for (why, name) in refusals.iter().zip([
        "ESME_RINVPASWD",
        "ESME_RINVSYSID",
        "ESME_RBINDFAIL",
        "ESME_RALYBND",
    ]) {
        assert!(why.contains(name), "each refusal carries its reason: {why}");
    }
    assert_eq!(
        r.client.status().refused_binds,
        0,
        "a successful bind resets the run"
    );
    // After a bound session is lost, the wait is the plain reconnect interval again.
    let lost_at = Instant::now();
    smsc.send(Frame::new(5, Pdu::Unbind)).await.unwrap();
    let (at, _) = r.connection().await;
    assert_eq!(at.duration_since(lost_at), secs(30));
}

#[tokio::test(start_paused = true)]
async fn connection_failures_retry_every_reconnect_interval_and_sends_fail_at_once() {
    let mut r = rig(ClientConfig {
        start_delay: Duration::from_millis(500),
        ..client_config()
    });
    r.connector.refuse.store(3, Ordering::SeqCst);
    // The gateway is not held by a carrier that is down: sends fail at once, nothing waits.
    assert_eq!(r.client.send(submit("x")).await, Err(SendFailure::NotBound));
    let _smsc = r.bound().await;
    let at: Vec<Duration> = r
        .connector
        .attempts()
        .iter()
        .map(|t| t.duration_since(r.t0))
        .collect();
    assert_eq!(
        at,
        vec![
            Duration::from_millis(500),
            Duration::from_millis(30_500),
            Duration::from_millis(60_500),
            Duration::from_millis(90_500)
        ]
    );
    let failures = r
        .handler
        .events()
        .into_iter()
        .filter(
            |e| matches!(e, LinkEvent::ConnectFailed(why) if why.contains("Connection refused")),
        )
        .count();
    assert_eq!(failures, 3);
}

#[tokio::test(start_paused = true)]
async fn a_bind_that_never_completes_times_out_and_backs_off() {
    let mut r = rig(client_config());
    let (_, mut smsc) = r.connection().await;
    let b = next(&mut smsc).await;
    assert!(b.pdu.bind_kind().is_some());
    // No answer: the bind timer (10 s) ends the attempt, the next one comes 30 s later.
    assert!(next_or_end(&mut smsc).await.is_none());
    let (at, mut smsc2) = r.connection().await;
    assert_eq!(at.duration_since(r.t0), secs(40));
    let _ = next(&mut smsc2).await;
    assert!(next_or_end(&mut smsc2).await.is_none());
    let (at, _) = r.connection().await;
    assert_eq!(
        at.duration_since(r.t0),
        secs(40 + 10 + 60),
        "the second unanswered bind doubles the wait"
    );
    assert!(r
        .handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::BindTimeout)));
}

#[tokio::test(start_paused = true)]
async fn a_half_open_link_is_found_by_enquire_link_and_rebuilt() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let bound_at = Instant::now();
    // The carrier's host vanished: nothing answers, nothing closes. Our enquire_link goes out
    // after 60 s of silence and is not answered within 30 s.
    let e = next(&mut smsc).await;
    assert_eq!(e.pdu, Pdu::EnquireLink);
    assert_eq!(bound_at.elapsed(), secs(60));
    assert!(next_or_end(&mut smsc).await.is_none());
    assert_eq!(bound_at.elapsed(), secs(90));
    assert!(r
        .handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::EnquireLinkTimeout)));
    let (at, _) = r.connection().await;
    assert_eq!(
        at.duration_since(bound_at),
        secs(120),
        "reconnect 30 s after the loss"
    );
}

#[tokio::test(start_paused = true)]
async fn a_carrier_that_never_answers_submits_gets_the_session_rebuilt() {
    let mut r = rig(ClientConfig {
        session: SessionConfig {
            enquire_link_interval: None,
            ..SessionConfig::default()
        },
        ..client_config()
    });
    let mut smsc = r.bound().await;
    let sends: Vec<_> = (0..3).map(|i| r.send(&format!("m{i}"))).collect();
    for _ in 0..3 {
        let _ = next(&mut smsc).await;
    }
    let t = Instant::now();
    let mut results = Vec::new();
    for s in sends {
        results.push(s.await.unwrap());
    }
    assert_eq!(t.elapsed(), secs(30));
    // All three time out; the third in a row ends the session. The peer may have them.
    assert_eq!(results, vec![Err(SendFailure::Timeout); 3]);
    assert!(results
        .iter()
        .all(|r| r.as_ref().is_err_and(|f| f.delivery_unknown())));
    assert!(next_or_end(&mut smsc).await.is_none());
    assert!(r
        .handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::RepeatedTimeouts)));
    let (at, _) = r.connection().await;
    assert_eq!(at.duration_since(t), secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_late_answer_is_ignored_and_the_session_goes_on() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let late = r.send("late");
    let f = next(&mut smsc).await;
    tokio::time::sleep(secs(31)).await;
    assert_eq!(late.await.unwrap(), Err(SendFailure::Timeout));
    ok(&mut smsc, &f, "too-late").await;
    let on_time = r.send("on time");
    let g = next(&mut smsc).await;
    assert_eq!(text_of(&g), "on time");
    ok(&mut smsc, &g, "C-2").await;
    let resp = on_time.await.unwrap().unwrap();
    assert!(matches!(&resp.pdu, Pdu::SubmitSmResp(r) if r.message_id.as_bytes() == b"C-2"));
    assert_eq!(r.client.status().state, LinkState::Bound);
}

#[tokio::test(start_paused = true)]
async fn a_generic_nack_answering_a_submit_is_matched_by_sequence_number() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let a = r.send("a");
    let fa = next(&mut smsc).await;
    let b = r.send("b");
    let fb = next(&mut smsc).await;
    smsc.send(Frame::with_status(
        fb.sequence_number,
        CommandStatus::ESME_RINVCMDLEN,
        Pdu::GenericNack,
    ))
    .await
    .unwrap();
    ok(&mut smsc, &fa, "A").await;
    let nack = b.await.unwrap().unwrap();
    assert_eq!(
        (nack.pdu, nack.command_status),
        (Pdu::GenericNack, CommandStatus::ESME_RINVCMDLEN)
    );
    assert!(matches!(
        a.await.unwrap().unwrap().pdu,
        Pdu::SubmitSmResp(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn throttling_pauses_the_whole_bind_and_resends_in_order() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let mut sends = Vec::new();
    let mut first = Vec::new();
    for t in ["A", "B", "C", "D"] {
        sends.push(r.send(t));
        first.push(next(&mut smsc).await);
    }
    assert_eq!(
        first.iter().map(text_of).collect::<Vec<_>>(),
        ["A", "B", "C", "D"]
    );
    ok(&mut smsc, &first[0], "1").await;
    smsc.send(Frame::with_status(
        first[1].sequence_number,
        CommandStatus::ESME_RTHROTTLED,
        Pdu::SubmitSmResp(Default::default()),
    ))
    .await
    .unwrap();
    let paused_at = Instant::now();
    ok(&mut smsc, &first[2], "3").await;
    smsc.send(Frame::with_status(
        first[3].sequence_number,
        CommandStatus::ESME_RMSGQFUL,
        Pdu::SubmitSmResp(Default::default()),
    ))
    .await
    .unwrap();
    // Newer messages arrive during the pause.
    tokio::time::sleep(Duration::from_millis(100)).await;
    sends.push(r.send("E"));
    sends.push(r.send("F"));
    // Nothing goes out during the pause; then B alone, and D only once B is accepted.
    let b = next(&mut smsc).await;
    assert_eq!(text_of(&b), "B");
    assert!(
        paused_at.elapsed() >= Duration::from_secs(1),
        "resent after {:?}",
        paused_at.elapsed()
    );
    assert!(
        tokio::time::timeout(secs(3), smsc.next()).await.is_err(),
        "nothing else while B's resend is unanswered"
    );
    ok(&mut smsc, &b, "rB").await;
    let d = next(&mut smsc).await;
    assert_eq!(text_of(&d), "D");
    assert!(
        tokio::time::timeout(secs(3), smsc.next()).await.is_err(),
        "E and F wait for D"
    );
    ok(&mut smsc, &d, "rD").await;
    // Then the window is open again: E and F together.
    let e = next(&mut smsc).await;
    let f = next(&mut smsc).await;
    assert_eq!(
        (text_of(&e), text_of(&f)),
        ("E".to_string(), "F".to_string())
    );
    ok(&mut smsc, &e, "rE").await;
    ok(&mut smsc, &f, "rF").await;
    for s in sends {
        let resp = s.await.unwrap().unwrap();
        assert!(
            resp.command_status.is_ok(),
            "nothing failed, nothing lost: {resp:?}"
        );
    }
    let pauses: Vec<Duration> = r
        .handler
        .events()
        .into_iter()
        .filter_map(|e| {
            if let LinkEvent::Throttled(d) = e {
                Some(d)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        pauses,
        vec![secs(1), secs(1)],
        "C was accepted between the two refusals, so the pause did not grow"
    );
}

#[tokio::test(start_paused = true)]
async fn a_carrier_that_keeps_throttling_gets_the_refusal_reported_after_the_resends() {
    let session = SessionConfig {
        throttle_resends: 2,
        ..SessionConfig::default()
    };
    let mut r = rig(ClientConfig {
        session,
        ..client_config()
    });
    let mut smsc = r.bound().await;
    let s = r.send("X");
    let t = Instant::now();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let f = next(&mut smsc).await;
        seen.push(t.elapsed());
        smsc.send(Frame::with_status(
            f.sequence_number,
            CommandStatus::ESME_RTHROTTLED,
            Pdu::SubmitSmResp(Default::default()),
        ))
        .await
        .unwrap();
    }
    let last = s.await.unwrap().unwrap();
    assert_eq!(last.command_status, CommandStatus::ESME_RTHROTTLED);
    assert_eq!(
        seen,
        vec![secs(0), secs(1), secs(3)],
        "sent, then after 1 s and 2 s pauses"
    );
}

#[tokio::test(start_paused = true)]
async fn tps_limit_is_the_seeds_per_second_window() {
    let mut r = rig(ClientConfig {
        tps_limit: 5,
        session: SessionConfig {
            window_size: 100,
            ..SessionConfig::default()
        },
        ..client_config()
    });
    let mut smsc = r.bound().await;
    let t = Instant::now();
    let sends: Vec<_> = (0..12).map(|i| r.send(&format!("{i}"))).collect();
    let mut at = Vec::new();
    for _ in 0..12 {
        let f = next(&mut smsc).await;
        at.push(t.elapsed().as_secs());
        ok(&mut smsc, &f, "x").await;
    }
    assert_eq!(at, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    for s in sends {
        assert!(s.await.unwrap().is_ok());
    }
}

#[tokio::test(start_paused = true)]
async fn the_window_caps_requests_in_flight() {
    let mut r = rig(ClientConfig {
        session: SessionConfig {
            window_size: 3,
            ..SessionConfig::default()
        },
        ..client_config()
    });
    let mut smsc = r.bound().await;
    let sends: Vec<_> = (0..5).map(|i| r.send(&format!("{i}"))).collect();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next(&mut smsc).await);
    }
    // A fourth does not come while three are unanswered.
    assert!(tokio::time::timeout(secs(5), smsc.next()).await.is_err());
    assert_eq!(r.client.stats().in_flight.load(Ordering::Relaxed), 3);
    ok(&mut smsc, &got[0], "0").await;
    got.push(next(&mut smsc).await);
    for f in &got[1..] {
        ok(&mut smsc, f, "n").await;
    }
    let f = next(&mut smsc).await;
    ok(&mut smsc, &f, "n").await;
    for s in sends {
        assert!(s.await.unwrap().is_ok());
    }
}

#[tokio::test(start_paused = true)]
async fn the_carriers_unbind_is_answered_and_the_bind_rebuilt() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    smsc.send(Frame::new(4242, Pdu::Unbind)).await.unwrap();
    assert_eq!(next(&mut smsc).await, Frame::new(4242, Pdu::UnbindResp));
    assert!(next_or_end(&mut smsc).await.is_none());
    assert!(r
        .handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::PeerUnbound)));
    let _again = r.bound().await;
    assert_eq!(r.since_start(), vec![0, 30]);
}

#[tokio::test(start_paused = true)]
async fn enquire_link_is_answered_in_every_state_even_a_flood() {
    let mut r = rig(client_config());
    let (_, mut smsc) = r.connection().await;
    let b = next(&mut smsc).await;
    // Before the bind is answered.
    smsc.send(Frame::new(7, Pdu::EnquireLink)).await.unwrap();
    assert_eq!(next(&mut smsc).await, Frame::new(7, Pdu::EnquireLinkResp));
    smsc.send(Frame::new(
        b.sequence_number,
        Pdu::BindTransceiverResp(Default::default()),
    ))
    .await
    .unwrap();
    r.client
        .subscribe()
        .wait_for(|s| s.state == LinkState::Bound)
        .await
        .unwrap();
    // 10,000 in a burst, all answered in order with their own sequence numbers.
    let writer = {
        let frames: Vec<Frame> = (1..=10_000u32)
            .map(|i| Frame::new(1_000_000 + i, Pdu::EnquireLink))
            .collect();
        let (mut tx, mut rx) = smsc.split();
        let w = tokio::spawn(async move {
            for f in frames {
                tx.feed(f).await.unwrap();
            }
            tx.flush().await.unwrap();
            tx
        });
        for i in 1..=10_000u32 {
            let f = rx.next().await.unwrap().unwrap().unwrap();
            assert_eq!(f, Frame::new(1_000_000 + i, Pdu::EnquireLinkResp));
        }
        let tx = w.await.unwrap();
        tx.reunite(rx).unwrap()
    };
    let mut smsc = writer;
    // The session still works.
    let s = r.send("after the flood");
    let f = next(&mut smsc).await;
    ok(&mut smsc, &f, "ok").await;
    assert!(s.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_in_flight_answers_then_unbinds() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let s = r.send("in flight");
    let f = next(&mut smsc).await;
    r.stop.cancel();
    // Nothing new is taken, and no unbind while the answer is awaited.
    assert_eq!(
        r.client.send(submit("new")).await,
        Err(SendFailure::NotBound)
    );
    assert!(
        tokio::time::timeout(secs(2), smsc.next()).await.is_err(),
        "no unbind before the answer"
    );
    ok(&mut smsc, &f, "done").await;
    assert!(
        s.await.unwrap().is_ok(),
        "the in-flight request got its answer"
    );
    let u = next(&mut smsc).await;
    assert_eq!(u.pdu, Pdu::Unbind);
    smsc.send(Frame::new(u.sequence_number, Pdu::UnbindResp))
        .await
        .unwrap();
    assert!(next_or_end(&mut smsc).await.is_none());
    r.client.wait_stopped().await;
    assert!(r
        .handler
        .events()
        .contains(&LinkEvent::Closed(CloseReason::Unbound)));
}

#[tokio::test(start_paused = true)]
async fn shutdown_against_a_silent_carrier_is_bounded() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let s = r.send("never answered");
    let _ = next(&mut smsc).await;
    let t = Instant::now();
    r.stop.cancel();
    // drain_timeout (5 s), then unbind, which waits unbind_timeout (5 s).
    let u = next(&mut smsc).await;
    assert_eq!((u.pdu, t.elapsed()), (Pdu::Unbind, secs(5)));
    r.client.wait_stopped().await;
    assert_eq!(t.elapsed(), secs(10));
    assert!(matches!(s.await.unwrap(), Err(f) if f.delivery_unknown()));
}

#[tokio::test(start_paused = true)]
async fn a_carrier_that_stops_reading_cannot_hold_the_session() {
    // A 1 KiB pipe: the carrier reads the bind, answers it, then reads nothing more.
    let mut r = rig_with(
        ClientConfig {
            session: SessionConfig {
                window_size: 100,
                enquire_link_interval: None,
                ..SessionConfig::default()
            },
            ..client_config()
        },
        1024,
    );
    let _smsc = r.bound().await;
    let t = Instant::now();
    let big = "x".repeat(150);
    let sends: Vec<_> = (0..50).map(|_| r.send(&big)).collect();
    for s in sends {
        assert!(s.await.unwrap().is_err());
    }
    assert!(t.elapsed() <= secs(31), "closed after {:?}", t.elapsed());
    // The requests in flight are answered first; the session reports its end after trying
    // for 1 s more to close the stalled stream.
    tokio::time::sleep(secs(5)).await;
    let closed = r.handler.events().into_iter().find_map(|e| {
        if let LinkEvent::Closed(CloseReason::Transport(why)) = e {
            Some(why)
        } else {
            None
        }
    });
    assert!(
        closed.is_some_and(|w| w.contains("not reading")),
        "{:?}",
        r.handler.events()
    );
}

#[tokio::test(start_paused = true)]
async fn nothing_is_sent_or_resent_past_its_deadline() {
    let mut r = rig(client_config());
    let mut smsc = r.bound().await;
    let t = Instant::now();
    let c = r.client.clone();
    let a = tokio::spawn(async move {
        c.queue(submit("A"), Some(Instant::now() + secs(2)))
            .await
            .unwrap()
            .await
    });
    let f = next(&mut smsc).await;
    smsc.send(Frame::with_status(
        f.sequence_number,
        CommandStatus::ESME_RTHROTTLED,
        Pdu::SubmitSmResp(Default::default()),
    ))
    .await
    .unwrap();
    // Resent after 1 s (within the deadline), throttled again: the next pause (2 s) would end
    // past the deadline, so the refusal is handed back at once instead.
    let f = next(&mut smsc).await;
    assert_eq!((text_of(&f), t.elapsed()), ("A".to_string(), secs(1)));
    smsc.send(Frame::with_status(
        f.sequence_number,
        CommandStatus::ESME_RTHROTTLED,
        Pdu::SubmitSmResp(Default::default()),
    ))
    .await
    .unwrap();
    let last = a.await.unwrap().unwrap();
    assert_eq!(
        (last.command_status, t.elapsed()),
        (CommandStatus::ESME_RTHROTTLED, secs(1))
    );
    // The stream still pauses 2 s, as the carrier asked. B, queued during the pause with a
    // deadline that passes before it ends, is never sent.
    let c = r.client.clone();
    let b = tokio::spawn(async move {
        c.queue(
            submit("B"),
            Some(Instant::now() + Duration::from_millis(500)),
        )
        .await
        .unwrap()
        .await
    });
    assert_eq!(b.await.unwrap(), Err(SendFailure::Expired));
    assert_eq!(t.elapsed(), secs(3), "given up when the pause ended");
    assert!(!SendFailure::Expired.delivery_unknown());
    // Nothing more reached the carrier.
    assert!(tokio::time::timeout(secs(5), smsc.next()).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn the_bind_carries_every_configured_field_and_a_receiver_never_submits() {
    use smpp_codec::pdu::Bind;
    use smpp_codec::types::BindKind;
    let cfg = ClientConfig {
        kind: BindKind::Receiver,
        system_type: "OTP".into(),
        interface_version: 0x50,
        addr_ton: 1,
        addr_npi: 1,
        address_range: "^336".into(),
        ..client_config()
    };
    let mut r = rig(cfg);
    let (_, mut smsc) = r.connection().await;
    let b = answer_bind(&mut smsc, CommandStatus::ESME_ROK).await;
    let want = Bind {
        system_id: "gw".into(),
        password: "secret".into(),
        system_type: "OTP".into(),
        interface_version: 0x50,
        addr_ton: 1,
        addr_npi: 1,
        address_range: "^336".into(),
    };
    assert_eq!(b.pdu, Pdu::BindReceiver(want));
    r.client
        .subscribe()
        .wait_for(|s| s.state == LinkState::Bound)
        .await
        .unwrap();
    // Bound as receiver: a submit is refused here, nothing reaches the SMSC.
    assert_eq!(
        r.client.send(submit("no")).await,
        Err(SendFailure::NotBound)
    );
    assert!(tokio::time::timeout(secs(1), smsc.next()).await.is_err());
}
