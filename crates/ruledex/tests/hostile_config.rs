//! A hostile `ruledex.toml` in the working directory runs nothing. ruledex reads
//! `./ruledex.toml` without being asked, so running it inside a cloned repository hands that
//! repository the configuration; its values once reached git as options.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::{Run, fixtures};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=ruledex tests", "-c", "user.email=tests@ruledex.invalid"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// `ruledex sync` run in `work`, with no `--config`, so `work/ruledex.toml` is what it reads.
fn sync_in(work: &Path, data_dir: &Path) -> Run {
    Command::new(env!("CARGO_BIN_EXE_ruledex"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("sync")
        .current_dir(work)
        .env_remove("RULEDEX_CONFIG")
        .env_remove("RULEDEX_DATA_DIR")
        .output()
        .unwrap()
        .into()
}

fn config(git_url: &str, rev: &str) -> String {
    format!(
        "[attack]\nenterprise = {:?}\n\n[[sources]]\nname = \"chronicle\"\nformat = \"chronicle\"\nkind = \"vendor\"\n\
         git = {git_url:?}\nrev = {rev:?}\n",
        fixtures().join("attack/mini-enterprise.json")
    )
}

#[test]
fn a_hostile_ruledex_toml_in_the_working_directory_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("upstream");
    fs::create_dir_all(upstream.join("rules")).unwrap();
    fs::copy(fixtures().join("chronicle/rules/community/two_rules.yaral"), upstream.join("rules/two_rules.yaral"))
        .unwrap();
    git(&upstream, &["init", "--quiet", "--initial-branch=main"]);
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "--quiet", "-m", "first"]);
    let url = format!("file://{}", upstream.display());
    let work = dir.path().join("cloned-repository");
    fs::create_dir_all(&work).unwrap();
    let data = dir.path().join("data");
    let marker = dir.path().join("pwned");
    let touch = format!("touch {}", marker.display());

    let attacks = [
        (config(&url, &format!("--upload-pack={touch};")), "`rev` \"--upload-pack=touch "),
        (config(&format!("--upload-pack={touch};"), "main"), "`git` \"--upload-pack=touch "),
        (config(&format!("ext::sh -c {}", touch.replace(' ', "% ")), "main"), "names the git remote helper `ext::`"),
    ];
    for (hostile, refused) in &attacks {
        fs::write(work.join("ruledex.toml"), hostile).unwrap();
        let run = sync_in(&work, &data);
        assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("cloned-repository/ruledex.toml is not valid: source \"chronicle\": "),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(refused), "{}", run.stderr);
        assert!(!marker.exists(), "the hostile config ran a command:\n{hostile}");
        assert!(!data.join("sources").exists(), "git ran");
    }

    // The same file with an ordinary revision is read from the working directory and syncs.
    fs::write(work.join("ruledex.toml"), config(&url, "main")).unwrap();
    let run = sync_in(&work, &data);
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("cloned-repository/ruledex.toml"), "{}", run.stdout);
    assert!(data.join("sources/chronicle/rules/two_rules.yaral").is_file());
}
