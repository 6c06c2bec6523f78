//! Embeddings for the friction collection, behind one small trait: the local one or a
//! model's.
//!
//! [`HashedNgrams`] is the local, deterministic default: character 3-grams and words hashed
//! into a fixed number of signed buckets, L2-normalised. It needs no model and no network,
//! gives the same vector on every machine, and finds frictions that share wording (the same
//! command, the same error text) — but it knows no synonyms: "could not resolve host" and
//! "DNS lookup failed" are far apart. It is the lower-quality choice.
//!
//! [`ModelEmbeddings`] asks the `[semantic]` embedding model (an OpenAI-compatible
//! `/embeddings` endpoint), under the semantic layer's budget, secret check and retries.

use anyhow::{anyhow, Result};
use sha2::{Digest, Sha256};

/// Turns texts into vectors of one fixed length.
pub trait Embedder {
    /// A stable name, stored with the collection: vectors of different embedders never mix.
    fn name(&self) -> String;
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

/// Hashed character 3-grams and words (see the module documentation).
#[derive(Clone, Debug)]
pub struct HashedNgrams {
    pub dims: usize,
}

impl Default for HashedNgrams {
    fn default() -> Self {
        HashedNgrams { dims: 384 }
    }
}

impl HashedNgrams {
    fn bucket(&self, feature: &str) -> (usize, f32) {
        let d = Sha256::digest(feature.as_bytes());
        let h = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
        let sign = if d[8] & 1 == 0 { 1.0 } else { -1.0 };
        ((h % self.dims as u64) as usize, sign)
    }

    /// One text's vector.
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        let lower = text.to_lowercase();
        let chars: Vec<char> = format!(
            " {} ",
            lower.split_whitespace().collect::<Vec<_>>().join(" ")
        )
        .chars()
        .collect();
        for w in chars.windows(3) {
            let (i, s) = self.bucket(&w.iter().collect::<String>());
            v[i] += s;
        }
        for word in lower.split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-') {
            if word.len() > 1 {
                let (i, s) = self.bucket(&format!("w:{word}"));
                v[i] += 2.0 * s;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Embedder for HashedNgrams {
    fn name(&self) -> String {
        format!("hashed-ngrams-{}", self.dims)
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

/// The `[semantic]` embedding model (see the module documentation).
pub struct ModelEmbeddings {
    client: crate::semantic::Client,
}

impl ModelEmbeddings {
    pub fn new(client: crate::semantic::Client) -> ModelEmbeddings {
        ModelEmbeddings { client }
    }
}

impl Embedder for ModelEmbeddings {
    /// The model's name only, not the endpoint: the same model served elsewhere (another
    /// machine's local server) makes vectors that compare.
    fn name(&self) -> String {
        format!("model:{}", self.client.embedding_model())
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.client.embed(texts).map_err(|e| {
            anyhow!(
                "the embedding model `{}`: {e}",
                self.client.embedding_model()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn similar_wording_is_closer_than_different() {
        let e = HashedNgrams::default();
        let a = e.vector("cargo-nextest: command not found");
        let b = e.vector("bash: cargo-nextest: command not found (exit 127)");
        let c = e.vector("error[E0425]: cannot find value `x` in this scope");
        assert!(cos(&a, &b) > 0.6, "{}", cos(&a, &b));
        assert!(cos(&a, &b) > cos(&a, &c) + 0.3);
        assert_eq!(a, e.vector("cargo-nextest: command not found"));
        assert!((cos(&a, &a) - 1.0).abs() < 1e-5);
    }
}
