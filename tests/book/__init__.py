"""Book-level tests: the chapters, their editions, the built site, the repository and its tooling."""
