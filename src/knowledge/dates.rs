//! The "as of" date of a file whose front matter gives none: the date of the last
//! git commit that changed it when the folder is in a git work tree, else the
//! file's modification time.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDate};
use sha2::{Digest, Sha256};

use super::{CachedFile, Fresh, Parsed};

/// Gives every freshly parsed file without a date its git or modification date.
pub(super) fn fill(
    dir: &Path,
    paths: &[PathBuf],
    metas: &[std::io::Result<std::fs::Metadata>],
    fresh: &mut Fresh,
) {
    let undated: Vec<usize> = fresh
        .iter()
        .filter_map(|(&i, entry)| match entry {
            Ok((
                CachedFile {
                    parsed: Parsed::File(Ok((info, _))),
                    ..
                },
                _,
            )) if info.published.is_none() => Some(i),
            _ => None,
        })
        .collect();
    if undated.is_empty() {
        return;
    }
    let wanted: Vec<&Path> = undated.iter().map(|&i| paths[i].as_path()).collect();
    let from_git = git_dates(dir, &wanted);
    for i in undated {
        let date = from_git.get(&paths[i]).copied().or_else(|| {
            let modified = metas[i].as_ref().ok()?.modified().ok()?;
            Some(DateTime::<Local>::from(modified).date_naive())
        });
        let Some(Ok((entry, _))) = fresh.get_mut(&i) else {
            continue;
        };
        // The date is part of what the file's snippets hold: the index must see
        // a new one as a change.
        let mut h = Sha256::new();
        h.update(entry.hash.as_bytes());
        h.update(format!("{date:?}").as_bytes());
        entry.hash = format!("{:x}", h.finalize());
        if let Parsed::File(Ok((info, snippets))) = &mut entry.parsed {
            info.published = date;
            // One new page record, shared by every snippet of the page again.
            let mut owned: Vec<_> = snippets.to_vec();
            if let Some(first) = owned.first() {
                let mut page = (*first.page).clone();
                page.published = date;
                let page = Arc::new(page);
                for s in &mut owned {
                    s.page = page.clone();
                }
            }
            *snippets = Arc::from(owned);
        }
    }
}

/// The date of the last commit that changed each of `files` (those git knows),
/// walking the history of `dir` newest first and stopping once all are found.
fn git_dates(dir: &Path, files: &[&Path]) -> HashMap<PathBuf, NaiveDate> {
    let Some(top) = work_tree_top(dir) else {
        return HashMap::new();
    };
    let mut want = by_repo_path(files, &top);
    let Some(scope) = scope_in(dir, &top) else {
        return HashMap::new();
    };
    forget_changed(&top, &scope, &mut want);
    if want.is_empty() {
        return HashMap::new();
    }
    last_commit_dates(&top, &scope, want)
}

/// The top folder of the git work tree `dir` is in, if any.
fn work_tree_top(dir: &Path) -> Option<PathBuf> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--show-toplevel"])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .and_then(|t| t.canonicalize().ok())
}

/// `files` by their path in the work tree at `top`, as git writes it; files
/// outside it are left out.
fn by_repo_path(files: &[&Path], top: &Path) -> HashMap<String, PathBuf> {
    files
        .iter()
        .filter_map(|f| {
            let rel = f.canonicalize().ok()?.strip_prefix(top).ok()?.to_path_buf();
            Some((rel.to_string_lossy().replace('\\', "/"), f.to_path_buf()))
        })
        .collect()
}

/// `dir` as a path in the work tree at `top` (`.` for the top itself), what git
/// commands are limited to; `None` when `dir` can't be resolved.
fn scope_in(dir: &Path, top: &Path) -> Option<PathBuf> {
    let scope = dir
        .canonicalize()
        .map(|d| d.strip_prefix(top).map(Path::to_path_buf))
        .ok()?;
    Some(
        scope
            .ok()
            .filter(|s| !s.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from(".")),
    )
}

