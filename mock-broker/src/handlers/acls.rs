//! CreateAcls, DescribeAcls and DeleteAcls, as Kafka 4.4 answers them with its
//! `StandardAuthorizer` (`AclControlManager` validates, `AclBindingFilter` matches), and the
//! authorizer's decision ([`authorize`]). A mock without SASL users has no authorizer, like a
//! Kafka without `authorizer.class.name`: every ACL request gets SECURITY_DISABLED.

use kafka_wire::create_acls::{self, AclCreationResult};
use kafka_wire::delete_acls::{self, DeleteAclsFilterResult, DeleteAclsMatchingAcl};
use kafka_wire::describe_acls::{self, AclDescription, DescribeAclsResource};
use kafka_wire::ErrorCode;

use crate::context::Ctx;
use crate::state::{AclBinding, AdminError};

/// Codes shared by the filters: ANY matches every value, MATCH (pattern types only) matches the
/// patterns that apply to a name.
const ANY: i8 = 1;
const MATCH: i8 = 2;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const CLUSTER: i8 = 4;
/// Operations and permissions.
const ALL: i8 = 2;
const READ: i8 = 3;
const WRITE: i8 = 4;
const DELETE: i8 = 6;
const ALTER: i8 = 7;
const DESCRIBE: i8 = 8;
const DESCRIBE_CONFIGS: i8 = 10;
const ALTER_CONFIGS: i8 = 11;
const DENY: i8 = 2;
const ALLOW: i8 = 3;

/// Kafka's messages without an authorizer: the controller's (CreateAcls, DeleteAcls) and the
/// broker's (DescribeAcls).
const NO_AUTHORIZER: &str = "No Authorizer is configured.";
const NO_AUTHORIZER_ON_BROKER: &str = "No Authorizer is configured on the broker";

/// An ACL filter (Kafka's `AclBindingFilter`); `None` fields match anything.
#[derive(Debug, Clone)]
struct Filter {
    resource_type: i8,
    name: Option<String>,
    pattern_type: i8,
    principal: Option<String>,
    host: Option<String>,
    operation: i8,
    permission: i8,
}

impl Filter {
    fn matches(&self, acl: &AclBinding) -> bool {
        let any_or = |filter: i8, value: i8| filter == ANY || filter == value;
        let name_ok = match (self.pattern_type, &self.name) {
            (ANY, None) => true,
            (ANY, Some(name)) => acl.resource_name == *name,
            (MATCH, None) => true,
            (MATCH, Some(name)) => match acl.pattern_type {
                LITERAL => acl.resource_name == *name || acl.resource_name == "*",
                PREFIXED => name.starts_with(&acl.resource_name),
                _ => false,
            },
            (pattern, name) => acl.pattern_type == pattern && name.as_ref().is_none_or(|n| acl.resource_name == *n),
        };
        any_or(self.resource_type, acl.resource_type)
            && name_ok
            && self.principal.as_ref().is_none_or(|p| acl.principal == *p)
            && self.host.as_ref().is_none_or(|h| acl.host == *h)
            && any_or(self.operation, acl.operation)
            && any_or(self.permission, acl.permission)
    }
}

/// Kafka's checks of a new ACL (`AclControlManager.validateNewAcl`).
fn validate(acl: &AclBinding) -> Result<(), AdminError> {
    let invalid = |m: String| Err((ErrorCode::INVALID_REQUEST, Some(m)));
    if !(2..=7).contains(&acl.resource_type) {
        return invalid(format!("Invalid resourceType {}", acl.resource_type));
    }
    if !matches!(acl.pattern_type, LITERAL | PREFIXED) {
        return invalid(format!("Invalid patternType {}", acl.pattern_type));
    }
    if !(ALL..=14).contains(&acl.operation) {
        return invalid(format!("Invalid operation {}", acl.operation));
    }
    if !matches!(acl.permission, DENY | ALLOW) {
        return invalid(format!("Invalid permissionType {}", acl.permission));
    }
    if acl.resource_name.is_empty() {
        return invalid("Resource name should not be empty".into());
    }
    if acl.resource_type == CLUSTER && acl.resource_name != "kafka-cluster" {
        return invalid("The only valid name for the CLUSTER resource is kafka-cluster".into());
    }
    if !acl.principal.contains(':') {
        return invalid(format!(
            "Could not parse principal from `{}` (no colon is present separating the principal type from the \
             principal name)",
            acl.principal
        ));
    }
    if acl.host.is_empty() {
        return invalid("Invalid host".into());
    }
    Ok(())
}

