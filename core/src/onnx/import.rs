//! The import walk: decode, pick the input, sort the nodes the outputs need, lower each to
//! graph operators, declare the outputs, and check shapes at the declared size.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::rc::Rc;

use super::OnnxError;
use super::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto, data_type};
use super::tensor::{Constant, decode};
use crate::graph::{Dim, Graph, MAX_ELEMENTS, Op, ValueId, checked_product};

/// What a name in the ONNX graph stands for during import.
#[derive(Debug, Clone)]
pub(crate) enum Sym {
    /// A value of the graph being built.
    Value(ValueId),
    /// A constant (initializer, `Constant` node, or an identity of one).
    Const(Rc<Constant>),
    /// A graph input other than the one imported.
    OtherInput,
    /// An output of a node other than its first (which Microscope does not compute).
    ExtraOutput,
}

/// Imports the ONNX model in `bytes` as a [`Graph`].
///
/// The input is the graph's first input that is not an initializer (an NCHW float tensor,
/// its declared shape possibly symbolic); the outputs are the graph's outputs. Only the
/// nodes the outputs depend on are imported. When the declared input shape is fixed, shapes
/// are checked at that size.
pub fn import(bytes: &[u8]) -> Result<Graph, OnnxError> {
    import_with(bytes, None)
}

/// As [`import`], with the input's symbolic height and width taken as `size` (`[height,
/// width]` pixels; fixed ones are kept, so a size the file contradicts is found later, by
/// the model's input check). What a file exported with dynamic axes needs where it computes
/// sizes from its input's shape (`Shape` -> `Gather` -> `Resize`): those fold to constants
/// at `size`, and the graph then takes only that size.
pub fn import_at(bytes: &[u8], size: [usize; 2]) -> Result<Graph, OnnxError> {
    import_with(bytes, Some(size))
}

fn import_with(bytes: &[u8], size: Option<[usize; 2]>) -> Result<Graph, OnnxError> {
    import_model(&decode_model(bytes)?, size)
}

/// The ONNX model message in `bytes` (what [`import_model`] imports), for callers that check
/// it before importing it (its node count, see `model_import`).
pub fn decode_model(bytes: &[u8]) -> Result<ModelProto, OnnxError> {
    ModelProto::from_bytes(bytes).map_err(|e| OnnxError::Decode(e.to_string()))
}

/// The default domain's operator set version `model` declares (1 when it declares none).
pub fn opset(model: &ModelProto) -> i64 {
    model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version)
}

/// As [`import`] (`size: None`) or [`import_at`], on a decoded model.
pub fn import_model(model: &ModelProto, size: Option<[usize; 2]>) -> Result<Graph, OnnxError> {
    let proto = model.graph.as_ref().ok_or(OnnxError::MissingGraph)?;
    Importer::new(proto, opset(model), size)?.run()
}

/// The state of one import.
pub(crate) struct Importer<'a> {
    pub proto: &'a GraphProto,
    /// The default domain's operator set version.
    pub opset: i64,
    pub graph: Graph,
    pub env: HashMap<&'a str, Sym>,
    /// Constants already added to the graph as nodes, by name.
    materialised: HashMap<String, ValueId>,
}

impl<'a> Importer<'a> {
    /// Decodes the initializers and the input.
    fn new(proto: &'a GraphProto, opset: i64, size: Option<[usize; 2]>) -> Result<Self, OnnxError> {
        let mut env: HashMap<&'a str, Sym> = HashMap::new();
        for t in &proto.initializer {
            env.insert(t.name.as_str(), Sym::Const(Rc::new(decode(t, &t.name)?)));
        }
        let input = proto
            .input
            .iter()
            .find(|i| !env.contains_key(i.name.as_str()))
            .ok_or(OnnxError::MissingInput)?;
        let graph = Graph::new(&input.name, declared_shape(input, size)?);
        for other in &proto.input {
            env.entry(other.name.as_str()).or_insert(Sym::OtherInput);
        }
        env.insert(input.name.as_str(), Sym::Value(ValueId::INPUT));
        Ok(Self { proto, opset, graph, env, materialised: HashMap::new() })
    }

