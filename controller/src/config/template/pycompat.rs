//! What Jinja2 templates get from Python and minijinja does not give: `env`
//! as a mapping with `os.environ`'s methods, mutable lists, `%` formatting,
//! more string methods, the `center` filter, and values printed as Python
//! prints them (`None`, `True`, `['a', 1]`).
//!
//! Methods minijinja-contrib's `pycompat` already has (`dict.get/items/keys/
//! values`, most `str` methods, `str.format`) are taken from there; this
//! module answers first only for what it adds.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::formatting::{FormatStyle, format};
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Tuple, ValueKind, from_args};
use minijinja::{Error, ErrorKind, Output, State, Value, escape_formatter};

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `env`: the process environment as Python's `os.environ` mapping.
/// Keys iterate sorted (`os.environ` iterates in the process's own order).
#[derive(Debug)]
pub struct Environ(pub BTreeMap<String, String>);

impl Object for Environ {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        key.as_str().and_then(|k| self.0.get(k)).map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(Value::from).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => {
                let (key, default): (&Value, Option<Value>) = from_args(args)?;
                Ok(self
                    .get_value(key)
                    .unwrap_or_else(|| default.unwrap_or(Value::from(()))))
            }
            "keys" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(self.0.keys().map(Value::from)))
            }
            "values" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(self.0.values().map(Value::from)))
            }
            "items" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(self.0.iter().map(|(k, v)| {
                    Value::from(Tuple::from([
                        Value::from(k.as_str()),
                        Value::from(v.as_str()),
                    ]))
                })))
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Value::from_object(PyDict::from_pairs(
                    self.0
                        .iter()
                        .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
                        .collect(),
                )))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("environ({")?;
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", py_str_repr(k), py_str_repr(v))?;
        }
        f.write_str("})")
    }
}

/// A list literal: a sequence with Python's list methods, the mutating ones
/// included (minijinja's own sequences are immutable).
#[derive(Debug, Default)]
pub struct PyList(Mutex<Vec<Value>>);

impl PyList {
    fn items(&self) -> MutexGuard<'_, Vec<Value>> {
        // A poisoned lock only means a panic elsewhere; the data is intact.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn index_of(items: &[Value], key: &Value) -> Option<usize> {
        let i = key.as_i64()?;
        let len = items.len() as i64;
        let i = if i < 0 { i + len } else { i };
        (0..len).contains(&i).then_some(i as usize)
    }
}

/// `__maestro_py_list(seq)`: the list object a `[...]` literal becomes.
pub fn py_list(items: Value) -> Result<Value, Error> {
    let items: Vec<Value> = items.try_iter()?.collect();
    Ok(Value::from_object(PyList(Mutex::new(items))))
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        PyList::index_of(&items, key).map(|i| items[i].clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items().clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let none = Value::from(());
        match method {
            "append" => {
                let (v,): (Value,) = from_args(args)?;
                self.items().push(v);
                Ok(none)
            }
            "extend" => {
                let (v,): (Value,) = from_args(args)?;
                let more: Vec<Value> = v.try_iter()?.collect();
                self.items().extend(more);
                Ok(none)
            }
            "insert" => {
                let (at, v): (i64, Value) = from_args(args)?;
                let mut items = self.items();
                let len = items.len() as i64;
                let at = if at < 0 {
                    (at + len).max(0)
                } else {
                    at.min(len)
                };
                items.insert(at as usize, v);
                Ok(none)
            }
            "pop" => {
                let (at,): (Option<i64>,) = from_args(args)?;
                let mut items = self.items();
                let i = PyList::index_of(&items, &Value::from(at.unwrap_or(-1)))
                    .ok_or_else(|| invalid("pop index out of range"))?;
                Ok(items.remove(i))
            }
            "remove" => {
                let (v,): (Value,) = from_args(args)?;
                let mut items = self.items();
                let i = items
                    .iter()
                    .position(|x| *x == v)
                    .ok_or_else(|| invalid("list.remove(x): x not in list"))?;
                items.remove(i);
                Ok(none)
            }
            "clear" => {
                let () = from_args(args)?;
                self.items().clear();
                Ok(none)
            }
            "reverse" => {
                let () = from_args(args)?;
                self.items().reverse();
                Ok(none)
            }
            "sort" => {
                let (kwargs,): (Kwargs,) = from_args(args)?;
                let reverse: Option<bool> = kwargs.get("reverse")?;
                kwargs.assert_all_used()?;
                let mut items = self.items();
                items.sort();
                if reverse.unwrap_or(false) {
                    items.reverse();
                }
                Ok(none)
            }
            "index" => {
                let (v,): (Value,) = from_args(args)?;
                self.items()
                    .iter()
                    .position(|x| *x == v)
                    .map(Value::from)
                    .ok_or_else(|| invalid("list.index(x): x not in list"))
            }
            "count" => {
                let (v,): (Value,) = from_args(args)?;
                Ok(Value::from(
                    self.items().iter().filter(|x| **x == v).count(),
                ))
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Value::from_object(PyList(Mutex::new(self.items().clone()))))
            }
            _ => {
                // Anything else as for any sequence.
                let plain = Value::from(self.items().clone());
                minijinja_contrib::pycompat::unknown_method_callback(state, &plain, method, args)
            }
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self.items().clone();
        f.write_str(&py_seq_repr(&items, '[', ']'))
    }
}

