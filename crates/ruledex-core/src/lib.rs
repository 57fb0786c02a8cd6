//! ruledex-core: the normalized detection model, the ATT&CK catalog, the format adapters and
//! ingest, and the export writers. It does no SQL, no HTTP and no printing: it turns rule files
//! into [`model::Detection`]s, reports what it could not read, and turns detections back into
//! what each platform imports.

pub mod attack;
pub mod cve;
pub mod export;
pub mod fingerprint;
pub mod free_text;
pub mod history;
pub mod ids;
pub mod ingest;
pub mod markdown;
pub mod model;
pub mod owner_only;
pub mod query;
pub mod sources;
pub mod url;
pub mod walk;
pub mod words;
