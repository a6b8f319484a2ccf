//! The audit trail as evidence: Sesame's Ed25519 audit key, signed checkpoints of the hash chain
//! the store keeps over every event, the check that the append-only triggers are in place,
//! verification (`verify`), and streaming to places the database's administrators cannot rewrite
//! (`stream`).
//!
//! A checkpoint signs the chain's end at a moment: the last event's id, its hash, the number of
//! events, and the time. The message signed is [`CHECKPOINT_CONTEXT`] followed by the canonical JSON
//! `{"at":"<RFC 3339, milliseconds>","count":<n>,"event":<id>,"hash":"<hex>"}`; whoever holds only
//! the public key can check it, and with it that no event up to that one was changed, inserted or
//! deleted since, even by someone who recomputed the whole chain.

mod stream;
mod verify;

pub use stream::{AuditSink, StreamStep};
pub use verify::{AuditProblem, AuditVerification};

use crate::{App, AppError};
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use serde_json::json;
use sesame_core::{Actor, AuditEvent, Timestamp};
use sesame_store::chain::canonical_time;
use sesame_store::{Checkpoint, NewCheckpoint};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// What a checkpoint's signed message starts with, so that the key's signatures cannot be taken
/// for anything else.
pub const CHECKPOINT_CONTEXT: &str = "sesame audit checkpoint v1\n";

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// The public half of the audit key: 32 bytes, written `ed25519:<base64>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPublicKey {
    bytes: Vec<u8>,
}

impl AuditPublicKey {
    /// Reads `ed25519:<base64>` (the prefix may be left out).
    pub fn parse(text: &str) -> Result<AuditPublicKey, String> {
        let text = text.trim();
        let encoded = text.strip_prefix("ed25519:").unwrap_or(text);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| String::from("an audit public key is ed25519: and 32 bytes in base64"))?;
        if bytes.len() != 32 {
            return Err(String::from(
                "an audit public key is ed25519: and 32 bytes in base64",
            ));
        }
        Ok(AuditPublicKey { bytes })
    }

    /// `ed25519:<base64>`, as `sesame audit public-key` prints it.
    pub fn to_text(&self) -> String {
        format!(
            "ed25519:{}",
            base64::engine::general_purpose::STANDARD.encode(&self.bytes)
        )
    }

    /// A short name for the key, stored with each checkpoint: the first 16 hex digits of the
    /// SHA-256 of the key's bytes.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(&self.bytes)[..8])
    }

    /// Whether this key signed the checkpoint as it stands.
    pub fn signed(&self, checkpoint: &Checkpoint) -> bool {
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(&checkpoint.signature)
        else {
            return false;
        };
        let message = checkpoint_message(
            checkpoint.event_id,
            &checkpoint.hash,
            checkpoint.count,
            checkpoint.at,
        );
        UnparsedPublicKey::new(&ED25519, &self.bytes)
            .verify(&message, &signature)
            .is_ok()
    }
}

/// The audit key Sesame signs checkpoints with.
pub struct AuditSigner {
    pair: Ed25519KeyPair,
    public: AuditPublicKey,
}

impl std::fmt::Debug for AuditSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSigner")
            .field("public", &self.public.to_text())
            .finish_non_exhaustive()
    }
}

impl AuditSigner {
    /// A new key, as the PEM text of a PKCS#8 document (what the key file holds).
    pub fn generate_pem() -> Result<String, AppError> {
        let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| AppError::Invalid(String::from("cannot generate an Ed25519 key")))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(document.as_ref());
        let mut pem = String::from(PEM_BEGIN);
        pem.push('\n');
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str(PEM_END);
        pem.push('\n');
        Ok(pem)
    }

    /// Reads a key file: an Ed25519 private key as PKCS#8 PEM (as Sesame writes it, or as
    /// `openssl genpkey -algorithm ed25519` does).
    pub fn from_pem(text: &str) -> Result<AuditSigner, String> {
        let body = text
            .split_once(PEM_BEGIN)
            .and_then(|(_, rest)| rest.split_once(PEM_END))
            .map(|(body, _)| body)
            .ok_or_else(|| String::from("expected a PEM \"PRIVATE KEY\" block"))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .map_err(|_| String::from("the PEM block is not base64"))?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|e| format!("not an Ed25519 private key ({e})"))?;
        let public = AuditPublicKey {
            bytes: pair.public_key().as_ref().to_vec(),
        };
        Ok(AuditSigner { pair, public })
    }

    pub fn public_key(&self) -> &AuditPublicKey {
        &self.public
    }

    fn sign(&self, event_id: i64, hash: &str, count: i64, at: Timestamp) -> NewCheckpoint {
        let message = checkpoint_message(event_id, hash, count, at);
        NewCheckpoint {
            event_id,
            hash: hash.to_owned(),
            count,
            at,
            key_id: self.public.key_id(),
            signature: base64::engine::general_purpose::STANDARD
                .encode(self.pair.sign(&message).as_ref()),
        }
    }
}

