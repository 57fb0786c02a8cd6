//! The JSON ruledex answers with: one set of types for the CLI's `--json`, the `/api/v1`
//! endpoints, the MCP tools' structured output and the web pages, which are made from them. The
//! OpenAPI document and the MCP output schemas are generated from these types
//! ([`crate::openapi`]), so what is documented is what is sent.
//!
//! These types are owned for this purpose: the model and the store's records may change without
//! changing the JSON, and a change here is a change to ruledex's public interface. One module
//! per capability: a detection, techniques and their listings, searches, the catalog and its
//! sources, coverage, the change history, exports, errors.

mod catalog;
mod changes;
mod coverage;
mod detection;
mod error;
mod export;
mod search;
mod technique;

pub use catalog::{AttackCoverageJson, CatalogJson, FailureJson, SourceJson, StatsJson};
pub use changes::{AttackUpdateJson, ChangeJson, ChangesJson, SyncPhase};
pub use coverage::{
    AttackObjectJson, AttackObjectPageJson, CoverageJson, CoverageStatus, CoveredTechniqueJson, MatrixCellJson,
    MatrixColumnJson, MatrixJson, StackCoverageJson, StackTechniqueJson, StatusSummaryJson, TacticCoverageJson,
    UsedTechniqueJson,
};
pub use detection::{
    AtlasRefJson, DependencyJson, DetectionJson, MappingJson, ProvenanceJson, QueryJson, RuleTestJson, TacticRefJson,
};
pub use error::{CandidateJson, CandidatesJson, ErrorDetailJson, ErrorJson, SuggestionJson};
pub use export::{ExportFileJson, ExportJson, SkippedJson};
pub use search::{SearchHitJson, SearchJson, TextPieceJson};
pub use technique::{
    FacetsJson, FamilyCountsJson, SubtechniqueJson, TacticJson, TechniqueJson, TechniquePageJson,
    TechniqueSuggestionJson,
};
