//! Microsoft Sentinel analytic rules and hunting queries as their upstream YAML, one file per rule
//! named after its upstream file: the format of the Azure-Sentinel repository, which Sentinel's
//! repositories feature and most deployment pipelines read.

use super::bundle::{upstream_file_name, upstream_files};
use super::{Export, ExportContext, ExportError, PlatformFormat, Writer};
use crate::model::{Detection, Format};

pub struct SentinelYaml;

impl Writer for SentinelYaml {
    fn format(&self) -> PlatformFormat {
        PlatformFormat::SentinelYaml
    }

    fn multi_file(&self) -> bool {
        true
    }

    fn accepts(&self, detection: &Detection) -> Result<(), String> {
        match detection.format {
            Format::Sentinel => Ok(()),
            Format::KqlMarkdown => {
                Err("a community KQL query, not Sentinel content (it has no schedule, trigger or hunting metadata)"
                    .into())
            }
            other => Err(format!("not a Sentinel analytic rule or hunting query (it is a {other} rule)")),
        }
    }

    fn write(&self, detections: &[&Detection], _context: &ExportContext) -> Result<Export, ExportError> {
        upstream_files(self, detections, |d| upstream_file_name(d, "yaml"))
    }
}
