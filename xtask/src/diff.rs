//! `cargo xtask schemas diff OLD NEW`: what changed between two schema sets, as Markdown, from
//! their version-resolved models: APIs added, removed or renamed; versions added, removed,
//! deprecated or made unstable; per version, the fields added or removed and every change of a
//! field's type, nullability, tag, encoding, default or ignorability; new error codes. It is what
//! a reviewer of a schema update reads first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::{self, Message, MessageVersion, Model, StructBody, Type, Value};
use crate::schema;

/// A set to compare: its name (for the report) and its folder (`message/`, `errors.tsv`).
#[derive(Debug, Clone)]
pub struct SetDir {
    pub name: String,
    pub dir: PathBuf,
}

fn load(set: &SetDir) -> Result<Model> {
    let specs = schema::parse_dir(&set.dir.join("message"))?;
    let errors_path = set.dir.join(crate::pin::ERRORS_FILE);
    let errors = std::fs::read_to_string(&errors_path).with_context(|| format!("reading {}", errors_path.display()))?;
    model::build(&specs, &errors).with_context(|| format!("set {}", set.name))
}

/// The report for `old` → `new`.
pub fn report(old: &SetDir, new: &SetDir) -> Result<String> {
    Ok(render(&old.name, &load(old)?, &new.name, &load(new)?))
}

/// What one field looks like in one version: everything about it that reaches the wire or the
/// generated type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldShape {
    ty: String,
    nullable: bool,
    tag: Option<u32>,
    compact: bool,
    default: String,
    ignorable: bool,
}

impl FieldShape {
    fn describe(&self) -> String {
        let mut s = format!("`{}`", self.ty);
        if self.nullable {
            s.push_str(", nullable");
        }
        if let Some(t) = self.tag {
            write!(s, ", tag {t}").unwrap();
        }
        if !self.default.is_empty() {
            write!(s, ", default {}", self.default).unwrap();
        }
        if self.ignorable {
            s.push_str(", ignorable");
        }
        s
    }

    /// The differences from `old`, as phrases.
    fn changes_from(&self, old: &FieldShape) -> Vec<String> {
        let mut out = Vec::new();
        if self.ty != old.ty {
            out.push(format!("type `{}` → `{}`", old.ty, self.ty));
        }
        if self.nullable != old.nullable {
            out.push(if self.nullable { "now nullable".into() } else { "no longer nullable".into() });
        }
        if self.tag != old.tag {
            out.push(match (old.tag, self.tag) {
                (None, Some(t)) => format!("now tagged (tag {t})"),
                (Some(t), None) => format!("no longer tagged (was tag {t})"),
                (Some(a), Some(b)) => format!("tag {a} → {b}"),
                (None, None) => unreachable!(),
            });
        }
        if self.compact != old.compact {
            out.push(if self.compact { "now compact (flexible)".into() } else { "no longer compact".into() });
        }
        if self.default != old.default {
            let show = |d: &str| if d.is_empty() { "none".to_owned() } else { d.to_owned() };
            out.push(format!("default {} → {}", show(&old.default), show(&self.default)));
        }
        if self.ignorable != old.ignorable {
            out.push(if self.ignorable { "now ignorable".into() } else { "no longer ignorable".into() });
        }
        out
    }
}

fn type_text(msg: &Message, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Int8 => "int8".into(),
        Type::Int16 => "int16".into(),
        Type::Int32 => "int32".into(),
        Type::Int64 => "int64".into(),
        Type::Uint16 => "uint16".into(),
        Type::Uint32 => "uint32".into(),
        Type::Float64 => "float64".into(),
        Type::String => "string".into(),
        Type::Bytes => "bytes".into(),
        Type::Records => "records".into(),
        Type::Uuid => "uuid".into(),
        Type::Struct(id) => msg.structs[*id].schema_name.clone(),
        Type::Array(inner) => format!("[]{}", type_text(msg, inner)),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(false) | Value::Int(0) | Value::Empty => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(bits) if *bits == 0 => String::new(),
        Value::Float(bits) => f64::from_bits(*bits).to_string(),
        Value::Str(s) if s.is_empty() => String::new(),
        Value::Str(s) => format!("{s:?}"),
        Value::Uuid(b) if b.iter().all(|&x| x == 0) => String::new(),
        Value::Uuid(b) => model::kafka_uuid_text(b),
    }
}

