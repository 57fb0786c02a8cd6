//! View models: model types turned into what templates show. Templates escape every string
//! they print; the only pre-rendered HTML is highlighted code, escaped by `highlight`.

use ruledex_app::links::{detection as detection_url, technique as technique_url};
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::{Detection, Language, MappedBy, MappingStatus, RuleType, SourceKind};
use ruledex_core::query::{FacetCounts, Filter};

use crate::highlight::highlight;

/// A detection as a card in a list.
pub struct Card {
    pub anchor: String,
    pub url: String,
    pub raw_url: String,
    pub download_name: String,
    pub address: String,
    pub title: String,
    pub description: String,
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
    pub query_html: String,
    pub path: String,
    pub commit_short: String,
    pub upstream_url: String,
    pub license: String,
    /// Hidden by the filters in the URL (scripts may reveal it without a reload).
    pub hidden: bool,
    /// "new" or "updated" when it changed upstream recently; empty otherwise.
    pub change_badge: &'static str,
}

/// A technique a detection maps to, as a link.
pub struct Chip {
    pub id: String,
    pub href: String,
    pub name: String,
    /// "revoked: tagged T1086", "unknown to ATT&CK", "mapped by ruledex".
    pub note: String,
}

impl Card {
    pub fn new(index: usize, d: &Detection, page_technique: Option<TechniqueId>, filter: &Filter) -> Card {
        let r = &d.rule;
        let language = r.language;
        Card {
            anchor: format!("d{index}"),
            url: detection_url(&d.source, &d.id),
            raw_url: format!("{}/raw", detection_url(&d.source, &d.id)),
            download_name: download_name(d),
            address: d.address(),
            title: r.title.clone(),
            description: r.description.clone(),
            vendor: r.vendor.clone(),
            language: language.map(|l| l.label()).unwrap_or("query").to_string(),
            language_key: language.map(|l| l.as_str()).unwrap_or_default().to_string(),
            severity_key: r.severity.map(|s| s.as_str()).unwrap_or_default().to_string(),
            severity: r.severity.map(|s| s.label()).unwrap_or_default().to_string(),
            rule_type_key: r.rule_type.map(|t| t.as_str()).unwrap_or_default().to_string(),
            rule_type: r.rule_type.map(|t| t.label()).unwrap_or_default().to_string(),
            status_key: r.status.map(|s| s.as_str()).unwrap_or_default().to_string(),
            kind_key: d.source_kind.as_str().to_string(),
            community: d.source_kind == SourceKind::Community,
            deprecated: d.deprecated,
            direct: page_technique.is_none_or(|t| d.techniques.iter().any(|m| m.id == t)),
            chips: chips(d),
            data_sources: r.data_sources.clone(),
            data_sources_key: r.data_sources.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>().join("|"),
            query_html: highlight(&r.query, language),
            path: d.provenance.path.clone(),
            commit_short: d.provenance.commit.as_deref().map(short_commit).unwrap_or_default().to_string(),
            upstream_url: d.provenance.upstream_url.clone().unwrap_or_default(),
            license: d.effective_license.clone().unwrap_or_default(),
            hidden: !filter.matches(&d.into()),
            change_badge: "",
        }
    }
}

fn chips(d: &Detection) -> Vec<Chip> {
    d.techniques
        .iter()
        .map(|m| Chip {
            id: m.id.to_string(),
            href: technique_url(m.id),
            name: m.name.clone().unwrap_or_default(),
            note: match (m.status, m.tagged_id, m.mapped_by) {
                (MappingStatus::Revoked, Some(old), _) => format!("tagged {old}, revoked"),
                (MappingStatus::Deprecated, _, _) => "deprecated in ATT&CK".into(),
                (MappingStatus::Unknown, _, _) => "not in ATT&CK".into(),
                (_, _, MappedBy::Ruledex) => "mapped by ruledex".into(),
                _ => String::new(),
            },
        })
        .collect()
}

