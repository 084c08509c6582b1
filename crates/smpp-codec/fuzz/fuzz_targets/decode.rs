//! Fuzz target: the SMPP byte stream through `SmppCodec` (length-capped at 4096 octets), every
//! PDU that decodes re-encoded; the checks are in `tests/common/fuzz_check.rs`, shared with the
//! corpus replay of `cargo test`.
#![no_main]

#[path = "../../tests/common/fuzz_check.rs"]
#[allow(dead_code)]
mod fuzz_check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_check::decode(data);
});
