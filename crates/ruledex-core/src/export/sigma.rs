//! Sigma rules as their upstream YAML, one `.yml` per rule named after its upstream file: what
//! sigma-cli and pySigma read, so a rule converts to any SIEM exactly as SigmaHQ ships it.

use super::bundle::{upstream_file_name, upstream_files};
use super::{Export, ExportContext, ExportError, PlatformFormat, Writer};
use crate::model::{Detection, Format};

pub struct Sigma;

impl Writer for Sigma {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::Sigma
    }

    fn multi_file(&self) -> bool {
        true
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match detection.format {
            Format::Sigma => Ok(()),
            other => Err(format!("not a Sigma rule (it is a {other} rule; Sigma exports only Sigma rules)")),
        }
    }

    fn write(&self, detections: &[&Detection], _context: &ExportContext) -> Result<Export, ExportError> {
        upstream_files(self, detections, |d| upstream_file_name(d, "yml"))
    }
}
