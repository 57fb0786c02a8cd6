-- The catalog: one SQLite file, written by a sync (from a copy of the previous one) and never
-- modified afterwards. Bump SCHEMA_VERSION in lib.rs when this changes; an older file is rebuilt
-- by the next sync, and its change history starts afresh.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per configured source: its last ingest report (JSON) and sync outcome.
CREATE TABLE sources (
    name      TEXT PRIMARY KEY,
    position  INTEGER NOT NULL,
    report    TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    -- Why the last sync could not read this source; its detections are then the previous ones.
    error     TEXT,
    -- What the source looked like when last read (its commit, or its files' sizes and times,
    -- with its settings): a sync finding the same does not read it again.
    fingerprint    TEXT,
    -- What its rules were parsed with besides their own files (see ingest::EarlierRead).
    support_digest TEXT
);

-- Each rule file of a source as the last read found it: its content hash (NULL when it was not
-- read cleanly) and the addresses of its detections in file order (JSON array). A later read
-- takes the rules of an unchanged file from its detections instead of parsing it.
CREATE TABLE files (
    source TEXT NOT NULL REFERENCES sources(name),
    path   TEXT NOT NULL,
    hash   TEXT,
    ids    TEXT NOT NULL,
    PRIMARY KEY (source, path)
) WITHOUT ROWID;

-- Change history: each sync that changed detections, and what happened to each. It lives in
-- the catalog so that the rename installing a catalog installs its history with it; each sync
-- carries it forward and prunes it.
CREATE TABLE syncs (
    id        INTEGER PRIMARY KEY,
    -- Unique across catalogs and histories (the writing catalog's generation): feed entry IDs
    -- are made from it, so one change keeps one ID.
    uid       TEXT NOT NULL UNIQUE,
    -- UTC, fixed width (YYYY-MM-DDTHH:MM:SSZ), so text order is time order.
    synced_at TEXT NOT NULL,
    -- Set when the sync read new ATT&CK data: the releases before and after (either may be
    -- unknown), and how many detections moved to other techniques though their tags did not.
    attack_before TEXT,
    attack_after  TEXT,
    attack_moved  INTEGER
);

CREATE TABLE changes (
    pk            INTEGER PRIMARY KEY,
    sync          INTEGER NOT NULL REFERENCES syncs(id),
    source        TEXT NOT NULL,
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    -- added | changed | deprecated | removed
    change        TEXT NOT NULL,
    -- JSON array of changed fields (query, paste_ready_query, attack, severity, status, metadata).
    fields        TEXT NOT NULL,
    commit_before TEXT,
    commit_after  TEXT,
    -- JSON array of the technique IDs the detection is listed under.
    techniques    TEXT NOT NULL,
    -- The query before and after, when it changed.
    query_before  TEXT,
    query_after   TEXT
);
CREATE INDEX changes_by_sync ON changes (sync);
CREATE INDEX changes_by_detection ON changes (source, id);

CREATE TABLE detections (
    pk          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL REFERENCES sources(name),
    id          TEXT NOT NULL,
    native_id   TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    title       TEXT NOT NULL,
    vendor      TEXT NOT NULL,
    language    TEXT,
    rule_type   TEXT,
    severity    TEXT,
    status      TEXT,
    deprecated  INTEGER NOT NULL,
    path        TEXT NOT NULL,
    -- JSON array, for filtering without reading the body.
    data_sources TEXT NOT NULL,
    -- model::Detection as JSON without the three long texts below, which only the detection's
    -- own page needs: listings read a third of the bytes.
    body           TEXT NOT NULL,
    native_rule    TEXT NOT NULL,
    investigation  TEXT,
    implementation TEXT,
    -- JSON array: each shipped test's input and mocks, in the order of the record's tests.
    test_inputs    TEXT NOT NULL,
    UNIQUE (source, id)
);
CREATE INDEX detections_by_native_id ON detections (source, native_id);
-- Covers what opening a catalog reads of every detection (its facets): without it the scan
-- walks the table's pages, a page per row since each row's body fills one, and opening a
-- catalog (a CLI command's, an MCP server's start) took twice as long.
CREATE INDEX detections_facets ON detections
    (source, source_kind, vendor, language, rule_type, severity, status, deprecated, data_sources, title);

-- Each technique a detection is listed under (the replacement, for revoked tags).
CREATE TABLE detection_techniques (
    technique TEXT NOT NULL,
    parent    TEXT NOT NULL,
    detection INTEGER NOT NULL REFERENCES detections(pk),
    status    TEXT NOT NULL,
    mapped_by TEXT NOT NULL,
    PRIMARY KEY (technique, detection)
) WITHOUT ROWID;
CREATE INDEX detection_techniques_by_parent ON detection_techniques (parent, detection);

-- Files of a source that are not rules but that exports need (Splunk lookup tables, macros).
CREATE TABLE assets (
    source TEXT NOT NULL REFERENCES sources(name),
    path   TEXT NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (source, path)
) WITHOUT ROWID;

CREATE TABLE techniques (
    id     TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    name   TEXT NOT NULL,
    -- The whole attack::Technique as JSON.
    body   TEXT NOT NULL
);

CREATE TABLE tactics (
    id       TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL
);

-- ATT&CK groups, campaigns and software, with the techniques each uses.
CREATE TABLE attack_objects (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- Full-text index; rowid = detections.pk. Contentless: results are shown from the detection
-- record and marked in Rust, so the index keeps no copy of the text. Columns, as written:
-- title, description, query (its logic only: Sigma and YARA-L metadata is left out), tags
-- (ATT&CK IDs and names, tactics, vendor, language, data sources, the vendor's own labels) and
-- cves; then the English stems of the title, description and tags, one per word, for word forms.
-- Why stems in columns of their own rather than the `porter` tokenizer: see README, "Search".
CREATE VIRTUAL TABLE detections_fts USING fts5 (
    title, description, query, tags, cves, title_stems, description_stems, tags_stems,
    content = '',
    -- An incremental sync deletes a changed source's rows by rowid.
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The words of titles, descriptions and tags, and how often each is used: what a misspelled
-- search is corrected against. Filled from the index when the catalog is finished.
CREATE TABLE spelling (
    term TEXT PRIMARY KEY,
    uses INTEGER NOT NULL
) WITHOUT ROWID;
