"""oci_image: an OCI image layout directory, with rules_oci's attribute names."""

load(":providers.bzl", "LayerInfo", "OciImageInfo", "SourceDateEpochInfo")
load(":settings.bzl", "SOURCE_DATE_EPOCH_ATTR")

def _layer_arguments(args, tars):
    """Adds -layer for each tar, with its recorded diff_id when it has one; returns the inputs."""
    inputs = []
    for t in tars:
        if LayerInfo in t:
            # The writer recorded the diff_id; imagetool checks the layer against it as it copies.
            info = t[LayerInfo]
            args.add("-layer", "%s=%s" % (info.tar.path, info.diffid.path))
            inputs.extend([info.tar, info.diffid])
        else:
            args.add_all(t.files, before_each = "-layer")
            inputs.extend(t.files.to_list())
    return inputs

def _oci_image_impl(ctx):
    layout = ctx.actions.declare_directory(ctx.label.name)
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    config = ctx.actions.declare_file(ctx.label.name + ".config.json")

    # JSON of image.Config (tools/image/image.go).
    ctx.actions.write(config, json.encode({
        "annotations": ctx.attr.annotations,
        "architecture": ctx.attr.architecture,
        "cmd": ctx.attr.cmd or None,
        "entrypoint": ctx.attr.entrypoint or None,
        "env": ["%s=%s" % (k, v) for k, v in sorted(ctx.attr.env.items())],
        "exposed_ports": ctx.attr.exposed_ports,
        "labels": ctx.attr.labels,
        "os": ctx.attr.os,
        "user": ctx.attr.user,
        "workdir": ctx.attr.workdir,
    }))
    args = ctx.actions.args()
    args.add("image")
    args.add("-out", layout.path)
    args.add("-digest", digest)
    args.add("-config", config)
    args.add("-epoch", str(ctx.attr._source_date_epoch[SourceDateEpochInfo].seconds))
    inputs = [config]
    if ctx.attr.base:
        base = ctx.attr.base[OciImageInfo].layout
        args.add("-base", base.path)
        inputs.append(base)
    inputs.extend(_layer_arguments(args, ctx.attr.tars))
    ctx.actions.run(
        executable = ctx.executable._imagetool,
        arguments = [args],
        inputs = inputs,
        outputs = [layout, digest],
        mnemonic = "OciImage",
        progress_message = "Assembling OCI image %{label}",
    )
    return [
        DefaultInfo(files = depset([layout, digest])),
        OciImageInfo(layout = layout, digest = digest),
        OutputGroupInfo(digest = depset([digest])),
    ]

oci_image = rule(
    implementation = _oci_image_impl,
    doc = """Builds an OCI image layout directory from a base image and layer tarballs.

rules_oci's attribute names; the output is a directory named after the target (an OCI image
layout with exactly one manifest) plus `<name>.digest`. Every timestamp is the
source_date_epoch build setting (default 1970), so identical inputs give identical digests.""",
    attrs = {
        "annotations": attr.string_dict(doc = "Annotations of the image manifest."),
        "architecture": attr.string(doc = "CPU architecture; default the base's, or amd64."),
        "base": attr.label(providers = [OciImageInfo], doc = "Base image (another oci_image); none means scratch."),
        "cmd": attr.string_list(doc = "Default arguments; empty keeps the base's."),
        "entrypoint": attr.string_list(doc = "Entrypoint; empty keeps the base's."),
        "env": attr.string_dict(doc = "Environment variables, merged over the base's."),
        "exposed_ports": attr.string_list(doc = "Ports such as 5432/tcp."),
        "labels": attr.string_dict(doc = "Config labels, merged over the base's."),
        "os": attr.string(doc = "Operating system; default the base's, or linux."),
        "tars": attr.label_list(allow_files = [".tar", ".tar.gz", ".tgz", ".tar.zst"], doc = "Layer tarballs, applied in order."),
        "user": attr.string(doc = "User (name or uid[:gid]); empty keeps the base's."),
        "workdir": attr.string(doc = "Working directory; empty keeps the base's."),
        "_imagetool": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "exec", doc = "The imagetool binary."),
        "_source_date_epoch": SOURCE_DATE_EPOCH_ATTR,
    },
)
