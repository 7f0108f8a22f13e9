//! The IBSI SUV reference series converted to Enhanced PET Images: the converter
//! ([`to_enhanced`], written here) keeps their PET Image attributes at the top level, as
//! converters do, and the SUVs in the reference VOI must be the single-frame files' own.

use std::path::{Path, PathBuf};

use dicom_core::header::Header;
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use pet::nifti::read_nifti;
use pet::series::open::open_dicom;
use pet::series::{LoadedSeries, load_series, load_series_files};
use pet::suv::{SuvOptions, calibrate, suv_volume};
use pet::voi::{VoiStats, stats};

use crate::common::{DRO_CASES, bits, ds, mask_file, one_item, pt_dir};

/// Attributes a PET Image file holds for itself, which [`to_enhanced`] moves into the
/// frames (or drops, for the file's identity and pixels).
const PER_FILE: [Tag; 15] = [
    tags::SOP_INSTANCE_UID,
    tags::INSTANCE_NUMBER,
    tags::IMAGE_POSITION_PATIENT,
    tags::IMAGE_ORIENTATION_PATIENT,
    tags::SLICE_LOCATION,
    tags::PIXEL_SPACING,
    tags::SLICE_THICKNESS,
    tags::RESCALE_SLOPE,
    tags::RESCALE_INTERCEPT,
    tags::RESCALE_TYPE,
    tags::ACQUISITION_DATE,
    tags::ACQUISITION_TIME,
    tags::FRAME_REFERENCE_TIME,
    tags::ACTUAL_FRAME_DURATION,
    tags::PIXEL_DATA,
];

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|t| t.trim().to_string())
}

/// Writes the single-frame PET Image `files` of one series (sorted as given) into `out` as
/// one Enhanced PET Image, as a converter that keeps the PET Image attributes (Units,
/// DecayCorrection, CorrectedImage, private attributes) at the top level would: each file's
/// position and rescale in its frame's Plane Position and Pixel Value Transformation, its
/// AcquisitionDate/Time, FrameReferenceTime (after the series time) and ActualFrameDuration
/// in its Frame Content, orientation and spacing shared, the dose in MBq. Every other
/// attribute must be the same in every file (the test fails naming the one that is not).
fn to_enhanced(files: &[PathBuf], out: &Path) {
    let objects: Vec<InMemDicomObject> = files
        .iter()
        .map(|f| (*open_dicom(f).unwrap()).clone())
        .collect();
    let first = &objects[0];
    for (obj, file) in objects.iter().zip(files) {
        for e in first.iter().filter(|e| !PER_FILE.contains(&e.tag())) {
            let other = obj.get(e.tag()).map(|o| format!("{:?}", o.value()));
            assert_eq!(
                other,
                Some(format!("{:?}", e.value())),
                "{}: {} differs",
                file.display(),
                e.tag()
            );
        }
    }
    let series = {
        let date = pet::series::attr::parse_da(&text(first, tags::SERIES_DATE).unwrap());
        let time = pet::series::attr::parse_tm(&text(first, tags::SERIES_TIME).unwrap());
        date.unwrap().and_time(time.unwrap())
    };
    let dt = |t: chrono::NaiveDateTime| t.format("%Y%m%d%H%M%S%.6f").to_string();
    let frames: Vec<InMemDicomObject> = objects
        .iter()
        .map(|obj| {
            let mut content = Vec::new();
            if let (Some(d), Some(t)) = (
                text(obj, tags::ACQUISITION_DATE),
                text(obj, tags::ACQUISITION_TIME),
            ) {
                content.push(DataElement::new(
                    tags::FRAME_ACQUISITION_DATE_TIME,
                    VR::DT,
                    PrimitiveValue::from(format!("{d}{t}")),
                ));
            }
            if let Some(ms) = text(obj, tags::FRAME_REFERENCE_TIME) {
                let ms: f64 = ms.parse().unwrap();
                let at = series + chrono::TimeDelta::microseconds((ms * 1000.0).round() as i64);
                content.push(DataElement::new(
                    tags::FRAME_REFERENCE_DATE_TIME,
                    VR::DT,
                    PrimitiveValue::from(dt(at)),
                ));
            }
            if let Some(ms) = text(obj, tags::ACTUAL_FRAME_DURATION) {
                let ms: f64 = ms.parse().unwrap();
                content.push(DataElement::new(
                    tags::FRAME_ACQUISITION_DURATION,
                    VR::FD,
                    PrimitiveValue::from(ms),
                ));
            }
            InMemDicomObject::from_element_iter([
                one_item(tags::FRAME_CONTENT_SEQUENCE, content),
                one_item(
                    tags::PLANE_POSITION_SEQUENCE,
                    vec![ds(
                        tags::IMAGE_POSITION_PATIENT,
                        &text(obj, tags::IMAGE_POSITION_PATIENT).unwrap(),
                    )],
                ),
                one_item(
                    tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
                    vec![
                        ds(
                            tags::RESCALE_SLOPE,
                            &text(obj, tags::RESCALE_SLOPE).unwrap(),
                        ),
                        ds(
                            tags::RESCALE_INTERCEPT,
                            &text(obj, tags::RESCALE_INTERCEPT).unwrap_or("0".into()),
                        ),
                        DataElement::new(tags::RESCALE_TYPE, VR::LO, PrimitiveValue::from("US")),
                    ],
                ),
            ])
        })
        .collect();
    let mut samples: Vec<u16> = Vec::new();
    for obj in &objects {
        let pixels = obj.element(tags::PIXEL_DATA).unwrap();
        samples.extend_from_slice(pixels.uint16_slice().unwrap());
    }
    let mut enhanced = first.clone();
    for tag in PER_FILE {
        enhanced.remove_element(tag);
    }
    let mut shared = vec![one_item(
        tags::PLANE_ORIENTATION_SEQUENCE,
        vec![ds(
            tags::IMAGE_ORIENTATION_PATIENT,
            &text(first, tags::IMAGE_ORIENTATION_PATIENT).unwrap(),
        )],
    )];
    let mut measures = vec![ds(
        tags::PIXEL_SPACING,
        &text(first, tags::PIXEL_SPACING).unwrap(),
    )];
    if let Some(t) = text(first, tags::SLICE_THICKNESS) {
        measures.push(ds(tags::SLICE_THICKNESS, &t));
    }
    shared.push(one_item(tags::PIXEL_MEASURES_SEQUENCE, measures));
    let sop = format!("{}.999", text(first, tags::SOP_INSTANCE_UID).unwrap());
    let put_text = |obj: &mut InMemDicomObject, tag, vr, value: &str| {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    };
    put_text(
        &mut enhanced,
        tags::SOP_CLASS_UID,
        VR::UI,
        uids::ENHANCED_PET_IMAGE_STORAGE,
    );
    put_text(&mut enhanced, tags::SOP_INSTANCE_UID, VR::UI, &sop);
    put_text(
        &mut enhanced,
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &objects.len().to_string(),
    );
    // The Enhanced PET Isotope Module writes the dose in MBq (PS3.3 C.8.22.4); a value
    // below 10⁵ is MBq already, as the SUV calculation reads a PET Image.
    enhanced.update_value(tags::RADIOPHARMACEUTICAL_INFORMATION_SEQUENCE, |v| {
        for item in v.items_mut().unwrap() {
            if let Some(dose) = text(item, tags::RADIONUCLIDE_TOTAL_DOSE) {
                let dose: f64 = dose.parse().unwrap();
                let mbq = if dose >= 1e5 { dose / 1e6 } else { dose };
                put_text(
                    item,
                    tags::RADIONUCLIDE_TOTAL_DOSE,
                    VR::DS,
                    &mbq.to_string(),
                );
            }
        }
    });
    enhanced.put(one_item(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, shared));
    enhanced.put(DataElement::new(
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(frames),
    ));
    enhanced.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(samples.into()),
    ));
    enhanced
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .unwrap()
        .write_to_file(out)
        .unwrap();
}

