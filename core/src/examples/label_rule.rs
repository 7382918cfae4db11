//! The label rule: when a unit's most correlated class may stand as its headline label.
//!
//! A correlation over a few hundred crops can be high by accident: a unit that fires on the
//! rims of one photo's cups rises and falls with whatever class that photo's crops push up
//! (a "park bench"), and a class whose logit swings widely across the corpus ("pole")
//! correlates with many units at once. So the correlation alone never makes a label. The
//! builder also looks at the unit's [`LABEL_POOL`] strongest crops (by spatial mean, the
//! statistic the correlation uses) and asks the model what each one is (its top-1 class).
//! The class becomes the label only when all of these hold:
//!
//! - its correlation is at least [`MIN_LABEL_CORRELATION`];
//! - at least [`MIN_LABEL_CROPS`] crops of the pool are classified as it;
//! - those crops come from at least [`MIN_LABEL_PHOTOS`] different photos.
//!
//! There is no margin over the next class: near-synonyms (cup, coffee mug, espresso)
//! correlate alike with a unit that sees them all, and a margin would drop right labels; the
//! crops the model itself classifies as the class do that work instead. Otherwise the unit
//! has no headline, and the evidence is still recorded (and shown) for what it is worth.

use crate::atlas::LabelEvidence;

/// The smallest correlation of a label's class with the unit.
pub const MIN_LABEL_CORRELATION: f32 = 0.5;
/// Crops looked at: the unit's strongest, by spatial mean.
pub const LABEL_POOL: usize = 32;
/// The fewest crops of the pool the model must classify as the class.
pub const MIN_LABEL_CROPS: u32 = 4;
/// The fewest photos those crops must come from.
pub const MIN_LABEL_PHOTOS: u32 = 3;

/// The rule in words, with its numbers (recorded in the build settings, so changing a number
/// rebuilds the labels).
pub fn rule_text() -> String {
    format!(
        "the most correlated class, when r >= {MIN_LABEL_CORRELATION} and at least \
         {MIN_LABEL_CROPS} of the unit's {LABEL_POOL} strongest crops by spatial mean, from at \
         least {MIN_LABEL_PHOTOS} photos, are classified as it (top-1)"
    )
}

/// One crop of a unit's pool: its photo and the class the model gives it (top-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolCrop {
    /// The photo it was cut from.
    pub photo: u32,
    /// The model's top-1 class for it.
    pub class: u32,
}

/// The evidence for `class` (correlated `correlation` with the unit) in the unit's `pool`.
pub fn evidence(class: u32, correlation: f32, pool: &[PoolCrop]) -> LabelEvidence {
    let supporting: Vec<u32> = pool.iter().filter(|c| c.class == class).map(|c| c.photo).collect();
    let mut photos = supporting.clone();
    photos.sort_unstable();
    photos.dedup();
    LabelEvidence {
        class,
        correlation,
        pool: count(pool.len()),
        crops: count(supporting.len()),
        photos: count(photos.len()),
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether `evidence` is strong enough for a headline label.
pub fn is_strong(evidence: &LabelEvidence) -> bool {
    evidence.correlation >= MIN_LABEL_CORRELATION
        && evidence.crops >= MIN_LABEL_CROPS
        && evidence.photos >= MIN_LABEL_PHOTOS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool like blocks.8:50's: 32 crops, 20 of one photo of cups (photo 9, classified
    /// "cup", class 968), the rest spread over other photos and classes.
    fn cup_pool(cup_photos: &[u32]) -> Vec<PoolCrop> {
        (0..LABEL_POOL as u32)
            .map(|i| {
                if i < 20 {
                    PoolCrop { photo: cup_photos[i as usize % cup_photos.len()], class: 968 }
                } else {
                    PoolCrop { photo: 20 + i % 2, class: [703, 970, 975][i as usize % 3] }
                }
            })
            .collect()
    }

    #[test]
    fn a_weakly_correlated_unit_has_no_headline() {
        // "park bench" (703) correlates at 0.31 and the model calls 4 pool crops of 2 photos
        // a park bench: no label, whatever the count.
        let evidence = evidence(703, 0.31, &cup_pool(&[9]));
        assert_eq!((evidence.crops, evidence.photos, evidence.pool), (4, 2, 32));
        assert!(!is_strong(&evidence));
        // The same crops with a strong correlation: still too few photos.
        assert!(!is_strong(&LabelEvidence { correlation: 0.8, ..evidence }));
        // Strong correlation and many crops, but every one from a single photo of cups.
        let one_photo = super::evidence(968, 0.72, &cup_pool(&[9]));
        assert_eq!((one_photo.crops, one_photo.photos), (20, 1));
        assert!(!is_strong(&one_photo));
    }

    #[test]
    fn a_well_supported_class_is_a_headline() {
        let evidence = evidence(968, 0.61, &cup_pool(&[9, 11, 14, 30, 31]));
        assert_eq!((evidence.crops, evidence.photos), (20, 5));
        assert!(is_strong(&evidence));
        assert!(!is_strong(&LabelEvidence { correlation: 0.49, ..evidence }), "r below 0.5");
        assert!(!is_strong(&LabelEvidence { crops: 3, photos: 3, ..evidence }), "3 crops");
        assert!(rule_text().contains("r >= 0.5"));
    }
}
