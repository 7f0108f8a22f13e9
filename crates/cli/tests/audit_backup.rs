//! The audit trail's anchor and the backups, as an operator uses them: `her2ex init`
//! creates an owner-only key beside the data directory, `audit verify` catches an insider
//! who rewrites the log and recomputes every hash, `audit verify --against` proves a
//! database still holds an exported signed head, and `backup`/`restore` round-trip a live
//! database under write load and refuse a tampered backup.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use store::{EventMeta, NewEvent, Store};

const BIN: &str = env!("CARGO_BIN_EXE_her2ex");

/// A study's directories: `data/` and, beside it, `keys/`.
struct Study {
    _root: tempfile::TempDir,
    data: PathBuf,
    key: PathBuf,
}

impl Study {
    /// A study after `her2ex init` and one site.
    fn new() -> Study {
        let root = tempfile::tempdir().unwrap();
        let study = Study {
            data: root.path().join("data"),
            key: root.path().join("keys/checkpoint.key"),
            _root: root,
        };
        let o = study.run(&["init", "--password-stdin"], Some("admin-password-1\n"));
        assert!(o.status.success(), "{}", text(&o));
        let o = study.run(
            &["site", "add", "KS", "Karolinska University Hospital"],
            None,
        );
        assert!(o.status.success(), "{}", text(&o));
        study
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        her2ex(&self.data, &self.key, args, stdin)
    }

    async fn store(&self) -> Store {
        Store::open_data_dir(&self.data).await.unwrap()
    }
}

