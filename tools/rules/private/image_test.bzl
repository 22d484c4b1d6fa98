"""image_test: a test that runs a script inside an image's root file system, without Docker."""

load(":launcher.bzl", "IMAGETOOL_RUN_ATTR", "imagetool_launcher")
load(":providers.bzl", "OciImageInfo")

# Where the script lands inside the image.
TEST_DIR = "/ci-images-test"

def _image_path(path, what):
    if not path.startswith("/"):
        fail("%s: %r is not an absolute path inside the image" % (what, path))
    return path

def _image_test_impl(ctx):
    image = ctx.attr.image[OciImageInfo]
    script = ctx.file.script
    script_path = TEST_DIR + "/" + script.basename
    arguments = ["run", "-image", image.layout.short_path]
    data = [image.layout, script]
    binds = [(script, script_path)]
    for target, path in ctx.attr.inputs.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("inputs: %s holds %d files, want exactly one" % (target.label, len(files)))
        binds.append((files[0], _image_path(path, "inputs")))
    for path, content in sorted(ctx.attr.files.items()):
        f = ctx.actions.declare_file("%s.files/%s" % (ctx.label.name, _image_path(path, "files").lstrip("/")))
        ctx.actions.write(f, content)
        binds.append((f, path))
    for f, path in binds:
        arguments.extend(["-input", "%s=%s" % (f.short_path, path)])
        data.append(f)
    for key, value in sorted(ctx.attr.env.items()):
        arguments.extend(["-env", "%s=%s" % (key, value)])
    if ctx.attr.user:
        arguments.extend(["-user", ctx.attr.user])
    arguments.append("--")
    arguments.extend(ctx.attr.interpreter + [script_path])
    return [imagetool_launcher(ctx, arguments, data = data)]

image_test = rule(
    implementation = _image_test_impl,
    test = True,
    doc = """A test that runs `script` inside the root file system of `image`, with no Docker daemon.

`bazel test` runs `imagetool run` (tools/runner): the image's layers are unpacked into a tmpfs
and the script runs there in new mount, PID, UTS, IPC and network namespaces, as the image's
user with its environment and working directory. It sees the image's files, /proc, a minimal
/dev, an empty /tmp, the script at /ci-images-test/<basename> and the declared inputs and files,
read-only; no network but a loopback interface (servers may listen on 127.0.0.1). The test
passes when the script exits 0; otherwise the failure shows the exit code and the last lines of
output. The test's own arguments (`args`) are passed to the script.

What it needs: root, or unprivileged user namespaces. As root (CI, and every Bazel action inside
tools/bazel's offline chroot, where the kernel refuses new user namespaces) no user namespace
is made. As another user the script runs as root of a user namespace that maps only the caller,
so images whose user is not root (or tests with `user` set) need root. Docker was the other
choice: it needs a daemon, which a Bazel action (sandboxed, maybe remote) should not depend on,
and it copies the whole image into its store for every build. Under remote execution the
workers must allow either way (a privileged or user-namespace-enabled container); otherwise
tag the test `no-remote-exec`.""",
    attrs = {
        "env": attr.string_dict(doc = "Environment variables set over the image's."),
        "files": attr.string_dict(doc = "Small generated files: absolute path inside the image -> content (expected outputs, for example), bound read-only."),
        "image": attr.label(providers = [OciImageInfo], mandatory = True, doc = "The oci_image whose file system the script runs in."),
        "inputs": attr.label_keyed_string_dict(allow_files = True, doc = "Files to bind read-only into the image: label (of one file) -> absolute path inside the image."),
        "interpreter": attr.string_list(default = ["/bin/sh"], doc = "The command that runs the script, inside the image, e.g. [\"/bin/bash\", \"-eo\", \"pipefail\"]."),
        "script": attr.label(allow_single_file = True, mandatory = True, doc = "The test script; it runs as `<interpreter> /ci-images-test/<basename> <args>`."),
        "user": attr.string(doc = "user[:group] to run as, a name of the image's /etc/passwd or a number; empty: the image's user."),
        "_imagetool": IMAGETOOL_RUN_ATTR,
    },
)
