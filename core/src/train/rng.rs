//! Seeded randomness for training, on feature visualization's SplitMix64 (the same numbers on
//! every machine): normal samples for weight initialisation, and the data order (a fresh shuffle per epoch, derived
//! from the seed and the epoch alone, so a resumed run sees the same batches).

pub use crate::rng::SplitMix64;

/// A uniform index below `n` by modulo (0 when `n` is 0): the data order of every training
/// run is defined by these exact numbers, so this stays as it is even though
/// [`SplitMix64::below`] maps bits to indices differently.
pub fn index_below(rng: &mut SplitMix64, n: usize) -> usize {
    if n == 0 { 0 } else { (rng.next_u64() % n as u64) as usize }
}

/// A standard normal sample as `f32` (weight initialisation).
pub fn normal_f32(rng: &mut SplitMix64) -> f32 {
    rng.normal() as f32
}

/// Which training items each step sees: the items of epoch `e` in the order of a
/// Fisher–Yates shuffle seeded by `(seed, e)`, batches taken consecutively across epochs.
#[derive(Debug, Clone)]
pub struct BatchOrder {
    seed: u64,
    items: usize,
    epoch: Option<(usize, Vec<usize>)>,
}

impl BatchOrder {
    /// The order of `items` training items for `seed`.
    pub fn new(seed: u64, items: usize) -> Self {
        Self { seed, items, epoch: None }
    }

    /// The item indices of batch `step` (0-based) of `batch` items (empty when there are no
    /// items).
    pub fn batch(&mut self, step: usize, batch: usize) -> Vec<usize> {
        if self.items == 0 {
            return Vec::new();
        }
        (0..batch)
            .map(|k| {
                let position = step.saturating_mul(batch).saturating_add(k);
                let (epoch, offset) = (position / self.items, position % self.items);
                self.permutation(epoch).get(offset).copied().unwrap_or(0)
            })
            .collect()
    }

    fn permutation(&mut self, epoch: usize) -> &[usize] {
        if self.epoch.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut rng =
                SplitMix64::new(self.seed ^ (epoch as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
            let mut order: Vec<usize> = (0..self.items).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, index_below(&mut rng, i + 1));
            }
            self.epoch = Some((epoch, order));
        }
        self.epoch.as_ref().map(|(_, order)| order.as_slice()).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_samples_have_unit_variance() {
        let mut rng = SplitMix64::new(3);
        let xs: Vec<f32> = (0..20_000).map(|_| normal_f32(&mut rng)).collect();
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{mean} {var}");
    }

    #[test]
    fn each_epoch_is_a_permutation_and_seeds_differ() {
        let mut order = BatchOrder::new(1, 10);
        let epoch: Vec<usize> = (0..5).flat_map(|s| order.batch(s, 2)).collect();
        let mut sorted = epoch.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let next: Vec<usize> = (5..10).flat_map(|s| order.batch(s, 2)).collect();
        assert_ne!(epoch, next, "every epoch is shuffled afresh");
        assert_eq!(BatchOrder::new(1, 10).batch(7, 3), order.batch(7, 3));
        assert_ne!(BatchOrder::new(2, 10).batch(0, 10), BatchOrder::new(1, 10).batch(0, 10));
        assert!(BatchOrder::new(1, 0).batch(0, 4).is_empty());
    }
}
