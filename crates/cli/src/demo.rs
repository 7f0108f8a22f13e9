//! `her2ex demo`: demonstration data built through the same write path as real work
//! (sites, users, participants in several states), then served.

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::Args;
use protocol::{Command, ESignature};
use trial::admin::NewUser;
use trial::participants::Registration;
use trial::{Actor, Role, Trial};

use crate::serve_cmd::{self, ServeArgs};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "her2ex-demo-2026";

/// Arguments of `her2ex demo`.
#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Only build the data; do not serve.
    #[arg(long)]
    no_serve: bool,
}

const SITES: [(&str, &str); 3] = [
    ("KS", "Karolinska University Hospital (Solna)"),
    ("UU", "Uppsala University Hospital"),
    ("SUS", "Skåne University Hospital"),
];

const USERS: [(&str, &str, Role, Option<&str>); 11] = [
    ("admin", "Demo Administrator", Role::Admin, None),
    (
        "anna.nurse",
        "Anna Berg (research nurse)",
        Role::ResearchNurse,
        Some("KS"),
    ),
    (
        "erik.inv",
        "Erik Lind (investigator)",
        Role::Investigator,
        Some("KS"),
    ),
    (
        "nils.reader",
        "Nils Ek (nuclear medicine)",
        Role::NuclearMedicineReader,
        Some("KS"),
    ),
    (
        "maria.nurse",
        "Maria Holm (research nurse)",
        Role::ResearchNurse,
        Some("UU"),
    ),
    (
        "lars.inv",
        "Lars Nyberg (investigator)",
        Role::Investigator,
        Some("UU"),
    ),
    (
        "petra.path",
        "Petra Sjö (pathologist)",
        Role::Pathologist,
        Some("KS"),
    ),
    (
        "monica.monitor",
        "Monica Falk (monitor)",
        Role::Monitor,
        None,
    ),
    (
        "dana.dm",
        "Dana Ström (data manager)",
        Role::DataManager,
        None,
    ),
    (
        "sam.stat",
        "Sam Ahl (statistician)",
        Role::Statistician,
        None,
    ),
    (
        "stina.director",
        "Stina Ljung (study director)",
        Role::StudyDirector,
        None,
    ),
];

fn actor(username: &str) -> Actor {
    let (_, _, role, site) = USERS
        .iter()
        .find(|u| u.0 == username)
        .copied()
        .unwrap_or(USERS[0]);
    Actor {
        username: username.into(),
        role: role.id().into(),
        site: site.map(Into::into),
    }
}

const ENROL_MEANING: &str = "I confirm that this participant meets every eligibility criterion and enrol her in HER2-Ex PET.";

/// The electronic signature of a demo user.
fn sign(who: &Actor, meaning: &str, at: chrono::DateTime<Utc>) -> ESignature {
    ESignature {
        signer: who.username.clone(),
        role: who.role.clone(),
        meaning: meaning.into(),
        signed_at: at,
    }
}

/// What an investigator's attestation signature means (the `attestation` command's).
const ATTEST_MEANING: &str = "I attest that the answers I give here are true for this participant.";

/// Screening entered as a site works: the nurse records consent and the screening data,
/// and every attestation is signed and recorded by the site's investigator `inv` at the
/// time the screening script gives it, so the audit trail names the person who signed.
async fn screen(
    state: &Trial,
    nurse: &Actor,
    inv: &Actor,
    id: &str,
    commands: &[Command],
) -> anyhow::Result<()> {
    for c in commands {
        match c {
            Command::RecordAttestation(a) => {
                let signed = protocol::RecordAttestation {
                    signature: sign(inv, ATTEST_MEANING, a.signature.signed_at),
                    ..a.clone()
                };
                run_all(state, inv, id, &[Command::RecordAttestation(signed)]).await?;
            }
            other => run_all(state, nurse, id, std::slice::from_ref(other)).await?,
        }
    }
    Ok(())
}

async fn run_all(state: &Trial, who: &Actor, id: &str, commands: &[Command]) -> anyhow::Result<()> {
    for c in commands {
        let version = state.load(id).await.map_err(api_err)?.version;
        state
            .execute(who, id, version, c, None)
            .await
            .map_err(api_err)
            .with_context(|| format!("demo participant {id}"))?;
    }
    Ok(())
}

fn api_err(e: trial::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", crate::explain(&e))
}

