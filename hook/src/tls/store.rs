//! The installed certificate file, `$BBB_TLS_DIR/bbb.pem`, replaced atomically.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::cert::{self, Bundle};
use crate::error::HookError;

/// The file nginx reads (both `ssl_certificate` and `ssl_certificate_key`).
pub const FILE_NAME: &str = "bbb.pem";

pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// The installed certificate: `None` when there is none, `Some(Err(reason))` when the file is
/// unreadable or damaged.
pub fn read(dir: &Path) -> Option<Result<Bundle, String>> {
    let file = path(dir);
    match std::fs::read_to_string(&file) {
        Ok(text) => Some(cert::parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(format!("cannot read {}: {e}", file.display()))),
    }
}

/// Replaces the installed file with `bundle` (mode 0600): a temporary file in the same
/// directory, flushed, then renamed over the old one, so nginx never reads half a file.
pub fn write(dir: &Path, bundle: &Bundle) -> Result<(), HookError> {
    let file = path(dir);
    let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
    let io = |e: std::io::Error| HookError::Io(format!("cannot write {}: {e}", file.display()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(bundle.pem.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, &file).map_err(io)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
