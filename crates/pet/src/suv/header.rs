//! The attributes of one PET image that the SUV calculation reads (QIBA pseudo-code inputs).
//! A frame of an Enhanced PET image finds them elsewhere: see [`SuvHeader::read_enhanced`]
//! (and, for each frame, `SuvHeader::for_frame`).
//!
//! Reading never fails: an attribute that is present but malformed is recorded in
//! [`SuvHeader::unreadable`] and treated as absent, so the SUV step can refuse with a reason
//! that names it, while the image itself is still loaded.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

use crate::error::ErrorKind;
use crate::series::attr::{self, Attr, AttrSource, attr};

/// Units (0054,1001).
pub const UNITS: Attr = attr("Units", 0x0054, 0x1001);
/// SUVType (0054,1006).
pub const SUV_TYPE: Attr = attr("SUVType", 0x0054, 0x1006);
/// DecayCorrection (0054,1102).
pub const DECAY_CORRECTION: Attr = attr("DecayCorrection", 0x0054, 0x1102);
/// CorrectedImage (0028,0051).
pub const CORRECTED_IMAGE: Attr = attr("CorrectedImage", 0x0028, 0x0051);
/// SeriesDate (0008,0021).
pub const SERIES_DATE: Attr = attr("SeriesDate", 0x0008, 0x0021);
/// SeriesTime (0008,0031).
pub const SERIES_TIME: Attr = attr("SeriesTime", 0x0008, 0x0031);
/// AcquisitionDate (0008,0022).
pub const ACQUISITION_DATE: Attr = attr("AcquisitionDate", 0x0008, 0x0022);
/// AcquisitionTime (0008,0032).
pub const ACQUISITION_TIME: Attr = attr("AcquisitionTime", 0x0008, 0x0032);
/// FrameReferenceTime (0054,1300), milliseconds.
pub const FRAME_REFERENCE_TIME: Attr = attr("FrameReferenceTime", 0x0054, 0x1300);
/// ActualFrameDuration (0018,1242), milliseconds.
pub const ACTUAL_FRAME_DURATION: Attr = attr("ActualFrameDuration", 0x0018, 0x1242);
/// GE private scan date-time (0009,100D), creator `GEMS_PETD_01`.
pub const GE_SCAN_DATETIME: Attr = attr("GE private scan DateTime", 0x0009, 0x100D);
/// Philips private SUV scale factor (7053,1000).
pub const PHILIPS_SUV_FACTOR: Attr = attr("Philips private SUV scale factor", 0x7053, 0x1000);
/// Philips private activity concentration scale factor (7053,1009).
pub const PHILIPS_ACTIVITY_FACTOR: Attr =
    attr("Philips private activity scale factor", 0x7053, 0x1009);
/// PatientWeight (0010,1030), kg.
pub const PATIENT_WEIGHT: Attr = attr("PatientWeight", 0x0010, 0x1030);
/// PatientSize (0010,1020), m.
pub const PATIENT_SIZE: Attr = attr("PatientSize", 0x0010, 0x1020);
/// PatientSex (0010,0040).
pub const PATIENT_SEX: Attr = attr("PatientSex", 0x0010, 0x0040);
/// Manufacturer (0008,0070).
pub const MANUFACTURER: Attr = attr("Manufacturer", 0x0008, 0x0070);
/// RadiopharmaceuticalInformationSequence (0054,0016).
pub const RADIOPHARMACEUTICAL_SEQ: Attr =
    attr("RadiopharmaceuticalInformationSequence", 0x0054, 0x0016);
/// RadiopharmaceuticalStartTime (0018,1072).
pub const RP_START_TIME: Attr = attr("RadiopharmaceuticalStartTime", 0x0018, 0x1072);
/// RadiopharmaceuticalStartDateTime (0018,1078).
pub const RP_START_DATETIME: Attr = attr("RadiopharmaceuticalStartDateTime", 0x0018, 0x1078);
/// RadionuclideTotalDose (0018,1074), Bq.
pub const TOTAL_DOSE: Attr = attr("RadionuclideTotalDose", 0x0018, 0x1074);
/// RadionuclideHalfLife (0018,1075), s.
pub const HALF_LIFE: Attr = attr("RadionuclideHalfLife", 0x0018, 0x1075);

