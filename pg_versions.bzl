"""The pinned Postgres versions: the single source of truth for every image and the lockfile.

Keys are major versions, values the exact upstream version that the pgdg packages must carry.
A beta is written "18~beta3". Bazel macros under images/ and the Go lock tool (which evaluates
this file with go.starlark.net) both read PG_VERSIONS.
"""

PG_VERSIONS = {
    "16": "16.13",
    "17": "17.9",
    "18": "18.3",
}
