//! KIP-848 consumer groups next to Kafka 4.4 (issue 15 item 5): ConsumerGroupHeartbeat v1 with
//! members that join, reconcile (revocation before another member gets a partition), leave
//! for a while as static members (-2) and come back with a new member id, leave (-1); the
//! errors of bad requests, fenced epochs, unknown members and instance ids; ConsumerGroupDescribe;
//! OffsetCommit and OffsetFetch with member epochs.
//!
//! Member ids are the script's own (v1: the consumer makes them); topic ids become names.
//! Where Kafka's choice between equally good assignments follows a Java hash map's order, the
//! step records how many partitions each member has instead of which.

use kafka_wire::{consumer_group_describe, consumer_group_heartbeat};

use super::*;

const CG: &str = "diff-consumer-group";
const TOPIC: &str = "cg-topic";

fn coordinator() -> Target {
    Target::group_coordinator(CG)
}

/// The script's member ids (the same on both systems).
const A: &str = "member-a-00000000000000";
const B: &str = "member-b-00000000000000";
const C: &str = "member-c-00000000000000";
const C2: &str = "member-c2-0000000000000";

/// A ConsumerGroupHeartbeat v1.
#[derive(Clone, Default)]
struct Hb {
    member_id: &'static str,
    epoch: i32,
    instance: Option<&'static str>,
    rebalance_timeout_ms: Option<i32>,
    topics: Option<&'static [&'static str]>,
    assignor: Option<&'static str>,
    owned: Option<Vec<i32>>,
}

impl Hb {
    fn join(member_id: &'static str) -> Hb {
        Hb {
            member_id,
            epoch: 0,
            rebalance_timeout_ms: Some(30_000),
            topics: Some(&[TOPIC]),
            owned: Some(Vec::new()),
            ..Default::default()
        }
    }

    fn beat(member_id: &'static str, epoch: i32, owned: Option<&[i32]>) -> Hb {
        Hb { member_id, epoch, owned: owned.map(<[i32]>::to_vec), ..Default::default() }
    }

    fn request(&self, topic_id: Uuid) -> consumer_group_heartbeat::v1::Request {
        consumer_group_heartbeat::v1::Request {
            group_id: CG.into(),
            member_id: self.member_id.into(),
            member_epoch: self.epoch,
            instance_id: self.instance.map(Into::into),
            rebalance_timeout_ms: self.rebalance_timeout_ms.unwrap_or(-1),
            subscribed_topic_names: self.topics.map(|ts| ts.iter().map(|t| (*t).into()).collect()),
            server_assignor: self.assignor.map(Into::into),
            topic_partitions: self.owned.as_ref().map(|ps| {
                if ps.is_empty() {
                    Vec::new()
                } else {
                    vec![consumer_group_heartbeat::v1::TopicPartitions {
                        topic_id,
                        partitions: ps.iter().copied().collect(),
                        ..Default::default()
                    }]
                }
            }),
            ..Default::default()
        }
    }
}

/// A heartbeat answer: the topic id as its name, partitions sorted; with `counts`, only how
/// many partitions.
#[derive(Debug)]
#[allow(dead_code)]
struct HbAnswer {
    error_code: ErrorCode,
    error_message: Option<String>,
    member_id: Option<String>,
    member_epoch: i32,
    heartbeat_interval_ms: i32,
    assignment: Option<Vec<(String, String)>>,
}

fn norm_hb(topic_id: Uuid, counts: bool, r: consumer_group_heartbeat::v1::Response) -> HbAnswer {
    HbAnswer {
        error_code: r.error_code,
        error_message: r.error_message.map(|m| m.to_string()),
        member_id: r.member_id.map(|m| m.to_string()),
        member_epoch: r.member_epoch,
        heartbeat_interval_ms: r.heartbeat_interval_ms,
        assignment: r.assignment.map(|a| {
            let mut topics: Vec<(String, String)> = a
                .topic_partitions
                .iter()
                .map(|t| {
                    let name = if t.topic_id == topic_id { TOPIC.to_owned() } else { format!("{}", t.topic_id) };
                    let mut ps: Vec<i32> = t.partitions.iter().copied().collect();
                    ps.sort();
                    (name, if counts { format!("{} partitions", ps.len()) } else { format!("{ps:?}") })
                })
                .collect();
            topics.sort();
            topics
        }),
    }
}

