//! TEMP until search core merges: a minimal keyword search with the same
//! public signatures as the real `citebot::search`, so the bot compiles and
//! its tests run. Replaced wholesale on merge.
#![allow(missing_docs, clippy::type_complexity)]

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use serde::Serialize;

/// TEMP until search core merges.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("knowledge folder {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// TEMP until search core merges.
#[derive(Debug, Clone)]
pub struct SearchSettings {
    pub knowledge_dir: PathBuf,
    pub index_dir: Option<PathBuf>,
    pub passages: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnswerLine {
    pub text: String,
    pub citation: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    pub text: String,
    pub citation: String,
    pub score: f32,
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub question: String,
    pub answered: bool,
    pub answer: Option<AnswerLine>,
    pub passages: Vec<Passage>,
    pub closest_topics: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub terms: Vec<String>,
    pub passages: Vec<(String, f32)>,
    pub confidence: f32,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "terms: {}", self.terms.join(", "))?;
        for (c, s) in &self.passages {
            writeln!(f, "{s:.2} {c}")?;
        }
        let bar = "#".repeat((self.confidence * 10.0).round() as usize);
        write!(f, "confidence [{bar:<10}] {:.0}%", self.confidence * 100.0)
    }
}

#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub files: usize,
    pub snippets: usize,
}

impl std::fmt::Display for RebuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "indexed {} snippets from {} files",
            self.snippets, self.files
        )
    }
}

#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub file: String,
    pub title: String,
    pub source: String,
    pub published: Option<String>,
    pub snippets: usize,
}

#[derive(Debug, Clone)]
pub struct IndexStats {
    pub snippets: usize,
    pub files: usize,
    pub size_bytes: u64,
    pub built_at: String,
}

struct Snippet {
    file: usize,
    text: String,
}

#[derive(Default)]
struct Index {
    sources: Vec<SourceInfo>,
    snippets: Vec<Snippet>,
}

/// TEMP until search core merges.
#[derive(Clone)]
pub struct Engine {
    settings: Arc<SearchSettings>,
    index: Arc<RwLock<Index>>,
}

const STOP: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "what", "when", "who", "how", "why", "of", "to", "in",
    "on", "and", "or", "for", "does", "do", "did", "it", "be", "with", "which", "where",
];

fn terms(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.len() > 1 && !STOP.contains(&w.as_str()))
        .map(|w| w.trim_end_matches('s').to_string())
        .collect()
}

fn load(dir: &std::path::Path) -> Result<Index, SearchError> {
    let err = |e| SearchError::Io(dir.to_path_buf(), e);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    entries.sort();
    let mut index = Index::default();
    for path in entries {
        let text = std::fs::read_to_string(&path).map_err(err)?;
        let (front, body) = match text.strip_prefix("+++") {
            Some(rest) => rest.split_once("+++").unwrap_or(("", rest)),
            None => ("", text.as_str()),
        };
        let meta: toml::Table = toml::from_str(front).unwrap_or_default();
        let get = |k: &str| meta.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let n = index.sources.len();
        let mut count = 0;
        for para in body
            .split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.starts_with('#'))
        {
            index.snippets.push(Snippet {
                file: n,
                text: para.replace('\n', " "),
            });
            count += 1;
        }
        index.sources.push(SourceInfo {
            title: get("title").unwrap_or_else(|| file.clone()),
            source: get("source").unwrap_or_default(),
            published: get("published"),
            file,
            snippets: count,
        });
    }
    Ok(index)
}

impl Engine {
    pub fn open(settings: &SearchSettings) -> Result<Engine, SearchError> {
        let index = load(&settings.knowledge_dir)?;
        Ok(Engine {
            settings: Arc::new(settings.clone()),
            index: Arc::new(RwLock::new(index)),
        })
    }

    fn scored(&self, question: &str) -> (Vec<String>, Vec<(f32, usize, Vec<String>)>) {
        let q = terms(question);
        let index = self.index.read().unwrap();
        let mut hits: Vec<(f32, usize, Vec<String>)> = index
            .snippets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let st = terms(&s.text);
                let m: Vec<String> = q.iter().filter(|t| st.contains(t)).cloned().collect();
                (m.len() as f32 / q.len().max(1) as f32, i, m)
            })
            .filter(|h| h.0 > 0.0)
            .collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.truncate(self.settings.passages);
        (q, hits)
    }

    pub fn ask(&self, question: &str) -> Result<Answer, SearchError> {
        let (_, hits) = self.scored(question);
        let index = self.index.read().unwrap();
        let cite = |i: usize| {
            let s = &index.sources[index.snippets[i].file];
            format!("{} ({})", s.title, s.source)
        };
        let passages: Vec<Passage> = hits
            .iter()
            .map(|(score, i, m)| Passage {
                text: index.snippets[*i].text.clone(),
                citation: cite(*i),
                score: *score,
                matched: m.clone(),
            })
            .collect();
        let answered = hits.first().is_some_and(|h| h.0 >= 0.5);
        Ok(Answer {
            question: question.to_string(),
            answered,
            answer: answered.then(|| AnswerLine {
                text: passages[0].text.clone(),
                citation: passages[0].citation.clone(),
            }),
            passages: if answered { passages } else { Vec::new() },
            closest_topics: if answered {
                Vec::new()
            } else {
                index
                    .sources
                    .iter()
                    .take(3)
                    .map(|s| s.title.clone())
                    .collect()
            },
        })
    }

    pub fn explain(&self, question: &str) -> Result<Explanation, SearchError> {
        let (terms, hits) = self.scored(question);
        let index = self.index.read().unwrap();
        Ok(Explanation {
            terms,
            confidence: hits.first().map_or(0.0, |h| h.0),
            passages: hits
                .iter()
                .map(|(s, i, _)| (index.sources[index.snippets[*i].file].title.clone(), *s))
                .collect(),
        })
    }

    pub fn rebuild(&self) -> Result<RebuildReport, SearchError> {
        let index = load(&self.settings.knowledge_dir)?;
        let report = RebuildReport {
            files: index.sources.len(),
            snippets: index.snippets.len(),
        };
        *self.index.write().unwrap() = index;
        Ok(report)
    }

    pub fn sources(&self) -> Vec<SourceInfo> {
        self.index.read().unwrap().sources.clone()
    }

    pub fn stats(&self) -> IndexStats {
        let index = self.index.read().unwrap();
        IndexStats {
            snippets: index.snippets.len(),
            files: index.sources.len(),
            size_bytes: index.snippets.iter().map(|s| s.text.len() as u64).sum(),
            built_at: String::new(),
        }
    }
}
