//! Names the variable behind an "undefined value" error.
//!
//! minijinja reports the template and line of an undefined value; naming the
//! variable too needs its `debug` feature, about 20 KB of a binary whose
//! budget is 700 KiB. So the guest finds the name itself: it reads the
//! expressions on the failing line and keeps the names that nothing defines:
//! `env.X` where the container has no `X`, and plain names that are neither
//! the guest's globals, Jinja keywords, nor bound by a `for` or `set` of the
//! template. A name tested with `is defined` or given a `default` is not the
//! culprit and is left out.

/// Jinja words and globals that are never undefined variables.
#[rustfmt::skip]
const KNOWN: &[&str] = &[
    "and", "as", "block", "call", "caller", "context", "elif", "else", "endblock", "endcall",
    "endfilter", "endfor", "endif", "endmacro", "endraw", "endset", "endwith", "env", "extends",
    "false", "False", "filter", "for", "from", "if", "ignore", "import", "in", "include", "is",
    "kwargs", "loop", "macro", "missing", "none", "None", "not", "or", "raw", "recursive",
    "self", "set", "super", "true", "True", "varargs", "with", "without",
];

/// A token of an expression: what the search needs and nothing more.
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Name(&'a str),
    Str(&'a str),
    Punct(char),
}

/// The names on `line` (1-based) of `source` that nothing defines, as they
/// would be written in the template (`env.X`, `name`). `defined` tells
/// whether the container has a variable; `globals` are the names the
/// environment provides (functions, filters' globals).
pub fn names_on_line(
    source: &str,
    line: usize,
    defined: &dyn Fn(&str) -> bool,
    globals: &[&str],
) -> Vec<String> {
    let tags = tags(source);
    let mut bound: Vec<&str> = Vec::new();
    for (_, tokens) in &tags {
        bound.extend(bound_names(tokens));
    }
    let mut out: Vec<String> = Vec::new();
    for (_, tokens) in tags.iter().filter(|(l, _)| l.contains(&line)) {
        for (i, token) in tokens.iter().enumerate() {
            let Token::Name(name) = *token else { continue };
            let before = i.checked_sub(1).map(|j| &tokens[j]);
            let test = match before {
                Some(Token::Name("is")) => true,
                Some(Token::Name("not")) => i >= 2 && tokens[i - 2] == Token::Name("is"),
                _ => false,
            };
            // Attributes, filters and tests are not variables; `x=` is a
            // keyword argument or the target of a `set`.
            if test
                || matches!(before, Some(Token::Punct('.' | '|')))
                || matches!(tokens.get(i + 1), Some(Token::Punct('=')))
                    && !matches!(tokens.get(i + 2), Some(Token::Punct('=')))
            {
                continue;
            }
            let (shown, len) = match (name, tokens.get(i + 1), tokens.get(i + 2)) {
                ("env", Some(Token::Punct('.')), Some(Token::Name(key))) => {
                    (Some(format!("env.{key}")).filter(|_| !defined(key)), 3)
                }
                ("env", Some(Token::Punct('[')), Some(Token::Str(key))) => {
                    (Some(format!("env['{key}']")).filter(|_| !defined(key)), 4)
                }
                _ if KNOWN.contains(&name) || globals.contains(&name) || bound.contains(&name) => {
                    (None, 1)
                }
                _ => (Some(name.to_owned()), 1),
            };
            let guarded = matches!(
                (tokens.get(i + len), tokens.get(i + len + 1)),
                (Some(Token::Name("is")), _)
                    | (Some(Token::Punct('|')), Some(Token::Name("default" | "d")))
            );
            if let Some(shown) = shown.filter(|s| !guarded && !out.contains(s)) {
                out.push(shown);
            }
        }
    }
    out
}

/// The expression tags (`{{ }}`, `{% %}`) of `source`: the lines each spans
/// and its tokens. Comments and plain text are skipped.
fn tags(source: &str) -> Vec<(std::ops::RangeInclusive<usize>, Vec<Token<'_>>)> {
    let mut out = Vec::new();
    let mut rest = source;
    let mut line = 1;
    while let Some(open) = rest.find('{') {
        line += rest[..open].matches('\n').count();
        let after = &rest[open + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            Some('#') => "#}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        let inner = &body[..end];
        let last = line + inner.matches('\n').count();
        if close != "#}" {
            out.push((line..=last, tokens(inner)));
        }
        line = last;
        rest = &body[(end + close.len()).min(body.len())..];
    }
    out
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c == '_' || c.is_ascii_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if c != '_' && !c.is_ascii_alphanumeric() {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            out.push(Token::Name(&text[start..end]));
        } else if c == '\'' || c == '"' {
            let mut end = text.len();
            let mut escaped = false;
            for (i, d) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == c {
                    end = i;
                    break;
                }
            }
            out.push(Token::Str(&text[start + 1..end]));
        } else if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|&(_, d)| d.is_ascii_alphanumeric() || d == '.')
            {
                chars.next();
            }
        } else if !c.is_whitespace() && c != '-' {
            out.push(Token::Punct(c));
        }
    }
    out
}

