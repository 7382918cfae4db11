//! Constant tensors of an ONNX file (initializers, `Constant` nodes): decoded from any of
//! the `TensorProto` storage fields, with sizes checked against the data actually present.

use super::OnnxError;
use super::proto::{TensorProto, data_type};
use crate::graph::{HostTensor, MAX_ELEMENTS};
use crate::weights::MAX_TENSOR_RANK;

/// A constant: its shape and values, as floats or as integers (shapes, axes, pads).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Constant {
    pub shape: Vec<usize>,
    pub values: Values,
}

/// The values of a [`Constant`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    Float(Vec<f32>),
    Int(Vec<i64>),
}

impl Constant {
    /// The number of values.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
        }
    }

    /// The values as floats.
    pub fn floats(&self) -> Vec<f32> {
        match &self.values {
            Values::Float(v) => v.clone(),
            Values::Int(v) => v.iter().map(|&i| i as f32).collect(),
        }
    }

    /// The values as integers, if they are integers.
    pub fn ints(&self) -> Option<&[i64]> {
        match &self.values {
            Values::Int(v) => Some(v),
            Values::Float(_) => None,
        }
    }

    /// As a host tensor of floats.
    pub fn to_host(&self) -> HostTensor {
        HostTensor::new(self.shape.clone(), self.floats())
            .unwrap_or_else(|_| HostTensor::vector(self.floats()))
    }
}

/// Decodes `t` (named `name` in errors).
pub(crate) fn decode(t: &TensorProto, name: &str) -> Result<Constant, OnnxError> {
    let fail = |reason: String| OnnxError::InvalidTensor { name: name.to_owned(), reason };
    if t.data_location == 1 {
        return Err(fail(
            "its data is in an external file, which import from bytes cannot read".into(),
        ));
    }
    if t.dims.len() > MAX_TENSOR_RANK {
        return Err(fail(format!(
            "`dims` has {} axes, more than the limit of {MAX_TENSOR_RANK}",
            t.dims.len()
        )));
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d =
            usize::try_from(d).map_err(|_| fail(format!("negative dimension in {:?}", t.dims)))?;
        // Even an empty tensor (another axis is 0) may not declare a huge axis: operators
        // size outputs and biases from single axes.
        if d > MAX_ELEMENTS {
            return Err(fail(format!(
                "`dims` {:?} has an axis larger than the limit of {MAX_ELEMENTS} elements",
                t.dims
            )));
        }
        shape.push(d);
    }
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            fail(format!(
                "shape {:?} is too large (more than the limit of {MAX_ELEMENTS} elements)",
                t.dims
            ))
        })?;
    let raw = &t.raw_data;
    // Checks the number of values present (typed field or raw bytes of `width`) before
    // anything proportional to the declared shape is allocated.
    let check = |present: usize| {
        if present == count {
            Ok(())
        } else {
            Err(fail(format!(
                "shape {:?} needs {count} values but the data holds {present}",
                t.dims
            )))
        }
    };
    let from_raw = |width: usize| -> Result<Option<std::slice::ChunksExact<'_, u8>>, OnnxError> {
        if raw.is_empty() {
            return Ok(None);
        }
        if !raw.len().is_multiple_of(width) {
            return Err(fail(format!(
                "{} raw bytes are not a whole number of {width}-byte values",
                raw.len()
            )));
        }
        check(raw.len() / width)?;
        Ok(Some(raw.chunks_exact(width)))
    };
    let values = match t.data_type {
        data_type::FLOAT => match from_raw(4)? {
            Some(chunks) => Values::Float(chunks.map(|c| f32::from_le_bytes(le(c))).collect()),
            None => {
                check(t.float_data.len())?;
                Values::Float(t.float_data.clone())
            }
        },
        data_type::DOUBLE => match from_raw(8)? {
            Some(chunks) => {
                Values::Float(chunks.map(|c| f64::from_le_bytes(le(c)) as f32).collect())
            }
            None => {
                check(t.double_data.len())?;
                Values::Float(t.double_data.iter().map(|&v| v as f32).collect())
            }
        },
        data_type::FLOAT16 => match from_raw(2)? {
            Some(chunks) => {
                Values::Float(chunks.map(|c| f16_to_f32(u16::from_le_bytes(le(c)))).collect())
            }
            None => {
                check(t.int32_data.len())?;
                Values::Float(t.int32_data.iter().map(|&v| f16_to_f32(v as u16)).collect())
            }
        },
        data_type::INT64 => match from_raw(8)? {
            Some(chunks) => Values::Int(chunks.map(|c| i64::from_le_bytes(le(c))).collect()),
            None => {
                check(t.int64_data.len())?;
                Values::Int(t.int64_data.clone())
            }
        },
        data_type::INT32 => match from_raw(4)? {
            Some(chunks) => {
                Values::Int(chunks.map(|c| i64::from(i32::from_le_bytes(le(c)))).collect())
            }
            None => {
                check(t.int32_data.len())?;
                Values::Int(t.int32_data.iter().map(|&v| i64::from(v)).collect())
            }
        },
        data_type::INT8 | data_type::UINT8 | data_type::BOOL => match from_raw(1)? {
            Some(chunks) => Values::Int(
                chunks
                    .map(|c| {
                        let [b] = le::<1>(c);
                        if t.data_type == data_type::INT8 {
                            i64::from(b as i8)
                        } else {
                            i64::from(b)
                        }
                    })
                    .collect(),
            ),
            None => {
                check(t.int32_data.len())?;
                Values::Int(t.int32_data.iter().map(|&v| i64::from(v)).collect())
            }
        },
        other => return Err(fail(format!("element type {other} is not supported"))),
    };
    Ok(Constant { shape, values })
}

