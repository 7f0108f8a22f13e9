//! The woman of the phantom: body outline, organs with [68Ga]Ga-ABY-025 uptake, lesions.
//!
//! Geometry in patient LPS millimetres (+x left, +y posterior, +z superior), written
//! with a height `h` above mid-thigh (z = h − 500, so a 1 m field of view centred on
//! z = 0 spans mid-thigh to the top of the head). Sizes follow adult female anatomy
//! (liver ~1.8 L, kidneys ~11 cm long, spleen ~12 cm).
//!
//! Uptake (SUV) of ABY-025 at about 2 h after injection, drawn per seed within the
//! ranges this project expects for the tracer (biodistribution: Sandström et al., J Nucl
//! Med 2016;57:867): kidney cortex 100–140 (medulla less), liver 15–22, spleen 8–14,
//! urine in the bladder 40–90, blood pool ~2, soft tissue 0.6–0.9, lung ~0.3.
//!
//! Lesions are spheres placed at typical metastatic sites (liver, bone, lymph nodes,
//! lung, breast) with a seeded jitter, diameter 8–30 mm and SUV 2–20. Liver lesions must
//! stand out from the liver: their SUV is 1.5–2.6 × the liver's, so some exceed 20;
//! those under about twice the liver's are, on purpose, fainter than the in-organ search
//! of `lesions` can separate (the ground truth's `background_suv` tells them apart).

use super::scanner::SplitMix64;
use crate::physiology::Organ;
use serde::Serialize;

/// Where a phantom lesion sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LesionSite {
    /// Liver metastasis (inside the liver's uptake).
    Liver,
    /// Bone metastasis (spine, pelvis, femur; sternum and ribs for requested lesions).
    Bone,
    /// Lymph node (axillary, mediastinal, para-aortic; supraclavicular and internal
    /// mammary for requested lesions).
    LymphNode,
    /// Lung metastasis.
    Lung,
    /// Breast (primary or local recurrence).
    Breast,
    /// Soft tissue outside the organs (subcutaneous chest wall, abdominal wall, thigh).
    SoftTissue,
}

/// A solid of uniform uptake.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "shape")]
pub enum Solid {
    /// Axis-aligned ellipsoid.
    Ellipsoid {
        /// Centre (mm).
        centre_mm: [f64; 3],
        /// Semi-axes along x, y, z (mm).
        radii_mm: [f64; 3],
    },
    /// Elliptic cylinder along z.
    Cylinder {
        /// Centre of the cross-section (mm).
        centre_mm: [f64; 2],
        /// Semi-axes along x and y (mm).
        radii_mm: [f64; 2],
        /// Lowest and highest z (mm).
        z_mm: [f64; 2],
    },
}

impl Solid {
    fn ellipsoid(x: f64, y: f64, h: f64, r: [f64; 3]) -> Self {
        Self::Ellipsoid {
            centre_mm: [x, y, h - 500.0],
            radii_mm: r,
        }
    }

    fn cylinder(x: f64, y: f64, r: [f64; 2], h: [f64; 2]) -> Self {
        Self::Cylinder {
            centre_mm: [x, y],
            radii_mm: r,
            z_mm: [h[0] - 500.0, h[1] - 500.0],
        }
    }

    /// Whether point `p` lies inside.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        match *self {
            Self::Ellipsoid {
                centre_mm: c,
                radii_mm: r,
            } => (0..3).map(|a| ((p[a] - c[a]) / r[a]).powi(2)).sum::<f64>() <= 1.0,
            Self::Cylinder {
                centre_mm: c,
                radii_mm: r,
                z_mm: z,
            } => {
                p[2] >= z[0]
                    && p[2] <= z[1]
                    && ((p[0] - c[0]) / r[0]).powi(2) + ((p[1] - c[1]) / r[1]).powi(2) <= 1.0
            }
        }
    }

    /// Lowest and highest z (mm).
    pub fn z_extent(&self) -> [f64; 2] {
        match *self {
            Self::Ellipsoid {
                centre_mm: c,
                radii_mm: r,
            } => [c[2] - r[2], c[2] + r[2]],
            Self::Cylinder { z_mm, .. } => z_mm,
        }
    }
}

/// A named region of the phantom with uniform uptake; later regions overwrite earlier ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    /// Anatomical name.
    pub name: &'static str,
    /// The organ label a reader (and the detector) should give its uptake, if physiological.
    pub organ: Option<Organ>,
    /// Shape.
    pub solid: Solid,
    /// Uptake (SUV).
    pub suv: f64,
}