/// Names a tag binds: `for a, b in`, `set x =`, `with x =`.
fn bound_names<'a>(tokens: &[Token<'a>]) -> Vec<&'a str> {
    match tokens.first() {
        Some(Token::Name("for")) => tokens[1..]
            .iter()
            .take_while(|t| **t != Token::Name("in"))
            .filter_map(|t| match t {
                Token::Name(n) => Some(*n),
                _ => None,
            })
            .collect(),
        Some(Token::Name("set" | "with")) => tokens
            .windows(2)
            .filter_map(|w| match w {
                [Token::Name(n), Token::Punct('=')] => Some(*n),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(source: &str, line: usize) -> Vec<String> {
        names_on_line(source, line, &|k| k == "SET", &["port", "node_list"])
    }

    #[test]
    fn an_unset_environment_variable_is_named_on_its_line() {
        assert_eq!(names("ok\nvalue={{ env.NOT_SET }}\n", 2), ["env.NOT_SET"]);
        assert_eq!(names("{{ env['NOPE'] ~ env.SET }}", 1), ["env['NOPE']"]);
        assert_eq!(
            names("{{ env.SET }}\n{{ env.NOPE }}", 1),
            Vec::<String>::new()
        );
    }

    #[test]
    fn plain_names_that_nothing_binds() {
        assert_eq!(names("{{ nosuch }}", 1), ["nosuch"]);
        assert_eq!(
            names(
                "{% for n, m in node_list('zk') %}{{ n }}{{ m.x }}{{ z }}{% endfor %}",
                1
            ),
            ["z"]
        );
        assert_eq!(names("{% set a = 1 %}\n{{ a ~ b }}", 2), ["b"]);
        assert_eq!(
            names("{{ port('x', default=1) | upper }}{{ x is defined }}", 1),
            Vec::<String>::new()
        );
    }

    #[test]
    fn guarded_names_are_not_the_culprit() {
        assert_eq!(
            names("{{ env.A | default('x') }} {{ env.B }}", 1),
            ["env.B"]
        );
        assert_eq!(
            names("{% if env.A is defined %}{{ env.C }}{% endif %}", 1),
            ["env.C"]
        );
        assert_eq!(
            names("{% if env.A is not defined %}{{ d }}{% endif %}", 1),
            ["d"]
        );
    }

    #[test]
    fn broken_templates_give_an_answer_not_a_panic() {
        let sources = [
            "{",
            "{{",
            "{%",
            "{#",
            "}}",
            "{{ 'open",
            "{{ \"é\\",
            "é{{é}}é",
            "{{ x.",
            "{{ env[",
            "{{ env['x",
            "{{ is not }}",
            "{% for %}",
            "{% set = %}",
            "{{ | d }}",
            "{{\n\n",
            "a\n{{ env.€ }}\n{% if x is not",
            "{{ 1.5e3 ~ ü }}",
        ];
        for source in sources {
            for line in 0..5 {
                let _ = names(source, line);
            }
        }
        assert_eq!(names("é{{ ü ~ nope }}", 1), ["nope"]);
    }

    #[test]
    fn strings_comments_and_text_are_not_expressions() {
        assert_eq!(
            names("nosuch {# other #} {{ 'quoted' }}", 1),
            Vec::<String>::new()
        );
        assert_eq!(names("{{ 'it\\'s' ~ x }}", 1), ["x"]);
        assert_eq!(names("{{\n  y\n}}", 2), ["y"]);
    }
}
