//! Body-size normalisers of the SUV kinds: the quantity the activity is divided by the dose
//! and multiplied with. Masses are returned in grams, the body surface area in cm², so that
//! `SUV = C [Bq/mL] × normaliser / dose [Bq]` is in g/mL or cm²/mL.

use serde::Serialize;

/// The SUV normalisation (PS3.3 C.8.9.1.1.3 SUV Type; QIBA SUV profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuvType {
    /// Body weight (the protocol's default, PROTOCOL.md §6).
    #[default]
    Bw,
    /// SUL: lean body mass by Janmahasatian et al. 2005 (PERCIST).
    Sul,
    /// Lean body mass by James 1976 (DICOM `LBMJAMES128`).
    Lbm,
    /// Body surface area by Du Bois & Du Bois 1916.
    Bsa,
    /// Ideal body weight.
    Ibw,
}

impl SuvType {
    /// Parses the command-line spelling: `bw`, `sul`, `lbm`, `bsa`, `ibw`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "bw" => Some(Self::Bw),
            "sul" => Some(Self::Sul),
            "lbm" => Some(Self::Lbm),
            "bsa" => Some(Self::Bsa),
            "ibw" => Some(Self::Ibw),
            _ => None,
        }
    }

    /// The kind a DICOM SUVType (0054,1006) value names, if known.
    pub fn from_dicom(s: &str) -> Option<Self> {
        match s {
            "BW" => Some(Self::Bw),
            "LBM" | "LBMJAMES128" => Some(Self::Lbm),
            "LBMJANMA" => Some(Self::Sul),
            "BSA" => Some(Self::Bsa),
            "IBW" => Some(Self::Ibw),
            _ => None,
        }
    }

    /// Label with unit, e.g. `SUVbw (g/mL)`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Bw => "SUVbw (g/mL)",
            Self::Sul => "SUL, Janmahasatian LBM (g/mL)",
            Self::Lbm => "SUVlbm, James (g/mL)",
            Self::Bsa => "SUVbsa, Du Bois (cm²/mL)",
            Self::Ibw => "SUVibw (g/mL)",
        }
    }
}

/// Sex as it enters the body-size formulas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// `M`.
    Male,
    /// `F`.
    Female,
    /// `O`, absent or unknown: the mean of the male and female formulas is used.
    Unknown,
}

/// The body measurements of the header.
#[derive(Debug, Clone, Copy)]
pub struct Body {
    /// PatientWeight (0010,1030), kg.
    pub weight_kg: Option<f64>,
    /// PatientSize (0010,1020), m.
    pub height_m: Option<f64>,
    /// PatientSex (0010,0040).
    pub sex: Sex,
}

impl Body {
    fn weight(&self) -> Result<f64, String> {
        match self.weight_kg {
            Some(w) if w > 0.0 && w < 700.0 => Ok(w),
            Some(w) => Err(format!(
                "PatientWeight (0010,1030) {w} kg is not a body weight"
            )),
            None => Err("PatientWeight (0010,1030) missing".into()),
        }
    }

    fn height_cm(&self, kind: SuvType) -> Result<f64, String> {
        match self.height_m {
            Some(h) if h > 0.3 && h < 3.0 => Ok(h * 100.0),
            Some(h) => Err(format!(
                "PatientSize (0010,1020) {h} m is not a height in metres (needed for {})",
                kind.label()
            )),
            None => Err(format!(
                "PatientSize (0010,1020) missing (needed for {})",
                kind.label()
            )),
        }
    }

    /// Applies a sex-specific formula; `Unknown` takes the mean of both (the convention the
    /// IBSI SUV reference object DRO_2_2 encodes for PatientSex `O`).
    fn by_sex(&self, male: f64, female: f64) -> f64 {
        match self.sex {
            Sex::Male => male,
            Sex::Female => female,
            Sex::Unknown => 0.5 * (male + female),
        }
    }

    /// The normaliser of `kind`: grams for masses, cm² for the body surface area.
    pub fn normaliser(&self, kind: SuvType) -> Result<f64, String> {
        let w = self.weight()?;
        let value = match kind {
            SuvType::Bw => w,
            SuvType::Lbm => {
                // James 1976, as in DICOM LBMJAMES128: H in cm.
                let h = self.height_cm(kind)?;
                let r = w / h;
                self.by_sex(1.10 * w - 128.0 * r * r, 1.07 * w - 148.0 * r * r)
            }
            SuvType::Sul => {
                // Janmahasatian et al., Clin Pharmacokinet 2005; BMI in kg/m².
                let h_m = self.height_cm(kind)? / 100.0;
                let bmi = w / (h_m * h_m);
                self.by_sex(
                    9270.0 * w / (6680.0 + 216.0 * bmi),
                    9270.0 * w / (8780.0 + 244.0 * bmi),
                )
            }
            SuvType::Ibw => {
                // IBW as in the IBSI SUV reference: 48.0 + 1.06 (H − 152) for men,
                // 45.5 + 0.91 (H − 152) for women, H in cm.
                let h = self.height_cm(kind)?;
                self.by_sex(48.0 + 1.06 * (h - 152.0), 45.5 + 0.91 * (h - 152.0))
            }
            SuvType::Bsa => {
                // Du Bois & Du Bois 1916: m² from kg and cm; returned in cm².
                let h = self.height_cm(kind)?;
                return Ok(0.007184 * w.powf(0.425) * h.powf(0.725) * 1.0e4);
            }
        };
        if value <= 0.0 {
            return Err(format!(
                "{} gives a non-positive mass ({value:.1} kg) for this weight and height",
                kind.label()
            ));
        }
        Ok(value * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(sex: Sex) -> Body {
        Body {
            weight_kg: Some(70.0),
            height_m: Some(1.75),
            sex,
        }
    }

    #[test]
    fn normalisers_for_a_70_kg_175_cm_body() {
        let m = body(Sex::Male);
        assert!((m.normaliser(SuvType::Bw).unwrap() - 70_000.0).abs() < 1e-9);
        // James: 1.10 × 70 − 128 × (70/175)² = 56.52 kg.
        assert!((m.normaliser(SuvType::Lbm).unwrap() - 56_520.0).abs() < 1e-6);
        // Du Bois: 0.007184 × 70^0.425 × 175^0.725 ≈ 1.8478 m².
        let bsa = m.normaliser(SuvType::Bsa).unwrap();
        assert!((bsa - 18_478.0).abs() < 5.0, "{bsa}");
        // IBW, sex unknown: mean of 72.38 and 66.43 kg.
        let ibw = body(Sex::Unknown).normaliser(SuvType::Ibw).unwrap();
        assert!((ibw - 69_405.0).abs() < 1e-6, "{ibw}");
        // Janmahasatian, female: 9270 × 70 / (8780 + 244 × 22.857) ≈ 45.20 kg.
        let sul = body(Sex::Female).normaliser(SuvType::Sul).unwrap();
        assert!((sul - 45_198.0).abs() < 5.0, "{sul}");
    }

    #[test]
    fn height_in_centimetres_is_refused_for_lbm() {
        let b = Body {
            weight_kg: Some(70.0),
            height_m: Some(175.0),
            sex: Sex::Female,
        };
        assert!(
            b.normaliser(SuvType::Lbm)
                .unwrap_err()
                .contains("PatientSize")
        );
        assert!(b.normaliser(SuvType::Bw).is_ok());
    }
}
