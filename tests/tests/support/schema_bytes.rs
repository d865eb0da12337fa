//! A third, deliberately naive implementation of the message layout: it reads Kafka's JSON
//! schemas at run time and writes random but valid message bodies, field by field, straight
//! from the schema rules (versions, nullable versions, flexible versions, tagged fields with
//! defaults omitted, unknown tags, nullable structs, compact forms).
//!
//! It shares nothing with the generator but the JSON parser (`xtask::schema`, a plain serde
//! mirror of the files): version resolution, defaults, tagged-field sections and every
//! encoding are written again here, in a few lines each. The conformance test uses it to get
//! varied instances of the *other* implementation's types (by letting that implementation
//! decode these bytes), and as a cross-check of both.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use xtask::schema::{self, FieldSpec, FieldType, MessageKind, MessageSpec};
use xtask::versions::Versions;

/// Unknown tags written by this generator start here (no message uses tags this high).
pub const FIRST_UNKNOWN_TAG: u32 = 10_000;

/// What the writer has written so far, to show that the bodies are varied: known tagged fields
/// set, unknown tagged fields, nulls (strings, bytes, arrays, structs), non-empty arrays.
pub static KNOWN_TAGS: AtomicUsize = AtomicUsize::new(0);
pub static UNKNOWN_TAGS: AtomicUsize = AtomicUsize::new(0);
pub static NULLS: AtomicUsize = AtomicUsize::new(0);
pub static ELEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Deterministic pseudo-random numbers (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// The schemas of one schema set, by (API key, kind).
pub struct Schemas {
    messages: HashMap<(i16, MessageKind), MessageSpec>,
    by_name: HashMap<String, MessageSpec>,
}

impl Schemas {
    pub fn load(dir: &Path) -> Schemas {
        let mut messages = HashMap::new();
        let mut by_name = HashMap::new();
        for (_, spec) in schema::parse_dir(dir).unwrap_or_else(|e| panic!("{e:#}")) {
            if let (Some(key), MessageKind::Request | MessageKind::Response) = (spec.api_key, spec.kind) {
                messages.insert((key, spec.kind), spec.clone());
            }
            by_name.insert(spec.name.clone(), spec);
        }
        Schemas { messages, by_name }
    }

    pub fn get(&self, api_key: i16, kind: MessageKind) -> &MessageSpec {
        &self.messages[&(api_key, kind)]
    }

    /// A schema by its name (`ConsumerProtocolSubscription`, `RequestHeader`, ...).
    pub fn named(&self, name: &str) -> &MessageSpec {
        &self.by_name[name]
    }
}

/// Writes one random, valid body of `spec` at version `v`.
pub fn random_body(spec: &MessageSpec, v: i16, rng: &mut Rng) -> Vec<u8> {
    let g = Gen { spec, v, flexible: spec.flexible_versions().contains(v), greedy: None, minimal: None };
    let mut out = Vec::new();
    g.fields(&spec.fields, rng, &mut out, 0);
    out
}

/// A random body with every array empty and no tagged field (its last byte is the top-level
/// tag count, 0, in flexible versions).
pub fn untagged_body(spec: &MessageSpec, v: i16, rng: &mut Rng) -> Vec<u8> {
    let g = Gen { spec, v, flexible: spec.flexible_versions().contains(v), greedy: Some(0), minimal: None };
    let mut out = Vec::new();
    g.fields(&spec.fields, rng, &mut out, 0);
    out
}

/// A hostile body of exactly `len` bytes: some arrays (chosen at random, at every depth)
/// claim as many elements as a decoder that checks counts against the remaining input could
/// accept (the remaining bytes over the smallest possible element), followed by one element
/// written the same way; the rest is `pad`. No tagged fields are written. This makes a decoder
/// reserve as much as it ever can from the same bytes at every nesting level.
pub fn greedy_body(spec: &MessageSpec, v: i16, len: usize, pad: u8, rng: &mut Rng) -> Vec<u8> {
    let g = Gen { spec, v, flexible: spec.flexible_versions().contains(v), greedy: Some(len), minimal: None };
    let mut out = Vec::new();
    g.fields(&spec.fields, rng, &mut out, 0);
    out.truncate(len);
    out.resize(len, pad);
    out
}

struct Gen<'a> {
    spec: &'a MessageSpec,
    v: i16,
    flexible: bool,
    /// Greedy mode: the total length of the body.
    greedy: Option<usize>,
    /// Minimal mode: zeros, empty strings and arrays, null structs, and this many empty unknown
    /// tagged fields in every tagged-field section.
    minimal: Option<usize>,
}

