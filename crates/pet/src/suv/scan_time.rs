//! The scan date-time that the dose is decayed to, in the order of the QIBA vendor-neutral
//! SUV pseudo-code (QIBA wiki, "Standardized Uptake Value (SUV)"), after the one time that
//! needs no estimate:
//!
//! 0. the DecayCorrectionDateTime (0018,9701) of a decay-corrected Enhanced PET image, the
//!    time its pixel values are decay-corrected to (PS3.3 C.8.22.6), which the rules below
//!    estimate;
//! 1. SeriesDate/SeriesTime, unless they are after AcquisitionDate/AcquisitionTime (a
//!    post-processed series whose series time is its creation time);
//! 2. else the GE private scan date-time (0009,100D);
//! 3. else back-computed per frame: AcquisitionDate/Time − FrameReferenceTime + the average
//!    count-rate time within ActualFrameDuration;
//! 4. else, as a last resort with a warning, the earliest AcquisitionDate/Time of the series.

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use super::header::SuvHeader;

/// Which rule of the QIBA ordering gave the scan date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanTimeRule {
    /// DecayCorrectionDateTime (0018,9701) of an Enhanced PET image.
    DecayCorrectionTime,
    /// SeriesDate/SeriesTime, not after the acquisition.
    SeriesTime,
    /// GE private scan date-time (0009,100D).
    GePrivate,
    /// Back-computed from FrameReferenceTime and ActualFrameDuration.
    FrameBackcompute,
    /// Earliest AcquisitionDate/Time of the series (last resort).
    EarliestAcquisition,
}

impl ScanTimeRule {
    /// The JSON spelling, e.g. `series_time`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DecayCorrectionTime => "decay_correction_time",
            Self::SeriesTime => "series_time",
            Self::GePrivate => "ge_private",
            Self::FrameBackcompute => "frame_backcompute",
            Self::EarliestAcquisition => "earliest_acquisition",
        }
    }
}

/// Seconds as a chrono duration (nanosecond resolution; saturates instead of panicking).
pub fn seconds(s: f64) -> TimeDelta {
    TimeDelta::nanoseconds((s * 1e9).round() as i64)
}

/// Seconds from `from` to `to`.
pub fn seconds_between(from: NaiveDateTime, to: NaiveDateTime) -> f64 {
    let d = to - from;
    match d.num_nanoseconds() {
        Some(ns) => ns as f64 / 1e9,
        None => d.num_milliseconds() as f64 / 1e3,
    }
}

/// Applies the QIBA ordering to one image. `earliest_acquisition` is the earliest
/// AcquisitionDate/Time over the series. Pushes warnings; `Err` names what is missing.
pub fn scan_datetime(
    h: &SuvHeader,
    half_life_s: Option<f64>,
    earliest_acquisition: Option<NaiveDateTime>,
    warnings: &mut Vec<String>,
) -> Result<(NaiveDateTime, ScanTimeRule), String> {
    let decay_corrected = h.decay_correction.as_deref() != Some("NONE");
    if let Some(to) = h.decay_correction_datetime.filter(|_| decay_corrected) {
        return Ok((to, ScanTimeRule::DecayCorrectionTime));
    }
    if let Some(series) = h.series_datetime {
        match h.acquisition_datetime {
            Some(acq) if series <= acq => return Ok((series, ScanTimeRule::SeriesTime)),
            None => {
                warnings.push(
                    "AcquisitionDate/AcquisitionTime (0008,0022/0032) absent: SeriesDate/Time \
                     used without checking that it is not after the acquisition"
                        .into(),
                );
                return Ok((series, ScanTimeRule::SeriesTime));
            }
            Some(_) => {}
        }
    }
    if let Some(ge) = h.ge_scan_datetime {
        return Ok((ge, ScanTimeRule::GePrivate));
    }
    if let (Some(acq), Some(frt), Some(afd), Some(t_half)) = (
        h.acquisition_datetime,
        h.frame_reference_time_ms,
        h.actual_frame_duration_ms,
        half_life_s,
    ) && frt > 0.0
        && afd > 0.0
        && t_half > 0.0
    {
        // QIBA: the average count-rate time within a frame of duration T for decay
        // constant λ is ln(λT / (1 − e^(−λT))) / λ after the frame start.
        let lambda = std::f64::consts::LN_2 / t_half;
        let decay_in_frame = lambda * afd / 1000.0;
        let average = (decay_in_frame / (1.0 - (-decay_in_frame).exp())).ln() / lambda;
        let t = acq
            .checked_sub_signed(seconds(frt / 1000.0))
            .and_then(|t| t.checked_add_signed(seconds(average)));
        if let Some(t) = t {
            return Ok((t, ScanTimeRule::FrameBackcompute));
        }
    }
    if let Some(earliest) = earliest_acquisition {
        warnings.push(format!(
            "scan time taken from the earliest AcquisitionDate/Time of the series ({earliest}), \
             the QIBA last resort: SeriesTime is after the acquisition and neither the GE \
             private scan time nor FrameReferenceTime/ActualFrameDuration is usable"
        ));
        return Ok((earliest, ScanTimeRule::EarliestAcquisition));
    }
    Err(
        "no scan time: SeriesDate/SeriesTime, GE private (0009,100D), \
         FrameReferenceTime/ActualFrameDuration and AcquisitionDate/Time are absent or unusable"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::attr::parse_dt;

    fn header(series: &str, acq: &str) -> SuvHeader {
        SuvHeader {
            series_datetime: parse_dt(series),
            acquisition_datetime: parse_dt(acq),
            ..SuvHeader::default()
        }
    }

    #[test]
    fn series_time_after_acquisition_falls_back_to_frame_backcompute() {
        // DRO_3_2's first slices: series 11:30, acquisition 11:02:30, FRT 450 s, 603 s frame,
        // F-18: the average count-rate time lies 299.91 s into the frame, so 10:59:59.91.
        let mut h = header("20250101113000", "20250101110230");
        h.frame_reference_time_ms = Some(450_000.0);
        h.actual_frame_duration_ms = Some(603_000.0);
        let mut w = Vec::new();
        let (t, rule) = scan_datetime(&h, Some(6586.2), None, &mut w).unwrap();
        assert_eq!(rule, ScanTimeRule::FrameBackcompute);
        let offset = seconds_between(parse_dt("20250101110000").unwrap(), t);
        assert!((offset + 0.094).abs() < 0.005, "{offset}");
        assert!(w.is_empty());
    }

    #[test]
    fn ge_private_comes_before_backcompute_and_earliest_is_last() {
        let mut h = header("20250101113000", "20250101110230");
        h.ge_scan_datetime = parse_dt("20250101110000");
        let mut w = Vec::new();
        let (_, rule) = scan_datetime(&h, Some(6586.2), None, &mut w).unwrap();
        assert_eq!(rule, ScanTimeRule::GePrivate);
        h.ge_scan_datetime = None;
        let earliest = parse_dt("20250101110100");
        let (t, rule) = scan_datetime(&h, Some(6586.2), earliest, &mut w).unwrap();
        assert_eq!(
            (Some(t), rule),
            (earliest, ScanTimeRule::EarliestAcquisition)
        );
        assert_eq!(w.len(), 1);
        assert!(scan_datetime(&h, None, None, &mut w).is_err());
    }
}
