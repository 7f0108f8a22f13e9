//! Exports at scale: N synthetic participants (default 10 000) streamed through the ODM
//! and the SDTM writers into files, one participant at a time.
//!
//! The participants are a hundred built journeys (screening labs, PET, biopsy,
//! pathology, T-DXd, an adverse event and its follow-up, CT, a query, a deviation),
//! copied under new study ids: building 10 000 journeys through `decide` would time the
//! protocol, not the export. Run it with `bench/export/run.sh`, which also measures the
//! peak memory.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use analysis::export::sdtm::write_define;
use analysis::export::{OdmWriter, SdtmFiles, SdtmWriter};
use analysis::source::{ParticipantSource, SiteInfo};
use analysis::testing::{arm1_participant, consent_time, study_info};
use protocol::Event;

/// Participant `i` (from 0): template `i % 100` under site `S<A..>` and a new number.
fn participant(templates: &[ParticipantSource], i: usize) -> ParticipantSource {
    let mut p = templates[i % templates.len()].clone();
    // 999 ids per site code (PROTOCOL §3): sites SA, SB, … then TA, …
    let k = i / 999;
    let site = format!(
        "{}{}",
        (b'S' + (k / 26) as u8) as char,
        (b'A' + (k % 26) as u8) as char
    );
    let id = format!("{site}-{:03}", i % 999 + 1);
    for e in &mut p.events {
        if let Event::ParticipantRegistered {
            site: s, study_id, ..
        } = &mut e.event
        {
            *s = site.clone();
            *study_id = id.clone();
        }
        e.site = Some(site.clone());
    }
    p.study_id = id;
    p.site = site;
    p
}

fn create(path: PathBuf) -> BufWriter<File> {
    BufWriter::new(File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let n: usize = arg("--participants")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let out = PathBuf::from(arg("--out").map_or("target/export-bench", String::as_str));
    std::fs::create_dir_all(out.join("sdtm")).expect("output directory");

    let templates: Vec<ParticipantSource> = (1..=100)
        .map(|k| arm1_participant("KS", k, consent_time(k)))
        .collect();
    let mut info = study_info(consent_time(1) + chrono::Duration::days(400), 10_000_000);
    // The copies' sites, so every audit record's location is one of the file's.
    for k in 0..n.div_ceil(999) {
        let code = participant(&templates, k * 999).site;
        info.sites.push(SiteInfo {
            name: format!("Hospital {code}"),
            code,
        });
    }
    let mut odm = OdmWriter::new(create(out.join("odm.xml")), &info).expect("odm head");
    let sdtm_file = |name: &str| create(out.join("sdtm").join(name));
    let files = SdtmFiles {
        dm: sdtm_file("dm.csv"),
        ae: sdtm_file("ae.csv"),
        tu: sdtm_file("tu.csv"),
        tr: sdtm_file("tr.csv"),
        rs: sdtm_file("rs.csv"),
        ec: sdtm_file("ec.csv"),
        dv: sdtm_file("dv.csv"),
    };
    let mut sdtm = SdtmWriter::new(files, &info).expect("sdtm heads");
    let (mut t_odm, mut t_sdtm, mut events) = (Duration::ZERO, Duration::ZERO, 0);
    let start = Instant::now();
    for i in 0..n {
        let p = participant(&templates, i);
        events += p.events.len();
        let t = Instant::now();
        odm.participant(&p).expect("odm participant");
        t_odm += t.elapsed();
        let t = Instant::now();
        sdtm.participant(&p).expect("sdtm participant");
        t_sdtm += t.elapsed();
    }
    let (oc, sc) = (odm.counts(), sdtm.counts());
    odm.finish().expect("odm end");
    sdtm.finish().expect("sdtm end");
    write_define(&mut create(out.join("sdtm").join("define.csv"))).expect("define");
    let total = start.elapsed();
    let per_min = |d: Duration| n as f64 / d.as_secs_f64() * 60.0;
    let size = std::fs::metadata(out.join("odm.xml"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("participants {n}, events {events}");
    println!(
        "odm: {} ItemData, {:.1} MB, {:.2} s ({:.0} participants/min)",
        oc.data,
        size as f64 / 1e6,
        t_odm.as_secs_f64(),
        per_min(t_odm)
    );
    println!(
        "sdtm: {} rows, {:.2} s ({:.0} participants/min)",
        sc.data,
        t_sdtm.as_secs_f64(),
        per_min(t_sdtm)
    );
    println!(
        "total with copying the participants: {:.2} s ({:.0} participants/min)",
        total.as_secs_f64(),
        per_min(total)
    );
}
