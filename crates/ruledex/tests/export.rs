//! `ruledex export` and the paste-ready query of `show --json`, on the real corpora: every
//! export read back with its format's own parser, and bad selections refused with status 1
//! leaving nothing behind.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{detections, fixture_catalog, shared_catalog};

#[test]
fn show_json_has_the_paste_ready_query_its_unresolved_macros_and_lookups() {
    let netsh = shared_catalog().run(&["show", "splunk/windows_proxy_via_netsh", "--json"]).ok().json();
    let shipped = netsh["query"].as_str().unwrap();
    let paste_ready = netsh["paste_ready_query"].as_str().unwrap();
    assert!(shipped.contains("`process_netsh`") && shipped.contains("`windows_proxy_via_netsh_filter`"));
    assert!(!paste_ready.contains('`'), "every macro expanded: {paste_ready}");
    assert!(paste_ready.contains("| search *"), "the _filter macro is ESCU's `search *`");
    assert_eq!(netsh["unresolved_macros"], Value::Array(vec![]));
    assert!(netsh["lookups"].is_array());
    let yaral = shared_catalog().run(&["show", "chronicle/gcti_tor_exit_nodes", "--json"]).ok().json();
    assert_eq!(yaral["paste_ready_query"], yaral["query"], "nothing to expand: the query itself");
}

