//! Share groups (KIP-932) next to Kafka 4.4 (issue 15 item 6): ShareGroupHeartbeat v1 with bad
//! requests, a member that joins, fenced and unknown members; ShareFetch v2 and ShareAcknowledge
//! v2 with a share session: records acquired, acknowledged (piggy-backed and alone), released
//! and re-acquired with their delivery count, and the errors of bad session epochs and of
//! records that are not acquired; ShareGroupDescribe; the member leaving.
//!
//! Member ids are the script's own (the share consumer makes them: UUIDs in base64); topic ids
//! become marks. Kafka assigns a share partition only once it initialised its share state
//! (asynchronously, after the heartbeat that subscribes: the join answers epoch 2 and no
//! partitions, a heartbeat some time later epoch 3 and the partition), where the mock assigns
//! at once (epoch 1): the script heartbeats (not compared) until the member has its partition,
//! and epochs are compared relative to the member's epoch then.

use kafka_wire::{share_acknowledge, share_fetch, share_group_describe, share_group_heartbeat};

use super::*;

const SG: &str = "diff-share-group";
const TOPIC: &str = "sg-topic";
/// Two UUIDs in Kafka's base64 form.
const A: &str = "YWFhYWFhYWFhYWFhYWFhYQ";
const B: &str = "YmJiYmJiYmJiYmJiYmJiYg";

fn coordinator() -> Target {
    Target::group_coordinator(SG)
}

fn leader() -> Target {
    Target::leader(TOPIC, 0)
}

fn hb(member_id: &str, epoch: i32, topics: Option<&[&str]>) -> share_group_heartbeat::v1::Request {
    share_group_heartbeat::v1::Request {
        group_id: SG.into(),
        member_id: member_id.into(),
        member_epoch: epoch,
        subscribed_topic_names: topics.map(|ts| ts.iter().map(|t| (*t).into()).collect()),
        ..Default::default()
    }
}

/// An epoch relative to `base` (the member's epoch once it had its partition): Kafka reaches it
/// through more epochs than the mock (see the module docs).
fn relative(base: i32, epoch: i32) -> i32 {
    if epoch > 0 {
        epoch - base + 1000
    } else {
        epoch
    }
}

/// Epochs in an error message, relative to `base`.
fn relative_text(base: i32, text: &str) -> String {
    let mut out = text.to_owned();
    for e in (1..base + 10).rev() {
        out = out.replace(&format!("({e})"), &format!("(E{})", e - base));
    }
    out
}

fn norm_hb(topic_id: Uuid, base: i32, mut r: share_group_heartbeat::v1::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    r.member_epoch = relative(base, r.member_epoch);
    r.error_message = r.error_message.map(|m| relative_text(base, &m).into());
    if let Some(a) = &mut r.assignment {
        for t in &mut a.topic_partitions {
            if t.topic_id == topic_id {
                t.topic_id = Uuid::ZERO;
            }
            t.partitions.sort();
        }
    }
    r
}

fn norm_describe(topic_id: Uuid, base: i32, mut r: share_group_describe::v1::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for g in &mut r.groups {
        g.group_epoch = relative(base, g.group_epoch);
        g.assignment_epoch = relative(base, g.assignment_epoch);
        g.members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        for m in &mut g.members {
            m.member_epoch = relative(base, m.member_epoch);
            m.client_host = "<host>".into();
            for t in &mut m.assignment.topic_partitions {
                if t.topic_id == topic_id {
                    t.topic_id = Uuid::ZERO;
                }
            }
        }
    }
    r
}

fn ack_batches(batches: &[(i64, i64, i8)]) -> Vec<share_fetch::v2::AcknowledgementBatch> {
    batches
        .iter()
        .map(|&(first_offset, last_offset, kind)| share_fetch::v2::AcknowledgementBatch {
            first_offset,
            last_offset,
            acknowledge_types: [kind].into_iter().collect(),
            ..Default::default()
        })
        .collect()
}

