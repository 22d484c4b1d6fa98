"""imagetool_command: `bazel run` a fixed imagetool command in the workspace."""

load(":load.bzl", "shell_quote")

def _imagetool_command_impl(ctx):
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, """#!/usr/bin/env bash
set -euo pipefail
tool="${{RUNFILES_DIR:-$0.runfiles}}/_main/{tool}"
cd "${{BUILD_WORKSPACE_DIRECTORY:?run this with bazel run}}"
exec "$tool" {args} "$@"
""".format(tool = ctx.executable._imagetool.short_path, args = " ".join([shell_quote(a) for a in ctx.attr.arguments])), is_executable = True)
    return [DefaultInfo(executable = script, runfiles = ctx.attr._imagetool[DefaultInfo].default_runfiles.merge(ctx.runfiles([ctx.executable._imagetool])))]

imagetool_command = rule(
    implementation = _imagetool_command_impl,
    doc = "`bazel run :name -- more args` runs `imagetool <arguments> <more args>` in the workspace root.",
    executable = True,
    attrs = {
        "arguments": attr.string_list(mandatory = True, doc = "The subcommand and its fixed flags."),
        "_imagetool": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "target"),
    },
)
