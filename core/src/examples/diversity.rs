//! The diversity rule of dataset examples: a unit's top row and bottom row hold at most
//! [`MAX_CROPS_PER_PHOTO`] crops of any one photo. Overlapping crops of one photo at several
//! scales respond alike, so without the rule one photo of cups can fill a whole row and the
//! row says less about the unit than about that photo.
//!
//! The rule is greedy down the ranked list: take crops strongest first, skipping a crop of a
//! photo that already has [`MAX_CROPS_PER_PHOTO`] in the row. [`pick_diverse`] is that walk
//! over a list sorted in advance; [`super::Extremes`] keeps the same result while streaming.

/// The most crops of one photo in a unit's top row, and in its bottom row.
pub const MAX_CROPS_PER_PHOTO: usize = 2;

/// Walks `ranked` (best first) and keeps the first `k` items, skipping every item whose
/// photo already has `per_photo` items kept.
pub fn pick_diverse<T>(
    ranked: impl IntoIterator<Item = (u32, T)>,
    k: usize,
    per_photo: usize,
) -> Vec<T> {
    let mut kept: Vec<(u32, T)> = Vec::with_capacity(k);
    for (photo, item) in ranked {
        if kept.len() >= k {
            break;
        }
        if kept.iter().filter(|(p, _)| *p == photo).count() < per_photo {
            kept.push((photo, item));
        }
    }
    kept.into_iter().map(|(_, item)| item).collect()
}

/// The most items of one photo in `photos` (0 for none): what the rule bounds.
pub fn most_of_one_photo<P: Ord>(photos: impl IntoIterator<Item = P>) -> usize {
    let mut counts = std::collections::BTreeMap::new();
    for photo in photos {
        *counts.entry(photo).or_insert(0usize) += 1;
    }
    counts.into_values().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_a_third_crop_of_a_photo() {
        let ranked = [(7, 'a'), (7, 'b'), (7, 'c'), (3, 'd'), (7, 'e'), (1, 'f'), (3, 'g')];
        assert_eq!(pick_diverse(ranked, 4, MAX_CROPS_PER_PHOTO), vec!['a', 'b', 'd', 'f']);
        assert_eq!(pick_diverse(ranked, 9, 1), vec!['a', 'd', 'f']);
        assert_eq!(most_of_one_photo([7, 7, 3, 7]), 3);
        assert_eq!(most_of_one_photo(Vec::<u32>::new()), 0);
    }
}
