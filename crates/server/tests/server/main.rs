//! End-to-end tests of the web application: one test binary, so it links once.

/// Runs each named `async fn(TestApp)` of the calling module on SQLite and, when
/// `HER2EX_TEST_POSTGRES_URL` names a server, on a PostgreSQL database of its own; the app
/// has the common users and a data manager `dm`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = store::Store::open_data_dir(dir.path()).await.expect("store");
                    super::$name(crate::oversight::with_data_manager(store, dir).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = crate::oversight::PgDatabase::create(stringify!($name)) else {
                        return;
                    };
                    let store = store::Store::open(&db.url).await.expect("PostgreSQL store");
                    let dir = tempfile::tempdir().expect("temp dir");
                    super::$name(crate::oversight::with_data_manager(store, dir).await).await;
                }
            )*
        }
    };
}

mod accounts;
mod admin_pages;
mod after_end;
mod allocation;
mod analyses;
mod api;
mod attestations;
mod browser;
mod chronology;
mod common;
mod dashboard;
mod eligibility_paths;
mod hardening;
mod imaging_jobs;
mod journey;
mod lists;
mod matrix;
mod oversight;
mod oversight_pages;
mod pet;
mod pet_response;
mod receipts;
mod registration;
mod response;
mod robustness;
mod settings_paths;
mod tdxd;