/// A dict literal: a mapping in insertion order with Python's dict
/// methods, the mutating ones included (`update`, `setdefault`, `pop`).
#[derive(Debug, Default)]
pub struct PyDict(Mutex<Vec<(Value, Value)>>);

impl PyDict {
    fn from_pairs(pairs: Vec<(Value, Value)>) -> PyDict {
        let mut d = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            insert(&mut d, k, v);
        }
        PyDict(Mutex::new(d))
    }

    fn from_value(map: &Value) -> Result<PyDict, Error> {
        let mut pairs = Vec::new();
        for k in map.try_iter()? {
            let v = map.get_item(&k)?;
            pairs.push((k, v));
        }
        Ok(PyDict::from_pairs(pairs))
    }

    fn pairs(&self) -> MutexGuard<'_, Vec<(Value, Value)>> {
        // A poisoned lock only means a panic elsewhere; the data is intact.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn insert(pairs: &mut Vec<(Value, Value)>, k: Value, v: Value) {
    match pairs.iter_mut().find(|(x, _)| *x == k) {
        Some(slot) => slot.1 = v,
        None => pairs.push((k, v)),
    }
}

/// `__maestro_py_dict((k, v), ...)`: the dict object a `{k: v, ...}`
/// literal becomes.
pub fn py_dict(pairs: minijinja::value::Rest<Value>) -> Result<Value, Error> {
    let mut kv = Vec::with_capacity(pairs.len());
    for p in pairs.iter() {
        let items: Vec<Value> = p.try_iter()?.collect();
        let [k, v]: [Value; 2] = items
            .try_into()
            .map_err(|_| invalid("a dict literal entry is not a pair"))?;
        kv.push((k, v));
    }
    Ok(Value::from_object(PyDict::from_pairs(kv)))
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.pairs()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.pairs().iter().map(|(k, _)| k.clone()).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.pairs().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let none = Value::from(());
        match method {
            "get" => {
                let (key, default): (&Value, Option<Value>) = from_args(args)?;
                Ok(self
                    .get_value(key)
                    .unwrap_or_else(|| default.unwrap_or(none)))
            }
            "keys" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(
                    self.pairs().iter().map(|(k, _)| k.clone()),
                ))
            }
            "values" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(
                    self.pairs().iter().map(|(_, v)| v.clone()),
                ))
            }
            "items" => {
                let () = from_args(args)?;
                Ok(Value::from_iter(self.pairs().iter().map(|(k, v)| {
                    Value::from(Tuple::from([k.clone(), v.clone()]))
                })))
            }
            "update" => {
                let (other, kwargs): (Option<Value>, Kwargs) = from_args(args)?;
                let mut new = Vec::new();
                if let Some(o) = other {
                    if o.kind() == ValueKind::Map {
                        for k in o.try_iter()? {
                            let v = o.get_item(&k)?;
                            new.push((k, v));
                        }
                    } else {
                        // An iterable of pairs.
                        for pair in o.try_iter()? {
                            let kv: Vec<Value> = pair.try_iter()?.collect();
                            let [k, v]: [Value; 2] = kv.try_into().map_err(|_| {
                                invalid("dictionary update sequence element has the wrong length")
                            })?;
                            new.push((k, v));
                        }
                    }
                }
                for k in kwargs.args() {
                    new.push((Value::from(k), kwargs.get::<Value>(k)?));
                }
                let mut pairs = self.pairs();
                for (k, v) in new {
                    insert(&mut pairs, k, v);
                }
                Ok(none)
            }
            "setdefault" => {
                let (key, default): (Value, Option<Value>) = from_args(args)?;
                let mut pairs = self.pairs();
                if let Some((_, v)) = pairs.iter().find(|(k, _)| *k == key) {
                    return Ok(v.clone());
                }
                let v = default.unwrap_or(none);
                pairs.push((key, v.clone()));
                Ok(v)
            }
            "pop" => {
                let (key, default): (Value, Option<Value>) = from_args(args)?;
                let mut pairs = self.pairs();
                match pairs.iter().position(|(k, _)| *k == key) {
                    Some(i) => Ok(pairs.remove(i).1),
                    None => default.ok_or_else(|| invalid("key not in dict")),
                }
            }
            "clear" => {
                let () = from_args(args)?;
                self.pairs().clear();
                Ok(none)
            }
            "copy" => {
                let () = from_args(args)?;
                Ok(Value::from_object(PyDict(Mutex::new(self.pairs().clone()))))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs = self.pairs().clone();
        f.write_str(&py_map_repr(&pairs))
    }
}

