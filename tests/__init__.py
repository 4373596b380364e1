"""opensage's test suites (a regular package: some installed libraries ship a top-level "tests" of their own)."""
