//! A pre-parse scan for nesting depth. serde_json already stops at 128 levels, but a manifest
//! never needs more than a few: refusing deep nesting early gives a clear message and keeps the
//! recursion of any later pass over free-form values (build settings) shallow, which matters on
//! wasm's small stack.

/// The 1-based line where arrays and objects first nest deeper than `limit`, if they do.
/// Brackets inside strings do not count; the scan is linear and allocates nothing.
pub(crate) fn too_deep_at(bytes: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if byte == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(line);
                }
            }
            // Unbalanced closers are the parser's to report; saturate rather than wrap.
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_strings() {
        assert_eq!(too_deep_at(b"[[[]]]", 3), None);
        assert_eq!(too_deep_at(b"[[[[]]]]", 3), Some(1));
        assert_eq!(too_deep_at(b"{\"a\":\n[{\"b\": [1]}]}", 3), Some(2));
        assert_eq!(too_deep_at(br#"["[[[[[[", "\"[[[["]"#, 1), None);
        assert_eq!(too_deep_at(b"]]]]][[", 2), None);
        assert_eq!(too_deep_at(&[b'['; 100_000], 32), Some(1));
    }
}