async fn register(state: &Trial, who: &Actor, site: &str, year: i32) -> anyhow::Result<String> {
    let reg = Registration {
        site: None,
        year_of_birth: year,
        sex: protocol::Sex::Female,
    };
    Ok(state
        .register_as(who, site, &reg)
        .await
        .map_err(api_err)?
        .study_id)
}

/// Builds the demo data in an empty store, moving `clock` (the one `state` reads) through
/// the history and back to the present.
pub async fn build(state: &Trial, clock: &trial::FixedClock) -> anyhow::Result<()> {
    let cli = Actor::command_line();
    for (code, name) in SITES {
        state.add_site(&cli, code, name).await.map_err(api_err)?;
    }
    for (username, name, role, site) in USERS {
        let user = NewUser {
            username: username.into(),
            display_name: name.into(),
            role,
            site: site.map(Into::into),
            password: DEMO_PASSWORD.into(),
        };
        state.add_user(&cli, user).await.map_err(api_err)?;
    }
    let at = Timeline::new(state, clock);
    let nurse = actor("anna.nurse");
    let inv = actor("erik.inv");

    // KS-001: eligible, enrolled by the investigator two days ago, PET1 yesterday.
    at.set(12, (12, 0));
    let id = register(state, &nurse, "KS", 1968).await?;
    let consent_at = at.time(12, (9, 0));
    screen(
        state,
        &nurse,
        &inv,
        &id,
        &protocol::testing::eligible_screening_commands("KS", &id, consent_at),
    )
    .await?;
    at.set(2, (10, 5));
    let signature = sign(&inv, ENROL_MEANING, at.time(2, (10, 0)));
    run_all(
        state,
        &inv,
        &id,
        &[Command::Enrol(protocol::Enrol { signature })],
    )
    .await?;
    baseline_pet(state, &at, &id, 1, 2026).await?;

    // KS-002: in screening, data still missing.
    at.set(3, (12, 0));
    let id = register(state, &nurse, "KS", 1975).await?;
    let partial = protocol::testing::eligible_screening_commands("KS", &id, at.time(3, (9, 0)));
    screen(state, &nurse, &inv, &id, &partial[..partial.len().min(4)]).await?;

    // KS-003: registered only (today).
    at.present();
    register(state, &nurse, "KS", 1959).await?;

    // UU-001: consented and in screening; UU-002: withdrew her consent yesterday.
    let uu_nurse = actor("maria.nurse");
    at.set(5, (12, 0));
    let id = register(state, &uu_nurse, "UU", 1981).await?;
    let cmds = protocol::testing::eligible_screening_commands("UU", &id, at.time(5, (9, 0)));
    run_all(state, &uu_nurse, &id, &cmds[..cmds.len().min(2)]).await?;
    at.set(9, (12, 0));
    let id = register(state, &uu_nurse, "UU", 1963).await?;
    let cmds = protocol::testing::eligible_screening_commands("UU", &id, at.time(9, (9, 0)));
    run_all(state, &uu_nurse, &id, &cmds[..cmds.len().min(2)]).await?;
    at.set(1, (14, 5));
    let withdraw = Command::WithdrawConsent(protocol::WithdrawConsent {
        withdrawn_at: at.time(1, (14, 0)),
        reason: "Participant decided not to continue".into(),
    });
    run_all(state, &uu_nurse, &id, &[withdraw]).await?;

    // KS-004 in arm 1 on T-DXd; KS-005 in arm 2 with her follow-up end overdue.
    journey(state, &at, true).await?;
    journey(state, &at, false).await?;
    oversight(state, &at).await?;
    at.present();
    Ok(())
}

