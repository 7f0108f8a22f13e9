//! Where a frame of an Enhanced PET Image (PS3.3 A.56) keeps what the SUV needs.
//!
//! The patient, the series and the radiopharmaceutical stay at the top level, as in a PET
//! Image, and [`SuvHeader::read`] reads them there. What differs:
//!
//! | SUV input | PET Image | Enhanced PET Image |
//! |---|---|---|
//! | units of the rescaled values | Units (0054,1001) | MeasurementUnitsCodeSequence (0040,08EA) of the frame's Real World Value Mapping (C.7.6.16.2.11; mandatory, CID 84 "PET Units", UCUM codes) |
//! | decay correction | DecayCorrection (0054,1102): START, ADMIN, NONE | DecayCorrected (0018,9758) YES/NO and DecayCorrectionDateTime (0018,9701), Enhanced PET Corrections Module (C.8.22.6) |
//! | corrections applied | CorrectedImage (0028,0051) | AttenuationCorrected (0018,9759), DecayCorrected (0018,9758) |
//! | injected dose | RadionuclideTotalDose (0018,1074) in Bq | the same attribute in MBq (Enhanced PET Isotope Module, C.8.22.4) |
//! | acquisition start | AcquisitionDate, AcquisitionTime (0008,0022/0032) | the frame's FrameAcquisitionDateTime (0018,9074), else AcquisitionDateTime (0008,002A) |
//! | frame timing | FrameReferenceTime (0054,1300), ms after the series time; ActualFrameDuration (0018,1242) | FrameReferenceDateTime (0018,9151); FrameAcquisitionDuration (0018,9220), ms |
//!
//! A PET Image attribute found in an enhanced file (a converter may keep Units,
//! DecayCorrection or CorrectedImage at the top level) is read first; the enhanced one fills
//! what it leaves absent. DecayCorrected YES reads as DecayCorrection ADMIN when
//! DecayCorrectionDateTime is the injection and START otherwise, the dose then decayed to
//! DecayCorrectionDateTime itself ([`crate::suv::ScanTimeRule::DecayCorrectionTime`]); NO
//! reads as NONE. YES without DecayCorrectionDateTime leaves DecayCorrection unknown, and
//! the SUV is refused.

use super::header::{SuvHeader, keep};
use crate::error::ErrorKind;
use crate::series::attr::{self, Attr, AttrSource, attr};

const ACQUISITION_DATETIME: Attr = attr("AcquisitionDateTime", 0x0008, 0x002A);
const ATTENUATION_CORRECTED: Attr = attr("AttenuationCorrected", 0x0018, 0x9759);
const DECAY_CORRECTED: Attr = attr("DecayCorrected", 0x0018, 0x9758);
const DECAY_CORRECTION_DATETIME: Attr = attr("DecayCorrectionDateTime", 0x0018, 0x9701);
const FRAME_ACQUISITION_DATETIME: Attr = attr("FrameAcquisitionDateTime", 0x0018, 0x9074);
const FRAME_REFERENCE_DATETIME: Attr = attr("FrameReferenceDateTime", 0x0018, 0x9151);
const FRAME_ACQUISITION_DURATION: Attr = attr("FrameAcquisitionDuration", 0x0018, 0x9220);
const REAL_WORLD_VALUE_MAPPING: Attr = attr("RealWorldValueMappingSequence", 0x0040, 0x9096);
const REAL_WORLD_VALUE_SLOPE: Attr = attr("RealWorldValueSlope", 0x0040, 0x9225);
const REAL_WORLD_VALUE_INTERCEPT: Attr = attr("RealWorldValueIntercept", 0x0040, 0x9224);
const MEASUREMENT_UNITS: Attr = attr("MeasurementUnitsCodeSequence", 0x0040, 0x08EA);
const CODE_VALUE: Attr = attr("CodeValue", 0x0008, 0x0100);
const CODING_SCHEME: Attr = attr("CodingSchemeDesignator", 0x0008, 0x0102);

/// Units (0054,1001) codes that a RescaleType (0028,1054) may carry in their place.
const PET_IMAGE_UNITS: [&str; 4] = ["BQML", "CNTS", "GML", "CM2ML"];

impl SuvHeader {
    /// The SUV attributes of an Enhanced PET image, before those of its frames: the PET
    /// Image attributes where present, then the image-level enhanced ones.
    pub fn read_enhanced<D: AttrSource + ?Sized>(obj: &D) -> Self {
        let mut h = Self::read(obj);
        let mut notes = std::mem::take(&mut h.unreadable);
        h.total_dose_in_mbq = true;
        h.attenuation_corrected = keep(&mut notes, yes_no(obj, ATTENUATION_CORRECTED));
        h.decay_corrected = keep(&mut notes, yes_no(obj, DECAY_CORRECTED));
        h.decay_correction_datetime =
            keep(&mut notes, attr::datetime(obj, DECAY_CORRECTION_DATETIME));
        if h.acquisition_datetime.is_none() {
            h.acquisition_datetime = keep(&mut notes, attr::datetime(obj, ACQUISITION_DATETIME));
        }
        if h.decay_correction.is_none() {
            h.decay_correction = match (h.decay_corrected, h.decay_correction_datetime) {
                (Some(false), _) => Some("NONE".into()),
                (Some(true), Some(to)) if Some(to) == h.injection_datetime => Some("ADMIN".into()),
                (Some(true), Some(_)) => Some("START".into()),
                (Some(true), None) | (None, _) => None,
            };
        }
        h.unreadable = notes;
        h
    }

