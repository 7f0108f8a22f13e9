//! Writing the phantom as one Enhanced PET Image (PS3.3 A.56; Enhanced PET Image Storage,
//! 1.2.840.10008.5.1.4.1.1.130): the series [`super::dicom`] writes as one file per slice,
//! here as one file whose frames are the slices, head first (the scan's order).
//!
//! The same values, where this IOD keeps them:
//!
//! | | PET Image series | this file |
//! |---|---|---|
//! | position | ImagePositionPatient per file | Plane Position, per frame |
//! | orientation, spacing | per file | Plane Orientation, Pixel Measures, shared |
//! | rescale | RescaleSlope per file | Pixel Value Transformation per frame (RescaleType US) |
//! | units | Units BQML | Real World Value Mapping per frame, UCUM `Bq/ml` (CID 84), slope = RescaleSlope |
//! | decay correction | DecayCorrection START, CorrectedImage ATTN\DECY | DecayCorrected, AttenuationCorrected YES; DecayCorrectionDateTime = the series start |
//! | dose | RadionuclideTotalDose in Bq | in MBq (Enhanced PET Isotope Module, C.8.22.4) |
//! | frame timing | AcquisitionTime, FrameReferenceTime, ActualFrameDuration | Frame Content: FrameAcquisitionDateTime, FrameReferenceDateTime, FrameAcquisitionDuration |
//!
//! Each frame's samples and RescaleSlope are those [`super::dicom::encode_slice`] writes
//! for its slice, so the two forms read to the same voxels and the same SUV factor. The
//! SeriesInstanceUID is the PET Image series' own: the same acquisition exported the other
//! way.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use std::path::Path;

use super::PhantomError;
use super::dicom::{
    FrameTiming, GA68_HALF_LIFE_S, GA68_POSITRON_FRACTION, SeriesHeader, code_sequence, ds, el,
    quantise, tm, us,
};

/// The phantom's volume `bqml` (Bq/mL, x fastest, slice 0 lowest) as the bytes of one
/// Enhanced PET Image Part 10 file (`path` names it in errors).
pub fn encode_enhanced(
    path: &Path,
    h: &SeriesHeader,
    bqml: &[f32],
) -> Result<Vec<u8>, PhantomError> {
    let [nx, ny, nz] = h.dims;
    let plane = nx * ny;
    if bqml.len() != plane * nz {
        return Err(PhantomError::InvalidSpec(format!(
            "{} values for a {nx} × {ny} × {nz} grid",
            bqml.len()
        )));
    }
    // Frame f holds slice nz − 1 − f: the head first, as the scan goes.
    let mut frames = Vec::with_capacity(nz);
    let mut samples: Vec<u16> = Vec::with_capacity(plane * nz);
    for f in 0..nz {
        let k = nz - 1 - f;
        let (slope, pixels) = quantise(&bqml[k * plane..(k + 1) * plane]);
        samples.extend_from_slice(&pixels);
        frames.push(frame_groups(h, f, k, slope));
    }
    let mut obj = InMemDicomObject::from_element_iter(image_elements(h));
    obj.put(sequence(
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![shared_groups(h)],
    ));
    obj.put(sequence(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, frames));
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(samples.into()),
    ));
    let dicom = |e: &dyn std::fmt::Display| PhantomError::Dicom {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .map_err(|e| dicom(&e))?;
    let mut bytes = Vec::with_capacity(bqml.len() * 2 + 64 * 1024);
    file.write_all(&mut bytes).map_err(|e| dicom(&e))?;
    Ok(bytes)
}

/// A date-time (DT) `seconds` after midnight of the study date.
fn dt(h: &SeriesHeader, seconds: f64) -> String {
    format!("{}{}", h.date, tm(seconds))
}

fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

fn item(elements: impl IntoIterator<Item = DataElement<InMemDicomObject>>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elements)
}

fn float(tag: Tag, value: f64) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::FD, PrimitiveValue::from(value))
}

fn long(tag: Tag, values: &[u32]) -> DataElement<InMemDicomObject> {
    DataElement::new(
        tag,
        VR::UL,
        PrimitiveValue::U32(values.iter().copied().collect()),
    )
}

