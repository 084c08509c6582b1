//! The embedded core through its router (`tower::ServiceExt::oneshot`), with a manual clock.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::*;
use core_bridge::api::*;
use embedded_core::{EmbeddedConfig, EmbeddedCore, MessageStatus, Origin};
use serde_json::{json, Value};
use smpp_codec::receipt::DeliveryReceipt;

const TAG_RECEIPTED_MESSAGE_ID: u16 = 0x001E;
const TAG_MESSAGE_STATE: u16 = 0x0427;

fn receipt_text(m: &OutboundMessage) -> DeliveryReceipt {
    let text = String::from_utf8(m.payload.0.clone()).expect("receipt payload is text");
    assert!(text.is_ascii(), "{text}");
    DeliveryReceipt::parse(&text).expect("receipt text parses")
}

// ----- hand-over -------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_id_twice_is_stored_once() {
    let h = Harness::new("dup");
    let a = mt(&id(1), "33612345678", 0, "hello");
    let first = h.hand_over(vec![a.clone()]).await;
    assert_eq!(
        first.accepted,
        vec![Accepted {
            id: id(1),
            status: AcceptStatus::Stored
        }]
    );

    // Again, in a batch with a new one and the new one twice.
    let b = mt(&id(2), "33612345678", 0, "other");
    let second = h.hand_over(vec![a.clone(), b.clone(), b]).await;
    let statuses: Vec<AcceptStatus> = second.accepted.iter().map(|x| x.status).collect();
    assert_eq!(
        statuses,
        vec![
            AcceptStatus::Duplicate,
            AcceptStatus::Stored,
            AcceptStatus::Duplicate
        ]
    );
    assert_eq!(second.accepted[0].id, id(1));

    let (st, list) = h.get("/api/v1/messages?direction=mt").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["messages"].as_array().unwrap().len(), 2, "{list}");
    let claimed = h.claim_dest("carrier_b", 10, None).await;
    let ids: Vec<&str> = claimed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec![id(1).as_str(), id(2).as_str()]);
    // The record still has the first text.
    assert_eq!(
        h.record(&id(1)).await.message.text.as_deref(),
        Some("hello")
    );
}

#[tokio::test]
async fn a_single_message_object_is_accepted_too() {
    let h = Harness::new("single");
    let (st, v) = h
        .post(
            PATH_MESSAGES,
            serde_json::to_value(mt(&id(1), "3312", 0, "x")).unwrap(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"accepted": [{"id": id(1), "status": "stored"}]}));
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Queued);
}

#[tokio::test]
async fn mt_is_routed_by_the_longest_prefix() {
    let h = Harness::new("routing");
    h.hand_over(vec![
        mt(&id(1), "33612345678", 0, "to b"),
        mt(&id(2), "3312345678", 0, "to a"),
        mt(&id(3), "+33612345678", 0, "to b with plus"),
        mt(&id(4), "4412345678", 0, "nowhere"),
    ])
    .await;
    assert_eq!(
        h.record(&id(1)).await.dest_smsc.as_deref(),
        Some("carrier_b")
    );
    assert_eq!(
        h.record(&id(2)).await.dest_smsc.as_deref(),
        Some("carrier_a")
    );
    assert_eq!(
        h.record(&id(3)).await.dest_smsc.as_deref(),
        Some("carrier_b")
    );
    let lost = h.record(&id(4)).await;
    assert_eq!(lost.dest_smsc, None);
    assert_eq!(lost.status, MessageStatus::Failed);
    assert_eq!(lost.reason.as_deref(), Some("no route"));
    assert_eq!(lost.history.last().unwrap().detail, "no route");

    let a: Vec<String> = h
        .claim_dest("carrier_a", 10, None)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(a, vec![id(2)]);
    let b: Vec<String> = h
        .claim_dest("carrier_b", 10, None)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(b, vec![id(1), id(3)]);

    // Routes replaced at run time apply to new messages.
    h.core.set_routes(
        vec![embedded_core::Route {
            prefix: "44".into(),
            dest_smsc: "carrier_c".into(),
        }],
        vec![],
    );
    h.hand_over(vec![mt(&id(5), "4412345678", 0, "now routed")])
        .await;
    assert_eq!(
        h.record(&id(5)).await.dest_smsc.as_deref(),
        Some("carrier_c")
    );
}

