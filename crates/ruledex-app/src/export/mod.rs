//! Exports: a selection of detections written in its platform's import format (by the writers
//! of `ruledex_core::export`) or as catalog rows (JSON and CSV of the wire types), ready to go
//! to standard output, a directory or an archive ([`archive`]).

pub mod archive;
pub mod format;
mod rows;

use std::cmp::Reverse;

use ruledex_core::attack::Domain;
use ruledex_core::export::navigator;
use ruledex_core::export::{ExportContext, ExportError, ExportFile, PlatformFormat, Skipped};

pub use format::ExportFormat;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::Detection;
use ruledex_core::query::SearchQuery;

use crate::listing::window;
use crate::request::{Page, Scope, Selection};
use crate::service::{Answer, Catalog, ServiceError};
use crate::wire::{ExportFileJson, ExportJson, SkippedJson};

/// The files of an export and what went into it.
#[derive(Debug, Clone)]
pub struct Exported {
    pub format: ExportFormat,
    /// A short name for the export, safe in file names ("ruledex-T1090-splunk-app").
    pub name: String,
    pub files: Vec<ExportFile>,
    /// Addresses of the detections written (none in a layer of counts, a stack's coverage).
    pub included: Vec<String>,
    /// Detections of the selection the format cannot hold, and why.
    pub skipped: Vec<Skipped>,
}

impl Catalog {
    /// The detections of `selection` in `format`; at most `max` of them when given (a web
    /// request's export is bounded; the CLI's is not).
    pub fn export(&self, format: ExportFormat, selection: &Selection, max: Option<usize>) -> Answer<Exported> {
        self.export_linked(format, selection, max, None)
    }

    /// [`Catalog::export`] with links to the ruledex served at `base_url`, for formats that
    /// link back (Navigator layers).
    pub fn export_linked(
        &self,
        format: ExportFormat,
        selection: &Selection,
        max: Option<usize>,
        base_url: Option<&str>,
    ) -> Answer<Exported> {
        let (label, detections) = self.selected(selection, max)?;
        if detections.is_empty() {
            return Err(ServiceError::BadRequest(format!("{label} holds no detection to export")));
        }
        let detections = self.store().with_long_texts(&detections)?;
        let name = format!("ruledex-{}-{format}", file_safe(&label));
        let (files, included, skipped) = match format {
            ExportFormat::Platform(platform) => self.platform_files(platform, &detections, &name, &label)?,
            ExportFormat::Json => (vec![rows::json(&detections)?], addresses(&detections), vec![]),
            ExportFormat::Csv => (vec![rows::csv(&detections)?], addresses(&detections), vec![]),
            ExportFormat::Navigator => {
                (vec![self.selection_layer(&detections, &name, &label, base_url)?], addresses(&detections), vec![])
            }
        };
        Ok(Exported { format, name, files, included, skipped })
    }

    /// A short label of the selection and its detections, without their long texts; a
    /// selection of more than `max` is refused before its detections are read.
    fn selected(&self, selection: &Selection, max: Option<usize>) -> Answer<(String, Vec<Detection>)> {
        if !matches!(selection.scope, Scope::Detection(_)) {
            self.check_filters(&selection.filters)?;
        }
        let filter = selection.filter();
        let (label, total) = match &selection.scope {
            Scope::Detection(address) => {
                return Ok((address.replace('/', "-"), vec![self.detection_model_at(address)?]));
            }
            Scope::Technique { technique, exact } => {
                let page = self.technique_page(technique, *exact, &filter, window(Page::first(0)))?;
                (page.id.to_string(), page.shown)
            }
            Scope::Search(text) => {
                let first = SearchQuery { text: text.clone(), filter: filter.clone(), offset: 0, limit: 1 };
                (format!("search-{text}"), self.store().search(&first)?.total)
            }
            Scope::Everything => {
                let label = match filter.sources.as_slice() {
                    [one] => one.clone(),
                    _ => "catalog".to_string(),
                };
                (label, self.store().select(&filter, window(Page::first(0)))?.0)
            }
        };
        if let Some(max) = max.filter(|max| total > *max) {
            return Err(ServiceError::BadRequest(format!(
                "{label} holds {total} detections, more than the {max} one export here may hold; narrow the selection \
                 (filters) or use `ruledex export`"
            )));
        }
        let detections = match &selection.scope {
            Scope::Technique { technique, exact } => {
                self.technique_page(technique, *exact, &filter, window(Page::ALL))?.listing.detections
            }
            Scope::Search(text) => self.store().search_all(text, &filter)?,
            _ => self.store().select(&filter, window(Page::ALL))?.1,
        };
        Ok((label, detections))
    }

