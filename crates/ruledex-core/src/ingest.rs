//! Ingest: reads one configured source with its format adapter, gives every rule a stable
//! address, resolves its ATT&CK (and ATLAS) tags, and reports per file what could not be read.
//!
//! Ingest never stops at a bad file: the file is listed in the report with its path and the
//! reason, and the rest of the source loads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attack::{AttackCatalog, TagMeaning};
use crate::fingerprint::short_hash;
use crate::model::{
    AtlasRef, Detection, MappedBy, MappingStatus, MappingVia, Provenance, Rule, SourceKind, Status, TacticRef,
    TechniqueMapping,
};
use crate::sources::{Format, Prepared, SourceFile, Support};
use crate::url::{encode_component, redact_credentials};
use crate::walk::{self, Candidate, WalkError, Walker};

/// Rule files larger than this are refused unless a source says otherwise (the largest rule in
/// the public corpora is about 300 KB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// What one source may read in all unless it says otherwise. The largest real source, Elastic's
/// detection-rules, reads 17 MB; a hostile one could otherwise fill memory with many large files.
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 128 * 1024 * 1024;
/// Longer queries are refused unless a source says otherwise. The longest real one, a Sigma
/// rule listing vulnerable drivers, is 295 KB.
pub const DEFAULT_MAX_QUERY_BYTES: u64 = 1024 * 1024;

/// What reading one source may cost. Each limit is the source's config key of the same name,
/// and a file or rule refused by one is reported naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    pub max_file_bytes: u64,
    pub max_source_bytes: u64,
    pub max_query_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_source_bytes: DEFAULT_MAX_SOURCE_BYTES,
            max_query_bytes: DEFAULT_MAX_QUERY_BYTES,
        }
    }
}

/// One source to read, as configured and fetched.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub name: String,
    pub format: Format,
    pub kind: SourceKind,
    /// The local directory holding the source (a mirror or a checkout).
    pub root: PathBuf,
    pub license: Option<String>,
    /// The upstream repository URL, for provenance links.
    pub repository: Option<String>,
    /// The upstream commit the local tree is at, when known.
    pub commit: Option<String>,
    pub limits: ReadLimits,
}

/// A file that could not be read, or a rule in it that could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub path: String,
    pub reason: String,
}

/// How a source's ATT&CK tags resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackCoverage {
    /// Detections mapped to at least one technique.
    pub mapped_detections: usize,
    /// Distinct techniques the source's detections are listed under.
    pub techniques: usize,
    pub revoked_tags: usize,
    pub deprecated_tags: usize,
    /// Technique and tactic IDs not in the loaded ATT&CK release, plus tags naming nothing in
    /// ATT&CK.
    pub unknown_tags: usize,
    /// The unknown tags by what they name, with how many times each occurs: an ID
    /// (`T1685`, `TA0112`, likely from a newer release) or the text as written (`stealth`).
    #[serde(default)]
    pub unknown: BTreeMap<String, usize>,
    /// MITRE ATLAS techniques and tactics named (never counted as ATT&CK).
    #[serde(default)]
    pub atlas_refs: usize,
}

/// What reading a source produced, for `ruledex stats` and the sources page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub name: String,
    pub format: Format,
    pub kind: SourceKind,
    pub repository: Option<String>,
    pub commit: Option<String>,
    pub license: Option<String>,
    /// Rule files found (matching the format's patterns).
    pub files: usize,
    /// Files read without any error.
    pub files_parsed: usize,
    pub detections: usize,
    pub failures: Vec<Failure>,
    pub attack: AttackCoverage,
    #[serde(with = "millis")]
    pub parse_time: Duration,
}

pub struct IngestedSource {
    pub report: SourceReport,
    pub detections: Vec<Detection>,
    /// Support files the catalog keeps for exports (see [`crate::sources::Adapter::asset_patterns`]).
    pub assets: Vec<Asset>,
    /// Every rule file read, with its content hash and the addresses of its detections: what a
    /// later read needs to reuse this one (see [`EarlierRead`]).
    pub files: Vec<FileDigest>,
    /// Hash of what every rule was parsed with besides its own file (see [`EarlierRead`]).
    pub support_digest: String,
    /// Rule files whose rules were taken from the earlier read instead of being parsed.
    pub files_reused: usize,
}

/// A rule file as one read found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub path: String,
    /// [`digest`] of its content; `None` when it could not be read or parsed cleanly, so a later
    /// read parses it again.
    pub hash: Option<String>,
    /// Addresses of its detections, in the order the file holds them.
    pub ids: Vec<String>,
}

/// What an earlier read of a source left for the next one: the rules of each file that was read
/// cleanly, by content hash. A file whose content is unchanged is not parsed again, as long as
/// everything else its rules depend on is unchanged too: the support files (Splunk macros,
/// Panther helpers), the read limits and ruledex's own version ([`EarlierRead::support_digest`]).
///
/// A file that now cannot be read at all (garbage, a half-written file) keeps its earlier rules,
/// and its failure says so: one broken upstream commit does not make detections vanish and
/// reappear in the change history.
///
/// The rules are borrowed from the earlier read's detections, which the sync compares with the
/// new ones anyway: a large source is held in memory once, not twice.
#[derive(Debug, Clone, Default)]
pub struct EarlierRead<'a> {
    pub support_digest: String,
    /// By path.
    pub files: HashMap<String, EarlierFile<'a>>,
    /// The addresses its detections had, which stay theirs (also when nothing else is reused).
    pub addresses: EarlierAddresses,
}

