//! The classic group state machine with static and dynamic members, next to Kafka 4.4 (issue 15
//! item 7): a static member restarting in a stable group (KIP-345) and a restarted static leader
//! (SkipAssignment from JoinGroup v9, KIP-814; the answer before v9), fenced and unknown
//! instance ids, illegal generations, a rebalance that completes at its rebalance timeout
//! without a static member that did not join again (which stays), a dynamic member that
//! joins, static members leaving by instance id, and a session that expires.

use super::*;

const STATIC_GROUP: &str = "diff-static-group";

/// Each waiting member needs a connection of its own (a JoinGroup holds its connection).
async fn client(s: &Sys) -> Client {
    Client::connect(s.client.view().brokers.values().map(|b| b.addr()), strict()).await.unwrap()
}

fn coordinator() -> Target {
    Target::group_coordinator(STATIC_GROUP)
}

fn protocols() -> Vec<join_group::v9::JoinGroupRequestProtocol> {
    vec![join_group::v9::JoinGroupRequestProtocol {
        name: "range".into(),
        metadata: Bytes::from_static(b"\x00\x01subscription"),
        ..Default::default()
    }]
}

/// JoinGroup v9: session 10 s (every member heartbeats well within it), rebalance 3 s.
fn join(member_id: &str, instance: Option<&str>) -> join_group::v9::Request {
    join_group::v9::Request {
        group_id: STATIC_GROUP.into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 3_000,
        member_id: member_id.into(),
        group_instance_id: instance.map(Into::into),
        protocol_type: "consumer".into(),
        protocols: protocols(),
        reason: Some("differential test".into()),
        ..Default::default()
    }
}

/// The same JoinGroup at v8 (before SkipAssignment).
fn join_v8(member_id: &str, instance: Option<&str>) -> join_group::v8::Request {
    join_group::v8::Request {
        group_id: STATIC_GROUP.into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 3_000,
        member_id: member_id.into(),
        group_instance_id: instance.map(Into::into),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::v8::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"\x00\x01subscription"),
            ..Default::default()
        }],
        reason: Some("differential test".into()),
        ..Default::default()
    }
}

/// JoinGroup v3 (before KIP-394: no MEMBER_ID_REQUIRED round trip).
fn join_v3(member_id: &str) -> join_group::v3::Request {
    join_group::v3::Request {
        group_id: STATIC_GROUP.into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 3_000,
        member_id: member_id.into(),
        protocol_type: "consumer".into(),
        protocols: vec![join_group::v3::JoinGroupRequestProtocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"\x00\x01subscription"),
        }],
    }
}

