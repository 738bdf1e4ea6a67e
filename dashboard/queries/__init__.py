"""Query modules: each function takes a connection and a Filters and returns a small,
already aggregated DataFrame (or a number). No streamlit here."""