/// The addresses a source's detections had in the current catalog, so that each keeps its own
/// across syncs whatever appears beside it. A rule is known by its file, its readable ID and
/// which of the file's rules with that ID it is.
#[derive(Debug, Clone, Default)]
pub struct EarlierAddresses {
    /// Path, readable ID, then the addresses of that file's rules with that ID, in file order.
    by_rule: HashMap<String, HashMap<String, Vec<String>>>,
}

impl EarlierAddresses {
    /// From the earlier read's detections, each file's in the order the file holds them.
    pub fn new<'a>(detections: impl IntoIterator<Item = &'a Detection>) -> EarlierAddresses {
        let mut by_rule: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
        for detection in detections {
            let rule = &detection.rule;
            let of_file = by_rule.entry(rule.path.clone()).or_default();
            of_file.entry(url_safe(base_id(rule))).or_default().push(detection.id.clone());
        }
        EarlierAddresses { by_rule }
    }

    /// The address of the `nth` rule (from 1) with readable ID `id` in `path`.
    fn get(&self, path: &str, id: &str, nth: usize) -> Option<&str> {
        self.by_rule.get(path)?.get(id)?.get(nth.checked_sub(1)?).map(String::as_str)
    }
}

#[derive(Debug, Clone, Default)]
pub struct EarlierFile<'a> {
    /// `None` when the file was not read cleanly: its rules are kept only as a fallback.
    pub hash: Option<String>,
    pub rules: Vec<&'a Rule>,
}

impl EarlierRead<'_> {
    /// The earlier rules of `path` when its content (`hash`) and everything else its rules
    /// depend on (`support_digest`) are unchanged.
    fn reusable(&self, path: &str, hash: &str, support_digest: &str) -> Option<Vec<Rule>> {
        let earlier = self.files.get(path)?;
        (self.support_digest == support_digest && earlier.hash.as_deref() == Some(hash))
            .then(|| earlier.rules.iter().map(|r| (*r).clone()).collect())
    }

    fn fallback(&self, path: &str) -> Option<Vec<Rule>> {
        let earlier = self.files.get(path).filter(|f| !f.rules.is_empty())?;
        Some(earlier.rules.iter().map(|r| (*r).clone()).collect())
    }
}

/// A stable hash of some bytes (128-bit xxh3, hex): how ruledex tells content apart across
/// syncs. Not cryptographic: a source's content comes from whoever controls its repository
/// anyway, and a collision could only hide that author's own change to their own file.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        // Lengths first, so the same bytes split differently hash differently.
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    format!("{:032x}", hasher.digest128())
}

/// A file of a source that is not a rule but that exports need (a Splunk lookup table, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Relative to the source root, `/`-separated.
    pub path: String,
    pub text: String,
}

/// Reads a whole source. Fails only when the source itself cannot be read (missing root).
/// `on_file` is called once per file read, with the number of files, for progress display.
pub fn ingest(
    spec: &SourceSpec,
    attack: &AttackCatalog,
    on_file: &(dyn Fn(usize) + Sync),
) -> Result<IngestedSource, WalkError> {
    parse_files(spec, attack, on_file, read_files(spec)?, &EarlierRead::default())
}

/// A source's files read from disk, not yet parsed: the half of ingesting that needs nothing of
/// an earlier read, so a sync can read them while it loads that.
pub struct SourceFiles {
    started: Instant,
    support: Support,
    support_failures: Vec<Failure>,
    /// The rule files, in path order.
    candidates: Vec<Candidate>,
}

/// Reads a source's support and rule files. Fails only when the source itself cannot be read
/// (missing root).
pub fn read_files(spec: &SourceSpec) -> Result<SourceFiles, WalkError> {
    let started = Instant::now();
    let adapter = spec.format.adapter();
    // One walker for support and rule files: the source's byte limit and its record of files
    // already read cover both.
    let mut walker = Walker::new(&spec.root, spec.limits.max_file_bytes, spec.limits.max_source_bytes)?;
    let (support, support_failures) = read_support(spec, &mut walker)?;
    let candidates = walker.candidates(adapter.patterns())?.into_iter().map(|c| read_as_support(c, &support)).collect();
    Ok(SourceFiles { started, support, support_failures, candidates })
}

