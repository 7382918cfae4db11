//! How a layer name is written in an objective's text: bare when it is made of the characters
//! the grammar reads as one name (`blocks.8`, `features/conv_1`), else between double quotes
//! with `"` and `\` escaped (`"a-b:c"`). The parser, the printer and every page that shows a
//! layer in an objective use this one rule.

use std::fmt;

/// Whether `c` may start a bare layer name.
pub(crate) fn starts_bare(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '/'
}

/// Whether `c` may continue a bare layer name.
pub(crate) fn continues_bare(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/')
}

/// Whether `name` can be written without quotes.
pub fn is_bare(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(starts_bare) && chars.all(continues_bare)
}

/// A layer name as the text form writes it (`LayerName("a b")` displays as `"a b"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerName<'a>(pub &'a str);

impl fmt::Display for LayerName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_bare(self.0) {
            return f.write_str(self.0);
        }
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, '"' | '\\') {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_layer_names_are_bare_only_when_the_grammar_reads_them_whole() {
        for bare in ["blocks.8", "_x", "/features/conv_1", "logits"] {
            assert!(is_bare(bare), "{bare}");
            assert_eq!(LayerName(bare).to_string(), bare);
        }
        for quoted in ["", "8blocks", "a-b", "a b", "a:b", ".x"] {
            assert!(!is_bare(quoted), "{quoted}");
        }
        assert_eq!(LayerName("a\"b\\c").to_string(), "\"a\\\"b\\\\c\"");
        assert_eq!(LayerName("a-b:c").to_string(), "\"a-b:c\"");
    }
}
