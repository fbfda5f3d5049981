//! Names that become file or folder names: actor names (`faces/<name>/`, `group --link`'s
//! folders, a cast's actor folders), batch titles (`titles/<title>/`) and photo paths made into
//! link names.
//!
//! A name comes from outside (a cast file, a manifest, a command line), so it is never joined to
//! a path as it is: either [`component`] accepts it as exactly one component of a path, or
//! [`escape`] turns it into one. Neither can then reach outside the folder it is joined to, and
//! two different names never share a file.

/// `name` as one component of a path, or why it cannot be one: it is empty, `.` or `..`, or holds
/// a `/`, a `\` or a NUL, any of which would name a file somewhere else.
pub fn component(name: &str) -> Result<&str, String> {
    let problem = if name.is_empty() {
        "it is empty"
    } else if name == "." || name == ".." {
        "it names a folder above or itself"
    } else if name.contains(['/', '\\']) {
        "it holds a path separator"
    } else if name.contains('\0') {
        "it holds a NUL character"
    } else {
        return Ok(name);
    };
    Err(format!("{name:?} cannot name a file or folder: {problem}"))
}

/// `text` as one component of a path, different for every different `text`: `%`, `/`, `\` and
/// NUL become `%25`, `%2F`, `%5C` and `%00`, a leading `.` becomes `%2E` (so neither `.` nor `..`
/// nor a hidden name can come out), and the empty text becomes `%` (which nothing else gives, as
/// every other `%` is followed by two hex digits). Text without those characters is unchanged.
pub fn escape(text: &str) -> String {
    if text.is_empty() {
        return "%".into();
    }
    let mut escaped = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        match c {
            '%' => escaped.push_str("%25"),
            '/' => escaped.push_str("%2F"),
            '\\' => escaped.push_str("%5C"),
            '\0' => escaped.push_str("%00"),
            '.' if i == 0 => escaped.push_str("%2E"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_refuses_what_would_leave_the_folder() {
        for bad in [
            "",
            ".",
            "..",
            "../../victim",
            "/abs/dir",
            "a/b",
            "a\\b",
            "a\0b",
        ] {
            assert!(component(bad).is_err(), "{bad:?}");
        }
        for good in ["Barack Obama", "unknown_3", "..a", "a..", ".hidden", "Zoë"] {
            assert_eq!(component(good), Ok(good));
        }
    }

    #[test]
    fn escape_gives_one_distinct_component_for_each_text() {
        let texts = [
            "",
            "%",
            "%25",
            ".",
            "..",
            "%2E",
            "%2E.",
            "__",
            ".hidden",
            "a/b",
            "a%2Fb",
            "a_b",
            "a\\b",
            "a\0b",
            "%00",
            "plain name.mp4",
            "a.b",
        ];
        let mut seen = std::collections::BTreeSet::new();
        for text in texts {
            let escaped = escape(text);
            assert_eq!(component(&escaped), Ok(escaped.as_str()), "{text:?}");
            assert!(!escaped.starts_with('.'), "{text:?}");
            assert!(seen.insert(escaped), "{text:?} collides");
        }
        assert_eq!(escape("plain name.mp4"), "plain name.mp4");
        assert_eq!(escape("../v"), "%2E.%2Fv");
    }
}