#[tokio::test]
async fn mo_goes_to_the_server_bind_byte_exact() {
    let h = Harness::new("mo");
    // UCS-2 with a UDH and bytes that are not text at all.
    let payload = [
        0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00, 0x00, 0xff,
    ];
    let mut m = mo(&id(1), "7001234", 0x08, &payload);
    m.esm_class = 0x40;
    m.tlvs = vec![TlvJson {
        tag: 0x0204,
        value: Base64Bytes(vec![0x12, 0x34]),
    }];
    let other = mo(&id(2), "7051234", 0, b"plain");
    let lost = mo(&id(3), "5551234", 0, b"nowhere");
    h.hand_over(vec![m.clone(), other, lost]).await;

    let got = h.claim_source("partner_mo", 10).await;
    assert_eq!(got.len(), 1);
    let out = &got[0];
    assert_eq!(out.id, id(1));
    assert_eq!(out.kind, Direction::Mo);
    assert_eq!(out.payload.0, payload.to_vec());
    assert_eq!(out.data_coding, 0x08);
    assert_eq!(out.esm_class, 0x40);
    assert_eq!(out.source, m.source);
    assert_eq!(out.destination, m.destination);
    assert_eq!(out.tlvs, m.tlvs);
    assert_eq!(h.claim_source("partner_other", 10).await[0].id, id(2));
    let rec = h.record(&id(3)).await;
    assert_eq!(rec.status, MessageStatus::Failed);
    assert_eq!(rec.reason.as_deref(), Some("no MO route"));

    // The partner acknowledges: done, and never claimed again.
    h.events(vec![event(
        &id(1),
        "partner_mo",
        EventKind::DeliveredToEsme,
    )])
    .await;
    assert_eq!(
        h.record(&id(1)).await.status,
        MessageStatus::DeliveredToEsme
    );
    h.advance(3_600_000);
    assert!(h.claim_source("partner_mo", 10).await.is_empty());
}

// ----- claims --------------------------------------------------------------------------------

#[tokio::test]
async fn claim_returns_the_oldest_first_with_a_lease() {
    let h = Harness::new("oldest");
    // Handed over newest first.
    h.hand_over(vec![
        mt(&id(3), "3312", 0, "c"),
        mt(&id(1), "3312", 0, "a"),
        mt(&id(2), "3312", 0, "b"),
    ])
    .await;
    let first = h.claim_dest("carrier_a", 2, None).await;
    assert_eq!(
        first.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![id(1), id(2)]
    );
    assert!(
        first
            .iter()
            .all(|m| m.lease_until_ms == T0 + 60_000 && m.attempts == 0),
        "{first:?}"
    );
    assert_eq!(first[0].kind, Direction::Mt);
    assert_eq!(first[0].text.as_deref(), Some("a"));
    let second = h.claim_dest("carrier_a", 2, None).await;
    assert_eq!(
        second.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![id(3)]
    );
    assert!(h.claim_dest("carrier_a", 2, None).await.is_empty());
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Leased);
    assert_eq!(rec.attempts, 1);
    assert_eq!(rec.leased_to.as_deref(), Some("host_gw"));

    let (_, stats) = h.get("/api/v1/stats").await;
    assert_eq!(stats["dest_smsc"]["carrier_a"]["leased"], 3, "{stats}");
    assert_eq!(stats["dest_smsc"]["carrier_a"]["queued"], 0, "{stats}");
    assert_eq!(stats["by_status"]["leased"], 3, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_return_the_same_message() {
    let h = Harness::new("concurrent");
    let batch: Vec<InboundMessage> = (1..=60).map(|n| mt(&id(n), "3312", 0, "x")).collect();
    h.hand_over(batch).await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let core = h.core.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"frontend": "f", "dest_smsc": "carrier_a", "limit": 7}).to_string();
            let (st, v) = call_raw(&core, Method::POST, PATH_CLAIM, Some(body)).await;
            assert_eq!(st, StatusCode::OK);
            serde_json::from_value::<ClaimResponse>(v).unwrap().messages
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for m in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(m.id.clone()), "{} claimed twice", m.id);
        }
    }
    assert_eq!(total, 60);
    assert_eq!(seen.len(), 60);
}

#[tokio::test]
async fn an_expired_lease_returns_the_message_to_the_queue() {
    let h = Harness::new("lease");
    h.hand_over(vec![mt(&id(1), "3312", 0, "x")]).await;
    let got = h.claim_dest("carrier_a", 1, Some(1)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].lease_until_ms, T0 + 1_000);
    assert!(h.claim_dest("carrier_a", 1, Some(1)).await.is_empty());
    h.advance(999);
    assert!(h.claim_dest("carrier_a", 1, Some(1)).await.is_empty());
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Leased);
    h.advance(1);
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Queued);
    let again = h.claim_dest("carrier_a", 1, None).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, id(1));
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].lease_until_ms, T0 + 1_000 + 60_000);
}

// ----- receipts ------------------------------------------------------------------------------