fn py_map_repr(pairs: &[(Value, Value)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}: {}", py_repr(k), py_repr(v));
    }
    s.push('}');
    s
}

/// `dict(mapping_or_pairs, **kwargs)`: a new dict, which the template may
/// change. Keyword arguments arrive sorted by name.
pub fn dict(state: &mut State, from: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let d = Arc::new(PyDict::default());
    let mut args: Vec<Value> = from.into_iter().collect();
    args.push(Value::from(kwargs));
    d.call_method(state, "update", &args)?;
    Ok(Value::from_dyn_object(d))
}

/// `__maestro_py_mod(a, b)`: what `a % b` is in Python. A string on the left
/// is printf-style formatted (a tuple gives the arguments, a mapping the
/// `%(name)s` values); numbers get Python's modulo, whose sign follows the
/// divisor.
pub fn py_mod(state: &State, a: Value, b: Value) -> Result<Value, Error> {
    strict_undefined(state, &a)?;
    strict_undefined(state, &b)?;
    modulo(a, b)
}

fn modulo(a: Value, b: Value) -> Result<Value, Error> {
    if let Some(fmt) = a.as_str() {
        // An undefined argument is formatted as its (empty) text, as Jinja2's
        // lenient Undefined is.
        if b.kind() == ValueKind::Map {
            // A mapping is formatted by `%(name)s`, or shown whole by `%s`;
            // unlike other arguments it may go unused.
            if fmt.contains("%(") {
                return format(FormatStyle::Printf, fmt, &[b]).map(Value::from);
            }
            return python_printf(fmt, vec![b.clone()])
                .or_else(|_| python_printf(fmt, vec![]))
                .and_then(|(f, a)| format(FormatStyle::Printf, &f, &a))
                .map(Value::from);
        }
        let args: Vec<Value> = match b.downcast_object_ref::<Tuple>() {
            Some(t) => t.iter().cloned().collect(),
            None => vec![b.clone()],
        };
        let (fmt, args) = python_printf(fmt, args)?;
        return format(FormatStyle::Printf, &fmt, &args).map(Value::from);
    }
    if a.is_undefined() || b.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "undefined value in `%`",
        ));
    }
    match (a.kind(), b.kind()) {
        (ValueKind::Number | ValueKind::Bool, ValueKind::Number | ValueKind::Bool) => {}
        _ => {
            return Err(invalid(format!(
                "unsupported operand types for %: {} and {}",
                a.kind(),
                b.kind()
            )));
        }
    }
    if a.is_integer() && b.is_integer() {
        let (x, y) = (int_of(&a)?, int_of(&b)?);
        if y == 0 {
            return Err(invalid("integer division or modulo by zero"));
        }
        // Overflows only for MIN % -1, which is 0.
        let r = x.checked_rem_euclid(y).unwrap_or(0);
        return Ok(Value::from(if y < 0 && r != 0 { r + y } else { r }));
    }
    let (x, y) = (float_of(&a)?, float_of(&b)?);
    if y == 0.0 {
        return Err(invalid("float modulo"));
    }
    let mut r = x % y;
    if r != 0.0 && ((r < 0.0) != (y < 0.0)) {
        r += y;
    }
    Ok(Value::from(r))
}

/// Adapts positional printf arguments to what Python does with them:
/// `%s` is `str()`, `%r` is `repr()`, `%d`/`%i`/`%u` truncate a float and
/// take a boolean as 0/1, a `*` width or precision is taken from the
/// arguments; arguments left over are an error. Returns the format string
/// (with `%r`/`%a` made `%s`, `*` replaced by its number) and the
/// arguments the directives use.
fn python_printf(fmt: &str, args: Vec<Value>) -> Result<(String, Vec<Value>), Error> {
    let mut out = String::with_capacity(fmt.len());
    let mut given = args.into_iter();
    let mut used = Vec::new();
    let mut chars = fmt.chars().peekable();
    let not_enough = || invalid("not enough arguments for format string");
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            out.push('%');
            chars.next();
            continue;
        }
        // flags, width, precision, length modifier
        while let Some(&f) = chars.peek() {
            if "#0- +.hlL".contains(f) || f.is_ascii_digit() {
                out.push(f);
            } else if f == '*' {
                let n = given.next().ok_or_else(not_enough)?;
                let n = n.as_i64().ok_or_else(|| invalid("* wants int"))?;
                if n < 0 && !out.ends_with('.') {
                    out.push('-');
                }
                let _ = write!(out, "{}", n.unsigned_abs());
            } else {
                break;
            }
            chars.next();
        }
        let Some(conv) = chars.next() else { break };
        let mut arg = given.next().ok_or_else(not_enough)?;
        let conv = match conv {
            'r' | 'a' => {
                arg = Value::from(py_repr(&arg));
                's'
            }
            's' if arg.kind() != ValueKind::String => {
                arg = Value::from(py_str(&arg));
                's'
            }
            'd' | 'i' | 'u' if arg.kind() == ValueKind::Bool => {
                arg = Value::from(i64::from(arg.is_true()));
                conv
            }
            'd' | 'i' | 'u' if arg.is_number() && !arg.is_integer() => {
                if let Ok(f) = f64::try_from(arg.clone())
                    && f.is_finite()
                {
                    arg = Value::from(f.trunc() as i64);
                }
                conv
            }
            c => c,
        };
        out.push(conv);
        used.push(arg);
    }
    if given.next().is_some() {
        return Err(invalid(
            "not all arguments converted during string formatting",
        ));
    }
    Ok((out, used))
}