pub fn short_commit(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// The rule's own file name, restricted to characters safe in a header.
pub fn download_name(d: &Detection) -> String {
    let name = d.rule.path.rsplit('/').next().unwrap_or("rule.txt");
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

/// The filter controls for a list. Each option shows its count from `shown`; options are ordered
/// by `order` (counts over the whole list), so they keep their places as filters change.
pub fn facet_groups(shown: &FacetCounts, order: &FacetCounts, filter: &Filter) -> Vec<FacetGroup> {
    type Values = std::collections::BTreeMap<String, usize>;
    let group = |name,
                 label,
                 pick: fn(&FacetCounts) -> &Values,
                 checked: &dyn Fn(&str) -> bool,
                 relabel: fn(&str) -> String| {
        let mut options: Vec<(usize, FacetOption)> = pick(shown)
            .iter()
            .map(|(value, count)| {
                let rank = pick(order).get(value).copied().unwrap_or(0);
                (
                    rank,
                    FacetOption { value: value.clone(), label: relabel(value), count: *count, checked: checked(value) },
                )
            })
            .collect();
        options.sort_by(|(a_rank, a), (b_rank, b)| b_rank.cmp(a_rank).then(a.label.cmp(&b.label)));
        FacetGroup { name, label, options: options.into_iter().map(|(_, o)| o).collect() }
    };
    fn named(wanted: &[String]) -> impl Fn(&str) -> bool + '_ {
        move |v| wanted.iter().any(|x| x.eq_ignore_ascii_case(v))
    }
    fn wire(wanted: Vec<&'static str>) -> impl Fn(&str) -> bool {
        move |v| wanted.contains(&v)
    }
    vec![
        group("vendor", "Vendor", |c| &c.vendors, &named(&filter.vendors), str::to_string),
        group(
            "language",
            "Language",
            |c| &c.languages,
            &wire(filter.languages.iter().map(|l| l.as_str()).collect()),
            |v| v.parse::<Language>().map_or_else(|_| v.to_string(), |l| l.label().to_string()),
        ),
        group(
            "severity",
            "Severity",
            |c| &c.severities,
            &wire(filter.severities.iter().map(|x| x.as_str()).collect()),
            str::to_string,
        ),
        group(
            "type",
            "Type",
            |c| &c.rule_types,
            &wire(filter.rule_types.iter().map(|x| x.as_str()).collect()),
            |v| v.parse::<RuleType>().map_or_else(|_| v.to_string(), |t| t.label().to_string()),
        ),
        group(
            "status",
            "Status",
            |c| &c.statuses,
            &wire(filter.statuses.iter().map(|x| x.as_str()).collect()),
            str::to_string,
        ),
        group("data_source", "Data source", |c| &c.data_sources, &named(&filter.data_sources), str::to_string),
    ]
}

/// ATT&CK descriptions are Markdown with citations; pages show them as plain paragraphs.
pub fn attack_paragraphs(description: &str) -> Vec<String> {
    description
        .split("\n\n")
        .map(|p| strip_markdown_links(&strip_citations(p)).trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn strip_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("(Citation:") {
        out.push_str(rest[..start].trim_end());
        rest = rest[start..].find(')').map_or("", |end| &rest[start + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// `[text](url)` becomes `text`.
fn strip_markdown_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|c| open + c) else { break };
        let Some(end) = rest[close..].find(')').map(|e| close + e) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_descriptions_lose_citations_and_link_markup() {
        let text = "Adversaries may use a [connection proxy](https://attack.mitre.org/x) to direct traffic.(Citation: Trend)\n\nMore (Citation: A)(Citation: B) text.";
        assert_eq!(
            attack_paragraphs(text),
            vec!["Adversaries may use a connection proxy to direct traffic.", "More text."]
        );
        assert_eq!(attack_paragraphs("[unclosed(link"), vec!["[unclosed(link"]);
    }
}
