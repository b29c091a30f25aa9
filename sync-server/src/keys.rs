//! The server's Ed25519 signing keys. The secret of the current key lives in a file only the
//! server's user can read (`--signing-key`, by default `server-signing-key.hex` in the data
//! folder); the database remembers the public half of every key the server has signed with
//! (`signing_keys`), so that:
//!
//! - a key is generated only on the very first start, on an empty database;
//! - afterwards a missing key file, or a file holding another key, is a refusal to start that
//!   says what is wrong — a silently replaced key would make every receipt and the audit log
//!   unverifiable;
//! - `anjian-server key rotate` replaces the key, and receipts of older keys still verify (each
//!   names its key by id).
//!
//! Several instances behind a load balancer share the same file.

use std::path::{Path, PathBuf};

use chrono::Utc;
use ed25519_dalek::{Signer, SigningKey};

use anjian_core::sync::receipt::{ServerKey, key_id};

use crate::store::{ReceiptSigner, SigningKeyRow, Store};

pub const KEY_FILE: &str = "server-signing-key.hex";

/// The current signing key and every public key the server has signed with.
#[derive(Clone)]
pub struct ServerKeys {
    signing: SigningKey,
    key_id: String,
    /// Current first.
    known: Vec<ServerKey>,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("key_id", &self.key_id)
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

impl ServerKeys {
    /// A key known to no database (tests that build a state by hand).
    pub fn single(signing: SigningKey) -> ServerKeys {
        let public = ServerKey::new(&hex::encode(signing.verifying_key().to_bytes()));
        ServerKeys {
            signing,
            key_id: public.key_id.clone(),
            known: vec![public],
        }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    /// Every key the server has signed with, current first.
    pub fn known(&self) -> &[ServerKey] {
        &self.known
    }

    pub fn sign(&self, bytes: &[u8]) -> String {
        hex::encode(self.signing.sign(bytes).to_bytes())
    }
}

impl ReceiptSigner for ServerKeys {
    fn key_id(&self) -> Option<&str> {
        Some(&self.key_id)
    }

