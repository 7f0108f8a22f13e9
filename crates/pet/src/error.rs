//! Errors of the PET crate: the machine could not read or understand its input.
//!
//! A refusal to compute an SUV (the header lacks what the QIBA calculation needs) is not an
//! error and lives in [`crate::suv::SuvRefusal`]. Every error names the file and, where one
//! is to blame, the DICOM attribute by keyword and tag, e.g. `RescaleSlope (0028,1053)`.

use std::path::PathBuf;

/// What went wrong, without the file it happened in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ErrorKind {
    /// The file could not be opened or read.
    #[error("cannot read file: {0}")]
    Io(String),
    /// The bytes are not a DICOM Part 10 file, or the parser gave up on them.
    #[error("not a readable DICOM file: {0}")]
    NotDicom(String),
    /// A DICOM object that is not a PET image (another modality or SOP class).
    #[error("not a PET image: {0}")]
    NotPet(String),
    /// A required attribute is absent.
    #[error("missing {0}")]
    MissingTag(String),
    /// An attribute is present but its value cannot be used.
    #[error("bad {tag}: {problem}")]
    BadTag {
        /// Keyword and tag, e.g. `RescaleSlope (0028,1053)`.
        tag: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// Pixel data absent, truncated or in a form this reader does not handle.
    #[error("pixel data: {0}")]
    Pixels(String),
    /// The images of a series do not form a regular grid (missing, duplicate or uneven
    /// slices, differing orientation or size). Never silently interpolated.
    #[error("series geometry: {0}")]
    Geometry(String),
    /// A series whose images come from both single-frame files and enhanced multi-frame
    /// files: the same acquisition exported both ways, or two series under one UID.
    #[error("mixed series: {0}")]
    MixedSeries(String),
    /// No usable PET image was found.
    #[error("no PET images: {0}")]
    NoImages(String),
    /// A NIfTI-1 file that cannot be read or does not fit the PET grid.
    #[error("NIfTI: {0}")]
    Nifti(String),
    /// An RT Structure Set that cannot be read or rasterised.
    #[error("RTSTRUCT: {0}")]
    RtStruct(String),
    /// A mask or region of interest that does not match the image.
    #[error("VOI: {0}")]
    Voi(String),
}

/// An error with the file it concerns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {kind}", path.as_ref().map_or_else(|| "<input>".to_string(), |p| p.display().to_string()))]
pub struct PetError {
    /// The file (or folder) concerned, when there is one.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl PetError {
    /// An error about `path`.
    pub fn at(path: impl Into<PathBuf>, kind: ErrorKind) -> Self {
        Self {
            path: Some(path.into()),
            kind,
        }
    }

    /// An error not tied to one file.
    pub fn new(kind: ErrorKind) -> Self {
        Self { path: None, kind }
    }
}

/// Formats an error with its whole chain of causes, so that a parser's reason (e.g. "unexpected
/// end of file") is not lost behind its top-level message.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
