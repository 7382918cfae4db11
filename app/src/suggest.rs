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
