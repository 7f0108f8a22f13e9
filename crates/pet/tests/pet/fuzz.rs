//! Header fuzzing: mutated bytes and values of a reference file must give `Ok` or a clear
//! error, never a panic.

use dicom_core::VR;
use pet::series::read_instance;
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
