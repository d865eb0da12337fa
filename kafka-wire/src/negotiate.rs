//! Version negotiation: from a broker's ApiVersions answer, the highest version of each API
//! that both the broker and this build support.

use std::collections::BTreeMap;
use std::fmt;

use crate::ApiKey;

/// An inclusive range of versions. Empty when `min > max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    pub min: i16,
    pub max: i16,
}

impl VersionRange {
    /// The range `min..=max`.
    pub const fn new(min: i16, max: i16) -> Self {
        VersionRange { min, max }
    }

    /// A range containing no version.
    pub const EMPTY: VersionRange = VersionRange { min: 0, max: -1 };

    pub const fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }

    pub const fn is_empty(self) -> bool {
        self.min > self.max
    }

    /// The versions in both ranges.
    pub fn intersect(self, other: VersionRange) -> VersionRange {
        VersionRange { min: self.min.max(other.min), max: self.max.min(other.max) }
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            f.write_str("none")
        } else {
            write!(f, "{}-{}", self.min, self.max)
        }
    }
}

/// The version to use for each API that both sides support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegotiatedVersions {
    versions: BTreeMap<ApiKey, i16>,
}

impl NegotiatedVersions {
    /// The agreed version of `api`, or `None` if the two sides share no version of it.
    pub fn get(&self, api: ApiKey) -> Option<i16> {
        self.versions.get(&api).copied()
    }

    /// Every API with an agreed version, by API key.
    pub fn iter(&self) -> impl Iterator<Item = (ApiKey, i16)> + '_ {
        self.versions.iter().map(|(k, v)| (*k, *v))
    }

    /// How many APIs have an agreed version.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether no API has an agreed version.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

/// Picks, for each API the broker lists as `(api key, min version, max version)`, the highest
/// version that this build also supports ([`ApiKey::versions`], which honours the API cargo
/// features and `unstable`). APIs unknown to this build, and APIs whose ranges do not overlap,
/// are left out.
pub fn negotiate(broker: impl IntoIterator<Item = (i16, i16, i16)>) -> NegotiatedVersions {
    let mut versions = BTreeMap::new();
    for (key, min, max) in broker {
        let Some(api) = ApiKey::from_code(key) else { continue };
        if !api.is_enabled() {
            continue;
        }
        let common = api.versions().intersect(VersionRange::new(min, max));
        if !common.is_empty() {
            versions.insert(api, common.max);
        }
    }
    NegotiatedVersions { versions }
}

#[cfg(feature = "api_versions")]
impl crate::api_versions::AnyResponse {
    /// [`negotiate`] over this response's version ranges.
    pub fn negotiate(&self) -> NegotiatedVersions {
        negotiate(self.api_ranges())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_common_version() {
        let fetch = ApiKey::Fetch.versions();
        let n = negotiate([
            (ApiKey::Fetch.code(), 0, fetch.max + 5),            // broker newer: ours wins
            (ApiKey::Metadata.code(), 0, 4),                     // broker older: theirs wins
            (ApiKey::Produce.code(), fetch.max + 100, i16::MAX), // no overlap
            (9999, 0, 3),                                        // unknown API key
        ]);
        assert_eq!(n.get(ApiKey::Fetch), Some(fetch.max));
        assert_eq!(n.get(ApiKey::Metadata), Some(4));
        assert_eq!(n.get(ApiKey::Produce), None);
        assert_eq!(n.len(), 2);
    }
}
