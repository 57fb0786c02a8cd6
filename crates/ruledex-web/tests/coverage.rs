//! The coverage pages over HTTP on the catalog of every corpus in ../shared: the page agrees
//! with its API twin, groups are found by alias, unknown names are 404s with suggestions.

use std::collections::{BTreeMap, BTreeSet};

use ruledex_app::CatalogOptions;
use ruledex_web::{Limits, Setup};
use serde_json::Value;

use crate::util::{Server, build_catalog, fixture_config, following, reopen, select, serving, shared_server, texts};

#[test]
fn the_coverage_page_colours_the_matrix_by_the_stacks_status_and_lists_the_gaps() {
    let server = shared_server();
    let api = server.get("/api/v1/coverage/stack?have=splunk&have=sentinel").ok().json();
    let page = server.get("/coverage?have=splunk&have=sentinel").ok().html();
    let ticked: Vec<String> = page
        .select(&select("input[name=have][checked]"))
        .map(|i| i.value().attr("value").unwrap().to_string())
        .collect();
    assert!(
        ticked.len() == 2 && ticked.contains(&"splunk".into()) && ticked.contains(&"sentinel".into()),
        "{ticked:?}"
    );
    let techniques = api["techniques"].as_array().unwrap();
    let parents: Vec<_> = techniques.iter().filter(|t| !t["id"].as_str().unwrap().contains('.')).collect();
    for status in ["covered", "elsewhere", "community-only", "none"] {
        let cells = page.select(&select(&format!(".matrix a.cell.st-{status}"))).count();
        // A technique under several tactics has a cell in each.
        let expected: usize =
            parents.iter().filter(|t| t["status"] == status).map(|t| t["tactics"].as_array().unwrap().len()).sum();
        assert_eq!(cells, expected, "{status} cells");
    }
    let gaps = page.select(&select("tr.gap")).count();
    assert_eq!(gaps, techniques.iter().filter(|t| t["status"] != "covered").count());
    let headers = texts(&page, ".tactic h3");
    assert_eq!(headers.len(), 14, "{headers:?}");
    assert_eq!(server.get("/coverage?have=qradar").status, 400);
    assert_eq!(server.get("/coverage?domain=atlantis").status, 400);
}

#[test]
fn group_pages_are_found_by_alias_and_unknown_names_are_404s_with_suggestions() {
    let server = shared_server();
    let page = server.get("/groups/cozy%20bear?have=splunk").ok().html();
    assert!(texts(&page, "h1")[0].contains("G0016 · APT29"));
    let api = server.get("/api/v1/groups/G0016?have=splunk").ok().json();
    let rows = page.select(&select("table.used tbody tr")).count();
    assert_eq!(rows, api["techniques"].as_array().unwrap().len());
    let covered = page.select(&select("table.used .st-covered")).count();
    assert_eq!(covered as u64, api["summary"]["covered"].as_u64().unwrap());

    let missing = server.get("/groups/Cozy%20Bare");
    assert_eq!(missing.status, 404);
    assert!(missing.html().select(&select("a[href='/groups/G0016']")).next().is_some(), "APT29 suggested");
    let api_missing = server.get("/api/v1/groups/Cozy%20Bare");
    assert_eq!(api_missing.status, 404);
    assert_eq!(api_missing.json()["error"]["kind"], "not_found");

    let index = server.get("/groups").ok().html();
    let listed = index.select(&select("tbody tr")).count();
    assert_eq!(listed, server.get("/api/v1/groups").ok().json().as_array().unwrap().len());
    assert!(listed > 150, "{listed} groups");
    let technique = server.get("/techniques/T1059.001").ok().html();
    let users = texts(&technique, ".used-by a");
    assert!(users.contains(&"APT29".to_string()), "PowerShell names APT29 among its users: {users:?}");
    for path in ["/campaigns", "/campaigns/C0024", "/software", "/software/cobalt%20strike"] {
        server.get(path).ok();
    }
}

/// A matrix cell's count, whether it carries the "+" of detections only ruledex mapped, and its
/// title, for the cell of `technique` under its first tactic.
fn home_cell(page: &scraper::Html, technique: &str) -> (usize, bool, String) {
    let cell = page
        .select(&select(&format!(".matrix a.cell[href='/techniques/{technique}']")))
        .next()
        .unwrap_or_else(|| panic!("no cell for {technique}"));
    let count = cell.select(&select(".n")).next().unwrap().text().next().unwrap().trim().parse().unwrap();
    let marked = cell.select(&select(".n .inf")).next().is_some();
    (count, marked, cell.value().attr("title").unwrap().to_string())
}

