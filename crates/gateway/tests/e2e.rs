//! The whole path in one process: a partner ESME (scripted on the codec) → smppgw → embedded
//! core → smppgw client bind → the SMSC simulator, and the receipt and an MO back.
//! The interoperability tests with independent SMPP stacks are in `tests/interop/`.

use std::path::PathBuf;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use gateway::config::Config;
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Bind, DeliverSmResp, Frame, Pdu, SubmitSm};
use smpp_codec::receipt::DeliveryReceipt;
use smpp_codec::status::CommandStatus;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "smppgw-e2e-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(dir: &std::path::Path, sim_port: u16, partner_enabled: bool) -> Config {
    config_with(dir, sim_port, partner_enabled, true)
}

/// `in_process`: whether the binds call the embedded core directly or over its HTTP API.
fn config_with(
    dir: &std::path::Path,
    sim_port: u16,
    partner_enabled: bool,
    in_process: bool,
) -> Config {
    let text = format!(
        r#"
api_base_url = "embedded"
data_dir = "{data}"
[listen]
host = "127.0.0.1"
port = 0
[metrics]
enabled = false
[admin]
enabled = false
[embedded_core]
port = 0
lease_seconds = 5
in_process = {in_process}
[simulator]
listen = "127.0.0.1:{sim_port}"
system_id = "gw"
password = "secret"
receipt_delay_ms = 50
[[routes]]
prefix = ""
dest_smsc = "carrier"
[[mo_routes]]
prefix = ""
source_smsc = "partner"
[[binds]]
name = "carrier"
host = "127.0.0.1"
port = {sim_port}
system_id = "gw"
password = "secret"
queue_check_frequency = 100
reconnect_interval = 1
[[server_binds]]
name = "partner"
system_id = "partner"
password = "pw"
allowed_bind_types = ["transceiver", "transmitter"]
source_address_whitelist = ["MyBrand", "336*"]
queue_check_frequency = 100
enabled = {partner_enabled}
"#,
        data = dir.join("data").display()
    );
    let path = dir.join("gw.toml");
    std::fs::write(&path, text).unwrap();
    Config::load_with_env(&path, &|_| None).unwrap()
}

type Peer = Framed<TcpStream, SmppCodec>;

async fn next(peer: &mut Peer) -> Frame {
    tokio::time::timeout(Duration::from_secs(10), peer.next())
        .await
        .expect("no PDU within 10 s")
        .expect("closed")
        .expect("framing")
        .expect("decode")
}

async fn bind(addr: std::net::SocketAddr, pdu: Pdu) -> (Peer, Frame) {
    let s = TcpStream::connect(addr).await.unwrap();
    let mut f = Framed::new(s, SmppCodec::new(70_000));
    f.send(Frame::new(1, pdu)).await.unwrap();
    let r = next(&mut f).await;
    (f, r)
}

