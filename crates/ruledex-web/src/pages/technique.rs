//! `/techniques/{id}`: a technique and its detections.
//!
//! The server applies the URL's filters and sends the first page of the detections they keep
//! (the largest families hold thousands), with counts for every filter choice taken over the
//! whole family from the catalog's in-memory facets. Without JavaScript, filters reload the
//! page and a link shows the next page; with it, `static/app.js` fetches the same URLs and
//! swaps the results in place.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use ruledex_app::Catalog;
use ruledex_app::links::technique as technique_url;
use ruledex_app::request::TechniqueRequest;
use ruledex_app::request::vocabulary::TECHNIQUE_PAGE;
use ruledex_app::wire::{TechniqueJson, TechniquePageJson};
use ruledex_core::ids::{ObjectKind, TechniqueId};
use ruledex_core::model::SourceKind;
use ruledex_core::query::Filter;

use super::changes::{ChangeItem, badge, feed_link, technique_feed_href, whats_new};
use super::render;
use super::view::{Card, ExportLink, FacetGroup, attack_paragraphs, export_menu, facet_groups, with_param};
use crate::error::WebError;
use crate::layout::Layout;
use crate::params::{PathParams, arguments};
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
    /// Show the detections listed only through ruledex's mapping.
    show_inferred: bool,
    /// Live vendor detections their vendor tagged with the technique.
    vendor_native: usize,
    /// Live vendor detections listed only through ruledex's mapping of vendor labels.
    inferred: usize,
    community: usize,
    deprecated_count: usize,
    exports: Vec<ExportLink>,
    /// The filter values asked for, in words ("Splunk, SPL"): the headline counts what they
    /// keep. Empty without filters.
    filter_label: String,
    /// This page with community content switched on.
    community_href: String,
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

/// `/techniques/{id}`: the technique's page, at its canonical address (an ID or a name in any
/// spelling leads there; a mistyped one gets the closest techniques).
pub async fn technique(
    State(state): State<AppState>,
    PathParams(raw, _): PathParams<String>,
    query: RawQuery,
) -> Result<Response, WebError> {
    let raw_query = query.0.clone().unwrap_or_default();
    let request = TechniqueRequest::from_arguments(&arguments(&TECHNIQUE_PAGE, &query, Some(raw.clone()))?)?;
    let badge_days = state.badge_days();
    state
        .run(Cost::Ordinary, move |catalog| {
            let id = catalog.find_technique(&request.technique)?;
            if id.to_string() != raw {
                let query = if raw_query.is_empty() { String::new() } else { format!("?{raw_query}") };
                return Ok(Redirect::permanent(&format!("{}{query}", technique_url(id))).into_response());
            }
            Ok(technique_view(catalog, &request, &raw_query, badge_days)?.into_response())
        })
        .await
}

/// `/techniques/T1090/003`, as attack.mitre.org spells sub-techniques, leads to T1090.003.
pub async fn technique_by_url_path(
    PathParams((id, sub), _): PathParams<(String, String)>,
    query: RawQuery,
) -> Result<Redirect, WebError> {
    let id: TechniqueId = format!("{id}/{sub}").parse().map_err(|e| WebError::bad_request(format!("{e}")))?;
    let query = query.0.map(|q| format!("?{q}")).unwrap_or_default();
    Ok(Redirect::permanent(&format!("{}{query}", technique_url(id))))
}

fn technique_view(
    catalog: &Catalog,
    request: &TechniqueRequest,
    raw_query: &str,
    badge_days: u32,
) -> Result<axum::response::Html<String>, WebError> {
    let page = catalog.technique(request)?;
    let mut view = TechniqueView::new(catalog, &page, request, raw_query);
    let recent = catalog.recent_changes(badge_days)?;
    for (card, d) in view.groups.iter_mut().flat_map(|g| g.cards.iter_mut()).zip(&page.detections) {
        card.change_badge = badge(&recent, &d.source, &d.id);
    }
    view.whats_new = whats_new(catalog, Some(page.id))?;
    view.facets = facet_groups(&page.choices, &page.facets, &request.filters, &catalog.community_vendors());
    render(&view)
}