    /// The SUV attributes of a frame of an Enhanced PET image whose own are `self`:
    /// its timing from `content` (its FrameContentSequence item) and, when the image has no
    /// Units (0054,1001), the units of its Real World Value Mapping items `mappings`, from
    /// the item that maps stored values as the frame's `rescale` (slope, intercept) does, or
    /// else its `rescale_type` when that is a PET Image unit.
    pub(crate) fn for_frame<I: AttrSource<Item = I>>(
        &self,
        content: Option<&I>,
        mappings: &[I],
        rescale: (f64, f64),
        rescale_type: Option<&str>,
    ) -> Self {
        let mut h = self.clone();
        let mut notes = Vec::new();
        if let Some(c) = content {
            if let Some(t) = keep(&mut notes, attr::datetime(c, FRAME_ACQUISITION_DATETIME)) {
                h.acquisition_datetime = Some(t);
            }
            h.frame_reference_datetime =
                keep(&mut notes, attr::datetime(c, FRAME_REFERENCE_DATETIME));
            if h.actual_frame_duration_ms.is_none() {
                h.actual_frame_duration_ms =
                    keep(&mut notes, attr::number(c, FRAME_ACQUISITION_DURATION));
            }
        }
        if h.units.is_none() {
            let mapped = keep(&mut notes, mapped_units(mappings, rescale)).or_else(|| {
                rescale_type
                    .filter(|t| PET_IMAGE_UNITS.contains(t))
                    .map(|t| (t.to_string(), None))
            });
            if let Some((units, suv_type)) = mapped {
                h.units = Some(units);
                if h.suv_type.is_none() {
                    h.suv_type = suv_type.map(str::to_string);
                }
            }
        }
        h.unreadable.extend(notes);
        h
    }
}

/// YES or NO, as `true` or `false`.
fn yes_no<D: AttrSource + ?Sized>(obj: &D, a: Attr) -> Result<Option<bool>, ErrorKind> {
    match attr::text(obj, a)?.as_deref() {
        None => Ok(None),
        Some("YES") => Ok(Some(true)),
        Some("NO") => Ok(Some(false)),
        Some(other) => Err(ErrorKind::BadTag {
            tag: a.to_string(),
            problem: format!("{other:?} is not YES or NO"),
        }),
    }
}

/// The units (as Units and SUVType spell them) of the first mapping whose linear slope and
/// intercept are `rescale`: its values are then the rescaled values. `None` when no item
/// has units; an error when the items map stored values otherwise than the rescale does,
/// so that their units are not those of the rescaled values.
fn mapped_units<I: AttrSource<Item = I>>(
    mappings: &[I],
    rescale: (f64, f64),
) -> Result<Option<(String, Option<&'static str>)>, ErrorKind> {
    let mut other_mapping = false;
    for mapping in mappings {
        let slope = attr::number(mapping, REAL_WORLD_VALUE_SLOPE)?;
        let intercept = attr::number(mapping, REAL_WORLD_VALUE_INTERCEPT)?;
        let (Some(slope), Some(intercept)) = (slope, intercept) else {
            // A lookup table, not a linear mapping.
            other_mapping = true;
            continue;
        };
        if !same(slope, rescale.0) || !same(intercept, rescale.1) {
            other_mapping = true;
            continue;
        }
        let Some(code) = attr::items(mapping, MEASUREMENT_UNITS)?.first() else {
            continue;
        };
        let value = attr::text_req(code, CODE_VALUE)?;
        let scheme = attr::text(code, CODING_SCHEME)?;
        return Ok(Some(pet_units(&value, scheme.as_deref())));
    }
    if other_mapping {
        return Err(ErrorKind::BadTag {
            tag: REAL_WORLD_VALUE_MAPPING.to_string(),
            problem: format!(
                "no item maps stored values with the frame's RescaleSlope {} and \
                 RescaleIntercept {}: its units are not those of the rescaled values",
                rescale.0, rescale.1
            ),
        });
    }
    Ok(None)
}

/// Equal but for the rounding of a decimal string (DS, 16 characters) against a double (FD).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + f64::MIN_POSITIVE
}

