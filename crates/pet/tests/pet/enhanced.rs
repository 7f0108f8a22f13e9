//! Enhanced PET Image Storage (one file, every slice a frame) read like the single-frame
//! series it holds: same voxels, same grid, same SUV factor, same lesions; and the files
//! it refuses, with the frame and attribute named.
//!
//! The enhanced files are the phantom's, written by `write_enhanced_phantom_with` (see
//! `pet::phantom::enhanced`: geometry and rescale in the functional groups, units in the
//! Real World Value Mapping, decay correction in DecayCorrected/DecayCorrectionDateTime, the
//! dose in MBq, as the Enhanced PET Image IOD keeps them). The IBSI reference series
//! converted to enhanced files are in `enhanced_ibsi`.

use std::path::{Path, PathBuf};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use pet::ErrorKind;
use pet::lesions::{LesionParams, detect};
use pet::phantom::anatomy::LesionSite::{self, Bone, Breast, Liver, LymphNode};
use pet::phantom::{
    ENHANCED_FILE, LesionRequest, PhantomSpec, write_enhanced_phantom_with, write_phantom_with,
};
use pet::series::open::open_dicom;
use pet::series::{load_series, load_series_files, read_images};
use pet::suv::{DecayCorrection, ScanTimeRule, SuvOptions, Units, calibrate, load_suv};

use crate::common::{bits, ds, one_item};

fn req(site: LesionSite, suv_max: f64, diameter_mm: f64) -> LesionRequest {
    LesionRequest {
        site,
        suv_max,
        diameter_mm,
    }
}

/// A woman of the demo's grid (100 × 100 × 160 voxels of 6 × 6 × 6.25 mm) with four lesions
/// of known SUVmax and no noise, so that a lesion's measured SUVmax is the simulated one to
/// the precision of 16-bit storage.
fn woman() -> PhantomSpec {
    PhantomSpec {
        lesions: Some(vec![
            req(LymphNode, 14.0, 18.0),
            req(Liver, 30.0, 35.0),
            req(Bone, 8.0, 25.0),
            req(Breast, 25.0, 30.0),
        ]),
        liver_suv: Some(6.0),
        noise: 0.0,
        ..PhantomSpec::demo(21)
    }
}

fn files(dir: &Path, names: &[String]) -> Vec<PathBuf> {
    names.iter().map(|n| dir.join(n)).collect()
}

