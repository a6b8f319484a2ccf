-- Who made each API token (a person, or the operating-system user who ran `sesame token create`),
-- so that a token list answers "whose is this and who handed it out" without the audit trail.
ALTER TABLE api_tokens ADD COLUMN created_by TEXT;