fn int_of(v: &Value) -> Result<i128, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(i128::from(v.is_true()));
    }
    i128::try_from(v.clone()).map_err(|_| invalid("integer out of range for `%`"))
}

fn float_of(v: &Value) -> Result<f64, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(if v.is_true() { 1.0 } else { 0.0 });
    }
    f64::try_from(v.clone()).map_err(|_| invalid("not a number in `%`"))
}

/// Adapts `str.format` to what Python does: a field with no format spec is
/// its argument's `str()` (`!s`), `!r`/`!a` its `repr()`. Each such field
/// is given its converted value as a keyword argument of its own
/// (`{maestro_field_N:spec}`), so one argument can be shown two ways;
/// fields that index or take an attribute of their argument (`{0[1]}`,
/// `{0.x}`) are left to minijinja with explicit positions.
fn python_str_format(fmt: &str, args: &[Value]) -> Result<(String, Vec<Value>), Error> {
    let positional: Vec<Value> = args.iter().filter(|a| !a.is_kwargs()).cloned().collect();
    let kwargs: Option<Kwargs> = match args.iter().find(|a| a.is_kwargs()) {
        Some(k) => Some(Kwargs::try_from(k.clone())?),
        None => None,
    };
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut out = String::with_capacity(fmt.len());
    let mut auto = 0usize;
    let mut rest = fmt;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        rest = &rest[i..];
        if rest.len() > 1 && rest.as_bytes()[1] == c {
            out.push_str(&rest[..2]);
            rest = &rest[2..];
            continue;
        }
        let Some(close) = rest.find('}').filter(|_| c == b'{') else {
            // A lone brace: minijinja reports it.
            out.push_str(&rest[..1]);
            rest = &rest[1..];
            continue;
        };
        let field = &rest[1..close];
        rest = &rest[close + 1..];
        let (head, spec) = match field.find(':') {
            Some(j) => (&field[..j], &field[j..]),
            None => (field, ""),
        };
        let (name, conv) = match head.rfind('!') {
            Some(j) => (&head[..j], Some(&head[j + 1..])),
            None => (head, None),
        };
        let split = name.find(['.', '[']).unwrap_or(name.len());
        let (base, accessor) = name.split_at(split);
        let base = if base.is_empty() {
            auto += 1;
            (auto - 1).to_string()
        } else {
            base.to_string()
        };
        if !accessor.is_empty() {
            let _ = write!(out, "{{{base}{accessor}{spec}}}");
            continue;
        }
        let value = match base.parse::<usize>() {
            Ok(n) => positional
                .get(n)
                .cloned()
                .ok_or_else(|| invalid("Replacement index out of range"))?,
            Err(_) => match &kwargs {
                Some(k) if k.has(&base) => k.get::<Value>(&base)?,
                _ => return Err(invalid(format!("missing format argument {base:?}"))),
            },
        };
        let value = match conv {
            Some("r" | "a") => Value::from(py_repr(&value)),
            Some("s") => Value::from(py_str(&value)),
            None if spec.is_empty() && value.kind() != ValueKind::String => {
                Value::from(py_str(&value))
            }
            None => value,
            Some(other) => {
                return Err(invalid(format!("unknown conversion specifier {other}")));
            }
        };
        let key = format!("maestro_field_{}", fields.len());
        let _ = write!(out, "{{{key}{spec}}}");
        fields.push((key, value));
    }
    out.push_str(rest);
    let mut named: Vec<(String, Value)> = Vec::new();
    if let Some(k) = &kwargs {
        for n in k.args() {
            named.push((n.to_string(), k.get::<Value>(n)?));
        }
    }
    named.extend(fields);
    let mut all = positional;
    if !named.is_empty() {
        all.push(Value::from(named.into_iter().collect::<Kwargs>()));
    }
    Ok((out, all))
}

