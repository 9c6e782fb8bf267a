-- Why ccms believes a state (docs/intake.md): each status event's source (the feed that
-- said it, "asterisk-ami") and raw state (the feed's own words for the state), as the
-- event carried them. Rows kept from before have neither (NULL).
ALTER TABLE status_history ADD COLUMN source TEXT;
ALTER TABLE status_history ADD COLUMN raw_state TEXT;
