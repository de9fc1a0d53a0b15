-- What a webhook batch learned in its first statement, read by the
-- statements after it in the same batch (one D1 batch is one transaction):
-- e.g. "this GitHub delivery is unseen" decides the delivery-log verdict of
-- the same batch, so the ack needs no read before it. The batch deletes its
-- own row as its last statement, so the table is empty between batches.
CREATE TABLE IF NOT EXISTS webhook_facts (
    key    TEXT PRIMARY KEY,
    unseen INTEGER NOT NULL
);