fn her2ex(data: &Path, key: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--key-file")
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run her2ex");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Two participants registered through the application's write path.
async fn register_two(store: &Store) {
    let trial = trial::Trial::new(store.clone());
    for _ in 0..2 {
        let reg = trial::participants::Registration {
            site: Some("KS".into()),
            year_of_birth: 1970,
            sex: protocol::Sex::Female,
        };
        trial
            .register_as(&trial::Actor::command_line(), "KS", &reg)
            .await
            .unwrap();
    }
}

/// Edits event `seq`'s actor and recomputes every hash and the chain head, as an
/// insider with write access to the database could.
async fn rewrite_event(store: &Store, seq: i64) {
    store
        .execute_raw_for_tests(&format!(
            "UPDATE events SET actor = 'mallory' WHERE seq = {seq}"
        ))
        .await
        .unwrap();
    store.rehash_chain_for_tests().await.unwrap();
    assert!(store.verify_chain().await.unwrap().is_intact());
}

#[test]
fn init_creates_an_owner_only_database_and_key_outside_the_data_directory() {
    let study = Study::new();
    assert_eq!(mode(&study.data.join("her2ex.sqlite")), 0o600);
    assert_eq!(mode(&study.key), 0o600);
    assert_eq!(mode(study.key.parent().unwrap()), 0o700);
    assert_eq!(mode(&study.data), 0o700);
    assert!(!study.key.starts_with(&study.data));
    // A second init keeps the key: replacing it would orphan every checkpoint.
    let before = std::fs::read(&study.key).unwrap();
    let o = study.run(&["init", "--password-stdin"], Some("admin-password-1\n"));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&study.key).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_detects_an_edited_event_with_a_recomputed_chain_given_a_checkpoint() {
    let study = Study::new();
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = study.run(&["audit", "checkpoint"], None);
    assert!(o.status.success(), "{}", text(&o));
    let store = study.store().await;
    rewrite_event(&store, 1).await;
    store.close().await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rewritten"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_detects_a_deleted_event_even_with_the_gap_closed() {
    let study = Study::new();
    let store = study.store().await;
    register_two(&store).await;
    store.close().await;
    let o = study.run(&["audit", "checkpoint"], None);
    assert!(o.status.success(), "{}", text(&o));
    let store = study.store().await;
    store
        .execute_raw_for_tests(
            "DELETE FROM events WHERE seq = 2; \
             UPDATE events SET seq = -seq WHERE seq > 2; \
             UPDATE events SET seq = -seq - 1 WHERE seq < 0;",
        )
        .await
        .unwrap();
    store.rehash_chain_for_tests().await.unwrap();
    store.close().await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("removed"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_against_an_exported_head_passes_untouched_and_fails_rewritten() {
    let study = Study::new();
    let store = study.store().await;
    register_two(&store).await;
    store.close().await;
    let head = study.data.parent().unwrap().join("sponsor-head.json");
    let head_arg = head.to_str().unwrap();
    let o = study.run(&["audit", "checkpoint", "--export", head_arg], None);
    assert!(o.status.success(), "{}", text(&o));
    let o = study.run(&["audit", "verify", "--against", head_arg], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("holds the signed head"), "{}", text(&o));

    // The insider also deletes every stored checkpoint: the sponsor's file still tells.
    let store = study.store().await;
    rewrite_event(&store, 2).await;
    store
        .execute_raw_for_tests(
            "DROP TRIGGER IF EXISTS checkpoints_no_delete; DELETE FROM checkpoints;",
        )
        .await
        .unwrap();
    store.close().await;
    let o = study.run(&["audit", "verify", "--against", head_arg], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("was rewritten"), "{}", text(&o));
}

#[test]
fn verify_against_refuses_a_head_signed_by_another_key() {
    let study = Study::new();
    let other = Study::new();
    let head = other.data.parent().unwrap().join("other-head.json");
    let head_arg = head.to_str().unwrap();
    let o = other.run(&["audit", "checkpoint", "--export", head_arg], None);
    assert!(o.status.success(), "{}", text(&o));
    // Same history length, another study's key.
    let o = study.run(&["audit", "verify", "--against", head_arg], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("not by this study's key"), "{}", text(&o));

    // A head whose public key was swapped for the study's own does not verify at all.
    let mut forged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
    let own = std::fs::read_to_string(format!("{}.pub", study.key.display())).unwrap();
    forged["public_key"] = own.trim().into();
    std::fs::write(&head, forged.to_string()).unwrap();
    let o = study.run(&["audit", "verify", "--against", head_arg], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("does not verify"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_a_participant_row_edited_behind_the_log() {
    let study = Study::new();
    let store = study.store().await;
    register_two(&store).await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    store
        .execute_raw_for_tests(
            "UPDATE participants SET state = 'randomised' WHERE study_id = 'KS-001'",
        )
        .await
        .unwrap();
    store.close().await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("participants row KS-001: state"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn verify_reports_a_users_row_edited_behind_the_log() {
    let study = Study::new();
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("users table matches the log"),
        "{}",
        text(&o)
    );
    let store = study.store().await;
    store
        .execute_raw_for_tests("UPDATE users SET role = 'investigator', site = 'KS'")
        .await
        .unwrap();
    store.close().await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("users table:"), "{}", text(&o));
    assert!(text(&o).contains("investigator"), "{}", text(&o));
}

#[tokio::test]
async fn verify_reports_a_session_of_an_account_the_log_does_not_know() {
    let study = Study::new();
    let store = study.store().await;
    store
        .execute_raw_for_tests(
            "INSERT INTO users (username, display_name, role, site, active, locked) \
             VALUES ('mallory', 'Mallory', 'admin', NULL, TRUE, FALSE); \
             INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at, last_seen_at) \
             VALUES ('forged', 'mallory', 'x', '2026-12-05T00:00:00.000000Z', \
                     '2099-01-01T00:00:00.000000Z', '2026-12-05T00:00:00.000000Z');",
        )
        .await
        .unwrap();
    store.close().await;
    let o = study.run(&["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("user mallory: in the users table with no history in the log"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("session of mallory: no such account in the log"),
        "{}",
        text(&o)
    );
}

/// Appends one event to its own stream and returns its seq.
async fn append_one(store: &Store, n: u64) -> i64 {
    let meta = EventMeta {
        actor: "load".into(),
        role: "admin".into(),
        site: None,
        recorded_at: chrono::Utc::now(),
        reason: None,
    };
    let event = NewEvent {
        kind: "Noted".into(),
        payload: serde_json::json!({ "n": n }),
    };
    store
        .append(&format!("load/{n}"), 0, &[event], &meta, &[])
        .await
        .unwrap()
        .last_seq
}

/// A fake content-addressed DICOM object, named by the SHA-256 of its bytes.
fn put_dicom_object(data: &Path, bytes: &[u8]) -> PathBuf {
    use sha2::Digest;
    let name = hex::encode(sha2::Sha256::digest(bytes));
    let dir = data.join("dicom/objects").join(&name[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.dcm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_restores_every_acknowledged_write() {
    let study = Study::new();
    let object = put_dicom_object(&study.data, b"a stored PET slice");
    // The archive's pseudonym key and a PACS peer's pull position.
    let key_bytes = [7u8; 32];
    std::fs::write(study.data.join("dicom/pseudonym.key"), key_bytes).unwrap();
    std::fs::set_permissions(
        study.data.join("dicom/pseudonym.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    std::fs::create_dir_all(study.data.join("dicom/pull")).unwrap();
    std::fs::write(
        study.data.join("dicom/pull/ks-pacs.json"),
        br#"{"last":42}"#,
    )
    .unwrap();
    let source = study.store().await;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
    let writer = {
        let store = source.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while !*stop_rx.borrow_and_update() {
                n += 1;
                let seq = append_one(&store, n).await;
                if ack_tx.send(seq).is_err() {
                    break;
                }
            }
            n
        })
    };
    // Writes acknowledged before the backup starts must all be in it.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 50 {
        acknowledged.push(ack_rx.recv().await.unwrap());
    }
    let out = study.data.parent().unwrap().join("backup");
    let (data, key, out_arg) = (study.data.clone(), study.key.clone(), out.clone());
    let o = tokio::task::spawn_blocking(move || {
        her2ex(&data, &key, &["backup", out_arg.to_str().unwrap()], None)
    })
    .await
    .unwrap();
    stop_tx.send(true).unwrap();
    let written = writer.await.unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let during = written as usize - acknowledged.len();
    assert_eq!(mode(&out.join("her2ex.sqlite")), 0o600);

    let restored_dir = study.data.parent().unwrap().join("restored");
    let o = her2ex(
        &restored_dir,
        &study.key,
        &["restore", out.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let restored = Store::open_data_dir(&restored_dir).await.unwrap();
    let report = restored.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    for seq in &acknowledged {
        let got = restored.read_all(seq - 1, 1).await.unwrap();
        assert_eq!(
            got.first().map(|e| e.seq),
            Some(*seq),
            "acknowledged write lost"
        );
    }
    // The restored log is the source's log up to its head, hash for hash.
    let head_seq = report.events_checked as i64;
    assert!(head_seq >= *acknowledged.last().unwrap());
    assert_eq!(
        source.hash_at(head_seq).await.unwrap(),
        Some(report.head_hash.clone())
    );
    let relative = object.strip_prefix(&study.data).unwrap();
    assert_eq!(
        std::fs::read(restored_dir.join(relative)).unwrap(),
        b"a stored PET slice"
    );
    // The same pseudonyms for the same people after a restore, and each PACS peer
    // resumed where it stopped.
    let restored_key = restored_dir.join("dicom/pseudonym.key");
    assert_eq!(std::fs::read(&restored_key).unwrap(), key_bytes);
    assert_eq!(mode(&restored_key), 0o600, "the key stays owner-only");
    assert_eq!(mode(&out.join("dicom/pseudonym.key")), 0o600);
    assert_eq!(
        std::fs::read(restored_dir.join("dicom/pull/ks-pacs.json")).unwrap(),
        br#"{"last":42}"#
    );
    println!("{during} writes landed while the backup ran; restored head at seq {head_seq}");

    // A second restore into the same place never overwrites it.
    let o = her2ex(
        &restored_dir,
        &study.key,
        &["restore", out.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("exists already"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_backup_whose_log_was_rewritten() {
    let study = Study::new();
    let store = study.store().await;
    register_two(&store).await;
    store.close().await;
    let out = study.data.parent().unwrap().join("backup");
    let o = study.run(&["backup", out.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));

    // Rewrite the backup's log consistently and fix the manifest's checksum too.
    let copy = Store::open(out.join("her2ex.sqlite").to_str().unwrap())
        .await
        .unwrap();
    rewrite_event(&copy, 2).await;
    copy.close().await;
    let manifest_path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let bytes = std::fs::read(out.join("her2ex.sqlite")).unwrap();
    use sha2::Digest;
    manifest["database_sha256"] = hex::encode(sha2::Sha256::digest(&bytes)).into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let restored_dir = study.data.parent().unwrap().join("restored");
    let o = her2ex(
        &restored_dir,
        &study.key,
        &["restore", out.to_str().unwrap()],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("RESTORE REFUSED"), "{}", text(&o));
    assert!(text(&o).contains("rewritten"), "{}", text(&o));
    assert!(!restored_dir.join("her2ex.sqlite").exists());
}

/// A PostgreSQL database of its own on the test server, dropped afterwards.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin_url: &str, suffix: &str) -> PgDatabase {
        let name = format!("her2ex_backup_{}_{suffix}", std::process::id());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_backup_restores_into_an_empty_database_only() {
    let Ok(admin_url) = std::env::var("HER2EX_TEST_POSTGRES_URL") else {
        let required = std::env::var("HER2EX_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        assert!(!required, "HER2EX_TEST_POSTGRES_URL is required");
        eprintln!("SKIPPED: set HER2EX_TEST_POSTGRES_URL (scripts/test does)");
        return;
    };
    let (source, target) = (
        PgDatabase::create(&admin_url, "src"),
        PgDatabase::create(&admin_url, "dst"),
    );
    let root = tempfile::tempdir().unwrap();
    let (data, key) = (root.path().join("data"), root.path().join("keys/k.key"));
    let run = |db: &str, args: &[&str], stdin: Option<&str>| {
        let mut all = args.to_vec();
        all.extend(["--database", db]);
        her2ex(&data, &key, &all, stdin)
    };
    let o = run(
        &source.url,
        &["init", "--password-stdin"],
        Some("admin-password-1\n"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&source.url, &["site", "add", "KS", "Karolinska"], None);
    assert!(o.status.success(), "{}", text(&o));
    let store = Store::open(&source.url).await.unwrap();
    register_two(&store).await;
    let out = root.path().join("backup");
    let o = run(&source.url, &["backup", out.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("her2ex.pgdump").exists());

    let o = run(&target.url, &["restore", out.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let restored = Store::open(&target.url).await.unwrap();
    let report = restored.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        report.head_hash,
        store.verify_chain().await.unwrap().head_hash
    );
    restored.close().await;
    store.close().await;
    // The target now holds a database: a second restore is refused, nothing overwritten.
    let o = run(&target.url, &["restore", out.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_signs_a_checkpoint_at_the_last_event() {
    let study = Study::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--no-dicom",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(&study.data)
        .arg("--key-file")
        .arg(&study.key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ready when it answers (the stop signal is handled from before that).
    let mut answered = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            answered = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(answered, "the server never answered");
    let store = study.store().await;
    register_two(&store).await;
    let head = store.verify_chain().await.unwrap();
    let o = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(server.wait().unwrap().success());
    let latest = store.latest_checkpoint().await.unwrap().expect("signed");
    assert_eq!(latest.seq, head.events_checked as i64);
    assert_eq!(latest.hash, head.head_hash);
}
