use analysis::export::sdtm::write_define;
use analysis::export::{SdtmFiles, SdtmWriter};
use analysis::testing::{arm1_participant, consent_time, study_info};
use chrono::Duration;

fn files() -> SdtmFiles<Vec<u8>> {
    SdtmFiles {
        dm: vec![],
        ae: vec![],
        tu: vec![],
        tr: vec![],
        rs: vec![],
        ec: vec![],
        dv: vec![],
    }
}

#[test]
fn dump() {
    let info = study_info(consent_time(1) + Duration::days(60), 5000);
    let mut w = SdtmWriter::new(files(), &info).unwrap();
    w.participant(&arm1_participant("KS", 1, consent_time(1)))
        .unwrap();
    let f = w.finish().unwrap();
    for (n, b) in [
        ("dm", &f.dm),
        ("ae", &f.ae),
        ("tu", &f.tu),
        ("tr", &f.tr),
        ("rs", &f.rs),
        ("ec", &f.ec),
        ("dv", &f.dv),
    ] {
        println!("== {n}\n{}", String::from_utf8_lossy(b));
    }
    let mut d = Vec::new();
    write_define(&mut d).unwrap();
}
