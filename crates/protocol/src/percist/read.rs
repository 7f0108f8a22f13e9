//! The reader's read of PET2 ([`assess_read`]): the reader's pairs and new lesions taken
//! as given, nothing proposed.

use std::collections::BTreeSet;

use super::{
    MatchBasis, PercistError, PercistSettings, PetResponse, PetScan, Scan, check_scan,
    check_settings, evaluate,
};

/// The reader's read of PET2: which PET1 lesion each PET2 lesion is, and which PET2
/// lesions are new. PET2 lesions the reader has set aside (not a lesion) are left out of
/// the PET2 scan altogether.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReaderRead {
    /// (PET1 id, PET2 id) pairs: the same lesion on both scans.
    pub pairs: Vec<(String, String)>,
    /// PET2 ids of new lesions.
    pub new_lesions: Vec<String>,
}

/// Assesses the PET response on the reader's read: the pairs are taken as given (basis
/// [`MatchBasis::Reader`]), nothing is proposed, and only the reader's new lesions are
/// new (each one is progression, PERCIST 1.0). A PET2 lesion in neither list is reported
/// as unmatched and is not new. A pair or new lesion naming an unknown lesion, or a lesion
/// used twice, is an error.
pub fn assess_read(
    pet1: &PetScan,
    pet2: &PetScan,
    read: &ReaderRead,
    settings: &PercistSettings,
) -> Result<PetResponse, PercistError> {
    check_settings(settings)?;
    check_scan(pet1, Scan::Pet1)?;
    check_scan(pet2, Scan::Pet2)?;
    let index = |scan: &PetScan, which: Scan, id: &str| {
        scan.lesions
            .iter()
            .position(|l| l.id == id)
            .ok_or_else(|| PercistError::UnknownLesion {
                scan: which,
                id: id.to_owned(),
            })
    };
    let twice = |scan, id: &str| PercistError::DecidedTwice {
        scan,
        id: id.to_owned(),
    };
    let (mut used1, mut used2) = (BTreeSet::new(), BTreeSet::new());
    let mut pairs = Vec::new();
    for (a, b) in &read.pairs {
        let (i, j) = (index(pet1, Scan::Pet1, a)?, index(pet2, Scan::Pet2, b)?);
        if !used1.insert(i) {
            return Err(twice(Scan::Pet1, a));
        }
        if !used2.insert(j) {
            return Err(twice(Scan::Pet2, b));
        }
        pairs.push((i, j, MatchBasis::Reader));
    }
    let mut new = BTreeSet::new();
    for b in &read.new_lesions {
        let j = index(pet2, Scan::Pet2, b)?;
        if !used2.insert(j) {
            return Err(twice(Scan::Pet2, b));
        }
        new.insert(j);
    }
    evaluate(pet1, pet2, &pairs, &new, settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::percist::{MetabolicCategory, PetLesion, assess};

    fn lesion(id: &str, x: f64, suv_max: f64, suv_peak: f64) -> PetLesion {
        PetLesion {
            id: id.into(),
            identity: None,
            centroid_mm: [x, 0.0, 0.0],
            suv_max,
            suv_peak,
        }
    }

    fn scan(lesions: Vec<PetLesion>) -> PetScan {
        PetScan {
            body_centroid_mm: [0.0; 3],
            lesions,
        }
    }

    #[test]
    fn the_readers_read_is_taken_as_given_and_only_its_new_lesions_are_new() {
        let pet1 = scan(vec![lesion("a", 0.0, 10.0, 8.0)]);
        // b sits on a but the reader pairs a with c; d is an unmatched hot spot.
        let pet2 = scan(vec![
            lesion("b", 0.0, 5.0, 4.0),
            lesion("c", 300.0, 6.0, 5.0),
            lesion("d", 600.0, 9.0, 7.0),
        ]);
        let s = PercistSettings::new(6.0, 1.5);
        let mut read = ReaderRead {
            pairs: vec![("a".into(), "c".into())],
            new_lesions: vec![],
        };
        let r = assess_read(&pet1, &pet2, &read, &s).expect("valid");
        assert_eq!(r.matches.len(), 1);
        assert_eq!(r.matches[0].basis, MatchBasis::Reader);
        assert_eq!(r.matches[0].suv_peak_change_pct, Some(-37.5));
        assert_eq!(r.unmatched_pet2, ["b", "d"]);
        assert!(r.new_lesions.is_empty());
        // 8 → 7 (d is hottest): stable, although d alone would be "new" in a proposal.
        assert_eq!(r.category, MetabolicCategory::StableMetabolicDisease);
        assert_eq!(
            assess(&pet1, &pet2, &s).expect("valid").new_avid_lesions,
            ["c", "d"]
        );
        read.new_lesions.push("b".into());
        let r = assess_read(&pet1, &pet2, &read, &s).expect("valid");
        assert_eq!(r.new_lesions, ["b"]);
        assert!(r.new_avid_lesions.is_empty(), "b is not avid, yet new");
        assert_eq!(r.category, MetabolicCategory::ProgressiveMetabolicDisease);
    }

    #[test]
    fn a_read_naming_an_unknown_lesion_or_one_twice_is_an_error() {
        let pet1 = scan(vec![lesion("a", 0.0, 10.0, 8.0)]);
        let pet2 = scan(vec![lesion("b", 0.0, 5.0, 4.0)]);
        let s = PercistSettings::new(6.0, 1.5);
        let read = |pairs: &[(&str, &str)], new: &[&str]| ReaderRead {
            pairs: pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            new_lesions: new.iter().map(|b| b.to_string()).collect(),
        };
        assert!(matches!(
            assess_read(&pet1, &pet2, &read(&[("x", "b")], &[]), &s),
            Err(PercistError::UnknownLesion {
                scan: Scan::Pet1,
                ..
            })
        ));
        assert!(matches!(
            assess_read(&pet1, &pet2, &read(&[], &["z"]), &s),
            Err(PercistError::UnknownLesion {
                scan: Scan::Pet2,
                ..
            })
        ));
        assert!(matches!(
            assess_read(&pet1, &pet2, &read(&[("a", "b")], &["b"]), &s),
            Err(PercistError::DecidedTwice {
                scan: Scan::Pet2,
                ..
            })
        ));
    }
}
