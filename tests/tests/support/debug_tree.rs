//! Field-by-field agreement between what Kafka's Java classes read and what we read, without a
//! serializer on our side: Java's reading is its generated `*JsonConverter`'s tree; ours is the
//! derived `Debug` text of the decoded value, parsed back into a tree here. The two trees are
//! walked together:
//!
//! - objects: every key of Java's object (camelCase) must name one of our fields (snake_case;
//!   names compared lower-cased without underscores) with an agreeing value. Our extra fields
//!   are allowed only because the JsonConverter leaves out tagged fields that hold their
//!   default; `unknown_tagged_fields` is ours alone (Java's JSON has no raw tags).
//! - `Some(x)` is `x`, `None` is `null`; enum wrappers (`Metadata(V12(..))`) are their content.
//! - numbers compare exactly as integers, as floats within two units in the last place (what
//!   serde_json's float parsing may lose; NaN equal to NaN); strings exactly;
//!   our bytes (`b"..."`) against Java's base64; our `Uuid(..)` against Java's base64 UUID text;
//!   `Records(n bytes)` against anything but null (Java's JSON leaves record bytes out; the
//!   byte-level checks cover them).

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value as Json;

/// Values (leaves and nulls) found equal on both sides so far, in this test binary.
pub static COMPARED: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, PartialEq)]
enum Tree {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Bytes(Vec<u8>),
    Uuid(String),
    RecordsLen(usize),
    List(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.at < self.s.len() && (self.s[self.at] == b' ' || self.s[self.at] == b'\n') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected {:?} at {} in {}", c as char, self.at, String::from_utf8_lossy(self.s)))
        }
    }

    fn ident(&mut self) -> String {
        self.ws();
        let start = self.at;
        while self.at < self.s.len() && (self.s[self.at].is_ascii_alphanumeric() || b"_#.-+".contains(&self.s[self.at]))
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    /// A Rust string or byte-string literal body after its opening quote.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.at).ok_or("unterminated string")?;
            self.at += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = self.s[self.at];
                    self.at += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'0' => out.push(0),
                        b'\\' | b'"' | b'\'' => out.push(e),
                        b'x' => {
                            let h = std::str::from_utf8(&self.s[self.at..self.at + 2]).unwrap();
                            out.push(u8::from_str_radix(h, 16).map_err(|e| e.to_string())?);
                            self.at += 2;
                        }
                        b'u' => {
                            // \u{XXXX}
                            let end = self.s[self.at..].iter().position(|&b| b == b'}').ok_or("bad \\u")? + self.at;
                            let h = std::str::from_utf8(&self.s[self.at + 1..end]).unwrap();
                            let ch = char::from_u32(u32::from_str_radix(h, 16).map_err(|e| e.to_string())?)
                                .ok_or("bad char")?;
                            let mut buf = [0; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            self.at = end + 1;
                        }
                        _ => return Err(format!("unknown escape \\{}", e as char)),
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn value(&mut self) -> Result<Tree, String> {
        self.ws();
        match self.s.get(self.at) {
            Some(b'"') => {
                self.at += 1;
                let b = self.quoted()?;
                Ok(Tree::Str(String::from_utf8(b).map_err(|e| e.to_string())?))
            }
            Some(b'b') if self.s.get(self.at + 1) == Some(&b'"') => {
                self.at += 2;
                Ok(Tree::Bytes(self.quoted()?))
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value()?);
                    self.eat(b',');
                }
                Ok(Tree::List(items))
            }
            Some(_) => {
                let id = self.ident();
                if id.is_empty() {
                    return Err(format!("unexpected {:?} at {}", self.s[self.at] as char, self.at));
                }
                match id.as_str() {
                    "None" => return Ok(Tree::Null),
                    "true" => return Ok(Tree::Bool(true)),
                    "false" => return Ok(Tree::Bool(false)),
                    "Uuid" => {
                        self.expect(b'(')?;
                        let s = self.ident();
                        self.expect(b')')?;
                        return Ok(Tree::Uuid(s));
                    }
                    // `ErrorCode(NOT_LEADER_OR_FOLLOWER)` or `ErrorCode(-3876)`: the code.
                    "ErrorCode" => {
                        self.expect(b'(')?;
                        let s = self.ident();
                        self.expect(b')')?;
                        let known = kafka_wire::ErrorCode::ALL.iter().find(|e| e.name() == Some(s.as_str()));
                        return Ok(Tree::Num(known.map_or(s, |e| e.code().to_string())));
                    }
                    "Records" => {
                        self.expect(b'(')?;
                        let n = self.ident().parse().map_err(|_| "bad records length")?;
                        let _ = self.ident(); // "bytes"
                        self.expect(b')')?;
                        return Ok(Tree::RecordsLen(n));
                    }
                    _ => {}
                }
                if id.starts_with(|c: char| c.is_ascii_digit() || c == '-') || id == "NaN" || id == "inf" {
                    return Ok(Tree::Num(id));
                }
                if self.eat(b'{') {
                    let mut fields = Vec::new();
                    while !self.eat(b'}') {
                        let name = self.ident();
                        self.expect(b':')?;
                        let v = self.value()?;
                        fields.push((name, v));
                        self.eat(b',');
                    }
                    return Ok(Tree::Obj(fields));
                }
                if self.eat(b'(') {
                    let mut items = Vec::new();
                    while !self.eat(b')') {
                        items.push(self.value()?);
                        self.eat(b',');
                    }
                    // `Some(x)`, enum wrappers and newtypes are their content.
                    return match items.len() {
                        1 => Ok(items.pop().unwrap()),
                        _ => Ok(Tree::List(items)),
                    };
                }
                // A struct without fields.
                Ok(Tree::Obj(Vec::new()))
            }
            None => Err("unexpected end".into()),
        }
    }
}

