//! The session manager: beego's `SessionStart`, `SessionRelease`, `SessionRegenerateID`,
//! `SessionDestroy`, `GetActiveSession` and `GC`, with the rules every host shares.

use crate::config::Config;
use crate::cookie::{removal_cookie, set_cookie, RequestInfo};
use crate::decoded::{Data, Decoded};
use crate::env::{Clock, Entropy, OsEntropy};
use crate::error::{Error, ErrorKind, Result};
use crate::id::IdGenerator;
use crate::payload::{self, Payload, FORMAT_VERSION};
use crate::seal::{KeyRing, MAX_COOKIE_BYTES};
use crate::session::Session;
use crate::store::{Expect, Record, Store};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// How many times a conflicting compare-and-set write is retried before [`ErrorKind::Conflict`].
pub const MAX_WRITE_ATTEMPTS: usize = 16;

/// The absolute lifetime of a sealed-cookie session when `absoluteLifetime` is not set: 7 days.
pub const SEALED_ABSOLUTE_LIFETIME: u64 = 7 * 24 * 3600;

#[derive(Clone)]
enum Backend {
    Store(Arc<dyn Store>),
    /// The key ring and the associated data every seal is bound to: the cookie name, plus
    /// `\0` and the provider config's `context` when one is set.
    Sealed(KeyRing, Vec<u8>),
}

/// Writers of one session in one process queue on one of these (striped by id), so
/// compare-and-set retries are only needed against other processes.
const WRITE_LOCKS: usize = 128;

struct Inner {
    config: Config,
    write_locks: Box<[futures_util::lock::Mutex<()>]>,
    backend: Backend,
    ids: IdGenerator,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    /// Sessions decoded recently, by id and stored bytes (see [`Decoded`]).
    decoded: Decoded,
}

/// Manages sessions for one configuration and one provider. Cheap to clone; share one per app.
///
/// ```
/// # futures_executor::block_on(async {
/// use polysession_core::{Manager, Config, RequestInfo};
/// let manager = Manager::new(Config::default()).unwrap();
/// let mut session = manager.start(&RequestInfo::default()).await.unwrap();
/// session.set("asta", 1).unwrap();
/// let release = manager.release(session).await.unwrap();
/// let cookie = release.set_cookie.unwrap();
/// assert!(cookie.starts_with("beegosessionID="));
///
/// // The next request sends the cookie back.
/// let header = cookie.split(';').next().unwrap().to_owned();
/// let req = RequestInfo { cookies: vec![&header], ..Default::default() };
/// let session = manager.start(&req).await.unwrap();
/// assert_eq!(session.get_as::<i64>("asta").unwrap(), Some(1));
/// assert_eq!(manager.count().await.unwrap(), 1);
/// # });
/// ```
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("provider", &self.inner.config.provider)
            .finish_non_exhaustive()
    }
}

/// What happened to the stored session on release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to write.
    Unchanged,
    /// The changes were written.
    Written,
    /// Only the expiry was extended.
    Touched,
    /// The session was destroyed or expired meanwhile; the changes were dropped so that a late
    /// release cannot bring it back.
    Gone,
    /// The session was destroyed in this request; the cookie is removed.
    Destroyed,
}

/// What a host adds to the response after [`Manager::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Release {
    /// The one `Set-Cookie` value for the session cookie, if any.
    pub set_cookie: Option<String>,
    /// A response header `(name, id)` in header mode when an id was issued.
    pub sid_header: Option<(String, String)>,
    /// Add `Cache-Control: no-store`: a Set-Cookie or header carries an id.
    pub no_store: bool,
    /// Add `Vary: Cookie`: the response depends on the session (always true).
    pub vary_cookie: bool,
    /// What happened in the store.
    pub outcome: Outcome,
}

/// Builds a [`Manager`] with a given store, clock or entropy source.
///
/// ```
/// use std::sync::Arc;
/// use polysession_core::{Config, Manager, ManualClock, MemoryStore};
/// let clock = Arc::new(ManualClock::new(0));
/// let manager = Manager::builder(Config::default())
///     .store(Arc::new(MemoryStore::new(100)))
///     .clock(clock.clone())
///     .build()
///     .unwrap();
/// # let _ = manager;
/// ```
pub struct ManagerBuilder {
    config: Config,
    store: Option<Arc<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    entropy: Option<Arc<dyn Entropy>>,
}