/// The attributes of the file as a whole: patient, study, series, equipment, image pixel,
/// Enhanced PET Isotope, Acquisition, Image and Corrections modules, dimensions.
fn image_elements(h: &SeriesHeader) -> Vec<DataElement<InMemDicomObject>> {
    let [nx, ny, nz] = h.dims;
    let series_time = tm(h.series_s);
    let beds = h.bed(0) + 1;
    let yes = |tag| el(tag, VR::CS, "YES");
    let no = |tag| el(tag, VR::CS, "NO");
    vec![
        el(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100"),
        el(tags::IMAGE_TYPE, VR::CS, "ORIGINAL\\PRIMARY\\VOLUME\\NONE"),
        el(
            tags::SOP_CLASS_UID,
            VR::UI,
            uids::ENHANCED_PET_IMAGE_STORAGE,
        ),
        el(tags::SOP_INSTANCE_UID, VR::UI, &h.uid(5, 0)),
        el(tags::STUDY_DATE, VR::DA, &h.date),
        el(tags::SERIES_DATE, VR::DA, &h.date),
        el(tags::CONTENT_DATE, VR::DA, &h.date),
        el(
            tags::ACQUISITION_DATE_TIME,
            VR::DT,
            &dt(h, h.series_s + 1.0),
        ),
        el(tags::STUDY_TIME, VR::TM, &series_time),
        el(tags::SERIES_TIME, VR::TM, &series_time),
        el(tags::CONTENT_TIME, VR::TM, &series_time),
        el(tags::ACCESSION_NUMBER, VR::SH, ""),
        el(tags::MODALITY, VR::CS, "PT"),
        el(tags::MANUFACTURER, VR::LO, "HER2-Ex phantom"),
        el(tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        el(
            tags::SERIES_DESCRIPTION,
            VR::LO,
            &format!("PET WB ABY-025 phantom PSF {} mm", ds(h.fwhm_mm)),
        ),
        el(tags::MANUFACTURER_MODEL_NAME, VR::LO, "her2ex"),
        el(tags::DEVICE_SERIAL_NUMBER, VR::LO, "0"),
        el(tags::SOFTWARE_VERSIONS, VR::LO, env!("CARGO_PKG_VERSION")),
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
        el(tags::CONTENT_QUALIFICATION, VR::CS, "PRODUCT"),
        float(tags::ACQUISITION_DURATION, beds as f64 * h.bed_s),
        el(tags::TABLE_MOTION, VR::CS, "STEP"),
        el(tags::TIME_OF_FLIGHT_INFORMATION_USED, VR::CS, "FALSE"),
        el(tags::PATIENT_POSITION, VR::CS, "HFS"),
        el(tags::STUDY_INSTANCE_UID, VR::UI, &h.uid(1, 0)),
        el(tags::SERIES_INSTANCE_UID, VR::UI, &h.uid(2, 0)),
        el(tags::STUDY_ID, VR::SH, "HER2EX"),
        el(tags::SERIES_NUMBER, VR::IS, "1"),
        el(tags::INSTANCE_NUMBER, VR::IS, "1"),
        el(tags::FRAME_OF_REFERENCE_UID, VR::UI, &h.uid(3, 0)),
        el(tags::POSITION_REFERENCE_INDICATOR, VR::LO, ""),
        sequence(
            tags::DIMENSION_ORGANIZATION_SEQUENCE,
            vec![item([el(
                tags::DIMENSION_ORGANIZATION_UID,
                VR::UI,
                &h.uid(6, 0),
            )])],
        ),
        sequence(
            tags::DIMENSION_INDEX_SEQUENCE,
            vec![item([
                DataElement::new(
                    tags::DIMENSION_INDEX_POINTER,
                    VR::AT,
                    PrimitiveValue::Tags([tags::IN_STACK_POSITION_NUMBER].into_iter().collect()),
                ),
                DataElement::new(
                    tags::FUNCTIONAL_GROUP_POINTER,
                    VR::AT,
                    PrimitiveValue::Tags([tags::FRAME_CONTENT_SEQUENCE].into_iter().collect()),
                ),
                el(tags::DIMENSION_ORGANIZATION_UID, VR::UI, &h.uid(6, 0)),
            ])],
        ),
        us(tags::SAMPLES_PER_PIXEL, 1),
        el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
        el(tags::NUMBER_OF_FRAMES, VR::IS, &nz.to_string()),
        us(tags::ROWS, ny as u16),
        us(tags::COLUMNS, nx as u16),
        us(tags::BITS_ALLOCATED, 16),
        us(tags::BITS_STORED, 16),
        us(tags::HIGH_BIT, 15),
        us(tags::PIXEL_REPRESENTATION, 0),
        el(tags::BURNED_IN_ANNOTATION, VR::CS, "NO"),
        el(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00"),
        el(tags::PRESENTATION_LUT_SHAPE, VR::CS, "IDENTITY"),
        sequence(
            tags::RADIOPHARMACEUTICAL_INFORMATION_SEQUENCE,
            vec![isotope_item(h)],
        ),
        el(tags::COUNTS_SOURCE, VR::CS, "EMISSION"),
        // Enhanced PET Corrections Module (C.8.22.6): what was applied, and to when the
        // pixel values are decay-corrected (the series start, as DecayCorrection START).
        el(tags::DECAY_CORRECTION_DATE_TIME, VR::DT, &dt(h, h.series_s)),
        yes(tags::DECAY_CORRECTED),
        yes(tags::ATTENUATION_CORRECTED),
        yes(tags::SCATTER_CORRECTED),
        yes(tags::DEAD_TIME_CORRECTED),
        no(tags::GANTRY_MOTION_CORRECTED),
        no(tags::PATIENT_MOTION_CORRECTED),
        no(tags::COUNT_LOSS_NORMALIZATION_CORRECTED),
        yes(tags::RANDOMS_CORRECTED),
        no(tags::NON_UNIFORM_RADIAL_SAMPLING_CORRECTED),
        yes(tags::SENSITIVITY_CALIBRATED),
        yes(tags::DETECTOR_NORMALIZATION_CORRECTION),
    ]
}

/// The Radiopharmaceutical Information Sequence item of the Enhanced PET Isotope Module
/// (C.8.22.4): the dose in MBq.
fn isotope_item(h: &SeriesHeader) -> InMemDicomObject {
    item([
        el(tags::RADIOPHARMACEUTICAL, VR::LO, "[68Ga]Ga-ABY-025"),
        el(
            tags::RADIOPHARMACEUTICAL_START_DATE_TIME,
            VR::DT,
            &dt(h, h.injection_s),
        ),
        el(tags::RADIONUCLIDE_TOTAL_DOSE, VR::DS, &ds(h.dose_bq / 1e6)),
        el(tags::RADIONUCLIDE_HALF_LIFE, VR::DS, &ds(GA68_HALF_LIFE_S)),
        el(
            tags::RADIONUCLIDE_POSITRON_FRACTION,
            VR::DS,
            &ds(GA68_POSITRON_FRACTION),
        ),
        us(tags::RADIOPHARMACEUTICAL_AGENT_NUMBER, 1),
        code_sequence(
            tags::RADIONUCLIDE_CODE_SEQUENCE,
            ("C-131A3", "SRT", "^68^Gallium"),
        ),
        code_sequence(
            tags::ADMINISTRATION_ROUTE_CODE_SEQUENCE,
            ("47625008", "SCT", "Intravenous route"),
        ),
        // No standard code names this tracer: a code of the trial's own scheme (PS3.16 8.2).
        code_sequence(
            tags::RADIOPHARMACEUTICAL_CODE_SEQUENCE,
            ("ABY025-GA68", "99HER2EX", "[68Ga]Ga-ABY-025"),
        ),
    ])
}

/// What every frame shares: orientation, spacing, display window, anatomy, frame type.
fn shared_groups(h: &SeriesHeader) -> InMemDicomObject {
    let spacing = format!("{}\\{}", ds(h.spacing_mm[1]), ds(h.spacing_mm[0]));
    item([
        sequence(
            tags::PIXEL_MEASURES_SEQUENCE,
            vec![item([
                el(tags::SLICE_THICKNESS, VR::DS, &ds(h.spacing_mm[2])),
                el(tags::PIXEL_SPACING, VR::DS, &spacing),
            ])],
        ),
        sequence(
            tags::PLANE_ORIENTATION_SEQUENCE,
            vec![item([el(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                "1\\0\\0\\0\\1\\0",
            )])],
        ),
        // A window over 0–20 kBq/mL, about SUV 0–10 at two hours.
        sequence(
            tags::FRAME_VOILUT_SEQUENCE,
            vec![item([
                el(tags::WINDOW_CENTER, VR::DS, "10000"),
                el(tags::WINDOW_WIDTH, VR::DS, "20000"),
            ])],
        ),
        sequence(
            tags::FRAME_ANATOMY_SEQUENCE,
            vec![item([
                code_sequence(
                    tags::ANATOMIC_REGION_SEQUENCE,
                    ("38266002", "SCT", "Entire body"),
                ),
                el(tags::FRAME_LATERALITY, VR::CS, "U"),
            ])],
        ),
        sequence(
            tags::PET_FRAME_TYPE_SEQUENCE,
            vec![item([el(
                tags::FRAME_TYPE,
                VR::CS,
                "ORIGINAL\\PRIMARY\\VOLUME\\NONE",
            )])],
        ),
    ])
}

/// Frame `f` (from 0), which holds slice `k` scaled by `slope`: its timing, position,
/// rescale and units.
fn frame_groups(h: &SeriesHeader, f: usize, k: usize, slope: f64) -> InMemDicomObject {
    let timing = FrameTiming::of(h, k);
    let z = h.origin_mm[2] + k as f64 * h.spacing_mm[2];
    let position = format!("{}\\{}\\{}", ds(h.origin_mm[0]), ds(h.origin_mm[1]), ds(z));
    let number = f as u32 + 1;
    let units = code_sequence(
        tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
        ("Bq/ml", "UCUM", "Becquerels/milliliter"),
    );
    item([
        sequence(
            tags::FRAME_CONTENT_SEQUENCE,
            vec![item([
                el(
                    tags::FRAME_ACQUISITION_DATE_TIME,
                    VR::DT,
                    &dt(h, h.series_s + timing.start_s),
                ),
                el(
                    tags::FRAME_REFERENCE_DATE_TIME,
                    VR::DT,
                    &dt(h, h.series_s + timing.reference_ms / 1000.0),
                ),
                float(tags::FRAME_ACQUISITION_DURATION, h.bed_s * 1000.0),
                el(tags::STACK_ID, VR::SH, "1"),
                long(tags::IN_STACK_POSITION_NUMBER, &[number]),
                long(tags::DIMENSION_INDEX_VALUES, &[number]),
            ])],
        ),
        sequence(
            tags::PLANE_POSITION_SEQUENCE,
            vec![item([el(tags::IMAGE_POSITION_PATIENT, VR::DS, &position)])],
        ),
        sequence(
            tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
            vec![item([
                el(tags::RESCALE_INTERCEPT, VR::DS, "0"),
                el(tags::RESCALE_SLOPE, VR::DS, &ds(slope)),
                el(tags::RESCALE_TYPE, VR::LO, "US"),
            ])],
        ),
        sequence(
            tags::REAL_WORLD_VALUE_MAPPING_SEQUENCE,
            vec![item([
                us(tags::REAL_WORLD_VALUE_FIRST_VALUE_MAPPED, 0),
                us(tags::REAL_WORLD_VALUE_LAST_VALUE_MAPPED, u16::MAX),
                float(tags::REAL_WORLD_VALUE_INTERCEPT, 0.0),
                float(tags::REAL_WORLD_VALUE_SLOPE, slope),
                el(tags::LUT_EXPLANATION, VR::LO, "Bq/ml"),
                el(tags::LUT_LABEL, VR::SH, "BQML"),
                units,
            ])],
        ),
    ])
}
