-- visitor counts, de-duplicated. Where a counting camera runs in dedup mode (behind its own
-- gate), how many of the faces it saw were a day's new visitors and how many came back:
-- counts only; the templates behind them lived in memory and died with the day's key.
ALTER TABLE visitor_counts ADD COLUMN unique_visitors INTEGER CHECK (unique_visitors >= 0);
ALTER TABLE visitor_counts ADD COLUMN repeat_visitors INTEGER CHECK (repeat_visitors >= 0);
