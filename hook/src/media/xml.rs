//! Attribute edits in FreeSWITCH's XML configuration, byte for byte: only the value of one
//! attribute changes, every other byte (comments, indentation, entity spelling) stays.
//!
//! FreeSWITCH's files hold commented-out examples of the very elements we edit (external.xml
//! has `<param name="ext-rtp-ip" value="auto-nat"/>` inside `<!-- -->`), and attribute values
//! that contain `>` (vars.xml's `bong-ring`), so the scanner skips comments and honours quotes.

use std::ops::Range;

/// One element's start tag: its name and attributes, each with the byte range of its value.
#[derive(Debug)]
pub struct Tag<'a> {
    pub name: &'a str,
    pub attrs: Vec<(&'a str, Range<usize>)>,
}

impl Tag<'_> {
    pub fn attr<'t>(&self, text: &'t str, name: &str) -> Option<(&'t str, Range<usize>)> {
        self.attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| (&text[r.clone()], r.clone()))
    }
}

/// Every start (or empty-element) tag outside comments, processing instructions and CDATA.
/// `None` when the text is not well-formed enough to scan (an unclosed comment, tag or quote).
pub fn tags(text: &str) -> Option<Vec<Tag<'_>>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('<') {
        let start = i + off;
        let rest = &text[start..];
        if let Some(body) = rest.strip_prefix("<!--") {
            i = start + 4 + body.find("-->")? + 3;
            continue;
        }
        if rest.starts_with("<![CDATA[") {
            i = start + rest.find("]]>")? + 3;
            continue;
        }
        if rest.starts_with("<?") {
            i = start + rest.find("?>")? + 2;
            continue;
        }
        if rest.starts_with("</") || rest.starts_with("<!") {
            i = start + rest.find('>')? + 1;
            continue;
        }
        // A start tag: name, then name="value" pairs up to `>` or `/>`.
        let mut j = start + 1;
        while j < bytes.len()
            && !bytes[j].is_ascii_whitespace()
            && bytes[j] != b'>'
            && bytes[j] != b'/'
        {
            j += 1;
        }
        let name = &text[start + 1..j];
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            match bytes.get(j)? {
                b'>' => {
                    j += 1;
                    break;
                }
                b'/' if bytes.get(j + 1) == Some(&b'>') => {
                    j += 2;
                    break;
                }
                _ => {}
            }
            let name_start = j;
            while j < bytes.len()
                && bytes[j] != b'='
                && !bytes[j].is_ascii_whitespace()
                && bytes[j] != b'>'
            {
                j += 1;
            }
            let attr = &text[name_start..j];
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if bytes.get(j)? != &b'=' || attr.is_empty() {
                return None;
            }
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let quote = *bytes.get(j)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let value_start = j + 1;
            let value_end = value_start + text[value_start..].find(quote as char)?;
            attrs.push((attr, value_start..value_end));
            j = value_end + 1;
        }
        out.push(Tag { name, attrs });
        i = j;
    }
    Some(out)
}

/// The byte range of the value part (after `key=`) of the one
/// `<X-PRE-PROCESS cmd="set" data="key=...">` in `text`. `Err` says why there is not exactly one.
pub fn preprocess_set(text: &str, key: &str) -> Result<Range<usize>, String> {
    let tags = tags(text).ok_or("not well-formed XML")?;
    let prefix = format!("{key}=");
    let found: Vec<Range<usize>> = tags
        .iter()
        .filter(|t| t.name == "X-PRE-PROCESS")
        .filter(|t| t.attr(text, "cmd").is_some_and(|(v, _)| v == "set"))
        .filter_map(|t| t.attr(text, "data"))
        .filter(|(v, _)| v.starts_with(&prefix))
        .map(|(_, r)| r.start + prefix.len()..r.end)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no <X-PRE-PROCESS cmd=\"set\" data=\"{key}=...\"/>"
        )),
        _ => Err(format!("{key} is set {} times", found.len())),
    }
}

/// The byte ranges of the `value` of every `<param name="name" value="..."/>`.
pub fn params(text: &str, name: &str) -> Result<Vec<Range<usize>>, String> {
    let tags = tags(text).ok_or("not well-formed XML")?;
    Ok(tags
        .iter()
        .filter(|t| t.name == "param")
        .filter(|t| t.attr(text, "name").is_some_and(|(v, _)| v == name))
        .filter_map(|t| t.attr(text, "value").map(|(_, r)| r))
        .collect())
}

/// `text` with the byte ranges replaced (ranges must not overlap).
pub fn splice(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_owned();
    for (range, value) in edits {
        out.replace_range(range, &value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &str = r#"<include>
  <!-- <X-PRE-PROCESS cmd="set" data="local_ip_v4=1.1.1.1"/> -->
  <X-PRE-PROCESS cmd="set" data="local_ip_v4=172.31.5.17"/>
  <X-PRE-PROCESS cmd="set" data="bong-ring=v=-7;>=2;+=.1;%(1400,0,350,440)"/>
  <X-PRE-PROCESS cmd="set" data="external_rtp_ip=stun:stun.freeswitch.org"/>
</include>
"#;

    #[test]
    fn finds_the_set_outside_comments_and_past_a_quoted_gt() {
        let r = preprocess_set(VARS, "local_ip_v4").unwrap();
        assert_eq!(&VARS[r], "172.31.5.17");
        let r = preprocess_set(VARS, "external_rtp_ip").unwrap();
        assert_eq!(&VARS[r.clone()], "stun:stun.freeswitch.org");
        let out = splice(VARS, vec![(r, "203.0.113.10".into())]);
        assert!(out.contains(r#"data="external_rtp_ip=203.0.113.10"/>"#));
        assert!(out.contains("local_ip_v4=1.1.1.1"), "comments are kept");
        assert_eq!(
            out.len(),
            VARS.len() - "stun:stun.freeswitch.org".len() + 12
        );
    }

    #[test]
    fn missing_duplicate_and_broken() {
        assert!(preprocess_set(VARS, "external_sip_ip")
            .unwrap_err()
            .contains("no <X-PRE-PROCESS"));
        let twice = VARS.replace("bong-ring=", "local_ip_v4=");
        assert!(preprocess_set(&twice, "local_ip_v4")
            .unwrap_err()
            .contains("2 times"));
        assert!(preprocess_set("<a b=\"c/>", "x").is_err());
        assert!(preprocess_set("<!-- open", "x").is_err());
    }

    #[test]
    fn params_skip_commented_examples() {
        let xml = "<settings>\n<!--\n<param name=\"ext-rtp-ip\" value=\"auto-nat\"/>\n-->\n<param name=\"ext-rtp-ip\"  value=\"$${local_ip_v4}\"/>\n</settings>";
        let found = params(xml, "ext-rtp-ip").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(&xml[found[0].clone()], "$${local_ip_v4}");
    }
}
