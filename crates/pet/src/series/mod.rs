//! Reading a DICOM PET series into a [`Volume`] of rescaled pixel values.
//!
//! - Every file is read on its own; a file that is not DICOM, not a PET image, or malformed
//!   is listed in [`LoadedSeries::problems`] with the reason (file and tag) and the rest of
//!   the series is still read.
//! - Images are grouped by SeriesInstanceUID (0020,000E). When a folder holds several PET
//!   series the one with the most images is chosen (ties: the smallest UID) and the others
//!   are named in [`LoadedSeries::other_series`] and in a warning; [`load_series_uid`]
//!   chooses one explicitly.
//! - Slices are sorted by their distance along the slice normal (row cosines × column
//!   cosines of ImageOrientationPatient) computed from ImagePositionPatient, never by
//!   InstanceNumber (PS3.3 C.7.6.2.1.1). A series whose slices are duplicated, unevenly
//!   spaced (a missing slice) or not stacked along the normal is an error: it is never
//!   interpolated.
//! - Each slice keeps its own RescaleSlope/RescaleIntercept (PET slices are often scaled
//!   one by one); the volume holds `stored × slope + intercept` (Bq/mL for BQML).
//! - An Enhanced PET Image (Enhanced PET Image Storage, 1.2.840.10008.5.1.4.1.1.130: one
//!   file, every slice a frame) is read as the single-frame series it holds: each frame
//!   becomes one [`PetInstance`] (with its `frame` number) whose position, orientation,
//!   spacing and rescale come from its functional groups (module `enhanced`), and whose
//!   SUV attributes come from where that IOD keeps them ([`crate::suv`]); the frames are
//!   then sorted, checked and placed like files, to the same volume. NumberOfFrames that
//!   does not count the per-frame functional groups or the frames of the pixel data, or a
//!   frame without its position, orientation, spacing or rescale, makes the file
//!   unreadable (file, frame and attribute named); a series of enhanced and single-frame
//!   files together is refused ([`ErrorKind::MixedSeries`]). Legacy Converted Enhanced PET
//!   is not read.
//! - Reading is done in two steps: every file's header first (files in parallel), then,
//!   once the slices are sorted and checked, each slice's pixels straight into its place
//!   in the volume (slices in parallel; an enhanced file's frames each from their offset
//!   in the file). The common file (explicit VR little endian,
//!   native pixels last) has its header read by a small reader from the file's first
//!   8 KiB and its pixels from the file when placed; any other file, and any file that
//!   reader does not fully accept, is read by dicom-rs, whose results and errors are the
//!   reference (module `fast`). [`crate::suv::load_suv`] also scales each slice to SUV
//!   as it is placed.

pub mod attr;
mod enhanced;
mod fast;
mod geometry;
mod head;
mod instance;
pub mod open;
mod pixels;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use instance::{PendingInstance, read_pending};
pub use instance::{PetInstance, read_images, read_instance};

use crate::error::{ErrorKind, PetError};
use crate::volume::Volume;

/// A file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileProblem {
    /// The file.
    pub path: PathBuf,
    /// The reason, naming the attribute where one is to blame.
    pub reason: String,
}

/// A PET series read from files.
#[derive(Debug, Clone)]
pub struct LoadedSeries {
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: String,
    /// Rescaled pixel values on the series grid (slice `k` is `instances[k]`).
    pub volume: Volume,
    /// The images, sorted along the slice normal (pixels moved into `volume`).
    pub instances: Vec<PetInstance>,
    /// Files that were skipped, with the reason.
    pub problems: Vec<FileProblem>,
    /// Other PET series found among the files: UID and number of images.
    pub other_series: Vec<(String, usize)>,
    /// Notes about how the series was read (choice of series, geometry assumptions).
    pub warnings: Vec<String>,
}

