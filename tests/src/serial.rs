//! One browser at a time: a process-wide lock that every browser test holds while it runs.
//!
//! Chromium with a software GPU is heavy; running two at once on a small CI machine makes
//! timings (and timeouts) unpredictable. Holding [`exclusive`] makes the tests sequential even
//! without `--test-threads=1`. It is an async lock, so it may be held across `.await` (each
//! test has its own runtime; the lock works across them), and a test that panicked while
//! holding it does not block the others.

use tokio::sync::{Mutex, MutexGuard};

static BROWSER_LOCK: Mutex<()> = Mutex::const_new(());

/// Waits until no other test of this process holds the lock; release it by dropping the guard.
pub async fn exclusive() -> MutexGuard<'static, ()> {
    BROWSER_LOCK.lock().await
}
