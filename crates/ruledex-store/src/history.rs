//! The change history the catalog carries: recording a sync's changes (and pruning old ones)
//! while a catalog is written, and reading them back.

use std::collections::HashMap;

use ruledex_core::history::{AttackUpdate, ChangeQuery, DetectionChange, Since};
use ruledex_core::model::{ChangeKind, ChangedField};
use rusqlite::{Connection, params, params_from_iter};

use crate::record::wire;
use crate::{CatalogWriter, Result, Store};

/// How much history a catalog keeps: the newest `syncs` syncs that changed something, none
/// older than `oldest` (a fixed-width UTC time, see `schema.sql`).
#[derive(Debug, Clone)]
pub struct Retention {
    pub syncs: u32,
    pub oldest: String,
}

/// A change as the history holds it: which sync made it, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedChange {
    /// The sync's number in this history (they only grow).
    pub sync: i64,
    /// The sync's identifier, unique across catalogs: with the address, it identifies a change.
    pub sync_uid: String,
    pub synced_at: String,
    pub change: DetectionChange,
}

/// A sync that read new ATT&CK data, as the history holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedAttackUpdate {
    pub sync: i64,
    /// The sync's catalog generation: unlike `sync`, never reused by another catalog.
    pub sync_uid: String,
    pub synced_at: String,
    pub update: AttackUpdate,
}

impl CatalogWriter {
    /// Records one sync's changes, and its new ATT&CK data if it read any, as made at
    /// `synced_at`, then prunes what `retention` no longer keeps. A sync that changed neither is
    /// not recorded. Returns the sync's number.
    pub fn record_changes(
        &mut self,
        synced_at: &str,
        changes: &[DetectionChange],
        attack: Option<&AttackUpdate>,
        retention: &Retention,
    ) -> Result<Option<i64>> {
        let sync = match (changes, attack) {
            ([], None) => None,
            _ => Some(self.insert_changes(synced_at, changes, attack)?),
        };
        let pruned = "SELECT id FROM syncs WHERE synced_at < ?1 OR id <= (SELECT max(id) FROM syncs) - ?2";
        for table in ["changes WHERE sync", "syncs WHERE id"] {
            let sql = format!("DELETE FROM {table} IN ({pruned})");
            self.conn().execute(&sql, params![retention.oldest, retention.syncs])?;
        }
        Ok(sync)
    }

    fn insert_changes(
        &mut self,
        synced_at: &str,
        changes: &[DetectionChange],
        attack: Option<&AttackUpdate>,
    ) -> Result<i64> {
        let uid = self.generation().to_string();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO syncs (uid, synced_at, attack_before, attack_after, attack_moved) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                uid,
                synced_at,
                attack.and_then(|a| a.before.as_deref()),
                attack.and_then(|a| a.after.as_deref()),
                attack.map(|a| a.moved as i64)
            ],
        )?;
        let sync = conn.last_insert_rowid();
        let mut insert = conn.prepare_cached(
            "INSERT INTO changes (sync, source, id, title, change, fields, commit_before, commit_after, techniques,
                 query_before, query_after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for c in changes {
            let fields: Vec<&str> = c.fields.iter().map(|f| f.as_str()).collect();
            let techniques: Vec<String> = c.techniques.iter().map(ToString::to_string).collect();
            insert.execute(params![
                sync,
                c.source,
                c.id,
                c.title,
                c.kind.as_str(),
                serde_json::to_string(&fields)?,
                c.commit_before,
                c.commit_after,
                serde_json::to_string(&techniques)?,
                c.query_before,
                c.query_after,
            ])?;
        }
        Ok(sync)
    }
}

