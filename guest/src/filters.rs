//! The Jinja filters and globals config templates use, written here instead
//! of enabling minijinja's `builtins` feature: that feature brings ~50
//! filters and adds about 230 KB to a binary whose budget is 700 KiB.
//! Each one behaves as its Jinja2 namesake for the arguments it accepts.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

/// Registers the filters and `range` on `jinja`.
pub fn register(jinja: &mut Environment<'_>) {
    jinja.add_filter("join", join);
    jinja.add_filter("default", default);
    jinja.add_filter("d", default);
    jinja.add_filter("length", length);
    jinja.add_filter("count", length);
    jinja.add_filter("upper", |s: String| s.to_uppercase());
    jinja.add_filter("lower", |s: String| s.to_lowercase());
    jinja.add_filter("trim", |s: String| s.trim().to_owned());
    jinja.add_filter("replace", |s: String, old: String, new: String| {
        s.replace(&old, &new)
    });
    jinja.add_filter("split", split);
    jinja.add_filter("first", |v: Value| items(&v).map(|i| i.into_iter().next()));
    jinja.add_filter("last", |v: Value| items(&v).map(|i| i.into_iter().last()));
    jinja.add_filter("sort", |v: Value| {
        items(&v).map(|mut i| {
            i.sort();
            Value::from(i)
        })
    });
    jinja.add_filter("string", |v: Value| v.to_string());
    jinja.add_filter("int", int);
    jinja.add_function("range", range);
}

/// The items of a sequence (or the characters of a string).
fn items(value: &Value) -> Result<Vec<Value>, Error> {
    Ok(value.try_iter()?.collect())
}

/// `join(d='')`.
fn join(value: Value, separator: Option<String>) -> Result<String, Error> {
    let parts: Vec<String> = items(&value)?.iter().map(Value::to_string).collect();
    Ok(parts.join(separator.as_deref().unwrap_or("")))
}

/// `default(other='')`: replaces an undefined value only, as Jinja2.
fn default(value: Value, other: Option<Value>) -> Value {
    if value.is_undefined() {
        other.unwrap_or_else(|| Value::from(""))
    } else {
        value
    }
}

fn length(value: Value) -> Result<usize, Error> {
    value.len().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot take the length of a {}", value.kind()),
        )
    })
}

/// `split(sep=None)`: on runs of whitespace without a separator, as Python.
fn split(s: String, separator: Option<String>) -> Vec<String> {
    match separator.as_deref() {
        Some(sep) => s.split(sep).map(str::to_owned).collect(),
        None => s.split_whitespace().map(str::to_owned).collect(),
    }
}

/// `int`: numbers are truncated, strings parsed; anything else is an error
/// (Jinja2 silently gives 0, which would hide a broken config).
fn int(value: Value) -> Result<Value, Error> {
    if let Ok(n) = i64::try_from(value.clone()) {
        return Ok(Value::from(n));
    }
    if let Ok(f) = f64::try_from(value.clone()) {
        // Saturating cast: out-of-range floats clamp, NaN gives 0.
        return Ok(Value::from(f.trunc() as i64));
    }
    value
        .as_str()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(Value::from)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot convert a {} to an integer", value.kind()),
            )
        })
}

/// `range(stop)`, `range(start, stop)` or `range(start, stop, step)`.
fn range(a: i64, b: Option<i64>, step: Option<i64>) -> Result<Vec<i64>, Error> {
    // Bounded like minijinja's own `range`, so a typo cannot exhaust memory.
    const MAX: usize = 100_000;
    let (start, stop) = match b {
        Some(stop) => (a, stop),
        None => (0, a),
    };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "range step cannot be zero",
        ));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if out.len() >= MAX {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "range has too many elements",
            ));
        }
        out.push(i);
        i = i.saturating_add(step);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut jinja = Environment::new();
        jinja.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        register(&mut jinja);
        let ctx = Value::from_pairs([("xs", Value::from(vec!["b", "a", "c"]))]);
        jinja.render_str(source, ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn filters_behave_like_jinja2() {
        let cases = [
            ("{{ xs | join(',') }}", "b,a,c"),
            ("{{ xs | join }}", "bac"),
            ("{{ xs | sort | join(' ') }}", "a b c"),
            ("{{ xs | length }}/{{ xs | count }}", "3/3"),
            ("{{ xs | first }}{{ xs | last }}", "bc"),
            ("{{ nope | default('dev') }}", "dev"),
            ("{{ nope | d }}|", "|"),
            ("{{ 'x' | default('dev') }}", "x"),
            ("{{ ' Ab ' | trim | upper }}{{ 'Q' | lower }}", "ABq"),
            ("{{ 'a-b-c' | replace('-', '.') }}", "a.b.c"),
            ("{{ 'a b  c' | split | join(',') }}", "a,b,c"),
            ("{{ 'a:b' | split(':') | last }}", "b"),
            ("{{ '42' | int + 1 }}/{{ 4.7 | int }}", "43/4"),
            ("{{ 42 | string ~ 'x' }}", "42x"),
            (
                "{{ range(3) | join(',') }};{{ range(1, 7, 2) | join(',') }}",
                "0,1,2;1,3,5",
            ),
            ("{% if nope is defined %}y{% else %}n{% endif %}", "n"),
        ];
        for (source, expected) in cases {
            assert_eq!(render(source).as_deref(), Ok(expected), "{source}");
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(render("{{ 'x1' | int }}").is_err());
        assert!(render("{{ 3 | length }}").is_err());
        assert!(render("{{ range(1, 2, 0) }}").is_err());
        assert!(render("{{ range(1000000) | length }}").is_err());
        assert!(render("{{ xs | nosuchfilter }}").is_err());
    }
}
