//! [`RangeSet`]: a set of unit indices written as sorted inclusive ranges, `[[0, 639], [700,
//! 700]]`. A layer's coverage says which of its units have each technique in a few bytes
//! rather than one entry per unit, and has one canonical form, so a layer manifest derived from
//! the same unit files is the same bytes whichever shards built them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::bounded;
use super::limits::MAX_RANGES;

/// Sorted, disjoint, non-adjacent inclusive ranges of unit indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RangeSet {
    ranges: Vec<[u32; 2]>,
}

impl RangeSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set of `units`, in any order, repeats allowed.
    pub fn from_units(units: impl IntoIterator<Item = u32>) -> Self {
        let mut units: Vec<u32> = units.into_iter().collect();
        units.sort_unstable();
        units.dedup();
        let mut set = Self::new();
        for unit in units {
            set.push_sorted(unit);
        }
        set
    }

    /// The units `0 .. count`.
    pub fn all(count: u32) -> Self {
        match count.checked_sub(1) {
            Some(last) => Self { ranges: vec![[0, last]] },
            None => Self::new(),
        }
    }

    /// Adds a unit larger than every unit in the set (the cheap way to build a set in order);
    /// returns `false` and leaves the set alone when it is not larger.
    pub fn push_sorted(&mut self, unit: u32) -> bool {
        match self.ranges.last_mut() {
            Some([_, last]) if unit <= *last => false,
            Some([_, last]) if unit == *last + 1 => {
                *last = unit;
                true
            }
            _ => {
                self.ranges.push([unit, unit]);
                true
            }
        }
    }

    /// Whether `unit` is in the set (binary search over the ranges).
    pub fn contains(&self, unit: u32) -> bool {
        self.ranges
            .binary_search_by(|[first, last]| {
                if *last < unit {
                    std::cmp::Ordering::Less
                } else if *first > unit {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Number of units in the set.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|[first, last]| u64::from(last - first) + 1).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The largest unit, if any.
    pub fn max(&self) -> Option<u32> {
        self.ranges.last().map(|[_, last]| *last)
    }

    /// The ranges, `[first, last]` inclusive, in order.
    pub fn ranges(&self) -> &[[u32; 2]] {
        &self.ranges
    }

    /// The units in order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.ranges.iter().flat_map(|&[first, last]| first..=last)
    }

    /// The first unit of this set that `other` lacks, if any (so `None` means a subset).
    /// Works on the ranges, never on the units one by one.
    pub fn first_missing_from(&self, other: &RangeSet) -> Option<u32> {
        for &[first, last] in &self.ranges {
            let i = other.ranges.partition_point(|&[_, end]| end < first);
            match other.ranges.get(i) {
                Some(&[start, end]) if start <= first => {
                    if last > end {
                        return Some(end + 1);
                    }
                }
                _ => return Some(first),
            }
        }
        None
    }

    /// Checks the canonical form: each range ordered, ranges sorted, neither overlapping nor
    /// touching (touching ones must be merged, so each set has one spelling).
    fn canonical(ranges: Vec<[u32; 2]>) -> Result<Self, String> {
        let mut previous: Option<u32> = None;
        for (i, &[first, last]) in ranges.iter().enumerate() {
            if first > last {
                return Err(format!("range {i} [{first}, {last}] ends before it starts"));
            }
            if let Some(previous) = previous
                && u64::from(first) <= u64::from(previous) + 1
            {
                return Err(format!(
                    "range {i} [{first}, {last}] overlaps or touches the one before; ranges must be sorted and merged"
                ));
            }
            previous = Some(last);
        }
        Ok(Self { ranges })
    }
}

impl Serialize for RangeSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.ranges.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RangeSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ranges: Vec<[u32; 2]> = bounded::vec::<_, _, MAX_RANGES>(deserializer)?;
        Self::canonical(ranges).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_canonical_form() {
        let set = RangeSet::from_units([5, 1, 2, 3, 9, 2, 10, 0]);
        assert_eq!(set.ranges(), [[0, 3], [5, 5], [9, 10]]);
        assert_eq!(set.len(), 7);
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 5, 9, 10]);
        assert!(set.contains(5) && set.contains(10) && !set.contains(4) && !set.contains(11));
        assert_eq!(serde_json::to_string(&set).unwrap(), "[[0,3],[5,5],[9,10]]");
        assert_eq!(RangeSet::all(1280).ranges(), [[0, 1279]]);
        assert!(RangeSet::all(0).is_empty());
        assert_eq!(RangeSet::from_units([u32::MAX, 0]).len(), 2);
        let big = RangeSet::from_units([0, 1, 2, 3, 5, 6, 7]);
        assert_eq!(RangeSet::from_units([1, 2, 6]).first_missing_from(&big), None);
        assert_eq!(RangeSet::from_units([2, 3, 4]).first_missing_from(&big), Some(4));
        assert_eq!(RangeSet::from_units([6, 7, 8]).first_missing_from(&big), Some(8));
        assert_eq!(RangeSet::from_units([9]).first_missing_from(&big), Some(9));
        assert_eq!(RangeSet::from_units([0]).first_missing_from(&RangeSet::new()), Some(0));
    }

    #[test]
    fn reads_only_the_canonical_form() {
        let set: RangeSet = serde_json::from_str("[[0, 3], [5, 5]]").unwrap();
        assert_eq!(set, RangeSet::from_units([0, 1, 2, 3, 5]));
        for bad in [
            "[[3, 0]]",
            "[[0, 3], [4, 5]]",
            "[[0, 3], [2, 5]]",
            "[[5, 5], [0, 1]]",
            "[[0]]",
            "[[0, -1]]",
            "[[0, 4294967296]]",
        ] {
            assert!(serde_json::from_str::<RangeSet>(bad).is_err(), "{bad}");
        }
    }
}
