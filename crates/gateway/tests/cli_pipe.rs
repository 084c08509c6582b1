//! The CLI writing to a closed pipe (`smppgw … | head -1` once head has gone) ends quietly
//! with 141, the status of a process killed by SIGPIPE, instead of panicking in `println!`.

use std::process::{Command, Stdio};

fn run_with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // the reader is gone before the first write
    Command::new(env!("CARGO_BIN_EXE_smppgw"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_the_cli_quietly() {
    for args in [
        &["check-config", "config/demo.toml"][..],
        &["pdu", "decode", "00000010000000150000000000000001"][..],
    ] {
        let out = run_with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}

#[test]
fn an_open_pipe_gets_the_whole_output() {
    let out = Command::new(env!("CARGO_BIN_EXE_smppgw"))
        .args(["pdu", "decode", "00000010000000150000000000000001"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("enquire_link"));
}
