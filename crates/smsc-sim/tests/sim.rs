//! The simulator seen from a small ESME built on the codec.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Bind, DeliverSm, DeliverSmResp, Frame, Pdu, SubmitSm};
use smpp_codec::receipt::DeliveryReceipt;
use smpp_codec::status::CommandStatus;
use smpp_codec::text;
use smpp_codec::tlv::tags;
use smpp_codec::types::BindKind;
use smsc_sim::{MoRequest, SimConfig, SimError, SimHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::Framed;

const WAIT: Duration = Duration::from_secs(5);

async fn sim_with(f: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::new("127.0.0.1:0".parse().unwrap());
    config.system_id = "gw".into();
    config.password = "secret".into();
    config.receipt_delay_ms = 50;
    f(&mut config);
    smsc_sim::start(config).await.expect("simulator starts")
}

/// A minimal ESME: sends requests, reads frames with a deadline.
struct Esme {
    framed: Framed<TcpStream, SmppCodec>,
    seq: u32,
}

impl Esme {
    async fn connect(addr: SocketAddr) -> Esme {
        let socket = TcpStream::connect(addr).await.expect("connect");
        Esme {
            framed: Framed::new(socket, SmppCodec::default()),
            seq: 0,
        }
    }

    async fn send(&mut self, pdu: Pdu) -> u32 {
        self.seq += 1;
        self.framed
            .send(Frame::new(self.seq, pdu))
            .await
            .expect("send");
        self.seq
    }

    /// The next frame, or `None` when the connection closed.
    async fn next(&mut self) -> Option<Frame> {
        match timeout(WAIT, self.framed.next()).await {
            Ok(Some(Ok(Ok(frame)))) => Some(frame),
            Ok(Some(Ok(Err(e)))) => panic!("undecodable PDU from the simulator: {e}"),
            Ok(Some(Err(_))) | Ok(None) => None,
            Err(_) => panic!("nothing from the simulator within {WAIT:?}"),
        }
    }

    async fn request(&mut self, pdu: Pdu) -> Frame {
        let seq = self.send(pdu).await;
        loop {
            let frame = self.next().await.expect("a response before the close");
            if frame.sequence_number == seq && frame.pdu.is_response() {
                return frame;
            }
        }
    }

    async fn bind(&mut self, kind: BindKind, system_id: &str, password: &str) -> Frame {
        let body = Bind {
            system_id: system_id.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Bind::default()
        };
        let pdu = match kind {
            BindKind::Transmitter => Pdu::BindTransmitter(body),
            BindKind::Receiver => Pdu::BindReceiver(body),
            BindKind::Transceiver => Pdu::BindTransceiver(body),
        };
        self.request(pdu).await
    }

    /// Waits for a deliver_sm and answers it with `status`.
    async fn deliver(&mut self, status: CommandStatus) -> DeliverSm {
        loop {
            let frame = self.next().await.expect("a deliver_sm before the close");
            if let Pdu::DeliverSm(sm) = frame.pdu {
                self.framed
                    .send(Frame::with_status(
                        frame.sequence_number,
                        status,
                        Pdu::DeliverSmResp(DeliverSmResp::default()),
                    ))
                    .await
                    .expect("send deliver_sm_resp");
                return sm;
            }
        }
    }
}

fn submit(text_: &str, registered_delivery: u8) -> Pdu {
    let (data_coding, octets) = text::choose(text_);
    Pdu::SubmitSm(SubmitSm {
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: "33600000001".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "33700000002".into(),
        registered_delivery,
        data_coding,
        short_message: Bytes::from(octets),
        ..SubmitSm::default()
    })
}

fn message_id_of(frame: &Frame) -> String {
    match &frame.pdu {
        Pdu::SubmitSmResp(r) | Pdu::DataSmResp(r) => r.message_id.to_str_lossy().into_owned(),
        other => panic!("not a submit_sm_resp: {other:?}"),
    }
}

#[tokio::test]
async fn bind_accepted_and_refused() {
    let sim = sim_with(|_| {}).await;
    for kind in [
        BindKind::Transmitter,
        BindKind::Receiver,
        BindKind::Transceiver,
    ] {
        let mut esme = Esme::connect(sim.smpp_addr).await;
        let resp = esme.bind(kind, "gw", "secret").await;
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
        assert_eq!(resp.pdu.bind_kind(), Some(kind));
        // A second bind on the same session is refused, the session stays.
        let again = esme.bind(kind, "gw", "secret").await;
        assert_eq!(again.command_status, CommandStatus::ESME_RALYBND);
        let el = esme.request(Pdu::EnquireLink).await;
        assert_eq!(el.pdu, Pdu::EnquireLinkResp);
    }

    let mut esme = Esme::connect(sim.smpp_addr).await;
    let resp = esme.bind(BindKind::Transceiver, "gw", "wrong").await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVPASWD);
    assert!(esme.next().await.is_none(), "closed after a refused bind");

    let mut esme = Esme::connect(sim.smpp_addr).await;
    let resp = esme.bind(BindKind::Transmitter, "nobody", "secret").await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVSYSID);
    assert!(esme.next().await.is_none(), "closed after a refused bind");

    assert_eq!(sim.stats().binds, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn any_credentials_when_none_configured() {
    let sim = sim_with(|c| {
        c.system_id.clear();
        c.password.clear();
    })
    .await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    let resp = esme.bind(BindKind::Transmitter, "whoever", "x").await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    sim.shutdown().await;
}

#[tokio::test]
async fn enquire_link_in_any_state_and_unbind_closes() {
    let sim = sim_with(|_| {}).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    let open = esme.request(Pdu::EnquireLink).await;
    assert_eq!(open.pdu, Pdu::EnquireLinkResp);
    assert_eq!(open.command_status, CommandStatus::ESME_ROK);
    esme.bind(BindKind::Transceiver, "gw", "secret").await;
    let bound = esme.request(Pdu::EnquireLink).await;
    assert_eq!(bound.pdu, Pdu::EnquireLinkResp);
    assert_eq!(sim.stats().enquire_links, 2);

    let unbind = esme.request(Pdu::Unbind).await;
    assert_eq!(unbind.pdu, Pdu::UnbindResp);
    assert!(esme.next().await.is_none(), "closed after unbind_resp");
    sim.shutdown().await;
}

#[tokio::test]
async fn submit_needs_a_transmitting_bind() {
    let sim = sim_with(|_| {}).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    let resp = esme.request(submit("too early", 0)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVBNDSTS);
    esme.bind(BindKind::Receiver, "gw", "secret").await;
    let resp = esme.request(submit("receiver", 0)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RINVBNDSTS);
    assert!(sim.submits().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn submit_is_acked_recorded_and_receipted_on_the_same_transceiver() {
    let sim = sim_with(|_| {}).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transceiver, "gw", "secret").await;
    let text_ = "Hello {world} € and more than twenty characters";
    let resp = esme.request(submit(text_, 1)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let id = message_id_of(&resp);
    assert_eq!(id.len(), 10, "decimal id of 10 digits: {id}");
    assert!(id.bytes().all(|b| b.is_ascii_digit()));

    let receipt = esme.deliver(CommandStatus::ESME_ROK).await;
    assert!(receipt.is_delivery_receipt());
    assert_eq!(receipt.esm_class, 0x04);
    assert_eq!(receipt.source_addr, "33700000002");
    assert_eq!(receipt.destination_addr, "33600000001");
    assert_eq!((receipt.source_addr_ton, receipt.dest_addr_ton), (1, 1));
    let tlv_id = receipt.tlvs.get(tags::RECEIPTED_MESSAGE_ID).unwrap();
    assert_eq!(
        &tlv_id[..],
        format!("{id}\0").as_bytes(),
        "C-string with NUL"
    );
    assert_eq!(receipt.tlvs.message_state(), Some(2));
    let body = text::decode(receipt.data_coding, &receipt.short_message).unwrap();
    let parsed = DeliveryReceipt::parse(&body).expect("standard receipt text");
    assert_eq!(parsed.id, id);
    assert_eq!(parsed.sub, "001");
    assert_eq!(parsed.dlvrd, "001");
    assert_eq!(parsed.stat, "DELIVRD");
    assert_eq!(parsed.err, "000");
    assert_eq!(parsed.submit_date.len(), 10);
    assert_eq!(parsed.done_date.len(), 10);
    assert_eq!(parsed.text, text_.chars().take(20).collect::<String>());

    let submits = sim.submits();
    assert_eq!(submits.len(), 1);
    let s = &submits[0];
    assert_eq!(s.message_id, id);
    assert_eq!(s.source_addr, "33600000001");
    assert_eq!((s.source_addr_ton, s.source_addr_npi), (1, 1));
    assert_eq!(s.destination_addr, "33700000002");
    assert_eq!(s.registered_delivery, 1);
    assert_eq!(s.data_coding, 0);
    assert_eq!(s.text.as_deref(), Some(text_));
    let (_, octets) = text::choose(text_);
    let hex: String = octets.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(s.short_message_hex, hex);
    let stats = sim.stats();
    assert_eq!((stats.submits, stats.receipts_sent), (1, 1));
    sim.shutdown().await;
}

#[tokio::test]
async fn no_receipt_unless_asked() {
    let sim = sim_with(|c| c.receipt_delay_ms = 0).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transceiver, "gw", "secret").await;
    // 0 = none, 2 = on failure only (and DELIVRD is a success).
    for rd in [0u8, 2] {
        let resp = esme.request(submit("quiet", rd)).await;
        assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    }
    // Anything sent so far would arrive before this answer.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let el = esme.request(Pdu::EnquireLink).await;
    assert_eq!(el.pdu, Pdu::EnquireLinkResp);
    assert_eq!(sim.stats().receipts_sent, 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn failure_receipt_with_configured_stat() {
    let sim = sim_with(|c| c.receipt_stat = "UNDELIV".into()).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transceiver, "gw", "secret").await;
    let resp = esme.request(submit("fails", 2)).await;
    let id = message_id_of(&resp);
    let receipt = esme.deliver(CommandStatus::ESME_ROK).await;
    let body = text::decode(receipt.data_coding, &receipt.short_message).unwrap();
    let parsed = DeliveryReceipt::parse(&body).unwrap();
    assert_eq!(parsed.id, id);
    assert_eq!(parsed.stat, "UNDELIV");
    assert_eq!(parsed.dlvrd, "000");
    assert_eq!(receipt.tlvs.message_state(), Some(5));
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_waits_for_a_receiver_of_the_same_system_id() {
    let sim = sim_with(|c| {
        c.system_id.clear();
        c.password.clear();
    })
    .await;
    let mut tx = Esme::connect(sim.smpp_addr).await;
    tx.bind(BindKind::Transmitter, "gw", "x").await;
    let id = message_id_of(&tx.request(submit("queued", 1)).await);

    // A receiver of another system_id gets nothing; one of the same system_id gets it.
    let mut other = Esme::connect(sim.smpp_addr).await;
    other.bind(BindKind::Receiver, "someone-else", "x").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        sim.stats().receipts_sent,
        0,
        "kept while no receiver is bound"
    );

    let mut rx = Esme::connect(sim.smpp_addr).await;
    rx.bind(BindKind::Receiver, "gw", "x").await;
    let receipt = rx.deliver(CommandStatus::ESME_ROK).await;
    assert_eq!(
        receipt
            .tlvs
            .receipted_message_id()
            .map(|c| c.to_str_lossy().into_owned()),
        Some(id)
    );
    let el = other.request(Pdu::EnquireLink).await;
    assert_eq!(
        el.pdu,
        Pdu::EnquireLinkResp,
        "the other receiver saw no deliver_sm"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn receipt_not_acked_before_the_close_goes_to_the_next_receiver() {
    let sim = sim_with(|_| {}).await;
    let mut first = Esme::connect(sim.smpp_addr).await;
    first.bind(BindKind::Transceiver, "gw", "secret").await;
    let id = message_id_of(&first.request(submit("resent", 1)).await);
    // Read the receipt but never answer it, then drop the connection.
    loop {
        let frame = first.next().await.expect("receipt");
        if matches!(frame.pdu, Pdu::DeliverSm(_)) {
            break;
        }
    }
    drop(first);
    let mut second = Esme::connect(sim.smpp_addr).await;
    second.bind(BindKind::Receiver, "gw", "secret").await;
    let receipt = second.deliver(CommandStatus::ESME_ROK).await;
    let got = receipt.tlvs.receipted_message_id().unwrap();
    assert_eq!(got.to_str_lossy(), id);
    sim.shutdown().await;
}

#[tokio::test]
async fn submit_status_and_message_id_formats() {
    let sim = sim_with(|c| c.submit_status = 0x58).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transmitter, "gw", "secret").await;
    let resp = esme.request(submit("throttled", 1)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_RTHROTTLED);
    assert_eq!(sim.submits().len(), 1);
    sim.shutdown().await;

    for (format, check) in [
        (
            "hex",
            (|id: &str| id.len() == 10 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                as fn(&str) -> bool,
        ),
        ("ulid", |id: &str| {
            id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        }),
    ] {
        let sim = sim_with(|c| c.message_id_format = format.into()).await;
        let mut esme = Esme::connect(sim.smpp_addr).await;
        esme.bind(BindKind::Transmitter, "gw", "secret").await;
        let a = message_id_of(&esme.request(submit("a", 0)).await);
        let b = message_id_of(&esme.request(submit("b", 0)).await);
        assert!(check(&a), "{format} id {a:?}");
        assert_ne!(a, b);
        sim.shutdown().await;
    }

    let mut bad = SimConfig::new("127.0.0.1:0".parse().unwrap());
    bad.message_id_format = "base64".into();
    assert!(matches!(
        smsc_sim::start(bad).await,
        Err(SimError::Config(_))
    ));
}

#[tokio::test]
async fn data_sm_is_answered_like_submit_sm() {
    let sim = sim_with(|_| {}).await;
    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transmitter, "gw", "secret").await;
    let mut d = smpp_codec::pdu::DataSm {
        source_addr: "1".into(),
        destination_addr: "2".into(),
        ..Default::default()
    };
    d.tlvs.push(tags::MESSAGE_PAYLOAD, b"payload");
    let resp = esme.request(Pdu::DataSm(d)).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    assert!(!message_id_of(&resp).is_empty());
    assert_eq!(sim.submits()[0].text.as_deref(), Some("payload"));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_command_gets_generic_nack() {
    let sim = sim_with(|_| {}).await;
    let mut socket = TcpStream::connect(sim.smpp_addr).await.unwrap();
    // command_length 16, command_id 0x00000077 (unassigned), status 0, sequence 9.
    let raw = [0, 0, 0, 16, 0, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 9];
    socket.write_all(&raw).await.unwrap();
    let mut answer = [0u8; 16];
    timeout(WAIT, socket.read_exact(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let frame = Frame::decode(Bytes::copy_from_slice(&answer)).unwrap();
    assert_eq!(frame.pdu, Pdu::GenericNack);
    assert_eq!(frame.command_status, CommandStatus::ESME_RINVCMDID);
    assert_eq!(frame.sequence_number, 9);
    sim.shutdown().await;
}

#[tokio::test]
async fn mo_injection_reaches_a_receiver_and_returns_its_status() {
    let sim = sim_with(|_| {}).await;
    let mo = MoRequest {
        source_addr: "33611111111".into(),
        destination_addr: "1234".into(),
        text: "Привет".into(),
        data_coding: None,
    };
    assert!(matches!(
        sim.inject_mo(mo.clone()).await,
        Err(SimError::NoReceiver)
    ));
    // A transmitter cannot receive.
    let mut tx = Esme::connect(sim.smpp_addr).await;
    tx.bind(BindKind::Transmitter, "gw", "secret").await;
    assert!(matches!(
        sim.inject_mo(mo.clone()).await,
        Err(SimError::NoReceiver)
    ));

    let mut rx = Esme::connect(sim.smpp_addr).await;
    rx.bind(BindKind::Receiver, "gw", "secret").await;
    let (status, sm) = tokio::join!(
        sim.inject_mo(mo.clone()),
        rx.deliver(CommandStatus::ESME_RX_T_APPN)
    );
    assert_eq!(status.unwrap(), CommandStatus::ESME_RX_T_APPN.0);
    assert_eq!(sm.esm_class, 0);
    assert_eq!(sm.source_addr, "33611111111");
    assert_eq!(sm.destination_addr, "1234");
    assert_eq!(sm.data_coding, 8, "UCS-2 chosen for Cyrillic");
    assert_eq!(text::decode(8, &sm.short_message).unwrap(), "Привет");

    let gsm = MoRequest {
        text: "{ok}".into(),
        data_coding: Some(0),
        ..mo.clone()
    };
    let (status, sm) = tokio::join!(sim.inject_mo(gsm), rx.deliver(CommandStatus::ESME_ROK));
    assert_eq!(status.unwrap(), 0);
    assert_eq!(&sm.short_message[..], &[0x1B, 0x28, b'o', b'k', 0x1B, 0x29]);

    let bad = MoRequest {
        data_coding: Some(3),
        ..mo
    };
    assert!(matches!(
        sim.inject_mo(bad).await,
        Err(SimError::InvalidMo(_))
    ));
    assert_eq!(sim.stats().mo_sent, 2);
    sim.shutdown().await;
}

/// One HTTP/1.1 request over a raw socket; returns (status code, body).
async fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: sim\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    timeout(WAIT, socket.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    let code = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

#[tokio::test]
async fn control_api() {
    let sim = sim_with(|c| c.control = Some("127.0.0.1:0".parse().unwrap())).await;
    let control = sim.control_addr.expect("control address");

    let mo = r#"{"source_addr":"33611111111","destination_addr":"1234","text":"hi"}"#;
    let (code, _) = http(control, "POST", "/mo", mo).await;
    assert_eq!(code, 503, "nobody can receive");

    let mut esme = Esme::connect(sim.smpp_addr).await;
    esme.bind(BindKind::Transceiver, "gw", "secret").await;
    let post = tokio::spawn(async move { http(control, "POST", "/mo", mo).await });
    let sm = esme.deliver(CommandStatus::ESME_ROK).await;
    assert_eq!(&sm.short_message[..], b"hi");
    let (code, body) = post.await.unwrap();
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(v, serde_json::json!({"command_status": 0}));

    esme.request(submit("recorded", 0)).await;
    let (code, body) = http(control, "GET", "/submits", "").await;
    assert_eq!(code, 200);
    let submits: Vec<smsc_sim::ReceivedSubmit> = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(submits.len(), 1);
    assert_eq!(submits[0].text.as_deref(), Some("recorded"));

    let (code, body) = http(control, "GET", "/stats", "").await;
    assert_eq!(code, 200);
    let stats: smsc_sim::SimStats = serde_json::from_str(body.trim()).unwrap();
    assert_eq!((stats.binds, stats.submits, stats.mo_sent), (1, 1, 1));
    sim.shutdown().await;
}
