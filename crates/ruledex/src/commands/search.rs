//! `ruledex search QUERY`

use anyhow::Result;
use ruledex_app::wire::SearchJson;
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
        output::json(&SearchJson::new(query.text.clone(), &results))?;
        return Ok(exit::OK);
    }
    if let Some(corrected) = &results.corrected_query {
        outln!("{:?} finds almost nothing; showing results for {corrected:?}", query.text)?;
    }
    let searched = results.corrected_query.as_ref().unwrap_or(&query.text);
    let last = results.offset + results.hits.len();
    if results.hits.is_empty() {
        outln!("{} detections match {searched:?}", results.total)?;
        return Ok(exit::OK);
    }
    outln!("{} detections match {searched:?}; showing {}-{}", results.total, results.offset + 1, last)?;
    for hit in &results.hits {
        output::styled(&output::detection_line(&hit.detection, &output::highlighted(&hit.title)))?;
        output::styled(&format!("    {}", output::highlighted(&hit.snippet).replace('\n', " ")))?;
    }
    if last < results.total {
        outln!("\nmore: --offset {last}")?;
    }
    Ok(exit::OK)
}
