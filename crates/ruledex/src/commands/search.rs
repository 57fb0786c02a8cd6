//! `ruledex search QUERY`

use anyhow::Result;
use ruledex_app::wire::{FacetsJson, SearchHitJson, SearchJson};
use ruledex_core::query::SearchQuery;

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
        limit: args.limit,
    };
    let results = catalog.search(&query)?;
    if args.output.json {
        output::json(&SearchJson {
            query: query.text.clone(),
            total: results.total,
            offset: results.offset,
            limit: results.limit,
            facets: FacetsJson::from(&results.facets),
            detections: results.hits.iter().map(SearchHitJson::from).collect(),
        })?;
        return Ok(exit::OK);
    }
    let last = results.offset + results.hits.len();
    outln!("{} detections match {:?}; showing {}-{}", results.total, query.text, results.offset + 1, last)?;
    for hit in &results.hits {
        output::styled(&output::detection_line(&hit.detection, &output::highlighted(&hit.title)))?;
        output::styled(&format!("    {}", output::highlighted(&hit.snippet).replace('\n', " ")))?;
    }
    if last < results.total {
        outln!("\nmore: --offset {last}")?;
    }
    Ok(exit::OK)
}
