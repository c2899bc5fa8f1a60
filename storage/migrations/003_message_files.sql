-- 003_message_files: files attached to messages, in the order the sender gave.
--
-- The bytes and their metadata stay in files/file_rooms; this only links a
-- message to them. Deleting a message (a tombstone) drops its links, like its
-- reactions; the file rows stay, since other messages may share the content.

CREATE TABLE message_files (
    message_id    INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    file_id       TEXT NOT NULL REFERENCES files(id),
    PRIMARY KEY (message_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_files_file ON message_files(file_id);
