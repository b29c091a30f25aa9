//! Receipts and the audit chain. When the server locks a record it appends an entry to a hash
//! chain — entry hash = SHA-256(previous hash ‖ record id ‖ heads ‖ content hash ‖ time) — and
//! signs a receipt naming that entry with its Ed25519 key. A device verifies the receipt with
//! the public key it received at login; anyone holding the log can recompute the chain.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry of the chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const RECEIPT_DOMAIN: &[u8] = b"anjian-receipt-v1";

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
        let mut out = Vec::new();
        for field in [
            RECEIPT_DOMAIN,
            self.record_id.as_bytes(),
            self.heads.join(",").as_bytes(),
            self.content_hash.as_bytes(),
            self.locked_at.timestamp_millis().to_string().as_bytes(),
            self.log_index.to_string().as_bytes(),
            self.previous_hash.as_bytes(),
            self.entry_hash.as_bytes(),
        ] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field);
        }
        out
    }

    /// Checks the signature against the server's public key (hex) and the entry hash against
    /// the receipt's own fields.
    pub fn verify(&self, public_key_hex: &str) -> Result<(), ReceiptProblem> {
        let key: [u8; 32] = hex::decode(public_key_hex)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ReceiptProblem::BadPublicKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| ReceiptProblem::BadPublicKey)?;
        let signature: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ReceiptProblem::BadSignatureFormat)?;
        key.verify(&self.signed_bytes(), &Signature::from_bytes(&signature))
            .map_err(|_| ReceiptProblem::SignatureMismatch)?;
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

    /// [`Receipt::verify`], and that the receipt locks exactly these heads.
    pub fn verify_for(&self, public_key_hex: &str, heads: &[String]) -> Result<(), ReceiptProblem> {
        self.verify(public_key_hex)?;
        if crate::sync::protocol::sorted_heads(heads) != self.heads {
            return Err(ReceiptProblem::HeadsMismatch);
        }
        Ok(())
    }
}
