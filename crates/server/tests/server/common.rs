//! A running application for tests: a fresh SQLite database in a temporary directory,
//! served on 127.0.0.1 port 0, with two sites and a user of every kind the tests need.

use std::net::SocketAddr;

use chrono::{DateTime, Duration, Utc};
use protocol::Command;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::AppState;
use trial::admin::NewUser;
use trial::participants::Registration;
use trial::{Actor, Role, Trial};

pub const PASSWORD: &str = "test-password-1";

/// (user name, role, site)
pub const USERS: [(&str, Role, Option<&str>); 10] = [
    ("nurse.ks", Role::ResearchNurse, Some("KS")),
    ("inv.ks", Role::Investigator, Some("KS")),
    ("reader.ks", Role::NuclearMedicineReader, Some("KS")),
    ("path.ks", Role::Pathologist, Some("KS")),
    ("nurse.uu", Role::ResearchNurse, Some("UU")),
    ("inv.uu", Role::Investigator, Some("UU")),
    ("monitor", Role::Monitor, None),
    ("stat", Role::Statistician, None),
    ("admin", Role::Admin, None),
    ("reader.uu", Role::NuclearMedicineReader, Some("UU")),
];

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    /// The server's clock: at [`present`] unless a test replays a history.
    pub clock: std::sync::Arc<trial::FixedClock>,
    _dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
    /// The in-process imaging worker, as `her2ex serve` runs one.
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        self.stop_worker();
    }
}

pub fn actor(username: &str) -> Actor {
    let (_, role, site) = USERS
        .iter()
        .find(|u| u.0 == username)
        .copied()
        .expect("known test user");
    Actor {
        username: username.into(),
        role: role.id().into(),
        site: site.map(Into::into),
    }
}

/// The DICOM archive in `dir` with its index in `store`, opened as `her2ex serve` opens it
/// (on a blocking thread: the archive blocks on the database).
pub async fn open_archive(
    store: &store::Store,
    dir: &std::path::Path,
) -> std::sync::Arc<archive::Archive> {
    let (store, dir) = (store.clone(), dir.to_path_buf());
    let runtime = tokio::runtime::Handle::current();
    let archive = tokio::task::spawn_blocking(move || {
        let catalog = archive::Catalog::new(store, runtime).expect("the archive's index");
        archive::Archive::open_with_catalog(&dir, catalog).expect("archive")
    })
    .await
    .expect("archive opened");
    std::sync::Arc::new(archive)
}

/// Imports the DICOM files of `dir` for `site` into `archive` (on a blocking thread, as
/// the archive blocks on the database).
pub async fn import_for(
    archive: std::sync::Arc<archive::Archive>,
    dir: &std::path::Path,
    site: &str,
) -> archive::ImportReport {
    let (dir, site) = (dir.to_path_buf(), site.to_string());
    tokio::task::spawn_blocking(move || {
        archive::import_folder(&archive, &dir, &site, &mut |_| {}).expect("import")
    })
    .await
    .expect("imported")
}