    fn sign(&self, bytes: &[u8]) -> String {
        ServerKeys::sign(self, bytes)
    }
}

/// What may happen when no key is recorded and the database is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStart {
    /// `serve` and `seed`: generate the key.
    Generate,
    /// `verify-log` and the like: never create anything.
    Refuse,
}

/// Opens the server's keys at `path` against what `store` remembers. Returns the keys and
/// whether a key was generated now.
pub fn open(
    store: &Store,
    path: &Path,
    first_start: FirstStart,
) -> Result<(ServerKeys, bool), String> {
    let recorded = store.signing_keys().map_err(|e| e.to_string())?;
    let file = read_key_file(path)?;
    let Some(current) = recorded.iter().find(|k| k.current) else {
        return adopt_first_key(store, path, file, first_start);
    };
    let Some(signing) = file else {
        return Err(format!(
            "签名密钥文件 {} 不存在。数据库记录的当前签名密钥为 {}（公钥 {}）：请从备份恢复该文件，或用 --signing-key 指向它。服务器不会另行生成密钥，否则此前的回执与审计日志将无法核验。",
            path.display(),
            current.key_id,
            current.public_key
        ));
    };
    let public = hex::encode(signing.verifying_key().to_bytes());
    let file_id = key_id(&public);
    if file_id != current.key_id {
        let retired = recorded.iter().any(|k| k.key_id == file_id);
        return Err(if retired {
            format!(
                "签名密钥文件 {} 中是已轮换下来的旧密钥 {file_id}；数据库记录的当前密钥为 {}：请恢复当前密钥文件",
                path.display(),
                current.key_id
            )
        } else {
            format!(
                "签名密钥文件 {} 中的密钥 {file_id} 不是本服务器的密钥；数据库记录的当前密钥为 {}（公钥 {}）：请恢复正确的密钥文件",
                path.display(),
                current.key_id,
                current.public_key
            )
        });
    }
    Ok((
        ServerKeys {
            signing,
            key_id: file_id,
            known: recorded
                .iter()
                .map(|k| ServerKey {
                    key_id: k.key_id.clone(),
                    public_key: k.public_key.clone(),
                })
                .collect(),
        },
        false,
    ))
}

/// No key recorded yet: the very first start (generate), or a database from before keys were
/// recorded, whose key file must exist and must have signed its audit log.
fn adopt_first_key(
    store: &Store,
    path: &Path,
    file: Option<SigningKey>,
    first_start: FirstStart,
) -> Result<(ServerKeys, bool), String> {
    let log = store.audit_log().map_err(|e| e.to_string())?;
    let (signing, created) = match file {
        Some(signing) => {
            let keys = ServerKeys::single(signing.clone());
            if let Some(last) = log.last()
                && last.verify_with(keys.known()).is_err()
            {
                return Err(format!(
                    "签名密钥文件 {} 中的密钥 {} 没有签署本数据库的审计日志（第 {} 条核验不通过）：请恢复原来的密钥文件",
                    path.display(),
                    keys.key_id(),
                    last.log_index
                ));
            }
            (signing, false)
        }
        None if !log.is_empty() => {
            return Err(format!(
                "签名密钥文件 {} 不存在，而数据库已有 {} 条审计日志：请从备份恢复该文件，或用 --signing-key 指向它。服务器不会另行生成密钥。",
                path.display(),
                log.len()
            ));
        }
        None if first_start == FirstStart::Refuse => {
            return Err(format!(
                "签名密钥文件 {} 不存在，数据库也没有记录密钥：请先启动一次服务器（serve）",
                path.display()
            ));
        }
        None => match generate(path)? {
            Some(signing) => (signing, true),
            // Another instance created the file a moment ago.
            None => (
                read_key_file(path)?
                    .ok_or_else(|| format!("签名密钥文件 {} 刚被创建却无法读取", path.display()))?,
                false,
            ),
        },
    };
    record_current(store, &signing)?;
    // Another instance may have recorded its key first: open again against the database.
    let (keys, _) = open(store, path, FirstStart::Refuse)?;
    Ok((keys, created))
}

fn record_current(store: &Store, signing: &SigningKey) -> Result<(), String> {
    let public = hex::encode(signing.verifying_key().to_bytes());
    store
        .add_signing_key(&SigningKeyRow {
            key_id: key_id(&public),
            public_key: public,
            added_at: Utc::now(),
            current: true,
        })
        .map_err(|e| format!("无法在数据库中登记签名密钥：{e}"))
}

/// Replaces the current key: the new secret goes to `path` and its public half into the
/// database as current; the old file is kept beside it as `<path>.<old key id>.retired`
/// (receipts verify with the public half the database keeps; the old secret is not needed, and
/// can be destroyed once the rotation is done). Returns the new keys and the retired file.
pub fn rotate(store: &Store, path: &Path) -> Result<(ServerKeys, PathBuf), String> {
    let (old, _) = open(store, path, FirstStart::Refuse)?;
    let staged = with_suffix(path, ".new");
    let signing = match generate(&staged)? {
        Some(signing) => signing,
        None => {
            return Err(format!(
                "{} 已存在：上一次轮换没有完成，请检查后删除该文件再轮换",
                staged.display()
            ));
        }
    };
    let retired = with_suffix(path, &format!(".{}.retired", old.key_id()));
    std::fs::rename(path, &retired)
        .map_err(|e| format!("无法把旧密钥文件移到 {}：{e}", retired.display()))?;
    std::fs::rename(&staged, path)
        .map_err(|e| format!("无法把新密钥文件移到 {}：{e}", path.display()))?;
    record_current(store, &signing)?;
    let (keys, _) = open(store, path, FirstStart::Refuse)?;
    Ok((keys, retired))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn read_key_file(path: &Path) -> Result<Option<SigningKey>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("签名密钥文件 {} 内容无效", path.display()))?;
            Ok(Some(SigningKey::from_bytes(&bytes)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("无法读取签名密钥文件 {}：{e}", path.display())),
    }
}

/// A new key written to `path`; `None` when the file appeared meanwhile.
fn generate(path: &Path) -> Result<Option<SigningKey>, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("无法取得随机数：{e}"))?;
    match write_private(path, &hex::encode(bytes)) {
        Ok(()) => Ok(Some(SigningKey::from_bytes(&bytes))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(format!("无法写入签名密钥文件 {}：{e}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
