//! [`Bounded`]: a download's bytes, never more than a limit. A `Content-Length` over the limit
//! is refused before anything is read, and a body that grows past it (no length declared, a
//! compressed answer, or a host that lies) is refused at the chunk that would pass it, so a
//! hostile host cannot make the page hold more than the limit of the file's kind.

use microscope_core::atlas::{AtlasError, Problem};

use super::error::LoadError;

/// The bytes of one download so far, and the most it may hold.
#[derive(Debug)]
pub struct Bounded {
    /// The atlas file, for errors.
    file: String,
    /// The most bytes it may hold.
    limit: u64,
    /// What has arrived.
    bytes: Vec<u8>,
}

impl Bounded {
    /// An empty body for `file`, or an error when the answer's `Content-Length` header already
    /// declares more than `limit` bytes. (With a compressed answer, the header gives the
    /// compressed size, which a manifest's JSON never exceeds uncompressed.)
    pub fn new(file: &str, limit: u64, content_length: Option<&str>) -> Result<Self, LoadError> {
        let declared = content_length.and_then(|text| text.trim().parse::<u64>().ok());
        if let Some(bytes) = declared
            && bytes > limit
        {
            let message = AtlasError::file(file, Problem::TooLarge { bytes, limit }).to_string();
            return Err(LoadError::Corrupt { file: file.to_owned(), message });
        }
        // The declared size (within the limit) is only a hint for the first allocation.
        let capacity = declared.and_then(|bytes| usize::try_from(bytes).ok()).unwrap_or(0);
        Ok(Self { file: file.to_owned(), limit, bytes: Vec::with_capacity(capacity) })
    }

    /// Room for the next `len` bytes, to be filled by the caller; an error, before anything
    /// grows, when they would take the body past the limit.
    pub fn room(&mut self, len: usize) -> Result<&mut [u8], LoadError> {
        let total = (self.bytes.len() as u64).saturating_add(len as u64);
        if total > self.limit {
            let message = format!(
                "{}: more than the {} bytes allowed for it (the download was stopped there)",
                self.file, self.limit
            );
            return Err(LoadError::Corrupt { file: self.file.clone(), message });
        }
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        Ok(&mut self.bytes[start..])
    }

    /// Everything that arrived.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(body: &mut Bounded, chunk: &[u8]) -> Result<(), LoadError> {
        body.room(chunk.len()).map(|room| room.copy_from_slice(chunk))
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let error = Bounded::new("atlas.json", 100, Some(" 101 ")).unwrap_err();
        assert_eq!(error.kind(), "corrupt");
        assert!(error.to_string().contains("atlas.json: the file is 101 bytes"), "{error}");
        assert!(error.to_string().contains("100 allowed"), "{error}");
        for fine in [Some("100"), Some("0"), Some("not a number"), None] {
            assert!(Bounded::new("atlas.json", 100, fine).is_ok(), "{fine:?}");
        }
    }

    #[test]
    fn a_body_growing_past_the_limit_is_stopped_at_that_chunk() {
        // A host that declares 10 bytes and sends more.
        let mut body = Bounded::new("a/unit.json", 10, Some("10")).unwrap();
        push(&mut body, b"{\"a\":").unwrap();
        push(&mut body, b"1}").unwrap();
        push(&mut body, b"xx").unwrap();
        push(&mut body, b"x").unwrap();
        let error = push(&mut body, b"y").unwrap_err();
        assert!(error.to_string().contains("more than the 10 bytes allowed"), "{error}");
        assert_eq!(error.file(), "a/unit.json");
        assert_eq!(body.into_bytes(), b"{\"a\":1}xxx", "the refused chunk is not kept");
        let mut huge = Bounded::new("a/unit.json", 10, None).unwrap();
        assert!(huge.room(usize::MAX).is_err(), "refused before anything is allocated");
    }
}