/// SUV statistics of `series` in the case's reference mask.
fn mask_stats(case: &str, series: &LoadedSeries) -> VoiStats {
    let cal = calibrate(series, &SuvOptions::default()).unwrap_or_else(|e| panic!("{case}: {e}"));
    let suv = suv_volume(series, &cal);
    let mask = read_nifti(&mask_file(case)).unwrap().on_grid(&suv).unwrap();
    stats(&suv, &mask.inside).unwrap()
}

/// Every IBSI SUV reference series but one, converted to one enhanced file, gives the SUVs
/// of its single-frame files in the reference VOI (min 0.20, median 1.00, max 4.00).
/// DRO_3_2 is left out: its SeriesTime is after its acquisition, and its scan time is
/// back-computed from FrameReferenceTime counted from that very SeriesTime (QIBA), which a
/// converter to FrameReferenceDateTime would have to get wrong to keep.
#[test]
fn ibsi_reference_series_converted_to_enhanced_keep_their_suv() {
    let dir = tempfile::tempdir().unwrap();
    for case in DRO_CASES.into_iter().filter(|c| *c != "DRO_3_2") {
        let mut slices: Vec<PathBuf> = std::fs::read_dir(pt_dir(case))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        slices.sort();
        let out = dir.path().join(format!("{case}.dcm"));
        to_enhanced(&slices, &out);
        let enhanced = load_series_files(std::slice::from_ref(&out)).unwrap();
        assert!(
            enhanced.problems.is_empty(),
            "{case}: {:?}",
            enhanced.problems
        );
        assert_eq!(enhanced.volume.dims, [256, 256, 20], "{case}");
        assert!(enhanced.instances.iter().all(|i| i.frame.is_some()));
        let classic = load_series(&pt_dir(case)).unwrap();
        assert!(
            bits(&enhanced.volume.data) == bits(&classic.volume.data),
            "{case}"
        );
        let (got, want) = (mask_stats(case, &enhanced), mask_stats(case, &classic));
        assert_eq!(got.voxels, 203_202, "{case}");
        for (name, g, w, reference) in [
            ("min", got.suv_min, want.suv_min, 0.2),
            ("median", got.suv_median, want.suv_median, 1.0),
            ("max", got.suv_max, want.suv_max, 4.0),
        ] {
            assert!(
                (g - w).abs() <= 1e-9 * w,
                "{case}: SUV{name} {g}, single-frame {w}"
            );
            let tolerance = if case == "DRO_2_3" {
                0.03
            } else {
                0.005 * reference
            };
            assert!((g - reference).abs() <= tolerance, "{case}: SUV{name} {g}");
        }
    }
}
