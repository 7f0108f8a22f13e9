//! SUV rules beyond the reference series: GE private time, last-resort scan time,
//! refusals and their overrides, SUV kinds.

use std::collections::BTreeSet;

use dicom_core::{Tag, VR};
use pet::series::load_series;
use pet::suv::{Allow, ScanTimeRule, SuvOptions, SuvType, calibrate, suv_volume};

use crate::common::{copy_case, edit_files, put};

fn options(allow: &[Allow]) -> SuvOptions {
    SuvOptions {
        suv_type: SuvType::Bw,
        allow: allow.iter().copied().collect::<BTreeSet<_>>(),
    }
}

#[test]
fn ge_private_scan_time_is_used_when_series_time_is_after_acquisition() {
    // DRO_3_3 with SeriesTime 11:45, after AcquisitionTime 11:30: the GE private 11:00 wins.
    let (tmp, files) = copy_case("DRO_3_3");
    edit_files(&files, |_, obj| put(obj, 0x0008, 0x0031, VR::TM, "114500"));
    let series = load_series(tmp.path()).unwrap();
    let cal = calibrate(&series, &options(&[])).unwrap();
    assert_eq!(cal.scan_datetime_rule, Some(ScanTimeRule::GePrivate));
    assert!((cal.decay_time_s.unwrap() - 3600.0).abs() < 1e-6);
}

#[test]
fn earliest_acquisition_is_the_last_resort_with_a_warning() {
    // DRO_3_2 without FrameReferenceTime: no back-computation possible.
    let (tmp, files) = copy_case("DRO_3_2");
    edit_files(&files, |_, obj| {
        obj.remove_element(Tag(0x0054, 0x1300));
    });
    let series = load_series(tmp.path()).unwrap();
    let cal = calibrate(&series, &options(&[])).unwrap();
    assert_eq!(
        cal.scan_datetime_rule,
        Some(ScanTimeRule::EarliestAcquisition)
    );
    // Earliest acquisition 11:02:30 → 62.5 min after injection.
    assert!((cal.decay_time_s.unwrap() - 3750.0).abs() < 1e-6);
    assert!(cal.warnings.iter().any(|w| w.contains("last resort")));
}

#[test]
fn no_attenuation_correction_is_refused_unless_allowed() {
    let (tmp, files) = copy_case("DRO_0_0");
    edit_files(&files, |_, obj| {
        put(obj, 0x0028, 0x0051, VR::CS, "NORM\\DTIM\\SCAT\\DECY\\RAN")
    });
    let series = load_series(tmp.path()).unwrap();
    let refusal = calibrate(&series, &options(&[])).unwrap_err();
    let text = refusal.to_string();
    assert!(
        text.contains("lacks ATTN") && text.contains("--allow missing-attn"),
        "{text}"
    );
    let cal = calibrate(&series, &options(&[Allow::MissingAttn])).unwrap();
    assert!(cal.warnings.iter().any(|w| w.contains("missing-attn")));
}

#[test]
fn decay_corrected_claim_without_decy_is_refused_unless_allowed() {
    let (tmp, files) = copy_case("DRO_0_0");
    edit_files(&files, |_, obj| {
        put(obj, 0x0028, 0x0051, VR::CS, "NORM\\ATTN")
    });
    let series = load_series(tmp.path()).unwrap();
    let refusal = calibrate(&series, &options(&[])).unwrap_err();
    assert!(refusal.to_string().contains("lacks DECY"), "{refusal}");
    assert!(calibrate(&series, &options(&[Allow::MissingDecy])).is_ok());
}

#[test]
fn missing_weight_dose_and_injection_time_are_all_named() {
    let (tmp, files) = copy_case("DRO_0_0");
    edit_files(&files, |_, obj| {
        obj.remove_element(Tag(0x0010, 0x1030));
        obj.remove_element(Tag(0x0054, 0x0016));
    });
    let series = load_series(tmp.path()).unwrap();
    let refusal = calibrate(&series, &options(&[])).unwrap_err();
    let text = refusal.to_string();
    assert!(
        text.contains("RadionuclideTotalDose (0018,1074) missing"),
        "{text}"
    );

    let (tmp, files) = copy_case("DRO_0_0");
    edit_files(&files, |_, obj| {
        obj.remove_element(Tag(0x0010, 0x1030));
    });
    let series = load_series(tmp.path()).unwrap();
    let text = calibrate(&series, &options(&[])).unwrap_err().to_string();
    assert!(text.contains("PatientWeight (0010,1030) missing"), "{text}");
}

