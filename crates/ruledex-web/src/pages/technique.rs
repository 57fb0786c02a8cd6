//! `/techniques/{id}`: a technique and every detection for it.
//!
//! The page holds all the technique's detections (its sub-techniques', deprecated and community
//! ones too) and marks those the URL's filters exclude as `hidden`, so the filters work without
//! JavaScript (the form reloads the page) and, with it, without reloading.

use askama::Template;
use axum::extract::{RawQuery, State};
use ruledex_core::attack::Technique;
use ruledex_core::ids::TechniqueId;
use ruledex_core::model::SourceKind;
use ruledex_core::query::{FacetCounts, Facets, Filter};
use ruledex_store::TechniquePage;

use ruledex_app::links::technique as technique_url;
use ruledex_app::{Catalog, ServiceError};

use super::changes::{ChangeItem, badge, feed_link, technique_feed_href, whats_new};
use super::view::{Card, FacetGroup, attack_paragraphs, facet_groups};
use super::{PageResult, params, render};
use crate::layout::Layout;
use crate::params::{PathParams, technique_id};
use crate::state::{AppState, Cost};

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
    total: usize,
    shown: usize,
    vendor_native: usize,
    community: usize,
    deprecated_count: usize,
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
    shown: usize,
}

pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String>,
    query: RawQuery,
) -> PageResult {
    let params = params(&query)?;
    let requested = technique_id(&raw)?;
    let chosen = params.filter()?;
    let filter = params.technique_filter()?;
    let (community, exact) = (params.community(), params.exact());
    let badge_days = state.badge_days();
    state
        .run(Cost::Ordinary, move |catalog| {
            let everything = Filter { include_deprecated: true, ..Filter::default() };
            let page = catalog.technique_page(&requested.to_string(), false, &everything)?;
            let counts = catalog.store().family_counts(page.id.parent(), &filter).map_err(ServiceError::from)?;
            let facets = option_counts(&page, &chosen, community, exact);
            let mut view = TechniqueView::new(catalog, &page, &filter, facets, exact, |id| counts.family(id));
            let recent = catalog.recent_changes(badge_days)?;
            for (card, d) in view.groups.iter_mut().flat_map(|g| g.cards.iter_mut()).zip(&page.listing.detections) {
                card.change_badge = badge(&recent, d);
            }
            view.whats_new = whats_new(catalog, Some(page.id))?;
            render(&view)
        })
        .await
}

impl TechniqueView {
    fn new(
        catalog: &Catalog,
        page: &TechniquePage,
        filter: &Filter,
        facets: FacetCounts,
        exact: bool,
        count: impl Fn(TechniqueId) -> usize,
    ) -> TechniqueView {
        let id = page.id;
        let cards: Vec<Card> = page
            .listing
            .detections
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut card = Card::new(i, d, Some(id), filter);
                card.hidden |= exact && !card.direct;
                card
            })
            .collect();
        let live = |c: &&Card| !c.deprecated && (c.direct || !exact);
        let technique = page.technique.as_ref();
        let paragraphs = technique.map(|t| attack_paragraphs(&t.description)).unwrap_or_default();
        let name = catalog.technique_name(id).unwrap_or_else(|| "not in the loaded ATT&CK data".into());
        let mut layout = Layout::new(format!("{id} {name} · detections"));
        layout.feeds.push(feed_link(format!("ruledex · what changed for {id}"), technique_feed_href(id)));
        TechniqueView {
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
            facets: facet_groups(&facets, &page.listing.facets, filter),
            exact,
            show_deprecated: filter.include_deprecated,
            show_community: !filter.kinds.contains(&SourceKind::Vendor)
                || filter.kinds.contains(&SourceKind::Community),
            total: cards.len(),
            shown: cards.iter().filter(|c| !c.hidden).count(),
            vendor_native: cards.iter().filter(live).filter(|c| !c.community).count(),
            community: cards.iter().filter(live).filter(|c| c.community).count(),
            deprecated_count: cards.iter().filter(|c| c.deprecated).count(),
            groups: group_by_vendor(cards),
            name,
        }
    }
}

/// What each filter checkbox would show, among the detections the sub-technique switch leaves;
/// every value of the whole list keeps its checkbox.
/// static/app.js counts the same way as boxes are ticked.
fn option_counts(page: &TechniquePage, chosen: &Filter, community: bool, exact: bool) -> FacetCounts {
    let id = page.id;
    let items: Vec<Facets> = page
        .listing
        .detections
        .iter()
        .filter(|d| !exact || d.techniques.iter().any(|m| m.id == id))
        .map(Facets::from)
        .collect();
    let items: Vec<&Facets> = items.iter().collect();
    page.listing.facets.if_chosen(&items, chosen, |f| f.vendor_native_unless_asked(community))
}

fn tactic_links(catalog: &Catalog, technique: Option<&Technique>) -> Vec<Link> {
    let ids = technique.map(|t| t.tactics.as_slice()).unwrap_or_default();
    ids.iter()
        .filter_map(|id| catalog.store().attack().tactic(*id))
        .map(|t| Link { href: t.url.clone(), label: format!("{} ({})", t.name, t.id) })
        .collect()
}

/// Consecutive cards of one vendor (the store lists detections by source, then severity).
fn group_by_vendor(cards: Vec<Card>) -> Vec<VendorGroup> {
    let mut groups: Vec<VendorGroup> = Vec::new();
    for card in cards {
        match groups.last_mut() {
            Some(group) if group.vendor == card.vendor => group.cards.push(card),
            _ => groups.push(VendorGroup { vendor: card.vendor.clone(), cards: vec![card], shown: 0 }),
        }
    }
    for group in &mut groups {
        group.shown = group.cards.iter().filter(|c| !c.hidden).count();
    }
    groups
}
