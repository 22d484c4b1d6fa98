"""oci_push: `bazel run` pushes images to a registry, a whole set in one imagetool process."""

load(":launcher.bzl", "IMAGETOOL_RUN_ATTR", "imagetool_launcher")
load(":providers.bzl", "OciImageInfo")

PushInfo = provider(
    doc = "The images an oci_push target pushes; an oci_push that lists it in `pushes` pushes them in the same run.",
    fields = {
        "entries": "list of structs (name, image: OciImageInfo, repository, repository_file: File or None, versions, remote_tags, remote_tags_file: File or None), in push order.",
        "left_out": "list of strings: images of the set that are not pushed because their package sets are not locked.",
    },
)

SelectedFlagInfo = provider(
    doc = "A boolean chosen by a select() on command-line flags (--stamp, --define RELEASE=1).",
    fields = {"value": "bool"},
)

def _selected_flag_impl(ctx):
    return [SelectedFlagInfo(value = ctx.attr.value)]

selected_flag = rule(
    implementation = _selected_flag_impl,
    doc = """A boolean set by a select() over config_settings, read by rules through a private attribute.

Rules cannot select() on their own private attributes; this target does it once, for example
`value = select({":stamp_detect": True, "//conditions:default": False})` for --stamp.""",
    attrs = {
        "value": attr.bool(mandatory = True, doc = "The value: a select() on config_settings."),
    },
)

def _own_entry(ctx):
    """The entry of the `image` attribute, or None."""
    if not ctx.attr.image:
        return None
    if not ctx.attr.versions and not ctx.attr.remote_tags and not ctx.attr.remote_tags_file:
        fail("%s: no tags: give versions (stamped dev and release tags), remote_tags or remote_tags_file" % ctx.label)
    if bool(ctx.attr.repository) == bool(ctx.attr.repository_file):
        fail("%s: give exactly one of repository and repository_file" % ctx.label)
    return struct(
        name = ctx.attr.image.label.name,
        image = ctx.attr.image[OciImageInfo],
        repository = ctx.attr.repository,
        repository_file = ctx.file.repository_file,
        versions = ctx.attr.versions,
        remote_tags = ctx.attr.remote_tags,
        remote_tags_file = ctx.file.remote_tags_file,
    )

def _entries(ctx):
    """Every image this target pushes, its own first, each layout once; and the left-out ones."""
    own = _own_entry(ctx)
    entries = [own] if own else []
    left_out = list(ctx.attr.left_out)
    for p in ctx.attr.pushes:
        entries.extend(p[PushInfo].entries)
        left_out.extend([x for x in p[PushInfo].left_out if x not in left_out])
    seen = {}
    unique = []
    for e in entries:
        if e.image.layout.path not in seen:
            seen[e.image.layout.path] = True
            unique.append(e)
    if not unique:
        fail("%s: nothing to push: give image, or pushes" % ctx.label)
    return unique, left_out

def _short(f):
    return f.short_path if f else ""

def _config(e):
    """One image of imagetool push's configuration (pushImage in tools/cmd/imagetool/push.go)."""
    return {
        "layout": e.image.layout.short_path,
        "name": e.name,
        "remote_tags": e.remote_tags,
        "remote_tags_file": _short(e.remote_tags_file),
        "repository": e.repository,
        "repository_file": _short(e.repository_file),
        "versions": e.versions,
    }

def _stamping(ctx):
    return ctx.attr.stamp == 1 or (ctx.attr.stamp == -1 and ctx.attr._stamp[SelectedFlagInfo].value)

