//! TLS to the network stores, against servers this test starts on free loopback ports with
//! certificates it makes (rcgen): a Redis that listens on a TLS port only and requires a
//! client certificate, a one-node Redis Cluster on TLS, a Sentinel on TLS in front of the
//! first Redis, and a PostgreSQL with `ssl=on` whose `pg_hba.conf` rejects plain connections.
//! So a session that round-trips went over TLS. A second CA stands for a wrong one: trusting
//! it (or the system's roots) must give a clear error, never a plain-text connection.
//!
//! Needs `redis-server`, `redis-cli` and PostgreSQL's server binaries (`scripts/services.sh`
//! installs them). Under `CI=true` a missing binary fails the test; elsewhere it skips.
#![cfg(all(feature = "redis", feature = "postgres"))]

use polysession_conformance::Kit;
use polysession_core::{Config, Error, ErrorKind, Manager, RequestInfo};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Skips (or, under `CI=true`, fails) when `what` is missing.
fn missing(what: &str) -> bool {
    let msg = format!("{what} is missing: run `bash scripts/test.sh`, which installs it");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED (not under CI): {msg}");
    true
}

fn have(binary: &str) -> bool {
    Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A directory for one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("polysession-tls-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The certificates of one test: a CA, a server certificate for `127.0.0.1` and `localhost`
/// and a client certificate, both signed by it, and an unrelated CA.
struct Pki {
    ca: PathBuf,
    wrong_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn ca(name: &str) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let issuer =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let pem = issuer.pem();
    (issuer, pem)
}

fn leaf(
    issuer: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    name: &str,
    purpose: rcgen::ExtendedKeyUsagePurpose,
) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    // Redis and PostgreSQL use the server certificate for their own outgoing connections too
    // (Sentinel to the master), so it serves both ends.
    params.extended_key_usages = vec![purpose, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    fn new(dir: &TempDir) -> Pki {
        let (issuer, ca_pem) = ca("polysession test CA");
        let (_, wrong_pem) = ca("polysession wrong CA");
        let (server_cert, server_key) = leaf(
            &issuer,
            "polysession test server",
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = leaf(
            &issuer,
            "polysession test client",
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: dir.file("ca.pem", &ca_pem),
            wrong_ca: dir.file("wrong-ca.pem", &wrong_pem),
            server_cert: dir.file("server.pem", &server_cert),
            server_key: dir.file("server.key", &server_key),
            client_cert: dir.file("client.pem", &client_cert),
            client_key: dir.file("client.key", &client_key),
        }
    }
}

#[path = "../../tests/support/free_port.rs"]
mod support;
use support::free_port;

fn wait_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not open port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `redis-cli` over TLS to `port`, with the client certificate.
fn cli(pki: &Pki, port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["--tls", "--cacert"])
        .arg(&pki.ca)
        .arg("--cert")
        .arg(&pki.client_cert)
        .arg("--key")
        .arg(&pki.client_key)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A `redis-server` listening on a TLS port only, with `extra` arguments.
fn redis_tls(pki: &Pki, dir: &Path, extra: &[&str]) -> (Server, u16) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--tls-port", &port.to_string()])
        .arg("--tls-cert-file")
        .arg(&pki.server_cert)
        .arg("--tls-key-file")
        .arg(&pki.server_key)
        .arg("--tls-ca-cert-file")
        .arg(&pki.ca)
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_port(port, "redis-server");
    (server, port)
}

fn redis_config(addrs: &str, tls: serde_json::Value) -> String {
    serde_json::json!({
        "save_path": addrs,
        "prefix": format!("ps{}tls:", std::process::id()),
        "timeout_ms": 3000,
        "tls": tls,
    })
    .to_string()
}

/// A manager on `provider`, initialised (which connects).
async fn manager(provider: &str, provider_config: String) -> Result<Manager, Error> {
    polysession_providers::register_all();
    let config = Config::builder()
        .provider(provider, provider_config)
        .build()?;
    let m = Manager::new(config)?;
    m.init().await?;
    Ok(m)
}

/// The conformance kit on `provider`.
async fn conformance(label: &str, provider: &str, provider_config: String) {
    let m = manager(provider, provider_config)
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let store = m.store().expect("a server-side provider").clone();
    Kit::store(label, store)
        .sleep(|d| Box::pin(tokio::time::sleep(d)))
        .run()
        .await;
}

/// `provider` with `provider_config` must not work: an error that names the certificate (or
/// the handshake), never a session.
async fn refused(label: &str, provider: &str, provider_config: String, why: &[&str]) {
    let err = match manager(provider, provider_config).await {
        Ok(m) => {
            // The connection may be lazy: the first request meets the error.
            let mut s = m.start(&RequestInfo::default()).await.unwrap();
            s.set("k", 1).unwrap();
            match m.release(s).await {
                Ok(_) => panic!("{label}: a session was stored"),
                Err(e) => e,
            }
        }
        Err(e) => e,
    };
    assert_eq!(err.kind(), ErrorKind::StoreUnavailable, "{label}: {err}");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    eprintln!("{label}: {err}");
    assert!(
        why.iter().any(|w| text.contains(w)),
        "{label}: expected one of {why:?} in: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_standalone_cluster_and_sentinel_over_tls() {
    if !(have("redis-server") && have("redis-cli")) && missing("redis-server") {
        return;
    }
    let dir = TempDir::new("redis");
    let pki = Pki::new(&dir);
    let ca = pki.ca.to_str().unwrap();
    let with_client_cert = serde_json::json!({
        "ca_file": ca,
        "cert_file": pki.client_cert.to_str().unwrap(),
        "key_file": pki.client_key.to_str().unwrap(),
    });

    // Standalone, requiring a client certificate.
    std::fs::create_dir_all(dir.0.join("standalone")).unwrap();
    let (_standalone, port) = redis_tls(
        &pki,
        &dir.0.join("standalone"),
        &["--tls-auth-clients", "yes", "--tls-replication", "yes"],
    );
    let addr = format!("127.0.0.1:{port}");
    conformance(
        "redis over TLS",
        "redis",
        redis_config(&addr, with_client_cert.clone()),
    )
    .await;
    // The same through a rediss:// address in beego's comma form: the system's roots do not
    // know our CA.
    refused(
        "redis, system roots",
        "redis",
        format!("rediss://{addr},10,,0"),
        &["invalid peer certificate: UnknownIssuer"],
    )
    .await;
    refused(
        "redis, wrong CA",
        "redis",
        redis_config(
            &addr,
            serde_json::json!({ "ca_file": pki.wrong_ca.to_str().unwrap() }),
        ),
        &["invalid peer certificate: UnknownIssuer"],
    )
    .await;
    refused(
        "redis, no client certificate",
        "redis",
        redis_config(&addr, serde_json::json!({ "ca_file": ca })),
        &["CertificateRequired"],
    )
    .await;
    // TLS asked of a plain server: an error, not a plain connection.
    let plain = std::env::var("POLYSESSION_REDIS").unwrap_or_else(|_| "127.0.0.1:6379".into());
    if std::net::TcpStream::connect(&plain).is_ok() {
        refused(
            "redis, TLS to a plain server",
            "redis",
            format!(
                r#"{{"save_path":"rediss://{plain}","tls":{{"ca_file":"{ca}"}},"timeout_ms":3000}}"#
            ),
            // A plain Redis waits for the end of a command line that never comes.
            &["timed out"],
        )
        .await;
    }

    // A one-node Cluster on TLS (it announces its TLS port).
    std::fs::create_dir_all(dir.0.join("cluster")).unwrap();
    let (_cluster, cport) = redis_tls(
        &pki,
        &dir.0.join("cluster"),
        &[
            "--tls-cluster",
            "yes",
            "--tls-auth-clients",
            "no",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ],
    );
    assert_eq!(
        cli(&pki, cport, &["cluster", "addslotsrange", "0", "16383"]),
        "OK"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cli(&pki, cport, &["cluster", "info"]).contains("cluster_state:ok") {
        assert!(
            Instant::now() < deadline,
            "the TLS cluster did not get ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    conformance(
        "redis_cluster over TLS",
        "redis_cluster",
        redis_config(
            &format!("rediss://127.0.0.1:{cport}"),
            serde_json::json!({ "ca_file": ca }),
        ),
    )
    .await;
    refused(
        "redis_cluster, wrong CA",
        "redis_cluster",
        redis_config(
            &format!("127.0.0.1:{cport}"),
            serde_json::json!({ "ca_file": pki.wrong_ca.to_str().unwrap() }),
        ),
        &["invalid peer certificate: UnknownIssuer"],
    )
    .await;

    // A Sentinel on TLS watching the standalone server; it presents the server certificate
    // to the master, which requires one.
    let sport = free_port();
    let sdir = dir.0.join("sentinel");
    std::fs::create_dir_all(&sdir).unwrap();
    let conf = format!(
        "port 0\nbind 127.0.0.1\ntls-port {sport}\ntls-cert-file {}\ntls-key-file {}\n\
         tls-ca-cert-file {ca}\ntls-replication yes\ntls-auth-clients no\ndir {}\n\
         sentinel monitor tlsmaster 127.0.0.1 {port} 1\n",
        pki.server_cert.display(),
        pki.server_key.display(),
        sdir.display(),
    );
    let conf_path = sdir.join("sentinel.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let _sentinel = Server(
        Command::new("redis-server")
            .arg(&conf_path)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(sport, "redis sentinel");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !cli(&pki, sport, &["sentinel", "master", "tlsmaster"]).contains("master") {
        assert!(
            Instant::now() < deadline,
            "the TLS sentinel did not see its master"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sentinel_config = |tls: serde_json::Value| {
        serde_json::json!({
            "save_path": format!("127.0.0.1:{sport}"),
            "master_name": "tlsmaster",
            "prefix": format!("ps{}tls:", std::process::id()),
            "timeout_ms": 3000,
            "tls": tls,
        })
        .to_string()
    };
    conformance(
        "redis_sentinel over TLS",
        "redis_sentinel",
        sentinel_config(with_client_cert.clone()),
    )
    .await;
    refused(
        "redis_sentinel, wrong CA",
        "redis_sentinel",
        sentinel_config(serde_json::json!({ "ca_file": pki.wrong_ca.to_str().unwrap() })),
        &["invalid peer certificate: UnknownIssuer"],
    )
    .await;
}

/// PostgreSQL's server binaries: `$POLYSESSION_PG_BIN`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn pg_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("POLYSESSION_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `program` with `args`, as the `postgres` user when this runs as root (PostgreSQL refuses
/// to run as root).
fn as_pg_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL with `ssl=on` that accepts TLS connections only.
fn postgres_tls(bin: &Path, pki: &Pki, dir: &TempDir) -> (Server, u16) {
    let data = dir.0.join("pgdata");
    let root = is_root();
    if root {
        // The postgres user must reach the data directory and own the key file.
        let status = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir.0)
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("chmod")
            .arg("0755")
            .arg(&dir.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let out = as_pg_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    )
    .unwrap();
    // The key must be the server user's and private.
    std::fs::copy(&pki.server_cert, data.join("server.crt")).unwrap();
    std::fs::copy(&pki.server_key, data.join("server.key")).unwrap();
    if root {
        let status = Command::new("chown")
            .args(["postgres"])
            .arg(data.join("server.crt"))
            .arg(data.join("server.key"))
            .arg(data.join("pg_hba.conf"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let status = Command::new("chmod")
        .arg("0600")
        .arg(data.join("server.key"))
        .status()
        .unwrap();
    assert!(status.success());
    let port = free_port();
    let child = as_pg_user(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", data.display()))
        .args(["-c", "ssl=on", "-c", "fsync=off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_port(port, "postgres");
    // Ready when it answers on its socket (TCP may open before it accepts sessions).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .arg("-h")
            .arg(&data)
            .args(["-p", &port.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "postgres did not get ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls() {
    let Some(bin) = pg_bin() else {
        if missing("PostgreSQL's server binaries (initdb, postgres)") {
            return;
        }
        unreachable!()
    };
    let dir = TempDir::new("postgres");
    let pki = Pki::new(&dir);
    let (_server, port) = postgres_tls(&bin, &pki, &dir);
    let url = |query: &str| {
        serde_json::json!({
            "dsn": format!("postgres://postgres@127.0.0.1:{port}/postgres?{query}"),
            "table": format!("ps{}tls", std::process::id()),
            "timeout_ms": 3000,
        })
        .to_string()
    };
    let ca = pki.ca.display().to_string();
    let wrong = pki.wrong_ca.display().to_string();
    conformance(
        "postgresql, verify-full",
        "postgresql",
        url(&format!("sslmode=verify-full&sslrootcert={ca}")),
    )
    .await;
    conformance(
        "postgresql, verify-ca",
        "postgresql",
        url(&format!("sslmode=verify-ca&sslrootcert={ca}")),
    )
    .await;
    // The server refuses plain connections: this is what a fallback would meet.
    refused(
        "postgresql, sslmode=disable",
        "postgresql",
        url("sslmode=disable"),
        &["pg_hba.conf", "no encryption"],
    )
    .await;
    for mode in ["verify-full", "verify-ca"] {
        refused(
            &format!("postgresql, {mode} with the wrong CA"),
            "postgresql",
            url(&format!("sslmode={mode}&sslrootcert={wrong}")),
            &["invalid peer certificate: UnknownIssuer"],
        )
        .await;
    }
    refused(
        "postgresql, verify-full with the system's roots",
        "postgresql",
        url("sslmode=verify-full"),
        &["invalid peer certificate: UnknownIssuer"],
    )
    .await;
}

/// A MariaDB of this test with TLS from `pki` and `require_secure_transport`, so a plain TCP
/// connection is refused; root on 127.0.0.1 has no password.
#[cfg(feature = "mysql")]
fn mariadb_tls(pki: &Pki, dir: &TempDir) -> (Server, u16) {
    let data = dir.0.join("mariadb");
    std::fs::create_dir_all(&data).unwrap();
    // mariadbd refuses to run as root unless told to.
    let user: &[&str] = if is_root() { &["--user=root"] } else { &[] };
    let out = Command::new("mariadb-install-db")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
        .args(user)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mariadb-install-db: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let child = Command::new("mariadbd")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", data.join("sock").display()))
        .arg(format!("--pid-file={}", data.join("pid").display()))
        .args([&format!("--port={port}"), "--bind-address=127.0.0.1"])
        .arg(format!("--ssl-ca={}", pki.ca.display()))
        .arg(format!("--ssl-cert={}", pki.server_cert.display()))
        .arg(format!("--ssl-key={}", pki.server_key.display()))
        .args([
            "--require-secure-transport=ON",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
        ])
        .args(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_port(port, "mariadbd");
    (server, port)
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_over_tls() {
    if !(have("mariadbd") && have("mariadb-install-db"))
        && missing("MariaDB's server binaries (mariadbd, mariadb-install-db)")
    {
        return;
    }
    let dir = TempDir::new("mariadb");
    let pki = Pki::new(&dir);
    let (_server, port) = mariadb_tls(&pki, &dir);
    let config = |dsn: String| {
        serde_json::json!({
            "dsn": dsn,
            "table": format!("ps{}tls", std::process::id()),
            "timeout_ms": 5000,
        })
        .to_string()
    };
    let url = |query: &str| config(format!("mysql://root@127.0.0.1:{port}/mysql?{query}"));
    let ca = pki.ca.display().to_string();
    let wrong = pki.wrong_ca.display().to_string();
    // TCP opens before the server accepts sessions: the first manager waits for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let verify_identity = url(&format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"));
    while let Err(e) = manager("mysql", verify_identity.clone()).await {
        assert!(Instant::now() < deadline, "mariadb did not accept TLS: {e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    conformance("mysql, VERIFY_IDENTITY", "mysql", verify_identity).await;
    conformance(
        "mysql, VERIFY_CA",
        "mysql",
        url(&format!("ssl-mode=VERIFY_CA&ssl-ca={ca}")),
    )
    .await;
    // The server refuses plain connections: this is what a fallback would meet. MariaDB 10.11
    // reports `require_secure_transport` as error 1045 (access denied); the same root login
    // works over TLS above, so the transport is what it refuses.
    refused(
        "mysql, ssl-mode=DISABLED",
        "mysql",
        url("ssl-mode=DISABLED"),
        &["insecure transport", "1045 (28000): Access denied"],
    )
    .await;
    for mode in ["VERIFY_IDENTITY", "VERIFY_CA"] {
        refused(
            &format!("mysql, {mode} with the wrong CA"),
            "mysql",
            url(&format!("ssl-mode={mode}&ssl-ca={wrong}")),
            &["UnknownIssuer"],
        )
        .await;
    }
    // go-sql-driver's `tls=true` verifies against the system's roots: our private CA is not
    // one of them, so it is refused, never sent in plain text.
    refused(
        "mysql, Go DSN tls=true with the system's roots",
        "mysql",
        config(format!("root@tcp(127.0.0.1:{port})/mysql?tls=true")),
        &["UnknownIssuer"],
    )
    .await;
}
