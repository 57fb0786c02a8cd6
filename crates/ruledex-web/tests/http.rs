//! Pages and API over HTTP on the catalog of every corpus in ../shared.

use scraper::ElementRef;

use crate::util::{Server, configured_sources, select, shared_server, texts};
use ruledex_app::sync::SyncPhase;
use ruledex_web::{AppState, Limits};

fn cards<'a>(html: &'a scraper::Html) -> Vec<ElementRef<'a>> {
    html.select(&select("article.card")).collect()
}

fn visible<'a>(html: &'a scraper::Html) -> Vec<ElementRef<'a>> {
    cards(html).into_iter().filter(|c| c.value().attr("hidden").is_none()).collect()
}

fn attr<'a>(element: &ElementRef<'a>, name: &str) -> &'a str {
    element.value().attr(name).unwrap_or_default()
}

fn card_titled<'a>(html: &'a scraper::Html, title: &str) -> ElementRef<'a> {
    cards(html)
        .into_iter()
        .find(|c| c.select(&select("h3 a")).next().is_some_and(|a| a.text().collect::<String>() == title))
        .unwrap_or_else(|| panic!("no card titled {title:?}"))
}

#[test]
fn the_t1090_page_shows_every_vendor_rule_of_the_reference_page_with_its_query() {
    let page = shared_server().get("/techniques/T1090").ok();
    let html = page.html();
    assert_eq!(texts(&html, "h1"), vec!["T1090 Proxy"]);
    for title in [
        "GCTI Tor Exit Nodes",
        "GCTI Benign Binaries Contacts Tor Exit Node",
        "Google Safebrowsing File Contacts Tor Exit Node",
        "VT Relationships File Contacts Tor IP",
        "AWS GuardDuty Tor Network Activity Detected",
        "MITRE ATT&CK T1090 Port Proxy Forwarding CISA Report",
        "Windows Proxy Via Netsh",
        "Windows Proxy Via Registry",
        "FortiGate SOCKS Traffic from an Unusual Process",
    ] {
        let card = card_titled(&html, title);
        assert!(attr(&card, "hidden").is_empty() && card.value().attr("hidden").is_none(), "{title} is shown");
        let query: String = card.select(&select("details.query pre code")).next().unwrap().text().collect();
        assert!(!query.trim().is_empty(), "{title} has its query");
        assert!(card.select(&select("button.copy")).next().is_some(), "{title} has a copy button");
        let upstream = card.select(&select("p.prov a")).next().map(|a| attr(&a, "href")).unwrap_or_default();
        assert!(upstream.starts_with("https://github.com/"), "{title} links upstream: {upstream:?}");
    }
    let fortigate = card_titled(&html, "FortiGate SOCKS Traffic from an Unusual Process");
    let query: String = fortigate.select(&select("pre code")).next().unwrap().text().collect();
    assert!(query.starts_with("sequence by source.port"), "the Elastic EQL query is shown: {query}");
    assert_eq!(attr(&fortigate, "data-language"), "eql");
}

#[test]
fn the_header_counts_match_the_cards_and_the_api() {
    let page = shared_server().get("/techniques/T1090").ok();
    let html = page.html();
    let shown: usize = texts(&html, "#shown-count")[0].parse().unwrap();
    assert_eq!(shown, visible(&html).len());
    assert_eq!(shown, cards(&html).len(), "the page carries only the cards its filters keep");
    let api = shared_server().get("/api/v1/techniques/T1090").ok().json();
    let line = &texts(&html, "#shown-line")[0];
    let family = format!("shown of the {} detections listed for T1090 and its sub-techniques", api["total"]);
    assert!(line.contains(&family), "says what the family counts: {line}");
    assert_eq!(api["shown"].as_u64().unwrap() as usize, shown, "page and API agree on the default view");
    let headline = texts(&html, ".headline strong")[0].parse::<usize>().unwrap();
    assert_eq!(headline, shown);
}

