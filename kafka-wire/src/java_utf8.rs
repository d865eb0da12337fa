//! Bytes that are not UTF-8, decoded as Kafka's Java code decodes them.
//!
//! Kafka reads every string (protocol string fields in `ByteBufferAccessor.readString`, record
//! header keys in `DefaultRecord.readFrom`) with `new String(bytes, UTF_8)`, which never fails:
//! each malformed sequence becomes one U+FFFD. How many bytes one U+FFFD stands for is the JDK's
//! own rule (`String.decodeUTF8_UTF16` in JDK 17), which differs from Rust's
//! `String::from_utf8_lossy` for encoded surrogates (`ED A0 80`: one U+FFFD in Java, three in
//! Rust) and for some truncated sequences. Valid UTF-8 decodes the same in both; only invalid
//! input comes here. `tests/tests/java_oracle.rs` compares this with the JDK over generated
//! malformed inputs.

const REPL: char = '\u{FFFD}';

fn not_continuation(b: u8) -> bool {
    b & 0xc0 != 0x80
}

fn malformed3_2(b1: u8, b2: u8) -> bool {
    (b1 == 0xe0 && b2 & 0xe0 == 0x80) || not_continuation(b2)
}

fn malformed4_2(b1: u8, b2: u8) -> bool {
    (b1 == 0xf0 && !(0x90..=0xbf).contains(&b2)) || (b1 == 0xf4 && b2 & 0xf0 != 0x80) || not_continuation(b2)
}

/// How many bytes of a malformed 3-byte sequence at `s` one U+FFFD replaces.
fn malformed3_len(s: &[u8]) -> usize {
    if malformed3_2(s[0], s[1]) {
        1
    } else {
        2
    }
}

/// How many bytes of a malformed 4-byte sequence at `s` one U+FFFD replaces.
fn malformed4_len(s: &[u8]) -> usize {
    let (b1, b2) = (s[0], s[1]);
    if b1 > 0xf4 || malformed4_2(b1, b2) {
        1
    } else if not_continuation(s[2]) {
        2
    } else {
        3
    }
}

/// `bytes` decoded as `new String(bytes, StandardCharsets.UTF_8)` decodes them in JDK 17.
pub fn decode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    let mut sp = 0;
    let sl = bytes.len();
    while sp < sl {
        let b1 = bytes[sp];
        sp += 1;
        if b1 < 0x80 {
            out.push(b1 as char);
        } else if b1 >> 5 == 0b110 && b1 & 0x1e != 0 {
            // Two bytes (C2..DF).
            if sp < sl {
                let b2 = bytes[sp];
                if not_continuation(b2) {
                    out.push(REPL);
                } else {
                    sp += 1;
                    out.push(char::from_u32(((b1 as u32 & 0x1f) << 6) | (b2 as u32 & 0x3f)).unwrap_or(REPL));
                }
                continue;
            }
            out.push(REPL);
            break;
        } else if b1 >> 4 == 0b1110 {
            // Three bytes (E0..EF).
            if sp + 1 < sl {
                let (b2, b3) = (bytes[sp], bytes[sp + 1]);
                if malformed3_2(b1, b2) || not_continuation(b3) {
                    out.push(REPL);
                    sp = sp - 1 + malformed3_len(&bytes[sp - 1..]);
                } else {
                    sp += 2;
                    let c = ((b1 as u32 & 0x0f) << 12) | ((b2 as u32 & 0x3f) << 6) | (b3 as u32 & 0x3f);
                    // Surrogates (ED A0..BF ..) are one malformed sequence of three bytes.
                    out.push(char::from_u32(c).unwrap_or(REPL));
                }
                continue;
            }
            if sp < sl && malformed3_2(b1, bytes[sp]) {
                out.push(REPL);
                continue;
            }
            out.push(REPL);
            break;
        } else if b1 >> 3 == 0b11110 {
            // Four bytes (F0..F7).
            if sp + 2 < sl {
                let (b2, b3, b4) = (bytes[sp], bytes[sp + 1], bytes[sp + 2]);
                let uc = ((b1 as u32 & 0x07) << 18)
                    | ((b2 as u32 & 0x3f) << 12)
                    | ((b3 as u32 & 0x3f) << 6)
                    | (b4 as u32 & 0x3f);
                let malformed = not_continuation(b2) || not_continuation(b3) || not_continuation(b4);
                if malformed || !(0x10000..=0x10ffff).contains(&uc) {
                    out.push(REPL);
                    sp = sp - 1 + malformed4_len(&bytes[sp - 1..]);
                } else {
                    sp += 3;
                    out.push(char::from_u32(uc).unwrap_or(REPL));
                }
                continue;
            }
            if b1 > 0xf4 || (sp < sl && malformed4_2(b1, bytes[sp])) {
                out.push(REPL);
                continue;
            }
            sp += 1;
            out.push(REPL);
            if sp < sl && not_continuation(bytes[sp]) {
                continue;
            }
            break;
        } else {
            out.push(REPL);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn known_answers() {
        for (bytes, text) in [
            (&b"plain"[..], "plain"),
            (&[0xc3, 0xbc], "ü"),
            (&[0xff], "\u{FFFD}"),
            (&[0xed, 0xa0, 0x80], "\u{FFFD}"),
            (&[0xc0, 0xaf], "\u{FFFD}\u{FFFD}"),
            (&[0x61, 0xe2, 0x82], "a\u{FFFD}"),
            (&[0xf0, 0x9f, 0x98, 0x80], "😀"),
        ] {
            assert_eq!(decode(bytes), text, "{bytes:02x?}");
        }
    }
}
