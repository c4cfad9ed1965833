//! The attempt loop shared by every retrying check, and how long it may run.
//!
//! MaestroNG counted attempts 1 s apart. Here attempts start 50 ms apart and
//! back off to 1 s (`backoff`), but a check never gives up sooner than MaestroNG's would:
//! `attempts: N` (or tcp's `max_wait: N`) ends only once N attempts were made
//! **and** N seconds have passed. With instant failures that is N seconds, as
//! before; with slow attempts (a 1 s connect timeout, a slow command) the
//! count decides, again as before.

use std::time::{Duration, Instant};

use super::backoff::Proportional;
use crate::scheduler::CancelToken;

/// How long a check keeps trying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Attempts to make at least.
    pub attempts: u64,
    /// Wall-clock time to keep trying at least, from the first attempt.
    pub wall: Duration,
    /// Wall-clock time never to go past, whatever the count says (an
    /// `exec` check's `max_wait`); the attempt in flight is given only
    /// what is left of it.
    pub limit: Option<Duration>,
}

impl Budget {
    /// MaestroNG's attempts, 1 s apart: at least `n` attempts and `n` seconds.
    pub fn attempts(n: u64) -> Budget {
        Budget {
            attempts: n,
            wall: Duration::from_secs(n),
            limit: None,
        }
    }

    /// A wall-clock deadline (http's `max_wait`); at least one attempt.
    pub fn seconds(secs: f64) -> Budget {
        Budget {
            attempts: 1,
            wall: Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO),
            limit: None,
        }
    }

    /// The same budget, never longer than `limit` (`None`: no limit).
    pub fn at_most(self, limit: Option<Duration>) -> Budget {
        Budget { limit, ..self }
    }
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Pass,
    /// Not yet; the reason, for the failure message if it stays so.
    Retry(String),
    /// Retrying cannot help (a bad regex, a command that does not exist).
    Fatal(String),
}

/// How a retry loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    GaveUp {
        attempts: u64,
        elapsed: Duration,
        last: String,
    },
    Fatal(String),
    /// `stop` fired.
    Stopped,
}

/// Calls `attempt` (given the time left of the budget: of its `limit` when
/// it has one, else of its `wall`) until it passes, fails fatally, the
/// budget is spent, or `stop` fires. Sleeps between attempts
/// follow [`Proportional`].
pub fn retry(
    budget: Budget,
    stop: &CancelToken,
    attempt: impl FnMut(Duration) -> Attempt,
) -> Verdict {
    retry_with(budget, Proportional::new(), stop, attempt)
}

/// [`retry`] with other delays between attempts.
pub fn retry_with(
    budget: Budget,
    mut delays: impl Iterator<Item = Duration>,
    stop: &CancelToken,
    mut attempt: impl FnMut(Duration) -> Attempt,
) -> Verdict {
    let start = Instant::now();
    let mut made = 0u64;
    loop {
        if stop.is_cancelled() {
            return Verdict::Stopped;
        }
        made += 1;
        let left = budget.limit.unwrap_or(budget.wall);
        let last = match attempt(left.saturating_sub(start.elapsed())) {
            Attempt::Pass => return Verdict::Passed,
            Attempt::Fatal(m) => return Verdict::Fatal(m),
            Attempt::Retry(m) => m,
        };
        let elapsed = start.elapsed();
        let count_left = made < budget.attempts;
        let past_limit = budget.limit.is_some_and(|l| elapsed >= l);
        if (!count_left && elapsed >= budget.wall) || past_limit {
            return Verdict::GaveUp {
                attempts: made,
                elapsed,
                last,
            };
        }
        let mut delay = delays.next().unwrap_or(super::backoff::MAX);
        if !count_left {
            // Only the clock is left: one last attempt at the deadline.
            delay = delay.min(budget.wall - elapsed);
        }
        if budget.limit.is_some_and(|l| elapsed + delay >= l) {
            // The next attempt would start with no time left.
            return Verdict::GaveUp {
                attempts: made,
                elapsed,
                last,
            };
        }
        if stop.sleep(delay) {
            return Verdict::Stopped;
        }
    }
}

