//! Every parameter ruledex takes, and every question with the parameters it takes: a flat
//! registry on purpose, one entry per parameter, so that a parameter is described in one place.

use ruledex_core::ids::ObjectKind;
use ruledex_core::model::{Language, RuleType, Severity, SourceKind, Status};

use super::param::{Kind, Operation, Param};
use crate::export::format::ExportFormat;

/// The most results one page lists.
pub const MAX_LIMIT: u64 = 100;
/// The most results a page may skip: more than any catalog holds, so that page arithmetic never
/// overflows and every page asked for is a range the answer can name.
pub const MAX_OFFSET: u64 = 1_000_000;
/// The most changes one answer lists.
pub const MAX_CHANGES: u64 = 500;

const fn list(values: fn() -> Vec<&'static str>) -> Kind {
    Kind::List { values: Some(values), commas: true }
}

/// A list of free names (sources, vendors): commas separate them too.
const NAMES: Kind = Kind::List { values: None, commas: true };

// What a question is about.

pub const TECHNIQUE: &Param = &Param::new(
    "technique",
    Kind::Text,
    "The ATT&CK technique: an ID in any spelling (T1090, t1090.003, T1090/003) or a name (\"Proxy\", \
     \"Proxy: Multi-hop Proxy\").",
);
pub const QUERY: &Param = &Param::new(
    "q",
    Kind::Text,
    "Words (all must match), \"quoted phrases\", OR, NOT, parentheses, prefix*, and title:, description:, query: \
     or tags: for one field; cve:CVE-2021-44228 for the detections about a CVE.",
)
.json("query")
.flag("query");
pub const DETECTION: &Param = &Param::new(
    "detection",
    Kind::Text,
    "One detection, by its address SOURCE/ID (chronicle/gcti_tor_exit_nodes); the vendor's own ID or the rule's \
     file name after the source also work.",
)
.json("address");
pub const TYPED: &Param = &Param::new("q", Kind::Text, "Part of a technique ID or name, as typed.");
pub const OBJECT: &Param = &Param::new(
    "name",
    Kind::Text,
    "An ATT&CK ID (G0016, C0024, S0154), name or alias (\"Cozy Bear\"), in any letter case.",
);

// Filters: which detections.

pub const SOURCE: &Param =
    &Param::new("source", NAMES, "Only these sources, by configured name (the sources `stats` lists).").json("sources");
pub const VENDOR: &Param =
    &Param::new("vendor", NAMES, "Only these vendors (\"Google SecOps\", Splunk, Elastic, Microsoft...).")
        .json("vendors");
pub const KIND: &Param = &Param::new(
    "kind",
    list(|| names(SourceKind::ALL, |k| k.as_str())),
    "Only vendor-native content (vendor) or community content (community: Sigma, community KQL).",
)
.json("kinds");
pub const LANGUAGE: &Param = &Param::new(
    "language",
    list(|| names(Language::ALL, |l| l.as_str())),
    "Only these query languages. `kql` is Elastic's Kibana Query Language, `kusto` Microsoft's KQL (Sentinel, \
     Defender).",
)
.json("languages");
pub const SEVERITY: &Param =
    &Param::new("severity", list(|| names(Severity::ALL, |s| s.as_str())), "Only these severities.").json("severities");
pub const TYPE: &Param =
    &Param::new("type", list(|| names(RuleType::ALL, |t| t.as_str())), "Only these rule types.").json("types");
pub const STATUS: &Param = &Param::new(
    "status",
    list(|| names(Status::ALL, |s| s.as_str())),
    "Only these statuses (asking for deprecated includes deprecated detections).",
)
.json("statuses");
pub const DATA_SOURCE: &Param =
    &Param::new("data_source", NAMES, "Only detections needing one of these data sources or integrations.")
        .json("data_sources")
        .flag("data-source");
pub const COMMUNITY: &Param = &Param::new(
    "community",
    Kind::Flag,
    "Include community content (Sigma, community KQL). Technique listings, coverage and whole-catalog \
     selections leave it out unless asked for here or by naming a community source, vendor or kind; a search \
     covers both. In a stack's coverage: count community content as the stack's own.",
);
pub const DEPRECATED: &Param =
    &Param::new("deprecated", Kind::Flag, "Include deprecated detections (left out unless asked for).");
