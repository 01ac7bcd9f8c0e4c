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
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
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
            }),
        }
    }

    /// Reads the save path from `config.provider_config`.
    ///
    /// # Errors
    /// [`BadConfig`](polysession_core::ErrorKind::BadConfig) naming `providerConfig` when the path is empty or
    /// the JSON form is malformed.
    pub fn from_config(config: &Config) -> Result<Self> {
        let raw = config.provider_config.trim();
        let path = if raw.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(raw).map_err(|e| {
                Error::bad_config("providerConfig", format!("file provider JSON: {e}"))
            })?;
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
        Ok(FileStore::new(path, config))
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

    fn write_path(dir: &Path, path: &Path, record: &Record) -> Result<()> {
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
        let done = file.write_all(&bytes).and_then(|_| fs::rename(&tmp, path));
        if let Err(e) = done {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(e, path));
        }
        Ok(())
    }

    /// Every `(path, dir, id)` of a valid id stored under the root, skipping symlinks.
    fn walk(&self) -> Result<Vec<(PathBuf, PathBuf)>> {
        let mut out = Vec::new();
        let level = |dir: &Path| -> Result<Vec<(String, PathBuf)>> {
            let entries = match fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == IoKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_err(e, dir)),
            };
            let mut found = Vec::new();
            for entry in entries.flatten() {
                if let (Ok(kind), Ok(name)) = (entry.file_type(), entry.file_name().into_string()) {
                    if !kind.is_symlink() {
                        found.push((name, entry.path()));
                    }
                }
            }
            Ok(found)
        };
        for (a, dir_a) in level(&self.root)? {
            if a.chars().count() != 1 || !dir_a.is_dir() {
                continue;
            }
            for (b, dir_b) in level(&dir_a)? {
                if b.chars().count() != 1 || !dir_b.is_dir() {
                    continue;
                }
                for (name, path) in level(&dir_b)? {
                    if self.ids.is_valid(&name) && name[0..1] == a && name[1..2] == b {
                        out.push((path, dir_b.clone()));
                    }
                }
            }
        }
        Ok(out)
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
            Inner::write_path(&dir, &path, &record)?;
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
            for (path, _) in inner.walk()? {
                if Inner::read_path(&path)?.is_some_and(|r| r.expires_at_ms > now_ms) {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }

    async fn gc(&self, now_ms: u64) -> Result<u64> {
        self.run(move |inner| {
            let mut removed = 0;
            for (path, dir) in inner.walk()? {
                let _lock = Inner::lock(&dir)?;
                if Inner::read_path(&path)?.is_some_and(|r| r.expires_at_ms <= now_ms) {
                    match fs::remove_file(&path) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == IoKind::NotFound => {}
                        Err(e) => return Err(io_err(e, &path)),
                    }
                }
            }
            Ok(removed)
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
                Inner::write_path(&root, &path, &record).unwrap();
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
