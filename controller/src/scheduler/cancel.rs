//! Cancellation shared by the scheduler and its tasks (Ctrl-C).
//!
//! A token is a flag plus a channel whose only sender is dropped on
//! cancel: a dropped sender wakes every receiver at once, so the scheduler
//! can `select!` on it and a task waiting between check attempts can sleep
//! on it and still react within microseconds, without polling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

/// A cheap, clonable handle; every clone sees the same cancellation.
#[derive(Debug, Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cancelled: AtomicBool,
    // Never sent on; taken and dropped by `cancel` to disconnect `wake`.
    trigger: Mutex<Option<Sender<()>>>,
    wake: Receiver<()>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    pub fn new() -> Self {
        let (tx, rx) = crossbeam_channel::bounded(0);
        Self {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                trigger: Mutex::new(Some(tx)),
                wake: rx,
            }),
        }
    }

    /// Cancels: the scheduler stops starting tasks, waiting tasks wake up.
    /// Safe to call from any thread, any number of times (a Ctrl-C handler
    /// thread, for instance).
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        let sender = match self.inner.trigger.lock() {
            Ok(mut t) => t.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(sender);
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` unless cancelled first. Returns true when
    /// cancelled, so a retry loop reads `if cancel.sleep(d) { return ... }`.
    pub fn sleep(&self, duration: Duration) -> bool {
        match self.inner.wake.recv_timeout(duration) {
            Err(RecvTimeoutError::Timeout) => self.is_cancelled(),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        }
    }

    /// A receiver that becomes ready (disconnected) on cancel, for `select!`.
    pub fn receiver(&self) -> &Receiver<()> {
        &self.inner.wake
    }
}

/// Runs `body` with a token another thread cancels after `after`, for
/// tests of waits that must end early; returns what `body` returned and
/// how long it took.
#[cfg(test)]
pub(crate) fn cancelled_after<R>(
    after: Duration,
    body: impl FnOnce(&CancelToken) -> R,
) -> (R, Duration) {
    let token = CancelToken::new();
    let start = std::time::Instant::now();
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(after);
            token.cancel();
        });
        body(&token)
    });
    (out, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sleep_returns_early_on_cancel() {
        let token = CancelToken::new();
        assert!(!token.sleep(Duration::from_millis(5)));
        let t = token.clone();
        let start = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(30));
                t.cancel();
            });
            assert!(token.sleep(Duration::from_secs(10)));
        });
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(token.is_cancelled());
        // Stays cancelled; a second cancel is harmless.
        token.cancel();
        assert!(token.sleep(Duration::from_secs(10)));
    }
}
