//! The storage trait every provider implements, and the record it stores.

use crate::env::{MaybeSend, MaybeSync};
use crate::error::Result;

/// One stored session: opaque bytes (core's JSON payload), an expiry and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The encoded session payload. Providers store it as is.
    pub data: Vec<u8>,
    /// When the record expires, in Unix milliseconds. Stores with native TTL set their TTL from it.
    pub expires_at_ms: u64,
    /// Incremented by the manager on every write; compared by stores with compare-and-set.
    pub version: u64,
}

/// What a [`Store::write`] expects to find before it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No record under the id (a new session).
    Absent,
    /// A record with exactly this version.
    Version(u64),
    /// Anything: write unconditionally.
    Any,
}

/// Optional abilities a store declares; the manager adapts to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The store expires records by itself (Redis TTL): no GC pass is needed.
    pub native_ttl: bool,
    /// [`Store::write`] honours [`Expect`] atomically. Without it, the manager re-reads before
    /// writing and merges, which narrows but cannot close the race between two writers.
    pub compare_and_set: bool,
    /// [`Store::touch`] extends the expiry without rewriting the data.
    pub touch: bool,
}

/// A session storage backend, close to beego's `Provider` but over versioned records.
///
/// Futures are `Send` on native targets and need not be on wasm. Ids given to a store have
/// always been validated by the manager (prefix, charset, length): a store may use them as
/// file names or keys directly.
///
/// Implement it with `#[async_trait]` (and `#[async_trait(?Send)]` on wasm):
///
/// ```
/// use polysession_core::{async_trait, Capabilities, Expect, Record, Result, Store};
///
/// #[derive(Default)]
/// struct Nothing;
///
/// #[cfg_attr(not(target_arch = "wasm32"), async_trait)]
/// #[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
/// impl Store for Nothing {
///     fn name(&self) -> &str { "nothing" }
///     fn capabilities(&self) -> Capabilities { Capabilities::default() }
///     async fn read(&self, _id: &str) -> Result<Option<Record>> { Ok(None) }
///     async fn write(&self, _id: &str, _r: &Record, _e: Expect) -> Result<bool> { Ok(true) }
///     async fn destroy(&self, _id: &str) -> Result<()> { Ok(()) }
///     async fn count(&self, _now_ms: u64) -> Result<u64> { Ok(0) }
///     async fn gc(&self, _now_ms: u64) -> Result<u64> { Ok(0) }
/// }
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Store: MaybeSend + MaybeSync {
    /// The provider name, used in error messages (`redis`, `memory`, ...).
    fn name(&self) -> &str;

    /// The optional abilities of this store.
    fn capabilities(&self) -> Capabilities;

    /// Prepares the store (beego's `SessionInit`): creates tables, checks the connection.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) when the backend cannot be reached.
    async fn init(&self) -> Result<()> {
        Ok(())
    }

    /// Reads the record under `id`, or `None`. An expired record may be returned: the manager
    /// checks expiry on every read.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure; a missing
    /// record is `Ok(None)`, never an error.
    async fn read(&self, id: &str) -> Result<Option<Record>>;

    /// Writes `record` under `id` if `expect` holds (stores with compare-and-set) or
    /// unconditionally (stores without). Returns `false` when `expect` did not hold.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure.
    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool>;

    /// Moves the expiry of an existing record to `expires_at_ms` without rewriting its data.
    /// Returns `false` when there is no such record. Only called when
    /// [`Capabilities::touch`] is declared.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure, or
    /// [`Unsupported`](crate::ErrorKind::Unsupported) by default.
    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        let _ = (id, expires_at_ms);
        Err(crate::Error::new(
            crate::ErrorKind::Unsupported,
            format!("store `{}` cannot touch", self.name()),
        ))
    }

    /// Deletes the record under `id`; deleting a missing record is not an error.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure.
    async fn destroy(&self, id: &str) -> Result<()>;

    /// Moves the record from `old` to `new` (beego's `SessionRegenerate`). Returns `false` when
    /// `old` does not exist. The default reads, writes the new id and deletes the old one;
    /// stores override it to make the move atomic.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure.
    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        regenerate_by_copy(self, old, new).await
    }

    /// The number of live sessions (beego's `SessionAll`), not counting records expired at
    /// `now_ms`.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure.
    async fn count(&self, now_ms: u64) -> Result<u64>;

    /// Removes the records expired at `now_ms` and returns how many it removed.
    ///
    /// # Errors
    /// [`StoreUnavailable`](crate::ErrorKind::StoreUnavailable) on backend failure.
    async fn gc(&self, now_ms: u64) -> Result<u64>;
}

/// The portable id move behind [`Store::regenerate`]'s default: copy the record under `old`
/// to `new`, then retire `old`. For stores that can move atomically only sometimes (a Redis
/// Cluster, when the two ids hash to different slots).
///
/// A session destroyed while it moves is never revived under `new`: with compare-and-set,
/// `old` is retired only if it still holds the version that was copied (else the copy is
/// redone, or undone when `old` is gone); without it, `old` is read again after the copy, which
/// narrows the window to the final delete. Returns `false` when `old` does not exist (or
/// vanished meanwhile), leaving nothing under `new`.
///
/// # Errors
/// Whatever the store's `read`, `write` and `destroy` return;
/// [`Conflict`](crate::ErrorKind::Conflict) when `new` is already taken or `old` kept
/// changing under the copy.
pub async fn regenerate_by_copy<S: Store + ?Sized>(
    store: &S,
    old: &str,
    new: &str,
) -> Result<bool> {
    let cas = store.capabilities().compare_and_set;
    let mut expect_new = Expect::Absent;
    for _ in 0..crate::MAX_WRITE_ATTEMPTS {
        let Some(record) = store.read(old).await? else {
            if expect_new != Expect::Absent {
                store.destroy(new).await?;
            }
            return Ok(false);
        };
        if !store.write(new, &record, expect_new).await? {
            return Err(crate::Error::new(
                crate::ErrorKind::Conflict,
                format!(
                    "session id `{new}` is already taken in store `{}`",
                    store.name()
                ),
            ));
        }
        expect_new = Expect::Any;
        if !cas {
            if store.read(old).await?.is_none() {
                store.destroy(new).await?;
                return Ok(false);
            }
            store.destroy(old).await?;
            return Ok(true);
        }
        // Retire `old` only if it is still what was copied: an expired tombstone under the
        // next version, so a concurrent writer's compare-and-set fails and a reader finds no
        // live session. A refused write means `old` changed or vanished: look again.
        let tombstone = Record {
            data: Vec::new(),
            expires_at_ms: 0,
            version: record.version.wrapping_add(1),
        };
        if store
            .write(old, &tombstone, Expect::Version(record.version))
            .await?
        {
            store.destroy(old).await?;
            return Ok(true);
        }
    }
    store.destroy(new).await?;
    Err(crate::Error::new(
        crate::ErrorKind::Conflict,
        format!(
            "session `{old}` kept changing while it moved in store `{}`",
            store.name()
        ),
    ))
}
