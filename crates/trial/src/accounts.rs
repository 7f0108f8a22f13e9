//! Accounts with a lifecycle: a user changes her own password (with the old one); an
//! administrator resets a password (to be changed at the next sign-in), deactivates and
//! reactivates an account, unlocks one that locked after failed passwords, changes a
//! user's role or site. Each is an event of the user's stream `user/…` with the reason,
//! and the `users` row changes in the same transaction. A password goes only into the
//! credentials table: the event says that it was set, by whom and when.
//!
//! The password policy ([`check_password_policy`]): at least 12 characters, not one of
//! the common passwords of `common_passwords.txt`, not the user name.

use store::{CredentialRow, Projection, UserRow};

use crate::Trial;
use crate::access::{Actor, User};
use crate::admin::{AdminEvent, bad, check_username, user_row_from};
use crate::error::{Error, Result};
use crate::roles::{Capability, Role};

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords too common to be allowed, one a line (lines starting with `#` are notes).
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Refuses a password that is shorter than [`MIN_PASSWORD_CHARS`], one of the common
/// passwords, or the user name itself.
pub fn check_password_policy(username: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(bad(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let lower = password.to_lowercase();
    let common = COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|l| l.to_lowercase() == lower);
    if common {
        return Err(bad(
            "this password is on the list of common passwords: choose another",
        ));
    }
    if lower == username.to_lowercase() {
        return Err(bad("a password may not be the user name"));
    }
    Ok(())
}

/// Why a password check failed, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The account exists and the password was wrong.
    WrongPassword,
    /// No such account.
    UnknownUser,
    /// The account is deactivated.
    Deactivated,
    /// The account is locked.
    Locked,
}

impl PasswordCheck {
    fn id(self) -> &'static str {
        match self {
            PasswordCheck::WrongPassword => "wrong_password",
            PasswordCheck::UnknownUser => "unknown_user",
            PasswordCheck::Deactivated => "deactivated",
            PasswordCheck::Locked => "locked",
        }
    }
}

/// The author of what the sign-in guard records itself (failed checks, lockouts).
fn guard_actor() -> Actor {
    Actor {
        username: "system:sign-in".into(),
        role: "system".into(),
        site: None,
    }
}

/// A change to one account: the event, the reason, and what it does to the row.
struct AccountChange {
    event: AdminEvent,
    reason: String,
    credential: Option<CredentialRow>,
    end_sessions: bool,
}

impl Trial {
    /// Records a failed password check in the `access` stream and, for a wrong password
    /// of an account that may sign in, counts it; at the policy's limit the account locks.
    pub(crate) async fn password_failed(
        &self,
        kind: &str,
        username: &str,
        client: Option<&str>,
        signing: Option<&str>,
        check: PasswordCheck,
    ) -> Result<()> {
        // A name typed into the sign-in form is recorded only when it could be an
        // account's name and is no personal identity number.
        let recorded_name = check_username(username)
            .ok()
            .filter(|()| protocol::privacy::find_personal_number(username).is_none())
            .map(|()| username.to_string());
        tracing::warn!(kind, username = ?recorded_name, client, outcome = check.id(), "password check failed");
        let event = AdminEvent::PasswordCheckFailed {
            username: recorded_name,
            address: client.map(str::to_string),
            outcome: check.id().into(),
            signing: signing.map(str::to_string),
        };
        let actor = match (kind, check) {
            // A signature or password change fails inside a session: she is known.
            ("sign_in_failed", _) => guard_actor(),
            _ => Actor {
                username: username.to_string(),
                ..guard_actor()
            },
        };
        self.store()
            .append_at_end(
                "access",
                &[event.encode_as(kind)?],
                &actor.meta(self.now(), None),
            )
            .await?;
        if check != PasswordCheck::WrongPassword {
            return Ok(());
        }
        let Some(failures) = self.store().record_failure(username).await? else {
            return Ok(());
        };
        if failures >= i64::from(self.account_policy().lockout_after) {
            self.lock(username, failures, client).await?;
        }
        Ok(())
    }