impl ManagerBuilder {
    /// Uses `store` instead of looking `config.provider` up in the registry.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses `clock` for all times (required on wasm, where the default clock is unavailable).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses `entropy` for ids and nonces instead of the OS CSPRNG.
    pub fn entropy(mut self, entropy: Arc<dyn Entropy>) -> Self {
        self.entropy = Some(entropy);
        self
    }

    /// Validates the config and opens the provider.
    ///
    /// # Errors
    /// [`BadConfig`](ErrorKind::BadConfig) for a bad config (also a missing clock on wasm),
    /// [`UnknownProvider`](ErrorKind::UnknownProvider) for an unregistered provider name.
    pub fn build(self) -> Result<Manager> {
        let config = self.config;
        config.validate()?;
        let backend = match self.store {
            Some(store) => Backend::Store(store),
            None if config.provider.eq_ignore_ascii_case("cookie") => {
                let ring = KeyRing::from_config(&config.provider_config)?;
                let mut aad = config.cookie_name.as_bytes().to_vec();
                if let Some(context) = ring.context() {
                    aad.push(0);
                    aad.extend_from_slice(context.as_bytes());
                }
                Backend::Sealed(ring, aad)
            }
            None => Backend::Store(crate::registry::open(&config)?),
        };
        let clock = match self.clock {
            Some(c) => c,
            None => default_clock()?,
        };
        // On wasm32 (single-threaded) host clocks and stores are neither Send nor Sync.
        #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
        Ok(Manager {
            inner: Arc::new(Inner {
                write_locks: (0..WRITE_LOCKS)
                    .map(|_| futures_util::lock::Mutex::new(()))
                    .collect(),
                ids: IdGenerator::new(&config),
                config,
                backend,
                clock,
                entropy: self.entropy.unwrap_or_else(|| Arc::new(OsEntropy)),
                decoded: Decoded::new(),
            }),
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn default_clock() -> Result<Arc<dyn Clock>> {
    Ok(Arc::new(crate::env::SystemClock))
}

#[cfg(target_arch = "wasm32")]
fn default_clock() -> Result<Arc<dyn Clock>> {
    Err(Error::bad_config(
        "clock",
        "wasm hosts must pass a clock (Date.now)",
    ))
}

fn secs_ms(secs: u64) -> u64 {
    secs.saturating_mul(1000)
}

impl Manager {
    /// A manager for `config`, with the provider named by `config.provider` from the
    /// [registry](crate::register) (`memory` and `cookie` are built in).
    ///
    /// # Errors
    /// As [`ManagerBuilder::build`].
    pub fn new(config: Config) -> Result<Self> {
        Manager::builder(config).build()
    }

    /// A builder, to pass a store, clock or entropy source.
    pub fn builder(config: Config) -> ManagerBuilder {
        ManagerBuilder {
            config,
            store: None,
            clock: None,
            entropy: None,
        }
    }

    /// The config in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store, or `None` for the `cookie` provider.
    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        match &self.inner.backend {
            Backend::Store(s) => Some(s),
            Backend::Sealed(..) => None,
        }
    }

    /// Prepares the store (beego's `SessionInit`): call once at startup.
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store cannot be reached.
    pub async fn init(&self) -> Result<()> {
        match &self.inner.backend {
            Backend::Store(s) => s.init().await,
            Backend::Sealed(..) => Ok(()),
        }
    }

    fn now(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    fn new_id(&self) -> Result<String> {
        self.inner.ids.generate(self.inner.entropy.as_ref())
    }

    /// Whether `id` has the shape this manager issues. Every incoming id is checked here
    /// before any store sees it.
    pub fn is_valid_id(&self, id: &str) -> bool {
        self.inner.ids.is_valid(id)
    }

    /// The absolute limit in seconds (0: none). A sealed cookie always has one: the server
    /// cannot revoke a copy a client kept, so without `absoluteLifetime` it is
    /// [`SEALED_ABSOLUTE_LIFETIME`].
    fn absolute_lifetime(&self) -> u64 {
        match (&self.inner.backend, self.inner.config.absolute_lifetime) {
            (Backend::Sealed(..), 0) => SEALED_ABSOLUTE_LIFETIME,
            (_, secs) => secs,
        }
    }

    /// The expiry a write at `now` gives: the idle limit, capped by the absolute limit.
    fn expiry(&self, created_ms: u64, now: u64) -> u64 {
        let idle = now.saturating_add(secs_ms(self.inner.config.max_lifetime));
        match self.absolute_lifetime() {
            0 => idle,
            secs => idle.min(created_ms.saturating_add(secs_ms(secs))),
        }
    }

    fn is_live(&self, created_ms: u64, expires_at_ms: u64, now: u64) -> bool {
        let absolute = self.absolute_lifetime();
        expires_at_ms > now && (absolute == 0 || created_ms.saturating_add(secs_ms(absolute)) > now)
    }

    /// Starts the session of a request (beego's `SessionStart`).
    ///
    /// The id is taken from the cookie, else (if enabled) the query or form field, else (if
    /// enabled) the header. An id that is malformed, unknown, expired or whose record is
    /// corrupt is never adopted: the request gets a new, empty session with a fresh id.
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails; client input
    /// alone never causes an error.
    pub async fn start(&self, req: &RequestInfo<'_>) -> Result<Session> {
        let now = self.now();
        let config = &self.inner.config;
        let https = req.is_https(config);
        let (candidates, source) = req.id_candidates(config);
        for candidate in candidates {
            let found = match &self.inner.backend {
                Backend::Store(store) => self
                    .load(store.as_ref(), &candidate, now)
                    .await
                    .inspect_err(|e| report(store.name(), e, "session read"))?,
                Backend::Sealed(ring, aad) => self.open_sealed(ring, aad, &candidate, now),
            };
            if let Some(mut session) = found {
                session.source = source;
                session.https = https;
                return Ok(session);
            }
        }
        Ok(Session::fresh(self.new_id()?, now, https))
    }

    async fn load(&self, store: &dyn Store, id: &str, now: u64) -> Result<Option<Session>> {
        if !self.is_valid_id(id) {
            return Ok(None);
        }
        let Some(record) = store.read(id).await? else {
            return Ok(None);
        };
        let decoded = &self.inner.decoded;
        let (created, data, hit) = match decoded.get(id, &record.data) {
            Some((created, data)) => (created, data, true),
            None => match Payload::decode(&record.data) {
                Some(payload) => (payload.created, Arc::new(payload.data), false),
                None => return Ok(None),
            },
        };
        if !self.is_live(created, record.expires_at_ms, now) {
            // Expired: enforce it now instead of waiting for GC. Failing to delete is not
            // this request's problem; GC or the store's TTL will.
            decoded.forget(id);
            if let Err(e) = store.destroy(id).await {
                report(store.name(), &e, "deleting an expired session");
            }
            return Ok(None);
        }
        if !hit {
            decoded.put(id, record.data, created, data.clone());
        }
        let mut session = Session::fresh(id.to_owned(), created, false);
        session.data = data;
        session.version = Some(record.version);
        session.expires_at_ms = record.expires_at_ms;
        Ok(Some(session))
    }

    fn open_sealed(&self, ring: &KeyRing, aad: &[u8], value: &str, now: u64) -> Option<Session> {
        let plain = ring.open(value, aad)?;
        let payload = Payload::decode(&plain)?;
        let id = payload.id?;
        let expires = payload.expires?;
        if !self.is_valid_id(&id) || !self.is_live(payload.created, expires, now) {
            return None;
        }
        let mut session = Session::fresh(id, payload.created, false);
        session.data = Arc::new(payload.data);
        session.version = Some(0);
        session.expires_at_ms = expires;
        Some(session)
    }

    /// Gives the session a new id (beego's `SessionRegenerateID`): the data is kept, the old
    /// id stops working at once, and release re-sends the cookie. Call it at login.
    ///
    /// With the `cookie` provider the old cookie is *not* revoked: the server keeps nothing
    /// to revoke, so a copy a client kept stays valid until its idle or absolute limit
    /// ([`SEALED_ABSOLUTE_LIFETIME`] unless `absoluteLifetime` is set). Use a server-side
    /// provider when that matters.
    ///
    /// If the session was destroyed meanwhile (a logout in another request), it stays
    /// destroyed: this request's view is emptied as by [`destroy`](Manager::destroy), release
    /// removes the cookie, and values set afterwards start a new session.
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails.
    pub async fn regenerate(&self, session: &mut Session) -> Result<()> {
        let new_id = self.new_id()?;
        if let (Backend::Store(store), Some(_)) = (&self.inner.backend, session.version) {
            let moved = store
                .regenerate(&session.id, &new_id)
                .await
                .inspect_err(|e| report(store.name(), e, "session regenerate"))?;
            if !moved {
                session.reset(new_id, self.now());
                return Ok(());
            }
            // The old id is dead; what was kept for it would only take room.
            self.inner.decoded.forget(&session.id);
        }
        session.id_changed = session.version.is_some();
        session.id = new_id;
        Ok(())
    }

    /// Destroys the session (beego's `SessionDestroy`): the record is deleted and release
    /// removes the cookie. Values set afterwards start a new session under a new id. With the
    /// `cookie` provider only the client's cookie is removed (see [`regenerate`](Manager::regenerate)).
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails.
    pub async fn destroy(&self, session: &mut Session) -> Result<()> {
        if let (Backend::Store(store), Some(_)) = (&self.inner.backend, session.version) {
            self.inner.decoded.forget(&session.id);
            store
                .destroy(&session.id)
                .await
                .inspect_err(|e| report(store.name(), e, "session destroy"))?;
        }
        session.reset(self.new_id()?, self.now());
        Ok(())
    }

    /// Ends the request's use of the session (beego's `SessionRelease`): writes the changes
    /// (merged per key into the latest stored record), or touches the expiry when due, and
    /// says what to add to the response. Call it before the response headers are sent.
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails,
    /// [`Conflict`](ErrorKind::Conflict) when compare-and-set kept failing,
    /// [`TooLarge`](ErrorKind::TooLarge) when a sealed cookie would exceed 4096 bytes.
    pub async fn release(&self, session: Session) -> Result<Release> {
        let now = self.now();
        let (outcome, send_id) = match &self.inner.backend {
            Backend::Store(store) => self
                .release_store(store.as_ref(), &session, now)
                .await
                .inspect_err(|e| report(store.name(), e, "session write"))?,
            Backend::Sealed(ring, aad) => self.release_sealed(ring, aad, &session, now)?,
        };
        Ok(self.response(&session, outcome, send_id, now))
    }

    fn response(
        &self,
        session: &Session,
        outcome: Outcome,
        send: Option<String>,
        now: u64,
    ) -> Release {
        let c = &self.inner.config;
        let mut release = Release {
            set_cookie: None,
            sid_header: None,
            no_store: false,
            vary_cookie: true,
            outcome,
        };
        match (outcome, send) {
            (Outcome::Destroyed, _) if c.enable_set_cookie => {
                release.set_cookie = Some(removal_cookie(c, session.https));
            }
            (_, Some(value)) => {
                if c.enable_set_cookie {
                    let lifetime = session.cookie_lifetime.unwrap_or(c.cookie_lifetime);
                    release.set_cookie = Some(set_cookie(c, &value, session.https, now, lifetime));
                    release.no_store = true;
                }
                if c.sid_in_header && (session.is_new() || session.id_changed) {
                    release.sid_header = Some((c.header_name.clone(), session.id.clone()));
                    release.no_store = true;
                }
            }
            _ => {}
        }
        release
    }

    /// Writes or touches a server-side session; returns the outcome and the id to send.
    async fn release_store(
        &self,
        store: &dyn Store,
        s: &Session,
        now: u64,
    ) -> Result<(Outcome, Option<String>)> {
        let lifetime = s
            .cookie_lifetime
            .unwrap_or(self.inner.config.cookie_lifetime);
        let sliding = lifetime > 0;
        if s.is_modified() {
            return Ok(match self.write_changes(store, s, now).await? {
                Some(id) => {
                    // A lifetime set in this request is sent with the write that may change it.
                    let send = s.is_new() || s.id_changed || sliding || s.cookie_lifetime.is_some();
                    (Outcome::Written, send.then_some(id))
                }
                None => (Outcome::Gone, None),
            });
        }
        if s.destroyed && s.is_new() {
            return Ok((Outcome::Destroyed, None));
        }
        let outcome = match s.version {
            Some(version) if self.touch_due(s, now) => {
                if self.touch(store, s, version, now).await? {
                    Outcome::Touched
                } else {
                    Outcome::Gone
                }
            }
            _ => Outcome::Unchanged,
        };
        let send = s.id_changed || (sliding && outcome == Outcome::Touched);
        Ok((outcome, send.then(|| s.id.clone())))
    }

    /// Whether an unchanged session's expiry should move now: at most once per touch interval.
    fn touch_due(&self, s: &Session, now: u64) -> bool {
        let interval = secs_ms(self.inner.config.effective_touch_interval());
        self.expiry(s.created_ms, now) >= s.expires_at_ms.saturating_add(interval)
    }

    /// A stored record of `data` created at `created`, expiring as a write at `now` gives.
    fn record(&self, created: u64, data: &Map<String, Value>, version: u64, now: u64) -> Record {
        Record {
            data: payload::encode(created, data),
            expires_at_ms: self.expiry(created, now),
            version,
        }
    }

    /// Extends the expiry of an unchanged session; `false` when it is gone. Never writes this
    /// request's copy over a newer one: without touch or compare-and-set, the touch takes the
    /// write lock and rewrites what is stored now.
    async fn touch(&self, store: &dyn Store, s: &Session, version: u64, now: u64) -> Result<bool> {
        let caps = store.capabilities();
        if caps.touch {
            return store.touch(&s.id, self.expiry(s.created_ms, now)).await;
        }
        if caps.compare_and_set {
            // Same data, same version: other requests' views stay current. A refused write
            // means another request wrote meanwhile, which moved the expiry too.
            let record = self.record(s.created_ms, &s.data, version, now);
            return Ok(store
                .write(&s.id, &record, Expect::Version(version))
                .await?
                || store.read(&s.id).await?.is_some());
        }
        let _queue = self.write_lock(&s.id).lock().await;
        let Some((stored, version)) = self.reread(store, &s.id, now).await? else {
            return Ok(false);
        };
        let record = self.record(stored.created, &stored.data, version, now);
        store.write(&s.id, &record, Expect::Any).await
    }

    /// Applies the request's changes to the latest stored record: with compare-and-set,
    /// retried on conflict after a re-read and merge; without it, merged onto a re-read under
    /// this process's write lock. Returns the id written under, or `None` when the session
    /// was destroyed or expired meanwhile (a late release never brings it back).
    async fn write_changes(
        &self,
        store: &dyn Store,
        s: &Session,
        now: u64,
    ) -> Result<Option<String>> {
        let _queue = self.write_lock(&s.id).lock().await;
        let cas = store.capabilities().compare_and_set;
        let mut id = s.id.clone();
        // The first attempt: a new session is written if absent; with compare-and-set our
        // view is the latest while the stored version has not moved; without it, re-read.
        let (mut created, mut data, mut expect): (u64, Data, Expect) = match s.version {
            None => (
                s.created_ms,
                Arc::new(s.merge_into(Map::new())),
                Expect::Absent,
            ),
            Some(v) if cas => (s.created_ms, s.data.clone(), Expect::Version(v)),
            Some(_) => match self.reread(store, &id, now).await? {
                Some((stored, v)) => (
                    stored.created,
                    Arc::new(s.merge_into(stored.data)),
                    Expect::Version(v),
                ),
                None => return Ok(None),
            },
        };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let version = match expect {
                Expect::Version(v) => v.wrapping_add(1),
                _ => 1,
            };
            let record = self.record(created, &data, version, now);
            self.check_size(&data, record.data.len())?;
            let expect_now = if cas { expect } else { Expect::Any };
            if store.write(&id, &record, expect_now).await? {
                // The next read of these bytes, here or from a cache, needs no decode.
                self.inner.decoded.put(&id, record.data, created, data);
                return Ok(Some(id));
            }
            if !cas {
                return Err(Error::store(
                    store.name(),
                    "write was refused by a store without compare-and-set",
                ));
            }
            if s.is_new() {
                // Someone holds this brand-new id: take another one.
                id = self.new_id()?;
                continue;
            }
            let Some((stored, v)) = self.reread(store, &id, now).await? else {
                return Ok(None);
            };
            (created, data, expect) = (
                stored.created,
                Arc::new(s.merge_into(stored.data)),
                Expect::Version(v),
            );
        }
        Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "session write conflicted {MAX_WRITE_ATTEMPTS} times in store `{}`",
                store.name()
            ),
        ))
    }

