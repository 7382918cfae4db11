//! [`Extremes`]: the `k` largest and the `k` smallest values seen, each with what it belongs
//! to, in bounded memory. Ties keep the earlier item, so the result is a function of the
//! order items arrive in, which the builder fixes (corpus order).

/// The `k` largest and `k` smallest `(value, item)` pairs of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Extremes<T> {
    k: usize,
    /// Largest first.
    top: Vec<(f32, T)>,
    /// Smallest first.
    bottom: Vec<(f32, T)>,
}

impl<T: Clone> Extremes<T> {
    /// Keeps `k` of each.
    pub fn new(k: usize) -> Self {
        Self { k, top: Vec::with_capacity(k), bottom: Vec::with_capacity(k) }
    }

    /// Offers one value (non-finite values are ignored).
    pub fn offer(&mut self, value: f32, item: impl FnOnce() -> T) {
        if !value.is_finite() || self.k == 0 {
            return;
        }
        let wants_top = self.top.len() < self.k || self.top.last().is_some_and(|(v, _)| value > *v);
        let wants_bottom =
            self.bottom.len() < self.k || self.bottom.last().is_some_and(|(v, _)| value < *v);
        if !wants_top && !wants_bottom {
            return;
        }
        let item = item();
        if wants_top {
            // After every equal value: earlier items win ties.
            let at = self.top.partition_point(|(v, _)| *v >= value);
            self.top.insert(at, (value, item.clone()));
            self.top.truncate(self.k);
        }
        if wants_bottom {
            let at = self.bottom.partition_point(|(v, _)| *v <= value);
            self.bottom.insert(at, (value, item));
            self.bottom.truncate(self.k);
        }
    }

    /// The largest values, largest first.
    pub fn top(&self) -> &[(f32, T)] {
        &self.top
    }

    /// The smallest values, smallest first.
    pub fn bottom(&self) -> &[(f32, T)] {
        &self.bottom
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_largest_and_smallest_in_order() {
        let values = [3.0, -1.0, 7.0, 7.0, 0.5, f32::NAN, -4.0, 2.0, 9.0];
        let mut extremes = Extremes::new(3);
        for (i, v) in values.iter().enumerate() {
            extremes.offer(*v, || i);
        }
        let top: Vec<(f32, usize)> = extremes.top().to_vec();
        assert_eq!(top, vec![(9.0, 8), (7.0, 2), (7.0, 3)], "ties keep the earlier item first");
        let bottom: Vec<(f32, usize)> = extremes.bottom().to_vec();
        assert_eq!(bottom, vec![(-4.0, 6), (-1.0, 1), (0.5, 4)]);
    }

    #[test]
    fn matches_a_full_sort_on_a_long_stream() {
        let values: Vec<f32> = (0..500u32).map(|i| ((i * 7919) % 1009) as f32 - 500.0).collect();
        let mut extremes = Extremes::new(10);
        for (i, v) in values.iter().enumerate() {
            extremes.offer(*v, || i);
        }
        let mut sorted = values.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let top: Vec<f32> = extremes.top().iter().map(|(v, _)| *v).collect();
        assert_eq!(top, sorted[..10].to_vec());
        let bottom: Vec<f32> = extremes.bottom().iter().map(|(v, _)| *v).collect();
        let mut lowest: Vec<f32> = sorted[sorted.len() - 10..].to_vec();
        lowest.reverse();
        assert_eq!(bottom, lowest);
    }
}
