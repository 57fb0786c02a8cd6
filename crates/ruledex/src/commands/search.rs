//! `ruledex search QUERY`

use anyhow::Result;
use ruledex_core::query::SearchQuery;
use serde_json::{Value, json};

use super::Env;
use crate::cli::SearchArgs;
use crate::exit;
use crate::output;
use crate::output::outln;

pub fn run(env: &Env, args: &SearchArgs) -> Result<u8> {
    let store = env.open_store()?;
    let query = SearchQuery {
        text: args.query.join(" "),
        filter: args.filter.to_filter(false),
        offset: args.offset,
        limit: args.limit,
    };
    let results = store.search(&query)?;
    if args.output.json {
        let detections: Vec<Value> = results
            .hits
            .iter()
            .map(|hit| {
                let mut value = serde_json::to_value(&hit.detection)?;
                value["score"] = json!(hit.score);
                value["snippet"] = json!(ruledex_store::plain_text(&hit.snippet));
                Ok(value)
            })
            .collect::<Result<_>>()?;
        output::json(&json!({
            "query": query.text,
            "total": results.total,
            "offset": results.offset,
            "limit": results.limit,
            "facets": results.facets,
            "detections": detections,
        }))?;
        return Ok(exit::OK);
    }
    let last = results.offset + results.hits.len();
    outln!("{} detections match {:?}; showing {}-{}", results.total, query.text, results.offset + 1, last)?;
    for hit in &results.hits {
        outln!("{}", output::detection_line(&hit.detection, &output::highlighted(&hit.title)))?;
        outln!("    {}", output::highlighted(&hit.snippet.replace('\n', " ")))?;
    }
    if last < results.total {
        outln!("\nmore: --offset {last}")?;
    }
    Ok(exit::OK)
}
