//! The anatomical slots of requested lesions: twelve per site, in the phantom's patient
//! coordinates (x, y in mm; height above mid-thigh, as in [`crate::phantom::anatomy`]).
//!
//! Chosen so that every slot holds a 16 mm sphere within one tissue at its worst jitter
//! and most hold 20–30 mm (the unit tests place twelve per site over seeds), the slots
//! of a site at least 40 mm apart (two 20 mm lesions and the gap between them).

use crate::phantom::anatomy::LesionSite;

/// An anatomical slot: name, centre (x, y, height above mid-thigh), jitter per axis (mm),
/// whether an ultrasound probe reaches it.
pub(super) struct Slot(pub &'static str, pub [f64; 3], pub [f64; 3], pub bool);

const J: [f64; 3] = [3.0, 3.0, 3.0];
const VERTEBRA: [f64; 3] = [1.5, 1.5, 8.0];

const LIVER: [Slot; 12] = [
    Slot(
        "liver segment VI, anterior",
        [-115.0, -35.0, 495.0],
        J,
        true,
    ),
    Slot("liver segment V", [-70.0, -35.0, 495.0], J, true),
    Slot(
        "liver segment VIII, anterior",
        [-115.0, -35.0, 545.0],
        J,
        true,
    ),
    Slot("liver segment VIII", [-70.0, -35.0, 545.0], J, true),
    Slot("liver segment IV", [-25.0, -35.0, 495.0], J, true),
    Slot("liver segment IVa", [-25.0, -35.0, 545.0], J, true),
    Slot(
        "liver segment VI, posterior",
        [-115.0, 20.0, 495.0],
        J,
        false,
    ),
    Slot("liver segment VII", [-115.0, 20.0, 545.0], J, false),
    Slot("liver segment VI, medial", [-70.0, 20.0, 495.0], J, false),
    Slot("liver segment VII, medial", [-70.0, 20.0, 545.0], J, false),
    Slot("liver caudate lobe", [-25.0, 20.0, 495.0], J, false),
    Slot("liver segment II", [-25.0, 20.0, 545.0], J, false),
];

const BONE: [Slot; 12] = [
    Slot("vertebra C7", [0.0, 75.0, 790.0], VERTEBRA, false),
    Slot("vertebra T4", [0.0, 75.0, 720.0], VERTEBRA, false),
    Slot("vertebra T8", [0.0, 75.0, 650.0], VERTEBRA, false),
    Slot("vertebra T11", [0.0, 75.0, 580.0], VERTEBRA, false),
    Slot("vertebra L2", [0.0, 75.0, 500.0], VERTEBRA, false),
    Slot("vertebra L4", [0.0, 75.0, 420.0], VERTEBRA, false),
    Slot("ilium right", [-105.0, 30.0, 300.0], J, false),
    Slot("ilium left", [105.0, 30.0, 300.0], J, false),
    Slot("femur right", [-85.0, 0.0, 140.0], [4.0, 4.0, 20.0], false),
    Slot("femur left", [85.0, 0.0, 140.0], [4.0, 4.0, 20.0], false),
    Slot("sternum", [0.0, -90.0, 640.0], [1.5, 1.5, 10.0], false),
    Slot(
        "rib, right lateral",
        [-137.0, 0.0, 640.0],
        [1.5, 3.0, 10.0],
        false,
    ),
];

const LYMPH_NODE: [Slot; 12] = [
    Slot(
        "axillary node right, level I",
        [-132.0, -5.0, 705.0],
        J,
        true,
    ),
    Slot("axillary node left, level I", [132.0, -5.0, 705.0], J, true),
    Slot(
        "axillary node right, level II",
        [-128.0, 0.0, 755.0],
        J,
        true,
    ),
    Slot("axillary node left, level II", [128.0, 0.0, 755.0], J, true),
    Slot("supraclavicular node right", [-50.0, 0.0, 795.0], J, false),
    Slot("supraclavicular node left", [50.0, 0.0, 795.0], J, false),
    Slot(
        "mediastinal node, prevascular",
        [0.0, -45.0, 700.0],
        J,
        false,
    ),
    Slot("mediastinal node, subcarinal", [0.0, 20.0, 680.0], J, false),
    Slot("para-aortic node, upper", [5.0, 20.0, 400.0], J, false),
    Slot("para-aortic node, lower", [5.0, 20.0, 335.0], J, false),
    Slot(
        "internal mammary node right",
        [-25.0, -80.0, 650.0],
        J,
        false,
    ),
    Slot("internal mammary node left", [25.0, -80.0, 650.0], J, false),
];

const LUNG: [Slot; 12] = [
    Slot(
        "right upper lobe, anterior",
        [-92.0, -20.0, 700.0],
        J,
        false,
    ),
    Slot("left upper lobe, anterior", [92.0, -20.0, 700.0], J, false),
    Slot(
        "right upper lobe, posterior",
        [-92.0, 30.0, 700.0],
        J,
        false,
    ),
    Slot("left upper lobe, posterior", [92.0, 30.0, 700.0], J, false),
    Slot("right upper lobe, medial", [-48.0, -20.0, 700.0], J, false),
    Slot("left upper lobe, medial", [48.0, -20.0, 700.0], J, false),
    Slot(
        "right upper lobe, posteromedial",
        [-48.0, 30.0, 700.0],
        J,
        false,
    ),
    Slot(
        "left upper lobe, posteromedial",
        [48.0, 30.0, 700.0],
        J,
        false,
    ),
    Slot("right apex", [-70.0, 5.0, 745.0], J, false),
    Slot("left apex", [70.0, 5.0, 745.0], J, false),
    Slot("right lower lobe", [-70.0, 35.0, 625.0], J, false),
    Slot("left lower lobe", [70.0, 35.0, 625.0], J, false),
];

const BREAST: [Slot; 12] = [
    Slot(
        "right breast, upper outer",
        [-110.0, -110.0, 685.0],
        J,
        true,
    ),
    Slot("left breast, upper outer", [110.0, -110.0, 685.0], J, true),
    Slot("right breast, upper inner", [-60.0, -110.0, 685.0], J, true),
    Slot("left breast, upper inner", [60.0, -110.0, 685.0], J, true),
    Slot(
        "right breast, lower outer",
        [-110.0, -110.0, 635.0],
        J,
        true,
    ),
    Slot("left breast, lower outer", [110.0, -110.0, 635.0], J, true),
    Slot("right breast, lower inner", [-60.0, -110.0, 635.0], J, true),
    Slot("left breast, lower inner", [60.0, -110.0, 635.0], J, true),
    Slot("right breast, subareolar", [-85.0, -135.0, 660.0], J, true),
    Slot("left breast, subareolar", [85.0, -135.0, 660.0], J, true),
    Slot(
        "right breast, retroglandular",
        [-85.0, -85.0, 660.0],
        J,
        true,
    ),
    Slot("left breast, retroglandular", [85.0, -85.0, 660.0], J, true),
];

const SOFT_TISSUE: [Slot; 12] = [
    Slot(
        "abdominal wall, right upper",
        [-70.0, -75.0, 410.0],
        J,
        true,
    ),
    Slot("abdominal wall, left upper", [70.0, -75.0, 410.0], J, true),
    Slot(
        "abdominal wall, midline upper",
        [0.0, -85.0, 410.0],
        J,
        true,
    ),
    Slot(
        "abdominal wall, right lower",
        [-70.0, -75.0, 340.0],
        J,
        true,
    ),
    Slot("abdominal wall, left lower", [70.0, -75.0, 340.0], J, true),
    Slot(
        "abdominal wall, midline lower",
        [0.0, -85.0, 340.0],
        J,
        true,
    ),
    Slot("chest wall, right lateral", [-135.0, -10.0, 620.0], J, true),
    Slot("chest wall, left lateral", [135.0, -10.0, 600.0], J, true),
    Slot(
        "thigh right, anterior upper",
        [-85.0, -50.0, 180.0],
        J,
        true,
    ),
    Slot("thigh left, anterior upper", [85.0, -50.0, 180.0], J, true),
    Slot("thigh right, anterior lower", [-85.0, -50.0, 80.0], J, true),
    Slot("thigh left, anterior lower", [85.0, -50.0, 80.0], J, true),
];

/// The twelve slots of a site.
pub(super) fn slots(site: LesionSite) -> &'static [Slot; 12] {
    match site {
        LesionSite::Liver => &LIVER,
        LesionSite::Bone => &BONE,
        LesionSite::LymphNode => &LYMPH_NODE,
        LesionSite::Lung => &LUNG,
        LesionSite::Breast => &BREAST,
        LesionSite::SoftTissue => &SOFT_TISSUE,
    }
}
