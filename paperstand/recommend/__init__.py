"""Personal recommendations ("for you"): ``model`` scores new papers for one reader and
says why; ``service`` gathers the reader's signals from the store and serves the feed."""
