//! View models: model types turned into what templates show. Templates escape every string
//! they print; the only pre-rendered HTML is highlighted code, escaped by `highlight`.

use std::collections::{BTreeMap, BTreeSet};

use ruledex_app::links::{detection as detection_url, technique as technique_url};
use ruledex_app::request::Filters;
use ruledex_app::wire::{DetectionJson, FacetsJson};
use ruledex_core::export::PlatformFormat;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::{Format, Language, MappedBy, MappingStatus, MappingVia, RuleType, Severity, SourceKind};
use ruledex_core::url::encode_component;

use crate::highlight::highlight;

/// A detection as a card in a list.
pub struct Card {
    pub anchor: String,
    pub url: String,
    pub raw_url: String,
    pub download_name: String,
    pub address: String,
    pub title: String,
    /// The description's opening, whole sentences of its first paragraph, reflowed.
    pub description: String,
    /// The rest of the description, paragraph by paragraph, behind a "more" control.
    pub description_more: Vec<String>,
    pub vendor: String,
    pub language: String,
    pub language_key: String,
    pub severity_key: String,
    pub severity: String,
    pub rule_type_key: String,
    pub rule_type: String,
    pub status_key: String,
    pub kind_key: String,
    pub community: bool,
    pub deprecated: bool,
    /// Tagged with the page's technique itself, not only a sub-technique of it.
    pub direct: bool,
    pub chips: Vec<Chip>,
    pub data_sources: Vec<String>,
    /// `|`-joined, lower-case data sources, for client-side filtering.
    pub data_sources_key: String,
    /// The query to copy: paste-ready (macros expanded) where that differs from the shipped one.
    pub query_html: String,
    /// The query as shipped, when the paste-ready one differs from it.
    pub shipped_html: String,
    /// What the paste-ready query is ("macros expanded: runs without the vendor's app"), when
    /// it differs from the shipped one.
    pub paste_ready_note: String,
    /// The Elasticsearch index patterns the query searches (a Kibana data view needs them).
    pub index_patterns: Vec<String>,
    /// Downloads in the detection's platform import formats.
    pub exports: Vec<ExportLink>,
    /// How many tests the rule ships.
    pub tests: usize,
    /// For a rule that runs on the host: in which agent and on which systems.
    pub runs_on: String,
    /// What a rule that runs on the host does when it matches, one phrase each.
    pub actions: Vec<String>,
    /// The rule's own version.
    pub version: String,
    pub path: String,
    pub commit_short: String,
    pub upstream_url: String,
    pub license: String,
    /// "new" or "updated" when it changed upstream recently; empty otherwise.
    pub change_badge: &'static str,
}

/// A download of one detection in a platform's import format.
pub struct ExportLink {
    pub href: String,
    pub label: &'static str,
}

/// Downloads of a whole list: one per platform format its detections' source `formats` export
/// to, then JSON and CSV rows. `selection` is the query string naming the list
/// (`technique=T1090&vendor=Splunk`).
pub fn export_menu(formats: impl Iterator<Item = Format>, selection: &str) -> Vec<ExportLink> {
    let mut formats: Vec<PlatformFormat> = formats.flat_map(PlatformFormat::for_source).collect();
    formats.sort_by_key(|f| PlatformFormat::ALL.iter().position(|x| x == f));
    formats.dedup();
    let link = |format: &str, label| ExportLink { href: format!("/api/v1/export?format={format}&{selection}"), label };
    let platform = formats.into_iter().map(|f| link(f.as_str(), platform_label(f)));
    platform.chain([link("json", "JSON"), link("csv", "CSV")]).collect()
}

fn platform_label(format: PlatformFormat) -> &'static str {
    match format {
        PlatformFormat::SplunkApp => "Splunk app",
        PlatformFormat::KibanaNdjson => "Kibana (NDJSON)",
        PlatformFormat::Yaral => "Google SecOps (.yaral)",
        PlatformFormat::SentinelArm => "Sentinel (ARM template)",
        PlatformFormat::SentinelYaml => "Sentinel (YAML)",
        PlatformFormat::Sigma => "Sigma (YAML)",
        PlatformFormat::Panther => "Panther (.zip to upload)",
    }
}

/// The platform formats a detection exports to, but those that are its native file as it is
/// (the card's own download).
fn export_links(d: &DetectionJson) -> Vec<ExportLink> {
    PlatformFormat::for_source(d.format)
        .into_iter()
        .filter_map(|format| {
            let label = match format {
                PlatformFormat::SplunkApp => "Splunk app (.tar.gz)",
                PlatformFormat::KibanaNdjson => "Kibana import (.ndjson)",
                PlatformFormat::SentinelArm => "ARM template",
                // The YAML alone does not upload: its Python and helpers come with it.
                PlatformFormat::Panther => "Panther upload (.zip)",
                PlatformFormat::Yaral | PlatformFormat::SentinelYaml | PlatformFormat::Sigma => return None,
            };
            let href = format!(
                "/api/v1/export?format={format}&detection={}",
                encode_component(&format!("{}/{}", d.source, d.id))
            );
            Some(ExportLink { href, label })
        })
        .collect()
}

