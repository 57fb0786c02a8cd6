//! Paste-ready Splunk ESCU searches on the real corpus in ../shared: hand-derived expansions of
//! real searches, and exactness over every search.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use ruledex_core::attack::AttackCatalog;
use ruledex_core::ingest::{IngestedSource, ReadLimits, SourceSpec, ingest};
use ruledex_core::model::{DependencyKind, Detection, SourceKind};
use ruledex_core::sources::Format;
use ruledex_core::sources::splunk::spl::{Piece, called_macros, pieces, unquote};

use crate::common::shared;

fn corpus() -> PathBuf {
    shared().join("corpus/splunk-security-content")
}

fn splunk() -> &'static IngestedSource {
    static SOURCE: OnceLock<IngestedSource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let spec = SourceSpec {
            name: "splunk".into(),
            format: Format::SplunkEscu,
            kind: SourceKind::Vendor,
            root: corpus(),
            license: None,
            repository: None,
            commit: None,
            limits: ReadLimits::default(),
        };
        ingest(&spec, &AttackCatalog::default(), &|_| {}).expect("the ESCU corpus in ../shared")
    })
}

fn detection(path: &str) -> &'static Detection {
    splunk().detections.iter().find(|d| d.rule.path == path).unwrap_or_else(|| panic!("{path} not ingested"))
}

fn paste_ready(path: &str) -> &'static str {
    detection(path).rule.paste_ready_query.as_deref().unwrap_or_else(|| panic!("{path} has no paste-ready search"))
}

fn requires(detection: &Detection, kind: DependencyKind) -> Vec<&str> {
    detection.rule.requires.iter().filter(|d| d.kind == kind).map(|d| d.name.as_str()).collect()
}

// Expansions of ESCU's macros, derived by hand from macros/*.yml at the corpus commit.
/// `security_content_summariesonly`, through `summariesonly_config`, `oldsummaries_config`, `fillnull_config`.
const SUMMARIESONLY: &str = "summariesonly=false allow_old_summaries=true fillnull_value=null";
/// `security_content_ctime(firstTime)` and `(lastTime)`.
const CTIME_FIRST: &str = r#"convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(firstTime)"#;
const CTIME_LAST: &str = r#"convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(lastTime)"#;

#[test]
fn windows_proxy_via_netsh_expands_as_derived_by_hand() {
    let path = "detections/endpoint/windows_proxy_via_netsh.yml";
    let expected = format!(
        "| tstats {SUMMARIESONLY} count min(_time) as firstTime max(_time) as lastTime from datamodel=Endpoint.Processes \
         where (Processes.process_name=netsh.exe OR Processes.original_file_name=netsh.exe) \
         Processes.process = \"* portproxy *\" Processes.process = \"* v4tov4 *\" by Processes.parent_process_name \
         Processes.parent_process Processes.original_file_name Processes.process_name Processes.process \
         Processes.user Processes.dest |rename \"Processes\".* as * |{CTIME_FIRST} |{CTIME_LAST} | search *"
    );
    assert_eq!(paste_ready(path), expected);
    let detection = detection(path);
    assert!(detection.rule.unresolved_macros.is_empty());
    assert_eq!(
        requires(detection, DependencyKind::Macro),
        vec![
            "drop_dm_object_name(1)",
            "process_netsh",
            "security_content_ctime(1)",
            "security_content_summariesonly",
            "windows_proxy_via_netsh_filter"
        ]
    );
    assert!(requires(detection, DependencyKind::Lookup).is_empty());
}

