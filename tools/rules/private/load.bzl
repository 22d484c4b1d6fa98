"""oci_load: `bazel run` loads an image into the local Docker engine."""

load(":providers.bzl", "OciImageInfo")

def _oci_load_impl(ctx):
    image = ctx.attr.image[OciImageInfo]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    tags = " ".join(["-tag %s" % shell_quote(t) for t in ctx.attr.repo_tags])
    ctx.actions.write(script, """#!/usr/bin/env bash
set -euo pipefail
# Runfiles paths are relative to the runfiles tree of this script.
cd "${{RUNFILES_DIR:-$0.runfiles}}/_main"
exec {tool} load -layout {layout} {tags} "$@"
""".format(tool = ctx.executable._imagetool.short_path, layout = image.layout.short_path, tags = tags), is_executable = True)
    runfiles = ctx.runfiles(files = [image.layout, image.digest]).merge(ctx.attr._imagetool[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

def shell_quote(s):
    """Quotes s for a POSIX shell.

    Args:
      s: the string.

    Returns:
      s in single quotes.
    """
    return "'" + s.replace("'", "'\\''") + "'"

oci_load = rule(
    implementation = _oci_load_impl,
    doc = "`bazel run` target that loads an oci_image into the local Docker engine under repo_tags (rules_oci's oci_load).",
    executable = True,
    attrs = {
        "format": attr.string(default = "docker", values = ["docker"], doc = "Only the Docker engine is supported."),
        "image": attr.label(providers = [OciImageInfo], mandatory = True, doc = "The oci_image to load."),
        "repo_tags": attr.string_list(mandatory = True, doc = "Tags such as 'ci-images/exttester:16'."),
        "_imagetool": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "target"),
    },
)