#[test]
fn sul_scales_suvbw_by_lean_over_total_body_mass() {
    // DRO_0_0: 70 kg, 1.75 m, sex O → mean of the Janmahasatian male and female LBM.
    let series = load_series(&crate::common::pt_dir("DRO_0_0")).unwrap();
    let bw = suv_volume(&series, &calibrate(&series, &options(&[])).unwrap());
    let sul_opts = SuvOptions {
        suv_type: SuvType::Sul,
        ..SuvOptions::default()
    };
    let cal = calibrate(&series, &sul_opts).unwrap();
    assert!(cal.warnings.iter().any(|w| w.contains("PatientSex")));
    let sul = suv_volume(&series, &cal);
    let bmi = 70.0 / (1.75f64 * 1.75);
    let lbm =
        0.5 * (9270.0 * 70.0 / (6680.0 + 216.0 * bmi) + 9270.0 * 70.0 / (8780.0 + 244.0 * bmi));
    let at = series.volume.index(128, 128, 10);
    let ratio = f64::from(sul.data[at]) / f64::from(bw.data[at]);
    assert!(
        (ratio - lbm / 70.0).abs() < 1e-5,
        "{ratio} vs {}",
        lbm / 70.0
    );
}

/// Sets RadiopharmaceuticalStartDateTime (0018,1078) inside the Radiopharmaceutical
/// Information Sequence (0054,0016).
fn put_injection(obj: &mut dicom_object::InMemDicomObject, datetime: &str) {
    let tag = Tag(0x0054, 0x0016);
    let mut items = obj.element(tag).unwrap().items().unwrap().to_vec();
    put(&mut items[0], 0x0018, 0x1078, VR::DT, datetime);
    obj.put(dicom_core::DataElement::new(
        tag,
        VR::SQ,
        dicom_core::value::DataSetSequence::from(items),
    ));
}

/// A de-identified series whose injection date was shifted differently from its scan
/// date: months before, or a day after. The decay time is refused by name (never an
/// infinite or negative SUV factor) unless the injection's time of day is taken on the
/// scan date, which gives DRO_0_0's own hour (injection 10:00, scan 11:00).
#[test]
fn injection_dates_shifted_apart_from_the_scan_are_refused_unless_time_of_day_is_allowed() {
    for (shifted, words) in [
        ("20241001100000", "half-lives"),
        ("20250102100000", "is after the scan"),
    ] {
        let (tmp, files) = copy_case("DRO_0_0");
        edit_files(&files, |_, obj| put_injection(obj, shifted));
        let series = load_series(tmp.path()).unwrap();
        let text = calibrate(&series, &options(&[])).unwrap_err().to_string();
        assert!(text.contains("decay time"), "{shifted}: {text}");
        assert!(text.contains(words), "{shifted}: {text}");
        assert!(
            text.contains("--allow injection-time-of-day"),
            "{shifted}: {text}"
        );
        let cal = calibrate(&series, &options(&[Allow::InjectionTimeOfDay])).unwrap();
        assert!(
            (cal.decay_time_s.unwrap() - 3600.0).abs() < 1e-6,
            "{shifted}"
        );
        assert!(
            cal.warnings
                .iter()
                .any(|w| w.contains("injection-time-of-day")),
            "{:?}",
            cal.warnings
        );
    }
}

/// Rewrites DICOM files in implicit VR little endian: the file no longer says which VR a
/// private attribute has, so the reader sees an unknown private attribute as UN bytes.
fn to_implicit_vr(files: &[std::path::PathBuf]) {
    for f in files {
        let obj = pet::series::open::open_dicom(f).unwrap();
        let implicit = obj
            .into_inner()
            .with_meta(
                dicom_object::meta::FileMetaTableBuilder::new()
                    .transfer_syntax("1.2.840.10008.1.2"),
            )
            .unwrap();
        implicit.write_to_file(f).unwrap();
    }
}

/// DRO_2_4 (Units CNTS with the Philips SUV scale factor (7053,1000) = 0.0005) written in
/// implicit VR: the factor arrives as six bytes of VR UN and is still read as the DS the
/// Philips dictionary gives it, so the series gets the same SUVs instead of a refusal.
#[test]
fn a_philips_factor_in_an_implicit_vr_file_is_read_by_its_dictionary_vr() {
    let explicit = {
        let (tmp, _) = copy_case("DRO_2_4");
        let series = load_series(tmp.path()).unwrap();
        let cal = calibrate(&series, &options(&[])).unwrap();
        suv_volume(&series, &cal).data
    };
    let (tmp, files) = copy_case("DRO_2_4");
    to_implicit_vr(&files);
    let obj = pet::series::open::open_dicom(&files[0]).unwrap();
    let factor = obj.element(Tag(0x7053, 0x1000)).unwrap();
    assert_eq!(
        factor.vr(),
        VR::UN,
        "the file leaves the private VR unknown"
    );
    let series = load_series(tmp.path()).unwrap();
    let cal = calibrate(&series, &options(&[])).unwrap();
    assert_eq!(cal.instances[0].suvbw_scale_factor, Some(0.0005));
    assert_eq!(suv_volume(&series, &cal).data, explicit, "the same SUVs");
}
