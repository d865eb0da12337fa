//! Emits the root of the generated tree: module declarations, `ApiKey`, `ErrorCode` and the
//! any-API request/response enums.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::GenFile;
use crate::model::Model;
use crate::naming;
use crate::special;

fn feature_cfg(api: &str) -> TokenStream {
    let f = naming::feature_name(api);
    quote!(#[cfg(feature = #f)])
}

/// `mod.rs`: modules, re-exports, `AnyRequest` and `AnyResponse`.
pub fn mod_rs(model: &Model) -> GenFile {
    let api_mods = model.apis.iter().map(|a| {
        let cfg = feature_cfg(&a.name);
        let m = naming::module_ident(&a.name);
        quote!(#cfg pub mod #m;)
    });
    let other_mods = model.standalone.iter().map(|m| {
        let i = naming::module_ident(&m.name);
        quote!(pub mod #i;)
    });
    let cfgs: Vec<TokenStream> = model.apis.iter().map(|a| feature_cfg(&a.name)).collect();
    let vars: Vec<Ident> = model.apis.iter().map(|a| naming::variant_ident(&a.name)).collect();
    let mods: Vec<Ident> = model.apis.iter().map(|a| naming::module_ident(&a.name)).collect();
    // How a client reads an answer: as the schema says, or with the v0 fallback of the APIs
    // that have one (their per-API `decode_body`).
    let answer_readers: Vec<TokenStream> = model
        .apis
        .iter()
        .zip(&mods)
        .map(|(a, m)| {
            if special::RESPONSE_V0_FALLBACK.contains(&a.name.as_str()) {
                quote!(#m::AnyResponse::decode_body)
            } else {
                quote!(#m::AnyResponse::decode)
            }
        })
        .collect();

    let gate = super::api::cfg_versioned();
    let tokens = quote! {
        //! Generated from Kafka's message schemas.
        use crate::__gen::*;

        mod api_key;
        mod error_code;
        pub use api_key::ApiKey;
        pub use error_code::ErrorCode;

        #(#api_mods)*
        #(#other_mods)*

        /// A request of any API and version (one variant per API compiled in).
        #gate
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyRequest {
            #(#cfgs #vars(#mods::AnyRequest),)*
        }

        #gate
        #[allow(unused_variables)] // with no API compiled in, the enum is empty
        impl AnyRequest {
            /// The API of this request.
            pub fn api_key(&self) -> ApiKey {
                match *self { #(#cfgs Self::#vars(_) => ApiKey::#vars,)* }
            }

            /// The version of this request.
            pub fn version(&self) -> i16 {
                match *self { #(#cfgs Self::#vars(ref m) => m.version(),)* }
            }

            /// The exact encoded size of the body.
            pub fn encoded_len(&self) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => m.encoded_len(),)* }
            }

            /// Appends the encoded body to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.encode(buf),)* }
            }

            /// Reads the body of API `api_key` at `version` from the front of `buf`.
            pub fn decode(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) => Ok(Self::#vars(tri!(#mods::AnyRequest::decode(version, buf)))),)*
                    #[allow(unreachable_patterns)]
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// The whole frame: size, request header and body.
            pub fn serialize(&self, correlation_id: i32, client_id: Option<&str>) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.serialize(correlation_id, client_id),)* }
            }

            /// The whole frame as [`crate::Chunks`] for a vectored write (record sets not copied).
            pub fn serialize_chunks(&self, correlation_id: i32, client_id: Option<&str>) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.serialize_chunks(correlation_id, client_id),)* }
            }

            /// Whether the broker answers this request at all (not Produce with acks=0).
            pub fn expects_response(&self) -> bool {
                match *self { #(#cfgs Self::#vars(ref m) => m.expects_response(),)* }
            }

            /// A function that parses the response frame (header and body) of this request.
            pub fn response_deserializer(&self) -> crate::AnyResponseDeserializer {
                match *self { #(#cfgs Self::#vars(ref m) => m.response_deserializer(),)* }
            }

            /// The response of this request's API and version with every field at its schema
            /// default and the top-level `ErrorCode` set to `error` where that version has one:
            /// how a broker refuses a request as a whole (e.g. UNSUPPORTED_VERSION).
            pub fn error_response(&self, error: ErrorCode) -> AnyResponse {
                match *self { #(#cfgs Self::#vars(ref m) => AnyResponse::#vars(m.error_response(error)),)* }
            }

            /// The sample request of an API and version, if this build supports it.
            #[cfg(feature = "samples")]
            pub fn sample(api_key: ApiKey, version: i16) -> Option<Self> {
                match api_key {
                    #(#cfgs ApiKey::#vars => #mods::AnyRequest::sample(version).map(Self::#vars),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// An arbitrary request of an API and version (`None` if this build does not support it).
            #[cfg(feature = "arbitrary")]
            pub fn arbitrary_of(api_key: ApiKey, version: i16, u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Self>> {
                Ok(match api_key {
                    #(#cfgs ApiKey::#vars => #mods::AnyRequest::arbitrary_of(version, u)?.map(Self::#vars),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
            }
        }

        /// A response of any API and version (one variant per API compiled in).
        #gate
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnyResponse {
            #(#cfgs #vars(#mods::AnyResponse),)*
        }

        #gate
        #[allow(unused_variables)] // with no API compiled in, the enum is empty
        impl AnyResponse {
            /// The API of this response.
            pub fn api_key(&self) -> ApiKey {
                match *self { #(#cfgs Self::#vars(_) => ApiKey::#vars,)* }
            }

            /// The version of this response.
            pub fn version(&self) -> i16 {
                match *self { #(#cfgs Self::#vars(ref m) => m.version(),)* }
            }

            /// The exact encoded size of the body.
            pub fn encoded_len(&self) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => m.encoded_len(),)* }
            }

            /// Appends the encoded body to `buf`.
            pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.encode(buf),)* }
            }

            /// Reads the body of API `api_key` at `version` from the front of `buf`.
            pub fn decode(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) => Ok(Self::#vars(tri!(#mods::AnyResponse::decode(version, buf)))),)*
                    #[allow(unreachable_patterns)]
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// Reads the answer to a request of API `api_key` at `version` from the front of
            /// `buf` as a client reads it ([`crate::VersionedResponse::decode_body_from`]: the
            /// ApiVersions v0 reply), leaving `buf` after it.
            pub fn decode_body(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) => #answer_readers(version, buf).map(Self::#vars),)*
                    #[allow(unreachable_patterns)]
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// The whole frame: size, response header (with `correlation_id`) and body.
            pub fn serialize(&self, correlation_id: i32) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.serialize(correlation_id),)* }
            }

            /// The whole frame as [`crate::Chunks`] for a vectored write (record sets not copied).
            pub fn serialize_chunks(&self, correlation_id: i32) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => m.serialize_chunks(correlation_id),)* }
            }

            /// The sample response of an API and version, if this build supports it.
            #[cfg(feature = "samples")]
            pub fn sample(api_key: ApiKey, version: i16) -> Option<Self> {
                match api_key {
                    #(#cfgs ApiKey::#vars => #mods::AnyResponse::sample(version).map(Self::#vars),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            /// An arbitrary response of an API and version (`None` if this build does not support it).
            #[cfg(feature = "arbitrary")]
            pub fn arbitrary_of(api_key: ApiKey, version: i16, u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Option<Self>> {
                Ok(match api_key {
                    #(#cfgs ApiKey::#vars => #mods::AnyResponse::arbitrary_of(version, u)?.map(Self::#vars),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
            }
        }

        /// A request of any version of any API: `AnyRequest::from(fetch::v12::Request { .. })`.
        /// (One generic impl rather than one per version, which rustdoc listed next to the
        /// API's own `From<Request> for AnyRequest` under the same name.)
        #gate
        impl<R: crate::VersionedRequest> From<R> for AnyRequest {
            fn from(r: R) -> Self {
                r.into_any()
            }
        }

        /// A response of any version of any API: `AnyResponse::from(fetch::v12::Response { .. })`.
        #gate
        impl<R: crate::VersionedResponse> From<R> for AnyResponse {
            fn from(r: R) -> Self {
                r.into_any()
            }
        }

        #(
            #gate
            #cfgs
            impl From<#mods::AnyRequest> for AnyRequest {
                fn from(r: #mods::AnyRequest) -> Self { Self::#vars(r) }
            }
            #gate
            #cfgs
            impl From<#mods::AnyResponse> for AnyResponse {
                fn from(r: #mods::AnyResponse) -> Self { Self::#vars(r) }
            }
        )*

        /// A version-free request of any API (one variant per API compiled in): what a broker or
        /// proxy handles without caring about versions, and what a client writes at the version
        /// it negotiated.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ApiRequest {
            #(#cfgs #vars(#mods::Request),)*
        }

        #[allow(unused_variables)] // with no API compiled in, the enum is empty
        impl ApiRequest {
            /// The API of this request.
            pub fn api_key(&self) -> ApiKey {
                match *self { #(#cfgs Self::#vars(_) => ApiKey::#vars,)* }
            }

            /// The exact encoded size of the body at `version`.
            pub fn encoded_len(&self, version: i16) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeMessage::encoded_len(m, version),)* }
            }

            /// Appends the body encoded at `version` to `buf`.
            pub fn encode(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeMessage::encode(m, version, buf),)* }
            }

            /// Reads the body of API `api_key` at `version` from the front of `buf`.
            pub fn decode(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) if ApiKey::#vars.versions().contains(version) =>
                        <#mods::Request as crate::VersionFreeMessage>::decode(version, buf).map(Self::#vars),)*
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// The whole frame at `version`: size, request header and body.
            pub fn serialize(&self, version: i16, correlation_id: i32, client_id: Option<&str>) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeRequest::serialize(m, version, correlation_id, client_id),)* }
            }

            /// The whole frame at `version` as [`crate::Chunks`] for a vectored write.
            pub fn serialize_chunks(&self, version: i16, correlation_id: i32, client_id: Option<&str>) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeRequest::serialize_chunks(m, version, correlation_id, client_id),)* }
            }

            /// Whether the broker answers this request at `version` (not Produce with acks=0).
            pub fn expects_response(&self, version: i16) -> bool {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeRequest::expects_response(m, version),)* }
            }

            /// This request as the per-version type of `version` (see `fetch::Request::into_version`).
            #gate
            pub fn into_version(self, version: i16) -> Result<AnyRequest, EncodeError> {
                match self { #(#cfgs Self::#vars(m) => m.into_version(version).map(AnyRequest::#vars),)* }
            }

            /// The response to this request at `version` with every field at its schema default
            /// and the top-level `ErrorCode` set to `error` where that version has one.
            pub fn error_response(&self, version: i16, error: ErrorCode) -> ApiResponse {
                match *self { #(#cfgs Self::#vars(ref m) => ApiResponse::#vars(m.error_response(version, error)),)* }
            }
        }

        /// A version-free response of any API (one variant per API compiled in).
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum ApiResponse {
            #(#cfgs #vars(#mods::Response),)*
        }

        #[allow(unused_variables)] // with no API compiled in, the enum is empty
        impl ApiResponse {
            /// The API of this response.
            pub fn api_key(&self) -> ApiKey {
                match *self { #(#cfgs Self::#vars(_) => ApiKey::#vars,)* }
            }

            /// The exact encoded size of the body at `version`.
            pub fn encoded_len(&self, version: i16) -> usize {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeMessage::encoded_len(m, version),)* }
            }

            /// Appends the body encoded at `version` to `buf`.
            pub fn encode(&self, version: i16, buf: &mut BytesMut) -> Result<(), EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeMessage::encode(m, version, buf),)* }
            }

            /// Reads the body of API `api_key` at `version` from the front of `buf`.
            pub fn decode(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) if ApiKey::#vars.versions().contains(version) =>
                        <#mods::Response as crate::VersionFreeMessage>::decode(version, buf).map(Self::#vars),)*
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// Reads the answer to a request of API `api_key` at `version` from the front of
            /// `buf` as a client reads it ([`crate::VersionFreeResponse::decode_body_from`]: the
            /// ApiVersions v0 reply), leaving `buf` after it.
            pub fn decode_body(api_key: i16, version: i16, buf: &mut Bytes) -> Result<Self, DecodeError> {
                match ApiKey::from_code(api_key) {
                    #(#cfgs Some(ApiKey::#vars) if ApiKey::#vars.versions().contains(version) =>
                        <#mods::Response as crate::VersionFreeResponse>::decode_body_from(version, buf).map(Self::#vars),)*
                    Some(_) => Err(DecodeError::new(DecodeErrorKind::UnsupportedVersion { api_key, version }, "")),
                    None => Err(DecodeError::new(DecodeErrorKind::UnknownApiKey(api_key), "")),
                }
            }

            /// The whole frame at `version`: size, response header (with `correlation_id`) and body.
            pub fn serialize(&self, version: i16, correlation_id: i32) -> Result<Bytes, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeResponse::serialize(m, version, correlation_id),)* }
            }

            /// The whole frame at `version` as [`crate::Chunks`] for a vectored write.
            pub fn serialize_chunks(&self, version: i16, correlation_id: i32) -> Result<crate::Chunks, EncodeError> {
                match *self { #(#cfgs Self::#vars(ref m) => crate::VersionFreeResponse::serialize_chunks(m, version, correlation_id),)* }
            }

            /// This response as the per-version type of `version`.
            #gate
            pub fn into_version(self, version: i16) -> Result<AnyResponse, EncodeError> {
                match self { #(#cfgs Self::#vars(m) => m.into_version(version).map(AnyResponse::#vars),)* }
            }
        }

        #gate
        #[allow(unused_variables)]
        impl From<AnyRequest> for ApiRequest {
            fn from(r: AnyRequest) -> Self {
                match r { #(#cfgs AnyRequest::#vars(r) => Self::#vars(r.into()),)* }
            }
        }

        #gate
        #[allow(unused_variables)]
        impl From<AnyResponse> for ApiResponse {
            fn from(r: AnyResponse) -> Self {
                match r { #(#cfgs AnyResponse::#vars(r) => Self::#vars(r.into()),)* }
            }
        }

        #(
            #cfgs
            impl From<#mods::Request> for ApiRequest {
                fn from(r: #mods::Request) -> Self { Self::#vars(r) }
            }
            #cfgs
            impl From<#mods::Response> for ApiResponse {
                fn from(r: #mods::Response) -> Self { Self::#vars(r) }
            }
            #cfgs
            impl TryFrom<ApiRequest> for #mods::Request {
                type Error = ApiRequest;
                /// The request if it is of this API, else the request back.
                fn try_from(r: ApiRequest) -> Result<Self, ApiRequest> {
                    #[allow(unreachable_patterns)]
                    match r { ApiRequest::#vars(r) => Ok(r), other => Err(other) }
                }
            }
            #cfgs
            impl TryFrom<ApiResponse> for #mods::Response {
                type Error = ApiResponse;
                /// The response if it is of this API, else the response back.
                fn try_from(r: ApiResponse) -> Result<Self, ApiResponse> {
                    #[allow(unreachable_patterns)]
                    match r { ApiResponse::#vars(r) => Ok(r), other => Err(other) }
                }
            }
        )*
    };
    GenFile { path: "mod.rs".into(), tokens }
}