#[tokio::test]
async fn a_carrier_receipt_is_correlated_and_queued_for_the_partner() {
    let h = Harness::new("receipt");
    let text = "Hello from the embedded core test";
    h.hand_over(vec![mt(&id(1), "33612345678", 1, text)]).await;
    assert_eq!(h.claim_dest("carrier_b", 1, None).await.len(), 1);
    h.events(vec![submitted(&id(1), "carrier_b", "abc123")])
        .await;
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Submitted);
    assert_eq!(rec.smsc_message_id.as_deref(), Some("abc123"));
    // Nothing for the partner yet.
    assert!(h.claim_source("partner_1", 10).await.is_empty());

    h.hand_over(vec![receipt(
        &id(100),
        "carrier_b",
        "abc123",
        Some(2),
        "DELIVRD",
    )])
    .await;
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Delivered);
    assert_eq!(
        rec.carrier_receipt.as_ref().unwrap().stat.as_deref(),
        Some("DELIVRD")
    );
    let carrier_receipt = h.record(&id(100)).await;
    assert_eq!(carrier_receipt.status, MessageStatus::Correlated);
    assert_eq!(carrier_receipt.original_id, Some(id(1)));

    let got = h.claim_source("partner_1", 10).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(Some(r.id.clone()), rec.partner_receipt_id);
    assert_eq!(r.kind, Direction::Receipt);
    assert_eq!(r.esm_class, 0x04);
    assert_eq!(r.data_coding, 0);
    assert_eq!(
        r.source,
        Address {
            addr: "33612345678".into(),
            ton: 1,
            npi: 1
        }
    );
    assert_eq!(
        r.destination,
        Address {
            addr: "ACME".into(),
            ton: 5,
            npi: 0
        }
    );
    let dr = receipt_text(r);
    assert_eq!(dr.id, id(1));
    assert_eq!(dr.sub, "001");
    assert_eq!(dr.dlvrd, "001");
    assert_eq!(dr.submit_date, "2402292359");
    assert_eq!(dr.done_date, "2403010001");
    assert_eq!(dr.stat, "DELIVRD");
    assert_eq!(dr.err, "000");
    assert_eq!(dr.text, "Hello from the embed");
    let mut receipted = id(1).into_bytes();
    receipted.push(0);
    assert_eq!(tlv(r, TAG_RECEIPTED_MESSAGE_ID), Some(receipted));
    assert_eq!(tlv(r, TAG_MESSAGE_STATE), Some(vec![2]));

    // The partner's receipt is a record too, and done once acknowledged.
    let made = h.record(&r.id).await;
    assert_eq!(made.origin, Origin::Core);
    assert_eq!(made.source_smsc.as_deref(), Some("partner_1"));
    assert_eq!(made.original_id, Some(id(1)));
    h.events(vec![event(&r.id, "partner_1", EventKind::DeliveredToEsme)])
        .await;
    assert_eq!(h.record(&r.id).await.status, MessageStatus::DeliveredToEsme);

    // A repeated carrier receipt changes nothing and queues nothing.
    h.hand_over(vec![receipt(
        &id(101),
        "carrier_b",
        "abc123",
        Some(2),
        "DELIVRD",
    )])
    .await;
    assert_eq!(
        h.record(&id(1)).await.partner_receipt_id,
        rec.partner_receipt_id
    );
    h.advance(3_600_000);
    assert!(h.claim_source("partner_1", 10).await.is_empty());
}

#[tokio::test]
async fn receipt_ids_match_across_hex_and_decimal_on_the_same_bind_only() {
    let h = Harness::new("bases");
    h.hand_over(vec![
        mt(&id(1), "33612345678", 1, "hex then dec"),
        mt(&id(2), "33612345678", 1, "dec then hex"),
        mt(&id(3), "33612345678", 1, "zeros"),
        mt(&id(4), "33612345678", 1, "other bind"),
    ])
    .await;
    assert_eq!(h.claim_dest("carrier_b", 10, None).await.len(), 4);
    h.events(vec![
        submitted(&id(1), "carrier_b", "1F4A"),  // 8010
        submitted(&id(2), "carrier_b", "64206"), // 0xFACE
        submitted(&id(3), "carrier_b", "000777"),
        submitted(&id(4), "carrier_b", "C0FFEE"),
    ])
    .await;
    h.hand_over(vec![
        receipt(&id(100), "carrier_b", "8010", None, "DELIVRD"),
        receipt(&id(101), "carrier_b", "face", None, "UNDELIV"),
        receipt(&id(102), "carrier_b", "777", Some(2), "DELIVRD"),
        // Same id, wrong bind: carrier ids are only unique per carrier.
        receipt(&id(103), "carrier_a", "C0FFEE", Some(2), "DELIVRD"),
    ])
    .await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Delivered);
    assert_eq!(h.record(&id(2)).await.status, MessageStatus::Undeliverable);
    assert_eq!(h.record(&id(3)).await.status, MessageStatus::Delivered);
    assert_eq!(h.record(&id(4)).await.status, MessageStatus::Submitted);
    let orphan = h.record(&id(103)).await;
    assert_eq!(orphan.status, MessageStatus::OrphanReceipt);
    assert_eq!(orphan.original_id, None);
    let (_, list) = h.get("/api/v1/messages?status=orphan_receipt").await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 1, "{list}");

    let got = h.claim_source("partner_1", 10).await;
    let mut by_mt: Vec<(String, String)> = got
        .iter()
        .map(|m| (receipt_text(m).id, receipt_text(m).stat))
        .collect();
    by_mt.sort();
    assert_eq!(
        by_mt,
        vec![
            (id(1), "DELIVRD".into()),
            (id(2), "UNDELIV".into()),
            (id(3), "DELIVRD".into())
        ]
    );
    let undeliv = got.iter().find(|m| receipt_text(m).id == id(2)).unwrap();
    assert_eq!(tlv(undeliv, TAG_MESSAGE_STATE), Some(vec![5]));
    assert_eq!(receipt_text(undeliv).dlvrd, "000");
}

