//! The Jinja filters and globals config templates use, written here instead
//! of enabling minijinja's `builtins` feature: that feature brings ~50
//! filters and adds about 230 KB to a binary whose budget is 700 KiB.
//! Each one behaves as its Jinja2 namesake for the arguments it accepts.

use minijinja::value::{Rest, Value};
use minijinja::{Environment, Error, ErrorKind};

/// Every filter has this one type, its extra arguments read by hand:
/// minijinja compiles its argument conversion once per function type, and
/// one type for all keeps that to one copy.
type FilterFn = fn(Value, Rest<Value>) -> Result<Value, Error>;

const FILTERS: [(&str, FilterFn); 16] = [
    ("join", join),
    ("default", default),
    ("d", default),
    ("length", length),
    ("count", length),
    ("upper", upper),
    ("lower", lower),
    ("trim", trim),
    ("replace", replace),
    ("split", split),
    ("first", first),
    ("last", last),
    ("sort", sort),
    ("string", string),
    ("int", int),
    ("list", list),
];

/// Registers the filters and `range` on `jinja`.
pub fn register(jinja: &mut Environment<'_>) {
    for (name, filter) in FILTERS {
        jinja.add_filter(name, filter);
    }
    jinja.add_function("range", range);
}

/// The extra arguments of a filter that takes at most `max` of them.
fn extra(args: &[Value], max: usize) -> Result<&[Value], Error> {
    if args.len() > max {
        return Err(Error::from(ErrorKind::TooManyArguments));
    }
    Ok(args)
}

/// Extra argument `index` as a string; absent or `none` gives `None`.
fn text(args: &[Value], index: usize) -> Option<String> {
    args.get(index)
        .filter(|v| !v.is_none())
        .map(Value::to_string)
}

/// The items of a sequence (or the characters of a string).
fn items(value: &Value) -> Result<Vec<Value>, Error> {
    Ok(value.try_iter()?.collect())
}

/// `join(d='')`.
fn join(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let separator = text(extra(&args, 1)?, 0).unwrap_or_default();
    let parts: Vec<String> = items(&value)?.iter().map(Value::to_string).collect();
    Ok(Value::from(parts.join(&separator)))
}

/// `default(other='')`: replaces an undefined value only, as Jinja2.
fn default(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let args = extra(&args, 1)?;
    if value.is_undefined() {
        Ok(args.first().cloned().unwrap_or_else(|| Value::from("")))
    } else {
        Ok(value)
    }
}

fn length(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    value.len().map(Value::from).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot take the length of a {}", value.kind()),
        )
    })
}

/// `upper` and `lower` change ASCII letters only, unlike Python's: Unicode's
/// case tables would add about 20 KB, and config values (hosts, names,
/// flags) are ASCII.
fn upper(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(value.to_string().to_ascii_uppercase()))
}

fn lower(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(value.to_string().to_ascii_lowercase()))
}

fn trim(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(value.to_string().trim()))
}

/// `replace(old, new)`.
fn replace(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let args = extra(&args, 2)?;
    let (Some(old), Some(new)) = (text(args, 0), text(args, 1)) else {
        return Err(Error::from(ErrorKind::MissingArgument));
    };
    Ok(Value::from(value.to_string().replace(&old, &new)))
}

/// `split(sep=None)`: on runs of whitespace without a separator, as Python.
fn split(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    let separator = text(extra(&args, 1)?, 0);
    let s = value.to_string();
    let parts: Vec<Value> = match separator.as_deref() {
        Some(sep) => s.split(sep).map(Value::from).collect(),
        None => s.split_whitespace().map(Value::from).collect(),
    };
    Ok(Value::from(parts))
}

fn first(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(items(&value)?.into_iter().next()))
}

fn last(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(items(&value)?.into_iter().last()))
}

fn sort(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    let mut items = items(&value)?;
    items.sort();
    Ok(Value::from(items))
}

fn string(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(value.to_string()))
}

fn list(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
    Ok(Value::from(items(&value)?))
}

/// `int`: numbers are truncated, strings parsed; anything else is an error
/// (Jinja2 silently gives 0, which would hide a broken config).
fn int(value: Value, args: Rest<Value>) -> Result<Value, Error> {
    extra(&args, 0)?;
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
            ("{{ 'ab' | list | join('-') }}", "a-b"),
            ("{{ xs | length }}/{{ xs | count }}", "3/3"),
            ("{{ xs | first }}{{ xs | last }}", "bc"),
            ("{{ nope | default('dev') }}", "dev"),
            ("{{ nope | d }}|", "|"),
            ("{{ 'x' | default('dev') }}", "x"),
            ("{{ ' Ab ' | trim | upper }}{{ 'Q' | lower }}", "ABq"),
            // ASCII letters only (see `upper`).
            ("{{ 'straße é' | upper }}", "STRAßE é"),
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
        assert!(render("{{ xs | upper(1) }}").is_err());
        assert!(render("{{ 'a' | replace('a') }}").is_err());
    }
}
