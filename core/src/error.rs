//! The one error type of polysession, with stable codes every binding maps once.

use std::fmt;

/// A boxed error kept as the `source` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in categories a host can act on.
///
/// Each kind has a stable [`code`](ErrorKind::code) that the Node, Python and wasm bindings
/// expose unchanged (`err.code`, an exception class, a JS `Error` code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is invalid; the message names the key.
    BadConfig,
    /// Client or caller input is invalid (a value that is not JSON, an empty key, ...).
    BadInput,
    /// The store could not be reached or failed; a host should answer 503.
    StoreUnavailable,
    /// A compare-and-set write kept conflicting after the retries.
    Conflict,
    /// The session is too large for its transport (a sealed cookie above 4096 bytes).
    TooLarge,
    /// The provider does not support the operation (for example `count` on sealed cookies).
    Unsupported,
    /// No provider is registered under the requested name.
    UnknownProvider,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::BadConfig,
        ErrorKind::BadInput,
        ErrorKind::StoreUnavailable,
        ErrorKind::Conflict,
        ErrorKind::TooLarge,
        ErrorKind::Unsupported,
        ErrorKind::UnknownProvider,
    ];

    /// The kind whose [`code`](ErrorKind::code) is `code`, for hosts that get a code back
    /// from their own error objects.
    ///
    /// ```
    /// use polysession_core::ErrorKind;
    /// assert_eq!(ErrorKind::from_code("TOO_LARGE"), Some(ErrorKind::TooLarge));
    /// assert_eq!(ErrorKind::from_code("ENOENT"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The stable, upper-case code of this kind, identical in every language binding.
    ///
    /// ```
    /// use polysession_core::ErrorKind;
    /// assert_eq!(ErrorKind::StoreUnavailable.code(), "STORE_UNAVAILABLE");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadConfig => "BAD_CONFIG",
            ErrorKind::BadInput => "BAD_INPUT",
            ErrorKind::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::TooLarge => "TOO_LARGE",
            ErrorKind::Unsupported => "UNSUPPORTED",
            ErrorKind::UnknownProvider => "UNKNOWN_PROVIDER",
        }
    }
}

/// The error of every fallible polysession operation.
///
/// It carries a [`kind`](Error::kind), a human-readable message and, when another error caused
/// it, that error as its [`source`](std::error::Error::source).
///
/// ```
/// use polysession_core::{Error, ErrorKind};
/// let err = Error::bad_config("gclifetime", "must be greater than 0");
/// assert_eq!(err.kind(), ErrorKind::BadConfig);
/// assert_eq!(err.code(), "BAD_CONFIG");
/// assert!(err.to_string().contains("gclifetime"));
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the error that caused this one.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A configuration error naming the offending `key`.
    pub fn bad_config(key: &str, problem: impl fmt::Display) -> Self {
        Error::new(
            ErrorKind::BadConfig,
            format!("config key `{key}`: {problem}"),
        )
    }

    /// A store failure: `provider` and `what` (an address with any password masked) are named.
    pub fn store(provider: &str, what: impl fmt::Display) -> Self {
        Error::new(
            ErrorKind::StoreUnavailable,
            format!("session store `{provider}` unavailable: {what}"),
        )
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable code of this error's kind (see [`ErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message, without the code.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// The result type of polysession operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_code_message_and_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = Error::store("redis", "127.0.0.1:6379").with_source(io);
        let text = err.to_string();
        assert!(text.starts_with("STORE_UNAVAILABLE: session store `redis` unavailable"));
        assert!(text.ends_with("refused"));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn codes_are_distinct_and_map_back() {
        let codes: std::collections::HashSet<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
        }
    }
}
