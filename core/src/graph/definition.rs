//! The graph description: an input, nodes in topological order and outputs, with every
//! weight as host data. Building it checks arity, ranks and parameters; sizes are checked by
//! shape inference at a given input size (see [`Graph::infer_shapes`]).

use std::collections::HashMap;
use std::fmt;

use super::{GraphError, Op};

/// A value flowing through a graph: the input (`ValueId::INPUT`) or the output of one node.
///
/// Value `i + 1` is the output of node `i`, so values are numbered in topological order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(usize);

impl ValueId {
    /// The graph's input.
    pub const INPUT: Self = Self(0);

    /// The value's index: 0 for the input, `i + 1` for the output of node `i`.
    pub fn index(self) -> usize {
        self.0
    }

    /// The node that produces this value (`None` for the input).
    pub fn node(self) -> Option<usize> {
        self.0.checked_sub(1)
    }

    pub(crate) fn from_index(index: usize) -> Self {
        Self(index)
    }
}

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One axis of the graph's declared input shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A named size that the file leaves open (`"batch"`, `"height"`), or an unnamed one.
    Symbolic(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(name) if name.is_empty() => f.write_str("?"),
            Dim::Symbolic(name) => f.write_str(name),
        }
    }
}

/// The graph's input: an NCHW float image batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphInput {
    /// The input's name (sanitised like layer names).
    pub name: String,
    /// The declared `[N, C, H, W]`, each fixed or symbolic.
    pub shape: [Dim; 4],
}

impl GraphInput {
    /// The fixed channel count, if the shape declares one.
    pub fn channels(&self) -> Option<usize> {
        match self.shape[1] {
            Dim::Fixed(c) => Some(c),
            Dim::Symbolic(_) => None,
        }
    }

    /// The fixed `[H, W]`, if the shape declares both.
    pub fn spatial(&self) -> Option<[usize; 2]> {
        match (&self.shape[2], &self.shape[3]) {
            (Dim::Fixed(h), Dim::Fixed(w)) => Some([*h, *w]),
            _ => None,
        }
    }

    /// The declared shape in words: `[batch, 3, 224, 224]`.
    pub fn describe(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(ToString::to_string).collect();
        format!("[{}]", dims.join(", "))
    }
}

/// One node: an operator applied to earlier values. Its output is the value
/// `ValueId(index + 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The node's name, unique in the graph and a valid layer name (see
    /// [`sanitize_name`]).
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// The values it reads, in the operator's order.
    pub inputs: Vec<ValueId>,
    /// The rank of its output.
    pub rank: usize,
}

/// A model as a graph of operators on an NCHW image input, with weights in host memory.
///
/// Built node by node with [`Graph::add_node`], which accepts only values already in the
/// graph, so nodes are always in topological order and there can be no cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    input: GraphInput,
    nodes: Vec<Node>,
    outputs: Vec<ValueId>,
    names: HashMap<String, ValueId>,
}

impl Graph {
    /// An empty graph whose input is called `input_name` (sanitised) with the declared
    /// `[N, C, H, W]` shape.
    pub fn new(input_name: &str, shape: [Dim; 4]) -> Self {
        let name = unique_name(&HashMap::new(), input_name, "input");
        let mut names = HashMap::new();
        names.insert(name.clone(), ValueId::INPUT);
        Self { input: GraphInput { name, shape }, nodes: Vec::new(), outputs: Vec::new(), names }
    }

    /// Appends a node computing `op` on `inputs` and returns its output value.
    ///
    /// `name` is sanitised into a layer name (see [`sanitize_name`]) and made unique by a
    /// `_2`, `_3` … suffix; [`Graph::node`] gives the name used. Fails when an input is not
    /// yet in the graph, when the number of inputs or their ranks do not fit `op`, or when
    /// `op`'s parameters are invalid (see [`GraphError`]).
    pub fn add_node(
        &mut self,
        name: &str,
        op: Op,
        inputs: &[ValueId],
    ) -> Result<ValueId, GraphError> {
        let fallback = format!("{}_{}", op.kind().to_ascii_lowercase(), self.nodes.len());
        let name = unique_name(&self.names, name, &fallback);
        let (min, max, expected) = op.arity();
        if inputs.len() < min || inputs.len() > max {
            return Err(GraphError::Arity {
                node: name,
                op: op.kind(),
                expected,
                actual: inputs.len(),
            });
        }
        let mut ranks = Vec::with_capacity(inputs.len());
        for &input in inputs {
            match self.rank(input) {
                Some(rank) => ranks.push(rank),
                None => return Err(GraphError::UnknownValue { node: name, value: input.0 }),
            }
        }
        let rank = op.output_rank(&ranks).map_err(|reason| GraphError::InvalidNode {
            node: name.clone(),
            op: op.kind(),
            reason,
        })?;
        let id = ValueId(self.nodes.len() + 1);
        self.names.insert(name.clone(), id);
        self.nodes.push(Node { name, op, inputs: inputs.to_vec(), rank });
        Ok(id)
    }

