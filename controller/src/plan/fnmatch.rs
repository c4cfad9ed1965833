//! Shell globs as Python's `fnmatch` reads them (the `-C`/`-S` filters of
//! MaestroNG): `*` any run of characters, `?` one character, `[abc]`,
//! `[a-z]` and `[!abc]` one character of (or not of) a set. Everything else
//! matches itself. An unclosed `[` matches a literal `[`.

/// True when `text` matches the whole `pattern`.
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    matches(&p, &t)
}

fn matches(p: &[char], t: &[char]) -> bool {
    // Iterative with one backtrack point for the last `*`: linear enough
    // for names, and no recursion blow-up on patterns like `*a*a*a*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((hit, next)) = class(p, pi, t[ti]) {
                        if hit {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A `[...]` class starting at `p[start]`: whether `c` is in it and the
/// index after it; `None` when the class is not closed.
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                hit = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn globs() {
        assert!(fnmatch("*-a", "webapp-a"));
        assert!(!fnmatch("*-a", "webapp-b"));
        assert!(fnmatch("ship*2", "ship2"));
        assert!(fnmatch("ship*2", "ship-two-2"));
        assert!(!fnmatch("ship*2", "ship3"));
        assert!(fnmatch("w?b", "web"));
        assert!(!fnmatch("w?b", "weeb"));
        assert!(fnmatch("web-[ab]", "web-b"));
        assert!(!fnmatch("web-[!ab]", "web-b"));
        assert!(fnmatch("web-[0-9]", "web-7"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("*", ""));
        assert!(fnmatch("*a*a*a*", "xaxaxax"));
        assert!(!fnmatch("*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaac"));
        assert!(fnmatch("exact", "exact"));
        assert!(!fnmatch("exact", "exactly"));
    }
}