/// Methods this module adds on plain values; the rest go to
/// minijinja-contrib's `pycompat`.
pub fn unknown_method(
    state: &mut State<'_, '_>,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    if let Some(s) = value.as_str() {
        if let Some(v) = string_method(s, method, args)? {
            return Ok(v);
        }
        if method == "format" {
            for a in args {
                strict_undefined(state, a)?;
            }
            let (fmt, args) = python_str_format(s, args)?;
            return format(FormatStyle::StrFormat, &fmt, &args).map(Value::from);
        }
        if matches!(method, "split" | "splitlines") {
            // Python returns a new list, which the template may change.
            let parts =
                minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)?;
            return py_list(parts);
        }
    }
    if value.kind() == ValueKind::Seq && method == "index" {
        let (v,): (Value,) = from_args(args)?;
        return value
            .try_iter()?
            .position(|x| x == v)
            .map(Value::from)
            .ok_or_else(|| invalid("x not in sequence"));
    }
    if value.kind() == ValueKind::Map && method == "copy" {
        let () = from_args(args)?;
        return Ok(Value::from_object(PyDict::from_value(value)?));
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    let v = match method {
        "center" | "ljust" | "rjust" => {
            let (width, fill): (usize, Option<&str>) = from_args(args)?;
            let fill = match fill.map(|f| {
                let mut c = f.chars();
                (c.next(), c.next())
            }) {
                None => ' ',
                Some((Some(c), None)) => c,
                Some(_) => {
                    return Err(invalid(
                        "The fill character must be exactly one character long",
                    ));
                }
            };
            Value::from(pad(s, width, fill, method))
        }
        "zfill" => {
            let (width,): (usize,) = from_args(args)?;
            Value::from(zfill(s, width))
        }
        "rsplit" => {
            let (sep, maxsplit): (Option<&str>, Option<i64>) = from_args(args)?;
            rsplit(s, sep, maxsplit)?
        }
        "partition" | "rpartition" => {
            let (sep,): (&str,) = from_args(args)?;
            if sep.is_empty() {
                return Err(invalid("empty separator"));
            }
            let found = if method == "partition" {
                s.find(sep)
            } else {
                s.rfind(sep)
            };
            let parts = match found {
                Some(i) => [&s[..i], sep, &s[i + sep.len()..]],
                None if method == "partition" => [s, "", ""],
                None => ["", "", s],
            };
            Value::from(Tuple::from(parts.map(Value::from)))
        }
        "removeprefix" => {
            let (p,): (&str,) = from_args(args)?;
            Value::from(s.strip_prefix(p).unwrap_or(s))
        }
        "removesuffix" => {
            let (p,): (&str,) = from_args(args)?;
            Value::from(s.strip_suffix(p).unwrap_or(s))
        }
        "index" | "rindex" => {
            let (what,): (&str,) = from_args(args)?;
            let found = if method == "index" {
                s.find(what)
            } else {
                s.rfind(what)
            };
            match found {
                Some(i) => Value::from(s[..i].chars().count()),
                None => return Err(invalid("substring not found")),
            }
        }
        "swapcase" => {
            let () = from_args(args)?;
            Value::from(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect::<Vec<_>>()
                        }
                    })
                    .collect::<String>(),
            )
        }
        "title" => {
            let () = from_args(args)?;
            Value::from(title(s))
        }
        "istitle" => {
            let () = from_args(args)?;
            Value::from(istitle(s))
        }
        "casefold" => {
            let () = from_args(args)?;
            Value::from(s.to_lowercase())
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// Python's `str.zfill`: zeros after the sign up to `width` characters.
fn zfill(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let (sign, rest) = match s.chars().next() {
        Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
        _ => (String::new(), s),
    };
    format!("{sign}{}{rest}", "0".repeat(width - len))
}

/// Python's `str.rsplit(sep, maxsplit)`, as a mutable list.
fn rsplit(s: &str, sep: Option<&str>, maxsplit: Option<i64>) -> Result<Value, Error> {
    let max = maxsplit.filter(|m| *m >= 0).map(|m| m as usize);
    let mut parts: Vec<Value> = match sep {
        Some("") => return Err(invalid("empty separator")),
        Some(sep) => match max {
            Some(m) => s.rsplitn(m + 1, sep).map(Value::from).collect(),
            None => s.rsplit(sep).map(Value::from).collect(),
        },
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            match max {
                Some(m) if m < words.len() => {
                    // Split off the last m words; the head keeps its inner
                    // whitespace, as in Python.
                    let mut out: Vec<Value> = Vec::new();
                    let mut rest = s.trim_end();
                    for _ in 0..m {
                        let cut = rest.rfind(char::is_whitespace).map_or(0, |i| i);
                        let word = rest[cut..].trim_start();
                        out.push(Value::from(word));
                        rest = rest[..cut].trim_end();
                    }
                    out.push(Value::from(rest));
                    out
                }
                _ => words.into_iter().rev().map(Value::from).collect(),
            }
        }
    };
    parts.reverse();
    Ok(Value::from_object(PyList(Mutex::new(parts))))
}

/// Python's `str.title`: a cased character after an uncased one starts a
/// word (so "it's" becomes "It'S").
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        let cased = c.is_lowercase() || c.is_uppercase();
        if cased && !prev_cased {
            out.extend(c.to_uppercase());
        } else if cased {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_cased = cased;
    }
    out
}

