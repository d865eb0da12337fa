//! Kafka's 128-bit UUID (topic ids, directory ids, ...).

use std::fmt;
use std::str::FromStr;

/// A Kafka UUID: 16 raw bytes on the wire.
///
/// Displayed and parsed the way Kafka does: URL-safe base64 without padding (22 characters),
/// e.g. `H3KKO4NTRPaCWtEmm3vW7A`. The all-zero UUID ([`Uuid::ZERO`]) means "none".
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid([u8; 16]);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Uuid {
    /// The all-zero UUID, Kafka's "no UUID".
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// A UUID from its 16 bytes, most significant first.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }

    /// The 16 bytes, most significant first (the wire order).
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A UUID from a 128-bit integer (most significant bits first on the wire).
    pub const fn from_u128(v: u128) -> Self {
        Uuid(v.to_be_bytes())
    }

    /// The UUID as a 128-bit integer.
    pub const fn as_u128(&self) -> u128 {
        u128::from_be_bytes(self.0)
    }

    /// Whether this is the all-zero UUID.
    pub const fn is_zero(&self) -> bool {
        self.as_u128() == 0
    }
}

impl From<[u8; 16]> for Uuid {
    fn from(bytes: [u8; 16]) -> Self {
        Uuid(bytes)
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 128 bits = 21 groups of 6 bits + 2 bits; the last character carries 2 bits << 4.
        let v = self.as_u128();
        let mut out = [0u8; 22];
        for (i, c) in out.iter_mut().enumerate().take(21) {
            let shift = 128 - 6 * (i + 1);
            *c = ALPHABET[((v >> shift) & 0x3f) as usize];
        }
        out[21] = ALPHABET[((v & 0x3) << 4) as usize];
        f.write_str(std::str::from_utf8(&out).expect("base64 alphabet is ASCII"))
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// The text was not a Kafka UUID (22 characters of URL-safe base64).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Kafka UUID (22 characters of URL-safe base64): {0:?}")]
pub struct ParseUuidError(String);

impl FromStr for Uuid {
    type Err = ParseUuidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseUuidError(s.to_owned());
        let bytes = s.as_bytes();
        if bytes.len() != 22 {
            return Err(err());
        }
        let mut v: u128 = 0;
        for (i, &c) in bytes.iter().enumerate() {
            let d = ALPHABET.iter().position(|&a| a == c).ok_or_else(err)? as u128;
            if i < 21 {
                v = (v << 6) | d;
            } else {
                // Last character: 2 data bits, the low 4 bits must be zero.
                if d & 0xf != 0 {
                    return Err(err());
                }
                v = (v << 2) | (d >> 4);
            }
        }
        Ok(Uuid::from_u128(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_base64_round_trip() {
        // The default of `taggedUuid` in Kafka's SimpleExampleMessage test schema.
        let u: Uuid = "H3KKO4NTRPaCWtEmm3vW7A".parse().unwrap();
        assert_eq!(u.to_string(), "H3KKO4NTRPaCWtEmm3vW7A");
        assert_eq!(u.as_bytes()[..3], [0x1f, 0x72, 0x8a]);
        assert_eq!(Uuid::ZERO.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        let max = Uuid::from_u128(u128::MAX);
        assert_eq!(max.to_string(), "_____________________w");
        assert_eq!("_____________________w".parse::<Uuid>().unwrap(), max);
        assert!("_____________________x".parse::<Uuid>().is_err());
        assert!("short".parse::<Uuid>().is_err());
    }
}
