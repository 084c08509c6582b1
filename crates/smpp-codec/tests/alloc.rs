//! Zero-copy proof (issue 3, point 2): decoding a `submit_sm` or `deliver_sm` — mandatory fields,
//! `short_message` and TLVs — performs **no heap allocation** once the frame's buffer is shared,
//! and at most **one**, independent of the number of fields and TLVs, when it is not.
//!
//! Why "one" at most: a [`Bytes`] made from a `Vec<u8>` (or a `BytesMut` that was never split) is
//! in `bytes`' "promotable" form, which has no reference count yet. The first `slice()` of such a
//! buffer allocates the shared header (refcount + buffer pointer) once; every later slice only
//! increments that count. Frames cut by [`SmppCodec`] come from `BytesMut::split_to`, which
//! shares the buffer already, so the session's decode path allocates nothing at all; both cases
//! are measured below.
//!
//! The counting allocator is `stats_alloc`'s instrumented `System` allocator: the workspace
//! forbids `unsafe_code` (a `forbid` cannot be lifted by an inner `allow`), and a `GlobalAlloc`
//! impl needs `unsafe`, so the allocator comes from that dev-dependency. Its counters are global,
//! so this file holds a single `#[test]`: nothing else runs while it measures.

use std::alloc::System;

use bytes::{Bytes, BytesMut};
use smpp_codec::codec::SmppCodec;
use smpp_codec::pdu::{Frame, Pdu, SubmitSm};
use smpp_codec::tlv::{tags, Tlvs};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio_util::codec::Decoder;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn submit_sm(n_tlvs: usize) -> Bytes {
    let mut tlvs = Tlvs::new();
    for i in 0..n_tlvs {
        tlvs.push(0x1400 + i as u16, b"vendor value");
    }
    tlvs.push(tags::USER_MESSAGE_REFERENCE, &[0, 42]);
    tlvs.push(tags::SOURCE_PORT, &[0x0B, 0x84]);
    Frame::new(
        7,
        Pdu::SubmitSm(SubmitSm {
            service_type: "CMT".into(),
            source_addr_ton: 5,
            source_addr: "ACME".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            registered_delivery: 1,
            validity_period: "000001000000000R".into(),
            short_message: Bytes::from("x".repeat(160)),
            tlvs,
            ..SubmitSm::default()
        }),
    )
    .to_bytes()
}

fn deliver_sm_receipt() -> Bytes {
    let mut tlvs = Tlvs::new();
    tlvs.push(tags::RECEIPTED_MESSAGE_ID, b"0A1B2C3D\0");
    tlvs.push(tags::MESSAGE_STATE, &[2]);
    tlvs.push(tags::NETWORK_ERROR_CODE, &[3, 0, 0]);
    Frame::new(
        9,
        Pdu::DeliverSm(SubmitSm {
            source_addr: "447700900123".into(),
            destination_addr: "ACME".into(),
            esm_class: 0x04,
            short_message: Bytes::from_static(
                b"id:0A1B2C3D sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 \
                  stat:DELIVRD err:000 text:hello",
            ),
            tlvs,
            ..SubmitSm::default()
        }),
    )
    .to_bytes()
}

/// Heap allocations made while decoding `bytes` (the frame is dropped after the measurement).
fn allocations_of_decode(bytes: Bytes) -> usize {
    let region = Region::new(GLOBAL);
    let frame = Frame::decode(bytes).expect("valid PDU");
    let allocs = region.change().allocations;
    drop(frame);
    allocs
}

/// A fresh, not-yet-shared `Bytes` holding a copy of `b` (promotable `Vec` form).
fn fresh(b: &Bytes) -> Bytes {
    Bytes::from(b.to_vec())
}

#[test]
fn decode_of_submit_and_deliver_sm_does_not_allocate_per_field() {
    let submit_small = submit_sm(0);
    let submit_big = submit_sm(20);
    let receipt = deliver_sm_receipt();

    // Shared buffers (as cut by the codec, or already cloned): no allocation at all.
    for b in [&submit_small, &submit_big, &receipt] {
        let keep = b.clone();
        let shared = keep.clone();
        assert_eq!(allocations_of_decode(shared), 0, "shared buffer");
        drop(keep);
    }

    // Promotable buffers: exactly one allocation (the refcount header), whatever the field and
    // TLV counts.
    let small = allocations_of_decode(fresh(&submit_small));
    let big = allocations_of_decode(fresh(&submit_big));
    let dlr = allocations_of_decode(fresh(&receipt));
    assert_eq!(small, 1);
    assert_eq!(big, small, "20 more TLVs, no more allocations");
    assert_eq!(dlr, 1);

    // Decoded values are slices of the frame, not copies.
    let frame = Frame::decode(receipt.clone()).unwrap();
    let Pdu::DeliverSm(sm) = &frame.pdu else {
        panic!("deliver_sm expected")
    };
    let range = receipt.as_ptr_range();
    assert!(range.contains(&sm.short_message.as_ptr()));
    assert!(range.contains(&sm.source_addr.as_bytes().as_ptr()));
    assert!(range.contains(&sm.tlvs.as_bytes().as_ptr()));

    // The session's path: SmppCodec cuts frames from a BytesMut. After the buffer exists, each
    // decoded PDU costs no allocation.
    let mut codec = SmppCodec::default();
    let mut buf = BytesMut::with_capacity(4096);
    for _ in 0..3 {
        buf.extend_from_slice(&submit_big);
        buf.extend_from_slice(&receipt);
    }
    // The first split shares the BytesMut's buffer (one allocation of its refcount header).
    let first = codec.decode(&mut buf).unwrap().unwrap().unwrap();
    drop(first);
    let region = Region::new(GLOBAL);
    let mut frames = Vec::with_capacity(5);
    let reserved = region.change().allocations;
    for _ in 0..5 {
        frames.push(codec.decode(&mut buf).unwrap().unwrap().unwrap());
    }
    let allocs = region.change().allocations - reserved;
    assert_eq!(frames.len(), 5);
    assert_eq!(allocs, 0, "codec decode of 5 PDUs allocated {allocs} times");
    assert!(matches!(frames[4].pdu, Pdu::DeliverSm(_)));
}
