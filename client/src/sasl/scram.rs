//! The client side of SCRAM (RFC 5802) with SHA-256 (RFC 7677) or SHA-512, without channel
//! binding (`n,,`), as Kafka uses it.
//!
//! ```
//! use kafka_wire_client::sasl::scram::{ScramClient, ScramHash};
//!
//! // RFC 7677's example exchange.
//! let mut c = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
//! assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
//! let last = c.client_final(
//!     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
//! ).unwrap();
//! assert_eq!(
//!     last,
//!     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
//! );
//! c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap();
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::Digest;
use hmac::{Mac, SimpleHmac};

use super::auth_error;
use crate::error::Result;

/// The most PBKDF2 iterations accepted from a broker (Kafka allows 4096 to 16384); more would
/// let a hostile server make the client spin.
pub const MAX_ITERATIONS: u32 = 65_536;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitServerFirst,
    AwaitServerFinal { server_signature: Vec<u8> },
    Done,
}

/// One SCRAM exchange, client side, as a state machine over the four messages.
#[derive(Clone)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    client_first_bare: String,
    state: State,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient").field("hash", &self.hash).field("state", &self.state).finish_non_exhaustive()
    }
}

impl ScramClient {
    /// A new exchange with a random nonce.
    pub fn new(hash: ScramHash, username: &str, password: &str) -> Result<Self> {
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw).map_err(|e| auth_error(format!("no randomness for the SCRAM nonce: {e}")))?;
        Ok(Self::with_nonce(hash, username, password, &BASE64.encode(raw)))
    }

    /// A new exchange with the given nonce (printable ASCII without `,`; for tests).
    pub fn with_nonce(hash: ScramHash, username: &str, password: &str, nonce: &str) -> Self {
        let username = username.replace('=', "=3D").replace(',', "=2C");
        ScramClient {
            hash,
            password: password.to_owned(),
            nonce: nonce.to_owned(),
            client_first_bare: format!("n={username},r={nonce}"),
            state: State::AwaitServerFirst,
        }
    }

    /// The client-first message.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Whether the next server message is the server-first message.
    pub fn awaits_server_first(&self) -> bool {
        self.state == State::AwaitServerFirst
    }

    /// Takes the server-first message and returns the client-final message (with the proof).
    pub fn client_final(&mut self, server_first: &str) -> Result<String> {
        if self.state != State::AwaitServerFirst {
            return Err(auth_error("unexpected SCRAM server-first message"));
        }
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("e", v)) => return Err(auth_error(format!("SCRAM server error: {v}"))),
                Some(("m", _)) => return Err(auth_error("SCRAM server requires an unsupported extension")),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(auth_error("malformed SCRAM server-first message"));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(auth_error("SCRAM server nonce does not extend the client nonce"));
        }
        let salt = BASE64.decode(salt).map_err(|_| auth_error("SCRAM salt is not base64"))?;
        let iterations = iterations
            .parse::<u32>()
            .ok()
            .filter(|i| (1..=MAX_ITERATIONS).contains(i))
            .ok_or_else(|| auth_error(format!("SCRAM iteration count {iterations} out of range")))?;

        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let password = self.password.as_bytes();
        let (proof, server_signature) = match self.hash {
            ScramHash::Sha256 => proofs::<sha2::Sha256>(password, &salt, iterations, &auth_message),
            ScramHash::Sha512 => proofs::<sha2::Sha512>(password, &salt, iterations, &auth_message),
        };
        self.state = State::AwaitServerFinal { server_signature };
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server-final message: the server proves it knows the password too.
    pub fn verify_server_final(&mut self, server_final: &str) -> Result<()> {
        let State::AwaitServerFinal { server_signature } = &self.state else {
            return Err(auth_error("unexpected SCRAM server-final message"));
        };
        let mut verifier = None;
        for attribute in server_final.split(',') {
            match attribute.split_once('=') {
                Some(("v", v)) => verifier = Some(v),
                Some(("e", v)) => return Err(auth_error(format!("SCRAM server error: {v}"))),
                _ => {}
            }
        }
        let verifier = verifier.ok_or_else(|| auth_error("malformed SCRAM server-final message"))?;
        if BASE64.decode(verifier).ok().as_ref() != Some(server_signature) {
            return Err(auth_error("SCRAM server signature does not match: the server does not know the password"));
        }
        self.state = State::Done;
        Ok(())
    }
}