#[test]
fn filters_in_the_url_work_without_javascript() {
    let html = shared_server().get("/techniques/T1090?vendor=Splunk").ok().html();
    let shown = visible(&html);
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|c| attr(c, "data-vendor") == "Splunk"));
    assert!(html.select(&select("input[name=vendor][value=Splunk][checked]")).next().is_some());

    let html = shared_server().get("/techniques/T1090?language=yara-l&severity=critical").ok().html();
    assert!(
        visible(&html).iter().all(|c| attr(c, "data-language") == "yara-l" && attr(c, "data-severity") == "critical")
    );
    assert_eq!(visible(&html).len(), 2, "two critical YARA-L rules on the reference page");
}

/// Issue 7, item 9: the largest families were 5 to 6.5 MB of HTML. The page sends the first
/// cards with counts for every filter over the whole family, and the rest a page at a time,
/// through links that work without JavaScript.
#[test]
fn large_families_come_a_page_at_a_time_with_accurate_counts() {
    let server = shared_server();
    let first = server.get("/techniques/T1059?community=1").ok();
    assert!(first.body.len() < 1_500_000, "the first page is {} bytes", first.body.len());
    let html = first.html();
    let shown: usize = texts(&html, "#shown-count")[0].parse().unwrap();
    let api = server.get("/api/v1/techniques/T1059?community=1").ok().json();
    assert_eq!(shown, api["shown"].as_u64().unwrap() as usize, "the count covers every page");
    assert_eq!(visible(&html).len(), 100);
    let vendor_counts: usize = html
        .select(&select("#filters fieldset[data-facet=vendor] .count"))
        .map(|c| c.text().collect::<String>().parse::<usize>().unwrap())
        .sum();
    assert_eq!(vendor_counts, shown, "vendor counts add up to every card, not the first page's");

    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/techniques/T1059?community=1".to_string());
    while let Some(path) = next {
        let html = server.get(&path).ok().html();
        seen.extend(html.select(&select("article.card h3 a")).map(|a| attr(&a, "href").to_string()));
        next = html.select(&select("#pager a.more")).next().map(|a| format!("/techniques/T1059{}", attr(&a, "href")));
    }
    let mut expected: Vec<String> = Vec::new();
    let mut offset = 0;
    loop {
        let page = server.get(&format!("/api/v1/techniques/T1059?community=1&limit=100&offset={offset}")).ok().json();
        let detections = page["detections"].as_array().unwrap();
        let text = |d: &serde_json::Value, key: &str| d[key].as_str().unwrap().to_string();
        let links = detections.iter().map(|d| ruledex_app::links::detection(&text(d, "source"), &text(d, "id")));
        expected.extend(links);
        offset += detections.len();
        if page["more"] == 0 {
            break;
        }
    }
    assert_eq!(expected.len(), shown, "the API's pages list every detection shown");
    assert_eq!(seen, expected, "following next links lists every card once, in the API's order");
    assert_eq!(server.get("/techniques/T1059?page=0").status, 400);
    let beyond = server.get("/techniques/T1059?page=1000000000000000000");
    assert_eq!(beyond.status, 400, "page arithmetic is checked, never wrapped");
    assert!(texts(&beyond.html(), "section.error")[0].contains("give a whole number from 1 to 10000"));
}

/// A checkbox's count is what ticking it shows.
#[test]
fn filter_counts_promise_what_ticking_them_shows() {
    let html = shared_server().get("/techniques/T1090?severity=medium").ok().html();
    let options: Vec<(String, String, usize)> = html
        .select(&select("#filters fieldset.facet label"))
        .map(|label| {
            let input = label.select(&select("input")).next().unwrap();
            let count = label.select(&select(".count")).next().unwrap().text().collect::<String>();
            (attr(&input, "name").to_string(), attr(&input, "value").to_string(), count.parse().unwrap())
        })
        .collect();
    assert!(options.len() > 10);
    for (name, value, count) in options.iter().filter(|(name, ..)| name != "severity").take(12) {
        let path = format!("/techniques/T1090?severity=medium&{name}={}", ruledex_core::url::encode_component(value));
        let shown = visible(&shared_server().get(&path).ok().html()).len();
        assert_eq!(*count, shown, "{name}={value}");
    }
    assert!(
        !options.iter().any(|(name, value, _)| name == "language" && value == "sigma"),
        "a value only community content has is not offered while community content is hidden"
    );
    let with_community = shared_server().get("/techniques/T1090?severity=medium&community=1").ok().html();
    let sigma = with_community
        .select(&select("#filters fieldset.facet label"))
        .find(|label| label.select(&select("input[name=language][value=sigma]")).next().is_some())
        .expect("with community content on, Sigma is a language to filter by");
    let count: usize = sigma.select(&select(".count")).next().unwrap().text().collect::<String>().parse().unwrap();
    let shown =
        visible(&shared_server().get("/techniques/T1090?severity=medium&community=1&language=sigma").ok().html()).len();
    assert_eq!(count, shown);
    assert!(count > 0);
}

