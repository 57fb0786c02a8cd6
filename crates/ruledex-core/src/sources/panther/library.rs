//! What Panther rules refer to, read once per source from its support files: the Python file
//! beside each rule, the global helper modules those files import, the saved queries scheduled
//! rules run on, and the list of deprecated rule IDs.
//!
//! Files that do not read here (a saved query that is not YAML, say) are not reported here:
//! query files are rule files too, and the rule pass reports them once, with their reason.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::{Kind, RawItem, RawSchedule, is_query_path};
use crate::sources::Support;
use crate::sources::util::{non_empty, yaml};

/// The folder Panther keeps its shared Python modules in.
const HELPERS_DIR: &str = "global_helpers/";
const DEPRECATED_LIST: &str = "deprecated.txt";

pub(super) struct Library<'a> {
    support: &'a Support,
    /// Each global helper module, by name, with the helper modules it imports.
    helpers: BTreeMap<&'a str, Vec<&'a str>>,
    /// Saved and scheduled queries by `QueryName`; where a name is defined twice, the first
    /// file in path order.
    queries: HashMap<String, SavedQuery>,
    deprecated: HashSet<&'a str>,
}

/// A saved or scheduled query (`queries/**/*.yml`).
pub(crate) struct SavedQuery {
    pub name: String,
    pub path: String,
    /// `Query`, else the older `SnowflakeQuery`, else `AthenaQuery`.
    pub sql: Option<String>,
    /// When Panther runs it, for scheduled queries: "every 60 minutes, timeout 5 minutes".
    pub schedule: Option<String>,
}

impl<'a> Library<'a> {
    pub(super) fn read(support: &'a Support) -> Library<'a> {
        Library {
            support,
            helpers: helpers(support),
            queries: queries(support.files()),
            deprecated: support.get(DEPRECATED_LIST).map(deprecated_ids).unwrap_or_default(),
        }
    }

    /// The text of a Python file of the source.
    pub(super) fn python(&self, path: &str) -> Option<&'a str> {
        path.ends_with(".py").then(|| self.support.get(path)).flatten()
    }

    pub(super) fn query(&self, name: &str) -> Option<&SavedQuery> {
        self.queries.get(name.trim())
    }

    pub(super) fn is_deprecated(&self, rule_id: &str) -> bool {
        self.deprecated.contains(rule_id)
    }

    /// The global helper modules some Python needs, directly or through other helpers, by name.
    pub(super) fn helpers_needed(&self, python: &str) -> Vec<String> {
        let mut needed = BTreeSet::new();
        let mut pending: Vec<&str> = self.helpers_imported(python);
        while let Some(module) = pending.pop() {
            if needed.insert(module) {
                pending.extend(self.helpers.get(module).into_iter().flatten());
            }
        }
        needed.into_iter().map(String::from).collect()
    }

    fn helpers_imported(&self, python: &str) -> Vec<&'a str> {
        imported_modules(python).filter_map(|m| self.helpers.get_key_value(m).map(|(name, _)| *name)).collect()
    }
}

/// `global_helpers/<name>.py` by module name, each with the helpers it imports itself.
fn helpers(support: &Support) -> BTreeMap<&str, Vec<&str>> {
    let modules: BTreeMap<&str, &str> = support
        .files()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix(HELPERS_DIR)?.strip_suffix(".py")?;
            (!name.contains('/')).then_some((name, text))
        })
        .collect();
    modules
        .iter()
        .map(|(name, text)| {
            let imports = imported_modules(text).filter(|m| m != name);
            (*name, imports.filter_map(|m| modules.get_key_value(m).map(|(helper, _)| *helper)).collect())
        })
        .collect()
}

static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^#;\r\n]+))")
        .expect("valid regex")
});

/// The top-level modules Python code imports (`import a.b as c, d` names `a` and `d`;
/// `from a.b import c` names `a`), in order, repeats included. Relative imports name nothing.
fn imported_modules(python: &str) -> impl Iterator<Item = &str> {
    IMPORT.captures_iter(python).flat_map(|c| {
        let names = match (c.get(1), c.get(2)) {
            (Some(from), _) => vec![from.as_str()],
            (None, Some(list)) => list.as_str().split(',').collect(),
            (None, None) => vec![],
        };
        names.into_iter().filter_map(|name| name.split_whitespace().next()?.split('.').next().filter(|m| !m.is_empty()))
    })
}

