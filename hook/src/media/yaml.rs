//! Setting scalar values in bbb-webrtc-sfu's YAML (`default.yml` as yq writes it, and the
//! `production.yml` override) by lines: the named value changes, every other line stays as it
//! is, comments included. Only block style is understood (what yq and BBB's templates write);
//! anything else on the way to a key (flow collections, anchors, tabs, a scalar where a mapping
//! is expected) is refused with the reason, never guessed at.

/// One step of a path: a mapping key, or the first item of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg {
    Key(&'static str),
    First,
}

struct Info<'a> {
    indent: usize,
    dash: bool,
    key_col: usize,
    key: Option<&'a str>,
    /// What follows `key:` (untrimmed), or the whole content for a non-key line.
    rest: &'a str,
    rest_at: usize,
}

fn info(line: &str) -> Result<Option<Info<'_>>, String> {
    let content = line.trim_start_matches(' ');
    if content.trim().is_empty() || content.starts_with('#') {
        return Ok(None);
    }
    if content.starts_with('\t') {
        return Err("tab indentation".into());
    }
    let indent = line.len() - content.len();
    let (dash, body_at) = if content == "-" || content.starts_with("- ") {
        let after = &content[1..];
        (
            true,
            indent + 1 + (after.len() - after.trim_start_matches(' ').len()),
        )
    } else {
        (false, indent)
    };
    let body = &line[body_at..];
    let key_end = body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(str::len));
    let key = key_end
        .map(|e| &body[..e])
        .filter(|k| !k.is_empty() && !k.starts_with(['"', '\'', '{', '[', '&', '*', '!', '#']));
    let (rest, rest_at) = match key {
        Some(k) => (&body[k.len() + 1..], body_at + k.len() + 1),
        None => (body, body_at),
    };
    Ok(Some(Info {
        indent,
        dash,
        key_col: body_at,
        key,
        rest,
        rest_at,
    }))
}

/// A block mapping: its lines and the column its keys start at.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    col: Option<usize>,
}

struct Doc<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Doc<'a> {
    fn info(&self, i: usize) -> Result<Option<Info<'a>>, String> {
        info(self.lines[i]).map_err(|e| format!("line {}: {e}", i + 1))
    }

    fn find(&self, block: Block, key: &str) -> Result<Option<usize>, String> {
        let Some(col) = block.col else {
            return Ok(None);
        };
        let mut found = None;
        for i in block.start..block.end {
            let Some(l) = self.info(i)? else { continue };
            if l.key_col == col && (!l.dash || i == block.start) && l.key == Some(key) {
                if found.is_some() {
                    return Err(format!("{key} appears twice"));
                }
                found = Some(i);
            }
        }
        Ok(found)
    }

    /// The lines nested under the key at line `i` (indented deeper, or a sequence at the same
    /// indentation).
    fn children(&self, i: usize, end: usize) -> Result<(usize, usize, Option<Info<'a>>), String> {
        let Some(parent) = self.info(i)? else {
            return Err("not a key".into());
        };
        let value = parent.rest.trim();
        if !value.is_empty() && !value.starts_with('#') {
            return Err(format!(
                "{} holds {value:?} where a block is expected",
                parent.key.unwrap_or("?")
            ));
        }
        let mut first = None;
        let mut j = i + 1;
        while j < end {
            if let Some(l) = self.info(j)? {
                let child = l.indent > parent.key_col
                    || (l.indent == parent.key_col && l.dash && !parent.dash);
                if !child {
                    break;
                }
                if first.is_none() {
                    first = Some(l);
                }
            }
            j += 1;
        }
        Ok((i + 1, j, first))
    }

    fn mapping_under(&self, i: usize, end: usize) -> Result<Block, String> {
        let (start, end, first) = self.children(i, end)?;
        match first {
            Some(f) if f.dash => Err("a sequence where a mapping is expected".into()),
            f => Ok(Block {
                start,
                end,
                col: f.map(|f| f.key_col),
            }),
        }
    }

    /// The first item of the sequence under the key at line `i`, or the empty block to insert
    /// it into.
    fn first_item(&self, i: usize, end: usize) -> Result<(Block, bool), String> {
        let (start, end, first) = self.children(i, end)?;
        let Some(first) = first else {
            return Ok((
                Block {
                    start,
                    end,
                    col: None,
                },
                false,
            ));
        };
        if !first.dash {
            return Err("a mapping where a sequence is expected".into());
        }
        let item_start = (start..end)
            .find(|&j| matches!(info(self.lines[j]), Ok(Some(_))))
            .unwrap_or(start);
        let mut item_end = item_start + 1;
        while item_end < end {
            if let Some(l) = self.info(item_end)? {
                if l.indent <= first.indent {
                    break;
                }
            }
            item_end += 1;
        }
        Ok((
            Block {
                start: item_start,
                end: item_end,
                col: Some(first.key_col),
            },
            true,
        ))
    }

    /// Where lines appended to `block` go: after its last non-blank line, else at its start.
    fn append_at(&self, block: Block) -> usize {
        (block.start..block.end)
            .rev()
            .find(|&j| !self.lines[j].trim().is_empty())
            .map_or(block.start, |j| j + 1)
    }
}