#[test]
fn deprecated_community_and_sub_technique_cards_follow_their_switches() {
    let default = shared_server().get("/techniques/T1090").ok().html();
    assert!(visible(&default).iter().all(|c| attr(c, "data-deprecated") == "0" && attr(c, "data-kind") == "vendor"));
    let toggle = texts(&default, "#filters .toggles label").into_iter().find(|t| t.starts_with("deprecated")).unwrap();
    assert_ne!(toggle, "deprecated (0)", "the switch says how many deprecated detections it would add");

    let with = shared_server().get("/techniques/T1090?deprecated=1&community=1").ok().html();
    assert!(visible(&with).iter().any(|c| attr(c, "data-deprecated") == "1"));
    assert!(visible(&with).iter().any(|c| attr(c, "data-kind") == "community"));
    assert_eq!(visible(&with).len(), cards(&with).len());

    let exact = shared_server().get("/techniques/T1090?exact=1").ok().html();
    assert!(!visible(&exact).is_empty());
    assert!(visible(&exact).iter().all(|c| attr(c, "data-direct") == "1"));
    assert!(visible(&exact).len() < visible(&default).len());
}

#[test]
fn technique_pages_link_parents_sub_techniques_and_chips() {
    let html = shared_server().get("/techniques/T1090").ok().html();
    let subs: Vec<&str> = html.select(&select("a.sub")).map(|a| attr(&a, "href")).collect();
    assert_eq!(
        subs,
        vec!["/techniques/T1090.001", "/techniques/T1090.002", "/techniques/T1090.003", "/techniques/T1090.004"]
    );
    assert!(html.select(&select("a.chip[href='/techniques/T1090.003']")).next().is_some());
    assert!(texts(&html, ".crumbs")[0].contains("Command and Control (TA0011)"));
    let sub = shared_server().get("/techniques/T1090.003").ok().html();
    assert_eq!(texts(&sub, "h1"), vec!["T1090.003 Proxy: Multi-hop Proxy"]);
    assert!(sub.select(&select(".crumbs a[href='/techniques/T1090']")).next().is_some());
    let revoked = shared_server().get("/techniques/T1086").ok().html();
    assert!(texts(&revoked, ".notice")[0].starts_with("T1086 was revoked in ATT&CK and replaced by T1059.001"));
}

#[test]
fn the_detection_page_shows_the_whole_model() {
    let html = shared_server().get("/detections/splunk/windows_proxy_via_netsh").ok().html();
    assert_eq!(texts(&html, "h1"), vec!["Windows Proxy Via Netsh"]);
    let native: String = html.select(&select("#native")).next().unwrap().text().collect();
    assert!(native.starts_with("name: Windows Proxy Via Netsh"), "the whole native rule");
    let page_text: String = html.root_element().text().collect();
    for expected in [
        "False positives",
        "How to implement",
        "References",
        "Sysmon EventID 1",
        "T1090.001",
        "runs without the vendor's app",
    ] {
        assert!(page_text.contains(expected), "missing {expected}");
    }
    assert!(!page_text.contains("macro process_netsh"), "an expanded macro is not needed in the SIEM");
    let commit = html.select(&select("a[href$='/commit/b13b314aed0e1778335a55620474e7d27289a20a']")).next();
    assert!(commit.is_some(), "links the upstream commit");
    let raw = shared_server().get("/detections/splunk/windows_proxy_via_netsh/raw").ok();
    assert!(raw.body.starts_with("name: Windows Proxy Via Netsh"));
    assert_eq!(raw.header("content-disposition"), Some("attachment; filename=\"windows_proxy_via_netsh.yml\""));
}