#[tokio::test]
async fn no_partner_receipt_unless_registered_delivery_asks() {
    let h = Harness::new("rd");
    h.hand_over(vec![
        mt(&id(1), "33612345678", 0, "none"),
        mt(&id(2), "33612345678", 2, "failure only, delivered"),
        mt(&id(3), "33612345678", 2, "failure only, failed"),
    ])
    .await;
    h.claim_dest("carrier_b", 10, None).await;
    h.events(vec![
        submitted(&id(1), "carrier_b", "s1"),
        submitted(&id(2), "carrier_b", "s2"),
        submitted(&id(3), "carrier_b", "s3"),
    ])
    .await;
    h.hand_over(vec![
        receipt(&id(100), "carrier_b", "s1", Some(2), "DELIVRD"),
        receipt(&id(101), "carrier_b", "s2", Some(2), "DELIVRD"),
        receipt(&id(102), "carrier_b", "s3", Some(3), "EXPIRED"),
    ])
    .await;
    let one = h.record(&id(1)).await;
    assert_eq!(one.status, MessageStatus::Delivered);
    assert_eq!(one.partner_receipt_id, None);
    assert_eq!(h.record(&id(2)).await.partner_receipt_id, None);
    assert_eq!(h.record(&id(3)).await.status, MessageStatus::Expired);
    let got = h.claim_source("partner_1", 10).await;
    assert_eq!(got.len(), 1);
    assert_eq!(receipt_text(&got[0]).id, id(3));
    assert_eq!(receipt_text(&got[0]).stat, "EXPIRED");
}

#[tokio::test]
async fn intermediate_receipts_are_recorded_but_not_final() {
    let h = Harness::new("enroute");
    h.hand_over(vec![mt(&id(1), "33612345678", 1, "x")]).await;
    h.claim_dest("carrier_b", 1, None).await;
    h.events(vec![submitted(&id(1), "carrier_b", "77")]).await;
    h.hand_over(vec![
        receipt(&id(100), "carrier_b", "77", None, "ENROUTE"),
        receipt(&id(101), "carrier_b", "77", Some(6), "ACCEPTD"),
    ])
    .await;
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Submitted);
    assert_eq!(
        rec.carrier_receipt.as_ref().unwrap().stat.as_deref(),
        Some("ACCEPTD")
    );
    assert!(h.claim_source("partner_1", 10).await.is_empty());
    h.hand_over(vec![receipt(&id(102), "carrier_b", "77", None, "DELIVRD")])
        .await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Delivered);
    assert_eq!(h.claim_source("partner_1", 10).await.len(), 1);
}

#[tokio::test]
async fn a_receipt_before_its_submitted_event_is_matched_later() {
    let h = Harness::new("early");
    h.hand_over(vec![mt(&id(1), "33612345678", 1, "race")])
        .await;
    h.claim_dest("carrier_b", 1, None).await;
    h.hand_over(vec![receipt(
        &id(100),
        "carrier_b",
        "ABC",
        Some(2),
        "DELIVRD",
    )])
    .await;
    assert_eq!(
        h.record(&id(100)).await.status,
        MessageStatus::OrphanReceipt
    );
    h.events(vec![submitted(&id(1), "carrier_b", "abc")]).await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Delivered);
    let matched = h.record(&id(100)).await;
    assert_eq!(matched.status, MessageStatus::Correlated);
    assert_eq!(matched.original_id, Some(id(1)));
    assert_eq!(h.claim_source("partner_1", 10).await.len(), 1);
}