def _stamp_action(ctx, entries):
    """Copies the workspace status files for the push: the one action that reads them.

    Its inputs are the status files and the images' digests: Bazel re-runs it when the stable
    status (the commit) or an image changed, never for the volatile status alone, so the same
    images keep the same BUILD_TIMESTAMP, hence the same dev tags.
    """
    stable = ctx.actions.declare_file(ctx.label.name + ".stable-status.txt")
    volatile = ctx.actions.declare_file(ctx.label.name + ".volatile-status.txt")
    ctx.actions.run(
        executable = ctx.executable._imagetool_exec,
        arguments = [
            "stamp",
            "-copy",
            "%s=%s" % (ctx.info_file.path, stable.path),
            "-copy",
            "%s=%s" % (ctx.version_file.path, volatile.path),
        ],
        inputs = [ctx.info_file, ctx.version_file] + [e.image.digest for e in entries],
        outputs = [stable, volatile],
        mnemonic = "PushStamp",
        progress_message = "Stamping %{label}",
        # The status of another machine's build must not come from a remote cache.
        execution_requirements = {"no-remote": "1"},
    )
    return stable, volatile

def _oci_push_impl(ctx):
    entries, left_out = _entries(ctx)
    config = ctx.actions.declare_file(ctx.label.name + ".push.json")
    ctx.actions.write(config, json.encode({"images": [_config(e) for e in entries], "left_out": left_out}))
    arguments = ["push", "-config", config.short_path]
    data = [config] + [e.image.layout for e in entries]
    data.extend([f for e in entries for f in [e.repository_file, e.remote_tags_file] if f])
    if _stamping(ctx):
        stable, volatile = _stamp_action(ctx, entries)
        arguments.extend(["-stable-status", stable.short_path, "-volatile-status", volatile.short_path])
        data.extend([stable, volatile])
    if ctx.attr._release[SelectedFlagInfo].value:
        arguments.append("-release")
    return [
        imagetool_launcher(ctx, arguments, data = data),
        PushInfo(entries = entries, left_out = left_out),
    ]

oci_push = rule(
    implementation = _oci_push_impl,
    doc = """`bazel run` pushes images to a registry: `image`, and the images of `pushes`, in one run.

rules_oci's attribute names, except that `repository` is a path under a repository prefix: the
prefix is `-- --repository=...`, else $DOCKER_REPO, else ghcr.io/citusdata (tools/tags). Tags are
`remote_tags`, or computed from `versions` at push time: `<version>-devYYYYmmddHHMM` from
BUILD_TIMESTAMP, or with --define RELEASE=1 `<version>` and `<version>-v<short commit>`. Only a
stamped build (--stamp, or stamp = 1) has the workspace status these need; it is read by one small
action, never by an image action, so stamping never changes a digest. One imagetool process
pushes every image (blobs shared between images sent once, tags written only when every image
is complete), then prints a summary table. `-- --dry-run` prints the tags and sends nothing.""",
    executable = True,
    attrs = {
        "image": attr.label(providers = [OciImageInfo], doc = "The oci_image to push."),
        "left_out": attr.string_list(doc = "Images of the set that are not pushed (their package sets are not locked): printed, one line, when the push runs."),
        "pushes": attr.label_list(providers = [PushInfo], doc = "Other oci_push targets whose images this one pushes too, in the same run (push_all)."),
        "remote_tags": attr.string_list(doc = "Tags to push `image` under, instead of the stamped tags of `versions`."),
        "remote_tags_file": attr.label(allow_single_file = True, doc = "A file with one tag a line, instead of `remote_tags`."),
        "repository": attr.string(doc = "The repository of `image` under the prefix, e.g. 'exttester'."),
        "repository_file": attr.label(allow_single_file = True, doc = "A file holding the repository, instead of `repository`."),
        "stamp": attr.int(default = -1, values = [-1, 0, 1], doc = "1: always stamp; 0: never; -1: when Bazel runs with --stamp."),
        "versions": attr.string_list(doc = "The versions in the stamped tags of `image`; several are joined with '-' (pgupgradetester: 16.13-17.9-18.3), '~' is dropped."),
        "_imagetool": IMAGETOOL_RUN_ATTR,
        "_imagetool_exec": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "exec", doc = "The imagetool binary of the stamp action."),
        "_release": attr.label(default = "//tools/rules:release", providers = [SelectedFlagInfo], doc = "Whether Bazel runs with --define RELEASE=1."),
        "_stamp": attr.label(default = "//tools/rules:stamp", providers = [SelectedFlagInfo], doc = "Whether Bazel runs with --stamp."),
    },
)