fn field_versions(f: &FieldSpec) -> Versions {
    f.versions.or(f.tagged_versions).unwrap_or(Versions::None)
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl<'a> Gen<'a> {
    fn present(&self, f: &FieldSpec) -> bool {
        field_versions(f).contains(self.v)
    }
    fn nullable(&self, f: &FieldSpec) -> bool {
        f.nullable_versions.is_some_and(|n| n.contains(self.v))
    }
    fn tagged(&self, f: &FieldSpec) -> bool {
        self.flexible && f.tagged_versions.is_some_and(|t| t.contains(self.v))
    }
    /// Compact (flexible) form of this field's strings, bytes and arrays: the message's
    /// flexibility unless the field overrides it.
    fn compact(&self, f: &FieldSpec) -> bool {
        match f.flexible_versions {
            Some(fv) => fv.contains(self.v),
            None => self.flexible,
        }
    }
    fn struct_fields(&self, f: &'a FieldSpec, name: &str) -> &'a [FieldSpec] {
        if let Some(fields) = &f.fields {
            return fields;
        }
        let common = self.spec.common_structs.as_deref().unwrap_or(&[]);
        &common.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("struct {name}")).fields
    }

    /// The fields of a struct (or of the message), then its tagged-field section.
    fn fields(&self, fields: &'a [FieldSpec], rng: &mut Rng, out: &mut Vec<u8>, depth: usize) {
        let mut tagged: Vec<(u32, Vec<u8>)> = Vec::new();
        for f in fields.iter().filter(|f| self.present(f)) {
            if self.tagged(f) {
                if self.greedy.is_none() && self.minimal.is_none() && rng.chance(2, 3) {
                    let mut value = Vec::new();
                    self.value(f, &f.ty, self.nullable(f), true, rng, &mut value, depth, true);
                    let mut default = Vec::new();
                    self.default(f, &f.ty, self.nullable(f), true, &mut default);
                    // Tagged fields equal to their default are not written.
                    if value != default {
                        KNOWN_TAGS.fetch_add(1, Relaxed);
                        tagged.push((f.tag.expect("tagged field has a tag").0, value));
                    }
                }
            } else {
                self.value(f, &f.ty, self.nullable(f), self.compact(f), rng, out, depth, false);
            }
        }
        if self.flexible {
            if let Some(n) = self.minimal {
                for i in 0..n {
                    tagged.push((100 + i as u32, Vec::new()));
                }
            } else if self.greedy.is_none() && rng.chance(1, 3) {
                let mut tag = FIRST_UNKNOWN_TAG + rng.below(50) as u32;
                for _ in 0..1 + rng.below(2) {
                    let n = rng.below(6) as usize;
                    UNKNOWN_TAGS.fetch_add(1, Relaxed);
                    tagged.push((tag, rng.bytes(n)));
                    tag += 1 + rng.below(2000) as u32;
                }
            }
            tagged.sort_by_key(|t| t.0);
            put_uvarint(out, tagged.len() as u32);
            for (tag, value) in tagged {
                put_uvarint(out, tag);
                put_uvarint(out, value.len() as u32);
                out.extend_from_slice(&value);
            }
        }
    }

    fn length(out: &mut Vec<u8>, compact: bool, classic_i16: bool, len: Option<usize>) {
        match (compact, len) {
            (true, None) => out.push(0),
            (true, Some(n)) => put_uvarint(out, n as u32 + 1),
            (false, None) if classic_i16 => out.extend_from_slice(&(-1i16).to_be_bytes()),
            (false, None) => out.extend_from_slice(&(-1i32).to_be_bytes()),
            (false, Some(n)) if classic_i16 => out.extend_from_slice(&(n as i16).to_be_bytes()),
            (false, Some(n)) => out.extend_from_slice(&(n as i32).to_be_bytes()),
        }
    }

    fn int(rng: &mut Rng, bits: u32) -> i64 {
        let max = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
        match rng.below(8) {
            0 => 0,
            1 => -1,
            2 => max,
            3 => -max - 1,
            4 | 5 => rng.below(300) as i64,
            _ => {
                let r = rng.next_u64() as i64;
                if bits == 64 {
                    r
                } else {
                    r >> (64 - bits)
                }
            }
        }
    }

    fn string(rng: &mut Rng) -> String {
        const PIECES: &[&str] = &["a", "topic", "-", "_", ".", "0", "é", "ß", "日本", "🦀", " ", "\u{0}", "Z"];
        (0..rng.below(6)).map(|_| PIECES[rng.below(PIECES.len() as u64) as usize]).collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn value(
        &self,
        f: &'a FieldSpec,
        ty: &FieldType,
        nullable: bool,
        compact: bool,
        rng: &mut Rng,
        out: &mut Vec<u8>,
        depth: usize,
        in_tag: bool,
    ) {
        if self.minimal.is_some() {
            match ty {
                FieldType::Struct(name) if !nullable => self.fields(self.struct_fields(f, name), rng, out, depth + 1),
                FieldType::Struct(_) => out.push(0xff),
                FieldType::String => Self::length(out, compact, true, Some(0)),
                FieldType::Bytes | FieldType::Records | FieldType::Array(_) => {
                    Self::length(out, compact, false, Some(0))
                }
                t => out.resize(out.len() + Self::min_len_of(t), 0),
            }
            return;
        }
        match ty {
            FieldType::Bool => out.push(rng.below(2) as u8),
            FieldType::Int8 => out.push(Self::int(rng, 8) as u8),
            FieldType::Int16 => out.extend_from_slice(&(Self::int(rng, 16) as i16).to_be_bytes()),
            FieldType::Int32 => out.extend_from_slice(&(Self::int(rng, 32) as i32).to_be_bytes()),
            FieldType::Int64 => out.extend_from_slice(&Self::int(rng, 64).to_be_bytes()),
            FieldType::Uint16 => out.extend_from_slice(&(rng.next_u64() as u16).to_be_bytes()),
            FieldType::Uint32 => out.extend_from_slice(&(rng.next_u64() as u32).to_be_bytes()),
            FieldType::Float64 => {
                // Finite, and never -0.0 in a tagged field (Java compares floats with `!=`,
                // so -0.0 counts as the default 0.0 there).
                let choices = [0.0, 1.5, -2.25, f64::MAX, f64::MIN_POSITIVE, 1e-300, 12345.678];
                let mut x = choices[rng.below(choices.len() as u64) as usize];
                if !in_tag && rng.chance(1, 8) {
                    x = -0.0;
                }
                out.extend_from_slice(&x.to_be_bytes());
            }
            FieldType::Uuid => {
                let b = if rng.chance(1, 4) { vec![0; 16] } else { rng.bytes(16) };
                out.extend_from_slice(&b);
            }
            FieldType::String => {
                if nullable && rng.chance(1, 4) {
                    NULLS.fetch_add(1, Relaxed);
                    Self::length(out, compact, true, None);
                } else {
                    let s = Self::string(rng);
                    Self::length(out, compact, true, Some(s.len()));
                    out.extend_from_slice(s.as_bytes());
                }
            }
            FieldType::Bytes | FieldType::Records => {
                if nullable && rng.chance(1, 4) {
                    NULLS.fetch_add(1, Relaxed);
                    Self::length(out, compact, false, None);
                } else {
                    let n = rng.below(12) as usize;
                    let b = rng.bytes(n);
                    Self::length(out, compact, false, Some(b.len()));
                    out.extend_from_slice(&b);
                }
            }
            FieldType::Struct(name) => {
                let fields = self.struct_fields(f, name);
                if nullable {
                    if rng.chance(1, 3) {
                        NULLS.fetch_add(1, Relaxed);
                        out.push(0xff);
                        return;
                    }
                    out.push(1);
                }
                self.fields(fields, rng, out, depth + 1);
            }
            FieldType::Array(inner) => {
                if nullable && rng.chance(1, 4) {
                    NULLS.fetch_add(1, Relaxed);
                    Self::length(out, compact, false, None);
                    return;
                }
                // Fewer elements deeper down keeps messages small.
                let mut n = rng.below(if depth < 2 { 4 } else { 2 }) as usize;
                if let Some(len) = self.greedy {
                    match rng.below(3) {
                        0 => n = 0,
                        1 => {
                            let min = match &**inner {
                                FieldType::Struct(name) => self.min_len(self.struct_fields(f, name)),
                                t => Self::min_len_of(t),
                            };
                            n = len.saturating_sub(out.len() + 5) / min.max(1);
                        }
                        _ => {
                            // Dense: as many minimal elements as fit, every one written.
                            let g = Gen { minimal: Some(rng.below(4) as usize), greedy: None, ..*self };
                            let mut elem = Vec::new();
                            match &**inner {
                                FieldType::Struct(name) => {
                                    g.fields(self.struct_fields(f, name), rng, &mut elem, depth + 1)
                                }
                                t => g.value(f, t, false, compact, rng, &mut elem, depth + 1, in_tag),
                            }
                            let n = len.saturating_sub(out.len() + 5) / elem.len().max(1);
                            Self::length(out, compact, false, Some(n));
                            ELEMENTS.fetch_add(n, Relaxed);
                            for _ in 0..n {
                                out.extend_from_slice(&elem);
                            }
                            return;
                        }
                    }
                }
                Self::length(out, compact, false, Some(n));
                ELEMENTS.fetch_add(n, Relaxed);
                // In greedy mode one element is written; the rest of the claim is padding.
                let written = if self.greedy.is_some() { n.min(1) } else { n };
                for _ in 0..written {
                    match &**inner {
                        FieldType::Struct(name) => {
                            let fields = self.struct_fields(f, name);
                            self.fields(fields, rng, out, depth + 1);
                        }
                        t => self.value(f, t, false, compact, rng, out, depth + 1, in_tag),
                    }
                }
            }
        }
    }

    /// The smallest encoding of a struct, counting every string, bytes, array and nullable
    /// struct as one byte in either form (a lower bound that a decoder may use).
    fn min_len(&self, fields: &'a [FieldSpec]) -> usize {
        let mut n = usize::from(self.flexible);
        for f in fields.iter().filter(|f| self.present(f) && !self.tagged(f)) {
            n += match &f.ty {
                FieldType::Struct(name) if !self.nullable(f) => self.min_len(self.struct_fields(f, name)),
                t => Self::min_len_of(t),
            };
        }
        n
    }

    fn min_len_of(ty: &FieldType) -> usize {
        match ty {
            FieldType::Bool | FieldType::Int8 => 1,
            FieldType::Int16 | FieldType::Uint16 => 2,
            FieldType::Int32 | FieldType::Uint32 => 4,
            FieldType::Int64 | FieldType::Float64 => 8,
            FieldType::Uuid => 16,
            _ => 1,
        }
    }

    /// The encoding of a field's default value.
    fn default(&self, f: &'a FieldSpec, ty: &FieldType, nullable: bool, compact: bool, out: &mut Vec<u8>) {
        let lit = f.default.as_ref().map(|d| d.0.trim().to_owned());
        let lit = lit.as_deref();
        let int = |lit: Option<&str>| -> i64 {
            match lit {
                None | Some("") => 0,
                Some(s) => match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(hex) => i64::from_str_radix(hex, 16).unwrap(),
                    None => s.parse().unwrap_or_else(|_| panic!("default {s:?} of {}", f.name)),
                },
            }
        };
        match ty {
            FieldType::Bool => out.push((lit == Some("true")) as u8),
            FieldType::Int8 => out.push(int(lit) as u8),
            FieldType::Int16 => out.extend_from_slice(&(int(lit) as i16).to_be_bytes()),
            FieldType::Int32 => out.extend_from_slice(&(int(lit) as i32).to_be_bytes()),
            FieldType::Int64 => out.extend_from_slice(&int(lit).to_be_bytes()),
            FieldType::Uint16 => out.extend_from_slice(&(int(lit) as u16).to_be_bytes()),
            FieldType::Uint32 => out.extend_from_slice(&(int(lit) as u32).to_be_bytes()),
            FieldType::Float64 => out.extend_from_slice(&lit.map_or(0.0, |s| s.parse::<f64>().unwrap()).to_be_bytes()),
            FieldType::Uuid => out.extend_from_slice(&[0; 16]),
            FieldType::String => match lit {
                Some("null") if nullable => Self::length(out, compact, true, None),
                s => {
                    let s = s.unwrap_or("");
                    Self::length(out, compact, true, Some(s.len()));
                    out.extend_from_slice(s.as_bytes());
                }
            },
            FieldType::Bytes | FieldType::Records => match lit {
                Some("null") if nullable => Self::length(out, compact, false, None),
                _ => Self::length(out, compact, false, Some(0)),
            },
            FieldType::Array(_) => match lit {
                Some("null") if nullable => Self::length(out, compact, false, None),
                _ => Self::length(out, compact, false, Some(0)),
            },
            FieldType::Struct(name) => {
                if nullable && lit == Some("null") {
                    out.push(0xff);
                    return;
                }
                if nullable {
                    out.push(1);
                }
                for g in self.struct_fields(f, name).iter().filter(|g| self.present(g)) {
                    if !self.tagged(g) {
                        self.default(g, &g.ty, self.nullable(g), self.compact(g), out);
                    }
                }
                if self.flexible {
                    out.push(0);
                }
            }
        }
    }
}