/// Parses the files [`read_files`] read, taking the rules of files unchanged since `earlier`
/// from there instead of parsing them again. The result is the same as a full read's, except for
/// files that can no longer be read at all, which keep their earlier rules (see
/// [`EarlierRead`]). `on_file` is called once per file, with the number of files.
pub fn parse_files(
    spec: &SourceSpec,
    attack: &AttackCatalog,
    on_file: &(dyn Fn(usize) + Sync),
    files: SourceFiles,
    earlier: &EarlierRead<'_>,
) -> Result<IngestedSource, WalkError> {
    let SourceFiles { started, support, mut support_failures, candidates } = files;
    let adapter = spec.format.adapter();
    let prepared = adapter.prepare(&support);
    support_failures
        .extend(prepared.failures.iter().map(|(path, e)| Failure { path: path.clone(), reason: e.to_string() }));
    let support_digest = support_digest(spec, &support, &support_failures);
    let files = candidates.len();
    let outcomes: Vec<FileOutcome> = candidates
        .into_par_iter()
        .map(|candidate| {
            on_file(files);
            read_file(&prepared, candidate, spec.limits.max_query_bytes, earlier, &support_digest)
        })
        .collect();
    let files_parsed = outcomes.iter().filter(|o| o.failures.is_empty()).count();
    let files_reused = outcomes.iter().filter(|o| o.reused).count();
    let mut digests = Vec::with_capacity(outcomes.len());
    let mut rules = Vec::new();
    let mut failures = Vec::new();
    for outcome in outcomes {
        digests.push((outcome.path, outcome.hash, outcome.rules.len()));
        rules.extend(outcome.rules);
        failures.push(outcome.failures);
    }
    let (ids, address_notes) = unique_ids(&spec.name, &rules, &earlier.addresses);
    let files = file_digests(digests, &ids);
    let detections: Vec<Detection> =
        rules.into_par_iter().zip(ids).map(|(rule, id)| place(spec, attack, id, rule)).collect();
    let report = SourceReport {
        name: spec.name.clone(),
        format: spec.format,
        kind: spec.kind,
        repository: shown_repository(spec),
        commit: spec.commit.clone(),
        license: spec.license.clone(),
        files: files.len(),
        files_parsed,
        detections: detections.len(),
        failures: support_failures.into_iter().chain(failures.into_iter().flatten()).chain(address_notes).collect(),
        attack: coverage(&detections),
        parse_time: started.elapsed(),
    };
    let assets = assets(adapter.asset_patterns(), &support)?;
    Ok(IngestedSource { report, detections, assets, files, support_digest, files_reused })
}

/// One rule file's rules, its failures, and whether the rules came from the earlier read.
struct FileOutcome {
    path: String,
    /// Set when the file was read cleanly.
    hash: Option<String>,
    rules: Vec<Rule>,
    failures: Vec<Failure>,
    reused: bool,
}

/// Reads one rule file, or takes its rules from the earlier read when it is unchanged. A file
/// that yields nothing but failures keeps its earlier rules, if it had any.
fn read_file(
    prepared: &Prepared<'_>,
    candidate: Candidate,
    max_query_bytes: u64,
    earlier: &EarlierRead<'_>,
    support_digest: &str,
) -> FileOutcome {
    let path = candidate.path.clone();
    let hash = candidate.content.as_ref().ok().map(|text| digest(&[text.as_bytes()]));
    if let Some(rules) = hash.as_deref().and_then(|h| earlier.reusable(&path, h, support_digest)) {
        return FileOutcome { path, hash, rules, failures: vec![], reused: true };
    }
    let (rules, mut failures) = read_rules(prepared, candidate, max_query_bytes);
    match earlier.fallback(&path) {
        Some(kept) if rules.is_empty() && !failures.is_empty() => {
            for failure in &mut failures {
                failure.reason.push_str("; the detections read from it before are kept");
            }
            FileOutcome { path, hash: None, rules: kept, failures, reused: false }
        }
        _ => {
            let hash = hash.filter(|_| failures.is_empty());
            FileOutcome { path, hash, rules, failures, reused: false }
        }
    }
}

/// Each file's hash with the addresses of its rules, which follow each other in `ids`.
fn file_digests(files: Vec<(String, Option<String>, usize)>, ids: &[String]) -> Vec<FileDigest> {
    let mut next = 0;
    files
        .into_iter()
        .map(|(path, hash, count)| {
            let file_ids = ids[next..next + count].to_vec();
            next += count;
            FileDigest { path, hash, ids: file_ids }
        })
        .collect()
}

/// What every rule of the source is parsed with besides its own file: ruledex's version (its
/// adapters), the format, the read limits, and the support files (or why they are unreadable).
fn support_digest(spec: &SourceSpec, support: &Support, failures: &[Failure]) -> String {
    let limits = format!("{:?}", spec.limits);
    let mut parts: Vec<&[u8]> =
        vec![env!("CARGO_PKG_VERSION").as_bytes(), spec.format.as_str().as_bytes(), limits.as_bytes()];
    for (path, text) in support.files() {
        parts.extend([path.as_bytes(), text.as_bytes()]);
    }
    for failure in failures {
        parts.extend([failure.path.as_bytes(), failure.reason.as_bytes()]);
    }
    digest(&parts)
}

