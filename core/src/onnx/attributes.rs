//! Typed access to a node's attributes, with ONNX defaults and clear errors for missing or
//! mistyped ones.

use super::OnnxError;
use super::proto::{AttributeProto, NodeProto, TensorProto, attribute_type as ty};

/// A node's attributes, for reading by name.
pub(crate) struct Attributes<'a> {
    node: &'a NodeProto,
    /// The node's display name, for errors.
    name: &'a str,
}

impl<'a> Attributes<'a> {
    /// The attributes of `node`, called `name` in errors.
    pub fn new(node: &'a NodeProto, name: &'a str) -> Self {
        Self { node, name }
    }

    /// An [`OnnxError::InvalidNode`] about this node.
    pub fn invalid(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::InvalidNode {
            node: self.name.to_owned(),
            op_type: self.node.op_type.clone(),
            reason: reason.into(),
        }
    }

    /// An [`OnnxError::Unsupported`] about this node.
    pub fn unsupported(&self, reason: impl Into<String>) -> OnnxError {
        OnnxError::Unsupported {
            node: self.name.to_owned(),
            op_type: self.node.op_type.clone(),
            reason: reason.into(),
        }
    }

    /// The attribute `key`, checked to be of type `want` (or untyped).
    fn get(&self, key: &str, want: i32) -> Result<Option<&'a AttributeProto>, OnnxError> {
        match self.node.attribute.iter().find(|a| a.name == key) {
            Some(a) if a.r#type == want || a.r#type == ty::UNDEFINED => Ok(Some(a)),
            Some(a) => {
                Err(self
                    .invalid(format!("attribute `{key}` has type {} instead of {want}", a.r#type)))
            }
            None => Ok(None),
        }
    }

    /// Whether the attribute `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.node.attribute.iter().any(|a| a.name == key)
    }

    /// The integer `key`, if present.
    pub fn int(&self, key: &str) -> Result<Option<i64>, OnnxError> {
        Ok(self.get(key, ty::INT)?.map(|a| a.i))
    }

    /// The integer `key`, or `default`.
    pub fn int_or(&self, key: &str, default: i64) -> Result<i64, OnnxError> {
        Ok(self.int(key)?.unwrap_or(default))
    }

    /// The float `key`, if present.
    pub fn float(&self, key: &str) -> Result<Option<f32>, OnnxError> {
        Ok(self.get(key, ty::FLOAT)?.map(|a| a.f))
    }

    /// The integers `key`, if present.
    pub fn ints(&self, key: &str) -> Result<Option<&'a [i64]>, OnnxError> {
        Ok(self.get(key, ty::INTS)?.map(|a| a.ints.as_slice()))
    }

    /// The floats `key`, if present.
    pub fn floats(&self, key: &str) -> Result<Option<&'a [f32]>, OnnxError> {
        Ok(self.get(key, ty::FLOATS)?.map(|a| a.floats.as_slice()))
    }

    /// The string `key`, if present.
    pub fn string(&self, key: &str) -> Result<Option<String>, OnnxError> {
        match self.get(key, ty::STRING)? {
            Some(a) => String::from_utf8(a.s.clone())
                .map(Some)
                .map_err(|_| self.invalid(format!("attribute `{key}` is not UTF-8"))),
            None => Ok(None),
        }
    }

    /// The string `key`, or `default`.
    pub fn string_or(&self, key: &str, default: &str) -> Result<String, OnnxError> {
        Ok(self.string(key)?.unwrap_or_else(|| default.to_owned()))
    }

    /// The tensor `key`, if present.
    pub fn tensor(&self, key: &str) -> Result<Option<&'a TensorProto>, OnnxError> {
        Ok(self.get(key, ty::TENSOR)?.and_then(|a| a.t.as_ref()))
    }

    /// The non-negative integers `key` as sizes, or `default`, checking there are `len` of
    /// them (when `len` is given).
    pub fn sizes(
        &self,
        key: &str,
        len: Option<usize>,
        default: &[usize],
    ) -> Result<Vec<usize>, OnnxError> {
        let Some(values) = self.ints(key)? else { return Ok(default.to_vec()) };
        if len.is_some_and(|n| n != values.len()) {
            return Err(self.invalid(format!(
                "attribute `{key}` has {} values, expected {len:?}",
                values.len()
            )));
        }
        values
            .iter()
            .map(|&v| {
                usize::try_from(v)
                    .map_err(|_| self.unsupported(format!("negative `{key}` {values:?}")))
            })
            .collect()
    }
}
