//! `her2ex backup OUT` and `her2ex restore BACKUP --data-dir NEW`.
//!
//! A backup is a directory:
//!
//! ```text
//! her2ex.sqlite      SQLite: a consistent copy taken with VACUUM INTO while writers run
//! her2ex.pgdump      PostgreSQL: pg_dump -Fc (one snapshot)
//! dicom/             the DICOM archive: objects/ (content-addressed), index/ when an
//!                    archive of an earlier version still has its index files,
//!                    pseudonym.key (owner-only) and pull/ (how far each PACS peer
//!                    has been read)
//! checkpoint.json    the latest signed checkpoint, with its public key (a signed head)
//! manifest.json      what is in it, with the database file's SHA-256; written last
//! ```
//!
//! A fresh checkpoint is signed just before the copy when this process holds the key, so
//! the backup's checkpoint is inside the copy. The DICOM index (a table of the database,
//! or the index files of an earlier version) is copied before the objects: the archive
//! writes an object before its index entry, so every entry copied has its object there by
//! the time the objects are copied. An object copied without its entry is indexed again
//! when the restored archive is opened.
//!
//! The pseudonym key goes with the archive: without it a restored archive would give the
//! next image of a person already held another pseudonym (her images would no longer stay
//! together, and a resend would count as a conflicting version). A backup is therefore as
//! confidential as the data directory; the key keeps its owner-only permissions. The
//! pull positions go too, so a restored server resumes each PACS peer where it stopped
//! rather than reading its whole history again.
//!
//! Restore refuses a backup whose database file differs from its manifest, whose chain
//! does not verify, whose checkpoints do not verify with the checkpoint's key, or whose
//! log does not hold the signed hash; it never overwrites an existing database or archive.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::checkpoint::SignedHead;
use store::{Backend, SQLITE_FILE_NAME, Store};

use crate::DataArgs;
use crate::audit_cmd::{check_log, read_signed_head, write_signed_head};

/// Format tag of the manifest.
const FORMAT: &str = "her2ex-backup-v1";
/// The PostgreSQL dump's file name in a backup.
const PG_DUMP_FILE: &str = "her2ex.pgdump";
const MANIFEST_FILE: &str = "manifest.json";
const CHECKPOINT_FILE: &str = "checkpoint.json";
const DICOM_DIR: &str = "dicom";
/// The archive's pseudonym key, in its folder.
const PSEUDONYM_KEY_FILE: &str = "pseudonym.key";
/// The PACS pull positions, in the archive's folder.
const PULL_DIR: &str = "pull";

/// Arguments of `her2ex backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The backup directory to create (must not exist, or be empty).
    out: PathBuf,
}

/// Arguments of `her2ex restore`.
#[derive(Args)]
pub struct RestoreArgs {
    /// Where to restore into: `--data-dir` (SQLite database and DICOM archive; neither
    /// may exist yet) and, for a PostgreSQL backup, `--database` (an empty database).
    #[command(flatten)]
    data: DataArgs,
    /// The backup directory made by `her2ex backup`.
    backup: PathBuf,
}

/// What a backup holds; written last, so a backup without it is incomplete.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    created_at: String,
    backend: String,
    database_file: String,
    database_sha256: String,
    checkpoint_seq: i64,
    checkpoint_hash: String,
    dicom_files: u64,
}

/// `her2ex backup OUT`
pub async fn backup(a: BackupArgs) -> anyhow::Result<u8> {
    prepare_out(&a.out)?;
    let store = a.data.open().await?;
    let head = signed_head_for_backup(&store, &a.data).await?;
    let database_file = match store.backend() {
        Backend::Sqlite => {
            store
                .backup_sqlite(&a.out.join(SQLITE_FILE_NAME))
                .await
                .context("copying the SQLite database")?;
            SQLITE_FILE_NAME
        }
        Backend::Postgres => {
            let url = a.data.database.as_deref().unwrap_or_default();
            pg_dump(url, &a.out.join(PG_DUMP_FILE))?;
            PG_DUMP_FILE
        }
    };
    let dicom_files = copy_dicom(&a.data.data_dir.join(DICOM_DIR), &a.out.join(DICOM_DIR))?;
    write_signed_head(&a.out.join(CHECKPOINT_FILE), &head)?;
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        created_at: store::hash::format_timestamp(chrono::Utc::now()),
        backend: format!("{:?}", store.backend()).to_lowercase(),
        database_file: database_file.to_owned(),
        database_sha256: sha256_file(&a.out.join(database_file))?,
        checkpoint_seq: head.seq,
        checkpoint_hash: head.hash.clone(),
        dicom_files,
    };
    fs::write(
        a.out.join(MANIFEST_FILE),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )
    .context("writing the manifest")?;
    println!(
        "backup written to {}: database, {dicom_files} DICOM files, checkpoint at seq {}",
        a.out.display(),
        head.seq
    );
    Ok(0)
}

