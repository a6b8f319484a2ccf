-- Where Sesame reaches a person on a chat platform whose bots may only write to people who
-- contacted them first (a Microsoft Teams conversation reference, saved when they installed the
-- app), keyed by the person's account on that platform. The address is the adapter's own JSON.
CREATE TABLE chat_addresses (
    platform   TEXT   NOT NULL,
    account    TEXT   NOT NULL,
    address    TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, account)
);
