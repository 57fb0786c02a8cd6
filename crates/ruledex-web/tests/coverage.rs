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
