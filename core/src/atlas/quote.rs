//! Quoting a value for an error message. A leaf module: every part of the atlas code that
//! reports a bad value (names, paths, versions, manifests) uses it, and it uses none of them.

/// `text` quoted for an error message: control characters escaped and at most 80 characters
/// kept, so a hostile value cannot flood or garble the message.
pub(crate) fn quote(text: &str) -> String {
    const KEEP: usize = 80;
    let mut out = String::from("\"");
    for (i, c) in text.chars().enumerate() {
        if i == KEEP {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_and_shortens() {
        assert_eq!(quote("a\0b\n"), "\"a\\0b\\n\"");
        assert_eq!(quote(&"x".repeat(200)).chars().count(), 83);
    }
}
