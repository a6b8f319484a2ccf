-- What a chat message last showed (a digest of its rendered content), so that a notice delivered
-- again, or one that changes nothing a person sees, does not spend a rate-limited edit on it.
ALTER TABLE chat_messages ADD COLUMN digest TEXT;