#[test]
fn search_ranks_highlights_and_offers_techniques() {
    let html = shared_server().get("/search?q=netsh+portproxy").ok().html();
    let titles = texts(&html, "article.hit h3");
    assert!(titles.iter().take(5).any(|t| t == "Windows Proxy Via Netsh"), "{titles:?}");
    assert!(html.select(&select("article.hit mark")).next().is_some(), "matches are highlighted");
    let proxy = shared_server().get("/search?q=proxy").ok().html();
    assert!(proxy.select(&select(".technique-matches a[href='/techniques/T1090']")).next().is_some());
    let jump = shared_server().get("/search?q=t1090.003");
    assert_eq!(jump.status, 303);
    assert_eq!(jump.header("location"), Some("/techniques/T1090.003"));
    let filtered = shared_server().get("/search?q=tor&vendor=Elastic").ok().html();
    assert!(texts(&filtered, "article.hit .badge.vendor").iter().all(|v| v == "Elastic"));
    let empty = shared_server().get("/search").ok().html();
    assert_eq!(texts(&empty, "h1"), vec!["Search detections"]);
}

#[test]
fn home_and_sources_pages_summarize_the_catalog() {
    let home = shared_server().get("/").ok().html();
    let cell = home.select(&select(".matrix a.cell[href='/techniques/T1090']")).next().unwrap();
    let count: usize = cell.select(&select(".n")).next().unwrap().text().collect::<String>().parse().unwrap();
    let api = shared_server().get("/api/v1/techniques/T1090").ok().json();
    assert_eq!(count, api["shown"].as_u64().unwrap() as usize, "the matrix counts the vendor-native view");
    assert_eq!(texts(&home, ".sources-summary tbody tr").len(), configured_sources());
    let sources = shared_server().get("/sources").ok().html();
    let sentinel_failures = texts(&sources, "#sentinel table.failures tbody tr");
    assert_eq!(sentinel_failures.len(), 14, "the sample's invalid YAML, placeholders and a bare query");
    let said = ["invalid YAML", "a placeholder, not a rule", "not a Sentinel rule"];
    assert!(sentinel_failures.iter().all(|row| said.iter().any(|s| row.contains(s))), "{sentinel_failures:?}");
    assert!(texts(&sources, "#chronicle dd").iter().any(|d| d.contains("19793ebdd29c896cc753afc5fe351ceba4d8d193")));
}

#[test]
fn the_api_mirrors_every_page() {
    let server = shared_server();
    let technique = server.get("/api/v1/techniques/T1090?community=1").ok().json();
    assert!(technique["shown_facets"]["sources"]["sigma"].as_u64().unwrap() > 0, "community content is listed");
    let detection = server.get("/api/v1/detections/chronicle/gcti_tor_exit_nodes").ok().json();
    assert!(detection["native_rule"].as_str().unwrap().starts_with("rule gcti_tor_exit_nodes"));
    let search = server.get("/api/v1/search?q=tor&limit=5").ok().json();
    assert_eq!(search["detections"].as_array().unwrap().len(), 5);
    assert!(search["total"].as_u64().unwrap() > 5);
    assert_eq!(server.get("/api/v1/sources").ok().json().as_array().unwrap().len(), configured_sources());
    assert_eq!(server.get("/api/v1/stats").ok().json()["sources"].as_array().unwrap().len(), configured_sources());
    let coverage = server.get("/api/v1/coverage").ok().json();
    let proxy = coverage["techniques"].as_array().unwrap().iter().find(|t| t["id"] == "T1090").unwrap();
    assert_eq!(proxy["detections"], technique_shown(server));
    let suggestions = server.get("/api/v1/techniques?q=proxy").ok().json();
    assert_eq!(suggestions[0]["id"], "T1090");
}

