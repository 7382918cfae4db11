//! Host tensors: the plain-data weights a [`Graph`](super::Graph) description holds, before
//! [`Graph::to_device`](super::Graph::to_device) uploads them.

use super::GraphError;

/// A dense `f32` tensor in host memory: a shape and its values in row-major (C) order.
///
/// The product of the shape always equals the number of values (a scalar has shape `[]` and
/// one value); the constructor checks it and the fields are private so it stays true.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl HostTensor {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// Fails with [`GraphError::DataLength`] when the product of `shape` is not `data.len()`.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, GraphError> {
        match checked_product(&shape) {
            Some(n) if n == data.len() => Ok(Self { shape, data }),
            expected => Err(GraphError::DataLength {
                expected: expected.unwrap_or(usize::MAX),
                actual: data.len(),
                shape,
            }),
        }
    }

    /// A scalar (shape `[]`).
    pub fn scalar(value: f32) -> Self {
        Self { shape: Vec::new(), data: vec![value] }
    }

    /// A 1-d tensor holding `data`.
    pub fn vector(data: Vec<f32>) -> Self {
        Self { shape: vec![data.len()], data }
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The number of values (the product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no value (some axis is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The shape and the values.
    pub fn into_parts(self) -> (Vec<usize>, Vec<f32>) {
        (self.shape, self.data)
    }
}

/// The product of `dims`, or `None` when it overflows `usize`.
pub(crate) fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_host_tensor_checks_its_length() {
        let t = HostTensor::new(vec![2, 3], vec![0.0; 6]).unwrap();
        assert_eq!((t.shape(), t.len(), t.rank()), (&[2usize, 3][..], 6, 2));
        assert_eq!(HostTensor::scalar(2.0).shape(), &[] as &[usize]);
        assert!(matches!(
            HostTensor::new(vec![2, 3], vec![0.0; 5]),
            Err(GraphError::DataLength { expected: 6, actual: 5, .. })
        ));
        assert!(matches!(
            HostTensor::new(vec![usize::MAX, 3], vec![]),
            Err(GraphError::DataLength { expected: usize::MAX, .. })
        ));
    }
}