/// T1598 (Phishing for Information) is listed under hundreds of Sublime rules only because
/// ruledex maps Sublime's attack types to it; the home matrix counts the vendors' own tags
/// unless asked, marks the rest, and its counts are the API's.
#[test]
fn the_home_matrix_counts_ruledex_mappings_apart_unless_asked() {
    let server = shared_server();
    let t1598 = |query: &str| {
        let api = server.get(&format!("/api/v1/coverage{query}")).ok().json();
        let t1598 = api["techniques"].as_array().unwrap().iter().find(|t| t["id"] == "T1598").unwrap().clone();
        (t1598["detections"].as_u64().unwrap() as usize, t1598["inferred"].as_u64().unwrap() as usize)
    };
    let (tagged, inferred) = t1598("");
    let all = tagged + inferred;
    assert!(inferred > 500 && tagged > 0, "most of T1598's {all} detections are ruledex's mapping: {inferred}");
    assert_eq!(t1598("?inferred=1"), (all, inferred), "asked for, they are counted in");

    let honest = server.get("/").ok().html();
    let (count, marked, title) = home_cell(&honest, "T1598");
    assert_eq!((count, marked), (tagged, true));
    assert!(title.contains(&format!("{inferred} more only ruledex mapped")), "{title}");
    let (_, proxy_marked, _) = home_cell(&honest, "T1090");
    assert!(!proxy_marked, "T1090's detections are all tagged by their vendors");

    let with_inferred = server.get("/?inferred=1").ok().html();
    assert_eq!(
        home_cell(&with_inferred, "T1598"),
        (all, false, format!("T1598 Phishing for Information: {all} detections"))
    );
    let switch = with_inferred.select(&select("#inferred-switch")).next().unwrap();
    assert_eq!(switch.value().attr("href"), Some("/"));

    let technique = server.get("/techniques/T1598").ok().html();
    let headline = texts(&technique, ".headline")[0].clone();
    assert!(headline.starts_with(&format!("{tagged} vendor-native")), "{headline}");
    assert!(headline.contains(&format!("+ {inferred} mapped by ruledex")), "{headline}");
    let shown = |page: &scraper::Html| texts(page, "#shown-count")[0].parse::<usize>().unwrap();
    assert_eq!(shown(&technique), tagged, "the page lists what the matrix counts");
    assert_eq!(shown(&server.get("/techniques/T1598?inferred=1").ok().html()), all, "and the rest when asked");
}

/// The matrix's shades are a log scale: 5, 50 and 500 detections look different, and the
/// legend names each shade's range.
#[test]
fn the_home_matrix_legend_names_a_log_scale() {
    let page = shared_server().get("/").ok().html();
    let legend = texts(&page, "#matrix-legend .swatch");
    assert_eq!(legend, ["0", "1–2", "3–9", "10–29", "30–99", "100–299", "300+"]);
    let shade = |n: usize| {
        let bands: Vec<usize> =
            legend[1..].iter().map(|label| label.split(['–', '+']).next().unwrap().parse().unwrap()).collect();
        bands.iter().filter(|floor| n >= **floor).count()
    };
    assert!(shade(5) < shade(50) && shade(50) < shade(500));
    let classes: Vec<String> =
        page.select(&select(".matrix a.cell")).filter_map(|c| c.value().attr("class").map(String::from)).collect();
    assert!(classes.iter().any(|c| c.contains("heat-6")), "some technique has 300 or more detections");
}

/// Each status's colour, as a layer's legend names them ("covered by splunk" -> covered).
fn legend_colors(layer: &Value) -> BTreeMap<String, Value> {
    let items = layer["legendItems"].as_array().unwrap();
    let status = |item: &Value| item["label"].as_str().unwrap().split([' ', ':']).next().unwrap().to_string();
    items.iter().map(|item| (status(item), item["color"].clone())).collect()
}

#[test]
fn the_coverage_page_offers_the_navigator_layer_of_the_stack_ticked() {
    let server = shared_server();
    let choices = "have=splunk&have=sentinel&community=1&tactic=command-and-control";
    let page = server.get(&format!("/coverage?{choices}")).ok().html();
    let link = page.select(&select("a#layer")).next().expect("a link to the layer");
    assert_eq!(link.text().collect::<String>(), "Download Navigator layer");
    let href = link.value().attr("href").unwrap();
    assert_eq!(href, format!("/api/v1/coverage/stack/layer?{choices}"));

    let download = server.get(href).ok();
    assert_eq!(download.header("content-type"), Some("application/json"));
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"ruledex-coverage-splunk-sentinel.json\"")
    );
    let layer = download.json();
    let api = server.get(&format!("/api/v1/coverage/stack?{choices}")).ok().json();
    let colors = legend_colors(&layer);
    assert_eq!(layer["legendItems"][0]["label"], "covered by splunk, sentinel and community content");
    let entries = layer["techniques"].as_array().unwrap();
    let techniques = api["techniques"].as_array().unwrap();
    assert_eq!(entries.len(), techniques.len());
    for (entry, technique) in entries.iter().zip(techniques) {
        assert_eq!(entry["techniqueID"], technique["id"]);
        assert_eq!(entry["tactic"], "command-and-control");
        assert_eq!(entry["color"], colors[technique["status"].as_str().unwrap()], "{}", technique["id"]);
        assert!(entry["links"].as_array().unwrap().is_empty(), "a server without a public URL links nowhere");
    }
    assert_eq!(api["summary"]["community-only"], 0, "community content counts as the stack's");

    for (bad, named) in [("have=qradar", "\"qradar\""), ("tactic=teleportation", "command-and-control")] {
        let refused = server.get(&format!("/api/v1/coverage/stack/layer?{bad}"));
        assert_eq!(refused.status, 400, "{bad}");
        let message = refused.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(named), "{bad}: {message}");
    }
}

