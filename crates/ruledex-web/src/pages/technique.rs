//! `/techniques/{id}`: a technique and its detections.
//!
//! The server applies the URL's filters and sends the first page of the detections they keep
//! (the largest families hold thousands), with counts for every filter choice taken over the
//! whole family from the catalog's in-memory facets. Without JavaScript, filters reload the
//! page and a link shows the next page; with it, `static/app.js` fetches the same URLs and
//! swaps the results in place.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Redirect;
use ruledex_app::links::technique as technique_url;
use ruledex_app::{Catalog, ServiceError};
use ruledex_core::attack::Technique;
use ruledex_core::ids::{ObjectKind, TechniqueId};
use ruledex_core::model::SourceKind;
use ruledex_core::query::{FacetCounts, Facets, Filter};
use ruledex_store::{FamilyMember, TechniquePage, Window};

use super::changes::{ChangeItem, badge, feed_link, technique_feed_href, whats_new};
use super::view::{Card, ExportLink, FacetGroup, FacetScope, attack_paragraphs, export_menu, facet_groups, with_param};
use super::{PageResult, params, render};
use crate::layout::Layout;
use crate::params::{FilterParams, PathParams, technique_id};
use crate::state::{AppState, Cost};

/// Cards sent at once; the rest come page by page.
pub const PAGE_SIZE: usize = 100;

#[derive(Template)]
#[template(path = "technique.html")]
struct TechniqueView {
    layout: Layout,
    id: String,
    name: String,
    attack_version: String,
    revoked_from: String,
    in_attack: bool,
    deprecated: bool,
    attack_url: String,
    parent: Option<Link>,
    tactics: Vec<Link>,
    lead: String,
    more: Vec<String>,
    platforms: String,
    data_components: String,
    subtechniques: Vec<SubView>,
    is_parent: bool,
    facets: Vec<FacetGroup>,
    exact: bool,
    show_deprecated: bool,
    show_community: bool,
    groups: Vec<VendorGroup>,
    /// ATT&CK groups known to use the technique.
    used_by: Vec<Link>,
    /// Detections of the family (the sub-technique switch applied).
    total: usize,
    /// Detections the filters keep, on every page.
    shown: usize,
    /// The first card on this page, from 1.
    first: usize,
    last: usize,
    next: String,
    previous: String,
    /// Live vendor detections their vendor tagged with the technique.
    vendor_native: usize,
    /// Live vendor detections listed only through ruledex's mapping of vendor labels.
    inferred: usize,
    community: usize,
    deprecated_count: usize,
    exports: Vec<ExportLink>,
    whats_new: Vec<ChangeItem>,
    feed_href: String,
}

struct Link {
    href: String,
    label: String,
}

struct SubView {
    href: String,
    id: String,
    name: String,
    count: usize,
}

struct VendorGroup {
    vendor: String,
    cards: Vec<Card>,
    /// The group's detections the filters keep, on every page.
    shown: usize,
}

pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String>,
    query: RawQuery,
) -> PageResult {
    let params = params(&query)?;
    let requested = technique_id(&raw)?;
    let raw_query = query.0.unwrap_or_default();
    let badge_days = state.badge_days();
    state.run(Cost::Ordinary, move |catalog| technique_view(catalog, requested, &params, &raw_query, badge_days)).await
}

/// `/techniques/T1090/003`, as attack.mitre.org spells sub-techniques, leads to T1090.003.
pub async fn technique_by_url_path(
    PathParams((id, sub), _): PathParams<(String, String)>,
    query: RawQuery,
) -> Result<Redirect, crate::error::WebError> {
    let id = technique_id(&format!("{id}/{sub}"))?;
    let query = query.0.map(|q| format!("?{q}")).unwrap_or_default();
    Ok(Redirect::permanent(&format!("{}{query}", technique_url(id))))
}

