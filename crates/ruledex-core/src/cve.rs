//! CVE identifiers a rule is about, found where vendors put them: tags (`CVE: CVE-2021-44228`,
//! Sigma's `cve.2021-44228`), references (`.../expl_log4j_cve_2021_44228.yar`) and titles.

use std::sync::LazyLock;

use regex::Regex;

/// `CVE-YYYY-NNNN` in the spellings rules use: any case, `-`, `_`, `.` or a space between the
/// parts, the `CVE` prefix optional only where the caller says so. Not preceded by a letter or
/// digit; the check that no digit follows is made by hand (the regex crate has no look-ahead).
static CVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^a-z0-9])cve[-_. ]?((?:19|20)[0-9]{2})[-_.]([0-9]{4,7})").expect("valid CVE pattern")
});
static BARE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:cve[-_. ]?)?((?:19|20)[0-9]{2})[-_.]([0-9]{4,7})$").expect("valid pattern"));

/// Every CVE named in `texts`, canonical (`CVE-2021-44228`), sorted, each once.
pub fn cves_in<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut found: Vec<String> = texts
        .into_iter()
        .flat_map(|text| {
            CVE.captures_iter(text).filter_map(move |c| {
                let whole = c.get(0)?;
                let followed_by_digit = text[whole.end()..].starts_with(|c: char| c.is_ascii_digit());
                (!followed_by_digit).then(|| canonical(&c[1], &c[2]))
            })
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A CVE as a user types it after `cve:` (`CVE-2021-44228`, `cve-2021-44228`, `2021-44228`),
/// canonical; `None` when it is not one.
pub fn parse(text: &str) -> Option<String> {
    BARE.captures(text.trim()).map(|c| canonical(&c[1], &c[2]))
}

fn canonical(year: &str, number: &str) -> String {
    format!("CVE-{year}-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cves_in_every_spelling_rules_use() {
        let texts = [
            "Log4Shell CVE-2021-44228",
            "CVE: CVE-2021-44228",
            "cve.2021.21551",
            "https://github.com/Neo23x0/signature-base/blob/master/yara/expl_log4j_cve_2021_44228.yar",
            "CVE-2020-1472,CVE-2019-0708",
            "not a cve: XCVE-2021-1111, CVE-2021-123456789, CVE-2021-12",
        ];
        assert_eq!(cves_in(texts), vec!["CVE-2019-0708", "CVE-2020-1472", "CVE-2021-21551", "CVE-2021-44228"]);
    }

    #[test]
    fn parses_what_users_type_after_cve() {
        assert_eq!(parse("CVE-2021-44228").as_deref(), Some("CVE-2021-44228"));
        assert_eq!(parse("cve-2021-44228").as_deref(), Some("CVE-2021-44228"));
        assert_eq!(parse("2021-44228").as_deref(), Some("CVE-2021-44228"));
        assert_eq!(parse("log4shell"), None);
        assert_eq!(parse("CVE-2021-44228x"), None);
    }
}
