//! Scripted peers and builders shared by the shell tests: a configurable [`TestHandler`], a
//! server session over an in-memory duplex, and a [`DuplexConnector`] that hands each
//! connection attempt of a client bind to the test as the SMSC's end of a duplex stream.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Bind, BindResp, Frame, Pdu};
use smpp_codec::status::CommandStatus;
use smpp_codec::types::BindKind;
use smpp_session::{
    run_server_session, BindGrant, ClientConfig, Connected, Connector, InboundReply, LinkEvent,
    ListenerConfig, SessionConfig, SessionHandler, SessionInfo, SessionRegistry, TpsLimiter,
};
use tokio::io::DuplexStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

/// One end of an SMPP conversation driven by a test.
pub type Peer = Framed<DuplexStream, SmppCodec>;

/// A handler that accepts `partner`/`pw` (not as receiver), answers `submit_sm` with `MSG<n>`
/// and `deliver_sm` with `ESME_RX_T_APPN`, optionally after a delay, and records link events.
pub struct TestHandler {
    pub messages: AtomicUsize,
    pub events: Mutex<Vec<(tokio::time::Instant, LinkEvent)>>,
    /// Answer every message after this long (paused clock).
    pub delay: Option<Duration>,
    /// The config granted to accepted binds.
    pub grant: SessionConfig,
    /// The shared TPS window granted to accepted binds.
    pub tps: TpsLimiter,
    /// `max_sessions` granted.
    pub max_sessions: usize,
    /// Allow receiver binds.
    pub allow_receiver: bool,
    /// Answer `deliver_sm` with this status.
    pub deliver_status: CommandStatus,
}

impl Default for TestHandler {
    fn default() -> Self {
        TestHandler {
            messages: AtomicUsize::new(0),
            events: Mutex::new(Vec::new()),
            delay: None,
            grant: SessionConfig {
                window_size: 2,
                ..SessionConfig::default()
            },
            tps: TpsLimiter::new(0),
            max_sessions: 0,
            allow_receiver: false,
            deliver_status: CommandStatus::ESME_RX_T_APPN,
        }
    }
}

impl TestHandler {
    /// The link events seen so far.
    pub fn events(&self) -> Vec<LinkEvent> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// When each event matching `pred` happened.
    pub fn times(&self, pred: impl Fn(&LinkEvent) -> bool) -> Vec<tokio::time::Instant> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| pred(e))
            .map(|(t, _)| *t)
            .collect()
    }
}

impl SessionHandler for TestHandler {
    fn authenticate(
        &self,
        _remote: SocketAddr,
        kind: BindKind,
        bind: &Bind,
    ) -> Result<BindGrant, CommandStatus> {
        if bind.system_id.as_bytes() != b"partner" {
            return Err(CommandStatus::ESME_RINVSYSID);
        }
        if bind.password.as_bytes() != b"pw" {
            return Err(CommandStatus::ESME_RINVPASWD);
        }
        if kind == BindKind::Receiver && !self.allow_receiver {
            return Err(CommandStatus::ESME_RBINDFAIL);
        }
        Ok(BindGrant {
            peer_name: "p1".into(),
            config: self.grant.clone(),
            tps: self.tps.clone(),
            max_sessions: self.max_sessions,
        })
    }

    fn on_message(
        &self,
        _session: Arc<SessionInfo>,
        frame: Frame,
    ) -> BoxFuture<'static, InboundReply> {
        let n = self.messages.fetch_add(1, Ordering::SeqCst);
        let delay = self.delay;
        let deliver_status = self.deliver_status;
        Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            match frame.pdu {
                Pdu::DeliverSm(_) => InboundReply::error(deliver_status),
                _ => InboundReply::ok(format!("MSG{n}")),
            }
        })
    }

    fn on_event(&self, _session: &SessionInfo, event: &LinkEvent) {
        self.events
            .lock()
            .unwrap()
            .push((tokio::time::Instant::now(), event.clone()));
    }
}