impl TestApp {
    pub async fn start() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store::Store::open_data_dir(dir.path())
            .await
            .expect("store");
        TestApp::start_on(store, dir).await
    }

    /// The application over `store` (a PostgreSQL database, say), with its DICOM archive
    /// in `dir`.
    pub async fn start_on(store: store::Store, dir: tempfile::TempDir) -> TestApp {
        let cli = Actor::command_line();
        let clock = std::sync::Arc::new(trial::FixedClock::new(present()));
        let trial = Trial::new(store).with_clock(clock.clone());
        trial
            .add_site(&cli, "KS", "Karolinska University Hospital")
            .await
            .expect("site");
        trial
            .add_site(&cli, "UU", "Uppsala University Hospital")
            .await
            .expect("site");
        for (username, role, site) in USERS {
            let user = NewUser {
                username: username.into(),
                display_name: username.into(),
                role,
                site: site.map(Into::into),
                password: PASSWORD.into(),
            };
            trial.add_user(&cli, user).await.expect("user");
        }
        let archive = open_archive(trial.store(), dir.path()).await;
        let trial = trial.with_archive(archive);
        TestApp::serve(trial, clock, dir).await
    }

    /// The demo study (`trial::demo`: sites, the demo's users, the simulated trial of
    /// `participants` enrolled women from `seed`) built on `store` at [`present`], served.
    pub async fn demo_on(
        store: store::Store,
        dir: tempfile::TempDir,
        seed: u64,
        participants: u32,
    ) -> TestApp {
        let clock = std::sync::Arc::new(trial::FixedClock::new(present()));
        let archive = open_archive(&store, dir.path()).await;
        let trial = Trial::new(store)
            .with_clock(clock.clone())
            .with_archive(archive);
        trial::demo::build(&trial, &clock, seed, participants, &mut |_| {})
            .await
            .expect("the demo builds");
        TestApp::serve(trial, clock, dir).await
    }

    async fn serve(
        trial: Trial,
        clock: std::sync::Arc<trial::FixedClock>,
        dir: tempfile::TempDir,
    ) -> TestApp {
        let state = AppState::from_trial(trial, false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let s = state.clone();
        let server = tokio::spawn(async move {
            let _ = server::serve_on(s, listener).await;
        });
        let trial = state.trial.clone();
        let opts = trial::jobs::WorkerOptions::new(trial::jobs::worker_name("test"));
        let worker =
            tokio::spawn(async move { trial.run_worker(opts, std::future::pending()).await });
        TestApp {
            addr,
            state,
            clock,
            _dir: dir,
            server,
            worker: Some(worker),
        }
    }

    /// Stops the in-process imaging worker: queued jobs wait for others.
    pub fn stop_worker(&mut self) {
        if let Some(w) = self.worker.take() {
            w.abort();
        }
    }

    /// Writes the synthetic PET of `seed` and imports it into the server's archive as
    /// an exam of site KS.
    pub async fn import_phantom(&self, seed: u64) -> pet::phantom::GroundTruth {
        self.import_phantom_as("KS", seed, None).await
    }

    /// Writes the synthetic PET of `seed` with `patient_id` (the phantom's own when none)
    /// and imports it into the server's archive as an exam of `site`.
    pub async fn import_phantom_as(
        &self,
        site: &str,
        seed: u64,
        patient_id: Option<&str>,
    ) -> pet::phantom::GroundTruth {
        let dir = tempfile::tempdir().expect("temp dir");
        let spec = pet::phantom::PhantomSpec {
            patient_id: patient_id.map(Into::into),
            ..pet::phantom::PhantomSpec::new(seed)
        };
        let truth = pet::phantom::write_phantom_with(dir.path(), &spec).expect("phantom");
        let archive = self.state.trial.archive().expect("archive").clone();
        let report = import_for(archive, dir.path(), site).await;
        assert_eq!(report.new, truth.files.len());
        truth
    }

    /// A participant at `site` consented `days` ago and enrolled by the investigator the
    /// next morning; her baseline PET follows that day and the biopsy target L1 is chosen
    /// an hour after the injection. The history is entered as it happened (the clock is
    /// moved through it) and the clock is back at [`present`] afterwards.
    pub async fn after_baseline_pet(&self, site: &str, days: i64) -> String {
        let nurse = if site == "KS" { "nurse.ks" } else { "nurse.uu" };
        let inv = if site == "KS" { "inv.ks" } else { "inv.uu" };
        let consent_at: DateTime<Utc> = now() - Duration::days(days);
        let pet_at = consent_at + Duration::days(1);
        self.clock.set(consent_at + Duration::hours(2));
        let id = self.register(nurse, site).await;
        let cmds = protocol::testing::eligible_screening_commands(site, &id, consent_at);
        self.run(nurse, &id, &cmds).await;
        let signed = pet_at - Duration::hours(2);
        self.clock.set(signed + Duration::minutes(1));
        self.run(inv, &id, &[protocol::testing::enrol_command(signed)])
            .await;
        self.clock.set(pet_at + Duration::hours(2));
        let pet = protocol::testing::baseline_pet_commands(pet_at);
        self.run(inv, &id, &pet).await;
        self.clock.set(present());
        id
    }

    /// Enrols an eligible participant at `site` (the investigator signed yesterday, at the
    /// time of day of [`present`]).
    pub async fn enrolled(&self, site: &str) -> String {
        let id = self.eligible(site).await;
        let inv = if site == "KS" { "inv.ks" } else { "inv.uu" };
        let signed = now() - Duration::days(1);
        let enrol = protocol::testing::enrol_command(signed);
        self.run_at(signed + Duration::minutes(1), inv, &id, &[enrol])
            .await;
        id
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Registers a participant at `site` directly through the write path.
    pub async fn register(&self, by: &str, site: &str) -> String {
        let reg = Registration {
            site: None,
            year_of_birth: 1970,
            sex: protocol::Sex::Female,
        };
        self.state
            .trial
            .register_as(&actor(by), site, &reg)
            .await
            .expect("register")
            .study_id
    }

    /// Runs commands through the write path with the clock at `at`, as they were entered
    /// then; the clock is back at [`present`] afterwards.
    pub async fn run_at(&self, at: DateTime<Utc>, by: &str, id: &str, commands: &[Command]) {
        self.clock.set(at);
        self.run(by, id, commands).await;
        self.clock.set(present());
    }

    /// Runs commands through the write path.
    pub async fn run(&self, by: &str, id: &str, commands: &[Command]) {
        for c in commands {
            let v = self.state.trial.load(id).await.expect("load").version;
            self.state
                .trial
                .execute(&actor(by), id, v, c, None)
                .await
                .expect("command accepted");
        }
    }

    /// A participant with every screening datum of an eligible woman, consented `days` ago.
    pub async fn eligible(&self, site: &str) -> String {
        let nurse = if site == "KS" { "nurse.ks" } else { "nurse.uu" };
        let id = self.register(nurse, site).await;
        let consent_at: DateTime<Utc> = now() - Duration::days(10);
        let cmds = protocol::testing::eligible_screening_commands(site, &id, consent_at);
        self.run(nurse, &id, &cmds).await;
        id
    }

    /// A client signed in as `username`.
    pub async fn client(&self, username: &str) -> Client {
        self.client_with(username, PASSWORD).await
    }

    /// A client signed in as `username` with `password` (the demo's users have their own).
    pub async fn client_with(&self, username: &str, password: &str) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("client");
        let r = http
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(r.status(), StatusCode::OK, "sign in as {username}");
        let me: Value = r.json().await.expect("me");
        Client {
            http,
            base: self.url(""),
            csrf: me["csrf_token"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// A client that is not signed in.
    pub fn anonymous(&self) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: self.url(""),
            csrf: String::new(),
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl Client {
    pub async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("request");
        answer(r).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.post_raw(path, "application/json", body.to_string())
            .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: String) -> Answer {
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        answer(r).await
    }

    /// Runs a command over the API.
    pub async fn command(&self, id: &str, name: &str, version: i64, data: Value) -> Answer {
        self.post(
            &format!("/api/v1/participants/{id}/commands/{name}"),
            &json!({"expected_version": version, "data": data}),
        )
        .await
    }

    /// Follows the imaging job a quantify request queued (202, with its `url`) until a
    /// worker ended it; the job as it ended. Bounded: gives up after a minute.
    pub async fn wait_job(&self, queued: &Answer) -> Value {
        assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
        let url = queued.body["url"]
            .as_str()
            .expect("the job's url")
            .to_string();
        for _ in 0..1200 {
            let job = self.get(&url).await;
            assert_eq!(job.status, StatusCode::OK, "{}", job.text);
            if !matches!(job.body["state"].as_str(), Some("queued" | "running")) {
                return job.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("imaging job {url} did not end within a minute");
    }

    pub async fn version(&self, id: &str) -> i64 {
        self.get(&format!("/api/v1/participants/{id}")).await.body["version"]
            .as_i64()
            .expect("version")
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body, text }
}

/// The tests' present: Wednesday 18 November 2026, 11:00 UTC (12:00 CET in Stockholm),
/// a time of day at which the sites' date and the UTC date agree. Tests of the hours
/// around midnight move the clock themselves.
pub fn present() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 18, 11, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Now, as the server under test reads it (its clock stands at [`present`]).
pub fn now() -> DateTime<Utc> {
    present()
}
