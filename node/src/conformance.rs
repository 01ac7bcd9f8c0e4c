//! The store conformance kit (`polysession-conformance`) run from JS on a JS store, in test
//! builds of the addon only (cargo feature `conformance`).

use crate::store::JsStore;
use napi::bindgen_prelude::{Env, PromiseRaw};
use napi::Result;
use napi_derive::napi;
use polysession_bindings::CallbackStore;
use polysession_conformance::Kit;
use polysession_core::SystemClock;
use std::sync::Arc;

/// Runs every case of the conformance kit against `store` (the normalized JS store, with
/// `providerConfig` as the callback store's config); rejects with the first failure.
#[napi(ts_return_type = "Promise<void>")]
pub fn run_conformance<'env>(
    env: &'env Env,
    label: String,
    store: JsStore,
    provider_config: Option<String>,
) -> Result<PromiseRaw<'env, ()>> {
    let config = provider_config.unwrap_or_default();
    let store = CallbackStore::new(store, "kv", &config, Arc::new(SystemClock))
        .map_err(crate::error::to_js)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    // The kit runs on a thread of its own (its futures need not be Send); the store's calls
    // still go to the JS thread.
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build();
            let rt = rt.map_err(|e| e.to_string())?;
            let kit =
                Kit::store(&label, Arc::new(store)).sleep(|d| Box::pin(tokio::time::sleep(d)));
            rt.block_on(kit.run());
            Ok::<(), String>(())
        }));
        let message = match outcome {
            Ok(result) => result,
            Err(panic) => Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a conformance case failed".into())),
        };
        let _ = tx.send(message);
    });
    env.spawn_future(async move {
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => Err(napi::Error::from_reason(failure)),
            Err(_) => Err(napi::Error::from_reason(
                "the conformance thread ended early",
            )),
        }
    })
}
