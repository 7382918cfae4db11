//! Shape-only subgraphs computed at import: `Shape` of a value whose shape is known (the
//! input size is fixed), and `Gather`, `Slice`, `Concat`, `Unsqueeze`, `Squeeze`, `Reshape`,
//! `Flatten`, `Cast`, `Add`, `Sub`, `Mul`, `Div` and `ConstantOfShape` on constants, so the
//! `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` chains exporters write become the
//! constant shapes the graph operators take.
//!
//! Results are bounded: an operator whose output can be larger than its inputs' data
//! (`ConstantOfShape`, `Gather`) may produce at most [`MAX_FOLDED_ELEMENTS`] values.

use super::OnnxError;
use super::attributes::Attributes;
use super::import::{Importer, Sym};
use super::proto::{NodeProto, data_type};
use super::tensor::{Constant, Values, decode};
use crate::graph::{MAX_ELEMENTS, broadcast, checked_product, normalize_axis, reshape};

/// The most values a folded operator may create beyond the data of its inputs (a shape
/// computation needs a handful; 2^20 leaves room for small constant masks).
pub const MAX_FOLDED_ELEMENTS: usize = 1 << 20;

impl<'a> Importer<'a> {
    /// The constant `node` computes, when it can be computed at import: every input it
    /// reads is a constant (or, for `Shape`, a value of known shape). `None` otherwise.
    pub(crate) fn fold(
        &self,
        node: &NodeProto,
        attrs: &Attributes<'_>,
    ) -> Result<Option<Constant>, OnnxError> {
        let op = node.op_type.as_str();
        if op == "Shape" {
            let shape = match self.sym(node, attrs, 0)? {
                Sym::Const(c) => c.shape.clone(),
                Sym::Value(id) => self.value_shape(id).map_err(|reason| {
                    attrs.unsupported(format!(
                        "`Shape` of a value needs a fixed input size: {reason}"
                    ))
                })?,
                Sym::OtherInput | Sym::ExtraOutput => {
                    return Err(attrs.invalid("input 0 is unavailable"));
                }
            };
            let rank = shape.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
            let start = clamp(attrs.int_or("start", 0)?);
            let end = clamp(attrs.int_or("end", rank)?);
            let dims: Vec<i64> = shape.iter().take(end).skip(start).map(|&d| d as i64).collect();
            return Ok(Some(Constant { shape: vec![dims.len()], values: Values::Int(dims) }));
        }
        let foldable = matches!(
            op,
            "Gather"
                | "Slice"
                | "Concat"
                | "Unsqueeze"
                | "Squeeze"
                | "Reshape"
                | "Flatten"
                | "Cast"
                | "Add"
                | "Sub"
                | "Mul"
                | "Div"
                | "Max"
                | "Min"
                | "Where"
                | "ConstantOfShape"
        );
        if !foldable {
            return Ok(None);
        }
        // Every named input must be a constant.
        let mut inputs = Vec::with_capacity(node.input.len());
        for (i, name) in node.input.iter().enumerate() {
            if name.is_empty() {
                inputs.push(None);
                continue;
            }
            match self.sym(node, attrs, i)? {
                Sym::Const(c) => inputs.push(Some(c)),
                _ => return Ok(None),
            }
        }
        let input = |i: usize| inputs.get(i).cloned().flatten();
        let first = input(0).ok_or_else(|| attrs.invalid("needs input 0"))?;
        let ints = |i: usize, what: &str| -> Result<Option<Vec<i64>>, OnnxError> {
            match input(i) {
                Some(c) => Ok(Some(
                    c.ints()
                        .ok_or_else(|| attrs.invalid(format!("{what} must be integers")))?
                        .to_vec(),
                )),
                None => Ok(None),
            }
        };
        let rank = first.shape.len();
        let folded = match op {
            "Gather" => {
                let indices = input(1).ok_or_else(|| attrs.invalid("needs indices"))?;
                let idx =
                    indices.ints().ok_or_else(|| attrs.invalid("indices must be integers"))?;
                let axis = normalize_axis(attrs.int_or("axis", 0)?, rank, false)
                    .map_err(|e| attrs.invalid(e))?;
                gather(&first, idx, &indices.shape, axis).map_err(|e| attrs.invalid(e))?
            }
            "Slice" => {
                let (starts, ends, axes, steps) = if self.opset < 10 {
                    let get = |k: &str| attrs.ints(k).map(|v| v.map(<[i64]>::to_vec));
                    (get("starts")?, get("ends")?, get("axes")?, None)
                } else {
                    (ints(1, "starts")?, ints(2, "ends")?, ints(3, "axes")?, ints(4, "steps")?)
                };
                let starts = starts.ok_or_else(|| attrs.invalid("needs starts"))?;
                let ends = ends.ok_or_else(|| attrs.invalid("needs ends"))?;
                slice(&first, &starts, &ends, axes.as_deref(), steps.as_deref())
                    .map_err(|e| attrs.invalid(e))?
            }
            "Concat" => {
                let axis = attrs.int("axis")?.ok_or_else(|| attrs.invalid("needs an axis"))?;
                let parts: Vec<_> = inputs.iter().flatten().cloned().collect();
                concat(&parts, axis).map_err(|e| attrs.invalid(e))?
            }
            "Unsqueeze" | "Squeeze" => {
                let axes = match attrs.ints("axes")? {
                    Some(a) => Some(a.to_vec()),
                    None => ints(1, "axes")?,
                };
                let shape = if op == "Unsqueeze" {
                    unsqueezed(&first.shape, &axes.unwrap_or_default())
                } else {
                    squeezed(&first.shape, axes.as_deref())
                }
                .map_err(|e| attrs.invalid(e))?;
                Constant { shape, values: first.values.clone() }
            }
            "Reshape" => {
                let target = match ints(1, "the shape")? {
                    Some(t) => t,
                    None => {
                        attrs.ints("shape")?.ok_or_else(|| attrs.invalid("needs a shape"))?.to_vec()
                    }
                };
                let allow_zero = attrs.int_or("allowzero", 0)? != 0;
                let shape =
                    reshape(&first.shape, &target, allow_zero).map_err(|e| attrs.invalid(e))?;
                Constant { shape, values: first.values.clone() }
            }
            "Flatten" => {
                let axis = normalize_axis(attrs.int_or("axis", 1)?, rank, true)
                    .map_err(|e| attrs.invalid(e))?;
                let (head, tail) = first.shape.split_at(axis);
                let size = |d: &[usize]| d.iter().product::<usize>();
                Constant { shape: vec![size(head), size(tail)], values: first.values.clone() }
            }
            "Cast" => {
                let to = attrs.int("to")?.ok_or_else(|| attrs.invalid("needs `to`"))?;
                cast(&first, to).ok_or_else(|| attrs.unsupported(format!("cast to type {to}")))?
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let other = input(1).ok_or_else(|| attrs.invalid("needs two inputs"))?;
                arithmetic(op, &first, &other).map_err(|e| attrs.invalid(e))?
            }
            "Max" | "Min" => {
                let mut folded = (*first).clone();
                for other in inputs.iter().skip(1).flatten() {
                    folded = arithmetic(op, &folded, other).map_err(|e| attrs.invalid(e))?;
                }
                folded
            }
            "Where" => {
                let (Some(x), Some(y)) = (input(1), input(2)) else {
                    return Err(attrs.invalid("needs a condition and two inputs"));
                };
                select(&first, &x, &y).map_err(|e| attrs.invalid(e))?
            }
            "ConstantOfShape" => {
                let shape = first.ints().ok_or_else(|| attrs.invalid("the shape must be int64"))?;
                let shape: Vec<usize> = shape
                    .iter()
                    .map(|&d| {
                        usize::try_from(d)
                            .map_err(|_| attrs.invalid(format!("negative shape {shape:?}")))
                    })
                    .collect::<Result<_, _>>()?;
                let count = checked_product(&shape)
                    .filter(|&n| n <= MAX_FOLDED_ELEMENTS)
                    .ok_or_else(|| {
                        attrs.unsupported(format!(
                            "a constant of shape {shape:?} (more than {MAX_FOLDED_ELEMENTS} values)"
                        ))
                    })?;
                let value = match attrs.tensor("value")? {
                    Some(t) => decode(t, &node.name)?,
                    None => Constant { shape: vec![1], values: Values::Float(vec![0.0]) },
                };
                let values = match value.values {
                    Values::Float(v) if v.len() == 1 => {
                        Values::Float(vec![v.first().copied().unwrap_or(0.0); count])
                    }
                    Values::Int(v) if v.len() == 1 => {
                        Values::Int(vec![v.first().copied().unwrap_or(0); count])
                    }
                    _ => return Err(attrs.invalid("value must hold one element")),
                };
                Constant { shape, values }
            }
            _ => return Ok(None),
        };
        Ok(Some(folded))
    }
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut out = vec![1usize; shape.len()];
    let mut acc = 1usize;
    for (slot, &d) in out.iter_mut().zip(shape).rev() {
        *slot = acc;
        acc = acc.saturating_mul(d);
    }
    out
}