fn technique_view(
    catalog: &Catalog,
    requested: TechniqueId,
    params: &FilterParams,
    raw_query: &str,
    badge_days: u32,
) -> PageResult {
    let (chosen, filter, exact) = (params.filter()?, params.technique_filter()?, params.exact());
    let window = Window { offset: (params.page()? - 1) * PAGE_SIZE, limit: PAGE_SIZE };
    let page = catalog.technique_page_window(&requested.to_string(), exact, &filter, window)?;
    let whole_family = catalog.store().family_facets(page.id, exact).map_err(ServiceError::from)?;
    let family: Vec<FamilyMember> = whole_family.iter().filter(|m| m.direct || !exact).cloned().collect();
    let counts = catalog.store().family_counts(page.id.parent(), &filter).map_err(ServiceError::from)?;
    let mut view = TechniqueView::new(catalog, &page, &family, params, raw_query, |id| counts.family(id))?;
    let recent = catalog.recent_changes(badge_days)?;
    for (card, d) in view.groups.iter_mut().flat_map(|g| g.cards.iter_mut()).zip(&page.listing.detections) {
        card.change_badge = badge(&recent, d);
    }
    view.whats_new = whats_new(catalog, Some(page.id))?;
    let (choices, order) = option_counts(&whole_family, &family, &chosen, params.community());
    let community_vendors = catalog.store().community_vendors();
    let vendor_native = (!view.show_community)
        .then(|| FacetCounts::count(whole_family.iter().map(|m| &m.facets).filter(|f| f.kind == SourceKind::Vendor)));
    let scope = FacetScope { community_vendors: &community_vendors, vendor_native: vendor_native.as_ref() };
    render(&view.with_facets(&choices, &order, &filter, &scope))
}

impl TechniqueView {
    fn new(
        catalog: &Catalog,
        page: &TechniquePage,
        family: &[FamilyMember],
        params: &FilterParams,
        raw_query: &str,
        count: impl Fn(TechniqueId) -> usize,
    ) -> Result<TechniqueView, crate::error::WebError> {
        let (id, filter, exact) = (page.id, params.technique_filter()?, params.exact());
        let offset = (params.page()? - 1) * PAGE_SIZE;
        let cards: Vec<Card> = page
            .listing
            .detections
            .iter()
            .enumerate()
            .map(|(i, d)| Card::new(offset + i, d, Some(id), &filter))
            .collect();
        let kept: Vec<&Facets> = family.iter().map(|m| &m.facets).filter(|f| filter.matches(f)).collect();
        let live = |kind: SourceKind| family.iter().filter(move |m| !m.facets.deprecated && m.facets.kind == kind);
        let technique = page.technique.as_ref();
        let paragraphs = technique.map(|t| attack_paragraphs(&t.description)).unwrap_or_default();
        let name = catalog.technique_name(id).unwrap_or_else(|| "not in the loaded ATT&CK data".into());
        let last = offset + cards.len();
        let page_link = |n: usize| format!("?{}", with_param(raw_query, "page", &n.to_string()));
        let number = params.page()?;
        let mut layout = Layout::new(format!("{id} {name} · detections")).with_attack(catalog.attack_version());
        layout.feeds.push(feed_link(format!("ruledex · what changed for {id}"), technique_feed_href(id)));
        Ok(TechniqueView {
            layout,
            whats_new: vec![],
            feed_href: technique_feed_href(id),
            id: id.to_string(),
            attack_version: catalog.attack_version().unwrap_or_default(),
            revoked_from: page.revoked.map(|r| r.to_string()).unwrap_or_default(),
            in_attack: technique.is_some(),
            deprecated: technique.is_some_and(|t| t.deprecated),
            attack_url: technique.map_or_else(|| id.attack_url(), |t| t.url.clone()),
            parent: page
                .parent
                .as_ref()
                .map(|p| Link { href: technique_url(p.id), label: format!("{} {}", p.id, p.name) }),
            tactics: tactic_links(catalog, technique),
            lead: paragraphs.first().cloned().unwrap_or_default(),
            more: paragraphs.into_iter().skip(1).collect(),
            platforms: technique.map(|t| t.platforms.join(", ")).unwrap_or_default(),
            data_components: technique.map(|t| t.data_components.join(", ")).unwrap_or_default(),
            subtechniques: page
                .subtechniques
                .iter()
                .map(|s| SubView {
                    href: technique_url(s.id),
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    count: count(s.id),
                })
                .collect(),
            is_parent: !id.is_subtechnique(),
            facets: vec![],
            exact,
            show_deprecated: filter.include_deprecated,
            // Asked for outright: naming a community vendor shows its cards, but does not switch
            // community content on for the rest.
            show_community: params.community() || filter.kinds.contains(&SourceKind::Community),
            total: family.len(),
            shown: page.shown,
            first: if cards.is_empty() { 0 } else { offset + 1 },
            last,
            next: if last < page.shown { page_link(number + 1) } else { String::new() },
            previous: if number > 1 { page_link(number - 1) } else { String::new() },
            vendor_native: live(SourceKind::Vendor).filter(|m| m.tagged).count(),
            inferred: live(SourceKind::Vendor).filter(|m| !m.tagged).count(),
            community: live(SourceKind::Community).count(),
            deprecated_count: family.iter().filter(|m| m.facets.deprecated).count(),
            exports: export_menu(
                kept.iter().filter_map(|f| catalog.source_format(&f.source)),
                &with_param(&with_param(raw_query, "page", ""), "technique", &id.to_string()),
            ),
            groups: group_by_vendor(cards, &kept),
            used_by: catalog
                .technique_users(id)
                .into_iter()
                .filter(|o| o.kind == ObjectKind::Group)
                .map(|o| Link { href: o.href, label: o.name })
                .collect(),
            name,
        })
    }

