//! The coverage pages over HTTP on the catalog of every corpus in ../shared: the page agrees
//! with its API twin, groups are found by alias, unknown names are 404s with suggestions.

use crate::util::{select, shared_server, texts};

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
    let api = server.get("/api/v1/coverage").ok().json();
    let t1598 = api["techniques"].as_array().unwrap().iter().find(|t| t["id"] == "T1598").unwrap().clone();
    let (all, inferred) =
        (t1598["detections"].as_u64().unwrap() as usize, t1598["inferred"].as_u64().unwrap() as usize);
    assert!(inferred > 500 && inferred < all, "most of T1598's {all} detections are ruledex's mapping: {inferred}");

    let honest = server.get("/").ok().html();
    let (count, marked, title) = home_cell(&honest, "T1598");
    assert_eq!((count, marked), (all - inferred, true));
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
    assert!(headline.starts_with(&format!("{} vendor-native", all - inferred)), "{headline}");
    assert!(headline.contains(&format!("+ {inferred} mapped by ruledex")), "{headline}");
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