/// Whether `operation` on the resource is allowed to `principal` (`User:<name>`) from `host`,
/// as Kafka's `StandardAuthorizer` decides: a matching DENY wins; else a matching ALLOW, where
/// ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE and ALLOW of ALTER_CONFIGS also
/// DESCRIBE_CONFIGS; else denied. An ACL matches by its resource (literal name, `*`, or
/// prefix), principal (or `User:*`), host (or `*`) and operation (or ALL).
pub(crate) fn authorize(
    acls: &[AclBinding],
    principal: &str,
    host: &str,
    operation: i8,
    resource_type: i8,
    resource_name: &str,
) -> bool {
    let applies = |acl: &&AclBinding| {
        acl.resource_type == resource_type
            && match acl.pattern_type {
                LITERAL => acl.resource_name == resource_name || acl.resource_name == "*",
                PREFIXED => resource_name.starts_with(&acl.resource_name),
                _ => false,
            }
            && (acl.principal == principal || acl.principal == "User:*")
            && (acl.host == host || acl.host == "*")
    };
    let relevant: Vec<&AclBinding> = acls.iter().filter(applies).collect();
    if relevant.iter().any(|a| a.permission == DENY && (a.operation == operation || a.operation == ALL)) {
        return false;
    }
    let implied = |granted: i8| {
        granted == operation
            || granted == ALL
            || (operation == DESCRIBE && matches!(granted, READ | WRITE | DELETE | ALTER))
            || (operation == DESCRIBE_CONFIGS && granted == ALTER_CONFIGS)
    };
    relevant.iter().any(|a| a.permission == ALLOW && implied(a.operation))
}

pub(crate) fn create_acls(ctx: &Ctx<'_>, r: &create_acls::Request) -> create_acls::Response {
    let failed = |code: ErrorCode, message: Option<String>| AclCreationResult {
        error_code: code,
        error_message: message.map(Into::into),
        ..Default::default()
    };
    if ctx.shared.users.is_none() && !ctx.shared.authorizer {
        let results =
            r.creations.iter().map(|_| failed(ErrorCode::SECURITY_DISABLED, Some(NO_AUTHORIZER.into()))).collect();
        return create_acls::Response { results, ..Default::default() };
    }
    let mut state = ctx.shared.state();
    let results = r
        .creations
        .iter()
        .map(|c| {
            let acl = AclBinding {
                resource_type: c.resource_type,
                resource_name: c.resource_name.to_string(),
                pattern_type: c.resource_pattern_type,
                principal: c.principal.to_string(),
                host: c.host.to_string(),
                operation: c.operation,
                permission: c.permission_type,
            };
            let outcome = match ctx.forced {
                Some(code) => Err((code, None)),
                None => validate(&acl),
            };
            match outcome {
                Ok(()) => {
                    if !state.acls.contains(&acl) {
                        state.acls.push(acl);
                    }
                    // Kafka's controller answers an empty message, not a null one.
                    failed(ErrorCode::NONE, Some(String::new()))
                }
                Err((code, message)) => failed(code, message),
            }
        })
        .collect();
    create_acls::Response { results, ..Default::default() }
}

pub(crate) fn describe_acls(ctx: &Ctx<'_>, r: &describe_acls::Request) -> describe_acls::Response {
    if ctx.shared.users.is_none() && !ctx.shared.authorizer {
        return describe_acls::Response {
            error_code: ErrorCode::SECURITY_DISABLED,
            error_message: Some(NO_AUTHORIZER_ON_BROKER.into()),
            ..Default::default()
        };
    }
    if let Some(code) = ctx.forced {
        return describe_acls::Response { error_code: code, ..Default::default() };
    }
    let filter = Filter {
        resource_type: r.resource_type_filter,
        name: r.resource_name_filter.as_deref().map(str::to_owned),
        pattern_type: r.pattern_type_filter,
        principal: r.principal_filter.as_deref().map(str::to_owned),
        host: r.host_filter.as_deref().map(str::to_owned),
        operation: r.operation,
        permission: r.permission_type,
    };
    let state = ctx.shared.state();
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for acl in state.acls.iter().filter(|a| filter.matches(a)) {
        let description = AclDescription {
            principal: acl.principal.as_str().into(),
            host: acl.host.as_str().into(),
            operation: acl.operation,
            permission_type: acl.permission,
            ..Default::default()
        };
        let same = |x: &&mut DescribeAclsResource| {
            x.resource_type == acl.resource_type
                && *x.resource_name == *acl.resource_name
                && x.pattern_type == acl.pattern_type
        };
        match resources.iter_mut().find(same) {
            Some(x) => x.acls.push(description),
            None => resources.push(DescribeAclsResource {
                resource_type: acl.resource_type,
                resource_name: acl.resource_name.as_str().into(),
                pattern_type: acl.pattern_type,
                acls: vec![description],
                ..Default::default()
            }),
        }
    }
    // Kafka answers an empty message, not a null one.
    describe_acls::Response { error_message: Some("".into()), resources, ..Default::default() }
}

