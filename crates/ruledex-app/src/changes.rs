//! The change history, as every front end asks for it: what changed since a date or a sync, for
//! a technique or a source, and which detections changed recently (the "new" and "updated"
//! badges).

use std::collections::HashMap;

use ruledex_core::history::{ChangeQuery, Since};
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::ChangeKind;
use ruledex_core::query::Filter;

use crate::listing::window;
use crate::request::vocabulary::CHANGED_IN;
use crate::request::{ChangesRequest, Page};
use crate::service::{Answer, Catalog, ServiceError};
use crate::sync::stamp;
use crate::wire::{AttackUpdateJson, ChangeJson, ChangesJson};

impl Catalog {
    /// Changes the request asks for, newest first. Listed changes carry at most
    /// [`LISTED_QUERY_CHARS`] of each query before and after; one detection's history carries
    /// them whole.
    pub fn changes(&self, request: &ChangesRequest) -> Answer<ChangesJson> {
        let query = self.change_query(request)?;
        let changes = self.store().changes(&query)?;
        let updates = self.store().attack_updates(query.since.as_ref(), query.limit)?;
        let mut changes: Vec<ChangeJson> = changes.iter().map(ChangeJson::from).collect();
        if request.id.is_none() {
            for change in &mut changes {
                for query in change.query_before.iter_mut().chain(change.query_after.iter_mut()) {
                    cut(query, LISTED_QUERY_CHARS, &change.href);
                }
            }
        }
        Ok(ChangesJson { changes, attack_updates: updates.iter().map(AttackUpdateJson::from).collect() })
    }

    /// The latest change of every detection changed in the last `days` days, by source and ID.
    pub fn recent_changes(&self, days: u32) -> Answer<HashMap<(String, String), ChangeKind>> {
        let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(days));
        Ok(self.store().recent_changes(&stamp(since))?)
    }

    fn change_query(&self, request: &ChangesRequest) -> Answer<ChangeQuery> {
        if let Some(source) = &request.source {
            self.check_sources(CHANGED_IN, std::slice::from_ref(source))?;
        }
        Ok(ChangeQuery {
            since: request.since.as_deref().map(parse_since).transpose()?,
            technique: request.technique.as_deref().map(|t| self.known_technique(t)).transpose()?,
            source: request.source.clone(),
            id: request.id.clone(),
            limit: request.limit,
        })
    }
}

impl Catalog {
    /// The technique `text` names, when it is in ATT&CK or detections are tagged with it (the
    /// technique page's own test, which says what is wrong otherwise).
    fn known_technique(&self, text: &str) -> Answer<TechniqueId> {
        let id = self.find_technique(text)?;
        if self.store().technique(id).is_none() {
            let everything = Filter { include_deprecated: true, include_inferred: true, ..Filter::default() };
            self.technique_page(&id.to_string(), true, &everything, window(Page::first(0)))?;
        }
        Ok(id)
    }
}

/// Characters of a changed query a listing of changes carries, before and after.
pub const LISTED_QUERY_CHARS: usize = 4_000;

/// Cuts `text` to `max` characters, saying how many were left out and where the whole is.
pub fn cut(text: &mut String, max: usize, whole: &str) {
    let Some((end, _)) = text.char_indices().nth(max) else { return };
    let left = text[end..].chars().count();
    text.truncate(end);
    text.push_str(&format!("… [{left} more characters: {whole}]"));
}

/// A sync number, a date (midnight UTC) or a time.
pub fn parse_since(text: &str) -> Answer<Since> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i64>() {
        return Ok(Since::Sync(number));
    }
    let time = text.parse::<jiff::Timestamp>().ok().or_else(|| {
        let date = text.parse::<jiff::civil::Date>().ok()?;
        date.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
    });
    time.map(|t| Since::Time(stamp(t))).ok_or_else(|| {
        ServiceError::BadRequest(format!(
            "since {text:?} is neither a date (2026-11-01 or 2026-11-01T08:00:00Z) nor a sync number (as changes list them)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_sync_number_a_date_or_a_time() {
        assert_eq!(parse_since("7").unwrap(), Since::Sync(7));
        assert_eq!(parse_since("2026-11-01").unwrap(), Since::Time("2026-11-01T00:00:00Z".into()));
        assert_eq!(parse_since("2026-11-01T08:30:00+01:00").unwrap(), Since::Time("2026-11-01T07:30:00Z".into()));
        let error = parse_since("last week").unwrap_err().to_string();
        assert!(error.starts_with("since \"last week\" is neither a date"), "{error}");
    }
}
