//! Python stores: the host kit's [`HostStore`] over a Python object with `get(key)`,
//! `put(key, text, ttl_seconds)`, `delete(key)` and, optionally, `list(prefix, cursor)`
//! returning `(keys, next_cursor)`. Each method may be plain or `async def`.
//!
//! A plain method runs on the thread that drives the request (the WSGI thread, or a runtime
//! thread on the ASGI path), holding the GIL only while it runs. A coroutine runs on the
//! request's event loop when there is one (the ASGI path: the loop is carried with the
//! request's future), else on a fresh loop of its own (`asyncio.run`, the WSGI path). An
//! exception in a store method is a store outage (`STORE_UNAVAILABLE`, a 503).

use polysession_bindings::{HostError, HostStore, ListPage};
use polysession_core::async_trait;
use pyo3::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// A Python store object.
pub(crate) struct PyStore {
    obj: Py<PyAny>,
    can_list: bool,
}

impl PyStore {
    /// Wraps `obj`; it must have `get`, `put` and `delete`.
    pub(crate) fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        for method in ["get", "put", "delete"] {
            let callable = obj.getattr(method).ok().is_some_and(|m| m.is_callable());
            if !callable {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "a store needs get(key), put(key, text, ttl_seconds) and delete(key); `{method}` is missing"
                )));
            }
        }
        let can_list = obj.getattr("list").ok().is_some_and(|m| m.is_callable());
        Ok(PyStore {
            obj: obj.clone().unbind(),
            can_list,
        })
    }
}

type Pending = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

fn host_error(py: Python<'_>, e: PyErr) -> HostError {
    let kind = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    HostError(format!("{kind}: {}", e.value(py)))
}

impl PyStore {
    /// Calls `method` with `args`; awaits the coroutine it returns, if any.
    async fn call<A>(&self, method: &'static str, args: A) -> Result<Py<PyAny>, HostError>
    where
        A: for<'py> pyo3::call::PyCallArgs<'py> + Send,
    {
        let started: Result<Result<Py<PyAny>, Pending>, HostError> = Python::attach(|py| {
            let run = || -> PyResult<Result<Py<PyAny>, Pending>> {
                let result = self.obj.bind(py).call_method1(method, args)?;
                let inspect = py.import("inspect")?;
                if !inspect
                    .call_method1("isawaitable", (&result,))?
                    .is_truthy()?
                {
                    return Ok(Ok(result.unbind()));
                }
                match pyo3_async_runtimes::tokio::get_current_locals(py) {
                    // The request's event loop (ASGI): the coroutine runs there.
                    Ok(locals) => {
                        let fut = pyo3_async_runtimes::into_future_with_locals(&locals, result)?;
                        Ok(Err(Box::pin(fut) as Pending))
                    }
                    // No loop on this thread (WSGI): a loop of its own, for this call.
                    Err(_) => {
                        let asyncio = py.import("asyncio")?;
                        Ok(Ok(asyncio.call_method1("run", (result,))?.unbind()))
                    }
                }
            };
            run().map_err(|e| host_error(py, e))
        });
        match started? {
            Ok(value) => Ok(value),
            Err(fut) => match fut.await {
                Ok(value) => Ok(value),
                Err(e) => Err(Python::attach(|py| host_error(py, e))),
            },
        }
    }
}

fn extract<T: for<'a, 'py> FromPyObject<'a, 'py>>(
    value: Py<PyAny>,
    what: &str,
) -> Result<T, HostError> {
    Python::attach(|py| {
        value.bind(py).extract::<T>().map_err(|_| {
            let shown = value
                .bind(py)
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_default();
            HostError(format!("{what} returned {shown}"))
        })
    })
}

#[async_trait]
impl HostStore for PyStore {
    async fn get(&self, key: &str) -> Result<Option<String>, HostError> {
        let value = self.call("get", (key.to_owned(),)).await?;
        extract(value, "get() should return str or None;")
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), HostError> {
        self.call("put", (key.to_owned(), value.to_owned(), ttl_secs))
            .await
            .map(|_| ())
    }

    async fn delete(&self, key: &str) -> Result<(), HostError> {
        self.call("delete", (key.to_owned(),)).await.map(|_| ())
    }

    fn can_list(&self) -> bool {
        self.can_list
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, HostError> {
        let page = self
            .call("list", (prefix.to_owned(), cursor.map(str::to_owned)))
            .await?;
        let (keys, cursor): (Vec<String>, Option<String>) =
            extract(page, "list() should return (keys, next_cursor or None);")?;
        Ok(ListPage {
            keys: keys.len() as u64,
            cursor,
        })
    }
}