/// The monitor's visit of yesterday: KS-001's screening labs verified, a query answered
/// and closed, one left open for the site; the investigator signed KS-004's screening;
/// the data manager froze and locked UU-002, who withdrew.
async fn oversight(state: &Trial, at: &Timeline<'_>) -> anyhow::Result<()> {
    use protocol::oversight::{
        AnswerQuery, ChangeHold, DataPoint, OversightCommand as O, RaiseQuery, ResolveQuery, Scope,
        SignCasebook, SignScope, Staff, VerifyEntries, Visit,
    };
    let act = |who: &'static str, id: &'static str, command: O| async move {
        let a = actor(who);
        let role = Role::parse(&a.role).unwrap_or(Role::Monitor);
        state
            .oversee_by(&a, &Staff::new(who, role), id, None, &command, None)
            .await
            .map_err(api_err)
            .with_context(|| format!("demo oversight of {id}"))
    };
    let point = |entry: &str| DataPoint {
        entry_id: entry.into(),
        field: Some("value".into()),
    };
    at.set(1, (10, 0));
    act(
        "monica.monitor",
        "KS-001",
        O::VerifyEntries(VerifyEntries {
            entry_ids: vec![],
            scope: Some(Scope::Form { form: "lab".into() }),
        }),
    )
    .await?;
    act(
        "monica.monitor",
        "KS-001",
        O::RaiseQuery(RaiseQuery {
            point: point("lab-5"),
            text: "Creatinine 68 µmol/L: the lab report in the chart says 86. Please check.".into(),
        }),
    )
    .await?;
    act(
        "monica.monitor",
        "KS-004",
        O::RaiseQuery(RaiseQuery {
            point: point("lab-1"),
            text: "Please attach the echocardiography report date to the source file.".into(),
        }),
    )
    .await?;
    at.set(1, (13, 0));
    act(
        "anna.nurse",
        "KS-001",
        O::AnswerQuery(AnswerQuery {
            query_id: "q-1".into(),
            text: "Checked: the chart shows 68 µmol/L; 86 was the previous visit.".into(),
            correction: None,
        }),
    )
    .await?;
    at.set(1, (15, 0));
    act(
        "monica.monitor",
        "KS-001",
        O::CloseQuery(ResolveQuery {
            query_id: "q-1".into(),
            text: "Confirmed against the chart.".into(),
        }),
    )
    .await?;
    let inv = actor("erik.inv");
    act(
        "erik.inv",
        "KS-004",
        O::SignCasebook(SignCasebook {
            scope: SignScope::Visit {
                visit: Visit::Screening,
            },
            signature: sign(
                &inv,
                trial::oversight::CASEBOOK_MEANING,
                at.time(1, (15, 0)),
            ),
        }),
    )
    .await?;
    for command in [O::Freeze, O::Lock] {
        let hold = ChangeHold {
            scope: Scope::Participant,
            reason: None,
        };
        act("dana.dm", "UU-002", command(hold)).await?;
    }
    Ok(())
}

/// The demo's history is entered as it happened: the clock is moved to each step, so
/// every entry is in the protocol's order and dated when it was made. Days are counted
/// back from today in the sites' calendar; times are local wall-clock times.
struct Timeline<'a> {
    clock: &'a trial::FixedClock,
    zone: trial::SiteZone,
    present: chrono::DateTime<Utc>,
    today: chrono::NaiveDate,
}

impl<'a> Timeline<'a> {
    fn new(state: &Trial, clock: &'a trial::FixedClock) -> Self {
        let present = state.now();
        let zone = state.zone();
        Timeline {
            clock,
            zone,
            present,
            today: zone.date_of(present),
        }
    }

    /// `days_ago` at local `(hour, minute)`; never later than the present.
    fn time(&self, days_ago: i64, (h, m): (u32, u32)) -> chrono::DateTime<Utc> {
        let day = self.today - Duration::days(days_ago);
        day.and_hms_opt(h, m, 0)
            .and_then(|t| self.zone.to_utc(t))
            .map_or(self.present, |t| t.min(self.present))
    }

    /// The local date `days_ago`.
    fn day(&self, days_ago: i64) -> chrono::NaiveDate {
        self.today - Duration::days(days_ago)
    }

    /// Moves the clock to `days_ago` at `(hour, minute)`.
    fn set(&self, days_ago: i64, hm: (u32, u32)) {
        self.clock.set(self.time(days_ago, hm));
    }

    /// Moves the clock to an instant (not past the present).
    fn set_at(&self, t: chrono::DateTime<Utc>) {
        self.clock.set(t.min(self.present));
    }

    /// Moves the clock back to the present.
    fn present(&self) {
        self.clock.set(self.present);
    }
}

