//! Integration tests of the synthetic ABY-025 phantom, lesion detection and the MIP.

mod lesions_support;
#[path = "lesions/requested.rs"]
mod requested;

use dicom_dictionary_std::tags;
use lesions_support::{distance_to_organ, read_phantom_suv, score};
use pet::lesions::{LesionParams, Organ, detect};
use pet::phantom::{PhantomSpec, simulate, write_phantom, write_phantom_with};
use std::process::Command;

/// A small phantom for header checks: 64 × 64 × 48 voxels of 8 mm (whole body, coarse).
fn small(seed: u64) -> PhantomSpec {
    PhantomSpec {
        dims: [64, 64, 48],
        spacing_mm: [9.0, 9.0, 21.0],
        ..PhantomSpec::new(seed)
    }
}

#[test]
fn dcmdump_reads_every_phantom_file_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_phantom_with(dir.path(), &small(3)).unwrap();
    let files: Vec<_> = truth.files.iter().map(|f| dir.path().join(f)).collect();
    let output = match Command::new("dcmdump").arg("+E").args(&files).output() {
        Ok(output) => output,
        Err(e) => {
            assert!(
                std::env::var("HER2EX_REQUIRE_DCMTK").as_deref() != Ok("1"),
                "HER2EX_REQUIRE_DCMTK=1 but dcmdump (dcmtk) cannot be run: {e}"
            );
            eprintln!("dcmdump not found; skipping the dcmtk check");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "dcmdump failed: {stderr}");
    assert!(
        !stderr.contains("E:") && !stderr.contains("W:"),
        "dcmdump complained: {stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("(0008,0060) CS [PT]").count(), files.len());
    assert!(stdout.contains("(0018,1075) DS [4062.6]"));
    assert!(stdout.contains("(0054,1001) CS [BQML]"));
    assert!(stdout.contains("(0054,1102) CS [START]"));
    assert!(stdout.contains("(0028,0051) CS [ATTN\\DECY]"));
    assert!(stdout.contains("(0010,0040) CS [F]"));
    assert_eq!(
        stdout
            .matches("(0002,0010) UI =LittleEndianExplicit")
            .count(),
        files.len()
    );
}

#[test]
fn files_hold_the_simulated_suv_and_a_consistent_header() {
    let dir = tempfile::tempdir().unwrap();
    let spec = small(5);
    let truth = write_phantom_with(dir.path(), &spec).unwrap();
    let (simulated, _) = simulate(&spec).unwrap();
    let read = read_phantom_suv(dir.path(), &truth);
    // 16-bit storage with a per-slice slope: error below 1/65535 of the slice maximum.
    let worst = simulated
        .data
        .iter()
        .zip(&read.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let max = simulated.data.iter().copied().fold(0.0f32, f32::max);
    assert!(worst <= max / 65535.0 + 1e-4, "worst {worst}, max {max}");

    let obj = dicom_object::open_file(dir.path().join(&truth.files[0])).unwrap();
    let text = |tag| {
        obj.element(tag)
            .unwrap()
            .to_str()
            .unwrap()
            .trim()
            .to_string()
    };
    assert!(text(tags::SERIES_TIME) < text(tags::ACQUISITION_TIME));
    let seq = obj
        .element(tags::RADIOPHARMACEUTICAL_INFORMATION_SEQUENCE)
        .unwrap()
        .items()
        .unwrap();
    let dose: f64 = seq[0]
        .element(tags::RADIONUCLIDE_TOTAL_DOSE)
        .unwrap()
        .to_str()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let weight: f64 = text(tags::PATIENT_WEIGHT).parse().unwrap();
    // Body-weight SUV factor recomputed from the header (2 h uptake, T½ 4062.6 s).
    let factor = weight * 1000.0 / (dose * (-(7200.0f64) / 4062.6).exp2());
    assert!((factor - truth.suv_per_bqml).abs() < 1e-12 * factor);
    assert_eq!(text(tags::SERIES_INSTANCE_UID), truth.series_uid);

    // Same seed, same bytes; another seed, other UIDs.
    let again = tempfile::tempdir().unwrap();
    write_phantom_with(again.path(), &spec).unwrap();
    let name = &truth.files[10];
    assert_eq!(
        std::fs::read(dir.path().join(name)).unwrap(),
        std::fs::read(again.path().join(name)).unwrap()
    );
    let other = simulate(&small(6)).unwrap().1;
    assert_ne!(other.series_uid, truth.series_uid);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ground_truth.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["lesions"].as_array().unwrap().len(),
        truth.lesions.len()
    );
    assert_eq!(json["suv_per_bqml"].as_f64().unwrap(), truth.suv_per_bqml);
}

#[test]
fn detection_recovers_phantom_lesions_over_seeds() {
    // HER2EX_PHANTOM_SEEDS=n widens the sweep (e.g. in a release run); default 4 seeds.
    let seeds: u64 = std::env::var("HER2EX_PHANTOM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let (mut eligible, mut found, mut false_positives) = (0, 0, 0);
    let mut notes = Vec::new();
    for seed in 1..=seeds {
        let dir = tempfile::tempdir().unwrap();
        let truth = write_phantom(dir.path(), seed).unwrap();
        let suv = read_phantom_suv(dir.path(), &truth);
        let lesions = detect(&suv, &LesionParams::default());
        let s = score(&truth, &lesions);
        eligible += s.eligible;
        found += s.found;
        false_positives += s.false_positives;
        notes.extend(s.notes);
        assert!(
            s.false_positives <= 1,
            "seed {seed}: {} false positives\n{notes:#?}",
            s.false_positives
        );
        assert_eq!(s.lesions_called_physiological, 0, "seed {seed}");
        // Physiology: two kidneys, one liver, spleen and bladder, each near its organ.
        let labelled = |organ| {
            lesions
                .iter()
                .filter(|l| l.physiological == Some(organ))
                .collect::<Vec<_>>()
        };
        for (organ, count, within) in [
            (Organ::Kidney, 2, 20.0),
            (Organ::Liver, 1, 30.0),
            (Organ::Spleen, 1, 20.0),
            (Organ::Bladder, 1, 20.0),
        ] {
            let hits = labelled(organ);
            assert_eq!(hits.len(), count, "seed {seed}: {organ:?}");
            for h in hits {
                assert!(!h.her2_avid);
                let d = distance_to_organ(&truth, organ, h.centroid_mm);
                assert!(d <= within, "seed {seed}: {organ:?} centroid {d:.1} mm off");
            }
        }
    }
    eprintln!("{seeds} seeds: found {found}/{eligible} lesions, {false_positives} false positives");
    for note in &notes {
        eprintln!("{note}");
    }
    assert!(
        eligible as u64 >= 7 * seeds,
        "too few lesions to judge: {eligible}"
    );
    let rate = found as f64 / eligible as f64;
    assert!(rate >= 0.95, "recovered {found}/{eligible}\n{notes:#?}");
}

#[test]
fn series_reader_and_suv_give_the_same_candidates_as_the_ground_truth_factor() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_phantom(dir.path(), 7).unwrap();
    let files: Vec<_> = truth.files.iter().map(|f| dir.path().join(f)).collect();
    let series = pet::series::load_series_files(&files).unwrap();
    assert!(series.problems.is_empty(), "{:?}", series.problems);
    let calibration = pet::suv::calibrate(&series, &pet::suv::SuvOptions::default()).unwrap();
    for f in &calibration.instances {
        let factor = f.suvbw_scale_factor.unwrap();
        assert!(
            (factor - truth.suv_per_bqml).abs() < 1e-9 * factor,
            "{factor} vs {}",
            truth.suv_per_bqml
        );
    }
    let through_reader = detect(
        &pet::suv::suv_volume(&series, &calibration),
        &LesionParams::default(),
    );
    let ours = detect(
        &read_phantom_suv(dir.path(), &truth),
        &LesionParams::default(),
    );
    assert_eq!(through_reader.len(), ours.len());
    for (a, b) in through_reader.iter().zip(&ours) {
        assert_eq!(
            (a.max_voxel, a.voxels, a.physiological),
            (b.max_voxel, b.voxels, b.physiological)
        );
        assert!((a.suv_max - b.suv_max).abs() <= 1e-5 * b.suv_max);
        for c in 0..3 {
            assert!((a.centroid_mm[c] - b.centroid_mm[c]).abs() < 1e-3);
        }
    }
    assert!(score(&truth, &through_reader).found >= 8);
}

#[test]
fn detection_is_bit_identical_whatever_the_thread_count() {
    let (suv, truth) = simulate(&PhantomSpec::new(2)).unwrap();
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| detect(&suv, &LesionParams::default()))
    };
    let (one, two, three) = (run(1), run(2), run(3));
    assert_eq!(one, two);
    assert_eq!(one, three);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&three).unwrap()
    );
    // The simulation itself is repeatable too.
    let again = simulate(&PhantomSpec::new(2)).unwrap();
    assert_eq!(again.0.data, suv.data);
    assert_eq!(again.1, truth);
}

