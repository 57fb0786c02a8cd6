//! The ATT&CK Navigator layer of a stack's coverage: every technique and sub-technique of the
//! matrix (of the tactics asked for) in the colour of its status, as `/coverage` colours it.
//! The layer is drawn by `ruledex_core::export::navigator`, like every layer ruledex writes;
//! this module decides what each technique says.

use ruledex_core::export::navigator::{LayerOptions, LegendItem, MarkedTechnique, Metadata, marked_layer};

use super::{CoverageRequest, Stack};
use crate::export::{ExportFormat, Exported, file_safe, layer_file};
use crate::service::{Answer, Catalog};
use crate::wire::{CoverageStatus, StackCoverageJson, StackTechniqueJson};

/// The statuses' colours: the hues of the web catalog's (static/style.css `.st-*`), stronger,
/// as Navigator draws them on a white matrix; `none` is red there, apart from the white of the
/// techniques a layer leaves out.
fn status_color(status: CoverageStatus) -> &'static str {
    match status {
        CoverageStatus::Covered => "#74c476",
        CoverageStatus::Elsewhere => "#fec44f",
        CoverageStatus::CommunityOnly => "#9e9ac8",
        CoverageStatus::None => "#fb6a4a",
    }
}

impl Catalog {
    /// A stack's coverage as a Navigator layer (an export of one file, naming no detection),
    /// linking to the ruledex served at `base_url` when it is known.
    ///
    /// The colour says where a technique stands. The score is how many of the stack's own
    /// detections it has (its sources', and community content's when that counts), so gaps
    /// score 0: the colour already sorts techniques by status, and a count lets Navigator sort
    /// the covered by depth and compare two stacks' layers with a score expression. The comment
    /// and metadata name every source with content for the technique, the stack's or not.
    pub fn stack_layer(&self, request: &CoverageRequest, base_url: Option<&str>) -> Answer<Exported> {
        self.coverage_layer(&self.stack_coverage(request)?, request, base_url)
    }

    /// [`Catalog::stack_layer`] of a coverage already answered for `request`.
    pub fn coverage_layer(
        &self,
        coverage: &StackCoverageJson,
        request: &CoverageRequest,
        base_url: Option<&str>,
    ) -> Answer<Exported> {
        // Asked for some tactics, a technique is marked under those only, so the rest of a
        // technique sitting under several stays blank; otherwise once, under all its tactics.
        let scope: Option<Vec<_>> = (!request.tactics.is_empty())
            .then(|| coverage.tactics.iter().map(|t| (t.tactic.id, t.tactic.shortname.as_str())).collect());
        let mut techniques = Vec::new();
        for technique in &coverage.techniques {
            let marked = self.marked(technique, &request.stack);
            match &scope {
                None => techniques.push(marked),
                Some(tactics) => techniques.extend(
                    tactics
                        .iter()
                        .filter(|(id, _)| technique.tactics.contains(id))
                        .map(|(_, shortname)| MarkedTechnique { tactic: Some(shortname), ..marked.clone() }),
                ),
            }
        }
        let stack = stack_label(&request.stack);
        let (title, description) = (format!("Coverage for {stack}"), description(coverage, &stack));
        let options = LayerOptions {
            name: &title,
            description: &description,
            domain: coverage.domain,
            attack_release: self.store().attack().release(coverage.domain),
            base_url,
        };
        let mut layer = marked_layer(&techniques, legend(&stack), &options);
        layer.metadata.extend(layer_metadata(coverage, request));
        let name = match request.stack.have.as_slice() {
            [] => "ruledex-coverage".to_string(),
            have => format!("ruledex-coverage-{}", file_safe(&have.join("-"))),
        };
        let file = layer_file(&layer, &name)?;
        Ok(Exported { format: ExportFormat::Navigator, name, files: vec![file], included: vec![], skipped: vec![] })
    }

    fn marked(&self, technique: &StackTechniqueJson, stack: &Stack) -> MarkedTechnique<'static> {
        let found = match technique.status {
            CoverageStatus::None => "no detection".to_string(),
            _ => technique.found(),
        };
        let mut comment = format!("{}: {found}", technique.status.as_str());
        let mut metadata: Vec<Metadata> = technique
            .counts
            .iter()
            .map(|(source, n)| Metadata { name: source.clone(), value: n.to_string() })
            .collect();
        if !stack.inferred && !technique.inferred.is_empty() {
            let uncounted: Vec<String> = technique.inferred.iter().map(|(source, n)| format!("{source} {n}")).collect();
            comment.push_str(&format!("; mapped only by ruledex, not counted: {}", uncounted.join(", ")));
            metadata.extend(technique.inferred.iter().map(|(source, n)| Metadata {
                name: format!("{source} (mapped by ruledex, not counted)"),
                value: n.to_string(),
            }));
        }
        MarkedTechnique {
            id: technique.id,
            tactic: None,
            score: self.own_detections(&technique.counts, stack),
            color: status_color(technique.status),
            comment,
            metadata,
        }
    }
}

/// "splunk, sentinel", "splunk and community content", "no sources".
fn stack_label(stack: &Stack) -> String {
    match (stack.have.is_empty(), stack.community) {
        (true, false) => "no sources".into(),
        (true, true) => "community content".into(),
        (false, false) => stack.have.join(", "),
        (false, true) => format!("{} and community content", stack.have.join(", ")),
    }
}

/// The four statuses, each in its colour, the first naming the stack.
fn legend(stack: &str) -> Vec<LegendItem> {
    CoverageStatus::ALL
        .iter()
        .map(|status| {
            let label = match status {
                CoverageStatus::Covered => format!("covered by {stack}"),
                CoverageStatus::Elsewhere => "elsewhere: only other vendors' native content".into(),
                CoverageStatus::CommunityOnly => "community-only: only Sigma or community KQL".into(),
                CoverageStatus::None => "none: no detection".into(),
            };
            LegendItem { label, color: status_color(*status).into() }
        })
        .collect()
}

/// "ATT&CK Enterprise coverage for splunk, sentinel by ruledex: 412 covered, 120 elsewhere, ...".
fn description(coverage: &StackCoverageJson, stack: &str) -> String {
    let counts: Vec<String> = CoverageStatus::ALL
        .iter()
        .map(|status| format!("{} {}", coverage.summary.get(*status), status.as_str()))
        .collect();
    format!(
        "ATT&CK {} coverage for {stack}, by ruledex: {} (techniques and sub-techniques; revoked and deprecated ones are \
         left out). The score is the stack's own detections.",
        coverage.domain.label(),
        counts.join(", ")
    )
}

/// What the layer was made from, for whoever opens it later.
fn layer_metadata(coverage: &StackCoverageJson, request: &CoverageRequest) -> Vec<Metadata> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut metadata = vec![
        Metadata { name: "stack".into(), value: request.stack.have.join(", ") },
        Metadata { name: "community content counts".into(), value: yes_no(request.stack.community) },
        Metadata { name: "mappings by ruledex count".into(), value: yes_no(request.stack.inferred) },
    ];
    if !request.tactics.is_empty() {
        let names: Vec<&str> = coverage.tactics.iter().map(|t| t.tactic.name.as_str()).collect();
        metadata.push(Metadata { name: "tactics".into(), value: names.join(", ") });
    }
    metadata
}
