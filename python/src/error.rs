//! The one mapping from core errors to Python: `polysession.Error` (with `.code`, the core's
//! stable code, and `.status`, the HTTP status every host gives it) and one subclass per code.

use polysession_bindings::http;
use polysession_core::{Error as CoreError, ErrorKind};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pyo3::create_exception!(
    polysession,
    Error,
    PyException,
    "A polysession error: `code` is the core's stable code, `status` the HTTP status."
);
pyo3::create_exception!(
    polysession,
    BadConfigError,
    Error,
    "BAD_CONFIG: a bad option."
);
pyo3::create_exception!(
    polysession,
    BadInputError,
    Error,
    "BAD_INPUT: a bad value or misuse."
);
pyo3::create_exception!(
    polysession,
    StoreUnavailableError,
    Error,
    "STORE_UNAVAILABLE: the store failed or timed out (503)."
);
pyo3::create_exception!(
    polysession,
    ConflictError,
    Error,
    "CONFLICT: the session changed under a write too often."
);
pyo3::create_exception!(
    polysession,
    TooLargeError,
    Error,
    "TOO_LARGE: the session is above its size or key limit (413)."
);
pyo3::create_exception!(
    polysession,
    UnsupportedError,
    Error,
    "UNSUPPORTED: the provider cannot do this (count on sealed cookies)."
);
pyo3::create_exception!(
    polysession,
    UnknownProviderError,
    Error,
    "UNKNOWN_PROVIDER: no provider of that name."
);

/// A core error as a Python exception of its kind's class, with `code` and `status`.
pub(crate) fn to_py(py: Python<'_>, err: CoreError) -> PyErr {
    let kind = err.kind();
    let message = err.to_string();
    let e = match kind {
        ErrorKind::BadConfig => BadConfigError::new_err(message),
        ErrorKind::BadInput => BadInputError::new_err(message),
        ErrorKind::StoreUnavailable => StoreUnavailableError::new_err(message),
        ErrorKind::Conflict => ConflictError::new_err(message),
        ErrorKind::TooLarge => TooLargeError::new_err(message),
        ErrorKind::Unsupported => UnsupportedError::new_err(message),
        ErrorKind::UnknownProvider => UnknownProviderError::new_err(message),
        #[allow(unreachable_patterns)]
        _ => Error::new_err(message),
    };
    let value = e.value(py);
    // Setting attributes on a fresh exception instance does not fail.
    let _ = value.setattr("code", kind.code());
    let _ = value.setattr("status", http::status(kind));
    e
}

/// The error classes, added to the module.
pub(crate) struct ErrorClasses;

impl ErrorClasses {
    pub(crate) fn add(m: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = m.py();
        m.add("Error", py.get_type::<Error>())?;
        m.add("BadConfigError", py.get_type::<BadConfigError>())?;
        m.add("BadInputError", py.get_type::<BadInputError>())?;
        m.add(
            "StoreUnavailableError",
            py.get_type::<StoreUnavailableError>(),
        )?;
        m.add("ConflictError", py.get_type::<ConflictError>())?;
        m.add("TooLargeError", py.get_type::<TooLargeError>())?;
        m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
        m.add(
            "UnknownProviderError",
            py.get_type::<UnknownProviderError>(),
        )?;
        Ok(())
    }
}