/// SUV-related attributes of one image, as found (absent or unreadable → `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SuvHeader {
    /// Units (0054,1001), e.g. `BQML`.
    pub units: Option<String>,
    /// SUVType (0054,1006), e.g. `BW`, `LBMJAMES128`.
    pub suv_type: Option<String>,
    /// DecayCorrection (0054,1102): `START`, `ADMIN` or `NONE`.
    pub decay_correction: Option<String>,
    /// CorrectedImage (0028,0051) values.
    pub corrected_image: Option<Vec<String>>,
    /// SeriesDate + SeriesTime.
    pub series_datetime: Option<NaiveDateTime>,
    /// SeriesDate alone (the injection date when only a start time is known).
    pub series_date: Option<NaiveDate>,
    /// AcquisitionDate + AcquisitionTime of this image.
    pub acquisition_datetime: Option<NaiveDateTime>,
    /// FrameReferenceTime (0054,1300), ms.
    pub frame_reference_time_ms: Option<f64>,
    /// ActualFrameDuration (0018,1242), ms.
    pub actual_frame_duration_ms: Option<f64>,
    /// GE private scan date-time (0009,100D).
    pub ge_scan_datetime: Option<NaiveDateTime>,
    /// Philips private SUV scale factor (7053,1000).
    pub philips_suv_factor: Option<f64>,
    /// Philips private activity scale factor (7053,1009).
    pub philips_activity_factor: Option<f64>,
    /// PatientWeight (0010,1030), kg.
    pub weight_kg: Option<f64>,
    /// PatientSize (0010,1020), m.
    pub height_m: Option<f64>,
    /// PatientSex (0010,0040): `M`, `F` or `O`.
    pub sex: Option<String>,
    /// Manufacturer (0008,0070).
    pub manufacturer: Option<String>,
    /// RadiopharmaceuticalStartDateTime (0018,1078).
    pub injection_datetime: Option<NaiveDateTime>,
    /// RadiopharmaceuticalStartTime (0018,1072).
    pub injection_time: Option<NaiveTime>,
    /// RadionuclideTotalDose (0018,1074) as written: Bq in a PET Image (PS3.3 C.8.9.2), MBq
    /// in an Enhanced PET Image (C.8.22.4; see `total_dose_in_mbq`).
    pub total_dose: Option<f64>,
    /// Whether `total_dose` is written in MBq, as the Enhanced PET Isotope Module writes it.
    pub total_dose_in_mbq: bool,
    /// RadionuclideHalfLife (0018,1075), s.
    pub half_life_s: Option<f64>,
    /// AttenuationCorrected (0018,9759) of an Enhanced PET image: its CorrectedImage ATTN.
    pub attenuation_corrected: Option<bool>,
    /// DecayCorrected (0018,9758) of an Enhanced PET image: its CorrectedImage DECY.
    pub decay_corrected: Option<bool>,
    /// DecayCorrectionDateTime (0018,9701): the time an Enhanced PET image's pixel values
    /// are decay-corrected to.
    pub decay_correction_datetime: Option<NaiveDateTime>,
    /// FrameReferenceDateTime (0018,9151) of an enhanced frame: when its pixel values
    /// occurred (the enhanced form of FrameReferenceTime).
    pub frame_reference_datetime: Option<NaiveDateTime>,
    /// Attributes present but unusable, with the reason; treated as absent.
    pub unreadable: Vec<String>,
}

