//! What the front ends ask the catalog: filters over detections, and the counts (facets) that
//! let a user narrow a list. The web, the API and the CLI build the same [`Filter`], and the
//! store applies it with [`Filter::matches`], so a filter means one thing everywhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Detection, Language, RuleType, Severity, SourceKind, Status};

/// The attributes a detection can be filtered and counted by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub source: String,
    pub kind: SourceKind,
    pub vendor: String,
    pub language: Option<Language>,
    pub rule_type: Option<RuleType>,
    pub severity: Option<Severity>,
    pub status: Option<Status>,
    pub deprecated: bool,
    pub data_sources: Vec<String>,
}

impl From<&Detection> for Facets {
    fn from(d: &Detection) -> Facets {
        Facets {
            source: d.source.clone(),
            kind: d.source_kind,
            vendor: d.rule.vendor.clone(),
            language: d.rule.language,
            rule_type: d.rule.rule_type,
            severity: d.rule.severity,
            status: d.rule.status,
            deprecated: d.deprecated,
            data_sources: d.rule.data_sources.clone(),
        }
    }
}

/// Which detections to show. Empty lists mean "any"; values within a list are alternatives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub sources: Vec<String>,
    pub vendors: Vec<String>,
    pub kinds: Vec<SourceKind>,
    pub languages: Vec<Language>,
    pub rule_types: Vec<RuleType>,
    pub severities: Vec<Severity>,
    pub statuses: Vec<Status>,
    pub data_sources: Vec<String>,
    /// Deprecated detections are hidden unless asked for.
    pub include_deprecated: bool,
    /// Detections listed under a technique only through ruledex's mapping of vendor labels are
    /// left out of that technique's listing unless asked for. A detection's own attributes say
    /// nothing about it ([`Filter::matches`] ignores it): it is a property of the listing.
    pub include_inferred: bool,
}

impl Filter {
    pub fn matches(&self, f: &Facets) -> bool {
        (self.include_deprecated || !f.deprecated)
            && wanted(&self.sources, &f.source)
            && (self.vendors.is_empty() || self.vendors.iter().any(|v| v.eq_ignore_ascii_case(&f.vendor)))
            && wanted(&self.kinds, &f.kind)
            && wanted_option(&self.languages, f.language)
            && wanted_option(&self.rule_types, f.rule_type)
            && wanted_option(&self.severities, f.severity)
            && wanted_option(&self.statuses, f.status)
            && (self.data_sources.is_empty()
                || f.data_sources.iter().any(|d| self.data_sources.iter().any(|w| w.eq_ignore_ascii_case(d))))
    }

    /// The default view of a technique: vendor-native content, unless the user asked for
    /// community content (`community`), for kinds outright, or for sources or vendors by name
    /// (asking for Sigma means wanting Sigma).
    pub fn vendor_native_unless_asked(mut self, community: bool) -> Filter {
        if self.kinds.is_empty() && self.sources.is_empty() && self.vendors.is_empty() && !community {
            self.kinds = vec![SourceKind::Vendor];
        }
        self
    }

    /// True when nothing but the deprecated and inferred switches is set.
    pub fn is_empty(&self) -> bool {
        let switches = Filter {
            include_deprecated: self.include_deprecated,
            include_inferred: self.include_inferred,
            ..Filter::default()
        };
        switches == *self
    }
}

fn wanted<T: PartialEq>(wanted: &[T], value: &T) -> bool {
    wanted.is_empty() || wanted.contains(value)
}

fn wanted_option<T: PartialEq + Copy>(wanted: &[T], value: Option<T>) -> bool {
    wanted.is_empty() || value.is_some_and(|v| wanted.contains(&v))
}

/// A full-text search. `text` uses the search syntax documented in the README (words, quoted
/// phrases, `AND`/`OR`/`NOT`, `prefix*`, `title:word`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub text: String,
    pub filter: Filter,
    pub offset: usize,
    pub limit: usize,
}

impl SearchQuery {
    /// The most results one page may ask for.
    pub const MAX_LIMIT: usize = 200;
    pub const DEFAULT_LIMIT: usize = 50;

