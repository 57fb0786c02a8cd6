//! Keeping the vocabulary that misspelled searches are corrected against (the `spelling` table:
//! terms of the title, description and tag columns as written, with a letter, each with the sum
//! over those columns of how many rows use it) in step with the index a writer changes.
//!
//! A fresh catalog counts every term of its index. A copied one already holds the vocabulary of
//! the catalog it copied, and only the terms of rows the sync took out of the index or put into
//! it can have changed: the writer records those rows ([`record_changed_row`]) in a temporary
//! index tokenized like the real one, so their words are exactly the index's terms, and adds
//! what they changed to the counts kept. Counting every term took a tenth of a second, most of
//! a sync that changed one file; only terms the vocabulary did not hold (used at most once) are
//! looked up in the index, since their counts cannot be told from the vocabulary.

use rusqlite::Connection;

use crate::Result;

/// How a writer brings the vocabulary in step with its index when the catalog is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpellingUpdate {
    /// Count every term of the index.
    CountAll,
    /// Add what the recorded rows changed to the counts the copied catalog holds.
    AddChanges,
}

/// Which way a recorded row went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowChange {
    Removed,
    Added,
}

/// The terms the vocabulary holds: a word used once is as likely a typo upstream as the right
/// spelling. A change to what it holds needs a new `SCHEMA_VERSION`, since a copied catalog's
/// counts are carried over.
const VOCABULARY_TERM: &str = "length(term) BETWEEN 3 AND 40 AND term GLOB '*[a-z]*'";
const LEAST_USES: i64 = 2;

/// Where a writer of a copied catalog records the rows it changes, the columns of a removed row
/// apart from an added one's. Tokenized as `detections_fts` is (schema.sql): the two must split
/// text into the same terms.
const CHANGED_ROWS: &str = "
    CREATE VIRTUAL TABLE temp.changed_rows USING fts5 (
        removed_title, removed_description, removed_tags, added_title, added_description, added_tags,
        content = '',
        tokenize = 'unicode61 remove_diacritics 2'
    );";

/// Starts recording changed rows, for [`SpellingUpdate::AddChanges`].
pub(crate) fn record_changes(conn: &Connection) -> Result<()> {
    Ok(conn.execute_batch(CHANGED_ROWS)?)
}

/// Records the indexed texts of a row the writer takes out of the index or puts into it.
pub(crate) fn record_changed_row(
    conn: &Connection,
    change: RowChange,
    title: &str,
    description: &str,
    tags: &str,
) -> Result<()> {
    let sql = match change {
        RowChange::Removed => {
            "INSERT INTO temp.changed_rows (removed_title, removed_description, removed_tags) VALUES (?1, ?2, ?3)"
        }
        RowChange::Added => {
            "INSERT INTO temp.changed_rows (added_title, added_description, added_tags) VALUES (?1, ?2, ?3)"
        }
    };
    conn.prepare_cached(sql)?.execute([title, description, tags])?;
    Ok(())
}

/// Brings the vocabulary in step with the index, in the writer's transaction.
pub(crate) fn update_spelling(conn: &Connection, update: SpellingUpdate) -> Result<()> {
    let sql = match update {
        SpellingUpdate::CountAll => format!("DELETE FROM spelling; {}", count_in_index("")),
        SpellingUpdate::AddChanges => add_changes(),
    };
    Ok(conn.execute_batch(&sql)?)
}

/// Counts the index's terms that `only` keeps into the vocabulary.
fn count_in_index(only: &str) -> String {
    format!(
        "CREATE VIRTUAL TABLE temp.indexed_terms USING fts5vocab(main, detections_fts, col);
         INSERT INTO spelling (term, uses)
             SELECT term, sum(doc) FROM temp.indexed_terms
             WHERE col IN ('title', 'description', 'tags') AND {VOCABULARY_TERM} {only}
             GROUP BY term HAVING sum(doc) >= {LEAST_USES};
         DROP TABLE temp.indexed_terms;"
    )
}

/// Adds each term's change (rows that gained it, less rows that lost it, per column) to the
/// counts held; a term not held was used at most once, so one that gained is counted afresh.
fn add_changes() -> String {
    let count_gained = count_in_index(
        "AND term IN (SELECT term FROM temp.term_changes WHERE change > 0)
         AND term NOT IN (SELECT term FROM spelling)",
    );
    format!(
        "CREATE VIRTUAL TABLE temp.changed_terms USING fts5vocab(temp, changed_rows, col);
         CREATE TEMP TABLE term_changes AS
             SELECT term, sum(iif(col GLOB 'added_*', doc, -doc)) AS change FROM temp.changed_terms
             WHERE {VOCABULARY_TERM} GROUP BY term HAVING change <> 0;
         UPDATE spelling SET uses = uses + c.change FROM temp.term_changes c WHERE c.term = spelling.term;
         DELETE FROM spelling WHERE uses < {LEAST_USES};
         {count_gained}
         DROP TABLE temp.term_changes;
         DROP TABLE temp.changed_terms;"
    )
}
