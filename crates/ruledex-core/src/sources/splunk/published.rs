//! Macros ESCU's searches call that other Splunk apps define, with their published definitions.
//!
//! ESCU's repository defines its own macros; a search pasted into Splunk also relies on macros
//! of the apps ESCU expects installed, above all the Common Information Model's
//! `drop_dm_object_name`. This table holds the definitions those apps publish, so expansion can
//! inline them too. docs/splunk-macros.md lists each with its source, and a unit test keeps the
//! two in step. Macros of other apps without a published definition stay unresolved.

/// A macro another app defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishedMacro {
    pub name: &'static str,
    pub arguments: &'static [&'static str],
    pub definition: &'static str,
    /// The app that defines it.
    pub app: &'static str,
    /// Where the app publishes it.
    pub link: &'static str,
}

pub const PUBLISHED_MACROS: &[PublishedMacro] = &[PublishedMacro {
    name: "drop_dm_object_name",
    arguments: &["object"],
    definition: "rename $object$.* as *",
    app: "Splunk Common Information Model (Splunk_SA_CIM)",
    link: "https://splunkbase.splunk.com/app/1621",
}];

/// Macros Splunk Enterprise Security defines (by key, `name(N)`), which ESCU's searches call:
/// its asset and identity framework and its corporate domains, whose definitions read ES's own
/// lookups and are not published. A search calling one runs only where ES is installed.
pub const ENTERPRISE_SECURITY_MACROS: &[&str] = &["get_asset(1)", "cim_corporate_web_domain_search(1)"];

/// Whether the macro keyed `key` (`get_asset(1)`) is one Splunk Enterprise Security defines.
pub fn is_enterprise_security_macro(key: &str) -> bool {
    ENTERPRISE_SECURITY_MACROS.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::splunk::spl::macro_key;

    /// One row of the table in docs/splunk-macros.md: `| `key` | `args` | `definition` | app | link |`.
    fn documented_rows(doc: &str) -> Vec<[String; 5]> {
        doc.lines()
            .filter_map(|line| {
                let cells = table_cells(line)?;
                let key = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
                let code = |cell: &str| cell.trim_matches('`').to_string();
                let [_, args, definition, app, link] = cells.as_slice() else { return None };
                Some([key.to_string(), code(args), code(definition), app.clone(), link.clone()])
            })
            .collect()
    }

    /// The cells of a Markdown table row; `\|` is a `|` inside a cell.
    fn table_cells(line: &str) -> Option<Vec<String>> {
        let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
        let mut cells = vec![String::new()];
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => cells.last_mut()?.push(chars.next()?),
                '|' => cells.push(String::new()),
                c => cells.last_mut()?.push(c),
            }
        }
        Some(cells.into_iter().map(|c| c.trim().to_string()).collect())
    }

    /// docs/splunk-macros.md says where each definition comes from; it must list exactly these.
    #[test]
    fn the_documented_table_matches_the_code() {
        let doc = include_str!("../../../../../docs/splunk-macros.md");
        let in_code: Vec<[String; 5]> = PUBLISHED_MACROS
            .iter()
            .map(|m| {
                [
                    macro_key(m.name, m.arguments.len()),
                    m.arguments.join(", "),
                    m.definition.to_string(),
                    m.app.to_string(),
                    m.link.to_string(),
                ]
            })
            .collect();
        assert_eq!(documented_rows(doc), in_code);
    }

    /// docs/splunk-macros.md lists the Enterprise Security macros under their own heading.
    #[test]
    fn the_documented_enterprise_security_macros_match_the_code() {
        let doc = include_str!("../../../../../docs/splunk-macros.md");
        let section = doc.split("## What stays unresolved").nth(1).expect("the section");
        let listed: Vec<&str> = section
            .lines()
            .take_while(|line| !line.starts_with("## "))
            .filter_map(|line| line.strip_prefix("- `")?.split('`').next())
            .collect();
        assert_eq!(listed, ENTERPRISE_SECURITY_MACROS);
    }

    #[test]
    fn table_cells_keep_escaped_pipes() {
        assert_eq!(table_cells(r"| `a` | `x \| y` |"), Some(vec!["`a`".to_string(), "`x | y`".to_string()]));
        assert_eq!(table_cells("not a row"), None);
    }
}
