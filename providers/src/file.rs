//! The `file` provider: one file per session under `savePath/s[0]/s[1]/sid`, as in beego.
//!
//! Files are written atomically (temp file + rename), with mode 0600 in 0700 directories,
//! never through a symlink. A per-directory lock file serialises writers, so compare-and-set
//! holds across threads and processes sharing the directory.

use polysession_core::{
    async_trait, Capabilities, Config, Error, ErrorKind, Expect, IdGenerator, Record, Result, Store,
};
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind as IoKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"PSF1";
const HEADER: usize = 4 + 8 + 8;
const LOCK_NAME: &str = ".lock";

/// Sessions as files under a save path.
///
/// Provider config: the save path (`./tmp`), or `{"path": "./tmp"}` (`save_path` and
/// `savePath` are read too). An empty path is a config error.
///
/// ```
/// use polysession_core::Config;
/// use polysession_providers::FileStore;
/// let dir = std::env::temp_dir().join("polysession-doc-file");
/// let config = Config::builder().provider("file", dir.to_str().unwrap()).build().unwrap();
/// let store = FileStore::from_config(&config).unwrap();
/// assert_eq!(store.path(), dir.as_path());
/// assert!(FileStore::from_config(&Config::builder().provider("file", "").build().unwrap()).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    ids: IdGenerator,
    /// Flush each write to disk (file, then its directory) before it counts as done.
    fsync: bool,
}

/// This process's effective user id.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

fn io_err(e: std::io::Error, what: &Path) -> Error {
    Error::store("file", what.display()).with_source(e)
}

impl FileStore {
    /// A store under `root` for ids shaped by `config`.
    pub fn new(root: impl Into<PathBuf>, config: &Config) -> Self {
        FileStore {
            inner: Arc::new(Inner {
                root: root.into(),
                ids: IdGenerator::new(config),
                fsync: false,
            }),
        }
    }

