//! Knowledge kept in a git repository: cloned once into the bot's data folder,
//! then brought up to the remote branch on each pull, so maintainers update
//! knowledge through ordinary pull requests. Runs the `git` program: credentials,
//! SSH keys and proxies work as they do for the people who run the bot.

use std::path::Path;
use std::process::Command;

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// The repository was cloned, at this commit.
    Cloned(String),
    /// The checkout moved from one commit to another.
    Updated { from: String, to: String },
    /// Nothing new.
    Unchanged(String),
}

impl Synced {
    /// Whether the files may have changed.
    pub fn changed(&self) -> bool {
        !matches!(self, Synced::Unchanged(_))
    }
}

fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    // Never wait for a password prompt: a bot has no one to type it.
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        Err(format!("git {}: {}", args[0], last.trim()))
    }
}

/// Clones `url` into `checkout` when it is not there yet, else fetches `branch`
/// (the remote's default branch when `None`) and moves the checkout to it, also
/// when the branch was rewritten. A failure leaves the checkout as it was: the
/// bot keeps serving the last good files.
pub fn sync(url: &str, branch: Option<&str>, checkout: &Path) -> Result<Synced, String> {
    if !checkout.join(".git").exists() {
        if let Some(parent) = checkout.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // Clone beside it and rename: a clone cut short leaves no half checkout.
        let partial = checkout.with_extension("cloning");
        let _ = std::fs::remove_dir_all(&partial);
        let target = partial.to_string_lossy().into_owned();
        let mut args = vec!["clone", "--quiet", "--single-branch"];
        if let Some(b) = branch {
            args.extend(["--branch", b]);
        }
        args.extend([url, target.as_str()]);
        git(None, &args)?;
        std::fs::rename(&partial, checkout).map_err(|e| format!("{}: {e}", checkout.display()))?;
        return Ok(Synced::Cloned(git(Some(checkout), &["rev-parse", "HEAD"])?));
    }
    let before = git(Some(checkout), &["rev-parse", "HEAD"])?;
    let mut args = vec!["fetch", "--quiet", "origin"];
    if let Some(b) = branch {
        args.push(b);
    }
    git(Some(checkout), &args)?;
    git(
        Some(checkout),
        &["reset", "--quiet", "--hard", "FETCH_HEAD"],
    )?;
    let after = git(Some(checkout), &["rev-parse", "HEAD"])?;
    Ok(if after == before {
        Synced::Unchanged(after)
    } else {
        Synced::Updated {
            from: before,
            to: after,
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Runs git in `dir` with a fixed identity; panics on failure.
    pub(crate) fn run(dir: &Path, args: &[&str]) {
        run_with(dir, args, &[]);
    }

    /// [`run`] with more environment (`GIT_COMMITTER_DATE`…).
    pub(crate) fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .envs(env.iter().copied())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }

    /// A bare repository (the "remote") and a work tree that pushes to it.
    pub(crate) fn remote(root: &Path) -> (PathBuf, PathBuf) {
        let bare = root.join("docs.git");
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        run(
            root,
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "docs.git",
            ],
        );
        run(&work, &["init", "--quiet", "--initial-branch=main"]);
        run(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
        (bare, work)
    }

    pub(crate) fn commit(work: &Path, file: &str, text: &str) {
        let path = work.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        run(work, &["add", "-A"]);
        run(work, &["commit", "--quiet", "-m", "edit"]);
        run(work, &["push", "--quiet", "origin", "main"]);
    }

    #[test]
    fn clones_then_follows_the_branch_and_keeps_the_checkout_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (bare, work) = remote(dir.path());
        commit(&work, "docs/a.md", "# A\n\nFirst.\n");
        let checkout = dir.path().join("data/sources/docs");
        let url = bare.to_str().unwrap();
        assert!(matches!(
            sync(url, Some("main"), &checkout).unwrap(),
            Synced::Cloned(_)
        ));
        assert_eq!(
            std::fs::read_to_string(checkout.join("docs/a.md")).unwrap(),
            "# A\n\nFirst.\n"
        );
        assert!(matches!(
            sync(url, Some("main"), &checkout).unwrap(),
            Synced::Unchanged(_)
        ));
        commit(&work, "docs/a.md", "# A\n\nSecond.\n");
        assert!(sync(url, Some("main"), &checkout).unwrap().changed());
        assert!(
            std::fs::read_to_string(checkout.join("docs/a.md"))
                .unwrap()
                .contains("Second")
        );
        // The remote gone: an error, and the files stay.
        std::fs::rename(&bare, dir.path().join("moved.git")).unwrap();
        let err = sync(url, Some("main"), &checkout).unwrap_err();
        assert!(err.starts_with("git fetch"), "{err}");
        assert!(
            std::fs::read_to_string(checkout.join("docs/a.md"))
                .unwrap()
                .contains("Second")
        );
        // A clone that fails leaves nothing behind.
        let other = dir.path().join("data/sources/other");
        assert!(sync(url, None, &other).is_err());
        assert!(!other.exists());
    }
}
