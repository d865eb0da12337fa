//! Emits the module of one API (or header/data schema): `mod.rs` with the any-version enums,
//! and one file per version with the request, the response and their nested structs.

use anyhow::{anyhow, bail, Result};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::structs::{emit_struct, Cx, StructSpec};
use super::GenFile;
use crate::model::{Api, Field, Message, MessageVersion, StructBody, Type};
use crate::naming;
use crate::schema::MessageKind;
use crate::special;

/// The attribute of every per-version item of an API (its `vN` modules, `AnyRequest`,
/// `AnyResponse` and the conversions): the default-on `versioned` feature.
pub(super) fn cfg_versioned() -> TokenStream {
    quote!(#[cfg(feature = "versioned")])
}

fn cfg_unstable(unstable: bool) -> TokenStream {
    if unstable {
        quote!(#[cfg(feature = "unstable")])
    } else {
        quote!()
    }
}

/// The nested structs of one version of a message: defined here if this is the first version
/// using that definition, re-exported from that version otherwise.
fn nested_structs(cx: Cx, mv: &MessageVersion) -> Result<Vec<TokenStream>> {
    let mut out = Vec::new();
    for &id in &mv.structs {
        let def = &cx.msg.structs[id];
        let ident = naming::ident(&def.rust_name);
        if def.first_version == mv.version {
            let doc = def
                .about
                .as_deref()
                .map(super::structs::about_markdown)
                .unwrap_or_else(|| format!("`{}`", def.schema_name));
            out.push(emit_struct(
                cx,
                &StructSpec { ident, label: def.schema_name.clone(), doc, body: &def.body, nested: true },
            )?);
        } else {
            let from = naming::version_ident(def.first_version);
            out.push(quote!(pub use super::#from::#ident;));
        }
    }
    Ok(out)
}

fn top_doc(msg: &Message, mv: &MessageVersion) -> String {
    let mut doc = format!("`{}` version {}", msg.name, mv.version);
    doc.push_str(if mv.flexible { " (flexible)." } else { "." });
    if mv.deprecated {
        doc.push_str("\n\n**Deprecated** by Kafka (`deprecatedVersions`): still valid on the wire.");
    }
    if mv.unstable {
        doc.push_str("\n\n**Unstable** (`latestVersionUnstable`): may still change; behind the `unstable` feature.");
    }
    for note in special::message_doc_notes(&msg.name, Some(mv.version)) {
        doc.push_str("\n\n");
        doc.push_str(note);
    }
    doc
}

fn message_impl(ident: &Ident, msg: &Message, mv: &MessageVersion) -> TokenStream {
    let name = &msg.name;
    let v = mv.version;
    let dep = mv.deprecated;
    quote! {
        impl Message for #ident {
            const NAME: &'static str = #name;
            const VERSION: i16 = #v;
            const DEPRECATED: bool = #dep;
        }
    }
}

fn find_field<'a>(body: &'a StructBody, name: &str) -> Option<&'a Field> {
    body.fields.iter().find(|f| f.name == name)
}

/// One version file of an API.
fn api_version_file(api: &Api, v: i16) -> Result<TokenStream> {
    let req = api.request.version(v);
    let resp = api.response.version(v);
    let rcx = Cx::versioned(&api.request);
    let scx = Cx::versioned(&api.response);
    let variant = naming::variant_ident(&api.name);
    let req_ident = naming::ident("Request");
    let resp_ident = naming::ident("Response");
    let version_var = naming::version_variant(v);

    let req_struct = emit_struct(
        rcx,
        &StructSpec {
            ident: req_ident.clone(),
            label: api.request.name.clone(),
            doc: top_doc(&api.request, req),
            body: &req.body,
            nested: false,
        },
    )?;
    let resp_struct = emit_struct(
        scx,
        &StructSpec {
            ident: resp_ident.clone(),
            label: api.response.name.clone(),
            doc: top_doc(&api.response, resp),
            body: &resp.body,
            nested: false,
        },
    )?;
    let req_msg = message_impl(&req_ident, &api.request, req);
    let resp_msg = message_impl(&resp_ident, &api.response, resp);
    let req_header = special::request_header_version(&api.name, v, req.flexible);
    let resp_header = special::response_header_version(&api.name, resp.flexible);

    let mut expects = quote!();
    if let Some((_, field)) = special::NO_RESPONSE_WHEN_ZERO.iter().find(|(a, _)| *a == api.name) {
        let f = find_field(&req.body, field).ok_or_else(|| anyhow!("{} v{v}: no field {field}", api.request.name))?;
        let id = naming::field_ident(&f.name);
        expects = quote! {
            fn expects_response(&self) -> bool {
                self.#id != 0
            }
        };
    }

    let mut fallback = quote!();
    let mut from_v0 = quote!();
    if special::RESPONSE_V0_FALLBACK.contains(&api.name.as_str()) && v > api.min_version {
        let v0 = api.response.version(api.min_version);
        let from = naming::version_ident(api.min_version);
        let conv = convert_body(scx, &v0.body, &resp.body, &quote!(r), &quote!(Self))?;
        from_v0 = quote! {
            impl Response {
                /// The reply in the oldest version's format, converted: what a broker sends
                /// when it does not support the requested version.
                pub fn from_oldest_version(r: super::#from::Response) -> Self {
                    #conv
                }
            }
        };
        fallback = quote! {
            fn decode_body_from(body: &mut Bytes) -> Result<Self, DecodeError> {
                decode_body_with_v0_fallback::<Self, super::#from::Response>(body, Self::from_oldest_version)
            }
        };
    }

    let mut nested = nested_structs(rcx, req)?;
    nested.extend(nested_structs(scx, resp)?);
    let file_doc = format!(
        "`{}` (API key {}) version {v}: the request, the response and their nested structs.",
        api.name, api.key
    );
    Ok(quote! {
        #![doc = #file_doc]
        use crate::__gen::*;

        #req_struct
        #req_msg
        impl crate::VersionedRequest for Request {
            const API_KEY: ApiKey = ApiKey::#variant;
            const HEADER_VERSION: i16 = #req_header;
            type Response = Response;
            #expects
            fn into_any(self) -> crate::AnyRequest {
                crate::AnyRequest::#variant(super::AnyRequest::#version_var(self))
            }
        }

        #resp_struct
        #resp_msg
        impl crate::VersionedResponse for Response {
            const API_KEY: ApiKey = ApiKey::#variant;
            const HEADER_VERSION: i16 = #resp_header;
            type Request = Request;
            #fallback
            fn into_any(self) -> crate::AnyResponse {
                crate::AnyResponse::#variant(super::AnyResponse::#version_var(self))
            }
        }
        #from_v0

        #(#nested)*
    })
}

/// Converts `src` (a value of an older version's struct) into `dst_ty`, field by field by name;
/// fields the source lacks take their defaults.
fn convert_body(
    cx: Cx,
    src: &StructBody,
    dst: &StructBody,
    src_expr: &TokenStream,
    dst_ty: &TokenStream,
) -> Result<TokenStream> {
    let mut inits = Vec::new();
    for f in &dst.fields {
        let Some(sf) = src.fields.iter().find(|s| s.name == f.name) else { continue };
        let id = naming::field_ident(&f.name);
        let value = quote!(#src_expr.#id);
        let conv = convert_value(cx, sf, f, &sf.ty, &f.ty, value)?;
        inits.push(quote!(#id: #conv,));
    }
    Ok(quote!(#dst_ty { #(#inits)* ..Default::default() }))
}

fn convert_value(cx: Cx, sf: &Field, df: &Field, st: &Type, dt: &Type, value: TokenStream) -> Result<TokenStream> {
    if sf.nullable != df.nullable {
        bail!("field {}: nullability differs between versions; no conversion", df.name);
    }
    Ok(match (st, dt) {
        (Type::Struct(_), Type::Struct(_)) | (Type::Array(_), Type::Array(_)) if df.nullable => {
            bail!("field {}: nullable struct conversion is not supported", df.name)
        }
        (Type::Struct(s), Type::Struct(d)) => {
            let ident = cx.struct_ident(*d);
            let src = &cx_src_struct(cx, *s)?;
            convert_body(cx, src, &cx.msg.structs[*d].body, &value, &quote!(#ident))?
        }
        (Type::Array(a), Type::Array(b)) => match (a.as_ref(), b.as_ref()) {
            (Type::Struct(s), Type::Struct(d)) => {
                let ident = cx.struct_ident(*d);
                let src = cx_src_struct(cx, *s)?;
                let inner = convert_body(cx, &src, &cx.msg.structs[*d].body, &quote!(e), &quote!(#ident))?;
                quote!(#value.into_iter().map(|e| #inner).collect())
            }
            (x, y) if x == y => value,
            _ => bail!("field {}: array element types differ between versions", df.name),
        },
        (x, y) if x == y => value,
        _ => bail!("field {}: types differ between versions", df.name),
    })
}

fn cx_src_struct(cx: Cx, id: usize) -> Result<StructBody> {
    Ok(cx.msg.structs[id].body.clone())
}

/// `mod.rs` of an API: version modules and the any-version enums.
fn api_mod(api: &Api) -> Result<TokenStream> {
    let versions: Vec<i16> = (api.min_version..=api.max_version).collect();
    let key = api.key;
    let variant = naming::variant_ident(&api.name);
    let gate = cfg_versioned();
    let mods = versions.iter().map(|&v| {
        let m = naming::version_ident(v);
        let cfg = cfg_unstable(api.is_unstable(v));
        quote!(#gate #cfg pub mod #m;)
    });
    let cfgs: Vec<TokenStream> = versions.iter().map(|&v| cfg_unstable(api.is_unstable(v))).collect();
    let vars: Vec<Ident> = versions.iter().map(|&v| naming::version_variant(v)).collect();
    let mods_i: Vec<Ident> = versions.iter().map(|&v| naming::version_ident(v)).collect();
    let vs: Vec<i16> = versions.clone();

    let doc = format!(
        "The `{}` API (key {key}): versions {}–{}{}{}.",
        api.name,
        api.min_version,
        api.max_version,
        api.first_flexible.map(|f| format!(", flexible from {f}")).unwrap_or_default(),
        api.unstable_from.map(|u| format!(", unstable from {u}")).unwrap_or_default(),
    );
    // Without the `unstable` feature an API whose every version is unstable has empty enums.
    let allow = if api.max_stable().is_none() { quote!(#[allow(unused_variables)]) } else { quote!() };
    let req_doc = format!("A `{}` request of any version.", api.name);
    let resp_doc = format!("A `{}` response of any version.", api.name);
    // The APIs whose answers a client reads with a fallback: how, per version.
    let decode_answer = if special::RESPONSE_V0_FALLBACK.contains(&api.name.as_str()) {
        quote! {
            /// Reads the answer to a request of `version` from the front of `buf` as a client
            /// reads it ([`crate::VersionedResponse::decode_body_from`]: the v0-format reply of
            /// a broker that does not know `version`), leaving `buf` after it.
            pub fn decode_body(version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match version {
                    #(#cfgs #vs => Ok(Self::#vars(tri!(crate::VersionedResponse::decode_body_from(buf)))),)*
                    _ => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key: #key, version }, "")),
                }
            }
        }
    } else {
        quote!()
    };

    let sample = quote! {
        #[cfg(all(feature = "samples", feature = "versioned"))]
        impl AnyRequest {
            /// The sample request of `version`, if this build supports it.
            pub fn sample(version: i16) -> Option<Self> {
                match version {
                    #(#cfgs #vs => Some(Self::#vars(crate::samples::Sample::sample())),)*
                    _ => None,
                }
            }
        }
        #[cfg(all(feature = "samples", feature = "versioned"))]
        impl AnyResponse {
            /// The sample response of `version`, if this build supports it.
            pub fn sample(version: i16) -> Option<Self> {
                match version {
                    #(#cfgs #vs => Some(Self::#vars(crate::samples::Sample::sample())),)*
                    _ => None,
                }
            }
        }
        #[cfg(all(feature = "arbitrary", feature = "versioned"))]
        #allow
        impl AnyRequest {
            /// An arbitrary request of `version` (`None` if this build does not support it).
            pub fn arbitrary_of(version: i16, u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Self>> {
                Ok(match version {
                    #(#cfgs #vs => Some(Self::#vars(u.arbitrary()?)),)*
                    _ => None,
                })
            }
        }
        #[cfg(all(feature = "arbitrary", feature = "versioned"))]
        #allow
        impl AnyResponse {
            /// An arbitrary response of `version` (`None` if this build does not support it).
            pub fn arbitrary_of(version: i16, u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Self>> {
                Ok(match version {
                    #(#cfgs #vs => Some(Self::#vars(u.arbitrary()?)),)*
                    _ => None,
                })
            }
        }
    };

    // The error reply of each version: the response from `Default`, with the top-level
    // `ErrorCode` set where that version has one.
    let error_replies = versions
        .iter()
        .map(|&v| {
            let m = naming::version_ident(v);
            let var = naming::version_variant(v);
            let body = &api.response.version(v).body;
            match find_field(body, "ErrorCode") {
                Some(f) if f.ty == Type::Int16 && f.tag.is_none() => {
                    let id = naming::field_ident(&f.name);
                    quote!(AnyResponse::#var(#m::Response { #id: error, ..Default::default() }))
                }
                _ => quote!({ let _ = error; AnyResponse::#var(#m::Response::default()) }),
            }
        })
        .collect::<Vec<_>>();

    let mut ranges = quote!();
    if let Some((_, array, [k, lo, hi])) = special::VERSION_RANGE_LISTS.iter().find(|(a, _, _)| *a == api.name) {
        for &v in &versions {
            let body = &api.response.version(v).body;
            let f = find_field(body, array).ok_or_else(|| anyhow!("{} v{v}: no field {array}", api.response.name))?;
            let sid = f.ty.struct_id().ok_or_else(|| anyhow!("{array} is not an array of structs"))?;
            for name in [k, lo, hi] {
                find_field(&api.response.structs[sid].body, name)
                    .ok_or_else(|| anyhow!("{} v{v}: no field {array}.{name}", api.response.name))?;
            }
        }
        let (a, k, lo, hi) =
            (naming::field_ident(array), naming::field_ident(k), naming::field_ident(lo), naming::field_ident(hi));
        // The same two methods on the any-version enum, on each version's response and on the
        // version-free one: negotiation starts from whichever the caller holds.
        let methods = |ranges: TokenStream| {
            quote! {
                /// The `(api key, min version, max version)` entries the broker listed.
                pub fn api_ranges(&self) -> Vec<(i16, i16, i16)> {
                    #ranges
                }

                /// The version of each API that both the broker (this response) and this build
                /// support: [`crate::negotiate`] over [`Self::api_ranges`].
                pub fn negotiate(&self) -> crate::NegotiatedVersions {
                    crate::negotiate(self.api_ranges())
                }
            }
        };
        let each = quote!(self.#a.iter().map(|e| (e.#k, e.#lo, e.#hi)).collect());
        let any = methods(quote! {
            match *self {
                #(#cfgs Self::#vars(ref m) => m.api_ranges(),)*
            }
        });
        let one = methods(each);
        ranges = quote! {
            #gate
            #allow
            impl AnyResponse { #any }
            #(#gate #cfgs impl #mods_i::Response { #one })*
            impl Response { #one }
        };
    }

    Ok(quote! {
        #![doc = #doc]
        #[allow(unused_imports)] // without `versioned`, little is left here
        use crate::__gen::*;

        #(#mods)*
        mod version_free;
        pub use version_free::*;
        #ranges

        #gate
        #allow
        impl From<AnyRequest> for Request {
            fn from(r: AnyRequest) -> Self {
                match r { #(#cfgs AnyRequest::#vars(r) => r.into(),)* }
            }
        }

        #gate
        #allow
        impl From<AnyResponse> for Response {
            fn from(r: AnyResponse) -> Self {
                match r { #(#cfgs AnyResponse::#vars(r) => r.into(),)* }
            }
        }

        #gate
        impl Request {
            /// This request as the type of `version`: fields that version lacks are dropped
            /// if the schema marks them ignorable, and are otherwise an error unless they hold
            /// their default ([`EncodeErrorKind::UnsupportedField`]).
            pub fn into_version(self, version: i16) -> Result<AnyRequest, EncodeError> {
                match version {
                    #(#cfgs #vs => Ok(AnyRequest::#vars(tri!(#mods_i::Request::try_from(self)))),)*
                    _ => Err(EncodeError::new(EncodeErrorKind::UnsupportedVersion { version }, "")
                        .in_message(<Self as crate::VersionFreeMessage>::NAME, version)),
                }
            }
        }

        #gate
        impl Response {
            /// This response as the type of `version` (see [`Request::into_version`]).
            pub fn into_version(self, version: i16) -> Result<AnyResponse, EncodeError> {
                match version {
                    #(#cfgs #vs => Ok(AnyResponse::#vars(tri!(#mods_i::Response::try_from(self)))),)*
                    _ => Err(EncodeError::new(EncodeErrorKind::UnsupportedVersion { version }, "")
                        .in_message(<Self as crate::VersionFreeMessage>::NAME, version)),
                }
            }
        }

        #[doc = #req_doc]
        #gate
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyRequest {
            #(#cfgs #vars(#mods_i::Request),)*
        }

        #gate
        #allow
        impl AnyRequest {
            /// The API of this request.
            pub const API_KEY: ApiKey = ApiKey::#variant;

            /// The version of this request.
            pub fn version(&self) -> i16 {
                match *self { #(#cfgs Self::#vars(_) => #vs,)* }
            }

            /// The exact encoded size of the body.
            pub fn encoded_len(&self) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => m.encoded_len(),)* }
            }

            /// Appends the encoded body to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.encode(buf),)* }
            }

            /// Reads a body of `version` from the front of `buf`.
            pub fn decode(version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match version {
                    #(#cfgs #vs => Ok(Self::#vars(tri!(Message::decode(buf)))),)*
                    _ => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key: #key, version }, "")),
                }
            }

            /// The whole frame: size, request header and body.
            pub fn serialize(&self, correlation_id: i32, client_id: Option<&str>) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionedRequest::serialize(m, correlation_id, client_id),)* }
            }

            /// The whole frame as [`crate::Chunks`] for a vectored write (record sets not copied).
            pub fn serialize_chunks(&self, correlation_id: i32, client_id: Option<&str>) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionedRequest::serialize_chunks(m, correlation_id, client_id),)* }
            }

            /// Whether the broker answers this request at all.
            pub fn expects_response(&self) -> bool {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionedRequest::expects_response(m),)* }
            }

            /// A function that parses the response frame (header and body) of this request.
            pub fn response_deserializer(&self) -> crate::AnyResponseDeserializer {
                match *self { #(#cfgs Self::#vars(_) => decode_any_response::<#mods_i::Response>,)* }
            }

            /// The response of this request's version with every field at its schema default
            /// and the top-level `ErrorCode` set to `error` where that version has one: how a
            /// broker refuses a request as a whole (e.g. UNSUPPORTED_VERSION).
            pub fn error_response(&self, error: ErrorCode) -> AnyResponse {
                match *self { #(#cfgs Self::#vars(_) => #error_replies,)* }
            }
        }

        #[doc = #resp_doc]
        #gate
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyResponse {
            #(#cfgs #vars(#mods_i::Response),)*
        }

        #gate
        #allow
        impl AnyResponse {
            /// The API of this response.
            pub const API_KEY: ApiKey = ApiKey::#variant;

            /// The version of this response.
            pub fn version(&self) -> i16 {
                match *self { #(#cfgs Self::#vars(_) => #vs,)* }
            }

            /// The exact encoded size of the body.
            pub fn encoded_len(&self) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => m.encoded_len(),)* }
            }

            /// Appends the encoded body to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.encode(buf),)* }
            }

            /// Reads a body of `version` from the front of `buf`.
            pub fn decode(version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match version {
                    #(#cfgs #vs => Ok(Self::#vars(tri!(Message::decode(buf)))),)*
                    _ => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key: #key, version }, "")),
                }
            }

            #decode_answer

            /// The whole frame: size, response header (with `correlation_id`) and body.
            pub fn serialize(&self, correlation_id: i32) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionedResponse::serialize(m, correlation_id),)* }
            }

            /// The whole frame as [`crate::Chunks`] for a vectored write (record sets not copied).
            pub fn serialize_chunks(&self, correlation_id: i32) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionedResponse::serialize_chunks(m, correlation_id),)* }
            }
        }

        #(
            #gate
            #cfgs
            impl From<#mods_i::Request> for AnyRequest {
                fn from(m: #mods_i::Request) -> Self { Self::#vars(m) }
            }
            #gate
            #cfgs
            impl From<#mods_i::Response> for AnyResponse {
                fn from(m: #mods_i::Response) -> Self { Self::#vars(m) }
            }
        )*

        #sample
    })
}

/// `<api>/version_free.rs`: `Request`, `Response` and their nested structs with the fields of
/// every version, the conversions with each version's types, and the version-free traits.
fn api_version_free_file(api: &Api) -> Result<TokenStream> {
    let req_ident = naming::ident("Request");
    let resp_ident = naming::ident("Response");
    let variant = naming::variant_ident(&api.name);
    let req_doc = format!(
        "`{}` of any version (version-free): the fields of versions {}–{}. Write and read it at any \
         version directly ([`VersionFreeMessage`](crate::VersionFreeMessage)); with the `versioned` \
         feature, convert from a version's type with `From`, to one with `TryFrom` or \
         `Request::into_version`.",
        api.request.name, api.min_version, api.max_version
    );
    let resp_doc = format!(
        "`{}` of any version (version-free): the fields of versions {}–{}.",
        api.response.name, api.min_version, api.max_version
    );
    let with_notes = |mut doc: String, msg: &Message| {
        for note in special::message_doc_notes(&msg.name, None) {
            doc.push_str("\n\n");
            doc.push_str(note);
        }
        doc
    };
    let (req_doc, resp_doc) = (with_notes(req_doc, &api.request), with_notes(resp_doc, &api.response));
    let req_items = super::free::items(&api.request, &req_ident, &req_ident, &req_doc, cfg_versioned())?;
    let resp_items = super::free::items(&api.response, &resp_ident, &resp_ident, &resp_doc, cfg_versioned())?;
    let (req_name, resp_name) = (&api.request.name, &api.response.name);

    let mut expects = quote!();
    if let Some((_, field)) = special::NO_RESPONSE_WHEN_ZERO.iter().find(|(a, _)| *a == api.name) {
        let f = api.request.free.fields.iter().find(|f| f.name == *field);
        let f = f.ok_or_else(|| anyhow!("{}: no field {field}", api.request.name))?;
        let id = naming::field_ident(&f.name);
        expects = quote! {
            fn expects_response(&self, _version: i16) -> bool {
                self.#id != 0
            }
        };
    }
    let mut fallback = quote!();
    if special::RESPONSE_V0_FALLBACK.contains(&api.name.as_str()) {
        fallback = quote! {
            fn decode_body_from(version: i16, body: &mut Bytes) -> Result<Self, DecodeError> {
                decode_version_free_body_with_v0_fallback::<Self>(version, body)
            }
        };
    }
    // The error reply: the response's defaults with the top-level error code where the version
    // has one.
    let error_reply = match api.response.free.fields.iter().find(|f| f.name == "ErrorCode" && f.tag.is_none()) {
        Some(f) if f.ty == Type::Int16 => {
            let id = naming::field_ident(&f.name);
            let set =
                super::free::versions_cond(f.versions, api.response.free.versions).guard(quote!(response.#id = error;));
            quote! {
                let mut response = Response::default();
                #set
                response
            }
        }
        _ => quote!({
            let _ = (version, error);
            Response::default()
        }),
    };
    let behaviours =
        special::BEHAVIOUR_VERSIONS.iter().filter(|(a, ..)| *a == api.name).map(|(_, name, from, what)| {
            let c = naming::field_versions_const(name);
            let (from, max) = (Literal::i16_unsuffixed(*from), Literal::i16_unsuffixed(api.max_version));
            let doc = format!(" The versions with this behaviour: {what}");
            quote!(#[doc = #doc] pub const #c: crate::VersionRange = crate::VersionRange::new(#from, #max);)
        });
    Ok(quote! {
        //! The version-free request and response (and their nested structs).
        use crate::__gen::*;

        #req_items
        #resp_items

        impl Request { #(#behaviours)* }

        impl crate::VersionFreeMessage for Request {
            const NAME: &'static str = #req_name;
            fn versions() -> crate::VersionRange {
                ApiKey::#variant.versions()
            }
        }
        impl crate::VersionFreeRequest for Request {
            const API_KEY: ApiKey = ApiKey::#variant;
            type Response = Response;
            #expects
        }
        impl crate::VersionFreeMessage for Response {
            const NAME: &'static str = #resp_name;
            fn versions() -> crate::VersionRange {
                ApiKey::#variant.versions()
            }
        }
        impl crate::VersionFreeResponse for Response {
            const API_KEY: ApiKey = ApiKey::#variant;
            type Request = Request;
            #fallback
        }

        impl Request {
            /// The response to this request at `version` with every field at its schema
            /// default and the top-level `ErrorCode` set to `error` where that version has
            /// one: how a broker refuses a request as a whole.
            #[allow(unused_variables)]
            pub fn error_response(&self, version: i16, error: ErrorCode) -> Response {
                #error_reply
            }
        }
    })
}

/// Files of one API: `<api>/mod.rs` and `<api>/v<n>.rs`.
pub fn api_files(api: &Api) -> Result<Vec<GenFile>> {
    let dir = naming::module_name(&api.name);
    let mut files = vec![
        GenFile { path: format!("{dir}/mod.rs"), tokens: api_mod(api)? },
        GenFile {
            path: format!("{dir}/version_free.rs"),
            tokens: api_version_free_file(api).map_err(|e| e.context(format!("{} (version-free)", api.name)))?,
        },
    ];
    for v in api.min_version..=api.max_version {
        let tokens = api_version_file(api, v).map_err(|e| e.context(format!("{} v{v}", api.name)))?;
        files.push(GenFile { path: format!("{dir}/v{v}.rs"), tokens });
    }
    Ok(files)
}

/// Files of a header or data schema: one struct per version named like the schema.
pub fn standalone_files(msg: &Message) -> Result<Vec<GenFile>> {
    let dir = naming::module_name(&msg.name);
    let ident = naming::type_ident(&msg.name);
    let cx = Cx::versioned(msg);
    let name = &msg.name;
    let mut files = Vec::new();
    for mv in &msg.versions {
        if mv.structs.iter().any(|&i| msg.structs[i].rust_name == naming::type_name(&msg.name)) {
            bail!("{name}: a nested struct has the message's own name");
        }
        let s = emit_struct(
            cx,
            &StructSpec {
                ident: ident.clone(),
                label: name.clone(),
                doc: top_doc(msg, mv),
                body: &mv.body,
                nested: false,
            },
        )?;
        let m = message_impl(&ident, msg, mv);
        let nested = nested_structs(cx, mv)?;
        let kind = match msg.kind {
            MessageKind::Header => "header",
            _ => "data schema",
        };
        let file_doc = format!("`{name}` ({kind}) version {}.", mv.version);
        files.push(GenFile {
            path: format!("{dir}/v{}.rs", mv.version),
            tokens: quote! {
                #![doc = #file_doc]
                use crate::__gen::*;
                #s
                #m
                #(#nested)*
            },
        });
    }
    let versions: Vec<&MessageVersion> = msg.versions.iter().collect();
    let cfgs: Vec<TokenStream> = versions.iter().map(|mv| cfg_unstable(mv.unstable)).collect();
    let vars: Vec<Ident> = versions.iter().map(|mv| naming::version_variant(mv.version)).collect();
    let mods_i: Vec<Ident> = versions.iter().map(|mv| naming::version_ident(mv.version)).collect();
    let vs: Vec<i16> = versions.iter().map(|mv| mv.version).collect();
    let min = *vs.first().unwrap();
    let max = *vs.last().unwrap();
    let doc = format!("`{name}`: versions {min}–{max}.");
    let any_doc = format!("`{name}` of any version.");
    let version_field = format!("{name}.Version");
    let tokens = quote! {
        #![doc = #doc]
        use crate::__gen::*;

        #(#cfgs pub mod #mods_i;)*
        mod version_free;
        pub use version_free::*;

        impl From<AnyVersion> for #ident {
            fn from(v: AnyVersion) -> Self {
                match v { #(#cfgs AnyVersion::#vars(v) => v.into(),)* }
            }
        }

        impl #ident {
            /// This value as the type of `version`: fields that version lacks are dropped if
            /// the schema marks them ignorable, and are otherwise an error unless they hold
            /// their default ([`EncodeErrorKind::UnsupportedField`]).
            pub fn into_version(self, version: i16) -> Result<AnyVersion, EncodeError> {
                match version {
                    #(#cfgs #vs => Ok(AnyVersion::#vars(tri!(#mods_i::#ident::try_from(self)))),)*
                    _ => Err(EncodeError::new(EncodeErrorKind::UnsupportedVersion { version }, "")
                        .in_message(#name, version)),
                }
            }
        }

        #[doc = #any_doc]
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyVersion {
            #(#cfgs #vars(#mods_i::#ident),)*
        }

        impl AnyVersion {
            /// The schema name.
            pub const NAME: &'static str = #name;
            /// The oldest version of the schema.
            pub const MIN_VERSION: i16 = #min;
            /// The newest version of the schema (unstable ones included).
            pub const MAX_VERSION: i16 = #max;

            /// The version of this value.
            pub fn version(&self) -> i16 {
                match *self { #(#cfgs Self::#vars(_) => #vs,)* }
            }

            /// The exact encoded size (without a version prefix).
            pub fn encoded_len(&self) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => m.encoded_len(),)* }
            }

            /// Appends the encoding (without a version prefix) to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.encode(buf),)* }
            }

            /// Reads a value of `version` from the front of `buf`.
            pub fn decode(version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match version {
                    #(#cfgs #vs => Ok(Self::#vars(tri!(Message::decode(buf)))),)*
                    _ => Err(DecodeError::new(
                        DecodeErrorKind::Invalid(format!("unsupported version {version} of {}", #name)),
                        #version_field,
                    )),
                }
            }

            /// Reads the form used inside other messages and records: an `int16` version, then
            /// the value; bytes after it are ignored, as Kafka's readers of these forms ignore
            /// them (`ConsumerProtocol`, `ControlRecordUtils`: the `*Data` constructor reads
            /// what it knows). A version newer than the newest this build knows is read as the
            /// newest known one (newer versions only add fields at the end).
            pub fn decode_versioned(mut bytes: Bytes) -> Result<Self, DecodeError> {
                let version = <i16 as Wire>::wire_get(&mut bytes, false, 0, #version_field)?;
                Self::decode(version.min(#max), &mut bytes)
            }

            /// Writes the form used inside other messages and records: an `int16` version, then
            /// the value.
            pub fn to_versioned_bytes(&self) -> Result<Bytes, EncodeError> {
                let mut buf = BytesMut::with_capacity(2 + self.encoded_len());
                codec::put_array(&mut buf, self.version().to_be_bytes());
                self.encode(&mut buf)?;
                Ok(buf.freeze())
            }
        }

        #(
            #cfgs
            impl From<#mods_i::#ident> for AnyVersion {
                fn from(m: #mods_i::#ident) -> Self { Self::#vars(m) }
            }
        )*

        #[cfg(feature = "samples")]
        impl AnyVersion {
            /// The sample value of `version`, if this build supports it.
            pub fn sample(version: i16) -> Option<Self> {
                match version {
                    #(#cfgs #vs => Some(Self::#vars(crate::samples::Sample::sample())),)*
                    _ => None,
                }
            }
        }
        #[cfg(feature = "arbitrary")]
        impl AnyVersion {
            /// An arbitrary value of `version` (`None` if this build does not support it).
            pub fn arbitrary_of(version: i16, u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Self>> {
                Ok(match version {
                    #(#cfgs #vs => Some(Self::#vars(u.arbitrary()?)),)*
                    _ => None,
                })
            }
        }
    };
    files.push(GenFile { path: format!("{dir}/mod.rs"), tokens });
    let vf_doc = format!(
        "`{name}` of any version (version-free): the fields of versions {min}–{max}. Convert from a \
         version's type with `From`, to one with `TryFrom` or `into_version`, or write and read it at any \
         version directly ([`VersionFreeMessage`](crate::VersionFreeMessage))."
    );
    let items = super::free::items(msg, &ident, &ident, &vf_doc, quote!())?;
    let (vmin, vmax) = (min, max);
    let max_stable = msg.versions.iter().filter(|mv| !mv.unstable).map(|mv| mv.version).max().unwrap_or(min - 1);
    files.push(GenFile {
        path: format!("{dir}/version_free.rs"),
        tokens: quote! {
            //! The version-free form of the schema.
            use crate::__gen::*;

            #items

            impl crate::VersionFreeMessage for #ident {
                const NAME: &'static str = #name;
                fn versions() -> crate::VersionRange {
                    if cfg!(feature = "unstable") {
                        crate::VersionRange::new(#vmin, #vmax)
                    } else {
                        crate::VersionRange::new(#vmin, #max_stable)
                    }
                }
            }
        },
    });
    Ok(files)
}