/// Every field of a version body by its path (`Topics.Partitions.PartitionIndex`).
fn flatten(msg: &Message, body: &StructBody) -> BTreeMap<String, FieldShape> {
    let mut out = BTreeMap::new();
    flatten_into(msg, body, "", &mut out);
    out
}

fn flatten_into(msg: &Message, body: &StructBody, prefix: &str, out: &mut BTreeMap<String, FieldShape>) {
    for f in &body.fields {
        let path = format!("{prefix}{}", f.name);
        out.insert(
            path.clone(),
            FieldShape {
                ty: type_text(msg, &f.ty),
                nullable: f.nullable,
                tag: f.tag,
                compact: f.compact,
                default: value_text(&f.default),
                ignorable: f.ignorable,
            },
        );
        if let Some(id) = f.ty.struct_id() {
            flatten_into(msg, &msg.structs[id].body, &format!("{path}."), out);
        }
    }
}

/// Lines describing the difference of two version bodies (`old` may be of another message
/// version or another set).
fn body_diff(old_msg: &Message, old: &MessageVersion, new_msg: &Message, new: &MessageVersion) -> Vec<String> {
    let (a, b) = (flatten(old_msg, &old.body), flatten(new_msg, &new.body));
    let mut out = Vec::new();
    if old.flexible != new.flexible {
        out.push(if new.flexible { "becomes flexible".into() } else { "is no longer flexible".into() });
    }
    for (path, shape) in &b {
        match a.get(path) {
            None => out.push(format!("adds `{path}` ({})", shape.describe())),
            Some(prev) => {
                let changes = shape.changes_from(prev);
                if !changes.is_empty() {
                    out.push(format!("`{path}`: {}", changes.join(", ")));
                }
            }
        }
    }
    for path in a.keys().filter(|p| !b.contains_key(*p)) {
        out.push(format!("removes `{path}`"));
    }
    out
}

fn range_text(min: i16, max: i16) -> String {
    if min == max {
        format!("{min}")
    } else {
        format!("{min}–{max}")
    }
}

fn list_text(vs: &[i16]) -> String {
    // Consecutive runs as ranges.
    let mut parts = Vec::new();
    let mut i = 0;
    while i < vs.len() {
        let mut j = i;
        while j + 1 < vs.len() && vs[j + 1] == vs[j] + 1 {
            j += 1;
        }
        parts.push(range_text(vs[i], vs[j]));
        i = j + 1;
    }
    parts.join(", ")
}

/// One message's changes (request, response, header or data schema): version list changes,
/// then per version what changed; consecutive versions with the same changes share a line.
fn message_diff(old: Option<&Message>, new: &Message) -> Vec<String> {
    let new_vs: Vec<i16> = new.versions.iter().map(|v| v.version).collect();
    let old_vs: Vec<i16> = old.map(|m| m.versions.iter().map(|v| v.version).collect()).unwrap_or_default();
    // (version, what to say about it: a label and detail lines)
    let mut entries: Vec<(i16, String, Vec<String>)> = Vec::new();
    for mv in &new.versions {
        let v = mv.version;
        let in_old = old.and_then(|m| m.versions.iter().find(|o| o.version == v));
        let mut flags = Vec::new();
        let diffs = match in_old {
            Some(o) => {
                if o.deprecated != mv.deprecated {
                    flags.push(if mv.deprecated { "now deprecated" } else { "no longer deprecated" });
                }
                if o.unstable != mv.unstable {
                    flags.push(if mv.unstable { "now unstable" } else { "now stable" });
                }
                let diffs = body_diff(old.unwrap(), o, new, mv);
                if diffs.is_empty() && flags.is_empty() {
                    continue;
                }
                if !diffs.is_empty() {
                    flags.insert(0, "changed in place");
                }
                diffs
            }
            None => {
                flags.push("new");
                if mv.deprecated {
                    flags.push("deprecated");
                }
                if mv.unstable {
                    flags.push("unstable");
                }
                // What it changes from the version before it in the new set, or, when the
                // versions before it were all removed, from the newest version of the old set.
                let before = match new.versions.iter().find(|p| p.version == v - 1) {
                    Some(prev) => Some((new, prev, "the version before".to_owned())),
                    None => old
                        .and_then(|m| m.versions.last().map(|o| (m, o)))
                        .map(|(m, o)| (m, o, format!("v{} of the old set", o.version))),
                };
                match before {
                    Some((m, prev, what)) => {
                        let d = body_diff(m, prev, new, mv);
                        if d.is_empty() {
                            vec![format!("same fields as {what}")]
                        } else if prev.version == v - 1 {
                            d
                        } else {
                            d.into_iter().map(|line| format!("{line} (against {what})")).collect()
                        }
                    }
                    None => Vec::new(),
                }
            }
        };
        entries.push((v, flags.join(", "), diffs));
    }
    let mut lines = Vec::new();
    let removed: Vec<i16> = old_vs.iter().copied().filter(|v| !new_vs.contains(v)).collect();
    if !removed.is_empty() {
        lines.push(format!("versions removed: {}", list_text(&removed)));
    }
    let mut i = 0;
    while i < entries.len() {
        let mut j = i;
        while j + 1 < entries.len()
            && entries[j + 1].0 == entries[j].0 + 1
            && entries[j + 1].1 == entries[i].1
            && entries[j + 1].2 == entries[i].2
        {
            j += 1;
        }
        let (label, diffs) = (&entries[i].1, &entries[i].2);
        let head = format!("v{} ({label})", range_text(entries[i].0, entries[j].0));
        match diffs.len() {
            0 => lines.push(head),
            1 => lines.push(format!("{head}: {}", diffs[0])),
            _ => {
                lines.push(format!("{head}:"));
                lines.extend(diffs.iter().map(|d| format!("  - {d}")));
            }
        }
        i = j + 1;
    }
    lines
}

fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    writeln!(out, "**{title}**\n").unwrap();
    for l in lines {
        if let Some(rest) = l.strip_prefix("  ") {
            writeln!(out, "  {rest}").unwrap();
        } else {
            writeln!(out, "- {l}").unwrap();
        }
    }
    out.push('\n');
}

fn count_versions(m: &Model) -> usize {
    m.apis.iter().map(|a| (a.max_version - a.min_version + 1) as usize * 2).sum()
}

/// Renders the report.
fn render(old_name: &str, old: &Model, new_name: &str, new: &Model) -> String {
    let mut out = String::new();
    writeln!(out, "# Schema changes: `{old_name}` → `{new_name}`\n").unwrap();
    writeln!(out, "Generated by `cargo xtask schemas diff {old_name} {new_name}`; do not edit.\n").unwrap();
    writeln!(out, "| | {old_name} | {new_name} |\n|---|---|---|").unwrap();
    writeln!(out, "| API keys | {} | {} |", old.apis.len(), new.apis.len()).unwrap();
    writeln!(out, "| request/response versions | {} | {} |", count_versions(old), count_versions(new)).unwrap();
    writeln!(out, "| header and data schemas | {} | {} |", old.standalone.len(), new.standalone.len()).unwrap();
    writeln!(out, "| error codes | {} | {} |\n", old.errors.len(), new.errors.len()).unwrap();

    // APIs by key.
    let old_apis: BTreeMap<i16, &model::Api> = old.apis.iter().map(|a| (a.key, a)).collect();
    let new_apis: BTreeMap<i16, &model::Api> = new.apis.iter().map(|a| (a.key, a)).collect();
    let added: Vec<&&model::Api> = new_apis.iter().filter(|(k, _)| !old_apis.contains_key(k)).map(|(_, a)| a).collect();
    let removed: Vec<&&model::Api> =
        old_apis.iter().filter(|(k, _)| !new_apis.contains_key(k)).map(|(_, a)| a).collect();

    writeln!(out, "## APIs added ({})\n", added.len()).unwrap();
    if added.is_empty() {
        writeln!(out, "None.").unwrap();
    }
    for a in &added {
        let unstable = a.unstable_from.map(|u| format!(", unstable from v{u}")).unwrap_or_default();
        writeln!(out, "- {} (key {}): versions {}{unstable}", a.name, a.key, range_text(a.min_version, a.max_version))
            .unwrap();
    }
    writeln!(out, "\n## APIs removed ({})\n", removed.len()).unwrap();
    if removed.is_empty() {
        writeln!(out, "None.").unwrap();
    }
    for a in &removed {
        let how = if new.removed_apis.iter().any(|r| r.key == a.key) {
            "its schema files remain with `validVersions: none`; no code is generated"
        } else {
            "its schema files are gone"
        };
        writeln!(out, "- {} (key {}), versions {}: {how}", a.name, a.key, range_text(a.min_version, a.max_version))
            .unwrap();
    }

    writeln!(out, "\n## APIs changed\n").unwrap();
    let mut unchanged = Vec::new();
    for (key, new_api) in &new_apis {
        let Some(old_api) = old_apis.get(key) else { continue };
        let mut head = Vec::new();
        if old_api.name != new_api.name {
            head.push(format!("renamed from {}", old_api.name));
        }
        if (old_api.min_version, old_api.max_version) != (new_api.min_version, new_api.max_version) {
            head.push(format!(
                "versions {} → {}",
                range_text(old_api.min_version, old_api.max_version),
                range_text(new_api.min_version, new_api.max_version)
            ));
        }
        if old_api.first_flexible != new_api.first_flexible {
            let f = |v: Option<i16>| v.map(|v| format!("v{v}")).unwrap_or_else(|| "none".into());
            head.push(format!("first flexible version {} → {}", f(old_api.first_flexible), f(new_api.first_flexible)));
        }
        let req = message_diff(Some(&old_api.request), &new_api.request);
        let resp = message_diff(Some(&old_api.response), &new_api.response);
        if head.is_empty() && req.is_empty() && resp.is_empty() {
            debug_assert!(api_unchanged(old_api, new_api));
            unchanged.push(new_api.name.as_str());
            continue;
        }
        writeln!(out, "### {} (key {key})\n", new_api.name).unwrap();
        if !head.is_empty() {
            writeln!(out, "{}.\n", head.join("; ")).unwrap();
        }
        section(&mut out, "Request", &req);
        section(&mut out, "Response", &resp);
    }
    writeln!(out, "Unchanged ({}): {}.\n", unchanged.len(), unchanged.join(", ")).unwrap();

    writeln!(out, "## Headers and data schemas\n").unwrap();
    let old_sa: BTreeMap<&str, &Message> = old.standalone.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut any = false;
    for m in &new.standalone {
        let lines = match old_sa.get(m.name.as_str()) {
            Some(o) => message_diff(Some(o), m),
            None => {
                let vs: Vec<i16> = m.versions.iter().map(|v| v.version).collect();
                vec![format!("added, versions {}", list_text(&vs))]
            }
        };
        if !lines.is_empty() {
            any = true;
            section(&mut out, &m.name, &lines);
        }
    }
    let new_names: BTreeSet<&str> = new.standalone.iter().map(|m| m.name.as_str()).collect();
    for name in old_sa.keys().filter(|n| !new_names.contains(*n)) {
        any = true;
        writeln!(out, "**{name}**\n\n- removed\n").unwrap();
    }
    if !any {
        writeln!(out, "None changed.").unwrap();
    }

    writeln!(out, "\n## Error codes\n").unwrap();
    let old_err: BTreeMap<i16, &model::ErrorDef> = old.errors.iter().map(|e| (e.code, e)).collect();
    let new_err: BTreeMap<i16, &model::ErrorDef> = new.errors.iter().map(|e| (e.code, e)).collect();
    let mut any = false;
    for (code, e) in &new_err {
        match old_err.get(code) {
            None => {
                writeln!(out, "- added {code} {}{}", e.name, if e.retriable { " (retriable)" } else { "" }).unwrap()
            }
            Some(o) if o.name != e.name || o.retriable != e.retriable => writeln!(
                out,
                "- changed {code}: {} (retriable {}) → {} (retriable {})",
                o.name, o.retriable, e.name, e.retriable
            )
            .unwrap(),
            Some(_) => continue,
        }
        any = true;
    }
    for (code, e) in old_err.iter().filter(|(c, _)| !new_err.contains_key(c)) {
        writeln!(out, "- removed {code} {}", e.name).unwrap();
        any = true;
    }
    if !any {
        writeln!(out, "None changed.").unwrap();
    }
    out
}