/// The values of `c` at flat `positions`.
fn pick(c: &Constant, positions: &[usize]) -> Result<Values, String> {
    fn take<T: Copy>(v: &[T], positions: &[usize]) -> Result<Vec<T>, String> {
        positions
            .iter()
            .map(|&p| v.get(p).copied().ok_or_else(|| "index out of range".to_owned()))
            .collect()
    }
    Ok(match &c.values {
        Values::Float(v) => Values::Float(take(v, positions)?),
        Values::Int(v) => Values::Int(take(v, positions)?),
    })
}

/// Checks that an output of `shape` may be created (at most [`MAX_FOLDED_ELEMENTS`] values,
/// or as many as the input holds).
fn bounded(shape: &[usize], input: usize) -> Result<usize, String> {
    checked_product(shape)
        .filter(|&n| n <= MAX_FOLDED_ELEMENTS.max(input) && n <= MAX_ELEMENTS)
        .ok_or_else(|| format!("the folded constant {shape:?} would be too large"))
}

/// ONNX `Gather` along `axis`.
fn gather(
    data: &Constant,
    idx: &[i64],
    idx_shape: &[usize],
    axis: usize,
) -> Result<Constant, String> {
    let dim = data.shape.get(axis).copied().ok_or("axis out of range")?;
    let mut shape: Vec<usize> = data.shape.iter().take(axis).copied().collect();
    shape.extend_from_slice(idx_shape);
    shape.extend(data.shape.iter().skip(axis + 1));
    bounded(&shape, data.len())?;
    let outer: usize = data.shape.iter().take(axis).product();
    let inner: usize = data.shape.iter().skip(axis + 1).product();
    let mut positions = Vec::new();
    for o in 0..outer {
        for &i in idx {
            let i = if i < 0 { i + dim as i64 } else { i };
            let i = usize::try_from(i)
                .ok()
                .filter(|&i| i < dim)
                .ok_or_else(|| format!("index {i} out of range for an axis of {dim}"))?;
            for k in 0..inner {
                positions.push((o * dim + i) * inner + k);
            }
        }
    }
    Ok(Constant { shape, values: pick(data, &positions)? })
}

