//! Change history through real git: an upstream repository built from the Splunk corpus in
//! ../shared gains, loses and edits detections commit by commit, and each sync through a
//! `file://` URL records exactly what happened, in the CLI, the catalog and the Atom feeds. An
//! upstream that turns bad never corrupts the catalog or its history.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::serve::{get, serve};
use crate::util::{Workspace, copy_tree, detections, field, fixtures, shared, shared_attack};

/// The four detections the update in corpus-extra adds.
const NEW_TITLES: [&str; 4] = [
    "Cisco SA - Access to Anonymizer Services",
    "Windows Devtunnels Execution",
    "Windows Devtunnels Image Loaded",
    "Windows TOR Client Execution",
];

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=ruledex tests", "-c", "user.email=tests@ruledex.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

pub(crate) fn commit(repo: &Path, message: &str) -> String {
    git(repo, &["add", "--all"]);
    git(repo, &["commit", "--quiet", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

/// A workspace whose one source, `name`, is the git repository `upstream` through `file://`.
pub(crate) fn git_workspace(attack: &str, name: &str, format: &str, upstream: &Path) -> Workspace {
    let workspace = Workspace::new();
    let url = format!("file://{}", upstream.display());
    workspace.write_config(&format!(
        "{attack}\n[[sources]]\nname = {name:?}\nformat = {format:?}\nkind = \"vendor\"\ngit = {url:?}\nrev = \"main\"\n"
    ));
    workspace
}

fn changes(workspace: &Workspace, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["changes", "--json"];
    all.extend_from_slice(args);
    workspace.run(&all).ok().json()["changes"].as_array().unwrap().clone()
}

pub(crate) fn sync(workspace: &Workspace) -> Value {
    workspace.run(&["sync", "--json"]).ok().json()
}

/// (change, title) of each change.
fn kinds(changes: &[Value]) -> Vec<(String, String)> {
    let mut kinds: Vec<(String, String)> =
        changes.iter().map(|c| (field(c, "change").to_string(), field(c, "title").to_string())).collect();
    kinds.sort();
    kinds
}

#[test]
fn splunk_updates_through_git_are_recorded_exactly_and_published() {
    let upstream_dir = tempfile::tempdir().unwrap();
    let upstream = upstream_dir.path();
    copy_tree(&shared().join("corpus/splunk-security-content"), upstream);
    git(upstream, &["init", "--quiet", "--initial-branch=main"]);
    let first = commit(upstream, "the corpus");
    let workspace = git_workspace(&shared_attack(), "splunk", "splunk-escu", upstream);

    let baseline = sync(&workspace);
    assert_eq!(baseline["changes"]["added"], 0, "a source's first read is its starting point, not news");
    assert!(changes(&workspace, &[]).is_empty());

    // The update: four new detections and a newer macro file.
    copy_tree(&shared().join("corpus-extra/splunk-security-content-update"), upstream);
    let second = commit(upstream, "four new detections");
    let summary = sync(&workspace);
    assert_eq!(summary["changes"], serde_json::json!({"added": 4, "changed": 0, "deprecated": 0, "removed": 0}));
    let second_sync = summary["sync"].as_i64().unwrap();
    let added = changes(&workspace, &[]);
    let expected: Vec<(String, String)> = NEW_TITLES.iter().map(|t| ("added".to_string(), t.to_string())).collect();
    assert_eq!(kinds(&added), expected, "exactly the four, nothing else");
    for change in &added {
        assert_eq!((field(change, "source"), field(change, "commit")), ("splunk", second.as_str()));
        assert_eq!(field(change, "commit_before"), "", "nothing before an addition");
        assert_eq!(change["sync"], second_sync);
        assert!(field(change, "synced_at").ends_with('Z'), "{change}");
        assert!(change["fields"].as_array().unwrap().is_empty());
    }
    let t1090 = workspace.run(&["technique", "T1090", "--json"]).ok().json();
    for title in NEW_TITLES {
        let listed = detections(&t1090).iter().find(|d| field(d, "title") == title);
        let listed = listed.unwrap_or_else(|| panic!("{title} is not listed under T1090"));
        assert_eq!(listed["provenance"]["commit"], second.as_str(), "{title}");
    }
    assert_eq!(kinds(&changes(&workspace, &["--technique", "T1090"])), expected);
    assert_eq!(kinds(&changes(&workspace, &["--technique", "Proxy: Multi-hop Proxy"])).len(), 2);
    assert!(changes(&workspace, &["--since", &second_sync.to_string()]).is_empty());
    assert_eq!(changes(&workspace, &["--since", "2000-01-01"]).len(), 4);

    // Nothing new upstream: nothing is read or written, and the sync says so.
    let catalog = workspace.data_dir().join("catalog.sqlite");
    let before = fs::metadata(&catalog).unwrap();
    let quiet = workspace.run(&["sync"]).ok();
    assert!(quiet.stdout.contains("nothing changed upstream; catalog unchanged"), "{}", quiet.stdout);
    let after = fs::metadata(&catalog).unwrap();
    assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()), "the catalog was rewritten");
    assert_eq!(sync(&workspace)["unchanged"], true);

    git(upstream, &["rm", "--quiet", "detections/endpoint/windows_tor_client_execution.yml"]);
    let third = commit(upstream, "one detection retired");
    let third_sync = sync(&workspace)["sync"].as_i64().unwrap();
    let removed = changes(&workspace, &["--since", &second_sync.to_string()]);
    assert_eq!(kinds(&removed), vec![("removed".to_string(), "Windows TOR Client Execution".to_string())]);
    assert_eq!((field(&removed[0], "commit_before"), field(&removed[0], "commit")), (second.as_str(), third.as_str()));

    let edited = upstream.join("detections/endpoint/windows_devtunnels_execution.yml");
    let text = fs::read_to_string(&edited).unwrap();
    fs::write(&edited, text.replace("process_name=\"devtunnel.exe\"", "process_name=\"devtunnel64.exe\"")).unwrap();
    commit(upstream, "one query edited");
    sync(&workspace);
    let [change] = changes(&workspace, &["--since", &third_sync.to_string()]).try_into().unwrap();
    assert_eq!((field(&change, "change"), field(&change, "title")), ("changed", "Windows Devtunnels Execution"));
    assert_eq!(change["fields"], serde_json::json!(["query"]), "the query is named");
    assert!(field(&change, "query_before").contains("\"devtunnel.exe\""));
    assert!(field(&change, "query_after").contains("\"devtunnel64.exe\""));
    assert_ne!(first, third);

    let history = changes(&workspace, &[]);
    assert_eq!(history.len(), 6);
    let newest_first: Vec<i64> = history.iter().map(|c| c["sync"].as_i64().unwrap()).collect();
    assert!(newest_first.windows(2).all(|w| w[0] >= w[1]), "{newest_first:?}");
    assert_feeds_publish(&workspace, &history);
}

/// The feeds are well-formed Atom with stable, unique entry IDs linking to the detection pages.
fn assert_feeds_publish(workspace: &Workspace, history: &[Value]) {
    let served = serve(workspace);
    let (status, home) = get(&served, "/");
    assert_eq!(status, 200);
    assert!(home.contains(r#"<link rel="alternate" type="application/atom+xml""#), "home links its feed");
    assert!(home.contains("Windows Devtunnels Execution"), "the home page's what's new");
    let (_, page) = get(&served, "/techniques/T1090");
    assert!(page.contains(r#"href="/techniques/T1090/feed.atom""#), "the technique page links its feed");
    assert!(page.contains(r#"class="badge changed change-new""#), "cards carry the new badge");

    let (status, xml) = get(&served, "/feed.atom");
    assert_eq!(status, 200);
    let entries = atom_entries(&xml);
    assert_eq!(entries.len(), history.len());
    let ids: HashSet<&str> = entries.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(ids.len(), entries.len(), "entry IDs are unique");
    let expected: HashSet<&str> = history.iter().map(|c| field(c, "change_id")).collect();
    assert_eq!(ids, expected, "entry IDs are the changes' own, stable across syncs");
    for title in NEW_TITLES {
        let (_, _, href) = entries.iter().find(|(_, t, _)| t == &format!("New: {title} (splunk)")).unwrap();
        let (status, page) = get(&served, href);
        if title == "Windows TOR Client Execution" {
            assert_eq!(status, 404, "removed since");
        } else {
            assert_eq!(status, 200, "{href}");
            assert!(page.contains(title));
        }
    }
    let (_, technique) = get(&served, "/techniques/T1090/feed.atom");
    assert_eq!(atom_entries(&technique).len(), 6, "every change here is under T1090's family");
    let (_, source) = get(&served, "/sources/splunk/feed.atom");
    assert_eq!(atom_entries(&source).len(), 6);
    let (status, _) = get(&served, "/sources/nope/feed.atom");
    assert_eq!(status, 404);
    let (status, api) = get(&served, "/api/v1/changes?since=0&technique=T1090.003&limit=50");
    assert_eq!(status, 200);
    let api: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["changes"].as_array().unwrap().len(), 3, "{api}");
    let (status, _) = get(&served, "/api/v1/changes?since=yesterday");
    assert_eq!(status, 400);

    let (_, detection) = get(&served, "/detections/splunk/windows_devtunnels_execution");
    assert!(detection.contains(r#"id="history""#), "the detection page shows its history");
    assert!(detection.contains(r#"<span class="diff-add">+ "#), "with a diff of its query");
}

/// Parses an Atom document strictly and checks the rules RFC 4287 sets for what ruledex writes;
/// returns each entry's ID, title and link.
fn atom_entries(xml: &str) -> Vec<(String, String, String)> {
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    let document = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
    let feed = document.root_element();
    assert_eq!((feed.tag_name().namespace(), feed.tag_name().name()), (Some(ATOM), "feed"));
    fn child<'a, 'input>(node: roxmltree::Node<'a, 'input>, name: &str) -> Option<roxmltree::Node<'a, 'input>> {
        node.children().find(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(ATOM))
    }
    let text =
        |node: roxmltree::Node, name: &str| child(node, name).and_then(|n| n.text()).unwrap_or_default().to_string();
    for required in ["id", "title", "updated"] {
        assert!(!text(feed, required).is_empty(), "the feed has no {required}");
    }
    assert!(child(feed, "author").is_some(), "a feed without an author needs one in every entry");
    assert!(is_rfc3339(&text(feed, "updated")));
    feed.children()
        .filter(|c| c.tag_name().name() == "entry")
        .map(|entry| {
            let link = entry
                .children()
                .find(|c| c.tag_name().name() == "link" && c.attribute("rel").is_some_and(|r| r == "alternate"))
                .and_then(|l| l.attribute("href"))
                .expect("every entry links its detection")
                .to_string();
            let (id, title, updated) = (text(entry, "id"), text(entry, "title"), text(entry, "updated"));
            assert!(id.starts_with("urn:") && !title.is_empty() && is_rfc3339(&updated), "{id} {title} {updated}");
            (id, title, link)
        })
        .collect()
}

fn is_rfc3339(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() == 20 && bytes[4] == b'-' && bytes[10] == b'T' && text.ends_with('Z')
}

/// Garbage in a file, rewritten history, an emptied tree and an unreachable repository: each
/// sync says what it saw, and the catalog and its history stay whole.
#[test]
fn an_upstream_that_turns_bad_never_corrupts_the_catalog_or_its_history() {
    let upstream_dir = tempfile::tempdir().unwrap();
    let upstream = upstream_dir.path().join("rules-repo");
    fs::create_dir_all(&upstream).unwrap();
    copy_tree(&fixtures().join("chronicle"), &upstream);
    git(&upstream, &["init", "--quiet", "--initial-branch=main"]);
    commit(&upstream, "rules");
    let attack = format!("[attack]\nenterprise = {:?}\n", fixtures().join("attack/mini-enterprise.json"));
    let workspace = git_workspace(&attack, "chronicle", "chronicle", &upstream);
    sync(&workspace);
    let count = |w: &Workspace| w.run(&["stats", "--json"]).ok().json()["catalog"]["detections"].as_u64().unwrap();
    let detections_before = count(&workspace);

    // A rule file replaced with bytes that are not text: reported, its detections kept.
    let two_rules = upstream.join("rules/community/two_rules.yaral");
    fs::write(&two_rules, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    commit(&upstream, "garbage");
    let garbage = workspace.run(&["sync"]);
    assert_eq!(garbage.code, 0, "{}", garbage.stdout);
    assert!(changes(&workspace, &[]).is_empty(), "an unreadable file is no removal");
    workspace.run(&["show", "chronicle/fixture_tor_exit"]).ok();
    let stats = workspace.run(&["stats"]).ok().stdout;
    assert!(stats.contains("rules/community/two_rules.yaral: not valid UTF-8"), "{stats}");
    assert!(stats.contains("the detections read from it before are kept"), "{stats}");

    // History rewritten: a new root commit without that file. Its rules are gone upstream now.
    git(&upstream, &["checkout", "--quiet", "--orphan", "rewritten"]);
    git(&upstream, &["rm", "--quiet", "--cached", "-r", "."]);
    fs::remove_file(&two_rules).unwrap();
    let rewritten = commit(&upstream, "history rewritten");
    git(&upstream, &["branch", "--quiet", "-M", "rewritten", "main"]);
    sync(&workspace);
    let removed = changes(&workspace, &[]);
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(removed.iter().all(|c| field(c, "change") == "removed" && field(c, "commit") == rewritten));
    assert_eq!(count(&workspace), detections_before - 2);

    // Every rule file deleted: a broken checkout must not empty the catalog.
    git(&upstream, &["rm", "--quiet", "-r", "rules"]);
    commit(&upstream, "everything deleted");
    let emptied = workspace.run(&["sync"]);
    assert_eq!(emptied.code, 3, "{}", emptied.stdout);
    assert!(emptied.stdout.contains("no rule files found where the last sync read"), "{}", emptied.stdout);
    assert_eq!(count(&workspace), detections_before - 2);
    assert_eq!(changes(&workspace, &[]).len(), 2, "the history is as it was");

    // The repository unreachable: the earlier checkout is used, and the sync says so.
    fs::rename(&upstream, upstream_dir.path().join("moved")).unwrap();
    let offline = workspace.run(&["sync"]);
    assert_eq!(offline.code, 3, "{}", offline.stdout);
    assert!(offline.stdout.contains("using the earlier checkout"), "{}", offline.stdout);
    assert_eq!(count(&workspace), detections_before - 2);
    assert_eq!(changes(&workspace, &[]).len(), 2);
}

/// The mini ATT&CK bundle as release `version`; in `next`, Multi-hop Proxy (T1090.003) is
/// revoked by a new technique, T1090.005, as a new release revokes techniques rules still name.
fn mini_release(version: &str, next: bool) -> String {
    let mut bundle: Value =
        serde_json::from_str(&fs::read_to_string(fixtures().join("attack/mini-enterprise.json")).unwrap()).unwrap();
    let objects = bundle["objects"].as_array_mut().unwrap();
    objects.push(serde_json::json!({
        "type": "x-mitre-collection", "id": "x-mitre-collection--mini", "name": "Mini ATT&CK",
        "x_mitre_version": version
    }));
    if next {
        let multihop = objects.iter_mut().find(|o| o["id"] == "attack-pattern--multihop").unwrap();
        multihop["revoked"] = Value::Bool(true);
        let mut relay = multihop.clone();
        relay["id"] = "attack-pattern--relay".into();
        relay["name"] = "Relay Chains".into();
        relay["revoked"] = Value::Bool(false);
        relay["external_references"] = serde_json::json!([{"source_name": "mitre-attack", "external_id": "T1090.005"}]);
        objects.push(relay);
        objects.push(serde_json::json!({
            "type": "relationship", "id": "relationship--relay", "relationship_type": "revoked-by",
            "source_ref": "attack-pattern--multihop", "target_ref": "attack-pattern--relay"
        }));
        objects.push(serde_json::json!({
            "type": "relationship", "id": "relationship--relay-parent", "relationship_type": "subtechnique-of",
            "source_ref": "attack-pattern--relay", "target_ref": "attack-pattern--proxy"
        }));
    }
    bundle.to_string()
}

#[test]
fn a_new_attack_release_records_how_many_detections_moved() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("enterprise-attack.json");
    fs::write(&bundle, mini_release("1.0", false)).unwrap();
    let workspace = Workspace::new();
    workspace.write_config(&format!(
        "[attack]\nenterprise = {bundle:?}\n[[sources]]\nname = \"chronicle\"\nformat = \"chronicle\"\n\
         kind = \"vendor\"\npath = {:?}\n",
        fixtures().join("chronicle")
    ));
    let first = sync(&workspace);
    assert_eq!(first["attack_update"], Value::Null, "a first sync replaces no ATT&CK data");
    let multihop: Vec<String> = detections(&workspace.run(&["technique", "T1090.003", "--json"]).ok().json())
        .iter()
        .map(|d| field(d, "id").to_string())
        .collect();
    assert!(!multihop.is_empty(), "the fixture tags Multi-hop Proxy");
    assert_eq!(sync(&workspace)["unchanged"], true);

    fs::write(&bundle, mini_release("2.0", true)).unwrap();
    let second = sync(&workspace);
    let expected = serde_json::json!({"before": "1.0", "after": "2.0", "moved": multihop.len()});
    assert_eq!(second["attack_update"], expected);
    assert_eq!(second["changes"], serde_json::json!({"added": 0, "changed": 0, "deprecated": 0, "removed": 0}));
    let relay = workspace.run(&["technique", "T1090.005", "--json"]).ok().json();
    let moved: Vec<String> = detections(&relay).iter().map(|d| field(d, "id").to_string()).collect();
    assert_eq!(moved, multihop, "the detections follow the revocation to the replacement");

    let history = workspace.run(&["changes", "--json"]).ok().json();
    assert_eq!(history["changes"], serde_json::json!([]), "a move is not a change of the detection");
    let [update] = history["attack_updates"].as_array().unwrap().clone().try_into().unwrap();
    assert_eq!(
        (&update["release_before"], &update["release_after"], &update["moved"], &update["sync"]),
        (&"1.0".into(), &"2.0".into(), &multihop.len().into(), &second["sync"])
    );
    let text = workspace.run(&["changes"]).ok().stdout;
    let sentence = format!("ATT&CK 1.0 → 2.0: {} detection", multihop.len());
    assert!(text.contains(&sentence), "{text}");
    assert!(workspace.run(&["sync"]).ok().stdout.contains("nothing changed upstream"));
    the_web_shows_the_release(&workspace, &sentence.replace('&', "&#38;"));
}

/// The served home page lists the release in "what's new", and the whole feed has it as one
/// entry whose ID stays the same from one request to the next; a technique's feed does not.
fn the_web_shows_the_release(workspace: &Workspace, escaped_sentence: &str) {
    let served = serve(workspace);
    let (status, home) = get(&served, "/");
    assert_eq!(status, 200);
    let whats_new = home.split("id=\"whats-new\"").nth(1).expect("the home page has what's new");
    assert!(whats_new.contains(escaped_sentence), "{whats_new}");
    let entry_ids = |feed: &str| -> Vec<String> {
        let document = roxmltree::Document::parse(feed).unwrap_or_else(|e| panic!("{e}\n{feed}"));
        document
            .descendants()
            .filter(|n| n.has_tag_name("entry"))
            .filter_map(|e| e.children().find(|c| c.has_tag_name("id")).and_then(|id| id.text()).map(String::from))
            .collect()
    };
    let feed = get(&served, "/feed.atom").1;
    let ids = entry_ids(&feed);
    assert_eq!(ids.len(), 1, "{feed}");
    assert!(ids[0].starts_with("urn:ruledex:attack-update:"), "{ids:?}");
    assert_eq!(entry_ids(&get(&served, "/feed.atom").1), ids, "the same release keeps its entry ID");
    assert!(entry_ids(&get(&served, "/techniques/T1090/feed.atom").1).is_empty());
}
