//! The delays between attempts: fast at first, so a service that is ready
//! in 200 ms is seen in about 200 ms, then settling at MaestroNG's 1 s
//! cadence so a long wait costs no more requests than it did.

use std::time::Duration;

/// The first delay.
pub const FIRST: Duration = Duration::from_millis(50);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(1);

/// 50, 100, 200, 400, 800, 1000, 1000, ... ms. Endless.
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

    #[test]
    fn doubles_from_50_ms_to_1_s() {
        let ms: Vec<u128> = Backoff::new().take(8).map(|d| d.as_millis()).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1000, 1000, 1000]);
    }

    #[test]
    fn custom_bounds() {
        let ms: Vec<u128> = Backoff::between(Duration::from_millis(5), Duration::from_millis(30))
            .take(5)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(ms, [5, 10, 20, 30, 30]);
    }
}
