//! The one error type of the weights module: every way a checkpoint, a safetensors cache or a
//! file name can be rejected, with the byte offset where the problem was found.

/// Why a weights file (a legacy `.pth` checkpoint or a safetensors cache) was rejected.
///
/// Offsets are byte offsets from the start of the whole file, so a message can be checked
/// against a hex dump.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    /// The data ends in the middle of something.
    #[error("truncated file: {what} at byte {offset} needs {needed} bytes, only {available} left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// How many bytes it needs.
        needed: u64,
        /// How many bytes remain after `offset`.
        available: usize,
    },
    /// A pickle opcode that this reader does not implement (or that is not an opcode at all).
    #[error("unsupported pickle opcode 0x{opcode:02x} at byte {offset}")]
    UnknownOpcode {
        /// The opcode byte.
        opcode: u8,
        /// Where it is.
        offset: usize,
    },
    /// A pickle `PROTO` opcode names a protocol this reader does not accept.
    #[error("unsupported pickle protocol {protocol} at byte {offset}")]
    UnsupportedProtocol {
        /// The protocol number.
        protocol: u8,
        /// Where the `PROTO` opcode is.
        offset: usize,
    },
    /// An opcode needs more values on the pickle stack than there are (above the last mark).
    #[error("pickle stack underflow: {opcode} at byte {offset}")]
    StackUnderflow {
        /// Name of the opcode.
        opcode: &'static str,
        /// Where it is.
        offset: usize,
    },
    /// An opcode that needs a mark (`TUPLE`, `SETITEMS`, ...) found none.
    #[error("pickle has no mark for {opcode} at byte {offset}")]
    MissingMark {
        /// Name of the opcode.
        opcode: &'static str,
        /// Where it is.
        offset: usize,
    },
    /// A memo read of an index that was never written.
    #[error("pickle reads memo slot {index} at byte {offset}, which was never written")]
    BadMemoIndex {
        /// The memo index.
        index: u64,
        /// Where the read is.
        offset: usize,
    },
    /// A `GLOBAL` names something outside the whitelist. Pickles can run arbitrary code in
    /// Python; this reader never calls anything, and refuses names it does not know.
    #[error("pickle references `{module}.{name}` at byte {offset}, which is not allowed here")]
    UnsupportedGlobal {
        /// Module part of the name.
        module: String,
        /// Attribute part of the name.
        name: String,
        /// Where the reference is.
        offset: usize,
    },
    /// An opcode received a value of the wrong kind, or the pickle is otherwise malformed.
    #[error("malformed pickle at byte {offset}: {reason}")]
    BadPickle {
        /// What is wrong.
        reason: String,
        /// Where it was found.
        offset: usize,
    },
    /// The file is not a legacy (non-zip) `torch.save` file.
    #[error("not a legacy torch.save file: {reason}")]
    NotLegacyPth {
        /// What gave it away.
        reason: String,
    },
    /// The checkpoint is structurally valid pickle but not a state dict this reader understands.
    #[error("unexpected checkpoint content at byte {offset}: {reason}")]
    BadCheckpoint {
        /// What is wrong.
        reason: String,
        /// Where the offending value was built (or the data section entry begins).
        offset: usize,
    },
    /// Two tensors have the same name.
    #[error("tensor `{name}` appears twice")]
    DuplicateTensor {
        /// The repeated name.
        name: String,
    },
    /// A storage's data block is inconsistent with the storage that tensors reference.
    #[error("storage `{key}` at byte {offset}: {reason}")]
    BadStorage {
        /// The storage key.
        key: String,
        /// What is wrong.
        reason: String,
        /// Where the storage's data block (or reference) is.
        offset: usize,
    },
    /// A tensor's shape, stride and offset reach outside its storage.
    #[error(
        "tensor `{name}` (shape {shape:?}, stride {stride:?}, offset {storage_offset}) reaches \
         outside its storage of {storage_len} elements"
    )]
    TensorOutOfBounds {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// Its stride, in elements.
        stride: Vec<usize>,
        /// Its first element's index in the storage.
        storage_offset: usize,
        /// Number of elements in the storage.
        storage_len: usize,
    },
    /// A size computation (element count, byte length, index) overflowed.
    #[error("size overflow while computing {what}")]
    SizeOverflow {
        /// What was being computed.
        what: String,
    },
    /// The tensors would need far more memory than the file's data justifies (storages shared
    /// many times over, or zero strides), a sign of a hostile file.
    #[error("tensors need {requested} elements, more than the limit of {limit} for this file")]
    TooLarge {
        /// Elements the tensors would need.
        requested: u64,
        /// Largest number allowed.
        limit: u64,
    },
    /// Bytes remain after the last storage.
    #[error("{count} unexpected trailing bytes at byte {offset}")]
    TrailingBytes {
        /// How many.
        count: usize,
        /// Where they start.
        offset: usize,
    },
    /// A shape does not match the number of values.
    #[error("shape {shape:?} holds {expected} values, but {actual} were given")]
    ShapeMismatch {
        /// The shape.
        shape: Vec<usize>,
        /// Product of the shape.
        expected: u64,
        /// Number of values.
        actual: usize,
    },
    /// A safetensors file is malformed or uses a feature this reader does not accept.
    #[error("bad safetensors file at byte {offset}: {reason}")]
    BadSafetensors {
        /// What is wrong.
        reason: String,
        /// Where it was found (the header starts at byte 8).
        offset: usize,
    },
    /// A file name carries no `-<hex>` hash before its extension.
    #[error("file name `{file_name}` carries no sha256 prefix (expected `name-<hex>.pth`)")]
    NoHashInName {
        /// The file name.
        file_name: String,
    },
    /// The hash in a file name does not match the file's contents.
    #[error("`{file_name}`: sha256 is {actual}, which does not start with {expected_prefix}")]
    HashMismatch {
        /// The file name.
        file_name: String,
        /// The hex prefix from the name.
        expected_prefix: String,
        /// The file's full sha256, in hex.
        actual: String,
    },
}

impl WeightsError {
    /// A [`WeightsError::BadPickle`].
    pub(crate) fn pickle(offset: usize, reason: impl Into<String>) -> Self {
        Self::BadPickle { reason: reason.into(), offset }
    }

    /// A [`WeightsError::BadCheckpoint`].
    pub(crate) fn checkpoint(offset: usize, reason: impl Into<String>) -> Self {
        Self::BadCheckpoint { reason: reason.into(), offset }
    }

    /// A [`WeightsError::SizeOverflow`].
    pub(crate) fn overflow(what: impl Into<String>) -> Self {
        Self::SizeOverflow { what: what.into() }
    }

    /// A [`WeightsError::BadSafetensors`].
    pub(crate) fn safetensors(offset: usize, reason: impl Into<String>) -> Self {
        Self::BadSafetensors { reason: reason.into(), offset }
    }
}