fn sync(
    member_id: &str,
    instance: Option<&str>,
    generation: i32,
    assignments: &[(&str, &'static [u8])],
) -> sync_group::v5::Request {
    sync_group::v5::Request {
        group_id: STATIC_GROUP.into(),
        generation_id: generation,
        member_id: member_id.into(),
        group_instance_id: instance.map(Into::into),
        protocol_type: Some("consumer".into()),
        protocol_name: Some("range".into()),
        assignments: assignments
            .iter()
            .map(|(id, a)| sync_group::v5::SyncGroupRequestAssignment {
                member_id: (*id).into(),
                assignment: Bytes::from_static(a),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn heartbeat(member_id: &str, instance: Option<&str>, generation: i32) -> heartbeat::v4::Request {
    heartbeat::v4::Request {
        group_id: STATIC_GROUP.into(),
        generation_id: generation,
        member_id: member_id.into(),
        group_instance_id: instance.map(Into::into),
        ..Default::default()
    }
}

fn leave(members: &[(&str, Option<&str>)]) -> leave_group::v5::Request {
    leave_group::v5::Request {
        group_id: STATIC_GROUP.into(),
        members: members
            .iter()
            .map(|(id, instance)| leave_group::v5::MemberIdentity {
                member_id: (*id).into(),
                group_instance_id: instance.map(Into::into),
                reason: Some("bye".into()),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn commit(member_id: &str, instance: Option<&str>, generation: i32, topic: &str) -> offset_commit::v9::Request {
    offset_commit::v9::Request {
        group_id: STATIC_GROUP.into(),
        generation_id_or_member_epoch: generation,
        member_id: member_id.into(),
        group_instance_id: instance.map(Into::into),
        topics: vec![offset_commit::v9::OffsetCommitRequestTopic {
            name: topic.into(),
            partitions: vec![offset_commit::v9::OffsetCommitRequestPartition {
                partition_index: 0,
                committed_offset: 3,
                committed_leader_epoch: -1,
                committed_metadata: Some("".into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A member id's shape: the UUID Kafka appends (`<instance or client id>-<UUID>`) as `<uuid>`.
fn shape(id: &str) -> String {
    let uuid_text = |s: &str| {
        s.len() == 36
            && s.chars()
                .enumerate()
                .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
    };
    match id.len().checked_sub(36) {
        Some(cut) if id.is_char_boundary(cut) && uuid_text(&id[cut..]) => format!("{}<uuid>", &id[..cut]),
        _ => id.to_owned(),
    }
}

/// Heartbeats until the answer is not NONE (a rebalance started, or the member is gone).
async fn heartbeat_until_error(s: &Sys, request: &heartbeat::v4::Request) -> heartbeat::v4::Response {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let r = s.send(&coordinator(), request).await;
        if r.error_code != ErrorCode::NONE {
            return r;
        }
        assert!(Instant::now() < deadline, "{}: the heartbeat never failed", s.name);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn_join(client: &Client, request: join_group::v9::Request) -> tokio::task::JoinHandle<join_group::v9::Response> {
    let client = client.clone();
    tokio::spawn(
        async move { client.send_versioned(&Target::group_coordinator(STATIC_GROUP), &request).await.unwrap() },
    )
}

fn spawn_sync(client: &Client, request: sync_group::v5::Request) -> tokio::task::JoinHandle<sync_group::v5::Response> {
    let client = client.clone();
    tokio::spawn(
        async move { client.send_versioned(&Target::group_coordinator(STATIC_GROUP), &request).await.unwrap() },
    )
}

async fn static_script(s: &Sys, t: &mut Transcript) {
    let topic = "static-group-topic";
    s.create_topic(topic, 1, 1, &[]).await;
    s.coordinator_ready(STATIC_GROUP).await;
    s.send_settled(&coordinator(), &offset_fetch_request(STATIC_GROUP, None), |r| r.groups[0].error_code).await;
    let b_client = client(s).await;
    let c_client = client(s).await;
    let mut m = Members::default();
    let (ia, ib) = (Some("instance-a"), Some("instance-b"));

    // Static A joins alone (no MEMBER_ID_REQUIRED for a static member): generation 1.
    let r = s.send(&coordinator(), &join("", ia)).await;
    let a = r.member_id.to_string();
    t.step("static A's member id", shape(&a));
    m.name("A", &a);
    t.step("static A joins without a member id", norm_join(&m, r));
    let r = s.send(&coordinator(), &sync(&a, ia, 1, &[(&a, b"A: 0")])).await;
    t.step("A syncs generation 1", r);

    // Static B joins: a rebalance, generation 2 with A leading.
    let b_join = spawn_join(&b_client, join("", ib));
    let r = heartbeat_until_error(s, &heartbeat(&a, ia, 1)).await;
    t.step("A heartbeats while B joins", r);
    let a_joins = s.send(&coordinator(), &join(&a, ia)).await;
    let r = b_join.await.unwrap();
    let b = r.member_id.to_string();
    m.name("B", &b);
    t.step("A joins generation 2", norm_join(&m, a_joins));
    t.step("static B joins generation 2", norm_join(&m, r));
    let b_sync = spawn_sync(&b_client, sync(&b, ib, 2, &[]));
    let r = s.send(&coordinator(), &sync(&a, ia, 2, &[(&a, b"A: 0"), (&b, b"B: 1")])).await;
    t.step("A syncs generation 2", r);
    t.step("B syncs generation 2", b_sync.await.unwrap());

    // B restarts: no rebalance, generation 2 and its old assignment.
    let r = s.send(&coordinator(), &join("", ib)).await;
    let b2 = r.member_id.to_string();
    m.name("B2", &b2);
    t.step("B restarts (same instance id, no member id)", norm_join(&m, r));
    let r = s.send(&coordinator(), &sync(&b2, ib, 2, &[])).await;
    t.step("B2 syncs generation 2: B's assignment", r);
    let r = s.send(&coordinator(), &heartbeat(&a, ia, 2)).await;
    t.step("A heartbeats: still generation 2", r);
    let r = s.send(&coordinator(), &heartbeat(&b, ib, 2)).await;
    t.step("the old B heartbeats: fenced", r);
    let r = s.send(&coordinator(), &commit(&b, ib, 2, topic)).await;
    t.step("the old B commits: fenced", r);
    let r = s.send(&coordinator(), &sync(&b, ib, 2, &[])).await;
    t.step("the old B syncs: fenced", r);
    let r = s.send(&coordinator(), &join(&b, ib)).await;
    t.step("the old B joins with its member id: fenced", norm_join(&m, r));
    let r = s.send(&coordinator(), &heartbeat(&b2, Some("instance-nobody"), 2)).await;
    t.step("a heartbeat with an unknown instance id", r);
    let r = s.send(&coordinator(), &heartbeat(&b2, None, 2)).await;
    t.step("B2 heartbeats without its instance id", r);
    let r = s.send(&coordinator(), &commit(&b2, ib, 2, topic)).await;
    t.step("B2 commits", r);

    // The leader restarts: v9 gets the members and SkipAssignment; v8 neither.
    let r = s.send(&coordinator(), &join("", ia)).await;
    let a2 = r.member_id.to_string();
    m.name("A2", &a2);
    t.step("leader A restarts (v9)", norm_join(&m, r));
    let r = s.send(&coordinator(), &sync(&a2, ia, 2, &[])).await;
    t.step("A2 syncs without assignments: A's assignment", r);
    let r = s.send(&coordinator(), &join_v8("", ia)).await;
    let a3 = r.member_id.to_string();
    m.name("A3", &a3);
    t.step("leader A2 restarts (v8)", norm_join(&m, r));
    let r = s.send(&coordinator(), &heartbeat(&a3, ia, 2)).await;
    t.step("A3 heartbeats", r);

    // Dynamic C joins; A3 joins again, B2 does not: at the rebalance timeout, generation 3
    // keeps the static B2.
    let r = c_client.send_versioned(&coordinator(), &join("", None)).await.unwrap();
    let c = r.member_id.to_string();
    m.name("C", &c);
    t.step("dynamic C joins without a member id", norm_join(&m, r));
    let c_join = spawn_join(&c_client, join(&c, None));
    let r = heartbeat_until_error(s, &heartbeat(&a3, ia, 2)).await;
    t.step("A3 heartbeats while C joins", r);
    let r = s.send(&coordinator(), &heartbeat(&b2, ib, 2)).await;
    t.step("B2 heartbeats while C joins", r);
    let r = s.send(&coordinator(), &commit(&b2, ib, 2, topic)).await;
    t.step("B2 commits while C joins", r);
    let r = s.send(&coordinator(), &join(&a3, ia)).await;
    t.step("A3 joins generation 3 (at the rebalance timeout)", norm_join(&m, r));
    t.step("C joins generation 3", norm_join(&m, c_join.await.unwrap()));
    let r = s.send(&coordinator(), &heartbeat(&b2, ib, 2)).await;
    t.step("B2 heartbeats generation 2 after the join phase", r);
    let c_sync = spawn_sync(&c_client, sync(&c, None, 3, &[]));
    let r = s.send(&coordinator(), &sync(&a3, ia, 3, &[(&a3, b"A: 0"), (&b2, b"B: 1"), (&c, b"C: -")])).await;
    t.step("A3 syncs generation 3", r);
    t.step("C syncs generation 3", c_sync.await.unwrap());
    let r = s.send(&coordinator(), &join(&b2, ib)).await;
    t.step("B2 joins again unchanged: generation 3 at once", norm_join(&m, r));
    let r = s.send(&coordinator(), &sync(&b2, ib, 3, &[])).await;
    t.step("B2 syncs generation 3", r);
    let r = s.send(&coordinator(), &sync(&b2, ib, 2, &[])).await;
    t.step("B2 syncs generation 2: illegal", r);
    let r = s.send(&coordinator(), &join(&c, ib)).await;
    t.step("C joins with B2's instance id: fenced", norm_join(&m, r));
    let r = s.send(&coordinator(), &join("someone", None)).await;
    t.step("an unknown member id joins", norm_join(&m, r));

    // Leaving: by instance id alone, with a wrong member id, an unknown instance.
    let r =
        s.send(&coordinator(), &leave(&[("", ib), (&c, ia), ("", Some("instance-nobody")), ("nobody", None)])).await;
    t.step("B2 leaves by instance id; wrong and unknown members", norm_leave(&m, r));
    let r = heartbeat_until_error(s, &heartbeat(&a3, ia, 3)).await;
    t.step("A3 heartbeats after B2 left", r);
    let c_join = spawn_join(&c_client, join(&c, None));
    let r = s.send(&coordinator(), &join(&a3, ia)).await;
    t.step("A3 joins generation 4", norm_join(&m, r));
    t.step("C joins generation 4", norm_join(&m, c_join.await.unwrap()));
    let c_sync = spawn_sync(&c_client, sync(&c, None, 4, &[]));
    let r = s.send(&coordinator(), &sync(&a3, ia, 4, &[(&a3, b"A: 0"), (&c, b"C: 1")])).await;
    t.step("A3 syncs generation 4", r);
    t.step("C syncs generation 4", c_sync.await.unwrap());

    // C stops heartbeating: its session (10 s) expires, a rebalance follows.
    let r = heartbeat_until_error(s, &heartbeat(&a3, ia, 4)).await;
    t.step("A3 heartbeats until C's session expired", r);
    let r = s.send(&coordinator(), &join(&a3, ia)).await;
    t.step("A3 joins generation 5 alone", norm_join(&m, r));
    let r = s.send(&coordinator(), &heartbeat(&c, None, 4)).await;
    t.step("the expired C heartbeats", r);
    let r = s.send(&coordinator(), &leave(&[(&a3, ia)])).await;
    t.step("A3 leaves", norm_leave(&m, r));
    let r = s.send(&coordinator(), &join(&a3, ia)).await;
    t.step("A3 joins the empty group with its old member id", norm_join(&m, r));
    edges(s, t, &mut m, &b_client, &c_client).await;
}

/// The empty group again: a v3 member (no MEMBER_ID_REQUIRED), a static member restarting
/// while the leader's assignment is awaited (a rebalance; its waiting SyncGroup is fenced),
/// the leader leaving while a follower waits in SyncGroup, a SyncGroup with another protocol
/// name, and a member that never sends SyncGroup (removed after the rebalance timeout).
async fn edges(s: &Sys, t: &mut Transcript, m: &mut Members, b_client: &Client, c_client: &Client) {
    let ie = Some("instance-e");
    let r = s.send(&coordinator(), &join_v3("")).await;
    let d = r.member_id.to_string();
    let g1 = r.generation_id;
    m.name("D", &d);
    t.step("D joins with v3: no member id required", norm_join(m, r));
    let r = s.send(&coordinator(), &sync(&d, None, g1, &[(&d, b"D: 0")])).await;
    t.step("D syncs", r);

    // Static E joins: a rebalance.
    let e_join = spawn_join(b_client, join("", ie));
    let r = heartbeat_until_error(s, &heartbeat(&d, None, g1)).await;
    t.step("D heartbeats while E joins", r);
    let d_joins = s.send(&coordinator(), &join(&d, None)).await;
    let r = e_join.await.unwrap();
    let e = r.member_id.to_string();
    m.name("E", &e);
    let g2 = r.generation_id;
    t.step("D joins again", norm_join(m, d_joins));
    t.step("E's join completes", norm_join(m, r));

    // E waits in SyncGroup; it restarts before the leader's assignment arrived. (Should the
    // restart reach the coordinator before E's SyncGroup, that SyncGroup is fenced all the
    // same: its instance id belongs to E2 by then; likewise below for E2 and D's leave.)
    let e_sync = spawn_sync(b_client, sync(&e, ie, g2, &[]));
    let r = heartbeat_until_error(s, &heartbeat(&e, ie, g2 + 100)).await;
    t.step("E's heartbeat of a future generation while it waits in SyncGroup", r);
    let e2_client = client(s).await;
    let e2_join = spawn_join(&e2_client, join("", ie));
    t.step("E's waiting SyncGroup when E restarts", e_sync.await.unwrap());
    let r = heartbeat_until_error(s, &heartbeat(&d, None, g2)).await;
    t.step("D heartbeats after E restarted", r);
    let d_joins = s.send(&coordinator(), &join(&d, None)).await;
    let r = e2_join.await.unwrap();
    let e2 = r.member_id.to_string();
    m.name("E2", &e2);
    let g3 = r.generation_id;
    t.step("D joins after E restarted", norm_join(m, d_joins));
    t.step("E2's join completes", norm_join(m, r));

    // E2 waits in SyncGroup; the leader D leaves instead of sending the assignment.
    let e2_sync = spawn_sync(&e2_client, sync(&e2, ie, g3, &[]));
    let r = heartbeat_until_error(s, &heartbeat(&e2, ie, g3 + 100)).await;
    t.step("E2's heartbeat of a future generation while it waits in SyncGroup", r);
    let r = s.send(&coordinator(), &leave(&[(&d, None)])).await;
    t.step("the leader D leaves", norm_leave(m, r));
    t.step("E2's waiting SyncGroup when the leader left", e2_sync.await.unwrap());
    let r = s.send(&coordinator(), &heartbeat(&e2, ie, g3)).await;
    t.step("E2 heartbeats", r);
    let r = s.send(&coordinator(), &join(&e2, ie)).await;
    let g4 = r.generation_id;
    t.step("E2 joins alone", norm_join(m, r));
    let mut wrong = sync(&e2, ie, g4, &[(&e2, b"E: 0")]);
    wrong.protocol_name = Some("roundrobin".into());
    t.step("E2 syncs with another protocol name", s.send(&coordinator(), &wrong).await);
    let r = s.send(&coordinator(), &sync(&e2, ie, g4, &[(&e2, b"E: 0")])).await;
    t.step("E2 syncs", r);

    // F joins and never sends SyncGroup.
    let r = c_client.send_versioned(&coordinator(), &join("", None)).await.unwrap();
    let f = r.member_id.to_string();
    m.name("F", &f);
    let f_join = spawn_join(c_client, join(&f, None));
    let r = heartbeat_until_error(s, &heartbeat(&e2, ie, g4)).await;
    t.step("E2 heartbeats while F joins", r);
    let r = s.send(&coordinator(), &join(&e2, ie)).await;
    let g5 = r.generation_id;
    t.step("E2 joins with F", norm_join(m, r));
    t.step("F's join completes", norm_join(m, f_join.await.unwrap()));
    let r = s.send(&coordinator(), &sync(&e2, ie, g5, &[(&e2, b"E: 0"), (&f, b"F: -")])).await;
    t.step("E2 syncs; F does not", r);
    let r = heartbeat_until_error(s, &heartbeat(&e2, ie, g5)).await;
    t.step("E2 heartbeats until F was removed", r);
    let r = s.send(&coordinator(), &heartbeat(&f, None, g5)).await;
    t.step("F heartbeats after its removal", r);
    let r = s.send(&coordinator(), &leave(&[(&e2, ie)])).await;
    t.step("E2 leaves", norm_leave(m, r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_members() {
    differential!("static_members", static_script);
}