/// A query string with parameter `name` set to `value` (removed when `value` is empty), the
/// others kept as they were: links to another page of the same list.
pub fn with_param(raw_query: &str, name: &str, value: &str) -> String {
    let prefix = format!("{name}=");
    let mut pairs: Vec<String> = raw_query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with(&prefix) && *p != name)
        .map(String::from)
        .collect();
    if !value.is_empty() {
        pairs.push(format!("{name}={}", encode_component(value)));
    }
    pairs.join("&")
}

/// A card tagged with more techniques than this is a broad rule (a catch-all passing alerts
/// through, say), marked so: it is not specific to any one of them.
const BROAD_TECHNIQUES: usize = 10;

/// Technique chips a card shows at once; the rest are one click away.
const CHIPS_SHOWN: usize = 6;

/// A technique a detection maps to, as a link.
pub struct Chip {
    pub id: String,
    pub href: String,
    pub name: String,
    /// "revoked: tagged T1086", "unknown to ATT&CK", "mapped by ruledex".
    pub note: String,
}

impl Card {
    pub fn new(index: usize, d: &DetectionJson, page_technique: Option<TechniqueId>) -> Card {
        let (lead, more) = split_description(&d.description);
        let language = d.language;
        Card {
            anchor: format!("d{index}"),
            url: detection_url(&d.source, &d.id),
            raw_url: format!("{}/raw", detection_url(&d.source, &d.id)),
            download_name: download_name(&d.path),
            address: format!("{}/{}", d.source, d.id),
            title: d.title.clone(),
            description: lead.clone(),
            description_more: more,
            vendor: d.vendor.clone(),
            language: language.map(|l| l.label()).unwrap_or("query").to_string(),
            language_key: language.map(|l| l.as_str()).unwrap_or_default().to_string(),
            severity_key: d.severity.map(|s| s.as_str()).unwrap_or_default().to_string(),
            severity: d.severity.map(|s| s.label()).unwrap_or_default().to_string(),
            rule_type_key: d.rule_type.map(|t| t.as_str()).unwrap_or_default().to_string(),
            rule_type: d.rule_type.map(|t| t.label()).unwrap_or_default().to_string(),
            status_key: d.status.map(|s| s.as_str()).unwrap_or_default().to_string(),
            kind_key: d.source_kind.as_str().to_string(),
            community: d.source_kind == SourceKind::Community,
            deprecated: d.deprecated,
            direct: page_technique.is_none_or(|t| d.techniques.iter().any(|m| m.id == t)),
            chips: chips(d),
            data_sources: d.data_sources.clone(),
            data_sources_key: d.data_sources.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>().join("|"),
            query_html: highlight(&d.paste_ready_query, language),
            shipped_html: if d.macros_expanded() { highlight(&d.query, language) } else { String::new() },
            paste_ready_note: d.paste_ready_note(),
            index_patterns: d.index_patterns(),
            exports: export_links(d),
            tests: d.tests.len(),
            runs_on: runs_on(d),
            actions: d.response_actions.iter().map(ToString::to_string).collect(),
            version: d.version.clone().unwrap_or_default(),
            path: d.provenance.path.clone(),
            commit_short: d.provenance.commit.as_deref().map(short_commit).unwrap_or_default().to_string(),
            upstream_url: d.provenance.upstream_url.clone().unwrap_or_default(),
            license: d.effective_license.clone().unwrap_or_default(),
            change_badge: "",
        }
    }
}

/// "runs on the host in Elastic Defend 8.4.0 or later · Windows, macOS" for a rule that runs on
/// the host; empty for the rest.
fn runs_on(d: &DetectionJson) -> String {
    if d.rule_type != Some(RuleType::Endpoint) {
        return String::new();
    }
    let mut line = format!("runs on the host in {}", d.product);
    if let Some(version) = &d.min_agent_version {
        line.push_str(&format!(" {version} or later"));
    }
    if !d.platforms.is_empty() {
        line.push_str(&format!(" · {}", d.platforms.join(", ")));
    }
    line
}

impl Card {
    /// Tagged with so many techniques that it detects none in particular.
    pub fn broad(&self) -> bool {
        self.chips.len() > BROAD_TECHNIQUES
    }

    pub fn first_chips(&self) -> &[Chip] {
        &self.chips[..self.chips.len().min(CHIPS_SHOWN)]
    }

