//! Element-wise conversions of arrays between the version-free and the per-version types, for
//! the generated `From`/`TryFrom` impls.
//!
//! Plain loops on purpose: one small function per pair of element types, where an iterator
//! chain (`into_iter().map(..).collect()`) instantiates a dozen adapter and in-place-collect
//! functions per pair (a quarter of the crate's LLVM IR when it was used here).

use crate::EncodeError;

/// `v` with every element converted by `From` (lossless: per-version into version-free).
#[doc(hidden)]
pub fn vec_from<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    let mut out = Vec::with_capacity(v.len());
    for x in v {
        out.push(B::from(x));
    }
    out
}

/// `v` with every element converted by `to` at `version` (version-free into per-version),
/// or the first element's error.
#[doc(hidden)]
pub fn vec_to<A, B>(v: Vec<A>, version: i16, to: fn(A, i16) -> Result<B, EncodeError>) -> Result<Vec<B>, EncodeError> {
    let mut out = Vec::with_capacity(v.len());
    for x in v {
        match to(x, version) {
            Ok(y) => out.push(y),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