/// Python's `str.istitle`.
fn istitle(s: &str) -> bool {
    let mut prev_cased = false;
    let mut any = false;
    let mut ok = true;
    for c in s.chars() {
        if c.is_uppercase() {
            ok &= !prev_cased;
            prev_cased = true;
            any = true;
        } else if c.is_lowercase() {
            ok &= prev_cased;
            prev_cased = true;
            any = true;
        } else {
            prev_cased = false;
        }
    }
    ok && any
}

/// Python's `str.center/ljust/rjust`, including where `center` puts the odd
/// padding character.
fn pad(s: &str, width: usize, fill: char, how: &str) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let marg = width - len;
    let left = match how {
        "ljust" => 0,
        "rjust" => marg,
        _ => marg / 2 + (marg & width & 1),
    };
    let fill_str = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    format!("{}{s}{}", fill_str(left), fill_str(marg - left))
}

/// The `center` filter (`value.center(width)`, width 80 by default).
pub fn center(value: Value, width: Option<usize>) -> String {
    pad(&py_str(&value), width.unwrap_or(80), ' ', "center")
}

/// Jinja2's `truncate(s, length=255, killwords=False, end='...',
/// leeway=5)`, by position or by name (minijinja-contrib's takes names
/// only); `leeway` by name only (the engine passes at most five arguments).
pub fn truncate(
    value: Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let length = match length {
        Some(l) => l,
        None => kwargs.get::<Option<usize>>("length")?.unwrap_or(255),
    };
    let killwords = match killwords {
        Some(k) => k,
        None => kwargs.get::<Option<bool>>("killwords")?.unwrap_or(false),
    };
    let end = match end {
        Some(e) => e,
        None => kwargs
            .get::<Option<String>>("end")?
            .unwrap_or_else(|| "...".into()),
    };
    let leeway = kwargs.get::<Option<usize>>("leeway")?.unwrap_or(5);
    kwargs.assert_all_used()?;
    let s = py_str(&value);
    let end_len = end.chars().count();
    if length < end_len {
        return Err(invalid(format!(
            "expected length >= {end_len}, got {length}"
        )));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length + leeway {
        return Ok(Value::from(s));
    }
    let head = &chars[..length - end_len];
    let head: String = if killwords {
        head.iter().collect()
    } else {
        // `s[:n].rsplit(' ', 1)[0]`
        match head.iter().rposition(|c| *c == ' ') {
            Some(i) => head[..i].iter().collect(),
            None => head.iter().collect(),
        }
    };
    Ok(Value::from(head + &end))
}

/// `wordcount` of any value, counted on its text as Jinja2 does.
pub fn wordcount(value: Value) -> Result<Value, Error> {
    minijinja_contrib::filters::wordcount(&Value::from(py_str(&value)))
}

/// Jinja2's `tojson`: `json.dumps(value, sort_keys=True, indent=indent)`
/// (ASCII only, `, ` and `: ` separators) with `<`, `>`, `&` and `'`
/// escaped for HTML.
pub fn tojson(value: Value, indent: Option<usize>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = match indent {
        Some(i) => Some(i),
        None => kwargs.get::<Option<usize>>("indent")?,
    };
    kwargs.assert_all_used()?;
    let mut out = String::new();
    write_json(&mut out, &value, indent, 0)?;
    Ok(Value::from(out))
}

fn write_json(
    out: &mut String,
    v: &Value,
    indent: Option<usize>,
    depth: usize,
) -> Result<(), Error> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * depth));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                let f = f64::try_from(v.clone()).map_err(|_| invalid("not a number"))?;
                out.push_str(&match f {
                    f if f.is_nan() => "NaN".to_string(),
                    f if f.is_infinite() && f > 0.0 => "Infinity".to_string(),
                    f if f.is_infinite() => "-Infinity".to_string(),
                    f => py_float(f),
                });
            }
        }
        ValueKind::String => json_str(out, v.as_str().unwrap_or_default()),
        ValueKind::Map => {
            let mut pairs: Vec<(String, Value)> = Vec::new();
            for k in v.try_iter()? {
                let key = match k.kind() {
                    ValueKind::String => k.as_str().unwrap_or_default().to_string(),
                    ValueKind::Number | ValueKind::Bool | ValueKind::None => {
                        let mut s = String::new();
                        write_json(&mut s, &k, None, 0)?;
                        s
                    }
                    _ => return Err(invalid("keys must be str, int, float, bool or None")),
                };
                let val = v.get_item(&k)?;
                pairs.push((key, val));
            }
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, val)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                json_str(out, k);
                out.push_str(": ");
                write_json(out, val, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push('}');
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                write_json(out, item, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
        _ => {
            return Err(invalid(format!(
                "Object of type {} is not JSON serializable",
                v.kind()
            )));
        }
    }
    Ok(())
}

