//! Sites, users and protocol settings: administrative commands with their rules, written
//! through the same audited log as trial data (streams `site/…`, `user/…`, `settings`),
//! with their read rows updated in the same transaction. The web pages and the command
//! line call the same methods; the command line acts as [`Actor::command_line`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use store::{CredentialRow, NewEvent, Projection, SiteRow, UserRow, VisitSchedule};

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
        /// The password hash, in events written before credentials were kept apart from
        /// the log; read and ignored, never written again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_hash: Option<String>,
    },
    /// A user changed her own password (the hash is in the credentials, not here).
    PasswordChanged {
        /// Whose.
        username: String,
    },
    /// An administrator set a new password that must be changed at the next sign-in.
    PasswordReset {
        /// Whose.
        username: String,
    },
    /// The account may no longer sign in; its sessions ended.
    UserDeactivated {
        /// Whose.
        username: String,
    },
    /// The account may sign in again.
    UserReactivated {
        /// Whose.
        username: String,
    },
    /// The user's role (and with it, her site) changed.
    RoleChanged {
        /// Whose.
        username: String,
        /// The new role id.
        role: String,
        /// The site of the new role, if it is site-bound.
        site: Option<String>,
    },
    /// The user moved to another site, in the same role.
    SiteChanged {
        /// Whose.
        username: String,
        /// The new site.
        site: String,
    },
    /// The account locked after too many failed password checks.
    UserLocked {
        /// Whose.
        username: String,
        /// Failed checks counted.
        failures: i64,
        /// Address of the last failed attempt, where known.
        address: Option<String>,
    },
    /// An administrator unlocked the account.
    UserUnlocked {
        /// Whose.
        username: String,
    },
    /// A password check failed (`sign_in_failed`, `signature_failed`,
    /// `password_change_failed`): recorded in the `access` stream.
    PasswordCheckFailed {
        /// The account name given, if it has the shape of one (anything else typed into
        /// the name field is not recorded: it may be a password).
        username: Option<String>,
        /// Address the attempt came from, where known.
        address: Option<String>,
        /// Why: `wrong_password`, `unknown_user`, `deactivated` or `locked`.
        outcome: String,
        /// For a signature, what was being signed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signing: Option<String>,
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
            AdminEvent::PasswordChanged { .. } => "password_changed",
            AdminEvent::PasswordReset { .. } => "password_reset",
            AdminEvent::UserDeactivated { .. } => "user_deactivated",
            AdminEvent::UserReactivated { .. } => "user_reactivated",
            AdminEvent::RoleChanged { .. } => "role_changed",
            AdminEvent::SiteChanged { .. } => "site_changed",
            AdminEvent::UserLocked { .. } => "user_locked",
            AdminEvent::UserUnlocked { .. } => "user_unlocked",
            AdminEvent::PasswordCheckFailed { .. } => "password_check_failed",
        }
    }

    pub(crate) fn encode(&self) -> Result<NewEvent> {
        self.encode_as(self.kind())
    }

    /// The event under another kind than its type's (the failed password checks say
    /// which check failed).
    pub(crate) fn encode_as(&self, kind: &str) -> Result<NewEvent> {
        Ok(NewEvent {
            kind: kind.to_string(),
            payload: serde_json::to_value(self)
                .map_err(|e| Error::internal("encoding an administrative event", e))?,
        })
    }
}

pub(crate) fn bad(msg: impl Into<String>) -> Error {
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
    /// Initial password (see [`crate::accounts::check_password_policy`]).
    pub password: String,
}

