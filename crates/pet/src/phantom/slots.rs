//! Requested lesions: where in the woman each one goes.
//!
//! Each site has twelve anatomical slots, enough for twelve lesions of one site to sit in
//! their organ without touching each other. A request takes the first free slot of its
//! site, in a seeded order (so two women with the same sites differ), that holds the
//! sphere within one tissue of uniform uptake and keeps [`LESION_GAP_MM`] from every lesion
//! placed before it; a seeded jitter of a few millimetres moves it off the slot's centre.
//! When no free slot holds a sphere that large, it takes the free slot that holds the
//! largest one and spills into the neighbouring tissue, as a large metastasis does.
//!
//! The first lesion is the one the demo biopsies under ultrasound: when its site is a
//! lymph node, the breast, soft tissue or the liver, only slots an ultrasound probe
//! reaches are offered to it (axillary nodes, breast, subcutaneous tissue, the anterior
//! and lateral right liver lobe).
//!
//! The phantom has no ribs, sternum or femora as regions (adding them would change every
//! seeded phantom), so the slots named after them lie in the soft tissue where those
//! bones are; the vertebrae and ilia are regions of their own.

use super::PhantomError;
use super::anatomy::{Anatomy, LesionSite, LesionSpec};
use super::scanner::SplitMix64;
use serde::Serialize;

/// A lesion a caller asks for, as a reader should measure it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionRequest {
    /// Site.
    pub site: LesionSite,
    /// SUVmax a reader should measure: the highest voxel of the noise-free image.
    pub suv_max: f64,
    /// Diameter of the sphere (mm).
    pub diameter_mm: f64,
}

/// Most lesions a phantom may be asked for (the seeded phantom has twelve too).
pub const MAX_REQUESTED_LESIONS: usize = 12;

/// Smallest and largest requested diameter (mm): under 6 mm a lesion is below the
/// scanner's resolution, over 60 mm it no longer fits an organ slot.
pub const DIAMETER_RANGE_MM: [f64; 2] = [6.0, 60.0];

/// Least distance (mm) between the surfaces of two requested lesions: the PSF's reach
/// (3.5 σ of a 6 mm FWHM ≈ 9 mm) plus a voxel on each side, so that one lesion's blur
/// never reaches another's voxels and the detector sees them apart.
pub const LESION_GAP_MM: f64 = 20.0;

/// A lesion placed in the anatomy, its uptake still to be chosen.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Placed {
    /// Site, centre and diameter (`activity_suv` 0 until calibrated).
    pub lesion: LesionSpec,
    /// Name of the slot taken.
    pub location: &'static str,
}

/// An anatomical slot: name, centre (x, y, height above mid-thigh), jitter per axis (mm),
/// whether an ultrasound probe reaches it.
struct Slot(&'static str, [f64; 3], [f64; 3], bool);

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

fn slots(site: LesionSite) -> &'static [Slot; 12] {
    match site {
        LesionSite::Liver => &LIVER,
        LesionSite::Bone => &BONE,
        LesionSite::LymphNode => &LYMPH_NODE,
        LesionSite::Lung => &LUNG,
        LesionSite::Breast => &BREAST,
        LesionSite::SoftTissue => &SOFT_TISSUE,
    }
}

/// Refuses requests no phantom can honour, naming the lesion: more than
/// [`MAX_REQUESTED_LESIONS`], a diameter outside [`DIAMETER_RANGE_MM`], a non-finite or
/// non-positive SUVmax. (An SUVmax not above its slot's background is refused once placed.)
pub(super) fn check(requests: &[LesionRequest]) -> Result<(), PhantomError> {
    if requests.len() > MAX_REQUESTED_LESIONS {
        return Err(PhantomError::InvalidSpec(format!(
            "lesions: {} requested, at most {MAX_REQUESTED_LESIONS}",
            requests.len()
        )));
    }
    for (n, l) in requests.iter().enumerate() {
        let [lo, hi] = DIAMETER_RANGE_MM;
        if !(l.diameter_mm.is_finite() && (lo..=hi).contains(&l.diameter_mm)) {
            return Err(PhantomError::InvalidSpec(format!(
                "lesions[{n}].diameter_mm: {} is outside {lo}..={hi} mm",
                l.diameter_mm
            )));
        }
        if !(l.suv_max.is_finite() && l.suv_max > 0.0) {
            return Err(PhantomError::InvalidSpec(format!(
                "lesions[{n}].suv_max: {} is not a positive finite SUV",
                l.suv_max
            )));
        }
    }
    Ok(())
}