#[tokio::test]
async fn a_receipt_event_is_applied_to_its_message() {
    let h = Harness::new("receipt-event");
    h.hand_over(vec![mt(&id(1), "33612345678", 1, "x")]).await;
    h.claim_dest("carrier_b", 1, None).await;
    h.events(vec![submitted(&id(1), "carrier_b", "z9")]).await;
    let info = ReceiptInfo {
        receipted_message_id: "z9".into(),
        message_state: Some(8),
        ..ReceiptInfo::default()
    };
    let (st, v) = h
        .post(
            &format!("/api/v1/messages/{}/events", id(1)),
            serde_json::to_value(event(&id(1), "carrier_b", EventKind::Receipt(info))).unwrap(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Rejected);
    let got = h.claim_source("partner_1", 10).await;
    assert_eq!(receipt_text(&got[0]).stat, "REJECTD");
    assert_eq!(tlv(&got[0], TAG_MESSAGE_STATE), Some(vec![8]));
}

// ----- events and retries ----------------------------------------------------------------------

#[tokio::test]
async fn retryable_failures_back_off_then_fail_with_an_undeliv_receipt() {
    let cfg = EmbeddedConfig {
        max_attempts: 3,
        retry_base: Duration::from_secs(5),
        ..config()
    };
    let h = Harness::with_config("retry", cfg);
    h.hand_over(vec![mt(&id(1), "33612345678", 1, "retry me")])
        .await;

    assert_eq!(h.claim_dest("carrier_b", 1, None).await.len(), 1);
    h.events(vec![failed(&id(1), "carrier_b", 0x58, true)])
        .await; // ESME_RTHROTTLED
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Queued);
    assert_eq!(rec.not_before_ms, T0 + 5_000);
    assert!(h.claim_dest("carrier_b", 1, None).await.is_empty());
    h.advance(4_999);
    assert!(h.claim_dest("carrier_b", 1, None).await.is_empty());
    h.advance(1);
    let second = h.claim_dest("carrier_b", 1, None).await;
    assert_eq!(second[0].attempts, 1);

    h.events(vec![failed(&id(1), "carrier_b", 0x58, true)])
        .await;
    h.advance(9_999);
    assert!(h.claim_dest("carrier_b", 1, None).await.is_empty());
    h.advance(1);
    assert_eq!(h.claim_dest("carrier_b", 1, None).await[0].attempts, 2);
    // No partner receipt while it is being retried.
    assert!(h.claim_source("partner_1", 10).await.is_empty());

    h.events(vec![failed(&id(1), "carrier_b", 0x58, true)])
        .await;
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Failed);
    assert_eq!(rec.attempts, 3);
    h.advance(3_600_000);
    assert!(h.claim_dest("carrier_b", 1, None).await.is_empty());
    let got = h.claim_source("partner_1", 10).await;
    assert_eq!(got.len(), 1);
    let dr = receipt_text(&got[0]);
    assert_eq!(
        (
            dr.id.as_str(),
            dr.stat.as_str(),
            dr.err.as_str(),
            dr.dlvrd.as_str()
        ),
        (id(1).as_str(), "UNDELIV", "088", "000")
    );
    assert_eq!(tlv(&got[0], TAG_MESSAGE_STATE), Some(vec![5]));
}

#[tokio::test]
async fn the_retry_delay_doubles_and_is_capped_at_five_minutes() {
    let cfg = EmbeddedConfig {
        max_attempts: 20,
        retry_base: Duration::from_secs(100),
        ..config()
    };
    let h = Harness::with_config("cap", cfg);
    h.hand_over(vec![mt(&id(1), "3312", 0, "x")]).await;
    let mut delays = Vec::new();
    for _ in 0..4 {
        assert_eq!(h.claim_dest("carrier_a", 1, None).await.len(), 1);
        h.events(vec![failed(&id(1), "carrier_a", 0x14, true)])
            .await;
        let rec = h.record(&id(1)).await;
        let now = T0 + delays.iter().sum::<u64>();
        delays.push(rec.not_before_ms - now);
        h.advance(*delays.last().unwrap());
    }
    assert_eq!(delays, vec![100_000, 200_000, 300_000, 300_000]);
}

#[tokio::test]
async fn permanent_failures_and_unroutable_mts_give_receipts_at_once() {
    let h = Harness::new("permanent");
    h.hand_over(vec![
        mt(&id(1), "33612345678", 1, "rejected"),
        mt(&id(2), "999", 1, "no route"),
    ])
    .await;
    h.claim_dest("carrier_b", 1, None).await;
    h.events(vec![failed(&id(1), "carrier_b", 0x0B, false)])
        .await; // ESME_RINVDSTADR
    let rec = h.record(&id(1)).await;
    assert_eq!(rec.status, MessageStatus::Failed);
    assert!(
        rec.reason.as_deref().unwrap().contains("permanent"),
        "{:?}",
        rec.reason
    );
    let got = h.claim_source("partner_1", 10).await;
    let mut seen: Vec<(String, String, String)> = got
        .iter()
        .map(|m| {
            let dr = receipt_text(m);
            (dr.id, dr.stat, dr.err)
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (id(1), "REJECTD".into(), "011".into()),
            (id(2), "UNDELIV".into(), "000".into())
        ]
    );
    // A late event on a final message changes nothing.
    h.events(vec![submitted(&id(1), "carrier_b", "late")]).await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Failed);
}

