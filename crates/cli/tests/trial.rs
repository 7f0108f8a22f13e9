//! The `her2ex` binary as an operator uses it: init, sites, users, the demo, the audit
//! check (and its alarm when a row is edited behind the application's back), and a
//! server killed with SIGKILL in the middle of a burst of writes.

#[allow(dead_code)]
mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{her2ex_with as her2ex, text};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_her2ex");

/// The checkpoint key of a test study: inside its temporary directory, so the test
/// cleans it up (a real study keeps it beside the data directory, see `--key-file`).
fn key_file(data: &Path) -> std::path::PathBuf {
    data.join("test-keys").join("checkpoint.key")
}

fn setup(data: &Path) {
    let o = her2ex(
        data,
        &["init", "--password-stdin"],
        Some("admin-password-1\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = her2ex(
        data,
        &["site", "add", "KS", "Karolinska University Hospital"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = her2ex(
        data,
        &[
            "user",
            "add",
            "nurse",
            "--role",
            "research_nurse",
            "--site",
            "KS",
            "--password-stdin",
        ],
        Some("nurse-password-1\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn operator_commands_refuse_bad_input_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let o = her2ex(dir.path(), &["site", "add", "ks", "lower case"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("capital letters"), "{}", text(&o));
    let o = her2ex(
        dir.path(),
        &[
            "user",
            "add",
            "x1",
            "--role",
            "investigator",
            "--password-stdin",
        ],
        Some("long-enough-1\n"),
    );
    assert!(text(&o).contains("belongs to a site"), "{}", text(&o));
    let o = her2ex(
        dir.path(),
        &[
            "user",
            "add",
            "x2",
            "--role",
            "nurse",
            "--site",
            "KS",
            "--password-stdin",
        ],
        Some("long-enough-1\n"),
    );
    assert!(text(&o).contains("unknown role"), "{}", text(&o));
    let o = her2ex(
        dir.path(),
        &["user", "add", "x3", "--role", "monitor", "--password-stdin"],
        Some("short\n"),
    );
    assert!(text(&o).contains("at least 12"), "{}", text(&o));
    let o = her2ex(dir.path(), &["user", "list"], None);
    assert!(
        text(&o).contains("nurse\tresearch_nurse\tKS"),
        "{}",
        text(&o)
    );
    for sub in [
        &["--help"][..],
        &["demo", "--help"],
        &["audit", "verify", "--help"],
        &["user", "add", "--help"],
        &["serve", "--help"],
    ] {
        let o = Command::new(BIN).args(sub).output().unwrap();
        assert!(o.status.success() && text(&o).contains("Usage"), "{sub:?}");
    }
}

/// Every signature object (`{"signer": …}`) anywhere in an event's data.
fn signatures(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            if map.contains_key("signer") {
                out.push(v.clone());
            }
            map.values().for_each(|x| signatures(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| signatures(x, out)),
        _ => {}
    }
}

/// Every signature of the demo is by an investigator of the participant's site, and an
/// attestation is recorded by the investigator who signed it.
fn assert_signed_by_site_investigators(data: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open_data_dir(data).await.unwrap();
        let users = store.users().await.unwrap();
        let (mut signed, mut attestations) = (0, 0);
        for p in store.participants(None).await.unwrap() {
            let stream = format!("participant/{}", p.study_id);
            for e in store.read_stream(&stream).await.unwrap() {
                let mut found = Vec::new();
                signatures(&e.payload, &mut found);
                for sig in found {
                    signed += 1;
                    let signer = sig["signer"].as_str().unwrap_or_default();
                    let user = users.iter().find(|u| u.username == signer);
                    let user = user.unwrap_or_else(|| {
                        panic!("{} #{}: signer {signer:?} is no user", e.kind, e.seq)
                    });
                    assert_eq!(user.role, "investigator", "{} #{}", e.kind, e.seq);
                    assert_eq!(user.site.as_deref(), Some(p.site.as_str()), "{}", e.kind);
                    assert_eq!(sig["role"], "investigator", "{} #{}", e.kind, e.seq);
                    if e.kind == "attestation_recorded" {
                        attestations += 1;
                        assert_eq!(e.meta.actor, signer, "attestation #{} recorded by", e.seq);
                        assert_eq!(e.meta.role, "investigator");
                    }
                }
            }
        }
        // Four attestations per screened woman (86 screened in the default demo).
        assert!(
            attestations >= 300,
            "the demo has attestations: {attestations}"
        );
        assert!(
            signed > attestations + 100,
            "enrolments, targets and casebooks are signed too: {signed}"
        );
        store.close().await;
    });
}

/// The default demo: 70 women enrolled at three sites over fourteen months, entered
/// through the write path. The audit check passes on it, every signature is an
/// investigator's of the woman's site, its analyses have numbers, and an event edited
/// behind the application's back is named.
#[test]
fn the_70_participant_demo_passes_the_audit_check_and_names_an_edited_event() {
    let dir = tempfile::tempdir().unwrap();
    let o = her2ex(dir.path(), &["demo", "--no-serve"], None);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("erik.inv"), "demo prints its sign-ins: {out}");
    assert!(
        out.contains("100 % entered"),
        "demo prints its progress: {out}"
    );
    let o = her2ex(dir.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("intact"));
    assert_signed_by_site_investigators(dir.path());

    let o = her2ex(dir.path(), &["analyse", "--json", "--as", "sam.stat"], None);
    assert!(o.status.success(), "{}", text(&o));
    let a: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let counts = &a["counts"];
    assert_eq!(counts["enrolled"], 70, "{counts}");
    for key in ["screen_failed", "arm1", "arm2", "progressed", "died"] {
        assert!(
            counts[key].as_u64().is_some_and(|n| n > 0),
            "{key}: {counts}"
        );
    }
    let roc = &a["diagnostic"]["roc_patient"];
    let auc = roc["auc"]
        .as_f64()
        .unwrap_or_else(|| panic!("an AUC: {roc}"));
    assert!((0.6..=1.0).contains(&auc), "{roc}");
    // T-DXd's safety shows: an ILD, serious events.
    let safety = &a["safety"];
    assert!(safety["arms"][0]["with_ild"].as_u64() > Some(0), "{safety}");
    assert!(
        safety["serious"].as_array().is_some_and(|s| !s.is_empty()),
        "{safety}"
    );

    // Rewrite who recorded one event, behind the application's back.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seq: i64 = rt.block_on(async {
        let store = store::Store::open_data_dir(dir.path()).await.unwrap();
        let events = store.read_stream("participant/KS-001").await.unwrap();
        let target = &events[1];
        store
            .execute_raw_for_tests(&format!(
                "UPDATE events SET actor = 'someone.else' WHERE seq = {}",
                target.seq
            ))
            .await
            .unwrap();
        store.close().await;
        target.seq
    });
    let o = her2ex(dir.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("#{seq}")),
        "names the event: {}",
        text(&o)
    );
    assert!(text(&o).contains("participant/KS-001"), "{}", text(&o));
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(data: &Path, port: u16) -> Server {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .env("HER2EX_KEY_FILE", key_file(data))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    Server(child)
}