/// The first `N` bytes of `c` (which `chunks_exact(N)` guarantees).
fn le<const N: usize>(c: &[u8]) -> [u8; N] {
    let mut b = [0u8; N];
    for (d, s) in b.iter_mut().zip(c) {
        *d = *s;
    }
    b
}

/// An IEEE half-precision value as `f32`.
pub(crate) fn f16_to_f32(bits: u16) -> f32 {
    let sign = if bits & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f32::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f32.powi(-24),
        31 if mantissa == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        e => sign * (1.0 + mantissa / 1024.0) * 2f32.powi(e - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(dims: &[i64], data_type: i32) -> TensorProto {
        TensorProto { dims: dims.to_vec(), data_type, ..Default::default() }
    }

    #[test]
    fn onnx_tensor_decodes_every_storage() {
        let mut t = proto(&[2], data_type::FLOAT);
        t.float_data = vec![1.5, -2.0];
        assert_eq!(decode(&t, "a").unwrap().floats(), [1.5, -2.0]);
        let mut t = proto(&[2], data_type::FLOAT);
        t.raw_data = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(&t, "a").unwrap().floats(), [1.5, -2.0]);
        let mut t = proto(&[3], data_type::INT64);
        t.raw_data = [7i64, -1, 0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(&t, "a").unwrap().ints(), Some(&[7i64, -1, 0][..]));
        let mut t = proto(&[], data_type::DOUBLE);
        t.double_data = vec![0.25];
        let c = decode(&t, "a").unwrap();
        assert_eq!((c.shape.as_slice(), c.floats()), (&[] as &[usize], vec![0.25]));
        let mut t = proto(&[3], data_type::FLOAT16);
        t.raw_data = [0x3c00u16, 0xc000, 0x3555].iter().flat_map(|v| v.to_le_bytes()).collect();
        let v = decode(&t, "a").unwrap().floats();
        assert_eq!(&v[..2], [1.0, -2.0]);
        assert!((v[2] - 1.0 / 3.0).abs() < 1e-3);
    }

    #[test]
    fn onnx_tensor_rejects_bad_sizes() {
        // Declares a huge shape with no data: an error, not an allocation.
        let t = proto(&[1 << 10, 1 << 10], data_type::FLOAT);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("needs"));
        let t = proto(&[1 << 40, 1 << 20], data_type::FLOAT);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("limit"));
        let t = proto(&[i64::MAX, i64::MAX], data_type::FLOAT);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("limit"));
        let t = proto(&[-1], data_type::FLOAT);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("negative"));
        let mut t = proto(&[2, 2], data_type::FLOAT);
        t.raw_data = vec![0; 15];
        assert!(matches!(decode(&t, "w"), Err(OnnxError::InvalidTensor { .. })));
        t.raw_data = vec![0; 12];
        assert!(decode(&t, "w").unwrap_err().to_string().contains("needs 4 values"));
        let t = proto(&[1], 8);
        assert!(decode(&t, "w").unwrap_err().to_string().contains("not supported"));
        let mut t = proto(&[1], data_type::FLOAT);
        t.data_location = 1;
        assert!(decode(&t, "w").unwrap_err().to_string().contains("external"));
    }
}