    fn platform_files(
        &self,
        format: PlatformFormat,
        detections: &[Detection],
        name: &str,
        label: &str,
    ) -> Answer<(Vec<ExportFile>, Vec<String>, Vec<Skipped>)> {
        let mut context = ExportContext {
            name: name.to_string(),
            description: format!("{label}: detections exported by ruledex"),
            attack_version: self.attack_version(),
            ..ExportContext::default()
        };
        let mut sources: Vec<&str> = detections.iter().map(|d| d.source.as_str()).collect();
        sources.dedup();
        for source in sources {
            if !context.assets.contains_key(source) {
                context.assets.insert(source.to_string(), self.store().assets(source)?);
            }
        }
        let refs: Vec<&Detection> = detections.iter().collect();
        match format.writer().write(&refs, &context) {
            Ok(export) => Ok((export.files, export.included, export.skipped)),
            Err(error @ ExportError::Nothing { .. }) => Err(ServiceError::BadRequest(error.to_string())),
            Err(error @ ExportError::Rule { .. }) => Err(ServiceError::Internal(error.to_string())),
        }
    }
}

impl Catalog {
    /// The Navigator layer of a selection, in the matrix holding most of its techniques (a
    /// layer has one domain; techniques of the others are left out, and the description says so).
    fn selection_layer(
        &self,
        detections: &[Detection],
        name: &str,
        label: &str,
        base_url: Option<&str>,
    ) -> Answer<ExportFile> {
        let attack = self.store().attack();
        let techniques = navigator::techniques_of(detections);
        let domain_of = |id: TechniqueId| attack.technique(id).map_or(Domain::Enterprise, |t| t.domain);
        let domain = [Domain::Enterprise, Domain::Mobile, Domain::Ics]
            .into_iter()
            .max_by_key(|d| (techniques.iter().filter(|t| domain_of(t.id) == *d).count(), Reverse(*d)))
            .unwrap_or(Domain::Enterprise);
        let (kept, left_out): (Vec<_>, Vec<_>) = techniques.into_iter().partition(|t| domain_of(t.id) == domain);
        let mut description = format!("{label}: detections per technique, by ruledex");
        if !left_out.is_empty() {
            description.push_str(&format!(" ({} techniques of other ATT&CK matrices left out)", left_out.len()));
        }
        let release = attack.release(domain).map(str::to_string);
        let options = navigator::LayerOptions {
            name: label,
            description: &description,
            domain,
            attack_release: release.as_deref(),
            base_url,
        };
        layer_file(&navigator::navigator_layer(&kept, &options), name)
    }
}

/// A layer as the file `NAME.json`.
pub(crate) fn layer_file(layer: &navigator::Layer, name: &str) -> Answer<ExportFile> {
    let bytes = serde_json::to_vec_pretty(layer).map_err(|e| ServiceError::Internal(e.to_string()))?;
    Ok(ExportFile { path: format!("{name}.json"), bytes })
}

fn addresses(detections: &[Detection]) -> Vec<String> {
    detections.iter().map(Detection::address).collect()
}

/// Letters, digits, `-`, `_` and `.`, the rest replaced: a selection's label in a file name.
pub(crate) fn file_safe(label: &str) -> String {
    let safe: String = label
        .chars()
        .take(60)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    safe.trim_matches(['_', '.', '-']).to_string()
}

impl From<&Exported> for ExportJson {
    fn from(e: &Exported) -> ExportJson {
        ExportJson {
            format: e.format.as_str().to_string(),
            name: e.name.clone(),
            multi_file: e.format.multi_file(),
            files: e
                .files
                .iter()
                .map(|f| ExportFileJson { path: f.path.clone(), text: String::from_utf8_lossy(&f.bytes).into_owned() })
                .collect(),
            included: e.included.clone(),
            skipped: e
                .skipped
                .iter()
                .map(|s| SkippedJson { address: s.address.clone(), reason: s.reason.clone() })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_back_from_their_names() {
        for format in ExportFormat::all() {
            assert_eq!(format.as_str().parse::<ExportFormat>(), Ok(format));
        }
        assert!("pdf".parse::<ExportFormat>().unwrap_err().contains("splunk-app"));
    }

    #[test]
    fn labels_become_safe_file_names() {
        assert_eq!(file_safe("search-tor exit/../node"), "search-tor_exit_.._node");
        assert_eq!(file_safe("-rf"), "rf");
    }
}
