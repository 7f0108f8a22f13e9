//! Lengths in tenths of a millimetre, and the exact comparisons RECIST makes on them.
//!
//! RECIST thresholds are percentages of sums of diameters (RECIST 1.1 §4.3.1). Done in
//! floating point, `70.0 / 100.0` is not exactly `0.7` and a sum that is exactly 30 % below
//! baseline could miss partial response. Diameters are therefore held as whole tenths of a
//! millimetre (the precision readers report) and every threshold is a comparison of
//! integers.

use std::fmt;

/// The largest diameter accepted, in millimetres: no human lesion is a metre across, so a
/// larger value is a typing error (for example centimetres entered as micrometres).
pub const MAX_DIAMETER_MM: f64 = 1000.0;

/// A length (a diameter or a sum of diameters) in whole tenths of a millimetre.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tenths(u32);

/// Why a number cannot be a diameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LengthError {
    /// NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    /// Below zero.
    #[error("{0} mm is negative")]
    Negative(f64),
    /// Above [`MAX_DIAMETER_MM`].
    #[error("{0} mm is larger than {MAX_DIAMETER_MM} mm")]
    TooLarge(f64),
}

impl Tenths {
    /// Zero length (a lesion that disappeared, RECIST 1.1 §4.3.2).
    pub const ZERO: Tenths = Tenths(0);

    /// A length of `tenths` tenths of a millimetre.
    pub const fn from_tenths(tenths: u32) -> Self {
        Tenths(tenths)
    }

    /// A length from millimetres, rounded to the nearest tenth of a millimetre.
    pub fn from_mm(mm: f64) -> Result<Self, LengthError> {
        if !mm.is_finite() {
            return Err(LengthError::NotFinite(mm));
        }
        if mm < 0.0 {
            return Err(LengthError::Negative(mm));
        }
        if mm > MAX_DIAMETER_MM {
            return Err(LengthError::TooLarge(mm));
        }
        // In range 0..=10_000 after scaling, so the conversion is exact.
        Ok(Tenths((mm * 10.0).round() as u32))
    }

    /// The length in tenths of a millimetre.
    pub const fn tenths(self) -> u32 {
        self.0
    }

    /// The length in millimetres.
    pub fn mm(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// The sum of two lengths (saturating: sums of at most five lesions stay far below
    /// the limit).
    pub const fn plus(self, other: Tenths) -> Tenths {
        Tenths(self.0.saturating_add(other.0))
    }
}

impl fmt::Display for Tenths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{} mm", self.0 / 10, self.0 % 10)
    }
}

impl std::iter::Sum for Tenths {
    fn sum<I: Iterator<Item = Tenths>>(iter: I) -> Self {
        iter.fold(Tenths::ZERO, Tenths::plus)
    }
}

/// Partial response threshold: the sum is at least 30 % below the baseline sum
/// (RECIST 1.1 §4.3.1), i.e. `sum ≤ 0.7 × baseline`, compared as `10 × sum ≤ 7 × baseline`.
pub fn is_partial_response(sum: Tenths, baseline: Tenths) -> bool {
    10 * u64::from(sum.0) <= 7 * u64::from(baseline.0)
}

/// Progression threshold on the sum: at least 20 % above the nadir **and** at least 5 mm
/// above it in absolute terms (RECIST 1.1 §4.3.1), compared as `10 × sum ≥ 12 × nadir` and
/// `sum − nadir ≥ 50 tenths`.
pub fn is_progression(sum: Tenths, nadir: Tenths) -> bool {
    let (sum, nadir) = (u64::from(sum.0), u64::from(nadir.0));
    10 * sum >= 12 * nadir && sum >= nadir + 50
}

/// Percentage change from `reference` to `value`, rounded half away from zero to one
/// decimal; `None` when the reference is zero (a change from nothing has no percentage).
pub fn percent_change(reference: Tenths, value: Tenths) -> Option<f64> {
    if reference.0 == 0 {
        return None;
    }
    let den = i64::from(reference.0);
    // Change in thousandths of the reference, i.e. tenths of a percent.
    let num = 1000 * (i64::from(value.0) - den);
    let rounded = if num >= 0 {
        (2 * num + den) / (2 * den)
    } else {
        -((-2 * num + den) / (2 * den))
    };
    Some(rounded as f64 / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millimetres_round_to_tenths() {
        assert_eq!(Tenths::from_mm(12.34), Ok(Tenths::from_tenths(123)));
        assert_eq!(Tenths::from_mm(12.35), Ok(Tenths::from_tenths(124)));
        assert_eq!(Tenths::from_mm(0.0), Ok(Tenths::ZERO));
        assert!(matches!(
            Tenths::from_mm(-1.0),
            Err(LengthError::Negative(_))
        ));
        assert!(matches!(
            Tenths::from_mm(f64::NAN),
            Err(LengthError::NotFinite(_))
        ));
        assert!(matches!(
            Tenths::from_mm(1000.1),
            Err(LengthError::TooLarge(_))
        ));
    }

    #[test]
    fn thirty_percent_below_is_exact() {
        let base = Tenths::from_tenths(1000);
        assert!(is_partial_response(Tenths::from_tenths(700), base));
        assert!(!is_partial_response(Tenths::from_tenths(701), base));
    }

    #[test]
    fn progression_needs_both_relative_and_absolute_growth() {
        // +20 % and +4 mm: not PD; +20 % and +5 mm: PD; +25 mm but +19.9 %: not PD.
        assert!(!is_progression(
            Tenths::from_tenths(240),
            Tenths::from_tenths(200)
        ));
        assert!(is_progression(
            Tenths::from_tenths(300),
            Tenths::from_tenths(250)
        ));
        assert!(!is_progression(
            Tenths::from_tenths(1499),
            Tenths::from_tenths(1250)
        ));
        // From a nadir of zero any 5 mm is progression.
        assert!(is_progression(Tenths::from_tenths(50), Tenths::ZERO));
        assert!(!is_progression(Tenths::from_tenths(49), Tenths::ZERO));
    }

    #[test]
    fn percent_change_rounds_to_one_decimal() {
        let base = Tenths::from_tenths(300);
        assert_eq!(percent_change(base, Tenths::from_tenths(210)), Some(-30.0));
        assert_eq!(percent_change(base, Tenths::from_tenths(200)), Some(-33.3));
        assert_eq!(percent_change(base, Tenths::from_tenths(401)), Some(33.7));
        assert_eq!(percent_change(Tenths::ZERO, base), None);
    }

    #[test]
    fn displays_in_millimetres() {
        assert_eq!(Tenths::from_tenths(315).to_string(), "31.5 mm");
    }
}