impl SuvHeader {
    /// Reads the SUV attributes of one image; never fails.
    pub fn read<D: AttrSource + ?Sized>(obj: &D) -> Self {
        let mut h = SuvHeader::default();
        let mut notes = Vec::new();
        h.units = keep(&mut notes, attr::text(obj, UNITS)).map(|s: String| s.to_ascii_uppercase());
        h.suv_type =
            keep(&mut notes, attr::text(obj, SUV_TYPE)).map(|s: String| s.to_ascii_uppercase());
        h.decay_correction = keep(&mut notes, attr::text(obj, DECAY_CORRECTION))
            .map(|s: String| s.to_ascii_uppercase());
        h.corrected_image = keep(&mut notes, attr::text(obj, CORRECTED_IMAGE)).map(|s: String| {
            s.split('\\')
                .map(|v| v.trim().to_ascii_uppercase())
                .collect()
        });
        h.series_date = keep(&mut notes, attr::date(obj, SERIES_DATE));
        let series_time = keep(&mut notes, attr::time(obj, SERIES_TIME));
        h.series_datetime = h.series_date.zip(series_time).map(|(d, t)| d.and_time(t));
        let acq_date = keep(&mut notes, attr::date(obj, ACQUISITION_DATE));
        let acq_time = keep(&mut notes, attr::time(obj, ACQUISITION_TIME));
        h.acquisition_datetime = acq_date.zip(acq_time).map(|(d, t)| d.and_time(t));
        h.frame_reference_time_ms = keep(&mut notes, attr::number(obj, FRAME_REFERENCE_TIME));
        h.actual_frame_duration_ms = keep(&mut notes, attr::number(obj, ACTUAL_FRAME_DURATION));
        h.ge_scan_datetime = keep(&mut notes, private(obj, GE_SCAN_DATETIME, attr::datetime));
        h.philips_suv_factor = keep(&mut notes, private(obj, PHILIPS_SUV_FACTOR, attr::number));
        h.philips_activity_factor = keep(
            &mut notes,
            private(obj, PHILIPS_ACTIVITY_FACTOR, attr::number),
        );
        h.weight_kg = keep(&mut notes, attr::number(obj, PATIENT_WEIGHT));
        h.height_m = keep(&mut notes, attr::number(obj, PATIENT_SIZE));
        h.sex =
            keep(&mut notes, attr::text(obj, PATIENT_SEX)).map(|s: String| s.to_ascii_uppercase());
        h.manufacturer = keep(&mut notes, attr::text(obj, MANUFACTURER));
        // The first item of the sequence describes the administered tracer (PS3.3 C.8.9.2).
        if let Some(item) = keep(
            &mut notes,
            attr::items(obj, RADIOPHARMACEUTICAL_SEQ).map(Some),
        )
        .and_then(|items| items.first())
        {
            h.injection_datetime = keep(&mut notes, attr::datetime(item, RP_START_DATETIME));
            h.injection_time = keep(&mut notes, attr::time(item, RP_START_TIME));
            h.total_dose = keep(&mut notes, attr::number(item, TOTAL_DOSE));
            h.half_life_s = keep(&mut notes, attr::number(item, HALF_LIFE));
        }
        h.unreadable = notes;
        h
    }
}

/// A vendor's private attribute read by the VR its creator's dictionary gives it (DS for
/// Philips' (7053,1000) and (7053,1009), DT for GE's (0009,100D)). A file in implicit VR,
/// or one written with VR UN, leaves the reader without that VR: it gives the value as
/// its bytes (`48\46\48…`), which are read as the text they are.
fn private<'a, D, T>(
    obj: &'a D,
    a: Attr,
    read: impl Fn(&BytesAsText<'a, D>, Attr) -> Result<Option<T>, ErrorKind>,
) -> Result<Option<T>, ErrorKind>
where
    D: AttrSource + ?Sized,
{
    read(&BytesAsText(obj), a)
}

/// An attribute source whose values given as bytes (VR UN) read as their ASCII text.
struct BytesAsText<'a, D: ?Sized>(&'a D);

impl<D: AttrSource + ?Sized> AttrSource for BytesAsText<'_, D> {
    type Item = D::Item;

    fn value_text(&self, tag: dicom_core::Tag) -> Option<Result<Cow<'_, str>, String>> {
        let value = self.0.value_text(tag)?;
        Some(value.map(|text| match bytes_as_text(&text) {
            Some(decoded) => Cow::Owned(decoded),
            None => text,
        }))
    }

    fn sequence(&self, tag: dicom_core::Tag) -> Option<Option<&[Self::Item]>> {
        self.0.sequence(tag)
    }

    fn contains(&self, tag: dicom_core::Tag) -> bool {
        self.0.contains(tag)
    }
}

/// The ASCII text of a value given as its bytes (`48\46\53` → `0.5`), or `None` when it
/// is not such a list or the bytes are not printable text.
fn bytes_as_text(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return None;
    }
    let bytes: Vec<u8> = text
        .split('\\')
        .map(|p| p.trim().parse::<u8>().ok())
        .collect::<Option<_>>()?;
    let decoded = String::from_utf8(bytes).ok()?;
    let printable = decoded
        .chars()
        .all(|c| c.is_ascii_graphic() || c == ' ' || c == '\0');
    printable.then(|| decoded.trim_matches(|c| c == ' ' || c == '\0').to_string())
}

/// Keeps a readable value; records why an unreadable one is treated as absent.
pub(super) fn keep<T>(notes: &mut Vec<String>, r: Result<Option<T>, ErrorKind>) -> Option<T> {
    r.unwrap_or_else(|e| {
        notes.push(e.to_string());
        None
    })
}