    /// Flushes every write to disk (the file, then its directory) before release returns:
    /// sessions survive a power loss, at the cost of a sync per write. beego never syncs.
    pub fn fsync(mut self, on: bool) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.fsync = on;
        }
        self
    }

    /// Reads the save path from `config.provider_config`.
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig` when the path is empty or
    /// the JSON form is malformed.
    pub fn from_config(config: &Config) -> Result<Self> {
        let raw = config.provider_config.trim();
        let mut fsync = false;
        let path = if raw.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| {
                Error::bad_config("providerConfig", format!("file provider JSON: {e}"))
            })?;
            fsync = match v.get("fsync") {
                None => false,
                Some(f) => f.as_bool().ok_or_else(|| {
                    Error::bad_config(
                        "providerConfig",
                        "file provider: `fsync` must be true or false",
                    )
                })?,
            };
            ["path", "save_path", "savePath"]
                .iter()
                .find_map(|k| v.get(*k).and_then(|p| p.as_str()))
                .unwrap_or_default()
                .trim()
                .to_owned()
        } else {
            raw.to_owned()
        };
        if path.is_empty() {
            return Err(Error::bad_config(
                "providerConfig",
                "the file provider needs a save path, e.g. \"./tmp\" or {\"path\": \"./tmp\"}",
            ));
        }
        Ok(FileStore::new(path, config).fsync(fsync))
    }

    /// The save path.
    pub fn path(&self) -> &Path {
        &self.inner.root
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| Error::store("file", "I/O task failed").with_source(e))?
    }
}

impl Inner {
    /// `root/s[0]/s[1]`, checked: the id is valid, and neither level is a symlink.
    fn dir_for(&self, id: &str, create: bool) -> Result<PathBuf> {
        if !self.ids.is_valid(id) || id.len() < 2 {
            return Err(Error::new(
                ErrorKind::BadInput,
                "file provider: not a valid session id",
            ));
        }
        let mut dir = self.root.clone();
        for part in [&id[0..1], &id[1..2]] {
            dir.push(part);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
                    return Err(Error::store(
                        "file",
                        format!("{} is not a plain directory", dir.display()),
                    ));
                }
                // In a shared save path, a level directory someone else owns or may write
                // into could be used to plant or swap session files.
                Ok(m) if m.uid() != euid() || m.mode() & 0o022 != 0 => {
                    return Err(Error::store(
                        "file",
                        format!(
                            "{} is owned by another user or writable by others (mode {:o}); refusing it",
                            dir.display(),
                            m.mode() & 0o7777
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) if e.kind() == IoKind::NotFound && create => {
                    DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&dir)
                        .map_err(|e| io_err(e, &dir))?;
                }
                Err(e) if e.kind() == IoKind::NotFound => return Ok(dir),
                Err(e) => return Err(io_err(e, &dir)),
            }
        }
        Ok(dir)
    }

    /// An exclusive lock on `dir`'s lock file, released when the file is dropped.
    fn lock(dir: &Path) -> Result<File> {
        let path = dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| io_err(e, &path))?;
        file.lock().map_err(|e| io_err(e, &path))?;
        Ok(file)
    }

    fn open(path: &Path) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }

    /// The record in `path`; `None` if missing, or when the file is not ours (corrupt).
    fn read_path(path: &Path) -> Result<Option<Record>> {
        let mut file = match Inner::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == IoKind::NotFound => return Ok(None),
            // A symlink planted in place of a session file is refused (ELOOP): no session.
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
            Err(e) => return Err(io_err(e, path)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io_err(e, path))?;
        Ok(decode(&bytes))
    }

    fn write_path(dir: &Path, path: &Path, record: &Record, fsync: bool) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tmp = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| io_err(e, &tmp))?;
        let mut bytes = Vec::with_capacity(HEADER + record.data.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&record.version.to_le_bytes());
        bytes.extend_from_slice(&record.expires_at_ms.to_le_bytes());
        bytes.extend_from_slice(&record.data);
        let done = file
            .write_all(&bytes)
            .and_then(|_| if fsync { file.sync_all() } else { Ok(()) })
            .and_then(|_| fs::rename(&tmp, path))
            .and_then(|_| {
                if fsync {
                    File::open(dir)?.sync_all()
                } else {
                    Ok(())
                }
            });
        if let Err(e) = done {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(e, path));
        }
        Ok(())
    }

    /// Calls `visit(path, dir)` for every file of a valid id under the root (symlinks
    /// skipped), reading one directory at a time, never the whole tree into memory. An error
    /// on one entry does not stop the walk: the errors are counted, and the first is kept.
    fn walk(&self, mut visit: impl FnMut(&Path, &Path) -> Result<()>) -> Walked {
        let mut walked = Walked::default();
        let level = |dir: &Path, walked: &mut Walked| -> Option<fs::ReadDir> {
            match fs::read_dir(dir) {
                Ok(entries) => Some(entries),
                Err(e) if e.kind() == IoKind::NotFound => None,
                Err(e) => {
                    walked.fail(io_err(e, dir));
                    None
                }
            }
        };
        let plain = |entry: &fs::DirEntry| -> Option<(String, PathBuf)> {
            let kind = entry.file_type().ok()?;
            let name = entry.file_name().into_string().ok()?;
            (!kind.is_symlink()).then(|| (name, entry.path()))
        };
        for a in level(&self.root, &mut walked)
            .into_iter()
            .flatten()
            .flatten()
        {
            let Some((a, dir_a)) = plain(&a).filter(|(n, p)| n.chars().count() == 1 && p.is_dir())
            else {
                continue;
            };
            for b in level(&dir_a, &mut walked).into_iter().flatten().flatten() {
                let Some((b, dir_b)) =
                    plain(&b).filter(|(n, p)| n.chars().count() == 1 && p.is_dir())
                else {
                    continue;
                };
                for entry in level(&dir_b, &mut walked).into_iter().flatten().flatten() {
                    let Some((name, path)) = plain(&entry) else {
                        continue;
                    };
                    if self.ids.is_valid(&name) && name[0..1] == a && name[1..2] == b {
                        if let Err(e) = visit(&path, &dir_b) {
                            walked.fail(e);
                        }
                    }
                }
            }
        }
        walked
    }
}

/// What a walk met: how many entries failed, and the first failure.
#[derive(Default)]
struct Walked {
    failures: u64,
    first: Option<Error>,
}

impl Walked {
    fn fail(&mut self, e: Error) {
        self.failures += 1;
        self.first.get_or_insert(e);
    }

    /// `done` when nothing failed, else a store error saying what was done and what failed.
    fn result(self, done: u64, what: &str) -> Result<u64> {
        match self.first {
            None => Ok(done),
            Some(first) => Err(Error::store(
                "file",
                format!(
                    "{what} {done}, but {} entries failed; the first",
                    self.failures
                ),
            )
            .with_source(first)),
        }
    }
}

fn decode(bytes: &[u8]) -> Option<Record> {
    if bytes.len() < HEADER || &bytes[0..4] != MAGIC {
        return None;
    }
    let version = u64::from_le_bytes(bytes[4..12].try_into().ok()?);
    let expires_at_ms = u64::from_le_bytes(bytes[12..20].try_into().ok()?);
    Some(Record {
        data: bytes[HEADER..].to_vec(),
        expires_at_ms,
        version,
    })
}

fn holds(current: Option<&Record>, expect: Expect) -> bool {
    match (expect, current) {
        (Expect::Any, _) | (Expect::Absent, None) => true,
        (Expect::Version(v), Some(r)) => r.version == v,
        _ => false,
    }
}

#[async_trait]
impl Store for FileStore {
    fn name(&self) -> &str {
        "file"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            native_ttl: false,
            compare_and_set: true,
            touch: true,
        }
    }

    async fn init(&self) -> Result<()> {
        self.run(|inner| {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&inner.root)
                .map_err(|e| io_err(e, &inner.root))
        })
        .await
    }

    async fn read(&self, id: &str) -> Result<Option<Record>> {
        let id = id.to_owned();
        self.run(move |inner| {
            let dir = inner.dir_for(&id, false)?;
            Inner::read_path(&dir.join(&id))
        })
        .await
    }

    async fn write(&self, id: &str, record: &Record, expect: Expect) -> Result<bool> {
        let (id, record) = (id.to_owned(), record.clone());
        self.run(move |inner| {
            let dir = inner.dir_for(&id, true)?;
            let _lock = Inner::lock(&dir)?;
            let path = dir.join(&id);
            if expect != Expect::Any && !holds(Inner::read_path(&path)?.as_ref(), expect) {
                return Ok(false);
            }
            Inner::write_path(&dir, &path, &record, inner.fsync)?;
            Ok(true)
        })
        .await
    }

    async fn touch(&self, id: &str, expires_at_ms: u64) -> Result<bool> {
        let id = id.to_owned();
        self.run(move |inner| {
            let dir = inner.dir_for(&id, false)?;
            if !dir.exists() {
                return Ok(false);
            }
            let _lock = Inner::lock(&dir)?;
            let path = dir.join(&id);
            if Inner::read_path(&path)?.is_none() {
                return Ok(false);
            }
            let file = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(|e| io_err(e, &path))?;
            file.write_all_at(&expires_at_ms.to_le_bytes(), 12)
                .and_then(|_| {
                    if inner.fsync {
                        file.sync_data()
                    } else {
                        Ok(())
                    }
                })
                .map_err(|e| io_err(e, &path))?;
            Ok(true)
        })
        .await
    }

    async fn destroy(&self, id: &str) -> Result<()> {
        let id = id.to_owned();
        self.run(move |inner| {
            let dir = inner.dir_for(&id, false)?;
            if !dir.exists() {
                return Ok(());
            }
            let _lock = Inner::lock(&dir)?;
            let path = dir.join(&id);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != IoKind::NotFound => Err(io_err(e, &path)),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn regenerate(&self, old: &str, new: &str) -> Result<bool> {
        let (old, new) = (old.to_owned(), new.to_owned());
        self.run(move |inner| {
            let old_dir = inner.dir_for(&old, false)?;
            let new_dir = inner.dir_for(&new, true)?;
            if !old_dir.exists() {
                return Ok(false);
            }
            // Lock both directories in path order so two moves cannot deadlock.
            let mut dirs = vec![old_dir.clone(), new_dir.clone()];
            dirs.sort();
            dirs.dedup();
            let _locks = dirs
                .iter()
                .map(|d| Inner::lock(d))
                .collect::<Result<Vec<_>>>()?;
            let (from, to) = (old_dir.join(&old), new_dir.join(&new));
            if Inner::read_path(&to)?.is_some() || Inner::read_path(&from)?.is_none() {
                return Ok(false);
            }
            fs::rename(&from, &to).map_err(|e| io_err(e, &to))?;
            Ok(true)
        })
        .await
    }

    async fn count(&self, now_ms: u64) -> Result<u64> {
        self.run(move |inner| {
            let mut n = 0;
            let walked = inner.walk(|path, _| {
                if Inner::read_path(path)?.is_some_and(|r| r.expires_at_ms > now_ms) {
                    n += 1;
                }
                Ok(())
            });
            walked.result(n, "counted")
        })
        .await
    }

    /// Removes expired sessions, one directory lock at a time; an entry that fails does not
    /// stop the pass.
    async fn gc(&self, now_ms: u64) -> Result<u64> {
        self.run(move |inner| {
            let mut removed = 0;
            let walked = inner.walk(|path, dir| {
                let _lock = Inner::lock(dir)?;
                if Inner::read_path(path)?.is_some_and(|r| r.expires_at_ms <= now_ms) {
                    match fs::remove_file(path) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == IoKind::NotFound => {}
                        Err(e) => return Err(io_err(e, path)),
                    }
                }
                Ok(())
            });
            walked.result(removed, "removed")
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn temp_root(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("polysession-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn rec(v: u64, exp: u64) -> Record {
        Record {
            data: br#"{"v":1}"#.to_vec(),
            expires_at_ms: exp,
            version: v,
        }
    }

    const ID: &str = "0123456789abcdef0123456789abcdef";
    const ID2: &str = "fedcba9876543210fedcba9876543210";

    #[tokio::test]
    async fn layout_modes_and_round_trip() {
        let root = temp_root("layout");
        let s = FileStore::new(&root, &Config::default());
        assert!(s.write(ID, &rec(1, 99), Expect::Absent).await.unwrap());
        let path = root.join("0").join("1").join(ID);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::metadata(root.join("0")).unwrap().mode() & 0o777, 0o700);
        assert_eq!(s.read(ID).await.unwrap().unwrap(), rec(1, 99));
        assert!(!s.write(ID, &rec(2, 99), Expect::Version(5)).await.unwrap());
        assert!(s.touch(ID, 500).await.unwrap());
        assert_eq!(s.read(ID).await.unwrap().unwrap().expires_at_ms, 500);
        assert!(s.regenerate(ID, ID2).await.unwrap());
        assert!(s.read(ID).await.unwrap().is_none());
        assert!(root.join("f").join("e").join(ID2).exists());
        let leftovers: Vec<_> = fs::read_dir(root.join("0").join("1"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(
            leftovers,
            vec![std::ffi::OsString::from(LOCK_NAME)],
            "no temp files left"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn invalid_ids_never_become_paths() {
        let root = temp_root("ids");
        let s = FileStore::new(&root, &Config::default());
        for bad in [
            "../../etc/passwd",
            "a",
            "",
            "0123456789abcdef0123456789abcde/",
        ] {
            assert_eq!(
                s.read(bad).await.unwrap_err().kind(),
                ErrorKind::BadInput,
                "{bad}"
            );
            assert!(s.write(bad, &rec(1, 1), Expect::Any).await.is_err());
            assert!(s.destroy(bad).await.is_err());
        }
        assert!(!root.exists(), "nothing was created");
    }

    #[tokio::test]
    async fn symlinks_are_not_followed() {
        let root = temp_root("links");
        let outside = temp_root("outside");
        fs::create_dir_all(root.join("0").join("1")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(
            outside.join("secret"),
            b"PSF1\x01\0\0\0\0\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f{}",
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("0").join("1").join(ID))
            .unwrap();
        let s = FileStore::new(&root, &Config::default());
        assert!(
            s.read(ID).await.unwrap().is_none(),
            "symlinked session file is not read"
        );
        std::os::unix::fs::symlink(&outside, root.join("f")).unwrap();
        assert!(
            s.write(ID2, &rec(1, 1), Expect::Any).await.is_err(),
            "symlinked directory refused"
        );
        assert_eq!(s.count(0).await.unwrap(), 0);
        let _ = fs::remove_dir_all(&root);
        let _ = fs::remove_dir_all(&outside);
    }

    #[tokio::test]
    async fn gc_and_count_only_touch_valid_ids() {
        let root = temp_root("gc");
        let s = FileStore::new(&root, &Config::default());
        s.write(ID, &rec(1, 10), Expect::Any).await.unwrap();
        s.write(ID2, &rec(1, 1000), Expect::Any).await.unwrap();
        let stray = root.join("0").join("1").join("notes.txt");
        fs::write(&stray, b"keep me").unwrap();
        fs::write(root.join("README"), b"keep me too").unwrap();
        assert_eq!(s.count(50).await.unwrap(), 1);
        assert_eq!(s.gc(50).await.unwrap(), 1);
        assert!(stray.exists() && root.join("README").exists());
        assert_eq!(s.count(0).await.unwrap(), 1);
        let _ = fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn level_directories_others_can_write_or_own_are_refused() {
        let root = temp_root("shared");
        let s = FileStore::new(&root, &Config::default());
        s.write(ID, &rec(1, 1000), Expect::Any).await.unwrap();
        let level = root.join(&ID[0..1]);
        fs::set_permissions(&level, fs::Permissions::from_mode(0o777)).unwrap();
        let err = s.write(ID, &rec(2, 1000), Expect::Any).await.unwrap_err();
        assert_eq!(err.code(), "STORE_UNAVAILABLE");
        assert!(err.to_string().contains("writable by others"), "{err}");
        assert!(s.read(ID).await.is_err(), "reads refuse it too");
        fs::set_permissions(&level, fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(s.read(ID).await.unwrap().unwrap().version, 1);
        // Owned by someone else (only root can hand a directory over).
        if euid() == 0 {
            std::os::unix::fs::chown(&level, Some(65534), None).unwrap();
            let err = s.read(ID).await.unwrap_err();
            assert!(err.to_string().contains("owned by another user"), "{err}");
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn gc_goes_on_past_an_entry_it_cannot_read() {
        let root = temp_root("gc-errors");
        let s = FileStore::new(&root, &Config::default());
        s.write(ID, &rec(1, 10), Expect::Any).await.unwrap();
        s.write(ID2, &rec(1, 10), Expect::Any).await.unwrap();
        // A directory where a session file should be: reading it fails.
        let broken = format!("{}{}", &ID[..30], "ff");
        assert!(s.inner.ids.is_valid(&broken));
        fs::create_dir_all(root.join(&broken[0..1]).join(&broken[1..2]).join(&broken)).unwrap();
        let err = s.gc(50).await.unwrap_err();
        assert!(
            err.to_string().contains("removed 2, but 1 entries failed"),
            "{err}"
        );
        assert_eq!(
            s.read(ID).await.unwrap(),
            None,
            "expired sessions were still removed"
        );
        assert_eq!(s.read(ID2).await.unwrap(), None);
        let _ = fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn fsync_writes_and_touches_still_round_trip() {
        let root = temp_root("fsync");
        let config = Config::builder()
            .provider(
                "file",
                serde_json::json!({ "path": root, "fsync": true }).to_string(),
            )
            .build()
            .unwrap();
        let s = FileStore::from_config(&config).unwrap();
        assert!(s.inner.fsync);
        s.write(ID, &rec(3, 100), Expect::Absent).await.unwrap();
        assert!(s.touch(ID, 200).await.unwrap());
        assert_eq!(s.read(ID).await.unwrap().unwrap().expires_at_ms, 200);
        let bad = Config::builder()
            .provider("file", r#"{"path": "/x", "fsync": "yes"}"#)
            .build()
            .unwrap();
        assert_eq!(
            FileStore::from_config(&bad).unwrap_err().code(),
            "BAD_CONFIG"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn record_vectors_decode_and_encode() {
        let root = temp_root("vectors");
        fs::create_dir_all(&root).unwrap();
        for (i, case) in crate::vectors::cases("file").iter().enumerate() {
            let name = case["name"].as_str().unwrap();
            let bytes = crate::vectors::unhex(case["hex"].as_str().unwrap());
            let want = crate::vectors::record(&case["record"]);
            assert_eq!(decode(&bytes), want, "{name}");
            if let (Some(record), true) = (want, case["canonical"] == true) {
                let path = root.join(format!("case-{i}"));
                Inner::write_path(&root, &path, &record, false).unwrap();
                assert_eq!(fs::read(&path).unwrap(), bytes, "{name}");
            }
        }
        for case in crate::vectors::cases("file_path") {
            let name = case["name"].as_str().unwrap();
            let config = Config::builder()
                .id_prefix(case["id_prefix"].as_str().unwrap())
                .build()
                .unwrap();
            let store = FileStore::new(&root, &config);
            let id = case["id"].as_str().unwrap();
            let path = store.inner.dir_for(id, true).unwrap().join(id);
            let want: PathBuf = case["path"].as_str().unwrap().split('/').collect();
            assert_eq!(path.strip_prefix(&root).unwrap(), want, "{name}");
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn config_forms() {
        let cfg = |p: &str| Config::builder().provider("file", p).build().unwrap();
        assert_eq!(
            FileStore::from_config(&cfg("./tmp")).unwrap().path(),
            Path::new("./tmp")
        );
        assert_eq!(
            FileStore::from_config(&cfg(r#"{"save_path":"/x"}"#))
                .unwrap()
                .path(),
            Path::new("/x")
        );
        for bad in ["", "  ", "{}", r#"{"path":""}"#, "{bad json"] {
            let err = FileStore::from_config(&cfg(bad)).unwrap_err();
            assert!(err.to_string().contains("providerConfig"), "{bad}");
        }
    }
}

/// The parsers of this provider, for the fuzz targets in `fuzz/`.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    /// Decodes a session file's bytes; `Some` only for a well-formed one.
    pub fn record(bytes: &[u8]) -> Option<polysession_core::Record> {
        super::decode(bytes)
    }
}