    /// Locks an account after `failures` failed checks, unless it is locked already.
    async fn lock(&self, username: &str, failures: i64, client: Option<&str>) -> Result<()> {
        // Two failures at once may both reach the limit: the second finds the stream
        // moved on, reads it again and finds the account locked.
        for _ in 0..3 {
            let stream = format!("user/{username}");
            let events = self.store().read_stream(&stream).await?;
            let Some(row) = user_row_from(&events)? else {
                return Ok(());
            };
            if row.locked {
                return Ok(());
            }
            let event = AdminEvent::UserLocked {
                username: username.to_string(),
                failures,
                address: client.map(str::to_string),
            };
            let meta = guard_actor().meta(
                self.now(),
                Some(format!("{failures} failed password checks")),
            );
            let row = UserRow {
                locked: true,
                ..row
            };
            let written = self
                .store()
                .append(
                    &stream,
                    events.last().map_or(0, |e| e.version),
                    &[event.encode()?],
                    &meta,
                    &[Projection::User(row)],
                )
                .await;
            match written {
                Ok(_) => {
                    tracing::warn!(username, failures, client, "account locked");
                    self.store().delete_sessions_of(username).await?;
                    return Ok(());
                }
                Err(store::StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Appends `change` to the account's stream with the row it leads to.
    async fn change_account(
        &self,
        by: &Actor,
        username: &str,
        change: AccountChange,
    ) -> Result<()> {
        if change.reason.trim().is_empty() {
            return Err(bad("a change to an account needs a reason"));
        }
        protocol::privacy::check_free_text("reason", &change.reason)?;
        let stream = format!("user/{username}");
        let events = self.store().read_stream(&stream).await?;
        let row = user_row_from(&events)?
            .ok_or_else(|| Error::NotFound(format!("no user {username}")))?;
        let row = crate::admin::apply_user_event(Some(row), &change.event)
            .ok_or_else(|| Error::NotFound(format!("no user {username}")))?;
        let mut projections = vec![Projection::User(row)];
        projections.extend(change.credential.map(Projection::Credential));
        self.store()
            .append(
                &stream,
                events.last().map_or(0, |e| e.version),
                &[change.event.encode()?],
                &by.meta(self.now(), Some(change.reason)),
                &projections,
            )
            .await?;
        if change.end_sessions {
            self.store().delete_sessions_of(username).await?;
        }
        Ok(())
    }

    /// A user changes her own password: the current one is checked (a wrong one counts
    /// towards the lockout and is recorded) and the new one must meet the policy.
    pub async fn change_own_password(&self, user: &User, current: &str, new: &str) -> Result<()> {
        let credential = self.store().credential(&user.username).await?;
        let hash = credential.map(|c| c.password_hash);
        if !crate::sessions::verify_password(current.to_string(), hash).await {
            self.password_failed(
                "password_change_failed",
                &user.username,
                user.client_address.as_deref(),
                None,
                PasswordCheck::WrongPassword,
            )
            .await?;
            return Err(Error::Forbidden("the current password is wrong".into()));
        }
        check_password_policy(&user.username, new)?;
        if new == current {
            return Err(bad("the new password must differ from the current one"));
        }
        let password_hash = crate::sessions::hash_password(new.to_string()).await?;
        let change = AccountChange {
            event: AdminEvent::PasswordChanged {
                username: user.username.clone(),
            },
            reason: "changed by the user".into(),
            credential: Some(CredentialRow {
                username: user.username.clone(),
                password_hash,
                must_change: false,
                failures: 0,
            }),
            end_sessions: false,
        };
        self.change_account(&user.actor(), &user.username, change)
            .await
    }

    /// An administrator sets a new password, which the user must change at her next
    /// sign-in; her open sessions end.
    pub async fn reset_password(
        &self,
        admin: &User,
        username: &str,
        new: &str,
        reason: &str,
    ) -> Result<()> {
        admin.require(Capability::Administer)?;
        self.reset_password_as(&admin.actor(), username, new, reason)
            .await
    }

    /// [`Trial::reset_password`] by an actor already authorised (the command line).
    pub async fn reset_password_as(
        &self,
        by: &Actor,
        username: &str,
        new: &str,
        reason: &str,
    ) -> Result<()> {
        check_password_policy(username, new)?;
        let password_hash = crate::sessions::hash_password(new.to_string()).await?;
        let change = AccountChange {
            event: AdminEvent::PasswordReset {
                username: username.to_string(),
            },
            reason: reason.to_string(),
            credential: Some(CredentialRow {
                username: username.to_string(),
                password_hash,
                must_change: true,
                failures: 0,
            }),
            end_sessions: true,
        };
        self.change_account(by, username, change).await
    }

    /// An administrator deactivates (`active = false`) or reactivates an account; a
    /// deactivated account's sessions end at once.
    pub async fn set_active(
        &self,
        admin: &User,
        username: &str,
        active: bool,
        reason: &str,
    ) -> Result<()> {
        admin.require(Capability::Administer)?;
        if !active && admin.username == username {
            return Err(bad("you cannot deactivate your own account"));
        }
        self.set_active_as(&admin.actor(), username, active, reason)
            .await
    }

    /// [`Trial::set_active`] by an actor already authorised (the command line).
    pub async fn set_active_as(
        &self,
        by: &Actor,
        username: &str,
        active: bool,
        reason: &str,
    ) -> Result<()> {
        let username_owned = username.to_string();
        let event = if active {
            AdminEvent::UserReactivated {
                username: username_owned,
            }
        } else {
            AdminEvent::UserDeactivated {
                username: username_owned,
            }
        };
        let change = AccountChange {
            event,
            reason: reason.to_string(),
            credential: None,
            end_sessions: !active,
        };
        self.change_account(by, username, change).await
    }

    /// An administrator unlocks an account locked after failed passwords; its count of
    /// failures starts again from zero.
    pub async fn unlock(&self, admin: &User, username: &str, reason: &str) -> Result<()> {
        admin.require(Capability::Administer)?;
        self.unlock_as(&admin.actor(), username, reason).await
    }

    /// [`Trial::unlock`] by an actor already authorised (the command line).
    pub async fn unlock_as(&self, by: &Actor, username: &str, reason: &str) -> Result<()> {
        let row = self
            .store()
            .user(username)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {username}")))?;
        if !row.locked {
            return Err(bad(format!("user {username} is not locked")));
        }
        let change = AccountChange {
            event: AdminEvent::UserUnlocked {
                username: username.to_string(),
            },
            reason: reason.to_string(),
            credential: None,
            end_sessions: false,
        };
        self.change_account(by, username, change).await?;
        Ok(self.store().clear_failures(username).await?)
    }

    /// An administrator changes a user's role, with the site the new role needs (none for
    /// a study-wide role); her sessions end, so she signs in again under the new role.
    pub async fn change_role(
        &self,
        admin: &User,
        username: &str,
        role: Role,
        site: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        admin.require(Capability::Administer)?;
        if admin.username == username {
            return Err(bad("you cannot change your own role"));
        }
        self.change_role_as(&admin.actor(), username, role, site, reason)
            .await
    }

    /// [`Trial::change_role`] by an actor already authorised (the command line).
    pub async fn change_role_as(
        &self,
        by: &Actor,
        username: &str,
        role: Role,
        site: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        self.check_site_for(role, site).await?;
        let change = AccountChange {
            event: AdminEvent::RoleChanged {
                username: username.to_string(),
                role: role.id().into(),
                site: site.map(str::to_string),
            },
            reason: reason.to_string(),
            credential: None,
            end_sessions: true,
        };
        self.change_account(by, username, change).await
    }

    /// An administrator moves a user of a site-bound role to another site; her sessions
    /// end.
    pub async fn change_site(
        &self,
        admin: &User,
        username: &str,
        site: &str,
        reason: &str,
    ) -> Result<()> {
        admin.require(Capability::Administer)?;
        self.change_site_as(&admin.actor(), username, site, reason)
            .await
    }

    /// [`Trial::change_site`] by an actor already authorised (the command line).
    pub async fn change_site_as(
        &self,
        by: &Actor,
        username: &str,
        site: &str,
        reason: &str,
    ) -> Result<()> {
        let row = self
            .store()
            .user(username)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no user {username}")))?;
        let role = Role::parse(&row.role).ok_or_else(|| {
            Error::internal("reading a user", format!("unknown role {}", row.role))
        })?;
        self.check_site_for(role, Some(site)).await?;
        let change = AccountChange {
            event: AdminEvent::SiteChanged {
                username: username.to_string(),
                site: site.to_string(),
            },
            reason: reason.to_string(),
            credential: None,
            end_sessions: true,
        };
        self.change_account(by, username, change).await
    }

    /// Refuses a site that does not fit the role: site-bound roles need an existing site,
    /// study-wide ones none.
    async fn check_site_for(&self, role: Role, site: Option<&str>) -> Result<()> {
        match (site, role.is_site_bound()) {
            (None, true) => Err(bad(format!(
                "a {} belongs to a site: give one",
                role.label().to_lowercase()
            ))),
            (Some(_), false) => Err(bad(format!(
                "a {} works study-wide: give no site",
                role.label().to_lowercase()
            ))),
            (Some(site), true) if self.store().site(site).await?.is_none() => {
                Err(bad(format!("no site {site}")))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_common_and_name_passwords() {
        assert!(check_password_policy("anna", "short-one").is_err());
        assert!(check_password_policy("anna", "Password1234").is_err());
        assert!(check_password_policy("anna.nurse.ks", "Anna.Nurse.KS").is_err());
        assert!(check_password_policy("anna", "test-password-1").is_ok());
        assert!(check_password_policy("anna", "her2ex-demo-2026").is_ok());
    }
}
