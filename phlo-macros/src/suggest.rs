//! "Did you mean …?": the known names closest to what the user wrote.

/// The names within a small edit distance of `written` (case ignored), closest first, at
/// most three. The allowed distance grows with the length of the word: one edit for short
/// words, two from five letters, three from twelve.
pub(crate) fn closest<'a>(written: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let written = written.to_ascii_lowercase();
    let limit = match written.chars().count() {
        0..=4 => 1,
        5..=11 => 2,
        _ => 3,
    };
    let mut near: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let distance = distance(&written, &name.to_ascii_lowercase());
            (distance <= limit).then_some((distance, name))
        })
        .collect();
    // Stable: names at the same distance keep the order they were given in.
    near.sort_by_key(|(distance, _)| *distance);
    near.dedup_by_key(|(_, name)| *name);
    near.into_iter().take(3).map(|(_, name)| name).collect()
}

/// "did you mean `a`?", "did you mean `a` or `b`?"; `None` without candidates.
pub(crate) fn did_you_mean(candidates: &[&str]) -> Option<String> {
    let quoted: Vec<String> = candidates.iter().map(|name| format!("`{name}`")).collect();
    let listed = match quoted.split_last() {
        None => return None,
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    };
    Some(format!("did you mean {listed}?"))
}

/// Levenshtein distance over chars.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let delete = previous[j + 1] + 1;
            let insert = current[j] + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("strat", "start"), 2);
        assert_eq!(distance("dialy", "daily"), 2);
        assert_eq!(distance("tz", "tx"), 1);
        assert_eq!(distance("abc", ""), 3);
    }

    #[test]
    fn closest_names_first_case_ignored() {
        let names = ["start", "end", "tz", "end_offset"];
        assert_eq!(closest("strat", names), ["start"]);
        assert_eq!(closest("END", names), ["end"]);
        assert_eq!(closest("endoffset", names), ["end_offset"]);
        assert!(closest("timezone", names).is_empty());
        assert_eq!(closest("ab", ["ab", "abc", "b", "xyz"]), ["ab", "abc", "b"]);
    }

    #[test]
    fn phrases() {
        assert_eq!(did_you_mean(&[]), None);
        assert_eq!(did_you_mean(&["a"]).as_deref(), Some("did you mean `a`?"));
        assert_eq!(
            did_you_mean(&["a", "b", "c"]).as_deref(),
            Some("did you mean `a`, `b` or `c`?")
        );
    }
}
