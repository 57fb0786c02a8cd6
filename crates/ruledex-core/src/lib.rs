//! ruledex-core: the normalized detection model, the ATT&CK catalog, the format adapters and
//! ingest. It does no SQL, no HTTP and no printing: it turns rule files into [`model::Detection`]s
//! and reports what it could not read.

pub mod attack;
pub mod ids;
pub mod ingest;
pub mod model;
pub mod query;
pub mod sources;
pub mod url;
pub mod walk;
