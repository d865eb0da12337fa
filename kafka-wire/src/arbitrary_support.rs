//! `arbitrary` support (feature `arbitrary`): any message of any version can be built from
//! fuzzer input, for property tests and fuzz targets.
//!
//! Generated structs implement [`arbitrary::Arbitrary`]; their fields use [`ArbitraryWire`],
//! which this module implements for the wire types that come from other crates
//! (`ByteString`, `Bytes`) and for containers.

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use bytestring::ByteString;

use crate::codec::UnknownTaggedFields;
use crate::{Records, Uuid};

/// Unknown tags that `arbitrary` produces start here, above every tag Kafka uses, so that they
/// never collide with a known tag of the same struct.
pub const FIRST_ARBITRARY_UNKNOWN_TAG: u32 = 10_000;

/// A value of a field type built from fuzzer input.
pub trait ArbitraryWire: Sized {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self>;
}

macro_rules! via_arbitrary {
    ($($t:ty),*) => {$(
        impl ArbitraryWire for $t {
            fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
                <$t as Arbitrary>::arbitrary(u)
            }
        }
    )*};
}

via_arbitrary!(bool, i8, i16, i32, i64, u16, u32);

/// NaN is left out: it is never equal to itself, so `decode(encode(x)) == x` could not hold.
impl ArbitraryWire for f64 {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        let v = <f64 as Arbitrary>::arbitrary(u)?;
        Ok(if v.is_nan() { 0.0 } else { v })
    }
}

impl ArbitraryWire for crate::ErrorCode {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(crate::ErrorCode(<i16 as Arbitrary>::arbitrary(u)?))
    }
}

impl ArbitraryWire for ByteString {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(ByteString::from(<String as Arbitrary>::arbitrary(u)?))
    }
}

impl ArbitraryWire for Bytes {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(Bytes::from(<Vec<u8> as Arbitrary>::arbitrary(u)?))
    }
}

impl ArbitraryWire for Records {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(Records::from_bytes(Bytes::arbitrary_wire(u)?))
    }
}

impl ArbitraryWire for Uuid {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(Uuid::from_bytes(<[u8; 16] as Arbitrary>::arbitrary(u)?))
    }
}

impl<T: ArbitraryWire> ArbitraryWire for Option<T> {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(if u.arbitrary::<bool>()? { Some(T::arbitrary_wire(u)?) } else { None })
    }
}

impl<T: ArbitraryWire> ArbitraryWire for Vec<T> {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        let mut v = Vec::new();
        u.arbitrary_loop(None, Some(64), |u| {
            v.push(T::arbitrary_wire(u)?);
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        Ok(v)
    }
}

impl<A: smallvec::Array> ArbitraryWire for smallvec::SmallVec<A>
where
    A::Item: ArbitraryWire,
{
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        let mut v = smallvec::SmallVec::new();
        u.arbitrary_loop(None, Some(64), |u| {
            v.push(A::Item::arbitrary_wire(u)?);
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        Ok(v)
    }
}

impl ArbitraryWire for UnknownTaggedFields {
    fn arbitrary_wire(u: &mut Unstructured<'_>) -> Result<Self> {
        let mut out = UnknownTaggedFields::new();
        let n = u.int_in_range(0..=3u8)?;
        for _ in 0..n {
            let tag = FIRST_ARBITRARY_UNKNOWN_TAG + u.int_in_range(0..=1000u32)?;
            out.insert(tag, Bytes::arbitrary_wire(u)?);
        }
        Ok(out)
    }
}
