"""The ``opensage`` command line: run a server, print client settings, follow jobs, run the demo."""