    /// Declares the graph's outputs (the first is "the" output, e.g. the logits).
    ///
    /// Fails with [`GraphError::NoOutput`] for an empty list and
    /// [`GraphError::UnknownLayer`] for a value not in the graph.
    pub fn set_outputs(&mut self, outputs: &[ValueId]) -> Result<(), GraphError> {
        if outputs.is_empty() {
            return Err(GraphError::NoOutput);
        }
        if let Some(bad) = outputs.iter().find(|v| v.0 > self.nodes.len()) {
            return Err(GraphError::UnknownLayer(bad.to_string()));
        }
        self.outputs = outputs.to_vec();
        Ok(())
    }

    /// The input's name and declared shape.
    pub fn input(&self) -> &GraphInput {
        &self.input
    }

    /// The nodes, in topological order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node at `index`.
    pub fn node(&self, index: usize) -> Option<&Node> {
        self.nodes.get(index)
    }

    /// The node that produces `value` (`None` for the input or an unknown value).
    pub fn producer(&self, value: ValueId) -> Option<&Node> {
        value.node().and_then(|i| self.nodes.get(i))
    }

    /// The declared outputs (empty until [`Graph::set_outputs`]).
    pub fn outputs(&self) -> &[ValueId] {
        &self.outputs
    }

    /// The number of values: the input and one per node.
    pub fn value_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// The name of `value`: the input's or the producing node's.
    pub fn value_name(&self, value: ValueId) -> Option<&str> {
        match value.node() {
            None => Some(&self.input.name),
            Some(i) => self.nodes.get(i).map(|n| n.name.as_str()),
        }
    }

    /// The value called `name` (the input's name or a node's).
    pub fn value(&self, name: &str) -> Option<ValueId> {
        self.names.get(name).copied()
    }

    /// The rank of `value` (4 for the input).
    pub fn rank(&self, value: ValueId) -> Option<usize> {
        match value.node() {
            None => Some(4),
            Some(i) => self.nodes.get(i).map(|n| n.rank),
        }
    }

    /// The number of learned parameters: convolution and fully connected weights and biases,
    /// batch-norm scales and shifts, and constants (not batch-norm running statistics).
    pub fn parameter_count(&self) -> usize {
        self.nodes
            .iter()
            .map(|node| match &node.op {
                Op::Constant(t) => t.len(),
                Op::Conv2d(conv) => conv.weight.len() + conv.bias.as_ref().map_or(0, |b| b.len()),
                Op::ConvTranspose2d(conv) => {
                    conv.weight.len() + conv.bias.as_ref().map_or(0, |b| b.len())
                }
                Op::BatchNorm(bn) => bn.scale.len() + bn.bias.len(),
                Op::Linear(linear) => {
                    linear.weight.len() + linear.bias.as_ref().map_or(0, |b| b.len())
                }
                _ => 0,
            })
            .sum()
    }

    /// How many node inputs read each value, plus one for each time it is a graph output,
    /// indexed by [`ValueId::index`].
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0usize; self.value_count()];
        for value in self.nodes.iter().flat_map(|n| &n.inputs).chain(&self.outputs) {
            if let Some(u) = uses.get_mut(value.0) {
                *u += 1;
            }
        }
        uses
    }

    /// The graph with its nodes replaced: used by rewriting passes, which keep topological
    /// order themselves.
    pub(crate) fn from_parts(input: GraphInput, nodes: Vec<Node>, outputs: Vec<ValueId>) -> Self {
        let mut names = HashMap::with_capacity(nodes.len() + 1);
        names.insert(input.name.clone(), ValueId::INPUT);
        for (i, node) in nodes.iter().enumerate() {
            names.insert(node.name.clone(), ValueId(i + 1));
        }
        Self { input, nodes, outputs, names }
    }
}

