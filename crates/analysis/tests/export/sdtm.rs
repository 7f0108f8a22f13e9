use analysis::export::sdtm::{DATASETS, write_define};
use analysis::export::{SdtmFiles, SdtmWriter};

use super::common::{info, parse_csv, participant};

/// The datasets of participants `ns`, parsed, in the order of `DATASETS`.
fn datasets(ns: &[u16]) -> Vec<Vec<Vec<String>>> {
    let files = SdtmFiles {
        dm: vec![],
        ae: vec![],
        tu: vec![],
        tr: vec![],
        rs: vec![],
        ec: vec![],
        dv: vec![],
    };
    let mut w = SdtmWriter::new(files, &info()).unwrap();
    for &n in ns {
        w.participant(&participant(n)).unwrap();
    }
    let f = w.finish().unwrap();
    [f.dm, f.ae, f.tu, f.tr, f.rs, f.ec, f.dv]
        .into_iter()
        .map(|b| parse_csv(&String::from_utf8(b).unwrap()))
        .collect()
}

/// The rows of a dataset as (column, value) lookups.
fn rows(ds: &[Vec<String>]) -> Vec<impl Fn(&str) -> String + '_> {
    let head = &ds[0];
    ds[1..]
        .iter()
        .map(move |r| {
            move |col: &str| {
                let i = head
                    .iter()
                    .position(|h| h == col)
                    .unwrap_or_else(|| panic!("no {col}"));
                r[i].clone()
            }
        })
        .collect()
}

#[test]
fn every_dataset_has_its_documented_columns_and_full_rows() {
    let ds = datasets(&[1, 2]);
    for (d, rows) in DATASETS.iter().zip(&ds) {
        assert_eq!(rows[0], d.columns(), "{} header", d.domain);
        for r in &rows[1..] {
            assert_eq!(r.len(), rows[0].len(), "{} row {r:?}", d.domain);
            assert_eq!(r[1], d.domain);
        }
    }
    let mut define = Vec::new();
    write_define(&mut define).unwrap();
    let define = parse_csv(&String::from_utf8(define).unwrap());
    let total: usize = DATASETS.iter().map(|d| d.variables.len()).sum();
    assert_eq!(define.len(), 1 + total);
    assert!(
        define
            .iter()
            .any(|r| r[0] == "TR" && r[2] == "TRTESTCD" && r[5].contains("SUVMAX"))
    );
}

#[test]
fn demographics_name_the_subject_and_her_arm() {
    let ds = datasets(&[1]);
    let dm = rows(&ds[0]);
    assert_eq!(dm.len(), 1);
    assert_eq!(dm[0]("USUBJID"), "HER2-EX-KS-001");
    assert_eq!(dm[0]("BRTHDTC"), "1971");
    assert_eq!(dm[0]("SEX"), "F");
    assert_eq!(dm[0]("RFICDTC"), "2026-03-03T09:00:00Z");
    assert_eq!(dm[0]("ARMCD"), "ARM1");
}

#[test]
fn an_adverse_event_is_one_row_with_its_follow_up() {
    let ds = datasets(&[1]);
    let ae = rows(&ds[1]);
    assert_eq!(
        ae.len(),
        1,
        "the first report was superseded by its follow-up"
    );
    assert_eq!(ae[0]("AESEQ"), "1");
    assert_eq!(ae[0]("AEDECOD"), "Nausea");
    assert_eq!(ae[0]("AETOXGR"), "1");
    assert_eq!(ae[0]("AESTDTC"), "2026-03-16");
    assert_eq!(ae[0]("AEENDTC"), "2026-03-20");
    assert_eq!(ae[0]("AEOUT"), "RECOVERED");
    assert_eq!(ae[0]("AEREASND"), "Follow-up: resolved");
}

#[test]
fn ct_diameters_and_pet_uptake_are_tumour_results() {
    let ds = datasets(&[1]);
    let tr = rows(&ds[3]);
    let find = |lnk: &str, cd: &str, visit: &str| {
        tr.iter()
            .find(|r| r("TRLNKID") == lnk && r("TRTESTCD") == cd && r("VISIT") == visit)
            .map(|r| (r("TRSTRESN"), r("TRSTRESU"), r("TRMETHOD")))
            .unwrap_or_else(|| panic!("no {cd} of {lnk} at {visit}"))
    };
    assert_eq!(
        find("T1", "LDIAM", "baseline"),
        ("30".into(), "mm".into(), "CT".into())
    );
    assert_eq!(
        find("T1", "LDIAM", "follow_up"),
        ("21".into(), "mm".into(), "CT".into())
    );
    assert_eq!(
        find("PET1-C1", "SUVMAX", "baseline"),
        ("9".into(), "".into(), "PET".into())
    );
    assert_eq!(find("PET1-C2", "SUVMAX", "baseline").0, "4.5");
    assert_eq!(find("PET1-C1", "MTV", "baseline").1, "mL");
    let tu = rows(&ds[2]);
    assert_eq!(tu.len(), 4, "two CT targets, two PET candidates");
    let rs = rows(&ds[4]);
    assert_eq!(rs[0]("RSTESTCD"), "OVRLRESP");
    assert_eq!(
        rs[0]("RSORRES"),
        "PR",
        "sum 35 mm against 50 mm at baseline: −30 %"
    );
}

#[test]
fn exposure_holds_the_imp_and_every_t_dxd_dose() {
    let ds = datasets(&[1]);
    let ec = rows(&ds[5]);
    assert_eq!(ec.len(), 3);
    assert_eq!(
        (ec[0]("ECTRT"), ec[0]("ECDOSE"), ec[0]("ECDOSU")),
        ("HER2-PET IMP".into(), "200".into(), "MBq".into())
    );
    for r in &ec[1..] {
        assert_eq!(r("ECTRT"), "TRASTUZUMAB DERUXTECAN");
        let mg: f64 = r("ECDOSE").parse().unwrap();
        assert!((mg - 5.4 * 68.0).abs() < 1e-9, "{mg}");
    }
    assert_eq!(ec[2]("ECSTDTC"), "2026-04-03");
}

#[test]
fn a_deviation_with_commas_and_quotes_survives_the_round_trip() {
    let ds = datasets(&[1]);
    let dv = rows(&ds[6]);
    assert_eq!(dv.len(), 1);
    assert_eq!(
        dv[0]("DVTERM"),
        "Cycle 2 safety labs drawn 3 days early, \"per the site's routine\""
    );
    assert_eq!(dv[0]("DVCAT"), "MINOR");
    assert_eq!(dv[0]("DVSTAT"), "open");
}