fn fetch(
    member: &str,
    epoch: i32,
    topic_id: Uuid,
    acks: &[(i64, i64, i8)],
    max_wait_ms: i32,
) -> share_fetch::v2::Request {
    share_fetch::v2::Request {
        group_id: Some(SG.into()),
        member_id: Some(member.into()),
        share_session_epoch: epoch,
        max_wait_ms,
        min_bytes: 1,
        max_bytes: 1 << 20,
        max_records: 500,
        batch_size: 500,
        topics: vec![share_fetch::v2::FetchTopic {
            topic_id,
            partitions: vec![share_fetch::v2::FetchPartition {
                partition_index: 0,
                acknowledgement_batches: ack_batches(acks),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn acknowledge(member: &str, epoch: i32, topic_id: Uuid, acks: &[(i64, i64, i8)]) -> share_acknowledge::v2::Request {
    share_acknowledge::v2::Request {
        group_id: Some(SG.into()),
        member_id: Some(member.into()),
        share_session_epoch: epoch,
        topics: vec![share_acknowledge::v2::AcknowledgeTopic {
            topic_id,
            partitions: vec![share_acknowledge::v2::AcknowledgePartition {
                partition_index: 0,
                acknowledgement_batches: acks
                    .iter()
                    .map(|&(first_offset, last_offset, kind)| share_acknowledge::v2::AcknowledgementBatch {
                        first_offset,
                        last_offset,
                        acknowledge_types: [kind].into_iter().collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// ShareFetch: topic ids become marks, records decoded, the leader a role, hosts and ports go.
fn norm_fetch(sys: &Sys, leader: i32, mut r: share_fetch::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    let role = |id: i32| if id == leader { 1000 } else { sys.rank(id) };
    let mut records = Vec::new();
    for t in &mut r.responses {
        t.topic_id = mark_uuid(t.topic_id);
        for p in &mut t.partitions {
            if p.error_code.is_err() {
                p.current_leader.leader_id = role(p.current_leader.leader_id);
            }
            records.push((p.partition_index, summarise(&std::mem::take(&mut p.records))));
        }
    }
    for n in &mut r.node_endpoints {
        n.node_id = role(n.node_id);
        n.host = "<host>".into();
        n.port = 0;
    }
    (r, records)
}

fn norm_acknowledge(sys: &Sys, leader: i32, mut r: share_acknowledge::v2::Response) -> impl Debug {
    r.throttle_time_ms = 0;
    for t in &mut r.responses {
        t.topic_id = mark_uuid(t.topic_id);
        for p in &mut t.partitions.iter_mut().filter(|p| p.error_code.is_err()) {
            let id = p.current_leader.leader_id;
            p.current_leader.leader_id = if id == leader { 1000 } else { sys.rank(id) };
        }
    }
    r
}

/// Heartbeats as `member` (answers not compared) until it has a partition; its epoch then.
async fn settle(s: &Sys, member: &str, mut epoch: i32, mut has: bool) -> i32 {
    let deadline = Instant::now() + PATIENCE;
    while !has {
        assert!(Instant::now() < deadline, "{}: no partition for {member}", s.name);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = s.send(&coordinator(), &hb(member, epoch, None)).await;
        assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
        epoch = r.member_epoch;
        has = r.assignment.is_some_and(|a| a.topic_partitions.iter().any(|t| !t.partitions.is_empty()));
    }
    epoch
}

async fn share_group_script(s: &Sys, t: &mut Transcript) {
    let topic_id = s.create_topic(TOPIC, 1, 1, &[]).await;
    s.coordinator_ready(SG).await;
    let describe =
        |group: &str| share_group_describe::v1::Request { group_ids: vec![group.into()], ..Default::default() };
    s.send_settled(&coordinator(), &describe(SG), |r| r.groups[0].error_code).await;
    let l = s.leader(TOPIC, 0).await;
    let send_hb = |r: share_group_heartbeat::v1::Request| async move { s.send(&coordinator(), &r).await };

    // Bad requests.
    t.step("no member id", norm_hb(topic_id, 0, send_hb(hb("", 0, Some(&[TOPIC]))).await));
    t.step("a join without subscription", norm_hb(topic_id, 0, send_hb(hb(A, 0, None)).await));
    t.step("epoch -3", norm_hb(topic_id, 0, send_hb(hb(A, -3, None)).await));
    t.step("a heartbeat to an unknown group", norm_hb(topic_id, 0, send_hb(hb(A, 1, None)).await));
    t.step("a leave of an unknown group", norm_hb(topic_id, 0, send_hb(hb(A, -1, None)).await));

    // A joins and gets the partition.
    let r = send_hb(hb(A, 0, Some(&[TOPIC]))).await;
    assert_eq!(r.error_code, ErrorCode::NONE, "{}: {:?}", s.name, r.error_message);
    let has = r.assignment.as_ref().is_some_and(|a| a.topic_partitions.iter().any(|t| !t.partitions.is_empty()));
    let base = settle(s, A, r.member_epoch, has).await;
    t.step("A heartbeats", norm_hb(topic_id, base, send_hb(hb(A, base, None)).await));
    t.step("A with a greater epoch", norm_hb(topic_id, base, send_hb(hb(A, base + 5, None)).await));
    t.step("an unknown member", norm_hb(topic_id, base, send_hb(hb(B, 1, None)).await));
    // B joins: both share the one partition.
    t.step("B joins", norm_hb(topic_id, base, send_hb(hb(B, 0, Some(&[TOPIC]))).await));
    t.step("A heartbeats: the next epoch", norm_hb(topic_id, base, send_hb(hb(A, base, None)).await));
    t.step("A with its previous epoch", norm_hb(topic_id, base, send_hb(hb(A, base, None)).await));
    t.step("describe", norm_describe(topic_id, base, s.send(&coordinator(), &describe(SG)).await));
    t.step("B leaves", norm_hb(topic_id, base, send_hb(hb(B, -1, None)).await));
    let none = "diff-no-such-share-group";
    s.coordinator_ready(none).await;
    let r = s.send_settled(&Target::group_coordinator(none), &describe(none), |r| r.groups[0].error_code).await;
    t.step("describe an unknown group", norm_describe(topic_id, base, r));

    // A share session on the leader.
    let mut step_fetch = async |name: &str, request: share_fetch::v2::Request| {
        let r = s.send(&leader(), &request).await;
        t.step(name, norm_fetch(s, l, r));
    };
    step_fetch("a session opens: nothing yet", fetch(A, 0, topic_id, &[], 1000)).await;
    let r = s.send(&leader(), &produce_request(TOPIC, 0, Some(batch(Compression::None, None, 0, 3)), -1)).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, ErrorCode::NONE, "{}", s.name);
    step_fetch("three records acquired", fetch(A, 1, topic_id, &[], 10_000)).await;
    step_fetch("accept 0, release 1: 1 comes again", fetch(A, 2, topic_id, &[(0, 0, 1), (1, 1, 2)], 1000)).await;
    let r = s.send(&leader(), &acknowledge(A, 3, topic_id, &[(1, 1, 3), (2, 2, 1)])).await;
    t.step("ShareAcknowledge: reject 1, accept 2", norm_acknowledge(s, l, r));
    let r = s.send(&leader(), &acknowledge(A, 4, topic_id, &[(2, 2, 1)])).await;
    t.step("ShareAcknowledge: 2 again", norm_acknowledge(s, l, r));
    let r = s.send(&leader(), &acknowledge(A, 9, topic_id, &[(2, 2, 1)])).await;
    t.step("ShareAcknowledge: a wrong epoch", norm_acknowledge(s, l, r));
    let r = s.send(&leader(), &acknowledge(A, 0, topic_id, &[(2, 2, 1)])).await;
    t.step("ShareAcknowledge: epoch 0", norm_acknowledge(s, l, r));
    let mut step_fetch = async |name: &str, request: share_fetch::v2::Request| {
        let r = s.send(&leader(), &request).await;
        t.step(name, norm_fetch(s, l, r));
    };
    step_fetch("ShareFetch: a wrong epoch", fetch(A, 9, topic_id, &[], 0)).await;
    step_fetch("ShareFetch: no session", fetch(B, 1, topic_id, &[], 0)).await;
    step_fetch("ShareFetch: acknowledgements in a new session", fetch(B, 0, topic_id, &[(2, 2, 1)], 0)).await;
    let close = share_fetch::v2::Request { topics: vec![], ..fetch(A, -1, topic_id, &[], 0) };
    step_fetch("the session closes", close).await;

    t.step("A leaves", norm_hb(topic_id, base, send_hb(hb(A, -1, None)).await));
    t.step("A leaves again", norm_hb(topic_id, base, send_hb(hb(A, -1, None)).await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn share_group() {
    differential!("share_group", share_group_script);
}