pub(crate) fn delete_acls(ctx: &Ctx<'_>, r: &delete_acls::Request) -> delete_acls::Response {
    if ctx.shared.users.is_none() && !ctx.shared.authorizer {
        let filter_results = r
            .filters
            .iter()
            .map(|_| DeleteAclsFilterResult {
                error_code: ErrorCode::SECURITY_DISABLED,
                error_message: Some(NO_AUTHORIZER.into()),
                ..Default::default()
            })
            .collect();
        return delete_acls::Response { filter_results, ..Default::default() };
    }
    let mut state = ctx.shared.state();
    let filter_results = r
        .filters
        .iter()
        .map(|f| {
            if let Some(code) = ctx.forced {
                return DeleteAclsFilterResult { error_code: code, error_message: None, ..Default::default() };
            }
            let filter = Filter {
                resource_type: f.resource_type_filter,
                name: f.resource_name_filter.as_deref().map(str::to_owned),
                pattern_type: f.pattern_type_filter,
                principal: f.principal_filter.as_deref().map(str::to_owned),
                host: f.host_filter.as_deref().map(str::to_owned),
                operation: f.operation,
                permission: f.permission_type,
            };
            let (gone, kept): (Vec<AclBinding>, Vec<AclBinding>) =
                std::mem::take(&mut state.acls).into_iter().partition(|a| filter.matches(a));
            state.acls = kept;
            DeleteAclsFilterResult {
                error_message: None,
                matching_acls: gone
                    .into_iter()
                    .map(|a| DeleteAclsMatchingAcl {
                        error_message: None,
                        resource_type: a.resource_type,
                        resource_name: a.resource_name.into(),
                        pattern_type: a.pattern_type,
                        principal: a.principal.into(),
                        host: a.host.into(),
                        operation: a.operation,
                        permission_type: a.permission,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    delete_acls::Response { filter_results, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(resource_type: i8, name: &str, pattern: i8, principal: &str, operation: i8, permission: i8) -> AclBinding {
        AclBinding {
            resource_type,
            resource_name: name.into(),
            pattern_type: pattern,
            principal: principal.into(),
            host: "*".into(),
            operation,
            permission,
        }
    }

    /// The `StandardAuthorizer` rules: no ACL denies; ALLOW by literal, wildcard or prefix;
    /// implied DESCRIBE; DENY beats ALLOW; other principals and resources are not touched.
    #[test]
    fn the_authorizer_decides_like_kafkas() {
        let topic = 2;
        assert!(!authorize(&[], "User:alice", "127.0.0.1", READ, topic, "t"));
        let acls = vec![
            acl(topic, "orders", LITERAL, "User:alice", READ, ALLOW),
            acl(topic, "logs-", PREFIXED, "User:*", WRITE, ALLOW),
            acl(topic, "*", LITERAL, "User:bob", ALL, ALLOW),
            acl(topic, "secret", LITERAL, "User:bob", READ, DENY),
        ];
        assert!(authorize(&acls, "User:alice", "h", READ, topic, "orders"));
        assert!(authorize(&acls, "User:alice", "h", DESCRIBE, topic, "orders"));
        assert!(!authorize(&acls, "User:alice", "h", WRITE, topic, "orders"));
        assert!(authorize(&acls, "User:carol", "h", WRITE, topic, "logs-app"));
        assert!(!authorize(&acls, "User:carol", "h", WRITE, topic, "log"));
        assert!(authorize(&acls, "User:bob", "h", ALTER, topic, "anything"));
        assert!(!authorize(&acls, "User:bob", "h", READ, topic, "secret"));
        assert!(authorize(&acls, "User:bob", "h", WRITE, topic, "secret"));
        assert!(!authorize(&acls, "User:alice", "h", READ, 3, "orders"));
    }

    /// Filters: ANY, MATCH (the patterns that apply to a name) and exact pattern types.
    #[test]
    fn filters_match_like_kafkas() {
        let literal = acl(2, "orders", LITERAL, "User:alice", READ, ALLOW);
        let prefixed = acl(2, "ord", PREFIXED, "User:alice", READ, ALLOW);
        let filter = |name: Option<&str>, pattern_type: i8| Filter {
            resource_type: ANY,
            name: name.map(str::to_owned),
            pattern_type,
            principal: None,
            host: None,
            operation: ANY,
            permission: ANY,
        };
        assert!(filter(None, ANY).matches(&prefixed));
        assert!(filter(Some("orders"), MATCH).matches(&prefixed));
        assert!(filter(Some("orders"), MATCH).matches(&literal));
        assert!(!filter(Some("orders"), LITERAL).matches(&prefixed));
        assert!(!filter(Some("orders"), ANY).matches(&prefixed));
        assert!(filter(Some("ord"), PREFIXED).matches(&prefixed));
    }
}
