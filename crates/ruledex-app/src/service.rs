//! The query service: what the CLI, the web and the MCP server ask of a catalog, decided once.
//!
//! A [`Catalog`] is one catalog generation, and the only door to it: the store is private to
//! this crate. Front ends turn a request into a call here (their arguments checked by the
//! request vocabulary of [`crate::request`]) and its answer, an owned wire type of
//! [`crate::wire`], into text, HTML or JSON; they never decide what a request means (which
//! technique a name names, what an address resolves to, which detections a filter keeps).
//! Listings are answered in the `listing` module, whole-catalog views in `views`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use ruledex_core::attack::{Domain, TechniqueLookup};
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::{Detection, Format, SourceKind};
use ruledex_core::query::Filter;
use ruledex_store::{Lookup, SourceTallies, Store, StoreError, StoreOptions, TechniquePage, Window};

use crate::links;
use crate::request::vocabulary::{SOURCE, VENDOR};
use crate::request::{Filters, Param, RequestError, closest};
use crate::technique_search::{NameMatch, TechniqueWords};
use crate::wire::{
    CandidateJson, CatalogJson, DetectionJson, SourceJson, StatsJson, TacticJson, TechniqueSuggestionJson,
};

/// A catalog generation and the questions it answers.
pub struct Catalog {
    store: Store,
    /// The words techniques are suggested by, gathered on the first suggestion.
    technique_words: OnceLock<TechniqueWords>,
    /// Every detection's technique links counted per source, on the first coverage answer:
    /// counting them is nine tenths of such an answer's time, and a generation never changes.
    tallies: OnceLock<SourceTallies>,
    /// Every vendor and its kind of content, on the first filter naming a vendor.
    vendors: OnceLock<BTreeMap<String, SourceKind>>,
}

/// Why a request could not be answered, in terms every front end can show.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// A parameter's value is not one ruledex takes (out of its range, not a name it knows):
    /// the error names the parameter, and the closest name when one is close. A usage error.
    #[error(transparent)]
    Invalid(#[from] RequestError),
    /// The request itself is wrong; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    NotFound { message: String, suggestions: Vec<Suggestion> },
    /// An address or name names several things.
    #[error("{message}")]
    Ambiguous { message: String, candidates: Vec<CandidateJson> },
    /// There is no usable catalog right now (none built, another version, busy, reopening).
    #[error("{0}")]
    Unavailable(String),
    /// Something broke inside ruledex.
    #[error("{0}")]
    Internal(String),
}

/// A close match or a way forward, offered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub label: String,
    /// The page on the web catalog.
    pub href: String,
}

impl ServiceError {
    /// A stable name for the kind of error, in JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceError::Invalid(_) | ServiceError::BadRequest(_) => "bad_request",
            ServiceError::NotFound { .. } => "not_found",
            ServiceError::Ambiguous { .. } => "ambiguous",
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    pub fn suggestions(&self) -> Vec<Suggestion> {
        match self {
            ServiceError::NotFound { suggestions, .. } => suggestions.clone(),
            ServiceError::Ambiguous { candidates, .. } => candidates
                .iter()
                .map(|c| Suggestion {
                    label: format!("{}/{} · {} ({})", c.source, c.id, c.title, c.path),
                    href: links::detection(&c.source, &c.id),
                })
                .collect(),
            _ => vec![],
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        match error {
            StoreError::BadQuery(message) => ServiceError::BadRequest(format!("invalid search: {message}")),
            StoreError::Budget(_) => ServiceError::BadRequest(format!("{error}; narrow the search")),
            StoreError::Missing(_)
            | StoreError::Version { .. }
            | StoreError::Corrupt(_)
            | StoreError::Busy(_)
            | StoreError::Damaged { .. }
            | StoreError::Unreadable(_) => ServiceError::Unavailable(error.to_string()),
            StoreError::Locked(_) | StoreError::Io { .. } | StoreError::Sqlite(_) => {
                ServiceError::Internal(error.to_string())
            }
        }
    }
}

pub type Answer<T> = Result<T, ServiceError>;

/// How many techniques a suggestion list offers at most.
pub const MAX_SUGGESTIONS: usize = 10;
/// How many close IDs a mistyped address offers.
const CLOSEST_IDS: usize = 5;

impl Catalog {
    /// Opens the catalog file at `path` as a new generation.
    pub fn open(path: &Path, options: StoreOptions) -> Answer<Catalog> {
        Ok(Catalog {
            store: Store::open_with(path, options)?,
            technique_words: OnceLock::new(),
            tallies: OnceLock::new(),
            vendors: OnceLock::new(),
        })
    }

