//! `her2ex export` as the data manager and the statistician use it on the demo study:
//! the ODM file validates against the official ODM 1.3.2 schema, an independent reader
//! (odmlib) finds every participant and every datum, pandas loads every dataset with the
//! documented columns, the same cut-off gives the same bytes, and every export is in the
//! audit trail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{demo_participants, her2ex, text};

/// The workspace root (the tests read `testdata/` and `scripts/` from it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether a missing reference tool fails the test (the test script sets it) or skips.
fn required() -> bool {
    std::env::var("HER2EX_REQUIRE_PYTHON").is_ok_and(|v| v == "1")
}

/// (participants, data) from the summary line `exported N participants (M data) …`.
fn summary(o: &Output) -> (usize, usize) {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("exported "))
        .unwrap_or_else(|| panic!("no summary: {}", text(o)));
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words[1].parse().unwrap();
    let m = words[3].trim_start_matches('(').parse().unwrap();
    (n, m)
}

/// A small demo study (12 women enrolled, with their screen failures) in a fresh data
/// directory, and how many participants it registered.
fn demo() -> (tempfile::TempDir, usize) {
    let dir = tempfile::tempdir().unwrap();
    let o = her2ex(dir.path(), &["demo", "--no-serve", "--participants", "12"]);
    assert!(o.status.success(), "{}", text(&o));
    let registered = demo_participants(&o);
    (dir, registered)
}

fn xmllint(file: &Path) -> Option<Output> {
    let schema = root().join("testdata/odm-1.3.2/ODM1-3-2.xsd");
    Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schema)
        .arg(file)
        .output()
        .ok()
}

#[test]
fn exports_validate_read_back_and_repeat_byte_for_byte() {
    let (dir, registered) = demo();
    let data = dir.path();
    let as_of = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    // Each export as its role takes it, at the same cut-off.
    let export = |format: &str, who: &str, out: &Path| {
        her2ex(
            data,
            &[
                "export",
                format,
                "--as",
                who,
                "--as-of",
                &as_of,
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let odm = |out: &Path| export("odm", "dana.dm", out);
    let (a, b) = (data.join("a.xml"), data.join("b.xml"));
    let o = odm(&a);
    assert!(o.status.success(), "{}", text(&o));
    let (participants, items) = summary(&o);
    assert_eq!(participants, registered, "the demo's participants");
    assert!(items > 1000, "{items} data");
    assert!(odm(&b).status.success());
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "same cut-off, same bytes"
    );
    assert!(!data.join("a.partial").exists());

    let sdtm = |out: &Path| export("sdtm", "sam.stat", out);
    let (sa, sb) = (data.join("sdtm-a"), data.join("sdtm-b"));
    let o = sdtm(&sa);
    assert!(o.status.success(), "{}", text(&o));
    let (dm_rows, rows) = summary(&o);
    assert_eq!(dm_rows, registered);
    assert!(sdtm(&sb).status.success());
    for f in ["dm", "ae", "tu", "tr", "rs", "ec", "dv", "define"] {
        let name = format!("{f}.csv");
        assert_eq!(
            std::fs::read(sa.join(&name)).unwrap(),
            std::fs::read(sb.join(&name)).unwrap(),
            "{name}"
        );
    }

    match xmllint(&a) {
        Some(v) => assert!(v.status.success(), "ODM 1.3.2 schema: {}", text(&v)),
        None if required() => panic!("xmllint is required (HER2EX_REQUIRE_PYTHON=1) but missing"),
        None => eprintln!("skipped: xmllint not installed, the schema check did not run"),
    }
    let Some(python) = std::env::var_os("HER2EX_PYTHON") else {
        assert!(
            !required(),
            "HER2EX_REQUIRE_PYTHON=1 but HER2EX_PYTHON is not set (scripts/python-ref)"
        );
        eprintln!("skipped: HER2EX_PYTHON not set, the odmlib/pandas read-back did not run");
        return;
    };
    let check = Command::new(python)
        .arg(root().join("scripts/reference/check_exports.py"))
        .args(["--odm", a.to_str().unwrap(), "--sdtm", sa.to_str().unwrap()])
        .args([
            "--participants",
            &participants.to_string(),
            "--items",
            &items.to_string(),
        ])
        .args(["--rows", &rows.to_string()])
        .output()
        .expect("run the reference check");
    assert!(check.status.success(), "reference check: {}", text(&check));
}

#[test]
fn only_export_roles_may_export_and_every_export_is_audited() {
    let (dir, _) = demo();
    let data = dir.path();
    let out = data.join("odm.xml");
    let o = her2ex(
        data,
        &[
            "export",
            "odm",
            "--as",
            "monica.monitor",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("monitor may not"), "{}", text(&o));
    assert!(
        !out.exists() && !data.join("odm.partial").exists(),
        "a refused export leaves no file"
    );
    let o = her2ex(
        data,
        &[
            "export",
            "odm",
            "--as",
            "dana.dm",
            "--as-of",
            "2999-01-01",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a cut-off in the future: {}",
        text(&o)
    );
    let o = her2ex(
        data,
        &[
            "export",
            "sdtm",
            "--as",
            "sam.stat",
            "--as-of",
            "yesterday",
            "--out",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    let o = her2ex(
        data,
        &[
            "export",
            "odm",
            "--as",
            "dana.dm",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = her2ex(
        data,
        &[
            "export",
            "sdtm",
            "--as",
            "sam.stat",
            "--out",
            data.join("sdtm").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open_data_dir(data).await.unwrap();
        let outputs = store.read_stream("study/outputs").await.unwrap();
        let who: Vec<&str> = outputs.iter().map(|e| e.meta.actor.as_str()).collect();
        assert_eq!(
            who,
            ["dana.dm", "sam.stat"],
            "one audited output per export, refused ones none"
        );
        assert!(
            outputs[0].payload.to_string().contains("odm_export"),
            "{}",
            outputs[0].payload
        );
        assert!(outputs[1].payload.to_string().contains("sdtm_export"));
        // The SDTM export's cut-off includes the ODM export's own record: one event later.
        assert_eq!(outputs[1].seq, outputs[0].seq + 1);
        store.close().await;
    });
}