/// ONNX `Slice` (opset 10+ semantics: clamped starts and ends, optional axes and steps).
fn slice(
    data: &Constant,
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Constant, String> {
    let rank = data.shape.len();
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| normalize_axis(a, rank, false)).collect::<Result<_, _>>()?,
        None => (0..starts.len()).collect(),
    };
    if starts.len() != axes.len()
        || ends.len() != axes.len()
        || steps.is_some_and(|s| s.len() != axes.len())
    {
        return Err("starts, ends, axes and steps differ in length".into());
    }
    // Per axis: the selected indices.
    let mut picks: Vec<Vec<usize>> = data.shape.iter().map(|&d| (0..d).collect()).collect();
    for (j, &axis) in axes.iter().enumerate() {
        let dim = data.shape.get(axis).copied().unwrap_or(0) as i64;
        let step = steps.and_then(|s| s.get(j)).copied().unwrap_or(1);
        if step == 0 {
            return Err("slice step 0".into());
        }
        let fix = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (Some(&start), Some(&end)) = (starts.get(j), ends.get(j)) else {
            return Err("starts and ends differ in length".into());
        };
        let (start, end) = (fix(start), fix(end));
        let mut chosen = Vec::new();
        if dim == 0 {
            // Nothing to select.
        } else if step > 0 {
            let (mut i, end) = (start.clamp(0, dim), end.clamp(0, dim));
            while i < end {
                chosen.push(i as usize);
                i = i.saturating_add(step);
            }
        } else {
            let (mut i, end) = (start.clamp(0, dim - 1), end.clamp(-1, dim - 1));
            while i > end {
                chosen.push(i as usize);
                i = i.saturating_add(step);
            }
        }
        if let Some(slot) = picks.get_mut(axis) {
            *slot = chosen;
        }
    }
    let shape: Vec<usize> = picks.iter().map(Vec::len).collect();
    bounded(&shape, data.len())?;
    let st = strides(&data.shape);
    let mut positions = vec![0usize];
    for (axis, chosen) in picks.iter().enumerate() {
        let stride = st.get(axis).copied().unwrap_or(1);
        positions =
            positions.iter().flat_map(|&p| chosen.iter().map(move |&i| p + i * stride)).collect();
    }
    Ok(Constant { shape, values: pick(data, &positions)? })
}