/// The bytes a checkpoint's signature covers.
pub fn checkpoint_message(event_id: i64, hash: &str, count: i64, at: Timestamp) -> Vec<u8> {
    let body = json!({
        "at": canonical_time(at),
        "count": count,
        "event": event_id,
        "hash": hash,
    });
    format!(
        "{CHECKPOINT_CONTEXT}{}",
        sesame_store::chain::canonical_json(&body)
    )
    .into_bytes()
}

/// When Sesame signs a checkpoint: once this many events were added since the last one, or once
/// this long has passed since it with any event added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    pub every_events: i64,
    pub every: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        CheckpointPolicy {
            every_events: 1000,
            every: Duration::from_secs(3600),
        }
    }
}

/// How often the checkpoint task looks at the chain.
const CHECKPOINT_TICK: Duration = Duration::from_secs(10);

impl App {
    /// Checks the triggers that keep the audit trail append-only. Missing, disabled or changed
    /// ones are recreated, logged as errors and recorded in the trail itself
    /// (`audit_guards_restored`), so that the gap is part of the evidence; returns what was wrong.
    pub async fn ensure_audit_guards(&self) -> Result<Vec<String>, AppError> {
        let problems = self.store().audit_guard_problems().await?;
        if problems.is_empty() {
            return Ok(problems);
        }
        for problem in &problems {
            tracing::error!(
                problem = problem.as_str(),
                "THE AUDIT TRAIL'S APPEND-ONLY PROTECTION WAS TAMPERED WITH; recreating it. Run \
                 `sesame audit verify` and tell whoever audits this Sesame"
            );
        }
        self.store().restore_audit_guards().await?;
        let event = AuditEvent::new(
            self.now(),
            &Actor::System,
            "audit_guards_restored",
            json!({ "problems": problems }),
        );
        self.store().append_audit(None, &event).await?;
        Ok(problems)
    }

    /// Signs a checkpoint of the chain's end if the policy says one is due (or `force`, when there
    /// is anything new to sign); returns the checkpoint written.
    pub async fn checkpoint_audit(
        &self,
        signer: &AuditSigner,
        policy: CheckpointPolicy,
        force: bool,
    ) -> Result<Option<Checkpoint>, AppError> {
        let head = self.store().audit_chain_head().await?;
        let last = self.store().last_audit_checkpoint().await?;
        if head.count == 0 || last.as_ref().is_some_and(|c| c.event_id >= head.event_id) {
            return Ok(None);
        }
        let now = self.now();
        let due = force
            || match &last {
                None => true,
                Some(last) => {
                    head.count - last.count >= policy.every_events
                        || now.millis() - last.at.millis()
                            >= i64::try_from(policy.every.as_millis()).unwrap_or(i64::MAX)
                }
            };
        if !due {
            return Ok(None);
        }
        let checkpoint = signer.sign(head.event_id, &head.hash, head.count, now);
        if !self.store().append_audit_checkpoint(&checkpoint).await? {
            // Another replica signed this end first.
            return Ok(None);
        }
        tracing::info!(
            event = head.event_id,
            count = head.count,
            "signed an audit checkpoint"
        );
        let written = self.store().last_audit_checkpoint().await?;
        Ok(written.filter(|c| c.event_id == head.event_id))
    }

