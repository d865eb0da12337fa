//! DescribeUserScramCredentials and AlterUserScramCredentials, as Kafka 4.4's
//! `ScramControlManager` and `ScramImage` answer them. The credentials live in the cluster
//! state ([`crate::state::ScramLookup`]); the SASL exchange reads them there.

use std::collections::{BTreeMap, BTreeSet};

use kafka_wire::alter_user_scram_credentials::{self, AlterUserScramCredentialsResult};
use kafka_wire::describe_user_scram_credentials::{self, CredentialInfo, DescribeUserScramCredentialsResult};
use kafka_wire::ErrorCode;

use crate::context::Ctx;
use crate::state::{AdminError, StoredScram};

/// Kafka's bounds on SCRAM iterations (`ScramMechanism.minIterations`,
/// `ScramControlManager.MAX_ITERATIONS`).
const MIN_ITERATIONS: i32 = 4096;
const MAX_ITERATIONS: i32 = 16384;

pub(crate) fn describe_user_scram_credentials(
    ctx: &Ctx<'_>,
    r: &describe_user_scram_credentials::Request,
) -> describe_user_scram_credentials::Response {
    if let Some(code) = ctx.forced {
        return describe_user_scram_credentials::Response { error_code: code, ..Default::default() };
    }
    let state = ctx.shared.state();
    // User → asked for twice.
    let mut users: BTreeMap<String, bool> = BTreeMap::new();
    match r.users.as_deref() {
        None | Some([]) => users.extend(state.scram_credentials.keys().map(|(u, _)| (u.clone(), false))),
        Some(asked) => {
            for u in asked {
                users.entry(u.name.to_string()).and_modify(|twice| *twice = true).or_insert(false);
            }
        }
    }
    let results = users
        .into_iter()
        .map(|(user, twice)| {
            let mut result = DescribeUserScramCredentialsResult { user: user.as_str().into(), ..Default::default() };
            let infos: Vec<CredentialInfo> = state
                .scram_credentials
                .iter()
                .filter(|((u, _), _)| *u == user)
                .map(|((_, mechanism), c)| CredentialInfo {
                    mechanism: *mechanism,
                    iterations: c.iterations,
                    ..Default::default()
                })
                .collect();
            if twice {
                result.error_code = ErrorCode::DUPLICATE_RESOURCE;
                result.error_message = Some(
                    format!("Cannot describe SCRAM credentials for the same user twice in a single request: {user}")
                        .into(),
                );
            } else if infos.is_empty() {
                result.error_code = ErrorCode::RESOURCE_NOT_FOUND;
                result.error_message =
                    Some(format!("Attempt to describe a user credential that does not exist: {user}").into());
            } else {
                result.credential_infos = infos;
            }
            result
        })
        .collect();
    describe_user_scram_credentials::Response { results, ..Default::default() }
}

/// A user name and SCRAM mechanism type (1: SCRAM-SHA-256, 2: SCRAM-SHA-512) Kafka accepts.
fn check_user(name: &str, mechanism: i8) -> Result<(), AdminError> {
    if name.is_empty() {
        return Err((ErrorCode::UNACCEPTABLE_CREDENTIAL, Some("Username must not be empty".into())));
    }
    if !matches!(mechanism, 1 | 2) {
        return Err((ErrorCode::UNSUPPORTED_SASL_MECHANISM, Some("Unknown SCRAM mechanism".into())));
    }
    Ok(())
}

/// AlterUserScramCredentials: each user may be named once (deletion or upsertion); an
/// upsertion stores the keys derived from the client's salted password (never the password).
pub(crate) fn alter_user_scram_credentials(
    ctx: &Ctx<'_>,
    r: &alter_user_scram_credentials::Request,
) -> alter_user_scram_credentials::Response {
    let mut state = ctx.shared.state();
    let mut errors: BTreeMap<String, AdminError> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut deletions: Vec<(String, i8)> = Vec::new();
    let mut upsertions: Vec<(String, i8, StoredScram)> = Vec::new();
    let twice = || {
        (ErrorCode::DUPLICATE_RESOURCE, Some("A user credential cannot be altered twice in the same request".into()))
    };
    for d in &r.deletions {
        let name = d.name.to_string();
        if errors.contains_key(&name) {
            continue;
        }
        if !seen.insert(name.clone()) {
            deletions.retain(|(u, _)| *u != name);
            errors.insert(name, twice());
            continue;
        }
        let outcome = ctx.forced.map_or(Ok(()), |code| Err((code, None))).and_then(|()| check_user(&name, d.mechanism));
        let outcome = outcome.and_then(|()| {
            if state.scram_credentials.contains_key(&(name.clone(), d.mechanism)) {
                Ok(())
            } else {
                Err((
                    ErrorCode::RESOURCE_NOT_FOUND,
                    Some("Attempt to delete a user credential that does not exist".into()),
                ))
            }
        });
        match outcome {
            Ok(()) => deletions.push((name, d.mechanism)),
            Err(e) => {
                errors.insert(name, e);
            }
        }
    }
    for u in &r.upsertions {
        let name = u.name.to_string();
        if errors.contains_key(&name) {
            continue;
        }
        if !seen.insert(name.clone()) {
            deletions.retain(|(n, _)| *n != name);
            upsertions.retain(|(n, ..)| *n != name);
            errors.insert(name, twice());
            continue;
        }
        let outcome = ctx.forced.map_or(Ok(()), |code| Err((code, None))).and_then(|()| check_user(&name, u.mechanism));
        let outcome = outcome.and_then(|()| {
            if u.iterations < MIN_ITERATIONS {
                Err((ErrorCode::UNACCEPTABLE_CREDENTIAL, Some("Too few iterations".into())))
            } else if u.iterations > MAX_ITERATIONS {
                Err((ErrorCode::UNACCEPTABLE_CREDENTIAL, Some("Too many iterations".into())))
            } else {
                Ok(())
            }
        });
        match outcome {
            Ok(()) => {
                let stored = StoredScram::from_salted_password(u.mechanism, &u.salt, u.iterations, &u.salted_password);
                upsertions.push((name, u.mechanism, stored));
            }
            Err(e) => {
                errors.insert(name, e);
            }
        }
    }
    let mut results = Vec::new();
    for (name, mechanism) in deletions {
        state.scram_credentials.remove(&(name.clone(), mechanism));
        results.push(AlterUserScramCredentialsResult { user: name.into(), error_message: None, ..Default::default() });
    }
    for (name, mechanism, stored) in upsertions {
        state.scram_credentials.insert((name.clone(), mechanism), stored);
        results.push(AlterUserScramCredentialsResult { user: name.into(), error_message: None, ..Default::default() });
    }
    for (name, (error_code, message)) in errors {
        results.push(AlterUserScramCredentialsResult {
            user: name.into(),
            error_code,
            error_message: message.map(Into::into),
            ..Default::default()
        });
    }
    alter_user_scram_credentials::Response { results, ..Default::default() }
}
