-- Why ccms believes a state (docs/intake.md): each status event's source (the feed that
-- said it, "asterisk-ami") and raw state (the feed's own words for the state), as the
-- event carried them. Rows kept from before have neither (NULL). Nullable columns without
-- a default: adding them rewrites nothing, and nodes not yet upgraded keep inserting
-- history rows (without them) during a rolling upgrade.
ALTER TABLE status_history ADD COLUMN source text, ADD COLUMN raw_state text;
