//! The optional semantic stage: a sentence-embedding model (all-mpnet-base-v2, a
//! 12-layer MPNet, or the smaller all-MiniLM-L6-v2, a 6-layer BERT, run on the CPU
//! with candle) that scores the lexical candidates
//! by meaning and adds the embedded passages nearest the question, so a question
//! worded unlike its passage ("how do I put nginx in front of it" for a page on
//! reverse proxies) still finds it. On once
//! `scripts/model` has installed it (or `search.semantic_model` names its folder);
//! the weights come from a package registry, never from a model hub at run time.
//!
//! Passage vectors are cached by the hash of the text embedded, so a reload
//! embeds only the passages that changed, and kept in a file beside the index
//! (`semantic.vectors`), so a restart or the next `citebot ask` embeds nothing
//! it embedded before.

use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rustc_hash::FxHashMap;
use tokenizers::{Tokenizer, TruncationParams};

use super::mpnet::{self, MpNet};
use crate::knowledge::Snippet;
use crate::text;

/// Tokens of a passage the model reads: its training length was 128, and past
/// 256 its vectors blur while the cost grows with the square of the length.
const MAX_TOKENS: usize = 256;

/// The vectors file's first bytes; the number changes with what a passage's
/// text is made of ([`passage_text`]), how it is read ([`MAX_TOKENS`]) or how
/// it is cut into sentences ([`text::passage_sentences`]; a passage whose count of
/// sentence vectors no longer matches is embedded again anyway).
const VECTORS_MAGIC: &[u8; 8] = b"CBVEC\x00\x00\x03";

/// The file beside the index that keeps passage vectors between runs.
pub const VECTORS_FILE: &str = "semantic.vectors";

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
    model: Encoder,
    tokenizer: Tokenizer,
    /// Which model and files the vectors belong to: the vectors file of another
    /// model (or of another version of this one) is not read.
    fingerprint: u64,
    /// The length of its vectors.
    dim: usize,
    cache: Mutex<Vectors>,
}

/// The network a model folder holds, by its `config.json`'s `model_type`.
enum Encoder {
    /// all-MiniLM-L6-v2 and the other BERTs.
    Bert(BertModel),
    /// all-mpnet-base-v2.
    MpNet(MpNet),
}

impl Encoder {
    /// Each token's vector, (batch, tokens, dim).
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Encoder::Bert(m) => m.forward(ids, &ids.zeros_like()?, Some(mask)),
            Encoder::MpNet(m) => m.forward(ids, mask),
        }
    }
}

/// The kind of network a loaded model is ([`Semantic::family`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// all-MiniLM-L6-v2 and the other BERTs.
    Bert,
    /// all-mpnet-base-v2.
    MpNet,
}