#[test]
fn suv_while_reading_is_reader_then_suv_bit_for_bit_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_phantom_with(dir.path(), &small(11)).unwrap();
    let files: Vec<_> = truth.files.iter().map(|f| dir.path().join(f)).collect();
    let opts = pet::suv::SuvOptions::default();
    let series = pet::series::load_series_files(&files).unwrap();
    let calibration = pet::suv::calibrate(&series, &opts).unwrap();
    let expected = pet::suv::suv_volume(&series, &calibration);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut in_place = series.volume.clone();
    let range = pet::suv::scale_to_suv(&mut in_place, &calibration);
    assert_eq!(bits(&in_place.data), bits(&expected.data));
    assert_eq!(range, pet::voi::min_max(&expected));
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let loaded = pool.install(|| pet::suv::load_suv(&files, &opts)).unwrap();
        assert_eq!(loaded.series.volume.dims, expected.dims);
        assert_eq!(bits(&loaded.series.volume.data), bits(&expected.data));
        assert_eq!(loaded.calibration.as_ref(), Ok(&calibration));
        assert_eq!(loaded.range, range);
        assert_eq!(
            pool.install(|| detect(&loaded.series.volume, &LesionParams::default())),
            detect(&expected, &LesionParams::default())
        );
    }
}

#[test]
fn lesion_metrics_are_consistent_on_the_phantom() {
    let (suv, truth) = simulate(&PhantomSpec::new(3)).unwrap();
    let params = LesionParams::default();
    let lesions = detect(&suv, &params);
    for l in &lesions {
        assert!(l.suv_peak <= l.suv_max && l.suv_peak > 0.0, "{l:?}");
        assert!(
            l.suv_mean <= l.suv_max
                && l.suv_mean >= f64::from(params.mtv_fraction) * l.suv_max - 1e-6
        );
        assert!((l.tlu - l.suv_mean * l.mtv_ml).abs() < 1e-9 * l.tlu.max(1.0));
        assert!((l.mtv_ml - l.voxels as f64 * 0.064).abs() < 1e-9);
        assert!(l.mtv_ml >= params.min_volume_ml);
        assert_eq!(l.her2_avid, l.physiological.is_none() && l.suv_max >= 6.0);
        let m = l.max_voxel;
        assert_eq!(f64::from(suv.data[suv.index(m[0], m[1], m[2])]), l.suv_max);
    }
    let ids: Vec<u32> = lesions.iter().map(|l| l.id).collect();
    assert_eq!(ids, (1..=lesions.len() as u32).collect::<Vec<_>>());
    // A large uniform lesion: its SUVpeak approaches its uptake (the sphere fits inside).
    let big = truth
        .lesions
        .iter()
        .filter(|l| l.diameter_mm >= 20.0 && l.background_suv < 2.0)
        .max_by(|a, b| a.diameter_mm.total_cmp(&b.diameter_mm));
    if let Some(big) = big {
        let hit = lesions
            .iter()
            .find(|l| lesions_support::near(l.centroid_mm, big.centre_mm))
            .expect("large lesion found");
        assert!(
            hit.suv_peak > 0.8 * big.activity_suv && hit.suv_peak <= big.true_suv_max + 0.5,
            "{hit:?} vs {big:?}"
        );
    }
    // A higher threshold finds no more candidates; a larger minimum volume keeps fewer.
    let strict = detect(
        &suv,
        &LesionParams {
            threshold_suv: 6.0,
            ..params
        },
    );
    assert!(strict.len() <= lesions.len());
    assert!(
        strict
            .iter()
            .filter(|l| l.physiological.is_none())
            .all(|l| l.suv_max >= 6.0)
    );
    let big_only = detect(
        &suv,
        &LesionParams {
            min_volume_ml: 3.0,
            ..params
        },
    );
    assert!(big_only.iter().all(|l| l.mtv_ml >= 3.0));
}

