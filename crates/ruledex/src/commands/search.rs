//! `ruledex search QUERY`: a page of matches (`--all`: every page, one after another).

use anyhow::Result;
use ruledex_app::Catalog;
use ruledex_app::request::vocabulary::MAX_LIMIT;
use ruledex_app::request::{Page, SearchRequest};
use ruledex_app::wire::{SearchHitJson, SearchJson};

use super::{Env, following_pages};
use crate::cli::SearchArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &SearchArgs) -> Result<u8> {
    let mut request = SearchRequest::from_arguments(&args.given.arguments()?)?;
    if args.all {
        request.page = Page::first(usize::try_from(MAX_LIMIT).unwrap_or(usize::MAX));
    }
    let catalog = env.open_catalog()?;
    let first = catalog.search(&request)?;
    let rest = pages(&catalog, &request, &first, args.all);
    if args.output.json {
        output::json_listing(&first, args.all, rest)?;
    } else {
        print_results(&request, &first, rest, args.all)?;
    }
    // Nothing found is a failed search, for scripts that test `ruledex search ... && ...`.
    Ok(if first.total == 0 { exit::FAILED } else { exit::OK })
}

/// The pages after `first`, when every one is asked for. A search's pages all come from the
/// search as corrected for the first, if it was.
fn pages<'a>(
    catalog: &'a Catalog,
    request: &'a SearchRequest,
    first: &SearchJson,
    all: bool,
) -> impl Iterator<Item = Result<Vec<SearchHitJson>>> + 'a {
    let listed = first.offset + first.detections.len();
    let more = if all { first.total.saturating_sub(listed) } else { 0 };
    let text = first.corrected_query.clone().unwrap_or_else(|| request.text.clone());
    following_pages(listed, more, move |offset| {
        let page = SearchRequest { text: text.clone(), page: Page { offset, ..request.page }, ..request.clone() };
        let page = catalog.search(&page)?;
        let after = page.total.saturating_sub(offset + page.detections.len());
        Ok((page.detections, after))
    })
}

fn print_results(
    request: &SearchRequest,
    first: &SearchJson,
    rest: impl Iterator<Item = Result<Vec<SearchHitJson>>>,
    all: bool,
) -> Result<()> {
    if first.total == 0 {
        outln!(
            "no detection matches {:?}{}; fewer words, prefix* or OR find more",
            request.text,
            if request.filters.asked.is_empty() { "" } else { " with these filters" }
        )?;
        return Ok(());
    }
    if let Some(corrected) = &first.corrected_query {
        outln!("{:?} finds almost nothing; showing results for {corrected:?}", request.text)?;
    }
    let searched = first.corrected_query.as_ref().unwrap_or(&request.text);
    let last = if all { first.total } else { first.offset + first.detections.len() };
    let showing = match (first.offset + 1, last) {
        (_, 0) => String::new(),
        (first, last) if first > last => format!("; none from {first}"),
        (first, last) => format!("; showing {first}-{last}"),
    };
    let attack = first.attack_version.as_ref().map(|v| format!(" · ATT&CK v{v}")).unwrap_or_default();
    let partial = first.partial_note();
    outln!("{} match {:?}{partial}{showing}{attack}", output::plural(first.total, "detection"), searched)?;
    print_hits(&first.detections)?;
    for page in rest {
        print_hits(&page?)?;
    }
    if last < first.total {
        outln!("\nmore: --offset {last}, or --all for every match")?;
    }
    Ok(())
}

fn print_hits(hits: &[SearchHitJson]) -> std::io::Result<()> {
    for hit in hits {
        output::styled(&output::detection_line(&hit.detection, &output::highlighted(&hit.title_marked)))?;
        output::styled(&format!("    {}", output::highlighted(&hit.snippet_marked).replace('\n', " ")))?;
    }
    Ok(())
}
