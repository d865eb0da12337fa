//! Emits one struct: its definition, `Default`, the `Wire` impl (size, encode, decode) and,
//! behind the `samples` feature, a sample value.

use anyhow::{bail, Result};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use crate::model::{Field, Message, StructBody, Type, Value};
use crate::naming;

/// The message whose structs are being emitted (for struct names), and whether struct ids
/// index its version-free structs (`free`) or its per-version ones.
#[derive(Clone, Copy)]
pub struct Cx<'a> {
    pub msg: &'a Message,
    pub free: bool,
}

impl<'a> Cx<'a> {
    /// Per-version structs of `msg`.
    pub fn versioned(msg: &'a Message) -> Self {
        Cx { msg, free: false }
    }

    /// Version-free structs of `msg`.
    pub fn version_free(msg: &'a Message) -> Self {
        Cx { msg, free: true }
    }

    pub fn struct_ident(&self, id: usize) -> Ident {
        if self.free {
            naming::ident(&self.msg.free.structs[id].rust_name)
        } else {
            naming::ident(&self.msg.structs[id].rust_name)
        }
    }
}

/// The Rust type of a schema type.
pub fn rust_type(cx: Cx, ty: &Type) -> TokenStream {
    match ty {
        Type::Bool => quote!(bool),
        Type::Int8 => quote!(i8),
        Type::Int16 => quote!(i16),
        Type::Int32 => quote!(i32),
        Type::Int64 => quote!(i64),
        Type::Uint16 => quote!(u16),
        Type::Uint32 => quote!(u32),
        Type::Float64 => quote!(f64),
        Type::String => quote!(ByteString),
        Type::Bytes => quote!(Bytes),
        Type::Records => quote!(Records),
        Type::Uuid => quote!(Uuid),
        Type::Struct(id) => {
            let i = cx.struct_ident(*id);
            quote!(#i)
        }
        Type::Array(inner) => {
            let t = rust_type(cx, inner);
            match inline_elements(inner) {
                Some(n) => {
                    let n = Literal::usize_unsuffixed(n);
                    quote!(SmallVec<[#t; #n]>)
                }
                None => quote!(Vec<#t>),
            }
        }
    }
}

/// How many elements an array of `elem` keeps inline, if it is an array of fixed-width values:
/// 16 bytes' worth, so that the `SmallVec` is no larger than a `Vec` and the usual short lists
/// (the replicas of a partition, a few partition indexes) decode without an allocation. Arrays of
/// anything else are `Vec`s.
pub fn inline_elements(elem: &Type) -> Option<usize> {
    let width = match elem {
        Type::Bool | Type::Int8 => 1,
        Type::Int16 | Type::Uint16 => 2,
        Type::Int32 | Type::Uint32 => 4,
        Type::Int64 | Type::Float64 => 8,
        Type::Uuid => 16,
        Type::String | Type::Bytes | Type::Records | Type::Struct(_) | Type::Array(_) => return None,
    };
    Some(16 / width)
}

/// Whether the field is an error code that gets the `ErrorCode` type.
fn is_error_code(f: &Field) -> bool {
    f.ty == Type::Int16 && crate::special::is_error_code_field(&f.name)
}

/// The Rust type of a field's value (without the `Option` of nullable fields).
pub fn value_type(cx: Cx, f: &Field) -> TokenStream {
    if is_error_code(f) {
        quote!(ErrorCode)
    } else {
        rust_type(cx, &f.ty)
    }
}

/// The Rust type of a field (nullable fields are `Option`).
pub fn field_type(cx: Cx, f: &Field) -> TokenStream {
    let t = value_type(cx, f);
    if f.nullable {
        quote!(Option<#t>)
    } else {
        t
    }
}

/// An integer literal that works for every width, `i64::MIN` included.
pub fn int_lit(v: i64) -> TokenStream {
    let abs = Literal::u64_unsuffixed(v.unsigned_abs());
    if v < 0 {
        quote!(-#abs)
    } else {
        quote!(#abs)
    }
}

pub fn float_lit(v: f64) -> TokenStream {
    let abs = Literal::f64_unsuffixed(v.abs());
    if v.is_sign_negative() {
        quote!(-#abs)
    } else {
        quote!(#abs)
    }
}

fn uuid_expr(bytes: &[u8; 16]) -> TokenStream {
    if bytes == &[0; 16] {
        quote!(Uuid::ZERO)
    } else {
        let b = bytes.iter().map(|b| Literal::u8_unsuffixed(*b));
        quote!(Uuid::from_bytes([#(#b),*]))
    }
}

/// The non-null value `value` of type `ty`, as a typed expression.
fn value_expr(cx: Cx, ty: &Type, value: &Value) -> Result<TokenStream> {
    Ok(match (ty, value) {
        (Type::Bool, Value::Bool(b)) => quote!(#b),
        (Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64 | Type::Uint16 | Type::Uint32, Value::Int(i)) => {
            int_lit(*i)
        }
        (Type::Float64, Value::Float(bits)) => float_lit(f64::from_bits(*bits)),
        (Type::String, Value::Str(s)) => quote!(ByteString::from_static(#s)),
        (Type::Uuid, Value::Uuid(b)) => uuid_expr(b),
        (Type::Bytes, Value::Empty) => quote!(Bytes::new()),
        (Type::Records, Value::Empty) => quote!(Records::new()),
        (Type::Array(_), Value::Empty) => {
            let t = rust_type(cx, ty);
            quote!(<#t>::new())
        }
        (Type::Struct(id), Value::Empty) => {
            let i = cx.struct_ident(*id);
            quote!(#i::default())
        }
        _ => bail!("default {value:?} does not fit type {ty:?}"),
    })
}

/// The default value of a field, as a typed expression.
pub fn default_expr(cx: Cx, f: &Field) -> Result<TokenStream> {
    if f.default == Value::Null {
        return Ok(quote!(None));
    }
    let v = value_expr(cx, &f.ty, &f.default)?;
    let v = if is_error_code(f) { quote!(ErrorCode(#v)) } else { v };
    Ok(if f.nullable { quote!(Some(#v)) } else { v })
}

/// A boolean expression: is `expr` (the field's value) equal to the field's default?
pub fn is_default(cx: Cx, f: &Field, expr: &TokenStream) -> Result<TokenStream> {
    Ok(match (&f.default, &f.ty, f.nullable) {
        (Value::Null, _, _) => quote!(#expr.is_none()),
        (Value::Empty, Type::Array(_) | Type::Bytes | Type::Records, false) => quote!(#expr.is_empty()),
        (Value::Empty, Type::Array(_) | Type::Bytes | Type::Records, true) => {
            quote!(#expr.as_ref().is_some_and(|v| v.is_empty()))
        }
        _ => {
            let d = default_expr(cx, f)?;
            quote!(#expr == #d)
        }
    })
}

/// Whether the schema default is what Rust's `Default` gives (so `Default` can be derived).
fn is_rust_default(f: &Field) -> bool {
    if f.nullable {
        return f.default == Value::Null;
    }
    match &f.default {
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(bits) => *bits == 0,
        Value::Str(s) => s.is_empty(),
        Value::Uuid(b) => b == &[0; 16],
        Value::Empty => true,
        Value::Null => false,
    }
}

/// The default as documentation text.
fn default_text(f: &Field) -> String {
    let v = match &f.default {
        Value::Null => return "None".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(bits) => format!("{:?}", f64::from_bits(*bits)),
        Value::Str(s) => format!("{s:?}"),
        Value::Uuid(b) => crate::model::kafka_uuid_text(b),
        Value::Empty => match f.ty {
            Type::Struct(_) => "Default::default()".to_owned(),
            _ => "empty".to_owned(),
        },
    };
    if f.nullable {
        format!("Some({v})")
    } else {
        v
    }
}

pub fn doc_attrs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}

/// Doc comment of a field: `about`, then the facts about its encoding.
/// Schema `about` text as Markdown: brackets are literal there, not links.
pub fn about_markdown(about: &str) -> String {
    about.replace('[', "\\[").replace(']', "\\]")
}

fn field_doc(f: &Field) -> TokenStream {
    let mut text = f.about.as_deref().map(about_markdown).unwrap_or_default();
    let mut facts = Vec::new();
    if let Some(tag) = f.tag {
        facts.push(format!("Tagged field, tag {tag}."));
    }
    if !is_rust_default(f) {
        facts.push(format!("Default: `{}`.", default_text(f)));
    }
    if !facts.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&facts.join(" "));
    }
    doc_attrs(&text)
}

/// What to emit for one struct.
pub struct StructSpec<'a> {
    pub ident: Ident,
    /// `StructName` in field labels of errors (the schema name).
    pub label: String,
    pub doc: String,
    pub body: &'a StructBody,
    /// Nested structs can be nullable fields (`Option<T>` with a marker byte).
    pub nested: bool,
}

pub fn emit_struct(cx: Cx, s: &StructSpec) -> Result<TokenStream> {
    let ident = &s.ident;
    let body = s.body;
    let doc = doc_attrs(&s.doc);
    let derive_default = body.fields.iter().all(is_rust_default);

    let mut defs = Vec::new();
    for f in &body.fields {
        let id = naming::field_ident(&f.name);
        let ty = field_type(cx, f);
        let d = field_doc(f);
        defs.push(quote!(#d pub #id: #ty,));
    }
    if body.flexible {
        defs.push(quote!(
            /// Tagged fields this version does not know, kept to be written back unchanged.
            pub unknown_tagged_fields: UnknownTaggedFields,
        ));
    }
    let utf_default = body.flexible.then(|| quote!(unknown_tagged_fields: UnknownTaggedFields::new(),));

    let (derives, default_impl) = if derive_default {
        (quote!(#[derive(Debug, Clone, PartialEq, Default)]), quote!())
    } else {
        let inits = body
            .fields
            .iter()
            .map(|f| {
                let id = naming::field_ident(&f.name);
                let d = default_expr(cx, f)?;
                Ok(quote!(#id: #d,))
            })
            .collect::<Result<Vec<_>>>()?;
        (
            quote!(#[derive(Debug, Clone, PartialEq)]),
            quote!(
                impl Default for #ident {
                    fn default() -> Self {
                        Self { #(#inits)* #utf_default }
                    }
                }
            ),
        )
    };

    let wire = wire_impl(cx, s)?;
    let marker = if s.nested { quote!(impl WireStruct for #ident {}) } else { quote!() };
    let sample = sample_impl(cx, s)?;
    let arbitrary = arbitrary_impl(s);
    Ok(quote! {
        #doc
        #derives
        pub struct #ident { #(#defs)* }
        #default_impl
        #wire
        #marker
        #sample
        #arbitrary
    })
}

/// `arbitrary::Arbitrary` (feature `arbitrary`), field by field through `ArbitraryWire`.
fn arbitrary_impl(s: &StructSpec) -> TokenStream {
    let ident = &s.ident;
    let mut inits: Vec<TokenStream> = s
        .body
        .fields
        .iter()
        .map(|f| {
            let id = naming::field_ident(&f.name);
            quote!(#id: crate::arbitrary_support::ArbitraryWire::arbitrary_wire(u)?,)
        })
        .collect();
    if s.body.flexible {
        inits.push(quote!(unknown_tagged_fields: crate::arbitrary_support::ArbitraryWire::arbitrary_wire(u)?,));
    }
    let unused = if inits.is_empty() { quote!(_u) } else { quote!(u) };
    quote! {
        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for #ident {
            fn arbitrary(#unused: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
                Ok(Self { #(#inits)* })
            }
        }
        #[cfg(feature = "arbitrary")]
        impl crate::arbitrary_support::ArbitraryWire for #ident {
            fn arbitrary_wire(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Self> {
                <Self as arbitrary::Arbitrary>::arbitrary(u)
            }
        }
    }
}

fn wire_impl(cx: Cx, s: &StructSpec) -> Result<TokenStream> {
    let ident = &s.ident;
    let body = s.body;
    let label = &s.label;
    let regular: Vec<&Field> = body.fields.iter().filter(|f| f.tag.is_none()).collect();
    let mut tagged: Vec<&Field> = body.fields.iter().filter(|f| f.tag.is_some()).collect();
    tagged.sort_by_key(|f| f.tag);
    if !body.flexible && !tagged.is_empty() {
        bail!("{label}: tagged fields in a non-flexible version");
    }
    let flabel = |f: &Field| format!("{label}.{}", f.name);

    let min_terms = regular.iter().map(|f| {
        let t = field_type(cx, f);
        quote!(+ <#t as Wire>::MIN_LEN)
    });
    let min_flex = body.flexible.then(|| quote!(+ 1));

    // Size.
    let len_regular = regular.iter().map(|f| {
        let id = naming::field_ident(&f.name);
        let c = f.compact;
        quote!(n += Wire::wire_len(&self.#id, #c, version);)
    });
    let mut len_tagged = quote!();
    let mut put_tagged = quote!();
    if body.flexible && tagged.is_empty() {
        len_tagged = quote!(n += self.unknown_tagged_fields.section_len(););
        put_tagged = quote!(self.unknown_tagged_fields.encode_section(buf, #label)?;);
    } else if body.flexible {
        let mut len_parts = Vec::new();
        let mut count_parts = Vec::new();
        let mut put_parts = Vec::new();
        for f in &tagged {
            let id = naming::field_ident(&f.name);
            let tag = f.tag.unwrap();
            let expr = quote!(self.#id);
            let is_def = is_default(cx, f, &expr)?;
            let fl = flabel(f);
            len_parts.push(quote! {
                if !(#is_def) {
                    count += 1;
                    body += codec::tagged_field_len(#tag, Wire::wire_len(&self.#id, true, version));
                }
            });
            count_parts.push(quote!(+ usize::from(!(#is_def))));
            put_parts.push(quote! {
                if !(#is_def) {
                    w.field(buf, #tag, &self.#id, version, #fl)?;
                }
            });
        }
        len_tagged = quote! {
            let mut count = self.unknown_tagged_fields.len();
            let mut body = self.unknown_tagged_fields.body_len();
            #(#len_parts)*
            n += codec::uvarint_len(count as u32) + body;
        };
        put_tagged = quote! {
            let known = 0 #(#count_parts)*;
            let mut w = codec::TaggedWriter::begin(buf, known, &self.unknown_tagged_fields, #label)?;
            #(#put_parts)*
            w.finish(buf)?;
        };
    }

    let put_regular = regular.iter().map(|f| {
        let id = naming::field_ident(&f.name);
        let c = f.compact;
        let fl = flabel(f);
        quote!(Wire::wire_put(&self.#id, buf, #c, version, #fl)?;)
    });

    // Decode: regular fields in wire order inside the struct literal (evaluated in the order
    // written), tagged fields start at their defaults and are filled from the tagged section.
    let mut inits = Vec::new();
    for f in &body.fields {
        let id = naming::field_ident(&f.name);
        if f.tag.is_some() {
            let d = default_expr(cx, f)?;
            inits.push(quote!(#id: #d,));
        } else {
            let t = field_type(cx, f);
            let c = f.compact;
            let fl = flabel(f);
            inits.push(quote!(#id: tri!(<#t as Wire>::wire_get(buf, #c, version, #fl)),));
        }
    }
    let get = if !body.flexible {
        quote!(Ok(Self { #(#inits)* }))
    } else if tagged.is_empty() {
        quote!(Ok(Self { #(#inits)* unknown_tagged_fields: UnknownTaggedFields::decode_section(buf, #label)?, }))
    } else {
        let arms = tagged.iter().map(|f| {
            let id = naming::field_ident(&f.name);
            let tag = f.tag.unwrap();
            let fl = flabel(f);
            quote!(#tag => out.#id = tri!(codec::get_tagged(#tag, data, version, #fl)),)
        });
        quote! {
            let mut out = Self { #(#inits)* unknown_tagged_fields: UnknownTaggedFields::new(), };
            let mut tags = codec::TaggedReader::new(buf, #label)?;
            while let Some((tag, data)) = tags.next(buf)? {
                match tag {
                    #(#arms)*
                    _ => out.unknown_tagged_fields.push_sorted(tag, data),
                }
            }
            Ok(out)
        }
    };

    if body.fields.is_empty() && !body.flexible {
        return Ok(quote! {
            impl Wire for #ident {
                const MIN_LEN: usize = 0;
                fn wire_len(&self, _compact: bool, _version: i16) -> usize {
                    0
                }
                fn wire_put(&self, _buf: &mut Encoder, _compact: bool, _version: i16, _field: Field) -> Result<(), EncodeError> {
                    Ok(())
                }
                fn wire_get(_buf: &mut Bytes, _compact: bool, _version: i16, _field: Field) -> Result<Self, DecodeError> {
                    Ok(Self {})
                }
            }
        });
    }
    // Per-version structs pass the version on to their fields, which ignore it (only the
    // version-free structs read it); a struct without fields does not use it.
    let version = if body.fields.is_empty() { quote!(_version) } else { quote!(version) };
    Ok(quote! {
        impl Wire for #ident {
            const MIN_LEN: usize = 0 #(#min_terms)* #min_flex;
            fn wire_len(&self, _compact: bool, #version: i16) -> usize {
                let mut n = 0;
                #(#len_regular)*
                #len_tagged
                n
            }
            fn wire_put(&self, buf: &mut Encoder, _compact: bool, #version: i16, _field: Field) -> Result<(), EncodeError> {
                #(#put_regular)*
                #put_tagged
                Ok(())
            }
            fn wire_get(buf: &mut Bytes, _compact: bool, #version: i16, _field: Field) -> Result<Self, DecodeError> {
                #get
            }
        }
    })
}

// ---- samples -----------------------------------------------------------------------------------

fn sample_impl(cx: Cx, s: &StructSpec) -> Result<TokenStream> {
    let ident = &s.ident;
    let mut inits = Vec::new();
    for (i, f) in s.body.fields.iter().enumerate() {
        let id = naming::field_ident(&f.name);
        let v = sample_field(cx, f, i)?;
        inits.push(quote!(#id: #v,));
    }
    if s.body.flexible {
        if s.body.fields.iter().any(|f| f.tag == Some(200)) {
            bail!("{}: known tag 200 collides with the samples' unknown tag", s.label);
        }
        inits.push(quote!(unknown_tagged_fields: crate::samples::unknown_tagged_fields(),));
    }
    Ok(quote! {
        #[cfg(feature = "samples")]
        impl crate::samples::Sample for #ident {
            fn sample() -> Self {
                Self { #(#inits)* }
            }
        }
    })
}

/// A value of the field that differs from its default.
fn sample_field(cx: Cx, f: &Field, salt: usize) -> Result<TokenStream> {
    let v = sample_value(cx, f, &f.ty, salt)?;
    let v = if is_error_code(f) { quote!(ErrorCode(#v)) } else { v };
    Ok(if f.nullable { quote!(Some(#v)) } else { v })
}

fn sample_value(cx: Cx, f: &Field, ty: &Type, salt: usize) -> Result<TokenStream> {
    let default = if f.nullable && f.default == Value::Null { None } else { Some(&f.default) };
    let int = |min: i64, max: i64| {
        let d = match default {
            Some(Value::Int(i)) => *i,
            _ => 0,
        };
        let step = 1 + (salt as i64 % 13);
        let v = if d <= max - step { d + step } else { d - step };
        debug_assert!(v >= min && v != d);
        int_lit(v)
    };
    Ok(match ty {
        Type::Bool => {
            let v = !matches!(default, Some(Value::Bool(true)));
            quote!(#v)
        }
        Type::Int8 => int(i8::MIN.into(), i8::MAX.into()),
        Type::Int16 => int(i16::MIN.into(), i16::MAX.into()),
        Type::Int32 => int(i32::MIN.into(), i32::MAX.into()),
        Type::Int64 => int(i64::MIN, i64::MAX),
        Type::Uint16 => int(0, u16::MAX.into()),
        Type::Uint32 => int(0, u32::MAX.into()),
        Type::Float64 => {
            let d = match default {
                Some(Value::Float(b)) => f64::from_bits(*b),
                _ => 0.0,
            };
            float_lit(d + 1.5 + salt as f64)
        }
        Type::String => {
            let s = format!("{}-{salt}", f.name);
            quote!(ByteString::from_static(#s))
        }
        Type::Bytes => {
            let b = Literal::byte_string(format!("{}-bytes", f.name).as_bytes());
            quote!(Bytes::from_static(#b))
        }
        Type::Records => {
            let b = Literal::byte_string(format!("{}-bytes", f.name).as_bytes());
            quote!(Records::from_bytes(Bytes::from_static(#b)))
        }
        Type::Uuid => {
            let v = Literal::u128_unsuffixed(0x0123_4567_89ab_cdef_0011_2233_4455_6677 + salt as u128);
            quote!(Uuid::from_u128(#v))
        }
        Type::Struct(id) => {
            let i = cx.struct_ident(*id);
            quote!(<#i as crate::samples::Sample>::sample())
        }
        Type::Array(inner) => {
            let elem = match inner.as_ref() {
                Type::Struct(_) => {
                    let e = sample_value(cx, f, inner, salt)?;
                    vec![e.clone(), e]
                }
                _ => {
                    // Elements: two distinct non-zero values.
                    let plain = Field { default: Value::Int(0), nullable: false, ..f.clone() };
                    let plain = match inner.as_ref() {
                        Type::Bool => Field { default: Value::Bool(false), ..plain },
                        Type::Float64 => Field { default: Value::Float(0), ..plain },
                        _ => plain,
                    };
                    vec![sample_value(cx, &plain, inner, salt)?, sample_value(cx, &plain, inner, salt + 1)?]
                }
            };
            if inline_elements(inner).is_some() {
                quote!(smallvec![#(#elem),*])
            } else {
                quote!(vec![#(#elem),*])
            }
        }
    })
}
