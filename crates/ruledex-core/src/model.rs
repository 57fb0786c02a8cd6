//! The normalized detection model: the one vocabulary every part of ruledex shares.
//!
//! Format adapters turn a vendor's native file into [`Rule`]s (what the vendor wrote, in common
//! terms). Ingest wraps each rule into a [`Detection`]: it adds where the rule came from, gives it
//! a stable address, and resolves its ATT&CK tags against the ATT&CK catalog.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AtlasId, TacticId, TechniqueId};

/// The native rule formats ruledex reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Format {
    /// Google SecOps (Chronicle) YARA-L 2.0 rules.
    Chronicle,
    /// Splunk Enterprise Security Content Update detections (YAML + SPL).
    SplunkEscu,
    /// Elastic detection-rules (TOML), building blocks and hunting queries.
    Elastic,
    /// Microsoft Sentinel analytic rules and hunting queries (YAML + KQL).
    Sentinel,
    /// Sublime Security email rules (YAML + MQL).
    Sublime,
    /// Sigma rules (YAML), the generic format converted into each SIEM's language.
    Sigma,
    /// Community KQL queries written as Markdown, one query per product section.
    KqlMarkdown,
    /// Panther analysis items: Python streaming rules, scheduled rules over SQL, correlation rules.
    Panther,
    /// Elastic Defend's endpoint behavior rules (TOML + EQL), which run on the host.
    ElasticEndpoint,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Chronicle,
        Format::SplunkEscu,
        Format::Elastic,
        Format::Sentinel,
        Format::Sublime,
        Format::Sigma,
        Format::KqlMarkdown,
        Format::Panther,
        Format::ElasticEndpoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Chronicle => "chronicle",
            Format::SplunkEscu => "splunk-escu",
            Format::Elastic => "elastic",
            Format::Sentinel => "sentinel",
            Format::Sublime => "sublime",
            Format::Sigma => "sigma",
            Format::KqlMarkdown => "kql-markdown",
            Format::Panther => "panther",
            Format::ElasticEndpoint => "elastic-endpoint",
        }
    }

    /// Who ships rules of this format, as detections and filters name them.
    pub fn vendor(self) -> &'static str {
        match self {
            Format::Chronicle => "Google SecOps",
            Format::SplunkEscu => "Splunk",
            Format::Elastic => "Elastic",
            Format::Sentinel => "Microsoft",
            Format::Sublime => "Sublime Security",
            Format::Sigma => "Sigma",
            Format::KqlMarkdown => "Community KQL",
            Format::Panther => "Panther",
            Format::ElasticEndpoint => "Elastic",
        }
    }

    /// The product this format's queries run in; a Sigma rule names its own log source and a
    /// community KQL query its product, so their sources say where they run in general.
    pub fn product(self) -> &'static str {
        match self {
            Format::Chronicle => "Google SecOps SIEM",
            Format::SplunkEscu => "Splunk Enterprise Security",
            Format::Elastic => "Elastic Security",
            Format::Sentinel => "Microsoft Sentinel",
            Format::Sublime => "Sublime Email Security",
            Format::Sigma => "any SIEM, through Sigma's converters",
            Format::KqlMarkdown => "Microsoft Sentinel and Defender XDR",
            Format::Panther => "Panther",
            Format::ElasticEndpoint => "Elastic Defend",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.iter().copied().find(|f| f.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
            format!("unknown format {s:?} (expected one of: {})", known.join(", "))
        })
    }
}

/// Whether a source is a vendor's own content or community content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SourceKind {
    Vendor,
    Community,
}

/// Query languages, named by what a user types the query into.
///
/// `kql` is Elastic's Kibana Query Language (Elastic calls it KQL); Microsoft's Kusto Query
/// Language, also called KQL by its users, is `kusto`, so a filter on one never returns the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Language {
    YaraL,
    Spl,
    Eql,
    Kql,
    Esql,
    Lucene,
    #[serde(rename = "machine_learning")]
    MachineLearning,
    Kusto,
    Mql,
    Sigma,
    Sql,
    Python,
    /// Panther's YAML detections (simple detections, correlation rules): only Panther runs them.
    PantherYaml,
}

/// What kind of detection a rule is, in one vocabulary across vendors.
/// The vendor's own word is kept beside it in [`Rule::rule_type_native`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum RuleType {
    Alert,
    Hunt,
    Anomaly,
    Ttp,
    Correlation,
    Baseline,
    BuildingBlock,
    Threshold,
    NewTerms,
    MachineLearning,
    IndicatorMatch,
    /// Runs on the host in the vendor's agent (Elastic Defend's behavior rules), not in a SIEM.
    Endpoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Status {
    Production,
    Experimental,
    Deprecated,
}

