//! The delays between attempts: fast at first, so a service that is ready
//! in 200 ms is seen in about 200 ms, then settling at MaestroNG's 1 s
//! cadence so a long wait costs no more requests than it did.

use std::time::Duration;

/// The shortest delay.
pub const FIRST: Duration = Duration::from_millis(50);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(1);

/// For cheap attempts (a connect, a request, a local command): the next
/// attempt comes after a quarter of the time waited so far, at least 50 ms
/// and at most 1 s. A service that becomes ready after `t` is seen at most
/// `t/4` (or 50 ms) later while `t` < 4 s, and at most 1 s later after that,
/// as with MaestroNG. Delays: 50 ms five times, then 62, 78, 97, 122, 152,
/// 190, 238, 298, 372, 465, 582, 727, 909 ms, then 1 s. Endless.
#[derive(Debug, Clone)]
pub struct Proportional {
    waited: Duration,
}

impl Default for Proportional {
    fn default() -> Self {
        Self::new()
    }
}

impl Proportional {
    pub fn new() -> Self {
        Proportional {
            waited: Duration::ZERO,
        }
    }
}

impl Iterator for Proportional {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = (self.waited / 4).clamp(FIRST, MAX);
        self.waited += d;
        Some(d)
    }
}

/// For attempts that cost the daemon several requests (watching the
/// container, `rexec`): doubling from `first` up to `max`; by default 50,
/// 100, 200, 400, 800 ms, then 1 s. Endless.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    pub fn new() -> Self {
        Self::between(FIRST, MAX)
    }

    /// A sequence doubling from `first` up to `max`.
    pub fn between(first: Duration, max: Duration) -> Self {
        Backoff { next: first, max }
    }
}

impl Iterator for Backoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(it: impl Iterator<Item = Duration>, n: usize) -> Vec<u128> {
        it.take(n).map(|d| d.as_millis()).collect()
    }

    #[test]
    fn proportional_waits_a_quarter_of_the_time_waited() {
        assert_eq!(
            ms(Proportional::new(), 20),
            [
                50, 50, 50, 50, 50, 62, 78, 97, 122, 152, 190, 238, 298, 372, 465, 582, 727, 909,
                1000, 1000
            ]
        );
        // The first retry comes within 100 ms; a 200 ms readiness is seen
        // by the attempt at 200 ms.
        let at: Vec<u128> = Proportional::new()
            .scan(Duration::ZERO, |t, d| {
                *t += d;
                Some(t.as_millis())
            })
            .take(4)
            .collect();
        assert_eq!(at, [50, 100, 150, 200]);
    }

    #[test]
    fn doubles_from_50_ms_to_1_s() {
        assert_eq!(
            ms(Backoff::new(), 8),
            [50, 100, 200, 400, 800, 1000, 1000, 1000]
        );
    }

    #[test]
    fn custom_bounds() {
        let b = Backoff::between(Duration::from_millis(5), Duration::from_millis(30));
        assert_eq!(ms(b, 5), [5, 10, 20, 30, 30]);
    }
}
