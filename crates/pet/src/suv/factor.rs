//! The QIBA factor itself: series-level checks, then the factor of each image.

use chrono::{NaiveDateTime, NaiveTime, TimeDelta};

use super::body::{Body, Sex, SuvType};
use super::header::SuvHeader;
use super::scan_time::{scan_datetime, seconds, seconds_between};
use super::{
    Allow, DecayCorrection, GA68_HALF_LIFE_S, ImageHeader, InstanceFactor, MBQ_THRESHOLD,
    SuvOptions, SuvRefusal, Units,
};

/// What holds for the whole series (read from its first image).
pub(super) struct SeriesLevel {
    pub units: Units,
    pub decay: DecayCorrection,
    pub dose_bq: Option<f64>,
    pub half_life_s: Option<f64>,
    body: Body,
    requested: SuvType,
    /// The SUV kind stored in GML/CM2ML pixels.
    stored: SuvType,
    /// `--allow injection-time-of-day`: the injection's time of day on the scan date.
    injection_time_of_day: bool,
}

/// The longest decay from injection to scan taken as true, in half-lives of the tracer:
/// after ten, less than 0.1 % of the activity is left and no image is acquired; a longer
/// time means the injection's and the scan's dates disagree (a de-identification that
/// shifted them differently), and the SUV would be meaningless.
pub const MAX_DECAY_HALF_LIVES: f64 = 10.0;

impl SeriesLevel {
    /// Reads and checks the series-level attributes; refuses with every reason at once.
    pub fn read(
        h: &SuvHeader,
        opts: &SuvOptions,
        warnings: &mut Vec<String>,
    ) -> Result<Self, SuvRefusal> {
        let mut reasons = Vec::new();
        let units = match h.units.as_deref() {
            Some("BQML") => Some(Units::Bqml),
            Some("CNTS") => Some(Units::Cnts),
            Some("GML") => Some(Units::Gml),
            Some("CM2ML") => Some(Units::Cm2ml),
            Some(other) => {
                reasons.push(format!(
                    "Units (0054,1001) {other:?} not supported (BQML, CNTS, GML, CM2ML)"
                ));
                None
            }
            None => {
                reasons.push("Units (0054,1001) missing".into());
                None
            }
        };
        let decay = match h.decay_correction.as_deref() {
            Some("START") => Some(DecayCorrection::Start),
            Some("ADMIN") => Some(DecayCorrection::Admin),
            Some("NONE") => Some(DecayCorrection::None),
            Some(other) => {
                reasons.push(format!(
                    "DecayCorrection (0054,1102) {other:?} not supported"
                ));
                None
            }
            None if h.decay_corrected == Some(true) => {
                reasons.push(
                    "DecayCorrected (0018,9758) is YES but DecayCorrectionDateTime (0018,9701) \
                     is missing: the time the image is decay-corrected to is unknown"
                        .into(),
                );
                None
            }
            None => {
                reasons.push("DecayCorrection (0054,1102) missing".into());
                None
            }
        };
        check_corrections(h, decay, opts, &mut reasons, warnings);
        let stored = stored_kind(h, units, warnings);
        let sex = match h.sex.as_deref() {
            Some("M") => Sex::Male,
            Some("F") => Sex::Female,
            other => {
                if opts.suv_type != SuvType::Bw || stored != SuvType::Bw {
                    warnings.push(format!(
                        "PatientSex (0010,0040) is {}: sex-specific formulas use the mean of \
                         the male and female values",
                        other.map_or("absent".to_string(), |s| format!("{s:?}"))
                    ));
                }
                Sex::Unknown
            }
        };
        let dose_bq = h.total_dose.map(|d| {
            if h.total_dose_in_mbq {
                mbq_to_bq(d, warnings)
            } else if d > 0.0 && d < MBQ_THRESHOLD {
                warnings.push(format!(
                    "RadionuclideTotalDose (0018,1074) {d} read as MBq (below {MBQ_THRESHOLD} it \
                     cannot be a dose in Bq)"
                ));
                d * 1.0e6
            } else {
                d
            }
        });
        if let Some(t) = h.half_life_s
            && (t - GA68_HALF_LIFE_S).abs() > 1.0
        {
            warnings.push(format!(
                "RadionuclideHalfLife (0018,1075) {t} s is not Ga-68's {GA68_HALF_LIFE_S:.1} s; \
                 the header value is used"
            ));
        }
        if !reasons.is_empty() {
            return Err(SuvRefusal { reasons });
        }
        // Both are Some when no reason was recorded.
        let (Some(units), Some(decay)) = (units, decay) else {
            return Err(SuvRefusal {
                reasons: vec!["Units or DecayCorrection unusable".into()],
            });
        };
        Ok(Self {
            units,
            decay,
            dose_bq,
            half_life_s: h.half_life_s,
            body: Body {
                weight_kg: h.weight_kg,
                height_m: h.height_m,
                sex,
            },
            requested: opts.suv_type,
            stored,
            injection_time_of_day: opts.allow.contains(&Allow::InjectionTimeOfDay),
        })
    }