    /// Lowers the nodes the outputs need, in dependency order, and declares the outputs.
    fn run(mut self) -> Result<Graph, OnnxError> {
        let order = self.order()?;
        let nodes = &self.proto.node;
        let nodes: &'a [NodeProto] = nodes;
        let ops = super::support::unsupported(order.iter().filter_map(|&i| nodes.get(i)));
        if !ops.is_empty() {
            return Err(OnnxError::UnsupportedOps { opset: self.opset, ops });
        }
        for index in order {
            if let Some(node) = nodes.get(index) {
                self.lower(node)?;
            }
        }
        let mut outputs = Vec::with_capacity(self.proto.output.len());
        for output in &self.proto.output {
            let sym = self.env.get(output.name.as_str()).cloned();
            let id = match sym {
                Some(Sym::Value(id)) => id,
                Some(Sym::Const(c)) => self.materialise(&output.name, &c)?,
                _ => return Err(OnnxError::DanglingOutput(output.name.clone())),
            };
            outputs.push(id);
        }
        self.graph.set_outputs(&outputs)?;
        let input = self.graph.input();
        if let (Some(c), Some([h, w])) = (input.channels(), input.spatial()) {
            self.graph.infer_shapes([1, c, h, w])?;
        }
        Ok(self.graph)
    }

    /// The indices of the nodes the graph outputs depend on, in dependency order (file
    /// order where free). Fails on dangling inputs, values written twice and cycles.
    fn order(&self) -> Result<Vec<usize>, OnnxError> {
        let nodes = &self.proto.node;
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            for out in node.output.iter().filter(|o| !o.is_empty()) {
                if producer.insert(out.as_str(), i).is_some() || self.env.contains_key(out.as_str())
                {
                    return Err(OnnxError::DuplicateValue(out.clone()));
                }
            }
        }
        // The nodes the outputs need.
        let mut needed = vec![false; nodes.len()];
        let mut stack = Vec::new();
        for output in &self.proto.output {
            match producer.get(output.name.as_str()) {
                Some(&i) => stack.push(i),
                None if self.env.contains_key(output.name.as_str()) => {}
                None => return Err(OnnxError::DanglingOutput(output.name.clone())),
            }
        }
        while let Some(i) = stack.pop() {
            let (Some(seen), Some(node)) = (needed.get_mut(i), nodes.get(i)) else { continue };
            if *seen {
                continue;
            }
            *seen = true;
            for input in node.input.iter().filter(|n| !n.is_empty()) {
                match producer.get(input.as_str()) {
                    Some(&j) => stack.push(j),
                    None if self.env.contains_key(input.as_str()) => {}
                    None => {
                        return Err(OnnxError::DanglingInput {
                            node: display_name(node),
                            input: input.clone(),
                        });
                    }
                }
            }
        }
        // Kahn's algorithm over the needed nodes, smallest index first.
        let mut pending = vec![0usize; nodes.len()];
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        for (i, node) in nodes.iter().enumerate().filter(|(i, _)| needed.get(*i) == Some(&true)) {
            for input in node.input.iter().filter(|n| !n.is_empty()) {
                if let Some(&j) = producer.get(input.as_str()) {
                    if let Some(p) = pending.get_mut(i) {
                        *p += 1;
                    }
                    if let Some(r) = readers.get_mut(j) {
                        r.push(i);
                    }
                }
            }
        }
        let mut ready: BinaryHeap<Reverse<usize>> = (0..nodes.len())
            .filter(|&i| needed.get(i) == Some(&true) && pending.get(i) == Some(&0))
            .map(Reverse)
            .collect();
        let mut order = Vec::new();
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for &r in readers.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(p) = pending.get_mut(r) {
                    *p = p.saturating_sub(1);
                    if *p == 0 {
                        ready.push(Reverse(r));
                    }
                }
            }
        }
        let total = needed.iter().filter(|&&n| n).count();
        if order.len() < total {
            let placed: HashSet<usize> = order.iter().copied().collect();
            let stuck = (0..nodes.len())
                .find(|i| needed.get(*i) == Some(&true) && !placed.contains(i))
                .and_then(|i| nodes.get(i))
                .map(display_name)
                .unwrap_or_default();
            return Err(OnnxError::Cycle(stuck));
        }
        Ok(order)
    }

    /// The shape of `id` at the declared input size (batch 1 where it is symbolic), or why
    /// it is unknown (the declared height, width or channels are not fixed).
    pub(crate) fn value_shape(&self, id: ValueId) -> Result<Vec<usize>, String> {
        let input = self.graph.input();
        let (Some(c), Some([h, w])) = (input.channels(), input.spatial()) else {
            return Err(format!("the input {} has no fixed size", input.describe()));
        };
        let batch = match input.shape.first() {
            Some(Dim::Fixed(n)) => *n,
            _ => 1,
        };
        let shapes = self.graph.infer_shapes([batch, c, h, w]).map_err(|e| e.to_string())?;
        shapes.get(id.index()).cloned().ok_or_else(|| format!("unknown value {id}"))
    }

    /// The constant `c` (named `name`) as a value of the graph, added once.
    pub(crate) fn materialise(&mut self, name: &str, c: &Constant) -> Result<ValueId, OnnxError> {
        if let Some(&id) = self.materialised.get(name) {
            return Ok(id);
        }
        // Prefixed so that constants never take a layer's name.
        let id = self.graph.add_node(&format!("const.{name}"), Op::Constant(c.to_host()), &[])?;
        self.materialised.insert(name.to_owned(), id);
        Ok(id)
    }
}

