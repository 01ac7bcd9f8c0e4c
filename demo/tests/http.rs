//! Drives the demo binary over real HTTP on 127.0.0.1, with clients that keep cookie jars.

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
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

fn bare() -> Client {
    Client::builder().build().unwrap()
}

fn set_cookies(h: &HeaderMap) -> Vec<String> {
    h.get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// `name=value` of the single session Set-Cookie in `h`.
fn session_cookie(h: &HeaderMap) -> String {
    let all = set_cookies(h);
    assert_eq!(all.len(), 1, "exactly one Set-Cookie: {all:?}");
    all[0].split(';').next().unwrap().to_owned()
}

async fn counter(c: &Client, d: &Demo) -> u64 {
    let body = c
        .get(d.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = body.find("id=\"num\">").expect("counter in page") + 9;
    body[start..].split('<').next().unwrap().parse().unwrap()
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
async fn counter_is_per_client_with_cache_headers() {
    let d = Demo::start(&[]);
    let (a, b) = (browser(), browser());
    let first = a.get(d.url("/")).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let h = first.headers();
    let cookie = session_cookie(h);
    assert!(cookie.starts_with("beegosessionID=") && cookie.len() == "beegosessionID=".len() + 32);
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["vary"], "Cookie");
    let all = set_cookies(h).remove(0);
    assert!(
        all.contains("HttpOnly") && all.contains("Path=/") && all.contains("SameSite=Lax"),
        "{all}"
    );
    assert!(first.text().await.unwrap().contains("id=\"num\">0<"));
    assert_eq!(counter(&a, &d).await, 1);
    assert_eq!(counter(&a, &d).await, 2);
    assert_eq!(counter(&b, &d).await, 0);
    assert_eq!(counter(&a, &d).await, 3);
    assert_eq!(counter(&b, &d).await, 1);
    post(&a, &d, "/set?key=secret&value=%22a%22").await;
    assert_eq!(get(&b, &d, "secret", None).await, Value::Null);
    assert_eq!(get(&a, &d, "secret", None).await, json!("a"));
    let stats: Value = bare()
        .get(d.url("/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats, json!({"active": 2}));
}

#[tokio::test]
async fn set_get_delete_flush_flash() {
    let d = Demo::start(&[]);
    let c = browser();
    post(&c, &d, "/set?key=obj&value=%7B%22a%22%3A%5B1%2C2%5D%7D").await;
    post(&c, &d, "/set?key=n&value=5").await;
    assert_eq!(get(&c, &d, "obj", None).await, json!({"a": [1, 2]}));
    post(&c, &d, "/delete?key=n").await;
    assert_eq!(get(&c, &d, "n", None).await, Value::Null);
    post(&c, &d, "/flash?level=notice&msg=saved").await;
    post(&c, &d, "/flash?level=error&msg=oops").await;
    post(&c, &d, "/flash?level=notice&msg=again").await;
    let f: Value = c
        .get(d.url("/flash"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f, json!({"notice": ["saved", "again"], "error": ["oops"]}));
    let f: Value = c
        .get(d.url("/flash"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f, json!({}), "flash is read once");
    post(&c, &d, "/flush").await;
    assert_eq!(get(&c, &d, "obj", None).await, Value::Null);
    let res = c
        .post(d.url("/set?key=x&value=not-json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn login_regenerates_keeps_data_and_kills_the_old_id() {
    let d = Demo::start(&[]);
    let c = bare();
    let res = post(&c, &d, "/set?key=cart&value=3").await;
    let old = session_cookie(res.headers());
    let res = c
        .post(d.url("/login?user=bob"))
        .header(COOKIE, &old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let new = session_cookie(res.headers());
    assert_ne!(new, old);
    assert_eq!(get(&c, &d, "cart", Some(&new)).await, json!(3));
    assert_eq!(get(&c, &d, "user", Some(&new)).await, json!("bob"));
    assert_eq!(
        get(&c, &d, "cart", Some(&old)).await,
        Value::Null,
        "old id is dead"
    );
    // The old id is never adopted: writing with it gets a different, fresh id.
    let res = c
        .post(d.url("/set?key=x&value=1"))
        .header(COOKIE, &old)
        .send()
        .await
        .unwrap();
    let fresh = session_cookie(res.headers());
    assert_ne!(fresh, old);
    assert_ne!(fresh, new);
}

#[tokio::test]
async fn logout_kills_the_session() {
    let d = Demo::start(&[]);
    let c = bare();
    let res = post(&c, &d, "/login?user=alice").await;
    let cookie = session_cookie(res.headers());
    let res = c
        .post(d.url("/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let removal = set_cookies(res.headers());
    assert_eq!(removal.len(), 1);
    assert!(
        removal[0].starts_with("beegosessionID=;") && removal[0].contains("Max-Age=0"),
        "{removal:?}"
    );
    assert_eq!(get(&c, &d, "user", Some(&cookie)).await, Value::Null);
    let stats: Value = c
        .get(d.url("/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats, json!({"active": 0}));
}

#[tokio::test]
async fn sessions_expire_after_max_lifetime() {
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

#[tokio::test]
async fn bad_cookies_get_a_fresh_session_never_a_5xx() {
    let d = Demo::start(&[]);
    let c = bare();
    let res = post(&c, &d, "/set?key=user&value=%22bob%22").await;
    let good = session_cookie(res.headers());
    let good_id = good.split('=').nth(1).unwrap().to_owned();
    let mut tampered = good_id.clone().into_bytes();
    tampered[5] = if tampered[5] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    let long = "a".repeat(10 * 1024);
    let values: Vec<HeaderValue> = vec![
        HeaderValue::from_str(&format!("beegosessionID={tampered}")).unwrap(),
        HeaderValue::from_static("beegosessionID=%%%garbage$$$"),
        HeaderValue::from_static("beegosessionID=../../etc/passwd"),
        HeaderValue::from_static("beegosessionID=a"),
        HeaderValue::from_str(&format!("beegosessionID={long}")).unwrap(),
        HeaderValue::from_bytes(b"beegosessionID=\xff\xfe\xfd; other=\x80").unwrap(),
        HeaderValue::from_static("beegosessionID=abc; beegosessionID=def; beegosessionID="),
        HeaderValue::from_static("=;;; ;=="),
    ];
    for v in values {
        let shown = String::from_utf8_lossy(v.as_bytes())
            .chars()
            .take(60)
            .collect::<String>();
        let res = c
            .get(d.url("/get?key=user"))
            .header(COOKIE, v.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{shown}");
        assert_eq!(res.json::<Value>().await.unwrap(), Value::Null, "{shown}");
        let res = c
            .post(d.url("/set?key=k&value=1"))
            .header(COOKIE, v)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{shown}");
        let fresh = session_cookie(res.headers());
        assert_ne!(fresh, good, "{shown}");
        assert_eq!(fresh.len(), good.len(), "{shown}");
    }
    // Duplicate names where one is the real session: it is found.
    let dup = format!("beegosessionID=junk; {good}");
    assert_eq!(get(&c, &d, "user", Some(&dup)).await, json!("bob"));
    // The real session was not touched by any of that.
    assert_eq!(get(&c, &d, "user", Some(&good)).await, json!("bob"));
    // Missing parameters are 4xx; malformed escapes are taken literally; never a 5xx.
    for path in ["/get", "/set?key=a", "/flash?level=x", "/login"] {
        let method = if path.starts_with("/get") {
            reqwest::Method::GET
        } else {
            reqwest::Method::POST
        };
        let res = c.request(method, d.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    let res = c.get(d.url("/get?key=%ZZ%&%%=%")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn id_in_header_works_only_when_enabled() {
    let on = Demo::start(&[
        "--session-config",
        r#"{"EnableSidInHTTPHeader":true,"SessionNameInHTTPHeader":"X-Session"}"#,
    ]);
    let c = bare();
    let res = post(&c, &on, "/set?key=a&value=7").await;
    let id = res.headers()["x-session"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    let v: Value = c
        .get(on.url("/get?key=a"))
        .header("X-Session", &id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!(7));

    let off = Demo::start(&[]);
    let res = post(&c, &off, "/set?key=a&value=7").await;
    assert!(res.headers().get("beegosessionid").is_none());
    let id = session_cookie(res.headers())
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let v: Value = c
        .get(off.url("/get?key=a"))
        .header("Beegosessionid", &id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, Value::Null);
    let v: Value = c
        .get(off.url(&format!("/get?key=a&beegosessionID={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, Value::Null);
}

#[tokio::test]
async fn id_in_query_or_form_works_only_when_enabled() {
    let d = Demo::start(&["--session-config", r#"{"EnableSidInURLQuery":true}"#]);
    let c = bare();
    let res = post(&c, &d, "/set?key=a&value=8").await;
    let id = session_cookie(res.headers())
        .split('=')
        .nth(1)
        .unwrap()
        .to_owned();
    let v: Value = c
        .get(d.url(&format!("/get?key=a&beegosessionID={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!(8));
    let res = c
        .post(d.url("/set?key=b&value=9"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("beegosessionID={id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        set_cookies(res.headers()).is_empty(),
        "known session: no new cookie"
    );
    let v: Value = c
        .get(d.url(&format!("/get?key=b&beegosessionID={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!(9));
}

#[tokio::test]
async fn fifty_parallel_requests_setting_different_keys_all_survive() {
    let d = Demo::start(&[]);
    let c = bare();
    let res = post(&c, &d, "/set?key=start&value=0").await;
    let cookie = session_cookie(res.headers());
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (c, url, cookie) = (
            c.clone(),
            d.url(&format!("/set?key=k{i}&value={i}")),
            cookie.clone(),
        );
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .header(COOKIE, cookie)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::NO_CONTENT);
    }
    for i in 0..50 {
        assert_eq!(
            get(&c, &d, &format!("k{i}"), Some(&cookie)).await,
            json!(i),
            "k{i}"
        );
    }
}

#[tokio::test]
async fn cookie_provider_over_http() {
    let keys = r#"{"keys":["a demo secret that is at least 32 bytes long"]}"#;
    let d = Demo::start(&["--provider", "cookie", "--provider-config", keys]);
    let c = browser();
    assert_eq!(counter(&c, &d).await, 0);
    assert_eq!(counter(&c, &d).await, 1);
    assert_eq!(counter(&c, &d).await, 2);
    let res = c.get(d.url("/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_IMPLEMENTED);
    // Tampered sealed cookie: a fresh session.
    let res = bare()
        .post(d.url("/set?key=a&value=1"))
        .send()
        .await
        .unwrap();
    let sealed = session_cookie(res.headers());
    let mut bytes = sealed.into_bytes();
    let i = bytes.len() - 3;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(get(&bare(), &d, "a", Some(&tampered)).await, Value::Null);
}

#[tokio::test]
async fn secure_cookie_behind_a_trusted_proxy_only() {
    let d = Demo::start(&[
        "--session-config",
        r#"{"secure":true,"trustForwardedProto":true}"#,
    ]);
    let c = bare();
    let res = c.post(d.url("/set?key=a&value=1")).send().await.unwrap();
    assert!(!set_cookies(res.headers())[0].contains("Secure"));
    let res = c
        .post(d.url("/set?key=a&value=1"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert!(set_cookies(res.headers())[0].contains("Secure"));
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
