//! `normalize` against Python 3 itself: MaestroNG's
//! `re.sub(r'[^\w]', '_', name).upper()` over every code point (each in a
//! name of its own, and all of them in long names), which covers every
//! general category. Surrogates (Cs) cannot occur in a Rust string (names
//! come from UTF-8 text), so they are the one category left out.
//!
//! Needs `python3` with the Unicode version the table was generated from
//! (`scripts/gen-word-table`); a different one fails with that advice.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use maestro_common::{UNICODE_VERSION, normalize};

/// Reads code points (hex, one a line) on stdin; prints the Unicode
/// version, the general categories seen with their counts, then, for each
/// code point whose result is not `_`, `hex<TAB>result as hex code points`.
const DRIVER: &str = r#"
import re, sys, unicodedata, collections
print(unicodedata.unidata_version)
cps = [int(l, 16) for l in sys.stdin.read().split()]
cats = collections.Counter(unicodedata.category(chr(c)) for c in cps)
print(" ".join("%s=%d" % kv for kv in sorted(cats.items())))
for c in cps:
    out = re.sub(r'[^\w]', '_', chr(c)).upper()
    if out != "_":
        print("%x\t%s" % (c, " ".join("%x" % ord(o) for o in out)))
# Whole names: the code points in runs of 64, joined, as one name each.
for i in range(0, len(cps), 64):
    name = "".join(chr(c) for c in cps[i:i + 64])
    print("name\t%x\t%s" % (i, re.sub(r'[^\w]', '_', name).upper().encode().hex()))
"#;

fn code_points() -> Vec<char> {
    (0..=0x10ffff).filter_map(char::from_u32).collect()
}

#[test]
fn normalize_matches_python_on_every_code_point() {
    let cps = code_points();
    let mut child = Command::new("python3")
        .args(["-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed to compare with MaestroNG's normalisation");
    {
        let mut stdin = child.stdin.take().unwrap();
        let mut input = String::with_capacity(cps.len() * 6);
        for c in &cps {
            input.push_str(&format!("{:x}\n", u32::from(*c)));
        }
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python3 failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let version = lines.next().unwrap();
    assert_eq!(
        version, UNICODE_VERSION,
        "python3 has Unicode {version}, the table {UNICODE_VERSION}: regenerate it with \
         `python3 scripts/gen-word-table > common/src/word_table.rs`"
    );
    let cats: BTreeMap<&str, usize> = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k, v.parse().unwrap())
        })
        .collect();
    // Every general category but Cs (surrogates) is in the list.
    let all = [
        "Cc", "Cf", "Cn", "Co", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me", "Mn", "Nd", "Nl", "No",
        "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc", "Sk", "Sm", "So", "Zl", "Zp", "Zs",
    ];
    assert_eq!(cats.keys().copied().collect::<Vec<_>>(), all);

    let mut kept: BTreeMap<u32, String> = BTreeMap::new();
    let mut names = 0;
    let mut mismatches = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["name", start, hex] => {
                let start = usize::from_str_radix(start, 16).unwrap();
                let name: String = cps[start..(start + 64).min(cps.len())].iter().collect();
                let want = decode_hex(hex);
                if normalize(&name) != want && mismatches.len() < 20 {
                    mismatches.push(format!("name from U+{start:04X}"));
                }
                names += 1;
            }
            [cp, out] => {
                let out: String = out
                    .split(' ')
                    .map(|h| char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap())
                    .collect();
                kept.insert(u32::from_str_radix(cp, 16).unwrap(), out);
            }
            _ => panic!("bad driver line {line:?}"),
        }
    }
    assert_eq!(names, cps.len().div_ceil(64));
    // Python keeps letters and numerics of every script: well over 100,000.
    assert!(kept.len() > 100_000, "{}", kept.len());
    for c in &cps {
        let want = kept.get(&u32::from(*c)).map_or("_", String::as_str);
        let got = normalize(&c.to_string());
        if got != want && mismatches.len() < 20 {
            mismatches.push(format!(
                "U+{:04X}: maestro {got:?}, Python {want:?}",
                u32::from(*c)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

fn decode_hex(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}
