//! SCRAM, server side (RFC 5802), computed independently of the client: what the test
//! brokers answer.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::Digest;
use hmac::{Mac, SimpleHmac};

/// One SCRAM exchange, server side, after the client-first message.
pub struct ScramServer {
    mechanism: &'static str,
    salted: Vec<u8>,
    auth_prefix: String,
    nonce: String,
}

fn hmac<D: Digest + BlockSizeUser + Clone>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <SimpleHmac<D> as Mac>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn salted<D: Digest + BlockSizeUser + Clone>(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut u = hmac::<D>(password.as_bytes(), &[salt, &1u32.to_be_bytes()].concat());
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac::<D>(password.as_bytes(), &u);
        out.iter_mut().zip(&u).for_each(|(o, x)| *o ^= x);
    }
    out
}

/// (expected client proof, server signature)
fn expected<D: Digest + BlockSizeUser + Clone>(salted: &[u8], auth: &str) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac::<D>(salted, b"Client Key");
    let signature = hmac::<D>(&D::digest(&client_key), auth.as_bytes());
    let proof = client_key.iter().zip(signature).map(|(a, b)| a ^ b).collect();
    (proof, hmac::<D>(&hmac::<D>(salted, b"Server Key"), auth.as_bytes()))
}

impl ScramServer {
    /// Takes the client-first message; returns the exchange and the server-first message.
    pub fn first(mechanism: &'static str, user: &str, password: &str, client_first: &str) -> (ScramServer, String) {
        let bare = client_first.strip_prefix("n,,").expect("no channel binding");
        assert!(bare.starts_with(&format!("n={user},r=")), "{bare}");
        let client_nonce = bare.rsplit_once("r=").unwrap().1;
        let nonce = format!("{client_nonce}3rfcNHYJY1ZVvWVs7j");
        let salt = b"pepper and salt";
        let salted = if mechanism == "SCRAM-SHA-256" {
            salted::<sha2::Sha256>(password, salt, 4096)
        } else {
            salted::<sha2::Sha512>(password, salt, 4096)
        };
        let server_first = format!("r={nonce},s={},i=4096", BASE64.encode(salt));
        let server = ScramServer { mechanism, salted, auth_prefix: format!("{bare},{server_first}"), nonce };
        (server, server_first)
    }

    /// Takes the client-final message; returns the server-final message, or why the proof is
    /// refused.
    pub fn last(self, client_final: &str) -> Result<String, String> {
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or("no proof")?;
        assert_eq!(without_proof, format!("c=biws,r={}", self.nonce));
        let auth = format!("{},{without_proof}", self.auth_prefix);
        let (want, signature) = if self.mechanism == "SCRAM-SHA-256" {
            expected::<sha2::Sha256>(&self.salted, &auth)
        } else {
            expected::<sha2::Sha512>(&self.salted, &auth)
        };
        if BASE64.decode(proof).ok() != Some(want) {
            return Err("Invalid credentials".into());
        }
        Ok(format!("v={}", BASE64.encode(signature)))
    }
}
