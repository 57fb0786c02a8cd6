//! `coverage` (detections per technique), `stack_coverage` (a stack's coverage of a matrix, with
//! its Navigator layer when asked) and `group` (a group, campaign or software and its
//! techniques).

use std::fmt::Write as _;

use ruledex_app::Catalog;
use ruledex_app::coverage::{CoverageRequest, ObjectRequest};
use ruledex_app::request::{Arguments, Filters, vocabulary};
use ruledex_app::wire::{AttackObjectPageJson, CoverageJson, CoverageStatus, StackCoverageJson};

use super::{Answer, Definition, ToolError, answer, tool};
use crate::text;

pub const COVERAGE: Definition = Definition {
    name: "coverage",
    read_only: true,
    operation: &vocabulary::MATRIX,
    tool: || {
        tool::<CoverageJson>(
            "coverage",
            &vocabulary::MATRIX,
            "ATT&CK coverage",
            "Which ATT&CK techniques the catalog's detections cover, and how many detections each has (tagged \
             with the technique itself, and with its sub-techniques rolled up), with the tactics in matrix order: \
             the home page's matrix as data. Use it for coverage questions across the whole matrix or a vendor \
             (\"which techniques does Elastic cover\", \"where is Command and Control thin\"); use `technique` \
             for one technique's detections. Vendor-native content unless `community` or sources/vendors say \
             otherwise; detections only ruledex's mapping lists are counted apart unless `inferred`. \
             Example: {\"vendors\": [\"Google SecOps\"]}.",
        )
    },
    run: coverage,
};

pub const STACK_COVERAGE: Definition = Definition {
    name: "stack_coverage",
    read_only: true,
    operation: &vocabulary::STACK_COVERAGE_LAYER,
    tool: || {
        tool::<StackCoverageJson>(
            "stack_coverage",
            &vocabulary::STACK_COVERAGE_LAYER,
            "Coverage for a stack",
            "For every current technique and sub-technique of an ATT&CK matrix: whether the sources the user \
             runs (`have`) cover it, only other vendors' native content does (`elsewhere`), only community \
             content (`community-only`), or nothing (`none`), with detections per source. Use it for \"what do \
             we cover with Splunk and Sentinel\", \"where are our gaps in Command and Control\". Revoked and \
             deprecated techniques are never gaps. With `layer`, the answer also carries an ATT&CK Navigator layer \
             of the coverage as an embedded JSON resource. Example: {\"have\": [\"splunk\", \"sentinel\"], \
             \"tactics\": [\"command-and-control\"]}.",
        )
    },
    run: stack_coverage,
};

pub const GROUP: Definition = Definition {
    name: "group",
    read_only: true,
    operation: &vocabulary::ANY_ATTACK_OBJECT,
    tool: || {
        tool::<AttackObjectPageJson>(
            "group",
            &vocabulary::ANY_ATTACK_OBJECT,
            "Threat group, campaign or software",
            "An ATT&CK group (intrusion set), campaign or software, found by ID, name or alias, with every \
             technique it is known to use and the detections for each per source; with `have`, whether the \
             user's sources cover each. Use it for \"are we covered against APT29\". Unknown names get the \
             closest names. Example: {\"name\": \"APT29\", \"have\": [\"splunk\"]}.",
        )
    },
    run: group,
};

fn coverage(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let mut json = catalog.coverage(&Filters::from_arguments(args))?;
    for tactic in &mut json.tactics {
        text::cut(&mut tactic.description, 200, "see the tactic's ATT&CK page");
    }
    let mut summary = format!("{} techniques have detections passing the filter.\n", json.techniques.len());
    for tactic in &json.tactics {
        let covered: Vec<_> = json.techniques.iter().filter(|t| t.tactics.contains(&tactic.id)).collect();
        if covered.is_empty() {
            continue;
        }
        let mut top = covered.clone();
        top.sort_by(|a, b| b.detections.cmp(&a.detections).then(a.id.cmp(&b.id)));
        let names: Vec<String> =
            top.iter().take(5).map(|t| format!("{} {} ({})", t.id, t.name, t.detections)).collect();
        let _ = writeln!(
            summary,
            "- {} {} ({}): {} techniques; most detections: {}",
            tactic.id,
            tactic.name,
            tactic.domain.label(),
            covered.len(),
            names.join(", ")
        );
    }
    answer(&json, summary)
}

fn stack_coverage(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let request = CoverageRequest::from_arguments(args);
    let mut json = catalog.stack_coverage(&request)?;
    // The layer of the whole answer, made before the answer's texts are cut. An MCP client
    // has no ruledex pages to open: the layer links nowhere.
    let layer = args.flag(vocabulary::LAYER).then(|| catalog.coverage_layer(&json, &request, None)).transpose()?;
    for tactic in &mut json.tactics {
        text::cut(&mut tactic.tactic.description, 200, "see the tactic's ATT&CK page");
    }
    let s = &json.summary;
    let mut summary = format!(
        "{} covered, {} elsewhere, {} community-only, {} none (techniques and sub-techniques).\n",
        s.covered, s.elsewhere, s.community_only, s.none
    );
    let gaps: Vec<String> = json
        .techniques
        .iter()
        .filter(|t| t.status == CoverageStatus::Elsewhere)
        .take(20)
        .map(|t| format!("{} {} ({})", t.id, t.name, t.counts.keys().cloned().collect::<Vec<_>>().join(", ")))
        .collect();
    let _ = writeln!(summary, "Gaps other vendors cover (first 20): {}", gaps.join("; "));
    let mut answer = answer(&json, summary)?;
    if let Some(layer) = layer {
        super::export::within_limit(&layer.files, "the layer", "name some `tactics` for a smaller one")?;
        for file in &layer.files {
            let _ = writeln!(
                answer.summary,
                "ATT&CK Navigator layer attached: {} ({} bytes).",
                file.path,
                file.bytes.len()
            );
        }
        answer.files = layer.files;
    }
    Ok(answer)
}

fn group(catalog: &Catalog, args: &Arguments) -> Result<Answer, ToolError> {
    let request = ObjectRequest::from_arguments(args);
    let mut json = catalog.attack_object_page(ObjectRequest::kind(args), &request)?;
    text::cut(&mut json.description, 600, "see its ATT&CK page");
    for technique in &mut json.techniques {
        text::cut(&mut technique.usage, 200, "see its ATT&CK page");
    }
    let object = json.group.as_ref().or(json.campaign.as_ref()).or(json.software.as_ref());
    let mut summary = object.map(|o| format!("{} {}: ", o.id, o.name)).unwrap_or_default();
    let _ = write!(summary, "{} techniques", json.techniques.len());
    if let Some(s) = &json.summary {
        let _ = write!(
            summary,
            "; {} covered, {} elsewhere, {} community-only, {} none",
            s.covered, s.elsewhere, s.community_only, s.none
        );
    }
    summary.push('\n');
    for t in &json.techniques {
        let status = t.status.map(|s| format!(" [{}]", s.as_str())).unwrap_or_default();
        let _ = writeln!(summary, "- {} {}: {} detections{status}", t.id, t.name, t.detections);
    }
    answer(&json, summary)
}
