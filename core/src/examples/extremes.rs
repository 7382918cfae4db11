//! [`Extremes`]: the `k` largest and the `k` smallest values seen, each with what it belongs
//! to and the photo it comes from, at most `per_photo` of one photo on each side (the
//! [diversity rule](super::diversity)), in bounded memory. Ties keep the earlier item, so the
//! result is a function of the order items arrive in, which the builder fixes (corpus order).
//!
//! Streaming gives the same rows as sorting everything and walking down greedily
//! ([`super::diversity::pick_diverse`]): an item left out is below every kept item, so a
//! later item never brings it back, and a photo's third item replaces its weaker kept one
//! only when it is stronger.

/// The `k` largest and `k` smallest `(value, item)` pairs of a stream, at most `per_photo`
/// of one photo in each.
#[derive(Debug, Clone, PartialEq)]
pub struct Extremes<T> {
    k: usize,
    per_photo: usize,
    /// Largest first.
    top: Vec<Entry<T>>,
    /// Smallest first.
    bottom: Vec<Entry<T>>,
}

/// One kept value: the value, its photo, its item.
#[derive(Debug, Clone, PartialEq)]
struct Entry<T> {
    value: f32,
    photo: u32,
    item: T,
}

/// Where a new value goes in one side: its rank, and the kept item of the same photo it
/// replaces, if any.
struct Placement {
    at: usize,
    evict: Option<usize>,
}

/// Where `value` of `photo` goes in `list` (ordered so that `ahead(a, b)` holds for `a`
/// before `b`, strictly), or `None` if it stays out.
fn place<T>(
    list: &[Entry<T>],
    k: usize,
    per_photo: usize,
    value: f32,
    photo: u32,
    ahead: fn(f32, f32) -> bool,
) -> Option<Placement> {
    // The common case, decided at once: a full list and a value not ahead of its last one
    // (nor, then, of any kept value).
    if list.len() >= k && list.last().is_none_or(|last| !ahead(value, last.value)) {
        return None;
    }
    // After every value at least as good: earlier items win ties.
    let at = list.partition_point(|e| !ahead(value, e.value));
    let (same, weakest) = list
        .iter()
        .enumerate()
        .filter(|(_, e)| e.photo == photo)
        .fold((0, None), |(n, _), (i, _)| (n + 1, Some(i)));
    if same >= per_photo {
        // The photo is full: only a value ahead of its weakest kept one gets in, in its place.
        let weakest = weakest?;
        return (weakest >= at).then_some(Placement { at, evict: Some(weakest) });
    }
    (at < k).then_some(Placement { at, evict: None })
}

fn apply<T>(list: &mut Vec<Entry<T>>, k: usize, placement: Placement, entry: Entry<T>) {
    if let Some(evict) = placement.evict {
        // `evict >= at`: removing it leaves `at` in place.
        list.remove(evict);
    }
    list.insert(placement.at, entry);
    list.truncate(k);
}

impl<T: Clone> Extremes<T> {
    /// Keeps `k` of each, at most `per_photo` of one photo ([`usize::MAX`]: no limit).
    pub fn new(k: usize, per_photo: usize) -> Self {
        Self { k, per_photo, top: Vec::with_capacity(k), bottom: Vec::with_capacity(k) }
    }

    /// Offers one value of `photo` (non-finite values are ignored).
    pub fn offer(&mut self, value: f32, photo: u32, item: impl FnOnce() -> T) {
        if !value.is_finite() || self.k == 0 || self.per_photo == 0 {
            return;
        }
        let top = place(&self.top, self.k, self.per_photo, value, photo, |a, b| a > b);
        let bottom = place(&self.bottom, self.k, self.per_photo, value, photo, |a, b| a < b);
        if top.is_none() && bottom.is_none() {
            return;
        }
        let item = item();
        if let Some(placement) = top {
            let entry = Entry { value, photo, item: item.clone() };
            apply(&mut self.top, self.k, placement, entry);
        }
        if let Some(placement) = bottom {
            apply(&mut self.bottom, self.k, placement, Entry { value, photo, item });
        }
    }

    /// The largest values with their photos and items, largest first.
    pub fn top(&self) -> impl ExactSizeIterator<Item = (f32, u32, &T)> {
        self.top.iter().map(|e| (e.value, e.photo, &e.item))
    }

    /// The smallest values with their photos and items, smallest first.
    pub fn bottom(&self) -> impl ExactSizeIterator<Item = (f32, u32, &T)> {
        self.bottom.iter().map(|e| (e.value, e.photo, &e.item))
    }
}

#[cfg(test)]
mod tests {
    use super::super::crops::crops_of;
    use super::super::diversity::{MAX_CROPS_PER_PHOTO, most_of_one_photo, pick_diverse};
    use super::*;

    fn values<T: Copy>(list: impl Iterator<Item = (f32, u32, T)>) -> Vec<(f32, T)> {
        list.map(|(v, _, item)| (v, item)).collect()
    }