pub fn bind(system_id: &str, password: &str) -> Bind {
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

pub fn bind_pdu(kind: BindKind, system_id: &str, password: &str) -> Pdu {
    match kind {
        BindKind::Transmitter => Pdu::BindTransmitter(bind(system_id, password)),
        BindKind::Receiver => Pdu::BindReceiver(bind(system_id, password)),
        BindKind::Transceiver => Pdu::BindTransceiver(bind(system_id, password)),
    }
}

pub fn listener_config() -> ListenerConfig {
    ListenerConfig {
        our_system_id: "smppgw".into(),
        session: SessionConfig::default(),
        max_pdu_len: 4096,
    }
}

/// A server session on one end of a duplex stream of `buffer` octets; the test drives the
/// other end.
pub fn server_with(
    handler: Arc<TestHandler>,
    registry: SessionRegistry,
    config: ListenerConfig,
    buffer: usize,
) -> (Peer, tokio::task::JoinHandle<()>, CancellationToken) {
    let (ours, theirs) = tokio::io::duplex(buffer);
    let stop = CancellationToken::new();
    let s = stop.clone();
    let task = tokio::spawn(async move {
        run_server_session(
            theirs,
            "127.0.0.1:40000".parse().unwrap(),
            config,
            handler,
            registry,
            s,
        )
        .await;
    });
    (Framed::new(ours, SmppCodec::new(4096)), task, stop)
}

pub fn server(
    handler: Arc<TestHandler>,
    registry: SessionRegistry,
) -> (Peer, tokio::task::JoinHandle<()>, CancellationToken) {
    server_with(handler, registry, listener_config(), 64 * 1024)
}

/// The next decoded frame; panics when the stream ends or is garbage.
pub async fn next(peer: &mut Peer) -> Frame {
    peer.next()
        .await
        .expect("stream ended")
        .expect("framing")
        .expect("decode")
}

/// The next frame, or `None` when the stream ended.
pub async fn next_or_end(peer: &mut Peer) -> Option<Frame> {
    match peer.next().await {
        None => None,
        Some(Ok(Ok(f))) => Some(f),
        Some(other) => panic!("unexpected item: {other:?}"),
    }
}

/// Bind `peer` to a server session as `kind` and check it is accepted.
pub async fn bind_ok(peer: &mut Peer, kind: BindKind) {
    peer.send(Frame::new(1, bind_pdu(kind, "partner", "pw")))
        .await
        .unwrap();
    let resp = next(peer).await;
    assert_eq!(
        (resp.sequence_number, resp.command_status),
        (1, CommandStatus::ESME_ROK),
        "{resp:?}"
    );
}

/// A client bind to a fake carrier named `carrier`, binding as `gw`/`secret`, transceiver.
pub fn client_config() -> ClientConfig {
    ClientConfig {
        name: "carrier".into(),
        host: "smsc.test".into(),
        port: 2775,
        kind: BindKind::Transceiver,
        system_id: "gw".into(),
        password: "secret".into(),
        system_type: "".into(),
        interface_version: 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: "".into(),
        session: SessionConfig::default(),
        tps_limit: 0,
        reconnect_interval: Duration::from_secs(30),
        reconnect_max_interval: Duration::from_secs(300),
        connect_timeout: Duration::from_secs(10),
        start_delay: Duration::ZERO,
        max_pdu_len: 4096,
        tls: None,
    }
}

/// Hands every connection attempt to the test: the SMSC's end arrives on `accepted`, with the
/// instant of the attempt. The first `refuse` attempts fail as "connection refused".
pub struct DuplexConnector {
    tx: mpsc::UnboundedSender<(tokio::time::Instant, Peer)>,
    pub attempts: Mutex<Vec<tokio::time::Instant>>,
    pub refuse: AtomicUsize,
    pub buffer: usize,
}

impl DuplexConnector {
    pub fn new(
        buffer: usize,
    ) -> (
        Arc<Self>,
        mpsc::UnboundedReceiver<(tokio::time::Instant, Peer)>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Arc::new(DuplexConnector {
                tx,
                attempts: Mutex::new(Vec::new()),
                refuse: AtomicUsize::new(0),
                buffer,
            }),
            rx,
        )
    }

    pub fn attempts(&self) -> Vec<tokio::time::Instant> {
        self.attempts.lock().unwrap().clone()
    }
}

