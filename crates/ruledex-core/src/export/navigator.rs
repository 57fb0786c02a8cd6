//! ATT&CK Navigator layers (layer format 4.5), of two kinds sharing one frame: a selection's
//! techniques scored by how many of its detections cover them, each naming those detections
//! ([`navigator_layer`]), and techniques each drawn in a colour its caller chose, such as a
//! coverage status ([`marked_layer`]). Both link back to ruledex's pages, open in MITRE's ATT&CK
//! Navigator and load in MITRE's `mitreattack-python`.
//!
//! Building a layer queries nothing: the caller hands over the techniques with their detections
//! ([`techniques_of`] groups detections that way), or with their colours, and the options.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::attack::Domain;
use crate::ids::TechniqueId;
use crate::model::{Detection, MappingStatus, TechniqueMapping};
use crate::url::encode_component;

/// The layer format version written, and the Navigator version it was checked against.
pub const LAYER_FORMAT: &str = "4.5";
pub const NAVIGATOR_VERSION: &str = "5.1.0";

/// One detection as a layer names it: its address (`SOURCE/ID`), title and vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerDetection<'a> {
    pub source: &'a str,
    pub id: &'a str,
    pub title: &'a str,
    pub vendor: &'a str,
}

impl LayerDetection<'_> {
    fn address(&self) -> String {
        format!("{}/{}", self.source, self.id)
    }

    /// `BASE/detections/SOURCE/ID`, each part encoded: rule IDs are untrusted text.
    fn url(&self, base: &str) -> String {
        format!("{base}/detections/{}/{}", encode_component(self.source), encode_component(self.id))
    }
}

/// A technique of the selection and the detections listed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTechnique<'a> {
    pub id: TechniqueId,
    /// The tactic (its ATT&CK shortname, such as `privilege-escalation`) the score is meant for,
    /// when the technique sits under several and only one is meant; `None` scores it under all.
    pub tactic: Option<&'a str>,
    pub detections: Vec<LayerDetection<'a>>,
}

/// A technique drawn in a colour its caller chose (a coverage status, say) rather than by how
/// many detections it has.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedTechnique<'a> {
    pub id: TechniqueId,
    /// As [`LayerTechnique::tactic`].
    pub tactic: Option<&'a str>,
    pub score: usize,
    /// `#rrggbb`: Navigator shows it instead of the score's gradient colour.
    pub color: &'a str,
    pub comment: String,
    pub metadata: Vec<Metadata>,
}

/// What a layer says about itself.
#[derive(Debug, Clone, Copy)]
pub struct LayerOptions<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// The matrix the techniques belong to.
    pub domain: Domain,
    /// The ATT&CK release the catalog was built from ("18.1"), when known.
    pub attack_release: Option<&'a str>,
    /// Where ruledex is served (`https://ruledex.example.org`): techniques link to their pages
    /// there. Without it the layer has no links.
    pub base_url: Option<&'a str>,
}