    /// The store, for this crate's services only.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The catalog file this generation was opened from.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The configuration the catalog was built from (its origin, as the configuration names it).
    pub fn built_from(&self) -> Option<&str> {
        self.store.info().config.as_deref()
    }

    /// Whether a newer generation can be opened (see [`crate::lifecycle`]).
    pub(crate) fn superseded(&self) -> bool {
        self.store.superseded()
    }

    /// Every detection's tallies per technique and source, counted once per generation.
    pub(crate) fn tallies(&self) -> Answer<&SourceTallies> {
        if let Some(tallies) = self.tallies.get() {
            return Ok(tallies);
        }
        let counted = self.store.source_tallies(&Filter { include_inferred: true, ..Filter::default() })?;
        Ok(self.tallies.get_or_init(|| counted))
    }

    /// The ATT&CK release the catalog was built from.
    pub fn attack_version(&self) -> Option<String> {
        self.store.info().attack_version.clone()
    }

    /// The native format of a configured source.
    pub fn source_format(&self, source: &str) -> Option<Format> {
        self.store.sources().iter().find(|s| s.report.name == source).map(|s| s.report.format)
    }

    /// "Parent: Sub" for sub-techniques, the name otherwise.
    pub fn technique_name(&self, id: TechniqueId) -> Option<String> {
        self.store.attack().full_name(id)
    }

    /// The tactics of a matrix, in matrix order.
    pub fn tactics(&self, domain: Domain) -> Vec<TacticJson> {
        self.store.tactics().iter().filter(|t| t.domain == domain).map(TacticJson::from).collect()
    }

    /// The vendors whose content is community content (Sigma, community KQL).
    pub fn community_vendors(&self) -> BTreeSet<String> {
        let vendors = self.vendors();
        vendors.iter().filter(|(_, kind)| **kind == SourceKind::Community).map(|(v, _)| v.clone()).collect()
    }

    fn vendors(&self) -> &BTreeMap<String, SourceKind> {
        self.vendors.get_or_init(|| self.store.vendors())
    }

    /// Checks the names a request's filters give (sources, vendors) against the catalog's:
    /// an unknown one is a usage error offering the closest.
    pub(crate) fn check_filters(&self, filters: &Filters) -> Answer<()> {
        self.check_sources(SOURCE, &filters.asked.sources)?;
        let vendors: Vec<&str> = self.vendors().keys().map(String::as_str).collect();
        check_names(VENDOR, &filters.asked.vendors, &vendors, "vendor")
    }

    /// Checks that every name of `names` (given as `param`) is a configured source.
    pub(crate) fn check_sources(&self, param: &'static Param, names: &[String]) -> Answer<()> {
        let sources: Vec<&str> = self.store.sources().iter().map(|s| s.report.name.as_str()).collect();
        check_names(param, names, &sources, "source")
    }

    /// The technique a reference names: an ID in any spelling or an ATT&CK name.
    pub fn find_technique(&self, text: &str) -> Answer<TechniqueId> {
        match self.store.attack().find_technique(text) {
            TechniqueLookup::Found(id) => Ok(id),
            TechniqueLookup::Ambiguous(ids) => {
                let names: Vec<String> = ids.iter().map(|id| self.label(*id)).collect();
                Err(ServiceError::BadRequest(format!(
                    "{text:?} names several techniques: {}; give the ID",
                    names.join(", ")
                )))
            }
            TechniqueLookup::NotFound(close) => Err(self.no_technique(
                format!("{text:?} is neither a technique ID (like T1090 or T1090.003) nor an ATT&CK technique name"),
                &close,
            )),
        }
    }

