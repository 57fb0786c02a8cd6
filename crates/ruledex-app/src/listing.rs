//! Listings: a technique's detections and a search's matches, a page at a time.
//!
//! The store filters in memory over every detection's facets and reads from disk only the rows
//! of the page asked for, so a page costs the same however large the family or the catalog.
//! Answers carry where the page starts, how many it lists at most and how many follow.

use ruledex_core::model::SourceKind;
use ruledex_core::query::{FacetCounts, Facets, Filter, SearchQuery};
use ruledex_store::{FamilyMember, TechniquePage, Window};

use crate::request::{Filters, Page, SearchRequest, TechniqueRequest};
use crate::service::{Answer, Catalog};
use crate::wire::{
    DetectionJson, FacetsJson, FamilyCountsJson, SearchHitJson, SearchJson, SubtechniqueJson, TechniqueJson,
    TechniquePageJson,
};

impl Catalog {
    /// A technique, its sub-techniques with counts, and a page of the detections the request
    /// keeps, with the counts filter controls show.
    pub fn technique(&self, request: &TechniqueRequest) -> Answer<TechniquePageJson> {
        self.check_filters(&request.filters)?;
        let filter = request.filter();
        let page = self.technique_page(&request.technique, request.exact, &filter, window(request.page))?;
        let members = self.store().family_facets(page.id, request.exact)?;
        let listed: Vec<&FamilyMember> = members.iter().filter(|m| m.direct || !request.exact).collect();
        let shown: Vec<&Facets> = listed
            .iter()
            .filter(|m| (filter.include_inferred || m.tagged) && filter.matches(&m.facets))
            .map(|m| &m.facets)
            .collect();
        let counts = FilterCounts {
            family: family_counts(&listed),
            facets: (&FacetCounts::count(members.iter().map(|m| &m.facets))).into(),
            choices: choices(&members, &listed, &request.filters),
            shown: (&FacetCounts::count(shown)).into(),
        };
        Ok(self.page_json(&page, request, counts))
    }

    /// A page of a search's matches, best first.
    pub fn search(&self, request: &SearchRequest) -> Answer<SearchJson> {
        self.check_filters(&request.filters)?;
        let query = SearchQuery {
            text: request.text.clone(),
            filter: request.filter(),
            offset: request.page.offset,
            limit: request.page.limit,
        };
        let results = self.store().search(&query)?;
        Ok(SearchJson {
            query: request.text.clone(),
            corrected_query: results.corrected_query.clone(),
            attack_version: self.attack_version(),
            total: results.total,
            total_every_word: results.total_every_word,
            offset: results.offset,
            limit: results.limit,
            facets: FacetsJson::from(&results.facets),
            detections: results.hits.iter().map(SearchHitJson::from).collect(),
        })
    }

    /// A technique page as JSON.
    fn page_json(&self, page: &TechniquePage, request: &TechniqueRequest, counts: FilterCounts) -> TechniquePageJson {
        let listing = &page.listing;
        let listed = listing.detections.len();
        TechniquePageJson {
            query: Some(request.technique.clone()),
            attack_version: self.attack_version(),
            requested: page.requested,
            id: page.id,
            revoked: page.revoked,
            technique: page.technique.as_ref().map(TechniqueJson::from),
            parent: page.parent.as_ref().map(TechniqueJson::from),
            subtechniques: page
                .subtechniques
                .iter()
                .map(|s| SubtechniqueJson { id: s.id, name: s.name.clone(), count: s.count })
                .collect(),
            exact: page.exact,
            shown: page.shown,
            inferred: listing.inferred,
            total: listing.total,
            counts: counts.family,
            facets: counts.facets,
            choices: counts.choices,
            shown_facets: counts.shown,
            hidden_deprecated: listing.hidden_deprecated,
            hidden_community: listing.hidden_community,
            hidden_inferred: listing.hidden_inferred,
            offset: request.page.offset,
            limit: request.page.limit,
            more: page.shown.saturating_sub(request.page.offset.saturating_add(listed)),
            detections: listing.detections.iter().map(DetectionJson::from).collect(),
        }
    }
}

/// What a technique page counts besides its detections.
struct FilterCounts {
    family: FamilyCountsJson,
    facets: FacetsJson,
    choices: FacetsJson,
    shown: FacetsJson,
}

/// The store's window of a page: a listing's page is bounded in bytes too (the whole list,
/// for an export, is not).
pub(crate) fn window(page: Page) -> Window {
    match page {
        Page::ALL => Window::ALL,
        page => Window::page(page.offset, page.limit),
    }
}

/// The headline counts of a technique's listed detections.
fn family_counts(listed: &[&FamilyMember]) -> FamilyCountsJson {
    let live = |kind: SourceKind| listed.iter().filter(move |m| !m.facets.deprecated && m.facets.kind == kind);
    FamilyCountsJson {
        vendor_native: live(SourceKind::Vendor).filter(|m| m.tagged).count(),
        inferred: live(SourceKind::Vendor).filter(|m| !m.tagged).count(),
        community: live(SourceKind::Community).count(),
        deprecated: listed.iter().filter(|m| m.facets.deprecated).count(),
    }
}

/// What choosing each value of the filters would show among the listed detections (those the
/// inferred switch leaves), the rest of the filters unchanged and the listing's defaults
/// applied. While community content is left out, the values only community content has are
/// not offered (but for the vendors, whose community ones are offered apart).
fn choices(family: &[FamilyMember], listed: &[&FamilyMember], filters: &Filters) -> FacetsJson {
    let inferred = filters.asked.include_inferred;
    let items: Vec<&Facets> = listed.iter().filter(|m| inferred || m.tagged).map(|m| &m.facets).collect();
    let values = FacetCounts::count(family.iter().map(|m| &m.facets));
    let finish = |asked: Filter| Filters { asked, community: filters.community }.resolve(true);
    let mut choices = values.if_chosen(&items, &filters.asked, finish);
    let community_shown = filters.community || filters.asked.kinds.contains(&SourceKind::Community);
    if !community_shown {
        let vendor_native =
            FacetCounts::count(family.iter().map(|m| &m.facets).filter(|f| f.kind == SourceKind::Vendor));
        keep_values_of(&mut choices, &vendor_native);
    }
    (&choices).into()
}

/// Keeps in `choices` the values `of` has, in every group but vendors, sources and kinds.
fn keep_values_of(choices: &mut FacetCounts, of: &FacetCounts) {
    choices.languages.retain(|value, _| of.languages.contains_key(value));
    choices.rule_types.retain(|value, _| of.rule_types.contains_key(value));
    choices.severities.retain(|value, _| of.severities.contains_key(value));
    choices.statuses.retain(|value, _| of.statuses.contains_key(value));
    choices.data_sources.retain(|value, _| of.data_sources.contains_key(value));
}
