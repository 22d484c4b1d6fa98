"""oci_load: `bazel run` loads an image into the local Docker engine."""

load(":launcher.bzl", "IMAGETOOL_RUN_ATTR", "imagetool_launcher")
load(":providers.bzl", "OciImageInfo")

def _oci_load_impl(ctx):
    image = ctx.attr.image[OciImageInfo]
    arguments = ["load", "-layout", image.layout.short_path]
    for t in ctx.attr.repo_tags:
        arguments.extend(["-tag", t])
    return [imagetool_launcher(ctx, arguments, data = [image.layout, image.digest])]

oci_load = rule(
    implementation = _oci_load_impl,
    doc = "`bazel run` target that loads an oci_image into the local Docker engine under repo_tags (rules_oci's oci_load).",
    executable = True,
    attrs = {
        "format": attr.string(default = "docker", values = ["docker"], doc = "Only the Docker engine is supported."),
        "image": attr.label(providers = [OciImageInfo], mandatory = True, doc = "The oci_image to load."),
        "repo_tags": attr.string_list(mandatory = True, doc = "Tags such as 'ci-images/exttester:16'."),
        "_imagetool": IMAGETOOL_RUN_ATTR,
    },
)
