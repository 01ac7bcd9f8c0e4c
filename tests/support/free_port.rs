//! A free loopback port for a server a Rust test starts itself (`#[path]`-included by the
//! test files of `providers/` and `demo/`).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A port free now on 127.0.0.1, below the kernel's ephemeral range.
///
/// The kernel hands out ports of the ephemeral range (`ip_local_port_range`) by itself, to
/// listeners bound to port 0 and to outgoing connections: a port taken from there and
/// released can be handed out again before the test's server binds it, and the test then
/// talks to something else. Ports below the range are only ever taken on purpose.
pub fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let from = 10_000u16;
    let span = low.saturating_sub(from).max(1000);
    for _ in 0..200 {
        // Each RandomState hashes differently (its keys are random, then stepped per call).
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        let port = from + (h.finish() % u64::from(span)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!(
        "no free port in {from}..{}",
        u32::from(from) + u32::from(span)
    );
}