#[test]
fn a_backtick_in_a_quoted_value_is_no_macro_call() {
    let path = "detections/endpoint/malicious_powershell_process_with_obfuscation_techniques.yml";
    let expected = format!(
        "| tstats {SUMMARIESONLY} count values(Processes.process) as process values(Processes.parent_process) as \
         parent_process min(_time) as firstTime max(_time) as lastTime from datamodel=Endpoint.Processes where \
         (Processes.process_name=pwsh.exe OR Processes.process_name=sqlps.exe OR Processes.process_name=sqltoolsps.exe \
         OR Processes.process_name=powershell.exe OR Processes.process_name=powershell_ise.exe OR \
         Processes.original_file_name=pwsh.dll OR Processes.original_file_name=PowerShell.EXE OR \
         Processes.original_file_name=powershell_ise.EXE) by Processes.user Processes.process_name \
         Processes.original_file_name Processes.parent_process_name Processes.dest Processes.process | rename \
         Processes.* as * | {CTIME_FIRST}| {CTIME_LAST}| eval num_obfuscation = (mvcount(split(process,\"`\"))-1) + \
         (mvcount(split(process, \"^\"))-1) + (mvcount(split(process, \"'\"))-1) | search * | search num_obfuscation > 10"
    );
    assert_eq!(paste_ready(path), expected);
    assert!(detection(path).rule.unresolved_macros.is_empty());
}

#[test]
fn arguments_replace_their_names_and_lookups_inside_definitions_are_required() {
    let path = "detections/endpoint/windows_alternate_datastream___base64_content.yml";
    let base64decode = r#"eval b64x_split=split(base64,"") | lookup char_conversion_matrix base64char as b64x_split OUTPUT base64bin as b64x_bin | eval b64x_join=mvjoin(b64x_bin,"") | rex field=b64x_join "(?<b64x_by8>.{8})" max_match=0 | lookup char_conversion_matrix bin as b64x_by8 output ascii as b64x_out | eval base64_decode=mvjoin(b64x_out,"") | fields - b64x_* | eval base64_decode = replace(replace(base64_decode,":NUL:",""),":SPACE:"," ") | rex field=base64_decode mode=sed "s/\x00//g""#;
    let sysmon = "sourcetype=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR \
                  source=XmlWinEventLog:Microsoft-Windows-Sysmon/Operational OR source=Syslog:Linux-Sysmon/Operational";
    let paste_ready = paste_ready(path);
    assert!(paste_ready.starts_with(&format!("{sysmon} EventCode=15 NOT Contents IN (")), "{paste_ready}");
    assert!(
        paste_ready.ends_with(&format!(
            "by dest, process, process_guid, file_name, file_path, file_hash, base64 | {base64decode} | fields - \
             base64 | rename base64_decode as command | {CTIME_FIRST} | {CTIME_LAST} | search *"
        )),
        "{paste_ready}"
    );
    let detection = detection(path);
    assert_eq!(requires(detection, DependencyKind::Lookup), vec!["char_conversion_matrix"]);
    assert!(requires(detection, DependencyKind::Macro).contains(&"base64decode(1)"));
}

