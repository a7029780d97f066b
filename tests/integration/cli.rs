//! The `citebot` binary as a user runs it: `ask` (text and JSON), `index`, `check`,
//! and an on-disk index that follows edits to the knowledge files.

use std::path::Path;
use std::process::{Command, Output};

const GOOD: &str = "+++\ntitle = \"Yurts\"\nsource = \"Steppe Weekly\"\nurl = \"https://example.org/yurts\"\npublished = 2024-06-01\n+++\n\n## Homes\n\nA ger is a round felt tent used by herders on the Mongolian steppe.\n\n## Festivals\n\nThe Naadam festival is held every July with wrestling, archery and horse racing.\n";

/// The `citebot` binary run in `dir` with `args`, none of its settings taken
/// from the environment.
pub(crate) fn citebot(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citebot"))
        .current_dir(dir)
        .env_remove("CITEBOT_KNOWLEDGE")
        .env_remove("CITEBOT_INDEX")
        .env_remove("CITEBOT_SEMANTIC_MODEL")
        .args(args)
        .output()
        .expect("citebot runs")
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    std::fs::write(dir.path().join("knowledge/yurts.md"), GOOD).unwrap();
    dir
}

#[test]
fn ask_json_prints_exactly_one_object_of_the_documented_shape() {
    let dir = setup();
    let out = citebot(
        dir.path(),
        &["ask", "--json", "When is the Naadam festival held?"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["question"], "When is the Naadam festival held?");
    assert_eq!(v["answered"], true);
    assert!(v["answer"]["text"].as_str().unwrap().contains("every July"));
    assert_eq!(v["answer"]["passage"], 1);
    let p = &v["passages"][0];
    assert_eq!(p["rank"], 1);
    assert!(p["score"].as_f64().unwrap() > 0.0);
    assert_eq!(p["id"], "yurts#festivals-1");
    let c = &p["citation"];
    assert_eq!(c["title"], "Yurts");
    assert_eq!(c["heading"], "Festivals");
    assert_eq!(c["source"], "Steppe Weekly");
    assert_eq!(c["url"], "https://example.org/yurts");
    assert_eq!(c["published"], "2024-06-01");
    assert_eq!(c["file"], "knowledge/yurts.md");
    assert_eq!(c["line"], 14);
    assert!(
        dir.path().join("index/meta.json").exists(),
        "the index lives on disk under index/"
    );

    let out = citebot(
        dir.path(),
        &["ask", "--json", "What is the capital of France?"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answered"], false);
    assert!(v["answer"].is_null());
}

#[test]
fn ask_prints_answer_then_numbered_cited_passages() {
    let dir = setup();
    let out = citebot(dir.path(), &["ask", "what", "is", "a", "ger?"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Answer: A ger is a round felt tent"),
        "{text}"
    );
    assert!(text.contains("[1] A ger is"), "{text}");
    assert!(text.contains("Yurts › Homes — Steppe Weekly, as of 1 June 2024 · https://example.org/yurts · knowledge/yurts.md:10"), "{text}");
    let out = citebot(dir.path(), &["ask", "How do I reset my password?"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("I don't know"), "{text}");
}

#[test]
fn edits_to_knowledge_files_are_answered_from_at_once() {
    let dir = setup();
    let ask = |q: &str| -> serde_json::Value {
        serde_json::from_slice(&citebot(dir.path(), &["ask", "--json", q]).stdout).unwrap()
    };
    assert_eq!(ask("camel caravans")["answered"], false);
    std::fs::write(
        dir.path().join("knowledge/camels.md"),
        "+++\ntitle = \"Camels\"\nsource = \"Gobi Notes\"\npublished = 2024-01-01\n+++\n\nBactrian camel caravans cross the Gobi desert.\n",
    )
    .unwrap();
    assert_eq!(
        ask("camel caravans")["answered"],
        true,
        "a new file is answered from without an explicit rebuild"
    );
    std::fs::remove_file(dir.path().join("knowledge/camels.md")).unwrap();
    assert_eq!(
        ask("camel caravans")["answered"],
        false,
        "a deleted file is forgotten"
    );
}

#[test]
fn index_builds_and_check_reports_file_and_line() {
    let dir = setup();
    let out = citebot(dir.path(), &["index"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("indexed 2 snippets from 1 files"));

    let out = citebot(dir.path(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    std::fs::write(
        dir.path().join("knowledge/bad.md"),
        "+++\ntitle = \"x\"\nsource = \"y\"\npubished = 2024-01-01\n+++\ntext\n",
    )
    .unwrap();
    let out = citebot(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("knowledge/bad.md:4: front matter: unknown key `pubished`"),
        "{stdout}"
    );

    let out = citebot(dir.path(), &["check", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["file"], "knowledge/bad.md");
    assert_eq!(v[0]["line"], 4);

    // The good file still answers while the bad one is reported.
    let out = citebot(dir.path(), &["ask", "--json", "ger felt tent"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answered"], true);
    assert!(String::from_utf8_lossy(&out.stderr).contains("knowledge/bad.md:4"));
}

/// A folder under the knowledge folder that the bot's user cannot list
/// (`lost+found` on a volume of its own) is one problem; the rest is read.
#[cfg(unix)]
#[test]
fn a_folder_that_cannot_be_listed_leaves_out_only_its_own_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    // A collection of its own inside another: its problem is its own.
    let locked = dir.path().join("knowledge/team/hr");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("tents.md"), GOOD).unwrap();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, PermissionsExt::from_mode(m));
    mode(dir.path(), 0o755).unwrap();
    mode(&locked, 0o000).unwrap();
    // Root lists any folder: as root, the check runs as `nobody`.
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    let mut cmd = if String::from_utf8_lossy(&uid).trim() == "0" {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        c.arg(env!("CARGO_BIN_EXE_citebot"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_citebot"))
    };
    let out = cmd
        .current_dir(dir.path())
        .args(["--semantic-model", "", "check"])
        .output()
        .unwrap();
    mode(&locked, 0o755).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let problems: Vec<&str> = stdout.lines().filter(|l| l.contains(": ")).collect();
    assert_eq!(problems.len(), 1, "{stdout}");
    assert!(
        problems[0].starts_with("knowledge/team/hr/:1: cannot read this folder (Permission denied"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 files, 2 snippets"), "{stderr}");
}

#[test]
fn the_projects_own_knowledge_folder_passes_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = citebot(root, &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_reads_a_docs_folder_without_front_matter_and_the_configs_sources() {
    let dir = setup();
    let docs = dir.path().join("site-docs");
    std::fs::create_dir_all(docs.join("admin")).unwrap();
    // As a docs site keeps them: no front matter, YAML front matter, a table, a
    // navigation file, an HTML export.
    std::fs::write(
        docs.join("admin/backups.md"),
        "# Backups\n\n## Database\n\nBack up the database nightly with:\n\n```sh\npg_dump synapse > backup.sql\n```\n\nSee [restoring](restore.md).\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("admin/restore.md"),
        "---\ntitle: Restoring\nnav_order: 3\n---\n\n| Step | Command |\n|---|---|\n| 1 | `psql synapse < backup.sql` |\n",
    )
    .unwrap();
    std::fs::write(docs.join("SUMMARY.md"), "- [Backups](admin/backups.md)\n").unwrap();
    std::fs::write(
        docs.join("wiki.html"),
        "<html><head><title>Wiki</title></head><body><h2>Ports</h2><p>Clients use port 8008.</p></body></html>",
    )
    .unwrap();
    // A format citebot does not read is named, not silently passed over.
    std::fs::write(docs.join("admin/upgrade.xls"), "PK\x03\x04").unwrap();
    let out = citebot(dir.path(), &["--knowledge", "site-docs", "check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 files"), "{stderr}");
    assert!(stderr.contains("not read: 1 .xls"), "{stderr}");
    // citebot's own format is stricter.
    let out = citebot(
        dir.path(),
        &["--knowledge", "site-docs", "check", "--strict"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("missing front matter"));

    let out = citebot(
        dir.path(),
        &[
            "--knowledge",
            "site-docs",
            "ask",
            "--json",
            "how do I back up the database",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["answered"], true, "{v:#}");
    let top = &v["passages"][0];
    assert_eq!(top["citation"]["file"], "site-docs/admin/backups.md");
    assert_eq!(top["citation"]["title"], "Backups");
    assert_eq!(top["citation"]["heading"], "Database");
    assert_eq!(top["citation"]["source"], "site-docs");
    let text = top["text"].as_str().unwrap();
    let code = &top["code"][0];
    let (a, b) = (
        code[0].as_u64().unwrap() as usize,
        code[1].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[a..b], "pg_dump synapse > backup.sql");

    // A broken page in a configured source is reported under its collection.
    std::fs::write(docs.join("admin/broken.md"), "+++\ntitle = \"x\"\n").unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[matrix]\nhomeserver = \"http://127.0.0.1:1\"\n\n[[knowledge.sources]]\npath = \"site-docs\"\ncollection = \"ops\"\n",
    )
    .unwrap();
    let out = citebot(dir.path(), &["check", "--config", "config.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("ops/admin/broken.md:1: front matter is never closed"),
        "{stdout}"
    );
}

#[test]
fn a_recovery_key_on_the_command_line_is_refused_before_anything_runs() {
    let dir = setup();
    let out = citebot(
        dir.path(),
        &[
            "run",
            "--config",
            "missing.toml",
            "--recovery-key",
            "EsTc abcd",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--recovery-key-file"), "{err}");
    assert!(!err.contains("EsTc abcd"), "the key is not echoed: {err}");
}
