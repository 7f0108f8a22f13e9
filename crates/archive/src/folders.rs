//! Folders made and flushed so that they survive a power cut, and the temporary files of
//! the archive's writers.
//!
//! A new name in a folder (a file moved into place, a folder made) is durable only once
//! the folder itself is flushed to disk (`fsync`). Writers give their files a temporary
//! name first, starting with a dot and ending in `.<process id>.<counter>.tmp`, which
//! readers ignore; what a crash leaves of them is removed when the archive next opens.

use std::fs;
use std::path::Path;

use crate::error::IngestError;

/// Whether `name` is a temporary file: a dot first, `.tmp` last (see the module
/// documentation).
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Whether a temporary file is garbage: no running process can still be writing it.
///
/// Temporary names end in `.<process id>.<counter>.tmp`; while that process runs (an
/// import beside the receiver, another archive in this process) the file may be one it
/// is about to rename, so it is left alone. Where running processes cannot be seen (no
/// `/proc`), every temporary file is taken for garbage.
pub(crate) fn is_abandoned_temporary(name: &str) -> bool {
    if !is_temporary(name) {
        return false;
    }
    let pid = name
        .trim_end_matches(".tmp")
        .rsplit('.')
        .nth(1)
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if Path::new("/proc/self").exists() => {
            !Path::new("/proc").join(pid.to_string()).exists()
        }
        _ => true,
    }
}

/// Creates `dir` (and missing parents), flushing each new entry to disk.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), IngestError> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        ensure_dir(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Another writer created it in the meantime.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(IngestError::io(dir, "create folder", &e)),
    }
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Flushes a folder's entries to disk (POSIX: a rename is durable only once its folder is).
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), IngestError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| IngestError::io(dir, "flush folder to disk", &e))
}

/// Other systems cannot open a folder as a file; their renames are durable as they are.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), IngestError> {
    Ok(())
}

/// Writes `bytes` to `dir/name` atomically and durably: a temporary file (see the module
/// documentation) is written and flushed, moved into place, and the folder flushed; a
/// reader sees the old file or the new one, never a part. For the small state files of
/// the archive's tools (a pull's position).
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), IngestError> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    ensure_dir(dir)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let target = dir.join(name);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .map_err(|e| IngestError::io(&tmp, "write and flush temporary file", &e))
        .and_then(|()| {
            fs::rename(&tmp, &target).map_err(|e| IngestError::io(&target, "rename into place", &e))
        });
    if written.is_err() {
        // Best effort: the temporary file is garbage either way and readers ignore it.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised() {
        assert!(is_temporary(".abc.dcm.12.0.tmp"));
        assert!(!is_temporary("abc.dcm"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temporary_files_of_running_processes_are_not_garbage() {
        let mine = format!(".abc.json.{}.7.tmp", std::process::id());
        assert!(!is_abandoned_temporary(&mine));
        // Beyond the largest process id Linux hands out (2^22).
        assert!(is_abandoned_temporary(".abc.json.99999999.7.tmp"));
        assert!(is_abandoned_temporary(".99999999.3.tmp"), "incoming names");
        assert!(!is_abandoned_temporary("abc.json"));
    }
}