/// Whether an API's name, versions and every field of every version are the same in both sets
/// (its generated code then differs at most in documentation).
fn api_unchanged(old: &model::Api, new: &model::Api) -> bool {
    old.name == new.name
        && (old.min_version, old.max_version, old.first_flexible)
            == (new.min_version, new.max_version, new.first_flexible)
        && message_diff(Some(&old.request), &new.request).is_empty()
        && message_diff(Some(&old.response), &new.response).is_empty()
}

/// The APIs the report lists as unchanged.
pub fn unchanged_apis(old: &Model, new: &Model) -> Vec<String> {
    new.apis
        .iter()
        .filter(|n| old.apis.iter().any(|o| o.key == n.key && api_unchanged(o, n)))
        .map(|a| a.name.clone())
        .collect()
}

/// The versions of every generated module (API, header or data schema, by the module's schema
/// name: `Fetch`, `RequestHeader`) in a model: what a schema update adds and removes.
pub fn module_versions(m: &Model) -> BTreeMap<String, BTreeSet<i16>> {
    let apis = m.apis.iter().map(|a| (a.name.clone(), (a.min_version..=a.max_version).collect()));
    let others = m.standalone.iter().map(|s| (s.name.clone(), s.versions.iter().map(|v| v.version).collect()));
    apis.chain(others).collect()
}

