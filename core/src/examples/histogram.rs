//! [`GrowingHistogram`]: a histogram of a stream whose range is not known in advance, in a
//! fixed number of equal bins. When a value falls outside, the range doubles (towards the
//! value) and neighbouring bins merge pairwise, so counts stay exact per bin and memory
//! stays fixed. The result depends only on the values and their order.

/// A fixed number of equal bins over a range that doubles to fit the values.
#[derive(Debug, Clone, PartialEq)]
pub struct GrowingHistogram {
    /// Lower edge of bin 0.
    low: f64,
    /// Width of one bin (0 until the first value).
    width: f64,
    counts: Vec<u64>,
}

/// The smallest bin width: a constant stream still gets a non-empty range.
const MIN_WIDTH: f64 = 1e-6;

impl GrowingHistogram {
    /// A histogram of `bins` bins (at least 2; rounded up to an even number).
    pub fn new(bins: usize) -> Self {
        let bins = bins.max(2).next_multiple_of(2);
        Self { low: 0.0, width: 0.0, counts: vec![0; bins] }
    }

    /// Counts one value (non-finite values are ignored).
    pub fn add(&mut self, value: f32) {
        if !value.is_finite() {
            return;
        }
        let value = f64::from(value);
        let bins = self.counts.len();
        if self.width == 0.0 {
            // The first value sits in the middle of a small range around it.
            self.width = (value.abs() * 0.1).max(MIN_WIDTH * bins as f64) / bins as f64;
            self.low = value - self.width * (bins / 2) as f64;
        }
        while value < self.low {
            self.grow(false);
        }
        while value >= self.low + self.width * bins as f64 {
            self.grow(true);
        }
        let index = (((value - self.low) / self.width) as usize).min(bins - 1);
        if let Some(count) = self.counts.get_mut(index) {
            *count += 1;
        }
    }

    /// Doubles the range upwards (`up`) or downwards, merging bins pairwise.
    fn grow(&mut self, up: bool) {
        let bins = self.counts.len();
        let half = bins / 2;
        let merged: Vec<u64> = self.counts.chunks(2).map(|pair| pair.iter().sum()).collect();
        let mut counts = vec![0; bins];
        let offset = if up { 0 } else { half };
        counts[offset..offset + half].copy_from_slice(&merged);
        if !up {
            self.low -= self.width * bins as f64;
        }
        self.width *= 2.0;
        self.counts = counts;
    }

    /// Number of values counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `(min, max, counts)` with empty bins at both ends trimmed (at least one bin kept);
    /// `None` before the first value.
    pub fn finish(&self) -> Option<(f32, f32, Vec<u64>)> {
        let first = self.counts.iter().position(|&c| c > 0)?;
        let last = self.counts.iter().rposition(|&c| c > 0)?;
        let min = self.low + self.width * first as f64;
        let max = self.low + self.width * (last + 1) as f64;
        Some((min as f32, max as f32, self.counts[first..=last].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_the_bin_that_covers_it() {
        let values: Vec<f32> =
            (0..1000u32).map(|i| ((i * 7919) % 2003) as f32 / 37.0 - 20.0).collect();
        let mut histogram = GrowingHistogram::new(16);
        for v in &values {
            histogram.add(*v);
        }
        histogram.add(f32::NAN);
        let (min, max, counts) = histogram.finish().unwrap();
        assert_eq!(counts.iter().sum::<u64>(), values.len() as u64);
        let width = f64::from(max - min) / counts.len() as f64;
        for (bin, count) in counts.iter().enumerate() {
            let lo = f64::from(min) + width * bin as f64;
            let expected = values
                .iter()
                .filter(|v| f64::from(**v) >= lo - 1e-4 && f64::from(**v) < lo + width - 1e-4)
                .count() as u64;
            assert_eq!(*count, expected, "bin {bin} [{lo}, {})", lo + width);
        }
        let smallest = values.iter().copied().fold(f32::INFINITY, f32::min);
        let largest = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert!(min <= smallest && max > largest, "{min}..{max} covers {smallest}..{largest}");
        assert!(counts.len() <= 16 && counts[0] > 0 && counts[counts.len() - 1] > 0);
    }

    #[test]
    fn a_constant_stream_has_one_bin_and_an_empty_one_none() {
        assert_eq!(GrowingHistogram::new(8).finish(), None);
        let mut histogram = GrowingHistogram::new(8);
        for _ in 0..5 {
            histogram.add(0.0);
        }
        let (min, max, counts) = histogram.finish().unwrap();
        assert_eq!(counts, vec![5]);
        assert!(min <= 0.0 && max > 0.0);
    }
}