impl Connector for DuplexConnector {
    fn connect(&self, _config: &ClientConfig) -> BoxFuture<'static, Result<Connected, String>> {
        let t = tokio::time::Instant::now();
        self.attempts.lock().unwrap().push(t);
        if self.refuse.load(Ordering::SeqCst) > 0 {
            self.refuse.fetch_sub(1, Ordering::SeqCst);
            return Box::pin(async {
                Err(
                    "connect to smsc.test:2775 failed: Connection refused (os error 111)"
                        .to_string(),
                )
            });
        }
        let (ours, theirs) = tokio::io::duplex(self.buffer);
        let _ = self.tx.send((t, Framed::new(theirs, SmppCodec::new(4096))));
        Box::pin(async move {
            Ok(Connected {
                stream: Box::new(ours),
                remote: "192.0.2.1:2775".parse().unwrap(),
                tls: false,
            })
        })
    }
}

/// As the SMSC: read the bind and answer it with `status`; returns the bind frame.
pub async fn answer_bind(smsc: &mut Peer, status: CommandStatus) -> Frame {
    let b = next(smsc).await;
    let kind = b.pdu.bind_kind().expect("a bind");
    let resp = match kind {
        BindKind::Transmitter => Pdu::BindTransmitterResp(BindResp {
            system_id: "SMSC".into(),
            ..Default::default()
        }),
        BindKind::Receiver => Pdu::BindReceiverResp(BindResp {
            system_id: "SMSC".into(),
            ..Default::default()
        }),
        BindKind::Transceiver => Pdu::BindTransceiverResp(BindResp {
            system_id: "SMSC".into(),
            ..Default::default()
        }),
    };
    smsc.send(Frame::with_status(b.sequence_number, status, resp))
        .await
        .unwrap();
    b
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Test certificates, made at test time (no key is ever committed): a CA, a server
/// certificate for `localhost`/127.0.0.1 and a client certificate it issued, and an unrelated
/// CA; all written as PEM files in a fresh directory.
pub struct Pki {
    pub dir: std::path::PathBuf,
    pub ca: std::path::PathBuf,
    pub server_cert: std::path::PathBuf,
    pub server_key: std::path::PathBuf,
    pub client_cert: std::path::PathBuf,
    pub client_key: std::path::PathBuf,
    pub other_ca: std::path::PathBuf,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "smpp-session-pki-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_of = |cn: &str| {
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.distinguished_name.push(DnType::CommonName, cn);
            CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
        };
        let ca = ca_of("smppgw test CA");
        let other = ca_of("someone else's CA");
        let leaf = |names: Vec<String>, cn: &str| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(names).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            let cert = p.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let (server_pem, server_key_pem) =
            leaf(vec!["localhost".into(), "127.0.0.1".into()], "localhost");
        let (client_pem, client_key_pem) = leaf(vec!["partner.test".into()], "partner");
        let write = |file: &str, text: &str| {
            let p = dir.join(file);
            std::fs::write(&p, text).unwrap();
            p
        };
        Pki {
            ca: write("ca.pem", &ca.pem()),
            server_cert: write("server.pem", &server_pem),
            server_key: write("server.key", &server_key_pem),
            client_cert: write("client.pem", &client_pem),
            client_key: write("client.key", &client_key_pem),
            other_ca: write("other-ca.pem", &other.pem()),
            dir,
        }
    }
}
