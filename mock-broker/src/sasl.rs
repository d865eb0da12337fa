//! The broker side of SASL PLAIN (RFC 4616) and SCRAM-SHA-256/512 (RFC 5802, RFC 7677), the
//! exchanges carried by SaslAuthenticate.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::config::{SaslConfig, SaslMechanism};
use crate::state::{random_bytes, ScramKeys, ScramLookup};

/// The SCRAM hash functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha256,
    Sha512,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut mac = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// Hi(): PBKDF2 with HMAC of this hash, one block.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut first = salt.to_vec();
        first.extend_from_slice(&1u32.to_be_bytes());
        let mut u = self.hmac(password, &first);
        let mut out = u.clone();
        for _ in 1..iterations {
            u = self.hmac(password, &u);
            for (o, x) in out.iter_mut().zip(&u) {
                *o ^= x;
            }
        }
        out
    }
}

/// What the broker stores of a SCRAM user (never the password).
#[derive(Debug, Clone)]
pub(crate) struct ScramCredential {
    salt: Vec<u8>,
    iterations: u32,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl ScramCredential {
    /// A credential made by AlterUserScramCredentials, from its stored keys.
    fn stored(keys: ScramKeys, iterations: u32) -> Self {
        ScramCredential { salt: keys.salt, iterations, stored_key: keys.stored_key, server_key: keys.server_key }
    }

    fn new(hash: ScramHash, password: &str, iterations: u32) -> Self {
        let salt = random_bytes::<16>().to_vec();
        let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        ScramCredential {
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
            salt,
            iterations,
        }
    }
}

/// The users of a SASL listener, with SCRAM credentials computed once at start.
#[derive(Debug)]
pub(crate) struct Users {
    mechanisms: Vec<SaslMechanism>,
    plain: HashMap<String, String>,
    scram256: HashMap<String, ScramCredential>,
    scram512: HashMap<String, ScramCredential>,
    iterations: u32,
}

impl Users {
    pub(crate) fn new(config: &SaslConfig) -> Users {
        let iterations = config.scram_iterations.max(1);
        let enabled = |m| config.mechanisms.contains(&m);
        let scram = |hash, mechanism| {
            if !enabled(mechanism) {
                return HashMap::new();
            }
            config.users.iter().map(|(u, p)| (u.clone(), ScramCredential::new(hash, p, iterations))).collect()
        };
        Users {
            mechanisms: config.mechanisms.clone(),
            plain: if enabled(SaslMechanism::Plain) { config.users.iter().cloned().collect() } else { HashMap::new() },
            scram256: scram(ScramHash::Sha256, SaslMechanism::ScramSha256),
            scram512: scram(ScramHash::Sha512, SaslMechanism::ScramSha512),
            iterations,
        }
    }

    /// The names of the enabled mechanisms.
    pub(crate) fn mechanism_names(&self) -> Vec<&'static str> {
        self.mechanisms.iter().map(|m| m.name()).collect()
    }

    /// The enabled mechanism named `name`.
    pub(crate) fn mechanism(&self, name: &str) -> Option<SaslMechanism> {
        SaslMechanism::from_name(name).filter(|m| self.mechanisms.contains(m))
    }
}

/// One authentication exchange in progress (one per connection at most).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Exchange {
    Plain,
    ScramFirst(SaslMechanism),
    ScramFinal {
        hash: ScramHash,
        mechanism: SaslMechanism,
        user: String,
        gs2_header: String,
        client_first_bare: String,
        server_first: String,
        nonce: String,
        /// `None` for an unknown user: the exchange continues and fails at the end.
        credential: Option<ScramCredential>,
    },
}

/// The result of one step.
#[derive(Debug)]
pub(crate) enum Step {
    /// Send this challenge; the exchange goes on.
    Continue(Vec<u8>),
    /// Authenticated as this user; send this last message.
    Done { user: String, reply: Vec<u8> },
}

/// Why an exchange failed: what the client is told, and, when it is Kafka's generic text, the
/// detail for the broker's log.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) detail: Option<String>,
}

impl Failure {
    /// A message that goes to the client as it is (Kafka's `SaslAuthenticationException`).
    fn told(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), detail: None }
    }

    /// A malformed message (Kafka's `SaslException`): the client gets Kafka's generic text,
    /// the log gets `detail`.
    fn malformed(mechanism: SaslMechanism, detail: impl Into<String>) -> Failure {
        Failure { message: invalid_credentials(mechanism), detail: Some(detail.into()) }
    }

    /// What the broker logs.
    pub(crate) fn reason(&self) -> &str {
        self.detail.as_deref().unwrap_or(&self.message)
    }
}