/// Something a query needs to exist in the SIEM before it runs as pasted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    pub kind: DependencyKind,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DependencyKind {
    /// A Splunk search macro (`` `name` ``).
    Macro,
    /// A Splunk lookup table.
    Lookup,
    /// A Google SecOps reference list (`%name`).
    ReferenceList,
    /// A Google SecOps data table.
    DataTable,
    /// An Elastic or Sentinel stored function / parser.
    Function,
    /// A Panther global helper module the rule's Python imports (directly or through another helper).
    Helper,
    /// A Panther saved query: the one a scheduled rule runs on, or a template its SQL imports.
    Query,
    /// A rule whose matches a correlation rule combines.
    Rule,
    /// An Elasticsearch index pattern the rule searches (`logs-endpoint.events.*`): what a
    /// query pasted into Kibana's Discover needs as its data view.
    Index,
}

/// One detection rule as a vendor ships it, in ruledex's common terms.
/// Adapters build these; they know nothing of sources, addresses or the ATT&CK catalog.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Rule {
    /// The vendor's own identifier (not unique in every source; see [`Detection::id`]).
    pub native_id: String,
    pub title: String,
    pub description: String,
    /// Who ships the rule ("Google SecOps", "Splunk", "Elastic", ...).
    pub vendor: String,
    /// The product the query runs in ("Google SecOps SIEM", "Splunk Enterprise Security", ...).
    pub product: String,
    pub language: Option<Language>,
    /// The query exactly as the vendor ships it; a rule of several queries (see `queries`) has
    /// them all here, in order, a blank line apart: for reading and search, not for running.
    pub query: String,
    /// Each query of a rule that ships several, to be shown, copied and run one by one (an
    /// Elastic hunt lists alternatives, in ES|QL or osquery SQL). Empty when the rule is one
    /// query.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<Query>,
    /// The query as it runs where the vendor's app is not installed: Splunk macros expanded
    /// from the source's own definitions. `None` where nothing needs expanding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paste_ready_query: Option<String>,
    /// Macros the paste-ready query still calls because no definition was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved_macros: Vec<String>,
    /// The whole native rule text: what a user pastes or imports. Listings leave it out (empty,
    /// and then absent from JSON); a single detection's lookup always has it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub native_rule: String,
    pub rule_type: Option<RuleType>,
    pub rule_type_native: Option<String>,
    pub severity: Option<Severity>,
    pub severity_native: Option<String>,
    pub risk_score: Option<f64>,
    pub status: Option<Status>,
    pub status_native: Option<String>,
    /// Every ATT&CK reference exactly as the vendor tagged it (IDs, names, URLs, tactic names).
    pub attack_tags: Vec<String>,
    /// ATT&CK references ruledex inferred from vendor labels that are not ATT&CK
    /// (kept apart and shown as "mapped by ruledex").
    pub inferred_attack_tags: Vec<String>,
    pub data_sources: Vec<String>,
    pub platforms: Vec<String>,
    pub author: Option<String>,
    /// ISO dates (YYYY-MM-DD).
    pub created: Option<String>,
    pub updated: Option<String>,
    pub references: Vec<String>,
    pub false_positives: Vec<String>,
    /// A license the rule declares itself; otherwise the source's license applies.
    pub license: Option<String>,
    /// Free labels the vendor attaches (Elastic tags, Splunk analytic stories, ...).
    pub tags: Vec<String>,
    /// Macros, lookups, lists the query needs.
    pub requires: Vec<Dependency>,
    /// How to deploy it: data it needs, setup steps.
    pub implementation: Option<String>,
    /// How to triage what it finds (Elastic's investigation guide, ...).
    pub investigation: Option<String>,
    /// The tests the vendor ships with the rule (Panther's unit tests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<RuleTest>,
    /// The rule's own version, as the vendor numbers it (`1.0.22`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// For a rule that runs on the host, the oldest version of the vendor's agent that runs it
    /// (Elastic Defend's `min_endpoint_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_agent_version: Option<String>,
    /// What the rule does on the host when it matches (Elastic Defend's actions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_actions: Vec<ResponseAction>,
    /// Path of the rule file, relative to the source root, with `/` separators.
    pub path: String,
}

/// One of the several queries a rule ships, in its own language.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Query {
    pub language: Option<Language>,
    pub text: String,
}

