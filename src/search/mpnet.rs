//! MPNet, the encoder of all-mpnet-base-v2, on the CPU with candle (which
//! ships BERT but not MPNet). It is BERT without token types whose attention
//! also weighs a learnt bias per head for how far apart two tokens are, in 32
//! buckets shared by every layer; positions count from the padding id + 1.
//! Written from the architecture as Hugging Face's `modeling_mpnet` defines it,
//! so the weights sentence-transformers saves load by their own names.

use candle_core::{CpuStorage, DType, Device, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder, embedding, layer_norm, linear};

/// What `config.json` says of an MPNet model (the fields read; the rest,
/// dropout and the like, matter only in training).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
    pub pad_token_id: u32,
}

fn default_buckets() -> usize {
    32
}

/// How far apart two tokens may be before their distance is read as this far
/// (the bucketing's `max_distance`, fixed in MPNet).
const MAX_DISTANCE: f64 = 128.0;

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The MPNet encoder: token vectors out, one per token in.
pub struct MpNet {
    words: Embedding,
    positions: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    relative: Embedding,
    heads: usize,
    buckets: usize,
    pad: u32,
}

impl MpNet {
    /// Loads the weights under their sentence-transformers names
    /// (`embeddings.*`, `encoder.layer.N.*`, `encoder.relative_attention_bias`).
    pub fn load(vb: VarBuilder, c: &Config) -> Result<MpNet> {
        let h = c.hidden_size;
        let e = vb.pp("embeddings");
        let words = embedding(c.vocab_size, h, e.pp("word_embeddings"))?;
        let positions = embedding(c.max_position_embeddings, h, e.pp("position_embeddings"))?;
        let norm = layer_norm(h, c.layer_norm_eps, e.pp("LayerNorm"))?;
        let enc = vb.pp("encoder");
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = enc.pp(format!("layer.{i}"));
                let a = l.pp("attention");
                Ok(Layer {
                    q: linear(h, h, a.pp("attn.q"))?,
                    k: linear(h, h, a.pp("attn.k"))?,
                    v: linear(h, h, a.pp("attn.v"))?,
                    o: linear(h, h, a.pp("attn.o"))?,
                    attention_norm: layer_norm(h, c.layer_norm_eps, a.pp("LayerNorm"))?,
                    intermediate: linear(h, c.intermediate_size, l.pp("intermediate.dense"))?,
                    output: linear(c.intermediate_size, h, l.pp("output.dense"))?,
                    output_norm: layer_norm(h, c.layer_norm_eps, l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let relative = embedding(
            c.relative_attention_num_buckets,
            c.num_attention_heads,
            enc.pp("relative_attention_bias"),
        )?;
        Ok(MpNet {
            words,
            positions,
            norm,
            layers,
            relative,
            heads: c.num_attention_heads,
            buckets: c.relative_attention_num_buckets,
            pad: c.pad_token_id,
        })
    }

    /// The last layer's vector of each token of `ids` (batch × tokens, each
    /// row's tokens first and its padding after), `mask` 1 for a token and 0
    /// for padding.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, len) = ids.dims2()?;
        let device = ids.device();
        // Each row's tokens come first, so a token's position is its index
        // past the padding id; padding's own position is never attended to.
        let first = self.pad + 1;
        let positions = Tensor::arange(first, first + len as u32, device)?;
        let x = self
            .words
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?;
        let x = self.norm.forward(&x)?;
        // The bias each head adds for each pair's distance, plus -inf-like
        // for padding keys: (batch, heads, len, len).
        let bias = self
            .position_bias(len, device)?
            .broadcast_add(&padding_bias(mask)?)?;
        let hidden = x.dim(2)?;
        let d = hidden / self.heads;
        // Every token of every row as one matrix for the linear layers: one
        // large product instead of one small one per row, each of which the
        // CPU's matrix code splits across threads on its own.
        let mut x = x.reshape((batch * len, hidden))?;
        let split = |t: Tensor| -> Result<Tensor> {
            t.reshape((batch, len, self.heads, d))?
                .transpose(1, 2)?
                .contiguous()
        };
        let scale = 1.0 / (d as f64).sqrt();
        for l in &self.layers {
            let q = split(l.q.forward(&x)?)?;
            let k = split(l.k.forward(&x)?)?;
            let v = split(l.v.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch * len, hidden))?;
            let attended = l.attention_norm.forward(&(l.o.forward(&context)? + &x)?)?;
            let inner = l.intermediate.forward(&attended)?.apply_op1_no_bwd(&Gelu)?;
            x = l
                .output_norm
                .forward(&(l.output.forward(&inner)? + attended)?)?;
        }
        let x = x.reshape((batch, len, hidden))?;
        Ok(x)
    }

    /// The relative-position bias, (1, heads, len, len).
    fn position_bias(&self, len: usize, device: &Device) -> Result<Tensor> {
        let mut ids = Vec::with_capacity(len * len);
        for query in 0..len as i64 {
            for key in 0..len as i64 {
                ids.push(bucket(key - query, self.buckets) as u32);
            }
        }
        let ids = Tensor::from_vec(ids, (len, len), device)?;
        self.relative
            .forward(&ids)?
            .permute((2, 0, 1))?
            .unsqueeze(0)?
            .contiguous()
    }
}

/// GELU as MPNet defines it, x·Φ(x) with the exact error function, over a
/// contiguous f32 tensor: candle's `gelu_erf` calls a scalar `erff` per
/// element, which took ~15% of the time to embed a passage; [`erf`] is a
/// rational function the compiler turns into vector instructions.
struct Gelu;

impl candle_core::CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("gelu: a contiguous f32 tensor only");
        };
        let out = data[start..end].iter().map(|&x| gelu(x)).collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The error function in single precision: the rational approximation Eigen