/// A JSON string as Python's `json.dumps` writes it (non-ASCII as `\uXXXX`),
/// with Jinja2's HTML-safe escapes.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\'' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Jinja2's `wordwrap(s, width=79, break_long_words=True, wrapstring=None,
/// break_on_hyphens=True)` by position or name, on minijinja-contrib's
/// (which takes names only).
pub fn wordwrap(
    value: Value,
    width: Option<usize>,
    break_long_words: Option<bool>,
    wrapstring: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let mut named: Vec<(&str, Value)> = Vec::new();
    for (name, given) in [
        ("width", width.map(Value::from)),
        ("break_long_words", break_long_words.map(Value::from)),
        ("wrapstring", wrapstring.map(Value::from)),
    ] {
        if let Some(v) = given {
            named.push((name, v));
        }
    }
    for k in kwargs.args() {
        named.push((k, kwargs.get::<Value>(k)?));
    }
    minijinja_contrib::filters::wordwrap(&Value::from(py_str(&value)), named.into_iter().collect())
}

/// HTML escaping as Jinja2 (MarkupSafe) does it: `& < > " '`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `escape`/`e`/`forceescape`: the value's text, HTML-escaped.
pub fn escape(value: Value) -> String {
    html_escape(&py_str(&value))
}

/// Jinja2's `urlencode`: a string is percent-encoded keeping `/`; a
/// mapping or a sequence of pairs becomes a query string.
pub fn urlencode(value: Value) -> Result<String, Error> {
    fn quote(s: &str, query: bool) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                    out.push(b as char)
                }
                b'/' if !query => out.push('/'),
                b' ' if query => out.push('+'),
                b => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
        out
    }
    let pairs: Vec<(Value, Value)> = match value.kind() {
        ValueKind::String | ValueKind::Number | ValueKind::Bool | ValueKind::None => {
            return Ok(quote(&py_str(&value), false));
        }
        ValueKind::Map => value
            .try_iter()?
            .map(|k| {
                let v = value.get_item(&k).unwrap_or_default();
                (k, v)
            })
            .collect(),
        _ => value
            .try_iter()?
            .map(|pair| {
                let kv: Vec<Value> = pair.try_iter()?.collect();
                let [k, v]: [Value; 2] = kv
                    .try_into()
                    .map_err(|_| invalid("urlencode expects pairs"))?;
                Ok((k, v))
            })
            .collect::<Result<_, Error>>()?,
    };
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote(&py_str(k), true), quote(&py_str(v), true)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// Jinja2's `xmlattr`: ` key="value"` pairs of a mapping, escaped, none
/// and undefined values left out.
pub fn xmlattr(value: Value, autospace: Option<bool>) -> Result<String, Error> {
    let mut items = Vec::new();
    for k in value.try_iter()? {
        let v = value.get_item(&k)?;
        if v.is_none() || v.is_undefined() {
            continue;
        }
        let key = py_str(&k);
        if key.is_empty() || key.contains([' ', '/', '>', '=', '\t', '\n']) {
            return Err(invalid(format!(
                "Invalid character in attribute name: {key:?}"
            )));
        }
        items.push(format!("{}=\"{}\"", html_escape(&key), escape(v)));
    }
    let s = items.join(" ");
    Ok(if autospace.unwrap_or(true) && !s.is_empty() {
        format!(" {s}")
    } else {
        s
    })
}

fn strict_undefined(state: &State, v: &Value) -> Result<(), Error> {
    if v.is_undefined() && state.undefined_behavior() == minijinja::UndefinedBehavior::Strict {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(())
}

/// `__maestro_py_concat(a, b)`: `a ~ b`, each side as Python's `str()`.
pub fn py_concat(state: &State, a: Value, b: Value) -> Result<Value, Error> {
    strict_undefined(state, &a)?;
    strict_undefined(state, &b)?;
    Ok(Value::from(py_str(&a) + &py_str(&b)))
}

/// The `list` filter: a new list, which the template may change.
pub fn list(state: &State, value: Value) -> Result<Value, Error> {
    strict_undefined(state, &value)?;
    if value.is_undefined() {
        return py_list(Value::from(Vec::<Value>::new()));
    }
    if let Some(s) = value.as_str() {
        return py_list(Value::from_iter(s.chars().map(Value::from)));
    }
    py_list(value)
}

/// The `sort` filter: a new list, which the template may change.
pub fn sort(state: &State, value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    py_list(minijinja::filters::sort(state, value, kwargs)?)
}

/// The `string` filter: Python's `str()`.
pub fn string(state: &State, value: Value) -> Result<Value, Error> {
    strict_undefined(state, &value)?;
    if value.kind() == ValueKind::String {
        return Ok(value);
    }
    Ok(Value::from(py_str(&value)))
}

/// Jinja2's `join(d='', attribute=None)`: items as Python's `str()`.
pub fn join(
    state: &mut State,
    value: Value,
    sep: Option<String>,
    attribute: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    strict_undefined(state, &value)?;
    let attribute = match attribute {
        Some(a) => Some(a),
        None => kwargs.get::<Option<Value>>("attribute")?,
    };
    let sep = match sep {
        Some(s) => s,
        None => kwargs.get::<Option<String>>("d")?.unwrap_or_default(),
    };
    kwargs.assert_all_used()?;
    if value.is_undefined() || value.is_none() {
        return Ok(Value::from(""));
    }
    if let Some(text) = value.as_str() {
        // A string joins its characters.
        let chars: Vec<String> = text.chars().map(String::from).collect();
        return Ok(Value::from(chars.join(&sep)));
    }
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        strict_undefined(state, &item)?;
        let item = match &attribute {
            Some(path) => attribute_of(&item, path)?,
            None => item,
        };
        parts.push(py_str(&item));
    }
    Ok(Value::from(parts.join(&sep)))
}

