//! The command line: `citebot ask | index | check | eval | gaps | run | status | demo`, parsed with clap and carried
//! out against the library, one function per subcommand. `main.rs` only parses, sets up logging and calls [`run`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use tokio_util::sync::CancellationToken;

use crate::bot;
use crate::config::{self, Config};
use crate::feedback;
use crate::knowledge;
use crate::messages;
use crate::render;
use crate::search::{AskOptions, Engine, SearchSettings, SemanticModel};

/// The bot's configuration file when none is named.
const DEFAULT_CONFIG: &str = "config.toml";

/// Answers questions from a folder of knowledge files, with ranked, cited passages.
#[derive(Debug, Parser)]
#[command(name = "citebot", version, about)]
pub struct Cli {
    /// Folder of knowledge files.
    #[arg(
        long,
        global = true,
        env = "CITEBOT_KNOWLEDGE",
        default_value = config::DEFAULT_KNOWLEDGE_DIR
    )]
    pub knowledge: PathBuf,
    /// Folder of the on-disk index (rebuilt when the knowledge files change).
    #[arg(long, global = true, env = "CITEBOT_INDEX", default_value = config::DEFAULT_INDEX_DIR)]
    pub index: PathBuf,
    /// Folder of the semantic model that re-ranks candidates by meaning
    /// [default: models/all-mpnet-base-v2 when `scripts/model` installed it
    /// there, else models/all-MiniLM-L6-v2 when `scripts/model --small` did;
    /// "" ranks by words alone].
    #[arg(long, global = true, env = "CITEBOT_SEMANTIC_MODEL", value_parser = clap::value_parser!(std::ffi::OsString))]
    pub semantic_model: Option<std::ffi::OsString>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a question from the knowledge base.
    Ask {
        /// Print exactly one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// How many ranked passages to show.
        #[arg(long, default_value_t = config::DEFAULT_PASSAGES)]
        passages: usize,
        /// Only search these collections (sub-folders of the knowledge folder).
        #[arg(long = "collection")]
        collections: Vec<String>,
        /// Show how the question was understood and scored.
        #[arg(long)]
        why: bool,
        /// An earlier question this one follows up on (repeat it for each,
        /// oldest first): its concepts are searched too, weighing less.
        #[arg(long = "after", value_name = "QUESTION")]
        after: Vec<String>,
        /// The question (several words need no quotes).
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// Build (or rebuild) the index from the knowledge files.
    Index,
    /// Validate the knowledge files; exit 1 and print `file:line: problem` for each
    /// problem (`file.pdf, page N: problem` on a PDF's page, `file.pptx, slide N:
    /// problem` on a slide, `file.xlsx, row N: problem` on a workbook's row,
    /// `file: problem` for a whole document).
    Check {
        /// Print the problems as a JSON array.
        #[arg(long)]
        json: bool,
        /// Hold every file to citebot's own format: TOML front matter with title,
        /// source and published and no other keys, paragraphs within the snippet
        /// length, no future dates.
        #[arg(long)]
        strict: bool,
        /// Also check the docs sources of this bot configuration
        /// (`[[knowledge.sources]]`; git sources as last pulled).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// List the questions most often refused or voted 👎 in the bot's feedback file,
    /// so maintainers know what to write next.
    Gaps {
        /// Look this many days back.
        #[arg(long, default_value_t = config::DEFAULT_GAPS_DAYS)]
        days: u32,
        /// List at most this many questions.
        #[arg(long, default_value_t = config::DEFAULT_GAPS_LIMIT)]
        limit: usize,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
        /// The bot's data folder (holding feedback.jsonl).
        #[arg(long, conflicts_with = "config")]
        data_dir: Option<PathBuf>,
        /// The bot's configuration, for its `matrix.data_dir` (default: config.toml).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Run the Matrix bot (until Ctrl-C / SIGTERM).
    Run {
        /// The bot's configuration (see config.example.toml).
        #[arg(long, short, env = "CITEBOT_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// A file holding the recovery key printed by an earlier deployment: a
        /// bot started with an empty data dir recovers its verified identity
        /// with it (overrides matrix.recovery_key and CITEBOT_RECOVERY_KEY).
        #[arg(long, value_name = "FILE")]
        recovery_key_file: Option<PathBuf>,
        /// Refused: a key on the command line is visible to every user of the
        /// machine (`ps`). Use --recovery-key-file or CITEBOT_RECOVERY_KEY.
        #[arg(long, value_name = "KEY", hide = true)]
        recovery_key: Option<String>,
    },
    /// Show the bot's device, whether it is cross-signed, key backup, index age
    /// and the last knowledge-file problem (uses the session saved by `run`).
    Status {
        /// The bot's configuration (see config.example.toml).
        #[arg(long, short, env = "CITEBOT_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Measure answer quality on a question file (see `tests/data/*.toml`) against the
    /// knowledge folder, beside a plain BM25 baseline over the same passages: p@1,
    /// MRR@3, answer sentences, refusals. The index is built in memory.
    Eval {
        /// The question file.
        questions: PathBuf,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
        /// List every miss.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Start a local Synapse, the bot and a demo user; ask sample questions and keep
    /// running so a person can join with any Matrix client (Ctrl-C stops everything).
    Demo {
        /// Folder for the demo homeserver and bot state (wiped at start).
        #[arg(long, default_value = ".synapse/demo")]
        dir: PathBuf,
        /// Port of the homeserver on 127.0.0.1.
        #[arg(long, default_value_t = 8008)]
        port: u16,
    },
}

impl Command {
    /// Whether the command keeps running (and so logs what it does).
    pub fn is_long_running(&self) -> bool {
        matches!(self, Command::Run { .. } | Command::Demo { .. })
    }
}

/// Runs an async command on a fresh runtime, cancelling it on SIGINT or SIGTERM.
fn run_async<F, Fut>(f: F) -> anyhow::Result<ExitCode>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("cannot listen for SIGTERM: {e}");
                        let _ = tokio::signal::ctrl_c().await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("shutting down");
            token.cancel();
        });
        f(shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Carries out a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Cli {
        knowledge,
        index: index_dir,
        semantic_model,
        command,
    } = cli;
    let semantic_model = SemanticModel::from_setting(semantic_model.as_deref().map(Path::new));
    let settings = |knowledge: PathBuf| SearchSettings {
        semantic_model: semantic_model.clone(),
        ..SearchSettings::new(knowledge, Some(index_dir.clone()))
    };
    match command {
        Command::Ask {
            json,
            passages,
            collections,
            why,
            after,
            question,
        } => {
            let settings = SearchSettings {
                passages,
                ..settings(knowledge)
            };
            let options = AskOptions {
                collections: (!collections.is_empty()).then_some(collections),
                context: after,
                ..AskOptions::default()
            };
            ask(&settings, &question.join(" "), &options, json, why)
        }
        Command::Eval {
            questions,
            json,
            verbose,
        } => eval(&knowledge, &questions, json, verbose, semantic_model),
        Command::Index => index(&settings(knowledge)),
        Command::Run {
            config,
            recovery_key_file,
            recovery_key,
        } => run_bot(
            &config,
            recovery_key_file.as_deref(),
            recovery_key.is_some(),
        ),
        Command::Status { config } => status(&config),
        Command::Demo { dir, port } => demo(settings(knowledge), dir, port),
        Command::Gaps {
            days,
            limit,
            json,
            data_dir,
            config,
        } => gaps(days, limit, json, data_dir, config),
        Command::Check {
            json,
            strict,
            config,
        } => check(&knowledge, strict, json, config.as_deref()),
    }
}

/// `citebot ask`: one answer, as text, JSON or an explanation.
fn ask(
    settings: &SearchSettings,
    question: &str,
    options: &AskOptions,
    json: bool,
    why: bool,
) -> anyhow::Result<ExitCode> {
    let engine = Engine::open(settings).context("cannot open the knowledge base")?;
    let mut out = std::io::stdout().lock();
    if why {
        writeln!(
            out,
            "{}",
            messages::explanation(&engine.explain_with(question, options)?)
        )?;
        engine.save_vectors();
        return Ok(ExitCode::SUCCESS);
    }
    let answer = engine
        .ask_with(question, options)
        .context("search failed")?;
    engine.save_vectors();
    if json {
        writeln!(out, "{}", render::json(&answer))?;
    } else {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        write!(out, "{}", render::terminal(&answer, color))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `citebot eval`: answer quality on a question file, beside the BM25 baseline.
fn eval(
    knowledge: &Path,
    questions: &Path,
    json: bool,
    verbose: bool,
    semantic_model: SemanticModel,
) -> anyhow::Result<ExitCode> {
    let list = crate::eval::read_questions(questions)
        .with_context(|| format!("cannot read {}", questions.display()))?;
    let report = crate::eval::run(knowledge, &list, semantic_model)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    if verbose {
        for m in &report.misses {
            println!("{m}");
        }
    }
    println!(
        "{} questions over {} passages of {} (semantic model: {})",
        report.questions,
        report.passages,
        knowledge.display(),
        if report.semantic_model { "on" } else { "off" }
    );
    for l in report.citebot.lines("citebot", true) {
        println!("{l}");
    }
    for l in report.bm25.lines("bm25", false) {
        println!("{l}");
    }
    println!("other confidence bars (search.min_confidence):");
    for b in &report.bars {
        println!("  {}", b.line());
    }
    Ok(ExitCode::SUCCESS)
}

/// `citebot index`: rebuilds the on-disk index; exit 1 when a file could not be read.
fn index(settings: &SearchSettings) -> anyhow::Result<ExitCode> {
    let (engine, report) = Engine::open_rebuilt(settings).context("cannot build the index")?;
    println!("{}", report.summary());
    for e in &report.errors {
        println!("{}", render::problem(e));
    }
    if let Some(line) = unread_line(settings.folders()) {
        println!("{line}");
    }
    if engine.has_semantic_model() {
        let embedded = engine
            .embed_all(|| false)
            .context("cannot embed the passages")?;
        println!("semantic model: {embedded} passages embedded");
    }
    if let Some(index) = &settings.index_dir {
        println!("index: {}", index.display());
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `citebot run`: the Matrix bot, until a signal stops it.
fn run_bot(
    config: &Path,
    recovery_key_file: Option<&Path>,
    recovery_key_on_command_line: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !recovery_key_on_command_line,
        "--recovery-key puts the key where every user of this machine can read it (ps); \
         use --recovery-key-file FILE or the CITEBOT_RECOVERY_KEY environment variable"
    );
    let mut config = Config::load(config)?;
    if let Some(file) = recovery_key_file {
        let key = std::fs::read_to_string(file)
            .with_context(|| format!("reading the recovery key from {}", file.display()))?;
        config.matrix.recovery_key = crate::config::Secret(key.trim().to_string());
    }
    let engine =
        Engine::open(&config.search_settings()).context("cannot open the knowledge base")?;
    run_async(|shutdown| bot::run(config, engine, shutdown))
}

/// `citebot status`: the bot's identity and index, from the session `run` saved.
fn status(config: &Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(config)?;
    let engine =
        Engine::open(&config.search_settings()).context("cannot open the knowledge base")?;
    run_async(|_| async move {
        let report = bot::status_report(&config, &engine).await?;
        println!("{}", report.plain);
        Ok(())
    })
}

/// `citebot demo`: a local homeserver, the bot and a demo user.
fn demo(settings: SearchSettings, dir: PathBuf, port: u16) -> anyhow::Result<ExitCode> {
    let engine = Engine::open(&settings).context("cannot open the knowledge base")?;
    let options = bot::DemoOptions {
        dir,
        port,
        ..bot::DemoOptions::default()
    };
    run_async(|shutdown| bot::demo(options, engine, shutdown))
}

/// `citebot gaps`: the questions most often refused or voted down.
fn gaps(
    days: u32,
    limit: usize,
    json: bool,
    data_dir: Option<PathBuf>,
    config: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let data_dir = match data_dir {
        Some(d) => d,
        None => Config::data_dir_of(&config.unwrap_or_else(|| DEFAULT_CONFIG.into()))?,
    };
    let path = data_dir.join(feedback::FILE);
    let (records, skipped) = feedback::read(&path)?;
    if skipped > 0 {
        tracing::warn!("{}: skipped {skipped} unreadable lines", path.display());
    }
    let list = feedback::gaps(&records, feedback::since_days(days.max(1)), limit);
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        println!("{}", messages::gaps(&list, days.max(1)).plain);
    }
    Ok(ExitCode::SUCCESS)
}

/// "not read: 38 .xls, 7 .png (citebot reads …)" for files under `folders`
/// of formats citebot does not read; `None` when there are none.
fn unread_line<'a>(folders: impl Iterator<Item = &'a Path>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for folder in folders {
        for (kind, n) in knowledge::unread_formats(folder) {
            *counts.entry(kind).or_default() += n;
        }
    }
    if counts.is_empty() {
        return None;
    }
    let mut kinds: Vec<(String, usize)> = counts.into_iter().collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let shown: Vec<String> = kinds
        .iter()
        .take(8)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let more = if kinds.len() > 8 { ", …" } else { "" };
    Some(format!(
        "not read: {}{more} (citebot reads .md, .mdx, .markdown, .rmd, .qmd, .rst, .adoc, .asciidoc, .ipynb, .docx, .pdf, .pptx, .xlsx, .xlsm, .odt, .ods, .odp, .csv, .tsv, .html, .htm and .txt)",
        shown.join(", ")
    ))
}

/// `citebot check`: every problem in the knowledge files (and the docs sources
/// of `config`); exit 1 when there is any.
fn check(
    knowledge: &Path,
    strict: bool,
    json: bool,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let options = knowledge::ParseOptions {
        strict,
        ..Default::default()
    };
    let mut kb = knowledge::load_for_check(knowledge, &options)
        .with_context(|| format!("cannot read the knowledge folder {}", knowledge.display()))?;
    let mut folders = vec![knowledge.to_path_buf()];
    if let Some(path) = config {
        for source in Config::sources_of(path)? {
            folders.push(source.path.clone());
            // `--strict` is citebot's own format: docs sources keep theirs.
            let options = knowledge::ParseOptions {
                strict: false,
                source: Some(source.name.clone()),
                mount: Some(source.mount.clone()),
            };
            let more = knowledge::load_for_check(&source.path, &options).with_context(|| {
                format!("cannot read the docs folder {}", source.path.display())
            })?;
            kb.merge(more);
        }
    }
    let mut problems = kb.errors.clone();
    problems.extend(kb.warnings.iter().cloned());
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    if json {
        let rows: Vec<ProblemRow> = problems.iter().map(ProblemRow::of).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for e in &problems {
            println!("{}", render::problem(e));
        }
        let files: Vec<_> = (kb.file_snippets.iter())
            .map(|f| crate::search::acronyms::of_file(f))
            .collect();
        let spelled_out = crate::search::acronyms::synonym_sets(files.iter().map(|f| &f[..]));
        eprintln!(
            "{} files, {} snippets, {} synonym groups, {} acronyms spelled out, {} problems",
            kb.files.len(),
            kb.snippet_count(),
            kb.synonyms.values().map(|s| s.groups.len()).sum::<usize>(),
            spelled_out.iter().map(|s| s.groups.len()).sum::<usize>(),
            problems.len()
        );
        if let Some(line) = unread_line(folders.iter().map(PathBuf::as_path)) {
            eprintln!("{line}");
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A problem as `citebot check --json` lists it: its place as an answer's
/// citation gives one, "line" (null when it is no line of a text file) and
/// "page", "slide" or "row" when it is on one.
#[derive(Debug, serde::Serialize)]
struct ProblemRow<'a> {
    file: &'a str,
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slide: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<usize>,
    message: String,
}

impl<'a> ProblemRow<'a> {
    fn of(e: &'a knowledge::KnowledgeError) -> Self {
        let place = e.place();
        ProblemRow {
            file: &e.file,
            line: place.line(),
            page: place.page(),
            slide: place.slide(),
            row: place.row(),
            message: e.kind.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use knowledge::{KnowledgeError, ProblemKind};

    #[test]
    fn check_names_a_problems_place_as_citations_do() {
        let dup = || ProblemKind::DuplicateId("report#page-2-1".into());
        let unread = || ProblemKind::UnreadPages(vec![2, 5]);
        let unreadable = || ProblemKind::Unreadable("not a readable PDF document: x".into());
        // (file, line, kind, printed place, JSON place)
        let table = [
            (
                "k/a.md",
                4,
                ProblemKind::BadUrl("x".into()),
                "k/a.md:4",
                r#""line":4"#,
            ),
            ("k/a.rst", 1, unreadable(), "k/a.rst:1", r#""line":1"#),
            // A passage's line in a PDF is its page; in a deck, its slide.
            (
                "k/report.pdf",
                2,
                dup(),
                "k/report.pdf, page 2",
                r#""line":null,"page":2"#,
            ),
            (
                "k/deck.pptx",
                3,
                dup(),
                "k/deck.pptx, slide 3",
                r#""line":null,"slide":3"#,
            ),
            // In a workbook, its row; a CSV file's lines are its own.
            (
                "k/prices.xlsx",
                12,
                dup(),
                "k/prices.xlsx, row 12",
                r#""line":null,"row":12"#,
            ),
            ("k/prices.csv", 12, dup(), "k/prices.csv:12", r#""line":12"#),
            (
                "k/prices.xlsx",
                1,
                unreadable(),
                "k/prices.xlsx",
                r#""line":null"#,
            ),
            // A Word document's lines are the Markdown's made from it.
            ("k/policy.docx", 7, dup(), "k/policy.docx", r#""line":null"#),
            // Problems of a document as a whole have no page: line 1 is none.
            (
                "k/report.pdf",
                1,
                unread(),
                "k/report.pdf",
                r#""line":null"#,
            ),
            (
                "k/report.pdf",
                1,
                unreadable(),
                "k/report.pdf",
                r#""line":null"#,
            ),
            (
                "k/deck.pptx",
                1,
                ProblemKind::NoSnippets,
                "k/deck.pptx",
                r#""line":null"#,
            ),
            (
                "k/policy.docx",
                1,
                unreadable(),
                "k/policy.docx",
                r#""line":null"#,
            ),
        ];
        for (file, line, kind, printed, json) in table {
            let e = KnowledgeError {
                file: file.into(),
                line,
                kind,
            };
            assert_eq!(render::problem(&e), format!("{printed}: {}", e.kind));
            let got = serde_json::to_string(&ProblemRow::of(&e)).unwrap();
            let want = format!(
                r#"{{"file":"{file}",{json},"message":{}}}"#,
                serde_json::Value::from(e.kind.to_string())
            );
            assert_eq!(got, want);
        }
    }
}