/// Passage vectors by the hash of their text, and whether some are not saved yet.
#[derive(Default)]
struct Vectors {
    by_text: FxHashMap<u64, Arc<[f32]>>,
    unsaved: usize,
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
        let config_text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| load(format!("config.json: {e}")))?;
        let parse = |e: serde_json::Error| load(format!("config.json: {e}"));
        /// Which network the folder holds (a BERT when it does not say).
        #[derive(serde::Deserialize)]
        struct Kind {
            #[serde(default)]
            model_type: String,
        }
        let kind: Kind = serde_json::from_str(&config_text).map_err(parse)?;
        enum Parsed {
            Bert(Config),
            MpNet(mpnet::Config),
        }
        let config = if kind.model_type == "mpnet" {
            Parsed::MpNet(serde_json::from_str(&config_text).map_err(parse)?)
        } else {
            Parsed::Bert(serde_json::from_str(&config_text).map_err(parse)?)
        };
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(load("model.safetensors is missing".into()));
        }
        // SAFETY: the weights file is mapped read-only; the model folder is the
        // project's install, not a file anyone rewrites while the bot runs.
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
                .map_err(|e| load(format!("model.safetensors: {e}")))?;
        let weights = |e: candle_core::Error| load(format!("weights: {e}"));
        let (model, dim) = match config {
            Parsed::Bert(bert) => (
                Encoder::Bert(BertModel::load(vb, &bert).map_err(weights)?),
                bert.hidden_size,
            ),
            Parsed::MpNet(mpnet) => (
                Encoder::MpNet(MpNet::load(vb, &mpnet).map_err(weights)?),
                mpnet.hidden_size,
            ),
        };
        let fingerprint = fingerprint(dir, &config_text)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| load(format!("tokenizer.json: {e}")))?;
        // Batches are padded by hand, the padding masked out of the mean.
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
            fingerprint,
            dim,
            cache: Mutex::new(Vectors::default()),
        })
    }

    /// The unit-length mean-pooled vector of `text`.
    pub fn embed(&self, text: &str) -> Result<Arc<[f32]>, ModelError> {
        let mut all = self.embed_many(&[text])?;
        Ok(all.pop().expect("one vector per text").into())
    }

    fn tokenize(&self, texts: &[&str]) -> Result<Vec<tokenizers::Encoding>, ModelError> {
        texts
            .iter()
            .map(|t| self.tokenizer.encode(*t, true))
            .collect::<Result<_, _>>()
            .map_err(|e| ModelError::Run(e.to_string()))
    }

    /// The unit-length mean-pooled vectors of texts already tokenized, read
    /// together (padded to the longest, the padding masked out of the attention
    /// and the mean): one pass of the model costs far less than one per text.
    fn embed_encodings(
        &self,
        encodings: &[&tokenizers::Encoding],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let run = |e: &dyn std::fmt::Display| ModelError::Run(e.to_string());
        if encodings.is_empty() {
            return Ok(Vec::new());
        }
        let longest = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(encodings.len() * longest);
        let mut mask = Vec::with_capacity(encodings.len() * longest);
        for e in encodings {
            ids.extend(e.get_ids().iter().copied());
            mask.extend(std::iter::repeat_n(1u32, e.len()));
            ids.extend(std::iter::repeat_n(0u32, longest - e.len()));
            mask.extend(std::iter::repeat_n(0u32, longest - e.len()));
        }
        let shape = (encodings.len(), longest);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu).map_err(|e| run(&e))?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu).map_err(|e| run(&e))?;
        let pooled: Vec<Vec<f32>> = self
            .model
            .forward(&ids, &mask)
            .and_then(|out| {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                out.broadcast_mul(&m)?.sum(1)?.broadcast_div(&m.sum(1)?)
            })
            .and_then(|v| v.to_vec2())
            .map_err(|e| run(&e))?;
        Ok(pooled
            .into_iter()
            .map(|v| {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect())
    }

    /// The vectors of `snippet` as the model reads it: the whole (title,
    /// headings, text) first, then each of its sentences ([`text::passage_sentences`]
    /// order), from the cache when its text was embedded before.
    pub fn passage(&self, snippet: &Snippet) -> Result<PassageVectors, ModelError> {
        Ok(self.passages(&[snippet])?.pop().expect("one per snippet"))
    }

    /// [`Semantic::passage`] of each of `snippets`, in their order. Those not
    /// embedded before are read together ([`Semantic::embed_many`]): their
    /// wholes and sentences in batches of like length, so the model pads little
    /// and multiplies large matrices, instead of one pass per passage whose
    /// short sentences wait for its longest.
    pub fn passages(&self, snippets: &[&Snippet]) -> Result<Vec<PassageVectors>, ModelError> {
        struct Todo<'a> {
            key: u64,
            whole: String,
            sentences: Vec<&'a str>,
        }
        let mut found: Vec<Option<Arc<[f32]>>> = Vec::with_capacity(snippets.len());
        let mut keys = Vec::with_capacity(snippets.len());
        let mut todo: Vec<Todo<'_>> = Vec::new();
        {
            let cache = self.lock();
            for snippet in snippets {
                let whole = passage_text(snippet);
                let key = key_of(&whole, &snippet.code);
                let sentences = text::passage_sentences(&snippet.text, &snippet.code);
                keys.push(key);
                match cache.by_text.get(&key) {
                    Some(v) if v.len() == (1 + sentences.len()) * self.dim => {
                        found.push(Some(v.clone()));
                    }
                    _ => {
                        found.push(None);
                        if !todo.iter().any(|t| t.key == key) {
                            todo.push(Todo {
                                key,
                                whole,
                                sentences: sentences
                                    .into_iter()
                                    .map(|r| &snippet.text[r])
                                    .collect(),
                            });
                        }
                    }
                }
            }
        }
        if !todo.is_empty() {
            // Each passage's whole, then its sentences: its vectors, in order.
            let texts: Vec<&str> = todo
                .iter()
                .flat_map(|job| {
                    std::iter::once(job.whole.as_str()).chain(job.sentences.iter().copied())
                })
                .collect();
            let mut vectors = self.embed_many(&texts)?.into_iter();
            let mut cache = self.lock();
            for job in &todo {
                let flat: Arc<[f32]> = vectors
                    .by_ref()
                    .take(1 + job.sentences.len())
                    .flatten()
                    .collect();
                for (slot, key) in found.iter_mut().zip(&keys) {
                    if *key == job.key {
                        *slot = Some(flat.clone());
                    }
                }
                cache.by_text.insert(job.key, flat);
                cache.unsaved += 1;
            }
        }
        Ok(found
            .into_iter()
            .map(|flat| PassageVectors {
                flat: flat.expect("every passage embedded"),
                dim: self.dim,
            })
            .collect())
    }

    /// The unit-length mean-pooled vectors of `texts`, of all lengths, in their
    /// order: read sorted by length, in the [`batches`] of like length
    /// ([`Semantic::embed_encodings`] each).
    fn embed_many(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let encodings = self.tokenize(texts)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let lengths: Vec<usize> = order.iter().map(|&i| encodings[i].len()).collect();
        let mut vectors = vec![Vec::new(); encodings.len()];
        for batch in batches(&lengths) {
            let read: Vec<&tokenizers::Encoding> = order[batch.clone()]
                .iter()
                .map(|&i| &encodings[i])
                .collect();
            for (&i, v) in order[batch].iter().zip(self.embed_encodings(&read)?) {
                vectors[i] = v;
            }
        }
        Ok(vectors)
    }

    /// How many of `snippets` have their vectors known, under one lock.
    pub fn count_known<'s>(&self, snippets: impl Iterator<Item = &'s Snippet>) -> usize {
        let keys: Vec<u64> = snippets.map(passage_key).collect();
        let cache = self.lock();
        keys.iter()
            .filter(|k| cache.by_text.contains_key(k))
            .count()
    }

    /// The `k` passages of `keys` ((position, [`passage_key`])) whose whole
    /// vectors are closest to `qv`, closest first, with their cosines; passages
    /// not embedded yet are left out. The vectors are looked up under the
    /// lock and compared outside it, so the background embedding and other
    /// questions do not wait on the dot products.
    pub fn nearest(
        &self,
        qv: &[f32],
        keys: impl Iterator<Item = (usize, u64)>,
        k: usize,
    ) -> Vec<(usize, f32)> {
        let known: Vec<(usize, Arc<[f32]>)> = {
            let cache = self.lock();
            keys.filter_map(|(at, key)| Some((at, cache.by_text.get(&key)?.clone())))
                .collect()
        };
        best_k(
            known
                .iter()
                .map(|(at, v)| (*at, cosine(qv, &v[..self.dim]))),
            k,
        )
    }

    /// The length of this model's vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Which network this model is: its cosines are spread differently, so
    /// ranking weighs them by family.
    pub fn family(&self) -> Family {
        match self.model {
            Encoder::Bert(_) => Family::Bert,
            Encoder::MpNet(_) => Family::MpNet,
        }
    }

    /// Adds a passage's vectors computed elsewhere (the whole passage's first, then
    /// its sentences'), under `key` as [`passage_key`] gives it, as
    /// [`Semantic::read_vectors`] does for a file: the search bench fills a cache
    /// of 100,000 passages with it, which embedding would take hours to.
    pub fn remember(&self, key: u64, vectors: Vec<f32>) {
        self.lock()
            .by_text
            .entry(key)
            .or_insert_with(|| vectors.into());
    }

    /// Whether `snippet`'s vectors are known (embedded before, or read from a file).
    pub fn has_passage(&self, snippet: &Snippet) -> bool {
        self.lock().by_text.contains_key(&passage_key(snippet))
    }

    /// How many passages' vectors were embedded since the last
    /// [`Semantic::save`], and how many are known.
    pub fn unsaved(&self) -> (usize, usize) {
        let cache = self.lock();
        (cache.unsaved, cache.by_text.len())
    }

    /// Forgets the vectors of passages not in `keep` (edited or deleted since),
    /// so neither memory nor the file grows with every edit.
    pub fn retain<'s>(&self, keep: impl Iterator<Item = &'s Snippet>) {
        let keep: rustc_hash::FxHashSet<u64> = keep.map(passage_key).collect();
        let mut cache = self.lock();
        let before = cache.by_text.len();
        cache.by_text.retain(|k, _| keep.contains(k));
        if cache.by_text.len() < before {
            // The file still holds them: write it again.
            cache.unsaved += 1;
        }
    }

    /// Adds the vectors saved in `file` by this same model; a missing file adds
    /// nothing, and so does one of another model or a damaged one (with a
    /// warning): its passages are embedded again.
    pub fn read_vectors(&self, file: &Path) {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "cannot read the saved passage vectors");
                return;
            }
        };
        match decode(&bytes, self.fingerprint, self.dim) {
            Some(read) => {
                let mut cache = self.lock();
                for (key, v) in read {
                    cache.by_text.entry(key).or_insert(v);
                }
            }
            None => tracing::warn!(
                file = %file.display(),
                "the saved passage vectors are of another model or damaged; passages will be embedded again"
            ),
        }
    }

    /// Writes every known passage vector to `file` (a new file renamed over the
    /// old one, so a crash leaves either whole) when some were added since the
    /// last save.
    pub fn save(&self, file: &Path) -> std::io::Result<()> {
        let (snapshot, unsaved) = {
            let cache = self.lock();
            // Nothing new (most `citebot ask` runs): no copy, no write.
            if cache.unsaved == 0 {
                return Ok(());
            }
            let all: Vec<(u64, Arc<[f32]>)> =
                cache.by_text.iter().map(|(k, v)| (*k, v.clone())).collect();
            (all, cache.unsaved)
        };
        // Each process its own new file: two `citebot ask` may save at once.
        let tmp = file.with_extension(format!("vectors.{}.tmp", std::process::id()));
        {
            let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
            encode(&mut out, self.fingerprint, self.dim, &snapshot)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, file)?;
        let mut cache = self.lock();
        cache.unsaved = cache.unsaved.saturating_sub(unsaved);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vectors> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Writes a vectors file: the magic, the model's fingerprint, the vectors'
/// length, then each passage's key and vector (little-endian).
fn encode(
    out: &mut impl Write,
    fingerprint: u64,
    dim: usize,
    vectors: &[(u64, Arc<[f32]>)],
) -> std::io::Result<()> {
    out.write_all(VECTORS_MAGIC)?;
    out.write_all(&fingerprint.to_le_bytes())?;
    out.write_all(&(dim as u32).to_le_bytes())?;
    for (key, v) in vectors {
        out.write_all(&key.to_le_bytes())?;
        out.write_all(&((v.len() / dim.max(1)) as u32).to_le_bytes())?;
        for x in v.iter() {
            out.write_all(&x.to_le_bytes())?;
        }
    }
    Ok(())
}

/// The vectors in a vectors file's `bytes`, when it is whole and of the model
/// with `fingerprint` and vectors of length `dim`.
fn decode(bytes: &[u8], fingerprint: u64, dim: usize) -> Option<Vec<(u64, Arc<[f32]>)>> {
    let rest = bytes.strip_prefix(VECTORS_MAGIC.as_slice())?;
    let (fp, rest) = rest.split_first_chunk::<8>()?;
    let (d, rest) = rest.split_first_chunk::<4>()?;
    if u64::from_le_bytes(*fp) != fingerprint || u32::from_le_bytes(*d) as usize != dim {
        return None;
    }
    if dim == 0 {
        return None;
    }
    let mut rest = rest;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (key, r) = rest.split_first_chunk::<8>()?;
        let (count, r) = r.split_first_chunk::<4>()?;
        let len = u32::from_le_bytes(*count) as usize * dim * 4;
        if len == 0 || r.len() < len {
            return None;
        }
        let v: Arc<[f32]> = r[..len]
            .chunks_exact(4)
            .map(|x| f32::from_le_bytes(x.try_into().expect("4 bytes")))
            .collect();
        // A unit vector's parts lie in [-1, 1]: anything else is damage.
        if v.iter().any(|x| !(-1.01..=1.01).contains(x)) {
            return None;
        }
        out.push((u64::from_le_bytes(*key), v));
        rest = &r[len..];
    }
    Some(out)
}

