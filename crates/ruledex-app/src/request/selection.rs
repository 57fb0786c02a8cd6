//! The typed requests: which detections (a [`Selection`]: its [`Scope`] and its [`Filters`]),
//! which page of them ([`Page`]), and the requests of each question, each read from checked
//! [`Arguments`]. The defaults a selection applies are decided here, once
//! ([`Filters::resolve`]).

use ruledex_core::attack::Domain;
use ruledex_core::ids::ObjectKind;
use ruledex_core::model::Status;
use ruledex_core::query::Filter;

use super::arguments::{Arguments, RequestError};
use super::param::{Kind, Param};
use super::vocabulary::{
    CHANGED_IN, CHANGED_UNDER, CHANGES_LIMIT, COMMUNITY, DATA_SOURCE, DEPRECATED, DETECTION, DOMAIN, EXACT, FORMAT,
    HAVE, INFERRED, KIND, LANGUAGE, LIMIT, OBJECT, OBJECT_KIND, OFFSET, PAGE, QUERY, SEVERITY, SINCE, SOURCE, STATUS,
    TACTIC, TECHNIQUE, TYPE, TYPED, VENDOR,
};
use crate::export::format::ExportFormat;

/// What a selection is of, before its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One detection, by address.
    Detection(String),
    /// A technique's detections (with its sub-techniques' unless `exact`), as its listing
    /// lists them.
    Technique { technique: String, exact: bool },
    /// Every match of a search.
    Search(String),
    /// Every detection the filters keep: the whole catalog, a source, a vendor.
    Everything,
}

impl Scope {
    /// Whether the selection is vendor-native content unless community content is asked for.
    /// A search covers both (its words say what it wants); a detection is named outright.
    pub fn vendor_native_by_default(&self) -> bool {
        matches!(self, Scope::Technique { .. } | Scope::Everything)
    }
}

/// The filters of a selection as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// The detections asked for: sources, vendors, kinds, languages, severities, types,
    /// statuses, data sources, and the deprecated and inferred switches.
    pub asked: Filter,
    /// Community content asked for where vendor-native content is the default.
    pub community: bool,
}

impl Filters {
    pub fn from_arguments(args: &Arguments) -> Filters {
        Filters {
            asked: Filter {
                sources: args.list(SOURCE),
                vendors: args.list(VENDOR),
                kinds: args.names(KIND),
                languages: args.names(LANGUAGE),
                rule_types: args.names(TYPE),
                severities: args.names(SEVERITY),
                statuses: args.names(STATUS),
                data_sources: args.list(DATA_SOURCE),
                include_deprecated: args.flag(DEPRECATED),
                include_inferred: args.flag(INFERRED),
            },
            community: args.flag(COMMUNITY),
        }
    }

    /// The detections kept. Asking for deprecated detections by status shows them; where
    /// vendor-native content is the default (`vendor_native_by_default`), community content
    /// joins only when asked for: by `community`, or by naming a kind, a source or a vendor.
    pub fn resolve(&self, vendor_native_by_default: bool) -> Filter {
        let mut filter = self.asked.clone();
        filter.include_deprecated |= filter.statuses.contains(&Status::Deprecated);
        if vendor_native_by_default { filter.vendor_native_unless_asked(self.community) } else { filter }
    }
}

/// Which detections: a scope and its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub scope: Scope,
    pub filters: Filters,
}

impl Selection {
    /// The detections the selection keeps of its scope.
    pub fn filter(&self) -> Filter {
        self.filters.resolve(self.scope.vendor_native_by_default())
    }
}

/// Which part of a list: `limit` results from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
}

impl Page {
    /// The whole list (exports).
    pub const ALL: Page = Page { offset: 0, limit: usize::MAX };

    /// The first `limit` results.
    pub fn first(limit: usize) -> Page {
        Page { offset: 0, limit }
    }

