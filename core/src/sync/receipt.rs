//! Receipts and the audit chain. When the server locks a record it appends an entry to a hash
//! chain — entry hash = SHA-256(previous hash ‖ record id ‖ heads ‖ content hash ‖ time) — and
//! signs a receipt naming that entry with its Ed25519 key. A device verifies the receipt with
//! the public keys it received at login and sync; anyone holding the log can recompute the chain.
//!
//! Keys are named: a receipt carries the id of the key that signed it, so a server can rotate
//! its key and receipts of older keys still verify. Receipts from before key ids carry none and
//! verify with any key of the server's list. A [`SignedHead`] is the server's signed statement
//! of the chain's last entry: kept outside the database and by every device, it makes a chain
//! cut short or rewritten detectable.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry of the chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const RECEIPT_DOMAIN: &[u8] = b"anjian-receipt-v1";
/// Receipts that name their key sign the key id too, under their own domain.
const RECEIPT_DOMAIN_KEYED: &[u8] = b"anjian-receipt-v2";
const HEAD_DOMAIN: &[u8] = b"anjian-audit-head-v1";

/// One of the server's signing keys, as devices and `verify-log` know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerKey {
    /// [`key_id`] of the public key.
    pub key_id: String,
    /// Hex Ed25519 public key.
    pub public_key: String,
}

impl ServerKey {
    pub fn new(public_key_hex: &str) -> ServerKey {
        ServerKey {
            key_id: key_id(public_key_hex),
            public_key: public_key_hex.to_ascii_lowercase(),
        }
    }

    fn verifying_key(&self) -> Result<VerifyingKey, ReceiptProblem> {
        let bytes: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ReceiptProblem::BadPublicKey)?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| ReceiptProblem::BadPublicKey)
    }
}

/// A key's name: the first 16 hex digits of the SHA-256 of its hex public key. Derived, so a
/// key id cannot name another key.
pub fn key_id(public_key_hex: &str) -> String {
    let digest = Sha256::digest(public_key_hex.to_ascii_lowercase().as_bytes());
    hex::encode(&digest[..8])
}

/// Verifies `signature` (hex) over `bytes` with the key named `key_id`, or with any of `keys`
/// when the signer is not named.
fn verify_signed(
    keys: &[ServerKey],
    key_id: Option<&str>,
    bytes: &[u8],
    signature: &str,
) -> Result<(), ReceiptProblem> {
    let signature: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(ReceiptProblem::BadSignatureFormat)?;
    let signature = Signature::from_bytes(&signature);
    let candidates: Vec<&ServerKey> = match key_id {
        Some(id) => keys.iter().filter(|k| k.key_id == id).collect(),
        None => keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(match key_id {
            Some(id) => ReceiptProblem::UnknownKey(id.to_string()),
            None => ReceiptProblem::BadPublicKey,
        });
    }
    let mut problem = ReceiptProblem::SignatureMismatch;
    for key in candidates {
        match key.verifying_key() {
            Ok(key) if key.verify(bytes, &signature).is_ok() => return Ok(()),
            Ok(_) => {}
            Err(e) => problem = e,
        }
    }
    Err(if key_id.is_some() {
        problem
    } else {
        ReceiptProblem::SignatureMismatch
    })
}

