//! PET imaging for HER2-Ex: DICOM series to SUV volumes, lesions and their metrics.
//!
//! Knows nothing of the database or HTTP.

pub mod volume;
