//! Nullable structs (not arrays): a leading `int8`, -1 for null and 1 for present.

use bytes::Bytes;

use super::{put_array, Encoder, Field, Wire};
use crate::error::{DecodeError, EncodeError};

/// A generated struct. Nullable struct fields (not arrays) are written with a leading `int8`:
/// -1 for null, 1 for present.
pub trait WireStruct: Wire {}

impl<T: WireStruct> Wire for Option<T> {
    const MIN_LEN: usize = 1;
    #[inline]
    fn wire_len(&self, compact: bool, version: i16) -> usize {
        match self {
            Some(s) => 1 + s.wire_len(compact, version),
            None => 1,
        }
    }
    fn wire_put(&self, buf: &mut Encoder, compact: bool, version: i16, field: Field) -> Result<(), EncodeError> {
        match self {
            None => {
                put_array(buf, [0xff]);
                Ok(())
            }
            Some(s) => {
                put_array(buf, [1]);
                s.wire_put(buf, compact, version, field)
            }
        }
    }
    fn wire_get(buf: &mut Bytes, compact: bool, version: i16, field: Field) -> Result<Self, DecodeError> {
        // Kafka's reader treats any negative marker as null. `match` rather than `?` and `map`:
        // no glue instantiated per struct type.
        match <i8 as Wire>::wire_get(buf, false, 0, field) {
            Ok(marker) if marker < 0 => Ok(None),
            Ok(_) => match T::wire_get(buf, compact, version, field) {
                Ok(s) => Ok(Some(s)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }
}
