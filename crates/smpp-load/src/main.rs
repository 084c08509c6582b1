//! `smpp-load`: the benchmarks' load tool (see the library docs and `docs/performance.md`).
//!
//! Exit codes: 0 success; 1 loss, duplication or a timeout (esme), failed binds (idle); 2 bad
//! arguments or a setup error.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use smpp_codec::types::BindKind;
use smpp_load::esme::EsmeConfig;
use smpp_load::idle::IdleConfig;
use smpp_load::sink::SinkConfig;

/// Load tool of the smppgw benchmarks: an ESME, an ack-all SMSC sink, idle binds, smpp34's server.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Bind {
    /// bind_transmitter
    Tx,
    /// bind_receiver (idle mode only)
    Rx,
    /// bind_transceiver
    Trx,
}

impl From<Bind> for BindKind {
    fn from(b: Bind) -> BindKind {
        match b {
            Bind::Tx => BindKind::Transmitter,
            Bind::Rx => BindKind::Receiver,
            Bind::Trx => BindKind::Transceiver,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Bind sessions, submit messages with a window and a TPS cap, wait for every response and
    /// receipt; exit 1 when any is lost or duplicated.
    Esme {
        /// SMSC address, host:port.
        #[arg(long, default_value = "127.0.0.1:2775")]
        addr: String,
        /// Bind type of the submitting sessions.
        #[arg(long, value_enum, default_value = "trx")]
        bind: Bind,
        /// Submitting sessions.
        #[arg(long, default_value_t = 1)]
        sessions: usize,
        /// Extra bind_receiver sessions for receipts (with --bind tx).
        #[arg(long, default_value_t = 0)]
        receivers: usize,
        /// system_id(s), comma separated; session i uses the (i mod n)-th.
        #[arg(long, value_delimiter = ',', default_value = "load")]
        system_id: Vec<String>,
        /// Password(s): one for all, or one per system_id.
        #[arg(long, value_delimiter = ',', default_value = "load")]
        password: Vec<String>,
        /// submit_sm in total.
        #[arg(long, default_value_t = 10_000)]
        messages: u64,
        /// Unanswered submit_sm per session.
        #[arg(long, default_value_t = 100)]
        window: usize,
        /// Total submit_sm per second at most (default: no cap).
        #[arg(long)]
        tps: Option<f64>,
        /// Ask for receipts and wait for one per ESME_ROK.
        #[arg(long)]
        registered_delivery: bool,
        /// Seconds without any response or receipt before giving up.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// Seconds in all (from the first submit) before giving up.
        #[arg(long)]
        max_seconds: Option<f64>,
        /// Destinations "<d><destination>" for d in 0..N (to spread over prefix routes).
        #[arg(long, default_value_t = 1)]
        destination_variants: u32,
        /// destination_addr.
        #[arg(long, default_value = "33600000000")]
        destination: String,
        /// source_addr.
        #[arg(long, default_value = "12345")]
        source: String,
        /// Octets of short_message.
        #[arg(long, default_value_t = 20)]
        text_len: usize,
        /// Do not record ids (no duplicate-id check; receipts turn it back on).
        #[arg(long)]
        no_track_ids: bool,
        /// Binds opened at once at most.
        #[arg(long, default_value_t = 200)]
        connect_concurrency: usize,
        /// JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
        /// No progress line on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// An SMSC that binds anyone and acks every submit_sm (unique ids), optionally with receipts.
    Sink {
        /// Listen address (port 0: any; see --port-file).
        #[arg(long, default_value = "127.0.0.1:2775")]
        listen: String,
        /// Send a receipt for every submit_sm asking for one.
        #[arg(long)]
        receipts: bool,
        /// Milliseconds before a receipt is sent.
        #[arg(long, default_value_t = 0)]
        receipt_delay_ms: u64,
        /// Unanswered receipts per session at most.
        #[arg(long, default_value_t = 1000)]
        receipt_window: usize,
        /// system_id of the bind responses.
        #[arg(long, default_value = "smpp-load")]
        system_id: String,
        /// Write the stats as JSON here every second and at exit.
        #[arg(long)]
        report_file: Option<PathBuf>,
        /// Write the port listened on here.
        #[arg(long)]
        port_file: Option<PathBuf>,
        /// Print the stats as JSON on stdout at exit (SIGTERM/SIGINT).
        #[arg(long)]
        json: bool,
    },
    /// Open N binds and hold them, answering enquire_link, until SIGTERM/SIGINT.
    Idle {
        /// SMSC address, host:port.
        #[arg(long, default_value = "127.0.0.1:2775")]
        addr: String,
        /// Binds to open.
        #[arg(long, default_value_t = 100)]
        binds: usize,
        /// Bind type.
        #[arg(long, value_enum, default_value = "trx")]
        bind: Bind,
        /// system_id(s), comma separated; bind i uses the (i mod n)-th.
        #[arg(long, value_delimiter = ',', default_value = "load")]
        system_id: Vec<String>,
        /// Password(s): one for all, or one per system_id.
        #[arg(long, value_delimiter = ',', default_value = "load")]
        password: Vec<String>,
        /// Binds opened at once at most.
        #[arg(long, default_value_t = 100)]
        connect_concurrency: usize,
        /// Write the stats as JSON here once every bind is done (bound or failed), and at exit.
        #[arg(long)]
        ready_file: Option<PathBuf>,
    },
    /// The smpp34 crate's server acking every submit_sm (S1's comparison), until SIGTERM/SIGINT.
    Smpp34Sink {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:2775")]
        listen: std::net::SocketAddr,
        /// Write {"submits":…,"binds":…} here every second and at exit.
        #[arg(long)]
        report_file: Option<PathBuf>,
    },
}

fn split_list(v: Vec<String>) -> Vec<String> {
    v.into_iter().filter(|s| !s.is_empty()).collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("smpp-load: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> ExitCode {
    match cli.mode {
        Mode::Esme {
            addr,
            bind,
            sessions,
            receivers,
            system_id,
            password,
            messages,
            window,
            tps,
            registered_delivery,
            timeout,
            max_seconds,
            destination_variants,
            destination,
            source,
            text_len,
            no_track_ids,
            connect_concurrency,
            json,
            quiet,
        } => {
            if !(timeout.is_finite() && timeout > 0.0) {
                eprintln!("smpp-load: --timeout must be a positive number of seconds");
                return ExitCode::from(2);
            }
            let cfg = EsmeConfig {
                addr,
                bind: bind.into(),
                sessions,
                receivers,
                system_ids: split_list(system_id),
                passwords: split_list(password),
                messages,
                window,
                tps,
                registered_delivery,
                timeout: Duration::from_secs_f64(timeout),
                max_duration: max_seconds
                    .filter(|m| m.is_finite() && *m > 0.0)
                    .map(Duration::from_secs_f64),
                destination_variants,
                source,
                destination,
                text_len,
                track_ids: !no_track_ids,
                progress: !quiet,
                connect_concurrency,
            };
            if let Err(e) = cfg.validate() {
                eprintln!("smpp-load: {e}");
                return ExitCode::from(2);
            }
            match smpp_load::esme::run(&cfg).await {
                Ok(report) => {
                    if json {
                        println!("{}", serde_json::to_string(&report).unwrap_or_default());
                    } else {
                        print!("{}", report.table());
                    }
                    if report.passed {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("smpp-load: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Mode::Sink {
            listen,
            receipts,
            receipt_delay_ms,
            receipt_window,
            system_id,
            report_file,
            port_file,
            json,
        } => {
            let cfg = SinkConfig {
                listen,
                receipts,
                receipt_delay: Duration::from_millis(receipt_delay_ms),
                receipt_window: receipt_window.max(1),
                system_id,
                report_file: report_file.clone(),
                port_file,
            };
            let sink = match smpp_load::sink::start(cfg).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("smpp-load: sink: {e}");
                    return ExitCode::from(2);
                }
            };
            eprintln!("smpp-load: sink listening on {}", sink.local_addr);
            if let Err(e) = smpp_load::terminated().await {
                eprintln!("smpp-load: {e}");
            }
            let stats = sink.stats();
            if let Some(p) = &report_file {
                let _ = smpp_load::sink::write_report(p, &stats);
            }
            if json {
                println!("{}", serde_json::to_string(&stats).unwrap_or_default());
            } else {
                eprintln!("smpp-load: sink: {stats:?}");
            }
            ExitCode::SUCCESS
        }
        Mode::Idle {
            addr,
            binds,
            bind,
            system_id,
            password,
            connect_concurrency,
            ready_file,
        } => {
            let cfg = IdleConfig {
                addr,
                binds,
                bind: bind.into(),
                system_ids: split_list(system_id),
                passwords: split_list(password),
                connect_concurrency,
            };
            if cfg.system_ids.is_empty()
                || cfg.passwords.is_empty()
                || (cfg.passwords.len() != 1 && cfg.passwords.len() != cfg.system_ids.len())
            {
                eprintln!("smpp-load: give --system-id, and one --password or one per system_id");
                return ExitCode::from(2);
            }
            let stop = tokio_util::sync::CancellationToken::new();
            let counters = smpp_load::idle::open(&cfg, stop.clone()).await;
            let write = |s: &smpp_load::idle::IdleStats| {
                let text = serde_json::to_string(s).unwrap_or_default();
                if let Some(p) = &ready_file {
                    let tmp = p.with_extension("tmp");
                    let _ = std::fs::write(&tmp, &text).and_then(|()| std::fs::rename(&tmp, p));
                }
                text
            };
            let ready = counters.snapshot(binds);
            eprintln!("smpp-load: idle: {}", write(&ready));
            let _ = smpp_load::terminated().await;
            stop.cancel();
            let end = counters.snapshot(binds);
            println!("{}", write(&end));
            if end.failed == 0 && end.bound == binds as u64 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Mode::Smpp34Sink {
            listen,
            report_file,
        } => {
            let c = smpp_load::smpp34_sink::start(listen).await;
            eprintln!("smpp-load: smpp34 sink listening on {listen}");
            let report = |c: &smpp_load::smpp34_sink::AckAll| {
                serde_json::json!({"mode": "smpp34-sink", "submits": c.submits.load(std::sync::atomic::Ordering::Relaxed), "binds": c.binds.load(std::sync::atomic::Ordering::Relaxed)}).to_string()
            };
            if let Some(p) = report_file.clone() {
                let c = c.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let _ = std::fs::write(&p, report(&c));
                    }
                });
            }
            let _ = smpp_load::terminated().await;
            let r = report(&c);
            if let Some(p) = &report_file {
                let _ = std::fs::write(p, &r);
            }
            println!("{r}");
            ExitCode::SUCCESS
        }
    }
}