#[tokio::test]
async fn a_repeated_submitted_event_is_harmless() {
    let h = Harness::new("resubmitted");
    h.hand_over(vec![mt(&id(1), "33612345678", 1, "x")]).await;
    h.claim_dest("carrier_b", 1, None).await;
    h.events(vec![submitted(&id(1), "carrier_b", "42")]).await;
    let once = h.record(&id(1)).await;
    h.events(vec![
        submitted(&id(1), "carrier_b", "42"),
        submitted(&id(1), "carrier_b", "42"),
    ])
    .await;
    let thrice = h.record(&id(1)).await;
    assert_eq!(thrice.status, MessageStatus::Submitted);
    assert_eq!(thrice.history.len(), once.history.len());
    // The lease was released: it is not claimed again after the lease would have ended.
    h.advance(120_000);
    assert!(h.claim_dest("carrier_b", 1, None).await.is_empty());
    h.hand_over(vec![receipt(
        &id(100),
        "carrier_b",
        "42",
        Some(2),
        "DELIVRD",
    )])
    .await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Delivered);
}

// ----- durability ----------------------------------------------------------------------------

#[tokio::test]
async fn a_restart_loses_nothing() {
    let dir = TempDir::new("restart");
    let clock = std::sync::Arc::new(embedded_core::ManualClock::new(T0));
    {
        let core = EmbeddedCore::open_with_clock(dir.path(), config(), clock.clone()).unwrap();
        let h = Harness {
            core,
            clock: clock.clone(),
            dir: TempDir::new("unused"),
        };
        h.hand_over(vec![
            mt(&id(1), "33612345678", 1, "one"),
            mt(&id(2), "33612345678", 1, "two"),
        ])
        .await;
        assert_eq!(h.claim_dest("carrier_b", 1, None).await[0].id, id(1));
        h.events(vec![submitted(&id(1), "carrier_b", "c-1")]).await;
        h.hand_over(vec![mo(&id(3), "7001", 0, b"mo")]).await;
    }
    let core = EmbeddedCore::open_with_clock(dir.path(), config(), clock.clone()).unwrap();
    let h = Harness {
        core,
        clock,
        dir: TempDir::new("unused"),
    };
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Submitted);
    assert_eq!(h.record(&id(2)).await.status, MessageStatus::Queued);
    // The duplicate check survives too.
    let again = h.hand_over(vec![mt(&id(2), "33612345678", 1, "two")]).await;
    assert_eq!(again.accepted[0].status, AcceptStatus::Duplicate);
    let claimed = h.claim_dest("carrier_b", 10, None).await;
    assert_eq!(
        claimed.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        vec![id(2)]
    );
    assert_eq!(h.claim_source("partner_mo", 10).await[0].id, id(3));
    // And so does the carrier id index.
    h.hand_over(vec![receipt(
        &id(100),
        "carrier_b",
        "c-1",
        Some(2),
        "DELIVRD",
    )])
    .await;
    assert_eq!(h.record(&id(1)).await.status, MessageStatus::Delivered);
    h.core.flush().await.unwrap();
}

