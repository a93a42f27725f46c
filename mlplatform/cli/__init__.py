"""The `mlplatform` command line: thin, it parses, calls the library, renders, sets exit codes."""