    /// `TOO_LARGE` when a session about to be stored holds more keys or bytes than allowed.
    fn check_size(&self, data: &Map<String, Value>, bytes: usize) -> Result<()> {
        let c = &self.inner.config;
        let over = |limit: u64, n: usize| limit > 0 && n as u64 > limit;
        if over(c.max_session_keys, data.len()) {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "the session would hold {} keys, above maxSessionKeys ({})",
                    data.len(),
                    c.max_session_keys
                ),
            ));
        }
        if over(c.max_session_bytes, bytes) {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "the session would be {bytes} bytes, above maxSessionBytes ({}); keep less in it",
                    c.max_session_bytes
                ),
            ));
        }
        Ok(())
    }

    fn write_lock(&self, id: &str) -> &futures_util::lock::Mutex<()> {
        // FNV-1a: ids are random already, this only spreads them over the stripes.
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        &self.inner.write_locks[(hash % WRITE_LOCKS as u64) as usize]
    }

    /// The live stored payload and version under `id`; `None` when gone or expired. Corrupt
    /// bytes count as an empty session, so this request's changes are still written.
    async fn reread(
        &self,
        store: &dyn Store,
        id: &str,
        now: u64,
    ) -> Result<Option<(Payload, u64)>> {
        let Some(record) = store.read(id).await? else {
            return Ok(None);
        };
        let payload = Payload::decode(&record.data).unwrap_or(Payload {
            v: FORMAT_VERSION,
            id: None,
            created: now,
            expires: None,
            data: Map::new(),
        });
        if !self.is_live(payload.created, record.expires_at_ms, now) {
            return Ok(None);
        }
        Ok(Some((payload, record.version)))
    }

    fn release_sealed(
        &self,
        ring: &KeyRing,
        aad: &[u8],
        s: &Session,
        now: u64,
    ) -> Result<(Outcome, Option<String>)> {
        if s.destroyed && s.is_new() && !s.is_modified() {
            return Ok((Outcome::Destroyed, None));
        }
        let expires = self.expiry(s.created_ms, now);
        let touch_due = !s.is_new()
            && expires
                >= s.expires_at_ms
                    .saturating_add(secs_ms(self.inner.config.effective_touch_interval()));
        let outcome = if s.is_modified() {
            Outcome::Written
        } else if touch_due {
            Outcome::Touched
        } else if s.id_changed {
            Outcome::Written
        } else {
            return Ok((Outcome::Unchanged, None));
        };
        self.check_size(&s.data, 0)?;
        let name = &self.inner.config.cookie_name;
        let plain = Payload {
            v: FORMAT_VERSION,
            id: Some(s.id.clone()),
            created: s.created_ms,
            expires: Some(expires),
            data: Map::clone(&s.data),
        }
        .encode();
        let sealed = ring.seal(&plain, aad, self.inner.entropy.as_ref())?;
        let size = name.len() + 1 + sealed.len();
        if size > MAX_COOKIE_BYTES {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "sealed session cookie would be {size} bytes, above the {MAX_COOKIE_BYTES}-byte browser limit; keep less in the session or use a server-side provider"
                ),
            ));
        }
        Ok((outcome, Some(sealed)))
    }

    /// The number of live sessions (beego's `GetActiveSession`).
    ///
    /// # Errors
    /// [`Unsupported`](ErrorKind::Unsupported) for the `cookie` provider, which keeps nothing
    /// on the server; [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails.
    pub async fn count(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Store(s) => s.count(self.now()).await,
            Backend::Sealed(..) => Err(Error::new(
                ErrorKind::Unsupported,
                "the cookie provider keeps no sessions on the server to count",
            )),
        }
    }

    /// One GC pass (beego's `SessionGC`): removes expired records and returns how many.
    /// Stores with native TTL need none and return 0.
    ///
    /// # Errors
    /// [`StoreUnavailable`](ErrorKind::StoreUnavailable) when the store fails.
    pub async fn gc(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Store(s) if !s.capabilities().native_ttl => s.gc(self.now()).await,
            _ => Ok(0),
        }
    }

    /// The interval between GC passes (`gclifetime`).
    pub fn gc_interval(&self) -> Duration {
        Duration::from_secs(self.inner.config.gc_lifetime)
    }

    /// Runs a GC pass every [`gc_interval`](Manager::gc_interval), forever, for hosts with
    /// a runtime: `sleep` is the runtime's timer, `on_error` hears about failed passes.
    /// Returns at once, doing nothing, for stores that need no GC.
    pub async fn gc_loop<S, F>(&self, mut sleep: S, mut on_error: impl FnMut(Error))
    where
        S: FnMut(Duration) -> F,
        F: std::future::Future<Output = ()>,
    {
        match &self.inner.backend {
            Backend::Store(s) if !s.capabilities().native_ttl => {}
            _ => return,
        }
        loop {
            sleep(self.gc_interval()).await;
            if let Err(e) = self.gc().await {
                report(&self.inner.config.provider, &e, "GC pass");
                on_error(e);
            }
        }
    }
}

