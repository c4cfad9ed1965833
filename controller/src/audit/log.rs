//! The `log` auditor: appends `<timestamp> <LEVEL>: <message>` lines to a
//! file.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends one line (creating the file).
pub fn append(file: &Path, level: &str, message: &str) -> Result<(), String> {
    let line = format!("{} {level}: {message}\n", timestamp(SystemTime::now()));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// `2026-11-24 20:19:38,123Z`: Python's `asctime` layout, in UTC (there is
/// no time zone database here; UTC is unambiguous in a shared log).
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = crate::text::civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02},{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_in_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00,000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_551_578_123);
        assert_eq!(timestamp(t), "2026-11-24 20:19:38,123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29 00:00:00,000Z");
    }
}
