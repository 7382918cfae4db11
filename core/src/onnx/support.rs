//! The operators import supports, as data: the table `docs/onnx-support.md` is generated
//! from ([`markdown`]), and the check that lists every unsupported operator of a file at once
//! ([`unsupported`]) before any node is lowered.

use super::error::UnsupportedOp;
use super::import::display_name;
use super::proto::NodeProto;

/// One supported operator (default ONNX domain): the attributes and input forms import
/// reads, and what it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorSupport {
    /// The ONNX operator type.
    pub name: &'static str,
    /// What it lowers to.
    pub lowering: &'static str,
    /// The attributes and inputs read (others are ignored or refused, see `limits`).
    pub attributes: &'static str,
    /// What is refused or bounded.
    pub limits: &'static str,
}

/// Every operator import lowers, alphabetically.
pub const OPERATORS: &[OperatorSupport] = &[
    OperatorSupport { name: "Abs", lowering: "Abs (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "Add",
        lowering: "Add; folded when both inputs are constants",
        attributes: "two inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport {
        name: "AveragePool",
        lowering: "AveragePool",
        attributes: "`kernel_shape`, `strides`, `pads`, `auto_pad`, `dilations`, `ceil_mode`, `count_include_pad`",
        limits: "2-d only; padded input at most 2^28 elements",
    },
    OperatorSupport {
        name: "BatchNormalization",
        lowering: "BatchNorm (folded into the convolution before it where possible)",
        attributes: "`epsilon`; constant scale, bias, mean, variance",
        limits: "`training_mode` = 0 only",
    },
    OperatorSupport {
        name: "Cast",
        lowering: "an alias (to a float type); folded on constants",
        attributes: "`to`",
        limits: "values are float: a value may be cast only to a float type; constants to float, integer or bool types",
    },
    OperatorSupport {
        name: "Celu",
        lowering: "Relu, Sub, Div, Exp, Sub, Mul, Add: relu(x) + alpha (exp(min(x, 0) / alpha) - 1)",
        attributes: "`alpha`",
        limits: "`alpha` not 0",
    },
    OperatorSupport {
        name: "Clip",
        lowering: "Clip",
        attributes: "`min`/`max` attributes (opset < 11) or constant scalar inputs (opset 11+)",
        limits: "bounds must be constants",
    },
    OperatorSupport {
        name: "Concat",
        lowering: "Concat; folded when every input is a constant",
        attributes: "`axis`",
        limits: "inputs of one rank",
    },
    OperatorSupport {
        name: "Constant",
        lowering: "a constant (weights)",
        attributes: "`value`, `value_float(s)`, `value_int(s)`",
        limits: "dense numeric tensors; at most 2^28 elements",
    },
    OperatorSupport {
        name: "ConstantOfShape",
        lowering: "folded to a constant",
        attributes: "`value`; constant shape input",
        limits: "at most 2^20 values",
    },
    OperatorSupport {
        name: "Conv",
        lowering: "Conv2d",
        attributes: "`kernel_shape`, `strides`, `pads`, `auto_pad`, `dilations`, `group`; constant weight and bias",
        limits: "2-d only; padded input at most 2^28 elements",
    },
    OperatorSupport {
        name: "ConvTranspose",
        lowering: "ConvTranspose2d",
        attributes: "`kernel_shape`, `strides`, `pads` (symmetric), `dilations`, `group`, `output_padding`; constant weight and bias",
        limits: "2-d only; no `output_shape`, `auto_pad` NOTSET or VALID; uncropped output at most 2^28 elements",
    },
    OperatorSupport {
        name: "Div",
        lowering: "Div; folded when both inputs are constants",
        attributes: "two inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport {
        name: "Dropout",
        lowering: "an alias of its input (inference)",
        attributes: "",
        limits: "the mask output cannot be read",
    },
    OperatorSupport {
        name: "Elu",
        lowering: "Relu, Sub, Exp, Sub, Mul, Add: relu(x) + alpha (exp(min(x, 0)) - 1)",
        attributes: "`alpha`",
        limits: "",
    },
    OperatorSupport { name: "Erf", lowering: "Erf (element-wise)", attributes: "", limits: "" },
    OperatorSupport { name: "Exp", lowering: "Exp (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "Flatten",
        lowering: "Flatten; folded on constants",
        attributes: "`axis`",
        limits: "",
    },
    OperatorSupport {
        name: "Gather",
        lowering: "folded to a constant",
        attributes: "`axis`; constant data and indices",
        limits: "constants only (shape computations); at most 2^20 values beyond the data",
    },
    OperatorSupport {
        name: "Gelu",
        lowering: "0.5 x (1 + erf(x / sqrt 2)), or with `approximate` = tanh 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))): Mul, Erf or Tanh, Add",
        attributes: "`approximate` (opset 20)",
        limits: "",
    },
    OperatorSupport {
        name: "Gemm",
        lowering: "Linear (fully connected)",
        attributes: "`alpha`, `beta`, `transB`; constant `B` and `C`",
        limits: "`transA` = 0; `C` of shape `[N]`, `[1, N]` or a scalar",
    },
    OperatorSupport {
        name: "GlobalAveragePool",
        lowering: "GlobalAveragePool",
        attributes: "",
        limits: "NCHW input",
    },
    OperatorSupport {
        name: "HardSigmoid",
        lowering: "Mul, Add and Clip to 0..1",
        attributes: "`alpha`, `beta`",
        limits: "",
    },
    OperatorSupport {
        name: "HardSwish",
        lowering: "x times HardSigmoid(alpha 1/6, beta 1/2): Mul, Add, Clip, Mul",
        attributes: "",
        limits: "",
    },
    OperatorSupport {
        name: "Identity",
        lowering: "an alias of its input",
        attributes: "",
        limits: "",
    },
    OperatorSupport {
        name: "InstanceNormalization",
        lowering: "ReduceMean over the spatial axes, Sub, Mul, ReduceMean, Add, Sqrt, Div, then the per-channel scale (Mul) and bias (Add)",
        attributes: "`epsilon`; constant scale and bias",
        limits: "rank 3 or 4",
    },
    OperatorSupport {
        name: "LayerNormalization",
        lowering: "ReduceMean over `axis` and every later axis, Sub, Mul, ReduceMean, Add, Sqrt, Div, then Mul by the scale and Add of the bias",
        attributes: "`axis`, `epsilon`; scale and optional bias",
        limits: "the secondary outputs (mean, inverse deviation) cannot be read",
    },
    OperatorSupport {
        name: "LeakyRelu",
        lowering: "alpha x + (1 - alpha) Relu(x): Relu, Mul, Mul, Add",
        attributes: "`alpha`",
        limits: "",
    },
    OperatorSupport { name: "Log", lowering: "Log (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "MatMul",
        lowering: "MatMul",
        attributes: "two inputs, numpy `matmul`",
        limits: "rank 2 to 4",
    },
    OperatorSupport {
        name: "Max",
        lowering: "`a + Relu(b - a)`, left to right; folded when every input is a constant",
        attributes: "one or more inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport {
        name: "MaxPool",
        lowering: "MaxPool",
        attributes: "`kernel_shape`, `strides`, `pads`, `auto_pad`, `dilations`, `ceil_mode`",
        limits: "2-d only; the indices output cannot be read",
    },
    OperatorSupport {
        name: "Min",
        lowering: "`a - Relu(a - b)`, left to right; folded when every input is a constant",
        attributes: "one or more inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport {
        name: "Mish",
        lowering: "x tanh(softplus(x)): Softplus as below, Tanh, Mul",
        attributes: "",
        limits: "",
    },
    OperatorSupport {
        name: "Mul",
        lowering: "Mul; folded when both inputs are constants",
        attributes: "two inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport { name: "Neg", lowering: "Neg (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "PRelu",
        lowering: "`Relu(x) + slope * (x - Relu(x))`",
        attributes: "the slope input (a constant or a value), broadcast to the input",
        limits: "",
    },
    OperatorSupport {
        name: "Pad",
        lowering: "Pad",
        attributes: "`mode` (constant, reflect, edge); pads as attribute (opset < 11) or constant input, `constant_value`, `axes` (opset 18)",
        limits: "non-negative pads; reflect pads smaller than the axis",
    },
    OperatorSupport {
        name: "Pow",
        lowering: "by the exponent: 1 Identity, 2 and 3 Mul, 0.5 Sqrt, -0.5 and -1 Div, else Exp of Mul of Log",
        attributes: "a constant scalar exponent",
        limits: "the exponent must be one constant",
    },
    OperatorSupport {
        name: "Reciprocal",
        lowering: "Div of a constant 1",
        attributes: "",
        limits: "",
    },
    OperatorSupport {
        name: "ReduceL2",
        lowering: "Mul (square), then as ReduceSum, then Sqrt",
        attributes: "`axes` (attribute or input), `keepdims`",
        limits: "the value's shape must be known",
    },
    OperatorSupport {
        name: "ReduceMax",
        lowering: "MaxPool over the whole map (then Flatten when `keepdims` = 0)",
        attributes: "`axes` (attribute or input), `keepdims`",
        limits: "only the spatial axes [2, 3] of an NCHW value of known size",
    },
    OperatorSupport {
        name: "ReduceMean",
        lowering: "GlobalAveragePool over the spatial axes [2, 3] of NCHW, else ReduceMean over the axes (then Flatten or Reshape when `keepdims` = 0)",
        attributes: "`axes` (attribute or input), `keepdims`",
        limits: "not to a scalar; a Reshape after it needs the value's shape",
    },
    OperatorSupport {
        name: "ReduceSum",
        lowering: "GlobalAveragePool over the spatial axes of NCHW, else ReduceMean over the axes; then Mul by the number of positions (Flatten or Reshape when `keepdims` = 0)",
        attributes: "`axes` (attribute or input), `keepdims`",
        limits: "the value's shape must be known; not to a scalar",
    },
    OperatorSupport { name: "Relu", lowering: "Relu", attributes: "", limits: "" },
    OperatorSupport {
        name: "Reshape",
        lowering: "Reshape; folded on constants",
        attributes: "constant shape (input or opset-1 attribute), `allowzero`",
        limits: "",
    },
    OperatorSupport {
        name: "Resize",
        lowering: "Resize",
        attributes: "`mode` (nearest, linear), `coordinate_transformation_mode`, `nearest_mode`, `axes`; constant `scales` or `sizes`",
        limits: "no cubic, no `antialias`, `keep_aspect_ratio_policy` = stretch; output at most 2^28 elements",
    },
    OperatorSupport {
        name: "Selu",
        lowering: "gamma (relu(x) + alpha (exp(min(x, 0)) - 1)): as Elu, then Mul",
        attributes: "`alpha`, `gamma`",
        limits: "",
    },
    OperatorSupport {
        name: "Shape",
        lowering: "folded to a constant",
        attributes: "`start`, `end` (opset 15)",
        limits: "the value's shape must be known: a fixed declared input size (batch 1 where symbolic)",
    },
    OperatorSupport { name: "Sigmoid", lowering: "Sigmoid", attributes: "", limits: "" },
    OperatorSupport {
        name: "Slice",
        lowering: "folded to a constant on constants; on a value one Slice per cut axis",
        attributes: "starts, ends, axes, steps (attributes before opset 10, constant inputs after)",
        limits: "on a value: steps of 1, and its shape must be known",
    },
    OperatorSupport {
        name: "Softmax",
        lowering: "Softmax",
        attributes: "`axis`",
        limits: "before opset 13, only over the last axis",
    },
    OperatorSupport {
        name: "Softplus",
        lowering: "relu(x) + log(1 + exp(-|x|)) (never overflows): Relu, Abs, Neg, Exp, Add, Log, Add",
        attributes: "",
        limits: "",
    },
    OperatorSupport {
        name: "Split",
        lowering: "one Slice per output",
        attributes: "`axis`; sizes from `split` (attribute before opset 13, constant input after), or equal parts (`num_outputs`, opset 18)",
        limits: "the value's shape must be known; sizes must cover the axis",
    },
    OperatorSupport { name: "Sqrt", lowering: "Sqrt (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "Squeeze",
        lowering: "Reshape (batch axis kept free); folded on constants",
        attributes: "`axes` (attribute before opset 13, input after)",
        limits: "the value's shape must be known; squeezed axes must be 1",
    },
    OperatorSupport {
        name: "Sub",
        lowering: "Sub; folded when both inputs are constants",
        attributes: "two inputs, numpy broadcasting",
        limits: "rank at most 4",
    },
    OperatorSupport { name: "Tanh", lowering: "Tanh (element-wise)", attributes: "", limits: "" },
    OperatorSupport {
        name: "Transpose",
        lowering: "Reshape where only axes of size 1 move",
        attributes: "`perm`",
        limits: "a transpose that moves data is refused; the value's shape must be known",
    },
    OperatorSupport {
        name: "Unsqueeze",
        lowering: "Reshape (batch axis kept free); folded on constants",
        attributes: "`axes` (attribute before opset 13, input after)",
        limits: "the value's shape must be known",
    },
    OperatorSupport {
        name: "Upsample",
        lowering: "Resize",
        attributes: "`mode` (nearest, linear); `scales` as attribute or constant input",
        limits: "deprecated operator; asymmetric coordinates",
    },
    OperatorSupport {
        name: "Where",
        lowering: "folded to a constant",
        attributes: "condition, `X`, `Y`, numpy broadcasting",
        limits: "every input must be a constant",
    },
];

/// The support entry of `op_type` in `domain`, if import lowers it.
pub fn operator(domain: &str, op_type: &str) -> Option<&'static OperatorSupport> {
    if !(domain.is_empty() || domain == "ai.onnx") {
        return None;
    }
    OPERATORS.iter().find(|o| o.name == op_type)
}

