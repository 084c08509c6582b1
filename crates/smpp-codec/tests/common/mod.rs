//! Shared by the integration tests and the benchmarks.
#![allow(dead_code)]

pub(crate) mod fixtures;
pub(crate) mod fuzz_check;