/// A spherical lesion as simulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LesionSpec {
    /// Site.
    pub site: LesionSite,
    /// Centre (mm).
    pub centre_mm: [f64; 3],
    /// Diameter (mm).
    pub diameter_mm: f64,
    /// Uniform uptake inside the sphere (SUV), before the scanner's blur.
    pub activity_suv: f64,
}

/// Organs and lesions of one phantom.
#[derive(Debug, Clone, PartialEq)]
pub struct Anatomy {
    /// Regions in painting order.
    pub regions: Vec<Region>,
    /// Lesions, painted over the regions.
    pub lesions: Vec<LesionSpec>,
}

/// One lesion site: centre (x, y, h), jitter per axis, diameter range, SUV range.
struct Site(LesionSite, [f64; 3], [f64; 3], [f64; 2], [f64; 2]);

/// Builds the anatomy for `seed`.
pub fn anatomy(seed: u64) -> Anatomy {
    anatomy_with(seed, None)
}

/// Builds the anatomy for `seed`, with the liver's uptake set to `liver_suv` when given
/// (the seeded liver lesions then scale with it). The seeded value is drawn either way,
/// so every other organ and lesion of the seed stays as [`anatomy`] makes it.
pub fn anatomy_with(seed: u64, liver_suv: Option<f64>) -> Anatomy {
    let mut rng = SplitMix64::new(seed, 0xA7A7);
    let soft = rng.range(0.6, 0.9);
    let seeded_liver = rng.range(15.0, 22.0);
    let liver = liver_suv.unwrap_or(seeded_liver);
    let spleen = rng.range(8.0, 14.0);
    let cortex = rng.range(100.0, 140.0);
    let urine = rng.range(40.0, 90.0);
    let e = Solid::ellipsoid;
    let c = Solid::cylinder;
    let r = |name, organ, solid, suv| Region {
        name,
        organ,
        solid,
        suv,
    };
    let regions = vec![
        r(
            "thigh right",
            None,
            c(-85.0, 0.0, [70.0, 70.0], [0.0, 240.0]),
            soft,
        ),
        r(
            "thigh left",
            None,
            c(85.0, 0.0, [70.0, 70.0], [0.0, 240.0]),
            soft,
        ),
        r(
            "trunk",
            None,
            c(0.0, 0.0, [150.0, 105.0], [230.0, 820.0]),
            soft,
        ),
        r(
            "breast right",
            None,
            e(-85.0, -95.0, 660.0, [65.0, 55.0, 60.0]),
            soft,
        ),
        r(
            "breast left",
            None,
            e(85.0, -95.0, 660.0, [65.0, 55.0, 60.0]),
            soft,
        ),
        r(
            "neck",
            None,
            c(0.0, 10.0, [55.0, 55.0], [810.0, 880.0]),
            soft,
        ),
        r("head", None, e(0.0, 0.0, 940.0, [75.0, 90.0, 95.0]), soft),
        r("brain", None, e(0.0, 5.0, 950.0, [65.0, 80.0, 75.0]), 0.4),
        r(
            "lung right",
            None,
            e(-70.0, 5.0, 660.0, [55.0, 70.0, 105.0]),
            0.3,
        ),
        r(
            "lung left",
            None,
            e(70.0, 5.0, 660.0, [55.0, 70.0, 105.0]),
            0.3,
        ),
        r(
            "heart",
            None,
            e(20.0, -25.0, 600.0, [50.0, 45.0, 50.0]),
            2.0,
        ),
        r(
            "spine",
            None,
            c(0.0, 75.0, [17.0, 17.0], [280.0, 820.0]),
            1.2,
        ),
        r(
            "ilium right",
            None,
            e(-105.0, 30.0, 300.0, [28.0, 50.0, 50.0]),
            1.0,
        ),
        r(
            "ilium left",
            None,
            e(105.0, 30.0, 300.0, [28.0, 50.0, 50.0]),
            1.0,
        ),
        r(
            "liver",
            Some(Organ::Liver),
            e(-70.0, -10.0, 520.0, [90.0, 75.0, 70.0]),
            liver,
        ),
        r(
            "spleen",
            Some(Organ::Spleen),
            e(90.0, 20.0, 540.0, [28.0, 40.0, 50.0]),
            spleen,
        ),
        r(
            "kidney right",
            Some(Organ::Kidney),
            e(-65.0, 45.0, 385.0, [28.0, 28.0, 50.0]),
            cortex,
        ),
        r(
            "kidney right medulla",
            Some(Organ::Kidney),
            e(-65.0, 45.0, 385.0, [18.0, 18.0, 38.0]),
            cortex * 0.45,
        ),
        r(
            "kidney left",
            Some(Organ::Kidney),
            e(65.0, 45.0, 400.0, [28.0, 28.0, 50.0]),
            cortex,
        ),
        r(
            "kidney left medulla",
            Some(Organ::Kidney),
            e(65.0, 45.0, 400.0, [18.0, 18.0, 38.0]),
            cortex * 0.45,
        ),
        r(
            "bladder",
            Some(Organ::Bladder),
            e(0.0, -35.0, 270.0, [45.0, 38.0, 35.0]),
            urine,
        ),
    ];
    use LesionSite::*;
    let sites = [
        Site(
            Liver,
            [-95.0, -20.0, 535.0],
            [10.0, 10.0, 10.0],
            [10.0, 30.0],
            [1.5 * liver, 2.6 * liver],
        ),
        Site(
            Liver,
            [-40.0, 15.0, 495.0],
            [8.0, 8.0, 8.0],
            [8.0, 25.0],
            [1.5 * liver, 2.6 * liver],
        ),
        Site(
            Bone,
            [0.0, 75.0, 690.0],
            [0.0, 3.0, 20.0],
            [8.0, 25.0],
            [2.0, 20.0],
        ),
        Site(
            Bone,
            [-110.0, 30.0, 290.0],
            [5.0, 8.0, 8.0],
            [8.0, 30.0],
            [2.0, 20.0],
        ),
        Site(
            Bone,
            [85.0, 0.0, 140.0],
            [5.0, 5.0, 30.0],
            [8.0, 25.0],
            [2.0, 20.0],
        ),
        Site(
            LymphNode,
            [-130.0, -10.0, 745.0],
            [5.0, 8.0, 10.0],
            [8.0, 25.0],
            [2.0, 20.0],
        ),
        Site(
            LymphNode,
            [130.0, -10.0, 745.0],
            [5.0, 8.0, 10.0],
            [8.0, 25.0],
            [2.0, 20.0],
        ),
        Site(
            LymphNode,
            [-5.0, -10.0, 710.0],
            [5.0, 5.0, 10.0],
            [8.0, 20.0],
            [2.0, 20.0],
        ),
        Site(
            LymphNode,
            [5.0, 25.0, 385.0],
            [0.0, 5.0, 15.0],
            [8.0, 20.0],
            [2.0, 20.0],
        ),
        Site(
            Lung,
            [-80.0, 20.0, 690.0],
            [10.0, 10.0, 25.0],
            [8.0, 30.0],
            [2.0, 20.0],
        ),
        Site(
            Lung,
            [80.0, 25.0, 710.0],
            [10.0, 10.0, 25.0],
            [8.0, 30.0],
            [2.0, 20.0],
        ),
        Site(
            Breast,
            [-85.0, -120.0, 660.0],
            [10.0, 5.0, 10.0],
            [8.0, 30.0],
            [2.0, 20.0],
        ),
    ];
    let lesions = sites
        .iter()
        .map(|Site(site, at, jitter, d, suv)| {
            let mut p = [0.0; 3];
            for a in 0..3 {
                p[a] = at[a] + rng.range(-jitter[a], jitter[a]);
            }
            p[2] -= 500.0;
            LesionSpec {
                site: *site,
                centre_mm: p,
                diameter_mm: rng.range(d[0], d[1]),
                activity_suv: rng.range(suv[0], suv[1]),
            }
        })
        .collect();
    Anatomy { regions, lesions }
}

