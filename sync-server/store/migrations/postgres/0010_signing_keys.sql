-- Version 10: named signing keys. `signing_keys` remembers the public half of every key the
-- server signed with (the secret stays in the key file), so that a missing or replaced key file
-- is refused at start and receipts of older keys still verify after a rotation; each audit entry
-- names its key (NULL for entries from before key ids). And review sessions get their own token
-- kind, so that the API refuses them.
CREATE TABLE signing_keys (
    key_id     TEXT COLLATE "C" PRIMARY KEY,
    public_key TEXT COLLATE "C" NOT NULL,
    added_at   BIGINT NOT NULL,
    current    BOOLEAN NOT NULL
);
ALTER TABLE audit_log ADD COLUMN key_id TEXT COLLATE "C";
-- Review sessions were access tokens until now: they become review tokens, which the API
-- refuses (the pages' sessions start with web-).
UPDATE tokens SET kind = 'review' WHERE kind = 'access' AND device_id LIKE 'web-%';