    /// The factors of one image.
    pub fn instance(
        &self,
        image: &ImageHeader,
        earliest: Option<NaiveDateTime>,
        warnings: &mut Vec<String>,
    ) -> Result<InstanceFactor, String> {
        let h = image.header;
        let mut out = InstanceFactor {
            sop_instance_uid: image.sop_instance_uid.to_string(),
            frame: image.frame,
            scan_datetime_rule: None,
            scan_datetime: None,
            injection_datetime: None,
            decay_time_s: None,
            suvbw_scale_factor: None,
            scale_factor: f64::NAN,
        };
        let requested = self.body.normaliser(self.requested);
        let bw = self.body.normaliser(SuvType::Bw);
        match self.units {
            Units::Gml | Units::Cm2ml => {
                // Pixels already are SUVs of the stored kind: convert by the normalisers.
                if self.requested == self.stored {
                    out.scale_factor = 1.0;
                } else {
                    out.scale_factor = requested? / self.body.normaliser(self.stored)?;
                }
                out.suvbw_scale_factor = if self.stored == SuvType::Bw {
                    Some(1.0)
                } else {
                    self.body
                        .normaliser(self.stored)
                        .ok()
                        .and_then(|s| bw.as_ref().ok().map(|b| b / s))
                };
            }
            Units::Cnts if h.philips_suv_factor.is_some() => {
                let f = positive(h.philips_suv_factor, "Philips SUV scale factor (7053,1000)")?;
                warnings.push(format!(
                    "Units CNTS: Philips private SUV scale factor (7053,1000) = {f} used as the \
                     SUVbw factor"
                ));
                out.suvbw_scale_factor = Some(f);
                out.scale_factor = if self.requested == SuvType::Bw {
                    f
                } else {
                    f * requested? / bw?
                };
            }
            Units::Bqml | Units::Cnts => {
                let activity = if self.units == Units::Cnts {
                    let f = positive(
                        h.philips_activity_factor,
                        "Philips activity scale factor (7053,1009) (Units CNTS without (7053,1000))",
                    )?;
                    warnings.push(format!(
                        "Units CNTS: Philips private activity scale factor (7053,1009) = {f} \
                         turns counts into Bq/mL"
                    ));
                    f
                } else {
                    1.0
                };
                let dose = self.decayed_dose(h, earliest, &mut out, warnings)?;
                out.suvbw_scale_factor = Some(activity * bw.clone()? / dose);
                out.scale_factor = activity * requested? / dose;
            }
        }
        if !out.scale_factor.is_finite() || out.scale_factor <= 0.0 {
            return Err(format!(
                "{}: SUV factor {} is not positive",
                image.id(),
                out.scale_factor
            ));
        }
        Ok(out)
    }

    /// The dose decayed to the time the pixel values refer to, in Bq.
    fn decayed_dose(
        &self,
        h: &SuvHeader,
        earliest: Option<NaiveDateTime>,
        out: &mut InstanceFactor,
        warnings: &mut Vec<String>,
    ) -> Result<f64, String> {
        let dose = match self.dose_bq {
            Some(d) if d > 0.0 => d,
            Some(d) => {
                return Err(format!(
                    "RadionuclideTotalDose (0018,1074) {d} not positive"
                ));
            }
            None => return Err("RadionuclideTotalDose (0018,1074) missing".into()),
        };
        if self.decay == DecayCorrection::Admin {
            // Decay-corrected to the administration: the dose needs no decay.
            out.decay_time_s = Some(0.0);
            return Ok(dose);
        }
        let half_life = positive(self.half_life_s, "RadionuclideHalfLife (0018,1075)")?;
        let (scan, rule) = scan_datetime(h, Some(half_life), earliest, warnings)?;
        out.scan_datetime_rule = Some(rule);
        out.scan_datetime = Some(scan);
        let mut injection = injection_datetime(h, scan, warnings)?;
        if self.injection_time_of_day && injection.date() != scan.date() {
            let on_scan_day = same_day_injection(injection.time(), scan);
            warnings.push(format!(
                "injection date {} differs from the scan date {}: the injection's time of day taken on the scan date ({on_scan_day}) (--allow injection-time-of-day)",
                injection.date(),
                scan.date()
            ));
            injection = on_scan_day;
        }
        out.injection_datetime = Some(injection);
        let reference = if self.decay == DecayCorrection::None {
            pixel_time(h, scan, warnings)?
        } else {
            scan
        };
        let decay_time = seconds_between(injection, reference);
        let override_hint = "(override: --allow injection-time-of-day takes the injection's time of day on the scan date)";
        if decay_time < 0.0 {
            return Err(format!(
                "injection ({injection}) is after the scan ({reference}): decay time {decay_time} s {override_hint}"
            ));
        }
        if decay_time > MAX_DECAY_HALF_LIVES * half_life {
            return Err(format!(
                "decay time {:.1} h from the injection ({injection}) to the scan ({reference}) is {:.0} half-lives of the tracer (at most {MAX_DECAY_HALF_LIVES:.0}): the injection's and the scan's dates disagree {override_hint}",
                decay_time / 3600.0,
                decay_time / half_life
            ));
        }
        out.decay_time_s = Some(decay_time);
        Ok(dose * (-decay_time / half_life).exp2())
    }
}