/// The partitions of an answer's assignment.
fn owned(r: &consumer_group_heartbeat::v1::Response) -> Vec<i32> {
    let mut ps: Vec<i32> = r
        .assignment
        .iter()
        .flat_map(|a| a.topic_partitions.iter().flat_map(|t| t.partitions.iter().copied()))
        .collect();
    ps.sort();
    ps
}

fn norm_describe(topic_id: Uuid, counts: bool, mut r: consumer_group_describe::v1::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for g in &mut r.groups {
        g.members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        for m in &mut g.members {
            m.client_host = "<host>".into();
            for a in [&mut m.assignment, &mut m.target_assignment] {
                for t in &mut a.topic_partitions {
                    if t.topic_id == topic_id {
                        t.topic_id = Uuid::ZERO;
                    }
                    t.partitions.sort();
                    if counts {
                        let n = t.partitions.len() as i32;
                        t.partitions = [-n].into_iter().collect();
                    }
                }
            }
        }
    }
    r
}

fn describe_request() -> consumer_group_describe::v1::Request {
    consumer_group_describe::v1::Request {
        group_ids: vec![CG.into(), "diff-no-such-consumer-group".into()],
        include_authorized_operations: false,
        ..Default::default()
    }
}

fn commit(member_id: &str, epoch: i32, offset: i64) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: CG.into(),
        generation_id_or_member_epoch: epoch,
        member_id: member_id.into(),
        topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
            name: TOPIC.into(),
            partitions: vec![offset_commit::v9::OffsetCommitRequestPartition {
                partition_index: 0,
                committed_offset: offset,
                committed_leader_epoch: -1,
                committed_metadata: Some("".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn fetch_offsets(member_id: Option<&str>, epoch: i32) -> offset_fetch::v9::Request {
    let mut r = offset_fetch_request(CG, Some(&[(TOPIC, &[0])]));
    r.groups[0].member_id = member_id.map(Into::into);
    r.groups[0].member_epoch = epoch;
    r
}

/// Heartbeats with `probe` (answers not compared) until the group computed the target
/// assignment of its group epoch: Kafka 4.4 does that at most once a second, on a heartbeat
/// (KIP-1263).
async fn settle(s: &Sys, topic_id: Uuid, probe: Hb) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = s.send(&coordinator(), &probe.request(topic_id)).await;
        assert_eq!(r.error_code, ErrorCode::NONE, "{}: the probe heartbeat failed: {:?}", s.name, r.error_message);
        let r = s.send(&coordinator(), &describe_request()).await;
        let g = &r.groups[0];
        if g.error_code == ErrorCode::NONE && g.assignment_epoch == g.group_epoch {
            return;
        }
        assert!(Instant::now() < deadline, "{}: the target assignment never caught up", s.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn consumer_group_script(s: &Sys, t: &mut Transcript) {
    let topic_id = s.create_topic(TOPIC, 6, 1, &[]).await;
    s.coordinator_ready(CG).await;
    s.send_settled(&coordinator(), &offset_fetch_request(CG, None), |r| r.groups[0].error_code).await;
    let hb = |h: Hb| {
        let request = h.request(topic_id);
        async move { s.send(&coordinator(), &request).await }
    };
    let leak = |ps: Vec<i32>| -> &'static [i32] { Vec::leak(ps) };

    // Bad requests.
    t.step("no member id (v1)", norm_hb(topic_id, false, hb(Hb::join("")).await));
    let r = hb(Hb { rebalance_timeout_ms: None, ..Hb::join(A) }).await;
    t.step("a join without rebalance timeout", norm_hb(topic_id, false, r));
    let r = hb(Hb { owned: None, ..Hb::join(A) }).await;
    t.step("a join without owned partitions", norm_hb(topic_id, false, r));
    let r = hb(Hb { topics: None, ..Hb::join(A) }).await;
    t.step("a join without subscription", norm_hb(topic_id, false, r));
    let r = hb(Hb { assignor: Some("sticky"), ..Hb::join(A) }).await;
    t.step("a join with an unknown assignor", norm_hb(topic_id, false, r));
    t.step("epoch -3", norm_hb(topic_id, false, hb(Hb::beat(A, -3, None)).await));
    t.step("a heartbeat to an unknown group", norm_hb(topic_id, false, hb(Hb::beat(A, 1, None)).await));
    t.step("a leave of an unknown group", norm_hb(topic_id, false, hb(Hb::beat(A, -1, None)).await));

    // A joins alone: everything.
    let r = hb(Hb::join(A)).await;
    let a_epoch = r.member_epoch;
    t.step("A joins", norm_hb(topic_id, false, r));
    t.step("A heartbeats", norm_hb(topic_id, false, hb(Hb::beat(A, a_epoch, None)).await));
    let all = [0, 1, 2, 3, 4, 5];
    let r = hb(Hb::beat(A, a_epoch, Some(&all))).await;
    t.step("A heartbeats with its partitions", norm_hb(topic_id, false, r));
    let full = Hb { rebalance_timeout_ms: Some(30_000), topics: Some(&[TOPIC]), ..Hb::beat(A, a_epoch, Some(&all)) };
    t.step("A sends a full heartbeat", norm_hb(topic_id, false, hb(full).await));
    t.step("A with a greater epoch", norm_hb(topic_id, false, hb(Hb::beat(A, a_epoch + 5, None)).await));
    t.step("A with a smaller epoch", norm_hb(topic_id, false, hb(Hb::beat(A, a_epoch - 1, Some(&all))).await));
    t.step("an unknown member", norm_hb(topic_id, false, hb(Hb::beat("nobody", 1, None)).await));
    t.step("an unknown member leaves", norm_hb(topic_id, false, hb(Hb::beat("nobody", -1, None)).await));

    // B joins: A revokes half before B gets it.
    let r = hb(Hb::join(B)).await;
    let b_epoch = r.member_epoch;
    t.step("B joins", norm_hb(topic_id, false, r));
    settle(s, topic_id, Hb::beat(B, b_epoch, Some(&[]))).await;
    let r = hb(Hb::beat(A, a_epoch, Some(&all))).await;
    let a_keeps = leak(owned(&r));
    t.step("A heartbeats: revoke", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(B, b_epoch, Some(&[]))).await;
    let b_epoch = r.member_epoch;
    t.step("B heartbeats: still owned by A", norm_hb(topic_id, false, r));
    let r = hb(Hb::beat(A, a_epoch, Some(a_keeps))).await;
    let (a_previous, a_epoch) = (a_epoch, r.member_epoch);
    t.step("A revoked: the next epoch", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(B, b_epoch, Some(&[]))).await;
    let b_has = leak(owned(&r));
    t.step("B gets the released partitions", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(A, a_previous, Some(a_keeps))).await;
    t.step("A with its previous epoch and its partitions", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(A, a_previous, Some(&all))).await;
    t.step("A with its previous epoch and more partitions", norm_hb(topic_id, true, r));
    let r = s.send(&coordinator(), &describe_request()).await;
    t.step("describe: A and B", norm_describe(topic_id, true, r));

    // Offsets with member epochs.
    t.step("A commits in its epoch", s.send(&coordinator(), &commit(A, a_epoch, 5)).await);
    t.step("A commits in its previous epoch", s.send(&coordinator(), &commit(A, a_previous, 6)).await);
    t.step("an unknown member commits", s.send(&coordinator(), &commit("nobody", a_epoch, 6)).await);
    t.step("a commit without member", s.send(&coordinator(), &commit("", -1, 6)).await);
    let r = s.send(&coordinator(), &fetch_offsets(Some(A), a_epoch)).await;
    t.step("A fetches its offsets", norm_offset_fetch(r));
    let r = s.send(&coordinator(), &fetch_offsets(Some(A), a_previous)).await;
    t.step("A fetches with a stale epoch", norm_offset_fetch(r));
    let r = s.send(&coordinator(), &fetch_offsets(Some("nobody"), a_epoch)).await;
    t.step("an unknown member fetches", norm_offset_fetch(r));
    let r = s.send(&coordinator(), &fetch_offsets(None, -1)).await;
    t.step("an admin fetches", norm_offset_fetch(r));

    // Static C comes, leaves for a while, comes back as C2.
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::join(C) }).await;
    let c_epoch = r.member_epoch;
    t.step("static C joins", norm_hb(topic_id, true, r));
    settle(s, topic_id, Hb { instance: Some("instance-c"), ..Hb::beat(C, c_epoch, Some(&[])) }).await;
    let r = hb(Hb::beat(A, a_epoch, Some(a_keeps))).await;
    let a_keeps = leak(owned(&r));
    t.step("A heartbeats: revoke one", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(B, b_epoch, Some(b_has))).await;
    let b_has = leak(owned(&r));
    t.step("B heartbeats: revoke one", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(A, a_epoch, Some(a_keeps))).await;
    let a_epoch = r.member_epoch;
    t.step("A revoked", norm_hb(topic_id, true, r));
    let r = hb(Hb::beat(B, b_epoch, Some(b_has))).await;
    let b_epoch = r.member_epoch;
    t.step("B revoked", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C, c_epoch, Some(&[])) }).await;
    let (c_has, c_epoch) = (leak(owned(&r)), r.member_epoch);
    t.step("C gets its partitions", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::join(C2) }).await;
    t.step("C2 joins with C's instance id", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C2, c_epoch, Some(&[])) }).await;
    t.step("C2 heartbeats with C's instance id", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-nobody"), ..Hb::beat(C, c_epoch, Some(c_has)) }).await;
    t.step("C heartbeats with an unknown instance id", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C, -2, None) }).await;
    t.step("C leaves for a while", norm_hb(topic_id, true, r));
    let r = s.send(&coordinator(), &describe_request()).await;
    t.step("describe: C away", norm_describe(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::join(C2) }).await;
    let c2_epoch = r.member_epoch;
    t.step("C2 comes back with C's instance id: C's assignment", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C, c_epoch, Some(c_has)) }).await;
    t.step("the old C heartbeats", norm_hb(topic_id, true, r));
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C, -1, None) }).await;
    t.step("the old C leaves", norm_hb(topic_id, true, r));

    // B leaves; A and C2 share its partitions.
    t.step("B leaves", norm_hb(topic_id, true, hb(Hb::beat(B, -1, None)).await));
    settle(s, topic_id, Hb { instance: Some("instance-c"), ..Hb::beat(C2, c2_epoch, None) }).await;
    let r = hb(Hb::beat(A, a_epoch, Some(a_keeps))).await;
    t.step("A heartbeats after B left", norm_hb(topic_id, true, r));
    t.step("B heartbeats after leaving", norm_hb(topic_id, true, hb(Hb::beat(B, b_epoch, None)).await));
    let r = hb(Hb::join(A)).await;
    t.step("A joins again with its member id", norm_hb(topic_id, true, r));
    let r = s.send(&coordinator(), &describe_request()).await;
    t.step("describe: A and C2", norm_describe(topic_id, true, r));

    // Everyone leaves: the group is empty and keeps its offsets.
    let r = hb(Hb { instance: Some("instance-c"), ..Hb::beat(C2, -1, None) }).await;
    t.step("C2 leaves for good", norm_hb(topic_id, true, r));
    t.step("A leaves", norm_hb(topic_id, true, hb(Hb::beat(A, -1, None)).await));
    let r = s.send(&coordinator(), &describe_request()).await;
    t.step("describe: empty", norm_describe(topic_id, true, r));
    t.step("a commit to the empty group", s.send(&coordinator(), &commit("", -1, 7)).await);
    let r = s.send(&coordinator(), &fetch_offsets(None, -1)).await;
    t.step("the offsets of the empty group", norm_offset_fetch(r));
    if std::env::var_os("DIFFERENTIAL_DUMP").is_some() {
        for (step, answer) in &t.steps {
            println!("=== {} / {step}\n{answer}", s.name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group() {
    differential!("consumer_group", consumer_group_script);
}

// ---------------------------------------------------------------------------------------------
// One member changing its subscription: names, the range assignor, a regex.

const SUBS: &str = "diff-consumer-subscriptions";

/// A heartbeat of the one member of [`SUBS`].
fn sub_hb(
    epoch: i32,
    topics: Option<&[&str]>,
    regex: Option<&str>,
    owned: &BTreeMap<Uuid, Vec<i32>>,
) -> consumer_group_heartbeat::v1::Request {
    consumer_group_heartbeat::v1::Request {
        group_id: SUBS.into(),
        member_id: A.into(),
        member_epoch: epoch,
        rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
        subscribed_topic_names: topics.map(|ts| ts.iter().map(|t| (*t).into()).collect()),
        subscribed_topic_regex: regex.map(Into::into),
        server_assignor: (epoch == 0).then(|| "range".into()),
        topic_partitions: Some(
            owned
                .iter()
                .map(|(id, ps)| consumer_group_heartbeat::v1::TopicPartitions {
                    topic_id: *id,
                    partitions: ps.iter().copied().collect(),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

/// Takes the member epoch and partitions of an answer.
fn apply(r: &consumer_group_heartbeat::v1::Response, epoch: &mut i32, owned: &mut BTreeMap<Uuid, Vec<i32>>) {
    if r.error_code == ErrorCode::NONE {
        *epoch = r.member_epoch;
        if let Some(a) = &r.assignment {
            *owned = a.topic_partitions.iter().map(|t| (t.topic_id, t.partitions.iter().copied().collect())).collect();
        }
    }
}

/// Heartbeats (not compared) until the member is reconciled to the group's target of its
/// group epoch; returns its epoch and partitions by topic name.
async fn reconciled(
    s: &Sys,
    names: &BTreeMap<Uuid, &str>,
    epoch: &mut i32,
    owned: &mut BTreeMap<Uuid, Vec<i32>>,
) -> BTreeMap<String, Vec<i32>> {
    let deadline = Instant::now() + PATIENCE;
    let target = Target::group_coordinator(SUBS);
    loop {
        let r = s.send(&target, &sub_hb(*epoch, None, None, owned)).await;
        assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
        apply(&r, epoch, owned);
        let d = s
            .send(&target, &consumer_group_describe::v1::Request { group_ids: vec![SUBS.into()], ..Default::default() })
            .await;
        let g = &d.groups[0];
        if g.assignment_epoch == g.group_epoch && &*g.group_state == "Stable" {
            return owned
                .iter()
                .map(|(id, ps)| {
                    let mut ps = ps.clone();
                    ps.sort();
                    (names.get(id).map_or_else(|| id.to_string(), |n| (*n).to_owned()), ps)
                })
                .filter(|(_, ps)| !ps.is_empty())
                .collect();
        }
        assert!(Instant::now() < deadline, "{}: the member never settled", s.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscriptions_script(s: &Sys, t: &mut Transcript) {
    let one = s.create_topic("sub-one", 2, 1, &[]).await;
    let two = s.create_topic("sub-two", 3, 1, &[]).await;
    let names = BTreeMap::from([(one, "sub-one"), (two, "sub-two")]);
    let target = Target::group_coordinator(SUBS);
    s.coordinator_ready(SUBS).await;
    s.send_settled(&target, &offset_fetch_request(SUBS, None), |r| r.groups[0].error_code).await;
    let mut owned = BTreeMap::new();
    let r = s.send(&target, &sub_hb(0, Some(&["sub-one"]), None, &owned)).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
    t.step("A joins with the range assignor: its epoch", r.member_epoch);
    let mut epoch = 0;
    apply(&r, &mut epoch, &mut owned);
    t.step("A's partitions", reconciled(s, &names, &mut epoch, &mut owned).await);
    let r = s.send(&target, &sub_hb(epoch, Some(&["sub-one", "sub-two"]), None, &owned)).await;
    t.step("A adds a topic: its error", r.error_code);
    apply(&r, &mut epoch, &mut owned);
    t.step("A's partitions with two topics", reconciled(s, &names, &mut epoch, &mut owned).await);
    let r = s.send(&target, &sub_hb(epoch, Some(&["sub-two"]), None, &owned)).await;
    t.step("A drops a topic: its error", r.error_code);
    apply(&r, &mut epoch, &mut owned);
    t.step("A's partitions with one topic", reconciled(s, &names, &mut epoch, &mut owned).await);
    let d = s
        .send(&target, &consumer_group_describe::v1::Request { group_ids: vec![SUBS.into()], ..Default::default() })
        .await;
    let g = &d.groups[0];
    t.step(
        "describe: assignor and subscription",
        (g.assignor_name.to_string(), g.members[0].subscribed_topic_names.clone()),
    );
    let r = s.send(&target, &sub_hb(epoch, Some(&[]), Some("sub-.*"), &owned)).await;
    t.step("A subscribes with a regex: its error", r.error_code);
    apply(&r, &mut epoch, &mut owned);
    t.step("A's partitions by regex", reconciled(s, &names, &mut epoch, &mut owned).await);
    let r = s.send(&target, &sub_hb(epoch, None, Some("sub-("), &owned)).await;
    t.step("an invalid regex: its error", r.error_code);
    let r = s.send(&target, &sub_hb(-1, None, None, &owned)).await;
    t.step("A leaves", (r.error_code, r.member_epoch));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_subscriptions() {
    differential!("consumer_group_subscriptions", subscriptions_script);
}

// ---------------------------------------------------------------------------------------------
// Two members with different subscriptions (the uniform assignor's heterogeneous case).

const HETERO: &str = "diff-consumer-heterogeneous";

/// A heartbeat of a member of [`HETERO`]: a join when `topics` is given.
fn hetero_hb(
    member: &str,
    epoch: i32,
    topics: Option<&[&str]>,
    owned: &BTreeMap<Uuid, Vec<i32>>,
) -> consumer_group_heartbeat::v1::Request {
    consumer_group_heartbeat::v1::Request {
        group_id: HETERO.into(),
        member_id: member.into(),
        member_epoch: epoch,
        rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
        subscribed_topic_names: topics.map(|ts| ts.iter().map(|t| (*t).into()).collect()),
        topic_partitions: Some(
            owned
                .iter()
                .map(|(id, ps)| consumer_group_heartbeat::v1::TopicPartitions {
                    topic_id: *id,
                    partitions: ps.iter().copied().collect(),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

async fn heterogeneous_script(s: &Sys, t: &mut Transcript) {
    let one = s.create_topic("hetero-one", 2, 1, &[]).await;
    let two = s.create_topic("hetero-two", 2, 1, &[]).await;
    let names = BTreeMap::from([(one, "hetero-one"), (two, "hetero-two")]);
    let target = Target::group_coordinator(HETERO);
    s.coordinator_ready(HETERO).await;
    s.send_settled(&target, &offset_fetch_request(HETERO, None), |r| r.groups[0].error_code).await;
    // (member id, member epoch, owned partitions)
    type MemberState<'a> = (&'a str, i32, BTreeMap<Uuid, Vec<i32>>);
    let mut members: Vec<MemberState> = Vec::new();
    for (id, topics) in [(A, &["hetero-one", "hetero-two"][..]), (B, &["hetero-two"][..])] {
        let r = s.send(&target, &hetero_hb(id, 0, Some(topics), &BTreeMap::new())).await;
        assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
        let (mut epoch, mut owned) = (0, BTreeMap::new());
        apply(&r, &mut epoch, &mut owned);
        members.push((id, epoch, owned));
    }
    // Both heartbeat (not compared) until the group is stable at its group epoch.
    let deadline = Instant::now() + PATIENCE;
    loop {
        for (id, epoch, owned) in &mut members {
            let r = s.send(&target, &hetero_hb(id, *epoch, None, owned)).await;
            assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
            apply(&r, epoch, owned);
        }
        let d = s
            .send(
                &target,
                &consumer_group_describe::v1::Request { group_ids: vec![HETERO.into()], ..Default::default() },
            )
            .await;
        let g = &d.groups[0];
        if g.assignment_epoch == g.group_epoch && &*g.group_state == "Stable" {
            break;
        }
        assert!(Instant::now() < deadline, "{}: the group never settled", s.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (id, _, owned) in &members {
        let by_name: BTreeMap<&str, Vec<i32>> = owned
            .iter()
            .filter(|(_, ps)| !ps.is_empty())
            .map(|(topic, ps)| {
                let mut ps = ps.clone();
                ps.sort();
                (names[topic], ps)
            })
            .collect();
        t.step(format!("{id}'s partitions"), by_name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_heterogeneous() {
    differential!("consumer_group_heterogeneous", heterogeneous_script);
}
