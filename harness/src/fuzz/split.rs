//! Inputs cut at arbitrary points, for the targets that feed raw bytes to an incremental parser: the
//! first input byte says how many cuts there are (0–7), the next bytes where (each a fraction of the
//! data, in 256ths), and the rest is the data.

/// The data of `input`, in the pieces its cut points say.
pub fn split(input: &[u8]) -> Vec<&[u8]> {
    split_data(input).1
}

/// The data of `input` whole, and in the pieces its cut points say (the pieces joined are the
/// data): a target compares the two without copying the pieces together.
pub fn split_data(input: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let Some((&count, rest)) = input.split_first() else { return (&[], Vec::new()) };
    let count = usize::from(count % 8).min(rest.len());
    let (cuts, data) = rest.split_at(count);
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| usize::from(c) * data.len() / 256).collect();
    bounds.sort_unstable();
    bounds.insert(0, 0);
    bounds.push(data.len());
    (data, bounds.windows(2).map(|w| &data[w[0]..w[1]]).collect())
}

/// The input that [`split`] reads as `data` in one piece: how seeds are written.
pub fn whole(data: &[u8]) -> Vec<u8> {
    let mut input = vec![0];
    input.extend_from_slice(data);
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_data_in_order() {
        assert_eq!(split(&whole(b"abc")), [b"abc"]);
        assert_eq!(split(&[2, 128, 0, b'a', b'b', b'c', b'd']), [&b""[..], b"ab", b"cd"]);
        assert!(split(&[]).is_empty());
        assert_eq!(split(&[7, 1]), [&b""[..], b""], "fewer cut bytes than asked for, and no data");
        let input = [3, 200, 10, 90, b'a', b'b', b'c', b'd', b'e'];
        let (data, pieces) = split_data(&input);
        assert_eq!((data, pieces.concat()), (&b"abcde"[..], b"abcde".to_vec()), "the pieces joined are the data");
    }
}
