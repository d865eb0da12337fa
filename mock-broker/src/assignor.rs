//! The server-side assignors of KIP-848 consumer groups, `uniform` (the default) and `range`,
//! after Kafka 4.4's `UniformAssignor` and `RangeAssignor` (group-coordinator module).
//!
//! Both compute a target assignment from the members' subscriptions, the subscribed topics'
//! partition counts and the previous target assignment, which they keep where they can
//! (sticky). Kafka's choices between equally good answers follow the iteration order of Java
//! hash maps; here they follow member id order, so two members may get each other's partitions
//! compared with Kafka, never a different number of them.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::Uuid;

/// Partitions by topic id.
pub(crate) type Partitions = BTreeMap<Uuid, BTreeSet<i32>>;

/// The assignors a consumer group can name (`group.consumer.assignors`); the first is the
/// default.
pub(crate) const ASSIGNORS: [&str; 2] = ["uniform", "range"];

/// What an assignor knows of one member: the topic ids it subscribes to (those that exist).
#[derive(Debug, Clone)]
pub(crate) struct MemberSpec {
    pub(crate) topics: BTreeSet<Uuid>,
}

/// Computes the target assignment: `members` (by member id) with their subscriptions,
/// `partitions` of each subscribed topic, `previous` target assignment. Every partition of a
/// subscribed topic goes to exactly one member subscribed to it.
pub(crate) fn assign(
    assignor: &str,
    members: &BTreeMap<String, MemberSpec>,
    partitions: &BTreeMap<Uuid, i32>,
    previous: &BTreeMap<String, Partitions>,
) -> BTreeMap<String, Partitions> {
    if assignor == "range" {
        range(members, partitions, previous)
    } else {
        uniform(members, partitions, previous)
    }
}

/// Kafka's `UniformAssignor`: each member gets the same number of partitions (one more for the
/// first `total % members` members), keeping what it had up to that quota; the partitions left
/// over go to members under their quota. With different subscriptions, each topic is spread
/// the same way over the members subscribed to it, the members with the fewest partitions
/// first.
fn uniform(
    members: &BTreeMap<String, MemberSpec>,
    partitions: &BTreeMap<Uuid, i32>,
    previous: &BTreeMap<String, Partitions>,
) -> BTreeMap<String, Partitions> {
    let mut target: BTreeMap<String, Partitions> = members.keys().map(|id| (id.clone(), Partitions::new())).collect();
    let homogeneous = members.values().map(|m| &m.topics).collect::<BTreeSet<_>>().len() <= 1;
    if homogeneous {
        let Some(topics) = members.values().next().map(|m| m.topics.clone()) else { return target };
        let all: Vec<(Uuid, i32)> =
            topics.iter().flat_map(|t| (0..partitions.get(t).copied().unwrap_or(0)).map(move |p| (*t, p))).collect();
        let n = members.len();
        let (min_quota, mut extra) = (all.len() / n, all.len() % n);
        let mut taken: BTreeSet<(Uuid, i32)> = BTreeSet::new();
        let mut room: Vec<(String, usize)> = Vec::new();
        for id in members.keys() {
            let mut quota = min_quota;
            if extra > 0 {
                quota += 1;
                extra -= 1;
            }
            let kept = target.entry(id.clone()).or_default();
            for (topic, ps) in previous.get(id).into_iter().flatten() {
                if !topics.contains(topic) {
                    continue;
                }
                for p in ps {
                    if quota > 0 && *p < partitions.get(topic).copied().unwrap_or(0) && taken.insert((*topic, *p)) {
                        kept.entry(*topic).or_default().insert(*p);
                        quota -= 1;
                    }
                }
            }
            if quota > 0 {
                room.push((id.clone(), quota));
            }
        }
        let mut free = all.into_iter().filter(|tp| !taken.contains(tp));
        for (id, quota) in room {
            let assigned = target.entry(id).or_default();
            for (topic, p) in free.by_ref().take(quota) {
                assigned.entry(topic).or_default().insert(p);
            }
        }
        // Only when the quotas were met by kept partitions in an order that left some free
        // (cannot happen: the quotas add up to the total), nothing is left here.
        return target;
    }
    // Different subscriptions: topic by topic, those with the fewest subscribers first, each
    // partition to the subscribed member with the fewest partitions so far; the member that
    // had it keeps it if it has no more than that.
    let count = |target: &BTreeMap<String, Partitions>, id: &str| {
        target.get(id).map_or(0, |a| a.values().map(BTreeSet::len).sum::<usize>())
    };
    let subscribers_of = |topic: &Uuid| members.values().filter(|m| m.topics.contains(topic)).count();
    let mut order: Vec<(&Uuid, &i32)> = partitions.iter().collect();
    order.sort_by_key(|(topic, _)| (subscribers_of(topic), **topic));
    for (topic, &n) in order {
        let subscribers: Vec<&String> =
            members.iter().filter(|(_, m)| m.topics.contains(topic)).map(|(id, _)| id).collect();
        for p in 0..n {
            let Some(fewest) = subscribers.iter().min_by_key(|id| (count(&target, id), String::clone(id))) else {
                break;
            };
            let had = subscribers
                .iter()
                .find(|id| previous.get(**id).and_then(|a| a.get(topic)).is_some_and(|ps| ps.contains(&p)))
                .filter(|id| count(&target, id) <= count(&target, fewest));
            let owner = String::clone(had.unwrap_or(fewest));
            target.entry(owner).or_default().entry(*topic).or_default().insert(p);
        }
    }
    target
}