impl Anatomy {
    /// Uptake at point `p` without lesions (0 outside the body).
    pub fn tissue_suv(&self, p: [f64; 3]) -> f64 {
        self.regions
            .iter()
            .rev()
            .find(|r| r.solid.contains(p))
            .map_or(0.0, |r| r.suv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organs_sit_where_the_heuristic_expects_them() {
        let a = anatomy(1);
        let at = |x: f64, y: f64, h: f64| a.tissue_suv([x, y, h - 500.0]);
        assert!(at(-70.0, -10.0, 520.0) >= 15.0); // liver, right
        assert!(at(65.0, 45.0 + 25.0, 400.0) >= 100.0); // left kidney cortex, posterior
        assert!(at(0.0, -35.0, 270.0) >= 40.0); // bladder, low midline
        assert!((0.6..=0.9).contains(&at(0.0, -80.0, 400.0))); // abdominal wall
        assert_eq!(at(200.0, 0.0, 400.0), 0.0); // air
    }

    #[test]
    fn lesions_vary_with_the_seed_within_their_ranges() {
        let (a, b) = (anatomy(1), anatomy(2));
        assert_ne!(a.lesions, b.lesions);
        for l in a.lesions.iter().chain(&b.lesions) {
            assert!((8.0..=30.0).contains(&l.diameter_mm));
            assert!(l.activity_suv >= 2.0);
            if l.site != LesionSite::Liver {
                assert!(l.activity_suv <= 20.0);
            }
        }
    }
}
