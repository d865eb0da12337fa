//! Deterministic content shared by both sides: names, ids, record values.

use bytes::Bytes;

/// A small deterministic generator (xorshift64*), so that every run builds the same bytes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The timestamp of the first record everywhere.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

/// Record value `i`: exactly `len` bytes of JSON-like text with varying numbers and words, so
/// that the codecs compress it about as well as typical event payloads (neither random nor
/// one repeated byte).
pub fn record_value(i: u64, len: usize) -> Bytes {
    const WORDS: [&str; 16] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
        "mike", "november", "oscar", "papa",
    ];
    let mut rng = Rng::new(i + 1);
    let mut s = format!(
        "{{\"order\":{i},\"customer\":\"c-{:05}\",\"sku\":\"SKU-{:06}\",\"qty\":{},\"price\":{}.{:02},\"note\":\"",
        rng.below(50_000),
        rng.below(1_000_000),
        1 + rng.below(20),
        rng.below(500),
        rng.below(100)
    );
    while s.len() < len {
        s.push_str(WORDS[rng.below(16) as usize]);
        s.push(' ');
    }
    s.truncate(len.saturating_sub(2));
    s.push_str("\"}");
    s.truncate(len);
    debug_assert_eq!(s.len(), len);
    Bytes::from(s)
}

/// A 16-byte topic id derived from `i` (never zero).
pub fn topic_id(i: u64) -> [u8; 16] {
    let mut rng = Rng::new(0x7091C + i);
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    b[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    b
}

pub fn topic_name(i: usize) -> String {
    format!("orders.eu-west-1.topic-{i:04}")
}
