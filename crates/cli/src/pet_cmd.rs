//! `her2ex pet …`: inspect a PET series' SUV header, quantify it, write a test phantom.
//!
//! - `her2ex pet inspect DIR [--json]`: how the SUV factor is obtained (QIBA ordering),
//!   with every warning.
//! - `her2ex pet quantify DIR [--mask FILE.nii[.gz] | --rtstruct RS.dcm [--roi NAME]]
//!   [--suv-type bw|sul|lbm|bsa|ibw] [--allow missing-attn,missing-decy,injection-time-of-day]
//!   [--json]`: SUV range
//!   of the volume, statistics of a VOI, candidate lesions.
//! - `her2ex pet phantom OUT_DIR --seed N`: a synthetic PET series with its ground truth.
//!
//! Exit codes: 0 done, 1 refused (no SUV possible from this header), 2 unreadable input.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use pet::PetError;
use pet::lesions::{LesionParams, detect};
use pet::series::{FileProblem, LoadedSeries, load_series, series_files};
use pet::suv::{
    Allow, SuvCalibration, SuvOptions, SuvRefusal, SuvSeries, SuvType, calibrate, load_suv,
};
use pet::voi::{VoiStats, stats};
use pet::volume::Volume;
use serde_json::{Value, json};

/// Arguments of `her2ex pet`.
#[derive(clap::Args)]
pub struct PetArgs {
    #[command(subcommand)]
    command: PetCommand,
}

#[derive(clap::Subcommand)]
enum PetCommand {
    /// Show the SUV calculation of a series: units, decay correction, scan-time rule, factors.
    Inspect(InspectArgs),
    /// SUV of a series: whole-volume range, VOI statistics, candidate lesions.
    Quantify(QuantifyArgs),
    /// Write a synthetic PET series with known lesions (and ground_truth.json).
    Phantom(PhantomArgs),
    /// Copy a folder's DICOM files into the data directory's archive.
    Import(crate::import_cmd::ImportArgs),
}

#[derive(clap::Args)]
struct SuvArgs {
    /// SUV kind: bw (default), sul (Janmahasatian LBM), lbm (James), bsa (Du Bois), ibw.
    #[arg(long, default_value = "bw", value_parser = parse_suv_type)]
    suv_type: SuvType,
    /// Override a refusal (a physicist's decision, reported as a warning):
    /// missing-attn, missing-decy, injection-time-of-day (the injection's date differs
    /// from the scan's: take its time of day on the scan date). Repeat or separate by commas.
    #[arg(long, value_delimiter = ',', value_parser = parse_allow)]
    allow: Vec<Allow>,
}

