-- one alerts table for every source: cold chain, stock, and later privacy deadlines,
-- the watchlist and the fleet. An alarm is about a subject (a cabinet, a fridge).
ALTER TABLE alarms RENAME COLUMN cabinet TO subject;
ALTER TABLE alarms ADD COLUMN source TEXT NOT NULL DEFAULT 'coldchain';
DROP INDEX alarms_open;
CREATE INDEX alarms_open ON alarms (closed_at, source, subject, rule);
