//! Sites, users and protocol settings: written through the same audited log as trial
//! data (streams `site/…`, `user/…`, `settings`), with their read rows updated in the
//! same transaction.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use store::{NewEvent, Projection, SiteRow, Store, UserRow};

use crate::error::ApiError;
use crate::roles::Role;
use crate::write::Actor;

/// Events of the administrative streams.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AdminEvent {
    /// A trial site was added.
    SiteAdded {
        /// Short code used in study ids (`KS`).
        code: String,
        /// Full name.
        name: String,
    },
    /// A user account was created.
    UserAdded {
        /// Sign-in name.
        username: String,
        /// Name shown in the audit trail.
        display_name: String,
        /// Role id.
        role: String,
        /// Site of a site-bound role.
        site: Option<String>,
        /// argon2id hash of the password.
        password_hash: String,
    },
    /// The protocol settings changed (PROTOCOL.md §14).
    SettingsChanged {
        /// The complete new settings value.
        settings: Box<protocol::Settings>,
    },
}

impl AdminEvent {
    fn kind(&self) -> &'static str {
        match self {
            AdminEvent::SiteAdded { .. } => "site_added",
            AdminEvent::UserAdded { .. } => "user_added",
            AdminEvent::SettingsChanged { .. } => "settings_changed",
        }
    }

    fn encode(&self) -> Result<NewEvent, ApiError> {
        Ok(NewEvent {
            kind: self.kind().to_string(),
            payload: serde_json::to_value(self).map_err(|e| ApiError::internal("encode", e))?,
        })
    }
}

fn bad(msg: String) -> ApiError {
    ApiError::BadRequest(msg)
}

/// Adds a trial site. Codes are 2–4 capital letters (they start every study id).
pub async fn add_site(
    store: &Store,
    actor: &Actor,
    code: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !(2..=4).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(bad(format!(
            "site code {code:?} must be 2 to 4 capital letters, e.g. KS"
        )));
    }
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(bad("a site needs a name of 1 to 200 characters".into()));
    }
    protocol::privacy::check_free_text("site name", name)?;
    let event = AdminEvent::SiteAdded {
        code: code.into(),
        name: name.into(),
    };
    let row = SiteRow {
        code: code.into(),
        name: name.into(),
    };
    store
        .append(
            &format!("site/{code}"),
            0,
            &[event.encode()?],
            &actor.meta(Utc::now(), None),
            &[Projection::Site(row)],
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => bad(format!("site {code} exists already")),
            other => other.into(),
        })?;
    Ok(())
}

/// A new user account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name: 2–32 of a–z, 0–9, `.`, `_`, `-`.
    pub username: String,
    /// Name shown in the audit trail.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Site, required for site-bound roles and refused for study-wide ones.
    pub site: Option<String>,
    /// Initial password (at least 10 characters).
    pub password: String,
}

/// Adds a user account.
pub async fn add_user(store: &Store, actor: &Actor, user: NewUser) -> Result<(), ApiError> {
    let name_ok = (2..=32).contains(&user.username.len())
        && user
            .username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if !name_ok {
        return Err(bad(format!(
            "user name {:?} must be 2 to 32 of a-z, 0-9, '.', '_', '-'",
            user.username
        )));
    }
    if user.password.chars().count() < 10 {
        return Err(bad("a password needs at least 10 characters".into()));
    }
    protocol::privacy::check_free_text("display name", &user.display_name)?;
    match (&user.site, user.role.is_site_bound()) {
        (None, true) => {
            return Err(bad(format!(
                "a {} belongs to a site: give --site",
                user.role.label().to_lowercase()
            )));
        }
        (Some(_), false) => {
            return Err(bad(format!(
                "a {} works study-wide: give no site",
                user.role.label().to_lowercase()
            )));
        }
        (Some(site), true) if store.site(site).await?.is_none() => {
            return Err(bad(format!("no site {site}: add it first")));
        }
        _ => {}
    }
    let password_hash = crate::auth::hash_password(user.password).await?;
    let display_name = if user.display_name.trim().is_empty() {
        user.username.clone()
    } else {
        user.display_name.trim().to_string()
    };
    let event = AdminEvent::UserAdded {
        username: user.username.clone(),
        display_name: display_name.clone(),
        role: user.role.id().into(),
        site: user.site.clone(),
        password_hash: password_hash.clone(),
    };
    let row = UserRow {
        username: user.username.clone(),
        display_name,
        role: user.role.id().into(),
        site: user.site,
        password_hash,
        active: true,
    };
    store
        .append(
            &format!("user/{}", user.username),
            0,
            &[event.encode()?],
            &actor.meta(Utc::now(), None),
            &[Projection::User(row)],
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => {
                bad(format!("user {} exists already", user.username))
            }
            other => other.into(),
        })?;
    Ok(())
}

/// The settings in force: the last `settings_changed` event, or the protocol defaults.
pub async fn load_settings(store: &Store) -> Result<protocol::Settings, ApiError> {
    let events = store.read_stream("settings").await?;
    let mut settings = protocol::Settings::default();
    for e in events {
        if let Ok(AdminEvent::SettingsChanged { settings: s }) = serde_json::from_value(e.payload) {
            settings = *s;
        }
    }
    Ok(settings)
}

/// Changes the protocol settings (an amendment); the reason is required and audited.
pub async fn change_settings(
    store: &Store,
    actor: &Actor,
    new: protocol::Settings,
    reason: &str,
) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(bad("a settings change needs a reason".into()));
    }
    let old = load_settings(store).await?;
    protocol::validate_settings_change(&old, &new)?;
    let version = store.stream_version("settings").await?;
    let event = AdminEvent::SettingsChanged {
        settings: Box::new(new),
    };
    store
        .append(
            "settings",
            version,
            &[event.encode()?],
            &actor.meta(Utc::now(), Some(reason.to_string())),
            &[],
        )
        .await?;
    Ok(())
}
