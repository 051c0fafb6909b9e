-- Web faces (issue 5): the day index of the daily lists and a data version for caches.

-- A paper's day on the daily lists: the Hugging Face daily-list day when it has one, else
-- the arXiv listing day (see paperstand/feeds.py).
CREATE INDEX papers_day ON papers (coalesce(submitted_on, listed));

-- Caches key on the data version, which is the highest paper revision (see 0002): every
-- write to papers, by any process, raises it.
