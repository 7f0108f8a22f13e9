//! Writing the phantom as a DICOM PET series (PET Image Storage, explicit VR little endian).
//!
//! Attributes follow the PET Image IOD (DICOM PS3.3 A.21): Patient, General Study,
//! General/PET Series, PET Isotope (C.8.9.2), Frame of Reference, General Equipment,
//! Image Plane, Image Pixel, PET Image (C.8.9.4) and SOP Common modules. Values are
//! activity concentration in Bq/mL (`Units` BQML), decay corrected to the series start
//! (`DecayCorrection` START), stored as unsigned 16-bit integers with a per-slice
//! `RescaleSlope`. Every UID is derived from the seed (UUID-derived `2.25.` form,
//! PS3.5 B.2), so the same seed writes the same bytes.

use super::PhantomError;
use super::scanner::SplitMix64;
use dicom_core::smallvec::SmallVec;
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use std::path::Path;

/// Ga-68 half-life in seconds (67.71 min, PROTOCOL.md §6; DDEP/LNHB evaluation).
pub const GA68_HALF_LIFE_S: f64 = 4062.6;

/// Ga-68 positron branching fraction (DDEP/LNHB: 88.91 %).
pub const GA68_POSITRON_FRACTION: f64 = 0.8891;

/// Series-wide values shared by every slice.
#[derive(Debug, Clone)]
pub struct SeriesHeader {
    /// Seed behind the UIDs.
    pub seed: u64,
    /// PatientID (0010,0020).
    pub patient_id: String,
    /// Study date, YYYYMMDD.
    pub date: String,
    /// Injection time, seconds after midnight of `date`.
    pub injection_s: f64,
    /// Series (scan) start, seconds after midnight of `date`.
    pub series_s: f64,
    /// Injected activity at the injection time (Bq).
    pub dose_bq: f64,
    /// Patient weight (kg) and height (m).
    pub weight_kg: f64,
    /// Patient height (m).
    pub height_m: f64,
    /// Grid: columns, rows, slices.
    pub dims: [usize; 3],
    /// Spacing along a row, along a column, between slices (mm).
    pub spacing_mm: [f64; 3],
    /// Centre of the first voxel of slice 0 (mm).
    pub origin_mm: [f64; 3],
    /// Axial length covered by one bed position (mm).
    pub bed_mm: f64,
    /// Duration of one bed position (s).
    pub bed_s: f64,
    /// PSF FWHM used, for the series description (mm).
    pub fwhm_mm: f64,
}

impl SeriesHeader {
    /// A UID of the `2.25.` form, unique per (seed, kind, index).
    pub fn uid(&self, kind: u64, index: u64) -> String {
        let mut rng = SplitMix64::new(self.seed ^ 0x5EED_0D1C, kind.wrapping_mul(1 << 32) ^ index);
        let hi = u128::from(rng.next_u64() >> 1);
        let value = (hi << 64) | u128::from(rng.next_u64());
        format!("2.25.{}", value.max(1))
    }

    /// Bed position of slice `k` (slices counted from the head, where the scan starts).
    pub(super) fn bed(&self, k: usize) -> usize {
        let from_top = (self.dims[2] - 1 - k) as f64 * self.spacing_mm[2];
        (from_top / self.bed_mm).floor() as usize
    }
}

/// `HHMMSS.FF` for seconds after midnight.
pub fn tm(seconds: f64) -> String {
    let centi = (seconds * 100.0).round() as u64;
    let (s, cs) = (centi / 100, centi % 100);
    format!(
        "{:02}{:02}{:02}.{:02}",
        s / 3600 % 24,
        s / 60 % 60,
        s % 60,
        cs
    )
}