fn technique_shown(server: &Server) -> serde_json::Value {
    server.get("/api/v1/techniques/T1090").ok().json()["shown"].clone()
}

#[test]
fn search_corrects_typos_finds_cves_and_suggests_techniques_by_description() {
    let server = shared_server();
    let page = server.get("/search?q=mimikats").ok().html();
    assert_eq!(texts(&page, "h1")[0].split_once(" detections match ").unwrap().1, "“mimikatz”");
    assert!(texts(&page, "p.corrected")[0].contains("Showing results for mimikatz"));
    assert!(!texts(&page, "#exports a").is_empty(), "the corrected results can be exported");
    let api = server.get("/api/v1/search?q=mimikats&limit=5").ok().json();
    assert_eq!(api["corrected_query"], "mimikatz");
    assert_eq!(api["query"], "mimikats");
    assert!(server.get("/api/v1/search?q=mimikatz&limit=5").ok().json().get("corrected_query").is_none());
    let cve = server.get("/api/v1/search?q=cve:CVE-2021-44228&limit=100").ok().json();
    let about: Vec<&serde_json::Value> = cve["detections"].as_array().unwrap().iter().collect();
    assert!(about.len() >= 5, "{cve}");
    assert!(about.iter().all(|d| d["cves"].as_array().unwrap().iter().any(|c| c == "CVE-2021-44228")));
    let detection = server.get("/detections/splunk/9be30d80-3a39-4df9-9102-64a467b24eac").ok().html();
    assert_eq!(texts(&detection, "a[href='/search?q=cve%3ACVE-2021-44228']"), vec!["CVE-2021-44228"]);
    let tor = server.get("/api/v1/techniques?q=tor").ok().json();
    let ids: Vec<&str> = tor.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"T1090.003"), "ATT&CK describes Multi-hop Proxy with Tor: {ids:?}");
    assert!(!ids.contains(&"T1070") && !ids.contains(&"T1555"), "no letters inside other words: {ids:?}");
}

#[test]
fn bad_requests_get_clear_answers_never_a_500() {
    let server = shared_server();
    let cases = [
        ("/techniques/T1999", 404, "T1999 is not an ATT&CK technique"),
        ("/techniques/T10", 404, "; did you mean T"),
        ("/techniques/T1O90", 404, "did you mean T1090 Proxy"),
        ("/techniques/T1090.3", 404, "T1090.003 Proxy: Multi-hop Proxy"),
        ("/techniques/T109", 404, "T1090 Proxy"),
        ("/techniques/%FF%FE", 400, "invalid path: Invalid URL: Invalid UTF-8"),
        ("/search?q=%22open", 400, "a double quote is not closed"),
        ("/search?q=AND", 400, "invalid search"),
        ("/search?q=(tor+OR+proxy", 400, "a parenthesis is not closed"),
        ("/search?q=tor)", 400, "a closing parenthesis has no opening one"),
        ("/search?q=tor+OR", 400, "OR needs words on both sides"),
        ("/search?q=cve:log4shell", 400, "not a CVE ID"),
        ("/search?q=tor&limit=100000", 400, "`limit`: give a whole number from 1 to 100, not \"100000\""),
        ("/search?q=tor&limit=lots", 400, "`limit`: give a whole number from 1 to 100"),
        ("/search?q=tor&source=splnk", 400, "`source`: there is no source \"splnk\"; did you mean splunk?"),
        ("/techniques/T1090?language=cobol", 400, "`language`: \"cobol\" is not one of"),
        ("/techniques/T1090?vendor=Splnk", 400, "`vendor`: there is no vendor \"Splnk\"; did you mean Splunk?"),
        ("/techniques/T1090?deprecated=1&deprecated=2", 400, "`deprecated`: is given twice"),
        ("/techniques/T1090?offset=1000001", 400, "`offset`: give a whole number from 0 to 1000000"),
        ("/detections/nosuch/x", 404, "no source named"),
        ("/detections/chronicle/nosuch", 404, "has no detection"),
        ("/detections/splunk/windows_proxy_via_nets", 404, "did you mean splunk/windows_proxy_via_netsh?"),
        ("/detections/elastic/0d3d2254-2b4a-11f0-a019-f661ea17fbcc", 300, "names 2 detections"),
        ("/nowhere", 404, "There is no page at /nowhere"),
    ];
    for (path, status, message) in cases {
        let page = server.get(path);
        assert_eq!(page.status, status, "{path}");
        let shown = texts(&page.html(), "section.error").join(" ");
        assert!(shown.contains(message), "{path}: {shown}");
        let api = server.get(&format!("/api/v1{path}"));
        if path.starts_with("/techniques/") || path.starts_with("/detections/") || path.starts_with("/search") {
            assert_eq!(api.status, status, "/api/v1{path}");
            let error = api.json();
            assert_eq!(error["error"]["status"], status);
            assert!(error["error"]["message"].as_str().unwrap().contains(message), "/api/v1{path}: {error}");
        }
    }
    let suggestions = server.get("/techniques/T1999").html();
    assert!(!texts(&suggestions, ".suggestions a").is_empty(), "a 404 suggests close techniques");
    for weird in [
        "/techniques/",
        "/detections/a",
        "/static/../../etc/passwd",
        "/search?q=%00",
        "/search?q=%1B%5B31m+tor%07+%22",
        format!("/search?q={}", "powershell+".repeat(900)).as_str(),
        format!("/api/v1/search?q={}", "x".repeat(10_000)).as_str(),
        "/techniques/T1090%00",
        "/api/v1/techniques?q=",
    ] {
        assert!(server.get(weird).status < 500, "{weird}");
    }
}

