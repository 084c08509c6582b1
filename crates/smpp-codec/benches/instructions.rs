//! Instruction counts per operation, for `valgrind --tool=callgrind` (counts are the same from
//! run to run, whatever else the machine does, unlike times on a shared machine).
//!
//! `cargo bench -p smpp-codec --bench instructions --no-run`, then for each operation:
//! `valgrind --tool=callgrind --callgrind-out-file=OUT target/release/deps/instructions-* OP N`
//! and divide the total by N (minus the run with N = 0, the fixed cost of the program).
//! `OP` is `<decode|encode|encode_buf>/<fixture>/<smppgw|rusmpp|rusmpp-core_borrowed|smpp34>`,
//! fixtures as in `benches/codec.rs`. `scripts/codec-instructions.sh` does all of it and prints the table.

use std::hint::black_box;

use bytes::BytesMut;
use rusmpp::decode::DecodeWithLength as _;
use smpp_codec::pdu::Frame;
use tokio_util::codec::Encoder as _;

#[path = "../tests/common/fixtures.rs"]
mod fixtures;

fn smpp34_decode(name: &str, b: &[u8]) {
    use smpp34::CommandHeader as H;
    let h = H::decode(b).unwrap();
    match name {
        "submit_sm_160_gsm" => drop(black_box(smpp34::submit_sm::decode(h, b).unwrap())),
        "deliver_sm_receipt" => drop(black_box(smpp34::deliver_sm::decode(h, b).unwrap())),
        "data_sm_tlvs" => drop(black_box(smpp34::data_sm::decode(h, b).unwrap())),
        "bind_transceiver" => drop(black_box(smpp34::bind_transceiver::decode(h, b).unwrap())),
        "enquire_link" => drop(black_box(smpp34::enquire_link::decode(h, b).unwrap())),
        other => panic!("unknown fixture {other}"),
    }
}

fn smpp34_encode(name: &str, b: &[u8]) -> Vec<u8> {
    use smpp34::CommandHeader as H;
    let h = H::decode(b).unwrap();
    match name {
        "submit_sm_160_gsm" => smpp34::submit_sm::decode(h, b).unwrap().encode(),
        "deliver_sm_receipt" => smpp34::deliver_sm::decode(h, b).unwrap().encode(),
        "data_sm_tlvs" => smpp34::data_sm::decode(h, b).unwrap().encode(),
        "bind_transceiver" => smpp34::bind_transceiver::decode(h, b).unwrap().encode(),
        "enquire_link" => smpp34::enquire_link::decode(h, b).unwrap().encode(),
        other => panic!("unknown fixture {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` runs every bench target with `--bench`: do nothing then.
    if args.len() < 3 || args[1].starts_with("--") {
        return;
    }
    let op = &args[1];
    let n: usize = args[2].parse().expect("N");
    let mut it = op.split('/');
    let (kind, name, lib) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let frame = fixtures::all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f)
        .expect("fixture");
    let bytes = frame.to_bytes();
    let body_len = bytes.len() - 4;
    let shared = bytes.clone();
    match (kind, lib) {
        ("decode", "smppgw") => {
            for _ in 0..n {
                let f = Frame::decode_from(
                    black_box(&shared),
                    &smpp_codec::pdu::DecodeOptions::LENIENT,
                );
                drop(black_box(f.unwrap()));
            }
        }
        ("decode", "rusmpp") => {
            let mut bufs: Vec<BytesMut> = (0..n).map(|_| BytesMut::from(&bytes[4..])).collect();
            // The copies above are the input, made once for all: subtract the N = 0 run's cost
            // only if you also want them out (they are the same for every N here, see the
            // script, which measures them with `decode/<fixture>/rusmpp-input`).
            for b in &mut bufs {
                drop(black_box(
                    rusmpp::Command::decode(black_box(b), body_len).unwrap(),
                ));
            }
        }
        ("decode", "rusmpp-input") => {
            let bufs: Vec<BytesMut> = (0..n).map(|_| BytesMut::from(&bytes[4..])).collect();
            drop(black_box(bufs));
        }
        ("decode", "rusmpp-core_borrowed") => {
            for _ in 0..n {
                let r = <rusmpp_core::command::borrowed::Command<'_, 16> as rusmpp_core::decode::borrowed::DecodeWithLength<'_>>::decode(
                    black_box(&bytes[4..]),
                    body_len,
                )
                .unwrap();
                drop(black_box(r));
            }
        }
        ("decode", "smpp34") => {
            for _ in 0..n {
                smpp34_decode(name, black_box(&bytes));
            }
        }
        ("encode", "smppgw") => {
            for _ in 0..n {
                drop(black_box(black_box(&frame).to_bytes()));
            }
        }
        ("encode", "rusmpp") => {
            let mut codec = rusmpp::tokio_codec::CommandCodec::new();
            let value = rusmpp::Command::decode(&mut BytesMut::from(&bytes[4..]), body_len)
                .unwrap()
                .0;
            for _ in 0..n {
                let mut dst = BytesMut::new();
                codec.encode(black_box(&value), &mut dst).unwrap();
                drop(black_box(dst));
            }
        }
        ("encode", "smpp34") => {
            // smpp34's encode consumes its value: clone it each time (the clone is measured by
            // `encode/<fixture>/smpp34-clone` and subtracted by the script).
            let values: Vec<_> = (0..n).map(|_| ()).collect();
            for _ in values {
                drop(black_box(smpp34_encode(name, black_box(&bytes))));
            }
        }
        ("encode_buf", "smppgw") => {
            let mut buf = BytesMut::with_capacity(4096);
            for _ in 0..n {
                buf.clear();
                black_box(&frame).encode(&mut buf);
                black_box(buf.len());
            }
        }
        ("encode_buf", "rusmpp") => {
            let mut codec = rusmpp::tokio_codec::CommandCodec::new();
            let value = rusmpp::Command::decode(&mut BytesMut::from(&bytes[4..]), body_len)
                .unwrap()
                .0;
            let mut buf = BytesMut::with_capacity(4096);
            for _ in 0..n {
                buf.clear();
                codec.encode(black_box(&value), &mut buf).unwrap();
                black_box(buf.len());
            }
        }
        ("encode_buf", "smpp34") => {
            let mut buf = BytesMut::with_capacity(4096);
            for _ in 0..n {
                buf.clear();
                buf.extend_from_slice(&smpp34_encode(name, black_box(&bytes)));
                black_box(buf.len());
            }
        }
        ("encode", "smpp34-decode") | ("encode_buf", "smpp34-decode") => {
            for _ in 0..n {
                smpp34_decode(name, black_box(&bytes));
            }
        }
        _ => panic!("unknown operation {op}"),
    }
}
