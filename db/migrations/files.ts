// The schema of uploaded files and their content (migration 6 of each store).

/**
 * SQLite: file rows and content keys; the bytes live in the files folder, one file per content
 * (`<filesDir>/<sha[0..2]>/<sha>`). `blobs` records every stored content: a row exists for as
 * long as some file (or preview) has those bytes.
 */
export const SQLITE_FILES_MIGRATION = `
  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE files (
    id TEXT PRIMARY KEY,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES members(id),
    message_id INTEGER REFERENCES messages(id),
    position INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    preview_sha256 TEXT REFERENCES blobs(sha256),
    preview_type TEXT,
    preview_size INTEGER,
    preview_width INTEGER,
    preview_height INTEGER,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX files_message ON files(message_id, position) WHERE message_id IS NOT NULL;
  CREATE INDEX files_uploader ON files(uploader_id, created_at);
  CREATE INDEX files_sha256 ON files(sha256);
  CREATE INDEX files_preview_sha256 ON files(preview_sha256) WHERE preview_sha256 IS NOT NULL;
  CREATE INDEX files_unattached ON files(created_at) WHERE message_id IS NULL;
`;

/**
 * PostgreSQL: file rows, content keys and the bytes in 256 KiB chunks (`blob_chunks`), so that
 * several instances share them without a shared disk. An upload under way keeps its chunks
 * under a temporary key (`tmp-…`, with its own `blobs` row) until its hash is known.
 */
export const POSTGRES_FILES_MIGRATION = `
  CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (sha256, n)
  );
  -- The bytes are mostly compressed already (images, archives): store them as they are.
  ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

  CREATE TABLE files (
    id TEXT PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    uploader_id BIGINT NOT NULL REFERENCES members(id),
    message_id BIGINT REFERENCES messages(id),
    position INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    type TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    preview_sha256 TEXT REFERENCES blobs(sha256),
    preview_type TEXT,
    preview_size BIGINT,
    preview_width INTEGER,
    preview_height INTEGER,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX files_message ON files(message_id, position) WHERE message_id IS NOT NULL;
  CREATE INDEX files_uploader ON files(uploader_id, created_at);
  CREATE INDEX files_sha256 ON files(sha256);
  CREATE INDEX files_preview_sha256 ON files(preview_sha256) WHERE preview_sha256 IS NOT NULL;
  CREATE INDEX files_unattached ON files(created_at) WHERE message_id IS NULL;
`;
