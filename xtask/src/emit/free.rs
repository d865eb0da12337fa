//! Emits the version-free types of a message (`fetch::Request`, `fetch::FetchTopic`, ...): one
//! struct per schema struct with the fields of every version, a `Wire` impl that reads and writes
//! any version (deciding per field, as Kafka's Java classes do), and the conversions from and to
//! each per-version type.

use anyhow::{anyhow, bail, Result};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::structs::{self, Cx};
use crate::free::{FreeField, FreeMessage};
use crate::model::{Field, Message, StructBody, Type};
use crate::naming;
use crate::versions::Versions;

/// A condition on `version` known at generation time to hold always, never, or only when an
/// expression holds; combined with simplification so that the generated code tests only what
/// can vary.
#[derive(Clone)]
pub enum Cond {
    Always,
    Never,
    When(TokenStream),
}

impl Cond {
    pub fn and(self, other: Cond) -> Cond {
        match (self, other) {
            (Cond::Never, _) | (_, Cond::Never) => Cond::Never,
            (Cond::Always, c) | (c, Cond::Always) => c,
            (Cond::When(a), Cond::When(b)) => Cond::When(quote!(#a && #b)),
        }
    }

    pub fn not(self) -> Cond {
        match self {
            Cond::Always => Cond::Never,
            Cond::Never => Cond::Always,
            Cond::When(e) => Cond::When(quote!(!(#e))),
        }
    }

    /// `body` guarded by the condition (nothing when it never holds).
    pub fn guard(&self, body: TokenStream) -> TokenStream {
        match self {
            Cond::Always => body,
            Cond::Never => quote!(),
            Cond::When(e) => quote!(if #e { #body }),
        }
    }

    /// `then` when the condition holds, else `otherwise`, as an expression.
    pub fn choose(&self, then: TokenStream, otherwise: TokenStream) -> TokenStream {
        match self {
            Cond::Always => then,
            Cond::Never => otherwise,
            Cond::When(e) => quote!(if #e { #then } else { #otherwise }),
        }
    }

    /// The condition as a boolean expression.
    pub fn expr(&self) -> TokenStream {
        match self {
            Cond::Always => quote!(true),
            Cond::Never => quote!(false),
            Cond::When(e) => e.clone(),
        }
    }
}

/// Is `version` in `vs`? `all` are the versions the value can be written at (the message's),
/// so bounds equal to theirs need no test.
pub fn versions_cond(vs: Versions, all: Versions) -> Cond {
    match (vs, all) {
        (Versions::None, _) | (_, Versions::None) => Cond::Never,
        (Versions::Range { min, max }, Versions::Range { min: lo, max: hi }) => {
            let (min_l, max_l) = (Literal::i16_unsuffixed(min), Literal::i16_unsuffixed(max));
            match (min > lo, max < hi) {
                (false, false) => Cond::Always,
                (true, false) => Cond::When(quote!(version >= #min_l)),
                (false, true) => Cond::When(quote!(version <= #max_l)),
                (true, true) if min == max => Cond::When(quote!(version == #min_l)),
                (true, true) => Cond::When(quote!((#min_l..=#max_l).contains(&version))),
            }
        }
    }
}

/// The field as a per-version `Field` of its version-free Rust type, for the shared helpers
/// (types, defaults, default tests).
fn as_field(f: &FreeField) -> Field {
    Field {
        name: f.name.clone(),
        about: f.about.clone(),
        ty: f.ty.clone(),
        nullable: f.nullable(),
        compact: false,
        tag: None,
        default: f.default.clone(),
        ignorable: f.ignorable,
        entity_type: f.entity_type.clone(),
        map_key: f.map_key,
    }
}

/// The same field as `f` with only its value type (not nullable): the type written at a version
/// where it may not be null.
fn as_plain_field(f: &FreeField) -> Field {
    Field { nullable: false, ..as_field(f) }
}

fn versions_text(vs: Versions) -> String {
    match vs {
        Versions::None => "none".into(),
        Versions::Range { min, max } if min == max => format!("{min}"),
        Versions::Range { min, max } => format!("{min}–{max}"),
    }
}

fn field_doc(f: &FreeField, all: Versions) -> TokenStream {
    let mut text = f.about.as_deref().map(structs::about_markdown).unwrap_or_default();
    let mut facts = vec![if f.versions == all {
        "In every version.".to_owned()
    } else {
        format!("Versions {}.", versions_text(f.versions))
    }];
    if f.nullable() {
        if f.nullable_versions == f.versions {
            facts.push("Nullable.".into());
        } else {
            facts.push(format!("Nullable in versions {}.", versions_text(f.nullable_versions)));
        }
    }
    if let Some((tag, tv)) = f.tag {
        if !tv.is_empty() {
            facts.push(format!("Tagged (tag {tag}) in versions {}.", versions_text(tv)));
        }
    }
    if f.ignorable {
        facts.push("Ignorable: dropped when writing a version without it.".into());
    }
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&facts.join(" "));
    structs::doc_attrs(&text)
}

/// One version-free struct: definition, `Default`, `Wire` (any version).
fn emit_struct(
    cx: Cx,
    ident: &Ident,
    label: &str,
    doc: &str,
    fields: &[FreeField],
    free: &FreeMessage,
    nested: bool,
) -> Result<TokenStream> {
    let all = free.versions;
    let flexible_any = !free.flexible.intersect(all).is_empty();
    let mut defs = Vec::new();
    let mut inits = Vec::new();
    for f in fields {
        let id = naming::field_ident(&f.name);
        let ty = structs::field_type(cx, &as_field(f));
        let d = field_doc(f, all);
        defs.push(quote!(#d pub #id: #ty,));
        let dv = structs::default_expr(cx, &as_field(f))?;
        inits.push(quote!(#id: #dv,));
    }
    if flexible_any {
        defs.push(quote!(
            /// Tagged fields no version of this build knows, kept to be written back unchanged
            /// (in flexible versions).
            pub unknown_tagged_fields: UnknownTaggedFields,
        ));
        inits.push(quote!(unknown_tagged_fields: UnknownTaggedFields::new(),));
    }
    let doc = structs::doc_attrs(doc);
    let eq = if fields.iter().any(|f| has_float(cx, &f.ty)) { quote!() } else { quote!(Eq, Hash,) };
    let wire = wire_impl(cx, ident, label, fields, free)?;
    let marker = if nested { quote!(impl WireStruct for #ident {}) } else { quote!() };
    // The versions of each field, for code whose meaning changes with them (a batched form
    // from some version on): `Request::COORDINATOR_KEYS_VERSIONS.contains(version)`.
    let consts = fields.iter().map(|f| {
        let range = |vs: Versions| match (vs.min(), vs.max()) {
            (Some(min), Some(max)) => {
                let (min, max) = (Literal::i16_unsuffixed(min), Literal::i16_unsuffixed(max));
                quote!(crate::VersionRange::new(#min, #max))
            }
            _ => quote!(crate::VersionRange::EMPTY),
        };
        let (c, v) = (naming::field_versions_const(&f.name), range(f.versions));
        let doc = format!(" The versions that have `{}`.", f.name);
        let mut out = quote!(#[doc = #doc] pub const #c: crate::VersionRange = #v;);
        if f.nullable() {
            let (c, v) = (naming::field_nullable_versions_const(&f.name), range(f.nullable_versions));
            let doc = format!(" The versions in which `{}` may be null.", f.name);
            out.extend(quote!(#[doc = #doc] pub const #c: crate::VersionRange = #v;));
        }
        out
    });
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #eq)]
        pub struct #ident { #(#defs)* }
        impl Default for #ident {
            fn default() -> Self {
                Self { #(#inits)* }
            }
        }
        impl #ident { #(#consts)* }
        #wire
        #marker
    })
}

/// Whether a value of this type holds a float somewhere (no `Eq`, no `Hash`).
pub fn has_float(cx: Cx, ty: &Type) -> bool {
    match ty {
        Type::Float64 => true,
        Type::Array(inner) => has_float(cx, inner),
        Type::Struct(id) => {
            if cx.free {
                cx.msg.free.structs[*id].fields.iter().any(|f| has_float(cx, &f.ty))
            } else {
                cx.msg.structs[*id].body.fields.iter().any(|f| has_float(cx, &f.ty))
            }
        }
        _ => false,
    }
}

/// Whether a string/bytes/array field is compact at `version`, tested only where the field is
/// written (so a field that exists only in flexible versions is compact without a test).
fn compact_cond(f: &FreeField, free: &FreeMessage) -> TokenStream {
    let within = f.versions;
    match &f.ty {
        Type::String | Type::Bytes => {
            versions_cond(f.flexible_override.unwrap_or(free.flexible).intersect(within), within).expr()
        }
        Type::Records | Type::Array(_) => versions_cond(free.flexible.intersect(within), within).expr(),
        _ => quote!(false),
    }
}

fn wire_impl(cx: Cx, ident: &Ident, label: &str, fields: &[FreeField], free: &FreeMessage) -> Result<TokenStream> {
    let all = free.versions;
    let flexible_any = !free.flexible.intersect(all).is_empty();
    let flexible = versions_cond(free.flexible.intersect(all), all);
    let not_flexible = flexible.clone().not();
    let mut len = Vec::new();
    let mut put = Vec::new();
    let mut get = Vec::new();
    let mut tagged_len = Vec::new();
    let mut tagged_count = Vec::new();
    let mut tagged_put = Vec::new();
    let mut tagged_get = Vec::new();

    // Fields with a tag, in tag order, for the tagged section.
    let mut by_tag: Vec<&FreeField> = fields.iter().filter(|f| f.tag.is_some_and(|(_, tv)| !tv.is_empty())).collect();
    by_tag.sort_by_key(|f| f.tag.map(|(t, _)| t));

    for f in fields {
        let id = naming::field_ident(&f.name);
        let fl = format!("{label}.{}", f.name);
        let present = versions_cond(f.versions, all);
        let tagged = f.tag.map(|(_, tv)| versions_cond(tv, all)).unwrap_or(Cond::Never);
        let regular = present.clone().and(tagged.not());
        let compact = compact_cond(f, free);
        // Tested only where the field is written: nullable in all of its versions needs no test.
        let nullable_here = versions_cond(f.nullable_versions.intersect(f.versions), f.versions);
        let plain_ty = structs::field_type(cx, &as_plain_field(f));
        let full_ty = structs::field_type(cx, &as_field(f));
        let is_def = structs::is_default(cx, &as_field(f), &quote!(self.#id))?;
        let dv = structs::default_expr(cx, &as_field(f))?;

        // Size, write and read of a regular occurrence.
        if f.nullable() {
            let size = nullable_here.choose(
                quote!(Wire::wire_len(&self.#id, #compact, version)),
                quote!(match &self.#id { Some(v) => Wire::wire_len(v, #compact, version), None => 0 }),
            );
            len.push(regular.guard(quote!(n += #size;)));
            let write = nullable_here.choose(
                quote!(Wire::wire_put(&self.#id, buf, #compact, version, #fl)?),
                quote! {
                    match &self.#id {
                        Some(v) => Wire::wire_put(v, buf, #compact, version, #fl)?,
                        None => return Err(EncodeErrorKind::null_not_allowed(version, #fl)),
                    }
                },
            );
            put.push(regular.guard(quote!(#write;)));
            let read = nullable_here.choose(
                quote!(tri!(<#full_ty as Wire>::wire_get(buf, #compact, version, #fl))),
                quote!(Some(tri!(<#plain_ty as Wire>::wire_get(buf, #compact, version, #fl)))),
            );
            let value = regular.choose(read, dv.clone());
            get.push(quote!(#id: #value,));
        } else {
            len.push(regular.guard(quote!(n += Wire::wire_len(&self.#id, #compact, version);)));
            put.push(regular.guard(quote!(Wire::wire_put(&self.#id, buf, #compact, version, #fl)?;)));
            let value =
                regular.choose(quote!(tri!(<#full_ty as Wire>::wire_get(buf, #compact, version, #fl))), dv.clone());
            get.push(quote!(#id: #value,));
        }
        // A version without the field: its value must be the default unless it is ignorable.
        if !f.ignorable {
            put.push(present.not().guard(quote! {
                if !(#is_def) {
                    return Err(EncodeErrorKind::unsupported_field(version, #fl));
                }
            }));
        }
    }

    for f in &by_tag {
        let id = naming::field_ident(&f.name);
        let fl = format!("{label}.{}", f.name);
        let (tag, tv) = f.tag.unwrap();
        let tagged = versions_cond(tv, all);
        let is_def = structs::is_default(cx, &as_field(f), &quote!(self.#id))?;
        let nullable_here = versions_cond(f.nullable_versions.intersect(tv), tv);
        let plain_ty = structs::field_type(cx, &as_plain_field(f));
        let full_ty = structs::field_type(cx, &as_field(f));
        let (write, size, read) = if f.nullable() {
            (
                nullable_here.choose(
                    quote!(w.field(buf, #tag, &self.#id, version, #fl)?),
                    quote! {
                        match &self.#id {
                            Some(v) => w.field(buf, #tag, v, version, #fl)?,
                            None => return Err(EncodeErrorKind::null_not_allowed(version, #fl)),
                        }
                    },
                ),
                nullable_here.choose(
                    quote!(Wire::wire_len(&self.#id, true, version)),
                    quote!(match &self.#id { Some(v) => Wire::wire_len(v, true, version), None => 0 }),
                ),
                nullable_here.choose(
                    quote!(tri!(codec::get_tagged::<#full_ty>(#tag, data, version, #fl))),
                    quote!(Some(tri!(codec::get_tagged::<#plain_ty>(#tag, data, version, #fl)))),
                ),
            )
        } else {
            (
                quote!(w.field(buf, #tag, &self.#id, version, #fl)?),
                quote!(Wire::wire_len(&self.#id, true, version)),
                quote!(tri!(codec::get_tagged::<#full_ty>(#tag, data, version, #fl))),
            )
        };
        let set = tagged.clone().and(Cond::When(quote!(!(#is_def))));
        tagged_len.push(set.guard(quote! {
            count += 1;
            body += codec::tagged_field_len(#tag, #size);
        }));
        let set_expr = set.expr();
        tagged_count.push(quote!(+ usize::from(#set_expr)));
        tagged_put.push(set.guard(quote!(#write;)));
        match &tagged {
            Cond::Never => {}
            Cond::Always => tagged_get.push(quote!(#tag => out.#id = #read,)),
            Cond::When(e) => tagged_get.push(quote!(#tag if #e => out.#id = #read,)),
        }
    }

    let (len_tagged, put_tagged, get_tagged) = if by_tag.is_empty() {
        (
            quote!(n += self.unknown_tagged_fields.section_len();),
            quote!(self.unknown_tagged_fields.encode_section(buf, #label)?;),
            quote!(out.unknown_tagged_fields = UnknownTaggedFields::decode_section(buf, #label)?;),
        )
    } else {
        (
            quote! {
                let mut count = self.unknown_tagged_fields.len();
                let mut body = self.unknown_tagged_fields.body_len();
                #(#tagged_len)*
                n += codec::uvarint_len(count as u32) + body;
            },
            quote! {
                let known = 0 #(#tagged_count)*;
                let mut w = codec::TaggedWriter::begin(buf, known, &self.unknown_tagged_fields, #label)?;
                #(#tagged_put)*
                w.finish(buf)?;
            },
            quote! {
                let mut tags = codec::TaggedReader::new(buf, #label)?;
                while let Some((tag, data)) = tags.next(buf)? {
                    match tag {
                        #(#tagged_get)*
                        _ => out.unknown_tagged_fields.push_sorted(tag, data),
                    }
                }
            },
        )
    };
    let (len_section, put_section, get_section) = if flexible_any {
        let unknown_check = not_flexible.guard(quote! {
            if !self.unknown_tagged_fields.is_empty() {
                return Err(EncodeErrorKind::tagged_fields_not_supported(version, #label));
            }
        });
        let put_flexible = flexible.guard(put_tagged);
        (flexible.guard(len_tagged), quote!(#unknown_check #put_flexible), flexible.guard(get_tagged))
    } else {
        (quote!(), quote!(), quote!())
    };
    let utf_init = flexible_any.then(|| quote!(unknown_tagged_fields: UnknownTaggedFields::new(),));
    let mutable = if flexible_any { quote!(mut) } else { quote!() };
    let min_len = min_len(cx, fields, free);
    Ok(quote! {
        /// Any version: each field is read or written where the version has it.
        impl Wire for #ident {
            const MIN_LEN: usize = #min_len;
            fn wire_len(&self, _compact: bool, version: i16) -> usize {
                let mut n = 0;
                #(#len)*
                #len_section
                n
            }
            fn wire_put(&self, buf: &mut Encoder, _compact: bool, version: i16, _field: Field) -> Result<(), EncodeError> {
                #(#put)*
                #put_section
                Ok(())
            }
            fn wire_get(buf: &mut Bytes, _compact: bool, version: i16, _field: Field) -> Result<Self, DecodeError> {
                let #mutable out = Self { #(#get)* #utf_init };
                #get_section
                Ok(out)
            }
        }
    })
}

/// The fewest bytes the struct takes at any version, as a constant expression: per version,
/// the minimum of each regular field's type (its non-null type where the version does not allow
/// null) plus one for the tagged-field count of a flexible version; the least over the versions
/// (one sum per distinct layout). Arrays check element counts against it before reserving
/// (the allocation bound of `kafka-wire`'s docs).
fn min_len(cx: Cx, fields: &[FreeField], free: &FreeMessage) -> TokenStream {
    let (Some(lo), Some(hi)) = (free.versions.min(), free.versions.max()) else { return quote!(0) };
    let mut layouts: Vec<(String, TokenStream)> = Vec::new();
    for v in lo..=hi {
        let terms: Vec<TokenStream> = fields
            .iter()
            .filter(|f| f.versions.contains(v) && !f.tag.is_some_and(|(_, tv)| tv.contains(v)))
            .map(|f| {
                let ty = if f.nullable_versions.contains(v) {
                    structs::field_type(cx, &as_field(f))
                } else {
                    structs::field_type(cx, &as_plain_field(f))
                };
                quote!(<#ty as Wire>::MIN_LEN)
            })
            .chain(free.flexible.contains(v).then(|| quote!(1)))
            .collect();
        let sum = if terms.is_empty() { quote!(0) } else { quote!(#(#terms)+*) };
        // Versions with the same layout give the same sum: emit it once.
        let key = sum.to_string();
        if !layouts.iter().any(|(k, _)| *k == key) {
            layouts.push((key, sum));
        }
    }
    match layouts.as_slice() {
        [(_, only)] => only.clone(),
        _ => {
            let sums = layouts.iter().map(|(_, s)| s);
            quote!(codec::min_len_of(&[#(#sums),*]))
        }
    }
}

/// The index of the version-free struct of a per-version struct.
fn free_id(msg: &Message, per_version: usize) -> Result<usize> {
    let name = &msg.structs[per_version].schema_name;
    msg.free
        .structs
        .iter()
        .position(|s| &s.schema_name == name)
        .ok_or_else(|| anyhow!("{}: no version-free struct {name}", msg.name))
}

/// The path of a per-version struct from the version-free module: `super::v4::FetchPartition`.
fn versioned_path(msg: &Message, per_version: usize) -> TokenStream {
    let d = &msg.structs[per_version];
    let m = naming::version_ident(d.first_version);
    let i = naming::ident(&d.rust_name);
    quote!(super::#m::#i)
}

/// `#[cfg(feature = "unstable")]` for items of an unstable version.
fn cfg_unstable(msg: &Message, version: i16) -> TokenStream {
    if msg.version(version).unstable {
        quote!(#[cfg(feature = "unstable")])
    } else {
        quote!()
    }
}

/// The name of the conversion method into per-version struct `d` (defined first in version
/// `first`): `to_v4`.
fn to_method(first: i16) -> Ident {
    naming::ident(&format!("to_v{first}"))
}

/// Expression converting per-version value `e` (of field `pf`) into the version-free field `ff`.
/// Arrays of structs go through `vec_from`, options through a `match` (no closures: each would
/// be a function of its own).
fn value_in(msg: &Message, pf: &Field, ff: &FreeField, e: TokenStream) -> Result<TokenStream> {
    let converts =
        matches!(&pf.ty, Type::Struct(_)) || matches!(&pf.ty, Type::Array(t) if matches!(t.as_ref(), Type::Struct(_)));
    let inner = |x: TokenStream| -> TokenStream {
        match &pf.ty {
            Type::Struct(_) => quote!(From::from(#x)),
            Type::Array(t) if matches!(t.as_ref(), Type::Struct(_)) => quote!(vec_from(#x)),
            _ => x,
        }
    };
    Ok(match (pf.nullable, ff.nullable()) {
        (true, true) if !converts => e,
        (true, true) => {
            let i = inner(quote!(v));
            quote!(match #e { Some(v) => Some(#i), None => None })
        }
        (false, true) => {
            let i = inner(e);
            quote!(Some(#i))
        }
        (false, false) => inner(e),
        (true, false) => bail!("{}.{}: nullable in a version but not version-free", msg.name, pf.name),
    })
}

/// Expression converting version-free value `e` (field `ff`) into per-version field `pf`, in
/// a function with `version` in scope and returning `Result<_, EncodeError>`.
fn value_out(msg: &Message, pf: &Field, ff: &FreeField, label: &str, e: TokenStream) -> Result<TokenStream> {
    // The version-free struct of an array's elements, whose `to_vN` converts each.
    let element_free = match &pf.ty {
        Type::Array(t) => match t.as_ref() {
            Type::Struct(id) => Some(naming::ident(&msg.free.structs[free_id(msg, *id)?].rust_name)),
            _ => None,
        },
        _ => None,
    };
    let inner = |x: TokenStream| -> TokenStream {
        match &pf.ty {
            Type::Struct(id) => {
                let m = to_method(msg.structs[*id].first_version);
                quote!(tri!(#x.#m(version)))
            }
            Type::Array(t) => match t.as_ref() {
                Type::Struct(id) => {
                    let m = to_method(msg.structs[*id].first_version);
                    let free = &element_free;
                    quote!(tri!(vec_to(#x, version, #free::#m)))
                }
                _ => x,
            },
            _ => x,
        }
    };
    Ok(match (ff.nullable(), pf.nullable) {
        (true, true) => {
            let i = inner(quote!(v));
            quote!(match #e { Some(v) => Some(#i), None => None })
        }
        (true, false) => {
            let i = inner(quote!(v));
            quote!(match #e { Some(v) => #i, None => return Err(EncodeErrorKind::null_not_allowed(version, #label)) })
        }
        (false, false) => inner(e),
        (false, true) => bail!("{}.{}: nullable in a version but not version-free", msg.name, pf.name),
    })
}

/// `From<per-version>` and the `to_vN` method for one per-version body `body` (struct `target`
/// of `msg`, at path `path`) and its version-free struct (`ident`, `fields`).
fn conversions(
    cx: Cx,
    ident: &Ident,
    label: &str,
    fields: &[FreeField],
    body: &StructBody,
    path: &TokenStream,
    first: i16,
) -> Result<(TokenStream, TokenStream)> {
    let msg = cx.msg;
    let flexible_any = !msg.free.flexible.intersect(msg.free.versions).is_empty();
    // In: every version-free field from the per-version one, or its default.
    let mut ins = Vec::new();
    for ff in fields {
        let id = naming::field_ident(&ff.name);
        match body.fields.iter().find(|pf| pf.name == ff.name) {
            Some(pf) => {
                let v = value_in(msg, pf, ff, quote!(v.#id))?;
                ins.push(quote!(#id: #v,));
            }
            None => {
                let d = structs::default_expr(cx, &as_field(ff))?;
                ins.push(quote!(#id: #d,));
            }
        }
    }
    if flexible_any {
        if body.flexible {
            ins.push(quote!(unknown_tagged_fields: v.unknown_tagged_fields,));
        } else {
            ins.push(quote!(unknown_tagged_fields: UnknownTaggedFields::new(),));
        }
    }
    let unused = if body.fields.is_empty() && !body.flexible { quote!(_v) } else { quote!(v) };
    let from = quote! {
        impl From<#path> for #ident {
            fn from(#unused: #path) -> Self {
                Self { #(#ins)* }
            }
        }
    };
    // Out: the per-version fields; a version-free field the version lacks must hold its
    // default unless ignorable.
    let mut checks = Vec::new();
    let mut outs = Vec::new();
    for ff in fields {
        let id = naming::field_ident(&ff.name);
        let fl = format!("{label}.{}", ff.name);
        match body.fields.iter().find(|pf| pf.name == ff.name) {
            Some(pf) => {
                let v = value_out(msg, pf, ff, &fl, quote!(self.#id))?;
                outs.push(quote!(#id: #v,));
            }
            None if ff.ignorable => {}
            None => {
                let is_def = structs::is_default(cx, &as_field(ff), &quote!(self.#id))?;
                checks.push(quote! {
                    if !(#is_def) {
                        return Err(EncodeErrorKind::unsupported_field(version, #fl));
                    }
                });
            }
        }
    }
    if body.flexible {
        outs.push(quote!(unknown_tagged_fields: self.unknown_tagged_fields,));
    } else if flexible_any {
        checks.push(quote! {
            if !self.unknown_tagged_fields.is_empty() {
                return Err(EncodeErrorKind::tagged_fields_not_supported(version, #label));
            }
        });
    }
    let m = to_method(first);
    let doc = format!(" This value as the `{label}` of version {first} (and the versions sharing its fields).");
    let to = quote! {
        #[doc = #doc]
        #[allow(unused_variables)]
        fn #m(self, version: i16) -> Result<#path, EncodeError> {
            #(#checks)*
            Ok(#path { #(#outs)* })
        }
    };
    Ok((from, to))
}

/// Every version-free item of `msg`: its nested structs, the top-level struct `top` and the
/// conversions from and to each version's types (`vN::<top_per_version>`), the latter under
/// the attributes `gate` (the `versioned` feature for an API, nothing for a header or data
/// schema, whose per-version types are always built).
pub fn items(msg: &Message, top: &Ident, top_per_version: &Ident, doc: &str, gate: TokenStream) -> Result<TokenStream> {
    let cx = Cx::version_free(msg);
    let free = &msg.free;
    let mut out = Vec::new();
    // Nested structs.
    for (i, s) in free.structs.iter().enumerate() {
        let ident = naming::ident(&s.rust_name);
        if ident == *top {
            bail!("{}: a nested struct has the message's own name", msg.name);
        }
        let sdoc = s.about.as_deref().map(structs::about_markdown).unwrap_or_else(|| format!("`{}`", s.schema_name));
        let sdoc = format!("{sdoc}\n\nVersion-free: the fields of every version.");
        out.push(emit_struct(cx, &ident, &s.schema_name, &sdoc, &s.fields, free, true)?);
        // Conversions with each per-version definition of it.
        let mut tos = Vec::new();
        for (pid, d) in msg.structs.iter().enumerate() {
            if d.schema_name != s.schema_name {
                continue;
            }
            debug_assert_eq!(free_id(msg, pid)?, i);
            let path = versioned_path(msg, pid);
            let (from, to) = conversions(cx, &ident, &s.schema_name, &s.fields, &d.body, &path, d.first_version)?;
            let cfg = cfg_unstable(msg, d.first_version);
            out.push(quote!(#gate #cfg #from));
            tos.push(quote!(#cfg #to));
        }
        out.push(quote!(#gate impl #ident { #(#tos)* }));
    }
    // The top-level struct.
    out.push(emit_struct(cx, top, &msg.name, doc, &free.fields, free, false)?);
    let mut tos = Vec::new();
    for mv in &msg.versions {
        let m = naming::version_ident(mv.version);
        let path = quote!(super::#m::#top_per_version);
        let (from, to) = conversions(cx, top, &msg.name, &free.fields, &mv.body, &path, mv.version)?;
        let cfg = cfg_unstable(msg, mv.version);
        out.push(quote!(#gate #cfg #from));
        let v = mv.version;
        let m = to_method(v);
        out.push(quote! {
            #gate
            #cfg
            impl TryFrom<#top> for #path {
                type Error = EncodeError;
                fn try_from(v: #top) -> Result<Self, EncodeError> {
                    match v.#m(#v) {
                        Ok(x) => Ok(x),
                        Err(e) => Err(e.in_message(<#path as Message>::NAME, #v)),
                    }
                }
            }
        });
        tos.push(quote!(#cfg #to));
    }
    out.push(quote!(#gate impl #top { #(#tos)* }));
    Ok(quote!(#(#out)*))
}