/// A layer name made of `name`: ASCII letters, digits, `.`, `_` and `-` are kept, `/` and
/// `:` (path separators of exported names such as `/features/features.0/Conv`) become `.`,
/// other characters become `_`; repeated dots collapse, and dots, underscores and dashes are
/// trimmed from the ends. The result may be empty.
pub fn sanitize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            '/' | ':' => '.',
            _ => '_',
        };
        if c == '.' && out.ends_with('.') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches(|c| matches!(c, '.' | '_' | '-')).to_owned()
}

/// `sanitize_name(name)` (or `fallback` if that is empty), suffixed `_2`, `_3` … until it is
/// not in `taken`.
fn unique_name(taken: &HashMap<String, ValueId>, name: &str, fallback: &str) -> String {
    let mut base = sanitize_name(name);
    if base.is_empty() {
        base = sanitize_name(fallback);
    }
    if base.is_empty() {
        base = "value".to_owned();
    }
    if !taken.contains_key(&base) {
        return base;
    }
    (2usize..)
        .map(|k| format!("{base}_{k}"))
        .find(|candidate| !taken.contains_key(candidate))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::Name;
    use crate::graph::HostTensor;

    #[test]
    fn graph_names_are_sanitised_and_unique() {
        assert_eq!(
            sanitize_name("/features/features.0/features.0.0/Conv"),
            "features.features.0.features.0.0.Conv"
        );
        assert_eq!(sanitize_name("conv 1 (a)"), "conv_1__a");
        assert_eq!(sanitize_name("::"), "");
        assert_eq!(sanitize_name("blocks.3.expand"), "blocks.3.expand");
        let mut g = Graph::new(
            "x",
            [Dim::Symbolic("N".into()), Dim::Fixed(3), Dim::Fixed(8), Dim::Fixed(8)],
        );
        let a = g.add_node("act", Op::Relu, &[ValueId::INPUT]).unwrap();
        let b = g.add_node("act", Op::Relu, &[a]).unwrap();
        let c = g.add_node("", Op::Relu, &[b]).unwrap();
        let d = g.add_node("..", Op::Sigmoid, &[c]).unwrap();
        let names: Vec<&str> = [a, b, c, d].iter().map(|&v| g.value_name(v).unwrap()).collect();
        assert_eq!(names, ["act", "act_2", "relu_2", "sigmoid_3"]);
        assert!(names.iter().all(|n| Name::new(*n).is_ok()));
        assert_eq!(g.value("act_2"), Some(b));
        assert_eq!(g.value("x"), Some(ValueId::INPUT));
    }

    #[test]
    fn graph_rejects_bad_nodes() {
        let mut g = Graph::new("x", [Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(8), Dim::Fixed(8)]);
        // A value that does not exist yet (this is what makes cycles impossible).
        let err = g.add_node("r", Op::Relu, &[ValueId::from_index(5)]).unwrap_err();
        assert!(matches!(err, GraphError::UnknownValue { value: 5, .. }), "{err}");
        let err = g.add_node("a", Op::Add, &[ValueId::INPUT]).unwrap_err();
        assert!(matches!(err, GraphError::Arity { op: "Add", actual: 1, .. }), "{err}");
        let flat = g.add_node("f", Op::Flatten { axis: 1 }, &[ValueId::INPUT]).unwrap();
        let err = g.add_node("p", Op::GlobalAveragePool, &[flat]).unwrap_err();
        assert!(matches!(err, GraphError::InvalidNode { .. }), "{err}");
        let err = g.add_node("c", Op::Concat { axis: 4 }, &[ValueId::INPUT]).unwrap_err();
        assert!(err.to_string().contains("axis 4"), "{err}");
        let bad_bias = HostTensor::vector(vec![0.0; 3]);
        let conv = crate::graph::Conv2d {
            weight: HostTensor::new(vec![2, 3, 1, 1], vec![0.0; 6]).unwrap(),
            bias: Some(bad_bias),
            stride: [1, 1],
            padding: crate::graph::Padding2d::Valid,
            dilation: [1, 1],
            groups: 1,
        };
        let err = g.add_node("conv", Op::Conv2d(conv), &[ValueId::INPUT]).unwrap_err();
        assert!(err.to_string().contains("bias"), "{err}");
        assert_eq!(g.set_outputs(&[]), Err(GraphError::NoOutput));
        assert!(g.set_outputs(&[ValueId::from_index(9)]).is_err());
        assert!(g.set_outputs(&[flat]).is_ok());
    }
}
