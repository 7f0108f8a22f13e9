//! Signed checkpoints: the chain's anchor outside the database.
//!
//! The hash chain proves that no event was changed *unless the whole chain after it was
//! recomputed*; someone who can write to the database can do exactly that, and fix
//! `chain_head` too. A checkpoint closes that gap: the chain hash at one seq, signed with
//! an Ed25519 key that lives in a file outside the database ([`CheckpointKey`]). Without
//! the key no one can sign a rewritten chain, so a log whose hash at a checkpoint's seq
//! differs from the signed one was rewritten.
//!
//! Checkpoints are stored in the `checkpoints` table (append-only like `events`) and
//! exported for the sponsor as a [`SignedHead`]: with that file in hand, anyone can check
//! that a database still holds the exact history up to its seq, even if every checkpoint
//! row was deleted.
//!
//! The signed bytes are length-prefixed fields, as in [`crate::hash`]:
//!
//! ```text
//! field("her2ex-checkpoint-v1") field(seq) field(hash) field(signed_at)
//! ```

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::hash::format_timestamp;

/// Tag that opens every signed checkpoint message.
const FORMAT_TAG: &str = "her2ex-checkpoint-v1";

/// The secret half of the study's checkpoint key. Kept in a file readable by the server's
/// user only; never stored in the database.
pub struct CheckpointKey {
    signing: SigningKey,
}

impl std::fmt::Debug for CheckpointKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("CheckpointKey")
            .field("key_id", &self.public().key_id())
            .finish()
    }
}

impl CheckpointKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> CheckpointKey {
        let secret: [u8; 32] = rand::random();
        CheckpointKey {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// The public half, which verifies this key's signatures.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// Writes a new key to `path` (secret, hex, owner-only 0600) and its public half
    /// beside it (`<path>.pub`, hex), creating the directory owner-only (0700) if
    /// missing. Refuses to overwrite an existing key: that would orphan every checkpoint
    /// signed so far.
    pub fn create_file(path: &Path) -> Result<CheckpointKey, StoreError> {
        if path.exists() {
            return Err(StoreError::InvalidInput(format!(
                "a checkpoint key exists already at {}: refusing to replace it (every \
                 checkpoint signed with it would no longer verify)",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let key = CheckpointKey::generate();
        write_private(path, &hex::encode(key.signing.to_bytes()))?;
        write_private(&public_key_path(path), &key.public().to_hex())?;
        Ok(key)
    }

    /// Reads the key written by [`CheckpointKey::create_file`].
    pub fn load_file(path: &Path) -> Result<CheckpointKey, StoreError> {
        let text = fs::read_to_string(path).map_err(|e| {
            StoreError::Open(format!(
                "cannot read the checkpoint key {}: {e}",
                path.display()
            ))
        })?;
        let bytes = decode_32(text.trim()).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the checkpoint key {} is not 64 hex digits",
                path.display()
            ))
        })?;
        Ok(CheckpointKey {
            signing: SigningKey::from_bytes(&bytes),
        })
    }

    /// Signs the chain hash `hash` at `seq`, as of `signed_at`.
    pub fn sign(&self, seq: i64, hash: &str, signed_at: DateTime<Utc>) -> Checkpoint {
        let signed_at = format_timestamp(signed_at);
        let signature = self.signing.sign(&message(seq, hash, &signed_at));
        Checkpoint {
            seq,
            hash: hash.to_owned(),
            signed_at,
            key_id: self.public().key_id(),
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// Where the public half of the key at `key_path` is kept: `<key_path>.pub`.
pub fn public_key_path(key_path: &Path) -> std::path::PathBuf {
    let mut name = key_path.as_os_str().to_owned();
    name.push(".pub");
    name.into()
}

/// The public half of a checkpoint key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Result<PublicKey, StoreError> {
        let bytes = decode_32(text.trim()).ok_or_else(|| {
            StoreError::InvalidInput(format!("public key {:?} is not 64 hex digits", text.trim()))
        })?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|e| StoreError::InvalidInput(format!("not an Ed25519 public key: {e}")))
    }

    /// Reads a public key file (`<key>.pub`).
    pub fn load_file(path: &Path) -> Result<PublicKey, StoreError> {
        let text = fs::read_to_string(path).map_err(|e| {
            StoreError::Open(format!(
                "cannot read the public key {}: {e}",
                path.display()
            ))
        })?;
        PublicKey::from_hex(&text)
    }

    /// The key as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// A short name for the key stored with each checkpoint: the first 16 hex digits of
    /// the SHA-256 of the public key.
    pub fn key_id(&self) -> String {
        let digest = Sha256::digest(self.0.to_bytes());
        hex::encode(&digest[..8])
    }
}

/// One signed checkpoint as stored in the `checkpoints` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The seq of the last event the checkpoint covers (0: the empty log).
    pub seq: i64,
    /// The chain hash at `seq` (the hash of event `seq`).
    pub hash: String,
    /// When it was signed, RFC 3339 UTC with six fractional digits.
    pub signed_at: String,
    /// [`PublicKey::key_id`] of the key that signed it.
    pub key_id: String,
    /// The Ed25519 signature, 128 hex digits.
    pub signature: String,
}

impl Checkpoint {
    /// Checks the signature with `key`; the error says why it does not verify.
    pub fn verify(&self, key: &PublicKey) -> Result<(), String> {
        if self.key_id != key.key_id() {
            return Err(format!(
                "checkpoint at seq {} was signed by key {}, not by the study's key {}",
                self.seq,
                self.key_id,
                key.key_id()
            ));
        }
        verify_signature(key, self.seq, &self.hash, &self.signed_at, &self.signature)
            .map_err(|why| format!("checkpoint at seq {}: {why}", self.seq))
    }

