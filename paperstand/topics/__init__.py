"""Topics and trends: keywords per paper, topic clusters, a 2-D topic map, weekly trends.

``compute`` holds the arithmetic over texts and embeddings, ``service`` builds the map from
the store and reads it back, ``trends`` counts papers per week and finds rising keywords,
``mapview`` turns the map into the browser's compact JSON or a PNG, ``jobs`` registers the
job kinds that keep it current.
"""