impl Rule {
    /// The queries a user runs, each on its own: the rule's several queries, or its one
    /// paste-ready query in the rule's language.
    pub fn runnable_queries(&self) -> Vec<Query> {
        if !self.queries.is_empty() {
            return self.queries.clone();
        }
        let text = self.paste_ready_query.as_deref().unwrap_or(&self.query);
        vec![Query { language: self.language, text: text.to_string() }]
    }
}

/// One test a rule ships with: a sample input and whether the rule must fire on it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuleTest {
    pub name: String,
    /// Whether the rule must match the input.
    pub expected: bool,
    /// The sample log event as pretty JSON; for a correlation rule, the matches of the rules it
    /// correlates.
    pub input: String,
    /// The input's log type, for rules that read several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// Functions or globals the test replaces, with the value each returns.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mocks: BTreeMap<String, serde_json::Value>,
}

/// A response a rule takes where it runs, when it matches: Elastic Defend kills a process, say.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResponseAction {
    /// The vendor's name for it (`kill_process`, `rollback`).
    pub action: String,
    /// The event field naming what it acts on (`process.entity_id`, `process.parent.entity_id`).
    pub field: String,
    /// In a sequence, which of its events holds that field (0: the first).
    #[serde(default)]
    pub event: u32,
    /// It acts on the whole process tree.
    #[serde(default)]
    pub tree: bool,
    /// It runs only where the user's policy turns it on (Elastic's optional actions).
    #[serde(default)]
    pub optional: bool,
}

/// What happened to a detection between two syncs (see `crate::history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ChangeKind {
    Added,
    Changed,
    /// It became deprecated upstream (it may have changed otherwise too).
    Deprecated,
    Removed,
}

/// Which part of a detection changed upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ChangedField {
    /// The query as the vendor ships it.
    Query,
    /// Only the paste-ready query, through the definitions it expands (Splunk macros).
    PasteReadyQuery,
    /// The vendor's ATT&CK tags.
    Attack,
    Severity,
    /// Status or deprecation.
    Status,
    /// Anything else the vendor wrote: title, description, references, data sources...
    Metadata,
}

/// How a detection's ATT&CK tag relates to the current ATT&CK catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum MappingStatus {
    #[default]
    Current,
    /// The ID was revoked; the detection is listed under the replacement.
    Revoked,
    Deprecated,
    /// The ID is not in the loaded ATT&CK bundles.
    Unknown,
}

impl MappingStatus {
    fn is_current(&self) -> bool {
        *self == MappingStatus::Current
    }
}

/// Where in a rule ruledex read a technique: the rule's ATT&CK tags, or, for a rule without
/// any, an attack.mitre.org (or atlas.mitre.org) link among its references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum MappingVia {
    #[default]
    Tag,
    Reference,
}

impl MappingVia {
    fn is_tag(&self) -> bool {
        *self == MappingVia::Tag
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum MappedBy {
    Vendor,
    Ruledex,
}

/// One technique a detection maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechniqueMapping {
    /// The technique this detection is listed under (the replacement, for revoked IDs).
    pub id: TechniqueId,
    pub name: Option<String>,
    /// The tag as the source wrote it.
    pub tagged: String,
    /// The ID the tag named, when it differs from `id` (revoked IDs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tagged_id: Option<TechniqueId>,
    pub status: MappingStatus,
    pub mapped_by: MappedBy,
    /// Absent from JSON for the usual case, a tag.
    #[serde(default, skip_serializing_if = "MappingVia::is_tag")]
    pub via: MappingVia,
}

/// One tactic a detection maps to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TacticRef {
    /// The tactic this detection is listed under (a successor, for revoked or split tactics).
    pub id: TacticId,
    pub name: String,
    /// The tactic the tag named, when it differs from `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged_id: Option<TacticId>,
    /// Absent from JSON when current.
    #[serde(default, skip_serializing_if = "MappingStatus::is_current")]
    pub status: MappingStatus,
}

/// A MITRE ATLAS technique or tactic a detection names. ATLAS covers attacks on AI systems and
/// is kept apart from ATT&CK: it is never counted as an ATT&CK technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtlasRef {
    pub id: AtlasId,
    /// Its page on atlas.mitre.org.
    pub url: String,
    #[serde(default, skip_serializing_if = "MappingVia::is_tag")]
    pub via: MappingVia,
}

/// Where a detection came from, precise enough to check it upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// Path in the source, relative to its root.
    pub path: String,
    /// The upstream repository, when known.
    pub repository: Option<String>,
    /// The upstream commit the file was read at, when known.
    pub commit: Option<String>,
    /// A link to the file at that commit, when the host is known.
    pub upstream_url: Option<String>,
}