pub const INFERRED: &Param = &Param::new(
    "inferred",
    Kind::Flag,
    "Include detections listed under a technique only through ruledex's mapping of the vendor's own labels \
     (Sublime's attack types, shown as mapped by ruledex); listings and counts leave them out unless asked for.",
);
pub const EXACT: &Param =
    &Param::new("exact", Kind::Flag, "Only detections tagged with the technique itself, not its sub-techniques.");

/// The filters of every selection of detections.
pub const FILTERS: &[&Param] = &[SOURCE, VENDOR, KIND, LANGUAGE, SEVERITY, TYPE, STATUS, DATA_SOURCE, DEPRECATED];

// Pages.

pub const OFFSET: &Param = &Param::new(
    "offset",
    Kind::Number { min: 0, max: MAX_OFFSET, default: 0 },
    "Results to skip: the next page starts at this one's offset plus what it listed.",
);
pub const LIMIT: &Param =
    &Param::new("limit", Kind::Number { min: 1, max: MAX_LIMIT, default: 20 }, "The most results to list.");
pub const PAGING: &[&Param] = &[OFFSET, LIMIT];
/// The technique page's cards come a page at a time: 100, with `page` for the next.
pub const PAGE: &Param = &Param::new(
    "page",
    Kind::Number { min: 1, max: MAX_OFFSET / CARDS, default: 1 },
    "The page of cards, from 1 (each holds `limit` cards).",
);
pub const CARDS: u64 = MAX_LIMIT;
pub const CARDS_LIMIT: &Param =
    &Param::new("limit", Kind::Number { min: 1, max: MAX_LIMIT, default: CARDS }, "Cards per page.");

// Coverage.

pub const HAVE: &Param = &Param::new("have", NAMES, "The sources the stack has, by configured name.");
pub const TACTIC: &Param =
    &Param::new("tactic", NAMES, "Only these tactics: an ID (TA0011), a name or a shortname (command-and-control).")
        .json("tactics");
pub const DOMAIN: &Param = &Param::new(
    "domain",
    Kind::Choice {
        values: || vec!["enterprise", "mobile", "ics", "enterprise-attack", "mobile-attack", "ics-attack"],
        default: Some("enterprise"),
    },
    "The ATT&CK matrix.",
);

/// The parameters of a stack's coverage.
pub const STACK: &[&Param] = &[HAVE, COMMUNITY, INFERRED];
pub const LAYER: &Param = &Param::new(
    "layer",
    Kind::Flag,
    "Answer with the coverage as an ATT&CK Navigator layer (JSON, layer format 4.5) too: each technique in its \
     status's colour.",
);
pub const OBJECT_KIND: &Param = &Param::new(
    "kind",
    Kind::Choice { values: || ObjectKind::ALL.iter().map(|k| k.label()).collect(), default: Some("group") },
    "What the name names: a group (an intrusion set), a campaign or software.",
);

// Changes.

pub const SINCE: &Param = &Param::new(
    "since",
    Kind::Text,
    "Only changes after this: a date (2026-11-01), a time (2026-11-01T08:00:00Z) or a sync number (each change \
     carries its sync's number).",
);
pub const CHANGED_UNDER: &Param = &Param::new(
    "technique",
    Kind::Text,
    "Only changes of detections listed under this technique or its sub-techniques (ID or name).",
);
pub const CHANGED_IN: &Param = &Param::new("source", Kind::Text, "Only changes of this source (a configured name).");
pub const CHANGES_LIMIT: &Param =
    &Param::new("limit", Kind::Number { min: 1, max: MAX_CHANGES, default: 100 }, "The most changes, newest first.");

// Exports.

pub const FORMAT: &Param = &Param::new(
    "format",
    Kind::Choice { values: || ExportFormat::all().into_iter().map(ExportFormat::as_str).collect(), default: None },
    "The format: a platform's import format (splunk-app, kibana-ndjson, yaral, sentinel-arm, sentinel-yaml, sigma, \
     panther), an ATT&CK Navigator layer (navigator), or the catalog's rows (json, csv).",
);
pub const ARCHIVE: &Param = &Param::new(
    "archive",
    Kind::Choice { values: || vec!["zip", "tar.gz"], default: Some("zip") },
    "How an export of several files is packed (a Splunk app always comes as the .tar.gz Splunk installs).",
);

// The questions.