    /// The page asked for: `offset` and `limit`, or the page number `page` of `limit` each.
    pub fn from_arguments(args: &Arguments) -> Result<Page, RequestError> {
        let limit = args.operation().all().find(|p| p.name == "limit").map_or(0, |p| args.number(p));
        let offset = match (args.has(PAGE), args.has(OFFSET)) {
            (true, true) => return Err(RequestError::new(PAGE, "give `page` or `offset`, not both")),
            (true, false) => (args.number(PAGE) - 1).saturating_mul(limit),
            (false, _) => args.number(OFFSET),
        };
        Ok(Page { offset, limit })
    }

    /// The page of `limit` results from `offset` that `param` takes by default.
    pub fn default_of(param: &Param) -> Page {
        let limit = match param.kind {
            Kind::Number { default, .. } => usize::try_from(default).unwrap_or(usize::MAX),
            _ => 0,
        };
        Page { offset: 0, limit }
    }
}

/// A technique's detections, a page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechniqueRequest {
    pub technique: String,
    pub exact: bool,
    pub filters: Filters,
    pub page: Page,
}

impl TechniqueRequest {
    /// A technique's first page, unfiltered: what the vocabulary's defaults give.
    pub fn new(technique: impl Into<String>) -> TechniqueRequest {
        TechniqueRequest {
            technique: technique.into(),
            exact: false,
            filters: Filters::default(),
            page: Page::default_of(LIMIT),
        }
    }

    pub fn from_arguments(args: &Arguments) -> Result<TechniqueRequest, RequestError> {
        Ok(TechniqueRequest {
            technique: args.owned(TECHNIQUE).unwrap_or_default(),
            exact: args.flag(EXACT),
            filters: Filters::from_arguments(args),
            page: Page::from_arguments(args)?,
        })
    }

    /// The detections the listing keeps.
    pub fn filter(&self) -> Filter {
        self.filters.resolve(true)
    }
}

/// A search, a page of its matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub text: String,
    pub filters: Filters,
    pub page: Page,
}

impl SearchRequest {
    /// A search's first page, unfiltered: what the vocabulary's defaults give.
    pub fn new(text: impl Into<String>) -> SearchRequest {
        SearchRequest { text: text.into(), filters: Filters::default(), page: Page::default_of(LIMIT) }
    }

    pub fn from_arguments(args: &Arguments) -> Result<SearchRequest, RequestError> {
        Ok(SearchRequest {
            text: args.owned(QUERY).unwrap_or_default(),
            filters: Filters::from_arguments(args),
            page: Page::from_arguments(args)?,
        })
    }

    /// The matches kept: a search covers vendor-native and community content alike.
    pub fn filter(&self) -> Filter {
        self.filters.resolve(false)
    }
}

/// Techniques for what was typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestRequest {
    pub typed: String,
    pub filters: Filters,
}

impl SuggestRequest {
    pub fn from_arguments(args: &Arguments) -> SuggestRequest {
        SuggestRequest { typed: args.owned(TYPED).unwrap_or_default(), filters: Filters::from_arguments(args) }
    }
}

/// Detections in a format: one of them, a technique's, a search's, or every one the filters
/// keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    pub format: ExportFormat,
    pub selection: Selection,
}

impl ExportRequest {
    pub fn from_arguments(args: &Arguments) -> Result<ExportRequest, RequestError> {
        let format = args.text(FORMAT).unwrap_or_default();
        let format = format.parse().map_err(|e: String| RequestError::new(FORMAT, e))?;
        let given = [DETECTION, TECHNIQUE, QUERY].into_iter().filter(|p| args.has(p)).count();
        if given > 1 {
            return Err(RequestError {
                param: None,
                problem: "give at most one of `detection`, `technique` and `q`".into(),
            });
        }
        let scope = match (args.owned(DETECTION), args.owned(TECHNIQUE), args.owned(QUERY)) {
            (Some(address), _, _) => Scope::Detection(address.trim().to_string()),
            (_, Some(technique), _) => Scope::Technique { technique, exact: args.flag(EXACT) },
            (_, _, Some(text)) => Scope::Search(text),
            _ => Scope::Everything,
        };
        Ok(ExportRequest { format, selection: Selection { scope, filters: Filters::from_arguments(args) } })
    }
}