/// A decimal string of at most 16 characters (the DS limit), with as many digits as fit.
pub fn ds(value: f64) -> String {
    if !value.is_finite() {
        return "0".into();
    }
    let int_digits = format!("{:.0}", value.abs().trunc()).len();
    let sign = usize::from(value < 0.0);
    let decimals = 16usize.saturating_sub(int_digits + sign + 1).min(12);
    let mut s = format!("{value:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" { "0".into() } else { s }
}

pub(super) fn el(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(value))
}

pub(super) fn us(tag: Tag, value: u16) -> DataElement<InMemDicomObject> {
    DataElement::new(
        tag,
        VR::US,
        PrimitiveValue::U16(SmallVec::from_slice(&[value])),
    )
}

/// Slice `k` (values in Bq/mL, x fastest) as the bytes of a DICOM Part 10 file (`path`
/// names it in errors).
pub fn encode_slice(
    path: &Path,
    h: &SeriesHeader,
    k: usize,
    bqml: &[f32],
) -> Result<Vec<u8>, PhantomError> {
    let [nx, ny, nz] = h.dims;
    let (slope, pixels) = quantise(bqml);
    let frame = FrameTiming::of(h, k);
    let z = h.origin_mm[2] + k as f64 * h.spacing_mm[2];
    let position = format!("{}\\{}\\{}", ds(h.origin_mm[0]), ds(h.origin_mm[1]), ds(z));
    let instance = nz - k; // numbered from the head down, in scan order
    let sop_uid = h.uid(4, k as u64);
    let isotope = isotope_item(h);
    let series_time = tm(h.series_s);
    let acq_time = tm(h.series_s + frame.start_s);
    let obj = InMemDicomObject::from_element_iter([
        el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100"),
        el(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY"),
        el(
            tags::SOP_CLASS_UID,
            VR::UI,
            uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE,
        ),
        el(tags::SOP_INSTANCE_UID, VR::UI, &sop_uid),
        el(tags::STUDY_DATE, VR::DA, &h.date),
        el(tags::SERIES_DATE, VR::DA, &h.date),
        el(tags::ACQUISITION_DATE, VR::DA, &h.date),
        el(tags::CONTENT_DATE, VR::DA, &h.date),
        el(tags::STUDY_TIME, VR::TM, &series_time),
        el(tags::SERIES_TIME, VR::TM, &series_time),
        el(tags::ACQUISITION_TIME, VR::TM, &acq_time),
        el(tags::CONTENT_TIME, VR::TM, &acq_time),
        el(tags::ACCESSION_NUMBER, VR::SH, ""),
        el(tags::MODALITY, VR::CS, "PT"),
        el(tags::MANUFACTURER, VR::LO, "HER2-Ex phantom"),
        el(tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        el(
            tags::SERIES_DESCRIPTION,
            VR::LO,
            &format!("PET WB ABY-025 phantom PSF {} mm", ds(h.fwhm_mm)),
        ),
        el(
            tags::PATIENT_NAME,
            VR::PN,
            &format!("PHANTOM^SEED{}", h.seed),
        ),
        el(tags::PATIENT_ID, VR::LO, &h.patient_id),
        el(tags::PATIENT_BIRTH_DATE, VR::DA, "19700101"),
        el(tags::PATIENT_SEX, VR::CS, "F"),
        el(tags::PATIENT_SIZE, VR::DS, &ds(h.height_m)),
        el(tags::PATIENT_WEIGHT, VR::DS, &ds(h.weight_kg)),
        el(tags::SLICE_THICKNESS, VR::DS, &ds(h.spacing_mm[2])),
        el(
            tags::ACTUAL_FRAME_DURATION,
            VR::IS,
            &format!("{}", (h.bed_s * 1000.0).round() as u64),
        ),
        el(tags::PATIENT_POSITION, VR::CS, "HFS"),
        el(tags::STUDY_INSTANCE_UID, VR::UI, &h.uid(1, 0)),
        el(tags::SERIES_INSTANCE_UID, VR::UI, &h.uid(2, 0)),
        el(tags::STUDY_ID, VR::SH, "HER2EX"),
        el(tags::SERIES_NUMBER, VR::IS, "1"),
        el(tags::INSTANCE_NUMBER, VR::IS, &instance.to_string()),
        el(tags::IMAGE_POSITION_PATIENT, VR::DS, &position),
        el(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, "1\\0\\0\\0\\1\\0"),
        el(tags::FRAME_OF_REFERENCE_UID, VR::UI, &h.uid(3, 0)),
        el(tags::POSITION_REFERENCE_INDICATOR, VR::LO, ""),
        el(tags::SLICE_LOCATION, VR::DS, &ds(z)),
        us(tags::SAMPLES_PER_PIXEL, 1),
        el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        us(tags::ROWS, ny as u16),
        us(tags::COLUMNS, nx as u16),
        el(
            tags::PIXEL_SPACING,
            VR::DS,
            &format!("{}\\{}", ds(h.spacing_mm[1]), ds(h.spacing_mm[0])),
        ),
        el(tags::CORRECTED_IMAGE, VR::CS, "ATTN\\DECY"),
        us(tags::BITS_ALLOCATED, 16),
        us(tags::BITS_STORED, 16),
        us(tags::HIGH_BIT, 15),
        us(tags::PIXEL_REPRESENTATION, 0),
        el(tags::RESCALE_INTERCEPT, VR::DS, "0"),
        el(tags::RESCALE_SLOPE, VR::DS, &ds(slope)),
        el(tags::RESCALE_TYPE, VR::LO, "BQML"),
        DataElement::new(
            tags::RADIOPHARMACEUTICAL_INFORMATION_SEQUENCE,
            VR::SQ,
            DataSetSequence::<InMemDicomObject>::from(vec![isotope]),
        ),
        us(tags::NUMBER_OF_SLICES, nz as u16),
        el(tags::SERIES_TYPE, VR::CS, "WHOLE BODY\\IMAGE"),
        el(tags::UNITS, VR::CS, "BQML"),
        el(tags::COUNTS_SOURCE, VR::CS, "EMISSION"),
        el(tags::DECAY_CORRECTION, VR::CS, "START"),
        el(tags::RECONSTRUCTION_METHOD, VR::LO, "OSEM"),
        el(tags::FRAME_REFERENCE_TIME, VR::DS, &ds(frame.reference_ms)),
        el(tags::DECAY_FACTOR, VR::DS, &ds(frame.decay_factor)),
        us(tags::IMAGE_INDEX, (instance as u64).min(65535) as u16),
        DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U16(pixels)),
    ]);
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .map_err(|e| PhantomError::Dicom {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut bytes = Vec::with_capacity(bqml.len() * 2 + 4096);
    file.write_all(&mut bytes)
        .map_err(|e| PhantomError::Dicom {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(bytes)
}

/// Per-slice rescale slope (as a reader will parse it from the DS string) and the
/// unsigned 16-bit values it scales.
pub(super) fn quantise(bqml: &[f32]) -> (f64, SmallVec<[u16; 2]>) {
    let max = bqml.iter().copied().fold(0.0f32, f32::max);
    let slope: f64 = if max > 0.0 {
        ds(f64::from(max) / 65535.0).parse().unwrap_or(1.0)
    } else {
        1.0
    };
    let pixels = bqml
        .iter()
        .map(|&v| (f64::from(v) / slope).round().clamp(0.0, 65535.0) as u16)
        .collect();
    (slope, pixels)
}

/// Timing of the bed position holding a slice, relative to the series start.
pub(super) struct FrameTiming {
    /// Acquisition start (s after the series time; beds follow each other).
    pub start_s: f64,
    /// DecayFactor (0054,1321): decay from the series start to the frame start, times the
    /// decay during the frame (λT / (1 − e^(−λT))), PS3.3 C.8.9.4.1.
    pub decay_factor: f64,
    /// FrameReferenceTime (0054,1300): when the mean activity of the frame occurred (ms).
    pub reference_ms: f64,
}

impl FrameTiming {
    /// The timing of slice `k`.
    pub(super) fn of(h: &SeriesHeader, k: usize) -> Self {
        let lambda = std::f64::consts::LN_2 / GA68_HALF_LIFE_S;
        // The first bed starts one second after the series time (SeriesTime precedes
        // every AcquisitionTime, as QIBA's scan-start rule expects).
        let start_s = 1.0 + h.bed(k) as f64 * h.bed_s;
        let during = lambda * h.bed_s / (1.0 - (-lambda * h.bed_s).exp());
        Self {
            start_s,
            decay_factor: (lambda * start_s).exp() * during,
            reference_ms: 1000.0 * (start_s + during.ln() / lambda),
        }
    }
}

/// The item of the Radiopharmaceutical Information Sequence (PET Isotope module).
fn isotope_item(h: &SeriesHeader) -> InMemDicomObject {
    let injection_dt = format!("{}{}", h.date, tm(h.injection_s));
    InMemDicomObject::from_element_iter([
        el(tags::RADIOPHARMACEUTICAL, VR::LO, "[68Ga]Ga-ABY-025"),
        el(
            tags::RADIOPHARMACEUTICAL_START_DATE_TIME,
            VR::DT,
            &injection_dt,
        ),
        el(tags::RADIONUCLIDE_TOTAL_DOSE, VR::DS, &ds(h.dose_bq)),
        el(tags::RADIONUCLIDE_HALF_LIFE, VR::DS, &ds(GA68_HALF_LIFE_S)),
        el(
            tags::RADIONUCLIDE_POSITRON_FRACTION,
            VR::DS,
            &ds(GA68_POSITRON_FRACTION),
        ),
        code_sequence(
            tags::RADIONUCLIDE_CODE_SEQUENCE,
            ("C-131A3", "SRT", "^68^Gallium"),
        ),
    ])
}

/// A code sequence of one item: code value, coding scheme designator, code meaning.
pub(super) fn code_sequence(tag: Tag, code: (&str, &str, &str)) -> DataElement<InMemDicomObject> {
    let (value, scheme, meaning) = code;
    DataElement::new(
        tag,
        VR::SQ,
        DataSetSequence::<InMemDicomObject>::from(vec![InMemDicomObject::from_element_iter([
            el(tags::CODE_VALUE, VR::SH, value),
            el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
            el(tags::CODE_MEANING, VR::LO, meaning),
        ])]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_fit_sixteen_characters() {
        for v in [
            4062.6,
            1.0 / 3.0,
            123_456.789_012_345,
            -0.000_012_345,
            150_000_000.0,
            1e-9,
        ] {
            let s = ds(v);
            assert!(s.len() <= 16, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - v).abs() <= v.abs() * 1e-6 + 1e-9, "{v} -> {s}");
        }
        assert_eq!(ds(4062.6), "4062.6");
    }

    #[test]
    fn times_and_uids_are_well_formed() {
        assert_eq!(tm(11.0 * 3600.0 + 0.5), "110000.50");
        let h = SeriesHeader {
            seed: 3,
            patient_id: "PHANTOM-1".into(),
            date: "20260302".into(),
            injection_s: 0.0,
            series_s: 0.0,
            dose_bq: 1.0,
            weight_kg: 1.0,
            height_m: 1.0,
            dims: [1, 1, 1],
            spacing_mm: [1.0; 3],
            origin_mm: [0.0; 3],
            bed_mm: 1.0,
            bed_s: 1.0,
            fwhm_mm: 6.0,
        };
        let (a, b) = (h.uid(4, 0), h.uid(4, 1));
        assert_ne!(a, b);
        assert_eq!(a, h.uid(4, 0));
        assert!(a.len() <= 64 && a.starts_with("2.25.") && !a[5..].starts_with('0'));
    }
}