/// The phantom written both ways: the single-frame series (160 files) and the one enhanced
/// file of 160 frames, read by the same `load_series`, `calibrate` and `load_suv` that
/// `her2ex pet inspect` and `quantify` use.
#[test]
fn an_enhanced_phantom_reads_as_its_single_frame_series() {
    let spec = woman();
    let (single_dir, enhanced_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let truth = write_phantom_with(single_dir.path(), &spec).unwrap();
    let enhanced_truth = write_enhanced_phantom_with(enhanced_dir.path(), &spec).unwrap();
    assert_eq!(enhanced_truth.files, [ENHANCED_FILE]);
    assert_eq!(enhanced_truth.series_uid, truth.series_uid);
    let single_files = files(single_dir.path(), &truth.files);
    let single = load_series_files(&single_files).unwrap();
    // The folder, as the CLI reads it: the ground truth beside the file is skipped.
    let enhanced = load_series(enhanced_dir.path()).unwrap();
    assert_eq!(enhanced.problems.len(), 1);
    assert!(enhanced.problems[0].path.ends_with("ground_truth.json"));

    // Same grid, same voxels (Bq/mL), bit for bit.
    assert_eq!(enhanced.volume.dims, [100, 100, 160]);
    assert_eq!(enhanced.volume.spacing_mm, [6.0, 6.0, 6.25]);
    assert_eq!(enhanced.volume.dims, single.volume.dims);
    assert_eq!(enhanced.volume.spacing_mm, single.volume.spacing_mm);
    assert_eq!(enhanced.volume.origin_mm, single.volume.origin_mm);
    assert_eq!(enhanced.volume.origin_mm, [-297.0, -297.0, -496.875]);
    assert_eq!(enhanced.volume.direction, single.volume.direction);
    assert!(bits(&enhanced.volume.data) == bits(&single.volume.data));
    assert_eq!(enhanced.series_instance_uid, single.series_instance_uid);

    // Slice k is frame 160 − k: the file runs from the head down, the volume from the feet up.
    assert_eq!(enhanced.instances.len(), 160);
    for (k, (e, s)) in enhanced.instances.iter().zip(&single.instances).enumerate() {
        assert_eq!(e.frame, Some(160 - k as u32));
        assert_eq!(s.frame, None);
        assert_eq!(e.position_mm, s.position_mm);
        assert_eq!(e.rescale_slope, s.rescale_slope);
        assert_eq!(e.slice_thickness_mm, Some(6.25));
    }

    // Same SUV factor, found where each form keeps it.
    let opts = SuvOptions::default();
    let (cs, ce) = (
        calibrate(&single, &opts).unwrap(),
        calibrate(&enhanced, &opts).unwrap(),
    );
    for c in [&cs, &ce] {
        assert_eq!(
            (c.units, c.decay_correction),
            (Units::Bqml, DecayCorrection::Start)
        );
        // 150 MBq (written as 150 in the enhanced file, 150000000 Bq in the series), 2 h.
        assert_eq!(c.dose_bq, Some(150e6));
        assert_eq!(c.decay_time_s, Some(7200.0));
        assert_eq!(
            c.scan_datetime.map(|t| t.to_string()).as_deref(),
            Some("2026-03-02 11:00:00")
        );
    }
    // No assumption made on the way: in particular the dose of 150 is read as MBq because
    // the Enhanced PET Isotope Module says so, not because it is too small for Bq.
    assert_eq!(ce.warnings, Vec::<String>::new());
    assert_eq!(cs.warnings, Vec::<String>::new());
    assert_eq!(cs.scan_datetime_rule, Some(ScanTimeRule::SeriesTime));
    assert_eq!(
        ce.scan_datetime_rule,
        Some(ScanTimeRule::DecayCorrectionTime)
    );
    assert_eq!(ce.instances.len(), 160);
    for (e, s) in ce.instances.iter().zip(&cs.instances) {
        assert_eq!(e.scale_factor.to_bits(), s.scale_factor.to_bits());
        let relative = (e.scale_factor - truth.suv_per_bqml).abs() / truth.suv_per_bqml;
        assert!(
            relative < 1e-12,
            "{} vs {}",
            e.scale_factor,
            truth.suv_per_bqml
        );
    }
    // 68 kg, 150 MBq decayed over 7200 s of Ga-68 (T½ 4062.6 s): 0.00154854 g/mL per Bq/mL.
    assert!((ce.instances[0].scale_factor - 1.548_54e-3).abs() < 1e-8);
    let keys = ce.suvbw_scale_factors();
    assert_eq!(keys.len(), 160);
    assert!(keys.keys().all(|k| k.contains(" frame ")));

    // The quantification's path: SUV while reading, then the lesions.
    let enhanced_files = vec![enhanced_dir.path().join(ENHANCED_FILE)];
    let (qs, qe) = (
        load_suv(&single_files, &opts).unwrap(),
        load_suv(&enhanced_files, &opts).unwrap(),
    );
    assert!(bits(&qe.series.volume.data) == bits(&qs.series.volume.data));
    assert_eq!(qe.range, qs.range);
    let params = LesionParams::default();
    let (ls, le) = (
        detect(&qs.series.volume, &params),
        detect(&qe.series.volume, &params),
    );
    assert_eq!(le, ls);
    for (n, want) in [14.0, 30.0, 8.0, 25.0].into_iter().enumerate() {
        let centre = truth.lesions[n].centre_mm;
        let found = le
            .iter()
            .find(|l| {
                let d2: f64 = (0..3).map(|c| (l.centroid_mm[c] - centre[c]).powi(2)).sum();
                d2.sqrt() <= 8.0
            })
            .unwrap_or_else(|| panic!("lesion {} not found: {le:?}", n + 1));
        // 16-bit storage with a slope per slice: within 10⁻⁵ of the requested SUVmax.
        assert!(
            (found.suv_max - want).abs() <= 1e-5 * want,
            "lesion {}: SUVmax {} for {want}",
            n + 1,
            found.suv_max
        );
        assert!(found.suv_peak > 0.5 * want && found.suv_peak <= found.suv_max);
    }
}

/// A small phantom for the refusals: 64 × 64 × 48 voxels, so 48 frames of 8192 bytes.
fn small_enhanced() -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
    let spec = PhantomSpec {
        dims: [64, 64, 48],
        spacing_mm: [9.0, 9.0, 21.0],
        ..PhantomSpec::new(5)
    };
    let dir = tempfile::tempdir().unwrap();
    let truth = write_phantom_with(dir.path(), &spec).unwrap();
    let single = files(dir.path(), &truth.files);
    let enhanced_dir = dir.path().join("enhanced");
    write_enhanced_phantom_with(&enhanced_dir, &spec).unwrap();
    (dir, enhanced_dir.join(ENHANCED_FILE), single)
}

