//! wasm-bindgen tests of the raw bindings, run in Node by `scripts/wasm.sh`.

use super::*;
use polysession_core::{Clock, Expect, ManualClock, Record, Store};
use wasm_bindgen_test::wasm_bindgen_test;

const SECRET: &str = "0123456789abcdef0123456789abcdef-a";
/// Sealed by the native build (core's `seal::tests::VECTOR`): the same bytes open here.
const NATIVE_VECTOR: &str = "AXwsr2KtV6Yf_Ck592b6vvBh98IaUdTWvrIhutRlGCVQElmje2LqTuSgvs4MM9OJBbSGs2ZiV-WEf3BPwhWvtPXqYPStyA4ykrsDYEhOOgCDrJriIg";

fn js(source: &str) -> JsValue {
    js_sys::Function::new_no_args(&format!("return ({source});"))
        .call0(&JsValue::UNDEFINED)
        .unwrap()
}

fn code(err: &JsValue) -> String {
    let name = Reflect::get(err, &"name".into()).unwrap().as_string();
    assert_eq!(name.as_deref(), Some("PolysessionError"));
    Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

fn field(obj: &JsValue, name: &str) -> Option<String> {
    Reflect::get(obj, &name.into()).unwrap().as_string()
}

#[wasm_bindgen_test]
fn a_native_seal_opens_in_wasm() {
    let ring = KeyRing::new(vec![SECRET.into()]).unwrap();
    assert_eq!(
        ring.open(NATIVE_VECTOR, "sid").as_deref(),
        Some(r#"{"v":1,"created":1,"data":{"from":"native"}}"#)
    );
    assert_eq!(ring.open(NATIVE_VECTOR, "other"), None);
    let sealed = ring.seal("back", "sid").unwrap();
    assert_eq!(ring.open(&sealed, "sid").as_deref(), Some("back"));
}

#[wasm_bindgen_test]
fn providers_from_options() {
    let keys = format!("{{providerConfig: {{keys: ['{SECRET}']}}}}");
    assert_eq!(Manager::new(js(&keys)).unwrap().provider(), "cookie");
    let json = format!(r#"{{"providerConfig": "{{\"keys\":[\"{SECRET}\"]}}"}}"#);
    assert_eq!(Manager::new(json.into()).unwrap().provider(), "cookie");
    let kv = "{store: {get() {}, put() {}, delete() {}}}";
    assert_eq!(Manager::new(js(kv)).unwrap().provider(), "kv");
    assert_eq!(
        Manager::new(js("{provider: 'memory'}")).unwrap().provider(),
        "memory"
    );
    for (bad, want) in [
        ("undefined", "BAD_CONFIG"),
        ("{provider: 'kv'}", "BAD_CONFIG"),
        ("{provider: 'memory', store: {}}", "BAD_CONFIG"),
        ("{store: {get() {}, put() {}}}", "BAD_CONFIG"),
        ("{store: 5}", "BAD_CONFIG"),
        (
            "{store: {get() {}, put() {}, delete() {}}, providerConfig: {prefix: 1}}",
            "BAD_CONFIG",
        ),
        ("{provider: 'nope'}", "UNKNOWN_PROVIDER"),
        ("{provider: 'memory', cookieNmae: 'x'}", "BAD_CONFIG"),
        ("{provider: 'memory', x: 1n}", "BAD_CONFIG"),
        ("'{'", "BAD_CONFIG"),
        ("true", "BAD_CONFIG"),
    ] {
        let err = Manager::new(js(bad)).err().unwrap();
        assert_eq!(code(&err), want, "{bad}");
    }
}

fn parts(cookie: Option<String>, url: &str) -> RequestParts {
    let mut p = RequestParts {
        cookies: cookie.into_iter().collect(),
        ..Default::default()
    };
    p.set_url(url);
    p
}

#[wasm_bindgen_test]
async fn start_set_commit_and_back() {
    let m = Manager::new(js("{provider: 'memory', EnableSidInURLQuery: true}")).unwrap();
    let s = start(m.inner.clone(), parts(None, "")).await.unwrap();
    s.set("n", JsValue::from(5)).unwrap();
    let id = s.id().unwrap();
    let vary = Some("Accept".to_owned());
    let cc = Some("private".to_owned());
    let out = commit(m.inner.clone(), s.handle.clone(), vary, cc)
        .await
        .unwrap();
    let cookie = field(&out, "setCookie").unwrap();
    assert!(
        cookie.starts_with(&format!("beegosessionID={id};")),
        "{cookie}"
    );
    assert_eq!(field(&out, "outcome").as_deref(), Some("written"));
    assert_eq!(field(&out, "vary").as_deref(), Some("Accept, Cookie"));
    assert_eq!(
        field(&out, "cacheControl").as_deref(),
        Some("private, no-store")
    );
    let again = commit(m.inner.clone(), s.handle.clone(), None, None).await;
    assert_eq!(code(&again.unwrap_err()), "BAD_INPUT");
    // By cookie, by query (with a fragment), over https.
    let by_cookie = parts(Some(format!("beegosessionID={id}")), "");
    let by_query = parts(None, &format!("https://x/p?beegosessionID={id}#frag"));
    for p in [by_cookie, by_query] {
        let again = start(m.inner.clone(), p).await.unwrap();
        assert_eq!(again.get("n").unwrap().as_f64(), Some(5.0));
        assert!(!again.is_new().unwrap());
    }
    // The form policy: only without a session cookie, with a length.
    let form = Some("application/x-www-form-urlencoded".to_owned());
    assert!(m.reads_form(None, "POST", form.clone(), Some("10".into())));
    assert!(!m.reads_form(
        Some(format!("beegosessionID={id}")),
        "POST",
        form.clone(),
        Some("10".into())
    ));
    assert!(!m.reads_form(None, "POST", form, None));
    // Garbage in every part: a fresh session, no error.
    let junk = "\u{0}%%;;==\u{fffd}".repeat(100);
    let mut p = parts(Some(junk.clone()), &junk);
    p.sid_header = Some(junk.clone());
    p.forwarded_proto = Some(junk.clone());
    p.set_form(Some(junk));
    assert!(start(m.inner.clone(), p).await.unwrap().is_new().unwrap());
}

#[wasm_bindgen_test]
fn error_responses_are_the_kits() {
    let r = error_response_init(Some("STORE_UNAVAILABLE".into()));
    assert_eq!(
        Reflect::get(&r, &"status".into()).unwrap().as_f64(),
        Some(503.0)
    );
    let headers = JSON::stringify(&Reflect::get(&r, &"headers".into()).unwrap()).unwrap();
    assert_eq!(
        headers.as_string().as_deref(),
        Some(r#"[["content-type","text/plain; charset=utf-8"],["retry-after","1"]]"#)
    );
    let r = error_response_init(None);
    assert_eq!(
        Reflect::get(&r, &"status".into()).unwrap().as_f64(),
        Some(500.0)
    );
}

/// A KV over a Map that records the options of every `put` and lists 2 keys per page.
fn namespace(fail: bool) -> JsValue {
    js(&format!(
        "(() => {{ const m = new Map(); const puts = []; const fail = {fail};
         const check = (op) => {{ if (fail) throw new Error(op + ' went wrong'); }};
         return {{ m, puts,
           async get(k) {{ check('get'); return m.has(k) ? m.get(k) : null; }},
           async put(k, v, o) {{ check('put'); puts.push(o.expirationTtl); m.set(k, v); }},
           delete(k) {{ check('delete'); m.delete(k); }},
           async list({{ prefix, cursor }}) {{
             const names = [...m.keys()].filter((k) => k.startsWith(prefix)).sort();
             const start = cursor ? Number(cursor) : 0;
             const done = start + 2 >= names.length;
             return {{ keys: names.slice(start, start + 2).map((name) => ({{ name }})),
                      list_complete: done, cursor: done ? undefined : String(start + 2) }};
           }} }}; }})()"
    ))
}

fn kv_store_at(ns: &JsValue, config: &str) -> (CallbackStore<kv::JsKv>, Arc<ManualClock>) {
    #[allow(clippy::arc_with_non_send_sync)]
    let clock = Arc::new(ManualClock::new(1_000_000));
    (kv::store(ns.clone(), config, clock.clone()).unwrap(), clock)
}

fn kv_store(ns: &JsValue, config: &str) -> CallbackStore<kv::JsKv> {
    kv_store_at(ns, config).0
}

use polysession_bindings::CallbackStore;

#[wasm_bindgen_test]
async fn the_kv_bridge_calls_the_namespace() {
    let ns = namespace(false);
    let (kv, clock) = kv_store_at(&ns, r#"{"prefix":"s:"}"#);
    let record = Record {
        data: br#"{"v":1,"created":1,"data":{}}"#.to_vec(),
        expires_at_ms: 1_000_000 + 5_000,
        version: 3,
    };
    assert_eq!(kv.read("a").await.unwrap(), None);
    assert!(kv.write("a", &record, Expect::Absent).await.unwrap());
    assert_eq!(kv.read("a").await.unwrap(), Some(record.clone()));
    let puts = JSON::stringify(&Reflect::get(&ns, &"puts".into()).unwrap()).unwrap();
    assert_eq!(
        puts.as_string().as_deref(),
        Some("[60]"),
        "Workers KV's 60 s floor"
    );
    let map: js_sys::Map = Reflect::get(&ns, &"m".into()).unwrap().unchecked_into();
    let stored = map.get(&"s:a".into()).as_string().unwrap();
    assert_eq!(stored, r#"ps1:3:1005000:{"v":1,"created":1,"data":{}}"#);
    for id in ["b", "c"] {
        kv.write(id, &record, Expect::Any).await.unwrap();
    }
    map.set(&"other".into(), &"not ours".into());
    assert_eq!(
        kv.count(0).await.unwrap(),
        3,
        "paged through list(), prefix only"
    );
    kv.destroy("a").await.unwrap();
    assert_eq!(kv.read("a").await.unwrap(), None);
    // A foreign value under a session key: within KV's 60 s consistency window the store
    // trusts its own write of it; past the window, a foreign value is no session.
    map.set(&"s:b".into(), &JsValue::from(42));
    assert_eq!(kv.read("b").await.unwrap(), Some(record.clone()));
    clock.advance_ms(60_000);
    assert_eq!(kv.read("b").await.unwrap(), None);
}

#[wasm_bindgen_test]
async fn kv_failures_name_the_method() {
    let kv = kv_store(&namespace(true), "");
    let err = kv.read("a").await.unwrap_err();
    assert_eq!(err.code(), "STORE_UNAVAILABLE");
    assert!(
        err.to_string().contains("`get` failed: get went wrong"),
        "{err}"
    );
    let record = Record {
        data: b"{}".to_vec(),
        expires_at_ms: 1,
        version: 1,
    };
    let err = kv.write("a", &record, Expect::Any).await.unwrap_err();
    assert!(err.to_string().contains("put went wrong"), "{err}");
    let err = kv.destroy("a").await.unwrap_err();
    assert!(err.to_string().contains("delete went wrong"), "{err}");
}

#[wasm_bindgen_test]
fn bad_namespaces() {
    #[allow(clippy::arc_with_non_send_sync)]
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
    for bad in [
        js("{ get() {}, put() {} }"),
        JsValue::from(5),
        JsValue::NULL,
    ] {
        let err = kv::store(bad, "", clock.clone()).err().unwrap();
        assert!(err.to_string().contains("`store`"), "{err}");
    }
}

/// The wire-format vectors (`docs/wire-format.md`) decode in wasm as natively: every
/// `tests/vectors/sealed.json` case opens with its ring and cookie name (or not at all), and
/// every `kv` case of `tests/vectors/records.json` decodes (or is no session) and re-encodes.
#[wasm_bindgen_test]
fn wire_format_vectors() {
    use polysession_bindings::callback::{decode_record, encode_record};
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    let sealed: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../tests/vectors/sealed.json")).unwrap();
    assert!(sealed.len() >= 20);
    for case in &sealed {
        let name = case["name"].as_str().unwrap();
        let keys: Vec<String> = case["keys"].as_array().unwrap().iter().map(text).collect();
        let ring = KeyRing::new(keys).unwrap();
        let opened = ring.open(
            case["sealed"].as_str().unwrap(),
            case["aad"].as_str().unwrap(),
        );
        assert_eq!(opened.as_deref(), case["plaintext"].as_str(), "{name}");
    }
    let records: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../tests/vectors/records.json")).unwrap();
    let kv: Vec<_> = records.iter().filter(|c| c["format"] == "kv").collect();
    assert!(kv.len() >= 10);
    for case in kv {
        let name = case["name"].as_str().unwrap();
        let want = case["record"].as_object().map(|r| Record {
            data: r["data"].as_str().unwrap().as_bytes().to_vec(),
            expires_at_ms: r["expires_at_ms"].as_u64().unwrap(),
            version: r["version"].as_u64().unwrap(),
        });
        let stored = case["text"].as_str().unwrap();
        assert_eq!(decode_record(stored), want, "{name}");
        if let (Some(record), true) = (want, case["canonical"] == true) {
            assert_eq!(encode_record(&record).unwrap(), stored, "{name}");
        }
    }
}