/// Removes from `want` the files git reports as changed or untracked.
fn forget_changed(top: &Path, scope: &Path, want: &mut HashMap<String, PathBuf>) {
    // A file edited since its last commit, or never committed, is as of its own
    // time (the caller's fallback); looking for it would also walk the whole
    // history, which a live reload after each save can't afford.
    if let Ok(status) = Command::new("git")
        .arg("-C")
        .arg(top)
        .args([
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
        ])
        .arg(scope)
        .stderr(Stdio::null())
        .output()
    {
        for entry in String::from_utf8_lossy(&status.stdout).split('\0') {
            if let Some(path) = entry.get(3..) {
                want.remove(path);
            }
        }
    }
}

/// Walks `git log` over `scope` newest first, dating each file of `want` by the
/// first commit that names it, until all are dated or the history ends.
fn last_commit_dates(
    top: &Path,
    scope: &Path,
    mut want: HashMap<String, PathBuf>,
) -> HashMap<PathBuf, NaiveDate> {
    let mut out = HashMap::new();
    let Ok(mut child) = Command::new("git")
        .arg("-C")
        .arg(top)
        .args([
            "-c",
            "core.quotePath=false",
            "log",
            "--format=%x01%cs",
            "--name-only",
            "--no-renames",
            "--",
        ])
        .arg(scope)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return out;
    };
    if let Some(stdout) = child.stdout.take() {
        let mut date = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(d) = line.strip_prefix('\u{1}') {
                date = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok();
            } else if let (Some(d), Some(path)) = (date, want.remove(line.trim())) {
                out.insert(path, d);
                if want.is_empty() {
                    break;
                }
            }
        }
    }
    // Done early or not, git need not walk the rest of the history.
    let _ = child.kill();
    let _ = child.wait();
    out
}

#[cfg(test)]
mod tests {
    use super::super::git::tests::{run as git, run_with};
    use super::*;

    #[test]
    fn dates_come_from_the_last_commit_then_the_file_time() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        git(root, &["init", "-q"]);
        let docs = root.join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("old.md"), "# Old\n\nFirst.\n").unwrap();
        std::fs::write(docs.join("new.md"), "# New\n\nFirst.\n").unwrap();
        git(root, &["add", "."]);
        run_with(
            root,
            &["commit", "-q", "-m", "one"],
            &[("GIT_COMMITTER_DATE", "2021-02-03T10:00:00Z")],
        );
        std::fs::write(docs.join("new.md"), "# New\n\nSecond.\n").unwrap();
        git(root, &["commit", "-q", "-am", "two"]);
        std::fs::write(docs.join("untracked.md"), "# Untracked\n\nText.\n").unwrap();
        std::fs::write(docs.join("edited.md"), "# Edited\n\nOld.\n").unwrap();
        run_with(root, &["add", "docs/edited.md"], &[]);
        run_with(
            root,
            &["commit", "-q", "-m", "three"],
            &[("GIT_COMMITTER_DATE", "2022-05-06T10:00:00Z")],
        );
        // Saved since its last commit: as of now, not of that commit.
        std::fs::write(docs.join("edited.md"), "# Edited\n\nNew.\n").unwrap();

        let kb = super::super::load(&docs).unwrap();
        let date = |f: &str| {
            kb.files
                .iter()
                .find(|i| i.file.ends_with(f))
                .unwrap()
                .published
                .unwrap()
        };
        let today = Local::now().date_naive();
        assert_eq!(date("old.md"), NaiveDate::from_ymd_opt(2021, 2, 3).unwrap());
        assert_eq!(date("new.md"), today);
        assert_eq!(date("untracked.md"), today);
        assert_eq!(date("edited.md"), today);
        assert!(kb.snippets().all(|s| s.page.published.is_some()));
        // Outside a work tree: the file's time.
        let plain = tempfile::tempdir().unwrap();
        std::fs::write(plain.path().join("a.md"), "Text.\n").unwrap();
        let kb = super::super::load(plain.path()).unwrap();
        assert_eq!(kb.files[0].published, Some(today));
    }
}
