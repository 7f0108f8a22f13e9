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
use table::{Slot, slots};

mod table;

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
        // Lesion 1 is the demo's ultrasound-guided biopsy target.
        let biopsy = n == 0
            && matches!(
                req.site,
                LesionSite::LymphNode
                    | LesionSite::Breast
                    | LesionSite::SoftTissue
                    | LesionSite::Liver
            );
        let r = req.diameter_mm / 2.0;
        let free: Vec<(&'static Slot, [f64; 3])> = order
            .iter()
            .map(|&s| &slots(req.site)[s])
            .filter(|slot| !biopsy || slot.3)
            .filter(|slot| placed.iter().all(|p| p.location != slot.0))
            .map(|slot| (slot, centre(slot, jitter)))
            .filter(|(_, c)| placed.iter().all(|p| apart(&p.lesion, *c, r)))
            .collect();
        let chosen = choose(anatomy, &free, r);
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

/// The first free slot holding the sphere whole, else the one holding the largest sphere.
fn choose<'a>(
    anatomy: &Anatomy,
    free: &'a [(&'static Slot, [f64; 3])],
    r: f64,
) -> Option<&'a (&'static Slot, [f64; 3])> {
    free.iter().find(|(_, c)| fits(anatomy, *c, r)).or_else(|| {
        free.iter()
            .map(|f| (f, capacity(anatomy, f.1, r)))
            .fold(None, |best: Option<(_, f64)>, (f, cap)| match best {
                Some((_, b)) if b >= cap => best,
                _ => Some((f, cap)),
            })
            .map(|(f, _)| f)
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::anatomy::anatomy_with;
    use LesionSite::*;

    const SITES: [LesionSite; 6] = [Liver, Bone, LymphNode, Lung, Breast, SoftTissue];

    fn many(site: LesionSite, diameter_mm: f64) -> Vec<LesionRequest> {
        vec![
            LesionRequest {
                site,
                suv_max: 40.0,
                diameter_mm,
            };
            MAX_REQUESTED_LESIONS
        ]
    }

    #[test]
    fn twelve_lesions_of_one_site_stay_in_their_tissue_and_apart() {
        for seed in 1..=8 {
            let anatomy = anatomy_with(seed, Some(6.0));
            for site in SITES {
                // 16 mm fits every slot at its worst jitter (axillary level I is the tightest).
                let placed = place(&anatomy, &many(site, 16.0), seed).unwrap();
                assert_eq!(placed.len(), 12);
                for (n, p) in placed.iter().enumerate() {
                    let l = &p.lesion;
                    assert!(fits(&anatomy, l.centre_mm, 8.0), "{site:?} {p:?}");
                    for q in &placed[..n] {
                        assert!(apart(&q.lesion, l.centre_mm, 8.0), "{p:?} {q:?}");
                    }
                }
                let uptake = anatomy.tissue_suv(placed[0].lesion.centre_mm);
                let expected = match site {
                    Liver => 6.0,
                    Lung => 0.3,
                    _ => uptake,
                };
                assert_eq!(uptake, expected, "{site:?}");
            }
        }
    }

    #[test]
    fn the_first_lesion_goes_where_an_ultrasound_probe_reaches() {
        for seed in 1..=8 {
            let anatomy = anatomy_with(seed, None);
            for site in [LymphNode, Liver, Breast, SoftTissue] {
                let placed = place(&anatomy, &many(site, 15.0)[..3], seed).unwrap();
                let first = slots(site).iter().find(|s| s.0 == placed[0].location);
                assert!(
                    first.is_some_and(|s| s.3),
                    "{site:?}: {}",
                    placed[0].location
                );
                if site == LymphNode {
                    assert!(placed[0].location.starts_with("axillary node"));
                }
            }
        }
    }

    #[test]
    fn a_lesion_too_large_for_every_free_slot_spills_from_the_roomiest() {
        // 58 mm: no vertebra (34 mm across) or ilium (56 mm) holds it; the femur slots,
        // in the thigh's soft tissue, do.
        let anatomy = anatomy_with(3, None);
        let placed = place(&anatomy, &many(Bone, 58.0)[..3], 3).unwrap();
        let names: Vec<_> = placed.iter().map(|p| p.location).collect();
        assert!(
            names[0].starts_with("femur") && names[1].starts_with("femur"),
            "{names:?}"
        );
        // The third takes the free slot holding the largest sphere, an ilium, and spills.
        let c = placed[2].lesion.centre_mm;
        assert!(names[2].starts_with("ilium"), "{names:?}");
        assert!(!fits(&anatomy, c, 29.0));
        assert!(
            capacity(&anatomy, c, 29.0) >= 22.0,
            "{}",
            capacity(&anatomy, c, 29.0)
        );
    }
}