/// The rules of one file, and why the file or some of its rules could not be read. A rule whose
/// query is over `max_query_bytes` is refused.
fn read_rules(prepared: &Prepared<'_>, candidate: Candidate, max_query_bytes: u64) -> (Vec<Rule>, Vec<Failure>) {
    let path = candidate.path;
    let failure = |reason: String| Failure { path: path.clone(), reason };
    let text = match candidate.content {
        Ok(text) => text,
        Err(unread) => return (vec![], vec![failure(unread.to_string())]),
    };
    let parsed = prepared.parse(SourceFile { path: &path, text: &text });
    let mut failures: Vec<Failure> = parsed.errors.iter().map(|e| failure(e.to_string())).collect();
    let (rules, oversized): (Vec<Rule>, Vec<Rule>) =
        parsed.rules.into_iter().partition(|rule| rule.query.len() as u64 <= max_query_bytes);
    failures.extend(oversized.iter().map(|rule| {
        let label = if rule.native_id.trim().is_empty() { &rule.title } else { &rule.native_id };
        let name: String = label.chars().take(80).collect();
        failure(format!(
            "rule {name:?}: query is {} bytes, over the {max_query_bytes}-byte limit (max_query_bytes)",
            rule.query.len()
        ))
    }));
    (rules, failures)
}

/// A rule file that is also a support file (Panther's saved queries are both) was read once, as
/// a support file: the walker refuses to read it again, so its text comes from there.
fn read_as_support(candidate: Candidate, support: &Support) -> Candidate {
    match (&candidate.content, support.get(&candidate.path)) {
        (Err(_), Some(text)) => Candidate { content: Ok(text.to_string()), ..candidate },
        _ => candidate,
    }
}

/// The format's support files, read with the same care as rule files; the unreadable ones are
/// reported as failures.
fn read_support(spec: &SourceSpec, walker: &mut Walker) -> Result<(Support, Vec<Failure>), WalkError> {
    let patterns = spec.format.adapter().support_patterns();
    if patterns.is_empty() {
        return Ok((Support::default(), vec![]));
    }
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for candidate in walker.candidates(patterns)? {
        match candidate.content {
            Ok(text) => files.push((candidate.path, text)),
            Err(unread) => failures.push(Failure { path: candidate.path, reason: unread.to_string() }),
        }
    }
    Ok((Support::new(files), failures))
}

/// The repository as shown in provenance and reports: without credentials.
fn shown_repository(spec: &SourceSpec) -> Option<String> {
    spec.repository.as_deref().map(|url| redact_credentials(url).into_owned())
}

fn assets(patterns: &[&str], support: &Support) -> Result<Vec<Asset>, WalkError> {
    let wanted = walk::glob_set(patterns)?;
    Ok(support
        .files()
        .filter(|(path, _)| wanted.is_match(path))
        .map(|(path, text)| Asset { path: path.to_string(), text: text.to_string() })
        .collect())
}

/// Wraps a rule into a detection: address, provenance, license, resolved ATT&CK, its free text
/// capped ([`crate::free_text`]).
fn place(spec: &SourceSpec, attack: &AttackCatalog, id: String, rule: Rule) -> Detection {
    let links = link_attack(attack, &rule);
    let repository = shown_repository(spec);
    let provenance = Provenance {
        path: rule.path.clone(),
        upstream_url: upstream_file_url(repository.as_deref(), spec.commit.as_deref(), &rule.path),
        repository,
        commit: spec.commit.clone(),
    };
    let mut detection = Detection {
        source: spec.name.clone(),
        source_kind: spec.kind,
        format: spec.format,
        id,
        deprecated: rule.status == Some(Status::Deprecated),
        effective_license: rule.license.clone().or_else(|| spec.license.clone()),
        techniques: links.techniques,
        tactics: links.tactics,
        unresolved_tags: links.unresolved,
        cves: rule_cves(&rule),
        atlas: links.atlas,
        provenance,
        rule,
    };
    crate::free_text::cap(&mut detection);
    detection
}

/// The CVEs a rule is about: named in its title, tags or references (a description may mention
/// a CVE only in passing).
fn rule_cves(rule: &Rule) -> Vec<String> {
    let labels = rule.tags.iter().chain(&rule.references).map(String::as_str);
    crate::cve::cves_in(std::iter::once(rule.title.as_str()).chain(labels))
}

#[derive(Default)]
struct AttackLinks {
    techniques: Vec<TechniqueMapping>,
    tactics: Vec<TacticRef>,
    unresolved: Vec<String>,
    atlas: Vec<AtlasRef>,
}

/// Resolves a rule's vendor tags and ruledex-inferred tags. A technique named twice (an ID and
/// its URL, say) is listed once, under the first tag that named it. A rule whose tags name
/// nothing in ATT&CK (or nothing in ATLAS) is read for attack.mitre.org (or atlas.mitre.org)
/// links among its references, and what they name is marked as read from a reference.
fn link_attack(attack: &AttackCatalog, rule: &Rule) -> AttackLinks {
    let mut links = AttackLinks::default();
    let tagged = rule.attack_tags.iter().map(|t| (t, MappedBy::Vendor));
    let inferred = rule.inferred_attack_tags.iter().map(|t| (t, MappedBy::Ruledex));
    for (tag, mapped_by) in tagged.chain(inferred) {
        for meaning in attack.resolve_tag(tag) {
            links.add(attack, meaning, tag.trim(), mapped_by, MappingVia::Tag);
        }
    }
    let read_attack = links.techniques.is_empty() && links.tactics.is_empty();
    let read_atlas = links.atlas.is_empty();
    for reference in rule.references.iter().filter(|r| names_mitre_page(r)) {
        for meaning in attack.resolve_tag(reference) {
            let wanted = match meaning {
                TagMeaning::Technique(_) | TagMeaning::Tactic(_) => read_attack,
                TagMeaning::Atlas(_) => read_atlas,
                // A link to a page ruledex does not map (software, groups) names no technique.
                TagMeaning::Unresolved(_) => false,
            };
            if wanted {
                links.add(attack, meaning, reference.trim(), MappedBy::Vendor, MappingVia::Reference);
            }
        }
    }
    links
}

