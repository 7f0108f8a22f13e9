//! The demo's sites and users: who enters what, as at the three hospitals and the sponsor.

use crate::{Actor, Role, User};
use protocol::ESignature;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "her2ex-demo-2026";

/// The trial's sites: code, name, and the simulator's name for it.
pub const SITES: [(&str, &str, &str); 3] = [
    ("KS", "Karolinska University Hospital (Solna)", "Karolinska"),
    ("UU", "Uppsala University Hospital", "Uppsala"),
    ("SUS", "Skåne University Hospital", "Skåne"),
];

/// A demo account: username, display name, role, site.
pub type Account = (&'static str, &'static str, Role, Option<&'static str>);

/// Every demo account. Each site has a research nurse, an investigator, a
/// nuclear-medicine reader and a pathologist; the sponsor's people see every site.
pub const USERS: [Account; 19] = [
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
        "petra.path",
        "Petra Sjö (pathologist)",
        Role::Pathologist,
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
        "ulla.reader",
        "Ulla Dahl (nuclear medicine)",
        Role::NuclearMedicineReader,
        Some("UU"),
    ),
    (
        "per.path",
        "Per Wik (pathologist)",
        Role::Pathologist,
        Some("UU"),
    ),
    (
        "sofia.nurse",
        "Sofia Lund (research nurse)",
        Role::ResearchNurse,
        Some("SUS"),
    ),
    (
        "oskar.inv",
        "Oskar Falk (investigator)",
        Role::Investigator,
        Some("SUS"),
    ),
    (
        "hanna.reader",
        "Hanna Borg (nuclear medicine)",
        Role::NuclearMedicineReader,
        Some("SUS"),
    ),
    (
        "jonas.path",
        "Jonas Åberg (pathologist)",
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
    ("karin.monitor", "Karin Ros (monitor)", Role::Monitor, None),
    (
        "olof.stat",
        "Olof Nord (statistician)",
        Role::Statistician,
        None,
    ),
];

fn account(username: &str) -> Account {
    USERS
        .iter()
        .find(|u| u.0 == username)
        .copied()
        .unwrap_or(USERS[0])
}

/// The audit identity of a demo user.
pub fn actor(username: &str) -> Actor {
    let (_, _, role, site) = account(username);
    Actor {
        username: username.into(),
        role: role.id().into(),
        site: site.map(Into::into),
    }
}

/// A demo user as the application knows her after sign-in.
pub fn user(username: &str) -> User {
    let (name, display, role, site) = account(username);
    User {
        username: name.into(),
        display_name: display.into(),
        role,
        site: site.map(Into::into),
        client_address: None,
    }
}

/// The display name of a demo user (a pathologist signs her report with it).
pub fn display_name(username: &str) -> &'static str {
    let name = account(username).1;
    name.split(" (").next().unwrap_or(name)
}

/// The site's user of `role` (every site has one of each site role).
pub fn staff(site: &str, role: Role) -> &'static str {
    USERS
        .iter()
        .find(|u| u.2 == role && u.3 == Some(site))
        .map_or("admin", |u| u.0)
}

/// The electronic signature of a demo user, signed at `at` with `meaning`.
pub fn sign(username: &str, meaning: &str, at: chrono::DateTime<chrono::Utc>) -> ESignature {
    let a = actor(username);
    ESignature {
        signer: a.username,
        role: a.role,
        meaning: meaning.into(),
        signed_at: at,
    }
}
