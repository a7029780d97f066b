//! Docs kept in a git repository (`[[knowledge.sources]]` with `git`), against the
//! running bot: the repository is cloned at start and answered from, a commit
//! pushed to it is answered after the next pull without a restart, and a push
//! that breaks a page keeps its last good version served while `!status` names it.

use std::path::Path;
use std::process::Command;

use crate::harness::*;

const QUESTION: &str = "Where do new starters collect their laptop?";

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "maintainer")
        .env("GIT_AUTHOR_EMAIL", "maintainer@example.org")
        .env("GIT_COMMITTER_NAME", "maintainer")
        .env("GIT_COMMITTER_EMAIL", "maintainer@example.org")
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

/// Commits `text` as `docs/onboarding.md` and pushes it, as a merged pull request would.
fn push(work: &Path, text: &str) {
    std::fs::create_dir_all(work.join("docs")).unwrap();
    std::fs::write(work.join("docs/onboarding.md"), text).unwrap();
    git(work, &["add", "-A"]);
    git(work, &["commit", "--quiet", "-m", "update onboarding"]);
    git(work, &["push", "--quiet", "origin", "main"]);
}

fn page(desk: &str) -> String {
    format!(
        "# Onboarding\n\n## Laptops\n\nNew starters collect their laptop from the {desk} on their first morning.\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_source_is_cloned_pulled_and_its_last_good_pages_served() {
    let repo = tempfile::tempdir().unwrap();
    let bare = repo.path().join("handbook.git");
    let work = repo.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(
        repo.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "handbook.git",
        ],
    );
    git(&work, &["init", "--quiet", "--initial-branch=main"]);
    git(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
    std::fs::create_dir_all(work.join("docs/changelogs")).unwrap();
    std::fs::write(
        work.join("docs/changelogs/old.md"),
        "# Old\n\nNew starters used to collect laptops from the badger desk.\n",
    )
    .unwrap();
    push(&work, &page("quokka desk"));

    let url = bare.to_str().unwrap().to_string();
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, move |c| {
        c.knowledge.sources.push(
            toml::from_str(&format!(
                "git = {url:?}\nbranch = \"main\"\npath = \"docs\"\ncollection = \"handbook\"\n\
                 name = \"Team handbook\"\npull_interval_secs = 1\nexclude = [\"changelogs/**\"]\n\
                 url_base = \"https://handbook.example.org/\""
            ))
            .unwrap(),
        );
    })
    .await;

    // Cloned at start and answered, cited to the page and its published address.
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("quokka desk")
    })
    .await;
    assert!(r.body().contains("handbook/onboarding.md"), "{}", r.body());
    assert!(r.body().contains("Team handbook"), "{}", r.body());
    assert!(
        r.body()
            .contains("https://handbook.example.org/onboarding.html#laptops"),
        "{}",
        r.body()
    );
    assert!(!r.body().contains("badger"), "excluded: {}", r.body());

    // A merged change is answered after the next pull, without a restart.
    push(&work, &page("wombat desk"));
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("wombat desk")
    })
    .await;
    assert!(!r.body().contains("quokka"), "{}", r.body());

    // A push that breaks the page: its last good version is still served.
    push(
        &work,
        "+++\ntitle = \"Onboarding\"\n\nNew starters collect their laptop from the ferret desk.\n",
    );
    let status = ask_until(&mut alice, &bot, &room, "!status", WAIT, |r| {
        r.body().contains("handbook/onboarding.md:1:")
    })
    .await;
    assert!(
        status.body().contains("Source handbook: pulled"),
        "{}",
        status.body()
    );
    let (_, r) = ask(&mut alice, &bot, &room, QUESTION).await;
    assert!(r.body().contains("wombat desk"), "{}", r.body());
    assert!(!r.body().contains("ferret"), "{}", r.body());
    running.stop().await;
}
