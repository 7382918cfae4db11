//! One crop's activations of one unit reduced to what dataset examples need: the largest
//! and smallest value with their positions, and the mean.

/// The extremes and mean of one unit over the positions of one crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpatialSummary {
    /// Largest value.
    pub max: f32,
    /// Its position `(y, x)` (the first, row by row, on ties).
    pub argmax: [usize; 2],
    /// Smallest value.
    pub min: f32,
    /// Its position.
    pub argmin: [usize; 2],
    /// Mean over positions.
    pub mean: f32,
}

/// Summarises one unit's `H x W` plane (row-major, `width` values a row); `None` when empty.
pub fn summarise(plane: &[f32], width: usize) -> Option<SpatialSummary> {
    let first = *plane.first()?;
    let width = width.max(1);
    let (mut max, mut max_at, mut min, mut min_at, mut sum) = (first, 0, first, 0, 0.0f64);
    for (i, &v) in plane.iter().enumerate() {
        if v > max {
            max = v;
            max_at = i;
        }
        if v < min {
            min = v;
            min_at = i;
        }
        sum += f64::from(v);
    }
    Some(SpatialSummary {
        max,
        argmax: [max_at / width, max_at % width],
        min,
        argmin: [min_at / width, min_at % width],
        mean: (sum / plane.len() as f64) as f32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_extremes_their_positions_and_the_mean() {
        let plane = [1.0, 5.0, -2.0, 5.0, 0.0, 3.0];
        let s = summarise(&plane, 3).unwrap();
        assert_eq!((s.max, s.argmax, s.min, s.argmin), (5.0, [0, 1], -2.0, [0, 2]));
        assert!((s.mean - 2.0).abs() < 1e-6);
        assert_eq!(summarise(&[], 3), None);
    }
}