/// A baseline HER2-PET for `id`: the IMP given `days_ago` at 09:30 Stockholm time, the
/// scanner's series (a synthetic PET of `seed` with her study id as PatientID) in the
/// archive and quantified, entered by the nurse after the scan. Returns the injection time.
async fn baseline_pet(
    state: &Trial,
    at: &Timeline<'_>,
    id: &str,
    days_ago: i64,
    seed: u64,
) -> anyhow::Result<Option<chrono::DateTime<Utc>>> {
    let Some(archive) = state.archive().cloned() else {
        return Ok(None);
    };
    let zone = state.zone();
    let local = at
        .day(days_ago)
        .and_hms_opt(9, 30, 0)
        .context("injection time")?;
    let injected_at = zone
        .to_utc(local)
        .context("injection time in the sites' time zone")?;
    at.set_at(injected_at + Duration::hours(3));
    let spec = pet::phantom::PhantomSpec {
        patient_id: Some(id.to_string()),
        injected_at: local,
        ..pet::phantom::PhantomSpec::new(seed)
    };
    let dir = tempfile::tempdir().context("temporary folder for the demo PET")?;
    let truth = {
        let (spec, path, archive) = (spec.clone(), dir.path().to_path_buf(), archive.clone());
        let site = id.split('-').next().unwrap_or_default().to_string();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let truth = pet::phantom::write_phantom_with(&path, &spec)?;
            archive::import_folder(&archive, &path, &site, &mut |_| {})?;
            Ok(truth)
        })
        .await??
    };
    let imp = Command::RecordImpAdministration(protocol::RecordImpAdministration {
        timepoint: protocol::PetTimepoint::Pet1,
        activity_mbq: spec.injected_mbq,
        injected_at,
        weight_kg: spec.weight_kg,
        height_cm: spec.height_m * 100.0,
        peptide_mass_ug: Some(100.0),
        scan_start_at: Some(injected_at + Duration::minutes(spec.uptake_min as i64)),
        late_entry_of_fact: false,
        corrects: None,
        correction_reason: None,
    });
    let nurse = actor("anna.nurse");
    run_all(state, &nurse, id, &[imp]).await?;
    let settings = state.settings().await.map_err(api_err)?;
    let uid = truth.series_uid.clone();
    let q = tokio::task::spawn_blocking(move || {
        trial::imaging::quantify_series(
            &archive,
            &uid,
            protocol::PetTimepoint::Pet1,
            "imp-1",
            &settings,
            zone,
        )
    })
    .await?
    .map_err(api_err)?;
    run_all(
        state,
        &nurse,
        id,
        &[Command::RecordPetQuantification(q.command)],
    )
    .await?;
    Ok(Some(injected_at))
}

/// The reader confirms every candidate outside the physiological organs (accessible by
/// ultrasound) and rejects the rest; the investigator follows the proposal.
async fn review_and_choose(
    state: &Trial,
    id: &str,
    signed_at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let loaded = state.load(id).await.map_err(api_err)?;
    let tp = protocol::PetTimepoint::Pet1;
    let Some(q) = loaded.participant.pet_quantification(tp).cloned() else {
        return Ok(());
    };
    let decisions = q
        .candidates
        .iter()
        .map(|k| protocol::CandidateDecision {
            candidate: k.number,
            decision: if k.physiological.is_some() {
                protocol::imaging::ReaderDecision::Reject
            } else {
                protocol::imaging::ReaderDecision::Confirm
            },
            anatomical_site: k
                .physiological
                .is_none()
                .then(|| format!("metastasis {}", k.number)),
            ultrasound_accessible: k.physiological.is_none().then_some(true),
            note: k
                .physiological
                .as_ref()
                .map(|o| format!("physiological uptake ({o})")),
        })
        .collect();
    let review = Command::ReviewPetLesions(protocol::ReviewPetLesions {
        timepoint: tp,
        quantification_id: q.quantification_id.clone(),
        decisions,
        added: Vec::new(),
        note: None,
    });
    run_all(state, &actor("nils.reader"), id, &[review]).await?;
    let loaded = state.load(id).await.map_err(api_err)?;
    let Some(first) = loaded
        .participant
        .pet_review(tp)
        .and_then(|r| r.proposal.iter().find(|t| t.rank == Some(1)))
        .map(|t| t.label.clone())
    else {
        return Ok(());
    };
    let inv = actor("erik.inv");
    let choose = Command::ChooseBiopsyTarget(protocol::ChooseBiopsyTarget {
        timepoint: tp,
        lesion: first,
        reason: "Hottest lesion reachable by ultrasound (proposal rank 1)".into(),
        signature: sign(
            &inv,
            "I choose this lesion as the biopsy target for the reason given.",
            signed_at,
        ),
    });
    run_all(state, &inv, id, &[choose]).await
}

