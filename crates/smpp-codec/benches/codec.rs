//! Codec benchmarks (issue 3 §12): decode and encode of `submit_sm` (160 GSM characters),
//! `deliver_sm` carrying a receipt, `data_sm` with TLVs, `bind_transceiver` and `enquire_link`,
//! for smppgw's codec, `rusmpp` (its public owned API, and `rusmpp-core`'s borrowed decoder) and
//! `smpp34`, in the same run on the same bytes.
//!
//! Every implementation gets its natural input and output. Decoders read the whole PDU from a
//! buffer the caller keeps — smppgw `Frame::decode_from(&Bytes)` (fields are shared slices of
//! it), rusmpp-core's borrowed decoder and smpp34 from `&[u8]` — and the decoded value is dropped
//! inside the timed part; rusmpp's owned decoder consumes a `BytesMut` (the part after
//! command_length, as its `CommandCodec` passes it), so its input copy is made, and its output
//! dropped, outside the timed part (`iter_batched`), which favours it. Encoders produce the PDU in
//! a new buffer: smppgw `Frame::to_bytes`, rusmpp `CommandCodec::encode` into a fresh `BytesMut`,
//! smpp34 `encode()` → `Vec` (its `encode(self)` consumes the value, so the clone it needs is
//! made outside the timed part). A third group, `encode_into_write_buffer`, measures what a
//! session pays per PDU: appended to the connection's reused write buffer (smppgw's
//! `Frame::encode` as `SmppCodec` does, rusmpp's `CommandCodec`; smpp34, which has no such API,
//! copies its `Vec`). `tests/diff_crates.rs` proves that all of them
//! decode these fixtures to the same values and re-encode the same bytes.
//!
//! Run: `cargo bench -p smpp-codec --bench codec`; the table in `docs/performance.md` ("Codec")
//! is made from its medians.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rusmpp::decode::DecodeWithLength as _;
use smpp_codec::pdu::{DecodeOptions, Frame};
use tokio_util::codec::Encoder as _;

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

type Smpp34Decode = fn(&[u8]) -> Smpp34Value;

/// The smpp34 value of each fixture (its API has one type per PDU).
#[derive(Clone)]
enum Smpp34Value {
    SubmitSm(smpp34::submit_sm),
    DeliverSm(smpp34::deliver_sm),
    DataSm(smpp34::data_sm),
    BindTransceiver(smpp34::bind_transceiver),
    EnquireLink(smpp34::enquire_link),
}

impl Smpp34Value {
    fn encode(self) -> Vec<u8> {
        match self {
            Smpp34Value::SubmitSm(v) => v.encode(),
            Smpp34Value::DeliverSm(v) => v.encode(),
            Smpp34Value::DataSm(v) => v.encode(),
            Smpp34Value::BindTransceiver(v) => v.encode(),
            Smpp34Value::EnquireLink(v) => v.encode(),
        }
    }
}

fn smpp34_decoder(name: &str) -> Smpp34Decode {
    use smpp34::CommandHeader as H;
    match name {
        "submit_sm_160_gsm" => {
            |b| Smpp34Value::SubmitSm(smpp34::submit_sm::decode(H::decode(b).unwrap(), b).unwrap())
        }
        "deliver_sm_receipt" => |b| {
            Smpp34Value::DeliverSm(smpp34::deliver_sm::decode(H::decode(b).unwrap(), b).unwrap())
        },
        "data_sm_tlvs" => {
            |b| Smpp34Value::DataSm(smpp34::data_sm::decode(H::decode(b).unwrap(), b).unwrap())
        }
        "bind_transceiver" => |b| {
            Smpp34Value::BindTransceiver(
                smpp34::bind_transceiver::decode(H::decode(b).unwrap(), b).unwrap(),
            )
        },
        "enquire_link" => |b| {
            Smpp34Value::EnquireLink(
                smpp34::enquire_link::decode(H::decode(b).unwrap(), b).unwrap(),
            )
        },
        other => panic!("no smpp34 decoder for {other}"),
    }
}

fn rusmpp_decode(body: &mut BytesMut, len: usize) -> rusmpp::Command {
    rusmpp::Command::decode(body, len)
        .expect("rusmpp decodes")
        .0
}

fn bench(c: &mut Criterion) {
    for (name, frame) in fixtures::all() {
        let bytes: Bytes = frame.to_bytes();
        let body_len = bytes.len() - 4;
        let smpp34_decode = smpp34_decoder(name);

        // Values for the encoders, each decoded by its own library from the same bytes.
        let rusmpp_value = rusmpp_decode(&mut BytesMut::from(&bytes[4..]), body_len);
        let smpp34_value = smpp34_decode(&bytes);
        assert_eq!(
            smpp34_value.clone().encode(),
            bytes.to_vec(),
            "{name}: smpp34 round trip"
        );

        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.bench_function("smppgw", |b| {
            b.iter(|| Frame::decode_from(black_box(&bytes), &DecodeOptions::LENIENT).unwrap())
        });
        g.bench_function("rusmpp", |b| {
            b.iter_batched(
                || BytesMut::from(&bytes[4..]),
                |mut body| rusmpp_decode(black_box(&mut body), body_len),
                BatchSize::SmallInput,
            )
        });
        g.bench_function("rusmpp-core_borrowed", |b| {
            b.iter(|| {
                <rusmpp_core::command::borrowed::Command<'_, 16> as rusmpp_core::decode::borrowed::DecodeWithLength<'_>>::decode(
                    black_box(&bytes[4..]),
                    body_len,
                )
                .unwrap()
            })
        });
        g.bench_function("smpp34", |b| b.iter(|| smpp34_decode(black_box(&bytes))));
        g.finish();

        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.bench_function("smppgw", |b| b.iter(|| black_box(&frame).to_bytes()));
        g.bench_function("rusmpp", |b| {
            let mut codec = rusmpp::tokio_codec::CommandCodec::new();
            b.iter(|| {
                let mut dst = BytesMut::new();
                codec.encode(black_box(&rusmpp_value), &mut dst).unwrap();
                dst
            })
        });
        g.bench_function("smpp34", |b| {
            b.iter_batched(
                || smpp34_value.clone(),
                |v| black_box(v).encode(),
                BatchSize::SmallInput,
            )
        });
        g.finish();

        // What a session pays to put the PDU on the wire: appended to the connection's write
        // buffer (reused, as tokio_util's Framed does). smpp34 has no such API: its client
        // writes the Vec that encode() returns, copied here into the same kind of buffer.
        let mut g = c.benchmark_group(format!("encode_into_write_buffer/{name}"));
        g.bench_function("smppgw", |b| {
            let mut buf = BytesMut::with_capacity(4096);
            b.iter(|| {
                buf.clear();
                black_box(&frame).encode(&mut buf);
                black_box(buf.len())
            })
        });
        g.bench_function("rusmpp", |b| {
            let mut codec = rusmpp::tokio_codec::CommandCodec::new();
            let mut buf = BytesMut::with_capacity(4096);
            b.iter(|| {
                buf.clear();
                codec.encode(black_box(&rusmpp_value), &mut buf).unwrap();
                black_box(buf.len())
            })
        });
        g.bench_function("smpp34", |b| {
            let mut buf = BytesMut::with_capacity(4096);
            b.iter_batched(
                || smpp34_value.clone(),
                |v| {
                    buf.clear();
                    buf.extend_from_slice(&black_box(v).encode());
                    black_box(buf.len())
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(60);
    targets = bench
}
criterion_main!(benches);
