//! The validation pass after parsing: rules that types alone do not express (limits on counts
//! and text, finite numbers, unique names, references inside a manifest). It walks a manifest
//! keeping the JSON field path, so each problem names its field exactly as a parse error does
//! (`graph.layers[3].units`).

use std::collections::HashSet;
use std::fmt::Write as _;

use super::error::{AtlasError, Problem};
use super::name::Name;
use super::quote::quote;

/// One step of a field path.
#[derive(Debug, Clone)]
enum Step {
    Field(&'static str),
    Index(usize),
}

/// Collects the problems of one manifest with their field paths.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    path: Vec<Step>,
    problems: Vec<(String, Problem)>,
}

/// Problems kept per manifest: the first is what a parse reports; a few more help `verify`.
const KEEP: usize = 64;

impl Checker {
    /// Runs `check` with `field` appended to the path.
    pub(crate) fn at<R>(&mut self, field: &'static str, check: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(Step::Field(field));
        let result = check(self);
        self.path.pop();
        result
    }

    /// Runs `check` on each item of a list, with `[i]` appended to the path.
    pub(crate) fn each<T>(
        &mut self,
        field: &'static str,
        items: &[T],
        mut check: impl FnMut(&mut Self, &T),
    ) {
        self.at(field, |c| {
            for (i, item) in items.iter().enumerate() {
                c.path.push(Step::Index(i));
                check(c, item);
                c.path.pop();
            }
        });
    }

    /// Records a problem at the current path.
    pub(crate) fn fail(&mut self, problem: Problem) {
        if self.problems.len() < KEEP {
            let path = self.path_text();
            self.problems.push((path, problem));
        }
    }

    /// Records a problem at `field` below the current path.
    pub(crate) fn fail_at(&mut self, field: &'static str, problem: Problem) {
        self.at(field, |c| c.fail(problem));
    }

    /// Records a problem at a field path built at run time (`sheets.channel[2].image`), below
    /// the current path.
    pub(crate) fn fail_at_path(&mut self, field: &str, problem: Problem) {
        if self.problems.len() < KEEP {
            let here = self.path_text();
            let path = if here.is_empty() { field.to_owned() } else { format!("{here}.{field}") };
            self.problems.push((path, problem));
        }
    }

    /// Records [`Problem::Invalid`] with `message` at `field`.
    pub(crate) fn invalid(&mut self, field: &'static str, message: impl Into<String>) {
        self.fail_at(field, Problem::Invalid(message.into()));
    }

    /// Whether any problem was found.
    #[cfg(test)]
    pub(crate) fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems found, reported against `file`.
    pub(crate) fn into_errors(self, file: &str) -> Vec<AtlasError> {
        self.problems
            .into_iter()
            .map(|(field, problem)| AtlasError::field(file, field, problem))
            .collect()
    }

    /// The current path in `a.b[3].c` form.
    fn path_text(&self) -> String {
        let mut text = String::new();
        for step in &self.path {
            match step {
                // An empty field name means "here": used for checks on list items.
                Step::Field("") => {}
                Step::Field(name) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(name);
                }
                Step::Index(i) => {
                    let _ = write!(text, "[{i}]");
                }
            }
        }
        text
    }

    // Rules shared by every manifest.

    /// Text at `field`: at most `limit` bytes and no control characters but newline and tab
    /// (which viewers would otherwise have to neutralise).
    pub(crate) fn text(&mut self, field: &'static str, text: &str, limit: usize) {
        if text.len() > limit {
            self.fail_at(field, Problem::TooLong { bytes: text.len(), limit });
        } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.invalid(field, format!("text {} has a control character", quote(text)));
        }
    }

    /// Optional text at `field`.
    pub(crate) fn opt_text(&mut self, field: &'static str, text: Option<&String>, limit: usize) {
        if let Some(text) = text {
            self.text(field, text, limit);
        }
    }

    /// Non-empty text at `field`.
    pub(crate) fn required_text(&mut self, field: &'static str, text: &str, limit: usize) {
        if text.trim().is_empty() {
            self.invalid(field, "must not be empty");
        } else {
            self.text(field, text, limit);
        }
    }

    /// A list at `field` of at most `limit` items. Parsing already stops long lists; this
    /// catches manifests built in memory before they are written.
    pub(crate) fn count(&mut self, field: &'static str, count: usize, limit: usize) {
        if count > limit {
            self.fail_at(field, Problem::TooMany { count: count as u64, limit: limit as u64 });
        }
    }

    /// A finite number at `field` (NaN and infinities have no JSON form; serde_json would
    /// write `null`, and a huge literal read as `f32` becomes infinite).
    pub(crate) fn finite(&mut self, field: &'static str, value: f64) {
        if !value.is_finite() {
            self.invalid(field, format!("{value} is not a finite number"));
        }
    }

    /// A number in `range` at `field`.
    pub(crate) fn within(
        &mut self,
        field: &'static str,
        value: u64,
        range: std::ops::RangeInclusive<u64>,
    ) {
        if !range.contains(&value) {
            self.invalid(
                field,
                format!("{value} is not within {} ..= {}", range.start(), range.end()),
            );
        }
    }

    /// Names at `[i].field` that must be unique, also ignoring case (they become folder names
    /// on file systems that fold case).
    pub(crate) fn unique_names<'a>(
        &mut self,
        list: &'static str,
        field: &'static str,
        names: impl IntoIterator<Item = &'a Name>,
    ) {
        let mut seen = HashSet::new();
        for (i, name) in names.into_iter().enumerate() {
            if !seen.insert(name.folded()) {
                self.at(list, |c| {
                    c.path.push(Step::Index(i));
                    c.invalid(
                        field,
                        format!(
                            "{} appears twice (names must differ in more than case)",
                            quote(name.as_str())
                        ),
                    );
                    c.path.pop();
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_serde_paths() {
        let mut c = Checker::default();
        c.at("graph", |c| {
            c.each("layers", &[1, 2], |c, &n| {
                if n == 2 {
                    c.invalid("units", "bad")
                }
            })
        });
        c.text("title", "a\u{7}b", 10);
        c.text("title", "abcdef", 3);
        c.finite("score", f64::NAN);
        let errors = c.into_errors("m.json");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["graph.layers[1].units", "title", "title", "score"]);
    }

    #[test]
    fn names_must_differ_beyond_case() {
        let names = [Name::new("conv").unwrap(), Name::new("Conv").unwrap()];
        let mut c = Checker::default();
        c.unique_names("layers", "name", &names);
        assert_eq!(
            c.into_errors("m").first().map(|e| e.field.clone()).as_deref(),
            Some("layers[1].name")
        );
    }
}
