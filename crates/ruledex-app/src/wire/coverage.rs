//! The JSON of coverage answers: a stack's coverage of the ATT&CK matrix, and the groups,
//! campaigns and software of ATT&CK with the techniques they use.

use std::collections::BTreeMap;

use ruledex_core::attack::{AttackObject, Domain, SoftwareKind};
use ruledex_core::ids::{ObjectId, ObjectKind, TacticId, TechniqueId};
use schemars::JsonSchema;
use serde::Serialize;

use super::TacticJson;

/// Where a technique stands for a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageStatus {
    /// A detection from the sources the stack has.
    Covered,
    /// Only other vendors' native content.
    Elsewhere,
    /// Only community content (Sigma, community KQL).
    CommunityOnly,
    /// No detection at all.
    None,
}

impl CoverageStatus {
    pub const ALL: [CoverageStatus; 4] =
        [CoverageStatus::Covered, CoverageStatus::Elsewhere, CoverageStatus::CommunityOnly, CoverageStatus::None];

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Covered => "covered",
            CoverageStatus::Elsewhere => "elsewhere",
            CoverageStatus::CommunityOnly => "community-only",
            CoverageStatus::None => "none",
        }
    }
}

/// How many techniques have each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(rename = "CoverageSummary")]
pub struct StatusSummaryJson {
    pub covered: usize,
    pub elsewhere: usize,
    #[serde(rename = "community-only")]
    pub community_only: usize,
    pub none: usize,
}

impl StatusSummaryJson {
    pub fn add(&mut self, status: CoverageStatus) {
        *self.slot(status) += 1;
    }

    pub fn get(&self, status: CoverageStatus) -> usize {
        match status {
            CoverageStatus::Covered => self.covered,
            CoverageStatus::Elsewhere => self.elsewhere,
            CoverageStatus::CommunityOnly => self.community_only,
            CoverageStatus::None => self.none,
        }
    }

    fn slot(&mut self, status: CoverageStatus) -> &mut usize {
        match status {
            CoverageStatus::Covered => &mut self.covered,
            CoverageStatus::Elsewhere => &mut self.elsewhere,
            CoverageStatus::CommunityOnly => &mut self.community_only,
            CoverageStatus::None => &mut self.none,
        }
    }

    pub fn total(&self) -> usize {
        self.covered + self.elsewhere + self.community_only + self.none
    }
}

/// A stack's coverage of one ATT&CK matrix.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "StackCoverage")]
pub struct StackCoverageJson {
    /// The sources the stack has.
    pub have: Vec<String>,
    /// Whether community content counts as the stack's own.
    pub community: bool,
    /// Whether detections listed only through ruledex's mapping of vendor labels count.
    pub inferred: bool,
    pub domain: Domain,
    pub attack_version: Option<String>,
    /// The tactics shown, in matrix order, each with its techniques per status.
    pub tactics: Vec<TacticCoverageJson>,
    /// Every current technique and sub-technique of the matrix (of the tactics asked for), in
    /// ID order. Revoked and deprecated techniques are never listed, so never gaps.
    pub techniques: Vec<StackTechniqueJson>,
    /// Techniques and sub-techniques per status.
    pub summary: StatusSummaryJson,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "TacticCoverage")]
pub struct TacticCoverageJson {
    #[serde(flatten)]
    pub tactic: TacticJson,
    pub summary: StatusSummaryJson,
}

/// One technique's detections per source and its status for the stack.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "StackTechnique")]
pub struct StackTechniqueJson {
    pub id: TechniqueId,
    /// "Parent: Sub" for sub-techniques.
    pub name: String,
    pub tactics: Vec<TacticId>,
    pub status: CoverageStatus,
    /// Of all its detections (`counts`), the stack's own: its sources', and community
    /// content's when that counts.
    pub yours: usize,
    /// Its page filtered to the stack's own detections (unfiltered without a stack).
    pub href: String,
    /// Detections per source: for a technique, those listed under it or a sub-technique; for a
    /// sub-technique, its own. Only the vendors' own tags unless `inferred`.
    pub counts: BTreeMap<String, usize>,
    /// Per source, detections listed only through ruledex's mapping of vendor labels (counted
    /// in `counts` only when `inferred`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inferred: BTreeMap<String, usize>,
}

impl StackTechniqueJson {
    pub fn detections(&self) -> usize {
        self.counts.values().sum()
    }