/// A link to an ATT&CK or ATLAS page; other references may mention IDs in passing.
fn names_mitre_page(reference: &str) -> bool {
    let reference = reference.trim();
    let without_scheme = reference.strip_prefix("https://").or_else(|| reference.strip_prefix("http://"));
    without_scheme.is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
        matches!(host.as_str(), "attack.mitre.org" | "atlas.mitre.org")
    })
}

impl AttackLinks {
    fn add(&mut self, attack: &AttackCatalog, meaning: TagMeaning, tag: &str, mapped_by: MappedBy, via: MappingVia) {
        match meaning {
            TagMeaning::Technique(id) => {
                let mapping = TechniqueMapping { via, ..attack.map_technique(id, tag, mapped_by) };
                if !self.techniques.iter().any(|m| m.id == mapping.id) {
                    self.techniques.push(mapping);
                }
            }
            TagMeaning::Tactic(id) => {
                for tactic in attack.map_tactic(id) {
                    if !self.tactics.iter().any(|t| t.id == tactic.id) {
                        self.tactics.push(tactic);
                    }
                }
            }
            TagMeaning::Atlas(id) => {
                if !self.atlas.iter().any(|a| a.id == id) {
                    self.atlas.push(AtlasRef { id, url: id.atlas_url(), via });
                }
            }
            TagMeaning::Unresolved(text) => {
                if !self.unresolved.contains(&text) {
                    self.unresolved.push(text);
                }
            }
        }
    }
}

/// Addresses unique within the source. A rule keeps the address an earlier read gave it while
/// its file and readable ID stay the same. A new rule's address is its native ID when no other
/// rule has that ID; IDs upstream repeats (Elastic reuses some rule_ids for hunts, Google SecOps
/// repeats rule names across files) get a suffix derived from the file path, so each keeps the
/// same address across syncs.
///
/// A new rule whose ID is the address a rule keeps gets a suffix too, and a note (returned as a
/// failure of its file): a file added upstream never takes over another rule's address, and with
/// it the links, bookmarks and history that point there.
fn unique_ids(source: &str, rules: &[Rule], earlier: &EarlierAddresses) -> (Vec<String>, Vec<Failure>) {
    let base: Vec<String> = rules.iter().map(|r| url_safe(base_id(r))).collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for id in &base {
        *uses.entry(id.as_str()).or_default() += 1;
    }
    let nth = nth_in_file(rules, &base);
    let kept: Vec<Option<&str>> =
        rules.iter().zip(&base).zip(&nth).map(|((rule, id), nth)| earlier.get(&rule.path, id, *nth)).collect();
    // Each address taken, with the rule holding it: the kept ones first, whatever their order.
    let mut holders: HashMap<String, usize> =
        kept.iter().enumerate().filter_map(|(i, kept)| Some(((*kept)?.to_string(), i))).collect();
    let mut ids = Vec::with_capacity(rules.len());
    let mut notes = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if let Some(kept) = kept[i] {
            ids.push(kept.to_string());
            continue;
        }
        let id = &base[i];
        let owner = holders.get(id).copied().filter(|&holder| kept[holder].is_some());
        let mut candidate = match uses[id.as_str()] == 1 && owner.is_none() {
            true => id.clone(),
            false => format!("{id}~{}", short_hash(&format!("{}#{}", rule.path, nth[i]))),
        };
        while holders.contains_key(&candidate) {
            candidate.push('_');
        }
        if let Some(owner) = owner {
            let reason = format!(
                "its ID {id:?} is the address of the detection read from {} since an earlier sync; this one is \
                 {source}/{candidate}",
                rules[owner].path
            );
            notes.push(Failure { path: rule.path.clone(), reason });
        }
        holders.insert(candidate.clone(), i);
        ids.push(candidate);
    }
    (ids, notes)
}

/// Which of its file's rules with the same readable ID (`base`) each rule is, from 1.
fn nth_in_file<'a>(rules: &'a [Rule], base: &'a [String]) -> Vec<usize> {
    let mut seen: HashMap<(&'a str, &'a str), usize> = HashMap::new();
    let nth = |(rule, id): (&'a Rule, &'a String)| {
        let nth = seen.entry((rule.path.as_str(), id.as_str())).or_default();
        *nth += 1;
        *nth
    };
    rules.iter().zip(base).map(nth).collect()
}

