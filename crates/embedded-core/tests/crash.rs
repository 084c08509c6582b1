//! A hand-over answered 200 survives a crash of the process right after the answer: the test
//! runs itself as a child process that hands a message over and aborts, then reopens the store.

mod common;

use std::process::Command;

use axum::http::StatusCode;
use common::*;
use core_bridge::api::*;
use embedded_core::{EmbeddedCore, MessageStatus};

/// Set (to the store directory) only in the child process.
const CHILD_DIR: &str = "EMBEDDED_CORE_CRASH_CHILD_DIR";
const CHILD_TEST: &str = "child_hands_over_then_aborts";
const HANDED_OVER: &str = "child: hand-over answered";

/// The child's part; does nothing when run as an ordinary test.
#[tokio::test]
async fn child_hands_over_then_aborts() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let core = EmbeddedCore::open(std::path::Path::new(&dir), config()).unwrap();
    let batch = InboundBatch {
        messages: vec![mt(&id(1), "33612345678", 1, "survive")],
    };
    let body = serde_json::to_string(&batch).unwrap();
    let (st, v) = call_raw(&core, axum::http::Method::POST, PATH_MESSAGES, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    println!("{HANDED_OVER}");
    // No drop, no shutdown flush: the process dies here.
    std::process::abort();
}

#[tokio::test]
async fn an_answered_hand_over_survives_an_abort() {
    let dir = TempDir::new("crash");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", CHILD_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(HANDED_OVER),
        "child did not hand over: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the child was meant to abort");

    let core = EmbeddedCore::open(dir.path(), config()).unwrap();
    let rec = core
        .message(&id(1))
        .unwrap()
        .expect("the accepted message survived");
    assert_eq!(rec.status, MessageStatus::Queued);
    assert_eq!(rec.dest_smsc.as_deref(), Some("carrier_b"));
    let body =
        serde_json::json!({"frontend": "f", "dest_smsc": "carrier_b", "limit": 10}).to_string();
    let (st, v) = call_raw(&core, axum::http::Method::POST, PATH_CLAIM, Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["messages"][0]["id"], id(1));
}