/// At most this many node names are listed per unsupported operator.
pub const LISTED_NODES: usize = 5;

/// Every unsupported operator among `nodes` (in order of first use), with its count and the
/// first [`LISTED_NODES`] node names; empty when all are supported.
pub(crate) fn unsupported<'a>(
    nodes: impl IntoIterator<Item = &'a NodeProto>,
) -> Vec<UnsupportedOp> {
    let mut found: Vec<UnsupportedOp> = Vec::new();
    for node in nodes {
        if operator(&node.domain, &node.op_type).is_some() {
            continue;
        }
        let index =
            match found.iter().position(|u| u.op_type == node.op_type && u.domain == node.domain) {
                Some(i) => i,
                None => {
                    found.push(UnsupportedOp {
                        op_type: node.op_type.clone(),
                        domain: node.domain.clone(),
                        count: 0,
                        nodes: Vec::new(),
                    });
                    found.len() - 1
                }
            };
        if let Some(entry) = found.get_mut(index) {
            entry.count += 1;
            if entry.nodes.len() < LISTED_NODES {
                entry.nodes.push(display_name(node));
            }
        }
    }
    found
}

/// The operator table as Markdown: the content of `docs/onnx-support.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# ONNX operators Microscope imports\n\n\
         Generated from `core/src/onnx/support.rs` by `microscope onnx-ops --markdown`; a test \
         fails when this file and the code disagree (regenerate it with that command).\n\n\
         Default domain (`ai.onnx`) only. Every operator is lowered to the graph operators the \
         built-in models use, so feature visualization, dataset examples and circuits work \
         unchanged. Import lists every unsupported operator of a file at once (with counts, \
         node names and the opset). Shape-only subgraphs (`Shape`, `Gather`, `Concat`, ... on \
         constants) are computed at import when the input size is fixed (declared, or given \
         with `import-onnx --input-size`). Every value is bounded \
         to at most 2^28 elements and rank 4; every constant is checked against the data \
         present before anything is allocated. A file is read within \
         `model_import::OnnxLimits`: at most 100,000 nodes, and 2 GiB (`import-onnx`) or \
         256 MiB (a file dropped on the viewer's /your-model page, imported in the browser by \
         the same code).\n\n\
         | Operator | Lowered to | Attributes and inputs read | Limits |\n\
         |---|---|---|---|\n",
    );
    for op in OPERATORS {
        let cell = |s: &str| if s.is_empty() { "-".to_owned() } else { s.replace('|', "\\|") };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            op.name,
            cell(op.lowering),
            cell(op.attributes),
            cell(op.limits)
        ));
    }
    out.push_str(&format!("\n{} operators.\n", OPERATORS.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onnx_support_table_is_sorted_and_unique() {
        let names: Vec<&str> = OPERATORS.iter().map(|o| o.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn onnx_unsupported_counts_every_operator() {
        let node = |op: &str, name: &str| NodeProto {
            op_type: op.into(),
            name: name.into(),
            ..Default::default()
        };
        let nodes: Vec<NodeProto> = (0..7)
            .map(|i| node("LSTM", &format!("l{i}")))
            .chain([node("Relu", "r"), node("Einsum", "e")])
            .collect();
        let found = unsupported(&nodes);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].op_type.as_str(), found[0].count), ("LSTM", 7));
        assert_eq!(found[0].nodes, ["l0", "l1", "l2", "l3", "l4"]);
        assert_eq!((found[1].op_type.as_str(), found[1].count), ("Einsum", 1));
        let mut custom = node("Relu", "c");
        custom.domain = "com.microsoft".into();
        assert_eq!(unsupported([&custom])[0].domain, "com.microsoft");
    }
}