/// ONNX `Concat` of constants along `axis`.
fn concat(parts: &[std::rc::Rc<Constant>], axis: i64) -> Result<Constant, String> {
    let first = parts.first().ok_or("no inputs")?;
    let rank = first.shape.len();
    let a = normalize_axis(axis, rank, false)?;
    let mut shape = first.shape.clone();
    let mut total = 0usize;
    for p in parts {
        let same = p.shape.len() == rank
            && p.shape.iter().zip(&first.shape).enumerate().all(|(i, (x, y))| i == a || x == y);
        if !same {
            return Err(format!("cannot join {:?} to {:?} along axis {a}", p.shape, first.shape));
        }
        total += p.shape.get(a).copied().unwrap_or(0);
    }
    if let Some(slot) = shape.get_mut(a) {
        *slot = total;
    }
    let outer: usize = first.shape.iter().take(a).product();
    let ints = parts.iter().all(|p| p.ints().is_some());
    let mut floats = Vec::new();
    let mut integers = Vec::new();
    for o in 0..outer {
        for p in parts {
            let chunk = p.len() / outer.max(1);
            let range = o * chunk..(o + 1) * chunk;
            match (&p.values, ints) {
                (Values::Int(v), true) => integers.extend_from_slice(v.get(range).unwrap_or(&[])),
                _ => floats.extend(p.floats().get(range).unwrap_or(&[])),
            }
        }
    }
    let values = if ints { Values::Int(integers) } else { Values::Float(floats) };
    Ok(Constant { shape, values })
}

/// `shape` with axes of size 1 inserted at `axes` (of the output).
pub(crate) fn unsqueezed(shape: &[usize], axes: &[i64]) -> Result<Vec<usize>, String> {
    let rank = shape.len() + axes.len();
    let mut axes: Vec<usize> =
        axes.iter().map(|&a| normalize_axis(a, rank, false)).collect::<Result<_, _>>()?;
    axes.sort_unstable();
    if axes.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("repeated axes {axes:?}"));
    }
    let mut rest = shape.iter();
    Ok((0..rank)
        .map(|i| if axes.contains(&i) { 1 } else { rest.next().copied().unwrap_or(1) })
        .collect())
}

/// `shape` without the axes `axes` (all axes of size 1 when `None`), which must be 1.
pub(crate) fn squeezed(shape: &[usize], axes: Option<&[i64]>) -> Result<Vec<usize>, String> {
    let rank = shape.len();
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&a| normalize_axis(a, rank, false)).collect::<Result<_, _>>()?,
        None => (0..rank).filter(|&i| shape.get(i) == Some(&1)).collect(),
    };
    if let Some(&a) = axes.iter().find(|&&a| shape.get(a) != Some(&1)) {
        return Err(format!("axis {a} of {shape:?} is not 1"));
    }
    Ok(shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect())
}

