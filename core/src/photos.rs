//! Photos and signature images are files addressed by their SHA-256: stored once, however many
//! answers or devices refer to them, and verifiable against the hash a record holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Photos larger than this are refused: a tablet camera JPEG is 2–8 MB.
pub const MAX_PHOTO_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct PhotoStore {
    dir: PathBuf,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PhotoStore {
    pub fn new(dir: PathBuf) -> PhotoStore {
        PhotoStore { dir }
    }

    /// Copies the file in (atomically: a temporary file renamed into place) unless a file with
    /// the same content is already there. Returns the hash and the size.
    pub fn put_file(&self, source: &Path) -> Result<(String, u64)> {
        let photo_error = |e: std::io::Error| Error::Photo {
            path: source.to_path_buf(),
            source: e,
        };
        let metadata = std::fs::metadata(source).map_err(photo_error)?;
        if !metadata.is_file() {
            return Err(photo_error(std::io::Error::other("不是文件")));
        }
        if metadata.len() == 0 || metadata.len() > MAX_PHOTO_BYTES {
            return Err(photo_error(std::io::Error::other(format!(
                "大小 {} 字节，应在 1 字节到 {} MB 之间",
                metadata.len(),
                MAX_PHOTO_BYTES / 1024 / 1024
            ))));
        }
        let bytes = std::fs::read(source).map_err(photo_error)?;
        let hash = sha256_hex(&bytes);
        let target = self.target(&hash);
        if !target.exists() {
            let parent = target.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            let temp = parent.join(format!(".{hash}.partial"));
            let mut file = std::fs::File::create(&temp).map_err(|e| Error::io(&temp, e))?;
            file.write_all(&bytes).map_err(|e| Error::io(&temp, e))?;
            file.sync_all().map_err(|e| Error::io(&temp, e))?;
            std::fs::rename(&temp, &target).map_err(|e| Error::io(&target, e))?;
        }
        Ok((hash, bytes.len() as u64))
    }

    /// Where a stored photo is, when it is stored here.
    pub fn path_of(&self, hash: &str) -> Option<PathBuf> {
        let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        let path = self.target(hash);
        (valid && path.is_file()).then_some(path)
    }

    fn target(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2]).join(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_photo_is_stored_once_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::new(dir.path().join("photos"));
        let a = dir.path().join("a.jpg");
        let b = dir.path().join("b.jpg");
        std::fs::write(&a, b"\xff\xd8 photo").unwrap();
        std::fs::write(&b, b"\xff\xd8 photo").unwrap();
        let (hash_a, size) = store.put_file(&a).unwrap();
        let (hash_b, _) = store.put_file(&b).unwrap();
        assert_eq!(hash_a, hash_b);
        assert_eq!(size, 8);
        let stored = store.path_of(&hash_a).unwrap();
        assert_eq!(sha256_hex(&std::fs::read(stored).unwrap()), hash_a);
        assert!(store.path_of("../../etc/passwd").is_none());
    }

    #[test]
    fn missing_and_empty_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::new(dir.path().join("photos"));
        assert!(store.put_file(&dir.path().join("none.jpg")).is_err());
        let empty = dir.path().join("empty.jpg");
        std::fs::write(&empty, b"").unwrap();
        assert!(store.put_file(&empty).is_err());
        assert!(store.put_file(dir.path()).is_err());
    }
}
