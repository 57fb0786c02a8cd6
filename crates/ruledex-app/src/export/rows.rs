//! Catalog rows: detections as JSON (the wire type of `show --json`) and as CSV.

use ruledex_core::export::ExportFile;
use ruledex_core::model::Detection;
use serde::Serialize;

use crate::service::{Answer, ServiceError};
use crate::wire::DetectionJson;

#[derive(Serialize)]
struct Detections {
    detections: Vec<DetectionJson>,
}

/// `{"detections": [...]}`, each detection whole, as `show --json` prints it.
pub(super) fn json(detections: &[Detection]) -> Answer<ExportFile> {
    let rows = Detections { detections: detections.iter().map(DetectionJson::from).collect() };
    let bytes = serde_json::to_vec_pretty(&rows).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ExportFile { path: "detections.json".into(), bytes })
}

/// The columns of the CSV export, in order.
const COLUMNS: &[&str] = &[
    "source",
    "id",
    "native_id",
    "title",
    "vendor",
    "language",
    "rule_type",
    "severity",
    "status",
    "deprecated",
    "techniques",
    "tactics",
    "data_sources",
    "path",
    "commit",
    "upstream_url",
    "license",
];

/// One row per detection; lists within a cell are separated by `; `.
pub(super) fn csv(detections: &[Detection]) -> Answer<ExportFile> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ServiceError::Internal(format!("cannot write CSV: {e}"));
    writer.write_record(COLUMNS).map_err(failed)?;
    for d in detections {
        writer.write_record(row(d)).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|e| ServiceError::Internal(format!("cannot write CSV: {e}")))?;
    Ok(ExportFile { path: "detections.csv".into(), bytes })
}

fn row(d: &Detection) -> Vec<String> {
    let r = &d.rule;
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    let cells = vec![
        d.source.clone(),
        d.id.clone(),
        r.native_id.clone(),
        r.title.clone(),
        r.vendor.clone(),
        text(r.language.map(|l| l.as_str())),
        text(r.rule_type.map(|t| t.as_str())),
        text(r.severity.map(|s| s.as_str())),
        text(r.status.map(|s| s.as_str())),
        d.deprecated.to_string(),
        d.techniques.iter().map(|m| m.id.to_string()).collect::<Vec<_>>().join("; "),
        d.tactics.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join("; "),
        r.data_sources.join("; "),
        d.provenance.path.clone(),
        text(d.provenance.commit.as_deref()),
        text(d.provenance.upstream_url.as_deref()),
        text(d.effective_license.as_deref()),
    ];
    cells.into_iter().map(inert).collect()
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and rule text is
/// untrusted: such cells get a leading `'`, which spreadsheets show as text.
fn inert(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_spreadsheets_would_run_are_made_text() {
        assert_eq!(inert("=HYPERLINK(\"http://x\")".into()), "'=HYPERLINK(\"http://x\")");
        assert_eq!(inert("@SUM(1)".into()), "'@SUM(1)");
        assert_eq!(inert("T1090; T1059".into()), "T1090; T1059");
    }
}