/// ONNX `Cast` of a constant to element type `to` (`None` for a type not supported).
fn cast(c: &Constant, to: i64) -> Option<Constant> {
    let to = i32::try_from(to).ok()?;
    let values = match to {
        data_type::FLOAT | data_type::DOUBLE | data_type::FLOAT16 => Values::Float(c.floats()),
        data_type::INT64 | data_type::INT32 | data_type::INT8 | data_type::UINT8 => match &c.values
        {
            Values::Int(v) => Values::Int(v.clone()),
            // Float to integer truncates toward zero.
            Values::Float(v) => Values::Int(v.iter().map(|&x| x.trunc() as i64).collect()),
        },
        data_type::BOOL => Values::Int(c.floats().iter().map(|&x| i64::from(x != 0.0)).collect()),
        _ => return None,
    };
    Some(Constant { shape: c.shape.clone(), values })
}

/// The flat position in `of` of the element at flat position `flat` of the broadcast
/// `shape` (`of` left-padded to its rank; broadcast axes read 0).
fn broadcast_index(shape: &[usize], of: &[usize], flat: usize) -> usize {
    let offset = shape.len().saturating_sub(of.len());
    let st = strides(of);
    let mut rem = flat;
    let mut pos = 0;
    for (axis, &d) in shape.iter().enumerate().rev() {
        let i = rem % d.max(1);
        rem /= d.max(1);
        if axis >= offset {
            let k = axis - offset;
            if of.get(k).copied().unwrap_or(1) > 1 {
                pos += i * st.get(k).copied().unwrap_or(0);
            }
        }
    }
    pos
}

/// ONNX `Where`: `x` where `condition` is non-zero, else `y`, all three broadcast; integer
/// when `x` and `y` are.
fn select(condition: &Constant, x: &Constant, y: &Constant) -> Result<Constant, String> {
    let shape = broadcast(&broadcast(&condition.shape, &x.shape)?, &y.shape)?;
    bounded(&shape, condition.len().max(x.len()).max(y.len()))?;
    let count: usize = shape.iter().product();
    let cond = condition.floats();
    let take = |n: usize| cond.get(broadcast_index(&shape, &condition.shape, n)) != Some(&0.0);
    let values = match (&x.values, &y.values) {
        (Values::Int(p), Values::Int(q)) => Values::Int(
            (0..count)
                .map(|n| {
                    let (from, of) = if take(n) { (p, &x.shape) } else { (q, &y.shape) };
                    from.get(broadcast_index(&shape, of, n)).copied().unwrap_or(0)
                })
                .collect(),
        ),
        _ => {
            let (p, q) = (x.floats(), y.floats());
            Values::Float(
                (0..count)
                    .map(|n| {
                        let (from, of) = if take(n) { (&p, &x.shape) } else { (&q, &y.shape) };
                        from.get(broadcast_index(&shape, of, n)).copied().unwrap_or(0.0)
                    })
                    .collect(),
            )
        }
    };
    Ok(Constant { shape, values })
}