/// A RadionuclideTotalDose written in MBq (Enhanced PET Isotope Module, PS3.3 C.8.22.4), in
/// Bq; a value of [`MBQ_THRESHOLD`] or more cannot be MBq for a human PET scan (100 GBq)
/// and is read as Bq, with a warning.
fn mbq_to_bq(d: f64, warnings: &mut Vec<String>) -> f64 {
    if d >= MBQ_THRESHOLD {
        warnings.push(format!(
            "RadionuclideTotalDose (0018,1074) {d} read as Bq (an Enhanced PET image writes \
             MBq, but from {MBQ_THRESHOLD} MBq on it cannot be a dose)"
        ));
        d
    } else {
        d * 1.0e6
    }
}

/// Refusals for missing attenuation and decay correction (CorrectedImage, PS3.3 C.8.9.4.1.2,
/// or, in an Enhanced PET image without it, AttenuationCorrected and DecayCorrected,
/// C.8.22.6).
fn check_corrections(
    h: &SuvHeader,
    decay: Option<DecayCorrection>,
    opts: &SuvOptions,
    reasons: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    if h.corrected_image.is_none()
        && (h.attenuation_corrected.is_some() || h.decay_corrected.is_some())
    {
        return check_enhanced_corrections(h, decay, opts, reasons, warnings);
    }
    let corrected = h.corrected_image.clone().unwrap_or_default();
    let has = |v: &str| corrected.iter().any(|c| c == v);
    let listing = h
        .corrected_image
        .as_ref()
        .map_or("absent".to_string(), |c| c.join("\\"));
    if !has("ATTN") {
        let text =
            format!("not attenuation-corrected: CorrectedImage (0028,0051) {listing} lacks ATTN");
        if opts.allow.contains(&Allow::MissingAttn) {
            warnings.push(format!("{text}; computed anyway (--allow missing-attn)"));
        } else {
            reasons.push(format!("{text} (override: --allow missing-attn)"));
        }
    }
    if !has("DECY") {
        if decay == Some(DecayCorrection::None) {
            warnings.push(format!(
                "images not decay-corrected (DecayCorrection NONE, CorrectedImage {listing}): \
                 the dose is decayed to each image's FrameReferenceTime instead"
            ));
        } else {
            let text = format!(
                "not decay-corrected: CorrectedImage (0028,0051) {listing} lacks DECY while \
                 DecayCorrection (0054,1102) is not NONE"
            );
            if opts.allow.contains(&Allow::MissingDecy) {
                warnings.push(format!("{text}; computed anyway (--allow missing-decy)"));
            } else {
                reasons.push(format!("{text} (override: --allow missing-decy)"));
            }
        }
    }
}

/// [`check_corrections`] for an Enhanced PET image's AttenuationCorrected (0018,9759) and
/// DecayCorrected (0018,9758).
fn check_enhanced_corrections(
    h: &SuvHeader,
    decay: Option<DecayCorrection>,
    opts: &SuvOptions,
    reasons: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let said = |v: Option<bool>| match v {
        Some(true) => "YES",
        Some(false) => "NO",
        None => "absent",
    };
    if h.attenuation_corrected != Some(true) {
        let text = format!(
            "not attenuation-corrected: AttenuationCorrected (0018,9759) is {}",
            said(h.attenuation_corrected)
        );
        if opts.allow.contains(&Allow::MissingAttn) {
            warnings.push(format!("{text}; computed anyway (--allow missing-attn)"));
        } else {
            reasons.push(format!("{text} (override: --allow missing-attn)"));
        }
    }
    if h.decay_corrected != Some(true) {
        if decay == Some(DecayCorrection::None) {
            warnings.push(
                "images not decay-corrected (DecayCorrected (0018,9758) NO): the dose is \
                 decayed to each frame's FrameReferenceDateTime (0018,9151) instead"
                    .into(),
            );
        } else {
            let text = format!(
                "not decay-corrected: DecayCorrected (0018,9758) is {} while DecayCorrection \
                 (0054,1102) is not NONE",
                said(h.decay_corrected)
            );
            if opts.allow.contains(&Allow::MissingDecy) {
                warnings.push(format!("{text}; computed anyway (--allow missing-decy)"));
            } else {
                reasons.push(format!("{text} (override: --allow missing-decy)"));
            }
        }
    }
}