#[tokio::test]
async fn opening_a_file_as_the_store_names_the_path() {
    let dir = TempDir::new("bad-path");
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = EmbeddedCore::open(&file, EmbeddedConfig::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not-a-dir"), "{text}");
    assert!(matches!(err, embedded_core::CoreStoreError::Open { .. }));
}

// ----- errors --------------------------------------------------------------------------------

async fn field_of(h: &Harness, path: &str, body: &str) -> (StatusCode, Value) {
    let (st, v) = call_raw(&h.core, Method::POST, path, Some(body.to_string())).await;
    (st, v.get("field").cloned().unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let h = Harness::new("errors");
    let bad = StatusCode::BAD_REQUEST;
    assert_eq!(
        field_of(&h, PATH_CLAIM, r#"{"frontend":"f","limit":1}"#).await,
        (bad, json!("dest_smsc"))
    );
    assert_eq!(
        field_of(
            &h,
            PATH_CLAIM,
            r#"{"frontend":"f","dest_smsc":"a","source_smsc":"b","limit":1}"#
        )
        .await,
        (bad, json!("source_smsc"))
    );
    assert_eq!(
        field_of(
            &h,
            PATH_CLAIM,
            r#"{"frontend":"f","dest_smsc":"a","limit":0}"#
        )
        .await,
        (bad, json!("limit"))
    );
    assert_eq!(
        field_of(
            &h,
            PATH_CLAIM,
            r#"{"frontend":"f","dest_smsc":"a","limit":1001}"#
        )
        .await,
        (bad, json!("limit"))
    );
    assert_eq!(
        field_of(
            &h,
            PATH_CLAIM,
            r#"{"frontend":"f","dest_smsc":"a","limit":-1}"#
        )
        .await,
        (bad, json!("limit"))
    );
    assert_eq!(
        field_of(&h, PATH_CLAIM, r#"{"dest_smsc":"a","limit":1}"#).await,
        (bad, json!("frontend"))
    );
    assert_eq!(
        field_of(
            &h,
            PATH_CLAIM,
            r#"{"frontend":"f","dest_smsc":"a","limit":1,"lease_seconds":0}"#
        )
        .await,
        (bad, json!("lease_seconds"))
    );

    let mut m = serde_json::to_value(mt(&id(1), "3312", 0, "x")).unwrap();
    m.as_object_mut().unwrap().remove("destination");
    let body = json!({"messages": [serde_json::to_value(mt(&id(2), "3312", 0, "ok")).unwrap(), m]})
        .to_string();
    assert_eq!(
        field_of(&h, PATH_MESSAGES, &body).await,
        (bad, json!("messages[1].destination"))
    );
    let mut m = serde_json::to_value(mt(&id(1), "3312", 0, "x")).unwrap();
    m["direction"] = json!("sideways");
    assert_eq!(
        field_of(&h, PATH_MESSAGES, &m.to_string()).await,
        (bad, json!("direction"))
    );
    m["direction"] = json!("mt");
    m["esm_class"] = json!(300);
    assert_eq!(
        field_of(&h, PATH_MESSAGES, &m.to_string()).await,
        (bad, json!("esm_class"))
    );
    m["esm_class"] = json!(0);
    m["payload"] = json!("not base64!");
    assert_eq!(
        field_of(&h, PATH_MESSAGES, &m.to_string()).await,
        (bad, json!("payload"))
    );
    m["payload"] = json!("");
    m["id"] = json!("");
    assert_eq!(
        field_of(&h, PATH_MESSAGES, &m.to_string()).await,
        (bad, json!("id"))
    );
    assert_eq!(
        field_of(&h, PATH_MESSAGES, r#"{"messages": 5}"#).await,
        (bad, json!("messages"))
    );
    // Not JSON at all: 400 with an error and no field.
    let (st, v) = call_raw(
        &h.core,
        Method::POST,
        PATH_MESSAGES,
        Some("{not json".into()),
    )
    .await;
    assert_eq!(st, bad);
    assert!(v["error"].as_str().unwrap().contains("JSON"), "{v}");
    assert!(v.get("field").is_none(), "{v}");
    // Nothing was stored by any of these.
    let (_, list) = h.get("/api/v1/messages").await;
    assert_eq!(list["messages"], json!([]));

    let ev = json!({"events": [{"message_id": "x", "frontend": "f", "bind_name": "b", "type": "exploded", "at_ms": 1}]});
    assert_eq!(
        field_of(&h, PATH_EVENTS, &ev.to_string()).await,
        (bad, json!("events[0].type"))
    );
    let ev = json!({"events": [{"message_id": "x", "frontend": "f", "bind_name": "b", "type": "submitted", "at_ms": 1}]});
    assert_eq!(
        field_of(&h, PATH_EVENTS, &ev.to_string()).await,
        (bad, json!("events[0].smsc_message_id"))
    );
}

#[tokio::test]
async fn unknown_ids_answer_404_and_known_events_still_apply() {
    let h = Harness::new("unknown");
    h.hand_over(vec![mo(&id(1), "7001", 0, b"x")]).await;
    h.claim_source("partner_mo", 1).await;
    let (st, v) = h.get("/api/v1/messages/nope").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(v["error"].as_str().unwrap().contains("nope"), "{v}");

    let batch = EventBatch {
        events: vec![
            event("nope", "partner_mo", EventKind::DeliveredToEsme),
            event(&id(1), "partner_mo", EventKind::DeliveredToEsme),
        ],
    };
    let (st, v) = h
        .post(PATH_EVENTS, serde_json::to_value(batch).unwrap())
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["field"], "events[0].message_id");
    assert_eq!(
        h.record(&id(1)).await.status,
        MessageStatus::DeliveredToEsme
    );

    let one = serde_json::to_value(event("nope", "b", EventKind::DeliveredToEsme)).unwrap();
    let (st, _) = h.post("/api/v1/messages/nope/events", one.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = h
        .post(&format!("/api/v1/messages/{}/events", id(1)), one)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "message_id");
    let (st, v) = h.get("/api/v1/no/such/path").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(v["error"].is_string());
}

// ----- operator calls ------------------------------------------------------------------------

#[tokio::test]
async fn health_list_filters_and_stats() {
    let h = Harness::new("ops");
    let (st, v) = h.get(PATH_HEALTH).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"status": "ok"})));
    h.hand_over(vec![
        mt(&id(1), "3312", 0, "a"),
        mt(&id(2), "33612", 0, "b"),
        mt(&id(3), "999", 0, "lost"),
        mo(&id(4), "7001", 0, b"mo"),
    ])
    .await;
    let ids_of = |v: &Value| -> Vec<String> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, v) = h.get("/api/v1/messages").await;
    assert_eq!(ids_of(&v), vec![id(4), id(3), id(2), id(1)]);
    let (_, v) = h.get("/api/v1/messages?direction=mt&limit=2").await;
    assert_eq!(ids_of(&v), vec![id(3), id(2)]);
    let (_, v) = h.get("/api/v1/messages?direction=mt&status=failed").await;
    assert_eq!(ids_of(&v), vec![id(3)]);
    let (_, v) = h.get("/api/v1/messages?bind_name=carrier_a").await;
    assert_eq!(ids_of(&v), vec![id(4)]);
    let (_, v) = h.get("/api/v1/messages?dest_smsc=carrier_b").await;
    assert_eq!(ids_of(&v), vec![id(2)]);
    let (st, v) = h.get("/api/v1/messages?status=bogus").await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("status"))
    );
    let (st, v) = h.get("/api/v1/messages?limit=0").await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("limit"))
    );

    // The record carries the inbound fields, the routing and a history.
    let (_, rec) = h.get(&format!("/api/v1/messages/{}", id(2))).await;
    assert_eq!(rec["direction"], "mt");
    assert_eq!(rec["destination"]["addr"], "33612");
    assert_eq!(rec["status"], "queued");
    assert_eq!(rec["dest_smsc"], "carrier_b");
    assert_eq!(rec["attempts"], 0);
    assert_eq!(rec["history"][0]["status"], "queued");
    assert_eq!(rec["history"][0]["at_ms"], T0);
    assert_eq!(rec["history"][0]["detail"], "routed to carrier_b");

    h.claim_dest("carrier_a", 1, None).await;
    let (st, stats) = h.get("/api/v1/stats").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(stats["messages"], 4);
    assert_eq!(
        stats["by_status"],
        json!({"queued": 2, "leased": 1, "failed": 1})
    );
    assert_eq!(
        stats["dest_smsc"]["carrier_a"],
        json!({"queued": 0, "delayed": 0, "leased": 1})
    );
    assert_eq!(
        stats["dest_smsc"]["carrier_b"],
        json!({"queued": 1, "delayed": 0, "leased": 0})
    );
    assert_eq!(
        stats["source_smsc"]["partner_mo"],
        json!({"queued": 1, "delayed": 0, "leased": 0})
    );
}

