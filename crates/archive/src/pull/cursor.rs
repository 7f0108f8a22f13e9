//! Where a pull stopped: the last change of the peer's log it handled, kept in
//! `<data dir>/dicom/pull/<peer name>.json` and written atomically (see `atomic`), so a
//! restart resumes after it and a crash leaves the previous value, never half a file.
//!
//! The file also records the peer's address: another Orthanc numbers its changes its own
//! way, so a state file is refused for an address other than its own. And it records the
//! series that appeared (`NewSeries`) but have not settled (`StableSeries`) yet: Orthanc
//! keeps its stability timers in memory, so a series still arriving when Orthanc stops
//! never gets its `StableSeries`, and the pull settles it itself (see `pull`).

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::{PullError, PullErrorKind};
use super::orthanc::is_peer_name;
use crate::archive::Archive;
use crate::folders::write_atomically;

/// The content of a state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullState {
    /// The peer's name.
    pub peer: String,
    /// The peer's address.
    pub url: String,
    /// The last change of the peer's log handled (0: none yet).
    pub last_seq: u64,
    /// Orthanc identifiers of the series seen to appear whose `StableSeries` has not been
    /// handled yet.
    #[serde(default)]
    pub unsettled: BTreeSet<String>,
    /// When this was written.
    pub updated_at: DateTime<Utc>,
}

/// The folder of the state files.
fn folder(archive: &Archive) -> PathBuf {
    archive.root().join("pull")
}

/// The state file of a peer.
pub fn state_path(archive: &Archive, peer: &str) -> PathBuf {
    folder(archive).join(format!("{peer}.json"))
}

/// The stored state of a peer; `None` before its first pull.
pub fn read_state(archive: &Archive, peer: &str) -> Result<Option<PullState>, PullError> {
    if !is_peer_name(peer) {
        return Err(PullError::config(format!(
            "peer name {peer:?} cannot name a state file"
        )));
    }
    let path = state_path(archive, peer);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(PullError::at(
                path.display().to_string(),
                PullErrorKind::State(format!("cannot read: {e}")),
            ));
        }
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        PullError::at(
            path.display().to_string(),
            PullErrorKind::State(format!(
                "unreadable ({e}); remove it to pull the peer again from its first change"
            )),
        )
    })
}

/// The position of a running pull: what is handled, and what is on disk.
#[derive(Debug)]
pub(crate) struct Cursor {
    peer: String,
    url: String,
    /// The last change handled.
    pub seq: u64,
    /// Series seen to appear and not yet settled (see [`PullState::unsettled`]).
    pub unsettled: BTreeSet<String>,
    /// The values on disk.
    saved: (u64, BTreeSet<String>),
}

impl Cursor {
    /// The stored position for the peer `peer` at `url` (0 before its first pull).
    ///
    /// Refused when the state file records another address.
    pub fn load(archive: &Archive, peer: &str, url: &str) -> Result<Cursor, PullError> {
        let (seq, unsettled) = match read_state(archive, peer)? {
            None => (0, BTreeSet::new()),
            Some(state) if state.url == url => (state.last_seq, state.unsettled),
            Some(state) => {
                return Err(PullError::at(
                    state_path(archive, peer).display().to_string(),
                    PullErrorKind::Config(format!(
                        "peer {peer:?} was pulled from {} and is now given as {url}; another \
                         Orthanc numbers its changes its own way, so the stored position does \
                         not apply. Pull it under another --peer-name, or remove this file if \
                         it is the same Orthanc moved",
                        state.url
                    )),
                ));
            }
        };
        Ok(Cursor {
            peer: peer.to_string(),
            url: url.to_string(),
            seq,
            saved: (seq, unsettled.clone()),
            unsettled,
        })
    }

    /// Writes the position if it moved since the last write.
    pub fn save(&mut self, archive: &Archive) -> Result<(), PullError> {
        if self.seq == self.saved.0 && self.unsettled == self.saved.1 {
            return Ok(());
        }
        let state = PullState {
            peer: self.peer.clone(),
            url: self.url.clone(),
            last_seq: self.seq,
            unsettled: self.unsettled.clone(),
            updated_at: archive.now(),
        };
        let json = serde_json::to_vec_pretty(&state)
            .map_err(|e| PullError::new(PullErrorKind::State(e.to_string())))?;
        write_atomically(&folder(archive), &format!("{}.json", self.peer), &json)?;
        self.saved = (self.seq, self.unsettled.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_survives_a_reopen_and_is_refused_for_another_address() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        let url = "http://127.0.0.1:8042";
        let mut cursor = Cursor::load(&archive, "ks", url).unwrap();
        assert_eq!(cursor.seq, 0);
        assert_eq!(read_state(&archive, "ks").unwrap(), None);
        cursor.seq = 17;
        cursor.unsettled.insert("b48bcf0f".into());
        cursor.save(&archive).unwrap();

        let again = Archive::open(dir.path()).unwrap();
        let reopened = Cursor::load(&again, "ks", url).unwrap();
        assert_eq!(reopened.seq, 17);
        assert!(reopened.unsettled.contains("b48bcf0f"));
        let state = read_state(&again, "ks").unwrap().unwrap();
        assert_eq!((state.peer.as_str(), state.last_seq), ("ks", 17));

        let other = Cursor::load(&again, "ks", "http://127.0.0.1:9999").unwrap_err();
        assert!(other.to_string().contains("another --peer-name"), "{other}");
    }

    #[test]
    fn a_damaged_state_file_is_an_error_not_a_silent_restart() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        fs::create_dir_all(folder(&archive)).unwrap();
        fs::write(state_path(&archive, "ks"), b"{ half").unwrap();
        let e = Cursor::load(&archive, "ks", "http://127.0.0.1:8042").unwrap_err();
        assert!(e.to_string().contains("remove it"), "{e}");
    }
}
