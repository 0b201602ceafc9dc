//! The local file system as deltalake sees it, with one listing made cheap.
//!
//! Every snapshot update lists `_delta_log/` from the version it has (`list_with_offset`).
//! `object_store`'s [`LocalFileSystem`] walks the whole directory for that, following links
//! (a `stat` per entry) and turning every entry's path into an object path before it
//! compares it with the offset. The log grows by a file per commit, so each update of a
//! long-lived table cost more than the last (measured: about 3 ms per listing after 300
//! commits, two or three listings per commit). [`LocalLog`] answers that one call by
//! reading the directory's names, keeping those after the offset, and `stat`ing only those.
//! Everything else, and any listing it does not recognise, goes to [`LocalFileSystem`].

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// The directory whose listings are served from its names.
const LOG_DIR: &str = "_delta_log";

/// The local file system rooted at `/`, with fast listings of `_delta_log/` from an offset.
#[derive(Debug)]
pub(super) struct LocalLog {
    inner: LocalFileSystem,
}

impl LocalLog {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(LocalLog {
            inner: LocalFileSystem::new(),
        })
    }
}

impl std::fmt::Display for LocalLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalLog({})", self.inner)
    }
}

/// What a fast listing found: the entries, or that it cannot answer (subdirectories after
/// the offset, names it would have to decode) and the full walk must.
enum Listed {
    Entries(Vec<ObjectMeta>),
    Fallback,
}

/// `_delta_log`'s entries after `offset`, each `stat`ed once.
fn list_log(dir: PathBuf, prefix: Path, offset: Path) -> std::io::Result<Listed> {
    let mut out = Vec::new();
    let offset_text = offset.as_ref().to_string();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Ok(Listed::Fallback);
        };
        // Plain names only: anything object_store would percent-encode goes the slow way.
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Ok(Listed::Fallback);
        }
        let location_text = format!("{}/{name}", prefix.as_ref());
        let kind = entry.file_type()?;
        if kind.is_dir() || kind.is_symlink() {
            // A subdirectory (sidecars, staged commits) or a link: skip it only when all
            // it can hold sorts before the offset.
            let dir_prefix = format!("{location_text}/");
            if dir_prefix.as_str() < offset_text.as_str() && !offset_text.starts_with(&dir_prefix) {
                continue;
            }
            return Ok(Listed::Fallback);
        }
        if location_text.as_str() <= offset_text.as_str() {
            continue;
        }
        let metadata = match entry.metadata() {
            Ok(m) => m,
            // Removed since it was read (log cleanup): not listed, as a walk would not.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let Ok(modified) = metadata.modified() else {
            return Ok(Listed::Fallback);
        };
        out.push(ObjectMeta {
            location: prefix.clone().join(name.as_str()),
            last_modified: modified.into(),
            size: metadata.len(),
            e_tag: Some(etag(&metadata)),
            version: None,
        });
    }
    Ok(Listed::Entries(out))
}

/// The ETag [`LocalFileSystem`] gives a file: inode, modification time, size.
fn etag(metadata: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::SystemTime::UNIX_EPOCH).ok())
        .unwrap_or_default()
        .as_micros();
    format!("{:x}-{mtime:x}-{:x}", metadata.ino(), metadata.len())
}

#[async_trait]
impl ObjectStore for LocalLog {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let Some(prefix) = prefix.filter(|p| p.filename() == Some(LOG_DIR)) else {
            return self.inner.list_with_offset(prefix, offset);
        };
        let dir = PathBuf::from(format!("/{}", prefix.as_ref()));
        let (fast_prefix, fast_offset) = (prefix.clone(), offset.clone());
        let fallback = self.inner.list_with_offset(Some(prefix), offset);
        futures::stream::once(async move {
            let listed =
                tokio::task::spawn_blocking(move || list_log(dir, fast_prefix, fast_offset)).await;
            match listed {
                Ok(Ok(Listed::Entries(entries))) => {
                    futures::stream::iter(entries.into_iter().map(Ok)).boxed()
                }
                // A missing directory, an unexpected entry or a failed task: the full walk
                // answers (and reports any error as it would).
                _ => fallback,
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    async fn listed(store: &dyn ObjectStore, prefix: &Path, offset: &Path) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = store
            .list_with_offset(Some(prefix), offset)
            .map_ok(|m| (m.location.to_string(), m.size))
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        out.sort();
        out
    }

    #[tokio::test]
    async fn log_listings_from_an_offset_match_the_full_walk() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = dir.path().join("t").join(LOG_DIR);
        std::fs::create_dir_all(&log).unwrap_or_else(|e| panic!("{e}"));
        for v in 0..25u64 {
            std::fs::write(log.join(format!("{v:020}.json")), vec![b'x'; v as usize])
                .unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(log.join("00000000000000000019.checkpoint.parquet"), b"cp")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(log.join("_last_checkpoint"), b"{}").unwrap_or_else(|e| panic!("{e}"));
        let prefix = Path::from_absolute_path(&log).unwrap_or_else(|e| panic!("{e}"));
        let fast = LocalLog::new();
        let walk = LocalFileSystem::new();
        for v in [0u64, 9, 19, 24, 30] {
            let offset = prefix.clone().join(format!("{v:020}").as_str());
            let got = listed(fast.as_ref(), &prefix, &offset).await;
            assert_eq!(got, listed(&walk, &prefix, &offset).await, "offset {v}");
        }
        let first = prefix.clone().join(format!("{:020}", 23).as_str());
        let got = listed(fast.as_ref(), &prefix, &first).await;
        let names: Vec<&str> = got
            .iter()
            .filter_map(|(p, _)| p.rsplit('/').next())
            .collect();
        assert_eq!(
            names,
            [
                "00000000000000000023.json",
                "00000000000000000024.json",
                "_last_checkpoint"
            ]
        );
        // A subdirectory after the offset: the full walk answers, with its files.
        std::fs::create_dir_all(log.join("_sidecars")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(log.join("_sidecars").join("a.parquet"), b"s")
            .unwrap_or_else(|e| panic!("{e}"));
        let got = listed(fast.as_ref(), &prefix, &first).await;
        assert_eq!(got, listed(&walk, &prefix, &first).await);
        assert!(got.iter().any(|(p, _)| p.ends_with("_sidecars/a.parquet")));
        // A missing log: the same (empty or error) answer as the walk.
        let missing = Path::from_absolute_path(dir.path().join("none").join(LOG_DIR))
            .unwrap_or_else(|e| panic!("{e}"));
        let fast_missing: Result<Vec<ObjectMeta>> = fast
            .list_with_offset(Some(&missing), &missing.clone().join("0"))
            .try_collect()
            .await;
        let walk_missing: Result<Vec<ObjectMeta>> = walk
            .list_with_offset(Some(&missing), &missing.clone().join("0"))
            .try_collect()
            .await;
        assert_eq!(
            fast_missing.map(|v| v.len()).ok(),
            walk_missing.map(|v| v.len()).ok()
        );
    }
}