/// A rule placed in the catalog: its address, provenance and resolved ATT&CK mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Name of the configured source (the `SOURCE` in `SOURCE/ID`).
    pub source: String,
    pub source_kind: SourceKind,
    /// The native format the rule was read from (what an export writer checks).
    pub format: Format,
    /// Unique within the source: the native ID, made unique when upstream repeats it.
    pub id: String,
    #[serde(flatten)]
    pub rule: Rule,
    pub deprecated: bool,
    pub techniques: Vec<TechniqueMapping>,
    pub tactics: Vec<TacticRef>,
    /// ATT&CK tags that name nothing in ATT&CK (neither technique nor tactic), kept to be seen.
    pub unresolved_tags: Vec<String>,
    /// CVEs the rule is about (named in its title, tags or references), canonical and sorted.
    #[serde(default)]
    pub cves: Vec<String>,
    /// MITRE ATLAS techniques and tactics the rule names (absent from JSON when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub atlas: Vec<AtlasRef>,
    pub provenance: Provenance,
    /// The license that applies: the rule's own, else the source's.
    pub effective_license: Option<String>,
}

impl Detection {
    pub fn address(&self) -> String {
        format!("{}/{}", self.source, self.id)
    }
}

macro_rules! wire_names {
    ($ty:ty { $($variant:ident => $wire:literal, $label:literal;)* }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),*];

            /// The name used in JSON, URLs and the store.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $wire),* }
            }

            /// The name shown to people.
            pub fn label(self) -> &'static str {
                match self { $(<$ty>::$variant => $label),* }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
                    .ok_or_else(|| UnknownName {
                        what: stringify!($ty),
                        input: s.to_string(),
                        expected: <$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {input:?} (expected one of: {expected})")]
pub struct UnknownName {
    what: &'static str,
    input: String,
    expected: String,
}

wire_names!(SourceKind {
    Vendor => "vendor", "Vendor-native";
    Community => "community", "Community";
});

wire_names!(Language {
    YaraL => "yara-l", "YARA-L";
    Spl => "spl", "SPL";
    Eql => "eql", "EQL";
    Kql => "kql", "KQL (Kibana)";
    Esql => "esql", "ES|QL";
    Lucene => "lucene", "Lucene";
    MachineLearning => "machine_learning", "ML job";
    Kusto => "kusto", "KQL (Kusto)";
    Mql => "mql", "MQL";
    Sigma => "sigma", "Sigma";
    Sql => "sql", "SQL";
    Python => "python", "Python";
    PantherYaml => "panther-yaml", "Panther YAML";
});

wire_names!(RuleType {
    Alert => "alert", "alert";
    Hunt => "hunt", "hunt";
    Anomaly => "anomaly", "anomaly";
    Ttp => "ttp", "TTP";
    Correlation => "correlation", "correlation";
    Baseline => "baseline", "baseline";
    BuildingBlock => "building_block", "building block";
    Threshold => "threshold", "threshold";
    NewTerms => "new_terms", "new terms";
    MachineLearning => "machine_learning", "machine learning";
    IndicatorMatch => "indicator_match", "indicator match";
    Endpoint => "endpoint", "endpoint";
});

wire_names!(Severity {
    Informational => "informational", "Informational";
    Low => "low", "Low";
    Medium => "medium", "Medium";
    High => "high", "High";
    Critical => "critical", "Critical";
});

wire_names!(Status {
    Production => "production", "production";
    Experimental => "experimental", "experimental";
    Deprecated => "deprecated", "deprecated";
});

wire_names!(MappingStatus {
    Current => "current", "current";
    Revoked => "revoked", "revoked";
    Deprecated => "deprecated", "deprecated";
    Unknown => "unknown", "unknown";
});

wire_names!(DependencyKind {
    Macro => "macro", "macro";
    Lookup => "lookup", "lookup";
    ReferenceList => "reference_list", "reference list";
    DataTable => "data_table", "data table";
    Function => "function", "function";
    Helper => "helper", "helper";
    Query => "query", "saved query";
    Rule => "rule", "rule";
    Index => "index", "index pattern";
});

wire_names!(ChangeKind {
    Added => "added", "new";
    Changed => "changed", "updated";
    Deprecated => "deprecated", "deprecated";
    Removed => "removed", "removed";
});

wire_names!(ChangedField {
    Query => "query", "query";
    PasteReadyQuery => "paste_ready_query", "paste-ready query";
    Attack => "attack", "ATT&CK tags";
    Severity => "severity", "severity";
    Status => "status", "status";
    Metadata => "metadata", "metadata";
});

wire_names!(MappingVia {
    Tag => "tag", "tagged";
    Reference => "reference", "from the rule's reference";
});

wire_names!(MappedBy {
    Vendor => "vendor", "tagged by the vendor";
    Ruledex => "ruledex", "mapped by ruledex";
});

impl Severity {
    /// Reads the severity words vendors use ("High", "info", "informational", "crit"...).
    pub fn from_native(native: &str) -> Option<Severity> {
        match native.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" | "information" | "none" => Some(Severity::Informational),
            "low" => Some(Severity::Low),
            "medium" | "moderate" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" | "crit" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// The band a 0-100 risk score falls in, using Elastic's default score for each severity as
    /// the lower bound (low 21, medium 47, high 73, critical 99). Used only for vendors that ship
    /// a risk score but no severity (older Splunk ESCU), and documented as derived.
    pub fn from_risk_score(score: f64) -> Severity {
        match score {
            s if s < 21.0 => Severity::Informational,
            s if s < 47.0 => Severity::Low,
            s if s < 73.0 => Severity::Medium,
            s if s < 99.0 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde_and_fromstr() {
        for lang in Language::ALL {
            let json = serde_json::to_string(lang).unwrap();
            assert_eq!(json, format!("\"{}\"", lang.as_str()));
            assert_eq!(lang.as_str().parse::<Language>().unwrap(), *lang);
        }
        for t in RuleType::ALL {
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{}\"", t.as_str()));
        }
        assert_eq!("YARA-L".parse::<Language>().unwrap(), Language::YaraL);
        assert!("cobol".parse::<Language>().unwrap_err().to_string().contains("yara-l"));
    }

    #[test]
    fn severity_reads_vendor_words_and_scores() {
        assert_eq!(Severity::from_native("High"), Some(Severity::High));
        assert_eq!(Severity::from_native(" info "), Some(Severity::Informational));
        assert_eq!(Severity::from_native("urgent"), None);
        assert_eq!(Severity::from_risk_score(21.0), Severity::Low);
        assert_eq!(Severity::from_risk_score(47.0), Severity::Medium);
        assert_eq!(Severity::from_risk_score(73.0), Severity::High);
        assert_eq!(Severity::from_risk_score(99.0), Severity::Critical);
    }

    #[test]
    fn detection_json_has_the_documented_top_level_keys() {
        let detection = Detection {
            source: "chronicle".into(),
            source_kind: SourceKind::Vendor,
            format: Format::Chronicle,
            id: "gcti_tor_exit_nodes".into(),
            rule: Rule { title: "GCTI Tor Exit Nodes".into(), language: Some(Language::YaraL), ..Rule::default() },
            deprecated: false,
            techniques: vec![],
            tactics: vec![],
            unresolved_tags: vec![],
            cves: vec![],
            atlas: vec![],
            provenance: Provenance::default(),
            effective_license: None,
        };
        let value = serde_json::to_value(&detection).unwrap();
        for key in ["source", "id", "title", "language", "techniques", "deprecated", "severity", "query"] {
            assert!(value.get(key).is_some(), "missing {key}");
        }
        let back: Detection = serde_json::from_value(value).unwrap();
        assert_eq!(back, detection);
    }

    #[test]
    fn mappings_say_how_they_were_read_only_when_unusual() {
        let mapping = TechniqueMapping {
            id: "T1090".parse().unwrap(),
            name: Some("Proxy".into()),
            tagged: "T1090".into(),
            tagged_id: None,
            status: MappingStatus::Current,
            mapped_by: MappedBy::Vendor,
            via: MappingVia::Tag,
        };
        let json = serde_json::to_value(&mapping).unwrap();
        assert_eq!(json.get("via"), None, "JSON of tag mappings is as before");
        let from_reference = TechniqueMapping { via: MappingVia::Reference, ..mapping };
        let json = serde_json::to_value(&from_reference).unwrap();
        assert_eq!(json["via"], "reference");
        assert_eq!(serde_json::from_value::<TechniqueMapping>(json).unwrap(), from_reference);
        assert_eq!(MappingVia::Reference.label(), "from the rule's reference");

        let tactic = TacticRef {
            id: "TA0011".parse().unwrap(),
            name: "Command and Control".into(),
            tagged_id: None,
            status: MappingStatus::Current,
        };
        assert_eq!(serde_json::to_string(&tactic).unwrap(), r#"{"id":"TA0011","name":"Command and Control"}"#);
        let split = TacticRef { tagged_id: Some("TA0005".parse().unwrap()), status: MappingStatus::Revoked, ..tactic };
        let json = serde_json::to_value(&split).unwrap();
        assert_eq!((json["tagged_id"].as_str(), json["status"].as_str()), (Some("TA0005"), Some("revoked")));
    }
}
