//! Header fuzzing: mutated bytes and values of a reference file, and of an enhanced
//! multi-frame file, must give `Ok` or a clear error, never a panic.

use dicom_core::VR;
use pet::series::{read_images, read_instance};
use pet::suv::{SuvOptions, calibrate_headers};
use proptest::prelude::*;

use crate::common::{pt_dir, put};

fn reference_bytes() -> Vec<u8> {
    std::fs::read(pt_dir("DRO_3_2").join("pet_dro_3_2_slice_012.dcm")).unwrap()
}

/// Reads the bytes as a file and, when that works, computes its SUV factor.
fn read_and_calibrate(bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutated.dcm");
    std::fs::write(&path, bytes).unwrap();
    match read_instance(&path) {
        Ok(inst) => {
            let _ = calibrate_headers(&[inst.suv_image()], &SuvOptions::default());
            Ok(())
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains("mutated.dcm") && text.len() > 20,
                "unclear error: {text}"
            );
            Err(text)
        }
    }
}

/// Header length of the reference file: everything before the 128 KiB of pixel data.
const PIXEL_BYTES: usize = 256 * 256 * 2 + 12;

/// A small enhanced phantom (12 × 10 × 8 voxels, 8 frames) as bytes, written once.
fn enhanced_bytes() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let spec = pet::phantom::PhantomSpec {
            dims: [12, 10, 8],
            spacing_mm: [48.0, 50.0, 50.0],
            ..pet::phantom::PhantomSpec::new(8)
        };
        pet::phantom::write_enhanced_phantom_with(dir.path(), &spec).unwrap();
        std::fs::read(dir.path().join(pet::phantom::ENHANCED_FILE)).unwrap()
    })
}

/// Reads the bytes as an enhanced file and, when that works, computes its frames' factors.
fn read_frames_and_calibrate(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutated.dcm");
    std::fs::write(&path, bytes).unwrap();
    match read_images(&path) {
        Ok(frames) => {
            let headers: Vec<_> = frames.iter().map(|f| f.suv_image()).collect();
            let _ = calibrate_headers(&headers, &SuvOptions::default());
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains("mutated.dcm") && text.len() > 20,
                "unclear error: {text}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn mutated_header_bytes_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = reference_bytes();
        let header = bytes.len() - PIXEL_BYTES;
        for (at, value) in edits {
            bytes[at.index(header)] = value;
        }
        let _ = read_and_calibrate(&bytes);
    }

    #[test]
    fn mutated_enhanced_header_bytes_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = enhanced_bytes().to_vec();
        let header = bytes.len() - 12 * 10 * 8 * 2;
        for (at, value) in edits {
            bytes[at.index(header)] = value;
        }
        read_frames_and_calibrate(&bytes);
    }

    #[test]
    fn truncated_enhanced_files_never_panic(cut in 0usize..16_000) {
        let bytes = enhanced_bytes();
        read_frames_and_calibrate(&bytes[..cut.min(bytes.len())]);
    }

    #[test]
    fn truncated_files_never_panic(cut in 0usize..140_000) {
        let bytes = reference_bytes();
        let _ = read_and_calibrate(&bytes[..cut.min(bytes.len())]);
    }

    #[test]
    fn mutated_header_values_never_panic(
        which in 0usize..10,
        value in prop_oneof![
            Just(String::new()),
            Just("-1".to_string()),
            Just("0".to_string()),
            Just("1e308".to_string()),
            Just("NaN".to_string()),
            Just("99999999".to_string()),
            Just("1\\2\\3\\4\\5\\6\\7".to_string()),
            "[ -~]{0,24}",
        ],
    ) {
        let targets: [(u16, u16, VR); 10] = [
            (0x0028, 0x1053, VR::DS), // RescaleSlope
            (0x0020, 0x0032, VR::DS), // ImagePositionPatient
            (0x0020, 0x0037, VR::DS), // ImageOrientationPatient
            (0x0028, 0x0030, VR::DS), // PixelSpacing
            (0x0008, 0x0031, VR::TM), // SeriesTime
            (0x0008, 0x0032, VR::TM), // AcquisitionTime
            (0x0054, 0x1300, VR::DS), // FrameReferenceTime
            (0x0018, 0x1242, VR::IS), // ActualFrameDuration
            (0x0010, 0x1030, VR::DS), // PatientWeight
            (0x0054, 0x1001, VR::CS), // Units
        ];
        let (g, e, vr) = targets[which];
        let mut obj = pet::series::open::parse_dicom(reference_bytes()).unwrap();
        put(&mut obj, g, e, vr, &value);
        let mut bytes = Vec::new();
        obj.write_all(&mut bytes).unwrap();
        let _ = read_and_calibrate(&bytes);
    }
}
