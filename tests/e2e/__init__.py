"""End-to-end tests: a real server process driven by real clients."""
