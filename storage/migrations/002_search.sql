-- 002_search: full-text search over message bodies.
--
-- The trigram tokenizer indexes every 3-character window, so substrings match in
-- any script: Japanese without spaces as well as English. Queries shorter than
-- 3 characters cannot use this index; search.c answers them with LIKE over the
-- user's rooms instead. External content: the text lives only in messages.body.

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'trigram'
);

-- Every row is in the index, as FTS5's integrity-check expects of an external
-- content table; a tombstone's body is '' and so contributes no tokens.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- Index whatever already exists (nothing on a new database).
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