fn opt_i16(v: Option<i16>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

/// `api_key.rs`: the `ApiKey` enum and its tables.
pub fn api_key_rs(model: &Model) -> GenFile {
    let vars: Vec<Ident> = model.apis.iter().map(|a| naming::variant_ident(&a.name)).collect();
    let keys: Vec<Literal> = model.apis.iter().map(|a| Literal::i16_unsuffixed(a.key)).collect();
    let names: Vec<&str> = model.apis.iter().map(|a| a.name.as_str()).collect();
    let features: Vec<String> = model.apis.iter().map(|a| naming::feature_name(&a.name)).collect();
    let docs = model
        .apis
        .iter()
        .map(|a| format!(" `{}` (key {}): versions {}–{}.", a.name, a.key, a.min_version, a.max_version));
    let mins: Vec<i16> = model.apis.iter().map(|a| a.min_version).collect();
    let maxs: Vec<i16> = model.apis.iter().map(|a| a.max_version).collect();
    let stable_max = model.apis.iter().map(|a| {
        let min = a.min_version;
        let max = a.max_version;
        match a.max_stable() {
            Some(s) if s == max => quote!(VersionRange::new(#min, #max)),
            Some(s) => quote!(if cfg!(feature = "unstable") { VersionRange::new(#min, #max) } else { VersionRange::new(#min, #s) }),
            None => quote!(if cfg!(feature = "unstable") { VersionRange::new(#min, #max) } else { VersionRange::EMPTY }),
        }
    });
    let flex: Vec<TokenStream> = model.apis.iter().map(|a| opt_i16(a.first_flexible)).collect();
    let unstable: Vec<TokenStream> = model.apis.iter().map(|a| opt_i16(a.unstable_from)).collect();
    let listeners = model.apis.iter().map(|a| {
        let l = &a.listeners;
        quote!(&[#(#l),*])
    });
    let req_exceptions = special::REQUEST_HEADER_EXCEPTIONS.iter().filter_map(|(api, v, h)| {
        model.apis.iter().find(|a| a.name == *api).map(|a| {
            let var = naming::variant_ident(&a.name);
            quote!(Self::#var if version == #v => #h,)
        })
    });
    let resp_v0 = special::RESPONSE_HEADER_V0_ALWAYS.iter().filter_map(|api| {
        model.apis.iter().find(|a| a.name == *api).map(|a| {
            let var = naming::variant_ident(&a.name);
            quote!(Self::#var => 0,)
        })
    });

    let tokens = quote! {
        //! `ApiKey`: every API of the protocol, with its versions and header rules.
        use crate::VersionRange;

        /// An API of the Kafka protocol.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(i16)]
        pub enum ApiKey {
            #(#[doc = #docs] #vars = #keys,)*
        }

        impl ApiKey {
            /// Every API, by key.
            pub const ALL: &'static [ApiKey] = &[#(ApiKey::#vars),*];

            /// The API key on the wire.
            pub const fn code(self) -> i16 {
                self as i16
            }

            /// The API with key `code`, if it exists.
            pub const fn from_code(code: i16) -> Option<ApiKey> {
                match code {
                    #(#keys => Some(ApiKey::#vars),)*
                    _ => None,
                }
            }

            /// The API's name in Kafka's schemas, e.g. `Fetch`.
            pub const fn name(self) -> &'static str {
                match self { #(Self::#vars => #names,)* }
            }

            /// Every version in Kafka's schema, unstable ones included.
            pub const fn schema_versions(self) -> VersionRange {
                match self { #(Self::#vars => VersionRange::new(#mins, #maxs),)* }
            }

            /// The versions this build can encode and decode, and so the ones version negotiation
            /// ([`negotiate`](crate::negotiate)) picks from: none ([`VersionRange::EMPTY`]) when
            /// the API's cargo feature is off ([`ApiKey::is_enabled`]: a build without an API
            /// cannot speak it), else the stable ones, plus the unstable ones with the `unstable`
            /// feature.
            pub const fn versions(self) -> VersionRange {
                if !self.is_enabled() {
                    return VersionRange::EMPTY;
                }
                match self { #(Self::#vars => #stable_max,)* }
            }

            /// Whether this API's module is compiled in (its cargo feature is on).
            pub const fn is_enabled(self) -> bool {
                match self { #(Self::#vars => cfg!(feature = #features),)* }
            }

            /// The first flexible version (compact encodings and tagged fields), if any.
            pub const fn first_flexible_version(self) -> Option<i16> {
                match self { #(Self::#vars => #flex,)* }
            }

            /// The first version Kafka marks unstable, if any.
            pub const fn first_unstable_version(self) -> Option<i16> {
                match self { #(Self::#vars => #unstable,)* }
            }

            /// The listeners that serve this API (`zkBroker`, `broker`, `controller`).
            pub const fn listeners(self) -> &'static [&'static str] {
                match self { #(Self::#vars => #listeners,)* }
            }

            /// The request header version used with `version` of this API: v2 for flexible
            /// versions, else v1, except where the protocol says otherwise (ControlledShutdown v0
            /// uses v0).
            pub const fn request_header_version(self, version: i16) -> i16 {
                match self {
                    #(#req_exceptions)*
                    _ => match self.first_flexible_version() {
                        Some(f) if version >= f => 2,
                        _ => 1,
                    },
                }
            }

            /// The response header version used with `version` of this API: v1 for flexible
            /// versions, else v0, except where the protocol says otherwise (ApiVersions responses
            /// always use v0).
            pub const fn response_header_version(self, version: i16) -> i16 {
                match self {
                    #(#resp_v0)*
                    _ => match self.first_flexible_version() {
                        Some(f) if version >= f => 1,
                        _ => 0,
                    },
                }
            }
        }

        impl TryFrom<i16> for ApiKey {
            type Error = i16;
            /// The API with this key; the unknown key back as the error.
            fn try_from(code: i16) -> Result<Self, i16> {
                ApiKey::from_code(code).ok_or(code)
            }
        }

        impl From<ApiKey> for i16 {
            fn from(k: ApiKey) -> i16 {
                k.code()
            }
        }

        impl std::fmt::Display for ApiKey {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
    GenFile { path: "api_key.rs".into(), tokens }
}

/// `error_code.rs`: the protocol's error codes.
pub fn error_code_rs(model: &Model) -> GenFile {
    let consts = model.errors.iter().map(|e| {
        let id = naming::ident(&e.name);
        let code = super::structs::int_lit(e.code.into());
        let doc = format!(" `{}` ({}){}", e.name, e.code, if e.retriable { ", retriable." } else { "." });
        quote!(#[doc = #doc] pub const #id: ErrorCode = ErrorCode(#code);)
    });
    let ids: Vec<Ident> = model.errors.iter().map(|e| naming::ident(&e.name)).collect();
    let names: Vec<&str> = model.errors.iter().map(|e| e.name.as_str()).collect();
    let retriable: Vec<Ident> = model.errors.iter().filter(|e| e.retriable).map(|e| naming::ident(&e.name)).collect();
    let is_retriable = if retriable.is_empty() { quote!(false) } else { quote!(matches!(self, #(Self::#retriable)|*)) };
    let tokens = quote! {
        //! Error codes of the protocol, from Kafka's `Errors` table.

        /// A protocol error code. Every `int16` is kept, known or not: [`ErrorCode::name`] is
        /// `None` for codes this build does not know.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct ErrorCode(pub i16);

        #[allow(non_upper_case_globals)]
        impl ErrorCode {
            #(#consts)*

            /// Every known error code.
            pub const ALL: &'static [ErrorCode] = &[#(ErrorCode::#ids),*];

            /// The code on the wire.
            pub const fn code(self) -> i16 {
                self.0
            }

            /// Kafka's name of the error, e.g. `NOT_LEADER_OR_FOLLOWER`.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    #(Self::#ids => Some(#names),)*
                    _ => None,
                }
            }

            /// Whether Kafka treats the error as retriable.
            pub const fn is_retriable(self) -> bool {
                #is_retriable
            }

            /// Whether this is an error (not `NONE`).
            pub const fn is_err(self) -> bool {
                self.0 != 0
            }

            /// `Ok(())` for `NONE`, else `Err(self)`.
            pub const fn ok(self) -> Result<(), ErrorCode> {
                if self.0 == 0 { Ok(()) } else { Err(self) }
            }
        }

        impl From<i16> for ErrorCode {
            fn from(code: i16) -> Self {
                ErrorCode(code)
            }
        }

        impl From<ErrorCode> for i16 {
            fn from(e: ErrorCode) -> i16 {
                e.0
            }
        }

        impl std::fmt::Display for ErrorCode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "{name} ({})", self.0),
                    None => write!(f, "unknown error code {}", self.0),
                }
            }
        }

        impl std::fmt::Debug for ErrorCode {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(name) => write!(f, "ErrorCode({name})"),
                    None => write!(f, "ErrorCode({})", self.0),
                }
            }
        }

        impl std::error::Error for ErrorCode {}
    };
    GenFile { path: "error_code.rs".into(), tokens }
}