impl TechniqueView {
    fn new(catalog: &Catalog, page: &TechniquePageJson, request: &TechniqueRequest, raw_query: &str) -> TechniqueView {
        let id = page.id;
        let offset = page.offset;
        let cards: Vec<Card> =
            page.detections.iter().enumerate().map(|(i, d)| Card::new(offset + i, d, Some(id))).collect();
        let technique = page.technique.as_ref();
        let paragraphs = technique.map(|t| attack_paragraphs(&t.description)).unwrap_or_default();
        let name = catalog.technique_name(id).unwrap_or_else(|| "not in the loaded ATT&CK data".into());
        let last = offset + cards.len();
        let page_link = |offset: usize| {
            format!("?{}", with_param(&with_param(raw_query, "page", ""), "offset", &offset.to_string()))
        };
        let mut layout = Layout::new(format!("{id} {name} · detections")).with_attack(catalog.attack_version());
        layout.feeds.push(feed_link(format!("ruledex · what changed for {id}"), technique_feed_href(id)));
        let asked = &request.filters;
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
                    count: s.count,
                })
                .collect(),
            is_parent: !id.is_subtechnique(),
            facets: vec![],
            exact: page.exact,
            show_deprecated: asked.asked.include_deprecated,
            // Asked for outright: naming a community vendor shows its cards, but does not switch
            // community content on for the rest.
            show_community: asked.community || asked.asked.kinds.contains(&SourceKind::Community),
            show_inferred: asked.asked.include_inferred,
            total: page.total,
            shown: page.shown,
            first: if cards.is_empty() { 0 } else { offset + 1 },
            last,
            next: if page.more > 0 { page_link(last) } else { String::new() },
            previous: if offset > 0 { page_link(offset.saturating_sub(page.limit)) } else { String::new() },
            vendor_native: page.counts.vendor_native,
            inferred: page.counts.inferred,
            community: page.counts.community,
            deprecated_count: page.counts.deprecated,
            filter_label: filter_label(&asked.asked),
            community_href: format!("?{}", with_param(&with_param(raw_query, "offset", ""), "community", "1")),
            exports: export_menu(
                page.shown_facets.sources.keys().filter_map(|source| catalog.source_format(source)),
                &with_param(
                    &with_param(&with_param(raw_query, "page", ""), "offset", ""),
                    "technique",
                    &id.to_string(),
                ),
            ),
            groups: group_by_vendor(cards, page),
            used_by: catalog
                .technique_users(id)
                .into_iter()
                .filter(|o| o.kind == ObjectKind::Group)
                .map(|o| Link { href: o.href, label: o.name })
                .collect(),
            name,
        }
    }
}

/// The values a filter asks for, as people read them: "Splunk, SPL, high".
fn filter_label(filter: &Filter) -> String {
    let words: Vec<String> = (filter.sources.iter().chain(&filter.vendors).cloned())
        .chain(filter.languages.iter().map(|l| l.label().to_string()))
        .chain(filter.severities.iter().map(|s| s.label().to_string()))
        .chain(filter.rule_types.iter().map(|t| t.label().to_string()))
        .chain(filter.statuses.iter().map(|s| s.as_str().to_string()))
        .chain(filter.data_sources.iter().cloned())
        .collect();
    words.join(", ")
}

fn tactic_links(catalog: &Catalog, technique: Option<&TechniqueJson>) -> Vec<Link> {
    let Some(technique) = technique else { return vec![] };
    let tactics = catalog.tactics(technique.domain);
    technique
        .tactics
        .iter()
        .filter_map(|id| tactics.iter().find(|t| t.id == *id))
        .map(|t| Link { href: t.url.clone(), label: format!("{} ({})", t.name, t.id) })
        .collect()
}

/// Consecutive cards of one vendor (the store lists detections by source, then severity), each
/// group counting its vendor's detections on every page.
fn group_by_vendor(cards: Vec<Card>, page: &TechniquePageJson) -> Vec<VendorGroup> {
    let mut groups: Vec<VendorGroup> = Vec::new();
    for card in cards {
        match groups.last_mut() {
            Some(group) if group.vendor == card.vendor => group.cards.push(card),
            _ => {
                let shown = page.shown_facets.vendors.get(card.vendor.as_str()).copied().unwrap_or(0);
                groups.push(VendorGroup { vendor: card.vendor.clone(), cards: vec![card], shown });
            }
        }
    }
    groups
}