/// A unit of CID 84 "PET Units" (with CID 85 "SUV Units"), UCUM, as a PET Image's Units
/// (0054,1001) and SUVType (0054,1006) spell it; any other unit keeps its code, which the
/// SUV calculation then refuses by name.
fn pet_units(code: &str, scheme: Option<&str>) -> (String, Option<&'static str>) {
    let known = match (scheme, code) {
        (Some("UCUM"), "Bq/ml") => Some(("BQML", None)),
        (Some("UCUM"), "{counts}") => Some(("CNTS", None)),
        (Some("UCUM"), "g/ml{SUVbw}") => Some(("GML", Some("BW"))),
        (Some("UCUM"), "g/ml{SUVlbm}") => Some(("GML", Some("LBM"))),
        (Some("UCUM"), "g/ml{SUVlbm(James128)}") => Some(("GML", Some("LBMJAMES128"))),
        (Some("UCUM"), "g/ml{SUVlbm(Janma)}") => Some(("GML", Some("LBMJANMA"))),
        (Some("UCUM"), "g/ml{SUVibw}") => Some(("GML", Some("IBW"))),
        (Some("UCUM"), "cm2/ml{SUVbsa}") => Some(("CM2ML", Some("BSA"))),
        _ => None,
    };
    match known {
        Some((units, suv_type)) => (units.to_string(), suv_type),
        None => (
            format!("{code} ({})", scheme.unwrap_or("no coding scheme")),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_object::InMemDicomObject;

    fn text(tag: Attr, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
        DataElement::new(tag.tag, vr, PrimitiveValue::from(value))
    }

    fn float(tag: Attr, value: f64) -> DataElement<InMemDicomObject> {
        DataElement::new(tag.tag, VR::FD, PrimitiveValue::from(value))
    }

    /// A Real World Value Mapping item with a linear mapping in UCUM `unit`.
    fn mapping(slope: f64, intercept: f64, unit: &str) -> InMemDicomObject {
        let code = InMemDicomObject::from_element_iter([
            text(CODE_VALUE, VR::SH, unit),
            text(CODING_SCHEME, VR::SH, "UCUM"),
        ]);
        InMemDicomObject::from_element_iter([
            float(REAL_WORLD_VALUE_INTERCEPT, intercept),
            float(REAL_WORLD_VALUE_SLOPE, slope),
            DataElement::new(
                MEASUREMENT_UNITS.tag,
                VR::SQ,
                DataSetSequence::from(vec![code]),
            ),
        ])
    }

    #[test]
    fn units_come_from_the_mapping_that_is_the_rescale() {
        let none: &[InMemDicomObject] = &[];
        let maps = [mapping(2.0, 0.0, "{counts}"), mapping(0.5, 0.0, "Bq/ml")];
        assert_eq!(
            mapped_units(&maps, (0.5, 0.0)),
            Ok(Some(("BQML".to_string(), None)))
        );
        let suv = [mapping(0.001, 0.0, "g/ml{SUVlbm(Janma)}")];
        assert_eq!(
            mapped_units(&suv, (0.001, 0.0)),
            Ok(Some(("GML".to_string(), Some("LBMJANMA"))))
        );
        assert_eq!(mapped_units(none, (1.0, 0.0)), Ok(None));
        // A mapping of its own (slope 2 where the rescale is 0.5): its units are not the
        // rescaled values' units.
        let err = mapped_units(&maps[..1], (0.5, 0.0)).unwrap_err();
        assert!(
            err.to_string()
                .contains("RealWorldValueMappingSequence (0040,9096)")
        );
        let odd = [mapping(0.5, 0.0, "%")];
        assert_eq!(
            mapped_units(&odd, (0.5, 0.0)),
            Ok(Some(("% (UCUM)".to_string(), None)))
        );
    }

    #[test]
    fn decay_corrected_to_the_injection_is_admin_to_another_time_start() {
        let image = |corrected: &str, to: &str| {
            let isotope = InMemDicomObject::from_element_iter([text(
                attr("RadiopharmaceuticalStartDateTime", 0x0018, 0x1078),
                VR::DT,
                "20260302090000",
            )]);
            let mut elements = vec![
                text(DECAY_CORRECTED, VR::CS, corrected),
                DataElement::new(
                    super::super::header::RADIOPHARMACEUTICAL_SEQ.tag,
                    VR::SQ,
                    DataSetSequence::from(vec![isotope]),
                ),
            ];
            if !to.is_empty() {
                elements.push(text(DECAY_CORRECTION_DATETIME, VR::DT, to));
            }
            SuvHeader::read_enhanced(&InMemDicomObject::from_element_iter(elements))
        };
        let admin = image("YES", "20260302090000");
        assert_eq!(admin.decay_correction.as_deref(), Some("ADMIN"));
        let start = image("YES", "20260302110000");
        assert_eq!(start.decay_correction.as_deref(), Some("START"));
        assert_eq!(
            start.decay_correction_datetime.map(|t| t.to_string()),
            Some("2026-03-02 11:00:00".to_string())
        );
        assert!(start.total_dose_in_mbq);
        assert_eq!(image("NO", "").decay_correction.as_deref(), Some("NONE"));
        assert_eq!(image("YES", "").decay_correction, None);
        assert_eq!(image("MAYBE", "").decay_corrected, None);
        assert!(image("MAYBE", "").unreadable[0].contains("DecayCorrected (0018,9758)"));
    }
}
