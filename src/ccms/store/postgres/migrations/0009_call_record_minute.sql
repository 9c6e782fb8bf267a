-- The number of call records (ended calls) per call center, VDN, direction and minute
-- they entered (arrived_at floored to the minute), so that the count of a page of call
-- records sums minutes instead of counting every record of its range
-- (ccms.store.postgres.record_counts); kept in the batch's transaction and in pruning.
CREATE TABLE call_record_minute (
    cc_id integer NOT NULL,
    vdn integer NOT NULL,
    call_in boolean NOT NULL,
    minute bigint NOT NULL,
    records integer NOT NULL,
    PRIMARY KEY (cc_id, vdn, call_in, minute)
);
-- The records kept before: counted once.
INSERT INTO call_record_minute (cc_id, vdn, call_in, minute, records)
SELECT cc_id, vdn, call_in, (arrived_at - (arrived_at % 60000 + 60000) % 60000) / 60000,
    count(*)
FROM call WHERE ended_at IS NOT NULL GROUP BY 1, 2, 3, 4;
