//! Answer quality on the project's knowledge base: the public example questions
//! (`../shared/eval/questions.toml`, else its copy in `tests/data/`, or
//! `CITEBOT_EVAL_QUESTIONS`) and the project's own development questions
//! (`tests/data/dev_questions.toml`), scored the way `score.py` scores
//! `citebot ask --json`: the top passage and the answer sentence must contain an
//! expected string; out-of-scope questions must be refused.

use std::path::{Path, PathBuf};

use citebot::search::{Engine, SearchSettings, SemanticModel};

use crate::harness::semantic_model;
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    question: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    text: String,
    expect: Vec<String>,
    kind: String,
}

fn norm(s: &str) -> String {
    s.replace('\u{2019}', "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

struct Score {
    in_scope: usize,
    top1: usize,
    answers: usize,
    out_of_scope: usize,
    refused: usize,
    misses: Vec<String>,
}

/// Both ways citebot ranks: by words alone, and with the semantic model
/// `scripts/model` installs (on by default once installed).
fn rankings() -> [SemanticModel; 2] {
    [
        SemanticModel::Off,
        SemanticModel::Required(semantic_model()),
    ]
}

fn score(path: &Path, semantic_model: SemanticModel) -> Score {
    let file: File = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let engine = Engine::open(&SearchSettings {
        semantic_model,
        ..SearchSettings::new(root.join("knowledge"), None)
    })
    .unwrap();
    let mut s = Score {
        in_scope: 0,
        top1: 0,
        answers: 0,
        out_of_scope: 0,
        refused: 0,
        misses: vec![],
    };
    for q in &file.question {
        let a = engine.ask(&q.text).unwrap();
        for p in &a.passages {
            assert!(
                p.text.chars().count() <= 800,
                "passage over 800 characters: {}",
                p.id
            );
        }
        if q.expect.is_empty() {
            s.out_of_scope += 1;
            if a.answered {
                s.misses
                    .push(format!("NOT REFUSED {} -> {:?}", q.text, a.answer));
            } else {
                s.refused += 1;
            }
            continue;
        }
        s.in_scope += 1;
        let hit = |t: &str| q.expect.iter().any(|e| norm(t).contains(&norm(e)));
        let top1 = a.answered && a.passages.first().is_some_and(|p| hit(&p.text));
        let answer = a.answered && a.answer.as_ref().is_some_and(|l| hit(&l.text));
        s.top1 += usize::from(top1);
        s.answers += usize::from(answer);
        if !(top1 && answer) {
            s.misses.push(format!(
                "MISS ({}) {} -> {:?}",
                q.kind,
                q.text,
                a.answer.map(|l| l.text)
            ));
        }
    }
    eprintln!(
        "{}: top1 {}/{} · answer {}/{} · refused {}/{}",
        path.display(),
        s.top1,
        s.in_scope,
        s.answers,
        s.in_scope,
        s.refused,
        s.out_of_scope
    );
    for m in &s.misses {
        eprintln!("  {m}");
    }
    s
}

#[test]
fn public_eval_questions_are_all_answered_or_refused_right() {
    // The shared file next to the checkout where there is one (it may be
    // newer), else the copy in tests/data, so a checkout on its own runs it too.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = match std::env::var_os("CITEBOT_EVAL_QUESTIONS") {
        Some(p) => PathBuf::from(p),
        None => [
            root.join("../shared/eval/questions.toml"),
            root.join("tests/data/public_questions.toml"),
        ]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| root.join("../shared/eval/questions.toml")),
    };
    assert!(
        path.exists(),
        "the public eval questions are missing: no file at {} (set CITEBOT_EVAL_QUESTIONS to another path)",
        path.display()
    );
    for model in rankings() {
        let s = score(&path, model.clone());
        assert!(s.in_scope > 0 && s.out_of_scope > 0);
        assert_eq!(s.top1, s.in_scope, "{model:?}: {:#?}", s.misses);
        assert_eq!(s.answers, s.in_scope, "{model:?}: {:#?}", s.misses);
        assert_eq!(s.refused, s.out_of_scope, "{model:?}: {:#?}", s.misses);
    }
}

#[test]
fn development_questions_meet_the_quality_bar() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dev_questions.toml");
    for model in rankings() {
        let s = score(&path, model.clone());
        assert!(s.in_scope >= 30 && s.out_of_scope >= 10);
        assert!(
            s.top1 * 100 >= s.in_scope * 95,
            "{model:?}: top-1 below 95%: {:#?}",
            s.misses
        );
        assert!(
            s.answers * 100 >= s.in_scope * 90,
            "{model:?}: answer sentences below 90%: {:#?}",
            s.misses
        );
        assert_eq!(s.refused, s.out_of_scope, "{model:?}: {:#?}", s.misses);
    }
}
