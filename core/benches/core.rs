//! Core costs: one request's session work on the memory provider, sealing, id generation.
//!
//! Run: `cargo bench -p polysession-core --bench core`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use futures_executor::block_on;
use polysession_core::{Config, IdGenerator, KeyRing, Manager, OsEntropy, RequestInfo};

/// A manager over 1000 live sessions; returns it and their cookies.
fn populated(config: Config) -> (Manager, Vec<String>) {
    let manager = Manager::new(config).unwrap();
    let cookies = (0..1000)
        .map(|i| {
            block_on(async {
                let mut s = manager.start(&RequestInfo::default()).await.unwrap();
                s.set("asta", i).unwrap();
                s.set("user", "someone@example.com").unwrap();
                let r = manager.release(s).await.unwrap();
                r.set_cookie.unwrap().split(';').next().unwrap().to_owned()
            })
        })
        .collect();
    (manager, cookies)
}

fn memory(c: &mut Criterion) {
    let (manager, cookies) = populated(Config::default());
    let mut i = 0;
    c.bench_function("memory start+get+release", |b| {
        b.iter(|| {
            i = (i + 1) % cookies.len();
            block_on(async {
                let req = RequestInfo {
                    cookies: vec![cookies[i].as_str()],
                    ..Default::default()
                };
                let s = manager.start(&req).await.unwrap();
                black_box(s.get("asta"));
                manager.release(s).await.unwrap()
            })
        })
    });
    c.bench_function("memory start+set+release", |b| {
        b.iter(|| {
            i = (i + 1) % cookies.len();
            block_on(async {
                let req = RequestInfo {
                    cookies: vec![cookies[i].as_str()],
                    ..Default::default()
                };
                let mut s = manager.start(&req).await.unwrap();
                let n = s.get_as::<i64>("asta").unwrap().unwrap_or(0);
                s.set("asta", n + 1).unwrap();
                manager.release(s).await.unwrap()
            })
        })
    });
}

/// Two threads each serving its own sessions at once: what the locks every request takes (the
/// memory store's, the decoded-session cache's) cost when requests overlap. On a machine with
/// more cores, raise the thread count before deciding to shard them.
fn memory_threads(c: &mut Criterion) {
    let (manager, cookies) = populated(Config::default());
    c.bench_function(
        "memory start+get+release, 2 threads at once (per pair)",
        |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                std::thread::scope(|scope| {
                    for t in 0..2 {
                        let (manager, cookies) = (&manager, &cookies);
                        scope.spawn(move || {
                            for n in 0..iters as usize {
                                let cookie = &cookies[(n * 2 + t) % cookies.len()];
                                let release = block_on(async {
                                    let req = RequestInfo {
                                        cookies: vec![cookie.as_str()],
                                        ..Default::default()
                                    };
                                    let s = manager.start(&req).await.unwrap();
                                    black_box(s.get("asta"));
                                    manager.release(s).await.unwrap()
                                });
                                black_box(&release);
                            }
                        });
                    }
                });
                start.elapsed()
            })
        },
    );
}

fn sealed(c: &mut Criterion) {
    let ring = KeyRing::new(&["a benchmark secret of at least thirty-two bytes"]).unwrap();
    let plain = br#"{"v":1,"id":"0123456789abcdef0123456789abcdef","created":1700000000000,"expires":1700003600000,"data":{"asta":12,"user":"someone@example.com"}}"#;
    let sealed = ring.seal(plain, b"beegosessionID", &OsEntropy).unwrap();
    c.bench_function("cookie seal", |b| {
        b.iter(|| {
            ring.seal(black_box(plain), b"beegosessionID", &OsEntropy)
                .unwrap()
        })
    });
    c.bench_function("cookie open", |b| {
        b.iter(|| ring.open(black_box(&sealed), b"beegosessionID").unwrap())
    });

    let keys = r#"{"keys":["a benchmark secret of at least thirty-two bytes"]}"#;
    let (manager, cookies) = populated(Config::builder().provider("cookie", keys).build().unwrap());
    let mut i = 0;
    c.bench_function("cookie start+set+release", |b| {
        b.iter(|| {
            i = (i + 1) % cookies.len();
            block_on(async {
                let req = RequestInfo {
                    cookies: vec![cookies[i].as_str()],
                    ..Default::default()
                };
                let mut s = manager.start(&req).await.unwrap();
                s.set("asta", 1).unwrap();
                manager.release(s).await.unwrap()
            })
        })
    });
}

fn ids(c: &mut Criterion) {
    let random = IdGenerator::new(&Config::default());
    c.bench_function("id generate (random 16 bytes)", |b| {
        b.iter(|| random.generate(&OsEntropy).unwrap())
    });
    let sha1 = IdGenerator::new(
        &Config::from_beego_json(r#"{"sessionIDHashFunc":"sha1","sessionIDHashKey":"k"}"#).unwrap(),
    );
    c.bench_function("id generate (hmac-sha1)", |b| {
        b.iter(|| sha1.generate(&OsEntropy).unwrap())
    });
    let id = random.generate(&OsEntropy).unwrap();
    c.bench_function("id validate", |b| {
        b.iter(|| random.is_valid(black_box(&id)))
    });
}

criterion_group!(benches, memory, memory_threads, sealed, ids);
criterion_main!(benches);
