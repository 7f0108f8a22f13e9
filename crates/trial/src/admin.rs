//! Sites, users and protocol settings: administrative commands with their rules, written
//! through the same audited log as trial data (streams `site/…`, `user/…`, `settings`),
//! with their read rows updated in the same transaction. The web pages and the command
//! line call the same methods; the command line acts as [`Actor::command_line`].

use serde::{Deserialize, Serialize};
use store::{NewEvent, Projection, SiteRow, UserRow, VisitSchedule};

use crate::access::{Actor, User};
use crate::error::{Error, Result};
use crate::roles::{Capability, Role};
use crate::{SiteZone, Trial};

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

    fn encode(&self) -> Result<NewEvent> {
        Ok(NewEvent {
            kind: self.kind().to_string(),
            payload: serde_json::to_value(self)
                .map_err(|e| Error::internal("encoding an administrative event", e))?,
        })
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
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

fn check_username(name: &str) -> Result<()> {
    let ok = (2..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "user name {name:?} must be 2 to 32 of a-z, 0-9, '.', '_', '-'"
        )))
    }
}

/// Decodes the settings stream: the last `settings_changed` event, or the protocol
/// defaults. An event that cannot be read is an error, never skipped: running on older
/// settings than the ones in force would decide wrongly without anyone noticing.
pub fn settings_from(events: &[store::RecordedEvent]) -> Result<protocol::Settings> {
    let mut settings = protocol::Settings::default();
    for e in events {
        match serde_json::from_value::<AdminEvent>(e.payload.clone()) {
            Ok(AdminEvent::SettingsChanged { settings: s }) => settings = *s,
            Ok(other) => {
                return Err(Error::internal(
                    "reading the settings",
                    format!("event {} of `settings` is a {}", e.version, other.kind()),
                ));
            }
            Err(err) => {
                return Err(Error::internal(
                    format!("reading settings event {} (seq {})", e.version, e.seq),
                    err,
                ));
            }
        }
    }
    Ok(settings)
}

impl Trial {
    /// The settings in force.
    pub async fn settings(&self) -> Result<protocol::Settings> {
        let events = self.store().read_stream("settings").await?;
        let settings = settings_from(&events)?;
        self.follow_zone(SiteZone(settings.site_time_zone.0));
        Ok(settings)
    }

    /// Adds a trial site (an administrator, or the command line).
    pub async fn add_site(&self, actor: &Actor, code: &str, name: &str) -> Result<()> {
        let code = protocol::SiteCode::parse(code)?;
        let code = code.as_str();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(bad("a site needs a name of 1 to 200 characters"));
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
        self.store()
            .append(
                &format!("site/{code}"),
                0,
                &[event.encode()?],
                &actor.meta(self.now(), None),
                &[Projection::Site(row)],
            )
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict { .. } => bad(format!("site {code} exists already")),
                other => other.into(),
            })
            .map(|_| ())
    }

    /// Adds a user account (an administrator, or the command line).
    pub async fn add_user(&self, actor: &Actor, user: NewUser) -> Result<()> {
        check_username(&user.username)?;
        if user.password.chars().count() < 10 {
            return Err(bad("a password needs at least 10 characters"));
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
            (Some(site), true) if self.store().site(site).await?.is_none() => {
                return Err(bad(format!("no site {site}: add it first")));
            }
            _ => {}
        }
        let password_hash = crate::sessions::hash_password(user.password).await?;
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
        self.store()
            .append(
                &format!("user/{}", user.username),
                0,
                &[event.encode()?],
                &actor.meta(self.now(), None),
                &[Projection::User(row)],
            )
            .await
            .map_err(|e| match e {
                store::StoreError::Conflict { .. } => {
                    bad(format!("user {} exists already", user.username))
                }
                other => other.into(),
            })
            .map(|_| ())
    }

    /// The sites, for an administrator.
    pub async fn sites(&self, user: &User) -> Result<Vec<SiteRow>> {
        user.require(Capability::Administer)?;
        Ok(self.store().sites().await?)
    }

    /// Changes the protocol settings (an amendment); the reason is required and audited.
    /// The visit windows derive from the settings, so the visits list is rebuilt after.
    pub async fn change_settings(
        &self,
        actor: &Actor,
        new: protocol::Settings,
        reason: &str,
    ) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(bad("a settings change needs a reason"));
        }
        let events = self.store().read_stream("settings").await?;
        let old = settings_from(&events)?;
        protocol::validate_settings_change(&old, &new)?;
        let version = events.last().map_or(0, |e| e.version);
        let event = AdminEvent::SettingsChanged {
            settings: Box::new(new.clone()),
        };
        self.store()
            .append(
                "settings",
                version,
                &[event.encode()?],
                &actor.meta(self.now(), Some(reason.to_string())),
                &[],
            )
            .await?;
        self.rebuild_visits(&new).await
    }

    /// Recomputes every participant's open visits under `settings`.
    async fn rebuild_visits(&self, settings: &protocol::Settings) -> Result<()> {
        let rows = self.store().participants(None).await?;
        let mut schedules = Vec::with_capacity(rows.len());
        for row in rows {
            let p = crate::participants::snapshot_of(&row)?;
            schedules.push(VisitSchedule {
                rows: crate::write::visit_rows(&row.study_id, &row.site, &p, settings),
                study_id: row.study_id,
                version: row.version,
            });
        }
        Ok(self.store().rebuild_visits(&schedules).await?)
    }
}
