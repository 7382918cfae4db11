//! Plain-Rust tensors as read from checkpoints: [`NamedTensor`] (a shape and row-major `f32`
//! values) and [`TensorMap`], an insertion-ordered map from parameter names to tensors.

use std::collections::HashMap;

use super::WeightsError;

/// The most axes of a tensor read from any file (checkpoint or ONNX constant). Vision
/// weights need at most 5; shapes are refused above this before anything proportional to
/// their length is copied.
pub const MAX_TENSOR_RANK: usize = 8;

/// A dense tensor: a shape and its values in row-major (C) order, as `f32`.
///
/// The product of the shape always equals the number of values (a scalar has shape `[]` and one
/// value); the constructor checks it and the fields are private so it stays true.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl NamedTensor {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// Fails with [`WeightsError::ShapeMismatch`] when the product of `shape` is not
    /// `data.len()` (or overflows).
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, WeightsError> {
        let expected = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
        match expected {
            Some(n) if n == data.len() as u64 => Ok(Self { shape, data }),
            _ => Err(WeightsError::ShapeMismatch {
                expected: expected.unwrap_or(u64::MAX),
                actual: data.len(),
                shape,
            }),
        }
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values in row-major order, mutably (the shape cannot change).
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Number of values (the product of the shape).
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The shape and the values.
    pub fn into_parts(self) -> (Vec<usize>, Vec<f32>) {
        (self.shape, self.data)
    }
}

/// Tensors by name, in the order they were inserted (the checkpoint's order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TensorMap {
    entries: Vec<(String, NamedTensor)>,
    index: HashMap<String, usize>,
}

impl TensorMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds `tensor` under `name`. A name already present keeps its position and gets the new
    /// tensor; the old one is returned.
    pub fn insert(&mut self, name: impl Into<String>, tensor: NamedTensor) -> Option<NamedTensor> {
        let name = name.into();
        if let Some(slot) = self.index.get(&name).and_then(|&i| self.entries.get_mut(i)) {
            return Some(std::mem::replace(&mut slot.1, tensor));
        }
        self.index.insert(name.clone(), self.entries.len());
        self.entries.push((name, tensor));
        None
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&NamedTensor> {
        let &i = self.index.get(name)?;
        self.entries.get(i).map(|(_, t)| t)
    }

    /// The tensor named `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut NamedTensor> {
        let &i = self.index.get(name)?;
        self.entries.get_mut(i).map(|(_, t)| t)
    }

    /// Whether a tensor is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Removes and returns the tensor named `name`; the others keep their order.
    pub fn remove(&mut self, name: &str) -> Option<NamedTensor> {
        let i = self.index.remove(name)?;
        if i >= self.entries.len() {
            return None;
        }
        let (_, tensor) = self.entries.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(tensor)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The `(name, tensor)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &NamedTensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }
}

impl IntoIterator for TensorMap {
    type Item = (String, NamedTensor);
    type IntoIter = std::vec::IntoIter<(String, NamedTensor)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(String, NamedTensor)> for TensorMap {
    /// Collects pairs in order; a repeated name keeps its first position and its last tensor.
    fn from_iter<I: IntoIterator<Item = (String, NamedTensor)>>(iter: I) -> Self {
        let mut map = Self::new();
        for (name, tensor) in iter {
            map.insert(name, tensor);
        }
        map
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> NamedTensor {
        NamedTensor::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    #[test]
    fn weights_tensor_shape_is_checked() {
        assert!(NamedTensor::new(vec![2, 3], vec![0.0; 6]).is_ok());
        assert!(NamedTensor::new(vec![], vec![1.0]).is_ok());
        assert!(NamedTensor::new(vec![0, 5], vec![]).is_ok());
        assert!(matches!(
            NamedTensor::new(vec![2, 3], vec![0.0; 5]),
            Err(WeightsError::ShapeMismatch { expected: 6, actual: 5, .. })
        ));
        assert!(NamedTensor::new(vec![usize::MAX, usize::MAX, 2], vec![]).is_err());
    }

    #[test]
    fn weights_tensor_map_keeps_order() {
        let mut m = TensorMap::new();
        assert!(m.insert("b", t(&[1], &[1.0])).is_none());
        assert!(m.insert("a", t(&[1], &[2.0])).is_none());
        assert!(m.insert("c", t(&[1], &[3.0])).is_none());
        let old = m.insert("a", t(&[2], &[4.0, 5.0]));
        assert_eq!(old, Some(t(&[1], &[2.0])));
        assert_eq!(m.names().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(m.get("a").unwrap().data(), &[4.0, 5.0]);
        assert_eq!(m.remove("b"), Some(t(&[1], &[1.0])));
        assert_eq!(m.names().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(m.get("c").unwrap().data(), &[3.0]);
        assert!(m.get("b").is_none());
        assert_eq!(m.len(), 2);
    }
}