async fn sign_in(base: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for _ in 0..100 {
        if let Ok(r) = client
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"username": "nurse", "password": "nurse-password-1"}))
            .send()
            .await
        {
            let me: Value = r.json().await.unwrap();
            return (client, me["csrf_token"].as_str().unwrap().to_string());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server did not come up at {base}");
}

#[test]
fn a_server_killed_mid_burst_keeps_every_acknowledged_write_and_a_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(dir.path(), port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acknowledged: Vec<String> = rt.block_on(async {
        let (client, csrf) = sign_in(&base).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // Eight writers register participants as fast as they can (bounded: 60 each).
        let mut tasks = Vec::new();
        for w in 0..8 {
            let (client, csrf, base, tx) = (client.clone(), csrf.clone(), base.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..60 {
                    let r = client
                        .post(format!("{base}/api/v1/participants"))
                        .header("x-csrf-token", &csrf)
                        .json(&json!({"year_of_birth": 1950 + (w * 7 + i) % 50, "sex": "female"}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            let body: Value = r.json().await.unwrap_or(Value::Null);
                            if let Some(id) = body["study_id"].as_str() {
                                let _ = tx.send(id.to_string());
                            }
                        }
                        _ => break,
                    }
                }
            }));
        }
        drop(tx);
        // Kill the server once a good number of writes were answered.
        let mut acked = Vec::new();
        while let Some(id) = rx.recv().await {
            acked.push(id);
            if acked.len() == 40 {
                // SIGKILL: no shutdown code runs.
                server.0.kill().unwrap();
            }
        }
        for t in tasks {
            let _ = t.await;
        }
        acked
    });
    let _ = server.0.wait();
    assert!(
        acknowledged.len() >= 40,
        "only {} writes answered",
        acknowledged.len()
    );

    // After a restart every answered write is there, and the chain verifies.
    let _server = start_server(dir.path(), port);
    rt.block_on(async {
        let (client, _) = sign_in(&base).await;
        let list: Value = client
            .get(format!("{base}/api/v1/participants"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let present: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["study_id"].as_str())
            .collect();
        for id in &acknowledged {
            assert!(
                present.contains(&id.as_str()),
                "{id} was acknowledged but is gone"
            );
        }
        for p in list.as_array().unwrap() {
            assert_eq!(p["state"], "registered", "no half-written participant: {p}");
            assert_eq!(p["version"], 1);
        }
    });
    drop(_server);
    let o = her2ex(dir.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A fresh PostgreSQL database for one test, dropped at the end.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> PgDatabase {
        let name = format!("her2ex_cli_{}", std::process::id());
        let psql = |sql: &str| {
            let o = Command::new("psql")
                .args([admin_url, "-v", "ON_ERROR_STOP=1", "-c", sql])
                .output()
                .expect("psql");
            assert!(o.status.success(), "{sql}: {}", text(&o));
        };
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
        psql(&format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(admin_url);
        PgDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &self.admin_url,
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[test]
fn the_demo_and_the_audit_check_run_on_postgresql_too() {
    let Ok(admin_url) = std::env::var("HER2EX_TEST_POSTGRES_URL") else {
        let required = std::env::var("HER2EX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        assert!(!required, "HER2EX_TEST_POSTGRES_URL is required");
        eprintln!("SKIPPED: set HER2EX_TEST_POSTGRES_URL (scripts/test does)");
        return;
    };
    // The same small demo, built at the same instant, on PostgreSQL and on SQLite.
    let demo = ["demo", "--no-serve", "--participants", "12", "--seed", "5"];
    let at = ["--built-at", "2026-11-18T11:00:00Z"];
    let db = PgDatabase::create(&admin_url);
    let dir = tempfile::tempdir().unwrap();
    let pg = [&demo[..], &at[..], &["--database", &db.url]].concat();
    let o = her2ex(dir.path(), &pg, None);
    assert!(o.status.success(), "{}", text(&o));
    let o = her2ex(
        dir.path(),
        &["audit", "verify", "--database", &db.url],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        !dir.path().join("her2ex.sqlite").exists(),
        "--database must replace the SQLite file"
    );
    let lite = tempfile::tempdir().unwrap();
    let o = her2ex(lite.path(), &[&demo[..], &at[..]].concat(), None);
    assert!(o.status.success(), "{}", text(&o));
    // The same events in the same order: the same chain head, the same numbers.
    let analyse = [
        "analyse",
        "--json",
        "--as",
        "sam.stat",
        "--as-of",
        "2026-11-18T11:00:01Z",
    ];
    let on_pg = her2ex(
        dir.path(),
        &[&analyse[..], &["--database", &db.url]].concat(),
        None,
    );
    let on_sqlite = her2ex(lite.path(), &analyse, None);
    assert!(on_pg.status.success(), "{}", text(&on_pg));
    assert_eq!(
        String::from_utf8_lossy(&on_pg.stdout),
        String::from_utf8_lossy(&on_sqlite.stdout)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_scanner_sends_a_series_to_serve_and_a_folder_import_finds_it_stored() {
    if Command::new("storescu").arg("--version").output().is_err() {
        let required = std::env::var("HER2EX_REQUIRE_DCMTK").is_ok_and(|v| v == "1");
        assert!(!required, "storescu (dcmtk) is required");
        eprintln!("SKIPPED: dcmtk not installed; scripts/test installs it");
        return;
    }
    let series =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro/DRO_0_0/PT");
    assert!(
        series.is_dir(),
        "reference series missing at {}",
        series.display()
    );
    let mut files: Vec<_> = std::fs::read_dir(&series)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let (http, dicom) = (free_port(), free_port());
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{http}"),
            "--dicom-listen",
            &format!("127.0.0.1:{dicom}"),
            "--ae-title",
            "HER2EX_TEST",
            "--dicom-sender",
            "SCANNER@127.0.0.1=KS",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("HER2EX_KEY_FILE", key_file(dir.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let mut sent = None;
    for _ in 0..100 {
        let o = Command::new("storescu")
            .args([
                "-aet",
                "SCANNER",
                "-aec",
                "HER2EX_TEST",
                "127.0.0.1",
                &dicom.to_string(),
            ])
            .args(&files)
            .output()
            .unwrap();
        if o.status.success() {
            sent = Some(o);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        sent.is_some(),
        "storescu never succeeded against her2ex serve"
    );
    // A wrong called AE title is refused, and so is a sender not allowed.
    let o = Command::new("storescu")
        .args([
            "-aet",
            "SCANNER",
            "-aec",
            "SOMEONE",
            "127.0.0.1",
            &dicom.to_string(),
        ])
        .arg(&files[0])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let o = Command::new("storescu")
        .args([
            "-aet",
            "LAPTOP",
            "-aec",
            "HER2EX_TEST",
            "127.0.0.1",
            &dicom.to_string(),
        ])
        .arg(&files[0])
        .output()
        .unwrap();
    assert!(!o.status.success(), "a sender not allowed was served");
    // The association is in the audit trail as the receiver's receipt: who sent, from
    // where, for which site, what was stored and how it ended. The refused attempts never
    // became associations and left none.
    let receipt = receipt_recorded(dir.path());
    assert_eq!(receipt.meta.actor, "system:dicom-receiver");
    assert_eq!(receipt.meta.site.as_deref(), Some("KS"));
    let r = &receipt.payload;
    assert_eq!(r["calling_ae_title"], "SCANNER");
    assert!(r["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{r}");
    assert_eq!(r["site"], "KS");
    assert_eq!(r["ended"], "released");
    assert_eq!(r["new"], files.len());
    assert_eq!(
        (r["duplicate"].as_u64(), r["refused"].as_u64()),
        (Some(0), Some(0))
    );
    let by_series = r["series"].as_object().unwrap();
    assert_eq!(by_series.len(), 1);
    assert_eq!(by_series.values().next().unwrap(), files.len());
    // Every instance is in the archive, and the received series quantifies to the
    // reference SUV (the DRO's maximum inside the body is 4.00).
    let objects = dir.path().join("dicom").join("objects");
    let stored = walk(&objects)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .count();
    assert_eq!(stored, files.len());
    let o = Command::new(BIN)
        .args(["pet", "quantify", "--json"])
        .arg(&objects)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let q: Value = serde_json::from_slice(&o.stdout).unwrap();
    let max = q["volume"]["suv_max"].as_f64().unwrap();
    assert!(
        (max - 4.0).abs() < 0.02,
        "SUVmax of the received series {max}"
    );

    // A folder import into another data directory stores every file once; again, none.
    let other = tempfile::tempdir().unwrap();
    let first = her2ex(
        other.path(),
        &[
            "pet",
            "import",
            series.to_str().unwrap(),
            "--site",
            "KS",
            "--json",
        ],
        None,
    );
    assert!(first.status.success(), "{}", text(&first));
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(
        (first["new"].as_u64(), first["duplicate"].as_u64()),
        (Some(files.len() as u64), Some(0))
    );
    let again = her2ex(
        other.path(),
        &[
            "pet",
            "import",
            series.to_str().unwrap(),
            "--site",
            "KS",
            "--json",
        ],
        None,
    );
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (again["new"].as_u64(), again["duplicate"].as_u64()),
        (Some(0), Some(files.len() as u64))
    );
}

#[test]
fn every_folder_import_leaves_its_receipt_in_the_audit_trail() {
    let series =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ibsi-suv-dro/DRO_0_0/PT");
    let folder = tempfile::tempdir().unwrap();
    let mut slices = 0;
    for entry in std::fs::read_dir(&series).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, folder.path().join(path.file_name().unwrap())).unwrap();
        slices += 1;
    }
    std::fs::write(folder.path().join("README.txt"), "burnt by the scanner").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let import = || {
        let o = her2ex(
            dir.path(),
            &[
                "pet",
                "import",
                folder.path().to_str().unwrap(),
                "--site",
                "KS",
                "--json",
            ],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
    };
    import();
    import();

    let receipts = stream(dir.path(), "dicom-receipts");
    assert_eq!(receipts.len(), 2, "one receipt per import run");
    for (receipt, (new, duplicate)) in receipts.iter().zip([(slices, 0), (0, slices)]) {
        assert_eq!(receipt.kind, "dicom_folder_imported");
        assert_eq!(receipt.meta.actor, "system:folder-import");
        assert_eq!(receipt.meta.site.as_deref(), Some("KS"));
        let r = &receipt.payload;
        assert_eq!(r["via"], "folder_import");
        assert_eq!(r["folder"], folder.path().to_str().unwrap());
        assert!(!r["os_user"].as_str().unwrap().is_empty(), "{r}");
        assert_eq!(r["site"], "KS");
        assert_eq!(r["ended"], "completed");
        assert_eq!(r["files"], slices + 1);
        assert_eq!(
            (
                r["new"].as_u64(),
                r["duplicate"].as_u64(),
                r["conflict"].as_u64(),
                r["refused"].as_u64()
            ),
            (Some(new), Some(duplicate), Some(0), Some(1)),
            "{r}"
        );
        let by_series = r["series"].as_object().unwrap();
        assert_eq!(by_series.len(), 1);
        assert_eq!(by_series.values().next().unwrap(), slices);
    }

    // An import that fails (here its folder cannot be listed) says why, and its attempt
    // is in the audit trail too, ended "failed" with the reason.
    let gone = folder.path().join("no-such-folder");
    let o = her2ex(
        dir.path(),
        &["pet", "import", gone.to_str().unwrap(), "--site", "KS"],
        None,
    );
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no-such-folder"), "{}", text(&o));
    let receipts = stream(dir.path(), "dicom-receipts");
    assert_eq!(receipts.len(), 3, "the failed import has its receipt");
    let r = &receipts[2].payload;
    let ended = r["ended"].as_str().unwrap();
    assert!(
        ended.starts_with("failed: ") && ended.contains("list folder"),
        "{r}"
    );
    assert_eq!(
        (r["files"].as_u64(), r["new"].as_u64()),
        (Some(0), Some(0)),
        "{r}"
    );
}

/// Every event of `stream` in the data directory's database, oldest first.
fn stream(data: &Path, stream: &str) -> Vec<store::RecordedEvent> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = data.join(store::SQLITE_FILE_NAME);
        let store = store::Store::open(db.to_str().unwrap()).await.unwrap();
        store.read_stream(stream).await.unwrap()
    })
}

/// The one receipt the receiver recorded (it is written as the association ends, so the
/// test waits for it, at most ten seconds).
fn receipt_recorded(data: &Path) -> store::RecordedEvent {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = data.join(store::SQLITE_FILE_NAME);
        let store = store::Store::open(db.to_str().unwrap()).await.unwrap();
        for _ in 0..100 {
            let mut receipts = store.read_stream("dicom-receipts").await.unwrap();
            if !receipts.is_empty() {
                assert_eq!(receipts.len(), 1, "one association, one receipt");
                assert_eq!(receipts[0].kind, "dicom_association_received");
                return receipts.remove(0);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no receipt recorded within ten seconds");
    })
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_settings_change_needs_the_next_version_and_a_reason_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let o = her2ex(dir.path(), &["settings", "show"], None);
    assert!(o.status.success(), "{}", text(&o));
    let mut settings: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(settings["version"], 1);
    let file = dir.path().join("amendment.json");
    // Writes the settings with `version` and asks for them to be put in force.
    let amend = |settings: &mut Value, version: u32| {
        settings["version"] = json!(version);
        std::fs::write(&file, settings.to_string()).unwrap();
        let args = [
            "settings",
            "set",
            file.to_str().unwrap(),
            "--reason",
            "amendment 2",
        ];
        her2ex(dir.path(), &args, None)
    };

    // Skipping a version is refused, naming the rule; nothing changes.
    let o = amend(&mut settings, 3);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("SETTINGS"), "{}", text(&o));

    let o = amend(&mut settings, 2);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = her2ex(dir.path(), &["settings", "show"], None);
    let now: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(now["version"], 2);

    // The change is in the audit trail with its reason.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open_data_dir(dir.path()).await.unwrap();
        let events = store.read_stream("settings").await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].meta.reason.as_deref(), Some("amendment 2"));
        assert_eq!(events[0].payload["settings"]["version"], 2);
    });
    let o = her2ex(dir.path(), &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
