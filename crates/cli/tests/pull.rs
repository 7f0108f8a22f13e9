//! `her2ex pull` against a real Orthanc (the Debian package, started here on a free
//! port and stopped again): the participant's PET series is fetched whole, the rest is
//! ignored and counted, a second pull resumes where the first stopped, `serve
//! --pull-from` does the same while serving, and an unreachable peer loses nothing.
//!
//! Orthanc binds every interface whatever its configuration says; the tests send it
//! traffic on 127.0.0.1 only. Without /usr/sbin/Orthanc the Orthanc test is skipped,
//! unless HER2EX_REQUIRE_ORTHANC=1 (scripts/test), which makes it fail.

// Shared with the other CLI tests.
#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use archive::Archive;
use common::{her2ex_with as her2ex, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_her2ex");
const ORTHANC: &str = "/usr/sbin/Orthanc";
/// How long Orthanc may take to start or to settle a series (a bound, not a timing).
const PATIENCE: Duration = Duration::from_secs(120);
const STEP: Duration = Duration::from_millis(100);

/// A study with site KS and, when `participant`, its first participant KS-001,
/// registered through the application's write path.
fn study(participant: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = her2ex(
        dir.path(),
        &["init", "--password-stdin"],
        Some("admin-password-1\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = her2ex(
        dir.path(),
        &["site", "add", "KS", "Karolinska University Hospital"],
        None,
    );
    assert!(o.status.success(), "{}", text(&o));
    if participant {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = store::Store::open_data_dir(dir.path()).await.unwrap();
            let reg = trial::participants::Registration {
                site: Some("KS".into()),
                year_of_birth: 1970,
                sex: protocol::Sex::Female,
            };
            let written = trial::Trial::new(store)
                .register_as(&trial::Actor::command_line(), "KS", &reg)
                .await
                .unwrap();
            assert_eq!(written.study_id, "KS-001");
        });
    }
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether Orthanc can be run; when not, the test is skipped unless
/// HER2EX_REQUIRE_ORTHANC=1, which makes it fail.
fn orthanc_available() -> bool {
    match Command::new(ORTHANC).arg("--version").output() {
        Ok(o) if o.status.success() => true,
        other => {
            assert!(
                std::env::var("HER2EX_REQUIRE_ORTHANC").as_deref() != Ok("1"),
                "HER2EX_REQUIRE_ORTHANC=1 but {ORTHANC} cannot be run: {other:?}"
            );
            eprintln!("SKIPPED: {ORTHANC} (Debian package orthanc) not available");
            false
        }
    }
}

/// An Orthanc on free ports with its storage in a temporary folder, stopped when dropped
/// (also when the test fails).
struct Orthanc {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
    dir: tempfile::TempDir,
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Orthanc {
    fn start() -> Orthanc {
        let dir = tempfile::tempdir().unwrap();
        let (http_port, dicom_port) = (free_port(), free_port());
        let storage = dir.path().join("storage");
        let config = serde_json::json!({
            "Name": "her2ex-test",
            "HttpPort": http_port,
            "DicomPort": dicom_port,
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "StorageDirectory": storage,
            "IndexDirectory": storage,
            "StableAge": 1,
            "HttpServerEnabled": true,
            "DicomServerEnabled": true,
        });
        let config_path = dir.path().join("orthanc.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = std::fs::File::create(dir.path().join("orthanc.log")).unwrap();
        let child = Command::new(ORTHANC)
            .arg(&config_path)
            .env("TCP_NODELAY", "1")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start Orthanc");
        let mut orthanc = Orthanc {
            child,
            url: format!("http://127.0.0.1:{http_port}"),
            http: reqwest::blocking::Client::new(),
            dir,
        };
        orthanc.wait_until("Orthanc answers GET /system", |o| {
            o.http
                .get(format!("{}/system", o.url))
                .send()
                .is_ok_and(|r| r.status().is_success())
        });
        orthanc
    }

    /// Waits (at most [`PATIENCE`]) until `ready`; fails with Orthanc's log otherwise.
    fn wait_until(&mut self, what: &str, ready: impl Fn(&Orthanc) -> bool) {
        let mut waited = Duration::ZERO;
        while !ready(self) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("Orthanc ended ({status}) before {what}:\n{}", self.log());
            }
            assert!(
                waited < PATIENCE,
                "waited too long for: {what}\n{}",
                self.log()
            );
            std::thread::sleep(STEP);
            waited += STEP;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("orthanc.log")).unwrap_or_default()
    }

    /// Stores a series through the REST API (POST /instances).
    fn upload(&self, slices: &[Vec<u8>]) {
        for bytes in slices {
            let r = self
                .http
                .post(format!("{}/instances", self.url))
                .body(bytes.clone())
                .send()
                .unwrap();
            assert!(r.status().is_success(), "upload refused: {}", r.status());
        }
    }

    /// The change log as Orthanc has it.
    fn changes(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut since = 0;
        loop {
            let page: Value = self
                .http
                .get(format!("{}/changes?since={since}&limit=1000", self.url))
                .send()
                .unwrap()
                .json()
                .unwrap();
            out.extend(page["Changes"].as_array().unwrap().iter().cloned());
            since = page["Last"].as_u64().unwrap();
            if page["Done"].as_bool().unwrap() {
                return out;
            }
        }
    }

    /// The last sequence number of the change log.
    fn last(&self) -> u64 {
        let page: Value = self
            .http
            .get(format!("{}/changes?last", self.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        page["Last"].as_u64().unwrap()
    }

    /// Waits until Orthanc has declared `n` changes of `change_type`.
    fn wait_for(&mut self, change_type: &str, n: usize) {
        self.wait_until(&format!("{n} {change_type} changes"), |o| {
            o.changes()
                .iter()
                .filter(|c| c["ChangeType"] == change_type)
                .count()
                >= n
        });
    }
}

/// A small phantom PET series of `patient` (exam `exam` of phantom `seed`), as Part 10
/// files, with its SeriesInstanceUID.
fn pet_series(seed: u64, exam: u64, patient: &str) -> (String, Vec<Vec<u8>>) {
    let spec = pet::phantom::PhantomSpec {
        dims: [16, 16, 5],
        spacing_mm: [20.0, 20.0, 20.0],
        patient_id: Some(patient.into()),
        exam,
        ..pet::phantom::PhantomSpec::new(seed)
    };
    let (truth, slices) = pet::phantom::phantom_slices(&spec).unwrap();
    (truth.series_uid, slices)
}

/// The same files with Modality (0008,0060) set to `modality`.
fn with_modality(slices: &[Vec<u8>], modality: &str) -> Vec<Vec<u8>> {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    slices
        .iter()
        .map(|bytes| {
            let mut obj = dicom_object::from_reader(&bytes[128..]).unwrap();
            obj.put(DataElement::new(
                dicom_dictionary_std::tags::MODALITY,
                VR::CS,
                PrimitiveValue::from(modality),
            ));
            let mut out = Vec::new();
            obj.write_all(&mut out).unwrap();
            out
        })
        .collect()
}

/// `her2ex pull --once --json` from `url` under `name`: exit code and summary.
fn pull(data: &Path, url: &str, name: &str) -> (Option<i32>, Value, String) {
    let o = her2ex(
        data,
        &[
            "pull",
            "--once",
            "--json",
            "--peer-url",
            url,
            "--peer-name",
            name,
        ],
        None,
    );
    let summary = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (o.status.code(), summary, text(&o))
}

fn state_file(data: &Path, name: &str) -> PathBuf {
    data.join("dicom").join("pull").join(format!("{name}.json"))
}

fn state(data: &Path, name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(state_file(data, name)).unwrap()).unwrap()
}

fn stored_seq(data: &Path, name: &str) -> u64 {
    state(data, name)["last_seq"].as_u64().unwrap()
}

/// (SeriesInstanceUID, PatientID, site, instances) of every series in the archive.
/// Read from the database, where `her2ex` keeps the archive's index: no index files.
fn archived(data: &Path) -> Vec<(String, Option<String>, Option<String>, usize)> {
    assert!(
        !data.join("dicom").join("index").exists(),
        "the index is in the database, not in files"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = rt.block_on(store::Store::open_data_dir(data)).unwrap();
    let catalog = archive::Catalog::new(store, rt.handle().clone()).unwrap();
    Archive::open_with_catalog(data, catalog)
        .unwrap()
        .series()
        .unwrap()
        .into_iter()
        .map(|s| {
            (
                s.series_instance_uid,
                s.patient_id,
                s.site,
                s.instance_count,
            )
        })
        .collect()
}

/// The receipts recorded in the audit trail, oldest first.
fn receipts(data: &Path) -> Vec<store::RecordedEvent> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::Store::open_data_dir(data).await.unwrap();
        store.read_stream("dicom-receipts").await.unwrap()
    })
}