fn parse_debug(s: &str) -> Result<Tree, String> {
    let mut p = Parser { s: s.as_bytes(), at: 0 };
    let t = p.value()?;
    p.ws();
    if p.at != s.len() {
        return Err(format!("trailing text at {}", p.at));
    }
    Ok(t)
}

fn norm(name: &str) -> String {
    name.trim_start_matches("r#").replace('_', "").to_lowercase()
}

fn base64(s: &str, url: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn numbers_agree(java: &serde_json::Number, ours: &str) -> bool {
    if let (Some(j), Ok(o)) = (java.as_i64(), ours.parse::<i64>()) {
        return j == o;
    }
    if let (Some(j), Ok(o)) = (java.as_u64(), ours.parse::<u64>()) {
        return j == o;
    }
    let o: f64 = match ours {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => match s.parse() {
            Ok(f) => f,
            Err(_) => return false,
        },
    };
    // serde_json's float parsing (without its `float_roundtrip` feature) may be one or two units
    // in the last place off the correctly rounded value that Java's shortest text stands for.
    java.as_f64().is_some_and(|j| {
        j == o || (j.is_nan() && o.is_nan()) || (j.is_finite() && (j.to_bits() as i64 - o.to_bits() as i64).abs() <= 2)
    })
}

fn walk(java: &Json, ours: &Tree, path: &str) -> Result<(), String> {
    let bad = || Err(format!("at {path}: Java {java} against ours {ours:?}"));
    if !matches!(java, Json::Array(_) | Json::Object(_)) {
        COMPARED.fetch_add(1, Ordering::Relaxed);
    }
    match (java, ours) {
        (Json::Null, Tree::Null) => Ok(()),
        (Json::Bool(j), Tree::Bool(o)) if j == o => Ok(()),
        (Json::Number(j), Tree::Num(o)) if numbers_agree(j, o) => Ok(()),
        // Jackson writes NaN and infinities as strings.
        (Json::String(j), Tree::Num(o))
            if (j == "NaN" && o == "NaN") || (j == "Infinity" && o == "inf") || (j == "-Infinity" && o == "-inf") =>
        {
            Ok(())
        }
        (Json::String(j), Tree::Str(o)) if j == o => Ok(()),
        (Json::String(j), Tree::Uuid(o)) if j == o => Ok(()),
        (Json::String(j), Tree::Bytes(o)) if base64(j, false).as_deref() == Some(&o[..]) => Ok(()),
        // The two-argument JsonConverter.write leaves records out (an empty string): their bytes
        // are compared by the byte-level checks.
        (Json::String(_), Tree::RecordsLen(_)) => Ok(()),
        (Json::Array(j), Tree::List(o)) if j.len() == o.len() => {
            for (i, (j, o)) in j.iter().zip(o).enumerate() {
                walk(j, o, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Json::Object(j), Tree::Obj(o)) => {
            for (key, jv) in j {
                let k = norm(key);
                let Some((_, ov)) = o.iter().find(|(name, _)| norm(name) == k) else {
                    return Err(format!("at {path}: Java's field {key} is not among ours"));
                };
                walk(jv, ov, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        _ => bad(),
    }
}

/// Whether Java's JSON of a message and our `Debug` text of the same message agree field by
/// field (see the module documentation).
pub fn agree(java_json: &str, ours_debug: &str) -> Result<(), String> {
    let java: Json = serde_json::from_str(java_json).map_err(|e| format!("Java's JSON: {e}"))?;
    if java.get("_json_error").is_some() {
        return Err(format!("Java's JsonConverter failed: {java}"));
    }
    let ours = parse_debug(ours_debug).map_err(|e| format!("our Debug text: {e}"))?;
    walk(&java, &ours, "")
}
