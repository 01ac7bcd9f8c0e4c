//! The store contract, called directly: what each method returns, per declared capability.

use polysession_core::{ErrorKind, Expect, Record, Store};

/// Ids the contract writes: valid for the default config (32 lowercase hex characters),
/// random per run so runs against a shared server do not meet.
fn ids() -> [String; 4] {
    let mut seed = [0u8; 16];
    getrandom(&mut seed);
    let base = seed.iter().map(|b| format!("{b:02x}")).collect::<String>();
    ["a", "b", "c", "d"].map(|p| format!("{p}{}", &base[1..]))
}

fn getrandom(buf: &mut [u8]) {
    // The kit has no RNG of its own: the manager's entropy source is the OS's.
    use polysession_core::Entropy;
    polysession_core::OsEntropy.fill(buf).expect("random bytes");
}

fn record(version: u64, expires_at_ms: u64, tag: &str) -> Record {
    Record {
        data: format!(r#"{{"v":1,"created":1,"data":{{"tag":"{tag}"}}}}"#).into_bytes(),
        expires_at_ms,
        version,
    }
}

pub(crate) async fn run(t: &str, store: &dyn Store, now_ms: u64) {
    let caps = store.capabilities();
    let [a, b, c, d] = ids();
    let far = now_ms + 24 * 3600 * 1000;
    let read = |id: &str| {
        let id = id.to_owned();
        async move {
            store
                .read(&id)
                .await
                .unwrap_or_else(|e| panic!("{t}: read: {e}"))
        }
    };
    assert_eq!(read(&a).await, None, "{t}: a missing record reads as None");
    store
        .destroy(&a)
        .await
        .unwrap_or_else(|e| panic!("{t}: destroying a missing record: {e}"));

    // write under each Expect.
    assert!(
        store
            .write(&a, &record(1, far, "1"), Expect::Absent)
            .await
            .unwrap(),
        "{t}"
    );
    assert_eq!(
        read(&a).await,
        Some(record(1, far, "1")),
        "{t}: the record reads back"
    );
    let again = store
        .write(&a, &record(9, far, "x"), Expect::Absent)
        .await
        .unwrap();
    let stale = store
        .write(&a, &record(9, far, "x"), Expect::Version(5))
        .await
        .unwrap();
    if caps.compare_and_set {
        assert!(!again, "{t}: Absent over an existing record is refused");
        assert!(!stale, "{t}: a wrong Version is refused");
        assert_eq!(
            read(&a).await,
            Some(record(1, far, "1")),
            "{t}: refused writes change nothing"
        );
        let missing = store
            .write(&b, &record(2, far, "x"), Expect::Version(1))
            .await
            .unwrap();
        assert!(!missing, "{t}: Version over a missing record is refused");
        assert_eq!(read(&b).await, None, "{t}");
        let ok = store
            .write(&a, &record(2, far, "2"), Expect::Version(1))
            .await
            .unwrap();
        assert!(ok, "{t}: the right Version is accepted");
    } else {
        assert!(
            again && stale,
            "{t}: a store without compare-and-set writes unconditionally"
        );
        store
            .write(&a, &record(2, far, "2"), Expect::Any)
            .await
            .unwrap();
    }
    assert!(
        store
            .write(&a, &record(3, far, "3"), Expect::Any)
            .await
            .unwrap(),
        "{t}: Any"
    );
    assert_eq!(read(&a).await, Some(record(3, far, "3")), "{t}");

    // touch: only when declared.
    if caps.touch {
        assert!(store.touch(&a, far - 5_000).await.unwrap(), "{t}: touch");
        let touched = read(&a).await.expect("touched record");
        assert_eq!(
            (touched.expires_at_ms, touched.version),
            (far - 5_000, 3),
            "{t}: touch moves the expiry only"
        );
        assert_eq!(touched.data, record(3, far, "3").data, "{t}");
        assert!(
            !store.touch(&b, far).await.unwrap(),
            "{t}: touching a missing record"
        );
        assert_eq!(read(&b).await, None, "{t}: touch creates nothing");
    } else if let Err(e) = store.touch(&a, far).await {
        assert_eq!(
            e.kind(),
            ErrorKind::Unsupported,
            "{t}: touch without the capability"
        );
    }

    // regenerate: true and moved, or false and nothing created.
    let before = read(&a).await.expect("record to move");
    assert!(
        store.regenerate(&a, &c).await.unwrap(),
        "{t}: regenerate an existing record"
    );
    assert_eq!(read(&a).await, None, "{t}: the old id is gone");
    assert_eq!(
        read(&c).await,
        Some(before),
        "{t}: data, expiry and version move"
    );
    assert!(
        !store.regenerate(&b, &d).await.unwrap(),
        "{t}: regenerate a missing record"
    );
    assert_eq!(
        read(&d).await,
        None,
        "{t}: nothing is created under the new id"
    );

    store.destroy(&c).await.unwrap();
    assert_eq!(read(&c).await, None, "{t}: destroy");

    // count and gc: live records count, expired ones neither count nor survive a GC pass.
    let before = match store.count(now_ms).await {
        Err(e) if e.kind() == ErrorKind::Unsupported => return, // a host store without list()
        other => other.unwrap_or_else(|e| panic!("{t}: count: {e}")),
    };
    store
        .write(&a, &record(1, far, "live"), Expect::Any)
        .await
        .unwrap();
    assert_eq!(
        store.count(now_ms).await.unwrap(),
        before + 1,
        "{t}: a live record counts"
    );
    if !caps.native_ttl {
        let past = record(1, now_ms.saturating_sub(1_000), "expired");
        store.write(&b, &past, Expect::Any).await.unwrap();
        assert_eq!(
            store.count(now_ms).await.unwrap(),
            before + 1,
            "{t}: an expired record does not count"
        );
        assert!(
            store.gc(now_ms).await.unwrap() >= 1,
            "{t}: gc removes the expired record"
        );
        assert_eq!(read(&b).await, None, "{t}: gone after gc");
        assert_eq!(
            read(&a).await.map(|r| r.data),
            Some(record(1, far, "live").data),
            "{t}: gc keeps live records"
        );
    }
    store.destroy(&a).await.unwrap();
    assert_eq!(
        store.count(now_ms).await.unwrap(),
        before,
        "{t}: destroyed records do not count"
    );
}