/// Kafka's `RangeAssignor`: for each topic, its subscribed members (in member id order) get
/// consecutive ranges of partitions, the first `partitions % members` one more.
fn range(
    members: &BTreeMap<String, MemberSpec>,
    partitions: &BTreeMap<Uuid, i32>,
    _previous: &BTreeMap<String, Partitions>,
) -> BTreeMap<String, Partitions> {
    let mut target: BTreeMap<String, Partitions> = members.keys().map(|id| (id.clone(), Partitions::new())).collect();
    for (topic, &n) in partitions {
        let subscribers: Vec<&String> =
            members.iter().filter(|(_, m)| m.topics.contains(topic)).map(|(id, _)| id).collect();
        if subscribers.is_empty() {
            continue;
        }
        let (per, extra) = (n as usize / subscribers.len(), n as usize % subscribers.len());
        let mut next = 0i32;
        for (i, id) in subscribers.iter().enumerate() {
            let take = per + usize::from(i < extra);
            let range: BTreeSet<i32> = (next..next + take as i32).collect();
            next += take as i32;
            if !range.is_empty() {
                target.entry((*id).clone()).or_default().insert(*topic, range);
            }
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    fn spec(topics: &[Uuid]) -> MemberSpec {
        MemberSpec { topics: topics.iter().copied().collect() }
    }

    fn count(a: &Partitions) -> usize {
        a.values().map(BTreeSet::len).sum()
    }

    /// Every partition once, balanced within one, and a member keeps what it had.
    #[test]
    fn uniform_is_balanced_and_sticky() {
        let t = topic(1);
        let partitions = BTreeMap::from([(t, 5)]);
        let one = BTreeMap::from([("a".to_owned(), spec(&[t]))]);
        let first = assign("uniform", &one, &partitions, &BTreeMap::new());
        assert_eq!(count(&first["a"]), 5);
        let two = BTreeMap::from([("a".to_owned(), spec(&[t])), ("b".to_owned(), spec(&[t]))]);
        let second = assign("uniform", &two, &partitions, &first);
        assert_eq!((count(&second["a"]), count(&second["b"])), (3, 2));
        assert!(second["a"][&t].is_subset(&first["a"][&t]));
        let all: BTreeSet<i32> = second.values().flat_map(|a| a[&t].iter().copied()).collect();
        assert_eq!(all, (0..5).collect());
        // b leaves: a gets everything back.
        let third = assign("uniform", &one, &partitions, &second);
        assert_eq!(count(&third["a"]), 5);
    }

    #[test]
    fn uniform_with_different_subscriptions_gives_each_topic_to_its_subscribers() {
        let (t1, t2) = (topic(1), topic(2));
        let partitions = BTreeMap::from([(t1, 2), (t2, 2)]);
        let members = BTreeMap::from([("a".to_owned(), spec(&[t1, t2])), ("b".to_owned(), spec(&[t2]))]);
        let target = assign("uniform", &members, &partitions, &BTreeMap::new());
        assert_eq!(target["a"].get(&t1).map(BTreeSet::len), Some(2));
        assert!(!target["b"].contains_key(&t1));
        assert_eq!((count(&target["a"]), count(&target["b"])), (2, 2), "balanced: b gets all of t2");
    }

    #[test]
    fn range_gives_consecutive_ranges() {
        let t = topic(1);
        let partitions = BTreeMap::from([(t, 5)]);
        let two = BTreeMap::from([("a".to_owned(), spec(&[t])), ("b".to_owned(), spec(&[t]))]);
        let target = assign("range", &two, &partitions, &BTreeMap::new());
        assert_eq!(target["a"][&t], BTreeSet::from([0, 1, 2]));
        assert_eq!(target["b"][&t], BTreeSet::from([3, 4]));
    }
}
