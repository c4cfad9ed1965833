//! The `--match` pattern of `check http`: a small subset of regular
//! expressions, searched in the response body.
//!
//! A regex engine (the `regex` crate) would add well over 100 KB to a binary
//! copied into every image; a health check needs little of it. Supported:
//! literal characters, `.` (any character, newlines included, as the
//! DOTALL search MaestroNG's `http` check does), `*`, `+`, `?` after a
//! character or `.`, `^` at the start, `$` at the end (end of the body, or
//! before its final newline, as Python's `re`), and `\` to take the next
//! character literally. Every other regex metacharacter (`[ ] ( ) { } |`)
//! is refused rather than read as a literal, so a pattern written for a
//! full engine never silently means something else.
//!
//! Matching simulates the automaton over a set of states (no backtracking):
//! linear in the body's length whatever the pattern.

/// One position of the pattern: what it matches and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    /// `None` is `.`.
    char: Option<char>,
    optional: bool,
    repeat: bool,
}

/// A compiled `--match` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    items: Vec<Item>,
    start: bool,
    end: bool,
}

impl Pattern {
    /// Compiles a pattern; the error says what is not supported.
    pub fn new(pattern: &str) -> Result<Pattern, String> {
        let bad = |what: &str| Err(format!("--match {pattern}: {what}"));
        let mut items: Vec<Item> = Vec::new();
        let mut chars = pattern.chars();
        let mut start = false;
        let mut end = false;
        if pattern.starts_with('^') {
            chars.next();
            start = true;
        }
        while let Some(c) = chars.next() {
            if end {
                return bad("`$` is only supported at the end");
            }
            let char = match c {
                '\\' => match chars.next() {
                    Some(c) => Some(c),
                    None => return bad("ends with `\\`"),
                },
                '.' => None,
                '$' => {
                    end = true;
                    continue;
                }
                '*' | '+' | '?' => {
                    let Some(last) = items.last_mut().filter(|i| !i.optional && !i.repeat) else {
                        return bad("a repetition needs a character before it");
                    };
                    last.optional = c != '+';
                    last.repeat = c != '?';
                    continue;
                }
                '^' => return bad("`^` is only supported at the start"),
                '[' | ']' | '(' | ')' | '{' | '}' | '|' => {
                    return bad(
                        "only characters, `.`, `*`, `+`, `?`, `^`, `$` and `\\` are supported",
                    );
                }
                c => Some(c),
            };
            items.push(Item {
                char,
                optional: false,
                repeat: false,
            });
        }
        Ok(Pattern { items, start, end })
    }

    /// Whether the pattern matches somewhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let n = self.items.len();
        let mut current = vec![false; n + 1];
        let mut next = vec![false; n + 1];
        let at_end = |rest: &str| rest.is_empty() || rest == "\n";
        let mut rest = text;
        loop {
            if !self.start || rest.len() == text.len() {
                self.enter(&mut current, 0);
            }
            if current[n] && (!self.end || at_end(rest)) {
                return true;
            }
            let mut chars = rest.chars();
            let Some(c) = chars.next() else { return false };
            rest = chars.as_str();
            next.fill(false);
            for (i, item) in self.items.iter().enumerate() {
                if current[i] && item.char.is_none_or(|want| want == c) {
                    if item.repeat {
                        self.enter(&mut next, i);
                    }
                    self.enter(&mut next, i + 1);
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
    }

    /// Adds state `i` and those reachable from it without reading: the
    /// positions after optional items.
    fn enter(&self, states: &mut [bool], mut i: usize) {
        while i < states.len() {
            states[i] = true;
            match self.items.get(i) {
                Some(item) if item.optional => i += 1,
                _ => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn literals_are_searched_anywhere() {
        assert!(matches("ok", "status: ok\n"));
        assert!(matches("", "anything"));
        assert!(matches("", ""));
        assert!(!matches("ok", "o k"));
        assert!(matches("é", "café"));
    }

    #[test]
    fn dot_and_repetitions() {
        assert!(matches("a.c", "xabcx"));
        assert!(matches("a.c", "a\nc"));
        assert!(!matches("a.c", "ac"));
        assert!(matches("ab*c", "ac"));
        assert!(matches("ab*c", "abbbc"));
        assert!(!matches("ab+c", "ac"));
        assert!(matches("ab+c", "abbc"));
        assert!(matches("ab?c", "ac"));
        assert!(matches("ab?c", "abc"));
        assert!(!matches("ab?c", "abbc"));
        assert!(matches("\"status\": *\"UP\"", "{\"status\":  \"UP\"}"));
        assert!(matches("start.*end", "start\nmiddle\nend"));
        // No backtracking: linear even where a backtracking matcher is not.
        let long = "a".repeat(10_000);
        assert!(!matches("a*a*a*a*a*a*a*a*b", &long));
    }

    #[test]
    fn anchors() {
        assert!(matches("^ok", "ok then"));
        assert!(!matches("^ok", "not ok"));
        assert!(matches("ok$", "all ok"));
        assert!(matches("ok$", "all ok\n"));
        assert!(!matches("ok$", "ok, all"));
        assert!(matches("^ok$", "ok"));
        assert!(!matches("^ok$", "ok ok"));
        assert!(matches("^$", ""));
    }

    #[test]
    fn escapes_are_literal() {
        assert!(matches("a\\.c", "a.c"));
        assert!(!matches("a\\.c", "abc"));
        assert!(matches("\\(ok\\)", "(ok)"));
        assert!(matches("1\\+1", "1+1"));
        assert!(matches("\\$5", "costs $5"));
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        let err = |p: &str| Pattern::new(p).unwrap_err();
        assert_eq!(
            err("[a-z]+"),
            "--match [a-z]+: only characters, `.`, `*`, `+`, `?`, `^`, `$` and `\\` are supported"
        );
        assert!(err("(a|b)").contains("only characters"));
        assert!(err("a{2}").contains("only characters"));
        assert_eq!(
            err("*a"),
            "--match *a: a repetition needs a character before it"
        );
        assert!(err("a**").contains("a repetition needs"));
        assert_eq!(err("a$b"), "--match a$b: `$` is only supported at the end");
        assert_eq!(err("a^"), "--match a^: `^` is only supported at the start");
        assert_eq!(err("a\\"), "--match a\\: ends with `\\`");
    }
}
