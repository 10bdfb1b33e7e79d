//! Writing configuration files atomically (a temporary file beside the target, synced, then
//! renamed over it) with the target's mode and owner, and the address on `lo` for EC2's 1:1 NAT.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::error::HookError;

fn io(path: &Path, what: &str, e: std::io::Error) -> HookError {
    HookError::Io(format!("{what} {}: {e}", path.display()))
}

/// Reads a file; `Ok(None)` when it does not exist.
pub fn read(path: &Path) -> Result<Option<String>, HookError> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, "cannot read", e)),
    }
}

/// How a written file's mode and group are chosen.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// The existing file's mode and owner; for a new file this mode and group.
    KeepOr(u32, Option<u32>),
    /// Always this mode and group (a file holding a secret).
    Force(u32, u32),
}

/// Replaces `path` with `text` atomically, mode and owner as `access` says.
pub fn write(path: &Path, text: &str, access: Access) -> Result<(), HookError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    if !dir.exists() {
        // BBB's services read these directories as their own users (bbb-webrtc-sfu runs as
        // bigbluebutton with /etc/bigbluebutton/bbb-webrtc-sfu in NODE_CONFIG_DIR): 0755 as
        // `mkdir -p` gives them, not the unit's UMask=0077.
        fs::create_dir_all(dir).map_err(|e| io(dir, "cannot create", e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
            .map_err(|e| io(dir, "cannot set the mode of", e))?;
    }
    let existing = fs::metadata(path).ok();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.bbb-hook.tmp"));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io(&tmp, "cannot create", e))?;
        let (mode, uid, gid) = match (access, &existing) {
            (Access::Force(mode, gid), _) => (mode, None, Some(gid)),
            (Access::KeepOr(..), Some(m)) => (m.mode() & 0o7777, Some(m.uid()), Some(m.gid())),
            (Access::KeepOr(mode, gid), None) => (mode, None, gid),
        };
        // The mode first: once the file is someone else's, changing it needs CAP_FOWNER.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| io(&tmp, "cannot chmod", e))?;
        if uid.is_some() || gid.is_some() {
            let current = f.metadata().map_err(|e| io(&tmp, "cannot stat", e))?;
            if uid.is_some_and(|u| u != current.uid()) || gid.is_some_and(|g| g != current.gid()) {
                std::os::unix::fs::fchown(&f, uid, gid)
                    .map_err(|e| io(path, "cannot set the owner of", e))?;
            }
        }
        f.write_all(text.as_bytes())
            .map_err(|e| io(&tmp, "cannot write", e))?;
        f.sync_all().map_err(|e| io(&tmp, "cannot sync", e))?;
        fs::rename(&tmp, path).map_err(|e| io(path, "cannot replace", e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The id of group `name` from `group_file` (`/etc/group` format).
pub fn group_id(group_file: &Path, name: &str) -> Result<u32, HookError> {
    let text = read(group_file)?.unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let n = f.next()?;
            let gid = f.nth(1)?;
            (n == name).then(|| gid.parse().ok()).flatten()
        })
        .next()
        .ok_or_else(|| {
            HookError::Config(format!(
                "group {name} does not exist in {}",
                group_file.display()
            ))
        })
}

/// The label the addresses this hook puts on `lo` carry, so that they can be found again.
pub const LO_LABEL: &str = "lo:bbbnat";

/// Runs the `ip` command; its standard output.
fn ip(program: &Path, args: &[&str]) -> Result<String, HookError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| HookError::Io(format!("cannot run {}: {e}", program.display())))?;
    if !out.status.success() {
        return Err(HookError::Io(format!(
            "{} {} failed ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The IPv4 addresses on `lo` that carry [`LO_LABEL`] (`ip -4 -o addr show dev lo`).
pub fn lo_addresses(program: &Path) -> Result<Vec<String>, HookError> {
    let out = ip(program, &["-4", "-o", "addr", "show", "dev", "lo"])?;
    Ok(out
        .lines()
        .filter(|l| {
            // `ip -o` ends each line's fields with `\` glued to the label.
            l.split_whitespace()
                .any(|t| t.trim_end_matches('\\') == LO_LABEL)
        })
        .filter_map(|l| {
            let mut t = l.split_whitespace().skip_while(|t| *t != "inet");
            t.next()?;
            t.next().map(str::to_owned)
        })
        .collect())
}

/// Makes `want` (`a.b.c.d/32`, or none) the only labelled address on `lo`; what it changed.
pub fn ensure_lo_address(program: &Path, want: Option<&str>) -> Result<Vec<String>, HookError> {
    let have = lo_addresses(program)?;
    let mut changed = Vec::new();
    for old in have.iter().filter(|a| Some(a.as_str()) != want) {
        ip(
            program,
            &["-4", "addr", "del", old, "dev", "lo", "label", LO_LABEL],
        )?;
        changed.push(format!("removed {old}"));
    }
    if let Some(want) = want.filter(|w| !have.iter().any(|h| h == w)) {
        ip(
            program,
            &["-4", "addr", "add", want, "dev", "lo", "label", LO_LABEL],
        )?;
        changed.push(format!("added {want}"));
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directory_is_created_readable_by_bbbs_services() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("bbb-webrtc-sfu/production.yml");
        write(
            &path,
            "freeswitch:\n  ip: 203.0.113.10\n",
            Access::KeepOr(0o644, None),
        )
        .unwrap();
        let mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "freeswitch:\n  ip: 203.0.113.10\n"
        );
    }
}
