//! Friction clusters in a Chroma collection, so "have we seen this friction before, in any
//! repository?" is one query: `codex-analyzer push-chroma` upserts the log's clusters,
//! `codex-analyzer similar "TEXT"` asks for the nearest.
//!
//! Chroma's HTTP API (v2) stores and searches vectors; it never embeds, so this module sends
//! vectors from an [`Embedder`]. Entries are keyed `{repository}/{cluster ID}`: pushing the
//! same clusters again replaces them (idempotent), and two repositories with the same
//! friction keep one entry each. The collection records which embedder made its vectors and
//! refuses another one, since vectors of different embedders cannot be compared.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use codex_contract::fold::Folder;
use codex_contract::record::{format_ts, Phase};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::embed::{Embedder, HashedNgrams, ModelEmbeddings};
use super::{RepoArgs, Target};
use crate::cluster::{self, Cluster, ClusterOptions};
use crate::http_client::Client;

/// `[chroma]` in `.codex/improvement.toml`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ChromaConfig {
    /// The server (`http://localhost:8000`); empty: the scheduled job does not push.
    pub url: String,
    pub collection: String,
    pub tenant: String,
    pub database: String,
    /// Who makes the vectors.
    pub embeddings: Embeddings,
}

impl Default for ChromaConfig {
    fn default() -> Self {
        ChromaConfig {
            url: String::new(),
            collection: "codex-frictions".into(),
            tenant: "default_tenant".into(),
            database: "default_database".into(),
            embeddings: Embeddings::Local,
        }
    }
}

/// Who makes the collection's vectors (`[chroma] embeddings`, `--embeddings`).
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Embeddings {
    /// Hashed 3-grams and words: no model, no network, no synonyms.
    Local,
    /// The `[semantic]` embedding model through its OpenAI-compatible endpoint (its key,
    /// base URL, budget and retries; `[semantic] enabled` is not needed).
    Model,
}

impl Embeddings {
    /// The embedder this choice names, built from the repository's `config`.
    pub fn embedder(self, config: &crate::config::Config) -> Result<Box<dyn Embedder>> {
        Ok(match self {
            Embeddings::Local => Box::new(HashedNgrams::default()),
            Embeddings::Model => {
                let semantic: crate::semantic::SemanticConfig =
                    config.section("semantic")?.unwrap_or_default();
                let client = semantic
                    .client()
                    .context("[chroma] embeddings = \"model\" uses the [semantic] settings")?;
                Box::new(ModelEmbeddings::new(client))
            }
        })
    }
}

/// Where the collection is (shared by `push-chroma` and `similar`).
#[derive(Args, Debug, Clone, Default)]
pub struct ChromaArgs {
    #[command(flatten)]
    pub target: RepoArgs,
    /// The Chroma server [default: config [chroma] url, else env CHROMA_URL, else
    /// http://localhost:8000].
    #[arg(long, value_name = "URL")]
    pub chroma: Option<String>,
    /// The collection [default: config, codex-frictions].
    #[arg(long, value_name = "NAME")]
    pub collection: Option<String>,
    /// Who makes the vectors: `local` (hashed words, no network) or `model` (the [semantic]
    /// embedding_model at its base_url, with its API key and budget) [default: config
    /// [chroma] embeddings, else local]. A collection keeps the embedder it was made with.
    #[arg(long, value_enum, value_name = "WHO")]
    pub embeddings: Option<Embeddings>,
}

/// `codex-analyzer similar "TEXT"`.
#[derive(Args, Debug, Clone)]
pub struct SimilarArgs {
    /// The friction to look for: an error message, a command, or both.
    pub text: String,
    #[command(flatten)]
    pub chroma: ChromaArgs,
    /// How many clusters to show.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub top: usize,
}

/// An open collection.
pub struct Collection {
    client: Client,
    base: String,
    id: String,
    embedder: Box<dyn Embedder>,
}

/// The collection's documents: what a cluster is, in words the embedder sees.
pub fn document(c: &Cluster) -> String {
    format!(
        "{} `{}` failed with {}: {}",
        c.tool,
        c.last_command.as_deref().unwrap_or(&c.command_template),
        c.error_type,
        c.error_template
    )
}