/// What the user runs, and what counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stack {
    /// Configured source names.
    pub have: Vec<String>,
    /// Community content (Sigma, community KQL) counts as the stack's own.
    pub community: bool,
    /// Detections listed only through ruledex's mapping of vendor labels count.
    pub inferred: bool,
}

impl Stack {
    pub fn from_arguments(args: &Arguments) -> Stack {
        Stack { have: args.list(HAVE), community: args.flag(COMMUNITY), inferred: args.flag(INFERRED) }
    }

    /// The query string's pairs asking for this stack again.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs: Vec<(&str, String)> = self.have.iter().map(|have| (HAVE.name, have.clone())).collect();
        let switches = [(COMMUNITY, self.community), (INFERRED, self.inferred)];
        pairs.extend(switches.into_iter().filter(|(_, on)| *on).map(|(param, _)| (param.name, "1".to_string())));
        pairs
    }
}

/// A stack's coverage of one matrix, optionally of some tactics only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRequest {
    pub stack: Stack,
    pub domain: Domain,
    /// Tactic IDs, names or shortnames; empty for all.
    pub tactics: Vec<String>,
}

impl CoverageRequest {
    pub fn from_arguments(args: &Arguments) -> CoverageRequest {
        let domain = match args.text(DOMAIN).unwrap_or_default().trim_end_matches("-attack") {
            "mobile" => Domain::Mobile,
            "ics" => Domain::Ics,
            _ => Domain::Enterprise,
        };
        CoverageRequest { stack: Stack::from_arguments(args), domain, tactics: args.list(TACTIC) }
    }

    /// The query string asking for this coverage again (what a link to it, or to its layer,
    /// carries), its values encoded.
    pub fn query_string(&self) -> String {
        let mut pairs = self.stack.pairs();
        pairs.extend(self.tactics.iter().map(|tactic| (TACTIC.name, tactic.clone())));
        if self.domain != Domain::Enterprise {
            pairs.push((DOMAIN.name, self.domain.label().to_lowercase()));
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(name, value)| format!("{name}={}", ruledex_core::url::encode_component(value)))
            .collect();
        encoded.join("&")
    }
}

/// A group, campaign or software, with a stack when sources are ticked or community content
/// counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRequest {
    pub name: String,
    pub stack: Option<Stack>,
}

impl ObjectRequest {
    /// What kind of object the request is for, where it says (`kind`), else a group.
    pub fn kind(args: &Arguments) -> ObjectKind {
        let label = args.text(OBJECT_KIND).unwrap_or_default();
        ObjectKind::ALL.iter().copied().find(|k| k.label() == label).unwrap_or(ObjectKind::Group)
    }

    pub fn from_arguments(args: &Arguments) -> ObjectRequest {
        let stack = Stack::from_arguments(args);
        let asked = !stack.have.is_empty() || stack.community;
        ObjectRequest { name: args.owned(OBJECT).unwrap_or_default(), stack: asked.then_some(stack) }
    }
}

/// Changes the history holds, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangesRequest {
    /// A date (`2026-11-01`), a time (`2026-11-01T08:00:00Z`) or a sync number.
    pub since: Option<String>,
    /// A technique ID in any spelling, or an ATT&CK name.
    pub technique: Option<String>,
    pub source: Option<String>,
    /// One detection's changes (with `source`): the whole history of its page, queries whole.
    pub id: Option<String>,
    pub limit: usize,
}