    /// Where content exists: "elastic 1, splunk 3", or "nothing".
    pub fn found(&self) -> String {
        let parts: Vec<String> = self.counts.iter().map(|(source, n)| format!("{source} {n}")).collect();
        if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
    }
}

/// A group, campaign or software, as lists and pages name it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AttackObject")]
pub struct AttackObjectJson {
    pub id: ObjectId,
    pub kind: ObjectKind,
    pub name: String,
    /// Other names ATT&CK lists ("Cozy Bear", "NOBELIUM").
    pub aliases: Vec<String>,
    pub domains: Vec<Domain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_kind: Option<SoftwareKind>,
    /// How many techniques it is known to use.
    pub techniques: usize,
    /// Its page on attack.mitre.org.
    pub url: String,
    /// Its page on ruledex.
    pub href: String,
}

impl AttackObjectJson {
    pub fn new(object: &AttackObject, href: String) -> AttackObjectJson {
        AttackObjectJson {
            id: object.id,
            kind: object.id.kind(),
            name: object.name.clone(),
            aliases: object.aliases.clone(),
            domains: object.domains.clone(),
            software_kind: object.software_kind,
            techniques: object.techniques.len(),
            url: object.url.clone(),
            href,
        }
    }
}

/// A group's, campaign's or software's page: the techniques it uses with the detections for
/// each. Exactly one of `group`, `campaign` and `software` is present, named after its kind.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "AttackObjectPage")]
pub struct AttackObjectPageJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<AttackObjectJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<AttackObjectJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software: Option<AttackObjectJson>,
    /// ATT&CK's description (Markdown, with `(Citation: ...)` markers).
    pub description: String,
    /// The stack the statuses are for, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub have: Option<Vec<String>>,
    pub techniques: Vec<UsedTechniqueJson>,
    /// With a stack: techniques per status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<StatusSummaryJson>,
    /// Software the group or campaign uses.
    pub uses_software: Vec<AttackObjectJson>,
    /// For a group, its campaigns; for a campaign, the groups it is attributed to.
    pub related: Vec<AttackObjectJson>,
}

/// A technique a group, campaign or software uses.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "UsedTechnique")]
pub struct UsedTechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    pub tactics: Vec<TacticId>,
    /// The revoked technique ATT&CK's relationship names, when it was followed to `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_id: Option<TechniqueId>,
    /// How it is used, in ATT&CK's words.
    pub usage: String,
    /// Detections listed under it (counted as in `counts`).
    pub detections: usize,
    pub counts: BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inferred: BTreeMap<String, usize>,
    /// With a stack: where the technique stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CoverageStatus>,
}

/// Detection counts per technique, as the home page's matrix shows them (`/api/v1/coverage`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Coverage")]
pub struct CoverageJson {
    pub attack_version: Option<String>,
    pub tactics: Vec<TacticJson>,
    /// Techniques with at least one detection passing the filter.
    pub techniques: Vec<CoveredTechniqueJson>,
}

/// The ATT&CK Enterprise matrix as the home page shows it: each tactic with its current
/// techniques, each with the detections the filters keep.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "Matrix")]
pub struct MatrixJson {
    pub attack_version: Option<String>,
    /// Whether detections listed only through ruledex's mapping are counted in.
    pub inferred: bool,
    pub tactics: Vec<MatrixColumnJson>,
}

/// A tactic and its techniques (sub-techniques rolled up), by name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "MatrixColumn")]
pub struct MatrixColumnJson {
    pub id: TacticId,
    pub name: String,
    pub techniques: Vec<MatrixCellJson>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "MatrixCell")]
pub struct MatrixCellJson {
    pub id: TechniqueId,
    pub name: String,
    /// Detections for the technique and its sub-techniques, each once.
    pub detections: usize,
    /// Detections listed only through ruledex's mapping, left out of `detections` (0 when
    /// they are counted in).
    pub inferred: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "CoveredTechnique")]
pub struct CoveredTechniqueJson {
    pub id: TechniqueId,
    pub name: String,
    pub tactics: Vec<TacticId>,
    /// Detections tagged with the technique itself.
    pub exact: usize,
    /// With its sub-techniques, each detection once (with `inferred`, those listed only through
    /// ruledex's mapping of vendor labels too).
    pub detections: usize,
    /// Detections listed only through ruledex's own mapping of vendor labels: counted in
    /// `detections` with `inferred`, left out of it otherwise.
    pub inferred: usize,
}