/// What identifies a model install: its config, the sizes of its weights and
/// tokenizer, and the weights' first and last MB (a reinstall of the same
/// version gives the same figure; other weights of the same shape do not).
fn fingerprint(dir: &Path, config: &str) -> Result<u64, ModelError> {
    use std::hash::{Hash, Hasher};
    use std::io::{Read, Seek, SeekFrom};
    const SAMPLE: u64 = 1 << 20;
    let failed = |name: &str, e: std::io::Error| ModelError::Load {
        dir: dir.to_path_buf(),
        what: format!("{name}: {e}"),
    };
    let mut h = rustc_hash::FxHasher::default();
    config.hash(&mut h);
    for name in ["model.safetensors", "tokenizer.json"] {
        let mut file = std::fs::File::open(dir.join(name)).map_err(|e| failed(name, e))?;
        let len = file.metadata().map_err(|e| failed(name, e))?.len();
        len.hash(&mut h);
        let mut sample = Vec::new();
        for from in [0, len.saturating_sub(SAMPLE)] {
            sample.clear();
            file.seek(SeekFrom::Start(from))
                .and_then(|_| (&mut file).take(SAMPLE).read_to_end(&mut sample))
                .map_err(|e| failed(name, e))?;
            sample.hash(&mut h);
        }
    }
    Ok(h.finish())
}