#[test]
fn without_a_catalog_pages_explain_and_the_api_says_503() {
    let dir = tempfile::tempdir().unwrap();
    let live = ruledex_app::LiveCatalog::new(dir.path(), ruledex_app::CatalogOptions::default());
    let server = Server::start(AppState::new(std::sync::Arc::clone(&live), "built-in defaults", Limits::default()));
    live.show_phase(SyncPhase::Running { step: "fetching chronicle".into(), files_read: 3, files_total: 10 });
    let home = server.get("/").ok();
    assert!(home.body.contains("Building the catalog") && home.body.contains("fetching chronicle: 3 of 10 files"));
    assert!(home.body.contains("http-equiv=\"refresh\""), "the page refreshes while the sync runs");
    assert_eq!(server.get("/techniques/T1090").status, 503);
    assert_eq!(server.get("/api/v1/stats").json()["error"]["status"], 503);
    assert_eq!(server.get("/api/v1/sync").ok().json()["state"], "running");

    live.show_phase(SyncPhase::Failed { error: "cannot download ATT&CK bundle https://x: offline".into() });
    let failed = server.get("/").ok().html();
    let notice = texts(&failed, "#sync-status")[0].clone();
    assert!(notice.contains("The catalog could not be built") && notice.contains("offline"));
    assert!(notice.contains("examples/local-mirrors.toml") && notice.contains("built-in defaults"), "{notice}");
}

#[test]
fn every_page_and_api_answer_names_the_attack_release() {
    let server = shared_server();
    let release = server.get("/api/v1/stats").ok().json()["catalog"]["attack_version"].as_str().unwrap().to_string();
    assert!(!release.is_empty());
    for path in ["/", "/techniques/T1090", "/detections/splunk/windows_proxy_via_netsh", "/search?q=netsh", "/sources"]
    {
        let footer = texts(&server.get(path).ok().html(), "footer.bottom").join(" ");
        assert!(footer.contains(&format!("ATT&CK® v{release}")), "{path}: {footer}");
    }
    for path in [
        "/api/v1/techniques/T1090",
        "/api/v1/detections/splunk/windows_proxy_via_netsh",
        "/api/v1/search?q=netsh",
        "/api/v1/coverage",
    ] {
        assert_eq!(server.get(path).ok().json()["attack_version"], release.as_str(), "{path}");
    }
    let listed = &server.get("/api/v1/search?q=netsh").ok().json()["detections"][0];
    assert!(listed.get("source").is_some() && listed.get("attack_version").is_none(), "{listed}");
}
