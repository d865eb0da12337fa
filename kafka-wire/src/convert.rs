//! Element-wise conversions of arrays between the version-free and the per-version types, for
//! the generated `From`/`TryFrom` impls.
//!
//! Each element is taken out of its slot with [`std::mem::take`] while a slice pattern walks the
//! input, and the emptied input is dropped at the end. Consuming the `Vec` by value instead
//! (`for x in v`, or `into_iter().map(..).collect()`) instantiates `vec::IntoIter` and its
//! drop guards for every element type: with iterator chains a quarter of the crate's LLVM IR,
//! with a plain `for` loop still a tenth. The elements are generated structs, whose `Default`
//! allocates nothing, so taking one leaves an empty value behind at no cost.

use crate::EncodeError;

/// `v` with every element converted by `From` (lossless: per-version into version-free).
#[doc(hidden)]
pub fn vec_from<A: Default, B: From<A>>(mut v: Vec<A>) -> Vec<B> {
    let mut out = Vec::with_capacity(v.len());
    let mut rest: &mut [A] = &mut v;
    while let [x, tail @ ..] = rest {
        out.push(B::from(std::mem::take(x)));
        rest = tail;
    }
    out
}

/// `v` with every element converted by `to` at `version` (version-free into per-version),
/// or the first element's error.
#[doc(hidden)]
pub fn vec_to<A: Default, B>(
    mut v: Vec<A>,
    version: i16,
    to: fn(A, i16) -> Result<B, EncodeError>,
) -> Result<Vec<B>, EncodeError> {
    let mut out = Vec::with_capacity(v.len());
    let mut rest: &mut [A] = &mut v;
    while let [x, tail @ ..] = rest {
        match to(std::mem::take(x), version) {
            Ok(y) => out.push(y),
            Err(e) => return Err(e),
        }
        rest = tail;
    }
    Ok(out)
}