/// The report between two folders, for tests.
pub fn report_dirs(old: &Path, new: &Path) -> Result<String> {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    report(&SetDir { name: name(old), dir: old.to_path_buf() }, &SetDir { name: name(new), dir: new.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(a, b)| (*a, b.as_str())).collect()
    }

    fn model_of(files: &[(&str, &str)], errors: &str) -> Model {
        let specs: Vec<_> = files.iter().map(|(n, t)| ((*n).to_owned(), schema::parse_str(t, n).unwrap())).collect();
        model::build(&specs, errors).unwrap()
    }

    const ERR: &str = "code\tname\tretriable\n0\tNONE\tfalse\n";

    fn api(versions: &str, fields_req: &str, fields_resp: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "XRequest.json",
                format!(
                    r#"{{ "apiKey": 900, "type": "request", "name": "XRequest", "validVersions": "{versions}", "flexibleVersions": "2+", "fields": [ {fields_req} ] }}"#
                ),
            ),
            (
                "XResponse.json",
                format!(
                    r#"{{ "apiKey": 900, "type": "response", "name": "XResponse", "validVersions": "{versions}", "flexibleVersions": "2+", "fields": [ {fields_resp} ] }}"#
                ),
            ),
        ]
    }

    #[test]
    fn a_new_version_with_a_new_field_and_a_changed_default() {
        let old = api(
            "0-1",
            r#"{ "name": "A", "type": "int32", "versions": "0+" }"#,
            r#"{ "name": "E", "type": "int16", "versions": "0+" }"#,
        );
        let new = api(
            "1-2",
            r#"{ "name": "A", "type": "int32", "versions": "0+", "default": "-1" },
               { "name": "T", "type": "string", "versions": "2+", "nullableVersions": "2+", "taggedVersions": "2+", "tag": 0 }"#,
            r#"{ "name": "E", "type": "int16", "versions": "0+" }"#,
        );
        let errors_new = "code\tname\tretriable\n0\tNONE\tfalse\n7\tREQUEST_TIMED_OUT\ttrue\n";
        let r = render("a", &model_of(&to(&old), ERR), "b", &model_of(&to(&new), errors_new));
        assert!(r.contains("versions 0–1 → 1–2"), "{r}");
        assert!(r.contains("- versions removed: 0"), "{r}");
        assert!(r.contains("- v1 (changed in place): `A`: default none → -1"), "{r}");
        assert!(!r.contains("v0 ("), "{r}");
        assert!(r.contains("- v2 (new):\n  - becomes flexible\n  - adds `T` (`string`, nullable, tag 0)"), "{r}");
        assert!(r.contains("- added 7 REQUEST_TIMED_OUT (retriable)"), "{r}");
        assert!(r.contains("| request/response versions | 4 | 4 |"), "{r}");
    }

    #[test]
    fn a_removed_api_is_reported_as_such() {
        let old = api("0", r#"{ "name": "A", "type": "int32", "versions": "0+" }"#, "");
        let gone = [
            ("XRequest.json", r#"{ "apiKey": 900, "type": "request", "name": "XRequest", "validVersions": "none" }"#),
            (
                "XResponse.json",
                r#"{ "apiKey": 900, "type": "response", "name": "XResponse", "validVersions": "none" }"#,
            ),
        ];
        let r = render("a", &model_of(&to(&old), ERR), "b", &model_of(&gone, ERR));
        assert!(r.contains("## APIs removed (1)\n\n- X (key 900), versions 0: its schema files remain"), "{r}");
    }
}