fn bind_body(system_id: &str, password: &str) -> Bind {
    Bind {
        system_id: system_id.into(),
        password: password.into(),
        system_type: "".into(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: "".into(),
    }
}

fn submit(source: &str, dest: &str, dc: u8, text: &[u8], registered: u8) -> Pdu {
    Pdu::SubmitSm(SubmitSm {
        source_addr_ton: 5,
        source_addr: source.into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: dest.into(),
        data_coding: dc,
        registered_delivery: registered,
        short_message: text.to_vec().into(),
        ..SubmitSm::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mt_reaches_the_carrier_and_the_receipt_comes_back_with_our_id() {
    mt_mo_and_receipt(true).await;
}

/// The same path with the binds calling the embedded core over HTTP, as an external
/// frontend would: both bridges give the same result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_path_with_the_core_called_over_http() {
    mt_mo_and_receipt(false).await;
}

async fn mt_mo_and_receipt(in_process: bool) {
    let dir = temp_dir(if in_process { "mt" } else { "mt-http" });
    let running = gateway::app::start(config_with(&dir, free_port(), true, in_process))
        .await
        .unwrap();
    assert_eq!(running.gw.core.is_in_process(), in_process);
    let (mut partner, r) = bind(
        running.smpp_addr,
        Pdu::BindTransceiver(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(r.command_status, CommandStatus::ESME_ROK);

    let text = "Hello {}[]~€".to_string();
    let gsm = smpp_codec::text::encode(0, &text).unwrap();
    partner
        .send(Frame::new(2, submit("MyBrand", "33612345678", 0, &gsm, 1)))
        .await
        .unwrap();
    let resp = next(&mut partner).await;
    assert_eq!(resp.command_status, CommandStatus::ESME_ROK);
    let Pdu::SubmitSmResp(r) = &resp.pdu else {
        panic!("{resp:?}")
    };
    let our_id = r.message_id.to_str_lossy().into_owned();
    assert_eq!(our_id.len(), 26, "a ULID");

    // The receipt: deliver_sm, esm_class 0x04, our id in the text and the TLV.
    let dlr = next(&mut partner).await;
    let Pdu::DeliverSm(sm) = &dlr.pdu else {
        panic!("{dlr:?}")
    };
    assert_eq!(sm.esm_class & 0x3C, 0x04);
    assert_eq!(sm.source_addr.as_bytes(), b"33612345678");
    assert_eq!(sm.destination_addr.as_bytes(), b"MyBrand");
    let receipt = DeliveryReceipt::parse(&String::from_utf8_lossy(&sm.short_message)).unwrap();
    assert_eq!(receipt.id, our_id);
    assert_eq!(receipt.stat, "DELIVRD");
    assert_eq!(
        sm.tlvs.receipted_message_id().unwrap().as_bytes(),
        our_id.as_bytes()
    );
    assert_eq!(sm.tlvs.message_state(), Some(2));
    partner
        .send(Frame::new(
            dlr.sequence_number,
            Pdu::DeliverSmResp(DeliverSmResp::default()),
        ))
        .await
        .unwrap();

    // The carrier got the partner's addresses and the exact bytes.
    let submits = running.simulator().unwrap().submits();
    assert_eq!(submits.len(), 1);
    assert_eq!(
        (submits[0].source_addr.as_str(), submits[0].source_addr_ton),
        ("MyBrand", 5)
    );
    assert_eq!(
        (
            submits[0].destination_addr.as_str(),
            submits[0].dest_addr_ton,
            submits[0].dest_addr_npi
        ),
        ("33612345678", 1, 1)
    );
    let hex: String = gsm.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(submits[0].short_message_hex.to_lowercase(), hex);

    // An MO from the carrier reaches the partner with the same text.
    let mo = smsc_sim::MoRequest {
        source_addr: "33698765432".into(),
        destination_addr: "1234".into(),
        text: "Réponse ✓".into(),
        data_coding: None,
    };
    let status = running.simulator().unwrap().inject_mo(mo).await.unwrap();
    assert_eq!(status, 0);
    let d = next(&mut partner).await;
    let Pdu::DeliverSm(sm) = &d.pdu else {
        panic!("{d:?}")
    };
    assert_eq!(sm.esm_class & 0x3C, 0);
    assert_eq!(sm.source_addr.as_bytes(), b"33698765432");
    assert_eq!(
        smpp_codec::text::decode(sm.data_coding, &sm.short_message).unwrap(),
        "Réponse ✓"
    );
    partner
        .send(Frame::new(
            d.sequence_number,
            Pdu::DeliverSmResp(DeliverSmResp::default()),
        ))
        .await
        .unwrap();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_refusals_have_exact_statuses() {
    let dir = temp_dir("refuse");
    let running = gateway::app::start(config(&dir, free_port(), true))
        .await
        .unwrap();
    for (pdu, want) in [
        (
            Pdu::BindTransceiver(bind_body("nobody", "pw")),
            CommandStatus::ESME_RINVSYSID,
        ),
        (
            Pdu::BindTransceiver(bind_body("partner", "wrong")),
            CommandStatus::ESME_RINVPASWD,
        ),
        (
            Pdu::BindReceiver(bind_body("partner", "pw")),
            CommandStatus::ESME_RBINDFAIL,
        ),
    ] {
        let (_p, r) = bind(running.smpp_addr, pdu).await;
        assert_eq!(r.command_status, want);
    }
    running.stop().await;
    let dir = temp_dir("disabled");
    let running = gateway::app::start(config(&dir, free_port(), false))
        .await
        .unwrap();
    let (_p, r) = bind(
        running.smpp_addr,
        Pdu::BindTransceiver(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(r.command_status, CommandStatus::ESME_RBINDFAIL);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_address_whitelist_rejects_with_rinvsrcadr() {
    let dir = temp_dir("whitelist");
    let running = gateway::app::start(config(&dir, free_port(), true))
        .await
        .unwrap();
    let (mut p, _) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    p.send(Frame::new(
        2,
        submit("OtherBrand", "33612345678", 0, b"x", 0),
    ))
    .await
    .unwrap();
    assert_eq!(
        next(&mut p).await.command_status,
        CommandStatus::ESME_RINVSRCADR
    );
    p.send(Frame::new(3, submit("33699", "33612345678", 0, b"x", 0)))
        .await
        .unwrap();
    assert_eq!(next(&mut p).await.command_status, CommandStatus::ESME_ROK);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_down_means_a_temporary_error_never_a_false_ok() {
    let dir = temp_dir("nocore");
    let mut cfg = config(&dir, free_port(), true);
    cfg.api_base_url = format!("http://127.0.0.1:{}", free_port());
    cfg.simulator = None;
    cfg.binds.clear();
    cfg.routes.clear();
    cfg.core_timeout_ms = 1000;
    let running = gateway::app::start(cfg).await.unwrap();
    let (mut p, _) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    p.send(Frame::new(2, submit("MyBrand", "33612345678", 0, b"x", 0)))
        .await
        .unwrap();
    let r = next(&mut p).await;
    assert_eq!(r.command_status, CommandStatus::ESME_RSYSERR);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_over_tps_limit_is_throttled_and_sessions_are_capped() {
    let dir = temp_dir("tps");
    let mut cfg = config(&dir, free_port(), true);
    cfg.server_binds[0].tps_limit = 3;
    cfg.server_binds[0].max_sessions = 1;
    let running = gateway::app::start(cfg).await.unwrap();
    let (mut p, r) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(r.command_status, CommandStatus::ESME_ROK);
    // A second session over max_sessions = 1 is refused.
    let (_p2, r2) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(r2.command_status, CommandStatus::ESME_RBINDFAIL);
    // Ten submits at once: three fit in this second's window, the rest are throttled.
    for seq in 2..12 {
        p.send(Frame::new(
            seq,
            submit("MyBrand", "33612345678", 0, b"x", 0),
        ))
        .await
        .unwrap();
    }
    let mut statuses = Vec::new();
    for _ in 2..12 {
        statuses.push(next(&mut p).await.command_status);
    }
    let ok = statuses.iter().filter(|s| s.is_ok()).count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == CommandStatus::ESME_RTHROTTLED)
        .count();
    assert!((3..=6).contains(&ok), "{statuses:?}");
    assert_eq!(ok + throttled, 10, "{statuses:?}");
    running.stop().await;
}

async fn admin(
    running: &gateway::app::Running,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let url = format!("http://{}{}", running.admin_addr.unwrap(), path);
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth("t0ken-0123456789abcdef");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_edited_at_run_time_apply_on_the_wire_and_persist() {
    let dir = temp_dir("admin");
    let sim_port = free_port();
    let mut cfg = config(&dir, sim_port, true);
    cfg.admin.enabled = true;
    cfg.admin.port = 0;
    cfg.admin.token = Some("t0ken-0123456789abcdef".into());
    let running = gateway::app::start(cfg.clone()).await.unwrap();

    // No credentials, no answer.
    let url = format!("http://{}/api/v1/status", running.admin_addr.unwrap());
    assert_eq!(reqwest::get(&url).await.unwrap().status().as_u16(), 401);

    let (mut p, _) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    p.send(Frame::new(2, submit("Acme", "33612345678", 0, b"x", 0)))
        .await
        .unwrap();
    assert_eq!(
        next(&mut p).await.command_status,
        CommandStatus::ESME_RINVSRCADR
    );

    // Widen the whitelist through the API: the live session's next PDU sees it.
    let (code, peer) = admin(
        &running,
        reqwest::Method::GET,
        "/api/v1/peers/server/partner",
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(peer["password"], "********");
    let mut edited = peer.clone();
    edited["source_address_whitelist"] = serde_json::json!(["Acme"]);
    let (code, _) = admin(
        &running,
        reqwest::Method::PUT,
        "/api/v1/peers/server/partner",
        Some(edited),
    )
    .await;
    assert_eq!(code, 200);
    p.send(Frame::new(3, submit("Acme", "33612345678", 0, b"x", 0)))
        .await
        .unwrap();
    assert_eq!(next(&mut p).await.command_status, CommandStatus::ESME_ROK);

    // A bad edit is refused naming the field, and changes nothing.
    let mut bad = peer.clone();
    bad["ip_whitelist"] = serde_json::json!(["10.0.0.0/33"]);
    let (code, body) = admin(
        &running,
        reqwest::Method::PUT,
        "/api/v1/peers/server/partner",
        Some(bad),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body["field"].as_str().unwrap().starts_with("ip_whitelist"),
        "{body}"
    );

    // Disable: the live session is unbound, and a new bind is refused.
    let (code, _) = admin(
        &running,
        reqwest::Method::POST,
        "/api/v1/peers/server/partner/disable",
        None,
    )
    .await;
    assert_eq!(code, 200);
    let u = next(&mut p).await;
    assert_eq!(u.pdu, Pdu::Unbind);
    let (_p2, r) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(r.command_status, CommandStatus::ESME_RBINDFAIL);

    // Add a client bind pointing at the simulator: it connects.
    let new_peer = serde_json::json!({"name": "carrier2", "host": "127.0.0.1", "port": sim_port, "system_id": "gw", "password": "secret"});
    let (code, body) = admin(
        &running,
        reqwest::Method::POST,
        "/api/v1/peers/client",
        Some(new_peer),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    let mut connected = false;
    for _ in 0..50 {
        let (_, st) = admin(&running, reqwest::Method::GET, "/api/v1/status", None).await;
        let row = st["binds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == "carrier2")
            .cloned()
            .unwrap();
        if row["state"] == "connected" {
            connected = true;
            assert!(
                !st.to_string().contains("secret"),
                "a password leaked into the status: {st}"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(connected, "carrier2 never connected");
    running.stop().await;

    // The edits survive a restart and override the file.
    let running = gateway::app::start(cfg).await.unwrap();
    let (_p3, r) = bind(
        running.smpp_addr,
        Pdu::BindTransmitter(bind_body("partner", "pw")),
    )
    .await;
    assert_eq!(
        r.command_status,
        CommandStatus::ESME_RBINDFAIL,
        "the disabled state did not survive the restart"
    );
    let (_, list) = admin(&running, reqwest::Method::GET, "/api/v1/peers/client", None).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["name"] == "carrier2"));
    running.stop().await;
}
