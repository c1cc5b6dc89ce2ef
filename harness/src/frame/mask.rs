//! Payload masking (RFC 6455 §5.3), a word at a time: every byte a client sends goes through it.

/// XORs `buf` with the 4-byte `key`, as if `buf` started at payload offset 0.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    // Whole words through a slice iterator: no index or length check per word (cheap under a
    // fuzzer's comparison tracing too), and the compiler vectorizes it.
    let (words, rest) = buf.as_chunks_mut::<8>();
    for chunk in words {
        *chunk = (u64::from_ne_bytes(*chunk) ^ word).to_ne_bytes();
    }
    // The remainder starts at a multiple of 8, so the key phase is 0 again.
    for (b, k) in rest.iter_mut().zip(key.iter().cycle()) {
        *b ^= k;
    }
}

/// XORs `buf` with `key` as if `buf` started at payload offset `offset`: a payload masked or
/// unmasked a piece at a time.
pub fn apply_mask_at(buf: &mut [u8], key: [u8; 4], offset: u64) {
    let phase = (offset % 4) as usize;
    apply_mask(buf, [key[phase], key[(phase + 1) % 4], key[(phase + 2) % 4], key[(phase + 3) % 4]]);
}

/// The byte-at-a-time definition from §5.3, kept as the reference the fast path is tested and
/// benchmarked against.
pub fn apply_mask_bytewise(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_bytewise_for_every_length_and_key_phase() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..67 {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(31)).collect();
            let (mut fast, mut slow) = (data.clone(), data.clone());
            apply_mask(&mut fast, key);
            apply_mask_bytewise(&mut slow, key);
            assert_eq!(fast, slow, "length {len}");
        }
    }

    #[test]
    fn masking_in_pieces_matches_masking_whole() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: Vec<u8> = (0..100u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key);
        for cut in [1, 3, 5, 8, 13] {
            let mut pieces = data.clone();
            let mut offset = 0;
            for piece in pieces.chunks_mut(cut) {
                apply_mask_at(piece, key, offset);
                offset += piece.len() as u64;
            }
            assert_eq!(pieces, whole, "pieces of {cut}");
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut data = *b"Hello";
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