impl Store {
    /// Changes `query` asks for, newest first.
    pub fn changes(&self, query: &ChangeQuery) -> Result<Vec<RecordedChange>> {
        let mut conditions = vec!["1 = 1".to_string()];
        let mut values: Vec<String> = Vec::new();
        let mut bind = |condition: &str, value: String| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("?{}", values.len())));
        };
        match &query.since {
            Some(Since::Time(time)) => bind("s.synced_at >= ?", time.clone()),
            Some(Since::Sync(number)) => bind("s.id > ?", number.to_string()),
            None => {}
        }
        if let Some(source) = &query.source {
            bind("c.source = ?", source.clone());
        }
        if let Some(id) = &query.id {
            bind("c.id = ?", id.clone());
        }
        if let Some(technique) = query.technique {
            // A technique's history includes its sub-techniques', as its page lists theirs.
            let family = !technique.is_subtechnique();
            let test = if family { "t.value = ? OR t.value LIKE ? || '.%'" } else { "t.value = ?" };
            let test = format!("EXISTS (SELECT 1 FROM json_each(c.techniques) t WHERE {test})");
            let n = values.len() + 1;
            values.push(technique.to_string());
            conditions.push(test.replacen('?', &format!("?{n}"), 2));
        }
        let sql = format!(
            "SELECT s.id, s.uid, s.synced_at, c.source, c.id, c.title, c.change, c.fields, c.commit_before,
                    c.commit_after, c.techniques, c.query_before, c.query_after
             FROM changes c JOIN syncs s ON s.id = c.sync
             WHERE {}
             ORDER BY s.id DESC, c.pk
             LIMIT {}",
            conditions.join(" AND "),
            query.limit
        );
        self.with_conn(|conn| read_changes(conn, &sql, &values))
    }

    /// The syncs that read new ATT&CK data, newest first, those after `since` when given.
    pub fn attack_updates(&self, since: Option<&Since>, limit: usize) -> Result<Vec<RecordedAttackUpdate>> {
        let (condition, value) = match since {
            Some(Since::Time(time)) => ("synced_at >= ?1", time.clone()),
            Some(Since::Sync(number)) => ("id > ?1", number.to_string()),
            None => ("?1 IS NOT NULL", String::new()),
        };
        let sql = format!(
            "SELECT id, synced_at, attack_before, attack_after, attack_moved, uid FROM syncs
             WHERE attack_moved IS NOT NULL AND {condition} ORDER BY id DESC LIMIT {limit}"
        );
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map([value], |r| {
                Ok(RecordedAttackUpdate {
                    sync: r.get(0)?,
                    sync_uid: r.get(5)?,
                    synced_at: r.get(1)?,
                    update: AttackUpdate {
                        before: r.get(2)?,
                        after: r.get(3)?,
                        moved: usize::try_from(r.get::<_, i64>(4)?).unwrap_or_default(),
                    },
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// What happened to each detection changed since `since` (a fixed-width UTC time): the
    /// latest change of each, by source and ID. For "new" and "updated" badges.
    pub fn recent_changes(&self, since: &str) -> Result<HashMap<(String, String), ChangeKind>> {
        self.with_conn(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT c.source, c.id, c.change FROM changes c JOIN syncs s ON s.id = c.sync
                 WHERE s.synced_at >= ?1 ORDER BY s.id, c.pk",
            )?;
            let rows = statement.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))?;
            let mut recent = HashMap::new();
            for row in rows {
                let (source, id, change) = row?;
                recent.insert((source, id), wire(&change)?);
            }
            Ok(recent)
        })
    }
}

fn read_changes(conn: &Connection, sql: &str, values: &[String]) -> Result<Vec<RecordedChange>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params_from_iter(values), |r| {
        Ok((
            (r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
            (r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?),
            (r.get::<_, String>(7)?, r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?),
            (r.get::<_, String>(10)?, r.get::<_, Option<String>>(11)?, r.get::<_, Option<String>>(12)?),
        ))
    })?;
    rows.map(|row| {
        let (
            (sync, sync_uid, synced_at),
            (source, id, title, kind),
            (fields, commit_before, commit_after),
            (techniques, query_before, query_after),
        ) = row?;
        let fields: Vec<String> = serde_json::from_str(&fields)?;
        let techniques: Vec<String> = serde_json::from_str(&techniques)?;
        let change = DetectionChange {
            source,
            id,
            title,
            kind: wire(&kind)?,
            fields: fields.iter().map(|f| wire::<ChangedField>(f)).collect::<Result<_>>()?,
            commit_before,
            commit_after,
            techniques: techniques.iter().map(|t| wire(t)).collect::<Result<_>>()?,
            query_before,
            query_after,
        };
        Ok(RecordedChange { sync, sync_uid, synced_at, change })
    })
    .collect()
}
