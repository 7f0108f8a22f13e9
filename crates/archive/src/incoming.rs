//! An object on its way into the archive: streamed, de-identified, to a temporary file
//! under `<data dir>/dicom/incoming/`, hashed as it is written, then moved into place.
//!
//! Memory stays at the size of one PDU however large the object: nothing is gathered in
//! memory, and the identifiers the de-identification profile removes never reach the disk
//! (the filter sits before the file). An object that does not arrive whole (a broken
//! association, a refused size) leaves nothing: its temporary file is removed when the
//! [`Incoming`] is dropped, and any left by a crash when the archive is next opened.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::archive::{Archive, Source, Stored};
use crate::deid::{Encoding, Filter};
use crate::error::{IngestError, IngestErrorKind};
use crate::header::inspect_file;
use crate::recovery::Provenance;

/// Distinguishes temporary files of concurrent objects.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The file being written, hashed as it goes.
pub(crate) struct HashingFile {
    file: BufWriter<File>,
    hasher: Sha256,
    size: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// An object being received (see the module documentation).
pub struct Incoming {
    filter: Option<Filter<HashingFile>>,
    path: PathBuf,
    /// The provenance written in its file meta group, when the archive wrote it.
    provenance: Option<Provenance>,
}

impl Incoming {
    /// Takes the next fragment of the data set.
    pub fn push(&mut self, data: &[u8]) -> Result<(), IngestErrorKind> {
        match self.filter.as_mut() {
            Some(f) => f.push(data),
            None => Err(IngestErrorKind::Protocol("object already complete".into())),
        }
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Committing hands the file over to the `Complete` object (the path is then
        // empty). Best effort: a leftover is removed when the archive is next opened.
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Archive {
    /// Starts an object: `meta` (preamble, `DICM`, file meta group) is written as is, the
    /// data set that follows in `transfer_syntax` is de-identified as it is pushed.
    ///
    /// The object does not carry its provenance (see `recovery`), so its index entry is
    /// flushed to disk before [`Archive::commit`] returns.
    pub fn begin(&self, meta: &[u8], transfer_syntax: &str) -> Result<Incoming, IngestError> {
        self.begin_with(meta, transfer_syntax, None)
    }

    /// [`Archive::begin`] with a `meta` that holds `provenance` (written by
    /// `association::part10_file`): committed for the same site and source, the object
    /// describes itself and its index entry needs no flush.
    pub(crate) fn begin_described(
        &self,
        meta: &[u8],
        transfer_syntax: &str,
        provenance: Provenance,
    ) -> Result<Incoming, IngestError> {
        self.begin_with(meta, transfer_syntax, Some(provenance))
    }

    fn begin_with(
        &self,
        meta: &[u8],
        transfer_syntax: &str,
        provenance: Option<Provenance>,
    ) -> Result<Incoming, IngestError> {
        let enc = Encoding::of(transfer_syntax).ok_or_else(|| {
            IngestError::new(IngestErrorKind::BadAttribute {
                tag: "TransferSyntaxUID (0002,0010)".into(),
                problem: format!("{transfer_syntax} is deflated and cannot be de-identified"),
            })
        })?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = self
            .root
            .join("incoming")
            .join(format!(".{}.{n}.tmp", std::process::id()));
        let file = owner_only(OpenOptions::new().write(true).create_new(true))
            .open(&path)
            .map_err(|e| IngestError::io(&path, "create temporary file", &e))?;
        let mut out = HashingFile {
            file: BufWriter::with_capacity(256 * 1024, file),
            hasher: Sha256::new(),
            size: 0,
        };
        let incoming = |filter| Incoming {
            filter: Some(filter),
            path: path.clone(),
            provenance: provenance.clone(),
        };
        if let Err(e) = out.write_all(meta) {
            drop(incoming(Filter::new(out, enc, &self.key)));
            return Err(IngestError::io(&path, "write temporary file", &e));
        }
        Ok(incoming(Filter::new(out, enc, &self.key)))
    }

    /// Completes an object received from `source` for `site`: checks that the data set
    /// ended whole, flushes it to disk, reads its identifiers and files it.
    pub fn commit(
        &self,
        incoming: Incoming,
        source: &Source,
        site: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        self.commit_expecting(incoming, None, source, site, received_at)
    }

    /// [`Archive::commit`], refusing ([`IngestErrorKind::Mismatch`]) a data set whose SOP
    /// instance and class are not `expected` (what the C-STORE command named).
    pub(crate) fn commit_expecting(
        &self,
        mut incoming: Incoming,
        expected: Option<(&str, &str)>,
        source: &Source,
        site: &str,
        received_at: DateTime<Utc>,
    ) -> Result<Stored, IngestError> {
        let path = incoming.path.clone();
        let filter = incoming.filter.take().ok_or_else(|| {
            IngestError::at(&path, IngestErrorKind::Protocol("committed twice".into()))
        })?;
        let out = filter.finish().map_err(|k| IngestError::at(&path, k))?;
        let HashingFile { file, hasher, size } = out;
        let file = file
            .into_inner()
            .map_err(|e| IngestError::io(&path, "write temporary file", e.error()))?;
        // Not flushed yet: a duplicate never needs to be, and a new object is flushed
        // together with its folder once moved into place (see `archive`).
        let sha256 = hex::encode(hasher.finalize());
        let header = inspect_file(&path).map_err(|k| IngestError::at(&path, k))?;
        if let Some((instance, class)) = expected
            && (header.sop_instance_uid != instance || header.sop_class_uid != class)
        {
            return Err(IngestError::new(IngestErrorKind::Mismatch(format!(
                "data set holds {} of class {}, command names {instance} of class {class}",
                header.sop_instance_uid, header.sop_class_uid
            ))));
        }
        let described = incoming
            .provenance
            .as_ref()
            .is_some_and(|p| p.site == site && &p.source == source);
        // From here the complete object removes its temporary file, unless moved into place.
        incoming.path = PathBuf::new();
        let object = crate::archive::Complete {
            tmp: path,
            file,
            sha256,
            size,
            described,
            moved: std::cell::Cell::new(false),
        };
        self.file_object(&object, &header, source, site, received_at)
    }
}

#[cfg(unix)]
fn owner_only(o: &mut OpenOptions) -> &mut OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    o.mode(0o600)
}

#[cfg(not(unix))]
fn owner_only(o: &mut OpenOptions) -> &mut OpenOptions {
    o
}

/// Removes temporary files a crash left in the incoming folder (not those of objects
/// another running process is receiving).
pub(crate) fn clear_incoming(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            if crate::folders::is_abandoned_temporary(&name.to_string_lossy()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// The pseudonym key of the archive, created (32 random bytes, owner-only) when missing.
pub(crate) fn pseudonym_key(root: &Path) -> Result<Vec<u8>, IngestError> {
    let path = root.join("pseudonym.key");
    if let Ok(key) = fs::read(&path)
        && key.len() == 32
    {
        return Ok(key);
    }
    let mut key = vec![0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut r| r.read_exact(&mut key))
        .map_err(|e| IngestError::io("/dev/urandom", "read random bytes", &e))?;
    let mut file = owner_only(OpenOptions::new().write(true).create_new(true))
        .open(&path)
        .map_err(|e| IngestError::io(&path, "create the pseudonym key", &e))?;
    file.write_all(&key)
        .and_then(|()| file.sync_all())
        .map_err(|e| IngestError::io(&path, "write the pseudonym key", &e))?;
    Ok(key)
}

/// Where the data set of a Part 10 file starts: after the file meta group, which is
/// explicit VR little endian (PS3.10 §7.1), found by walking its elements.
pub(crate) fn data_set_offset(file: &[u8]) -> Result<usize, IngestErrorKind> {
    let bad = || IngestErrorKind::NotDicom("file meta group cannot be walked".into());
    let mut pos = 132;
    loop {
        if pos >= file.len() {
            return Ok(pos);
        }
        let at = |p: usize, n: usize| file.get(p..p + n).ok_or_else(bad);
        let group = at(pos, 2)?;
        if u16::from_le_bytes([group[0], group[1]]) != 0x0002 {
            return Ok(pos);
        }
        let vr = at(pos + 4, 2)?;
        pos += if matches!(vr, b"OB" | b"OW" | b"UN" | b"SQ" | b"UT") {
            let l = at(pos + 8, 4)?;
            12 + u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize
        } else {
            let l = at(pos + 6, 2)?;
            8 + u16::from_le_bytes([l[0], l[1]]) as usize
        };
    }
}