    /// The page of a technique, its detections in `window`.
    pub(crate) fn technique_page(
        &self,
        technique: &str,
        exact: bool,
        filter: &Filter,
        window: Window,
    ) -> Answer<TechniquePage> {
        let id = self.find_technique(technique)?;
        self.store.technique_page(id, exact, filter, window)?.ok_or_else(|| {
            let close = self.store.attack().closest_techniques(&id.to_string());
            self.no_technique(format!("{id} is not an ATT&CK technique, and no detection is tagged with it"), &close)
        })
    }

    /// A search that is just a technique (`T1090`, `t1090.003`, or "T1090 · Proxy" as the
    /// search box's suggestions put it) leads straight to that technique.
    pub fn technique_in_search(&self, text: &str) -> Option<TechniqueId> {
        let text = text.trim();
        let id_part = text.split_once(" · ").map_or(text, |(id, _)| id);
        let id: TechniqueId = id_part.parse().ok()?;
        let named_alone = id_part == text || self.technique_name(id).is_some_and(|n| text.ends_with(n.as_str()));
        (named_alone && self.store.technique(id).is_some()).then_some(id)
    }

    /// Techniques for the words typed ("proxy", "T1090", "multi hop", "tor"): those whose ID or
    /// name words start with them first (from their first word first), then those whose ATT&CK
    /// description has them; each group by the detections `filters` keep.
    pub fn suggest_techniques(
        &self,
        text: &str,
        filters: &Filters,
        limit: usize,
    ) -> Answer<Vec<TechniqueSuggestionJson>> {
        self.check_filters(filters)?;
        let ranked = self.ranked_techniques(text, &filters.resolve(true))?;
        Ok(ranked.into_iter().take(limit).map(|(_, s)| s).collect())
    }

    /// Techniques matching `text`, best first, each with how well.
    fn ranked_techniques(&self, text: &str, filter: &Filter) -> Answer<Vec<(NameMatch, TechniqueSuggestionJson)>> {
        let words = self.technique_words.get_or_init(|| TechniqueWords::new(self.store.attack()));
        let Some(found) = words.find(text) else {
            return Err(ServiceError::BadRequest("give `q`: part of a technique ID or name".into()));
        };
        let counts = self.store.technique_counts(filter)?;
        let mut ranked: Vec<(NameMatch, TechniqueSuggestionJson)> = found
            .into_iter()
            .filter_map(|(id, matched)| {
                let name = self.technique_name(id)?;
                Some((matched, TechniqueSuggestionJson { id, name, detections: counts.listed(id, filter) }))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.detections.cmp(&a.1.detections)).then(a.1.id.cmp(&b.1.id)));
        Ok(ranked)
    }

    /// The detection at `SOURCE/ID`, whole.
    pub fn detection_at(&self, address: &str) -> Answer<DetectionJson> {
        self.detection_model_at(address).map(|d| self.detection_json(&d))
    }

    /// One detection, whole: by address, the vendor's ID, or the rule's file name.
    pub fn detection(&self, source: &str, id: &str) -> Answer<DetectionJson> {
        self.detection_model(source, id).map(|d| self.detection_json(&d))
    }

    /// A single detection as every front end's JSON carries it, naming the ATT&CK release.
    fn detection_json(&self, detection: &Detection) -> DetectionJson {
        DetectionJson { attack_version: self.attack_version(), ..DetectionJson::from(detection) }
    }

    pub(crate) fn detection_model_at(&self, address: &str) -> Answer<Detection> {
        let Some((source, id)) = address.split_once('/') else {
            return Err(ServiceError::BadRequest(format!(
                "{address:?} is not an address; expected SOURCE/ID, like chronicle/gcti_tor_exit_nodes"
            )));
        };
        self.detection_model(source, id)
    }

