"""The launcher script of the `bazel run` rules: imagetool from the runfiles, with fixed arguments."""

IMAGETOOL_RUN_ATTR = attr.label(
    default = "//tools/cmd/imagetool",
    executable = True,
    cfg = "target",
    doc = "The imagetool binary the launcher runs.",
)

def shell_quote(s):
    """Quotes s for a POSIX shell.

    Args:
      s: the string.

    Returns:
      s in single quotes.
    """
    return "'" + s.replace("'", "'\\''") + "'"

def imagetool_launcher(ctx, arguments, in_workspace = False, data = []):
    """Writes `<name>.sh`, which runs `imagetool <arguments> "$@"`.

    Args:
      ctx: the rule context; ctx.attr._imagetool and ctx.executable._imagetool name the tool.
      arguments: the fixed arguments (quoted here); paths of data files are relative to the
        runfiles root (File.short_path).
      in_workspace: run in the workspace root (BUILD_WORKSPACE_DIRECTORY) instead of the runfiles
        root.
      data: files the arguments name, added to the runfiles.

    Returns:
      The DefaultInfo of an executable target.
    """
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        output = script,
        content = """#!/usr/bin/env bash
set -euo pipefail
runfiles="${{RUNFILES_DIR:-$0.runfiles}}/{workspace}"
cd {dir}
exec "$runfiles/{tool}" {args} "$@"
""".format(
            workspace = ctx.workspace_name,
            dir = '"${BUILD_WORKSPACE_DIRECTORY:?run this with bazel run}"' if in_workspace else '"$runfiles"',
            tool = ctx.executable._imagetool.short_path,
            args = " ".join([shell_quote(a) for a in arguments]),
        ),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [ctx.executable._imagetool] + data)
    runfiles = runfiles.merge(ctx.attr._imagetool[DefaultInfo].default_runfiles)
    return DefaultInfo(executable = script, runfiles = runfiles)
