//! Results of the semantic layer, cached by content hash beside the state
//! (`.codex/semantic-cache.json` by default), so a rerun over the same data sends nothing.
//!
//! A key is SHA-256 over the kind of result, the model and the exact (redacted) text that
//! would be sent; the value is the *validated* result, never a raw answer. The file keeps
//! only the entries the last run used, so it stays as small as one run's results and never
//! grows without bound. A damaged file is treated as empty (with a warning): a cache
//! miss costs requests, never correctness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The file format's version; a file with another version is ignored.
pub const CACHE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Default)]
struct File {
    version: u32,
    entries: BTreeMap<String, Value>,
}

/// The cache of one run: what the file had, and what this run used or added.
pub struct Cache {
    path: PathBuf,
    old: BTreeMap<String, Value>,
    used: BTreeMap<String, Value>,
    /// Lookups answered from the file.
    pub hits: u32,
    /// Lookups that needed a request.
    pub misses: u32,
}

/// The cache key of `text` sent to `model` for `kind` (`confusion`, `embedding`, `summary`).
pub fn key(kind: &str, model: &str, text: &str) -> String {
    let mut h = Sha256::new();
    for part in [kind, model, text] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cache {
    /// Reads `path` (missing: empty). The second value is a warning for a damaged file.
    pub fn load(path: &Path) -> (Cache, Option<String>) {
        let mut warning = None;
        let old = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<File>(&bytes) {
                Ok(f) if f.version == CACHE_VERSION => f.entries,
                Ok(_) => BTreeMap::new(),
                Err(e) => {
                    warning = Some(format!(
                        "semantic cache {} is damaged ({e}); starting with an empty cache",
                        path.display()
                    ));
                    BTreeMap::new()
                }
            },
            Err(_) => BTreeMap::new(),
        };
        let cache = Cache {
            path: path.to_path_buf(),
            old,
            used: BTreeMap::new(),
            hits: 0,
            misses: 0,
        };
        (cache, warning)
    }

    /// The cached result for `key`, counted as a hit or a miss.
    pub fn get(&mut self, key: &str) -> Option<Value> {
        let found = self
            .used
            .get(key)
            .cloned()
            .or_else(|| self.old.get(key).cloned());
        match &found {
            Some(v) => {
                self.hits += 1;
                self.used.insert(key.to_string(), v.clone());
            }
            None => self.misses += 1,
        }
        found
    }

    /// Stores a validated result.
    pub fn put(&mut self, key: String, value: Value) {
        self.used.insert(key, value);
    }

    /// Keeps the file's entries this process did not use as well. For commands outside the
    /// scheduled run (`export-harbor`): they use a slice of the cache and must not evict the
    /// run's other results, which the next run would pay for again.
    pub fn keep_unused(&mut self) {
        for (k, v) in std::mem::take(&mut self.old) {
            self.used.entry(k).or_insert(v);
        }
    }

    /// Entries the file will hold.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes: this run's entries, sorted, so equal runs write equal files.
    pub fn to_bytes(&self) -> Vec<u8> {
        let f = File {
            version: CACHE_VERSION,
            entries: self.used.clone(),
        };
        let mut b = serde_json::to_vec_pretty(&f).unwrap_or_default();
        b.push(b'\n');
        b
    }

    /// Writes the file atomically (temp file, fsync, rename; [`crate::state::write_atomic`]).
    /// Returns the bytes written.
    pub fn save(&self) -> anyhow::Result<u64> {
        let bytes = self.to_bytes();
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        }
        crate::state::write_atomic(&self.path, Path::new(&tmp), &bytes)?;
        Ok(bytes.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_a_run_used_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        let (mut c, w) = Cache::load(&p);
        assert!(w.is_none());
        let k = key("embedding", "m", "text");
        assert_ne!(k, key("embedding", "m2", "text"));
        assert!(c.get(&k).is_none());
        c.put(k.clone(), serde_json::json!([1.0]));
        c.save().unwrap();
        let (mut c2, _) = Cache::load(&p);
        assert_eq!(c2.get(&k), Some(serde_json::json!([1.0])));
        assert_eq!((c2.hits, c2.misses), (1, 0));
        std::fs::write(&p, "{not json").unwrap();
        let (c3, w) = Cache::load(&p);
        assert!(c3.is_empty() && w.unwrap().contains("damaged"));
    }

    #[test]
    fn keep_unused_adds_to_the_file_instead_of_replacing_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        let (mut run, _) = Cache::load(&p);
        run.put("summary".into(), serde_json::json!("the run's"));
        run.put("shared".into(), serde_json::json!(1));
        run.save().unwrap();

        let (mut export, _) = Cache::load(&p);
        assert_eq!(export.get("shared"), Some(serde_json::json!(1)));
        export.put("new".into(), serde_json::json!(2));
        export.keep_unused();
        assert_eq!(export.len(), 3);
        export.save().unwrap();

        let (mut after, _) = Cache::load(&p);
        for k in ["summary", "shared", "new"] {
            assert!(after.get(k).is_some(), "{k} kept");
        }
        // Without it, a run keeps only what it used.
        after.save().unwrap();
        let (again, _) = Cache::load(&p);
        again.save().unwrap();
        assert!(Cache::load(&p).0.is_empty());
    }
}