/// Kafka's text for a SCRAM exchange that fails, and for any malformed SASL message
/// (`SaslServerAuthenticator`).
fn invalid_credentials(mechanism: SaslMechanism) -> String {
    format!(
        "Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
        mechanism.name()
    )
}

impl Exchange {
    pub(crate) fn start(mechanism: SaslMechanism) -> Exchange {
        match mechanism {
            SaslMechanism::Plain => Exchange::Plain,
            m => Exchange::ScramFirst(m),
        }
    }

    /// Takes the client's next message. `lookup` says where a SCRAM user's credential is
    /// (the cluster's credential store, `State::scram_credential`): a configured user's is the
    /// listener's own, one made by AlterUserScramCredentials is built from its stored keys, and
    /// an absent one (never made, or deleted) fails the exchange at its end, as Kafka's
    /// `ScramSaslServer` fails an unknown user.
    pub(crate) fn step(
        &mut self,
        users: &Users,
        lookup: impl FnOnce(&str, SaslMechanism) -> ScramLookup,
        message: &[u8],
    ) -> Result<Step, Failure> {
        match self {
            Exchange::Plain => {
                let text = std::str::from_utf8(message)
                    .map_err(|_| Failure::malformed(SaslMechanism::Plain, "Invalid SASL/PLAIN message"))?;
                let mut parts = text.split('\0');
                let (Some(authzid), Some(user), Some(password), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(Failure::malformed(
                        SaslMechanism::Plain,
                        "Invalid SASL/PLAIN response: expected 3 tokens",
                    ));
                };
                if !authzid.is_empty() && authzid != user {
                    return Err(Failure::told(
                        "Authentication failed: Client requested an authorization id that is different from username",
                    ));
                }
                match users.plain.get(user) {
                    Some(p) if p == password => Ok(Step::Done { user: user.to_owned(), reply: Vec::new() }),
                    _ => Err(Failure::told("Authentication failed: Invalid username or password")),
                }
            }
            Exchange::ScramFirst(mechanism) => {
                let mechanism = *mechanism;
                let (hash, credentials) = match mechanism {
                    SaslMechanism::ScramSha512 => (ScramHash::Sha512, &users.scram512),
                    _ => (ScramHash::Sha256, &users.scram256),
                };
                let text = std::str::from_utf8(message)
                    .map_err(|_| Failure::malformed(mechanism, "Invalid SCRAM client first message"))?;
                let (gs2_header, bare) = split_gs2(text)
                    .ok_or_else(|| Failure::malformed(mechanism, "Invalid SCRAM client first message"))?;
                let mut user = None;
                let mut client_nonce = None;
                for attr in bare.split(',') {
                    if let Some(v) = attr.strip_prefix("n=") {
                        user = Some(v.replace("=2C", ",").replace("=3D", "="));
                    } else if let Some(v) = attr.strip_prefix("r=") {
                        client_nonce = Some(v.to_owned());
                    } else if attr.starts_with("m=") {
                        return Err(Failure::malformed(
                            mechanism,
                            "Invalid SCRAM client first message: mandatory extension",
                        ));
                    }
                }
                let (Some(user), Some(client_nonce)) = (user, client_nonce) else {
                    return Err(Failure::malformed(mechanism, "Invalid SCRAM client first message"));
                };
                if client_nonce.is_empty() || !client_nonce.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',') {
                    return Err(Failure::malformed(mechanism, "Invalid SCRAM client nonce"));
                }
                let credential = match lookup(&user, mechanism) {
                    ScramLookup::Absent => None,
                    ScramLookup::Configured => credentials.get(&user).cloned(),
                    ScramLookup::Stored(keys, iterations) => Some(ScramCredential::stored(keys, iterations)),
                };
                let (salt, iterations) = match &credential {
                    Some(c) => (c.salt.clone(), c.iterations),
                    None => (random_bytes::<16>().to_vec(), users.iterations),
                };
                let nonce = format!("{client_nonce}{}", BASE64.encode(random_bytes::<18>()));
                let server_first = format!("r={nonce},s={},i={iterations}", BASE64.encode(salt));
                let challenge = server_first.clone().into_bytes();
                *self = Exchange::ScramFinal {
                    hash,
                    mechanism,
                    user,
                    gs2_header: gs2_header.to_owned(),
                    client_first_bare: bare.to_owned(),
                    server_first,
                    nonce,
                    credential,
                };
                Ok(Step::Continue(challenge))
            }
            Exchange::ScramFinal {
                hash,
                mechanism,
                user,
                gs2_header,
                client_first_bare,
                server_first,
                nonce,
                credential,
            } => {
                let text = std::str::from_utf8(message)
                    .map_err(|_| Failure::malformed(*mechanism, "Invalid SCRAM client final message"))?;
                let (without_proof, proof) = text
                    .rsplit_once(",p=")
                    .ok_or_else(|| Failure::malformed(*mechanism, "Invalid SCRAM client final message"))?;
                let mut channel = None;
                let mut final_nonce = None;
                for attr in without_proof.split(',') {
                    if let Some(v) = attr.strip_prefix("c=") {
                        channel = Some(v);
                    } else if let Some(v) = attr.strip_prefix("r=") {
                        final_nonce = Some(v);
                    }
                }
                if channel != Some(BASE64.encode(gs2_header.as_bytes()).as_str()) {
                    return Err(Failure::malformed(
                        *mechanism,
                        "Invalid SCRAM client final message: channel binding does not match",
                    ));
                }
                if final_nonce != Some(nonce.as_str()) {
                    // librdkafka before 2.6.1 sends its client nonce again in front of the
                    // server's (librdkafka#4895); Kafka 4 refuses that too (`ScramSaslServer`
                    // compares with `equals`).
                    let repeated = final_nonce.is_some_and(|n| n.len() > nonce.len() && n.ends_with(nonce.as_str()));
                    let hint =
                        if repeated { " (the client nonce repeated in front: librdkafka before 2.6.1)" } else { "" };
                    return Err(Failure::malformed(
                        *mechanism,
                        format!("Invalid SCRAM client final message: nonce does not match{hint}"),
                    ));
                }
                let proof =
                    BASE64.decode(proof).map_err(|_| Failure::malformed(*mechanism, "Invalid SCRAM client proof"))?;
                let Some(credential) = credential else { return Err(Failure::told(invalid_credentials(*mechanism))) };
                let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
                let signature = hash.hmac(&credential.stored_key, auth_message.as_bytes());
                if proof.len() != signature.len() {
                    return Err(Failure::told(invalid_credentials(*mechanism)));
                }
                let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
                if hash.hash(&client_key) != credential.stored_key {
                    return Err(Failure::told(invalid_credentials(*mechanism)));
                }
                let server_signature = hash.hmac(&credential.server_key, auth_message.as_bytes());
                let reply = format!("v={}", BASE64.encode(server_signature)).into_bytes();
                Ok(Step::Done { user: user.clone(), reply })
            }
        }
    }
}

