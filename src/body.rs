//! A request body gathered chunk by chunk under a byte limit. The limit is
//! enforced on the bytes actually received, not on what `Content-Length`
//! claims: a chunked upload declares nothing, and buffering it whole first
//! would let one request exhaust the isolate's 128 MB.

use crate::error::AppError;

/// The length a request declares, if it is to be trusted: `Content-Length`
/// only, never beside a `Transfer-Encoding` (HTTP/1.1 then ignores the
/// length, so the body is streamed and counted).
pub fn declared_length(content_length: Option<&str>, transfer_encoding: Option<&str>) -> Option<usize> {
    match transfer_encoding {
        Some(_) => None,
        None => content_length.and_then(|v| v.trim().parse::<usize>().ok()),
    }
}

#[derive(Debug)]
pub struct Bounded {
    buf: Vec<u8>,
    limit: usize,
    declared: bool,
}

impl Bounded {
    /// Refuses at once a body that declares more than `limit`.
    pub fn new(limit: usize, declared: Option<usize>) -> Result<Self, AppError> {
        match declared {
            Some(n) if n > limit => Err(AppError::PayloadTooLarge { limit }),
            _ => Ok(Bounded { buf: Vec::new(), limit, declared: declared.is_some() }),
        }
    }

    /// Whether the body may be read in one piece: it declared a length
    /// within the limit, and the runtime delivers no more than an HTTP
    /// request's declared length, so one read is bounded as the stream is
    /// (and costs one promise, not one a chunk). A body that declares no
    /// length (chunked) is streamed and counted.
    pub fn in_one_piece(&self) -> bool {
        self.declared
    }

    /// The body read in one piece, held to the limit all the same.
    pub fn whole(self, body: Vec<u8>) -> Result<Vec<u8>, AppError> {
        match body.len() > self.limit {
            true => Err(AppError::PayloadTooLarge { limit: self.limit }),
            false => Ok(body),
        }
    }

    /// Appends one chunk, or refuses it when the body would pass the limit:
    /// the caller stops reading there, so at most `limit` bytes are held.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), AppError> {
        if chunk.len() > self.limit - self.buf.len() {
            return Err(AppError::PayloadTooLarge { limit: self.limit });
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOO_LARGE: AppError = AppError::PayloadTooLarge { limit: 10 };

    #[test]
    fn a_length_beside_a_transfer_encoding_is_not_trusted() {
        assert_eq!(declared_length(Some(" 42 "), None), Some(42));
        assert_eq!(declared_length(Some("42"), Some("chunked")), None);
        assert_eq!(declared_length(None, None), None);
        assert_eq!(declared_length(Some("4x"), None), None);
        assert!(!Bounded::new(10, declared_length(Some("5"), Some("chunked"))).unwrap().in_one_piece());
    }

    #[test]
    fn only_a_declared_length_within_the_limit_is_read_in_one_piece() {
        assert!(Bounded::new(10, Some(10)).unwrap().in_one_piece());
        assert!(!Bounded::new(10, None).unwrap().in_one_piece(), "chunked: streamed and counted");
        assert_eq!(Bounded::new(10, Some(11)).unwrap_err(), TOO_LARGE);
        assert_eq!(Bounded::new(10, Some(3)).unwrap().whole(b"abc".to_vec()).unwrap(), b"abc");
        let lied = Bounded::new(10, Some(3)).unwrap().whole(vec![0; 11]);
        assert_eq!(lied.unwrap_err(), TOO_LARGE, "more than the limit is refused even so");
    }

    #[test]
    fn chunks_up_to_the_limit_are_kept_whole() {
        let mut b = Bounded::new(10, None).unwrap();
        for chunk in [&b"abc"[..], b"", b"defg", b"hij"] {
            b.push(chunk).unwrap();
        }
        assert_eq!(b.finish(), b"abcdefghij");
    }

    #[test]
    fn the_first_byte_past_the_limit_is_refused_and_not_held() {
        let mut b = Bounded::new(10, None).unwrap();
        b.push(b"0123456789").unwrap();
        assert_eq!(b.push(b"x"), Err(TOO_LARGE));
        assert_eq!(b.buf.len(), 10, "the refused chunk was not buffered");
        let mut big = Bounded::new(10, None).unwrap();
        assert_eq!(big.push(&[0; 64 * 1024]), Err(TOO_LARGE));
        assert!(big.buf.is_empty());
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        assert_eq!(Bounded::new(10, Some(11)).unwrap_err(), TOO_LARGE);
        assert!(Bounded::new(10, Some(10)).is_ok());
        // A length that lies low does not raise the limit.
        let mut lying = Bounded::new(10, Some(1)).unwrap();
        assert_eq!(lying.push(&[0; 11]), Err(TOO_LARGE));
    }
}
