//! The fleet's ownership mark on its DNS names: a TXT record next to each instance's A record,
//! after external-dns's TXT registry (`"heritage=external-dns,external-dns/owner=<id>"`):
//! `"heritage=bbb-fleet,bbb-fleet/owner=<autoscaling group name>"`. The on-instance hook writes
//! and deletes it together with the A record (one atomic change); `bbb_fleet` heals only names
//! that carry its own group's mark, so it never touches another fleet's records on a shared
//! domain, nor records someone else made that merely follow the naming scheme.

use super::route53::{ChangeAction, DnsRecord, TxtRecordChange};

/// The `heritage` of the fleet's marks.
pub const HERITAGE: &str = "bbb-fleet";
const OWNER_KEY: &str = "bbb-fleet/owner=";
/// Longest character string of a TXT record (RFC 1035 3.3.14).
const MAX_STRING: usize = 255;

/// The mark's text for `owner` (the Auto Scaling group's name), before TXT quoting.
pub fn mark_text(owner: &str) -> String {
    format!("heritage={HERITAGE},{OWNER_KEY}{owner}")
}

/// The mark as a Route53 TXT value: quoted character strings of at most 255 bytes (a long group
/// name needs two), `"` and `\` escaped, bytes outside printable ASCII as `\ooo`, as Route53
/// documents for TXT values.
pub fn txt_value(owner: &str) -> String {
    let text = mark_text(owner);
    text.as_bytes()
        .chunks(MAX_STRING)
        .map(|chunk| {
            let mut s = String::from("\"");
            for &b in chunk {
                match b {
                    b'"' => s.push_str("\\\""),
                    b'\\' => s.push_str("\\\\"),
                    0x20..=0x7e => s.push(b as char),
                    _ => s.push_str(&format!("\\{b:03o}")),
                }
            }
            s.push('"');
            s
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of a Route53 TXT value: its quoted character strings, unescaped and joined.
/// `None` when the value is not made of quoted strings.
fn txt_text(value: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut chars = value.trim().bytes().peekable();
    loop {
        while chars.peek() == Some(&b' ') {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(b'"') => {}
            Some(_) => return None,
        }
        loop {
            match chars.next()? {
                b'"' => break,
                b'\\' => {
                    let first = chars.next()?;
                    if first.is_ascii_digit() {
                        let (d2, d3) = (chars.next()?, chars.next()?);
                        let digits = [first, d2, d3];
                        let text = std::str::from_utf8(&digits).ok()?;
                        bytes.push(u8::from_str_radix(text, 8).ok()?);
                    } else {
                        bytes.push(first);
                    }
                }
                b => bytes.push(b),
            }
        }
    }
    String::from_utf8(bytes).ok()
}

/// The owner a TXT value marks, when it is a fleet mark.
pub fn owner_of(value: &str) -> Option<String> {
    let text = txt_text(value)?;
    let rest = text.strip_prefix(&format!("heritage={HERITAGE},"))?;
    // Other keys may precede the owner (external-dns adds some); the owner is last.
    let at = rest.find(OWNER_KEY)?;
    Some(rest[at + OWNER_KEY.len()..].to_owned())
}

/// Whether `records` hold `owner`'s mark on `name` (lower case, no trailing dot).
pub fn owned_by(records: &[DnsRecord], name: &str, owner: &str) -> bool {
    mark_of(records, name).is_some_and(|r| {
        r.values
            .iter()
            .any(|v| owner_of(v).as_deref() == Some(owner))
    })
}

/// The TXT record on `name` holding a fleet mark (of any owner), if any.
pub fn mark_of<'a>(records: &'a [DnsRecord], name: &str) -> Option<&'a DnsRecord> {
    records.iter().find(|r| {
        r.record_type == "TXT"
            && r.name == name
            && !r.alias
            && r.set_identifier.is_none()
            && r.values.iter().any(|v| owner_of(v).is_some())
    })
}

/// The change that writes `owner`'s mark on `name`.
pub fn upsert(name: impl Into<String>, owner: &str, ttl: u32) -> TxtRecordChange {
    TxtRecordChange {
        action: ChangeAction::Upsert,
        name: name.into(),
        value: txt_value(owner),
        ttl,
    }
}

/// The change that deletes the TXT record `record` exactly as Route53 holds it (a DELETE must
/// match name, value and TTL). `None` for a record of several values, which is not a mark the
/// hook wrote.
pub fn delete(record: &DnsRecord) -> Option<TxtRecordChange> {
    let [value] = record.values.as_slice() else {
        return None;
    };
    Some(TxtRecordChange {
        action: ChangeAction::Delete,
        name: record.name.clone(),
        value: value.clone(),
        ttl: record.ttl.and_then(|t| u32::try_from(t).ok()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(name: &str, value: &str) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            record_type: "TXT".into(),
            ttl: Some(60),
            values: vec![value.into()],
            set_identifier: None,
            alias: false,
        }
    }

    #[test]
    fn the_mark_round_trips_through_route53s_txt_form() {
        assert_eq!(
            txt_value("bbb-main"),
            "\"heritage=bbb-fleet,bbb-fleet/owner=bbb-main\""
        );
        for owner in [
            "bbb-main",
            "team \"a\" \\ b, c",
            "grüne-gruppe",
            &"x".repeat(255),
        ] {
            assert_eq!(
                owner_of(&txt_value(owner)).as_deref(),
                Some(owner),
                "{owner}"
            );
        }
        // A long owner takes two character strings, none longer than 255 bytes.
        let long = txt_value(&"x".repeat(255));
        assert_eq!(long.matches("\" \"").count(), 1, "{long}");
        // Route53 answers non-ASCII octal-escaped.
        assert_eq!(
            owner_of("\"heritage=bbb-fleet,bbb-fleet/owner=gr\\303\\274n\"").as_deref(),
            Some("grün")
        );
    }

    #[test]
    fn only_a_fleet_mark_names_an_owner() {
        assert_eq!(owner_of("\"v=spf1 -all\""), None);
        assert_eq!(
            owner_of("\"heritage=external-dns,external-dns/owner=x\""),
            None
        );
        assert_eq!(owner_of("unquoted"), None);
        assert_eq!(
            owner_of("\"heritage=bbb-fleet,other=1,bbb-fleet/owner=g\"").as_deref(),
            Some("g")
        );
    }

    #[test]
    fn ownership_is_per_name_and_owner() {
        let records = vec![
            txt("a.example.org", &txt_value("main")),
            txt("b.example.org", &txt_value("exams")),
            txt("c.example.org", "\"v=spf1 -all\""),
        ];
        assert!(owned_by(&records, "a.example.org", "main"));
        assert!(
            !owned_by(&records, "b.example.org", "main"),
            "another fleet's"
        );
        assert!(!owned_by(&records, "c.example.org", "main"));
        assert!(!owned_by(&records, "d.example.org", "main"), "no mark");
        let d = delete(mark_of(&records, "a.example.org").expect("mark")).expect("delete");
        assert_eq!((d.action, d.ttl), (ChangeAction::Delete, 60));
        assert_eq!(d.value, txt_value("main"));
    }
}