impl Collection {
    /// Gets or creates the collection.
    pub fn open(url: &str, cfg: &ChromaConfig, embedder: Box<dyn Embedder>) -> Result<Collection> {
        let client = Client::new(std::time::Duration::from_secs(30))?;
        let base = format!(
            "{}/api/v2/tenants/{}/databases/{}",
            url.trim_end_matches('/'),
            cfg.tenant,
            cfg.database
        );
        let body = json!({
            "name": cfg.collection,
            "get_or_create": true,
            "metadata": {"hnsw:space": "cosine", "embedding": embedder.name()},
        });
        let col = client
            .json("POST", &format!("{base}/collections"), &body)
            .with_context(|| {
                format!(
                    "cannot open the Chroma collection {} at {url}; is `chroma run` up?",
                    cfg.collection
                )
            })?;
        let found = col["metadata"]["embedding"].as_str().unwrap_or("");
        if found != embedder.name() {
            bail!(
                "the Chroma collection {} holds vectors of `{found}`, not `{}`; use another \
                 --collection (vectors of different embedders cannot be compared)",
                cfg.collection,
                embedder.name()
            );
        }
        let id = col["id"]
            .as_str()
            .ok_or_else(|| anyhow!("Chroma answered a collection without an id: {col}"))?
            .to_string();
        Ok(Collection {
            client,
            base,
            id,
            embedder,
        })
    }

    /// Upserts clusters of `repository`; returns how many.
    pub fn upsert(&self, repository: &str, clusters: &[Cluster]) -> Result<usize> {
        for chunk in clusters.chunks(100) {
            let docs: Vec<String> = chunk.iter().map(document).collect();
            let embeddings = self.embedder.embed(&docs)?;
            let ids: Vec<String> = chunk
                .iter()
                .map(|c| format!("{repository}/{}", c.id))
                .collect();
            let metadatas: Vec<Value> = chunk
                .iter()
                .map(|c| {
                    json!({
                        "repository": repository,
                        "cluster_id": c.id,
                        "tool": c.tool,
                        "error_type": c.error_type,
                        "count": c.count,
                        "sessions": c.sessions,
                        "first_seen": format_ts(c.first_seen),
                        "last_seen": format_ts(c.last_seen),
                        "impact": c.impact,
                    })
                })
                .collect();
            let body = json!({
                "ids": ids,
                "embeddings": embeddings,
                "documents": docs,
                "metadatas": metadatas,
            });
            self.client.json(
                "POST",
                &format!("{}/collections/{}/upsert", self.base, self.id),
                &body,
            )?;
        }
        Ok(clusters.len())
    }

    /// How many entries the collection holds.
    pub fn count(&self) -> Result<u64> {
        let url = format!("{}/collections/{}/count", self.base, self.id);
        let r = self.client.send("GET", &url, &[], Vec::new())?;
        if !r.ok() {
            bail!("GET {url}: HTTP {}: {}", r.status, r.text());
        }
        Ok(serde_json::from_slice::<u64>(&r.body)?)
    }

    /// The `n` nearest entries to `text`.
    pub fn query(&self, text: &str, n: usize) -> Result<Vec<Hit>> {
        let v = self.embedder.embed(&[text.to_string()])?;
        let body = json!({
            "query_embeddings": v,
            "n_results": n.max(1),
            "include": ["documents", "distances", "metadatas"],
        });
        let r = self.client.json(
            "POST",
            &format!("{}/collections/{}/query", self.base, self.id),
            &body,
        )?;
        let empty = Vec::new();
        let ids = r["ids"][0].as_array().unwrap_or(&empty);
        Ok(ids
            .iter()
            .enumerate()
            .map(|(i, id)| Hit {
                id: id.as_str().unwrap_or("").to_string(),
                distance: r["distances"][0][i].as_f64().unwrap_or(f64::NAN),
                document: r["documents"][0][i].as_str().unwrap_or("").to_string(),
                metadata: r["metadatas"][0][i].clone(),
            })
            .collect())
    }
}

/// One answer of [`Collection::query`].
#[derive(Clone, Debug, Serialize)]
pub struct Hit {
    pub id: String,
    /// Cosine distance: 0 is the same direction.
    pub distance: f64,
    pub document: String,
    pub metadata: Value,
}

/// The repository name stored with clusters: `$GITHUB_REPOSITORY`, else the folder name.
pub fn repository(t: &Target) -> String {
    std::env::var("GITHUB_REPOSITORY")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| t.repo.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".into())
}