/// `(ClientProof, ServerSignature)` of RFC 5802 section 3.
pub(crate) fn proofs<D: Digest + BlockSizeUser + Clone>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    auth_message: &str,
) -> (Vec<u8>, Vec<u8>) {
    let salted = hi::<D>(password, salt, iterations);
    let client_key = hmac::<D>(&salted, b"Client Key");
    let stored_key = D::digest(&client_key).to_vec();
    let client_signature = hmac::<D>(&stored_key, auth_message.as_bytes());
    let proof = client_key.iter().zip(&client_signature).map(|(k, s)| k ^ s).collect();
    let server_key = hmac::<D>(&salted, b"Server Key");
    let server_signature = hmac::<D>(&server_key, auth_message.as_bytes());
    (proof, server_signature)
}

fn hmac<D: Digest + BlockSizeUser + Clone>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <SimpleHmac<D> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `Hi()`: PBKDF2 with HMAC and one block of output.
fn hi<D: Digest + BlockSizeUser + Clone>(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac::<D>(password, &block);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac::<D>(password, &u);
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 section 5 (SCRAM-SHA-1): the math is the same for every hash.
    #[test]
    fn rfc5802_sha1_vector() {
        let client_first_bare = "n=user,r=fyko+d2lbbFgONRv9qkxdawL";
        let server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        let without_proof = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let salt = BASE64.decode("QSXCR+Q6sek8bf92").unwrap();
        let (proof, server) = proofs::<sha1::Sha1>(b"pencil", &salt, 4096, &auth_message);
        assert_eq!(BASE64.encode(proof), "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
        assert_eq!(BASE64.encode(server), "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    }

    /// RFC 7677 section 3 (SCRAM-SHA-256), through the state machine.
    #[test]
    fn rfc7677_sha256_exchange() {
        let mut c = ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assert!(c.awaits_server_first());
        let last = c
            .client_final("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap();
        assert_eq!(
            last,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        // A forged server signature is refused; the right one completes the exchange.
        assert!(c.clone().verify_server_final("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_err());
        c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap();
        assert!(c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").is_err());
    }

    #[test]
    fn hostile_server_first_messages_are_refused() {
        let fresh = || ScramClient::with_nonce(ScramHash::Sha512, "u", "p", "abc");
        for bad in [
            "r=abc,s=QSXCR+Q6sek8bf92,i=4096",      // nonce not extended
            "r=xyzabc1,s=QSXCR+Q6sek8bf92,i=4096",  // nonce not a prefix
            "r=abc1,s=!!!,i=4096",                  // salt not base64
            "r=abc1,s=QSXCR+Q6sek8bf92,i=0",        // no iterations
            "r=abc1,s=QSXCR+Q6sek8bf92,i=99999999", // too many iterations
            "r=abc1,s=QSXCR+Q6sek8bf92",            // missing field
            "e=invalid-proof",
            "",
        ] {
            assert!(fresh().client_final(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_escaped() {
        let c = ScramClient::with_nonce(ScramHash::Sha256, "a=b,c", "p", "n");
        assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=n");
    }

    #[test]
    fn random_nonces_differ() {
        let a = ScramClient::new(ScramHash::Sha256, "u", "p").unwrap();
        let b = ScramClient::new(ScramHash::Sha256, "u", "p").unwrap();
        assert_ne!(a.client_first(), b.client_first());
    }
}