    /// One detection, long texts included.
    pub(crate) fn detection_model(&self, source: &str, id: &str) -> Answer<Detection> {
        match self.store.detection(source, id)? {
            Lookup::Found(detection) => Ok(*detection),
            Lookup::Ambiguous(candidates) => Err(ServiceError::Ambiguous {
                message: format!("{source}/{id} names {} detections; pick one", candidates.len()),
                candidates: candidates.iter().map(CandidateJson::from).collect(),
            }),
            Lookup::NotFound if !self.store.sources().iter().any(|s| s.report.name == source) => {
                let sources: Vec<&str> = self.store.sources().iter().map(|s| s.report.name.as_str()).collect();
                let hint = closest(source, sources.iter().copied()).map(|c| format!("; did you mean {c}?"));
                Err(ServiceError::NotFound {
                    message: format!("there is no source named {source:?}{}", hint.unwrap_or_default()),
                    suggestions: vec![Suggestion { label: "All sources".into(), href: links::SOURCES.into() }],
                })
            }
            Lookup::NotFound => {
                let close = self.store.closest_ids(source, id, CLOSEST_IDS)?;
                let addresses: Vec<String> = close.iter().map(|c| format!("{source}/{c}")).collect();
                let hint =
                    if close.is_empty() { String::new() } else { format!("; did you mean {}?", one_of(&addresses)) };
                let mut suggestions: Vec<Suggestion> = close
                    .iter()
                    .map(|c| Suggestion { label: format!("{source}/{c}"), href: links::detection(source, c) })
                    .collect();
                suggestions.push(Suggestion { label: format!("Search for {id:?}"), href: links::search(id) });
                let message = format!("source {source:?} has no detection {id:?}{hint}");
                Err(ServiceError::NotFound { message, suggestions })
            }
        }
    }

    pub fn stats(&self) -> StatsJson {
        StatsJson { catalog: self.catalog_info(), sources: self.sources() }
    }

    pub fn catalog_info(&self) -> CatalogJson {
        self.store.info().into()
    }

    /// Every source as the last sync left it, its tags newer than the loaded ATT&CK flagged.
    pub fn sources(&self) -> Vec<SourceJson> {
        let mut sources: Vec<SourceJson> =
            self.store.sources().iter().map(|s| SourceJson::new(s, self.store.attack())).collect();
        // Two sources of one vendor are told apart by their products (Elastic Security, Elastic
        // Defend), or by their configured names when the product is the same too (a fork).
        let made_by: Vec<(String, String)> = sources.iter().map(|s| (s.vendor.clone(), s.product.clone())).collect();
        for source in &mut sources {
            let of_vendor = made_by.iter().filter(|(vendor, _)| *vendor == source.vendor);
            if of_vendor.clone().count() < 2 {
                continue;
            }
            source.title = if of_vendor.filter(|(_, product)| *product == source.product).count() == 1 {
                source.product.clone()
            } else {
                format!("{} ({})", source.vendor, source.name)
            };
        }
        sources
    }

    /// Each source's configured name with the name pages show for it ([`SourceJson::title`]).
    pub fn source_titles(&self) -> BTreeMap<String, String> {
        self.sources().into_iter().map(|s| (s.name, s.title)).collect()
    }