/// Runs one blocking attempt on its own thread so that `stop` ends the wait
/// at once, even mid-connect or mid-request; the abandoned thread finishes
/// its attempt (bounded by its own timeout) and exits.
pub fn detached(stop: &CancelToken, f: impl FnOnce() -> Attempt + Send + 'static) -> Attempt {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let spawned = std::thread::Builder::new()
        .name("maestro-check".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        return Attempt::Retry(format!("cannot start a thread: {e}"));
    }
    crossbeam_channel::select! {
        recv(rx) -> r => r.unwrap_or_else(|_| Attempt::Retry("the attempt ended without a result".into())),
        recv(stop.receiver()) -> _ => Attempt::Retry("stopped".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::cancel::cancelled_after;

    fn fast() -> impl Iterator<Item = Duration> {
        std::iter::repeat(Duration::from_millis(1))
    }

    #[test]
    fn passes_on_the_first_passing_attempt() {
        let mut n = 0;
        let out = retry(Budget::attempts(10), &CancelToken::new(), |_| {
            n += 1;
            if n == 3 {
                Attempt::Pass
            } else {
                Attempt::Retry("no".into())
            }
        });
        assert_eq!(out, Verdict::Passed);
        assert_eq!(n, 3);
    }

    #[test]
    fn attempts_budget_needs_both_the_count_and_the_time() {
        // 3 attempts, but also 3 s: with 1 ms delays many more attempts fit.
        let budget = Budget {
            attempts: 3,
            wall: Duration::from_millis(60),
            limit: None,
        };
        let start = Instant::now();
        let out = retry_with(budget, fast(), &CancelToken::new(), |_| {
            Attempt::Retry("refused".into())
        });
        let Verdict::GaveUp { attempts, last, .. } = out else {
            panic!("{out:?}")
        };
        assert!(attempts > 3, "{attempts}");
        assert_eq!(last, "refused");
        assert!(start.elapsed() >= Duration::from_millis(60));

        // Slow attempts: the count decides.
        let budget = Budget {
            attempts: 4,
            wall: Duration::from_millis(1),
            limit: None,
        };
        let out = retry_with(budget, fast(), &CancelToken::new(), |_| {
            std::thread::sleep(Duration::from_millis(5));
            Attempt::Retry("slow".into())
        });
        assert!(
            matches!(out, Verdict::GaveUp { attempts: 4, .. }),
            "{out:?}"
        );
    }

    #[test]
    fn a_limit_ends_the_check_whatever_the_count() {
        // 1000 attempts would take 1000 s; the limit ends it at 80 ms, and
        // each attempt hears how much of the limit is left.
        let budget = Budget::attempts(1000).at_most(Some(Duration::from_millis(80)));
        let start = Instant::now();
        let mut lefts = Vec::new();
        let out = retry_with(budget, fast(), &CancelToken::new(), |left| {
            lefts.push(left);
            std::thread::sleep(Duration::from_millis(10));
            Attempt::Retry("no".into())
        });
        let took = start.elapsed();
        let Verdict::GaveUp { attempts, .. } = out else {
            panic!("{out:?}")
        };
        assert!(took >= Duration::from_millis(70), "{took:?}");
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert_eq!(attempts as usize, lefts.len());
        assert!(lefts[0] > Duration::from_millis(70), "{lefts:?}");
        assert!(lefts.windows(2).all(|w| w[1] < w[0]), "{lefts:?}");
    }

    #[test]
    fn a_zero_budget_still_attempts_once() {
        let mut n = 0;
        let out = retry(Budget::seconds(0.0), &CancelToken::new(), |left| {
            assert_eq!(left, Duration::ZERO);
            n += 1;
            Attempt::Retry("x".into())
        });
        assert!(
            matches!(out, Verdict::GaveUp { attempts: 1, .. }),
            "{out:?}"
        );
        assert_eq!(n, 1);
    }

    #[test]
    fn fatal_ends_at_once() {
        let out = retry(Budget::attempts(100), &CancelToken::new(), |_| {
            Attempt::Fatal("bad".into())
        });
        assert_eq!(out, Verdict::Fatal("bad".into()));
    }

    #[test]
    fn stop_cuts_the_wait_short() {
        let (out, took) = cancelled_after(Duration::from_millis(100), |stop| {
            retry(Budget::attempts(600), stop, |_| Attempt::Retry("no".into()))
        });
        assert_eq!(out, Verdict::Stopped);
        assert!(took < Duration::from_secs(5));
    }

    #[test]
    fn detached_returns_on_stop_while_the_attempt_blocks() {
        let (a, took) = cancelled_after(Duration::from_millis(50), |stop| {
            detached(stop, || {
                std::thread::sleep(Duration::from_secs(20));
                Attempt::Pass
            })
        });
        assert_eq!(a, Attempt::Retry("stopped".into()));
        assert!(took < Duration::from_secs(2));
        assert_eq!(
            detached(&CancelToken::new(), || Attempt::Pass),
            Attempt::Pass
        );
    }
}
