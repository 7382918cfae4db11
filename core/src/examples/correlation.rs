//! [`Correlation`]: the Pearson correlation of every unit with every class over a stream of
//! samples (photo crops), in memory of `units x classes`, independent of the stream's
//! length. The builder uses it for a unit's top classes: the classes whose logits rise and
//! fall with the unit's mean activation over the corpus.
//!
//! Sums are kept around a shift (each series' first value), which keeps single precision
//! accurate when values sit far from zero.

/// Running sums for the correlation of `units` series with `classes` series.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    units: usize,
    classes: usize,
    samples: u64,
    shift_unit: Vec<f32>,
    shift_class: Vec<f32>,
    sum_unit: Vec<f64>,
    sum_unit_sq: Vec<f64>,
    sum_class: Vec<f64>,
    sum_class_sq: Vec<f64>,
    /// `units x classes`, row-major.
    cross: Vec<f32>,
}

impl Correlation {
    /// Empty sums for `units` and `classes`.
    pub fn new(units: usize, classes: usize) -> Self {
        Self {
            units,
            classes,
            samples: 0,
            shift_unit: Vec::new(),
            shift_class: Vec::new(),
            sum_unit: vec![0.0; units],
            sum_unit_sq: vec![0.0; units],
            sum_class: vec![0.0; classes],
            sum_class_sq: vec![0.0; classes],
            cross: vec![0.0; units * classes],
        }
    }

    /// Adds a batch of samples.
    ///
    /// # Shapes
    /// - `unit_values`: `[batch, units]` row-major
    /// - `class_values`: `[batch, classes]` row-major
    pub fn add_batch(&mut self, unit_values: &[f32], class_values: &[f32]) {
        let batch =
            (unit_values.len() / self.units.max(1)).min(class_values.len() / self.classes.max(1));
        if batch == 0 {
            return;
        }
        if self.samples == 0 {
            self.shift_unit = unit_values[..self.units].to_vec();
            self.shift_class = class_values[..self.classes].to_vec();
        }
        let mut a = vec![0.0f32; batch * self.units];
        let mut l = vec![0.0f32; batch * self.classes];
        for b in 0..batch {
            for u in 0..self.units {
                let v = unit_values[b * self.units + u] - self.shift_unit[u];
                a[b * self.units + u] = v;
                self.sum_unit[u] += f64::from(v);
                self.sum_unit_sq[u] += f64::from(v) * f64::from(v);
            }
            for c in 0..self.classes {
                let v = class_values[b * self.classes + c] - self.shift_class[c];
                l[b * self.classes + c] = v;
                self.sum_class[c] += f64::from(v);
                self.sum_class_sq[c] += f64::from(v) * f64::from(v);
            }
        }
        for u in 0..self.units {
            let row = &mut self.cross[u * self.classes..(u + 1) * self.classes];
            for b in 0..batch {
                let av = a[b * self.units + u];
                if av == 0.0 {
                    continue;
                }
                let classes = &l[b * self.classes..(b + 1) * self.classes];
                for (slot, lv) in row.iter_mut().zip(classes) {
                    *slot += av * lv;
                }
            }
        }
        self.samples += batch as u64;
    }

    /// Samples seen.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The correlation of `unit` with each class (0 where either series is constant).
    pub fn row(&self, unit: usize) -> Vec<f32> {
        let n = self.samples as f64;
        if unit >= self.units || n < 2.0 {
            return vec![0.0; self.classes];
        }
        let mean_a = self.sum_unit[unit] / n;
        let var_a = self.sum_unit_sq[unit] / n - mean_a * mean_a;
        (0..self.classes)
            .map(|c| {
                let mean_l = self.sum_class[c] / n;
                let var_l = self.sum_class_sq[c] / n - mean_l * mean_l;
                let cov = f64::from(self.cross[unit * self.classes + c]) / n - mean_a * mean_l;
                let denominator = (var_a * var_l).sqrt();
                if denominator > 1e-12 { (cov / denominator).clamp(-1.0, 1.0) as f32 } else { 0.0 }
            })
            .collect()
    }

    /// The `k` classes most positively correlated with `unit`, strongest first (ties: lower
    /// class first), leaving out non-positive correlations.
    pub fn top(&self, unit: usize, k: usize) -> Vec<(u32, f32)> {
        let mut scored: Vec<(u32, f32)> = self
            .row(unit)
            .into_iter()
            .enumerate()
            .filter(|(_, r)| *r > 0.0)
            .map(|(c, r)| (c as u32, r))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(k);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_formula_across_batches() {
        // Unit 0 follows class 1, unit 1 is its negative plus an offset, class 0 is noise.
        let samples: Vec<([f32; 2], [f32; 2])> = (0..40u32)
            .map(|i| {
                let x = ((i * 37) % 11) as f32 + 100.0;
                let noise = ((i * 7919) % 13) as f32;
                ([x, 5.0 - x], [noise, 2.0 * x + 1.0])
            })
            .collect();
        let mut correlation = Correlation::new(2, 2);
        for chunk in samples.chunks(7) {
            let a: Vec<f32> = chunk.iter().flat_map(|s| s.0).collect();
            let l: Vec<f32> = chunk.iter().flat_map(|s| s.1).collect();
            correlation.add_batch(&a, &l);
        }
        assert_eq!(correlation.samples(), 40);
        let pearson = |xs: &[f32], ys: &[f32]| {
            let n = xs.len() as f64;
            let mx = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
            let my = ys.iter().map(|&y| f64::from(y)).sum::<f64>() / n;
            let cov: f64 =
                xs.iter().zip(ys).map(|(&x, &y)| (f64::from(x) - mx) * (f64::from(y) - my)).sum();
            let vx: f64 = xs.iter().map(|&x| (f64::from(x) - mx).powi(2)).sum();
            let vy: f64 = ys.iter().map(|&y| (f64::from(y) - my).powi(2)).sum();
            (cov / (vx * vy).sqrt()) as f32
        };
        for unit in 0..2 {
            let xs: Vec<f32> = samples.iter().map(|s| s.0[unit]).collect();
            for class in 0..2 {
                let ys: Vec<f32> = samples.iter().map(|s| s.1[class]).collect();
                let want = pearson(&xs, &ys);
                let got = correlation.row(unit)[class];
                assert!((got - want).abs() < 1e-4, "unit {unit} class {class}: {got} vs {want}");
            }
        }
        assert_eq!(correlation.top(0, 5)[0].0, 1);
        assert!((correlation.top(0, 5)[0].1 - 1.0).abs() < 1e-4);
        assert!(correlation.top(1, 5).iter().all(|(c, _)| *c != 1), "negative: left out");
    }
}
