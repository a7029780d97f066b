//! The command line: `citebot ask | index | check | eval | gaps | run | status | demo`, parsed with clap and carried
//! out against the library. `main.rs` only parses, sets up logging and calls [`run`].

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use tokio_util::sync::CancellationToken;

use crate::bot;
use crate::config::Config;
use crate::feedback;
use crate::knowledge;
use crate::messages;
use crate::render;
use crate::search::{AskOptions, Engine, SearchSettings};

/// Answers questions from a folder of knowledge files, with ranked, cited passages.
#[derive(Debug, Parser)]
#[command(name = "citebot", version, about)]
pub struct Cli {
    /// Folder of knowledge files.
    #[arg(
        long,
        global = true,
        env = "CITEBOT_KNOWLEDGE",
        default_value = "knowledge"
    )]
    pub knowledge: PathBuf,
    /// Folder of the on-disk index (rebuilt when the knowledge files change).
    #[arg(long, global = true, env = "CITEBOT_INDEX", default_value = "index")]
    pub index: PathBuf,
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
        #[arg(long, default_value_t = 3)]
        passages: usize,
        /// Only search these collections (sub-folders of the knowledge folder).
        #[arg(long = "collection")]
        collections: Vec<String>,
        /// Show how the question was understood and scored.
        #[arg(long)]
        why: bool,
        /// The question (several words need no quotes).
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// Build (or rebuild) the index from the knowledge files.
    Index,
    /// Validate the knowledge files; exit 1 and print `file:line: problem` for each problem.
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
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// List at most this many questions.
        #[arg(long, default_value_t = 20)]
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
        #[arg(long, short, env = "CITEBOT_CONFIG", default_value = "config.toml")]
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
        #[arg(long, short, env = "CITEBOT_CONFIG", default_value = "config.toml")]
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
    let settings = SearchSettings::new(cli.knowledge.clone(), Some(cli.index.clone()));
    match cli.command {
        Command::Ask {
            json,
            passages,
            collections,
            why,
            question,
        } => {
            let question = question.join(" ");
            let settings = SearchSettings {
                passages,
                ..settings
            };
            let engine = Engine::open(&settings).context("cannot open the knowledge base")?;
            let mut out = std::io::stdout().lock();
            let options = AskOptions {
                collections: (!collections.is_empty()).then_some(collections),
                passages: None,
            };
            if why {
                writeln!(
                    out,
                    "{}",
                    messages::explanation(&engine.explain_with(&question, &options)?)
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let answer = engine
                .ask_with(&question, &options)
                .context("search failed")?;
            if json {
                writeln!(out, "{}", render::json(&answer))?;
            } else {
                let color =
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                write!(out, "{}", render::terminal(&answer, color))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            questions,
            json,
            verbose,
        } => {
            let list = crate::eval::read_questions(&questions)
                .with_context(|| format!("cannot read {}", questions.display()))?;
            let report = crate::eval::run(&cli.knowledge, &list)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                if verbose {
                    for m in &report.misses {
                        println!("{m}");
                    }
                }
                println!(
                    "{} questions over {} passages of {}",
                    report.questions,
                    report.passages,
                    cli.knowledge.display()
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
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Index => {
            let engine = Engine::open(&settings).context("cannot open the knowledge base")?;
            let report = engine.rebuild().context("cannot build the index")?;
            println!("{report}");
            println!("index: {}", cli.index.display());
            Ok(if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Run {
            config,
            recovery_key_file,
            recovery_key,
        } => {
            anyhow::ensure!(
                recovery_key.is_none(),
                "--recovery-key puts the key where every user of this machine can read it (ps); \
                 use --recovery-key-file FILE or the CITEBOT_RECOVERY_KEY environment variable"
            );
            let mut config = Config::load(&config)?;
            if let Some(file) = recovery_key_file {
                let key = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading the recovery key from {}", file.display()))?;
                config.matrix.recovery_key = crate::config::Secret(key.trim().to_string());
            }
            let engine = Engine::open(&config.search_settings())
                .context("cannot open the knowledge base")?;
            run_async(|shutdown| bot::run(config, engine, shutdown))
        }
        Command::Status { config } => {
            let config = Config::load(&config)?;
            let engine = Engine::open(&config.search_settings())
                .context("cannot open the knowledge base")?;
            run_async(|_| async move {
                let report = bot::status_report(&config, &engine).await?;
                println!("{}", report.plain);
                Ok(())
            })
        }
        Command::Demo { dir, port } => {
            let engine = Engine::open(&settings).context("cannot open the knowledge base")?;
            let options = bot::DemoOptions {
                dir,
                port,
                ..bot::DemoOptions::default()
            };
            run_async(|shutdown| bot::demo(options, engine, shutdown))
        }
        Command::Gaps {
            days,
            limit,
            json,
            data_dir,
            config,
        } => {
            let data_dir = match data_dir {
                Some(d) => d,
                None => Config::data_dir_of(&config.unwrap_or_else(|| "config.toml".into()))?,
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
        Command::Check {
            json,
            strict,
            config,
        } => {
            let options = knowledge::ParseOptions {
                strict,
                ..Default::default()
            };
            let mut kb =
                knowledge::load_for_check(&cli.knowledge, &options).with_context(|| {
                    format!(
                        "cannot read the knowledge folder {}",
                        cli.knowledge.display()
                    )
                })?;
            if let Some(path) = config {
                for source in Config::sources_of(&path)? {
                    // `--strict` is citebot's own format: docs sources keep theirs.
                    let options = knowledge::ParseOptions {
                        strict: false,
                        source: Some(source.name.clone()),
                        mount: Some(source.mount.clone()),
                    };
                    let more =
                        knowledge::load_for_check(&source.path, &options).with_context(|| {
                            format!("cannot read the docs folder {}", source.path.display())
                        })?;
                    kb.merge(more);
                }
            }
            let mut problems = kb.errors.clone();
            problems.extend(kb.warnings.iter().cloned());
            problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            if json {
                let rows: Vec<serde_json::Value> = problems
                    .iter()
                    .map(|e| serde_json::json!({"file": e.file, "line": e.line, "message": e.kind.to_string()}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for e in &problems {
                    println!("{e}");
                }
                eprintln!(
                    "{} files, {} snippets, {} synonym groups, {} problems",
                    kb.files.len(),
                    kb.snippet_count(),
                    kb.synonyms.len(),
                    problems.len()
                );
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
