//! Where the test servers are, and what to do when one is missing.

use std::path::PathBuf;

/// A fresh, empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "polysession-conformance-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The address of a test server: `$VAR`, or `default`.
pub fn addr(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Whether a server answers at every `host:port` in `addrs` (`;`-separated). A missing server
/// fails the test under `CI=true`; elsewhere the test says so and skips.
pub fn reachable(what: &str, addrs: &str) -> bool {
    for a in addrs.split(';') {
        let ok = std::net::ToSocketAddrs::to_socket_addrs(a)
            .ok()
            .and_then(|mut it| it.next())
            .is_some_and(|sa| {
                std::net::TcpStream::connect_timeout(&sa, std::time::Duration::from_secs(1)).is_ok()
            });
        if !ok {
            let msg = format!(
                "{what} is not reachable at {a}: run `bash scripts/test.sh`, which starts it"
            );
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg}");
            }
            eprintln!("SKIPPED (not under CI): {msg}");
            return false;
        }
    }
    true
}

/// A key prefix or name unique to this test process.
pub fn unique(tag: &str) -> String {
    format!("ps{}{tag}", std::process::id())
}
