-- Replies in a chat thread find the request whose message started the thread.
CREATE INDEX chat_messages_by_location ON chat_messages (platform, channel, ts);

-- What people wrote to the app and the flow they then submitted: evidence for the matcher, so
-- similar messages later lean towards the flow people actually chose.
CREATE TABLE match_choices (
    id         BIGSERIAL PRIMARY KEY,
    user_id    TEXT   NOT NULL,
    text       TEXT   NOT NULL,
    flow_id    TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX match_choices_by_time ON match_choices (created_at);