fn resolve(args: &ChromaArgs) -> Result<(Target, Collection)> {
    let t = Target::resolve(&args.target)?;
    let mut cfg: ChromaConfig = t.config.section("chroma")?.unwrap_or_default();
    if let Some(c) = &args.collection {
        cfg.collection = c.clone();
    }
    if let Some(e) = args.embeddings {
        cfg.embeddings = e;
    }
    let url = args
        .chroma
        .clone()
        .or_else(|| (!cfg.url.is_empty()).then(|| cfg.url.clone()))
        .or_else(|| std::env::var("CHROMA_URL").ok())
        .unwrap_or_else(|| "http://localhost:8000".into());
    let col = Collection::open(&url, &cfg, cfg.embeddings.embedder(&t.config)?)?;
    Ok((t, col))
}

/// Every friction cluster of the whole log, recency measured from its newest call.
pub fn clusters_of_log(t: &Target) -> Result<Vec<Cluster>> {
    let mut reader = codex_contract::read::open(&t.log).with_context(|| {
        format!(
            "cannot read the tool-call log {}; install the capture shim or pass --log",
            t.log.display()
        )
    })?;
    let mut folder = Folder::new();
    for r in reader.by_ref() {
        if r.phase != Some(Phase::Session) {
            folder.push(r);
        }
    }
    if let Some(e) = reader.error.take() {
        return Err(anyhow!(e).context(format!("reading {}", t.log.display())));
    }
    let calls = folder.finish();
    let Some(now) = calls.iter().map(|c| c.last_ts).max() else {
        return Ok(Vec::new());
    };
    let cfg: crate::closed_loop::ClosedLoopConfig =
        t.config.section("closed_loop")?.unwrap_or_default();
    Ok(cluster::cluster(
        &calls,
        &ClusterOptions {
            half_life_hours: cfg.half_life_hours,
            ..ClusterOptions::at(now)
        },
    ))
}

/// `push-chroma`: upserts the log's clusters; returns a summary line.
pub fn push(args: &ChromaArgs) -> Result<String> {
    let (t, col) = resolve(args)?;
    let clusters = clusters_of_log(&t)?;
    let repo = repository(&t);
    let n = col.upsert(&repo, &clusters)?;
    Ok(format!(
        "{n} friction clusters of {repo} upserted; the collection holds {} entries\n",
        col.count()?
    ))
}

/// `similar`: the nearest clusters, as text.
pub fn similar(args: &SimilarArgs) -> Result<String> {
    let (_, col) = resolve(&args.chroma)?;
    let hits = col.query(&args.text, args.top)?;
    if hits.is_empty() {
        return Ok(
            "no clusters in the collection yet; push some with `codex-analyzer push-chroma`\n"
                .into(),
        );
    }
    let mut s = String::new();
    for h in hits {
        let m = &h.metadata;
        s.push_str(&format!(
            "{:.3}  {}  {} ({}x in {} sessions, {} .. {})\n       {}\n",
            h.distance,
            m["repository"].as_str().unwrap_or("?"),
            m["cluster_id"].as_str().unwrap_or(&h.id),
            m["count"],
            m["sessions"],
            m["first_seen"].as_str().unwrap_or("?"),
            m["last_seen"].as_str().unwrap_or("?"),
            h.document
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<ChromaConfig, toml::de::Error> {
        toml::from_str(toml_text)
    }

    #[test]
    fn embeddings_default_to_local_and_take_model() {
        assert_eq!(parse("").unwrap().embeddings, Embeddings::Local);
        assert_eq!(
            parse("embeddings = \"model\"").unwrap().embeddings,
            Embeddings::Model
        );
        let err = parse("embeddings = \"remote\"").unwrap_err().to_string();
        assert!(err.contains("local") && err.contains("model"), "{err}");
    }

    #[test]
    fn model_embeddings_need_a_usable_semantic_section() {
        let config: crate::config::Config =
            toml::from_str("[semantic]\nauth = \"basic\"\n").unwrap();
        let err = format!("{:#}", Embeddings::Model.embedder(&config).err().unwrap());
        assert!(
            err.contains("[chroma] embeddings = \"model\" uses the [semantic] settings")
                && err.contains("auth"),
            "{err}"
        );
        assert_eq!(
            Embeddings::Local.embedder(&config).unwrap().name(),
            "hashed-ngrams-384"
        );
    }
}