    pub fn new(text: impl Into<String>) -> SearchQuery {
        SearchQuery { text: text.into(), filter: Filter::default(), offset: 0, limit: SearchQuery::DEFAULT_LIMIT }
    }
}

/// How many detections have each value, for the filter controls: over a whole list
/// ([`FacetCounts::count`]) or as each choice would give ([`FacetCounts::if_chosen`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCounts {
    pub sources: BTreeMap<String, usize>,
    pub vendors: BTreeMap<String, usize>,
    pub kinds: BTreeMap<String, usize>,
    pub languages: BTreeMap<String, usize>,
    pub rule_types: BTreeMap<String, usize>,
    pub severities: BTreeMap<String, usize>,
    pub statuses: BTreeMap<String, usize>,
    pub data_sources: BTreeMap<String, usize>,
    pub deprecated: usize,
}

impl FacetCounts {
    pub fn count<'a>(facets: impl IntoIterator<Item = &'a Facets>) -> FacetCounts {
        let mut counts = FacetCounts::default();
        for f in facets {
            bump(&mut counts.sources, &f.source);
            bump(&mut counts.vendors, &f.vendor);
            bump(&mut counts.kinds, f.kind.as_str());
            bump_option(&mut counts.languages, f.language.map(Language::as_str));
            bump_option(&mut counts.rule_types, f.rule_type.map(RuleType::as_str));
            bump_option(&mut counts.severities, f.severity.map(Severity::as_str));
            bump_option(&mut counts.statuses, f.status.map(Status::as_str));
            for data_source in &f.data_sources {
                bump(&mut counts.data_sources, data_source);
            }
            counts.deprecated += usize::from(f.deprecated);
        }
        counts
    }

    /// For each value `self` lists in the vendor, language, type, severity, status and
    /// data-source groups: how many `items` would show if that value alone were chosen in its
    /// group, the rest of `chosen` unchanged (after `finish`, which applies a view's defaults).
    /// What a filter checkbox promises. Sources, kinds and deprecated are counted plainly.
    pub fn if_chosen(&self, items: &[&Facets], chosen: &Filter, finish: impl Fn(Filter) -> Filter) -> FacetCounts {
        let all = self;
        let shown = |filter: Filter| {
            let filter = finish(filter);
            items.iter().filter(|item| filter.matches(item)).count()
        };
        let each = |values: &BTreeMap<String, usize>, choose: &dyn Fn(&mut Filter, &str) -> bool| {
            let mut counts = BTreeMap::new();
            for value in values.keys() {
                let mut filter = chosen.clone();
                if choose(&mut filter, value) {
                    counts.insert(value.clone(), shown(filter));
                }
            }
            counts
        };
        FacetCounts {
            vendors: each(&all.vendors, &|f, v| {
                f.vendors = vec![v.to_string()];
                true
            }),
            languages: each(&all.languages, &|f, v| v.parse().map(|l| f.languages = vec![l]).is_ok()),
            rule_types: each(&all.rule_types, &|f, v| v.parse().map(|t| f.rule_types = vec![t]).is_ok()),
            severities: each(&all.severities, &|f, v| v.parse().map(|s| f.severities = vec![s]).is_ok()),
            statuses: each(&all.statuses, &|f, v| v.parse().map(|s| f.statuses = vec![s]).is_ok()),
            data_sources: each(&all.data_sources, &|f, v| {
                f.data_sources = vec![v.to_string()];
                true
            }),
            ..FacetCounts::count(items.iter().copied())
        }
    }
}

fn bump(map: &mut BTreeMap<String, usize>, key: &str) {
    *map.entry(key.to_string()).or_default() += 1;
}

