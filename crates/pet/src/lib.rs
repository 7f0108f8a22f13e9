//! PET imaging for HER2-Ex: DICOM series to SUV volumes, lesions and their metrics.
//!
//! Knows nothing of the database or HTTP. The imaging flow (ARCHITECTURE.md) runs through:
//!
//! | module | role |
//! |---|---|
//! | [`series`] | DICOM PET files (single-frame, or Enhanced PET multi-frame) → [`volume::Volume`] of rescaled values, sorted along the slice normal, per-file problems listed |
//! | [`suv`] | QIBA vendor-neutral SUV factors (SUVbw default; SUL, SUVlbm, SUVbsa, SUVibw), every assumption a warning, refusals when the header lacks what SUV needs |
//! | [`nifti`] | NIfTI-1 masks (`.nii`, `.nii.gz`) mapped onto the PET grid |
//! | [`rtstruct`] | RT Structure Set ROIs rasterised onto the PET grid |
//! | [`voi`] | statistics of a volume of interest (min, median, max, mean, SUVpeak, volume) |
//! | [`lesions`] | candidates (26-connected components over a threshold), SUVmax, SUVpeak, SUVmean, MTV, TLU, HER2-avid flag |
//! | [`peak`] | SUVpeak: the 1 cm³ sphere placed to maximise its mean, partial voxels weighted |
//! | [`physiology`] | likely physiological uptake of the tracer (kidneys, liver, spleen, bladder), never proposed without a reader |
//! | [`phantom`] | a synthetic whole-body DICOM PET of a woman with known lesions (a single-frame series, or one Enhanced PET file), and its ground truth |
//! | [`mip`] | coronal maximum-intensity projection PNG with numbered lesion markers |
//! | [`error`] | errors that name the file and the DICOM attribute |

pub mod error;
pub mod lesions;
pub mod mip;
pub mod nifti;
pub mod peak;
pub mod phantom;
pub mod physiology;
pub mod rtstruct;
pub mod series;
pub mod suv;
pub mod voi;
pub mod volume;

pub use error::{ErrorKind, PetError};
pub use series::{LoadedSeries, load_series, load_series_files};