/// Tokens (texts × the longest's length) read in one pass of the model: large
/// enough for its matrix products to run at full speed, small enough that a
/// batch of the longest texts keeps its attention (the square of the length per
/// head) to a few tens of megabytes.
const BATCH_TOKENS: usize = 4096;

/// Cuts texts sorted by their length in tokens (`lengths`, shortest first)
/// into batches, each read in one pass of the model: a batch's texts are
/// padded to its longest, so it takes texts at most a quarter (and 4 tokens)
/// longer than its first, and no more than [`BATCH_TOKENS`] in all once padded.
/// (Measured on 69 passages of the mdBook guide: a pass for each passage's
/// whole and one for its sentences took ~25 s; one budget with no cap on the
/// lengths, which pads short sentences to the longest, ~55 s; this, ~20 s.)
fn batches(lengths: &[usize]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lengths.len() {
        let shortest = lengths[start];
        let mut end = start + 1;
        while end < lengths.len()
            && lengths[end] <= shortest + shortest / 4 + 4
            && (end + 1 - start) * lengths[end].max(1) <= BATCH_TOKENS
        {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// A passage's vectors: the whole passage's, then its sentences'.
#[derive(Debug, Clone)]
pub struct PassageVectors {
    flat: Arc<[f32]>,
    dim: usize,
}

impl PassageVectors {
    /// The whole passage's vector.
    pub fn whole(&self) -> &[f32] {
        &self.flat[..self.dim]
    }

    /// Each sentence's vector, in [`text::passage_sentences`] order.
    pub fn sentences(&self) -> impl Iterator<Item = &[f32]> {
        self.flat[self.dim..].chunks_exact(self.dim)
    }
}

/// The `k` highest-scored of `scored`, highest first; of equal scores, the one
/// that came first.
fn best_k(scored: impl Iterator<Item = (usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    for (at, c) in scored {
        if best.len() == k && best[k - 1].1 >= c {
            continue;
        }
        let pos = best.partition_point(|b| b.1 >= c);
        best.insert(pos, (at, c));
        best.truncate(k);
    }
    best
}

/// The key a passage's vectors are cached under: the hash of what the model
/// reads of it.
pub fn passage_key(snippet: &Snippet) -> u64 {
    key_of(&passage_text(snippet), &snippet.code)
}

/// The cache key of a passage read as `whole`: its code ranges count too, as
/// they decide its sentences (the same text as prose or as code is cut apart
/// differently). Without code, the key is the text's alone.
fn key_of(whole: &str, code: &[(usize, usize)]) -> u64 {
    use std::hash::{Hash, Hasher};
    if code.is_empty() {
        return hash(whole);
    }
    let mut h = rustc_hash::FxHasher::default();
    whole.hash(&mut h);
    code.hash(&mut h);
    h.finish()
}

/// Cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    // Eight sums side by side: one running sum is a chain the compiler may not
    // reorder, eight are vector lanes (the scan for the nearest passages reads
    // every passage's vector per question).
    let mut lanes = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
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
    fn the_same_text_as_code_or_as_prose_is_cached_apart() {
        let text = "Run:\n\nmake build. make test.";
        assert_eq!(key_of(text, &[]), hash(text));
        assert_ne!(key_of(text, &[(6, text.len())]), key_of(text, &[]));
    }

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
    fn a_vectors_file_is_read_back_only_whole_and_of_the_same_model() {
        // A passage's vectors: the whole one, then one per sentence.
        let vectors: Vec<(u64, Arc<[f32]>)> = vec![
            (7, Arc::from([0.6f32, 0.8].as_slice())),
            (
                u64::MAX,
                Arc::from([-1.0f32, 0.0, 0.0, 1.0, 0.6, -0.8].as_slice()),
            ),
        ];
        let mut file = Vec::new();
        encode(&mut file, 42, 2, &vectors).unwrap();
        let back = decode(&file, 42, 2).expect("its own file reads back");
        assert_eq!(back.len(), 2);
        for ((k, v), (k2, v2)) in vectors.iter().zip(&back) {
            assert_eq!((k, &v[..]), (k2, &v2[..]));
        }
        let mut other_magic = file.clone();
        other_magic[7] ^= 1;
        let mut no_vectors = file.clone();
        no_vectors[28..32].copy_from_slice(&[0; 4]);
        let cases: [(&str, &[u8], u64, usize); 7] = [
            ("a record of no vectors", &no_vectors, 42, 2),
            ("another model", &file, 43, 2),
            ("vectors of another length", &file, 42, 3),
            ("cut short", &file[..file.len() - 3], 42, 2),
            ("cut inside the header", &file[..10], 42, 2),
            ("another format version", &other_magic, 42, 2),
            ("empty", b"", 42, 2),
        ];
        for (what, bytes, fingerprint, dim) in cases {
            assert!(decode(bytes, fingerprint, dim).is_none(), "{what}");
        }
        let mut empty = Vec::new();
        encode(&mut empty, 42, 2, &[]).unwrap();
        assert_eq!(decode(&empty, 42, 2).map(|v| v.len()), Some(0));
    }

    #[test]
    fn texts_are_batched_with_texts_of_like_length() {
        // (lengths sorted, the batches' ends)
        let cases: &[(&[usize], &[usize])] = &[
            (&[], &[]),
            (&[12], &[1]),
            // Within a quarter and 4 tokens of the first: one batch.
            (&[8, 9, 12], &[3]),
            // A long whole passage is not padded with the short sentences.
            (&[8, 9, 12, 14, 15, 120], &[4, 5, 6]),
            (&[20, 21, 25, 30, 31, 40], &[3, 6]),
            // 256-token texts: 16 fill the budget.
            (&[256; 20], &[16, 20]),
            (&[0, 0, 1], &[3]),
        ];
        for &(lengths, ends) in cases {
            let got: Vec<usize> = batches(lengths).into_iter().map(|r| r.end).collect();
            assert_eq!(got, ends, "{lengths:?}");
            // Every text in exactly one batch, in order.
            let mut next = 0;
            for r in batches(lengths) {
                assert_eq!(r.start, next);
                assert!(r.len() * lengths[r.end - 1].max(1) <= BATCH_TOKENS || r.len() == 1);
                next = r.end;
            }
            assert_eq!(next, lengths.len());
        }
    }

    #[test]
    fn best_k_keeps_the_highest_in_order() {
        let cases: &[(&[f32], usize, &[usize])] = &[
            (&[], 3, &[]),
            (&[0.5, 0.9, 0.1], 0, &[]),
            (&[0.5, 0.9, 0.1], 2, &[1, 0]),
            (&[0.5, 0.9, 0.1], 5, &[1, 0, 2]),
            // Ties: the first seen stays ahead.
            (&[0.7, 0.7, 0.8, 0.7], 3, &[2, 0, 1]),
            (&[-0.2, -0.1], 1, &[1]),
        ];
        for &(scores, k, want) in cases {
            let got: Vec<usize> = best_k(scores.iter().copied().enumerate(), k)
                .into_iter()
                .map(|(i, _)| i)
                .collect();
            assert_eq!(got, want, "{scores:?} k={k}");
        }
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
        // Lengths past the eight lanes, with and without a remainder.
        for n in [8, 19, 384] {
            let v: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 3.0).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let u: Vec<f32> = v.iter().map(|x| x / norm).collect();
            let minus: Vec<f32> = u.iter().map(|x| -x).collect();
            assert!((cosine(&u, &u) - 1.0).abs() < 1e-5, "n={n}");
            assert!((cosine(&u, &minus) + 1.0).abs() < 1e-5, "n={n}");
        }
    }
}
