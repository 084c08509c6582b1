//! Fuzz target: the text layer (alphabets, packing, UDH, receipts, reassembly) on arbitrary
//! octets; the checks are in `tests/common/fuzz_check.rs`, shared with `cargo test`.
#![no_main]

#[path = "../../tests/common/fuzz_check.rs"]
#[allow(dead_code)]
mod fuzz_check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_check::text(data);
});
