-- The fast path of a Sentry ack plans from a guess of what D1 knows of the
-- delivery (unseen, a token, the card its action implies) and leads its one
-- batch with a statement that inserts a row here only when the guess is
-- wrong. The CHECK refuses that row, so D1 rolls the whole batch back and
-- the ack reads first, then decides (store/gate.rs). Always empty.
CREATE TABLE IF NOT EXISTS prior_guess (
    missed INTEGER NOT NULL CONSTRAINT prior_guessed_wrong CHECK (missed = 0)
);
