//! The store conformance kit (`polysession-conformance`) run from Python on a Python store, in
//! test builds of the module only (cargo feature `conformance`).

use crate::store::PyStore;
use polysession_bindings::CallbackStore;
use polysession_conformance::Kit;
use polysession_core::SystemClock;
use pyo3::prelude::*;
use std::sync::Arc;

/// Runs every case of the conformance kit against `store` (with `provider_config` as the
/// callback store's config); raises `AssertionError` with the first failure. The GIL is
/// released while the kit runs on a thread of its own; the store's methods take it back.
#[pyfunction]
#[pyo3(signature = (label, store, provider_config=None))]
pub fn run_conformance(
    py: Python<'_>,
    label: String,
    store: &Bound<'_, PyAny>,
    provider_config: Option<String>,
) -> PyResult<()> {
    let config = provider_config.unwrap_or_default();
    let host = PyStore::new(store)?;
    let store = CallbackStore::new(host, "kv", &config, Arc::new(SystemClock))
        .map_err(|e| crate::error::to_py(py, e))?;
    let outcome = py.detach(move || {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .map_err(|e| e.to_string())?;
            let kit =
                Kit::store(&label, Arc::new(store)).sleep(|d| Box::pin(tokio::time::sleep(d)));
            rt.block_on(kit.run());
            Ok::<(), String>(())
        })
        .join()
    });
    let message = match outcome {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e,
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a conformance case failed".into()),
    };
    Err(pyo3::exceptions::PyAssertionError::new_err(message))
}
