//! `sleep`: waits `wait` seconds, then passes.

use std::time::Duration;

use super::retry::Verdict;
use crate::scheduler::CancelToken;

pub fn check(wait: f64, stop: &CancelToken) -> Verdict {
    let d = Duration::try_from_secs_f64(wait).unwrap_or(Duration::ZERO);
    if stop.sleep(d) {
        Verdict::Stopped
    } else {
        Verdict::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::cancel::cancelled_after;
    use std::time::Instant;

    #[test]
    fn sleeps_then_passes_or_stops_early() {
        let start = Instant::now();
        assert_eq!(check(0.1, &CancelToken::new()), Verdict::Passed);
        assert!(start.elapsed() >= Duration::from_millis(100));

        let (out, took) = cancelled_after(Duration::from_millis(50), |stop| check(60.0, stop));
        assert_eq!(out, Verdict::Stopped);
        assert!(took < Duration::from_secs(5));
    }
}