/// All regular files under `dir` (recursively), sorted by path for a stable order.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, PetError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| PetError::at(&d, ErrorKind::Io(e.to_string())))?;
        for entry in entries {
            let entry = entry.map_err(|e| PetError::at(&d, ErrorKind::Io(e.to_string())))?;
            let path = entry.path();
            // The entry's type needs no stat, except for a link, which is followed.
            let is_dir = match entry.file_type() {
                Ok(t) if !t.is_symlink() => t.is_dir(),
                _ => path.is_dir(),
            };
            if is_dir {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads the PET series in `dir` (see the module documentation for the rules).
pub fn load_series(dir: &Path) -> Result<LoadedSeries, PetError> {
    load_series_files(&series_files(dir)?)
}

/// The files of `dir` that [`load_series`] reads: [`list_files`], an error when there
/// are none.
pub fn series_files(dir: &Path) -> Result<Vec<PathBuf>, PetError> {
    let files = list_files(dir)?;
    if files.is_empty() {
        return Err(PetError::at(
            dir,
            ErrorKind::NoImages("the folder holds no files".into()),
        ));
    }
    Ok(files)
}

/// Reads the largest PET series among `paths` (e.g. stored files of one upload).
pub fn load_series_files(paths: &[PathBuf]) -> Result<LoadedSeries, PetError> {
    load(paths, None)
}

/// Reads the PET series with SeriesInstanceUID `uid` among `paths`.
pub fn load_series_uid(paths: &[PathBuf], uid: &str) -> Result<LoadedSeries, PetError> {
    load(paths, Some(uid))
}

fn load(paths: &[PathBuf], wanted: Option<&str>) -> Result<LoadedSeries, PetError> {
    load_scaled(paths, wanted, |_| None).map(|(series, _)| series)
}

/// Reads a series like [`load_series_files`]; `factors` sees the sorted images before
/// their pixels are read and may give one factor per image, by which each slice's
/// values are then multiplied as they are placed (`(value as f64 × factor) as f32`).
/// Returns the series and, when scaled, the range of the finite values of the volume.
pub(crate) fn load_scaled(
    paths: &[PathBuf],
    wanted: Option<&str>,
    factors: impl FnOnce(&[PetInstance]) -> Option<Vec<f64>>,
) -> Result<(LoadedSeries, Option<(f64, f64)>), PetError> {
    let results: Vec<Result<Vec<PendingInstance>, PetError>> =
        paths.par_iter().map(|p| read_pending(p)).collect();
    let mut problems = Vec::new();
    let mut groups: BTreeMap<String, Vec<PendingInstance>> = BTreeMap::new();
    for result in results {
        match result {
            Ok(images) => {
                for p in images {
                    groups
                        .entry(p.inst.series_instance_uid.clone())
                        .or_default()
                        .push(p);
                }
            }
            Err(e) => problems.push(FileProblem {
                path: e.path.clone().unwrap_or_default(),
                reason: e.kind.to_string(),
            }),
        }
    }
    let chosen = match wanted {
        Some(uid) => uid.to_string(),
        None => groups
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .map(|(uid, _)| uid.clone())
            .ok_or_else(|| no_images(paths, &problems))?,
    };
    let instances = groups.remove(&chosen).ok_or_else(|| {
        PetError::new(ErrorKind::NoImages(format!(
            "no readable PET image of series {chosen}"
        )))
    })?;
    one_kind_of_file(&chosen, &instances)?;
    let other_series: Vec<(String, usize)> =
        groups.into_iter().map(|(uid, v)| (uid, v.len())).collect();
    let mut warnings = Vec::new();
    if !other_series.is_empty() {
        let list: Vec<String> = other_series
            .iter()
            .map(|(uid, n)| format!("{uid} ({n} images)"))
            .collect();
        warnings.push(format!(
            "the files hold {} PET series; read {chosen} ({} images), not {}",
            other_series.len() + 1,
            instances.len(),
            list.join(", ")
        ));
    }
    let (volume, instances, geometry_warnings, range) = geometry::stack(instances, factors)?;
    warnings.extend(geometry_warnings);
    let series = LoadedSeries {
        series_instance_uid: chosen,
        volume,
        instances,
        problems,
        other_series,
        warnings,
    };
    Ok((series, range))
}

/// Refuses a series read from single-frame files and enhanced multi-frame files at once.
fn one_kind_of_file(uid: &str, images: &[PendingInstance]) -> Result<(), PetError> {
    let enhanced = images.iter().find(|p| p.inst.frame.is_some());
    let single = images.iter().find(|p| p.inst.frame.is_none());
    let (Some(enhanced), Some(single)) = (enhanced, single) else {
        return Ok(());
    };
    let singles = images.iter().filter(|p| p.inst.frame.is_none()).count();
    Err(PetError::new(ErrorKind::MixedSeries(format!(
        "series {uid} holds an Enhanced PET Image ({}) and {singles} single-frame PET \
         Image file(s) ({} …): one acquisition exported both ways would be stacked twice; \
         read the series from one kind of file",
        enhanced.inst.path.display(),
        single.inst.path.display()
    ))))
}

fn no_images(paths: &[PathBuf], problems: &[FileProblem]) -> PetError {
    let first = problems
        .first()
        .map(|p| format!("; first problem: {}: {}", p.path.display(), p.reason))
        .unwrap_or_default();
    let kind = ErrorKind::NoImages(format!(
        "none of {} files is a readable PET image{first}",
        paths.len()
    ));
    match paths {
        [one] => PetError::at(one, kind),
        _ => PetError::new(kind),
    }
}
