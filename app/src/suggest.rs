//! Nearest names: what a not-found page offers instead of a name the atlas lacks.

/// A link offered in place of something not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// What it is, in words.
    pub label: String,
    /// Where it lives.
    pub href: String,
}

/// Levenshtein distance between two strings, by characters, case-insensitive.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The `limit` candidates `(name, href)` nearest to `query`, nearest first (ties keep the
/// candidates' order); names containing the query count as near.
pub fn nearest(
    query: &str,
    candidates: impl IntoIterator<Item = (String, String)>,
    limit: usize,
) -> Vec<Suggestion> {
    nearest_named(
        query,
        candidates.into_iter().map(|(name, href)| (name.clone(), name, href)),
        limit,
    )
}

/// [`nearest`] over `(name, label, href)`: compared by name, shown by label.
pub fn nearest_named(
    query: &str,
    candidates: impl IntoIterator<Item = (String, String, String)>,
    limit: usize,
) -> Vec<Suggestion> {
    let query_lower = query.to_lowercase();
    let mut scored: Vec<(usize, usize, Suggestion)> = candidates
        .into_iter()
        .enumerate()
        .map(|(order, (name, label, href))| {
            let contains = !query_lower.is_empty() && name.to_lowercase().contains(&query_lower);
            let score = if contains { 0 } else { distance(query, &name) };
            (score, order, Suggestion { label, href })
        })
        .collect();
    scored.sort_by_key(|(score, order, _)| (*score, *order));
    scored.into_iter().take(limit).map(|(_, _, suggestion)| suggestion).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_by_character_ignoring_case() {
        assert_eq!(distance("blocks.8", "blocks.8"), 0);
        assert_eq!(distance("Blocks.8", "blocks.8"), 0);
        assert_eq!(distance("blocks.8", "blocks.9"), 1);
        assert_eq!(distance("blocks.8", "block.8"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "head"), 4);
        assert_eq!(distance("é", "e"), 1, "by character, not by byte");
    }

    #[test]
    fn nearest_puts_names_containing_the_query_first_then_by_distance() {
        let candidates = ["stem", "blocks.0", "blocks.8", "blocks.10", "head"]
            .map(|name| (name.to_owned(), format!("/m/{name}")));
        let found = nearest("block.8", candidates.clone(), 2);
        assert_eq!(found[0], Suggestion { label: "blocks.8".into(), href: "/m/blocks.8".into() });
        assert_eq!(found.len(), 2);
        // Every name containing "blocks" scores 0; ties keep the candidates' order.
        let labels: Vec<String> =
            nearest("blocks", candidates.clone(), 3).into_iter().map(|s| s.label).collect();
        assert_eq!(labels, ["blocks.0", "blocks.8", "blocks.10"]);
        assert!(nearest("x", candidates, 0).is_empty());
        let named = nearest_named(
            "lite",
            [(
                "efficientnet-lite0".to_owned(),
                "Lite0 (efficientnet-lite0)".to_owned(),
                "/a".to_owned(),
            )],
            5,
        );
        assert_eq!(named[0].label, "Lite0 (efficientnet-lite0)");
    }
}
