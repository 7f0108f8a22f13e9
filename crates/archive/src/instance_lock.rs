//! Exclusion per SOP instance: stores of different instances run in parallel, stores of
//! the same instance one after the other.
//!
//! Filing an object checks the index folder of its SOP instance and then writes to it;
//! two stores of the same instance must not interleave there, or both could classify
//! themselves as [`New`](crate::StoreOutcome::New). Stores of different instances touch
//! different index folders and different object files, so nothing orders them. The set
//! of instances being filed sits under a short mutex; a store of an instance already in
//! the set waits on a condition variable until it leaves.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The SOP instances being filed in this process.
#[derive(Debug, Default)]
pub(crate) struct InstanceLocks {
    busy: Mutex<HashSet<String>>,
    released: Condvar,
}

/// Holds a SOP instance for one store; dropping it lets the next store of that instance in.
#[derive(Debug)]
pub(crate) struct InstanceGuard<'a> {
    locks: &'a InstanceLocks,
    uid: String,
}

impl InstanceLocks {
    /// Waits until no other store of `uid` is being filed, then holds it.
    pub(crate) fn lock(&self, uid: &str) -> InstanceGuard<'_> {
        let mut busy = self.busy_set();
        while busy.contains(uid) {
            busy = self
                .released
                .wait(busy)
                .unwrap_or_else(PoisonError::into_inner);
        }
        busy.insert(uid.to_string());
        InstanceGuard {
            locks: self,
            uid: uid.to_string(),
        }
    }

    /// The set, also after a panic elsewhere: it holds only names, each removed by its
    /// guard's drop, so it is never left half-changed.
    fn busy_set(&self) -> MutexGuard<'_, HashSet<String>> {
        self.busy.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for InstanceGuard<'_> {
    fn drop(&mut self) {
        self.locks.busy_set().remove(&self.uid);
        self.locks.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;
    use std::time::Duration;

    #[test]
    fn one_instance_is_held_by_one_store_at_a_time() {
        let locks = Arc::new(InstanceLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
                thread::spawn(move || {
                    for _ in 0..20 {
                        let _held = locks.lock("1.2.3");
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(locks.busy_set().is_empty(), "every instance released");
    }

    #[test]
    fn different_instances_are_held_at_once() {
        let locks = InstanceLocks::default();
        let a = locks.lock("1.2.3");
        // Would wait forever if instances shared one lock.
        let b = locks.lock("1.2.4");
        assert_eq!(locks.busy_set().len(), 2);
        drop((a, b));
        assert!(locks.busy_set().is_empty());
    }
}
