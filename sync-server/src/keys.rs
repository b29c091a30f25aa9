//! The server's Ed25519 signing key: created on first start, kept in a file only the server's
//! user can read. Several instances behind a load balancer share the same file.

use std::path::Path;

use ed25519_dalek::SigningKey;

pub const KEY_FILE: &str = "server-signing-key.hex";

/// Loads the key from `path`, creating it when the file does not exist. Returns the key and
/// whether it was created now.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("签名密钥文件 {} 内容无效", path.display()))?;
            Ok((SigningKey::from_bytes(&bytes), false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| format!("无法取得随机数：{e}"))?;
            let key = SigningKey::from_bytes(&bytes);
            write_private(path, &hex::encode(bytes))?;
            Ok((key, true))
        }
        Err(e) => Err(format!("无法读取签名密钥文件 {}：{e}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("无法创建签名密钥文件 {}：{e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("无法写入签名密钥文件 {}：{e}", path.display()))
}