/// The readable part of an address: the vendor's ID where it is a name people read (a Google
/// SecOps rule name), the rule file's name where the vendor's ID is a UUID or missing
/// (`splunk/windows_proxy_via_netsh`, not `splunk/3e3c8d9a-...`). The vendor's ID stays in
/// `native_id`, and addresses made of it keep resolving.
fn base_id(rule: &Rule) -> &str {
    let native = rule.native_id.trim();
    if native.is_empty() || is_uuid(native) { crate::sources::util::file_stem(&rule.path) } else { native }
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Keeps IDs usable as one URL path segment and on a command line.
fn url_safe(id: &str) -> String {
    let safe: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if safe.is_empty() || safe.chars().all(|c| c == '.') { "_".to_string() } else { safe }
}

/// A link to the file at its commit on the hosts whose URL scheme is known.
pub fn upstream_file_url(repository: Option<&str>, commit: Option<&str>, path: &str) -> Option<String> {
    let repository = repository?.trim_end_matches('/').trim_end_matches(".git");
    let commit = commit?;
    let path = path.split('/').map(encode_component).collect::<Vec<_>>().join("/");
    if repository.starts_with("https://github.com/") {
        Some(format!("{repository}/blob/{commit}/{path}"))
    } else if repository.starts_with("https://gitlab.com/") {
        Some(format!("{repository}/-/blob/{commit}/{path}"))
    } else {
        None
    }
}

fn coverage(detections: &[Detection]) -> AttackCoverage {
    let mut coverage = AttackCoverage::default();
    let mut techniques = HashSet::new();
    for detection in detections {
        coverage.mapped_detections += usize::from(!detection.techniques.is_empty());
        coverage.atlas_refs += detection.atlas.len();
        for text in &detection.unresolved_tags {
            coverage.count_unknown(text.clone());
        }
        for mapping in &detection.techniques {
            techniques.insert(mapping.id);
            coverage.count(mapping.status, mapping.id.to_string());
        }
        // A split tactic is one tag listed under several tactics: it counts once.
        let mut tagged_tactics: Vec<(String, MappingStatus)> =
            detection.tactics.iter().map(|t| (t.tagged_id.unwrap_or(t.id).to_string(), t.status)).collect();
        tagged_tactics.dedup();
        for (tagged, status) in tagged_tactics {
            coverage.count(status, tagged);
        }
    }
    coverage.techniques = techniques.len();
    coverage
}

impl AttackCoverage {
    fn count(&mut self, status: MappingStatus, id: String) {
        match status {
            MappingStatus::Revoked => self.revoked_tags += 1,
            MappingStatus::Deprecated => self.deprecated_tags += 1,
            MappingStatus::Unknown => self.count_unknown(id),
            MappingStatus::Current => {}
        }
    }

    fn count_unknown(&mut self, tag: String) {
        self.unknown_tags += 1;
        *self.unknown.entry(tag).or_default() += 1;
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::testing::mini_catalog;

    fn rule(native_id: &str, path: &str) -> Rule {
        Rule { native_id: native_id.into(), path: path.into(), ..Rule::default() }
    }

    #[test]
    fn uuids_give_way_to_file_names_in_addresses() {
        let rules = vec![
            rule("3e3c8d9a-3c7e-4bd2-9a31-6e1a4d9b1e20", "detections/endpoint/windows_proxy_via_netsh.yml"),
            rule("0d3d2254-2b4a-11f0-a019-f661ea17fbcc", "hunting/windows/docs/a.toml"),
            rule("0d3d2254-2b4a-11f0-a019-f661ea17fbcc", "hunting/linux/docs/b.toml"),
            rule("gcti_tor_exit_nodes", "rules/community/gcti_tor_exit_nodes.yaral"),
            rule("not-a-uuid-3c7e", "rules/x.yml"),
        ];
        assert_eq!(
            fresh_ids(&rules),
            vec!["windows_proxy_via_netsh", "a", "b", "gcti_tor_exit_nodes", "not-a-uuid-3c7e"]
        );
    }

    #[test]
    fn repeated_native_ids_get_distinct_stable_addresses() {
        let rules = vec![
            rule("a", "rules/one.yaral"),
            rule("dup", "rules/x/dup.yaral"),
            rule("dup", "rules/y/dup.yaral"),
            rule("", "hunting/no id here.toml"),
            rule("dup", "rules/y/dup.yaral"),
        ];
        let ids = fresh_ids(&rules);
        assert_eq!(ids[0], "a");
        assert_eq!(ids[3], "no_id_here");
        let dups = [&ids[1], &ids[2], &ids[4]];
        assert!(dups.iter().all(|id| id.starts_with("dup~")), "{dups:?}");
        assert_eq!(dups.iter().collect::<HashSet<_>>().len(), 3, "{dups:?}");
        assert_eq!(fresh_ids(&rules), ids, "stable across runs");
    }

    /// The addresses a first read gives, with no note.
    fn fresh_ids(rules: &[Rule]) -> Vec<String> {
        let (ids, notes) = unique_ids("s", rules, &EarlierAddresses::default());
        assert_eq!(notes, vec![]);
        ids
    }

    /// The rules placed as detections of source `s` at the addresses a read gave them.
    fn placed(rules: &[Rule], ids: &[String]) -> Vec<Detection> {
        let spec = SourceSpec { name: "s".into(), ..spec() };
        rules.iter().zip(ids).map(|(rule, id)| place(&spec, &mini_catalog(), id.clone(), rule.clone())).collect()
    }

    /// Issue 21, item 6: a new file whose native ID was an existing rule's address took that
    /// address; the real rule was renamed and recorded as removed.
    #[test]
    fn an_address_stays_with_its_rule_when_a_new_rule_claims_its_id() {
        let real = rule("3e3c8d9a-3c7e-4bd2-9a31-6e1a4d9b1e20", "detections/windows_proxy_via_netsh.yml");
        let twins = [rule("dup", "rules/x/dup.yaral"), rule("dup", "rules/y/dup.yaral")];
        let before = [vec![real.clone()], twins.to_vec()].concat();
        let earlier = EarlierAddresses::new(&placed(&before, &fresh_ids(&before)));
        let squatter = rule("windows_proxy_via_netsh", "detections/a_squatter.yml");
        let now = [vec![squatter, real], twins.to_vec()].concat();
        let (ids, notes) = unique_ids("s", &now, &earlier);
        assert_eq!(ids[1], "windows_proxy_via_netsh", "the real rule keeps its address");
        assert!(ids[0].starts_with("windows_proxy_via_netsh~"), "{ids:?}");
        assert_eq!(ids[2..], fresh_ids(&before)[1..], "suffixed addresses are kept too");
        assert_eq!(
            notes,
            [Failure {
                path: "detections/a_squatter.yml".into(),
                reason: format!(
                    "its ID \"windows_proxy_via_netsh\" is the address of the detection read from \
                     detections/windows_proxy_via_netsh.yml since an earlier sync; this one is s/{}",
                    ids[0]
                ),
            }]
        );
        assert_eq!(unique_ids("s", &now, &earlier), (ids, notes), "stable across runs");
    }

    /// An ID once repeated keeps its suffixed addresses when the repetition ends, and a rule
    /// that moved to another file reads as new.
    #[test]
    fn addresses_a_repetition_gave_are_kept_after_it_ends() {
        let twins = [rule("dup", "rules/x/dup.yaral"), rule("dup", "rules/y/dup.yaral")];
        let earlier_ids = fresh_ids(&twins);
        let earlier = EarlierAddresses::new(&placed(&twins, &earlier_ids));
        let (ids, notes) = unique_ids("s", &twins[..1], &earlier);
        assert_eq!((ids.as_slice(), notes), (&earlier_ids[..1], vec![]));
        let moved = [rule("dup", "rules/z/dup.yaral")];
        assert_eq!(unique_ids("s", &moved, &earlier), (vec!["dup".to_string()], vec![]));
    }

    #[test]
    fn tags_resolve_into_techniques_tactics_and_flagged_leftovers() {
        let catalog = mini_catalog();
        let mut rule = rule("r", "rules/r.yml");
        rule.attack_tags = vec![
            "T1090.003".into(),
            "https://attack.mitre.org/techniques/T1090/003/".into(),
            "t1086".into(),
            "TA0011".into(),
            "Not A Technique".into(),
            "T1999".into(),
        ];
        rule.inferred_attack_tags = vec!["T1090".into()];
        let links = link_attack(&catalog, &rule);
        let listed: Vec<(String, MappingStatus, MappedBy)> =
            links.techniques.iter().map(|m| (m.id.to_string(), m.status, m.mapped_by)).collect();
        assert_eq!(
            listed,
            vec![
                ("T1090.003".into(), MappingStatus::Current, MappedBy::Vendor),
                ("T1059.001".into(), MappingStatus::Revoked, MappedBy::Vendor),
                ("T1999".into(), MappingStatus::Unknown, MappedBy::Vendor),
                ("T1090".into(), MappingStatus::Current, MappedBy::Ruledex),
            ]
        );
        assert_eq!(links.techniques[1].tagged, "t1086");
        assert_eq!(links.tactics[0].name, "Command and Control");
        assert_eq!(links.unresolved, vec!["Not A Technique"]);
    }

    fn sigma_rule(title: &str, value: &str) -> String {
        format!(
            "title: {title}\nlogsource:\n  product: windows\ndetection:\n  selection:\n    CommandLine: '{value}'\n  \
             condition: selection\ntags:\n  - attack.t1090\n"
        )
    }

    /// The attack that took 3.5 GB of memory: hundreds of hard links to one huge rule. The rule
    /// is read once and refused for its query size; every link is reported; the rest loads.
    #[test]
    fn a_hostile_tree_of_hard_links_to_a_huge_query_costs_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(rules.join("aa_normal.yml"), sigma_rule("Normal", "tor.exe")).unwrap();
        let huge = sigma_rule("Huge", &"x".repeat(2 * 1024 * 1024));
        std::fs::write(rules.join("huge_000.yml"), &huge).unwrap();
        for i in 1..250 {
            std::fs::hard_link(rules.join("huge_000.yml"), rules.join(format!("huge_{i:03}.yml"))).unwrap();
        }
        let spec = SourceSpec {
            name: "sigma".into(),
            format: Format::Sigma,
            kind: SourceKind::Community,
            root: dir.path().to_path_buf(),
            license: None,
            repository: None,
            commit: None,
            limits: ReadLimits::default(),
        };
        let ingested = ingest(&spec, &mini_catalog(), &|_| {}).unwrap();
        let report = &ingested.report;
        assert_eq!((report.files, report.files_parsed, report.detections), (251, 1, 1));
        assert_eq!(ingested.detections[0].rule.title, "Normal");
        let reasons: Vec<&str> = report.failures.iter().map(|f| f.reason.as_str()).collect();
        let over = format!(
            "rule \"Huge\": query is {} bytes, over the 1048576-byte limit (max_query_bytes)",
            huge.trim().len()
        );
        assert_eq!(reasons[0], over);
        assert!(reasons[1..].iter().all(|r| *r == "hard link to rules/huge_000.yml, already read"), "{reasons:?}");
        assert_eq!(reasons.len(), 250);
    }

    #[test]
    fn a_rule_without_attack_tags_is_read_for_links_to_attack_pages() {
        let catalog = mini_catalog();
        let mut rule = rule("r", "rules/r.yaral");
        rule.references = vec![
            "https://attack.mitre.org/techniques/T1090/003/".into(),
            "https://attack.mitre.org/software/S0169/".into(),
            "https://example.com/blog/t1059-powershell".into(),
            "https://atlas.mitre.org/techniques/AML.T0051.000".into(),
        ];
        let links = link_attack(&catalog, &rule);
        let listed: Vec<(String, MappingVia, &str)> =
            links.techniques.iter().map(|m| (m.id.to_string(), m.via, m.tagged.as_str())).collect();
        assert_eq!(
            listed,
            vec![("T1090.003".into(), MappingVia::Reference, "https://attack.mitre.org/techniques/T1090/003/")],
            "a software page names no technique, another site's URL is not ATT&CK's"
        );
        assert!(links.unresolved.is_empty(), "{:?}", links.unresolved);
        assert_eq!(links.atlas.len(), 1);
        assert_eq!(links.atlas[0].url, "https://atlas.mitre.org/techniques/AML.T0051.000");
        assert_eq!(links.atlas[0].via, MappingVia::Reference);

        rule.attack_tags = vec!["T1059".into(), "AML.T0054".into()];
        let links = link_attack(&catalog, &rule);
        let listed: Vec<(String, MappingVia)> = links.techniques.iter().map(|m| (m.id.to_string(), m.via)).collect();
        assert_eq!(listed, vec![("T1059".into(), MappingVia::Tag)], "tags win: references are not read");
        let atlas: Vec<(String, MappingVia)> = links.atlas.iter().map(|a| (a.id.to_string(), a.via)).collect();
        assert_eq!(atlas, vec![("AML.T0054".into(), MappingVia::Tag)]);
    }

    #[test]
    fn coverage_counts_unknown_tags_by_what_they_name_and_never_atlas_as_attack() {
        let catalog = mini_catalog();
        let detections: Vec<Detection> = [
            vec!["stealth", "T1685", "AML.T0051"],
            vec!["stealth", "T1685.001", "TA0112", "T1090"],
            vec!["T1086", "T1064"],
        ]
        .into_iter()
        .enumerate()
        .map(|(i, tags)| {
            let mut rule = rule(&i.to_string(), "rules/r.yml");
            rule.attack_tags = tags.into_iter().map(String::from).collect();
            place(&spec(), &catalog, i.to_string(), rule)
        })
        .collect();
        let coverage = coverage(&detections);
        let unknown: Vec<(&str, usize)> = coverage.unknown.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(unknown, vec![("T1685", 1), ("T1685.001", 1), ("TA0112", 1), ("stealth", 2)]);
        assert_eq!(coverage.unknown_tags, 5);
        assert_eq!((coverage.revoked_tags, coverage.deprecated_tags, coverage.atlas_refs), (1, 1, 1));
        assert_eq!(coverage.techniques, 5, "T1685, T1685.001, T1090, T1059.001 (for T1086), T1064 and no ATLAS");
    }

    fn spec() -> SourceSpec {
        SourceSpec {
            name: "test".into(),
            format: crate::model::Format::Sigma,
            kind: SourceKind::Community,
            root: PathBuf::from("."),
            license: None,
            repository: None,
            commit: None,
            limits: ReadLimits::default(),
        }
    }

    #[test]
    fn upstream_links_point_at_the_file_at_its_commit() {
        let url = upstream_file_url(
            Some("https://github.com/Azure/Azure-Sentinel.git"),
            Some("abc123"),
            "Solutions/Syslog/Analytic Rules/squid tor.yaml",
        );
        assert_eq!(
            url.as_deref(),
            Some(
                "https://github.com/Azure/Azure-Sentinel/blob/abc123/Solutions/Syslog/Analytic%20Rules/squid%20tor.yaml"
            )
        );
        assert_eq!(upstream_file_url(Some("https://example.org/r"), Some("abc"), "x"), None);
        assert_eq!(upstream_file_url(Some("https://github.com/a/b"), None, "x"), None);
    }
}