fn render(path: &[Seg], value: &str, col: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(col);
    match path {
        [Seg::Key(k)] => out.push(format!("{pad}{k}: \"{value}\"")),
        [Seg::Key(k), Seg::First, rest @ ..] => {
            out.push(format!("{pad}{k}:"));
            render_item(rest, value, col + 2, out);
        }
        [Seg::Key(k), rest @ ..] => {
            out.push(format!("{pad}{k}:"));
            render(rest, value, col + 2, out);
        }
        // A path never starts with First: callers handle items with render_item.
        [Seg::First, rest @ ..] => render_item(rest, value, col, out),
        [] => {}
    }
}

fn render_item(path: &[Seg], value: &str, col: usize, out: &mut Vec<String>) {
    let at = out.len();
    render(path, value, col + 2, out);
    if let Some(first) = out.get_mut(at) {
        first.replace_range(..col + 2, &format!("{}- ", " ".repeat(col)));
    }
}

/// The scalar at `rest` (after `key:`): its byte range inside `rest`, without quotes.
fn scalar(rest: &str) -> Result<std::ops::Range<usize>, String> {
    let lead = rest.len() - rest.trim_start().len();
    let v = &rest[lead..];
    match v.chars().next() {
        None | Some('#') => Err("is a block, expected a value".into()),
        Some(q @ ('"' | '\'')) => {
            let close = v[1..].find(q).ok_or("unterminated quoted value")?;
            Ok(lead + 1..lead + 1 + close)
        }
        Some('{' | '[' | '&' | '*' | '|' | '>' | '!') => {
            Err(format!("holds {v:?}, not a plain value"))
        }
        Some(_) => {
            let end = v.find(" #").unwrap_or(v.len());
            Ok(lead..lead + v[..end].trim_end().len())
        }
    }
}

/// What [`set`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The key held this value (maybe already the wanted one).
    Was(String),
    /// The key did not exist and was added.
    Added,
}

/// Sets the scalar at `path` to `value` in `text`. With `insert`, missing keys are added (at the
/// end of their parent mapping, the value double-quoted as yq writes strings); without, a
/// missing key is an error.
pub fn set(
    text: &str,
    path: &[Seg],
    value: &str,
    insert: bool,
) -> Result<(String, Outcome), String> {
    let doc = Doc {
        lines: text.split('\n').collect(),
    };
    let top_col = (0..doc.lines.len())
        .find_map(|i| doc.info(i).transpose())
        .transpose()?
        .map(|l| l.indent);
    if top_col.is_some_and(|c| c != 0) {
        return Err("the first key is indented".into());
    }
    let mut block = Block {
        start: 0,
        end: doc.lines.len(),
        col: top_col,
    };
    let mut k = 0;
    while k < path.len() {
        let Seg::Key(key) = path[k] else {
            return Err("a path step without a key".into());
        };
        let Some(line) = doc.find(block, key)? else {
            if !insert {
                return Err(format!("{key} is missing"));
            }
            let col = block.col.unwrap_or_else(|| parent_col(&doc, block));
            let mut new = Vec::new();
            if block.col.is_none() && k > 0 && path[k - 1] == Seg::First {
                render_item(&path[k..], value, col, &mut new);
            } else {
                render(&path[k..], value, col, &mut new);
            }
            let at = doc.append_at(block);
            let mut lines: Vec<String> = doc.lines.iter().map(|s| (*s).to_owned()).collect();
            lines.splice(at..at, new);
            return Ok((lines.join("\n"), Outcome::Added));
        };
        if k + 1 == path.len() {
            let l = doc.info(line)?.ok_or("not a key")?;
            let range = scalar(l.rest).map_err(|e| format!("{key} {e}"))?;
            let old = l.rest[range.clone()].to_owned();
            let mut lines: Vec<String> = doc.lines.iter().map(|s| (*s).to_owned()).collect();
            let at = l.rest_at + range.start..l.rest_at + range.end;
            lines[line].replace_range(at, value);
            return Ok((lines.join("\n"), Outcome::Was(old)));
        }
        if path[k + 1] == Seg::First {
            let (item, exists) = doc
                .first_item(line, block.end)
                .map_err(|e| format!("{key}: {e}"))?;
            block = if exists {
                item
            } else {
                Block { col: None, ..item }
            };
            if !exists {
                // Remember where the sequence's parent key is, to indent the new item.
                block.start = line + 1;
            }
            k += 2;
        } else {
            block = doc
                .mapping_under(line, block.end)
                .map_err(|e| format!("{key}: {e}"))?;
            k += 1;
        }
    }
    Err("empty path".into())
}

/// The key column for a new child of an empty block: two deeper than the key line before it.
fn parent_col(doc: &Doc<'_>, block: Block) -> usize {
    block
        .start
        .checked_sub(1)
        .and_then(|i| info(doc.lines[i]).ok().flatten())
        .map_or(0, |l| l.key_col + 2)
}