#[test]
fn json_exports_hold_each_detection_as_show_prints_it() {
    let catalog = shared_catalog();
    let exported: Value =
        serde_json::from_str(&catalog.run(&["export", "--format", "json", "--technique", "T1090"]).ok().stdout)
            .unwrap();
    let listed = catalog.run(&["technique", "T1090", "--all", "--json"]).ok().json();
    let addresses = |v: &Value| -> Vec<String> {
        detections(v)
            .iter()
            .map(|d| format!("{}/{}", d["source"].as_str().unwrap(), d["id"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(addresses(&exported), addresses(&listed), "the technique's default view, in its order");
    let first = &detections(&exported)[0];
    let address = format!("{}/{}", first["source"].as_str().unwrap(), first["id"].as_str().unwrap());
    let mut shown = catalog.run(&["show", &address, "--json"]).ok().json();
    // `show` answers with the release it resolved against; the detection itself is the same.
    assert_eq!(shown.as_object_mut().unwrap().remove("attack_version"), Some(Value::from("18.1")));
    assert_eq!(first, &shown, "an exported detection is `show --json`");
}

#[test]
fn a_splunk_app_archive_and_a_directory_hold_the_same_app() {
    let catalog = shared_catalog();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("proxy.tar.gz");
    let folder = dir.path().join("proxy");
    for out in [&archive, &folder] {
        let out = out.to_str().unwrap();
        catalog.run(&["export", "--format", "splunk-app", "--technique", "T1090", "--out", out]).ok();
    }
    let mut names: Vec<String> = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(fs::File::open(&archive).unwrap()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(fs::read_to_string(folder.join(&name)).unwrap(), text, "{name}");
        names.push(name);
    }
    let app = names.iter().find(|n| n.ends_with("default/savedsearches.conf")).expect("savedsearches.conf");
    let searches = fs::read_to_string(folder.join(app)).unwrap();
    let splunk_t1090 =
        detections(&catalog.run(&["technique", "T1090", "--source", "splunk", "--all", "--json"]).ok().json())
            .iter()
            .map(|d| d["title"].as_str().unwrap().to_string())
            .collect::<Vec<_>>();
    for title in &splunk_t1090 {
        assert!(searches.contains(&format!("[{title}]")) || searches.contains(title), "{title} has a stanza");
    }
    assert!(names.iter().any(|n| n.ends_with("default/app.conf")));
    // The app is named once, without stutter: ruledex_T1090, "ruledex: T1090".
    assert!(names.iter().all(|n| n.starts_with("ruledex_T1090/")), "{names:?}");
    let app_conf = fs::read_to_string(folder.join("ruledex_T1090/default/app.conf")).unwrap();
    assert!(app_conf.contains("label = ruledex: T1090\n"), "{app_conf}");
    assert!(!app_conf.contains("ruledex_ruledex") && !app_conf.contains("T1090: T1090"), "{app_conf}");
}

#[test]
fn one_rule_goes_to_standard_output_in_its_own_format() {
    let out =
        shared_catalog().run(&["export", "--format", "yaral", "--detection", "chronicle/gcti_tor_exit_nodes"]).ok();
    assert!(out.stdout.starts_with("rule gcti_tor_exit_nodes"), "{}", out.stdout);
    let kibana = shared_catalog()
        .run(&["export", "--format", "kibana-ndjson", "--technique", "T1090", "--source", "elastic"])
        .ok();
    let lines: Vec<Value> = kibana.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 20 && lines.iter().all(|rule| rule["rule_id"].is_string() && rule["query"].is_string()));
}

#[test]
fn csv_rows_keep_spreadsheet_formulas_inert() {
    let csv = shared_catalog().run(&["export", "--format", "csv", "--query", "netsh"]).ok().stdout;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "source");
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert!(records.len() > 5);
    assert!(records.iter().flat_map(|r| r.iter()).all(|cell| !cell.starts_with(['=', '+', '-', '@'])));
}

#[test]
fn bad_selections_fail_with_status_1_and_leave_nothing_behind() {
    let catalog = shared_catalog();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zip");
    let out = out.to_str().unwrap();
    let usage = catalog.run(&["export", "--format", "splunk_app", "--technique", "T1090"]);
    assert_eq!(usage.code, 2, "an unknown format is a usage error: {}", usage.stderr);
    assert!(usage.stderr.contains("--format: \"splunk_app\" is not one of splunk-app,"), "{}", usage.stderr);
    assert!(usage.stderr.contains("did you mean splunk-app?"), "{}", usage.stderr);
    let cases: [(&[&str], &str); 4] = [
        (&["--format", "json", "--technique", "T9999"], "T9999 is not an ATT&CK technique"),
        (
            &["--format", "json", "--technique", "T1090", "--source", "kql", "--language", "yara-l"],
            "holds no detection",
        ),
        (&["--format", "kibana-ndjson", "--technique", "T1090", "--source", "splunk", "--out", out], "none of the"),
        (&["--format", "sigma", "--technique", "T1090", "--community"], "give --out a directory"),
    ];
    for (args, message) in cases {
        let mut all = vec!["export"];
        all.extend_from_slice(args);
        let run = catalog.run(&all);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: nothing on standard output");
    }
    let unwritable =
        catalog.run(&["export", "--format", "json", "--technique", "T1090", "--out", "/proc/ruledex/x.json"]);
    assert_eq!(unwritable.code, 1);
    assert!(unwritable.stderr.contains("cannot write /proc/ruledex/x.json"), "{}", unwritable.stderr);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no partial file is left");
}

/// Issue 21, item 3: as root, `--out /dev/null` and `--out /dev/stdout` were replaced by regular
/// files. FIFOs and devices are written to as they are, `-` is standard output, a symbolic link
/// or a socket is refused, and replacing a file says so.
#[test]
fn export_out_writes_through_fifos_and_devices_and_replaces_no_link() {
    let catalog = shared_catalog();
    let rule = ["export", "--format", "yaral", "--detection", "chronicle/gcti_tor_exit_nodes"];
    let to = |out: &Path| {
        let mut args = rule.to_vec();
        args.extend(["--out", out.to_str().unwrap()]);
        catalog.run(&args)
    };
    let null = to(Path::new("/dev/null")).ok();
    assert!(null.stderr.contains("ruledex: wrote 1 detection as yaral to /dev/null"), "{}", null.stderr);
    assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device(), "/dev/null is still a device");

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("rules.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
    };
    to(&fifo).ok();
    assert!(reader.join().unwrap().starts_with("rule gcti_tor_exit_nodes"));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");

    let dash = catalog.run(&[&rule[..], &["--out", "-"]].concat()).ok();
    assert!(dash.stdout.starts_with("rule gcti_tor_exit_nodes"), "{}", dash.stdout);

    let target = dir.path().join("target.yaral");
    fs::write(&target, "kept").unwrap();
    let link = dir.path().join("link.yaral");
    symlink(&target, &link).unwrap();
    let refused = to(&link);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("is a symbolic link, which ruledex never replaces"), "{}", refused.stderr);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), "kept");

    let socket_path = dir.path().join("rules.sock");
    let _socket = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let socket = to(&socket_path);
    assert_eq!(socket.code, 1);
    assert!(socket.stderr.contains("is a socket, not a file ruledex replaces"), "{}", socket.stderr);

    // yaral writes a folder of files, which never replaces anything; json writes one file.
    let exists = to(&target);
    assert!(exists.code == 1 && exists.stderr.contains("already exists"), "{}", exists.stderr);
    let json = ["export", "--format", "json", "--detection", "chronicle/gcti_tor_exit_nodes", "--out"];
    let replaced = catalog.run(&[&json[..], &[target.to_str().unwrap()]].concat()).ok();
    assert!(replaced.stderr.contains("replaced the file there with 1 detection as json"), "{}", replaced.stderr);
    assert!(fs::read_to_string(&target).unwrap().contains("gcti_tor_exit_nodes"));
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 4, "no temporary file left: {leftovers:?}");
}