#[test]
fn enterprise_security_macros_stay_as_written_and_are_listed() {
    let path = "detections/network/excessive_dns_failures.yml";
    let paste_ready = paste_ready(path);
    assert!(paste_ready.starts_with(&format!("| tstats {SUMMARIESONLY} count from datamodel=Network_Resolution")));
    assert!(paste_ready.contains(r#"| rename "DNS".* as * | lookup cim_corporate_web_domain_lookup"#));
    assert!(paste_ready.ends_with("| where count>50 | `get_asset(src)` | search *"), "{paste_ready}");
    let detection = detection(path);
    assert_eq!(detection.rule.unresolved_macros, vec!["get_asset(1)"]);
    assert_eq!(
        requires(detection, DependencyKind::Lookup),
        vec!["alexa_lookup_by_str", "cim_corporate_web_domain_lookup"]
    );
}

#[test]
fn comments_keep_their_text_and_their_lookups_are_not_required() {
    let path = "detections/application/windows_ad_domain_root_acl_deletion.yml";
    let wineventlog_security = "eventtype=wineventlog_security OR Channel=security OR source=XmlWinEventLog:Security";
    let detection = detection(path);
    let shipped = &detection.rule.query;
    let expected = shipped
        .replace("`wineventlog_security`", wineventlog_security)
        .replace("`windows_ad_domain_root_acl_deletion_filter`", "search *");
    assert_eq!(paste_ready(path), expected);
    assert!(expected.contains("``` Optional SID resolution lookups | lookup identity_lookup_expanded"));
    assert_eq!(
        requires(detection, DependencyKind::Lookup),
        vec![
            "ace_access_rights_lookup",
            "ace_flag_lookup",
            "ace_type_lookup",
            "builtin_groups_lookup",
            "msad_guid_lookup"
        ]
    );
}

/// The text between a search's macro calls and the searches `map` runs (quoted values and
/// comments included), in order.
fn segments_between_calls(search: &str) -> Vec<String> {
    let mut segments = vec![String::new()];
    for piece in pieces(search) {
        match piece {
            Piece::Call(_) | Piece::Search(_) => segments.push(String::new()),
            other => segments.last_mut().expect("one segment").push_str(other.text()),
        }
    }
    segments
}

/// The macros a search calls, in the searches `map` runs too.
fn calls_in(search: &str) -> Vec<String> {
    called_macros(search)
}

/// The searches `map` runs, as they stand in `search`.
fn map_searches(search: &str) -> Vec<String> {
    pieces(search).filter_map(|p| if let Piece::Search(s) = p { Some(unquote(s)) } else { None }).collect()
}

#[test]
fn every_corpus_search_expands_exactly() {
    let source = splunk();
    assert!(source.report.failures.is_empty(), "{:?}", source.report.failures);
    let mut unresolved: BTreeMap<&str, usize> = BTreeMap::new();
    let mut fully_resolved = 0;
    for detection in &source.detections {
        let rule = &detection.rule;
        let shipped = &rule.query;
        let paste_ready = rule.paste_ready_query.as_deref().unwrap_or(shipped);
        // Exact: the text between the shipped search's calls is all there, in order.
        let mut from = 0;
        for segment in segments_between_calls(shipped) {
            let found = paste_ready[from..].find(&segment);
            let at = found.unwrap_or_else(|| panic!("{}: {segment:?} lost from\n{paste_ready}", rule.path));
            from += at + segment.len();
        }
        // The searches `map` runs expand as searches do.
        for (shipped, expanded) in map_searches(shipped).iter().zip(map_searches(paste_ready)) {
            let mut from = 0;
            for segment in segments_between_calls(shipped) {
                let found = expanded[from..].find(&segment);
                let at = found.unwrap_or_else(|| panic!("{}: {segment:?} lost from map's\n{expanded}", rule.path));
                from += at + segment.len();
            }
        }
        // Every call left is listed, and every listed call is left.
        let left = calls_in(paste_ready);
        for call in &left {
            assert!(rule.unresolved_macros.contains(call), "{}: {call} left but not listed", rule.path);
        }
        for listed in &rule.unresolved_macros {
            assert!(left.contains(listed), "{}: {listed} listed but not left", rule.path);
            *unresolved.entry(listed).or_default() += 1;
        }
        assert_eq!(rule.paste_ready_query.is_some(), !calls_in(shipped).iter().all(|c| left.contains(c)));
        fully_resolved += usize::from(rule.unresolved_macros.is_empty());
    }
    eprintln!(
        "{} searches, {fully_resolved} fully resolved; unresolved macros (searches): {unresolved:?}",
        source.detections.len()
    );
    assert_eq!(source.detections.len(), 1711);
    assert_eq!(unresolved, BTreeMap::from([("cim_corporate_web_domain_search(1)", 1), ("get_asset(1)", 1)]));
    assert_eq!(fully_resolved, 1709);
}

/// Issue 23, item 2: `\"` outside a quoted value is a literal quote. Read as opening one, it hid
/// the search's last macro, which was neither expanded nor listed.
#[test]
fn escaped_quotes_outside_quoted_values_hide_no_macro() {
    let path = "detections/cloud/kubernetes_create_or_update_privileged_pod.yml";
    let rule = &detection(path).rule;
    assert!(rule.query.contains(r#"last-applied-configuration=*\"privileged\":true*"#), "{}", rule.query);
    assert!(rule.query.ends_with("| `kubernetes_create_or_update_privileged_pod_filter`"));
    let paste_ready = paste_ready(path);
    assert!(paste_ready.ends_with("| search *"), "{paste_ready}");
    assert!(!paste_ready.contains('`'), "{paste_ready}");
    assert!(rule.unresolved_macros.is_empty());
    assert!(
        requires(detection(path), DependencyKind::Macro).contains(&"kubernetes_create_or_update_privileged_pod_filter")
    );
    // Every search whose shipped text escapes a quote outside a quoted value has no call left.
    let escaping: Vec<&Detection> = splunk()
        .detections
        .iter()
        .filter(|d| pieces(&d.rule.query).any(|p| matches!(p, Piece::Code(c) if c.contains("\\\""))))
        .collect();
    eprintln!(
        "searches escaping a quote outside quoted values: {:?}",
        escaping.iter().map(|d| &d.rule.path).collect::<Vec<_>>()
    );
    assert!(!escaping.is_empty());
    for detection in escaping {
        let paste_ready = detection.rule.paste_ready_query.as_deref().unwrap_or(&detection.rule.query);
        assert!(
            calls_in(paste_ready).iter().all(|c| detection.rule.unresolved_macros.contains(c)),
            "{}",
            detection.rule.path
        );
    }
}

/// Issue 23, item 3: the search `map` runs is expanded when it runs, so a paste into a Splunk
/// without ESCU failed on its `wineventlog_security`; it is expanded inside the string.
#[test]
fn macros_in_the_searches_map_runs_are_expanded() {
    let wineventlog_security = &splunk_macro_definition("wineventlog_security");
    let mapping: Vec<&Detection> = splunk()
        .detections
        .iter()
        .filter(|d| map_searches(&d.rule.query).iter().any(|s| !calls_in(s).is_empty()))
        .collect();
    let paths: Vec<&str> = mapping.iter().map(|d| d.rule.path.as_str()).collect();
    eprintln!("searches whose map search calls macros: {paths:?}");
    assert_eq!(paths.len(), 7, "{paths:?}");
    // `drop_dm_object_name(\"Authentication\")` in a map search: its quotes are escaped in the
    // string, as they were in the call.
    let password = paste_ready("detections/endpoint/potential_password_in_username.yml");
    assert!(password.contains(r#"| rename \"Authentication\".* as * |"#), "{password}");
    for detection in mapping {
        let rule = &detection.rule;
        let paste_ready = rule.paste_ready_query.as_deref().expect("a paste-ready search");
        for search in map_searches(paste_ready) {
            let left = calls_in(&search);
            assert!(left.iter().all(|c| rule.unresolved_macros.contains(c)), "{}: {left:?} in {search}", rule.path);
            assert!(!search.contains("`wineventlog_security`"), "{}: {search}", rule.path);
            if rule.query.contains("search=\"search `wineventlog_security`") {
                assert!(search.starts_with(&format!("search {wineventlog_security} ")), "{}: {search}", rule.path);
            }
        }
        let required = requires(detection, DependencyKind::Macro);
        for key in calls_in(&rule.query) {
            assert!(required.contains(&key.as_str()), "{}: {key} not required", rule.path);
        }
    }
}

/// A macro's definition as ESCU's macros/NAME.yml writes it.
fn splunk_macro_definition(name: &str) -> String {
    let text = std::fs::read_to_string(corpus().join(format!("macros/{name}.yml"))).expect("the macro file");
    let line = text.lines().find_map(|l| l.strip_prefix("definition: ")).expect("a definition line");
    line.trim_matches(['\'', '"']).to_string()
}

#[test]
fn macro_and_lookup_files_are_kept_as_assets_without_the_models() {
    let assets = &splunk().assets;
    let count = |suffix: &str| assets.iter().filter(|a| a.path.ends_with(suffix)).count();
    let on_disk = |dir: &str, ext: &str| {
        std::fs::read_dir(corpus().join(dir))
            .expect("corpus folder")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == ext))
            .count()
    };
    assert_eq!(assets.iter().filter(|a| a.path.starts_with("macros/")).count(), on_disk("macros", "yml"));
    assert_eq!(count(".csv"), on_disk("lookups", "csv"));
    assert_eq!(
        assets.iter().filter(|a| a.path.starts_with("lookups/") && a.path.ends_with(".yml")).count(),
        on_disk("lookups", "yml")
    );
    assert_eq!(count(".mlmodel"), 0);
}