pub(crate) fn check_username(name: &str) -> Result<()> {
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

fn describe(u: &UserRow) -> String {
    format!(
        "role {}, site {}, display name {:?}, {}, {}",
        u.role,
        u.site.as_deref().unwrap_or("none"),
        u.display_name,
        if u.active { "active" } else { "deactivated" },
        if u.locked { "locked" } else { "not locked" }
    )
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

/// Applies one event of a `user/…` stream to the user's row (none before `user_added`).
/// The rows of the `users` table are exactly this fold over the log; the failed password
/// checks of the `access` stream change no row.
pub fn apply_user_event(row: Option<UserRow>, event: &AdminEvent) -> Option<UserRow> {
    match (row, event) {
        (
            _,
            AdminEvent::UserAdded {
                username,
                display_name,
                role,
                site,
                ..
            },
        ) => Some(UserRow {
            username: username.clone(),
            display_name: display_name.clone(),
            role: role.clone(),
            site: site.clone(),
            active: true,
            locked: false,
        }),
        (Some(mut u), e) => {
            match e {
                AdminEvent::UserDeactivated { .. } => u.active = false,
                AdminEvent::UserReactivated { .. } => u.active = true,
                AdminEvent::RoleChanged { role, site, .. } => {
                    u.role = role.clone();
                    u.site = site.clone();
                }
                AdminEvent::SiteChanged { site, .. } => u.site = Some(site.clone()),
                AdminEvent::UserLocked { .. } => u.locked = true,
                AdminEvent::UserUnlocked { .. } => u.locked = false,
                _ => {}
            }
            Some(u)
        }
        (None, _) => None,
    }
}

/// Folds the events of one `user/…` stream into the user's row.
pub fn user_row_from(events: &[store::RecordedEvent]) -> Result<Option<UserRow>> {
    let mut row = None;
    for e in events {
        let event: AdminEvent = serde_json::from_value(e.payload.clone()).map_err(|err| {
            Error::internal(
                format!(
                    "reading user event {} of {} (seq {})",
                    e.version, e.stream, e.seq
                ),
                err,
            )
        })?;
        row = apply_user_event(row, &event);
    }
    Ok(row)
}

/// One version of the protocol settings: what it says, and who put it in force, when and
/// why (none of these for the protocol's own defaults, which no one wrote).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SettingsVersion {
    /// The settings' version number.
    pub version: u32,
    /// The complete settings of this version.
    pub settings: protocol::Settings,
    /// Who changed the settings to this version.
    pub changed_by: Option<String>,
    /// When.
    pub changed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why (every settings change carries a reason).
    pub reason: Option<String>,
}

/// The version numbers of the settings a recorded event says it was decided under (the
/// `settings_version` of an eligibility evaluation, a quantification, a review…),
/// wherever it sits in the event's data.
fn settings_version_in(v: &serde_json::Value) -> Option<u32> {
    match v {
        serde_json::Value::Object(map) => map
            .get("settings_version")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .or_else(|| map.values().find_map(settings_version_in)),
        serde_json::Value::Array(items) => items.iter().find_map(settings_version_in),
        _ => None,
    }
}

impl Trial {
    /// Rebuilds every user row from the log and compares it with the `users` table, which
    /// authorises requests, and the owners of the stored sessions: one line for each row
    /// that differs, is missing or has no history, and for each session of an account the
    /// log does not know or that may not sign in (empty: the tables are what the log
    /// says). An `UPDATE users SET role = …` behind the application's back shows up here,
    /// and so does a session row inserted for an account that was never created.
    pub async fn users_differing_from_log(&self) -> Result<Vec<String>> {
        let mut streams: BTreeMap<String, Vec<store::RecordedEvent>> = BTreeMap::new();
        let mut after = 0;
        loop {
            let batch = self.store().read_all(after, 1000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in batch {
                if let Some(name) = e.stream.strip_prefix("user/") {
                    streams.entry(name.to_string()).or_default().push(e);
                }
            }
        }
        let mut from_log = BTreeMap::new();
        for (name, events) in &streams {
            if let Some(row) = user_row_from(events)? {
                from_log.insert(name.clone(), row);
            }
        }
        let table: BTreeMap<String, UserRow> = self
            .store()
            .users()
            .await?
            .into_iter()
            .map(|u| (u.username.clone(), u))
            .collect();
        let mut out = Vec::new();
        for (name, logged) in &from_log {
            match table.get(name) {
                None => out.push(format!(
                    "user {name}: in the log, missing from the users table"
                )),
                Some(row) if row != logged => out.push(format!(
                    "user {name}: the users table says {}, the log says {}",
                    describe(row),
                    describe(logged)
                )),
                Some(_) => {}
            }
        }
        for name in table.keys().filter(|n| !from_log.contains_key(*n)) {
            out.push(format!(
                "user {name}: in the users table with no history in the log"
            ));
        }
        // A session may belong only to an account the log says exists and may sign in.
        for owner in self.store().session_owners().await? {
            match from_log.get(&owner) {
                None => out.push(format!("session of {owner}: no such account in the log")),
                Some(u) if !u.active || u.locked => out.push(format!(
                    "session of {owner}: the log says the account is {}",
                    if u.locked { "locked" } else { "deactivated" }
                )),
                Some(_) => {}
            }
        }
        Ok(out)
    }

    /// The settings in force.
    pub async fn settings(&self) -> Result<protocol::Settings> {
        let settings = self.folded_settings().await?;
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
        crate::accounts::check_password_policy(&user.username, &user.password)?;
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
            password_hash: None,
        };
        let row = UserRow {
            username: user.username.clone(),
            display_name,
            role: user.role.id().into(),
            site: user.site,
            active: true,
            locked: false,
        };
        let credential = CredentialRow {
            username: user.username.clone(),
            password_hash,
            must_change: false,
            failures: 0,
        };
        self.store()
            .append(
                &format!("user/{}", user.username),
                0,
                &[event.encode()?],
                &actor.meta(self.now(), None),
                &[Projection::User(row), Projection::Credential(credential)],
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

    /// The user accounts with their role, site and status, for an administrator.
    pub async fn users(&self, user: &User) -> Result<Vec<UserRow>> {
        user.require(Capability::Administer)?;
        Ok(self.store().users().await?)
    }

    /// One user account, for an administrator.
    pub async fn user_account(&self, user: &User, username: &str) -> Result<UserRow> {
        user.require(Capability::Administer)?;
        self.store()
            .user(username)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {username}")))
    }

    /// Every version of the protocol settings, oldest first: the protocol's defaults, then
    /// each change with who made it, when and why (for an administrator).
    pub async fn settings_history(&self, user: &User) -> Result<Vec<SettingsVersion>> {
        user.require(Capability::Administer)?;
        let events = self.store().read_stream("settings").await?;
        let defaults = protocol::Settings::default();
        let mut out = vec![SettingsVersion {
            version: defaults.version,
            settings: defaults,
            changed_by: None,
            changed_at: None,
            reason: None,
        }];
        for e in &events {
            let settings = settings_from(std::slice::from_ref(e))?;
            out.push(SettingsVersion {
                version: settings.version,
                settings,
                changed_by: Some(e.meta.actor.clone()),
                changed_at: Some(e.meta.recorded_at),
                reason: e.meta.reason.clone(),
            });
        }
        Ok(out)
    }

    /// How many recorded decisions were made under each settings version: every event of
    /// the audit log whose data names the settings version it was decided under (an
    /// eligibility evaluation, a quantification, a review, an assessment…), counted by
    /// that version (for an administrator). Reads the whole log: an administrator's
    /// occasional question, not a page people work in.
    pub async fn decisions_by_settings_version(&self, user: &User) -> Result<BTreeMap<u32, u64>> {
        user.require(Capability::Administer)?;
        let mut counts = BTreeMap::new();
        let mut after = 0;
        loop {
            let batch = self.store().read_all(after, 1000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in &batch {
                if let Some(v) = settings_version_in(&e.payload) {
                    *counts.entry(v).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
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
