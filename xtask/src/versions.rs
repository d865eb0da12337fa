//! Kafka's version-range syntax: `"none"`, `"N"`, `"N-M"`, `"N+"`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error};

/// A set of versions: empty, or an inclusive range (`N+` is open-ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Versions {
    /// `"none"`
    None,
    /// `"N"`, `"N-M"` or `"N+"` (max = `i16::MAX`).
    Range { min: i16, max: i16 },
}

impl Versions {
    /// Every version.
    pub const ALL: Versions = Versions::Range { min: 0, max: i16::MAX };

    /// Parses the schema syntax. Anything else is an error naming the text.
    pub fn parse(s: &str) -> Result<Versions, String> {
        let bad = || format!("invalid version range {s:?} (expected \"none\", \"N\", \"N-M\" or \"N+\")");
        let num = |t: &str| -> Result<i16, String> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse::<i16>().map_err(|_| bad())
        };
        let s = s.trim();
        if s == "none" {
            return Ok(Versions::None);
        }
        if let Some(min) = s.strip_suffix('+') {
            return Ok(Versions::Range { min: num(min)?, max: i16::MAX });
        }
        if let Some((a, b)) = s.split_once('-') {
            let (min, max) = (num(a)?, num(b)?);
            if min > max {
                return Err(bad());
            }
            return Ok(Versions::Range { min, max });
        }
        let v = num(s)?;
        Ok(Versions::Range { min: v, max: v })
    }

    pub fn contains(self, v: i16) -> bool {
        matches!(self, Versions::Range { min, max } if min <= v && v <= max)
    }

    pub fn is_empty(self) -> bool {
        self == Versions::None
    }

    /// Whether every version of `other` is in `self`.
    pub fn contains_all(self, other: Versions) -> bool {
        match (self, other) {
            (_, Versions::None) => true,
            (Versions::None, _) => false,
            (Versions::Range { min: a, max: b }, Versions::Range { min: c, max: d }) => a <= c && d <= b,
        }
    }

    pub fn intersect(self, other: Versions) -> Versions {
        match (self, other) {
            (Versions::Range { min: a, max: b }, Versions::Range { min: c, max: d }) if a.max(c) <= b.min(d) => {
                Versions::Range { min: a.max(c), max: b.min(d) }
            }
            _ => Versions::None,
        }
    }

    pub fn min(self) -> Option<i16> {
        match self {
            Versions::None => None,
            Versions::Range { min, .. } => Some(min),
        }
    }

    pub fn max(self) -> Option<i16> {
        match self {
            Versions::None => None,
            Versions::Range { max, .. } => Some(max),
        }
    }

    /// Whether the range is open-ended (`N+`).
    pub fn is_open(self) -> bool {
        matches!(self, Versions::Range { max: i16::MAX, .. })
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Versions::None => f.write_str("none"),
            Versions::Range { min, max: i16::MAX } => write!(f, "{min}+"),
            Versions::Range { min, max } if min == max => write!(f, "{min}"),
            Versions::Range { min, max } => write!(f, "{min}-{max}"),
        }
    }
}

impl<'de> Deserialize<'de> for Versions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Versions::parse(&s).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses() {
        assert_eq!(Versions::parse("none").unwrap(), Versions::None);
        assert_eq!(Versions::parse("7").unwrap(), Versions::Range { min: 7, max: 7 });
        assert_eq!(Versions::parse("3-5").unwrap(), Versions::Range { min: 3, max: 5 });
        assert_eq!(Versions::parse("0+").unwrap(), Versions::ALL);
        for bad in ["", "+", "1-", "-1", "5-3", "a", "1.0", "0++", "99999", " 1 - 2", "1,2", "NONE"] {
            assert!(Versions::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn set_operations() {
        let a = Versions::parse("2+").unwrap();
        let b = Versions::parse("0-4").unwrap();
        assert_eq!(a.intersect(b), Versions::parse("2-4").unwrap());
        assert!(a.contains(2) && !a.contains(1) && a.contains(i16::MAX));
        assert!(Versions::ALL.contains_all(b) && !b.contains_all(a));
        assert!(b.contains_all(Versions::None));
        assert_eq!(Versions::parse("3-3").unwrap().to_string(), "3");
        assert!(a.is_open() && !b.is_open());
    }
}
