//! Folder flushes shared by concurrent stores.
//!
//! A file moved into a folder survives a power cut only once the folder itself is
//! flushed (`fsync` of the folder). Stores that move objects into the same folder at
//! about the same time need not flush it once each: one flush that *starts* after a
//! store's move covers that store. So, per folder, the stores waiting form a generation;
//! while one flush runs, the stores that arrive join the next generation, which one of
//! them flushes as soon as the running flush ends, for all of them at once. Every store
//! still returns only after a flush that began after its move has completed, so an
//! acknowledged object is never one whose name could be lost.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::error::IngestError;
use crate::folders::sync_dir;

/// The outcome of one flush, shared by the stores of its generation.
type Generation = Arc<OnceLock<Result<(), IngestError>>>;

/// The flushes of one folder.
#[derive(Debug, Default)]
struct Folder {
    /// A flush is running.
    running: bool,
    /// The generation that the next flush will serve (stores that moved an object since
    /// the running flush began).
    next: Option<Generation>,
}

/// Coalesces folder flushes (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct DirSync {
    folders: Mutex<HashMap<PathBuf, Folder>>,
    done: Condvar,
}

impl DirSync {
    /// Returns once `dir` has been flushed by a flush that began after this call: the
    /// caller's earlier renames into `dir` are then durable.
    pub(crate) fn sync(&self, dir: &Path) -> Result<(), IngestError> {
        self.sync_with(dir, sync_dir)
    }

    /// [`DirSync::sync`] with the flush given (tests count flushes).
    fn sync_with(
        &self,
        dir: &Path,
        flush: impl Fn(&Path) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        let mut folders = self.lock();
        let mine = Arc::clone(
            folders
                .entry(dir.to_path_buf())
                .or_default()
                .next
                .get_or_insert_with(Generation::default),
        );
        loop {
            if let Some(result) = mine.get() {
                return result.clone();
            }
            let folder = folders.entry(dir.to_path_buf()).or_default();
            if folder.running {
                folders = self
                    .done
                    .wait(folders)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: this flush begins after every move of the generation taken here.
            folder.running = true;
            let generation = folder.next.take().unwrap_or_else(|| Arc::clone(&mine));
            drop(folders);
            let result = flush(dir);
            folders = self.lock();
            // Only this thread sets it; it cannot be set already.
            let _ = generation.set(result);
            if let Some(folder) = folders.get_mut(dir) {
                folder.running = false;
            }
            self.done.notify_all();
        }
    }

    /// The table of folders, also after a panic elsewhere: it is changed only in small
    /// steps that leave it consistent.
    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, Folder>> {
        self.folders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IngestErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;
    use std::time::Duration;

    #[test]
    fn concurrent_stores_share_flushes_and_each_waits_for_one() {
        let syncs = Arc::new(DirSync::default());
        let flushes = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (syncs, flushes) = (syncs.clone(), flushes.clone());
                thread::spawn(move || {
                    for _ in 0..10 {
                        let before = flushes.load(Ordering::SeqCst);
                        syncs
                            .sync_with(Path::new("/objects/ab"), |_| {
                                thread::sleep(Duration::from_millis(2));
                                flushes.fetch_add(1, Ordering::SeqCst);
                                Ok(())
                            })
                            .unwrap();
                        // A flush that began after the call has ended.
                        assert!(flushes.load(Ordering::SeqCst) > before);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(
            n < 80,
            "80 requests were served by {n} flushes: none shared"
        );
    }

    #[test]
    fn a_failed_flush_fails_the_stores_it_served() {
        let syncs = DirSync::default();
        let failing = |_: &Path| {
            Err(IngestError::new(IngestErrorKind::Io {
                action: "flush folder to disk",
                reason: "I/O error".into(),
            }))
        };
        assert!(syncs.sync_with(Path::new("/x"), failing).is_err());
        // The next store gets a flush of its own.
        assert!(syncs.sync_with(Path::new("/x"), |_| Ok(())).is_ok());
    }
}