/// A KS participant consented 30 days ago and enrolled the next day; PET1 28 days ago,
/// reviewed and her biopsy target chosen that afternoon; biopsied the next morning and
/// reported 24 days ago: HER2 1+ goes to arm 1 (cycle 1 of T-DXd 23 days ago, cycle 2
/// two days ago, a grade 1 nausea after cycle 1), HER2 0 to arm 2 (her follow-up end is
/// overdue).
async fn journey(state: &Trial, at: &Timeline<'_>, arm1: bool) -> anyhow::Result<()> {
    let nurse = actor("anna.nurse");
    at.set(30, (12, 0));
    let id = register(state, &nurse, "KS", if arm1 { 1972 } else { 1966 }).await?;
    let screening = protocol::testing::eligible_screening_commands("KS", &id, at.time(30, (9, 0)));
    let inv = actor("erik.inv");
    screen(state, &nurse, &inv, &id, &screening).await?;
    at.set(29, (10, 5));
    let signature = sign(&inv, ENROL_MEANING, at.time(29, (10, 0)));
    run_all(
        state,
        &inv,
        &id,
        &[Command::Enrol(protocol::Enrol { signature })],
    )
    .await?;
    if baseline_pet(state, at, &id, 28, if arm1 { 7 } else { 8 })
        .await?
        .is_none()
    {
        return Ok(());
    }
    at.set(28, (14, 35));
    review_and_choose(state, &id, at.time(28, (14, 30))).await?;
    at.set(27, (11, 0));
    let biopsy = protocol::testing::fresh_biopsy_command(at.time(27, (10, 0)));
    run_all(state, &nurse, &id, &[biopsy]).await?;
    let ihc = if arm1 {
        protocol::records::IhcScore::OnePlus
    } else {
        protocol::records::IhcScore::Zero
    };
    let report =
        match protocol::testing::pathology_command("biopsy-1", "A1", ihc, false, at.day(24)) {
            Command::RecordPathology(r) => Command::RecordPathology(protocol::RecordPathology {
                reader: "Petra Sjö".into(),
                ..r
            }),
            other => other,
        };
    at.set(24, (15, 0));
    run_all(state, &actor("petra.path"), &id, &[report]).await?;
    if arm1 {
        let level = protocol::journey::tdxd::DoseLevel::Start;
        at.set(23, (16, 0));
        let c1 = protocol::testing::tdxd_command(at.day(23), level);
        run_all(state, &nurse, &id, &[c1]).await?;
        at.set(21, (10, 30));
        let nausea =
            protocol::testing::adverse_event_command(10028813, 1, at.day(21), at.time(21, (10, 0)));
        run_all(state, &nurse, &id, &[nausea]).await?;
        at.set(2, (16, 0));
        let c2 = protocol::testing::tdxd_command(at.day(2), level);
        run_all(state, &nurse, &id, &[c2]).await?;
    }
    Ok(())
}

/// The DICOM sender the demo allows when none is configured: `storescu` on this machine,
/// storing for KS.
pub const DEMO_SENDER: &str = "STORESCU@127.0.0.1=KS";

/// Runs `her2ex demo`.
pub async fn run(mut a: DemoArgs) -> anyhow::Result<u8> {
    // The demo's audit trail is anchored like a real study's: a checkpoint key beside the
    // data directory, created once.
    a.serve.data.create_key_if_missing()?;
    // A scanner simulator on this machine (dcmtk's `storescu` calls as STORESCU) may send
    // to the demo's receiver as Karolinska's scanner, unless senders are given.
    if a.serve.dicom_senders.is_empty() {
        a.serve.dicom_senders.push(DEMO_SENDER.to_owned());
    }
    let store = a.serve.data.open().await?;
    let archive = archive::Archive::open(&a.serve.data.data_dir).with_context(|| {
        format!(
            "opening the DICOM archive in {}",
            a.serve.data.data_dir.display()
        )
    })?;
    let clock = std::sync::Arc::new(trial::FixedClock::new(Trial::new(store.clone()).now()));
    let state = Trial::open(store.clone())
        .await
        .map_err(api_err)?
        .with_archive(std::sync::Arc::new(archive))
        .with_clock(clock.clone());
    if store.site("KS").await?.is_some() {
        println!(
            "demo data already present in {}; using it",
            a.serve.data.data_dir.display()
        );
    } else {
        println!(
            "building demo data in {} …",
            a.serve.data.data_dir.display()
        );
        build(&state, &clock).await?;
        let participants = store.participants(None).await?;
        println!(
            "demo data built: {} sites, {} users, {} participants",
            SITES.len(),
            USERS.len(),
            participants.len()
        );
    }
    println!("\nDemo sign-ins (password for all: {DEMO_PASSWORD}):");
    for (username, name, role, site) in USERS {
        println!(
            "  {username:<16} {:<24} {:<5} {name}",
            role.label(),
            site.unwrap_or("all")
        );
    }
    if a.no_serve {
        return Ok(0);
    }
    println!();
    serve_cmd::serve_store(store, &a.serve).await
}