/// A technique's detections (`technique`, `/api/v1/techniques/{technique}`, the `technique` tool).
pub static TECHNIQUE_LISTING: Operation = Operation {
    name: "technique",
    subject: Some(TECHNIQUE),
    params: &[&[EXACT, COMMUNITY, INFERRED], FILTERS, PAGING],
};
/// The technique page: its cards a page at a time.
pub static TECHNIQUE_PAGE: Operation = Operation {
    name: "technique page",
    subject: Some(TECHNIQUE),
    params: &[&[EXACT, COMMUNITY, INFERRED], FILTERS, &[OFFSET, CARDS_LIMIT, PAGE]],
};
/// A full-text search (`search`, `/api/v1/search`, the `search` tool).
pub static SEARCH: Operation = Operation { name: "search", subject: Some(QUERY), params: &[FILTERS, PAGING] };
/// The search page, which also shows the empty search form.
pub static SEARCH_PAGE: Operation =
    Operation { name: "search page", subject: None, params: &[&[QUERY], FILTERS, PAGING] };
/// Techniques for what was typed (`/api/v1/techniques?q=`).
pub static SUGGEST: Operation =
    Operation { name: "techniques", subject: None, params: &[&[TYPED, COMMUNITY], FILTERS] };
/// One detection, whole (`show`, `/api/v1/detections/{source}/{id}`, the `show` tool).
pub static SHOW: Operation = Operation { name: "show", subject: Some(DETECTION), params: &[] };
/// Detection counts per technique: the home page's matrix (`/api/v1/coverage`, the `coverage` tool).
pub static MATRIX: Operation =
    Operation { name: "coverage", subject: None, params: &[&[COMMUNITY, INFERRED], FILTERS] };
/// A stack's coverage of a matrix (`coverage`, `/api/v1/coverage/stack`, the `stack_coverage` tool).
pub static STACK_COVERAGE: Operation =
    Operation { name: "stack coverage", subject: None, params: &[STACK, &[TACTIC, DOMAIN]] };
/// The same, with its layer when asked for (`coverage --layer`, the `stack_coverage` tool).
pub static STACK_COVERAGE_LAYER: Operation =
    Operation { name: "stack coverage", subject: None, params: &[STACK, &[TACTIC, DOMAIN, LAYER]] };
/// A group, campaign or software with its techniques (`group`, `/api/v1/groups/{name}`, the `group` tool).
pub static ATTACK_OBJECT: Operation = Operation { name: "group", subject: Some(OBJECT), params: &[STACK] };
/// The same, of any kind (the `group` tool).
pub static ANY_ATTACK_OBJECT: Operation =
    Operation { name: "group", subject: Some(OBJECT), params: &[STACK, &[OBJECT_KIND]] };
/// What syncs changed (`changes`, `/api/v1/changes`, the `changes` tool).
pub static CHANGES: Operation =
    Operation { name: "changes", subject: None, params: &[&[SINCE, CHANGED_UNDER, CHANGED_IN, CHANGES_LIMIT]] };
/// Detections in a platform's format (`export`, the `export` tool).
pub static EXPORT: Operation = Operation {
    name: "export",
    subject: None,
    params: &[&[FORMAT, DETECTION, TECHNIQUE, EXACT, QUERY, COMMUNITY], FILTERS],
};
/// An export as a file to download (`/api/v1/export`).
pub static DOWNLOAD: Operation = Operation {
    name: "export",
    subject: None,
    params: &[&[FORMAT, DETECTION, TECHNIQUE, EXACT, QUERY, COMMUNITY], FILTERS, &[ARCHIVE]],
};

/// Every question, for what concerns them all (the names a query string may hold).
pub static OPERATIONS: &[&Operation] = &[
    &TECHNIQUE_LISTING,
    &TECHNIQUE_PAGE,
    &SEARCH,
    &SEARCH_PAGE,
    &SUGGEST,
    &SHOW,
    &MATRIX,
    &STACK_COVERAGE,
    &STACK_COVERAGE_LAYER,
    &ATTACK_OBJECT,
    &ANY_ATTACK_OBJECT,
    &CHANGES,
    &EXPORT,
    &DOWNLOAD,
];

/// Whether any question takes a parameter named `name` in a query string.
pub fn is_query_name(name: &str) -> bool {
    OPERATIONS.iter().any(|operation| operation.all().any(|p| p.name == name))
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Within one question, each name means one parameter, in every front end's spelling.
    #[test]
    fn names_are_unique_within_each_question() {
        for operation in OPERATIONS {
            for spelling in [super::super::Spelling::Query, super::super::Spelling::Json, super::super::Spelling::Flag]
            {
                let mut names: Vec<&str> = operation.all().map(|p| p.name_in(spelling)).collect();
                let count = names.len();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), count, "{} in {spelling:?}", operation.name);
            }
        }
    }
}