#[derive(clap::Args)]
struct InspectArgs {
    /// Folder with the series' DICOM files (searched recursively).
    dir: PathBuf,
    #[command(flatten)]
    suv: SuvArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct QuantifyArgs {
    /// Folder with the series' DICOM files (searched recursively).
    dir: PathBuf,
    /// VOI as a NIfTI-1 mask (.nii or .nii.gz); non-zero voxels are inside.
    #[arg(long, conflicts_with = "rtstruct")]
    mask: Option<PathBuf>,
    /// VOI as an RT Structure Set ROI.
    #[arg(long)]
    rtstruct: Option<PathBuf>,
    /// ROI name in the RTSTRUCT (needed when it holds several).
    #[arg(long, requires = "rtstruct")]
    roi: Option<String>,
    #[command(flatten)]
    suv: SuvArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct PhantomArgs {
    /// Output folder (created).
    out_dir: PathBuf,
    /// Seed of the phantom (same seed, same files).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the ground truth as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_suv_type(s: &str) -> Result<SuvType, String> {
    SuvType::parse(s).ok_or_else(|| format!("{s:?}: expected bw, sul, lbm, bsa or ibw"))
}

fn parse_allow(s: &str) -> Result<Allow, String> {
    Allow::parse(s).ok_or_else(|| {
        format!("{s:?}: expected missing-attn, missing-decy or injection-time-of-day")
    })
}

/// Exit code: the SUV calculation was refused.
const REFUSED: u8 = 1;
/// Exit code: the input could not be read.
const UNREADABLE: u8 = 2;

/// Runs `her2ex pet`; returns the process exit code.
pub fn run(args: PetArgs) -> anyhow::Result<u8> {
    match args.command {
        PetCommand::Inspect(a) => inspect(&a),
        PetCommand::Quantify(a) => quantify(&a),
        PetCommand::Phantom(a) => phantom(&a),
        PetCommand::Import(a) => crate::import_cmd::run(&a),
    }
}

fn options(a: &SuvArgs) -> SuvOptions {
    SuvOptions {
        suv_type: a.suv_type,
        allow: a.allow.iter().copied().collect(),
    }
}

/// Loads a series or reports why not (exit 2).
fn load(dir: &Path, json: bool) -> Result<LoadedSeries, u8> {
    load_series(dir).map_err(|e| unreadable(&e, json))
}

/// Loads a series with its SUV computed as the pixels are read, or reports why the
/// files could not be read (exit 2).
fn load_with_suv(dir: &Path, opts: &SuvOptions, json: bool) -> Result<SuvSeries, u8> {
    series_files(dir)
        .and_then(|files| load_suv(&files, opts))
        .map_err(|e| unreadable(&e, json))
}

/// Reports an unreadable input; returns the exit code.
fn unreadable(e: &PetError, json: bool) -> u8 {
    if json {
        println!("{}", json!({ "error": e.to_string() }));
    }
    eprintln!("error: {e}");
    UNREADABLE
}

fn suv_json(
    series: &LoadedSeries,
    cal: Option<&SuvCalibration>,
    refusal: Option<&SuvRefusal>,
    kind: SuvType,
) -> Value {
    let first = series.instances.first().map(|i| &i.suv);
    let mut warnings = series.warnings.clone();
    if let Some(c) = cal {
        warnings.extend(c.warnings.iter().cloned());
    }
    json!({
        "series_instance_uid": series.series_instance_uid,
        "slices": series.volume.dims[2],
        "dims": series.volume.dims,
        "spacing_mm": series.volume.spacing_mm,
        "units": first.and_then(|h| h.units.clone()),
        "suv_type": kind,
        "decay_correction": first.and_then(|h| h.decay_correction.clone()),
        "scan_datetime_rule": cal.and_then(|c| c.scan_datetime_rule),
        "scan_datetime": cal.and_then(|c| c.scan_datetime),
        "injection_datetime": cal.and_then(|c| c.injection_datetime),
        "decay_time_s": cal.and_then(|c| c.decay_time_s),
        "dose_bq": cal.and_then(|c| c.dose_bq),
        "half_life_s": cal.and_then(|c| c.half_life_s),
        "suvbw_scale_factor": cal.and_then(|c| c.instances.first()).and_then(|i| i.suvbw_scale_factor),
        "suvbw_scale_factors": cal.map(|c| c.suvbw_scale_factors()),
        "scale_factor": cal.and_then(|c| c.instances.first()).map(|i| i.scale_factor),
        "warnings": warnings,
        "refusal": refusal.map(|r| &r.reasons),
        "problems": series.problems,
    })
}

fn inspect(a: &InspectArgs) -> anyhow::Result<u8> {
    let series = match load(&a.dir, a.json) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let result = calibrate(&series, &options(&a.suv));
    let (cal, refusal) = match &result {
        Ok(c) => (Some(c), None),
        Err(r) => (None, Some(r)),
    };
    let report = suv_json(&series, cal, refusal, a.suv.suv_type);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_inspect(&report);
    }
    Ok(if refusal.is_some() { REFUSED } else { 0 })
}

fn print_inspect(r: &Value) {
    let show = |v: &Value| match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    println!("Series            {}", show(&r["series_instance_uid"]));
    println!(
        "Grid              {} (mm {})",
        show(&r["dims"]),
        show(&r["spacing_mm"])
    );
    println!("Units             {}", show(&r["units"]));
    println!("Decay correction  {}", show(&r["decay_correction"]));
    println!(
        "Scan-time rule    {} ({})",
        show(&r["scan_datetime_rule"]),
        show(&r["scan_datetime"])
    );
    println!("Injection         {}", show(&r["injection_datetime"]));
    println!("Decay time (s)    {}", show(&r["decay_time_s"]));
    println!("Dose (Bq)         {}", show(&r["dose_bq"]));
    println!("Half-life (s)     {}", show(&r["half_life_s"]));
    println!(
        "SUVbw factor      {} (g/mL per pixel unit, first slice)",
        show(&r["suvbw_scale_factor"])
    );
    print_list("Refused", &r["refusal"]);
    print_list("Warnings", &r["warnings"]);
    if let Some(problems) = r["problems"].as_array().filter(|p| !p.is_empty()) {
        println!("Files skipped:");
        for p in problems {
            println!("  - {}: {}", show(&p["path"]), show(&p["reason"]));
        }
    }
}

fn print_list(title: &str, v: &Value) {
    if let Some(items) = v.as_array().filter(|i| !i.is_empty()) {
        println!("{title}:");
        for item in items {
            println!("  - {}", item.as_str().unwrap_or_default());
        }
    }
}

fn progress(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(4);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

fn quantify(a: &QuantifyArgs) -> anyhow::Result<u8> {
    let bar = progress(a.json);
    bar.set_message("reading the series");
    let SuvSeries {
        mut series,
        calibration,
        range,
    } = match load_with_suv(&a.dir, &options(&a.suv), a.json) {
        Ok(s) => s,
        Err(code) => {
            bar.finish_and_clear();
            return Ok(code);
        }
    };
    bar.inc(1);
    bar.set_message("computing SUV");
    let cal = match calibration {
        Ok(c) => c,
        Err(refusal) => {
            bar.finish_and_clear();
            if a.json {
                let report = suv_json(&series, None, Some(&refusal), a.suv.suv_type);
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            eprintln!("refused: {refusal}");
            return Ok(REFUSED);
        }
    };
    // The volume was scaled to SUV as it was read: one volume in memory.
    let suv = take_volume(&mut series);
    bar.inc(1);
    bar.set_message("VOI statistics");
    let mut warnings = series.warnings.clone();
    warnings.extend(cal.warnings.iter().cloned());
    let voi = match voi_stats(a, &suv, &mut warnings) {
        Ok(v) => v,
        Err(e) => {
            bar.finish_and_clear();
            if a.json {
                println!("{}", json!({ "error": format!("{e:#}") }));
            }
            eprintln!("error: {e:#}");
            return Ok(UNREADABLE);
        }
    };
    bar.inc(1);
    bar.set_message("finding lesions");
    let lesions = detect(&suv, &LesionParams::default());
    bar.inc(1);
    bar.finish_and_clear();
    let (suv_min, suv_max) = range.unwrap_or((f64::NAN, f64::NAN));
    let report = json!({
        "series_instance_uid": series.series_instance_uid,
        "suv_type": cal.suv_type,
        "volume": { "suv_min": suv_min, "suv_max": suv_max },
        "voi": voi,
        "lesions": lesions,
        "warnings": warnings,
        "problems": series.problems,
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_quantify(
            &cal,
            suv_min,
            suv_max,
            voi.as_ref(),
            &lesions,
            &warnings,
            &series.problems,
        );
    }
    Ok(0)
}

/// Moves the volume out of `series`, leaving its grid with no voxels.
fn take_volume(series: &mut LoadedSeries) -> Volume {
    let v = &series.volume;
    let empty = Volume {
        dims: v.dims,
        spacing_mm: v.spacing_mm,
        origin_mm: v.origin_mm,
        direction: v.direction,
        data: Vec::new(),
    };
    std::mem::replace(&mut series.volume, empty)
}

fn voi_stats(
    a: &QuantifyArgs,
    suv: &pet::volume::Volume,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<VoiStats>> {
    let inside = if let Some(mask) = &a.mask {
        let image = pet::nifti::read_nifti(mask)?;
        let on_grid = image
            .on_grid(suv)
            .with_context(|| mask.display().to_string())?;
        warnings.extend(on_grid.warnings);
        on_grid.inside
    } else if let Some(rs) = &a.rtstruct {
        let rois = pet::rtstruct::read_rtstruct(rs)?;
        let roi = pet::rtstruct::select(&rois, a.roi.as_deref())
            .with_context(|| rs.display().to_string())?;
        let (inside, w) =
            pet::rtstruct::rasterise(roi, suv).with_context(|| rs.display().to_string())?;
        warnings.extend(w);
        inside
    } else {
        return Ok(None);
    };
    Ok(Some(stats(suv, &inside)?))
}

fn print_quantify(
    cal: &SuvCalibration,
    suv_min: f64,
    suv_max: f64,
    voi: Option<&VoiStats>,
    lesions: &[pet::lesions::Lesion],
    warnings: &[String],
    problems: &[FileProblem],
) {
    println!("{}", cal.suv_type.label());
    println!("Volume   SUV min {suv_min:.3}  max {suv_max:.3}");
    if let Some(v) = voi {
        let peak = v.suv_peak.map_or("—".to_string(), |p| format!("{p:.3}"));
        println!(
            "VOI      min {:.3}  median {:.3}  max {:.3}  mean {:.3}  peak {peak}  volume {:.2} mL",
            v.suv_min, v.suv_median, v.suv_max, v.suv_mean, v.volume_ml
        );
    }
    println!("Lesion candidates: {}", lesions.len());
    for l in lesions {
        let label = match (&l.physiological, l.her2_avid) {
            (Some(organ), _) => format!("physiological? {organ:?}"),
            (None, true) => "HER2-avid".to_string(),
            (None, false) => "not avid".to_string(),
        };
        println!(
            "  #{:<3} SUVmax {:6.2}  SUVpeak {:6.2}  MTV {:7.2} mL  at {:?} mm  {label}",
            l.id,
            l.suv_max,
            l.suv_peak,
            l.mtv_ml,
            l.centroid_mm.map(|c| c.round())
        );
    }
    if !warnings.is_empty() {
        println!("Warnings:");
        for w in warnings {
            println!("  - {w}");
        }
    }
    for p in problems {
        println!("Skipped {}: {}", p.path.display(), p.reason);
    }
}

fn phantom(a: &PhantomArgs) -> anyhow::Result<u8> {
    let bar = progress(a.json);
    bar.set_message("writing the phantom");
    let truth = pet::phantom::write_phantom(&a.out_dir, a.seed)
        .with_context(|| format!("writing a phantom to {}", a.out_dir.display()))?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&truth)?);
    } else {
        println!(
            "Wrote {} slices of series {} to {} ({} lesions; ground_truth.json beside them)",
            truth.files.len(),
            truth.series_uid,
            a.out_dir.display(),
            truth.lesions.len()
        );
    }
    Ok(0)
}