/// Issue 21, item 4: in a shared writable folder, links planted at the predictable temporary
/// names (`.NAME.partial-PID`) made a root export overwrite another file and write its files into
/// another folder. The links are planted for the next few hundred process IDs; none is followed.
#[test]
fn links_planted_at_temporary_names_are_not_followed() {
    let catalog = shared_catalog();
    let shared_folder = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    fs::write(&victim, "untouched").unwrap();
    let last_pid: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid").unwrap().trim().parse().unwrap();
    for pid in last_pid..last_pid + 400 {
        symlink(&victim, shared_folder.path().join(format!(".rules.json.partial-{pid}"))).unwrap();
        symlink(elsewhere.path(), shared_folder.path().join(format!(".sigma.partial-{pid}"))).unwrap();
    }
    let json = shared_folder.path().join("rules.json");
    let sigma = shared_folder.path().join("sigma");
    catalog.run(&["export", "--format", "json", "--technique", "T1090", "--out", json.to_str().unwrap()]).ok();
    catalog
        .run(&["export", "--format", "sigma", "--technique", "T1090", "--community", "--out", sigma.to_str().unwrap()])
        .ok();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "untouched");
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 1, "nothing written into the other folder");
    assert!(serde_json::from_str::<Value>(&fs::read_to_string(&json).unwrap()).is_ok());
    assert!(fs::read_dir(&sigma).unwrap().count() > 5);
    let partial = fs::read_dir(shared_folder.path())
        .unwrap()
        .filter(|e| {
            let entry = e.as_ref().unwrap();
            entry.file_name().to_string_lossy().ends_with(".partial") && !entry.file_type().unwrap().is_symlink()
        })
        .count();
    assert_eq!(partial, 0, "no temporary file or folder left");
}

/// Issue 21, item 4: an export interrupted by SIGINT or SIGTERM left a `.partial` folder of
/// thousands of files. The signal is sent once the temporary folder exists.
#[test]
fn an_interrupted_export_removes_its_temporary_folder() {
    let catalog = shared_catalog();
    for (signal, status) in [("-TERM", 143), ("-INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("all-sigma");
        let mut child = catalog
            .command()
            .args(["export", "--format", "sigma", "--source", "sigma", "--out", out.to_str().unwrap()])
            .spawn()
            .unwrap();
        let started = Instant::now();
        let partial = loop {
            let found = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .find(|name| name.ends_with(".partial"));
            if let Some(found) = found {
                break found;
            }
            assert!(child.try_wait().unwrap().is_none(), "the export ended before its temporary folder was seen");
            assert!(started.elapsed() < Duration::from_secs(120), "no temporary folder appeared");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert!(partial.starts_with(".all-sigma."), "{partial}");
        let pid = child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
        let ended = child.wait().unwrap();
        assert_eq!(ended.code(), Some(status), "{signal}: {ended}");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "{signal}: left {left:?}");
    }
}

/// Issue 21, item 5: `export --format yaral` and `csv` to a terminal passed rule text's escape
/// sequences (OSC 52 writes the clipboard) to it. On a terminal they are shown, as `show
/// --native` shows them; redirected, the bytes stay as they are.
#[test]
fn exports_to_a_terminal_show_escape_sequences_instead_of_sending_them() {
    let workspace = fixture_catalog("terminal");
    let binary = env!("CARGO_BIN_EXE_ruledex");
    let base = format!(
        "{binary} --config {} --data-dir {} export --detection chronicle/fixture_terminal_escapes --format",
        workspace.config().display(),
        workspace.data_dir().display()
    );
    for format in ["yaral", "csv"] {
        // `script` runs the command on a pseudo-terminal of its own and copies what it printed.
        let shown = Command::new("script").args(["-qec", &format!("{base} {format}"), "/dev/null"]).output().unwrap();
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.status.success(), "{format}: {text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{format}: {text:?}");
        assert!(text.contains("\\u{1b}[2J"), "{format} shows what the rule holds: {text}");
        let piped = workspace.run(&["export", "--detection", "chronicle/fixture_terminal_escapes", "--format", format]);
        assert!(piped.ok().stdout.contains("\u{1b}[2J"), "{format}: redirected output is the rule's own bytes");
    }
}
