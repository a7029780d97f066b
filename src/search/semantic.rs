//! The optional semantic stage: a small sentence-embedding model (all-MiniLM-L6-v2,
//! a 6-layer BERT, run on the CPU with candle) that scores the lexical candidates
//! by meaning, so a question worded unlike its passage ("how do I put nginx in
//! front of it" for a page on reverse proxies) still finds it. Off unless
//! `search.semantic_model` names the model's folder; the weights come from a
//! package registry through `scripts/model`, never from a model hub at run time.
//!
//! Passage vectors are cached by the hash of the text embedded, so a reload
//! embeds only the passages that changed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rustc_hash::FxHashMap;
use tokenizers::{Tokenizer, TruncationParams};

use crate::knowledge::Snippet;

/// Tokens of a passage the model reads: its training length was 128, and past
/// 256 its vectors blur while the cost grows with the square of the length.
const MAX_TOKENS: usize = 256;

/// Why the model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("semantic model {}: {what}", dir.display())]
    Load { dir: PathBuf, what: String },
    #[error("semantic model failed: {0}")]
    Run(String),
}

/// A loaded sentence-embedding model and the vectors of the passages it has read.
pub struct Semantic {
    model: BertModel,
    tokenizer: Tokenizer,
    cache: Mutex<FxHashMap<u64, Arc<[f32]>>>,
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic").finish_non_exhaustive()
    }
}

impl Semantic {
    /// Loads the model in `dir`: `config.json`, `model.safetensors` and
    /// `tokenizer.json`, as sentence-transformers saves them.
    pub fn load(dir: &Path) -> Result<Semantic, ModelError> {
        let load = |what: String| ModelError::Load {
            dir: dir.to_path_buf(),
            what,
        };
        let config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| load(format!("config.json: {e}")))?;
        let config: Config =
            serde_json::from_str(&config).map_err(|e| load(format!("config.json: {e}")))?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(load("model.safetensors is missing".into()));
        }
        // SAFETY: the weights file is mapped read-only; the model folder is the
        // project's install, not a file anyone rewrites while the bot runs.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
                .map_err(|e| load(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| load(format!("weights: {e}")))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| load(format!("tokenizer.json: {e}")))?;
        // One text at a time, so no padding (its tokens would be averaged in).
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| load(format!("tokenizer.json: {e}")))?;
        Ok(Semantic {
            model,
            tokenizer,
            cache: Mutex::new(FxHashMap::default()),
        })
    }

    /// The unit-length mean-pooled vector of `text`.
    pub fn embed(&self, text: &str) -> Result<Arc<[f32]>, ModelError> {
        let run = |e: &dyn std::fmt::Display| ModelError::Run(e.to_string());
        let encoding = self.tokenizer.encode(text, true).map_err(|e| run(&e))?;
        let ids = Tensor::new(encoding.get_ids(), &Device::Cpu)
            .and_then(|t| t.unsqueeze(0))
            .map_err(|e| run(&e))?;
        let types = ids.zeros_like().map_err(|e| run(&e))?;
        let pooled: Vec<f32> = self
            .model
            .forward(&ids, &types, None)
            .and_then(|out| out.mean(1))
            .and_then(|v| v.squeeze(0))
            .and_then(|v| v.to_vec1())
            .map_err(|e| run(&e))?;
        let norm = pooled.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        Ok(pooled.into_iter().map(|x| x / norm).collect())
    }

    /// The vector of `snippet` as the model reads it (title, headings, text),
    /// from the cache when its text was embedded before.
    pub fn passage(&self, snippet: &Snippet) -> Result<Arc<[f32]>, ModelError> {
        let text = passage_text(snippet);
        let key = hash(&text);
        if let Some(v) = self.lock().get(&key) {
            return Ok(v.clone());
        }
        let v = self.embed(&text)?;
        self.lock().insert(key, v.clone());
        Ok(v)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FxHashMap<u64, Arc<[f32]>>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// What the model reads of a passage: the page title and heading path give a
/// short paragraph its subject.
fn passage_text(snippet: &Snippet) -> String {
    let mut text = String::with_capacity(snippet.text.len() + 64);
    let title = snippet.page.title.trim();
    if !title.is_empty() && !snippet.heading.contains(title) {
        text.push_str(title);
        text.push_str(". ");
    }
    if !snippet.heading.is_empty() {
        text.push_str(&snippet.heading);
        text.push_str(". ");
    }
    text.push_str(&snippet.text);
    text
}

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_incomplete_model_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Semantic::load(&dir.path().join("nowhere")).unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let err = Semantic::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        let config = r#"{"vocab_size": 10, "hidden_size": 4, "num_hidden_layers": 1,
            "num_attention_heads": 1, "intermediate_size": 8, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "max_position_embeddings": 8,
            "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
            "pad_token_id": 0}"#;
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        let err = Semantic::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("model.safetensors is missing"), "{err}");
    }

    #[test]
    fn cosine_of_unit_vectors() {
        let cases: [(&[f32], &[f32], f32); 3] = [
            (&[1.0, 0.0], &[1.0, 0.0], 1.0),
            (&[1.0, 0.0], &[0.0, 1.0], 0.0),
            (&[0.6, 0.8], &[-0.6, -0.8], -1.0),
        ];
        for (a, b, want) in cases {
            assert!((cosine(a, b) - want).abs() < 1e-6, "{a:?} {b:?}");
        }
    }
}
