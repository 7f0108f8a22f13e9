//! Who is asking, and whether they may: the signed-in [`User`] and the access check a use
//! case makes once, before it loads anything. Site roles see their own site's participants
//! only; a participant of another site answers exactly like one that does not exist.

use store::EventMeta;

use crate::error::{Error, Result};
use crate::roles::{Capability, Role};

/// A signed-in user as the use cases see her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Sign-in name.
    pub username: String,
    /// Name shown on pages and in the audit trail.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Site of a site-bound user.
    pub site: Option<String>,
    /// The address her request came from, where the server knows it: recorded with a
    /// failed signature password.
    pub client_address: Option<String>,
}

impl User {
    /// Refuses unless the role has the capability.
    pub fn require(&self, cap: Capability) -> Result<()> {
        if self.role.may(cap) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "a {} may not do this",
                self.role.label().to_lowercase()
            )))
        }
    }

    /// Whether this user may see participants of `site`.
    pub fn sees_site(&self, site: &str) -> bool {
        if !self.role.may(Capability::ReadParticipants) {
            return false;
        }
        !self.role.is_site_bound() || self.site.as_deref() == Some(site)
    }

    /// The site filter of this user's lists: her own site, or none for study-wide roles.
    pub fn site_scope(&self) -> Option<String> {
        if self.role.is_site_bound() {
            Some(self.site.clone().unwrap_or_default())
        } else {
            None
        }
    }

    /// The author of a write by this user.
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.username.clone(),
            role: self.role.id().to_string(),
            site: self.site.clone(),
        }
    }
}

/// Who writes: recorded with every event.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User name (or `system:…` for the command line).
    pub username: String,
    /// Role id.
    pub role: String,
    /// Site of a site-bound user.
    pub site: Option<String>,
}

impl Actor {
    /// The operator at the command line of the server host.
    pub fn command_line() -> Actor {
        Actor {
            username: "system:command-line".into(),
            role: "admin".into(),
            site: None,
        }
    }

    /// The audit metadata of a write by this actor.
    pub fn meta(&self, at: chrono::DateTime<chrono::Utc>, reason: Option<String>) -> EventMeta {
        EventMeta {
            actor: self.username.clone(),
            role: self.role.clone(),
            site: self.site.clone(),
            recorded_at: at,
            reason: reason.filter(|r| !r.trim().is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, site: Option<&str>) -> User {
        User {
            username: "u".into(),
            display_name: "U".into(),
            role,
            site: site.map(str::to_string),
            client_address: None,
        }
    }

    #[test]
    fn site_roles_see_their_site_only_and_admins_see_no_trial_data() {
        let nurse = user(Role::ResearchNurse, Some("KS"));
        assert!(nurse.sees_site("KS"));
        assert!(!nurse.sees_site("UU"));
        assert_eq!(nurse.site_scope().as_deref(), Some("KS"));
        let monitor = user(Role::Monitor, None);
        assert!(monitor.sees_site("UU"));
        assert_eq!(monitor.site_scope(), None);
        assert!(!user(Role::Admin, None).sees_site("KS"));
        assert!(matches!(
            monitor.require(Capability::EnterData),
            Err(Error::Forbidden(m)) if m == "a monitor may not do this"
        ));
    }
}
