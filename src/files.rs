//! The bot's private files (session, recovery key, feedback log, question
//! journal): readable and writable by their owner only, since they hold an
//! access token, a key, or who asked what. And the scratch folders tests and
//! fuzzing name by their process, removed once that process has ended.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Opens `path` for appending (`truncate`: emptied for writing instead),
/// created readable and writable by its owner only (and made so if it was not):
/// the bot's records of who asked what.
pub(crate) fn open_private(path: &Path, truncate: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true);
    if truncate {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// Writes a secret file atomically (temp file, then rename), readable by the
/// owner only.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = open_private(&tmp, true).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("saving {}", path.display()))?;
    Ok(())
}

/// Removes the folders in the temporary folder named `prefix` then the id of
/// a process that has ended (`citebot-synapse-4711-x9Qz`): a process's
/// scratch kept in a `static` is never dropped, so each run would leave its
/// own behind. Only where `/proc` tells which processes run.
pub fn remove_scratch_of_ended_processes(prefix: &str) {
    let proc = Path::new("/proc");
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let pid = (name.to_string_lossy().strip_prefix(prefix))
            .map(|rest| rest.split('-').next().unwrap_or("").to_string())
            .and_then(|p| p.parse::<u32>().ok());
        let ended = pid.is_some_and(|p| proc.is_dir() && !proc.join(p.to_string()).exists());
        if ended {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether `path` names the file `file` has open: `false` only when it names
/// another file or none. When that can't be told (an error reading either,
/// or not on Unix, where only a missing file is seen), it is taken to.
pub(crate) fn same_file(file: &File, path: &Path) -> bool {
    let named = match std::fs::metadata(path) {
        Ok(named) => named,
        Err(e) => return e.kind() != std::io::ErrorKind::NotFound,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().map_or(true, |open| {
            open.dev() == named.dev() && open.ino() == named.ino()
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (file, named);
        true
    }
}