/// Creates the backup directory; refuses one that holds anything.
fn prepare_out(out: &Path) -> anyhow::Result<()> {
    if out.exists()
        && fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty: a backup never overwrites files",
            out.display()
        );
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))
}

/// Signs a checkpoint now if this process holds the key, and returns the latest signed
/// head with the study's public key. Taken before the copy, so the copy contains it.
async fn signed_head_for_backup(store: &Store, data: &DataArgs) -> anyhow::Result<SignedHead> {
    let latest = match store.checkpoint_with_own_key().await? {
        Some(c) => Some(c),
        None => store.latest_checkpoint().await?,
    };
    let Some(latest) = latest else {
        bail!(
            "the database has no signed checkpoint: run the backup where the key file {} is \
             readable, or `her2ex audit checkpoint` first",
            data.key_path().display()
        );
    };
    let key = data.public_key()?.with_context(|| {
        format!(
            "no public checkpoint key at {}.pub to put in the backup",
            data.key_path().display()
        )
    })?;
    latest
        .verify(&key)
        .map_err(|why| anyhow::anyhow!("the latest checkpoint does not verify: {why}"))?;
    Ok(latest.export(&key))
}

/// Dumps a PostgreSQL database in pg_dump's custom format (one consistent snapshot).
fn pg_dump(url: &str, file: &Path) -> anyhow::Result<()> {
    let status = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(file)
        .arg(url)
        .status()
        .context("running pg_dump (from the postgresql client package)")?;
    if !status.success() {
        bail!("pg_dump failed with {status}");
    }
    Ok(())
}

/// Copies the DICOM archive: index files of an earlier version first, then the objects,
/// then the pseudonym key and the pull positions (see the module docs).
/// Returns how many files were copied; a missing archive copies nothing.
fn copy_dicom(from: &Path, to: &Path) -> anyhow::Result<u64> {
    let mut copied = 0;
    for part in ["index", "objects"] {
        let source = from.join(part);
        if source.exists() {
            copied += copy_tree(&source, &to.join(part))?;
        }
    }
    // The archive's own state (see the module docs), not counted as DICOM files.
    let key = from.join(PSEUDONYM_KEY_FILE);
    if key.exists() {
        fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
        // `fs::copy` keeps the owner-only permissions.
        fs::copy(&key, to.join(PSEUDONYM_KEY_FILE))
            .with_context(|| format!("copying {}", key.display()))?;
    }
    let pull = from.join(PULL_DIR);
    if pull.exists() {
        copy_tree(&pull, &to.join(PULL_DIR))?;
    }
    Ok(copied)
}

/// Copies the files under `from` into `to`, skipping the archive's temporary files.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<u64> {
    fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut copied = 0;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// The lowercase hex SHA-256 of a file.
fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// `her2ex restore BACKUP --data-dir NEW`
pub async fn restore(a: RestoreArgs) -> anyhow::Result<u8> {
    let manifest: Manifest = serde_json::from_str(
        &fs::read_to_string(a.backup.join(MANIFEST_FILE))
            .context("reading the backup's manifest (an incomplete backup has none)")?,
    )
    .context("reading the backup's manifest")?;
    if manifest.format != FORMAT {
        bail!("unknown backup format {:?}", manifest.format);
    }
    let head = read_signed_head(&a.backup.join(CHECKPOINT_FILE))?;
    let mut problems = Vec::new();
    if let Err(why) = head.verify() {
        problems.push(why);
    }
    if (head.seq, head.hash.as_str()) != (manifest.checkpoint_seq, &*manifest.checkpoint_hash) {
        problems.push("the checkpoint file is not the one the manifest names".to_owned());
    }
    let database = a.backup.join(&manifest.database_file);
    if sha256_file(&database)? != manifest.database_sha256 {
        problems.push(format!(
            "{} is not the file the backup wrote (its SHA-256 differs from the manifest)",
            manifest.database_file
        ));
    }
    problems.extend(check_dicom(&a.backup.join(DICOM_DIR))?);
    if !problems.is_empty() {
        return Ok(refuse(&problems));
    }
    let dicom_target = a.data.data_dir.join(DICOM_DIR);
    if dicom_target.exists() {
        bail!(
            "{} exists already: restore never overwrites an archive",
            dicom_target.display()
        );
    }
    let problems = match manifest.backend.as_str() {
        "sqlite" => restore_sqlite(&database, &a.data.data_dir, &head).await?,
        "postgres" => restore_postgres(&database, &a.data, &head).await?,
        other => bail!("unknown backend {other:?} in the manifest"),
    };
    if !problems.is_empty() {
        return Ok(refuse(&problems));
    }
    copy_dicom(&a.backup.join(DICOM_DIR), &dicom_target)?;
    println!(
        "restored into {}: audit trail verified up to the signed checkpoint at seq {}",
        a.data.data_dir.display(),
        head.seq
    );
    Ok(0)
}

