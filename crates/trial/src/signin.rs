//! What protects sign-in and electronic signatures from guessing: the account policy
//! (lockout after a number of failed passwords, session inactivity, throttling limits)
//! and the in-memory throttle that answers "try again later" before any password is
//! hashed, per account and per client address.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How sign-in and sessions are guarded. [`AccountPolicy::default`] is what the server
/// runs with unless configured otherwise.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// Failed password checks (sign-in or signature) after which an account locks until
    /// an administrator unlocks it.
    pub lockout_after: u32,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_ttl: Duration,
    /// Failed sign-ins per account name within [`AccountPolicy::throttle_window`] after
    /// which further attempts are answered "try again later" without a password check.
    pub per_account_limit: u32,
    /// Failed sign-ins per client address within the window, likewise.
    pub per_address_limit: u32,
    /// The sliding window of the two limits.
    pub throttle_window: Duration,
    /// Proxies whose `X-Forwarded-For` header names the client; from any other peer the
    /// header is ignored (anyone can send it).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy {
            lockout_after: 5,
            idle_timeout: Duration::from_secs(30 * 60),
            session_ttl: Duration::from_secs(12 * 3600),
            per_account_limit: 10,
            per_address_limit: 30,
            throttle_window: Duration::from_secs(15 * 60),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Keys the throttle remembers at most; beyond that the oldest-looking are forgotten
/// first, so a spray of made-up names cannot grow memory without bound.
const MAX_KEYS: usize = 10_000;

/// Recent failed (or still running) sign-in attempts per account name and per address.
#[derive(Debug, Default)]
pub struct Throttle {
    attempts: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

/// An attempt let through the throttle: counted as a failure unless it is forgiven.
#[derive(Debug)]
pub struct Ticket {
    keys: Vec<String>,
    at: DateTime<Utc>,
}

impl Throttle {
    /// Lets an attempt through, counting it, or says how many seconds to wait. `limits`
    /// pairs each key (`account:anna`, `address:10.0.0.1`) with its limit.
    pub fn begin(
        &self,
        limits: &[(String, u32)],
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<Ticket, u64> {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::minutes(15));
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0i64;
        for (key, limit) in limits {
            if let Some(times) = map.get_mut(key) {
                while times.front().is_some_and(|t| *t + window <= now) {
                    times.pop_front();
                }
                if times.len() >= *limit as usize
                    && let Some(oldest) = times.front()
                {
                    wait = wait.max((*oldest + window - now).num_seconds() + 1);
                }
            }
        }
        if wait > 0 {
            return Err(u64::try_from(wait).unwrap_or(1));
        }
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| times.back().is_some_and(|t| *t + window > now));
        }
        for (key, _) in limits {
            map.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Ticket {
            keys: limits.iter().map(|(k, _)| k.clone()).collect(),
            at: now,
        })
    }

    /// Takes back a successful attempt: only failures count against the limits.
    pub fn forgive(&self, ticket: Ticket) {
        let mut map = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        for key in &ticket.keys {
            if let Some(times) = map.get_mut(key)
                && let Some(i) = times.iter().rposition(|t| *t == ticket.at)
            {
                times.remove(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_limit_holds_within_the_window_and_success_is_forgiven() {
        let t = Throttle::default();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
        let keys = [("address:a".to_string(), 2)];
        let w = Duration::from_secs(60);
        let first = t.begin(&keys, w, now).unwrap();
        t.forgive(first);
        t.begin(&keys, w, now).unwrap();
        t.begin(&keys, w, now).unwrap();
        assert_eq!(t.begin(&keys, w, now).unwrap_err(), 61);
        let later = now + chrono::Duration::seconds(60);
        assert!(t.begin(&keys, w, later).is_ok());
    }
}