/// Places the requests in order (see the module documentation), refusing a request whose
/// site has no free slot left or whose SUVmax is not above its slot's tissue uptake.
pub(super) fn place(
    anatomy: &Anatomy,
    requests: &[LesionRequest],
    seed: u64,
) -> Result<Vec<Placed>, PhantomError> {
    let mut rng = SplitMix64::new(seed, 0x5107_1E51);
    let mut placed: Vec<Placed> = Vec::with_capacity(requests.len());
    for (n, req) in requests.iter().enumerate() {
        let order = seeded_order(seed, req.site);
        let jitter = [0; 3].map(|_| rng.range(-1.0, 1.0));
        let biopsy = n == 0
            && matches!(
                req.site,
                LesionSite::LymphNode
                    | LesionSite::Breast
                    | LesionSite::SoftTissue
                    | LesionSite::Liver
            );
        let r = req.diameter_mm / 2.0;
        let free: Vec<(&Slot, [f64; 3])> = order
            .iter()
            .map(|&s| &slots(req.site)[s])
            .filter(|slot| !biopsy || slot.3)
            .filter(|slot| placed.iter().all(|p| p.location != slot.0))
            .map(|slot| (slot, centre(slot, jitter)))
            .filter(|(_, c)| placed.iter().all(|p| apart(&p.lesion, *c, r)))
            .collect();
        let chosen = free.iter().find(|(_, c)| fits(anatomy, *c, r)).or_else(|| {
            free.iter()
                .map(|f| (f, capacity(anatomy, f.1, r)))
                .fold(None, |best: Option<(_, f64)>, (f, cap)| match best {
                    Some((_, b)) if b >= cap => best,
                    _ => Some((f, cap)),
                })
                .map(|(f, _)| f)
        });
        let Some(&(slot, c)) = chosen else {
            return Err(PhantomError::InvalidSpec(format!(
                "lesions[{n}]: no free {:?} slot at least {LESION_GAP_MM} mm from the other lesions",
                req.site
            )));
        };
        let background = anatomy.tissue_suv(c);
        if req.suv_max <= background {
            return Err(PhantomError::InvalidSpec(format!(
                "lesions[{n}].suv_max: {} is not above the background SUV {background:.2} of the {}",
                req.suv_max, slot.0
            )));
        }
        placed.push(Placed {
            lesion: LesionSpec {
                site: req.site,
                centre_mm: c,
                diameter_mm: req.diameter_mm,
                activity_suv: 0.0,
            },
            location: slot.0,
        });
    }
    Ok(placed)
}

/// The slots of a site in an order drawn from the seed (Fisher–Yates).
fn seeded_order(seed: u64, site: LesionSite) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed, 0x5107_0000 + site as u64);
    let mut order: Vec<usize> = (0..slots(site).len()).collect();
    for i in (1..order.len()).rev() {
        let j = (rng.uniform() * (i + 1) as f64) as usize;
        order.swap(i, j.min(i));
    }
    order
}

/// Slot centre moved by the jitter (each component in −1..1 of the slot's amplitude), in
/// patient millimetres.
fn centre(slot: &Slot, jitter: [f64; 3]) -> [f64; 3] {
    let at = slot.1;
    [
        at[0] + jitter[0] * slot.2[0],
        at[1] + jitter[1] * slot.2[1],
        at[2] + jitter[2] * slot.2[2] - 500.0,
    ]
}

fn apart(other: &LesionSpec, c: [f64; 3], r: f64) -> bool {
    let d = (0..3)
        .map(|a| (other.centre_mm[a] - c[a]).powi(2))
        .sum::<f64>()
        .sqrt();
    d >= other.diameter_mm / 2.0 + r + LESION_GAP_MM
}

/// Whether a sphere lies within one tissue: points on it (and half-way in) all have the
/// centre's uptake. 96 directions (Fibonacci sphere) resolve every organ edge of the
/// phantom, whose smallest radius of curvature is centimetres.
pub(super) fn fits(anatomy: &Anatomy, c: [f64; 3], r: f64) -> bool {
    const N: usize = 96;
    let tissue = anatomy.tissue_suv(c);
    if tissue <= 0.0 {
        return false;
    }
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..N).all(|i| {
        let z = 1.0 - 2.0 * (i as f64 + 0.5) / N as f64;
        let ring = (1.0 - z * z).sqrt();
        let u = [
            ring * (golden * i as f64).cos(),
            ring * (golden * i as f64).sin(),
            z,
        ];
        [r, r / 2.0].iter().all(|&s| {
            anatomy.tissue_suv([c[0] + s * u[0], c[1] + s * u[1], c[2] + s * u[2]]) == tissue
        })
    })
}

/// Largest radius up to `r` that [`fits`] at `c` (bisection to 0.5 mm).
fn capacity(anatomy: &Anatomy, c: [f64; 3], r: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, r);
    while hi - lo > 0.5 {
        let mid = (lo + hi) / 2.0;
        if fits(anatomy, c, mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}