/// A Navigator layer, serialized with the format's own field names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    pub name: String,
    pub versions: Versions,
    pub domain: &'static str,
    pub description: String,
    /// 3: techniques sorted by descending score.
    pub sorting: u8,
    pub layout: Layout,
    pub hide_disabled: bool,
    pub techniques: Vec<LayerTechniqueEntry>,
    pub gradient: Gradient,
    pub legend_items: Vec<LegendItem>,
    pub metadata: Vec<Metadata>,
    pub links: Vec<Link>,
    pub show_tactic_row_background: bool,
    pub tactic_row_background: &'static str,
    pub select_techniques_across_tactics: bool,
    pub select_subtechniques_with_parent: bool,
    pub select_visible_techniques: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versions {
    /// The ATT&CK major release: Navigator keeps one data set per major release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<String>,
    pub navigator: &'static str,
    pub layer: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    pub layout: &'static str,
    pub aggregate_function: &'static str,
    #[serde(rename = "showID")]
    pub show_id: bool,
    pub show_name: bool,
    pub show_aggregate_scores: bool,
    pub count_unscored: bool,
    /// `annotated`: sub-techniques with a score are shown expanded.
    pub expanded_subtechniques: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerTechniqueEntry {
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tactic: Option<String>,
    /// The number of detections listed under the technique (a marked technique's own score).
    pub score: usize,
    /// A marked technique's colour; the others take the gradient's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// "3 detections: Elastic 2, Splunk 1".
    pub comment: String,
    pub enabled: bool,
    /// One entry per detection: its vendor, and its title and address (a marked technique's
    /// own).
    pub metadata: Vec<Metadata>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    pub colors: Vec<String>,
    pub min_value: usize,
    pub max_value: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendItem {
    pub label: String,
    pub color: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// Builds the layer of `techniques`, in technique ID order, coloured by score on a gradient
/// whose legend names the detections a colour stands for.
pub fn navigator_layer(techniques: &[LayerTechnique<'_>], options: &LayerOptions<'_>) -> Layer {
    let mut sorted: Vec<&LayerTechnique<'_>> = techniques.iter().collect();
    sorted.sort_by_key(|t| (t.id, t.tactic));
    let base_url = trimmed(options.base_url);
    let entries = sorted.iter().map(|t| technique_entry(t, base_url)).collect();
    framed(entries, Legend::Scores, "annotated", options)
}

/// Builds the layer of techniques in their own colours, in technique ID order, with `legend`
/// naming what each colour means. Sub-techniques start folded: every technique is marked, so
/// unfolding the marked ones (as [`navigator_layer`] does) would unfold the whole matrix.
pub fn marked_layer(techniques: &[MarkedTechnique<'_>], legend: Vec<LegendItem>, options: &LayerOptions<'_>) -> Layer {
    let mut sorted: Vec<&MarkedTechnique<'_>> = techniques.iter().collect();
    sorted.sort_by_key(|t| (t.id, t.tactic));
    let base_url = trimmed(options.base_url);
    let entries = sorted.iter().map(|t| marked_entry(t, base_url)).collect();
    framed(entries, Legend::Given(legend), "none", options)
}

/// What a layer's legend lists.
enum Legend {
    /// Points of the score gradient.
    Scores,
    Given(Vec<LegendItem>),
}

/// The layer around `entries`: its versions, layout, gradient (from the entries' scores) and
/// legend. `expanded` is Navigator's `expandedSubtechniques`.
fn framed(
    entries: Vec<LayerTechniqueEntry>,
    legend: Legend,
    expanded: &'static str,
    options: &LayerOptions<'_>,
) -> Layer {
    let scores: Vec<usize> = entries.iter().map(|e| e.score).collect();
    let scale = ScoreScale::new(&scores);
    let base_url = trimmed(options.base_url);
    Layer {
        name: options.name.to_string(),
        versions: Versions {
            attack: options.attack_release.map(|release| release.split('.').next().unwrap_or(release).to_string()),
            navigator: NAVIGATOR_VERSION,
            layer: LAYER_FORMAT,
        },
        domain: options.domain.attack_name(),
        description: options.description.to_string(),
        sorting: 3,
        layout: Layout {
            layout: "side",
            aggregate_function: "average",
            show_id: true,
            show_name: true,
            show_aggregate_scores: false,
            count_unscored: false,
            expanded_subtechniques: expanded,
        },
        hide_disabled: false,
        techniques: entries,
        gradient: Gradient { colors: scale.gradient_colors(), min_value: 0, max_value: scale.cap },
        legend_items: match legend {
            Legend::Scores => scale.legend(),
            Legend::Given(items) => items,
        },
        metadata: vec![Metadata { name: "generated by".into(), value: "ruledex".into() }],
        links: base_url.map(|url| vec![Link { label: "ruledex".into(), url: url.to_string() }]).unwrap_or_default(),
        show_tactic_row_background: false,
        tactic_row_background: "#dddddd",
        select_techniques_across_tactics: true,
        select_subtechniques_with_parent: false,
        select_visible_techniques: false,
    }
}

/// The base URL without the trailing `/` the paths appended to it start with.
fn trimmed(base_url: Option<&str>) -> Option<&str> {
    base_url.map(|url| url.trim_end_matches('/'))
}

/// Detections grouped under each technique they are listed under. Techniques the loaded ATT&CK
/// does not know are left out, and deprecated ones (T1108): no Navigator matrix shows them.
pub fn techniques_of<'a>(detections: impl IntoIterator<Item = &'a Detection>) -> Vec<LayerTechnique<'a>> {
    let mut by_technique: BTreeMap<TechniqueId, Vec<LayerDetection<'a>>> = BTreeMap::new();
    for detection in detections {
        let named = LayerDetection {
            source: &detection.source,
            id: &detection.id,
            title: &detection.rule.title,
            vendor: &detection.rule.vendor,
        };
        let in_matrix = |m: &&TechniqueMapping| !matches!(m.status, MappingStatus::Unknown | MappingStatus::Deprecated);
        for mapping in detection.techniques.iter().filter(in_matrix) {
            by_technique.entry(mapping.id).or_default().push(named);
        }
    }
    by_technique.into_iter().map(|(id, detections)| LayerTechnique { id, tactic: None, detections }).collect()
}

fn technique_entry(technique: &LayerTechnique<'_>, base_url: Option<&str>) -> LayerTechniqueEntry {
    let detections = &technique.detections;
    let mut by_vendor: BTreeMap<&str, usize> = BTreeMap::new();
    for detection in detections {
        *by_vendor.entry(detection.vendor).or_default() += 1;
    }
    let vendors: Vec<String> = by_vendor.iter().map(|(vendor, n)| format!("{vendor} {n}")).collect();
    let count = match detections.len() {
        1 => "1 detection".to_string(),
        n => format!("{n} detections"),
    };
    let mut links = Vec::new();
    if let Some(base) = base_url {
        let label = format!("{} on ruledex ({count})", technique.id);
        links.push(Link { label, url: technique_url(base, technique.id) });
        links.extend(detections.iter().map(|d| Link { label: d.title.to_string(), url: d.url(base) }));
    }
    LayerTechniqueEntry {
        technique_id: technique.id.to_string(),
        tactic: technique.tactic.map(String::from),
        score: detections.len(),
        color: None,
        comment: format!("{count}: {}", vendors.join(", ")),
        enabled: true,
        metadata: detections
            .iter()
            .map(|d| Metadata { name: d.vendor.to_string(), value: format!("{} ({})", d.title, d.address()) })
            .collect(),
        links,
    }
}

fn marked_entry(technique: &MarkedTechnique<'_>, base_url: Option<&str>) -> LayerTechniqueEntry {
    LayerTechniqueEntry {
        technique_id: technique.id.to_string(),
        tactic: technique.tactic.map(String::from),
        score: technique.score,
        color: Some(technique.color.to_string()),
        comment: technique.comment.clone(),
        enabled: true,
        metadata: technique.metadata.clone(),
        links: base_url
            .map(|base| {
                vec![Link { label: format!("{} on ruledex", technique.id), url: technique_url(base, technique.id) }]
            })
            .unwrap_or_default(),
    }
}

fn technique_url(base: &str, id: TechniqueId) -> String {
    format!("{base}/techniques/{id}")
}

/// How scores map to colours. Navigator spreads a gradient's colours evenly between its minimum
/// and maximum; most techniques have a handful of detections and a few have hundreds, so the
/// maximum is capped at the 95th percentile (the few above it take the darkest colour) and the
/// colours are placed on a logarithmic scale, so 1, 2 and 5 detections read apart.
struct ScoreScale {
    cap: usize,
}

/// Light to dark green (ColorBrewer "Greens").
const PALETTE: [(u8, u8, u8); 4] = [(0xe5, 0xf5, 0xe0), (0xa1, 0xd9, 0x9b), (0x31, 0xa3, 0x54), (0x00, 0x5a, 0x32)];

impl ScoreScale {
    fn new(scores: &[usize]) -> ScoreScale {
        let mut sorted = scores.to_vec();
        sorted.sort_unstable();
        let p95 = sorted.get((sorted.len() * 95).div_ceil(100).saturating_sub(1)).copied().unwrap_or(0);
        ScoreScale { cap: p95.max(2) }
    }

    /// Colours at evenly spaced scores from 0 to the cap: one per score up to 10, else 11.
    fn gradient_colors(&self) -> Vec<String> {
        let steps = self.cap.min(10);
        (0..=steps).map(|i| self.color(i as f64 * self.cap as f64 / steps as f64)).collect()
    }

    fn legend(&self) -> Vec<LegendItem> {
        let middle = ((self.cap as f64).sqrt().round() as usize).clamp(2, self.cap);
        let mut points = vec![(1, "1 detection".to_string())];
        if middle < self.cap {
            points.push((middle, format!("{middle} detections")));
        }
        points.push((self.cap, format!("{} or more detections", self.cap)));
        points.into_iter().map(|(score, label)| LegendItem { label, color: self.color(score as f64) }).collect()
    }

    /// The colour of a score: its place between 0 and the cap on a log scale, along the palette.
    fn color(&self, score: f64) -> String {
        let position = ((1.0 + score).ln() / (1.0 + self.cap as f64).ln()).clamp(0.0, 1.0);
        let scaled = position * (PALETTE.len() - 1) as f64;
        let segment = (scaled.floor() as usize).min(PALETTE.len() - 2);
        let within = scaled - segment as f64;
        let (from, to) = (PALETTE[segment], PALETTE[segment + 1]);
        let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * within).round() as u8;
        format!("#{:02x}{:02x}{:02x}", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection<'a>(source: &'a str, id: &'a str, vendor: &'a str) -> LayerDetection<'a> {
        LayerDetection { source, id, title: "A rule", vendor }
    }

    fn options(base_url: Option<&str>) -> LayerOptions<'_> {
        LayerOptions {
            name: "T1090",
            description: "Detections for T1090",
            domain: Domain::Enterprise,
            attack_release: Some("18.1"),
            base_url,
        }
    }

    #[test]
    fn techniques_are_scored_by_their_detections_named_and_linked() {
        let techniques = [
            LayerTechnique {
                id: "T1090.003".parse().unwrap(),
                tactic: None,
                detections: vec![detection("chronicle", "tor", "Google SecOps")],
            },
            LayerTechnique {
                id: "T1090".parse().unwrap(),
                tactic: Some("command-and-control"),
                detections: vec![
                    detection("splunk", "netsh", "Splunk"),
                    detection("elastic", "a/b c", "Elastic"),
                    detection("splunk", "other", "Splunk"),
                ],
            },
        ];
        let layer = navigator_layer(&techniques, &options(Some("https://ruledex.example.org/")));
        assert_eq!(layer.versions, Versions { attack: Some("18".into()), navigator: "5.1.0", layer: "4.5" });
        let proxy = &layer.techniques[0];
        assert_eq!((proxy.technique_id.as_str(), proxy.tactic.as_deref()), ("T1090", Some("command-and-control")));
        assert_eq!(proxy.score, 3);
        assert_eq!(proxy.comment, "3 detections: Elastic 1, Splunk 2");
        assert_eq!(proxy.metadata[1], Metadata { name: "Elastic".into(), value: "A rule (elastic/a/b c)".into() });
        assert_eq!(proxy.links[0].url, "https://ruledex.example.org/techniques/T1090");
        assert_eq!(proxy.links[0].label, "T1090 on ruledex (3 detections)");
        assert_eq!(proxy.links[2].url, "https://ruledex.example.org/detections/elastic/a%2Fb%20c");
        assert_eq!(layer.techniques[1].comment, "1 detection: Google SecOps 1");
        assert_eq!(layer.links, vec![Link { label: "ruledex".into(), url: "https://ruledex.example.org".into() }]);

        let json = serde_json::to_value(&layer).unwrap();
        assert_eq!(json["techniques"][0]["techniqueID"], "T1090");
        assert_eq!(json["layout"]["showID"], true);
        assert_eq!(json["domain"], "enterprise-attack");
        for key in ["legendItems", "showTacticRowBackground", "selectTechniquesAcrossTactics", "hideDisabled"] {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert!(json["techniques"][1].get("tactic").is_none(), "no tactic: every tactic of the technique");
    }

    #[test]
    fn without_a_base_url_or_release_the_layer_links_nowhere_and_names_no_release() {
        let techniques =
            [LayerTechnique { id: "T0855".parse().unwrap(), tactic: None, detections: vec![detection("s", "i", "V")] }];
        let layer =
            navigator_layer(&techniques, &LayerOptions { domain: Domain::Ics, attack_release: None, ..options(None) });
        assert!(layer.links.is_empty() && layer.techniques[0].links.is_empty());
        assert_eq!(layer.domain, "ics-attack");
        assert!(serde_json::to_value(&layer).unwrap()["versions"].get("attack").is_none());
    }

    #[test]
    fn marked_techniques_keep_their_colours_and_the_legend_given() {
        let marked = |id: &str, score, color| MarkedTechnique {
            id: id.parse().unwrap(),
            tactic: None,
            score,
            color,
            comment: format!("{score} of ours"),
            metadata: vec![Metadata { name: "status".into(), value: color.into() }],
        };
        let techniques = [marked("T1090.003", 0, "#eeeeee"), marked("T1090", 4, "#c7e9c0")];
        let legend = vec![LegendItem { label: "covered by splunk".into(), color: "#c7e9c0".into() }];
        let layer = marked_layer(&techniques, legend.clone(), &options(Some("https://ruledex.example.org")));
        let proxy = &layer.techniques[0];
        assert_eq!((proxy.technique_id.as_str(), proxy.color.as_deref(), proxy.score), ("T1090", Some("#c7e9c0"), 4));
        assert_eq!(proxy.comment, "4 of ours");
        assert_eq!(
            proxy.links,
            vec![Link { label: "T1090 on ruledex".into(), url: "https://ruledex.example.org/techniques/T1090".into() }]
        );
        assert_eq!(layer.techniques[1].color.as_deref(), Some("#eeeeee"));
        assert_eq!(layer.legend_items, legend);
        assert_eq!(layer.layout.expanded_subtechniques, "none", "every technique is marked: start folded");
        let json = serde_json::to_value(&layer).unwrap();
        assert_eq!(json["techniques"][0]["color"], "#c7e9c0");
        let scored =
            [LayerTechnique { id: "T1090".parse().unwrap(), tactic: None, detections: vec![detection("s", "i", "V")] }];
        let json = serde_json::to_value(navigator_layer(&scored, &options(None))).unwrap();
        assert!(json["techniques"][0].get("color").is_none(), "scored techniques take the gradient's colour");
    }

    /// The red, green and blue of a `#rrggbb` colour, summed: lower is darker.
    fn lightness(color: &str) -> u32 {
        (0..3).map(|i| u32::from_str_radix(&color[1 + 2 * i..3 + 2 * i], 16).unwrap()).sum()
    }

    #[test]
    fn the_gradient_is_capped_at_the_95th_percentile_and_darkens_on_a_log_scale() {
        let mut scores = vec![1; 90];
        scores.extend([2, 3, 5, 8, 13, 20, 40, 80, 300, 500]);
        let scale = ScoreScale::new(&scores);
        assert_eq!(scale.cap, 13, "the 95th of 100 scores");
        let colors = scale.gradient_colors();
        assert_eq!(colors.len(), 11);
        assert!(colors.windows(2).all(|pair| lightness(&pair[0]) > lightness(&pair[1])), "{colors:?}");
        assert_eq!(colors[0], "#e5f5e0");
        assert_eq!(colors[10], "#005a32");
        // On a log scale one detection is a quarter of the way, not a thirteenth.
        let one = lightness(&scale.color(1.0));
        let (lightest, darkest) = (lightness(&colors[0]), lightness(&colors[10]));
        assert!((lightest - one) * 5 > lightest - darkest, "{one}");
        let legend: Vec<String> = scale.legend().into_iter().map(|item| item.label).collect();
        assert_eq!(legend, vec!["1 detection", "4 detections", "13 or more detections"]);
        assert_eq!(ScoreScale::new(&[1, 1, 2]).gradient_colors().len(), 3, "one colour per score below 10");
        assert_eq!(ScoreScale::new(&[]).cap, 2);
    }
}
