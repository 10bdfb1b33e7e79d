//! Which playback formats BBB will publish for a recording, read from its `steps:` setting.
//!
//! Upstream (bigbluebutton/bigbluebutton, BBB 3.0): `record-and-playback/core/lib/
//! recordandplayback.rb` `read_props` loads `core/scripts/bigbluebutton.yml` and merges
//! `/etc/bigbluebutton/recording/recording.yml` over it key by key, so an override's `steps:`
//! replaces the default one whole. `workers/base_worker.rb` `schedule_next_step` queues every
//! step listed after the current one; BBB's documentation enables the video format by listing
//! `process:presentation` and `process:video` after `captions`, so both process jobs are queued at
//! once. With the one default worker (`bbb-rap-resque-worker.service`:
//! `QUEUE=rap:archive,rap:publish,rap:process,...`, `COUNT=1`) presentation is published, and
//! Scalelite's post_publish copy made, while `process:video` still waits in Redis without a mark.
//! Knowing the formats the steps publish is what tells that wait apart from the end.
//!
//! A format counts only when its publish script `core/scripts/publish/<format>.rb` is installed:
//! `workers/publish_worker.rb` writes no mark at all for a format without one.

use std::collections::BTreeSet;
use std::path::Path;

/// BBB's default steps file inside its scripts directory.
const DEFAULT_FILE: &str = "bigbluebutton.yml";

/// The formats whose `publish:<format>` step BBB's effective `steps:` list and whose publish
/// script is installed, sorted. Empty when neither file can be read or names a publish step.
pub fn expected_formats(scripts_dir: &Path, override_file: &Path) -> Vec<String> {
    let block = read(override_file)
        .as_deref()
        .and_then(steps_block)
        .or_else(|| {
            read(&scripts_dir.join(DEFAULT_FILE))
                .as_deref()
                .and_then(steps_block)
        });
    let Some(block) = block else {
        return Vec::new();
    };
    publish_steps(&block)
        .into_iter()
        .filter(|f| {
            scripts_dir
                .join("publish")
                .join(format!("{f}.rb"))
                .is_file()
        })
        .collect()
}

fn read(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read BBB's recording steps");
            None
        }
    }
}

/// The text of the top-level `steps:` key (its line's rest and the indented lines below).
fn steps_block(text: &str) -> Option<String> {
    let mut lines = text.lines();
    let first = lines.by_ref().find_map(|l| l.strip_prefix("steps:"))?;
    let mut out = format!("{first}\n");
    for line in lines {
        if line
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#')
        {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

/// Every `publish:<format>` named in a steps block, comments left out.
fn publish_steps(block: &str) -> BTreeSet<String> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = BTreeSet::new();
    for line in block.lines() {
        let line = match line.find('#') {
            Some(i) => &line[..i],
            None => line,
        };
        let mut rest = line;
        while let Some(i) = rest.find("publish:") {
            let before = rest[..i].chars().next_back();
            let after = &rest[i + "publish:".len()..];
            let name: String = after.chars().take_while(|c| name_char(*c)).collect();
            if !before.is_some_and(name_char) && !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// BBB 3.0.9's `core/scripts/bigbluebutton.yml` steps, as shipped.
    const DEFAULT: &str = "bbb_version: '3.0.9'\nsteps:\n  archive: \"sanity\"\n  \
        sanity: \"captions\"\n  captions: \"process:presentation\"\n  \
        \"process:presentation\": \"publish:presentation\"\n\n# For PRODUCTION\n\
        log_dir: /var/log/bigbluebutton\n";

    /// The override BBB's documentation writes to enable the video format.
    const WITH_VIDEO: &str = "steps:\n  archive: \"sanity\"\n  sanity: \"captions\"\n  \
        captions:\n    - process:presentation\n    - process:video\n  \
        process:presentation: publish:presentation\n  process:video: publish:video\n";

    fn scripts(formats: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("publish")).unwrap();
        fs::write(d.path().join(DEFAULT_FILE), DEFAULT).unwrap();
        for f in formats {
            fs::write(d.path().join(format!("publish/{f}.rb")), "").unwrap();
        }
        d
    }

    #[test]
    fn default_steps_publish_presentation() {
        let d = scripts(&["presentation"]);
        let none = d.path().join("no-override.yml");
        assert_eq!(expected_formats(d.path(), &none), vec!["presentation"]);
    }

    #[test]
    fn the_override_replaces_the_default_steps() {
        let d = scripts(&["presentation", "video"]);
        let over = d.path().join("recording.yml");
        fs::write(&over, WITH_VIDEO).unwrap();
        assert_eq!(
            expected_formats(d.path(), &over),
            vec!["presentation", "video"]
        );
        // Another key alone in the override keeps the default steps.
        fs::write(&over, "playback_host: bbb.example.org\n").unwrap();
        assert_eq!(expected_formats(d.path(), &over), vec!["presentation"]);
        // Flow style, quotes, a commented-out format.
        fs::write(
            &over,
            "steps: {archive: sanity, sanity: captions, captions: ['process:video'], \
             'process:video': 'publish:video'}\n# 'process:presentation': 'publish:presentation'\n",
        )
        .unwrap();
        assert_eq!(expected_formats(d.path(), &over), vec!["video"]);
    }

    #[test]
    fn a_format_without_its_publish_script_is_not_expected() {
        let d = scripts(&["presentation"]);
        let over = d.path().join("recording.yml");
        fs::write(&over, WITH_VIDEO).unwrap();
        assert_eq!(expected_formats(d.path(), &over), vec!["presentation"]);
    }

    #[test]
    fn nothing_readable_expects_nothing() {
        let d = tempfile::tempdir().unwrap();
        assert!(expected_formats(d.path(), &d.path().join("x.yml")).is_empty());
    }
}