/// A node's name for errors and layers: its own, else its first output's, else its type.
pub(crate) fn display_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        return node.name.clone();
    }
    node.output.iter().find(|o| !o.is_empty()).cloned().unwrap_or_else(|| node.op_type.clone())
}

/// The declared `[N, C, H, W]` of `input` (symbolic where not fixed), with symbolic height
/// and width taken from `size` when given.
fn declared_shape(input: &ValueInfoProto, size: Option<[usize; 2]>) -> Result<[Dim; 4], OnnxError> {
    let fail = |reason: String| OnnxError::InvalidInput { name: input.name.clone(), reason };
    let symbolic = |name: &str| Dim::Symbolic(name.to_owned());
    let unknown = || vec![symbolic("N"), symbolic("C"), symbolic("H"), symbolic("W")];
    let tensor = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
    if let Some(tensor) = tensor
        && tensor.elem_type != 0
        && tensor.elem_type != data_type::FLOAT
    {
        return Err(fail(format!("element type {} is not float", tensor.elem_type)));
    }
    let dims: Vec<Dim> = match tensor.and_then(|t| t.shape.as_ref()) {
        None => unknown(),
        Some(shape) => shape
            .dim
            .iter()
            .map(|d| match (d.dim_value, &d.dim_param) {
                (Some(v), _) if v > 0 => Dim::Fixed(usize::try_from(v).unwrap_or(usize::MAX)),
                (_, Some(p)) => Dim::Symbolic(p.clone()),
                _ => Dim::Symbolic(String::new()),
            })
            .collect(),
    };
    let mut dims =
        <[Dim; 4]>::try_from(dims).map_err(|d| fail(format!("it has rank {}, not 4", d.len())))?;
    if let Some(size) = size {
        for (dim, side) in dims.iter_mut().skip(2).zip(size) {
            if matches!(dim, Dim::Symbolic(_)) {
                *dim = Dim::Fixed(side);
            }
        }
    }
    // Refused before a probe or a forward pass allocates an input of this size (symbolic
    // axes count as 1).
    let fixed: Vec<usize> = dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(v) => *v,
            Dim::Symbolic(_) => 1,
        })
        .collect();
    if checked_product(&fixed).is_none_or(|n| n > MAX_ELEMENTS) {
        return Err(fail(format!(
            "its declared shape {fixed:?} has more than the limit of {MAX_ELEMENTS} elements"
        )));
    }
    Ok(dims)
}
