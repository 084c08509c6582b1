//! Replays the fuzz corpus kept in the repository (`fuzz/corpus/<target>/`, grown by
//! `cargo fuzz run`, see `fuzz/README.md`) under `cargo test`, with the fuzz targets' own checks
//! (issue 3 §5): a finding that was fixed stays fixed without the fuzzer.

mod common;

use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).expect("corpus file"),
            )
        })
        .collect()
}

#[test]
fn decode_corpus_replays_cleanly() {
    let inputs = corpus("decode");
    assert!(
        inputs.len() >= 40,
        "the seed corpus is in the repository ({} files)",
        inputs.len()
    );
    let mut decoded = 0;
    for (name, data) in &inputs {
        let r = std::panic::catch_unwind(|| common::fuzz_check::decode(data));
        match r {
            Ok(n) => decoded += n,
            Err(_) => panic!("{name} fails the decode target's checks"),
        }
    }
    // The seeds hold a valid PDU of every type: most inputs decode to at least one PDU.
    assert!(
        decoded >= 36,
        "only {decoded} PDUs decoded from {} inputs",
        inputs.len()
    );
}

#[test]
fn text_corpus_replays_cleanly() {
    let inputs = corpus("text");
    assert!(!inputs.is_empty());
    for (name, data) in &inputs {
        if std::panic::catch_unwind(|| common::fuzz_check::text(data)).is_err() {
            panic!("{name} fails the text target's checks");
        }
    }
}
