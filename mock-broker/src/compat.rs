//! Small helpers that let one piece of handler code fill or read a field whose type changes
//! between versions (a string that becomes nullable, an array that becomes nullable).

use kafka_wire::ByteString;

/// A string field: `ByteString`, or `Option<ByteString>` in the versions where it is nullable.
pub(crate) trait StrField: Sized {
    /// A value that may be null (null becomes "" where the version cannot carry it).
    fn opt(s: Option<&str>) -> Self;
    /// The value; `None` when null.
    fn get(&self) -> Option<&str>;
}

impl StrField for ByteString {
    fn opt(s: Option<&str>) -> Self {
        ByteString::from(s.unwrap_or(""))
    }
    fn get(&self) -> Option<&str> {
        Some(self)
    }
}

impl StrField for Option<ByteString> {
    fn opt(s: Option<&str>) -> Self {
        s.map(ByteString::from)
    }
    fn get(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Reads a string field as an owned `String` (null becomes `None`).
pub(crate) fn owned<S: StrField>(s: &S) -> Option<String> {
    s.get().map(str::to_owned)
}

/// An array field: `Vec<T>`, or `Option<Vec<T>>` in the versions where it is nullable.
pub(crate) trait ListField<T> {
    /// The elements; `None` when null.
    fn items(&self) -> Option<&[T]>;
}

impl<T> ListField<T> for Vec<T> {
    fn items(&self) -> Option<&[T]> {
        Some(self)
    }
}

impl<T> ListField<T> for Option<Vec<T>> {
    fn items(&self) -> Option<&[T]> {
        self.as_deref()
    }
}
