//! The binary as `cargo install` puts it, run with the checkout moved away:
//! `citebot run` must need nothing of the source tree (no script, no folder
//! found through the path it was built at). `.ci/run` installs the binary and
//! runs this test alone; `cargo test` skips it, since moving the checkout would
//! pull it from under the tests running beside it.

use std::path::{Path, PathBuf};

use crate::harness::*;

/// Renames the checkout for as long as it lives; renames it back when dropped,
/// on a failing assertion too.
struct MovedAway {
    checkout: PathBuf,
    away: PathBuf,
}

impl MovedAway {
    fn new(checkout: &Path) -> MovedAway {
        let mut away = checkout.as_os_str().to_owned();
        away.push(format!(".moved-away-{}", std::process::id()));
        let away = PathBuf::from(away);
        std::fs::rename(checkout, &away).expect("moving the checkout away");
        MovedAway {
            checkout: checkout.to_path_buf(),
            away,
        }
    }
}

impl Drop for MovedAway {
    fn drop(&mut self) {
        if let Err(e) = std::fs::rename(&self.away, &self.checkout) {
            eprintln!(
                "could not move {} back to {}: {e}",
                self.away.display(),
                self.checkout.display()
            );
        }
    }
}

/// `CITEBOT_INSTALLED` (the `bin/citebot` of `cargo install --root DIR`) runs
/// the bot from a folder of its own while the checkout is renamed: it logs in,
/// joins a direct chat and answers from its knowledge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run alone by .ci/run after `cargo install`: it moves the checkout away"]
async fn an_installed_binary_answers_with_the_checkout_moved_away() {
    let installed = PathBuf::from(
        std::env::var_os("CITEBOT_INSTALLED")
            .expect("CITEBOT_INSTALLED: the path of the installed citebot binary"),
    );
    assert!(
        !installed.starts_with(env!("CARGO_MANIFEST_DIR")),
        "the installed binary must live outside the checkout"
    );
    // Everything that comes from the checkout is set up before it moves:
    // Synapse (its venv and script), the people, the knowledge files.
    let hs = synapse().await;
    let mut alice = human("alice").await;
    let bot_name = unique("citebot-installed");
    hs.register(&bot_name, PASSWORD, false).await.unwrap();
    let bot_id = hs.user_id(&bot_name);
    let home = tempfile::TempDir::with_prefix("citebot-installed-").unwrap();
    let knowledge = knowledge();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\nhomeserver = {:?}\nuser = {bot_name:?}\ndata_dir = \"state\"\n\
             [access]\nallowed_inviters = [\"@*:localhost\"]\n\
             [search]\nknowledge_dir = {:?}\nindex_dir = \"index\"\nsemantic_model = \"\"\n",
            hs.url,
            knowledge.path().display().to_string(),
        ),
    )
    .unwrap();
    let log = home.path().join("bot.log");
    let out = std::fs::File::create(&log).unwrap();

    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let _away = MovedAway::new(checkout);
    assert!(!checkout.exists());
    let _bot = tokio::process::Command::new(&installed)
        .current_dir(home.path())
        .env_remove("CITEBOT_SYNAPSE_SCRIPT")
        .env("CITEBOT_PASSWORD", PASSWORD)
        .env("RUST_LOG", "citebot=debug")
        .arg("run")
        .arg("--config")
        .arg(&config)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .expect("starting the installed citebot");
    let dm = room_with(&mut alice, &bot_id, Meet::Dm).await;
    let question = alice.say(&dm, EMPEROR).await.unwrap();
    let reply = alice
        .reply_from(&bot_id, question.as_str(), WAIT)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "no reply from the installed bot: {e:#}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    assert!(
        home.path().join("index/meta.json").exists(),
        "the index is built where the config says, beside the config"
    );
}
