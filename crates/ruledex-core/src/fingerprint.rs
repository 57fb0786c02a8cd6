//! Short, stable fingerprints of text: the same on every run and platform (unlike std's
//! hasher), for addresses, folder names and asset versions. Not for security.

/// The FNV-1a offset basis: where a fingerprint starts.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a of `bytes`, continuing from `hash` ([`FNV_OFFSET`] to start). `const`, so fingerprints
/// of files compiled into the binary are computed at compile time.
pub const fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// 8 hexadecimal digits of FNV-1a.
pub fn short_hash(text: &str) -> String {
    format!("{:08x}", fnv1a(text.as_bytes(), FNV_OFFSET) >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(short_hash("rules/y/dup.yaral#1"), short_hash("rules/y/dup.yaral#1"));
        assert_ne!(short_hash("a"), short_hash("b"));
        assert_eq!(fnv1a(b"", FNV_OFFSET), FNV_OFFSET);
        assert_eq!(short_hash("").len(), 8);
    }
}