    /// The checkpoint with its public key, to export.
    pub fn export(&self, key: &PublicKey) -> SignedHead {
        SignedHead {
            seq: self.seq,
            hash: self.hash.clone(),
            signed_at: self.signed_at.clone(),
            public_key: key.to_hex(),
            signature: self.signature.clone(),
        }
    }
}

/// A signed chain head as exported for the sponsor (`her2ex audit checkpoint --export`):
/// self-contained, so it verifies with nothing but the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    /// The seq of the last event covered.
    pub seq: i64,
    /// The chain hash at `seq`.
    pub hash: String,
    /// When it was signed.
    pub signed_at: String,
    /// The public key that verifies `signature`, 64 hex digits.
    pub public_key: String,
    /// The Ed25519 signature, 128 hex digits.
    pub signature: String,
}

impl SignedHead {
    /// The public key named in the file.
    pub fn key(&self) -> Result<PublicKey, StoreError> {
        PublicKey::from_hex(&self.public_key)
    }

    /// Checks the signature with the file's own public key.
    pub fn verify(&self) -> Result<(), String> {
        let key = self.key().map_err(|e| e.to_string())?;
        verify_signature(&key, self.seq, &self.hash, &self.signed_at, &self.signature)
            .map_err(|why| format!("signed head at seq {}: {why}", self.seq))
    }
}

/// What checking the stored checkpoints found.
#[derive(Clone, Debug, Default)]
pub struct CheckpointReport {
    /// How many checkpoints were checked.
    pub checked: u64,
    /// The latest checkpoint that verified, if any.
    pub latest: Option<Checkpoint>,
    /// Every checkpoint that failed, with why: a bad signature, another key, or a chain
    /// hash at its seq that is not the signed one (the log was rewritten).
    pub problems: Vec<String>,
}

impl CheckpointReport {
    /// Whether every checkpoint verified and matched the log.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks one stored checkpoint against `key` and the stored hash of event `seq`
/// (`None` when the log has no such event).
pub(crate) fn check_against_log(
    checkpoint: &Checkpoint,
    key: &PublicKey,
    log_hash: Option<&str>,
) -> Result<(), String> {
    checkpoint.verify(key)?;
    match log_hash {
        None => Err(format!(
            "checkpoint at seq {} signs hash {}, but the log has no event {}: events were \
             removed",
            checkpoint.seq, checkpoint.hash, checkpoint.seq
        )),
        Some(h) if h != checkpoint.hash => Err(format!(
            "checkpoint at seq {} signs hash {}, but the log's hash there is {}: the log \
             was rewritten after it was signed",
            checkpoint.seq, checkpoint.hash, h
        )),
        Some(_) => Ok(()),
    }
}

fn verify_signature(
    key: &PublicKey,
    seq: i64,
    hash: &str,
    signed_at: &str,
    signature: &str,
) -> Result<(), String> {
    let bytes: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "the signature is not 128 hex digits".to_owned())?;
    key.0
        .verify_strict(
            &message(seq, hash, signed_at),
            &Signature::from_bytes(&bytes),
        )
        .map_err(|_| "the signature does not verify with the public key".to_owned())
}

/// The bytes a checkpoint signs (see the module documentation).
fn message(seq: i64, hash: &str, signed_at: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for part in [FORMAT_TAG, &seq.to_string(), hash, signed_at] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

fn decode_32(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

/// Creates `dir` (and its parents) and makes it owner-only (0700).
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    fs::create_dir_all(dir).map_err(|e| {
        StoreError::Open(format!(
            "cannot create key directory {}: {e}",
            dir.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
            StoreError::Open(format!(
                "cannot make key directory {} owner-only: {e}",
                dir.display()
            ))
        })?;
    }
    Ok(())
}

/// Writes a new file readable and writable by its owner only (0600).
fn write_private(path: &Path, text: &str) -> Result<(), StoreError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::Open(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let key = CheckpointKey::generate();
        let cp = key.sign(42, &"ab".repeat(32), at());
        assert_eq!(cp.verify(&key.public()), Ok(()));
        let mut moved = cp.clone();
        moved.seq = 41;
        assert!(moved.verify(&key.public()).is_err());
        let mut rehashed = cp.clone();
        rehashed.hash = "cd".repeat(32);
        assert!(rehashed.verify(&key.public()).is_err());
        let other = CheckpointKey::generate();
        assert!(
            cp.verify(&other.public())
                .unwrap_err()
                .contains("signed by key")
        );
    }

    #[test]
    fn an_exported_head_verifies_with_its_own_key_only() {
        let key = CheckpointKey::generate();
        let head = key.sign(7, &"0f".repeat(32), at()).export(&key.public());
        assert_eq!(head.verify(), Ok(()));
        let mut swapped = head.clone();
        swapped.public_key = CheckpointKey::generate().public().to_hex();
        assert!(swapped.verify().is_err());
    }

    #[test]
    fn key_files_are_owner_only_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/checkpoint.key");
        let key = CheckpointKey::create_file(&path).unwrap();
        let loaded = CheckpointKey::load_file(&path).unwrap();
        assert_eq!(loaded.public(), key.public());
        assert_eq!(
            PublicKey::load_file(&public_key_path(&path)).unwrap(),
            key.public()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("keys")), 0o700);
        }
        assert!(CheckpointKey::create_file(&path).is_err());
        assert_eq!(
            CheckpointKey::load_file(&path).unwrap().public(),
            key.public()
        );
    }
}