fn refuse(problems: &[String]) -> u8 {
    println!("RESTORE REFUSED: the backup does not verify");
    for p in problems {
        println!("  {p}");
    }
    1
}

/// Checks that every stored DICOM object's name is the SHA-256 of its bytes.
fn check_dicom(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let objects = dir.join("objects");
    if !objects.exists() {
        return Ok(problems);
    }
    let mut stack = vec![objects];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            if stem.as_deref() != Some(sha256_file(&path)?.as_str()) {
                problems.push(format!(
                    "DICOM object {} does not hash to its name",
                    path.display()
                ));
            }
        }
    }
    Ok(problems)
}

/// Copies the SQLite file into the new data directory under a temporary name, verifies
/// it there, and only then gives it its real name. Returns the problems found (the
/// temporary copy is removed then).
async fn restore_sqlite(
    database: &Path,
    data_dir: &Path,
    head: &SignedHead,
) -> anyhow::Result<Vec<String>> {
    let target = data_dir.join(SQLITE_FILE_NAME);
    if target.exists() {
        bail!(
            "{} exists already: restore never overwrites a database",
            target.display()
        );
    }
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let staging = data_dir.join(format!("{SQLITE_FILE_NAME}.restoring"));
    fs::copy(database, &staging).context("copying the database")?;
    let staging_text = staging
        .to_str()
        .context("the data directory path is not UTF-8")?;
    let store = Store::open(staging_text).await?;
    let problems = verify_restored(&store, head).await?;
    store.close().await;
    let side_files = ["-wal", "-shm"];
    if !problems.is_empty() {
        for suffix in side_files {
            let _ = fs::remove_file(data_dir.join(format!("{SQLITE_FILE_NAME}.restoring{suffix}")));
        }
        fs::remove_file(&staging).context("removing the refused copy")?;
        return Ok(problems);
    }
    for suffix in side_files {
        let side = data_dir.join(format!("{SQLITE_FILE_NAME}.restoring{suffix}"));
        if side.exists() {
            fs::rename(&side, data_dir.join(format!("{SQLITE_FILE_NAME}{suffix}")))?;
        }
    }
    fs::rename(&staging, &target).context("moving the verified database into place")?;
    Ok(problems)
}

/// Restores a pg_dump into the (empty) database of `--database`, then verifies it. A
/// restored database that does not verify is reported and must be dropped by hand.
async fn restore_postgres(
    dump: &Path,
    data: &DataArgs,
    head: &SignedHead,
) -> anyhow::Result<Vec<String>> {
    let Some(url) = data.database.as_deref() else {
        bail!("a PostgreSQL backup restores into an empty database: give --database");
    };
    let status = std::process::Command::new("pg_restore")
        .args([
            "--exit-on-error",
            "--no-owner",
            "--single-transaction",
            "--dbname",
        ])
        .arg(url)
        .arg(dump)
        .status()
        .context("running pg_restore (from the postgresql client package)")?;
    if !status.success() {
        bail!(
            "pg_restore failed with {status}: is the target database empty? restore never \
             overwrites a database"
        );
    }
    let store = Store::open(url).await?;
    let mut problems = verify_restored(&store, head).await?;
    store.close().await;
    if !problems.is_empty() {
        problems.push(format!(
            "the restored database at {url} does not verify: drop it before using it"
        ));
    }
    Ok(problems)
}

/// The chain, the checkpoints (with the backup's key) and the backup's signed head.
async fn verify_restored(store: &Store, head: &SignedHead) -> anyhow::Result<Vec<String>> {
    let key = head.key()?;
    check_log(store, Some(&key), Some(head)).await
}
