//! `ruledex search QUERY`

use anyhow::Result;
use ruledex_app::Catalog;
use ruledex_app::wire::{FacetsJson, SearchHitJson, SearchJson};
use ruledex_core::query::SearchQuery;
use ruledex_store::SearchResults;

use super::Env;
use crate::cli::SearchArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &SearchArgs) -> Result<u8> {
    let catalog = env.open_catalog()?;
    let query = SearchQuery {
        text: args.query.join(" "),
        filter: args.filter.to_filter(false),
        offset: args.offset,
        limit: if args.all { SearchQuery::MAX_LIMIT } else { args.limit },
    };
    let results = if args.all { every_page(&catalog, query.clone())? } else { catalog.search(&query)? };
    if args.output.json {
        output::json(&SearchJson {
            query: query.text.clone(),
            total: results.total,
            offset: results.offset,
            limit: results.limit,
            facets: FacetsJson::from(&results.facets),
            detections: results.hits.iter().map(SearchHitJson::from).collect(),
        })?;
    } else {
        print_results(&query, &results)?;
    }
    // Nothing found is a failed search, for scripts that test `ruledex search ... && ...`.
    Ok(if results.total == 0 { exit::FAILED } else { exit::OK })
}

/// Every match, page after page, as one result list.
fn every_page(catalog: &Catalog, mut query: SearchQuery) -> Result<SearchResults> {
    let mut results = catalog.search(&query)?;
    while results.offset + results.hits.len() < results.total {
        query.offset = results.offset + results.hits.len();
        let page = catalog.search(&query)?;
        if page.hits.is_empty() {
            break;
        }
        results.hits.extend(page.hits);
    }
    results.limit = results.hits.len();
    Ok(results)
}

fn print_results(query: &SearchQuery, results: &SearchResults) -> std::io::Result<()> {
    if results.total == 0 {
        return outln!(
            "no detection matches {:?}{}; fewer words, prefix* or OR find more",
            query.text,
            if query.filter.is_empty() { "" } else { " with these filters" }
        );
    }
    let last = results.offset + results.hits.len();
    let showing = match (results.offset + 1, last) {
        (_, 0) => String::new(),
        (first, last) if first > last => format!("; none from {first}"),
        (first, last) => format!("; showing {first}-{last}"),
    };
    outln!("{} match {:?}{showing}", output::plural(results.total, "detection"), query.text)?;
    for hit in &results.hits {
        output::styled(&output::detection_line(&hit.detection, &output::highlighted(&hit.title)))?;
        output::styled(&format!("    {}", output::highlighted(&hit.snippet).replace('\n', " ")))?;
    }
    if last < results.total {
        outln!("\nmore: --offset {last}, or --all for every match")?;
    }
    Ok(())
}
