//! A flush helper per storing thread.
//!
//! A new object is flushed to disk twice, its bytes and its folder's entry, and the two
//! flushes wait for the disk at the same time: the folder on the storing thread, the
//! bytes on a helper. Starting a thread for every object costs more than the flush
//! saves under load (a thread's stack is mapped and unmapped each time), so each storing
//! thread (an association, an import) keeps one helper, started with its first object,
//! and the helper ends when that thread does.

use std::cell::RefCell;
use std::fs::File;
use std::sync::mpsc;

/// A flush handed to the helper.
struct Job {
    file: File,
    done: mpsc::SyncSender<std::io::Result<()>>,
}

/// The way in to the helper of the current thread.
struct Helper {
    jobs: mpsc::Sender<Job>,
}

thread_local! {
    /// Dropped when the thread ends, which closes the channel and ends the helper.
    static HELPER: RefCell<Option<Helper>> = const { RefCell::new(None) };
}

/// A flush running on the helper.
pub(crate) struct Pending {
    done: mpsc::Receiver<std::io::Result<()>>,
}

impl Pending {
    /// Waits for the flush: `Err(None)` when the helper ended without answering.
    pub(crate) fn wait(self) -> Result<(), Option<std::io::Error>> {
        match self.done.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Some(e)),
            Err(_) => Err(None),
        }
    }
}

/// Starts `file.sync_data()` on this thread's helper, starting the helper if there is
/// none (or the last one ended). `None` when no helper can be started: the caller then
/// flushes the file itself.
pub(crate) fn sync_data(file: File) -> Option<Pending> {
    let (done, answer) = mpsc::sync_channel(1);
    let mut job = Job { file, done };
    HELPER
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            if let Some(helper) = slot.as_ref() {
                match helper.jobs.send(job) {
                    Ok(()) => return Some(()),
                    // The helper ended (it never does on its own): start another.
                    Err(mpsc::SendError(back)) => job = back,
                }
            }
            let helper = start()?;
            helper.jobs.send(job).ok()?;
            *slot = Some(helper);
            Some(())
        })
        .ok()
        .flatten()?;
    Some(Pending { done: answer })
}

/// Starts a helper thread.
fn start() -> Option<Helper> {
    let (jobs, incoming) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("archive-flush".into())
        .spawn(move || {
            for job in incoming {
                // The storing thread may have stopped waiting; nothing to tell then.
                let _ = job.done.send(job.file.sync_data());
            }
        })
        .ok()?;
    Some(Helper { jobs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn flushes_on_one_helper_per_thread_and_reports_the_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..3)
            .map(|t| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    for i in 0..20 {
                        let mut file = File::create(dir.join(format!("{t}-{i}"))).unwrap();
                        file.write_all(b"bytes").unwrap();
                        let pending = sync_data(file.try_clone().unwrap()).unwrap();
                        pending.wait().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 60);
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_flush_is_reported_to_its_caller() {
        // A pipe cannot be flushed: its fsync fails with EINVAL.
        let (_read, write) = std::io::pipe().unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(write));
        let outcome = sync_data(file).unwrap().wait();
        assert!(matches!(outcome, Err(Some(_))), "{outcome:?}");
    }
}
