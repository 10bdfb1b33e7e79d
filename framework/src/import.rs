//! Import IDs made of several parts, such as `<autoscaling_group_name>/<name>`.

use super::diagnostics::Diagnostics;

/// Splits `id` into `parts.len()` non-empty parts at `/`, from the right: every part but the
/// first must be free of `/` (the resources' own names are), while the first takes the rest
/// (an Auto Scaling group's name may hold a `/`). The error names the expected format.
pub fn split_id<'a, const N: usize>(
    id: &'a str,
    parts: [&str; N],
) -> Result<[&'a str; N], Diagnostics> {
    let invalid = || {
        let format = parts
            .iter()
            .map(|p| format!("<{p}>"))
            .collect::<Vec<_>>()
            .join("/");
        Diagnostics::from_error(
            "Invalid import ID",
            format!("Expected {format}; got {id:?}."),
        )
    };
    let mut out = [""; N];
    let mut rest = id;
    for slot in out.iter_mut().skip(1).rev() {
        let (head, tail) = rest.rsplit_once('/').ok_or_else(invalid)?;
        *slot = tail;
        rest = head;
    }
    if let Some(first) = out.first_mut() {
        *first = rest;
    }
    if out.iter().any(|p| p.is_empty()) {
        return Err(invalid());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARTS: [&str; 2] = ["autoscaling_group_name", "name"];

    #[test]
    fn splits_from_the_right() {
        assert_eq!(split_id("asg/exam", PARTS).expect("ok"), ["asg", "exam"]);
        assert_eq!(
            split_id("team/asg/exam", PARTS).expect("ok"),
            ["team/asg", "exam"],
            "a group name may hold a slash"
        );
        assert_eq!(
            split_id("a/b/c", ["x", "y", "z"]).expect("ok"),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn refuses_missing_parts_naming_the_format() {
        for bad in ["exam", "/exam", "asg/", ""] {
            let err = split_id(bad, PARTS).expect_err(bad);
            let d = err.iter().next().expect("diag");
            assert_eq!(
                d.detail,
                format!("Expected <autoscaling_group_name>/<name>; got {bad:?}.")
            );
        }
    }
}
