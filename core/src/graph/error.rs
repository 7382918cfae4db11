//! The one error type of the graph module: graphs that cannot be built, inputs they cannot
//! take, and layers they do not have.

/// Why a graph could not be built, analysed or run.
///
/// Every problem is reported as a value: building, shape inference and execution never panic
/// on a bad graph or input, because shapes are checked on the host before any tensor work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// A host tensor's value count does not match its shape.
    #[error("a tensor of shape {shape:?} needs {expected} values but has {actual}")]
    DataLength {
        /// The shape.
        shape: Vec<usize>,
        /// The product of the shape (saturated at `usize::MAX` when it overflows).
        expected: usize,
        /// The number of values given.
        actual: usize,
    },
    /// A node reads a value that is not (yet) in the graph: values must be added before the
    /// nodes that read them, which keeps the nodes in topological order.
    #[error("node `{node}` reads value #{value}, which the graph does not have yet")]
    UnknownValue {
        /// The node's name.
        node: String,
        /// The index of the value it tried to read.
        value: usize,
    },
    /// A node has the wrong number of inputs for its operator.
    #[error("node `{node}` ({op}) takes {expected} input(s) but was given {actual}")]
    Arity {
        /// The node's name.
        node: String,
        /// The operator.
        op: &'static str,
        /// The accepted number of inputs, in words (`"1"`, `"2 or more"`).
        expected: &'static str,
        /// The number given.
        actual: usize,
    },
    /// A node's parameters are invalid on their own or for the ranks of its inputs (a conv
    /// weight that is not 4-d, a bias of the wrong length, a zero stride, an axis out of range).
    #[error("node `{node}` ({op}): {reason}")]
    InvalidNode {
        /// The node's name.
        node: String,
        /// The operator.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A node cannot take the shapes of its inputs at this input size (channels that do not
    /// match the weights, a kernel larger than its padded input, shapes that do not
    /// broadcast, a result too large to allocate).
    #[error("node `{node}` ({op}): {reason}")]
    Shape {
        /// The node's name.
        node: String,
        /// The operator.
        op: &'static str,
        /// What does not fit.
        reason: String,
    },
    /// The input is not a non-empty `[N, C, H, W]` batch with the graph's channel count.
    #[error("input of shape {shape:?} does not fit the graph's input {expected}")]
    InvalidInput {
        /// The shape given.
        shape: Vec<usize>,
        /// The graph's declared input shape, in words.
        expected: String,
    },
    /// The input has more elements than any value may have
    /// ([`MAX_ELEMENTS`](super::MAX_ELEMENTS)): refused before anything of its size is
    /// allocated.
    #[error("input of shape {shape:?} has more than {limit} elements (the limit of any value)")]
    InputTooLarge {
        /// The shape given.
        shape: Vec<usize>,
        /// The limit.
        limit: usize,
    },
    /// The graph's input has a symbolic channel count, so a catalogue cannot be computed from a
    /// spatial size alone.
    #[error("the graph's input has no fixed channel count ({0})")]
    UnknownInputChannels(String),
    /// A tapped or named value does not exist.
    #[error("the graph has no value {0}")]
    UnknownLayer(String),
    /// The graph declares no output.
    #[error("the graph has no output")]
    NoOutput,
    /// Folding a batch norm into its convolution gave non-finite weights.
    #[error("batch norm `{node}` cannot be folded: it gives non-finite weights")]
    NonFiniteFold {
        /// The batch norm node's name.
        node: String,
    },
}
