//! Embedding clustering: deterministic clusters that say the same thing in different words
//! ("cargo: command not found" and "bash: line 1: cargo: not found") merge into one.
//!
//! Each cluster is embedded as its tool, command template, error type and error template
//! (templates are already redacted and masked). Two clusters are near-duplicates when the
//! cosine similarity of their vectors is at least the threshold ([`DEFAULT_THRESHOLD`],
//! `[semantic] merge_threshold`). Grouping is *complete linkage* in rank order: a cluster
//! joins the first group whose every member is that close, so a chain of loosely similar
//! clusters never collapses into one.
//!
//! **The merged cluster's ID is one of its members' deterministic IDs**: the member seen
//! first (ties: the smallest ID). A new near-duplicate arriving later joins under the same
//! ID, so tickets and Harbor tasks keyed by it do not churn; `merged_from` lists every
//! member. Counts, sessions (the union, from the calls), first/last seen and samples are the
//! group's; impact is recomputed with the same formula.

use std::collections::{BTreeMap, BTreeSet};

use codex_contract::fold::Call;
use serde::Serialize;

use crate::cluster::{self, Cluster, ClusterOptions};

/// The default similarity at or above which two clusters merge. Chosen for
/// `text-embedding-3-small`, where rewordings of one error land around 0.9 and different
/// errors of one tool below 0.8; raise it for models whose vectors are less spread out.
pub const DEFAULT_THRESHOLD: f64 = 0.90;

/// What the embedding of a cluster is computed over.
pub fn text_of(c: &Cluster) -> String {
    cluster::redacted(&format!(
        "tool: {}\ncommand: {}\nerror type: {}\nerror: {}",
        c.tool, c.command_template, c.error_type, c.error_template
    ))
}

/// Cosine similarity; 0 for a zero or mismatched vector.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// One merge the layer made.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Merge {
    /// The merged cluster's ID (one of `members`).
    pub id: String,
    /// The members' deterministic IDs, sorted.
    pub members: Vec<String>,
    /// The lowest pairwise similarity inside the group, rounded to 4 decimals.
    pub min_similarity: f64,
}

/// Groups of indexes into `vectors` (complete linkage, in order). `None` (no vector)
/// stays alone.
pub fn groups(vectors: &[Option<Vec<f32>>], threshold: f64) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let home = v.as_ref().and_then(|v| {
            groups.iter().position(|g| {
                g.iter().all(|&j| {
                    vectors[j]
                        .as_ref()
                        .is_some_and(|w| cosine(v, w) >= threshold)
                })
            })
        });
        match home {
            Some(g) => groups[g].push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// Merges near-duplicate `clusters` (ranked) given one vector per cluster; returns the
/// re-ranked clusters and the merges made. `calls` are the window's calls (for the union
/// of sessions).
pub fn merge(
    clusters: Vec<Cluster>,
    vectors: &[Option<Vec<f32>>],
    threshold: f64,
    calls: &[Call],
    opts: &ClusterOptions,
) -> (Vec<Cluster>, Vec<Merge>) {
    let grouped = groups(vectors, threshold);
    if grouped.iter().all(|g| g.len() == 1) {
        return (clusters, Vec::new());
    }
    // Sessions per cluster ID, for the union.
    let mut sessions: BTreeMap<String, BTreeSet<Option<&str>>> = BTreeMap::new();
    let wanted: BTreeSet<&str> = grouped
        .iter()
        .filter(|g| g.len() > 1)
        .flat_map(|g| g.iter().map(|&i| clusters[i].id.as_str()))
        .collect();
    for c in calls.iter().filter(|c| c.status.is_failure()) {
        let id = cluster::cluster_id_of(c);
        if wanted.contains(id.as_str()) {
            sessions
                .entry(id)
                .or_default()
                .insert(c.session_id.as_deref());
        }
    }
    let mut out = Vec::new();
    let mut merges = Vec::new();
    for g in grouped {
        if g.len() == 1 {
            out.push(clusters[g[0]].clone());
            continue;
        }
        let members: Vec<&Cluster> = g.iter().map(|&i| &clusters[i]).collect();
        let mut min_sim = 1.0f64;
        for (a, &i) in g.iter().enumerate() {
            for &j in &g[a + 1..] {
                if let (Some(x), Some(y)) = (&vectors[i], &vectors[j]) {
                    min_sim = min_sim.min(cosine(x, y));
                }
            }
        }
        let mut union: BTreeSet<Option<&str>> = BTreeSet::new();
        for m in &members {
            union.extend(sessions.get(&m.id).into_iter().flatten().copied());
        }
        let merged = combine(&members, union.len().max(1) as u32, opts);
        merges.push(Merge {
            id: merged.id.clone(),
            members: merged.merged_from.clone(),
            min_similarity: (min_sim * 10_000.0).round() / 10_000.0,
        });
        out.push(merged);
    }
    cluster::rank(&mut out);
    (out, merges)
}

/// One cluster standing for `members` (see the module docs for which fields come from where).
fn combine(members: &[&Cluster], sessions: u32, opts: &ClusterOptions) -> Cluster {
    let anchor = members
        .iter()
        .min_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)))
        .expect("a group has members");
    let latest = members
        .iter()
        .max_by(|a, b| a.last_seen.cmp(&b.last_seen).then(b.id.cmp(&a.id)))
        .expect("a group has members");
    let mut c = (*anchor).clone();
    c.count = members.iter().map(|m| m.count).sum();
    c.sessions = sessions;
    c.severity = members.iter().map(|m| m.severity).fold(0.0, f64::max);
    c.first_seen = anchor.first_seen;
    c.last_seen = latest.last_seen;
    c.last_status = latest.last_status;
    c.last_git_head = latest.last_git_head.clone();
    c.last_command = latest.last_command.clone();
    c.last_cwd = latest.last_cwd.clone();
    c.impact = cluster::impact(c.count, c.severity, c.sessions, c.last_seen, opts);
    let mut samples: Vec<cluster::Sample> =
        members.iter().flat_map(|m| m.samples.clone()).collect();
    samples.sort_by(|a, b| a.ts.cmp(&b.ts).then(a.call_id.cmp(&b.call_id)));
    let keep = samples.len().saturating_sub(opts.max_samples);
    c.samples = samples.split_off(keep);
    c.working_alternative = members.iter().find_map(|m| m.working_alternative.clone());
    // Fixed only when every member is.
    if members.iter().any(|m| m.fixed_at.is_none()) {
        c.fixed_at = None;
        c.resolved_at = None;
    }
    let mut ids: Vec<String> = members
        .iter()
        .flat_map(|m| {
            if m.merged_from.is_empty() {
                vec![m.id.clone()]
            } else {
                m.merged_from.clone()
            }
        })
        .collect();
    ids.sort();
    ids.dedup();
    c.merged_from = ids;
    c.summary = None;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_linkage_keeps_chains_apart() {
        // a~b and b~c, but not a~c: b joins a; c stays alone.
        let v = |x: f32, y: f32| Some(vec![x, y]);
        let vectors = [v(1.0, 0.0), v(0.95, 0.31), v(0.8, 0.6), None];
        assert_eq!(groups(&vectors, 0.9), vec![vec![0, 1], vec![2], vec![3]]);
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-9);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