/// `attribute=` of Jinja2's filters: a dotted path, numbers index.
fn attribute_of(item: &Value, path: &Value) -> Result<Value, Error> {
    if let Some(p) = path.as_str() {
        let mut v = item.clone();
        for part in p.split('.') {
            v = match part.parse::<i64>() {
                Ok(n) => v.get_item(&Value::from(n))?,
                Err(_) => v.get_attr(part)?,
            };
        }
        Ok(v)
    } else {
        item.get_item(path)
    }
}

/// Jinja2's `cycler(*items)`.
pub fn cycler(items: minijinja::value::Rest<Value>) -> Result<Value, Error> {
    minijinja_contrib::globals::cycler(items.0)
}

/// Writes `{{ value }}` as Jinja2 does: Python's `str()` of the value.
pub fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    match value.kind() {
        ValueKind::Undefined | ValueKind::String => escape_formatter(out, state, value),
        _ => out
            .write_str(&py_str(value))
            .map_err(|e| invalid(format!("cannot write output: {e}"))),
    }
}

/// Python's `str()` of a value.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        _ => py_repr(v),
    }
}

/// Python's `repr()` of a value.
pub fn py_repr(v: &Value) -> String {
    match v.kind() {
        ValueKind::Undefined => String::new(),
        ValueKind::None => "None".into(),
        ValueKind::Bool => if v.is_true() { "True" } else { "False" }.into(),
        ValueKind::Number => {
            if v.is_integer() {
                v.to_string()
            } else {
                f64::try_from(v.clone()).map_or_else(|_| v.to_string(), py_float)
            }
        }
        ValueKind::String => py_str_repr(v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            if v.downcast_object_ref::<PyList>().is_some() {
                return v.to_string();
            }
            let items: Vec<Value> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
            if v.downcast_object_ref::<Tuple>().is_some() {
                if items.len() == 1 {
                    return format!("({},)", py_repr(&items[0]));
                }
                return py_seq_repr(&items, '(', ')');
            }
            py_seq_repr(&items, '[', ']')
        }
        ValueKind::Map => {
            if v.downcast_object_ref::<Environ>().is_some()
                || v.downcast_object_ref::<PyDict>().is_some()
            {
                return v.to_string();
            }
            let pairs: Vec<(Value, Value)> = v
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let val = v.get_item(&k).unwrap_or_default();
                        (k, val)
                    })
                    .collect()
                })
                .unwrap_or_default();
            py_map_repr(&pairs)
        }
        _ => v.to_string(),
    }
}

fn py_seq_repr(items: &[Value], open: char, close: char) -> String {
    let mut s = String::new();
    s.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&py_repr(item));
    }
    s.push(close);
    s
}

/// Python's `repr()` of a string: single quotes unless the text has one
/// and no double quote.
fn py_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `repr()` of a float: the shortest digits that read back,
/// in exponent form below 1e-4 and from 1e16 on.
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        for (f, s) in [
            (0.5, "0.5"),
            (5.0, "5.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (123456.789, "123456.789"),
            (-0.0001, "-0.0001"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(py_float(f), s);
        }
    }

    #[test]
    fn modulo_follows_python() {
        let m = |a: Value, b: Value| modulo(a, b).unwrap().to_string();
        assert_eq!(m(Value::from(-7), Value::from(3)), "2");
        assert_eq!(m(Value::from(7), Value::from(-3)), "-2");
        assert_eq!(m(Value::from(7), Value::from(3)), "1");
        assert_eq!(m(Value::from(-7.5), Value::from(2)), "0.5");
        assert_eq!(m(Value::from("%03d"), Value::from(7)), "007");
        assert!(modulo(Value::from(1), Value::from(0)).is_err());
        assert_eq!(m(Value::from(i128::MIN), Value::from(-1)), "0");
    }

    #[test]
    fn center_puts_the_odd_character_as_python_does() {
        assert_eq!(pad("ab", 5, '*', "center"), "**ab*");
        assert_eq!(pad("abc", 6, '*', "center"), "*abc**");
        assert_eq!(pad("a", 4, '-', "center"), "-a--");
    }

    #[test]
    fn string_reprs_pick_quotes_as_python_does() {
        assert_eq!(py_str_repr("a"), "'a'");
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("'\"\n"), "'\\'\"\\n'");
    }
}
