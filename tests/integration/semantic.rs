//! The semantic model as shipped (`scripts/model`): on when installed, off when
//! told, its passage vectors kept beside the index; and the bot ranking by
//! meaning through a real Synapse, embedding new passages in the background.

use std::path::Path;

use crate::cli::citebot;
use crate::harness::{Meet, WAIT, ask, ask_until, human, semantic_model, start_bot};

/// Two passages a question's words match equally: only meaning ("puppies")
/// tells the right one, which comes second in the file.
const SHELTER: &str = "+++\ntitle = \"The animal shelter\"\nsource = \"Shelter handbook\"\npublished = 2026-01-10\n+++\n\n## Cats\n\nThe shelter looks after cats. Volunteers come every morning and every evening.\n\n## Dogs\n\nThe shelter looks after dogs. Volunteers come every morning and every evening.\n";

const PUPPIES: &str =
    "do volunteers come every morning and every evening to the shelter's puppies?";

/// The heading of the first passage of `citebot ask --json` run with `args`.
fn first_heading(dir: &Path, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend(["ask", "--json", PUPPIES]);
    let out = citebot(dir, &all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["passages"][0]["citation"]["heading"]
        .as_str()
        .unwrap_or("-")
        .to_string()
}

#[test]
fn the_installed_model_ranks_by_meaning_unless_turned_off() {
    let model = semantic_model();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    std::fs::write(dir.path().join("knowledge/shelter.md"), SHELTER).unwrap();
    let model_arg = model.to_str().unwrap();

    // Words alone: a tie, broken by the order in the file.
    assert_eq!(first_heading(dir.path(), &["--semantic-model", ""]), "Cats");

    // `index` embeds every passage and keeps the vectors beside the index.
    let out = citebot(dir.path(), &["--semantic-model", model_arg, "index"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("semantic model: 2 passages embedded"),
        "{stdout}"
    );
    // Each passage: the whole and its two sentences, at least 384 floats each
    // (all-MiniLM-L6-v2's; all-mpnet-base-v2's are 768).
    let vectors = dir.path().join("index/semantic.vectors");
    assert!(std::fs::metadata(&vectors).unwrap().len() >= 2 * 3 * 384 * 4);
    assert_eq!(
        first_heading(dir.path(), &["--semantic-model", model_arg]),
        "Dogs"
    );
    // Read back, not embedded again.
    let out = citebot(dir.path(), &["--semantic-model", model_arg, "index"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("semantic model: 0 passages embedded"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Installed where `scripts/model` puts it, it is on without being named.
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    std::os::unix::fs::symlink(
        &model,
        dir.path().join(citebot::search::DEFAULT_SEMANTIC_MODEL),
    )
    .unwrap();
    assert_eq!(first_heading(dir.path(), &[]), "Dogs");
    assert_eq!(first_heading(dir.path(), &["--semantic-model", ""]), "Cats");

    // A damaged vectors file (here cut short) costs only time: its passages
    // are embedded again, and the file written whole.
    let whole = std::fs::read(&vectors).unwrap();
    std::fs::write(&vectors, &whole[..whole.len() - 3]).unwrap();
    for embedded in ["2 passages embedded", "0 passages embedded"] {
        let out = citebot(dir.path(), &["index"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(embedded), "{embedded}: {stdout}");
    }
    assert_eq!(first_heading(dir.path(), &[]), "Dogs");

    // A model folder named but missing is an error that says which.
    let out = citebot(
        dir.path(),
        &["--semantic-model", "no/such/model", "ask", "x"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/model") && stderr.contains("config.json"),
        "{stderr}"
    );
}

#[test]
fn a_passage_none_of_whose_words_the_question_has_is_found_by_meaning() {
    let model = semantic_model();
    let dir = tempfile::tempdir().unwrap();
    let front = "+++\ntitle = \"The animal shelter\"\nsource = \"Shelter handbook\"\npublished = 2026-01-10\n+++\n\n";
    // Thirty passages share the question's words and fill the lexical
    // candidates; the one that answers shares none of them, and is in a
    // collection of its own.
    let mut offices = String::from(front);
    for n in 1..=30 {
        offices.push_str(&format!(
            "## Office {n}\n\nVolunteers feed the shelter's old tax records into the shredder in office {n}.\n\n"
        ));
    }
    let dogs = format!(
        "{front}## Dogs\n\nYoung dogs and puppies are given their food by the staff at noon every day.\n"
    );
    for (collection, text) in [("offices", offices), ("kennels", dogs)] {
        std::fs::create_dir_all(dir.path().join("knowledge").join(collection)).unwrap();
        std::fs::write(
            dir.path()
                .join("knowledge")
                .join(collection)
                .join("shelter.md"),
            text,
        )
        .unwrap();
    }
    let model_arg = model.to_str().unwrap();
    // The headings of the passages shown for the question, asked with `args`
    // before and `ask_args` after `ask`.
    let headings = |args: &[&str], ask_args: &[&str]| -> Vec<String> {
        let mut all = args.to_vec();
        all.push("ask");
        all.extend(ask_args);
        all.extend(["--json", "when do volunteers feed the pups?"]);
        let out = citebot(dir.path(), &all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let passages = json["passages"].as_array().unwrap();
        let heading =
            |p: &serde_json::Value| p["citation"]["heading"].as_str().unwrap().to_string();
        passages.iter().map(heading).collect()
    };
    let first = |args: &[&str]| headings(args, &[])[0].clone();
    // Words alone: an office.
    assert!(first(&["--semantic-model", ""]).starts_with("Office"));
    // Only embedded passages are searched by meaning: `index` embeds them all.
    let out = citebot(dir.path(), &["--semantic-model", model_arg, "index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(first(&["--semantic-model", model_arg]), "Dogs");
    // Meaning looks no further than the collections a question may see.
    let offices_only = ["--collection", "offices"];
    let shown = headings(&["--semantic-model", model_arg], &offices_only);
    assert!(shown.iter().all(|h| h.starts_with("Office")), "{shown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_ranks_by_meaning_and_embeds_new_passages_in_the_background() {
    let model = semantic_model();
    let knowledge = tempfile::tempdir().unwrap();
    std::fs::write(knowledge.path().join("shelter.md"), SHELTER).unwrap();
    let mut alice = human("alice").await;
    let dir = knowledge.path().to_path_buf();
    let admin = alice.user_id().to_string();
    let (bot, _running, room) = start_bot(&mut alice, Meet::Dm, |c| {
        c.search.knowledge_dir = dir;
        c.search.semantic_model = Some(model);
        // Knowledge changes only through `!reload`.
        c.search.watch = false;
        c.access.admins = vec![admin];
        // The model's budget: two questions, then words alone for a minute.
        c.limits.semantic_burst = 2;
        c.limits.semantic_per_minute = 1;
    })
    .await;

    // Embedded in the background before any question reaches them.
    ask_until(&mut alice, &bot, &room, "!status", WAIT, |r| {
        r.body()
            .contains("Semantic ranking: on, 2 of 2 passages embedded")
    })
    .await;
    let (_, r) = ask(&mut alice, &bot, &room, PUPPIES).await;
    let body = r.body();
    let first = |word: &str| body.find(word).unwrap_or(usize::MAX);
    assert!(
        first("Dogs") < first("Cats"),
        "dogs are not cited first: {body}"
    );

    // The second question still has the model's budget, the third does not:
    // it is ranked, and judged, by words alone.
    let (_, r) = ask(&mut alice, &bot, &room, &format!("!why {PUPPIES}")).await;
    assert!(r.body().contains("(closest sentence"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &room, &format!("!why {PUPPIES}")).await;
    assert!(!r.body().contains("(closest sentence"), "{}", r.body());
    assert!(r.body().contains("Confidence"), "{}", r.body());

    // A passage added and reloaded is embedded with no question asked.
    std::fs::write(
        knowledge.path().join("birds.md"),
        "+++\ntitle = \"Birds\"\nsource = \"Shelter handbook\"\npublished = 2026-01-11\n+++\n\n## Parrots\n\nThe shelter also takes in parrots.\n",
    )
    .unwrap();
    let (_, r) = ask(&mut alice, &bot, &room, "!reload").await;
    assert!(r.body().contains("indexed 3 snippets"), "{}", r.body());
    ask_until(&mut alice, &bot, &room, "!status", WAIT, |r| {
        r.body()
            .contains("Semantic ranking: on, 3 of 3 passages embedded")
    })
    .await;
}
