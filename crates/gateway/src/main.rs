//! `smppgw`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gateway::config::Config;

/// smppgw — an SMPP gateway between carriers' SMSCs, partners' ESMEs and a messaging core.
#[derive(Debug, Parser)]
#[command(name = "smppgw", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway with a configuration file (logs on stderr; SIGTERM stops it cleanly).
    Run {
        /// The TOML configuration file.
        #[arg(long, short, default_value = "config/demo.toml")]
        config: PathBuf,
    },
    /// Validate a configuration file without starting anything; lists every problem by key.
    CheckConfig {
        /// The TOML configuration file.
        file: PathBuf,
    },
    /// Decode a PDU to JSON, or encode JSON back to a PDU (for captures).
    Pdu {
        #[command(subcommand)]
        action: PduAction,
    },
    /// Simulators for demos, tests and staging.
    Sim {
        #[command(subcommand)]
        kind: SimKind,
    },
}

impl PduAction {
    fn into_args(self) -> gateway::pdu_json::CliArgs {
        match self {
            PduAction::Decode { hex, strict, default_alphabet } => gateway::pdu_json::CliArgs::Decode { hex, strict, default_alphabet },
            PduAction::Encode { file, default_alphabet } => gateway::pdu_json::CliArgs::Encode { file, default_alphabet },
        }
    }
}

#[derive(Debug, Subcommand)]
enum SimKind {
    /// An SMSC that accepts binds, acks submit_sm, sends delivery receipts and injects MO.
    Smsc(smsc_sim::SimConfig),
}

#[derive(Debug, Subcommand)]
enum PduAction {
    /// Print the PDU given in hex as JSON (fields named as in the SMPP spec, text decoded).
    Decode {
        /// The whole PDU in hex, command_length first (spaces, colons and `0x` are ignored);
        /// `-` or nothing reads it from stdin.
        hex: Option<String>,
        /// Apply every strict check (DecodeOptions::strict) instead of the lenient defaults.
        #[arg(long)]
        strict: bool,
        /// What data_coding 0 means: gsm7 (default), latin1 or ia5.
        #[arg(long, default_value = "gsm7")]
        default_alphabet: String,
    },
    /// Read a PDU as JSON (as `pdu decode` prints it) and print it in hex.
    Encode {
        /// The JSON file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
        /// What data_coding 0 means for texts given without hex: gsm7 (default), latin1 or ia5.
        #[arg(long, default_value = "gsm7")]
        default_alphabet: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Pdu { action } => gateway::pdu_json::run_cli(action.into_args()),
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(c) => {
                println!("{}: OK ({} client binds, {} server binds)", file.display(), c.binds.len(), c.server_binds.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}: {} problem(s)", e.file, e.problems.len());
                for p in &e.problems {
                    eprintln!("  {p}");
                }
                ExitCode::from(2)
            }
        },
        Command::Run { config } => {
            let cfg = match Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("smppgw: configuration refused, nothing started.");
                    for p in &e.problems {
                        eprintln!("  {}: {p}", e.file);
                    }
                    return ExitCode::from(2);
                }
            };
            gateway::telemetry::init_logging(&cfg.log.format, &cfg.log.level);
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("smppgw: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(gateway::app::run(cfg, config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("fatal: {e:#}");
                    eprintln!("smppgw: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Sim { kind: SimKind::Smsc(sc) } => {
            gateway::telemetry::init_logging("text", "info");
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("smppgw: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            rt.block_on(async move {
                match smsc_sim::start(sc).await {
                    Ok(h) => {
                        eprintln!("SMSC simulator on {} (control: {:?})", h.smpp_addr, h.control_addr);
                        let _ = tokio::signal::ctrl_c().await;
                        h.shutdown().await;
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("smppgw sim smsc: {e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
    }
}