/// `a op b` (`Add`, `Sub`, `Mul`, `Div`, `Max`, `Min`) with numpy broadcasting; integer when
/// both are integers (division truncates).
fn arithmetic(op: &str, a: &Constant, b: &Constant) -> Result<Constant, String> {
    let shape = broadcast(&a.shape, &b.shape)?;
    bounded(&shape, a.len().max(b.len()))?;
    let index = |of: &[usize], flat: usize| broadcast_index(&shape, of, flat);
    let count: usize = shape.iter().product();
    let values = match (&a.values, &b.values) {
        (Values::Int(x), Values::Int(y)) => {
            let mut out = Vec::with_capacity(count);
            for n in 0..count {
                let p = x.get(index(&a.shape, n)).copied().unwrap_or(0);
                let q = y.get(index(&b.shape, n)).copied().unwrap_or(0);
                out.push(match op {
                    "Add" => p.wrapping_add(q),
                    "Sub" => p.wrapping_sub(q),
                    "Mul" => p.wrapping_mul(q),
                    "Max" => p.max(q),
                    "Min" => p.min(q),
                    _ => p.checked_div(q).ok_or("integer division by zero")?,
                });
            }
            Values::Int(out)
        }
        _ => {
            let (x, y) = (a.floats(), b.floats());
            let mut out = Vec::with_capacity(count);
            for n in 0..count {
                let p = x.get(index(&a.shape, n)).copied().unwrap_or(0.0);
                let q = y.get(index(&b.shape, n)).copied().unwrap_or(0.0);
                out.push(match op {
                    "Add" => p + q,
                    "Sub" => p - q,
                    "Mul" => p * q,
                    "Max" => p.max(q),
                    "Min" => p.min(q),
                    _ => p / q,
                });
            }
            Values::Float(out)
        }
    };
    Ok(Constant { shape, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(shape: &[usize], v: &[i64]) -> Constant {
        Constant { shape: shape.to_vec(), values: Values::Int(v.to_vec()) }
    }

    #[test]
    fn onnx_fold_shape_arithmetic() {
        let s = ints(&[4], &[1, 3, 64, 48]);
        assert_eq!(gather(&s, &[2], &[], 0).unwrap(), ints(&[], &[64]));
        assert_eq!(gather(&s, &[-1, 0], &[2], 0).unwrap(), ints(&[2], &[48, 1]));
        assert!(gather(&s, &[4], &[], 0).is_err());
        assert_eq!(slice(&s, &[-2], &[i64::MAX], None, None).unwrap(), ints(&[2], &[64, 48]));
        assert_eq!(slice(&s, &[3], &[0], None, Some(&[-2])).unwrap(), ints(&[2], &[48, 3]));
        let m = ints(&[2, 3], &[0, 1, 2, 3, 4, 5]);
        assert_eq!(slice(&m, &[1], &[3], Some(&[1]), None).unwrap(), ints(&[2, 2], &[1, 2, 4, 5]));
        let joined = concat(&[std::rc::Rc::new(ints(&[1], &[7])), std::rc::Rc::new(s.clone())], 0);
        assert_eq!(joined.unwrap(), ints(&[5], &[7, 1, 3, 64, 48]));
        assert_eq!(unsqueezed(&[], &[0]).unwrap(), [1]);
        assert_eq!(unsqueezed(&[3, 4], &[0, -1]).unwrap(), [1, 3, 4, 1]);
        assert_eq!(squeezed(&[1, 3, 1, 1], Some(&[2, 3])).unwrap(), [1, 3]);
        assert!(squeezed(&[1, 3], Some(&[1])).is_err());
        let half = arithmetic("Div", &gather(&s, &[2, 3], &[2], 0).unwrap(), &ints(&[], &[2]));
        assert_eq!(half.unwrap(), ints(&[2], &[32, 24]));
        let f = Constant { shape: vec![2, 1], values: Values::Float(vec![1.0, 2.0]) };
        let sum = arithmetic(
            "Add",
            &f,
            &Constant { shape: vec![3], values: Values::Float(vec![0.0, 10.0, 20.0]) },
        )
        .unwrap();
        assert_eq!(
            (sum.shape.clone(), sum.floats()),
            (vec![2, 3], vec![1.0, 11.0, 21.0, 2.0, 12.0, 22.0])
        );
        assert!(arithmetic("Div", &s, &ints(&[], &[0])).is_err());
        assert_eq!(
            cast(&Constant { shape: vec![1], values: Values::Float(vec![-2.7]) }, 7).unwrap(),
            ints(&[1], &[-2])
        );
    }

    #[test]
    fn onnx_fold_refuses_large_results() {
        // Gathering one row many times would allocate far more than the file holds.
        let row = ints(&[1, 4], &[1, 2, 3, 4]);
        let many = vec![0i64; 300_000];
        assert!(gather(&row, &many, &[many.len()], 0).unwrap_err().contains("too large"));
        assert!(bounded(&[1 << 20, 2], 4).is_err());
        assert!(bounded(&[1 << 20], 4).is_ok());
    }
}