    /// The chips past the first [`CHIPS_SHOWN`], behind a "+ N more" control.
    pub fn more_chips(&self) -> &[Chip] {
        &self.chips[self.chips.len().min(CHIPS_SHOWN)..]
    }
}

fn chips(d: &DetectionJson) -> Vec<Chip> {
    d.techniques
        .iter()
        .map(|m| Chip {
            id: m.id.to_string(),
            href: technique_url(m.id),
            name: m.name.clone().unwrap_or_default(),
            note: match (m.status, m.tagged_id, m.mapped_by, m.via) {
                (MappingStatus::Revoked, Some(old), _, _) => format!("tagged {old}, revoked"),
                (MappingStatus::Deprecated, _, _, _) => "deprecated in ATT&CK".into(),
                (MappingStatus::Unknown, _, _, _) => "not in ATT&CK".into(),
                (_, _, MappedBy::Ruledex, _) => "mapped by ruledex".into(),
                (_, _, _, Some(MappingVia::Reference)) => MappingVia::Reference.label().into(),
                _ => String::new(),
            },
        })
        .collect()
}

pub fn short_commit(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// The rule's own file name (the last part of its `path`), restricted to characters safe in a
/// header.
pub fn download_name(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or("rule.txt");
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if safe.is_empty() { "rule.txt".into() } else { safe }
}

/// One group of filter checkboxes (vendor, language, ...).
pub struct FacetGroup {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<FacetOption>,
}

impl FacetGroup {
    /// Options shown at once; the rest of a long group (data sources) is one click away.
    pub const SHOWN_AT_ONCE: usize = 12;

    pub fn first_options(&self) -> &[FacetOption] {
        &self.options[..self.options.len().min(FacetGroup::SHOWN_AT_ONCE)]
    }

    pub fn more_options(&self) -> &[FacetOption] {
        &self.options[self.options.len().min(FacetGroup::SHOWN_AT_ONCE)..]
    }
}

pub struct FacetOption {
    pub value: String,
    pub label: String,
    pub count: usize,
    pub checked: bool,
}

impl FacetOption {
    /// Choosing it would show nothing.
    pub fn empty(&self) -> bool {
        self.count == 0
    }
}

/// The filter controls for a list. Each option shows its count from `shown` (what choosing it
/// would show; the service leaves out values not worth offering); options keep the order of
/// `order` (counts over the whole list), so they keep their places as filters change;
/// severities go by level. Vendors of `community_vendors` get a heading of their own.
pub fn facet_groups(
    shown: &FacetsJson,
    order: &FacetsJson,
    filters: &Filters,
    community_vendors: &BTreeSet<String>,
) -> Vec<FacetGroup> {
    type Values = BTreeMap<String, usize>;
    let filter = &filters.asked;
    let options = |pick: fn(&FacetsJson) -> &Values,
                   keep: &dyn Fn(&str) -> bool,
                   checked: &dyn Fn(&str) -> bool,
                   relabel: fn(&str) -> String| {
        let mut options: Vec<(usize, FacetOption)> = pick(shown)
            .iter()
            .filter(|(value, _)| keep(value))
            .map(|(value, count)| {
                let rank = pick(order).get(value).copied().unwrap_or(0);
                (
                    rank,
                    FacetOption { value: value.clone(), label: relabel(value), count: *count, checked: checked(value) },
                )
            })
            .collect();
        options.sort_by(|(a_rank, a), (b_rank, b)| b_rank.cmp(a_rank).then(a.label.cmp(&b.label)));
        options.into_iter().map(|(_, o)| o).collect::<Vec<FacetOption>>()
    };
    let any = |_: &str| true;
    let community = |v: &str| community_vendors.contains(v);
    let named = |wanted: &[String], v: &str| wanted.iter().any(|x| x.eq_ignore_ascii_case(v));
    let vendors = |v: &str| named(&filter.vendors, v);
    let mut severities =
        options(|c| &c.severities, &any, &|v| filter.severities.iter().any(|s| s.as_str() == v), str::to_string);
    severities.sort_by_key(|o| std::cmp::Reverse(o.value.parse::<Severity>().ok()));
    vec![
        FacetGroup {
            name: "vendor",
            label: "Vendor",
            options: options(|c| &c.vendors, &|v| !community(v), &vendors, str::to_string),
        },
        FacetGroup {
            name: "vendor",
            label: "Community",
            options: options(|c| &c.vendors, &community, &vendors, str::to_string),
        },
        FacetGroup {
            name: "language",
            label: "Language",
            options: options(
                |c| &c.languages,
                &any,
                &|v| filter.languages.iter().any(|l| l.as_str() == v),
                |v| v.parse::<Language>().map_or_else(|_| v.to_string(), |l| l.label().to_string()),
            ),
        },
        FacetGroup { name: "severity", label: "Severity", options: severities },
        FacetGroup {
            name: "type",
            label: "Type",
            options: options(
                |c| &c.rule_types,
                &any,
                &|v| filter.rule_types.iter().any(|t| t.as_str() == v),
                |v| v.parse::<RuleType>().map_or_else(|_| v.to_string(), |t| t.label().to_string()),
            ),
        },
        FacetGroup {
            name: "status",
            label: "Status",
            // Deprecated detections have a switch of their own.
            options: options(
                |c| &c.statuses,
                &|v| v != "deprecated",
                &|v| filter.statuses.iter().any(|s| s.as_str() == v),
                str::to_string,
            ),
        },
        FacetGroup {
            name: "data_source",
            label: "Data source",
            options: options(|c| &c.data_sources, &any, &|v| named(&filter.data_sources, v), readable),
        },
    ]
}

/// A data source as people read it: `process_creation` as "process creation"; names vendors
/// wrote for people stay as they are.
fn readable(value: &str) -> String {
    if value.contains(' ') || !value.contains('_') { value.to_string() } else { value.replace('_', " ") }
}

/// Characters of a description a card shows before "more".
const LEAD_CHARS: usize = 280;

/// Paragraphs of a rule's text, hard wraps undone: vendors wrap lines at 80 or 100 columns
/// (Elastic's TOML), and a card reflows them. List items and blank lines stay breaks.
pub fn reflow(text: &str) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        let starts_item =
            line.starts_with(['-', '*', '•']) || line.split_once(". ").is_some_and(|(n, _)| n.parse::<u32>().is_ok());
        if line.is_empty() || starts_item {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            if line.is_empty() {
                continue;
            }
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// A card's description: its opening (whole sentences, up to [`LEAD_CHARS`]) and the rest, so
/// a card never shows half a line behind its chips.
pub fn split_description(text: &str) -> (String, Vec<String>) {
    let mut paragraphs = reflow(text);
    if paragraphs.is_empty() {
        return (String::new(), vec![]);
    }
    let first = paragraphs.remove(0);
    if first.chars().count() <= LEAD_CHARS {
        return (first, paragraphs);
    }
    let limit = first.char_indices().nth(LEAD_CHARS).map_or(first.len(), |(i, _)| i);
    let cut = first[..limit]
        .rfind(". ")
        .map(|i| i + 1)
        .filter(|i| *i > LEAD_CHARS / 3)
        .unwrap_or_else(|| first[..limit].rfind(' ').unwrap_or(limit));
    let (lead, tail) = first.split_at(cut);
    let lead =
        if cut == limit || !first[..cut].ends_with('.') { format!("{}…", lead.trim_end()) } else { lead.to_string() };
    paragraphs.insert(0, tail.trim().to_string());
    (lead, paragraphs)
}

/// ATT&CK descriptions are Markdown with citations; pages show them as plain paragraphs.
pub fn attack_paragraphs(description: &str) -> Vec<String> {
    ruledex_core::markdown::to_plain(description)
}

/// "Virtualization/Sandbox Evasion" as "Virtualization/" and "Sandbox Evasion": a narrow matrix
/// cell may break the line after a slash, never inside a word.
pub(super) fn breakable_parts(name: &str) -> Vec<String> {
    name.split_inclusive('/').map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_reflowed_and_cut_at_sentences() {
        let elastic = "Identifies the use of a proxy tool to\nforward traffic through the\nTor network.\n\nSee also:\n- one\n- two";
        assert_eq!(
            reflow(elastic),
            vec![
                "Identifies the use of a proxy tool to forward traffic through the Tor network.",
                "See also:",
                "- one",
                "- two"
            ]
        );
        let long = format!("{} Second sentence here. {}", "First sentence is long enough.".repeat(8), "x ".repeat(100));
        let (lead, more) = split_description(&long);
        assert!(lead.ends_with('.') && lead.chars().count() <= LEAD_CHARS, "{lead}");
        assert!(lead.ends_with("Second sentence here."), "{lead}");
        assert!(more[0].starts_with("x x"), "the rest moves under \"more\": {more:?}");
        assert_eq!(split_description("Short."), ("Short.".to_string(), vec![]));
    }

    #[test]
    fn query_strings_change_one_parameter() {
        assert_eq!(with_param("q=tor&offset=20&limit=20", "offset", "40"), "q=tor&limit=20&offset=40");
        assert_eq!(with_param("", "offset", "0"), "offset=0");
        assert_eq!(with_param("vendor=Splunk&page=2", "page", ""), "vendor=Splunk");
    }
}