#[test]
fn downloaded_layers_link_to_the_public_url_never_to_the_requests_host() {
    let shared = shared_server();
    let setup =
        Setup { public_url: Some("https://ruledex.example.org/".parse().unwrap()), ..Setup::from("public test") };
    let server = Server::start(serving(reopen(shared, CatalogOptions::default()), setup, Limits::default()));
    for path in ["/api/v1/coverage/stack/layer?have=splunk", "/api/v1/export?format=navigator&technique=T1090"] {
        let layer = server.get(path).ok().json();
        assert_eq!(layer["links"][0]["url"], "https://ruledex.example.org", "{path}");
        let urls: Vec<&str> = layer["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["links"].as_array().unwrap())
            .map(|link| link["url"].as_str().unwrap())
            .collect();
        assert!(!urls.is_empty() && urls.iter().all(|url| url.starts_with("https://ruledex.example.org/")), "{path}");
        let answer = server.get_as_host(path, "attacker.example");
        assert!(answer.starts_with("HTTP/1.1 200") && !answer.contains("attacker.example"), "{path}");
        assert!(shared.get(path).ok().json()["links"].as_array().unwrap().is_empty(), "no public URL, no links");
    }
}

/// The sources with detections for any technique of a stack's coverage.
fn sources_counted(coverage: &Value) -> BTreeSet<String> {
    let techniques = coverage["techniques"].as_array().unwrap();
    techniques.iter().flat_map(|t| t["counts"].as_object().unwrap().keys().cloned()).collect()
}

/// A catalog generation counts its technique links once, for all its coverage answers: a new
/// generation installed in a running server is counted afresh.
#[test]
fn coverage_counts_follow_a_new_catalog_generation() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture_config(dir.path());
    let data = dir.path().join("data");
    build_catalog(&config, &data);
    let (live, server) = following(&data, "fixtures");
    let path = "/api/v1/coverage/stack?have=chronicle";
    let before = sources_counted(&server.get(path).ok().json());
    assert!(before.contains("chronicle") && before.contains("splunk"), "{before:?}");
    let mut fewer = config.clone();
    fewer.sources.retain(|s| s.name == "chronicle");
    build_catalog(&fewer, &data);
    assert!(live.refresh().unwrap(), "the store says a newer generation is there");
    assert_eq!(sources_counted(&server.get(path).ok().json()), BTreeSet::from(["chronicle".to_string()]));
}

/// The page offers the matrix and the tactics to choose, shows what was chosen, and the form's
/// choices round-trip: ICS shows ICS's tactics, a tactic ticked narrows the matrix to it.
#[test]
fn the_coverage_page_picks_the_matrix_and_tactics() {
    let server = shared_server();
    let enterprise = server.get("/coverage?have=splunk").ok().html();
    let offered = |page: &scraper::Html| {
        page.select(&select("input[name=tactic]"))
            .map(|i| i.value().attr("value").unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(offered(&enterprise).len(), 14);
    assert!(enterprise.select(&select("input[name=tactic][checked]")).next().is_none(), "none ticked: all shown");
    let chosen = texts(&enterprise, "#domain option[selected]");
    assert_eq!(chosen, ["Enterprise"]);

    let ics = server.get("/coverage?have=splunk&domain=ics-attack").ok().html();
    assert_eq!(texts(&ics, "#domain option[selected]"), ["ICS"]);
    let ics_tactics = offered(&ics);
    assert!(ics_tactics.contains(&"inhibit-response-function".to_string()), "{ics_tactics:?}");
    assert_eq!(texts(&ics, ".tactic h3").len(), ics_tactics.len());
    assert!(texts(&ics, "p.meta")[0].starts_with("ATT&CK ICS"), "{:?}", texts(&ics, "p.meta"));

    let narrowed = server.get("/coverage?have=splunk&tactic=lateral-movement").ok().html();
    assert_eq!(texts(&narrowed, ".tactic h3"), ["Lateral Movement"]);
    let ticked: Vec<_> = narrowed
        .select(&select("input[name=tactic][checked]"))
        .map(|i| i.value().attr("value").unwrap().to_string())
        .collect();
    assert_eq!(ticked, ["lateral-movement"]);
    let layer = narrowed.select(&select("a#layer")).next().unwrap().value().attr("href").unwrap().to_string();
    assert!(layer.contains("tactic=lateral-movement"), "{layer}");
}
