//! Resources: each detection's native rule file at `ruledex://detections/{source}/{id}`, and each
//! technique's page (Markdown) at `ruledex://techniques/{id}`.

use std::fmt::Write as _;

use rmcp::model::{Resource, ResourceContents, ResourceTemplate};
use ruledex_app::request::vocabulary::MAX_LIMIT;
use ruledex_app::request::{Filters, Page, TechniqueRequest};
use ruledex_app::{Catalog, ServiceError};
use ruledex_core::model::Format;

use crate::text;
use crate::tools::ToolError;
use crate::uri::{DETECTION_TEMPLATE, TECHNIQUE_TEMPLATE};
use crate::uri::{DETECTIONS, TECHNIQUES, detection_uri, technique_uri};

/// Technique pages listed per `resources/list` page.
const LIST_PAGE: usize = 200;

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(DETECTION_TEMPLATE, "detection")
            .with_title("A detection's native rule file")
            .with_description(
                "The rule file exactly as the vendor ships it (YARA-L, Splunk YAML, Elastic TOML, Sentinel YAML, \
                 Sublime YAML, Panther Python/YAML, Sigma), for the detection at SOURCE/ID as `technique` and \
                 `search` list it.",
            ),
        ResourceTemplate::new(TECHNIQUE_TEMPLATE, "technique")
            .with_title("An ATT&CK technique's detections")
            .with_description(
                "A technique (ID like T1090 or T1090.003) as Markdown: its description, tactics, sub-techniques \
                 and its first 100 vendor-native detections, grouped by vendor, each with its address (the \
                 `technique` tool pages through the rest).",
            )
            .with_mime_type("text/markdown"),
    ]
}

/// Technique pages of techniques with vendor-native detections, most detections first, a page
/// at a time (`cursor` is the index to start at).
pub fn list(catalog: &Catalog, cursor: Option<&str>) -> Result<(Vec<Resource>, Option<String>), ToolError> {
    let start: usize = match cursor {
        None => 0,
        Some(c) => c.parse().map_err(|_| ToolError(format!("invalid cursor {c:?}")))?,
    };
    let coverage = catalog.coverage(&Filters::default())?;
    let mut techniques = coverage.techniques;
    techniques.sort_by(|a, b| b.detections.cmp(&a.detections).then(a.id.cmp(&b.id)));
    let next = (start + LIST_PAGE < techniques.len()).then(|| (start + LIST_PAGE).to_string());
    let resources = techniques
        .iter()
        .skip(start)
        .take(LIST_PAGE)
        .map(|t| {
            Resource::new(technique_uri(&t.id.to_string()), format!("{} {}", t.id, t.name))
                .with_description(format!("{} vendor-native detections", t.detections))
                .with_mime_type("text/markdown")
        })
        .collect();
    Ok((resources, next))
}

/// What a resource URI names.
#[derive(Debug)]
pub enum Named {
    Detection { source: String, id: String },
    Technique(String),
}

pub fn parse(uri: &str) -> Result<Named, String> {
    if let Some(rest) = uri.strip_prefix(DETECTIONS) {
        let Some((source, id)) = rest.split_once('/') else {
            return Err(format!("{uri} names no detection; expected {DETECTION_TEMPLATE}"));
        };
        let (source, id) = (decode(source)?, decode(id)?);
        if source.is_empty() || id.is_empty() {
            return Err(format!("{uri} names no detection; expected {DETECTION_TEMPLATE}"));
        }
        return Ok(Named::Detection { source, id });
    }
    if let Some(id) = uri.strip_prefix(TECHNIQUES) {
        return Ok(Named::Technique(decode(id)?));
    }
    Err(format!("ruledex has no resource {uri}; its resources are {DETECTION_TEMPLATE} and {TECHNIQUE_TEMPLATE}"))
}

/// Reads a resource: the native rule file, or the technique page as Markdown.
pub fn read(catalog: &Catalog, uri: &str, named: Named) -> Result<ResourceContents, ServiceError> {
    match named {
        Named::Detection { source, id } => {
            let d = catalog.detection(&source, &id)?;
            let rule = d.native_rule.clone().filter(|rule| !rule.is_empty()).unwrap_or_else(|| d.query.clone());
            Ok(ResourceContents::text(rule, uri).with_mime_type(mime(d.format, &d.path)))
        }
        Named::Technique(id) => {
            let first = usize::try_from(MAX_LIMIT).unwrap_or(usize::MAX);
            let json =
                catalog.technique(&TechniqueRequest { page: Page::first(first), ..TechniqueRequest::new(id) })?;
            Ok(ResourceContents::text(technique_markdown(&json), uri).with_mime_type("text/markdown"))
        }
    }
}