    fn with_facets(
        mut self,
        choices: &FacetCounts,
        order: &FacetCounts,
        filter: &Filter,
        scope: &FacetScope,
    ) -> TechniqueView {
        self.facets = facet_groups(choices, order, filter, scope);
        self
    }
}

/// What each filter checkbox would show, among the detections the sub-technique switch leaves
/// (`listed`), and the whole family's plain counts, which name and order the checkboxes: every
/// value of the family keeps its checkbox and its place whatever is ticked.
fn option_counts(
    whole_family: &[FamilyMember],
    listed: &[FamilyMember],
    chosen: &Filter,
    community: bool,
) -> (FacetCounts, FacetCounts) {
    let counts = FacetCounts::count(whole_family.iter().map(|m| &m.facets));
    let items: Vec<&Facets> = listed.iter().map(|m| &m.facets).collect();
    (counts.if_chosen(&items, chosen, |f| f.vendor_native_unless_asked(community)), counts)
}

fn tactic_links(catalog: &Catalog, technique: Option<&Technique>) -> Vec<Link> {
    let ids = technique.map(|t| t.tactics.as_slice()).unwrap_or_default();
    ids.iter()
        .filter_map(|id| catalog.store().attack().tactic(*id))
        .map(|t| Link { href: t.url.clone(), label: format!("{} ({})", t.name, t.id) })
        .collect()
}

/// Consecutive cards of one vendor (the store lists detections by source, then severity), each
/// group counting its vendor's detections on every page.
fn group_by_vendor(cards: Vec<Card>, kept: &[&Facets]) -> Vec<VendorGroup> {
    let mut per_vendor: HashMap<&str, usize> = HashMap::new();
    for facets in kept {
        *per_vendor.entry(facets.vendor.as_str()).or_default() += 1;
    }
    let mut groups: Vec<VendorGroup> = Vec::new();
    for card in cards {
        match groups.last_mut() {
            Some(group) if group.vendor == card.vendor => group.cards.push(card),
            _ => {
                let shown = per_vendor.get(card.vendor.as_str()).copied().unwrap_or(0);
                groups.push(VendorGroup { vendor: card.vendor.clone(), cards: vec![card], shown });
            }
        }
    }
    groups
}