    /// Checks the latest checkpoint (its signature with `key`, and that the event it names still
    /// has the hash it signed) and shows the result in the metrics
    /// (`sesame_audit_last_checkpoint_*`). Returns whether it holds.
    pub async fn refresh_checkpoint_metrics(&self, key: &AuditPublicKey) -> Result<bool, AppError> {
        let Some(last) = self.store().last_audit_checkpoint().await? else {
            return Ok(true);
        };
        let event = self
            .store()
            .audit_chain(last.event_id - 1, 1)
            .await?
            .into_iter()
            .next()
            .filter(|e| e.id == last.event_id);
        let holds = key.signed(&last)
            && event.is_some_and(|e| e.hash.as_deref() == Some(last.hash.as_str()));
        let gauges = &self.metrics().audit;
        gauges
            .checkpoint_event_id
            .store(last.event_id, Ordering::Relaxed);
        gauges
            .checkpoint_events
            .store(last.count, Ordering::Relaxed);
        gauges
            .checkpoint_timestamp_ms
            .store(last.at.millis(), Ordering::Relaxed);
        gauges
            .checkpoint_valid
            .store(i64::from(holds), Ordering::Relaxed);
        if !holds {
            tracing::error!(
                checkpoint = last.id,
                event = last.event_id,
                "the latest audit checkpoint does not hold: its signature or the event it signed \
                 was changed; run `sesame audit verify`"
            );
        }
        Ok(holds)
    }

    /// Signs checkpoints as the policy says until `shutdown` turns true, and keeps the metrics of
    /// the latest one current.
    pub async fn run_audit_checkpoints(
        &self,
        signer: std::sync::Arc<AuditSigner>,
        policy: CheckpointPolicy,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            if let Err(e) = self.checkpoint_audit(&signer, policy, false).await {
                tracing::warn!(error = %e, "cannot sign an audit checkpoint; trying again");
            }
            if let Err(e) = self.refresh_checkpoint_metrics(signer.public_key()).await {
                tracing::warn!(error = %e, "cannot check the latest audit checkpoint");
            }
            tokio::select! {
                _ = tokio::time::sleep(CHECKPOINT_TICK) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        // What happened since the last checkpoint is signed on the way out.
        if let Err(e) = self.checkpoint_audit(&signer, policy, true).await {
            tracing::warn!(error = %e, "cannot sign the audit checkpoint at shutdown");
        }
    }

    /// Events after `after_id`, in the chain's order, at most `limit` (up to 10,000).
    pub async fn audit_events_after(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<sesame_store::ChainedEvent>, AppError> {
        Ok(self.store().audit_chain(after_id, limit).await?)
    }

    /// The id just before the first event written at or after `at` (so that
    /// [`App::audit_events_after`] starts with that event); `None` when no event is that recent.
    pub async fn audit_id_before(&self, at: Timestamp) -> Result<Option<i64>, AppError> {
        Ok(self
            .store()
            .first_audit_id_since(at)
            .await?
            .map(|id| id - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_and_sign_what_they_say() {
        let pem = AuditSigner::generate_pem().expect("a key");
        assert!(pem.starts_with(PEM_BEGIN) && pem.trim_end().ends_with(PEM_END));
        let signer = AuditSigner::from_pem(&pem).expect("read back");
        let public = signer.public_key().clone();
        assert_eq!(
            AuditPublicKey::parse(&public.to_text()).expect("parse"),
            public
        );
        assert_eq!(public.key_id().len(), 16);
        let new = signer.sign(12, "ab", 30, Timestamp(1_767_603_600_000));
        let mut checkpoint = Checkpoint {
            id: 1,
            event_id: new.event_id,
            hash: new.hash,
            count: new.count,
            at: new.at,
            key_id: new.key_id,
            signature: new.signature,
        };
        assert!(public.signed(&checkpoint));
        checkpoint.count = 29;
        assert!(
            !public.signed(&checkpoint),
            "any change breaks the signature"
        );
        let other =
            AuditSigner::from_pem(&AuditSigner::generate_pem().expect("key")).expect("another key");
        checkpoint.count = 30;
        assert!(!other.public_key().signed(&checkpoint));
        assert!(AuditPublicKey::parse("ed25519:AAAA").is_err());
        assert!(AuditSigner::from_pem("not a key").is_err());
    }

    #[test]
    fn openssl_keys_are_read() {
        // `openssl genpkey -algorithm ed25519`: PKCS#8 v1, without the public key.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIM2Nc0a/wQxLkdFssH052HalStW24Hm3465MIeFtXrkA\n-----END PRIVATE KEY-----\n";
        assert!(AuditSigner::from_pem(pem).is_ok());
    }

    #[test]
    fn the_signed_message_is_canonical() {
        assert_eq!(
            String::from_utf8(checkpoint_message(7, "ff", 9, Timestamp(0))).unwrap(),
            "sesame audit checkpoint v1\n{\"at\":\"1970-01-01T00:00:00.000Z\",\"count\":9,\"event\":7,\"hash\":\"ff\"}"
        );
    }
}
