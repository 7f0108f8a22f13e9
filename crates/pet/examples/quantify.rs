//! Load → SUV → detect on one series folder, printing the candidates as JSON:
//! `cargo run --release -p pet --example quantify -- DIR`. Used by bench/pet/run.sh.
//! Phase timings go to stderr.

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: quantify DIR")?);
    let t0 = Instant::now();
    // Only the DICOM files: the phantom's folder also holds ground_truth.json.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dcm"))
        .collect();
    files.sort();
    let t1 = Instant::now();
    // Calibration from the headers, then each slice rescaled and scaled to SUV as it is
    // read: a single volume in memory, a single pass over it.
    let loaded = pet::suv::load_suv(&files, &pet::suv::SuvOptions::default())?;
    loaded
        .calibration
        .map_err(|r| format!("SUV refused: {:?}", r.reasons))?;
    let suv = loaded.series.volume;
    let t2 = Instant::now();
    let lesions = pet::lesions::detect(&suv, &pet::lesions::LesionParams::default());
    let t3 = Instant::now();
    println!("{}", serde_json::to_string_pretty(&lesions)?);
    eprintln!(
        "list {:.3} s, load+suv {:.3} s, detect {:.3} s, {} voxels, {} candidates",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        (t3 - t2).as_secs_f64(),
        suv.len(),
        lesions.len()
    );
    Ok(())
}
