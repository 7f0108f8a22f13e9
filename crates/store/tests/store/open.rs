//! Opening a store: URL forms, data directories, reopening an existing database.

use store::{Backend, Store, StoreErrorKind};

use crate::support::{self, TestDb};

#[tokio::test]
async fn a_sqlite_url_and_a_plain_path_open_and_create_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let by_url = dir.path().join("by-url.db");
    let url = format!("sqlite://{}", by_url.display());
    assert!(
        url.starts_with("sqlite:///"),
        "absolute path in the URL: {url}"
    );
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    support::append_n(&store, "SE01-001", 1).await;
    assert!(by_url.exists());
    // WAL mode keeps a write-ahead log beside the database while it is open.
    assert!(dir.path().join("by-url.db-wal").exists());
    store.close().await;

    let plain = dir.path().join("plain.db");
    let store = Store::open(plain.to_str().unwrap()).await.unwrap();
    support::append_n(&store, "SE01-001", 1).await;
    assert!(plain.exists());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_store_keeps_its_log_while_open() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let other = Store::open("sqlite::memory:").await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { support::append_n(&store, &format!("SE01-{i:03}"), 3).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let report = store.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 12);
    // Each in-memory store is private.
    assert_eq!(other.verify_chain().await.unwrap().events_checked, 0);
    store.close().await;
    other.close().await;
}

#[tokio::test]
async fn a_data_directory_is_created_and_reopened_with_its_log() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("her2ex-data").join("nested");
    let store = Store::open_data_dir(&dir).await.unwrap();
    support::append_n(&store, "SE01-001", 2).await;
    store.close().await;
    assert!(dir.join(store::SQLITE_FILE_NAME).exists());

    let reopened = Store::open_data_dir(&dir).await.unwrap();
    assert_eq!(reopened.stream_version("SE01-001").await.unwrap(), 2);
    support::append_n(&reopened, "SE01-001", 1).await;
    let report = reopened.verify_chain().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, 3);
    reopened.close().await;
}

#[tokio::test]
async fn a_sqlite_file_that_is_not_a_database_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = Store::open(path.to_str().unwrap()).await.unwrap_err();
    let message = err.to_string();
    assert_eq!(err.kind(), StoreErrorKind::Open, "{message}");
    assert!(message.contains("notes.txt"), "{message}");
}

#[tokio::test]
async fn a_postgres_database_reopens_with_its_log() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    support::append_n(&db.store, "SE01-001", 2).await;
    let again = Store::open(db.url()).await.unwrap();
    assert_eq!(again.stream_version("SE01-001").await.unwrap(), 2);
    support::append_n(&again, "SE01-001", 1).await;
    assert_eq!(db.store.stream_version("SE01-001").await.unwrap(), 3);
    assert!(again.verify_chain().await.unwrap().is_intact());
    again.close().await;
    db.finish().await;
}
