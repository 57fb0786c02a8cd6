//! The query service: what the CLI, the web and the MCP server ask of a catalog, decided once.
//!
//! A [`Catalog`] is one catalog generation. Front ends turn a request into a call here and the
//! answer into text, HTML or JSON; they never decide what a request means (which technique a
//! name names, what an address resolves to, which detections a filter keeps).

use std::path::Path;
use std::sync::OnceLock;

use ruledex_core::attack::TechniqueLookup;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::Detection;
use ruledex_core::query::{Filter, SearchQuery};
use ruledex_store::{
    Candidate, Lookup, SearchResults, SourceTallies, Store, StoreError, StoreOptions, TechniquePage, Window,
};

use crate::links;
use crate::technique_search::{NameMatch, TechniqueWords};
use crate::wire::{
    CatalogJson, CoverageJson, CoveredTechniqueJson, DetectionJson, FacetsJson, SearchHitJson, SearchJson, SourceJson,
    StatsJson, TacticJson, TechniqueSuggestionJson,
};

/// A catalog generation and the questions it answers.
pub struct Catalog {
    store: Store,
    /// The words techniques are suggested by, gathered on the first suggestion.
    technique_words: OnceLock<TechniqueWords>,
    /// Every detection's technique links counted per source, on the first coverage answer:
    /// counting them is nine tenths of such an answer's time, and a generation never changes.
    tallies: OnceLock<SourceTallies>,
}

/// Why a request could not be answered, in terms every front end can show.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// The request itself is wrong; the message says what to fix.
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    NotFound { message: String, suggestions: Vec<Suggestion> },
    /// An address or name names several things.
    #[error("{message}")]
    Ambiguous { message: String, candidates: Vec<Candidate> },
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
            ServiceError::BadRequest(_) => "bad_request",
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

impl Catalog {
    /// Opens the catalog file at `path` as a new generation.
    pub fn open(path: &Path, options: StoreOptions) -> Answer<Catalog> {
        Ok(Catalog {
            store: Store::open_with(path, options)?,
            technique_words: OnceLock::new(),
            tallies: OnceLock::new(),
        })
    }

    /// Every detection's tallies per technique and source, counted once per generation.
    pub(crate) fn tallies(&self) -> Answer<&SourceTallies> {
        if let Some(tallies) = self.tallies.get() {
            return Ok(tallies);
        }
        let counted = self.store.source_tallies(&Filter::default())?;
        Ok(self.tallies.get_or_init(|| counted))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The ATT&CK release the catalog was built from.
    pub fn attack_version(&self) -> Option<String> {
        self.store.info().attack_version.clone()
    }

    /// The native format of a configured source.
    pub fn source_format(&self, source: &str) -> Option<ruledex_core::model::Format> {
        self.store.sources().iter().find(|s| s.report.name == source).map(|s| s.report.format)
    }

    /// "Parent: Sub" for sub-techniques, the name otherwise.
    pub fn technique_name(&self, id: TechniqueId) -> Option<String> {
        self.store.attack().full_name(id)
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
            TechniqueLookup::NotFound(close) => Err(ServiceError::NotFound {
                message: format!(
                    "{text:?} is neither a technique ID (like T1090 or T1090.003) nor an ATT&CK technique name"
                ),
                suggestions: self.technique_suggestions(&close),
            }),
        }
    }

    /// A technique's page: the technique, its sub-techniques with counts, and the detections
    /// `filter` keeps (under its sub-techniques too unless `exact`).
    pub fn technique_page(&self, technique: &str, exact: bool, filter: &Filter) -> Answer<TechniquePage> {
        self.technique_page_window(technique, exact, filter, Window::ALL)
    }