fn counts(summary: &Value) -> [u64; 6] {
    [
        "series_fetched",
        "new",
        "duplicate",
        "ignored_not_pet",
        "ignored_unknown_patient",
        "unfileable",
    ]
    .map(|k| summary[k].as_u64().unwrap_or(u64::MAX))
}

#[test]
fn a_participants_pet_series_is_pulled_from_orthanc_once_and_the_rest_is_counted() {
    if !orthanc_available() {
        return;
    }
    let study = study(true);
    let data = study.path();
    let mut orthanc = Orthanc::start();

    // Her PET, a PET of someone who is no participant, and her attenuation CT.
    let (pet_uid, pet) = pet_series(11, 0, "KS-001");
    let (_, stranger) = pet_series(12, 0, "PHANTOM-12");
    let (ct_uid, ct) = pet_series(13, 0, "KS-001");
    orthanc.upload(&pet);
    orthanc.upload(&stranger);
    orthanc.upload(&with_modality(&ct, "CT"));
    orthanc.wait_for("StableSeries", 3);
    orthanc.wait_for("StablePatient", 2);

    let (code, summary, out) = pull(data, &orthanc.url, "site-ks");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(counts(&summary), [1, 5, 0, 1, 1, 0], "{summary}");
    assert_eq!(summary["series"], serde_json::json!([pet_uid]));
    assert_eq!(summary["last_seq"].as_u64(), Some(orthanc.last()));
    assert_eq!(stored_seq(data, "site-ks"), orthanc.last());
    assert_eq!(
        state(data, "site-ks")["unsettled"],
        serde_json::json!([]),
        "every series that appeared has settled"
    );
    assert_eq!(
        archived(data),
        vec![(pet_uid.clone(), Some("KS-001".into()), Some("KS".into()), 5)],
        "her PET whole, as an object of her site; nothing of the stranger nor the CT ({ct_uid})"
    );
    // The pull's receipt is in the audit trail: the peer, the range of its log read, her
    // site, what was stored per series and what was passed over.
    let first_last = orthanc.last();
    let recorded = receipts(data);
    assert_eq!(recorded.len(), 1, "one receipt for the pass");
    assert_eq!(recorded[0].kind, "dicom_pull_received");
    assert_eq!(recorded[0].meta.actor, "system:pacs-pull");
    assert_eq!(recorded[0].meta.site.as_deref(), Some("KS"));
    let r = &recorded[0].payload;
    assert_eq!(
        (
            &r["via"],
            &r["peer_name"],
            &r["url"],
            &r["site"],
            &r["ended"]
        ),
        (
            &Value::from("pull"),
            &Value::from("site-ks"),
            &Value::from(orthanc.url.as_str()),
            &Value::from("KS"),
            &Value::from("completed")
        ),
        "{r}"
    );
    assert_eq!(
        (r["from_seq"].as_u64(), r["to_seq"].as_u64()),
        (Some(0), Some(first_last))
    );
    assert_eq!(
        ["new", "duplicate", "conflict", "refused", "ignored"].map(|k| r[k].as_u64()),
        [Some(5), Some(0), Some(0), Some(0), Some(2)],
        "{r}"
    );
    assert_eq!(r["series"], serde_json::json!({ pet_uid.clone(): 5 }));

    // Again: the change log has not moved, nothing is fetched.
    let (code, summary, out) = pull(data, &orthanc.url, "site-ks");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(summary["changes"].as_u64(), Some(0), "{summary}");
    assert_eq!(counts(&summary), [0, 0, 0, 0, 0, 0], "{summary}");
    assert_eq!(receipts(data).len(), 1, "an empty poll leaves no receipt");

    // Her next PET arrives: only it is fetched.
    let (next_uid, next) = pet_series(11, 1, "KS-001");
    orthanc.upload(&next);
    orthanc.wait_for("StableSeries", 4);
    orthanc.wait_for("StablePatient", 3);
    let (code, summary, out) = pull(data, &orthanc.url, "site-ks");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(counts(&summary), [1, 5, 0, 0, 0, 0], "{summary}");
    assert_eq!(summary["series"], serde_json::json!([next_uid]));
    assert_eq!(stored_seq(data, "site-ks"), orthanc.last());
    assert_eq!(archived(data).len(), 2);
    let recorded = receipts(data);
    assert_eq!(recorded.len(), 2);
    let r = &recorded[1].payload;
    assert_eq!(
        (
            r["from_seq"].as_u64(),
            r["to_seq"].as_u64(),
            r["new"].as_u64()
        ),
        (Some(first_last), Some(orthanc.last()), Some(5)),
        "{r}"
    );
    assert_eq!(r["series"], serde_json::json!({ next_uid.clone(): 5 }));

    // `serve --pull-from` polls the same peer from the same position.
    let (third_uid, third) = pet_series(11, 2, "KS-001");
    orthanc.upload(&third);
    orthanc.wait_for("StableSeries", 5);
    orthanc.wait_for("StablePatient", 4);
    let last = orthanc.last();
    let mut serve = Server(
        Command::new(BIN)
            .args(["serve", "--no-dicom", "--listen"])
            .arg(format!("127.0.0.1:{}", free_port()))
            .args(["--pull-from", &orthanc.url, "--peer-name", "site-ks"])
            .args(["--pull-every", "1", "--data-dir"])
            .arg(data)
            .env(
                "HER2EX_KEY_FILE",
                data.join("test-keys").join("checkpoint.key"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut waited = Duration::ZERO;
    // Its pass's receipt is recorded as the pass ends, just after the position.
    while stored_seq(data, "site-ks") < last || receipts(data).len() < 3 {
        assert!(waited < PATIENCE, "serve never pulled up to change {last}");
        assert!(serve.0.try_wait().unwrap().is_none(), "serve ended");
        std::thread::sleep(STEP);
        waited += STEP;
    }
    drop(serve);
    let series: Vec<String> = archived(data).into_iter().map(|s| s.0).collect();
    assert!(series.contains(&third_uid), "{series:?}");
    assert_eq!(series.len(), 3);

    // The peer goes away: the pull fails naming it, and nothing is lost.
    let url = orthanc.url.clone();
    drop(orthanc);
    let (code, _, out) = pull(data, &url, "site-ks");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains(&url) && out.contains("no answer"), "{out}");
    assert_eq!(stored_seq(data, "site-ks"), last);
    assert_eq!(archived(data).len(), 3);
    let recorded = receipts(data);
    assert_eq!(
        recorded.len(),
        3,
        "a pass that fetched nothing leaves no receipt"
    );
    assert_eq!(
        recorded[2].payload["series"],
        serde_json::json!({ third_uid: 5 })
    );
}

/// A child process killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_pull_is_refused_without_participants_and_fails_clearly_without_a_peer() {
    let study = study(false);
    let data = study.path();
    let url = format!("http://127.0.0.1:{}", free_port());

    let (code, _, out) = pull(data, &url, "site-ks");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("refused: no participant is registered"),
        "{out}"
    );

    let study = self::study(true);
    let data = study.path();
    let (code, summary, out) = pull(data, &url, "site-ks");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains(&format!("{url}/changes")),
        "the error names the peer: {out}"
    );
    assert!(out.contains("no answer from the Orthanc peer"), "{out}");
    assert!(out.contains("resumes after change 0"), "{out}");
    assert_eq!(summary["changes"].as_u64(), Some(0), "{out}");
    assert!(!state_file(data, "site-ks").exists(), "no position stored");

    // Plain HTTP to another machine is refused before anything is sent.
    let o = her2ex(
        data,
        &["pull", "--once", "--peer-url", "http://192.0.2.7:8042"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--allow-unencrypted"), "{}", text(&o));
}