#[tokio::test]
async fn frontends_expire_90_seconds_after_their_last_heartbeat() {
    let h = Harness::new("frontends");
    let reg = |name: &str| {
        serde_json::to_value(FrontendRegistration {
            frontend: format!("host_{name}"),
            bind_name: name.into(),
            bind_mode: BindMode::Client,
            smsc_name: "smppgw".into(),
        })
        .unwrap()
    };
    assert_eq!(
        h.post(PATH_REGISTER, reg("a")).await,
        (StatusCode::OK, json!({"ok": true}))
    );
    h.advance(60_000);
    h.post(PATH_REGISTER, reg("b")).await;
    let names = |v: &Value| -> Vec<String> {
        v["frontends"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["frontend"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, v) = h.get("/api/v1/frontends").await;
    assert_eq!(names(&v), vec!["host_a", "host_b"]);
    h.advance(30_000); // a: 90 s since its registration
    let (_, v) = h.get("/api/v1/frontends").await;
    assert_eq!(names(&v), vec!["host_b"]);
    h.post(PATH_REGISTER, reg("b")).await; // heartbeat
    h.advance(89_999);
    let (_, v) = h.get("/api/v1/frontends").await;
    assert_eq!(names(&v), vec!["host_b"]);
    assert_eq!(v["frontends"][0]["expires_at_ms"], T0 + 90_000 + 90_000);
    let (st, v) = h.post(PATH_REGISTER, json!({"frontend": "x"})).await;
    assert_eq!(
        (st, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("bind_name"))
    );
}