fn bump_option(map: &mut BTreeMap<String, usize>, key: Option<&str>) {
    if let Some(key) = key {
        bump(map, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facets() -> Facets {
        Facets {
            source: "splunk".into(),
            kind: SourceKind::Vendor,
            vendor: "Splunk".into(),
            language: Some(Language::Spl),
            rule_type: Some(RuleType::Ttp),
            severity: Some(Severity::Medium),
            status: Some(Status::Production),
            deprecated: false,
            data_sources: vec!["Sysmon EventID 1".into()],
        }
    }

    #[test]
    fn an_empty_filter_matches_all_but_deprecated() {
        let mut f = facets();
        assert!(Filter::default().matches(&f));
        f.deprecated = true;
        assert!(!Filter::default().matches(&f));
        assert!(Filter { include_deprecated: true, ..Filter::default() }.matches(&f));
    }

    #[test]
    fn each_criterion_narrows_and_alternatives_widen() {
        let f = facets();
        let by_vendor = |v: &str| Filter { vendors: vec![v.into()], ..Filter::default() };
        assert!(by_vendor("splunk").matches(&f), "vendor names match case-insensitively");
        assert!(!by_vendor("Elastic").matches(&f));
        let languages = Filter { languages: vec![Language::Eql, Language::Spl], ..Filter::default() };
        assert!(languages.matches(&f));
        assert!(!Filter { severities: vec![Severity::High], ..Filter::default() }.matches(&f));
        assert!(!Filter { kinds: vec![SourceKind::Community], ..Filter::default() }.matches(&f));
        assert!(Filter { data_sources: vec!["sysmon eventid 1".into()], ..Filter::default() }.matches(&f));
        let none = Facets { language: None, ..facets() };
        assert!(!languages.matches(&none), "a detection without a language matches no language filter");
    }

    #[test]
    fn vendor_native_is_the_default_unless_community_kinds_or_sources_are_asked_for() {
        let vendor = vec![SourceKind::Vendor];
        assert_eq!(Filter::default().vendor_native_unless_asked(false).kinds, vendor);
        assert!(Filter::default().vendor_native_unless_asked(true).kinds.is_empty());
        let sigma = Filter { sources: vec!["sigma".into()], ..Filter::default() };
        assert!(sigma.vendor_native_unless_asked(false).kinds.is_empty());
        let vendor_named = Filter { vendors: vec!["Sigma".into()], ..Filter::default() };
        assert!(vendor_named.vendor_native_unless_asked(false).kinds.is_empty());
        let community = Filter { kinds: vec![SourceKind::Community], ..Filter::default() };
        assert_eq!(community.vendor_native_unless_asked(false).kinds, vec![SourceKind::Community]);
    }

    #[test]
    fn counts_if_chosen_follow_the_rest_of_the_filter_and_the_view_defaults() {
        let community =
            Facets { vendor: "Sigma".into(), kind: SourceKind::Community, language: Some(Language::Sigma), ..facets() };
        let eql = Facets { vendor: "Elastic".into(), language: Some(Language::Eql), ..facets() };
        let items = [&facets(), &community, &eql];
        let chosen = Filter { severities: vec![Severity::Medium], ..Filter::default() };
        let values = FacetCounts::count(items);
        let counts = values.if_chosen(&items, &chosen, |f| f.vendor_native_unless_asked(false));
        assert_eq!(counts.vendors.get("Splunk"), Some(&1));
        assert_eq!(counts.vendors.get("Sigma"), Some(&1), "naming a community vendor shows it");
        assert_eq!(counts.languages.get("sigma"), Some(&0), "a community language alone shows nothing by default");
        assert_eq!(counts.languages.get("spl"), Some(&1));
        let high = Filter { severities: vec![Severity::High], ..Filter::default() };
        let counts = values.if_chosen(&items, &high, |f| f);
        assert_eq!(counts.vendors.get("Splunk"), Some(&0), "other groups still filter");
        assert_eq!(counts.severities.get("medium"), Some(&3), "a group's own choice is replaced");
    }

    #[test]
    fn facet_counts_cover_every_value() {
        let other = Facets { vendor: "Elastic".into(), language: Some(Language::Eql), deprecated: true, ..facets() };
        let counts = FacetCounts::count([&facets(), &other]);
        assert_eq!(counts.vendors.get("Splunk"), Some(&1));
        assert_eq!(counts.languages.get("eql"), Some(&1));
        assert_eq!(counts.kinds.get("vendor"), Some(&2));
        assert_eq!(counts.deprecated, 1);
    }
}
