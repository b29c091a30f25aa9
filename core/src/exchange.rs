//! Device-to-device exchange files: one record's whole Automerge document with a header that
//! lets the receiver reject a truncated or altered file before touching its store.
//!
//! ```text
//! "ANJIANRX" | format u8 = 1 | sha256(payload) [32] | id length u16 BE | id (UTF-8) | payload
//! ```

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const MAGIC: &[u8; 8] = b"ANJIANRX";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1 + 32 + 2;

pub fn encode(record_id: &str, payload: &[u8]) -> Vec<u8> {
    let id = record_id.as_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + id.len() + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(FORMAT);
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
    out.extend_from_slice(id);
    out.extend_from_slice(payload);
    out
}

/// Returns the record id and the payload after checking the magic, format, lengths and hash.
pub fn decode(file_label: &str, bytes: &[u8]) -> Result<(String, Vec<u8>)> {
    let corrupt = |problem: &str| Error::CorruptExport {
        file: file_label.to_string(),
        problem: problem.to_string(),
    };
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("不是安监记录交换文件"));
    }
    if bytes[MAGIC.len()] != FORMAT {
        return Err(corrupt("交换文件格式版本不受支持，请升级 anjian"));
    }
    let hash = &bytes[MAGIC.len() + 1..MAGIC.len() + 33];
    let id_len = u16::from_be_bytes([bytes[HEADER_LEN - 2], bytes[HEADER_LEN - 1]]) as usize;
    let rest = &bytes[HEADER_LEN..];
    if rest.len() < id_len {
        return Err(corrupt("文件被截断"));
    }
    let (id, payload) = rest.split_at(id_len);
    let id = std::str::from_utf8(id).map_err(|_| corrupt("记录编号不是有效文字"))?;
    if Sha256::digest(payload).as_slice() != hash {
        return Err(corrupt("校验值不符：文件已损坏或被改动"));
    }
    Ok((id.to_string(), payload.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips() {
        let file = encode("0190-abc", b"payload bytes");
        let (id, payload) = decode("f", &file).unwrap();
        assert_eq!(id, "0190-abc");
        assert_eq!(payload, b"payload bytes");
    }

    #[test]
    fn any_flipped_or_missing_byte_is_detected() {
        let file = encode("0190-abc", b"payload bytes");
        for index in 0..file.len() {
            let mut damaged = file.clone();
            damaged[index] ^= 0x5a;
            let decoded = decode("f", &damaged);
            // A flip inside the id changes only the claimed id, which the store checks against
            // the document; everything else must fail here.
            let in_id = (HEADER_LEN..HEADER_LEN + 8).contains(&index);
            assert!(in_id || decoded.is_err(), "flip at {index} went unnoticed");
        }
        for len in 0..file.len() {
            assert!(decode("f", &file[..len]).is_err(), "truncation to {len}");
        }
    }
}
