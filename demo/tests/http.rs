//! What only the Rust demo binary does: app.conf, and its exit codes for a bad config. The
//! behaviour of its routes is checked by the cross-host suite in `tests/http/` (node --test),
//! which runs against this binary on several providers and against the other hosts.

use reqwest::header::COOKIE;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running demo process, killed on drop.
struct Demo {
    child: Child,
    base: String,
}

impl Demo {
    fn start(args: &[&str]) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_polysession-demo"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read banner");
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in banner: {line:?}"))
            .to_owned();
        Demo { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

async fn get(c: &Client, d: &Demo, key: &str, cookie: Option<&str>) -> Value {
    let mut r = c.get(d.url(&format!("/get?key={key}")));
    if let Some(cookie) = cookie {
        r = r.header(COOKIE, cookie);
    }
    let res = r.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn post(c: &Client, d: &Demo, path: &str) -> reqwest::Response {
    let res = c.post(d.url(path)).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res
}

#[tokio::test]
async fn app_conf_lifetime_applies() {
    let dir = std::env::temp_dir().join(format!("polysession-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("app.conf");
    std::fs::write(
        &conf,
        "sessionon = true\nsessionprovider = memory\nsessiongcmaxlifetime = 1\n",
    )
    .unwrap();
    let d = Demo::start(&["--config", conf.to_str().unwrap()]);
    let c = browser();
    post(&c, &d, "/set?key=a&value=1").await;
    assert_eq!(get(&c, &d, "a", None).await, json!(1));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(get(&c, &d, "a", None).await, Value::Null);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_config_is_a_clear_error_naming_the_key() {
    let bin = env!("CARGO_BIN_EXE_polysession-demo");
    let out = Command::new(bin)
        .args(["--port", "0", "--session-config", r#"{"gclifetime":0}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gclifetime"));
    let out = Command::new(bin)
        .args(["--port", "0", "--provider", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));
    let out = Command::new(bin)
        .args(["--port", "0", "--provider", "cookie"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("providerConfig"));
    let dir = std::env::temp_dir().join(format!("polysession-off-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("app.conf");
    std::fs::write(&conf, "sessionprovider = memory\n").unwrap();
    let out = Command::new(bin)
        .args(["--port", "0", "--config", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sessionon"));
    let _ = std::fs::remove_dir_all(&dir);
}