fn mime(format: Format, path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()) {
        Some(ext) if ext == "yaml" || ext == "yml" => "application/yaml",
        Some(ext) if ext == "toml" => "application/toml",
        Some(ext) if ext == "json" => "application/json",
        Some(ext) if ext == "py" => "text/x-python",
        Some(ext) if ext == "md" => "text/markdown",
        _ if format == Format::Chronicle => "text/x-yara-l",
        _ => "text/plain",
    }
}

fn technique_markdown(page: &ruledex_app::wire::TechniquePageJson) -> String {
    let mut out = String::new();
    let id = page.id;
    match &page.technique {
        Some(t) => {
            let parent = page.parent.as_ref().map(|p| format!("{}: ", p.name)).unwrap_or_default();
            let _ = writeln!(out, "# {id} {parent}{}\n", t.name);
            let tactics: Vec<String> = t.tactics.iter().map(ToString::to_string).collect();
            let version = page.attack_version.as_ref().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
            let _ = writeln!(out, "Tactics: {} · {}{version}\n", tactics.join(", "), t.url);
            if t.deprecated {
                let _ = writeln!(out, "This technique is deprecated in ATT&CK.\n");
            }
            let _ = writeln!(out, "{}\n", t.description.trim());
        }
        None => {
            let _ = writeln!(
                out,
                "# {id}\n\nNot in the loaded ATT&CK data; listed because detections are tagged with it.\n"
            );
        }
    }
    if let Some(old) = page.revoked {
        let _ = writeln!(out, "{old} was revoked in ATT&CK and replaced by {id}.\n");
    }
    if !page.subtechniques.is_empty() {
        let _ = writeln!(out, "## Sub-techniques\n");
        for s in &page.subtechniques {
            let _ =
                writeln!(out, "- [{} {}]({}) · {} detections", s.id, s.name, technique_uri(&s.id.to_string()), s.count);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Vendor-native detections ({} of {})\n", page.shown, page.total);
    if page.hidden_community > 0 {
        let _ = writeln!(
            out,
            "{} community detections (Sigma, community KQL) are not listed; the `technique` tool with `community: true` lists them.\n",
            page.hidden_community
        );
    }
    if page.more > 0 {
        let _ = writeln!(
            out,
            "The first {} are listed; the `technique` tool with `offset: {}` lists the {} others.\n",
            page.detections.len(),
            page.detections.len(),
            page.more
        );
    }
    let mut vendor = None;
    for d in &page.detections {
        if vendor != Some(d.vendor.as_str()) {
            vendor = Some(d.vendor.as_str());
            let _ = writeln!(out, "\n### {}\n", d.vendor);
        }
        let language = d.language.map(|l| format!(" · {}", l.label())).unwrap_or_default();
        let severity = d.severity.map(|s| format!(" · {}", s.as_str())).unwrap_or_default();
        let _ = writeln!(
            out,
            "- [{}]({}) `{}/{}`{language}{severity}",
            text::inert(&text::line(&d.title, 200)),
            detection_uri(&d.source, &d.id),
            d.source,
            d.id
        );
    }
    out
}

/// Undoes percent-encoding (clients may encode what they put in a URI).
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = byte else { return Err(format!("{text:?} holds a malformed %-escape")) };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn uris_round_trip_and_bad_ones_say_why() {
        let uri = detection_uri("chronicle", "a b/c");
        let Ok(Named::Detection { source, id }) = parse(&uri) else { panic!("parsed") };
        assert_eq!((source.as_str(), id.as_str()), ("chronicle", "a b/c"));
        assert!(matches!(parse("ruledex://techniques/T1090"), Ok(Named::Technique(id)) if id == "T1090"));
        assert!(parse("ruledex://detections/chronicle").unwrap_err().contains("expected ruledex://detections/"));
        assert!(parse("file:///etc/passwd").unwrap_err().contains("ruledex has no resource"));
        assert!(parse("ruledex://detections/x/%zz").unwrap_err().contains("malformed"));
    }
}