fn length_prefixed(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for field in fields {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// The server's signed statement that a record is locked at `heads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub record_id: String,
    /// Sorted hex change hashes the record is locked at.
    pub heads: Vec<String>,
    /// Hex SHA-256 of the locked document as the server saved it.
    pub content_hash: String,
    /// When the server locked the record, to the millisecond.
    pub locked_at: DateTime<Utc>,
    /// The position of the lock in the audit log, from 1.
    pub log_index: i64,
    pub previous_hash: String,
    pub entry_hash: String,
    /// The id of the key that signed; absent in receipts from before keys were named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Hex Ed25519 signature over [`Receipt::signed_bytes`].
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptProblem {
    #[error("回执的服务器公钥无效")]
    BadPublicKey,
    #[error("回执的签名格式无效")]
    BadSignatureFormat,
    #[error("回执的签名与服务器公钥不符（回执可能被伪造或篡改）")]
    SignatureMismatch,
    #[error("回执的审计链哈希与其内容不符")]
    EntryHashMismatch,
    #[error("回执所锁定的版本与本机记录不符")]
    HeadsMismatch,
    #[error("签名所用的服务器密钥 {0} 不在本机已知的密钥中：请重新登录以取得服务器的密钥")]
    UnknownKey(String),
}

/// The audit-chain hash of one lock.
pub fn entry_hash(
    previous_hash: &str,
    record_id: &str,
    heads: &[String],
    content_hash: &str,
    locked_at: DateTime<Utc>,
) -> String {
    let mut hasher = Sha256::new();
    for field in [
        previous_hash,
        record_id,
        &heads.join(","),
        content_hash,
        &locked_at.timestamp_millis().to_string(),
    ] {
        // Each field is preceded by its length, so no two different entries hash alike.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Hex SHA-256 of a saved document.
pub fn content_hash(saved_doc: &[u8]) -> String {
    hex::encode(Sha256::digest(saved_doc))
}

impl Receipt {
    /// The bytes the server signs: every field but the signature, length-prefixed.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let locked_at = self.locked_at.timestamp_millis().to_string();
        let log_index = self.log_index.to_string();
        let heads = self.heads.join(",");
        let mut fields: Vec<&[u8]> = vec![
            RECEIPT_DOMAIN,
            self.record_id.as_bytes(),
            heads.as_bytes(),
            self.content_hash.as_bytes(),
            locked_at.as_bytes(),
            log_index.as_bytes(),
            self.previous_hash.as_bytes(),
            self.entry_hash.as_bytes(),
        ];
        if let Some(key_id) = &self.key_id {
            fields[0] = RECEIPT_DOMAIN_KEYED;
            fields.push(key_id.as_bytes());
        }
        length_prefixed(&fields)
    }

    /// Checks the signature against the server's public key (hex) and the entry hash against
    /// the receipt's own fields.
    pub fn verify(&self, public_key_hex: &str) -> Result<(), ReceiptProblem> {
        self.verify_with(&[ServerKey::new(public_key_hex)])
    }

    /// Checks the signature with the key the receipt names among `keys` (any of them for a
    /// receipt from before key ids), and the entry hash against the receipt's own fields.
    pub fn verify_with(&self, keys: &[ServerKey]) -> Result<(), ReceiptProblem> {
        verify_signed(
            keys,
            self.key_id.as_deref(),
            &self.signed_bytes(),
            &self.signature,
        )?;
        let expected = entry_hash(
            &self.previous_hash,
            &self.record_id,
            &self.heads,
            &self.content_hash,
            self.locked_at,
        );
        if expected != self.entry_hash {
            return Err(ReceiptProblem::EntryHashMismatch);
        }
        Ok(())
    }

    /// [`Receipt::verify_with`], and that the receipt locks exactly these heads.
    pub fn verify_for(&self, keys: &[ServerKey], heads: &[String]) -> Result<(), ReceiptProblem> {
        self.verify_with(keys)?;
        if crate::sync::protocol::sorted_heads(heads) != self.heads {
            return Err(ReceiptProblem::HeadsMismatch);
        }
        Ok(())
    }
}

/// The server's signed statement that its audit chain has `log_index` entries and ends with
/// `entry_hash`. The chain is hash-linked, so a chain that still holds this entry holds every
/// entry before it unchanged; one that lacks it was cut short, one that holds another hash at
/// that position was rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    pub log_index: i64,
    pub entry_hash: String,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    /// Hex Ed25519 signature over [`SignedHead::signed_bytes`].
    pub signature: String,
}

impl SignedHead {
    /// A head to be signed: `signature` is filled in by the signer.
    pub fn unsigned(
        log_index: i64,
        entry_hash: &str,
        signed_at: DateTime<Utc>,
        key_id: &str,
    ) -> SignedHead {
        SignedHead {
            log_index,
            entry_hash: entry_hash.to_string(),
            signed_at: DateTime::from_timestamp_millis(signed_at.timestamp_millis())
                .unwrap_or(signed_at),
            key_id: key_id.to_string(),
            signature: String::new(),
        }
    }

    pub fn signed_bytes(&self) -> Vec<u8> {
        length_prefixed(&[
            HEAD_DOMAIN,
            self.log_index.to_string().as_bytes(),
            self.entry_hash.as_bytes(),
            self.signed_at.timestamp_millis().to_string().as_bytes(),
            self.key_id.as_bytes(),
        ])
    }

    pub fn verify_with(&self, keys: &[ServerKey]) -> Result<(), ReceiptProblem> {
        verify_signed(
            keys,
            Some(&self.key_id),
            &self.signed_bytes(),
            &self.signature,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn server_key(seed: u8) -> (SigningKey, ServerKey) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public = ServerKey::new(&hex::encode(key.verifying_key().to_bytes()));
        (key, public)
    }

    fn receipt(key: &SigningKey, key_id: Option<&str>) -> Receipt {
        let locked_at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let heads = vec!["ab".to_string()];
        let mut receipt = Receipt {
            record_id: "r1".into(),
            entry_hash: entry_hash(GENESIS_HASH, "r1", &heads, "c0", locked_at),
            heads,
            content_hash: "c0".into(),
            locked_at,
            log_index: 1,
            previous_hash: GENESIS_HASH.into(),
            key_id: key_id.map(str::to_string),
            signature: String::new(),
        };
        receipt.signature = hex::encode(key.sign(&receipt.signed_bytes()).to_bytes());
        receipt
    }

    #[test]
    fn receipts_of_an_older_key_verify_after_rotation_and_unknown_keys_are_named() {
        let (old, old_public) = server_key(1);
        let (new, new_public) = server_key(2);
        let ring = vec![new_public.clone(), old_public.clone()];
        // A receipt from before key ids, one of the old key, one of the new.
        assert_eq!(receipt(&old, None).verify_with(&ring), Ok(()));
        assert_eq!(
            receipt(&old, Some(&old_public.key_id)).verify_with(&ring),
            Ok(())
        );
        assert_eq!(
            receipt(&new, Some(&new_public.key_id)).verify_with(&ring),
            Ok(())
        );
        // Naming the new key on a receipt the old key signed does not pass.
        let mut relabelled = receipt(&old, Some(&old_public.key_id));
        relabelled.key_id = Some(new_public.key_id.clone());
        assert_eq!(
            relabelled.verify_with(&ring),
            Err(ReceiptProblem::SignatureMismatch)
        );
        assert_eq!(
            receipt(&new, Some(&new_public.key_id)).verify_with(&[old_public]),
            Err(ReceiptProblem::UnknownKey(new_public.key_id.clone()))
        );
    }

    #[test]
    fn a_signed_head_verifies_only_as_signed() {
        let (key, public) = server_key(3);
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let mut head = SignedHead::unsigned(7, "e7", at, &public.key_id);
        head.signature = hex::encode(key.sign(&head.signed_bytes()).to_bytes());
        assert_eq!(head.verify_with(std::slice::from_ref(&public)), Ok(()));
        let mut shorter = head.clone();
        shorter.log_index = 6;
        assert_eq!(
            shorter.verify_with(&[public]),
            Err(ReceiptProblem::SignatureMismatch)
        );
    }
}
