//! Walking the hash chain: the checks `verify_chain` applies to each stored event.
//!
//! For each event, in seq order, the walker checks, and reports the first failure of:
//! 1. its seq follows the previous one without a gap (a gap means events were deleted;
//!    the event after the gap is named, and the reason gives the missing seqs);
//! 2. its `prev_hash` equals the previous event's stored hash (genesis: 64 zeros);
//! 3. its payload is valid JSON stored in canonical form, and its `recorded_at` is a
//!    canonical timestamp;
//! 4. re-hashing its stored fields gives its stored hash.
//!
//! A walk may resume after a signed checkpoint: before the store signs a new checkpoint
//! it checks the events since the last one, so it never signs a chain that was already
//! broken.
//!
//! At the end, the `chain_head` row must name the last event's seq and hash; a mismatch
//! there means events were removed from the end of the log.

use crate::hash::{self, GENESIS_HASH, HashInput};
use crate::model::{BadEvent, ChainReport, EventMeta};
use crate::rows::RawEvent;

/// Walks events in seq order and remembers the first bad one.
#[derive(Debug)]
pub(crate) struct ChainWalker {
    last_seq: i64,
    last_hash: String,
    checked: u64,
    first_bad: Option<BadEvent>,
}

impl ChainWalker {
    /// A walker at the start of the log.
    pub(crate) fn new() -> Self {
        ChainWalker {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            checked: 0,
            first_bad: None,
        }
    }

    /// A walker that starts after event `seq`, whose hash is `hash`: for checking only the
    /// events after a signed checkpoint (the checkpoint vouches for the rest).
    pub(crate) fn resume(seq: i64, hash: &str) -> Self {
        ChainWalker {
            last_seq: seq,
            last_hash: hash.to_owned(),
            checked: 0,
            first_bad: None,
        }
    }

    /// The seq of the last event seen (0 before the first).
    pub(crate) fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Checks the next event of the log.
    pub(crate) fn check(&mut self, event: &RawEvent) {
        self.checked += 1;
        if self.first_bad.is_none()
            && let Some(reason) = self.problem(event)
        {
            self.first_bad = Some(BadEvent {
                seq: event.seq,
                stream: event.stream.clone(),
                version: event.version,
                reason,
            });
        }
        self.last_seq = event.seq;
        self.last_hash = event.hash.clone();
    }

    fn problem(&self, event: &RawEvent) -> Option<String> {
        let expected_seq = self.last_seq + 1;
        if event.seq != expected_seq {
            return Some(format!(
                "events {expected_seq}..{} are missing: the log jumps from seq {} to {}",
                event.seq - 1,
                self.last_seq,
                event.seq
            ));
        }
        if event.prev_hash != self.last_hash {
            return Some(format!(
                "prev_hash {} does not match the previous event's hash {}",
                event.prev_hash, self.last_hash
            ));
        }
        let payload: serde_json::Value = match serde_json::from_str(&event.payload) {
            Ok(v) => v,
            Err(e) => return Some(format!("payload is not valid JSON: {e}")),
        };
        let payload_json = hash::canonical_json(&payload);
        if payload_json != event.payload {
            return Some("payload is not in the canonical form it was written in".to_owned());
        }
        let recorded_at = match hash::parse_timestamp(&event.recorded_at) {
            Ok(t) => t,
            Err(e) => {
                return Some(format!(
                    "recorded_at {:?} is not a time: {e}",
                    event.recorded_at
                ));
            }
        };
        if hash::format_timestamp(recorded_at) != event.recorded_at {
            return Some(format!(
                "recorded_at {:?} is not in the canonical form it was written in",
                event.recorded_at
            ));
        }
        let meta = EventMeta {
            actor: event.actor.clone(),
            role: event.role.clone(),
            site: event.site.clone(),
            recorded_at,
            reason: event.reason.clone(),
        };
        let recomputed = hash::event_hash(&HashInput {
            prev_hash: &event.prev_hash,
            seq: event.seq,
            stream: &event.stream,
            version: event.version,
            kind: &event.kind,
            payload_json: &payload_json,
            meta: &meta,
        });
        if recomputed != event.hash {
            return Some(format!(
                "stored values hash to {recomputed}, not to the stored hash {}: \
                 the event was changed after it was written",
                event.hash
            ));
        }
        None
    }

    /// Compares the recorded chain head with the last event seen and builds the report.
    pub(crate) fn finish(mut self, head_seq: i64, head_hash: &str) -> ChainReport {
        if self.first_bad.is_none() && (head_seq != self.last_seq || head_hash != self.last_hash) {
            self.first_bad = Some(BadEvent {
                seq: head_seq,
                stream: String::new(),
                version: 0,
                reason: format!(
                    "the chain head records seq {head_seq} with hash {head_hash}, but the log \
                     ends at seq {} with hash {}: events at the end are missing",
                    self.last_seq, self.last_hash
                ),
            });
        }
        ChainReport {
            events_checked: self.checked,
            head_hash: self.last_hash,
            first_bad: self.first_bad,
        }
    }
}
