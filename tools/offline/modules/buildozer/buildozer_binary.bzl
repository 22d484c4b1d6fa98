"""Offline stub for bazel_tools' use_extension("@buildozer//:buildozer_binary.bzl", ...).

Debian's bazel_tools declares this extension for `bazel mod tidy`, which is unsupported offline.
"""

def _repo_impl(rctx):
    rctx.file("BUILD.bazel", "# buildozer is not available offline\n")

_repo = repository_rule(
    implementation = _repo_impl,
    doc = "An empty repository standing in for the buildozer binary.",
)

def _ext_impl(_mctx):
    _repo(name = "buildozer_binary")

buildozer_binary = module_extension(
    implementation = _ext_impl,
    doc = "Declares the empty @buildozer_binary repository.",
)
