//! The change history, as every front end asks for it: what changed since a date or a sync, for
//! a technique or a source, and which detections changed recently (the "new" and "updated"
//! badges).

use std::collections::HashMap;

use ruledex_core::history::{ChangeQuery, Since};
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::ChangeKind;
use ruledex_core::query::Filter;

use crate::service::{Answer, Catalog, ServiceError};
use crate::sync::stamp;
use crate::wire::{AttackUpdateJson, ChangeJson, ChangesJson};

/// A request for changes as a front end received it: text to interpret here, once.
#[derive(Debug, Clone, Default)]
pub struct ChangeRequest<'a> {
    /// A date (`2026-11-01`), a time (`2026-11-01T08:00:00Z`) or a sync number.
    pub since: Option<&'a str>,
    /// A technique ID in any spelling, or an ATT&CK name.
    pub technique: Option<&'a str>,
    pub source: Option<&'a str>,
    /// One detection's changes (with `source`).
    pub id: Option<&'a str>,
    pub limit: Option<usize>,
}

impl Catalog {
    /// Changes the request asks for, newest first.
    pub fn changes(&self, request: &ChangeRequest) -> Answer<ChangesJson> {
        let query = self.change_query(request)?;
        let changes = self.store().changes(&query)?;
        let updates = self.store().attack_updates(query.since.as_ref(), query.limit)?;
        Ok(ChangesJson {
            changes: changes.iter().map(ChangeJson::from).collect(),
            attack_updates: updates.iter().map(AttackUpdateJson::from).collect(),
        })
    }

    /// The latest change of every detection changed in the last `days` days, by source and ID.
    pub fn recent_changes(&self, days: u32) -> Answer<HashMap<(String, String), ChangeKind>> {
        let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * i64::from(days));
        Ok(self.store().recent_changes(&stamp(since))?)
    }

    fn change_query(&self, request: &ChangeRequest) -> Answer<ChangeQuery> {
        if let Some(source) = request.source
            && !self.store().sources().iter().any(|s| s.report.name == source)
        {
            return Err(ServiceError::NotFound {
                message: format!("there is no source named {source:?}"),
                suggestions: vec![],
            });
        }
        let limit = request.limit.unwrap_or(ChangeQuery::DEFAULT_LIMIT);
        if !(1..=ChangeQuery::MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::BadRequest(format!(
                "`limit` must be between 1 and {}, not {limit}",
                ChangeQuery::MAX_LIMIT
            )));
        }
        Ok(ChangeQuery {
            since: request.since.map(parse_since).transpose()?,
            technique: request.technique.map(|t| self.known_technique(t)).transpose()?,
            source: request.source.map(str::to_string),
            id: request.id.map(str::to_string),
            limit,
        })
    }
}

impl Catalog {
    /// The technique `text` names, when it is in ATT&CK or detections are tagged with it (the
    /// technique page's own test, which says what is wrong otherwise).
    fn known_technique(&self, text: &str) -> Answer<TechniqueId> {
        let id = self.find_technique(text)?;
        if self.store().technique(id).is_none() {
            let everything = Filter { include_deprecated: true, ..Filter::default() };
            self.technique_page(&id.to_string(), true, &everything)?;
        }
        Ok(id)
    }
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