    /// [`Catalog::technique_page`] with only the detections in `window` read.
    pub fn technique_page_window(
        &self,
        technique: &str,
        exact: bool,
        filter: &Filter,
        window: Window,
    ) -> Answer<TechniquePage> {
        let id = self.find_technique(technique)?;
        self.store.technique_page(id, exact, filter, window)?.ok_or_else(|| ServiceError::NotFound {
            message: format!("{id} is not an ATT&CK technique, and no detection is tagged with it"),
            suggestions: self.technique_suggestions(&self.store.attack().closest_techniques(&id.to_string())),
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
    /// description has them; each group by the detections `filter` keeps.
    pub fn suggest_techniques(
        &self,
        text: &str,
        filter: &Filter,
        limit: usize,
    ) -> Answer<Vec<TechniqueSuggestionJson>> {
        Ok(self.ranked_techniques(text, filter)?.into_iter().take(limit).map(|(_, s)| s).collect())
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
                Some((matched, TechniqueSuggestionJson { id, name, detections: counts.family(id) }))
            })
            .collect();
        ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.detections.cmp(&a.1.detections)).then(a.1.id.cmp(&b.1.id)));
        Ok(ranked)
    }

    pub fn search(&self, query: &SearchQuery) -> Answer<SearchResults> {
        Ok(self.store.search(query)?)
    }

    /// A single detection as every front end's JSON carries it, naming the ATT&CK release.
    pub fn detection_json(&self, detection: &Detection) -> DetectionJson {
        DetectionJson { attack_version: self.attack_version(), ..DetectionJson::from(detection) }
    }

    /// Search results as every front end's JSON carries them, naming the ATT&CK release.
    pub fn search_json(&self, text: &str, results: &SearchResults) -> SearchJson {
        SearchJson {
            query: text.to_string(),
            corrected_query: results.corrected_query.clone(),
            attack_version: self.attack_version(),
            total: results.total,
            offset: results.offset,
            limit: results.limit,
            facets: FacetsJson::from(&results.facets),
            detections: results.hits.iter().map(SearchHitJson::from).collect(),
        }
    }

    /// The detection at `SOURCE/ID`.
    pub fn detection_at(&self, address: &str) -> Answer<Detection> {
        let Some((source, id)) = address.split_once('/') else {
            return Err(ServiceError::BadRequest(format!(
                "{address:?} is not an address; expected SOURCE/ID, like chronicle/gcti_tor_exit_nodes"
            )));
        };
        self.detection(source, id)
    }

    /// One detection, long texts included: by address, the vendor's ID, or the rule's file name.
    pub fn detection(&self, source: &str, id: &str) -> Answer<Detection> {
        match self.store.detection(source, id)? {
            Lookup::Found(detection) => Ok(*detection),
            Lookup::Ambiguous(candidates) => Err(ServiceError::Ambiguous {
                message: format!("{source}/{id} names {} detections; pick one", candidates.len()),
                candidates,
            }),
            Lookup::NotFound if !self.store.sources().iter().any(|s| s.report.name == source) => {
                Err(ServiceError::NotFound {
                    message: format!("there is no source named {source:?}"),
                    suggestions: vec![Suggestion { label: "All sources".into(), href: links::SOURCES.into() }],
                })
            }
            Lookup::NotFound => Err(ServiceError::NotFound {
                message: format!("source {source:?} has no detection {id:?}"),
                suggestions: vec![Suggestion { label: format!("Search for {id:?}"), href: links::search(id) }],
            }),
        }
    }

    pub fn stats(&self) -> StatsJson {
        StatsJson { catalog: self.store.info().into(), sources: self.sources() }
    }

    pub fn catalog_info(&self) -> CatalogJson {
        self.store.info().into()
    }

    pub fn sources(&self) -> Vec<SourceJson> {
        self.store.sources().iter().map(SourceJson::from).collect()
    }

    /// Detection counts per technique for the detections `filter` keeps.
    pub fn coverage(&self, filter: &Filter) -> Answer<CoverageJson> {
        let counts = self.store.technique_counts(filter)?;
        let attack = self.store.attack();
        let mut techniques: Vec<CoveredTechniqueJson> = counts
            .family
            .iter()
            .map(|(id, family)| CoveredTechniqueJson {
                id: *id,
                name: self.technique_name(*id).unwrap_or_default(),
                tactics: attack.technique(*id).map(|t| t.tactics.clone()).unwrap_or_default(),
                exact: counts.exact.get(id).copied().unwrap_or(0),
                detections: *family,
                inferred: counts.inferred(*id),
            })
            .collect();
        techniques.sort_by_key(|t| t.id);
        Ok(CoverageJson {
            attack_version: self.attack_version(),
            tactics: attack.tactics().iter().map(TacticJson::from).collect(),
            techniques,
        })
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
            ranked.filter(|(matched, _)| *matched != NameMatch::Description).map(|(_, s)| s).collect()
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

    fn technique_suggestions(&self, ids: &[TechniqueId]) -> Vec<Suggestion> {
        ids.iter().map(|id| Suggestion { label: self.label(*id), href: links::technique(*id) }).collect()
    }

    fn label(&self, id: TechniqueId) -> String {
        format!("{id} {}", self.technique_name(id).unwrap_or_default()).trim_end().to_string()
    }
}
