//! Crash-safe file writes: a file appears under its final name complete or not at all.
//!
//! The bytes go to a temporary file in the destination folder (same file system, so the
//! rename is atomic), which is flushed to disk (`fsync`) and renamed; the folder is then
//! flushed too so that the new name itself survives a power cut. A crash leaves at most a
//! temporary file whose name starts with a dot and ends in `.tmp`, which readers ignore.
//!
//! [`write_replacing`] is the same without the flushes, for files that can be rebuilt
//! from others after a crash (index entries, see `recovery`): other readers never see a
//! half-written file, but a power cut can lose the file or leave it empty.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::IngestError;

/// Distinguishes temporary files of concurrent writers within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `name` is a temporary file left by [`write_atomically`].
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Whether a temporary file is garbage: no running process can still be writing it.
///
/// Temporary names end in `.<process id>.<counter>.tmp`; while that process runs (an
/// import beside the receiver, another archive in this process) the file may be one it
/// is about to rename, so it is left alone. Where running processes cannot be seen (no
/// `/proc`), every temporary file is taken for garbage, as before processes were told
/// apart.
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

/// Writes `bytes` to `dir/name` atomically and durably (see the module documentation).
///
/// An existing `dir/name` is replaced; callers that must never replace a file check first.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), IngestError> {
    ensure_dir(dir)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let target = dir.join(name);
    let result = write_and_sync(&tmp, bytes).and_then(|()| {
        fs::rename(&tmp, &target).map_err(|e| IngestError::io(&target, "rename into place", &e))
    });
    if result.is_err() {
        // Best effort: the temporary file is garbage either way and readers ignore it.
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Writes `bytes` to `dir/name` atomically but not durably (see the module
/// documentation), creating `dir` when missing.
pub(crate) fn write_replacing(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), IngestError> {
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(|e| IngestError::io(dir, "create folder", &e))?;
    }
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let target = dir.join(name);
    let result = write_file(&tmp, bytes, false).and_then(|()| {
        fs::rename(&tmp, &target).map_err(|e| IngestError::io(&target, "rename into place", &e))
    });
    if result.is_err() {
        // Best effort: the temporary file is garbage either way and readers ignore it.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_and_sync(path: &Path, bytes: &[u8]) -> Result<(), IngestError> {
    write_file(path, bytes, true)
}

fn write_file(path: &Path, bytes: &[u8], sync: bool) -> Result<(), IngestError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| IngestError::io(path, "create temporary file", &e))?;
    file.write_all(bytes)
        .map_err(|e| IngestError::io(path, "write temporary file", &e))?;
    if sync {
        file.sync_all()
            .map_err(|e| IngestError::io(path, "flush file to disk", &e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_complete_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a/b");
        write_atomically(&target, "x.bin", b"payload").unwrap();
        assert_eq!(fs::read(target.join("x.bin")).unwrap(), b"payload");
        let names: Vec<_> = fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["x.bin".to_string()]);
    }

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
