//! Rule text is untrusted: it must render as text everywhere, under a strict CSP.

use crate::util::{fixture_server, select, shared_server, texts};

/// The fixture rule fixture_hostile_strings carries script tags, event handlers and a
/// `javascript:` reference in its title, description, query, data source and references.
#[test]
fn hostile_strings_in_rules_render_as_text() {
    let server = fixture_server();
    for path in ["/detections/chronicle/fixture_hostile_strings", "/techniques/T1090", "/search?q=hostile"] {
        let body = server.get(path).ok().body;
        for raw in ["<script>alert", "<img src=x onerror", "<svg onload", "</textarea><script>", "href=\"javascript:"] {
            assert!(!body.contains(raw), "{path} contains raw {raw:?}");
        }
    }
    let html = server.get("/detections/chronicle/fixture_hostile_strings").ok().html();
    assert_eq!(
        texts(&html, "h1"),
        vec!["\"><img src=x onerror=alert(document.domain)> <script>alert('title')</script> Hostile"],
        "the title is shown as written"
    );
    assert!(html.select(&select("script:not([src])")).next().is_none(), "no inline script");
    assert!(html.select(&select("img")).next().is_none());
    let reference_links: Vec<_> = html.select(&select(".refs a")).collect();
    assert!(reference_links.is_empty(), "a javascript: reference is not a link");
    assert!(texts(&html, ".refs li")[0].starts_with("javascript:alert"));
    let query: String = html.select(&select("pre.code code")).next().unwrap().text().collect();
    assert!(query.contains("</code></pre><script>alert('query')</script>"), "the query keeps its text");

    // JSON carries the text as it is; browsers never render it as a page.
    let api = server.get("/api/v1/detections/chronicle/fixture_hostile_strings").ok();
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(api.header("x-content-type-options"), Some("nosniff"));
    assert!(api.json()["title"].as_str().unwrap().contains("<script>alert('title')</script>"));
}

#[test]
fn every_page_is_served_with_a_strict_policy_and_no_inline_code() {
    let server = shared_server();
    for path in
        ["/", "/techniques/T1090", "/detections/chronicle/gcti_tor_exit_nodes", "/search?q=tor", "/sources", "/nowhere"]
    {
        let page = server.get(path);
        let policy = page.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-inline"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        let html = page.html();
        assert!(html.select(&select("script:not([src])")).next().is_none(), "{path}: inline script");
        assert!(html.select(&select("[style]")).next().is_none(), "{path}: inline style");
        let handlers = html
            .root_element()
            .descendants()
            .filter_map(scraper::ElementRef::wrap)
            .any(|e| e.value().attrs().any(|(name, _)| name.starts_with("on")));
        assert!(!handlers, "{path}: inline event handler");
        for link in html.select(&select("link[href]:not([rel=alternate]), script[src]")) {
            let target = link.value().attr("href").or(link.value().attr("src")).unwrap_or_default();
            assert!(target.starts_with("/static/"), "{path}: asset from elsewhere: {target}");
        }
        for feed in html.select(&select("link[rel=alternate]")) {
            let target = feed.value().attr("href").unwrap_or_default();
            assert!(target.starts_with('/') && target.ends_with("/feed.atom"), "{path}: feed elsewhere: {target}");
        }
    }
}
