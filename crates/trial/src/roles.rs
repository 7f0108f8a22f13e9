//! Roles and what each may do: the policy is the protocol's ([`protocol::roles`]), so the
//! protocol's oversight rules (queries, verification, freeze and lock, signatures) and the
//! access checks here read the same table.

pub use protocol::roles::{Capability, Role};