    /// Completions for a technique being typed: IDs while it looks like one ("T10", "t1090.0"),
    /// else ATT&CK names ("Proxy: Multi-hop Proxy"), both of which [`Catalog::find_technique`]
    /// takes; with nothing typed, the techniques with the most detections. At most `limit`, and
    /// whether there are more.
    pub fn complete_technique(&self, typed: &str, limit: usize) -> Answer<(Vec<String>, bool)> {
        let typed = typed.trim();
        let as_id = typed.is_empty()
            || typed.chars().next().is_some_and(|c| c.eq_ignore_ascii_case(&'t') || c.is_ascii_digit())
                && typed.chars().skip(1).all(|c| c.is_ascii_digit() || c == '.' || c == '/');
        let filter = Filter::default();
        let mut found = if typed.is_empty() {
            let counts = self.store.technique_counts(&filter)?;
            let mut all: Vec<TechniqueSuggestionJson> = counts
                .family
                .iter()
                .filter(|(id, _)| self.store.technique(**id).is_some_and(|t| !t.revoked && !t.deprecated))
                .map(|(id, n)| TechniqueSuggestionJson { id: *id, name: String::new(), detections: *n })
                .collect();
            all.sort_by(|a, b| b.detections.cmp(&a.detections).then(a.id.cmp(&b.id)));
            all
        } else {
            // "multi-hop" and "Proxy: Multi" name words of the name as the search box's words do.
            let words = typed.replace(|c: char| !c.is_alphanumeric() && c != '.', " ");
            // A completion is a name being typed: techniques found by their description are not.
            let ranked = self.ranked_techniques(&words, &filter)?.into_iter();
            ranked.filter(|(matched, _)| *matched <= NameMatch::Name).map(|(_, s)| s).collect()
        };
        let more = found.len() > limit;
        found.truncate(limit);
        let values = found
            .into_iter()
            .map(|t| if as_id { t.id.to_string() } else { self.technique_name(t.id).unwrap_or(t.name) })
            .collect();
        Ok((values, more))
    }

    /// The configured sources whose names start with what was typed (ignoring case).
    pub fn complete_source(&self, typed: &str) -> Vec<String> {
        let typed = typed.trim().to_lowercase();
        self.store
            .sources()
            .iter()
            .map(|s| s.report.name.clone())
            .filter(|name| name.to_lowercase().starts_with(&typed))
            .collect()
    }

    /// Completions for the ID part of an address in `source`: IDs starting with what was
    /// typed, then IDs of detections whose title contains it. At most `limit`, and whether there
    /// are more.
    pub fn complete_detection_id(&self, source: &str, typed: &str, limit: usize) -> Answer<(Vec<String>, bool)> {
        Ok(self.store.ids_like(source, typed.trim(), limit)?)
    }

    /// Completions for a whole address being typed: `SOURCE/` while no `/` is typed, then
    /// `SOURCE/ID` as [`Catalog::complete_detection_id`] finds them.
    pub fn complete_address(&self, typed: &str, limit: usize) -> Answer<(Vec<String>, bool)> {
        let Some((source, id)) = typed.trim_start().split_once('/') else {
            let mut sources: Vec<String> = self.complete_source(typed).into_iter().map(|s| format!("{s}/")).collect();
            let more = sources.len() > limit;
            sources.truncate(limit);
            return Ok((sources, more));
        };
        let (ids, more) = self.complete_detection_id(source, id, limit)?;
        Ok((ids.into_iter().map(|id| format!("{source}/{id}")).collect(), more))
    }

    /// Nothing is the technique `message` speaks of: the closest techniques are offered.
    fn no_technique(&self, message: String, close: &[TechniqueId]) -> ServiceError {
        let labels: Vec<String> = close.iter().map(|id| self.label(*id)).collect();
        let hint = if labels.is_empty() { String::new() } else { format!("; did you mean {}?", one_of(&labels)) };
        let suggestions =
            close.iter().map(|id| Suggestion { label: self.label(*id), href: links::technique(*id) }).collect();
        ServiceError::NotFound { message: format!("{message}{hint}"), suggestions }
    }

    fn label(&self, id: TechniqueId) -> String {
        format!("{id} {}", self.technique_name(id).unwrap_or_default()).trim_end().to_string()
    }
}

/// Every name of `given` (as `param`) must be one of `known` (ignoring letter case): else a
/// usage error naming it, the closest known name, and what the known names are.
fn check_names(param: &'static Param, given: &[String], known: &[&str], what: &str) -> Answer<()> {
    let Some(unknown) = given.iter().find(|g| !known.iter().any(|k| k.eq_ignore_ascii_case(g))) else {
        return Ok(());
    };
    let hint = closest(unknown, known.iter().copied()).map(|c| format!("; did you mean {c}?")).unwrap_or_default();
    Err(RequestError::new(param, format!("there is no {what} {unknown:?}{hint} (the {what}s: {})", known.join(", ")))
        .into())
}

/// "a, b or c".
pub(crate) fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
