"""imagetool_command: `bazel run` a fixed imagetool command in the workspace."""

load(":launcher.bzl", "IMAGETOOL_RUN_ATTR", "imagetool_launcher")

def _imagetool_command_impl(ctx):
    return [imagetool_launcher(ctx, ctx.attr.arguments, in_workspace = True)]

imagetool_command = rule(
    implementation = _imagetool_command_impl,
    doc = "`bazel run :name -- more args` runs `imagetool <arguments> <more args>` in the workspace root.",
    executable = True,
    attrs = {
        "arguments": attr.string_list(mandatory = True, doc = "The subcommand and its fixed flags."),
        "_imagetool": IMAGETOOL_RUN_ATTR,
    },
)
