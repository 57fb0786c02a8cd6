//! Argument completion: technique IDs and names, source names, and detection addresses, for the
//! resource templates' and the prompts' arguments.

use rmcp::model::{CompleteRequestParams, CompletionInfo, Reference};
use ruledex_app::{Catalog, ServiceError};

use crate::resources::{DETECTION_TEMPLATE, TECHNIQUE_TEMPLATE};

/// Values offered at once (the protocol's maximum).
const MAX_VALUES: usize = CompletionInfo::MAX_VALUES;

/// What an argument holds, from where it is and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A technique ID or name (IDs while an ID is being typed).
    Technique,
    /// A technique ID only (in a URI).
    TechniqueId,
    Source,
    /// The ID part of an address, in the source given beside it.
    DetectionId,
    /// A whole address SOURCE/ID.
    Address,
}

fn kind(reference: &Reference, argument: &str) -> Option<Kind> {
    match (reference.as_resource_uri(), reference.as_prompt_name(), argument) {
        (Some(DETECTION_TEMPLATE), _, "source") => Some(Kind::Source),
        (Some(DETECTION_TEMPLATE), _, "id") => Some(Kind::DetectionId),
        (Some(TECHNIQUE_TEMPLATE), _, "id") => Some(Kind::TechniqueId),
        (_, Some(_), "technique") => Some(Kind::Technique),
        (_, Some(_), "address") => Some(Kind::Address),
        (_, Some(_), "source") => Some(Kind::Source),
        _ => None,
    }
}

/// Completions for `request`; nothing for arguments ruledex knows nothing about.
pub fn complete(catalog: &Catalog, request: &CompleteRequestParams) -> Result<CompletionInfo, ServiceError> {
    let typed = request.argument.value.as_str();
    let Some(kind) = kind(&request.r#ref, &request.argument.name) else {
        return Ok(CompletionInfo::default());
    };
    let (values, more) = match kind {
        Kind::Technique => catalog.complete_technique(typed, MAX_VALUES)?,
        Kind::TechniqueId => {
            let id_like = typed.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
            if id_like { catalog.complete_technique(typed, MAX_VALUES)? } else { (vec![], false) }
        }
        Kind::Source => {
            let mut sources = catalog.complete_source(typed);
            let more = sources.len() > MAX_VALUES;
            sources.truncate(MAX_VALUES);
            (sources, more)
        }
        Kind::DetectionId => {
            let source = request.context.as_ref().and_then(|c| c.get_argument("source"));
            match source {
                Some(source) => catalog.complete_detection_id(source, typed, MAX_VALUES)?,
                None => (vec![], false),
            }
        }
        Kind::Address => catalog.complete_address(typed, MAX_VALUES)?,
    };
    let values = if kind == Kind::TechniqueId {
        values.into_iter().filter(|v| v.starts_with(['T', 't'])).collect()
    } else {
        values
    };
    Ok(CompletionInfo::with_pagination(values, None, more).unwrap_or_default())
}