    #[test]
    fn keeps_the_k_largest_and_smallest_in_order() {
        let values_in = [3.0, -1.0, 7.0, 7.0, 0.5, f32::NAN, -4.0, 2.0, 9.0];
        let mut extremes = Extremes::new(3, usize::MAX);
        for (i, v) in values_in.iter().enumerate() {
            extremes.offer(*v, i as u32, || i);
        }
        let top = values(extremes.top().map(|(v, p, i)| (v, p, *i)));
        assert_eq!(top, vec![(9.0, 8), (7.0, 2), (7.0, 3)], "ties keep the earlier item first");
        let bottom = values(extremes.bottom().map(|(v, p, i)| (v, p, *i)));
        assert_eq!(bottom, vec![(-4.0, 6), (-1.0, 1), (0.5, 4)]);
    }

    #[test]
    fn matches_a_full_sort_on_a_long_stream() {
        let stream: Vec<f32> = (0..500u32).map(|i| ((i * 7919) % 1009) as f32 - 500.0).collect();
        let mut extremes = Extremes::new(10, usize::MAX);
        for (i, v) in stream.iter().enumerate() {
            extremes.offer(*v, i as u32, || i);
        }
        let mut sorted = stream.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let top: Vec<f32> = extremes.top().map(|(v, _, _)| v).collect();
        assert_eq!(top, sorted[..10].to_vec());
        let bottom: Vec<f32> = extremes.bottom().map(|(v, _, _)| v).collect();
        let mut lowest: Vec<f32> = sorted[sorted.len() - 10..].to_vec();
        lowest.reverse();
        assert_eq!(bottom, lowest);
    }

    /// A corpus like the builder's: 44 photos of 512 x 384 cut at scales 1 and 0.5, and a unit
    /// that responds to one photo (a photo of cups, number 17) in every crop of it, more than
    /// to anything else, with a little variation from crop to crop.
    fn cup_unit_stream() -> Vec<(f32, u32, usize)> {
        let crops = crops_of(512, 384, &[1.0, 0.5]);
        let mut stream = Vec::new();
        for photo in 0..44u32 {
            for (c, crop) in crops.iter().enumerate() {
                let wobble = ((photo * 31 + c as u32 * 17) % 23) as f32 / 23.0;
                let centre = f32::from(crop.side == 384) * 0.5;
                let value = if photo == 17 {
                    6.0 + wobble + centre
                } else {
                    (photo % 9) as f32 * 0.5 + wobble - 2.0
                };
                stream.push((value, photo, stream.len()));
            }
        }
        stream
    }

    #[test]
    fn no_row_holds_more_than_two_crops_of_one_photo() {
        let stream = cup_unit_stream();
        let mut plain = Extremes::new(8, usize::MAX);
        let mut diverse = Extremes::new(8, MAX_CROPS_PER_PHOTO);
        for &(value, photo, item) in &stream {
            plain.offer(value, photo, || item);
            diverse.offer(value, photo, || item);
        }
        // Without the rule the whole top row is the photo of cups.
        assert_eq!(most_of_one_photo(plain.top().map(|(_, p, _)| p)), 8);
        for row in [diverse.top().collect::<Vec<_>>(), diverse.bottom().collect()] {
            assert_eq!(row.len(), 8);
            assert!(most_of_one_photo(row.iter().map(|(_, p, _)| *p)) <= MAX_CROPS_PER_PHOTO);
        }
        let top: Vec<(f32, u32, usize)> = diverse.top().map(|(v, p, i)| (v, p, *i)).collect();
        assert_eq!(top.iter().filter(|(_, p, _)| *p == 17).count(), 2, "its two best crops lead");
        assert!(top[0].1 == 17 && top[1].1 == 17);

        // Streaming equals the greedy walk down the fully sorted list, on both sides.
        let mut sorted = stream.clone();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        let greedy = pick_diverse(sorted.iter().map(|&(v, p, i)| (p, (v, p, i))), 8, 2);
        assert_eq!(top, greedy);
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        let greedy = pick_diverse(sorted.iter().map(|&(v, p, i)| (p, (v, p, i))), 8, 2);
        let bottom: Vec<(f32, u32, usize)> = diverse.bottom().map(|(v, p, i)| (v, p, *i)).collect();
        assert_eq!(bottom, greedy);
    }

    #[test]
    fn streaming_equals_the_greedy_walk_in_any_order() {
        // Photos arrive interleaved and a photo's best crop comes last: it must replace the
        // photo's weaker kept crop, not be skipped.
        for seed in 0..20u32 {
            let stream: Vec<(f32, u32, usize)> = (0..300u32)
                .map(|i| {
                    let x = i.wrapping_mul(2654435761).wrapping_add(seed * 97) % 1000;
                    ((x % 97) as f32, x % 7, i as usize)
                })
                .collect();
            for per_photo in [1, 2, 3] {
                let mut extremes = Extremes::new(6, per_photo);
                for &(v, p, i) in &stream {
                    extremes.offer(v, p, || i);
                }
                let mut sorted = stream.clone();
                sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
                let greedy = pick_diverse(sorted.iter().map(|&(_, p, i)| (p, i)), 6, per_photo);
                let got: Vec<usize> = extremes.top().map(|(_, _, i)| *i).collect();
                assert_eq!(got, greedy, "seed {seed}, {per_photo} per photo");
            }
        }
    }
}
