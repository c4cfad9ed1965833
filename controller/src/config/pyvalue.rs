//! How MaestroNG spells scalar values it hands to Docker: PyYAML (YAML 1.1)
//! resolves a plain scalar to a Python object, and docker-py formats it
//! with `str()`. Only the cases where maestro follows it live here:
//! non-finite floats and timestamps in `env`.

/// `str()` of a non-finite float as PyYAML resolves it: `.inf`, `+.inf`,
/// `-.inf` (any of PyYAML's three spellings) give `inf`/`-inf`, `.nan`
/// gives `nan`. Other spellings that YAML 1.2 reads as non-finite (a signed
/// `.nan`, an overflowing literal) are strings or finite-looking text for
/// PyYAML; None keeps their text as written.
pub fn non_finite_text(text: &str) -> Option<&'static str> {
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'-') => ("-", &text[1..]),
        Some(b'+') => ("+", &text[1..]),
        _ => ("", text),
    };
    match unsigned {
        ".inf" | ".Inf" | ".INF" if sign == "-" => Some("-inf"),
        ".inf" | ".Inf" | ".INF" => Some("inf"),
        ".nan" | ".NaN" | ".NAN" if sign.is_empty() => Some("nan"),
        _ => None,
    }
}

/// `str()` of what PyYAML makes of a plain scalar that matches its
/// implicit timestamp pattern: `2001-12-14` stays as it is (a date),
/// `2001-12-14t21:59:43.10-05:00` becomes `2001-12-14 21:59:43.100000-05:00`
/// (a datetime; microseconds only when not zero, the offset as `+HH:MM`,
/// `Z` as `+00:00`). None when the text is no timestamp, or one that
/// Python's datetime refuses (month 13, February 30, hour 24), where
/// MaestroNG fails to load the file.
pub fn timestamp_text(text: &str) -> Option<String> {
    let mut p = Scan(text.as_bytes());
    let year = p.digits(4, 4)?;
    p.byte(b'-')?;
    let (month, month_len) = p.digits_len(1, 2)?;
    p.byte(b'-')?;
    let (day, day_len) = p.digits_len(1, 2)?;
    if p.0.is_empty() {
        // The date-only form needs two-digit months and days.
        return (month_len == 2 && day_len == 2 && valid_date(year, month, day))
            .then(|| format!("{year:04}-{month:02}-{day:02}"));
    }
    match p.0.first() {
        Some(b'T' | b't') => p.0 = &p.0[1..],
        Some(b' ' | b'\t') => p.blanks(),
        _ => return None,
    }
    let hour = p.digits(1, 2)?;
    p.byte(b':')?;
    let minute = p.digits(2, 2)?;
    p.byte(b':')?;
    let second = p.digits(2, 2)?;
    let mut micros = 0;
    if p.byte(b'.').is_some() {
        let start = p.0;
        while p.0.first().is_some_and(u8::is_ascii_digit) {
            p.0 = &p.0[1..];
        }
        let digits = &start[..start.len() - p.0.len()];
        for i in 0..6 {
            micros = micros * 10 + u32::from(digits.get(i).map_or(0, |d| d - b'0'));
        }
    }
    let mut offset = None;
    if !p.0.is_empty() {
        p.blanks();
        match p.0.first() {
            Some(b'Z') => {
                p.0 = &p.0[1..];
                offset = Some(0i32);
            }
            Some(&sign @ (b'+' | b'-')) => {
                p.0 = &p.0[1..];
                let h = p.digits(1, 2)?;
                let m = if p.byte(b':').is_some() {
                    p.digits(2, 2)?
                } else {
                    0
                };
                let total = i32::try_from(h * 60 + m).ok()?;
                offset = Some(if sign == b'-' { -total } else { total });
            }
            _ => return None,
        }
        if !p.0.is_empty() {
            return None;
        }
    }
    if !valid_date(year, month, day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut out = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
    if micros > 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    if let Some(total) = offset {
        // datetime.timezone: strictly less than a day either way.
        if total.abs() >= 24 * 60 {
            return None;
        }
        let sign = if total < 0 { '-' } else { '+' };
        let total = total.abs();
        out.push_str(&format!("{sign}{:02}:{:02}", total / 60, total % 60));
    }
    Some(out)
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days).contains(&day)
}

struct Scan<'a>(&'a [u8]);

impl Scan<'_> {
    fn byte(&mut self, b: u8) -> Option<()> {
        let rest = self.0.strip_prefix(&[b])?;
        self.0 = rest;
        Some(())
    }

    fn blanks(&mut self) {
        while let Some(b' ' | b'\t') = self.0.first() {
            self.0 = &self.0[1..];
        }
    }

    /// Between `min` and `max` ASCII digits (greedy), as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        self.digits_len(min, max).map(|(n, _)| n)
    }

    fn digits_len(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let len = self
            .0
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len < min {
            return None;
        }
        let n = self.0[..len]
            .iter()
            .fold(0, |n, d| n * 10 + u32::from(d - b'0'));
        self.0 = &self.0[len..];
        Some((n, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_floats_as_python_prints_them() {
        assert_eq!(non_finite_text(".inf"), Some("inf"));
        assert_eq!(non_finite_text("+.Inf"), Some("inf"));
        assert_eq!(non_finite_text("-.INF"), Some("-inf"));
        assert_eq!(non_finite_text(".NaN"), Some("nan"));
        // Strings for PyYAML: their text is kept.
        assert_eq!(non_finite_text("-.nan"), None);
        assert_eq!(non_finite_text("1e999"), None);
    }

    #[test]
    fn timestamps_as_pyyaml_and_str_give_them() {
        let t = |s: &str| timestamp_text(s);
        assert_eq!(t("2001-12-14").as_deref(), Some("2001-12-14"));
        assert_eq!(
            t("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14 21:59:43.100000-05:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14 21:59:43.100000")
        );
        assert_eq!(
            t("2001-12-14T21:59:43Z").as_deref(),
            Some("2001-12-14 21:59:43+00:00")
        );
        assert_eq!(
            t("2001-1-2 1:02:03.1234567 \t+5").as_deref(),
            Some("2001-01-02 01:02:03.123456+05:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.000 -0").as_deref(),
            Some("2001-12-14 21:59:43+00:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43 +05:99").as_deref(),
            Some("2001-12-14 21:59:43+06:39")
        );
        // Not timestamps for PyYAML.
        for s in [
            "2001-1-2",
            "2001-12-14 ",
            "2001-12-14x",
            "01-12-14",
            "2001-12-14 21:59",
            "2001-12-14 21:59:43 +5:0",
        ] {
            assert_eq!(t(s), None, "{s}");
        }
        // Refused by Python's datetime.
        for s in [
            "2001-13-01",
            "2001-02-29",
            "0000-01-01",
            "2001-12-14 24:00:00",
            "2001-12-14 21:59:60",
            "2001-12-14 21:59:43 +24:00",
        ] {
            assert_eq!(t(s), None, "{s}");
        }
        assert_eq!(t("2000-02-29").as_deref(), Some("2000-02-29"));
    }
}