/// The SUV kind of GML/CM2ML pixel values (SUVType, PS3.3 C.8.9.1.1.3).
fn stored_kind(h: &SuvHeader, units: Option<Units>, warnings: &mut Vec<String>) -> SuvType {
    let declared = h.suv_type.as_deref().and_then(SuvType::from_dicom);
    match units {
        Some(Units::Cm2ml) => {
            if declared.is_some_and(|d| d != SuvType::Bsa) {
                warnings.push("Units CM2ML with SUVType other than BSA: read as SUVbsa".into());
            }
            SuvType::Bsa
        }
        Some(Units::Gml) => declared.unwrap_or_else(|| {
            warnings.push(format!(
                "Units GML with SUVType (0054,1006) {}: read as SUVbw (QIBA)",
                h.suv_type.as_deref().unwrap_or("absent")
            ));
            SuvType::Bw
        }),
        _ => SuvType::Bw,
    }
}

/// The injection date-time: RadiopharmaceuticalStartDateTime, else StartTime on the scan date.
fn injection_datetime(
    h: &SuvHeader,
    scan: NaiveDateTime,
    warnings: &mut Vec<String>,
) -> Result<NaiveDateTime, String> {
    if let Some(dt) = h.injection_datetime {
        return Ok(dt);
    }
    let time = h.injection_time.ok_or(
        "no injection time: RadiopharmaceuticalStartDateTime (0018,1078) and \
         RadiopharmaceuticalStartTime (0018,1072) missing",
    )?;
    let injection = same_day_injection(time, scan);
    warnings.push(
        "RadiopharmaceuticalStartDateTime (0018,1078) absent: RadiopharmaceuticalStartTime \
         (0018,1072) taken on the scan date"
            .into(),
    );
    if injection.date() != scan.date() {
        warnings.push(format!(
            "injection time {time} is after the scan time {}: injection taken on the day before \
             ({injection}, midnight crossing)",
            scan.time()
        ));
    }
    Ok(injection)
}

/// An injection time of day on the scan date, the day before when that time is after
/// the scan (a midnight crossing).
fn same_day_injection(time: NaiveTime, scan: NaiveDateTime) -> NaiveDateTime {
    let on_scan_day = scan.date().and_time(time);
    if on_scan_day > scan {
        on_scan_day - TimeDelta::days(1)
    } else {
        on_scan_day
    }
}

/// The time the pixel values of a non-decay-corrected image refer to.
fn pixel_time(
    h: &SuvHeader,
    scan: NaiveDateTime,
    warnings: &mut Vec<String>,
) -> Result<NaiveDateTime, String> {
    if let Some(t) = h.frame_reference_datetime {
        return Ok(t);
    }
    if let Some(frt) = h.frame_reference_time_ms.filter(|f| *f >= 0.0) {
        return scan
            .checked_add_signed(seconds(frt / 1000.0))
            .ok_or_else(|| format!("FrameReferenceTime (0054,1300) {frt} ms out of range"));
    }
    match (h.acquisition_datetime, h.actual_frame_duration_ms) {
        (Some(acq), Some(d)) if d > 0.0 => {
            warnings.push(
                "FrameReferenceTime (0054,1300) absent: pixel time taken as the middle of the \
                 frame (AcquisitionTime + ActualFrameDuration / 2)"
                    .into(),
            );
            acq.checked_add_signed(seconds(d / 2000.0))
                .ok_or_else(|| "ActualFrameDuration (0018,1242) out of range".into())
        }
        _ => Err(
            "DecayCorrection NONE needs FrameReferenceTime (0054,1300) or \
                  AcquisitionTime with ActualFrameDuration (0018,1242)"
                .into(),
        ),
    }
}

fn positive(v: Option<f64>, what: &str) -> Result<f64, String> {
    match v {
        Some(x) if x > 0.0 && x.is_finite() => Ok(x),
        Some(x) => Err(format!("{what} {x} not positive")),
        None => Err(format!("{what} missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enhanced_dose_is_mbq_unless_it_cannot_be() {
        let mut warnings = Vec::new();
        assert_eq!(mbq_to_bq(150.0, &mut warnings), 150e6);
        assert!(warnings.is_empty());
        // 150 000 000 MBq would be 150 TBq: it was written in Bq.
        assert_eq!(mbq_to_bq(150e6, &mut warnings), 150e6);
        assert!(warnings[0].contains("read as Bq"), "{warnings:?}");
    }
}
