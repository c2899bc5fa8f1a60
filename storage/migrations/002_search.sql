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

-- Tombstones (deleted = 1) are never in the index.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted = 0 BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.deleted = 0;
    INSERT INTO messages_fts(rowid, body)
        SELECT new.id, new.body WHERE new.deleted = 0;
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted = 0 BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;

-- Index whatever already exists (nothing on a new database).
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