/// and XLA use for f32 (odd numerator of degree 13 over even denominator of
/// degree 8, on x clamped to ±4, past which erf is ±1 in f32), within 1e-7 of
/// the exact value: no branch and no call, so a loop over it runs in vector
/// instructions.
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_4e-10_f32;
    for c in [
        2.770_681_5e-8,
        -2.101_024e-6,
        -5.692_506_2e-5,
        -7.349_906_4e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ] {
        p = p * x2 + c;
    }
    let mut q = -1.456_607_15e-5_f32;
    for c in [
        -2.133_740_5e-4,
        -1.682_827e-3,
        -7.373_329_3e-3,
        -1.426_473_9e-2,
    ] {
        q = q * x2 + c;
    }
    x * p / q
}

/// A large negative number at each padding key, 0 elsewhere: (batch, 1, 1, len).
fn padding_bias(mask: &Tensor) -> Result<Tensor> {
    let m = mask.to_dtype(DType::F32)?;
    ((m.ones_like()? - m)? * f64::from(f32::MIN))?
        .unsqueeze(1)?
        .unsqueeze(1)
}

/// MPNet's (and T5's) bucket of a key `relative` tokens after the query:
/// half the buckets for keys before it, half for after; in each half the
/// nearest distances one bucket each, farther ones sharing buckets whose
/// width grows with the logarithm of the distance, up to [`MAX_DISTANCE`].
fn bucket(relative: i64, buckets: usize) -> usize {
    let half = (buckets / 2) as i64;
    let n = -relative;
    let side = if n < 0 { half } else { 0 };
    let n = n.abs();
    let exact = half / 2;
    let within = if n < exact {
        n
    } else {
        let far = exact as f64
            + ((n as f64 / exact as f64).ln() / (MAX_DISTANCE / exact as f64).ln())
                * (half - exact) as f64;
        (far as i64).min(half - 1)
    };
    (side + within) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_changes_no_token_s_vector() {
        // A tiny MPNet of random weights: a text read alone and the same text
        // padded in a batch beside a longer one must come out the same, or
        // batching would move every vector.
        let varmap = candle_nn::VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let config = Config {
            vocab_size: 20,
            hidden_size: 8,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 16,
            max_position_embeddings: 16,
            layer_norm_eps: 1e-5,
            relative_attention_num_buckets: 32,
            pad_token_id: 1,
        };
        let model = MpNet::load(vb, &config).unwrap();
        let run = |ids: Vec<u32>, mask: Vec<u32>, rows: usize| {
            let len = ids.len() / rows;
            let ids = Tensor::from_vec(ids, (rows, len), &Device::Cpu).unwrap();
            let mask = Tensor::from_vec(mask, (rows, len), &Device::Cpu).unwrap();
            model.forward(&ids, &mask).unwrap()
        };
        let alone = run(vec![0, 5, 6, 2], vec![1; 4], 1);
        let batch = run(
            vec![0, 5, 6, 7, 8, 2, 0, 5, 6, 2, 1, 1],
            vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
            2,
        );
        let alone: Vec<Vec<f32>> = alone.squeeze(0).unwrap().to_vec2().unwrap();
        let padded: Vec<Vec<f32>> = batch.get(1).unwrap().to_vec2().unwrap();
        for (a, b) in alone.iter().zip(&padded) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-4, "{a:?} != {b:?}");
            }
        }
        // And the longer text is read differently from the shorter one.
        let longer: Vec<Vec<f32>> = batch.get(0).unwrap().to_vec2().unwrap();
        assert_ne!(longer[1], padded[1]);
    }

    #[test]
    fn gelu_is_x_times_the_normal_cdf() {
        // (x, x·Φ(x) from the exact error function, in double precision)
        let cases = [
            (0.0, 0.0),
            (1.0, 0.841_344_746_068_543),
            (-1.0, -0.158_655_253_931_457),
            (0.5, 0.345_731_230_637_007),
            (-2.5, -0.015_524_163_314_440),
            (3.0, 2.995_950_305_905_11),
            (-4.0, -0.000_126_684_967_332),
            (7.0, 7.0),
            (-9.0, 0.0),
        ];
        for (x, want) in cases {
            let got = f64::from(gelu(x as f32));
            assert!((got - want).abs() < 1e-6, "gelu({x}) = {got}, not {want}");
        }
        let t = Tensor::new(&[[-1.0f32, 0.5], [1.0, 3.0]], &Device::Cpu).unwrap();
        let ours: Vec<Vec<f32>> = t.apply_op1_no_bwd(&Gelu).unwrap().to_vec2().unwrap();
        let candle: Vec<Vec<f32>> = t.gelu_erf().unwrap().to_vec2().unwrap();
        for (a, b) in ours.iter().flatten().zip(candle.iter().flatten()) {
            assert!((a - b).abs() < 1e-6, "{a} != {b}");
        }
    }

    #[test]
    fn distances_fall_in_mpnet_s_buckets() {
        // (key minus query, bucket), from the reference bucketing with 32
        // buckets and a maximum distance of 128.
        let cases = [
            (0, 0),
            (-1, 1),
            (-7, 7),
            (-8, 8),
            (-12, 9),
            (-16, 10),
            (-127, 15),
            (-1000, 15),
            (1, 17),
            (7, 23),
            (8, 24),
            (16, 26),
            (500, 31),
        ];
        for (relative, expected) in cases {
            assert_eq!(bucket(relative, 32), expected, "distance {relative}");
        }
    }
}
