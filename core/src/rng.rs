//! The one small seeded random generator of the project: feature visualization, training, the
//! smoke computation, and the deterministic noise and fuzz cases of tests and benchmarks.
//!
//! Core code runs in the browser too, where `rand::thread_rng` and OS entropy are off limits,
//! and renders must be reproducible from a seed: every random choice (initial parameters,
//! transform offsets and angles) comes from this generator, on the host.

/// SplitMix64 (Steele, Lea and Flood 2014): 64 bits of state, good enough statistics for
/// initial noise and augmentation choices, and identical on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent generator for one purpose (`stream`), so that adding draws for one
    /// purpose does not shift the draws of another.
    pub fn fork(&self, stream: u64) -> Self {
        let mut mixer = Self::new(self.state ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03));
        Self::new(mixer.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[-1, 1)`, with 24 random bits (so exactly representable).
    pub fn next_signed_f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    }

    /// `len` values uniform in `[-1, 1)`: deterministic noise for weights and inputs of tests
    /// and benchmarks.
    pub fn signed_noise(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.next_signed_f32()).collect()
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Multiply-shift maps 64 bits to 0..n with negligible bias for the small n used here.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// One of `items`, uniformly (`None` when empty).
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    /// A standard normal sample (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.next_f64()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.next_f64();
        radius * angle.cos()
    }

    /// `len` samples of `N(0, sd²)`.
    pub fn normals(&mut self, len: usize, sd: f32) -> Vec<f32> {
        (0..len).map(|_| (self.normal() * f64::from(sd)) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_roughly_uniform() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(SplitMix64::new(43).next_u64(), xs[0]);

        let mut rng = SplitMix64::new(1);
        let mut counts = [0usize; 5];
        for _ in 0..50_000 {
            counts[rng.below(5)] += 1;
        }
        assert!(counts.iter().all(|&c| (9_000..11_000).contains(&c)), "{counts:?}");

        let samples = rng.normals(50_000, 2.0);
        let mean = samples.iter().sum::<f32>() / samples.len() as f32;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / samples.len() as f32;
        assert!(mean.abs() < 0.05 && (var.sqrt() - 2.0).abs() < 0.05, "{mean} {var}");

        let noise = SplitMix64::new(5).signed_noise(10_000);
        assert!(noise.iter().all(|v| (-1.0..1.0).contains(v)));
        assert!(noise.iter().any(|v| *v < -0.99) && noise.iter().any(|v| *v > 0.99));

        let base = SplitMix64::new(9);
        assert_ne!(base.fork(1).next_u64(), base.fork(2).next_u64());
        assert_eq!(base.fork(1), base.fork(1));
    }
}