/// Rewrites the enhanced file after `edit` changed the item of frame `frame` (from 1) of
/// its PerFrameFunctionalGroupsSequence.
fn edit_frame(path: &Path, frame: usize, edit: impl FnOnce(&mut InMemDicomObject)) {
    let mut obj = open_dicom(path).unwrap();
    let mut edit = Some(edit);
    obj.update_value(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, |v| {
        let item = &mut v.items_mut().unwrap()[frame - 1];
        (edit.take().unwrap())(item);
    });
    obj.write_to_file(path).unwrap();
}

fn copy_to(path: &Path, name: &str) -> PathBuf {
    let to = path.with_file_name(name);
    std::fs::copy(path, &to).unwrap();
    to
}

fn error_of(path: &Path) -> pet::PetError {
    match read_images(path) {
        Ok(images) => panic!("{} read as {} frames", path.display(), images.len()),
        Err(e) => e,
    }
}

/// Why the series of `files` is not read (a short panic when it is).
fn refusal(files: &[PathBuf]) -> pet::PetError {
    match load_series_files(files) {
        Ok(series) => panic!("read as {:?} voxels", series.volume.dims),
        Err(e) => e,
    }
}

/// dcmtk reads the enhanced file as what it is, without a complaint.
#[test]
fn dcmdump_reads_the_enhanced_phantom_without_errors() {
    let (_dir, enhanced, _) = small_enhanced();
    let output = match std::process::Command::new("dcmdump")
        .arg("+E")
        .arg(&enhanced)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            assert!(
                std::env::var("HER2EX_REQUIRE_DCMTK").as_deref() != Ok("1"),
                "HER2EX_REQUIRE_DCMTK=1 but dcmdump (dcmtk) cannot be run: {e}"
            );
            eprintln!("dcmdump not found; skipping the dcmtk check");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "dcmdump failed: {stderr}");
    assert!(!stderr.contains("E:") && !stderr.contains("W:"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "(0008,0016) UI =EnhancedPETImageStorage",
        "(0028,0008) IS [48]",
        "(5200,9230) SQ (Sequence with undefined length #=48)",
        "(0018,1074) DS [150]",
        "(0018,9758) CS [YES]",
        "(0008,0100) SH [Bq/ml]",
    ] {
        assert!(stdout.contains(expected), "{expected} not in\n{stdout}");
    }
}