/// Splits a SCRAM client-first message into its GS2 header (`n,,` or `n,a=user,`) and the
/// bare message. Channel binding (`p=`) is not supported.
fn split_gs2(text: &str) -> Option<(&str, &str)> {
    let flag_end = text.find(',')?;
    let flag = &text[..flag_end];
    if flag != "n" && flag != "y" {
        return None;
    }
    let authzid_end = flag_end + 1 + text[flag_end + 1..].find(',')?;
    let authzid = &text[flag_end + 1..authzid_end];
    if !authzid.is_empty() && !authzid.starts_with("a=") {
        return None;
    }
    Some((&text[..=authzid_end], &text[authzid_end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677's SCRAM-SHA-256 example, driven through the server side.
    #[test]
    fn rfc7677_example() {
        let hash = ScramHash::Sha256;
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = hash.salted_password(b"pencil", &salt, 4096);
        let client_key = hash.hmac(&salted, b"Client Key");
        let credential = ScramCredential {
            salt,
            iterations: 4096,
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
        };
        let mut exchange = Exchange::ScramFinal {
            hash,
            mechanism: SaslMechanism::ScramSha256,
            user: "user".into(),
            gs2_header: "n,,".into(),
            client_first_bare: "n=user,r=rOprNGfwEbeRWgbNEkqO".into(),
            server_first: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
                .into(),
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
            credential: Some(credential),
        };
        let users = Users::new(&SaslConfig::default());
        let final_message = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        match exchange.step(&users, |_, _| ScramLookup::Absent, final_message.as_bytes()).unwrap() {
            Step::Done { user, reply } => {
                assert_eq!(user, "user");
                assert_eq!(reply, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gs2_headers() {
        assert_eq!(split_gs2("n,,n=u,r=x"), Some(("n,,", "n=u,r=x")));
        assert_eq!(split_gs2("n,a=u,n=u,r=x"), Some(("n,a=u,", "n=u,r=x")));
        assert_eq!(split_gs2("p=tls-unique,,n=u,r=x"), None);
        assert_eq!(split_gs2("n"), None);
    }
}