/// The saved and scheduled queries under `queries/` among `files` (paths and texts), by name.
pub(crate) fn queries<'f>(files: impl Iterator<Item = (&'f str, &'f str)>) -> HashMap<String, SavedQuery> {
    let mut queries = HashMap::new();
    for (path, text) in files.filter(|(path, _)| is_query_path(path)) {
        let Ok(item) = yaml::<RawItem>(text) else { continue };
        if let Some(query) = item.saved_query(path) {
            queries.entry(query.name.clone()).or_insert(query);
        }
    }
    queries
}

impl RawItem {
    /// The saved query this file defines, when it is one and has a name.
    pub(super) fn saved_query(&self, path: &str) -> Option<SavedQuery> {
        if !matches!(Kind::of(self.analysis_type.as_deref()), Ok(Kind::SavedQuery)) {
            return None;
        }
        let name = non_empty(self.query_name.clone().map(|s| s.0))?;
        let sql =
            [&self.query, &self.snowflake_query, &self.athena_query].into_iter().find_map(|q| non_empty(q.clone()));
        let schedule = self.schedule.as_ref().and_then(RawSchedule::text);
        Some(SavedQuery { name, path: path.to_string(), sql, schedule })
    }
}

/// The rule IDs `deprecated.txt` lists, one a line.
fn deprecated_ids(text: &str) -> HashSet<&str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_name_top_level_modules_in_every_python_spelling() {
        let python = "import json\nfrom panther_base_helpers import deep_get, (x)\n\
                      import panther_aws_helpers as aws, re  # comment\n\
                      def rule(e):\n    from panther_detection_helpers.caching import get\n\
                      from . import sibling\nimported = 'import nothing'\n";
        let modules: Vec<&str> = imported_modules(python).collect();
        assert_eq!(
            modules,
            vec!["json", "panther_base_helpers", "panther_aws_helpers", "re", "panther_detection_helpers"]
        );
    }

    #[test]
    fn helpers_needed_follow_helper_imports_without_looping() {
        let support = Support::new([
            ("global_helpers/panther_base_helpers.py".to_string(), "import panther_aws_helpers\n".to_string()),
            ("global_helpers/panther_aws_helpers.py".to_string(), "from panther_base_helpers import x\n".to_string()),
            ("global_helpers/panther_okta_helpers.py".to_string(), "import json\n".to_string()),
            ("global_helpers/sub/nested.py".to_string(), String::new()),
        ]);
        let library = Library::read(&support);
        let needed = library.helpers_needed("from panther_base_helpers import deep_get\nimport nested\nimport json\n");
        assert_eq!(needed, vec!["panther_aws_helpers", "panther_base_helpers"]);
        assert!(library.helpers_needed("import os\n").is_empty());
    }

    #[test]
    fn queries_are_found_by_name_first_file_first() {
        let query = |name: &str, sql: &str| {
            format!("AnalysisType: scheduled_query\nQueryName: {name}\n{sql}\nSchedule:\n  RateMinutes: 60\n")
        };
        let support = Support::new([
            ("queries/a.yml".to_string(), query("Many Logins", "Query: SELECT 1")),
            ("queries/b.yml".to_string(), query("Many Logins", "Query: SELECT 2")),
            ("queries/c.yml".to_string(), query("Old", "AthenaQuery: SELECT 3")),
            ("queries/d.yml".to_string(), "AnalysisType: rule\nRuleID: r\n".to_string()),
            ("queries/e.yml".to_string(), "not: [yaml".to_string()),
            ("rules/f.yml".to_string(), query("Elsewhere", "Query: SELECT 4")),
        ]);
        let library = Library::read(&support);
        let logins = library.query(" Many Logins ").expect("defined");
        assert_eq!((logins.path.as_str(), logins.sql.as_deref()), ("queries/a.yml", Some("SELECT 1")));
        assert_eq!(logins.schedule.as_deref(), Some("every 60 minutes"));
        assert_eq!(library.query("Old").and_then(|q| q.sql.as_deref()), Some("SELECT 3"));
        assert!(library.query("Elsewhere").is_none(), "only files under queries/ define queries");
        assert_eq!(library.queries.len(), 2);
    }

    #[test]
    fn deprecated_ids_are_read_one_a_line() {
        let support = Support::new([(DEPRECATED_LIST.to_string(), "A.Rule\n\n  B.Rule  \n# note\n".to_string())]);
        let library = Library::read(&support);
        assert!(library.is_deprecated("A.Rule") && library.is_deprecated("B.Rule"));
        assert!(!library.is_deprecated("# note") && !library.is_deprecated(""));
    }
}