#[test]
fn a_series_of_enhanced_and_single_frame_files_is_refused() {
    let (_dir, enhanced, single) = small_enhanced();
    let mut all = single.clone();
    all.push(enhanced.clone());
    let err = refusal(&all);
    assert!(matches!(err.kind, ErrorKind::MixedSeries(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("PT_ENHANCED.dcm") && text.contains("48 single-frame PET Image file(s)"),
        "{text}"
    );
    // Each kind alone is one series of 48 slices.
    let alone: [&[PathBuf]; 2] = [&single, &[enhanced]];
    for files in alone {
        assert_eq!(load_series_files(files).unwrap().volume.dims, [64, 64, 48]);
    }
}

#[test]
fn frames_of_another_orientation_or_spacing_are_refused_by_frame() {
    let (_dir, enhanced, _) = small_enhanced();
    // Frame 7 says its rows run along y: a frame of another orientation.
    let turned = copy_to(&enhanced, "turned.dcm");
    edit_frame(&turned, 7, |item| {
        item.put(one_item(
            tags::PLANE_ORIENTATION_SEQUENCE,
            vec![ds(tags::IMAGE_ORIENTATION_PATIENT, "0\\1\\0\\1\\0\\0")],
        ));
    });
    let err = refusal(&[turned]);
    assert!(matches!(err.kind, ErrorKind::Geometry(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("turned.dcm frame 7: ImageOrientationPatient (0020,0037) [0.0, 1.0, 0.0, 1.0, 0.0, 0.0] differs"),
        "{text}"
    );
    // Frame 12 has pixels of 9.5 mm where the others' are 9 mm.
    let wide = copy_to(&enhanced, "wide.dcm");
    edit_frame(&wide, 12, |item| {
        item.put(one_item(
            tags::PIXEL_MEASURES_SEQUENCE,
            vec![
                ds(tags::PIXEL_SPACING, "9.5\\9"),
                ds(tags::SLICE_THICKNESS, "21"),
            ],
        ));
    });
    let text = refusal(&[wide]).to_string();
    assert!(
        text.contains(
            "wide.dcm frame 12: PixelSpacing (0028,0030) [9.5, 9.0] differs from [9.0, 9.0]"
        ),
        "{text}"
    );
}

#[test]
fn a_frame_without_its_position_makes_the_file_unreadable() {
    let (_dir, enhanced, _) = small_enhanced();
    edit_frame(&enhanced, 5, |item| {
        item.remove_element(tags::PLANE_POSITION_SEQUENCE);
    });
    let err = error_of(&enhanced);
    assert!(matches!(err.kind, ErrorKind::MissingTag(_)), "{err}");
    assert!(
        err.to_string().contains(
            "missing PlanePositionSequence (0020,9113) of frame 5: neither in its item of \
             PerFrameFunctionalGroupsSequence (5200,9230) nor in SharedFunctionalGroupsSequence \
             (5200,9229)"
        ),
        "{err}"
    );
    // A position that is there but unreadable is named inside its macro.
    edit_frame(&enhanced, 9, |item| {
        item.put(one_item(
            tags::PLANE_POSITION_SEQUENCE,
            vec![ds(tags::IMAGE_POSITION_PATIENT, "1\\2")],
        ));
    });
    edit_frame(&enhanced, 5, |item| {
        item.put(one_item(
            tags::PLANE_POSITION_SEQUENCE,
            vec![ds(tags::IMAGE_POSITION_PATIENT, "0\\0\\0")],
        ));
    });
    let text = error_of(&enhanced).to_string();
    assert!(
        text.contains(
            "bad PlanePositionSequence (0020,9113) > ImagePositionPatient (0020,0032) of frame \
             9: expected 3 values, found 2"
        ),
        "{text}"
    );
    // In a folder, the series is not read with the frames that are there: nothing is.
    let err = refusal(&[enhanced]);
    assert!(matches!(err.kind, ErrorKind::NoImages(_)), "{err}");
    assert!(err.to_string().contains("frame 9"), "{err}");
}

#[test]
fn number_of_frames_must_count_the_frames() {
    let (_dir, enhanced, _) = small_enhanced();
    let set_frames = |path: &Path, n: &str, drop_last: bool| {
        let mut obj = open_dicom(path).unwrap();
        obj.put(DataElement::new(
            tags::NUMBER_OF_FRAMES,
            VR::IS,
            PrimitiveValue::from(n),
        ));
        if drop_last {
            obj.update_value(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, |v| {
                v.items_mut().unwrap().pop();
            });
        }
        obj.write_to_file(path).unwrap();
    };
    // One frame more than the functional groups describe.
    let more = copy_to(&enhanced, "more.dcm");
    set_frames(&more, "49", false);
    let text = error_of(&more).to_string();
    assert!(
        text.contains(
            "bad PerFrameFunctionalGroupsSequence (5200,9230): 48 items, while NumberOfFrames \
             (0028,0008) is 49: one item per frame"
        ),
        "{text}"
    );
    // Functional groups and NumberOfFrames agree on 47, the pixel data holds 48 frames.
    let fewer = copy_to(&enhanced, "fewer.dcm");
    set_frames(&fewer, "47", true);
    let text = error_of(&fewer).to_string();
    assert!(
        text.contains(
            "PixelData (7FE0,0010) holds 393216 bytes, 48 whole frames of 8192 bytes, but \
             NumberOfFrames (0028,0008) is 47, which needs 385024"
        ),
        "{text}"
    );
    // And NumberOfFrames itself must be a count.
    let zero = copy_to(&enhanced, "zero.dcm");
    set_frames(&zero, "0", false);
    let text = error_of(&zero).to_string();
    assert!(
        text.contains("bad NumberOfFrames (0028,0008): \"0\" is not a whole number of frames"),
        "{text}"
    );
}