#[test]
fn mip_of_the_phantom_is_a_tall_png_with_markers() {
    let (suv, _) = simulate(&PhantomSpec::new(1)).unwrap();
    let lesions = detect(&suv, &LesionParams::default());
    let markers: Vec<_> = lesions.iter().map(|l| (l.id, l.centroid_mm)).collect();
    let png = pet::mip::coronal_mip_png(&suv, &markers, 10.0);
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgb).unwrap();
    // 600 mm × 1000 mm field → 3 : 5.
    assert_eq!(info.width * 5, info.height * 3);
    let red = rgb
        .chunks(3)
        .filter(|p| p[0] > 200 && p[1] < 40 && p[2] < 40)
        .count();
    assert!(
        red > 100 * markers.len(),
        "{red} red pixels for {} markers",
        markers.len()
    );
    assert_eq!(png, pet::mip::coronal_mip_png(&suv, &markers, 10.0));
}

#[test]
fn invalid_specs_and_unwritable_folders_are_errors() {
    use pet::phantom::PhantomError;
    let dir = tempfile::tempdir().unwrap();
    let base = PhantomSpec::new(1);
    let bad = [
        PhantomSpec {
            dims: [0, 10, 10],
            ..base.clone()
        },
        PhantomSpec {
            dims: [1024, 1024, 4000],
            ..base.clone()
        },
        PhantomSpec {
            spacing_mm: [f64::NAN, 4.0, 4.0],
            ..base.clone()
        },
        PhantomSpec {
            weight_kg: -1.0,
            ..base.clone()
        },
        PhantomSpec {
            noise: f64::INFINITY,
            ..base.clone()
        },
    ];
    for spec in &bad {
        let result = write_phantom_with(dir.path(), spec);
        assert!(
            matches!(result, Err(PhantomError::InvalidSpec(_))),
            "{spec:?}"
        );
    }
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let result = write_phantom_with(&file.join("sub"), &small(1));
    assert!(matches!(result, Err(PhantomError::Io { .. })));
}