/// Reports a failed store call as a `tracing` event with target `polysession` (native targets;
/// nothing on wasm32, where no subscriber would hear it). Quiet by default: a store outage is
/// `debug` (the caller gets the error, and it would repeat on every request); a GC pass that
/// failed and a write whose retries ran out are `warn`. The error text names the provider and
/// the address, never a password or a session id.
fn report(provider: &str, error: &Error, what: &'static str) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let loud = what == "GC pass" || error.kind() == ErrorKind::Conflict;
        if loud {
            tracing::warn!(target: "polysession", provider, error = %error, "{what} failed");
        } else {
            tracing::debug!(target: "polysession", provider, error = %error, "{what} failed");
        }
    }
    #[cfg(target_arch = "wasm32")]
    let _ = (provider, error, what);
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use futures_executor::block_on;

    /// Decoded sessions are kept for live ids only: a regenerate or a destroy lets go of the
    /// old id's entry at once instead of leaving it to the LRU.
    #[test]
    fn dead_ids_are_not_kept_decoded() {
        let manager = Manager::new(Config::default()).unwrap();
        let open = |cookie: &str| {
            let req = RequestInfo {
                cookies: vec![cookie],
                ..Default::default()
            };
            block_on(manager.start(&req)).unwrap()
        };
        let mut s = block_on(manager.start(&RequestInfo::default())).unwrap();
        s.set("a", 1).unwrap();
        let release = block_on(manager.release(s)).unwrap();
        let cookie = release.set_cookie.unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        assert_eq!(manager.inner.decoded.usage().0, 1, "kept after the write");
        let mut s = open(&cookie);
        block_on(manager.regenerate(&mut s)).unwrap();
        assert_eq!(manager.inner.decoded.usage().0, 0, "the old id let go");
        let cookie = block_on(manager.release(s)).unwrap().set_cookie.unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let mut s = open(&cookie);
        assert_eq!(s.get("a"), Some(&serde_json::json!(1)));
        assert_eq!(manager.inner.decoded.usage().0, 1, "kept under the new id");
        block_on(manager.destroy(&mut s)).unwrap();
        assert_eq!(manager.inner.decoded.usage().0, 0, "destroyed");
    }
}
