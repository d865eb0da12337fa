//! The protocol's error reply to a request the broker does not serve: a response of the
//! requested API and version, built from `Default`, with the top-level error code set where
//! that version has one.
//!
//! The table of APIs and versions lives in `error_table.rs`, one line per API, derived from the
//! generated messages of kafka-wire.

use kafka_wire::{AnyRequest, AnyResponse, ApiKey, ErrorCode};

/// Builds one response of `$module::$v` from `Default`, with `error_code` set (`e`) or not (`-`).
macro_rules! default_response {
    ($module:ident, $v:ident, e, $code:ident) => {{
        let mut response = kafka_wire::$module::$v::Response::default();
        response.error_code = $code.0;
        AnyResponse::from(response)
    }};
    ($module:ident, $v:ident, -, $code:ident) => {{
        let _ = $code;
        AnyResponse::from(kafka_wire::$module::$v::Response::default())
    }};
}

/// Expands the table into [`error_reply`] and [`error_table`].
macro_rules! error_replies {
    ($( $api:ident $module:ident { $( $(#[$attr:meta])* $variant:ident $v:ident $n:literal $has:tt ),* $(,)? } )*) => {
        /// The error reply to `request` with `code` in its top-level error field (if the
        /// version has one); `None` for a request this build of the codec cannot represent.
        #[allow(unreachable_patterns, clippy::collapsible_match)]
        pub(crate) fn error_reply(request: &AnyRequest, code: ErrorCode) -> Option<AnyResponse> {
            match request {
                $( AnyRequest::$api(r) => match r {
                    $( $(#[$attr])* kafka_wire::$module::AnyRequest::$variant(_) => Some(default_response!($module, $v, $has, code)), )*
                    _ => None,
                }, )*
                _ => None,
            }
        }

        /// Every (API, version) of the table compiled into this build, and whether its
        /// response has a top-level error code.
        #[allow(clippy::vec_init_then_push)]
        pub fn error_table() -> Vec<(ApiKey, i16, bool)> {
            #[allow(unused_mut)]
            let mut table = Vec::new();
            $( $( $(#[$attr])* table.push((ApiKey::$api, $n, error_replies!(@has $has))); )* )*
            table
        }
    };
    (@has e) => { true };
    (@has -) => { false };
}

include!("error_table.rs");