#[cfg(test)]
mod tests {
    use super::Seg::{First, Key};
    use super::*;

    const LISTEN: [Seg; 5] = [
        Key("mediasoup"),
        Key("webrtc"),
        Key("listenIps"),
        First,
        Key("announcedIp"),
    ];
    const LISTEN_IP: [Seg; 5] = [
        Key("mediasoup"),
        Key("webrtc"),
        Key("listenIps"),
        First,
        Key("ip"),
    ];

    const DEFAULT: &str = "freeswitch:\n  ip: 172.31.5.17\n  sip_ip: 172.31.5.17\n  port: 5066\nmediasoup:\n  webrtc:\n    # announcedIP => public IPv4\n    listenIps:\n      - ip: \"0.0.0.0\"\n        announcedIp: \"172.31.5.17\"\n      # - ip: <some-ipv6>\n    enableUdp: true\n  plainRtp:\n    listenIp:\n      ip: \"0.0.0.0\"\n      announcedIp: \"172.31.5.17\" # internal\n";

    #[test]
    fn sets_existing_values_keeping_quotes_comments_and_other_lines() {
        let (out, was) = set(DEFAULT, &LISTEN, "203.0.113.10", false).unwrap();
        assert_eq!(was, Outcome::Was("172.31.5.17".into()));
        assert_eq!(
            out,
            DEFAULT.replacen(
                "announcedIp: \"172.31.5.17\"",
                "announcedIp: \"203.0.113.10\"",
                1
            )
        );
        let (out, _) = set(&out, &[Key("freeswitch"), Key("ip")], "203.0.113.10", false).unwrap();
        assert!(out.starts_with("freeswitch:\n  ip: 203.0.113.10\n  sip_ip: 172.31.5.17\n"));
        let path = [
            Key("mediasoup"),
            Key("plainRtp"),
            Key("listenIp"),
            Key("announcedIp"),
        ];
        let (out, _) = set(&out, &path, "10.0.1.10", false).unwrap();
        assert!(
            out.ends_with("      announcedIp: \"10.0.1.10\" # internal\n"),
            "{out}"
        );
    }

    #[test]
    fn sequences_at_the_parent_indentation() {
        let text = "mediasoup:\n  webrtc:\n    listenIps:\n    - ip: 0.0.0.0\n      announcedIp: 1.2.3.4\n    enableTcp: false\n";
        let (out, _) = set(text, &LISTEN, "5.6.7.8", false).unwrap();
        assert_eq!(out, text.replace("1.2.3.4", "5.6.7.8"));
    }

    #[test]
    fn inserts_missing_keys_into_an_override() {
        let text = "freeswitch:\n  esl_password: \"abc\"\n";
        let (out, o) = set(text, &[Key("freeswitch"), Key("ip")], "203.0.113.10", true).unwrap();
        assert_eq!(o, Outcome::Added);
        assert_eq!(
            out,
            "freeswitch:\n  esl_password: \"abc\"\n  ip: \"203.0.113.10\"\n"
        );
        let (out, _) = set(&out, &LISTEN_IP, "0.0.0.0", true).unwrap();
        let (out, _) = set(&out, &LISTEN, "203.0.113.10", true).unwrap();
        assert_eq!(
            out,
            "freeswitch:\n  esl_password: \"abc\"\n  ip: \"203.0.113.10\"\nmediasoup:\n  webrtc:\n    listenIps:\n      - ip: \"0.0.0.0\"\n        announcedIp: \"203.0.113.10\"\n"
        );
        // Running again finds every key.
        let (again, o) = set(&out, &LISTEN, "203.0.113.10", true).unwrap();
        assert_eq!(
            (again.as_str(), o),
            (out.as_str(), Outcome::Was("203.0.113.10".into()))
        );
        let (empty, _) = set("", &[Key("freeswitch"), Key("sip_ip")], "1.2.3.4", true).unwrap();
        assert_eq!(empty, "freeswitch:\n  sip_ip: \"1.2.3.4\"\n");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let e = set(DEFAULT, &[Key("freeswitch"), Key("esl_ip")], "x", false).unwrap_err();
        assert!(e.contains("esl_ip is missing"), "{e}");
        let e = set(
            "freeswitch: {ip: 1.2.3.4}\n",
            &[Key("freeswitch"), Key("ip")],
            "x",
            true,
        )
        .unwrap_err();
        assert!(e.contains("where a block is expected"), "{e}");
        let e = set(
            "mediasoup:\n  webrtc:\n    listenIps: []\n",
            &LISTEN,
            "x",
            true,
        )
        .unwrap_err();
        assert!(e.contains("listenIps"), "{e}");
        let e = set("a:\n\tb: 1\n", &[Key("a"), Key("b")], "x", true).unwrap_err();
        assert!(e.contains("tab"), "{e}");
        let e = set(
            "freeswitch:\n  ip: &a 1.2.3.4\n",
            &[Key("freeswitch"), Key("ip")],
            "x",
            true,
        )
        .unwrap_err();
        assert!(e.contains("not a plain value"), "{e}");
    }
}
