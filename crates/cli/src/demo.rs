//! `her2ex demo`: demonstration data built through the same write path as real work
//! (sites, users, participants in several states), then served.

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::Args;
use protocol::{Command, ESignature};
use server::AppState;
use server::admin::{self, NewUser};
use server::roles::Role;
use server::write::{self, Actor, Registration};

use crate::serve_cmd::{self, ServeArgs};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "her2ex-demo";

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
        Some("SUS"),
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

async fn run_all(
    state: &AppState,
    who: &Actor,
    id: &str,
    commands: &[Command],
) -> anyhow::Result<()> {
    for c in commands {
        let version = write::load(&state.store, id)
            .await
            .map_err(api_err)?
            .version;
        write::execute(state, who, id, version, c, None)
            .await
            .map_err(api_err)
            .with_context(|| format!("demo participant {id}"))?;
    }
    Ok(())
}

fn api_err(e: server::error::ApiError) -> anyhow::Error {
    let b = e.body();
    anyhow::anyhow!("{} {}", b.rule.unwrap_or_default(), b.message)
}

async fn register(state: &AppState, who: &Actor, site: &str, year: i32) -> anyhow::Result<String> {
    let reg = Registration {
        site: None,
        year_of_birth: year,
        sex: protocol::Sex::Female,
    };
    Ok(write::register(state, who, site, &reg)
        .await
        .map_err(api_err)?
        .study_id)
}

/// Builds the demo data in an empty store.
pub async fn build(state: &AppState) -> anyhow::Result<()> {
    let cli = Actor::command_line();
    for (code, name) in SITES {
        admin::add_site(&state.store, &cli, code, name)
            .await
            .map_err(api_err)?;
    }
    for (username, name, role, site) in USERS {
        let user = NewUser {
            username: username.into(),
            display_name: name.into(),
            role,
            site: site.map(Into::into),
            password: DEMO_PASSWORD.into(),
        };
        admin::add_user(&state.store, &cli, user)
            .await
            .map_err(api_err)?;
    }
    let now = Utc::now();
    let nurse = actor("anna.nurse");
    let inv = actor("erik.inv");
    let consent_at = now - Duration::days(12);

    // KS-001: eligible and enrolled, signed by the investigator.
    let id = register(state, &nurse, "KS", 1968).await?;
    run_all(
        state,
        &nurse,
        &id,
        &protocol::testing::eligible_screening_commands("KS", &id, consent_at),
    )
    .await?;
    let signature = ESignature {
        signer: inv.username.clone(),
        role: inv.role.clone(),
        meaning: "I confirm that this participant meets every eligibility criterion and enrol her in HER2-Ex PET.".into(),
        signed_at: now - Duration::days(2),
    };
    run_all(
        state,
        &inv,
        &id,
        &[Command::Enrol(protocol::Enrol { signature })],
    )
    .await?;

    // KS-002: in screening, data still missing.
    let id = register(state, &nurse, "KS", 1975).await?;
    let partial =
        protocol::testing::eligible_screening_commands("KS", &id, now - Duration::days(3));
    run_all(state, &nurse, &id, &partial[..partial.len().min(4)]).await?;

    // KS-003: registered only.
    register(state, &nurse, "KS", 1959).await?;

    // UU-001: consented and in screening; UU-002: withdrew her consent.
    let uu_nurse = actor("maria.nurse");
    let id = register(state, &uu_nurse, "UU", 1981).await?;
    let cmds = protocol::testing::eligible_screening_commands("UU", &id, now - Duration::days(5));
    run_all(state, &uu_nurse, &id, &cmds[..cmds.len().min(2)]).await?;
    let id = register(state, &uu_nurse, "UU", 1963).await?;
    let cmds = protocol::testing::eligible_screening_commands("UU", &id, now - Duration::days(9));
    run_all(state, &uu_nurse, &id, &cmds[..cmds.len().min(2)]).await?;
    let withdraw = Command::WithdrawConsent(protocol::WithdrawConsent {
        withdrawn_at: now - Duration::days(1),
        reason: "Participant decided not to continue".into(),
    });
    run_all(state, &uu_nurse, &id, &[withdraw]).await?;
    Ok(())
}

/// Runs `her2ex demo`.
pub async fn run(a: DemoArgs) -> anyhow::Result<u8> {
    let store = a.serve.data.open().await?;
    let state = AppState::new(store.clone(), false);
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
        build(&state).await?;
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
