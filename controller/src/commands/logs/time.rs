//! Times for `logs`: `--since` values and dockerd's RFC 3339 timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// `--since`: a Unix time, an RFC 3339 time, or an age (`30s`, `10m`,
/// `2h`, `1d`) before now. Returns Unix seconds.
pub fn parse_since(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    if let Some(ns) = parse_rfc3339(s) {
        return i64::try_from(ns.div_euclid(1_000_000_000)).map_err(|_| "out of range".into());
    }
    let unit = s.chars().last().unwrap_or(' ');
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => {
            return Err(format!(
                "`{s}` is not a Unix time, an RFC 3339 time or an age like 10m"
            ));
        }
    };
    let n: i64 = s[..s.len() - 1]
        .parse()
        .map_err(|_| format!("`{s}` is not a Unix time, an RFC 3339 time or an age like 10m"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    Ok(now - n * mult)
}

/// `2026-11-24T20:19:38.123456789Z` (or with `+01:00`) to nanoseconds
/// since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut nanos: i128 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let f = &frac[..digits];
        for (i, c) in f.bytes().take(9).enumerate() {
            nanos += i128::from(c - b'0') * 10i128.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let v = num(s.len() - 5..s.len() - 3)? * 3600 + num(s.len() - 2..s.len())? * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    Some(i128::from(secs) * 1_000_000_000 + nanos)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Log data requested with timestamps: drops the lines stamped before
/// `min` (ns) and, unless `keep` is set, the stamps themselves.
pub fn drop_older(data: &[u8], min: i128, keep: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let (stamp, rest) = match text.split_once(' ') {
            Some((s, _)) => (parse_rfc3339(s), &line[s.len() + 1..]),
            None => (None, line),
        };
        match stamp {
            Some(t) if t < min => {}
            Some(_) if !keep => out.extend_from_slice(rest),
            _ => out.extend_from_slice(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_to_nanoseconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-24T20:19:38.123456789Z"),
            Some(1_795_551_578_123_456_789)
        );
        assert_eq!(
            parse_rfc3339("2026-11-24T21:19:38.5+01:00"),
            Some(1_795_551_578_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("0001-01-01T00:00:00Z").map(|n| n < 0),
            Some(true)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn since_forms() {
        assert_eq!(parse_since("1700000000").unwrap(), 1_700_000_000);
        assert_eq!(parse_since("2026-11-24T20:19:38Z").unwrap(), 1_795_551_578);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((parse_since("10m").unwrap() - (now - 600)).abs() <= 1);
        assert!(parse_since("soon").is_err());
        assert!(parse_since("5x").is_err());
    }

    #[test]
    fn older_lines_are_dropped_and_stamps_stripped() {
        let data = b"2026-11-24T20:19:37.9Z old\n2026-11-24T20:19:38.1Z new\nnostamp\n";
        let min = parse_rfc3339("2026-11-24T20:19:38Z").unwrap();
        assert_eq!(drop_older(data, min, false), b"new\nnostamp\n");
        assert_eq!(
            drop_older(data, min, true),
            b"2026-11-24T20:19:38.1Z new\nnostamp\n"
        );
    }
}