impl ChangesRequest {
    pub fn from_arguments(args: &Arguments) -> ChangesRequest {
        ChangesRequest {
            since: args.owned(SINCE),
            technique: args.owned(CHANGED_UNDER),
            source: args.owned(CHANGED_IN),
            id: None,
            limit: args.number(CHANGES_LIMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{Spelling, Unknown, vocabulary};
    use ruledex_core::model::{Language, SourceKind};

    fn args(operation: &'static super::super::Operation, query: &[(&str, &str)]) -> Arguments {
        let pairs = query.iter().map(|(n, v)| (n.to_string(), v.to_string()));
        Arguments::check(operation, pairs, Spelling::Query, Unknown::Ignore).unwrap()
    }

    #[test]
    fn a_technique_listing_is_vendor_native_and_current_unless_asked() {
        let plain = TechniqueRequest::from_arguments(&args(&vocabulary::TECHNIQUE_LISTING, &[("technique", "T1090")]));
        let filter = plain.unwrap().filter();
        assert_eq!(filter.kinds, vec![SourceKind::Vendor]);
        assert!(!filter.include_deprecated && !filter.include_inferred);
        let asked = [("technique", "T1090"), ("status", "deprecated"), ("vendor", "Sigma")];
        let filter = TechniqueRequest::from_arguments(&args(&vocabulary::TECHNIQUE_LISTING, &asked)).unwrap().filter();
        assert!(filter.include_deprecated, "asking for the deprecated status shows deprecated detections");
        assert!(filter.kinds.is_empty(), "naming a vendor asks for it, community or not");
    }

    #[test]
    fn a_search_covers_community_content() {
        let search = SearchRequest::from_arguments(&args(&vocabulary::SEARCH, &[("q", "tor"), ("language", "spl")]));
        let filter = search.unwrap().filter();
        assert!(filter.kinds.is_empty());
        assert_eq!(filter.languages, vec![Language::Spl]);
    }

    #[test]
    fn pages_are_offsets_or_page_numbers() {
        let page = |query: &[(&str, &str)]| {
            let query: Vec<(&str, &str)> = [("technique", "T1090")].iter().chain(query).copied().collect();
            Page::from_arguments(&args(&vocabulary::TECHNIQUE_PAGE, &query))
        };
        assert_eq!(page(&[]).unwrap(), Page { offset: 0, limit: 100 });
        assert_eq!(page(&[("page", "3")]).unwrap(), Page { offset: 200, limit: 100 });
        assert_eq!(page(&[("offset", "7"), ("limit", "5")]).unwrap(), Page { offset: 7, limit: 5 });
        assert!(page(&[("page", "2"), ("offset", "7")]).is_err());
        let too_far = [("page", "1000000000000000000")];
        let error = Arguments::check(
            &vocabulary::TECHNIQUE_PAGE,
            too_far.iter().map(|(n, v)| (n.to_string(), v.to_string())),
            Spelling::Query,
            Unknown::Ignore,
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "`page`: give a whole number from 1 to 10000, not \"1000000000000000000\"");
    }

    #[test]
    fn a_coverage_request_reads_back_from_its_query_string() {
        let raw = [("have", "splunk,sentinel"), ("have", "a&b"), ("community", "on"), ("domain", "mobile-attack")];
        let request = CoverageRequest::from_arguments(&args(&vocabulary::STACK_COVERAGE, &raw));
        let query = request.query_string();
        assert_eq!(query, "have=splunk&have=sentinel&have=a%26b&community=1&domain=mobile");
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| pair.split_once('=').unwrap())
            .map(|(n, v)| (n.to_string(), v.replace("%26", "&")))
            .collect();
        let again = Arguments::check(&vocabulary::STACK_COVERAGE, pairs, Spelling::Query, Unknown::Ignore).unwrap();
        assert_eq!(CoverageRequest::from_arguments(&again), request);
    }

    #[test]
    fn an_export_names_one_selection_at_most() {
        let export = |query: &[(&str, &str)]| ExportRequest::from_arguments(&args(&vocabulary::EXPORT, query));
        let request = export(&[("format", "json"), ("technique", "T1090"), ("exact", "1")]).unwrap();
        assert_eq!(request.selection.scope, Scope::Technique { technique: "T1090".into(), exact: true });
        assert_eq!(export(&[("format", "csv")]).unwrap().selection.scope, Scope::Everything);
        assert!(export(&[("format", "csv"), ("q", "tor"), ("technique", "T1090")]).is_err());
    }
}
