"""The app-level benchmarks behind `aisle bench ...`: chat (end to end), nlu (understanding),
retrieval, recsys and stacker (the recommender library's bench with the app's embedder), load (the
REST/SSE server under concurrent shoppers). Benchmarks live apart from the tests; docs/benchmarks.md
has their figures."""
