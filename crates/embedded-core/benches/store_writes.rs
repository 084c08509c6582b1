//! Benchmark (not a test): the embedded core's hand-over writes on its two candidate stores,
//! side by side in one run, on the same disk. Why the core stores in fjall and not sled
//! (`docs/dependencies.md`).
//!
//! `cargo bench -p embedded-core --bench store_writes [-- MESSAGES]` (default 200 000). Each
//! store runs in a child process of its own, so that its CPU time (user + system, every thread,
//! from `/proc/self/stat`) is its alone. Per batch of 32 messages, as `Engine::hand_over` does: one
//! existence check per id, the record (~0.7 KiB of JSON) and its queue entry written
//! atomically across two trees (a sled transaction; a fjall write batch), then one fsync
//! (`Db::flush`; `Database::persist(SyncAll)`). Figures are ratios to sled measured in the
//! same run.

use std::time::Instant;

use sled::Transactional as _;

const BATCH: usize = 32;
const MODES: [&str; 2] = ["sled", "fjall"];

/// A record of the size the core stores for one short MT.
fn record(i: u64) -> Vec<u8> {
    let mut s = format!(
        "{{\"message\":{{\"id\":\"{i:026}\",\"direction\":\"mt\",\"bind_name\":\"load\",\
         \"source\":{{\"addr\":\"12345\",\"ton\":1,\"npi\":1}},\"destination\":{{\"addr\":\
         \"33600000{:04}\",\"ton\":1,\"npi\":1}},\"payload\":\"",
        i % 10_000
    );
    s.push_str(&"SGVsbG8gd29ybGQgZnJvbSB0aGUgbG9hZCB0b29s".repeat(4));
    s.push_str(
        "\",\"tlvs\":[]},\"status\":\"queued\",\"history\":[{\"status\":\"queued\",\
         \"at_ms\":1733350000000,\"detail\":\"routed to parked\"}],\"attempts\":0}",
    );
    s.into_bytes()
}

fn queue_key(id: &str) -> Vec<u8> {
    let mut k = b"dparked\0".to_vec();
    k.extend_from_slice(id.as_bytes());
    k
}

/// CPU seconds (user + system, every thread, exited ones too) this process used so far, from
/// `/proc/self/stat` (fields 14 and 15, in clock ticks of `getconf CLK_TCK`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux)");
    // The command name (field 2) may hold spaces: count the fields after its closing ')'.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<f64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let ticks: f64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    // Fields 14 and 15 of the line are the 12th and 13th after the command name.
    (fields[11] + fields[12]) / ticks
}

/// Writes `n` messages into a fresh store of `mode` under `dir`; prints `wall cpu` (seconds).
fn child(mode: &str, n: u64, dir: &std::path::Path) {
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    match mode {
        "sled" => {
            let db = sled::Config::new()
                .path(dir)
                .cache_capacity(128 << 20)
                .mode(sled::Mode::HighThroughput)
                .open()
                .expect("sled opens");
            let messages = db.open_tree("messages").expect("tree");
            let queues = db.open_tree("queues").expect("tree");
            let mut i = 0;
            while i < n {
                let mut items = Vec::with_capacity(BATCH);
                for _ in 0..BATCH {
                    let id = format!("{i:026}");
                    assert!(!messages.contains_key(&id).expect("read"));
                    items.push((id, record(i)));
                    i += 1;
                }
                (&messages, &queues)
                    .transaction(|(m, q)| {
                        for (id, rec) in &items {
                            m.insert(id.as_bytes(), rec.as_slice())?;
                            q.insert(queue_key(id), &[0u8; 9][..])?;
                        }
                        Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
                    })
                    .expect("transaction");
                db.flush().expect("flush");
            }
        }
        "fjall" => {
            let db = fjall::Database::builder(dir)
                .cache_size(64 << 20)
                .open()
                .expect("fjall opens");
            let messages = db
                .keyspace("messages", fjall::KeyspaceCreateOptions::default)
                .expect("keyspace");
            let queues = db
                .keyspace("queues", fjall::KeyspaceCreateOptions::default)
                .expect("keyspace");
            let mut i = 0;
            while i < n {
                let mut batch = db.batch();
                for _ in 0..BATCH {
                    let id = format!("{i:026}");
                    assert!(!messages.contains_key(&id).expect("read"));
                    batch.insert(&queues, queue_key(&id), vec![0u8; 9]);
                    batch.insert(&messages, id, record(i));
                    i += 1;
                }
                batch.commit().expect("batch");
                db.persist(fjall::PersistMode::SyncAll).expect("persist");
            }
        }
        other => panic!("unknown store {other}"),
    }
    println!("{} {}", start.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let (Some("--child"), Some(mode), Some(n), Some(dir)) = (
        args.get(1).map(String::as_str),
        args.get(2),
        args.get(3),
        args.get(4),
    ) {
        child(mode, n.parse().expect("a count"), std::path::Path::new(dir));
        return;
    }
    // `cargo bench` passes `--bench`; the first number is the message count.
    let n: u64 = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let exe = std::env::current_exe().expect("own path");
    println!("hand-over writes, {n} messages, batches of {BATCH}, one fsync per batch");
    println!(
        "{:<6} {:>10} {:>8} {:>11}  same run, against sled",
        "store", "msg/s", "CPU s", "CPU µs/msg"
    );
    let mut reference: Option<(f64, f64)> = None;
    for mode in MODES {
        let dir =
            std::env::temp_dir().join(format!("smppgw-store-writes-{mode}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = std::process::Command::new(&exe)
            .args(["--child", mode, &n.to_string()])
            .arg(&dir)
            .output()
            .expect("child runs");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut fields = text
            .split_whitespace()
            .map(|f| f.parse::<f64>().expect("a figure"));
        let (wall, cpu) = (fields.next().expect("wall"), fields.next().expect("cpu"));
        let rate = n as f64 / wall;
        let (ref_rate, ref_cpu) = *reference.get_or_insert((rate, cpu));
        println!(
            "{mode:<6} {rate:>10.0} {cpu:>8.2} {:>11.1}  {:.2}× the rate, {:.2}× the CPU",
            cpu * 1e6 / n as f64,
            rate / ref_rate,
            cpu / ref_cpu
        );
    }
}
